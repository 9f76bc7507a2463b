//! What an agent's hook callback means: each hook-capable agent's event → activity table, the
//! error a failed turn reports, the dispatch `aoctl hook` runs on them without a daemon, and the
//! hash a submitted prompt is matched by.

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::domain::{ActivityState, HookEvent, TurnError, quote};

/// The harness names whose hooks call back (`aoctl hook <agent> <event>`).
pub const CLAUDE_CODE: &str = "claude-code";
pub const CODEX: &str = "codex";

/// Longest correlation string a hook keeps (ids, tool names); longer ones are dropped.
pub const HOOK_FIELD_MAX: usize = 256;

/// A hook callback named an agent or an event no table knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HookNameError {
    #[error("unknown agent {} (hooks come from claude-code and codex)", quote(.0))]
    UnknownAgent(String),
    #[error("unknown hook event {}", quote(.0))]
    UnknownEvent(String),
}

/// Claude Code's table: tool and prompt events mean active, a permission request blocked, a
/// stop idle, and so does a stop failure (an API error ended the turn: the agent is back at its
/// prompt); a notification by its type; a session end exited unless the same conversation goes
/// on (`clear`, `resume`).
pub fn claude_code_activity(event: HookEvent, payload: &Value) -> Option<ActivityState> {
    let field = |name: &str| payload.get(name).and_then(Value::as_str);
    match event {
        HookEvent::UserPromptSubmit
        | HookEvent::PreToolUse
        | HookEvent::PostToolUse
        | HookEvent::PostToolUseFailure => Some(ActivityState::Active),
        HookEvent::PermissionRequest => Some(ActivityState::Blocked),
        HookEvent::Stop | HookEvent::StopFailure => Some(ActivityState::Idle),
        HookEvent::Notification => match field("notification_type") {
            Some("idle_prompt" | "agent_completed") => Some(ActivityState::Idle),
            Some("agent_needs_input") => Some(ActivityState::WaitingInput),
            Some("permission_prompt") => Some(ActivityState::Blocked),
            _ => None,
        },
        HookEvent::SessionEnd => match field("reason") {
            Some("clear" | "resume") => None,
            _ => Some(ActivityState::Exited),
        },
        HookEvent::SessionStart => None,
    }
}

/// Codex's table: a submitted prompt means active, an approval dialog on screen blocked (a
/// keystroke could answer it), a stop idle.
pub fn codex_activity(event: HookEvent, _payload: &Value) -> Option<ActivityState> {
    match event {
        HookEvent::UserPromptSubmit => Some(ActivityState::Active),
        HookEvent::PermissionRequest => Some(ActivityState::Blocked),
        HookEvent::Stop => Some(ActivityState::Idle),
        _ => None,
    }
}

/// The error a Claude Code `StopFailure` callback reports: its `error` field (`rate_limit`,
/// `server_error`, …) and the message the agent printed (`last_assistant_message`, e.g.
/// `API Error: Request rejected (429)`). Codex has no such hook: a failed codex turn calls no
/// hook at all.
pub fn turn_error(agent: &str, event: HookEvent, payload: &Value) -> Option<TurnError> {
    if agent != CLAUDE_CODE || event != HookEvent::StopFailure {
        return None;
    }
    let field = |name: &str| {
        payload
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
    };
    Some(TurnError::new(
        field("error"),
        field("last_assistant_message"),
    ))
}

/// The activity a hook callback means, by the named agent's table.
pub fn hook_activity(
    agent: &str,
    event: &str,
    payload: &Value,
) -> Result<Option<ActivityState>, HookNameError> {
    let table: fn(HookEvent, &Value) -> Option<ActivityState> = match agent {
        CLAUDE_CODE => claude_code_activity,
        CODEX => codex_activity,
        other => return Err(HookNameError::UnknownAgent(other.to_owned())),
    };
    let event: HookEvent = event
        .parse()
        .map_err(|_| HookNameError::UnknownEvent(event.to_owned()))?;
    Ok(table(event, payload))
}

