//! The persisted session record and its read model.
//!
//! `SessionRecord` is the canonical state of one session: identity, the lifecycle axes, the
//! launch generation, metadata and the `revision` used for optimistic concurrency. The display
//! status is not part of it: it is derived on every read (`Session` = record + status).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::ids::{IssueId, ProjectId, SessionId};
use super::states::{
    ActivitySource, ActivityState, PrReason, PrState, RuntimeReason, RuntimeState, SessionKind,
    SessionReason, SessionState,
};
use super::status::Status;
use super::time::Timestamp;

/// Shape version of the lifecycle object, written into `change_log` payloads.
pub const LIFECYCLE_VERSION: u32 = 1;

/// `{state, reason}` of the session axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionAxis {
    pub state: SessionState,
    pub reason: SessionReason,
}

impl SessionAxis {
    pub const fn new(state: SessionState, reason: SessionReason) -> Self {
        Self { state, reason }
    }
}

/// `{state, reason, number?, url?}` of the PR axis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrAxis {
    pub state: PrState,
    pub reason: PrReason,
    /// Omitted when unknown (the spec's "omitted when 0").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl PrAxis {
    /// PR never observed.
    pub const UNOBSERVED: PrAxis = PrAxis {
        state: PrState::Unset,
        reason: PrReason::Unset,
        number: None,
        url: None,
    };

    pub const fn bare(state: PrState, reason: PrReason) -> Self {
        Self {
            state,
            reason,
            number: None,
            url: None,
        }
    }
}

/// `{state, reason}` of the runtime axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuntimeAxis {
    pub state: RuntimeState,
    pub reason: RuntimeReason,
}

impl RuntimeAxis {
    pub const fn new(state: RuntimeState, reason: RuntimeReason) -> Self {
        Self { state, reason }
    }
}

/// The last known agent activity; a decider input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityAxis {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<ActivityState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_activity_at: Option<Timestamp>,
    pub source: ActivitySource,
}

impl ActivityAxis {
    /// No activity known (source `none`).
    pub const UNSET: ActivityAxis = ActivityAxis {
        state: None,
        last_activity_at: None,
        source: ActivitySource::None,
    };
}

/// Quarantine memory; present only while the session state is `detecting`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetectingMemory {
    pub attempts: u32,
    pub started_at: Timestamp,
    pub evidence_hash: String,
}

/// The lifecycle object: the four axes plus the quarantine memory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lifecycle {
    pub session: SessionAxis,
    pub pr: PrAxis,
    pub runtime: RuntimeAxis,
    pub activity: ActivityAxis,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detecting: Option<DetectingMemory>,
}

/// The current launch generation: each spawn or restore starts a new one, and observations carrying
/// an older launch id are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Launch {
    /// UUIDv4 of this launch; exported as `AO_RUNTIME_LAUNCH_ID`.
    pub id: String,
    /// Set when the runtime exists (`OnSpawnCompleted`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<Timestamp>,
    /// Set by the first accepted hook callback of this launch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_signal_at: Option<Timestamp>,
}

/// Metadata keys.
pub mod meta {
    pub const BRANCH: &str = "branch";
    pub const WORKSPACE_PATH: &str = "workspacePath";
    pub const RUNTIME_HANDLE_ID: &str = "runtimeHandleId";
    pub const RUNTIME_PANE_ID: &str = "runtimePaneId";
    pub const RUNTIME_NAME: &str = "runtimeName";
    pub const AGENT_SESSION_ID: &str = "agentSessionId";
    pub const PROMPT: &str = "prompt";
    pub const TERMINATION_DETAIL: &str = "terminationDetail";
    /// The agent's exit code (decimal), once its launch script recorded one.
    pub const EXIT_CODE: &str = "exitCode";
    /// When the agent exited (RFC 3339).
    pub const EXITED_AT: &str = "exitedAt";
    /// The error that ended the latest turn (`TurnError::to_meta`); gone once a turn starts.
    pub const LAST_TURN_ERROR: &str = "lastTurnError";
    /// The session whose agent spawned this one (from its `AO_SESSION_ID`).
    pub const PARENT_SESSION: &str = "parentSession";
    /// When the session ended (RFC 3339): the time of the write that made it terminal.
    pub const ENDED_AT: &str = "endedAt";
}

/// String metadata, merge-patched: given keys overwrite, others are kept, empty values are never
/// written.
pub type Metadata = BTreeMap<String, String>;

/// The persisted record of one session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    pub id: SessionId,
    pub project_id: ProjectId,
    /// The `n` of the id; unique per project.
    pub num: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue_id: Option<IssueId>,
    pub kind: SessionKind,
    /// Harness name (`claude-code`, `codex`, `command` or a configured name).
    pub agent: String,
    /// 1 after insert; +1 per committed write.
    pub revision: u64,
    pub lifecycle: Lifecycle,
    pub launch: Launch,
    #[serde(default)]
    pub metadata: Metadata,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl SessionRecord {
    /// `done` or `terminated`.
    pub fn is_terminal(&self) -> bool {
        self.lifecycle.session.state.is_terminal()
    }

    /// `livenessOwned`: detecting, or a liveness reason on the session axis.
    pub fn is_liveness_owned(&self) -> bool {
        let s = self.lifecycle.session;
        s.state == SessionState::Detecting || s.reason.is_liveness()
    }

    /// `livenessStuck`: stuck because liveness evidence stayed bad.
    pub fn is_liveness_stuck(&self) -> bool {
        let s = self.lifecycle.session;
        s.state == SessionState::Stuck && s.reason.is_liveness()
    }

    /// A metadata value, treating an empty string as absent.
    pub fn meta(&self, key: &str) -> Option<&str> {
        self.metadata
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// Applies a metadata merge patch: non-empty values overwrite, empty values are ignored.
    pub fn merge_metadata<'a>(&mut self, patch: impl IntoIterator<Item = (&'a str, &'a str)>) {
        for (key, value) in patch {
            if !value.is_empty() {
                self.metadata.insert(key.to_owned(), value.to_owned());
            }
        }
    }
}

/// The read model returned by list/get: the record plus its derived display status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    #[serde(flatten)]
    pub record: SessionRecord,
    pub status: Status,
}
