//! Loopback mocks of the model APIs the real agent CLIs talk to: a small HTTP/1.1 server on
//! 127.0.0.1 (tokio, keep-alive, `Content-Length` or chunked request bodies) that logs every
//! request and answers through a test-supplied handler, plus the two streaming formats the
//! CLIs read: Anthropic Messages SSE (`message_start` … `message_stop`) and OpenAI Responses SSE
//! (`response.created` … `response.completed`).
//!
//! The server runs on its own thread and runtime, so the blocking end-to-end tests can use it;
//! dropping it stops it. When the test is failing, the request log is printed on drop.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One logged request.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// Lower-cased names.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    fn summary(&self) -> String {
        let body = String::from_utf8_lossy(&self.body);
        let cut: String = body.chars().take(600).collect();
        format!(
            "{} {} ({} bytes) {cut}",
            self.method,
            self.path,
            self.body.len()
        )
    }
}

/// What the handler answers.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    /// Held back this long first (to make a turn observable).
    pub delay: Duration,
}

impl Reply {
    pub fn json(status: u16, value: Value) -> Self {
        Self {
            status,
            content_type: "application/json",
            body: value.to_string().into_bytes(),
            delay: Duration::ZERO,
        }
    }

    /// A server-sent-events stream of `(event, data)` pairs.
    pub fn sse(events: Vec<(String, Value)>) -> Self {
        let mut body = String::new();
        for (event, data) in events {
            body.push_str(&format!("event: {event}\ndata: {data}\n\n"));
        }
        Self {
            status: 200,
            content_type: "text/event-stream",
            body: body.into_bytes(),
            delay: Duration::ZERO,
        }
    }

