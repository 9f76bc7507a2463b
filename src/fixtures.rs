//! Test fixtures in the notation of the scenario catalog (scenarios.md, "Notation").

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
