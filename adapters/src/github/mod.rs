//! The GitHub provider: the `ScmProvider` port over GitHub's REST and GraphQL APIs.
//!
//! - Base URLs are configuration (`scm.github.api_url`, `scm.github.graphql_url`,
//!   `scm.github.host`), so GitHub Enterprise and the tests' loopback fake work the same way.
//! - Every request carries the bearer token, GitHub's media type, the API version and
//!   `User-Agent: ao/<version>`, and times out after 30 s. TLS is rustls (ring, webpki roots).
//! - Answers are classified once (404, authentication, rate limited, transient, other); an
//!   authentication failure drops the memoised `gh` token; a rate-limit answer pauses every
//!   request of the daemon, and the [`rate::RateBook`] keeps ao within its share of the quota.
//! - Conditional GETs send `If-None-Match`; a `304` is reported as `NotModified` (and is free).
//! - Remote URLs are read with `git config --get remote.<name>.url` through the command runner.

mod graphql;
mod rate;
mod remote;
mod rest;
mod token;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use reqwest::header::{ACCEPT, CONTENT_TYPE, ETAG, IF_NONE_MATCH, LINK};
use tracing::{debug, warn};

use crate::process::{CommandRunner, CommandSpec};
use ao::ports::{Clock, Conditional, DetailRequest, OpenPrPage, Pacing, ScmError, ScmProvider};
use ao_core::domain::{CheckRunDigest, PrDetails, RepoRef, Timestamp};

pub use graphql::BATCH_MAX;
pub use rate::{Class, RateBook, RateHeaders, classify};
pub use remote::parse_remote_url;
pub use token::{TOKEN_VARS, Token, TokenSource};

/// Deadline of every request.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Most bytes of a job log read.
pub const LOG_MAX_BYTES: usize = 10 * 1024 * 1024;
/// Most bytes of any other answer read.
pub const BODY_MAX_BYTES: usize = 32 * 1024 * 1024;
/// Deadline of `git config --get`.
const GIT_TIMEOUT: Duration = Duration::from_secs(5);
/// The API version header value.
pub const API_VERSION: &str = "2022-11-28";

/// Where GitHub is.
#[derive(Debug, Clone, PartialEq)]
pub struct GitHubOptions {
    /// REST base, e.g. `https://api.github.com` (no trailing slash).
    pub api_url: String,
    pub graphql_url: String,
    /// The host remote URLs must name.
    pub host: String,
    /// The share of each rate-limit window ao may spend.
    pub max_quota_share: f64,
}

impl Default for GitHubOptions {
    fn default() -> Self {
        Self {
            api_url: "https://api.github.com".to_owned(),
            graphql_url: "https://api.github.com/graphql".to_owned(),
            host: "github.com".to_owned(),
            max_quota_share: 0.5,
        }
    }
}

/// The HTTP client could not be built.
#[derive(Debug, thiserror::Error)]
#[error("building the GitHub HTTP client: {0}")]
pub struct GitHubSetupError(String);

/// A successful (2xx or 304) answer.
struct Answer {
    status: u16,
    rate: RateHeaders,
    etag: Option<String>,
    link: Option<String>,
    body: Vec<u8>,
}

/// The GitHub adapter.
pub struct GitHubClient {
    options: GitHubOptions,
    http: reqwest::Client,
    tokens: TokenSource,
    runner: Arc<dyn CommandRunner>,
    clock: Arc<dyn Clock>,
    rate: Mutex<RateBook>,
}

impl std::fmt::Debug for GitHubClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitHubClient")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// The `message` of a GitHub error body, else its first 200 characters.
fn error_message(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_owned))
        .unwrap_or_else(|| text.chars().take(200).collect())
}

