//! Test fixtures in the notation of the scenario catalog.

use std::time::Duration;

use crate::domain::{
    ActivityAxis, Launch, Lifecycle, PrAxis, ProjectId, RuntimeAxis, RuntimeReason, RuntimeState,
    SessionAxis, SessionId, SessionKind, SessionReason, SessionRecord, SessionState, Timestamp,
};

/// `t0 = 2026-05-26T12:00:00Z`.
pub fn t0() -> Timestamp {
    Timestamp::parse_rfc3339("2026-05-26T12:00:00Z").expect("t0 parses")
}

pub fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

pub fn mins(n: u64) -> Duration {
    Duration::from_secs(n * 60)
}

/// The runtime reason the LCM would write for a runtime state (empty for the others).
pub fn runtime_reason_for(state: RuntimeState) -> RuntimeReason {
    match state {
        RuntimeState::Alive => RuntimeReason::ProcessRunning,
        RuntimeState::Exited => RuntimeReason::TmuxMissing,
        RuntimeState::ProbeFailed => RuntimeReason::ProbeError,
        RuntimeState::Unknown | RuntimeState::Missing => RuntimeReason::Unset,
    }
}

/// `lc(S, R, RT)`: project `proj`, id `proj-1`, PR unobserved, activity unset, no memory,
/// launch `{L1, startedAt t0-10m}`, agent `claude-code`, revision 1.
pub fn lc(state: SessionState, reason: SessionReason, runtime: RuntimeState) -> SessionRecord {
    SessionRecord {
        id: SessionId::parse("proj-1").unwrap(),
        project_id: ProjectId::parse("proj").unwrap(),
        num: 1,
        issue_id: None,
        kind: SessionKind::Worker,
        agent: "claude-code".to_owned(),
        revision: 1,
        lifecycle: Lifecycle {
            session: SessionAxis::new(state, reason),
            pr: PrAxis::UNOBSERVED,
            runtime: RuntimeAxis::new(runtime, runtime_reason_for(runtime)),
            activity: ActivityAxis::UNSET,
            detecting: None,
        },
        launch: Launch {
            id: "L1".to_owned(),
            started_at: Some(t0().minus(mins(10))),
            first_signal_at: None,
        },
        metadata: Default::default(),
        created_at: t0().minus(mins(10)),
        updated_at: t0().minus(mins(10)),
    }
}

/// `detectingLC` = `lc(detecting, runtime_lost, missing)` + memory `{1, t0, "abc"}`.
pub fn detecting_lc() -> SessionRecord {
    let mut r = lc(
        SessionState::Detecting,
        SessionReason::RuntimeLost,
        RuntimeState::Missing,
    );
    r.lifecycle.detecting = Some(crate::domain::DetectingMemory {
        attempts: 1,
        started_at: t0(),
        evidence_hash: "abc".to_owned(),
    });
    r
}

/// `stuckLC(r)` = `lc(stuck, r, alive)`, no memory.
pub fn stuck_lc(reason: SessionReason) -> SessionRecord {
    lc(SessionState::Stuck, reason, RuntimeState::Alive)
}

/// `openPR(r)` = `lc(working, task_in_progress, alive)` + PR `{open, r, #7, https://example.com/pr/7}`.
pub fn open_pr(reason: crate::domain::PrReason) -> SessionRecord {
    let mut r = lc(
        SessionState::Working,
        SessionReason::TaskInProgress,
        RuntimeState::Alive,
    );
    r.lifecycle.pr = PrAxis {
        state: crate::domain::PrState::Open,
        reason,
        number: Some(7),
        url: Some("https://example.com/pr/7".to_owned()),
    };
    r
}

/// Records a session handle in metadata so pane writes can be routed.
pub fn with_handle(mut r: SessionRecord) -> SessionRecord {
    use crate::domain::meta;
    r.metadata
        .insert(meta::RUNTIME_HANDLE_ID.to_owned(), r.id.as_str().to_owned());
    r.metadata
        .insert(meta::RUNTIME_NAME.to_owned(), "tmux".to_owned());
    r
}
