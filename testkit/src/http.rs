//! The one loopback HTTP/1.1 mock server of ao's tests: the GitHub adapter and the webhook sink
//! against it, the fake GitHub ([`crate::github`]) and the mock model APIs the real agent CLIs
//! stream from ([`crate::model_api`]) on it.
//!
//! A handler closure answers every request; every exchange (request, answered status, arrival
//! time) is recorded. The protocol is hyper's server (keep-alive, chunked request bodies, `HEAD`),
//! so nothing here parses HTTP by hand. The server runs on a thread and runtime of its own: a
//! blocking end-to-end test and a `#[tokio::test]` (paused clock included) use it alike. It
//! stops when dropped, and prints its exchanges first when the test is failing.

use std::fmt::Display;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::sync::oneshot;

use crate::now_ms;

/// A request as received.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path and query.
    pub path: String,
    /// Header names in lowercase, in the order sent.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON, when it is JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// An answer.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Held back this long first (to make a slow answer observable).
    pub delay: Duration,
}

impl Response {
    pub fn new(status: u16) -> Self {
        Self {
            status,
            headers: vec![],
            body: vec![],
            delay: Duration::ZERO,
        }
    }

    pub fn json(status: u16, value: &Value) -> Self {
        Self::new(status)
            .header("Content-Type", "application/json")
            .body(value.to_string())
    }

    /// A server-sent-events stream of `(event, data)` pairs, whole.
    pub fn sse<E: Display>(events: impl IntoIterator<Item = (E, Value)>) -> Self {
        let body: String = events
            .into_iter()
            .map(|(event, data)| format!("event: {event}\ndata: {data}\n\n"))
            .collect();
        Self::new(200)
            .header("Content-Type", "text/event-stream")
            .body(body)
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    pub fn delayed(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// One request and how it was answered.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub request: Request,
    /// The status it was answered with.
    pub status: u16,
    /// When it arrived, in milliseconds since the Unix epoch.
    pub at_ms: i64,
}

type Handler = Arc<dyn Fn(&Request) -> Response + Send + Sync>;
type Log = Arc<Mutex<Vec<Exchange>>>;

/// The server; stops when dropped.
pub struct HttpServer {
    addr: SocketAddr,
    log: Log,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl HttpServer {
    /// Listens on a free port of 127.0.0.1 (bound before this returns) and answers every
    /// request with `handler`.
    pub fn start<F>(handler: F) -> Self
    where
        F: Fn(&Request) -> Response + Send + Sync + 'static,
    {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let addr = listener.local_addr().expect("the bound address");
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let log = Log::default();
        let (stop, stopped) = oneshot::channel();
        let thread = std::thread::spawn({
            let log = log.clone();
            move || serve(listener, Arc::new(handler), log, stopped)
        });
        Self {
            addr,
            log,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Request> {
        self.exchanges().into_iter().map(|e| e.request).collect()
    }

    /// Every exchange so far, in arrival order.
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The exchanges, one line each, bodies cut at 600 characters (for failure messages).
    pub fn dump(&self) -> String {
        self.exchanges()
            .iter()
            .map(|e| {
                let r = &e.request;
                let body: String = String::from_utf8_lossy(&r.body).chars().take(600).collect();
                format!("{} {} {} -> {} {body}", e.at_ms, r.method, r.path, e.status)
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("---- requests to {} ----\n{}", self.url(), self.dump());
        }
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The server thread: accepts until told to stop; dropping the runtime then ends every
/// connection still open.
fn serve(
    listener: std::net::TcpListener,
    handler: Handler,
    log: Log,
    mut stopped: oneshot::Receiver<()>,
) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("the server's runtime");
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
        loop {
            let stream = tokio::select! {
                _ = &mut stopped => return,
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => stream,
                    Err(_) => continue,
                },
            };
            let (handler, log) = (handler.clone(), log.clone());
            let service = service_fn(move |request| answer(request, handler.clone(), log.clone()));
            tokio::spawn(async move {
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
}

async fn answer(
    request: hyper::Request<Incoming>,
    handler: Handler,
    log: Log,
) -> Result<hyper::Response<Full<Bytes>>, hyper::Error> {
    let at_ms = now_ms();
    let (parts, body) = request.into_parts();
    let request = Request {
        method: parts.method.to_string(),
        path: parts
            .uri
            .path_and_query()
            .map_or_else(|| parts.uri.to_string(), ToString::to_string),
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| {
                let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                (name.as_str().to_owned(), value)
            })
            .collect(),
        body: body.collect().await?.to_bytes().to_vec(),
    };
    let response = handler(&request);
    log.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(Exchange {
            request,
            status: response.status,
            at_ms,
        });
    if !response.delay.is_zero() {
        tokio::time::sleep(response.delay).await;
    }
    let mut reply = hyper::Response::builder().status(response.status);
    for (name, value) in &response.headers {
        reply = reply.header(name, value);
    }
    Ok(reply
        .body(Full::new(Bytes::from(response.body)))
        .expect("a valid status and headers"))
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use super::*;

    #[test]
    fn one_connection_carries_a_chunked_post_and_a_head() {
        let server = HttpServer::start(|req| match req.method.as_str() {
            "POST" => Response::json(201, &req.json().unwrap_or_default()),
            _ => Response::sse([("ping", serde_json::json!({"n": 1}))]),
        });
        let mut stream = std::net::TcpStream::connect(server.addr).expect("connect");
        stream
            .write_all(
                b"POST /v1/x?y=1 HTTP/1.1\r\nHost: t\r\nX-Key: K\r\n\
                  Transfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n\r\n\
                  HEAD /events HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
            )
            .expect("send");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("read");
        assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
        assert!(answer.contains("{\"a\":1}HTTP/1.1 200"), "{answer}");
        assert!(
            answer.contains("content-type: text/event-stream"),
            "{answer}"
        );
        assert!(
            !answer.contains("event: ping"),
            "no body for HEAD: {answer}"
        );

        let exchanges = server.exchanges();
        let statuses: Vec<u16> = exchanges.iter().map(|e| e.status).collect();
        assert_eq!(statuses, [201, 200]);
        let post = &exchanges[0].request;
        assert_eq!(
            (post.method.as_str(), post.path.as_str()),
            ("POST", "/v1/x?y=1")
        );
        assert_eq!(post.header("x-key"), Some("K"));
        assert_eq!(post.json(), Some(serde_json::json!({"a": 1})));
    }

    #[test]
    fn sse_frames_each_event() {
        let response = Response::sse([("a", serde_json::json!(1)), ("b", serde_json::json!("x"))]);
        assert_eq!(
            response.body,
            b"event: a\ndata: 1\n\nevent: b\ndata: \"x\"\n\n"
        );
    }
}