impl GitHubClient {
    pub fn new(
        options: GitHubOptions,
        tokens: TokenSource,
        runner: Arc<dyn CommandRunner>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, GitHubSetupError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("ao/", env!("CARGO_PKG_VERSION")))
            .timeout(REQUEST_TIMEOUT)
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
            .map_err(|e| GitHubSetupError(e.to_string()))?;
        Ok(Self {
            rate: Mutex::new(RateBook::new(options.max_quota_share)),
            options,
            http,
            tokens,
            runner,
            clock,
        })
    }

    fn rate(&self) -> std::sync::MutexGuard<'_, RateBook> {
        self.rate.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn api(&self, path: &str) -> String {
        format!("{}{path}", self.options.api_url.trim_end_matches('/'))
    }

    /// Pauses every request until `until`, logging the first time.
    fn pause(&self, until: Timestamp, why: &str) {
        if self.rate().pause(until) {
            warn!(resume_at = %until, reason = why, "GitHub rate limit: SCM requests paused");
        }
    }

    /// Sends one request: budget check, token, headers, classification, rate bookkeeping.
    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        what: &str,
        resource: &str,
        max_body: usize,
    ) -> Result<Answer, ScmError> {
        if let Err(refusal) = self.rate().admit(resource, self.clock.now()) {
            if refusal.newly {
                warn!(resume_at = %refusal.until, reason = %refusal.reason, "GitHub: SCM requests paused");
            }
            return Err(ScmError::RateLimited {
                until: refusal.until,
                detail: refusal.reason,
            });
        }
        let admitted = Admitted {
            client: self,
            resource,
            answered: false,
        };
        let token = self.tokens.token().await?;
        let request = request
            .bearer_auth(&token.secret)
            .header(ACCEPT, "application/vnd.github+json")
            .header("X-GitHub-Api-Version", API_VERSION);
        let mut response = request
            .send()
            .await
            .map_err(|e| ScmError::Transient(format!("{what}: {e}")))?;
        let status = response.status().as_u16();
        let headers = RateHeaders::from_headers(response.headers());
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let (etag, link) = (header(ETAG), header(LINK));
        let mut body = vec![];
        while body.len() < max_body {
            match response.chunk().await {
                Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                Ok(None) => break,
                Err(e) => return Err(ScmError::Transient(format!("{what}: reading: {e}"))),
            }
        }
        body.truncate(max_body);
        let now = self.clock.now();
        admitted.record(&headers, status != 304, now);
        debug!(what, status, "GitHub request");
        let message = || error_message(&body);
        match classify(status, &headers, &String::from_utf8_lossy(&body), now) {
            Class::Ok | Class::NotModified => Ok(Answer {
                status,
                rate: headers,
                etag,
                link,
                body,
            }),
            Class::NotFound => Err(ScmError::NotFound(what.to_owned())),
            Class::Auth => {
                self.tokens.invalidate();
                Err(ScmError::Auth(format!(
                    "{what}: HTTP {status} with the token from {}: {}",
                    token.source,
                    message()
                )))
            }
            Class::RateLimited { until } => {
                self.pause(until, &message());
                Err(ScmError::RateLimited {
                    until,
                    detail: format!("{what}: HTTP {status}: {}", message()),
                })
            }
            Class::Transient => Err(ScmError::Transient(format!(
                "{what}: HTTP {status}: {}",
                message()
            ))),
            Class::Other => Err(ScmError::Failed(format!(
                "{what}: HTTP {status}: {}",
                message()
            ))),
        }
    }

    /// A conditional REST GET.
    async fn get(
        &self,
        url: &str,
        etag: Option<&str>,
        what: &str,
    ) -> Result<Conditional<Answer>, ScmError> {
        let mut request = self.http.get(url);
        if let Some(etag) = etag {
            request = request.header(IF_NONE_MATCH, etag);
        }
        let answer = self.send(request, what, "core", BODY_MAX_BYTES).await?;
        if answer.status == 304 {
            if etag.is_some() {
                return Ok(Conditional::NotModified);
            }
            return Err(ScmError::Failed(format!(
                "{what}: 304 without a conditional request"
            )));
        }
        Ok(Conditional::Modified {
            etag: answer.etag.clone(),
            value: answer,
        })
    }
}

/// A request the budget admitted: it counts against ao's share until its answer is recorded,
/// and is released when dropped unanswered (a transport error, a cancelled caller).
struct Admitted<'a> {
    client: &'a GitHubClient,
    resource: &'a str,
    answered: bool,
}

impl Admitted<'_> {
    fn record(mut self, headers: &RateHeaders, charged: bool, now: Timestamp) {
        self.answered = true;
        self.client
            .rate()
            .record(self.resource, headers, charged, now);
    }
}

impl Drop for Admitted<'_> {
    fn drop(&mut self) {
        if !self.answered {
            self.client.rate().release(self.resource);
        }
    }
}

fn unreadable(what: &str, e: impl std::fmt::Display) -> ScmError {
    ScmError::Failed(format!("{what}: unreadable answer: {e}"))
}

