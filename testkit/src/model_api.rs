//! The model APIs the real agent CLIs stream from, as answers of the loopback
//! [`HttpServer`](crate::http::HttpServer): Anthropic Messages (`message_start` …
//! `message_stop`, or one JSON message when no stream is asked) and OpenAI Responses
//! (`response.created` … `response.completed`), Messages error answers, plus readers of what the
//! CLIs sent.

use serde_json::{Value, json};

use crate::http::Response;

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
pub fn anthropic_reply(request: &Value, turn: &Turn) -> Response {
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
        return Response::json(
            200,
            &json!({
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
    Response::sse(events)
}

/// A Messages API error answer: the error body of `status` (429 `rate_limit_error`, 529
/// `overloaded_error`, any other `api_error`) with `retry-after: 0` and `x-should-retry: false`,
/// the API's word that the client must not retry (so Claude Code gives up after this one
/// request instead of retrying with backoff for a minute or more).
pub fn anthropic_error(status: u16, message: &str) -> Response {
    let kind = match status {
        429 => "rate_limit_error",
        529 => "overloaded_error",
        _ => "api_error",
    };
    Response::json(
        status,
        &json!({"type": "error", "error": {"type": kind, "message": message}}),
    )
    .header("retry-after", "0")
    .header("x-should-retry", "false")
    .header("request-id", format!("req_mock_{status}"))
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
pub fn openai_reply(n: usize, turn: &ResponsesTurn) -> Response {
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
    Response::sse(
        events
            .into_iter()
            .map(|e| (e["type"].as_str().unwrap_or_default().to_owned(), e)),
    )
}
