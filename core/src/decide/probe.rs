//! `ResolveProbeDecision`: what a runtime + process probe means.
//!
//! Properties the table guarantees: a failed probe is never read as death; death is inferred
//! only from runtime-gone + process-dead + no recent activity, or from the whole runtime server
//! being gone (positive evidence for every pane at once, so no quarantine); an explicit kill
//! wins over everything. An inferred death displays `terminated`, never `killed`: nobody killed
//! the session.

use std::fmt;

use super::Decision;
use super::detecting::create_detecting_decision;
use crate::domain::{
    DetectingMemory, RuntimeState, SessionAxis, SessionReason, SessionState, Status, Timestamp,
};

/// The process fact as the decider sees it; a failed process probe arrives as `Indeterminate`
/// plus `process_failed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessState {
    Alive,
    Dead,
    Indeterminate,
}

impl ProcessState {
    pub const ALL: [ProcessState; 3] = [
        ProcessState::Alive,
        ProcessState::Dead,
        ProcessState::Indeterminate,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            ProcessState::Alive => "alive",
            ProcessState::Dead => "dead",
            ProcessState::Indeterminate => "indeterminate",
        }
    }
}

impl fmt::Display for ProcessState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Input of [`resolve_probe_decision`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeInput {
    pub kill_requested: bool,
    /// The runtime's whole server is gone (not merely unreachable).
    pub server_gone: bool,
    pub runtime: RuntimeState,
    pub runtime_failed: bool,
    pub process: ProcessState,
    pub process_failed: bool,
    pub recent_activity: bool,
    pub prior: Option<DetectingMemory>,
    pub now: Timestamp,
}

/// First matching row of the probe table wins.
pub fn resolve_probe_decision(input: &ProbeInput) -> Decision {
    let rt = input.runtime;
    let p = input.process;
    let recent = input.recent_activity;
    let quarantine = |evidence: String, reason| {
        create_detecting_decision(evidence, reason, input.prior.as_ref(), input.now)
    };

    if input.kill_requested {
        return ended(
            Status::Killed,
            SessionReason::ManuallyKilled,
            "manual kill requested".to_owned(),
        );
    }
    if input.runtime_failed || input.process_failed || rt == RuntimeState::ProbeFailed {
        return quarantine(
            format!(
                "probe_failed runtime={rt} runtimeFailed={} process={p} processFailed={}",
                input.runtime_failed, input.process_failed
            ),
            SessionReason::ProbeFailure,
        );
    }
    // The whole server is gone: every pane went with it, whatever activity was recent.
    if input.server_gone {
        return ended(
            Status::Terminated,
            SessionReason::RuntimeLost,
            format!("server_gone runtime={rt} process={p}"),
        );
    }
    match (rt, p) {
        (RuntimeState::Alive, ProcessState::Dead) => quarantine(
            format!("disagree runtime=alive process=dead recentActivity={recent}"),
            SessionReason::AgentProcessExited,
        ),
        (RuntimeState::Alive, _) => Decision {
            status: Status::Working,
            evidence: format!("alive runtime=alive process={p}"),
            detecting: None,
            session: Some(SessionAxis::new(
                SessionState::Working,
                SessionReason::TaskInProgress,
            )),
            pr_state: None,
            pr_reason: None,
        },
        (RuntimeState::Exited | RuntimeState::Missing, _) if p == ProcessState::Alive || recent => {
            quarantine(
                format!("disagree runtime={rt} process={p} recentActivity={recent}"),
                SessionReason::RuntimeLost,
            )
        }
        (RuntimeState::Exited | RuntimeState::Missing, ProcessState::Dead) => ended(
            Status::Terminated,
            SessionReason::RuntimeLost,
            format!("dead runtime={rt} process=dead recentActivity=false"),
        ),
        (RuntimeState::Exited | RuntimeState::Missing, _) => quarantine(
            format!("runtime_lost runtime={rt} process=indeterminate recentActivity=false"),
            SessionReason::RuntimeLost,
        ),
        // `Unknown`; `ProbeFailed` was handled by row 2 and only reaches here in theory.
        (RuntimeState::Unknown | RuntimeState::ProbeFailed, _) => quarantine(
            format!("runtime_unknown runtime={rt} process={p} recentActivity={recent}"),
            SessionReason::RuntimeLost,
        ),
    }
}

/// A terminal verdict: session `terminated` with `reason`, no quarantine memory.
fn ended(status: Status, reason: SessionReason, evidence: String) -> Decision {
    Decision {
        status,
        evidence,
        detecting: None,
        session: Some(SessionAxis::new(SessionState::Terminated, reason)),
        pr_state: None,
        pr_reason: None,
    }
}
