//! Observation and command inputs of the lifecycle manager.
//!
//! These are the facts the outside world reports: runtime probes, SCM facts, activity signals,
//! spawn outcomes and kill reasons. They are plain data so the pure deciders can consume them.

use serde::{Deserialize, Serialize};

use super::record::Metadata;
use super::states::{
    ActivitySource, ActivityState, CiSummary, KillKind, PrState, ProbeResult, ReviewDecision,
    SignalConfidence,
};
use super::time::Timestamp;
use super::wire_enum::wire_enum;

/// What the reaper learned about one session's runtime.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuntimeFacts {
    /// When the probe ran; the LCM uses its own clock when absent.
    pub observed_at: Option<Timestamp>,
    /// The launch generation the probe was made for; a stale one is ignored.
    pub launch_id: Option<String>,
    /// Does the pane exist? `None` reads as indeterminate.
    pub runtime: Option<ProbeResult>,
    /// Is the agent process alive under the pane? `None` reads as indeterminate.
    pub process: Option<ProbeResult>,
    /// Informational only (logged).
    pub pane_exit_status: Option<i32>,
    /// The agent's own exit, as its launch script recorded it: evidence that the agent ended,
    /// unlike a probe that merely found no process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_exit: Option<AgentExit>,
    /// The runtime's whole server is gone: positive evidence that every pane it held is gone,
    /// so the session's runtime is lost at once. Never set by a probe that merely failed.
    #[serde(default)]
    pub server_gone: bool,
}

/// How and when the agent program exited, written by the launch script before the shell that
/// keeps the pane open takes over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentExit {
    /// The shell's exit status of the agent (128 + n when signal n ended it).
    pub code: i32,
    pub at: Timestamp,
}

/// A failed check of a PR.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedCheck {
    pub name: String,
    pub conclusion: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// Mergeability as normalised by the SCM observer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mergeability {
    pub mergeable: bool,
    pub ci_passing: bool,
    pub approved: bool,
    pub no_conflicts: bool,
    #[serde(default)]
    pub blockers: Vec<String>,
}

/// One unresolved review thread, represented by its latest comment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingComment {
    pub thread_id: String,
    pub comment_id: String,
    pub author: String,
    pub body: String,
    pub is_bot: bool,
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
}

/// What the SCM observer learned about a session's pull request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScmFacts {
    /// False = the query failed; everything else must be ignored.
    pub fetched: bool,
    pub observed_at: Timestamp,
    pub pr_state: PrState,
    pub draft: bool,
    pub pr_number: Option<u64>,
    pub pr_url: Option<String>,
    pub head_sha: String,
    pub base_sha: String,
    pub ci_summary: CiSummary,
    #[serde(default)]
    pub failed_checks: Vec<FailedCheck>,
    pub review_decision: ReviewDecision,
    #[serde(default)]
    pub mergeability: Mergeability,
    #[serde(default)]
    pub pending_comments: Vec<PendingComment>,
    /// Only when CI is failing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci_failure_log_tail: Option<String>,
}

impl ScmFacts {
    /// A fetched observation with no PR facts yet; callers fill in what they know.
    pub fn fetched(observed_at: Timestamp, pr_state: PrState) -> Self {
        Self {
            fetched: true,
            observed_at,
            pr_state,
            draft: false,
            pr_number: None,
            pr_url: None,
            head_sha: String::new(),
            base_sha: String::new(),
            ci_summary: CiSummary::None,
            failed_checks: vec![],
            review_decision: ReviewDecision::None,
            mergeability: Mergeability::default(),
            pending_comments: vec![],
            ci_failure_log_tail: None,
        }
    }
}

wire_enum! {
    /// Hook events ao installs (claude-code's ten; codex uses a subset).
    pub enum HookEvent {
        SessionStart => "session-start",
        UserPromptSubmit => "user-prompt-submit",
        PreToolUse => "pre-tool-use",
        PostToolUse => "post-tool-use",
        PostToolUseFailure => "post-tool-use-failure",
        PermissionRequest => "permission-request",
        Notification => "notification",
        Stop => "stop",
        /// A turn that an API error ended (rate limit, server error, …).
        StopFailure => "stop-failure",
        SessionEnd => "session-end",
    }
}

impl HookEvent {
    /// `user-prompt-submit`, `stop`, `stop-failure` and `session-end` end a turn: the hook gate
    /// forgets the tool calls in flight, and a turn boundary may always change a `blocked`
    /// activity.
    pub const fn is_turn_boundary(self) -> bool {
        matches!(
            self,
            HookEvent::UserPromptSubmit
                | HookEvent::Stop
                | HookEvent::StopFailure
                | HookEvent::SessionEnd
        )
    }

    /// The tool-use events the hook gate tracks.
    pub const fn is_tool_event(self) -> bool {
        matches!(
            self,
            HookEvent::PreToolUse | HookEvent::PostToolUse | HookEvent::PostToolUseFailure
        )
    }
}

/// A report of what the agent is doing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivitySignal {
    pub confidence: SignalConfidence,
    pub activity: Option<ActivityState>,
    /// When the activity happened; the LCM uses its own clock when absent.
    pub timestamp: Option<Timestamp>,
    pub source: ActivitySource,
    pub launch_id: Option<String>,
    pub agent_session_id: Option<String>,
    pub hook_event: Option<HookEvent>,
    pub tool_name: Option<String>,
    pub tool_use_id: Option<String>,
    /// Apply only if the record is still at this revision (terminal-observer repairs).
    pub only_if_revision: Option<u64>,
    /// The error that ended the turn, when the agent reported one (`stop-failure`).
    pub turn_error: Option<TurnError>,
}

