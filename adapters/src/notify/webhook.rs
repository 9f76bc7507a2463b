//! The webhook sink: `POST <url>` with the event JSON and the configured headers; 10 s timeout;
//! retried twice (after 1 s, then 3 s) on transport errors and 5xx answers; a 4xx is final.

use std::time::Duration;

use async_trait::async_trait;
use reqwest::header::{CONTENT_TYPE, HeaderName, HeaderValue};

use super::{Sink, SinkError};
use ao_core::domain::NotifyEvent;

/// Deadline of one POST.
pub const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);
/// The pauses before the two retries.
pub const WEBHOOK_RETRY_DELAYS: [Duration; 2] = [Duration::from_secs(1), Duration::from_secs(3)];

/// Posts events to a URL.
#[derive(Debug, Clone)]
pub struct WebhookSink {
    client: reqwest::Client,
    url: reqwest::Url,
    headers: Vec<(HeaderName, HeaderValue)>,
    retry_delays: Vec<Duration>,
}

impl WebhookSink {
    /// Fails on a URL that is not http(s) and on invalid header names or values.
    pub fn new(url: &str, headers: &[(String, String)]) -> Result<Self, SinkError> {
        let url = reqwest::Url::parse(url).map_err(|e| SinkError(format!("url {url:?}: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(SinkError(format!("url {url}: must be http or https")));
        }
        let headers = headers
            .iter()
            .map(|(name, value)| {
                let n = HeaderName::from_bytes(name.as_bytes())
                    .map_err(|_| SinkError(format!("invalid header name {name:?}")))?;
                let v = HeaderValue::from_str(value)
                    .map_err(|_| SinkError(format!("invalid value for header {name:?}")))?;
                Ok((n, v))
            })
            .collect::<Result<Vec<_>, SinkError>>()?;
        let client = reqwest::Client::builder()
            .user_agent(concat!("ao/", env!("CARGO_PKG_VERSION")))
            .timeout(WEBHOOK_TIMEOUT)
            .build()
            .map_err(|e| SinkError(format!("building the HTTP client: {e}")))?;
        Ok(Self {
            client,
            url,
            headers,
            retry_delays: WEBHOOK_RETRY_DELAYS.to_vec(),
        })
    }

    /// Shorter pauses, for tests.
    #[cfg(test)]
    pub(crate) fn with_retry_delays(mut self, delays: Vec<Duration>) -> Self {
        self.retry_delays = delays;
        self
    }
}

#[async_trait]
impl Sink for WebhookSink {
    fn kind(&self) -> &'static str {
        "webhook"
    }

    async fn deliver(&self, event: &NotifyEvent) -> Result<(), SinkError> {
        let body = serde_json::to_vec(event).map_err(|e| SinkError(e.to_string()))?;
        let mut attempt = 0;
        loop {
            let mut request = self
                .client
                .post(self.url.clone())
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone());
            for (name, value) in &self.headers {
                request = request.header(name, value);
            }
            let failure = match request.send().await {
                Ok(response) if response.status().is_success() => return Ok(()),
                Ok(response) if response.status().is_server_error() => {
                    format!("{} answered {}", self.url, response.status())
                }
                Ok(response) => {
                    return Err(SinkError(format!(
                        "{} answered {} (not retried)",
                        self.url,
                        response.status()
                    )));
                }
                Err(e) => format!("{}: {e}", self.url),
            };
            match self.retry_delays.get(attempt) {
                Some(delay) => {
                    attempt += 1;
                    tokio::time::sleep(*delay).await;
                }
                None => {
                    return Err(SinkError(format!(
                        "{failure} (after {} attempts)",
                        attempt + 1
                    )));
                }
            }
        }
    }
}