/// SHA-256 hex of a prompt with surrounding whitespace trimmed: `aoctl hook` sends it with a
/// submitted prompt, and the daemon matches it against the message it typed.
pub fn prompt_hash(text: &str) -> String {
    hex::encode(Sha256::digest(text.trim().as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hook_activity_dispatches_on_the_agents_table() {
        let payload = serde_json::json!({});
        assert_eq!(
            hook_activity("claude-code", "stop", &payload),
            Ok(Some(ActivityState::Idle))
        );
        assert_eq!(
            hook_activity("codex", "permission-request", &payload),
            Ok(Some(ActivityState::Blocked))
        );
        assert_eq!(
            hook_activity("nosuch", "stop", &payload),
            Err(HookNameError::UnknownAgent("nosuch".into()))
        );
        assert_eq!(
            hook_activity("codex", "teatime", &payload),
            Err(HookNameError::UnknownEvent("teatime".into()))
        );
    }

    /// Every Claude Code event: a stop failure ends the turn like a stop.
    #[test]
    fn claude_code_table() {
        use ActivityState::*;
        let none = serde_json::json!({});
        let table = [
            (HookEvent::SessionStart, None),
            (HookEvent::UserPromptSubmit, Some(Active)),
            (HookEvent::PreToolUse, Some(Active)),
            (HookEvent::PostToolUse, Some(Active)),
            (HookEvent::PostToolUseFailure, Some(Active)),
            (HookEvent::PermissionRequest, Some(Blocked)),
            (HookEvent::Notification, None),
            (HookEvent::Stop, Some(Idle)),
            (HookEvent::StopFailure, Some(Idle)),
            (HookEvent::SessionEnd, Some(Exited)),
        ];
        assert_eq!(table.len(), HookEvent::ALL.len(), "every event has a row");
        for (event, want) in table {
            assert_eq!(claude_code_activity(event, &none), want, "{event}");
        }
        let failure = serde_json::json!({"error": "rate_limit", "last_assistant_message": "x"});
        assert_eq!(
            hook_activity("claude-code", "stop-failure", &failure),
            Ok(Some(Idle))
        );
    }

    /// What a stop failure reports, as the pinned Claude Code sends it.
    #[test]
    fn turn_error_table() {
        use crate::domain::TurnErrorKind as K;
        let rate_limit = serde_json::json!({
            "session_id": "s", "hook_event_name": "StopFailure", "error": "rate_limit",
            "last_assistant_message": "API Error: Request rejected (429) · mock 429",
        });
        let server = serde_json::json!({
            "error": "server_error",
            "last_assistant_message": "API Error: 529 overloaded.\nTry again.",
        });
        let odd = serde_json::json!({"error": "teapot", "last_assistant_message": 5});
        let bare = serde_json::json!({});
        let cases = [
            (
                "claude-code",
                HookEvent::StopFailure,
                &rate_limit,
                Some((K::RateLimit, "API Error: Request rejected (429) · mock 429")),
            ),
            (
                "claude-code",
                HookEvent::StopFailure,
                &server,
                Some((K::ServerError, "API Error: 529 overloaded. Try again.")),
            ),
            (
                "claude-code",
                HookEvent::StopFailure,
                &odd,
                Some((K::Unknown, "")),
            ),
            (
                "claude-code",
                HookEvent::StopFailure,
                &bare,
                Some((K::Unknown, "")),
            ),
            ("claude-code", HookEvent::Stop, &rate_limit, None),
            (
                "claude-code",
                HookEvent::PostToolUseFailure,
                &rate_limit,
                None,
            ),
            ("codex", HookEvent::StopFailure, &rate_limit, None),
            ("codex", HookEvent::Stop, &rate_limit, None),
        ];
        for (agent, event, payload, want) in cases {
            let got = turn_error(agent, event, payload);
            let got = got.as_ref().map(|e| (e.kind, e.message.as_str()));
            assert_eq!(got, want, "{agent} {event} {payload}");
        }
    }

    #[test]
    fn codex_table() {
        let p = serde_json::json!({"session_id": "x"});
        assert_eq!(
            codex_activity(HookEvent::UserPromptSubmit, &p),
            Some(ActivityState::Active)
        );
        assert_eq!(
            codex_activity(HookEvent::PermissionRequest, &p),
            Some(ActivityState::Blocked)
        );
        assert_eq!(
            codex_activity(HookEvent::Stop, &p),
            Some(ActivityState::Idle)
        );
        assert_eq!(codex_activity(HookEvent::SessionStart, &p), None);
        assert_eq!(codex_activity(HookEvent::StopFailure, &p), None);
    }

    #[test]
    fn prompts_hash_without_surrounding_whitespace() {
        assert_eq!(prompt_hash("  do it\n"), prompt_hash("do it"));
        assert_ne!(prompt_hash("do it"), prompt_hash("do  it"));
        assert_eq!(prompt_hash("").len(), 64);
    }
}