impl ActivitySignal {
    /// A valid signal of `activity` from `source`, with nothing else set.
    pub fn valid(activity: ActivityState, source: ActivitySource) -> Self {
        Self {
            confidence: SignalConfidence::Valid,
            activity: Some(activity),
            timestamp: None,
            source,
            launch_id: None,
            agent_session_id: None,
            hook_event: None,
            tool_name: None,
            tool_use_id: None,
            only_if_revision: None,
            turn_error: None,
        }
    }
}

wire_enum! {
    /// Why an API error ended a turn, in the agent's own words (Claude Code's `StopFailure`
    /// `error` field); any other value reads as `unknown`.
    pub enum TurnErrorKind {
        RateLimit => "rate_limit",
        AuthenticationFailed => "authentication_failed",
        OauthOrgNotAllowed => "oauth_org_not_allowed",
        BillingError => "billing_error",
        InvalidRequest => "invalid_request",
        ModelNotFound => "model_not_found",
        ServerError => "server_error",
        MaxOutputTokens => "max_output_tokens",
        Unknown => "unknown",
    }
}

/// The error that ended an agent's turn: its kind and the agent's one-line account of it. Kept
/// in the record's metadata (`lastTurnError`) as `<kind>: <message>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TurnError {
    pub kind: TurnErrorKind,
    pub message: String,
}

impl TurnError {
    /// Longest message kept, in characters; a longer one is cut and ends with `…`.
    pub const MESSAGE_MAX: usize = 500;

    /// A turn error of `kind` (an unknown spelling reads as `unknown`) with `message` on one
    /// line: control characters become spaces, runs of whitespace one space, at most
    /// [`Self::MESSAGE_MAX`] characters.
    pub fn new(kind: &str, message: &str) -> Self {
        let spaced: String = message
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let words: Vec<&str> = spaced.split_whitespace().collect();
        let line = words.join(" ");
        let message = if line.chars().count() > Self::MESSAGE_MAX {
            let mut cut: String = line.chars().take(Self::MESSAGE_MAX - 1).collect();
            cut.push('…');
            cut
        } else {
            line
        };
        Self {
            kind: kind.parse().unwrap_or(TurnErrorKind::Unknown),
            message,
        }
    }

    /// The metadata value: `<kind>: <message>`, or only the kind without a message.
    pub fn to_meta(&self) -> String {
        if self.message.is_empty() {
            self.kind.as_str().to_owned()
        } else {
            format!("{}: {}", self.kind, self.message)
        }
    }

    /// Reads a metadata value written by [`Self::to_meta`].
    pub fn from_meta(value: &str) -> Self {
        let (kind, message) = value.split_once(": ").unwrap_or((value, ""));
        Self::new(kind, message)
    }
}

/// The runtime container of a session: a tmux session name plus its agent pane.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RuntimeHandle {
    /// The tmux session name (`SessionName(id)`).
    pub id: String,
    /// Always `tmux` in this version.
    pub runtime_name: String,
    /// The agent pane (`%<n>`), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pane_id: Option<String>,
}

/// What a successful spawn or restore produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpawnOutcome {
    pub branch: String,
    pub workspace_path: String,
    pub runtime_handle: RuntimeHandle,
    pub agent_session_id: Option<String>,
    pub prompt: Option<String>,
}

/// Why a session is being killed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KillReason {
    pub kind: KillKind,
    pub detail: Option<String>,
    /// Merged into the record's metadata.
    #[serde(default)]
    pub metadata: Metadata,
}

impl KillReason {
    pub fn new(kind: KillKind) -> Self {
        Self {
            kind,
            detail: None,
            metadata: Metadata::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turn_errors_are_one_bounded_line_with_a_known_kind() {
        let cases = [
            (
                "rate_limit",
                "API Error: Request rejected (429)",
                TurnErrorKind::RateLimit,
                "API Error: Request rejected (429)",
                "rate_limit: API Error: Request rejected (429)",
            ),
            (
                "server_error",
                " two\nlines\t\u{1b}[31m red ",
                TurnErrorKind::ServerError,
                "two lines [31m red",
                "server_error: two lines [31m red",
            ),
            (
                "billing_error",
                "",
                TurnErrorKind::BillingError,
                "",
                "billing_error",
            ),
            ("Rate_Limit", "x", TurnErrorKind::Unknown, "x", "unknown: x"),
            ("", "", TurnErrorKind::Unknown, "", "unknown"),
        ];
        for (kind, message, want_kind, want_message, want_meta) in cases {
            let error = TurnError::new(kind, message);
            assert_eq!(
                (error.kind, error.message.as_str()),
                (want_kind, want_message),
                "{kind:?}"
            );
            assert_eq!(error.to_meta(), want_meta);
            assert_eq!(TurnError::from_meta(&error.to_meta()), error, "round trip");
        }
        for kind in TurnErrorKind::ALL {
            assert_eq!(TurnError::new(kind.as_str(), "m").kind, *kind);
        }
        let long = TurnError::new("unknown", &"é".repeat(TurnError::MESSAGE_MAX + 1));
        assert_eq!(long.message.chars().count(), TurnError::MESSAGE_MAX);
        assert!(long.message.ends_with('…'));
        let exact = TurnError::new("unknown", &"a".repeat(TurnError::MESSAGE_MAX));
        assert_eq!(exact.message, "a".repeat(TurnError::MESSAGE_MAX));
        assert_eq!(
            TurnError::from_meta("server_error: API Error: 500: boom").message,
            "API Error: 500: boom"
        );
    }
}