    pub fn delayed(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

pub type Handler = Arc<dyn Fn(&Request) -> Reply + Send + Sync>;

/// A running mock; stops when dropped.
pub struct MockApi {
    addr: SocketAddr,
    log: Arc<Mutex<Vec<Request>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    name: &'static str,
}

impl MockApi {
    pub fn start(name: &'static str, handler: Handler) -> Self {
        let log: Arc<Mutex<Vec<Request>>> = Arc::default();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let server_log = log.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("mock runtime");
            runtime.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind mock");
                addr_tx
                    .send(listener.local_addr().expect("mock address"))
                    .expect("report the address");
                let mut stop_rx = stop_rx;
                loop {
                    tokio::select! {
                        _ = &mut stop_rx => break,
                        accepted = listener.accept() => {
                            let Ok((stream, _)) = accepted else { continue };
                            let (log, handler) = (server_log.clone(), handler.clone());
                            tokio::spawn(serve(stream, log, handler));
                        }
                    }
                }
            });
        });
        let addr = addr_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("mock started");
        Self {
            addr,
            log,
            stop: Some(stop_tx),
            thread: Some(thread),
            name,
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn requests(&self) -> Vec<Request> {
        self.log.lock().unwrap().clone()
    }

    /// The request log, one line per request (for failure messages).
    pub fn dump(&self) -> String {
        self.requests()
            .iter()
            .map(Request::summary)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for MockApi {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("---- {} mock requests ----\n{}", self.name, self.dump());
        }
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Serves one connection until the client closes it.
async fn serve(mut stream: TcpStream, log: Arc<Mutex<Vec<Request>>>, handler: Handler) {
    let mut buffer = Vec::new();
    loop {
        let request = match read_request(&mut stream, &mut buffer).await {
            Some(r) => r,
            None => return,
        };
        log.lock().unwrap().push(request.clone());
        let reply = handler(&request);
        if !reply.delay.is_zero() {
            tokio::time::sleep(reply.delay).await;
        }
        let head = format!(
            "HTTP/1.1 {} {}\r\ncontent-type: {}\r\ncontent-length: {}\r\nconnection: keep-alive\r\n\r\n",
            reply.status,
            if reply.status < 400 { "OK" } else { "Error" },
            reply.content_type,
            reply.body.len()
        );
        if stream.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        if request.method != "HEAD" && stream.write_all(&reply.body).await.is_err() {
            return;
        }
    }
}

/// Reads one request (head and body) from `stream`, keeping unread bytes in `buffer`.
async fn read_request(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<Request> {
    let head_end = loop {
        if let Some(at) = find(buffer, b"\r\n\r\n") {
            break at;
        }
        if !fill(stream, buffer).await {
            return None;
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    buffer.drain(..head_end + 4);
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let (method, path) = (first.next()?.to_owned(), first.next()?.to_owned());
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let body = if header("transfer-encoding").is_some_and(|t| t.contains("chunked")) {
        let mut body = Vec::new();
        loop {
            let line_end = loop {
                if let Some(at) = find(buffer, b"\r\n") {
                    break at;
                }
                if !fill(stream, buffer).await {
                    return None;
                }
            };
            let size_text = String::from_utf8_lossy(&buffer[..line_end]).into_owned();
            let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
            buffer.drain(..line_end + 2);
            while buffer.len() < size + 2 {
                if !fill(stream, buffer).await {
                    return None;
                }
            }
            body.extend_from_slice(&buffer[..size]);
            buffer.drain(..size + 2);
            if size == 0 {
                break body;
            }
        }
    } else {
        let length: usize = header("content-length")
            .and_then(|l| l.parse().ok())
            .unwrap_or(0);
        while buffer.len() < length {
            if !fill(stream, buffer).await {
                return None;
            }
        }
        buffer.drain(..length).collect()
    };
    Some(Request {
        method,
        path,
        headers,
        body,
    })
}

async fn fill(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> bool {
    let mut chunk = [0u8; 16 * 1024];
    match stream.read(&mut chunk).await {
        Ok(0) | Err(_) => false,
        Ok(n) => {
            buffer.extend_from_slice(&chunk[..n]);
            true
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

// ---------------------------------------------------------------------------------------------
// Anthropic Messages
// ---------------------------------------------------------------------------------------------

/// What the mock model answers in one turn.
#[derive(Debug, Clone)]
pub enum Turn {
    Text(String),
    /// A Bash tool call.
    Bash {
        id: String,
        command: String,
    },
}

/// The text blocks of the last `user` message of a Messages request (system reminders
/// included; the typed text is the last block).
pub fn anthropic_user_texts(request: &Value) -> Vec<String> {
    let Some(last) = request["messages"]
        .as_array()
        .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
    else {
        return vec![];
    };
    match &last["content"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(blocks) => blocks
            .iter()
            .filter(|b| b["type"] == "text")
            .filter_map(|b| b["text"].as_str().map(str::to_owned))
            .collect(),
        _ => vec![],
    }
}

/// Every text a user typed in a Messages request's history (system reminders dropped).
pub fn anthropic_history(request: &Value) -> Vec<String> {
    let mut out = vec![];
    for m in request["messages"].as_array().into_iter().flatten() {
        if m["role"] != "user" {
            continue;
        }
        match &m["content"] {
            Value::String(s) => out.push(s.clone()),
            Value::Array(blocks) => out.extend(
                blocks
                    .iter()
                    .filter(|b| b["type"] == "text")
                    .filter_map(|b| b["text"].as_str())
                    .filter(|t| !t.starts_with("<system-reminder>"))
                    .map(str::to_owned),
            ),
            _ => {}
        }
    }
    out
}

/// True when the last user message carries a tool result.
pub fn anthropic_has_tool_result(request: &Value) -> bool {
    request["messages"]
        .as_array()
        .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
        .and_then(|m| m["content"].as_array())
        .is_some_and(|blocks| blocks.iter().any(|b| b["type"] == "tool_result"))
}

/// A complete Messages reply: the SSE stream when `stream` was asked, else one JSON message.
pub fn anthropic_reply(request: &Value, turn: &Turn) -> Reply {
    let model = request["model"]
        .as_str()
        .unwrap_or("claude-mock")
        .to_owned();
    let (block, stop_reason) = match turn {
        Turn::Text(text) => (json!({"type": "text", "text": text}), "end_turn"),
        Turn::Bash { id, command } => (
            json!({
                "type": "tool_use",
                "id": id,
                "name": "Bash",
                "input": {"command": command, "description": "Run the test's command"}
            }),
            "tool_use",
        ),
    };
    let usage = json!({"input_tokens": 12, "output_tokens": 5});
    if request["stream"] != true {
        return Reply::json(
            200,
            json!({
                "id": "msg_mock", "type": "message", "role": "assistant", "model": model,
                "content": [block], "stop_reason": stop_reason, "stop_sequence": null,
                "usage": usage,
            }),
        );
    }
    let (start_block, delta) = match turn {
        Turn::Text(text) => (
            json!({"type": "text", "text": ""}),
            json!({"type": "text_delta", "text": text}),
        ),
        Turn::Bash { id, .. } => (
            json!({"type": "tool_use", "id": id, "name": "Bash", "input": {}}),
            json!({"type": "input_json_delta", "partial_json": block["input"].to_string()}),
        ),
    };
    let events = vec![
        (
            "message_start",
            json!({"type": "message_start", "message": {
                "id": "msg_mock", "type": "message", "role": "assistant", "model": model,
                "content": [], "stop_reason": null, "stop_sequence": null, "usage": usage,
            }}),
        ),
        (
            "content_block_start",
            json!({"type": "content_block_start", "index": 0, "content_block": start_block}),
        ),
        (
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0, "delta": delta}),
        ),
        (
            "content_block_stop",
            json!({"type": "content_block_stop", "index": 0}),
        ),
        (
            "message_delta",
            json!({"type": "message_delta",
                   "delta": {"stop_reason": stop_reason, "stop_sequence": null},
                   "usage": {"output_tokens": 5}}),
        ),
        ("message_stop", json!({"type": "message_stop"})),
    ];
    Reply::sse(events.into_iter().map(|(e, d)| (e.to_owned(), d)).collect())
}

// ---------------------------------------------------------------------------------------------
// OpenAI Responses
// ---------------------------------------------------------------------------------------------

/// The texts of the `user` messages in a Responses request's input, in order.
pub fn openai_user_texts(request: &Value) -> Vec<String> {
    request["input"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| i["type"] == "message" && i["role"] == "user")
        .flat_map(|i| i["content"].as_array().cloned().unwrap_or_default())
        .filter_map(|c| c["text"].as_str().map(str::to_owned))
        .collect()
}

/// True when the last input item is a user message (not a tool output).
pub fn openai_turn_starts(request: &Value) -> bool {
    request["input"]
        .as_array()
        .and_then(|i| i.last())
        .is_some_and(|i| i["type"] == "message" && i["role"] == "user")
}

/// What the mock Responses model answers in one turn.
#[derive(Debug, Clone)]
pub enum ResponsesTurn {
    Text(String),
    /// A shell command needing approval (codex's `exec` tool running `exec_command` with
    /// `require_escalated`, which opens the approval dialog).
    EscalatedCommand {
        call_id: String,
        command: String,
    },
}

/// A Responses SSE stream for one turn.
pub fn openai_reply(n: usize, turn: &ResponsesTurn) -> Reply {
    let response = json!({"id": format!("resp_{n}"), "object": "response", "created_at": 0,
                          "status": "in_progress", "model": "mock", "output": []});
    let item = match turn {
        ResponsesTurn::Text(text) => json!({
            "type": "message", "id": format!("msg_{n}"), "status": "completed",
            "role": "assistant",
            "content": [{"type": "output_text", "text": text, "annotations": []}],
        }),
        ResponsesTurn::EscalatedCommand { call_id, command } => json!({
            "type": "custom_tool_call", "id": format!("ctc_{n}"), "status": "completed",
            "call_id": call_id, "name": "exec",
            "input": format!(
                "await tools.exec_command({{cmd: {}, sandbox_permissions: 'require_escalated', justification: 'The test asks for approval'}})",
                Value::String(command.clone())
            ),
        }),
    };
    let mut added = item.clone();
    added["status"] = json!("in_progress");
    if added["type"] == "message" {
        added["content"] = json!([]);
    }
    let mut completed = response.clone();
    completed["status"] = json!("completed");
    completed["output"] = json!([item.clone()]);
    completed["usage"] = json!({
        "input_tokens": 12, "output_tokens": 5, "total_tokens": 17,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens_details": {"reasoning_tokens": 0},
    });
    let mut events = vec![
        json!({"type": "response.created", "response": response}),
        json!({"type": "response.output_item.added", "output_index": 0, "item": added}),
    ];
    if let ResponsesTurn::Text(text) = turn {
        events.push(
            json!({"type": "response.output_text.delta", "item_id": format!("msg_{n}"),
                           "output_index": 0, "content_index": 0, "delta": text}),
        );
    }
    events.push(json!({"type": "response.output_item.done", "output_index": 0, "item": item}));
    events.push(json!({"type": "response.completed", "response": completed}));
    Reply::sse(
        events
            .into_iter()
            .map(|e| (e["type"].as_str().unwrap_or_default().to_owned(), e))
            .collect(),
    )
}
