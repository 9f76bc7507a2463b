//! The hook activity gate.
//!
//! Tool-use hooks of sub-tasks can arrive while a permission dialog is still open; the gate keeps
//! `blocked` and `waiting_input` truthful so the session guard can rely on them. It is pure: the
//! caller owns the per-session flight state and stores the returned one only once the write
//! pipeline has finished, so a retried decide step never double-counts bookkeeping.

use std::collections::BTreeMap;

use crate::domain::{ActivitySignal, ActivityState, HookEvent};

/// Most tool uses tracked in flight; the map is cleared when exceeded.
pub const INFLIGHT_MAX: usize = 128;

/// Per-session in-memory flight state, reset on daemon start and on every new launch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlightState {
    /// The launch generation this state belongs to.
    pub launch_id: String,
    /// tool use id → tool name.
    pub inflight: BTreeMap<String, String>,
    /// The tool use whose permission dialog is open, when exactly one matched.
    pub blocked_candidate: Option<String>,
}

impl FlightState {
    /// A fresh state for a launch.
    pub fn for_launch(launch_id: &str) -> Self {
        Self {
            launch_id: launch_id.to_owned(),
            ..Self::default()
        }
    }
}

/// Runs the gate for `signal` against the stored activity. Returns whether the signal may
/// change the activity, and the flight state after bookkeeping (applied even when suppressed).
pub fn gate_signal(
    stored: Option<ActivityState>,
    flight: &FlightState,
    signal: &ActivitySignal,
) -> (bool, FlightState) {
    let Some(event) = signal.hook_event else {
        // Signals without a hook event are not gated: last writer wins.
        return (true, flight.clone());
    };
    let tool_use_id = signal.tool_use_id.as_deref();
    let allowed = match stored {
        Some(ActivityState::Blocked) => {
            event.is_turn_boundary()
                || (matches!(
                    event,
                    HookEvent::PostToolUse | HookEvent::PostToolUseFailure
                ) && tool_use_id.is_some()
                    && tool_use_id == flight.blocked_candidate.as_deref())
        }
        Some(ActivityState::WaitingInput) => !event.is_tool_event(),
        _ => true,
    };

    let mut next = flight.clone();
    match event {
        HookEvent::PreToolUse => {
            if let Some(id) = tool_use_id {
                next.inflight
                    .insert(id.to_owned(), signal.tool_name.clone().unwrap_or_default());
                if next.inflight.len() > INFLIGHT_MAX {
                    next.inflight.clear();
                }
            }
        }
        HookEvent::PostToolUse | HookEvent::PostToolUseFailure => {
            if let Some(id) = tool_use_id {
                next.inflight.remove(id);
                if next.blocked_candidate.as_deref() == Some(id) && allowed {
                    next.blocked_candidate = None;
                }
            }
        }
        HookEvent::PermissionRequest => {
            let name = signal.tool_name.as_deref().unwrap_or_default();
            let mut matching = next.inflight.iter().filter(|(_, n)| n.as_str() == name);
            next.blocked_candidate = match (matching.next(), matching.next()) {
                (Some((id, _)), None) => Some(id.clone()),
                // Zero or several matches: fail closed, no post-tool-use clears the dialog.
                _ => None,
            };
        }
        HookEvent::UserPromptSubmit
        | HookEvent::Stop
        | HookEvent::StopFailure
        | HookEvent::SessionEnd => {
            next.inflight.clear();
            next.blocked_candidate = None;
        }
        // A blocking notification repeats a dialog already reported and carries no tool
        // identity; other notifications and session starts need no bookkeeping.
        HookEvent::Notification | HookEvent::SessionStart => {}
    }
    (allowed, next)
}

#[cfg(test)]
#[path = "gate_tests.rs"]
mod tests;