/// A git remote name that is safe as part of a config key.
fn valid_remote(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

#[async_trait]
impl ScmProvider for GitHubClient {
    async fn credentials(&self) -> Result<String, ScmError> {
        Ok(self.tokens.token().await?.source)
    }

    async fn remote_repository(
        &self,
        repo_path: &Path,
        remote: &str,
    ) -> Result<Option<RepoRef>, ScmError> {
        if !valid_remote(remote) {
            return Err(ScmError::Failed(format!(
                "invalid git remote name {remote:?}"
            )));
        }
        let spec = CommandSpec::new("git", GIT_TIMEOUT)
            .arg("-C")
            .arg(repo_path)
            .args(["config", "--get"])
            .arg(format!("remote.{remote}.url"))
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .env("LC_ALL", "C");
        let out = self
            .runner
            .run(&spec)
            .await
            .map_err(|e| ScmError::Failed(e.to_string()))?;
        match out.code {
            Some(0) => Ok(parse_remote_url(&out.stdout_text(), &self.options.host)),
            // Exit 1: the key is not set.
            Some(1) => Ok(None),
            _ => Err(ScmError::Failed(format!(
                "`{}` failed: {}",
                spec.display(),
                out.combined()
            ))),
        }
    }

    async fn open_prs(
        &self,
        repo: &RepoRef,
        page_url: Option<&str>,
        etag: Option<&str>,
    ) -> Result<Conditional<OpenPrPage>, ScmError> {
        let first = self.api(&format!("/repos/{repo}/pulls?state=open&per_page=100"));
        let url = match page_url {
            None => first,
            // A next-page link must stay on the configured API: the token goes with it.
            Some(url) if url.starts_with(&self.api("/")) => url.to_owned(),
            Some(url) => {
                return Err(ScmError::Failed(format!(
                    "open PRs of {repo}: next page {url} is not on {}",
                    self.options.api_url
                )));
            }
        };
        let what = format!("open PRs of {repo}");
        Ok(match self.get(&url, etag, &what).await? {
            Conditional::NotModified => Conditional::NotModified,
            Conditional::Modified { etag, value } => Conditional::Modified {
                etag,
                value: OpenPrPage {
                    prs: rest::parse_pulls(&value.body).map_err(|e| unreadable(&what, e))?,
                    next: value.link.as_deref().and_then(rest::next_link),
                },
            },
        })
    }

    async fn check_runs(
        &self,
        repo: &RepoRef,
        sha: &str,
        etag: Option<&str>,
    ) -> Result<Conditional<Vec<CheckRunDigest>>, ScmError> {
        if !sha.chars().all(|c| c.is_ascii_hexdigit()) || sha.is_empty() {
            return Err(ScmError::Failed(format!("invalid commit sha {sha:?}")));
        }
        let url = self.api(&format!(
            "/repos/{repo}/commits/{sha}/check-runs?per_page=100"
        ));
        let what = format!("check runs of {repo}@{sha}");
        Ok(match self.get(&url, etag, &what).await? {
            Conditional::NotModified => Conditional::NotModified,
            Conditional::Modified { etag, value } => Conditional::Modified {
                etag,
                value: rest::parse_check_runs(&value.body).map_err(|e| unreadable(&what, e))?,
            },
        })
    }

    async fn pr_details(
        &self,
        batch: &[DetailRequest],
    ) -> Result<Vec<Result<PrDetails, ScmError>>, ScmError> {
        if batch.is_empty() {
            return Ok(vec![]);
        }
        if batch.len() > BATCH_MAX {
            return Err(ScmError::Failed(format!(
                "a GraphQL batch holds at most {BATCH_MAX} PRs, not {}",
                batch.len()
            )));
        }
        let body = serde_json::to_vec(&graphql::request_body(batch))
            .map_err(|e| ScmError::Failed(format!("encoding the GraphQL query: {e}")))?;
        let request = self
            .http
            .post(&self.options.graphql_url)
            .header(CONTENT_TYPE, "application/json")
            .body(body);
        let what = format!("details of {} PRs (GraphQL)", batch.len());
        let answer = self.send(request, &what, "graphql", BODY_MAX_BYTES).await?;
        match graphql::parse_response(&answer.body, batch) {
            Ok(results) => Ok(results),
            Err(graphql::BatchError::RateLimited(message)) => {
                let until = rate::resume_time(&answer.rate, self.clock.now());
                self.pause(until, &message);
                Err(ScmError::RateLimited {
                    until,
                    detail: format!("{what}: {message}"),
                })
            }
            Err(graphql::BatchError::Failed(message)) => {
                Err(ScmError::Failed(format!("{what}: {message}")))
            }
        }
    }

    async fn job_log(&self, repo: &RepoRef, job_id: u64) -> Result<String, ScmError> {
        let url = self.api(&format!("/repos/{repo}/actions/jobs/{job_id}/logs"));
        let what = format!("log of job {job_id} in {repo}");
        let answer = self
            .send(self.http.get(url), &what, "core", LOG_MAX_BYTES)
            .await?;
        Ok(String::from_utf8_lossy(&answer.body).into_owned())
    }

    fn pacing(&self, now: Timestamp) -> Pacing {
        self.rate().pacing(now)
    }
}

#[cfg(test)]
mod tests;
