//! The domain model: identities, the spec's enumerations, the session record and the display
//! status derivation.
//!
//! Pure data and total functions only: no I/O, no clock reads, no async. Nothing here imports any
//! other module of this crate.

mod cause;
mod env_key;
mod facts;
mod host_reports;
mod ids;
pub mod limits;
mod patch;
mod project;
mod quote;
mod reaction;
mod record;
mod states;
mod status;
mod time;
mod wire_enum;

pub use cause::{
    CAUSE_MAX_CHECKS, Cause, KillCause, LaunchCause, PrCause, ProbeCause, SignalCause,
};
pub use env_key::is_env_key;
pub use facts::{
    ActivitySignal, AgentExit, FailedCheck, HookEvent, KillReason, Mergeability, PendingComment,
    RuntimeFacts, RuntimeHandle, ScmFacts, SpawnOutcome, TurnError, TurnErrorKind,
};
pub use host_reports::{
    CheckContext, CheckRunDigest, GITHUB_ACTIONS_APP, LogTail, OpenPr, PrDetails, RepoRef,
    ReviewThread, ThreadComment,
};
pub use ids::{IdError, IssueId, PROJECT_ID_MAX, ProjectId, SESSION_ID_MAX, SessionId};
pub use patch::LifecyclePatch;
pub use project::{Project, ProjectSettings, main_worktree, relative_setup_path};
pub use quote::{QUOTE_MAX_CHARS, quote, quote_within};
pub use reaction::{
    ChangeEvent, EventType, Message, MessageMode, MessageState, NewMessage, NotifyEvent, Priority,
    QueuedReaction, ReactionKey, ReactionRowKind, Tracker, TrackerRollback,
};
pub use record::{
    ActivityAxis, DetectingMemory, LIFECYCLE_VERSION, Launch, Lifecycle, Metadata, PrAxis,
    RuntimeAxis, Session, SessionAxis, SessionRecord, meta,
};
pub use states::{
    ActivitySource, ActivityState, CiSummary, KillKind, PrReason, PrState, ProbeResult,
    ReviewDecision, RuntimeReason, RuntimeState, SessionKind, SessionReason, SessionState,
    SignalConfidence,
};
pub use status::{
    NO_SIGNAL_GRACE, Status, WaitVerdict, derive_status, derive_status_static, wait_verdict,
};
pub use time::{BadTimestamp, Timestamp, duration_millis};
pub use wire_enum::UnknownValue;

#[cfg(test)]
mod status_tests;
