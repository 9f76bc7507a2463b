//! The display status and its derivation.
//!
//! `derive_status` is the only producer of a display status. It is computed on every read and is
//! never stored, so a status can never disagree with the axes it summarises.

use std::time::Duration;

use super::record::{Lifecycle, SessionRecord};
use super::states::{PrReason, PrState, SessionReason, SessionState};
use super::time::Timestamp;
use super::wire_enum::wire_enum;

/// A hook-capable agent that has run this long without any hook reaching the daemon shows
/// `no_signal` (strict `>`).
pub const NO_SIGNAL_GRACE: Duration = Duration::from_secs(90);

wire_enum! {
    /// The 20 display statuses.
    pub enum Status {
        Spawning => "spawning",
        NoSignal => "no_signal",
        Working => "working",
        Detecting => "detecting",
        PrOpen => "pr_open",
        Draft => "draft",
        CiFailed => "ci_failed",
        ReviewPending => "review_pending",
        ChangesRequested => "changes_requested",
        Approved => "approved",
        Mergeable => "mergeable",
        Merged => "merged",
        Cleanup => "cleanup",
        NeedsInput => "needs_input",
        Stuck => "stuck",
        Errored => "errored",
        Killed => "killed",
        Idle => "idle",
        Done => "done",
        Terminated => "terminated",
    }
}

impl Status {
    /// Statuses of terminal sessions.
    pub const fn is_terminal(self) -> bool {
        matches!(
            self,
            Status::Cleanup | Status::Errored | Status::Killed | Status::Done | Status::Terminated
        )
    }
}

/// Where a wait for sessions to reach some statuses stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitVerdict {
    /// Every session (or, waiting for any, one) shows a wanted status.
    Reached,
    /// Not yet.
    Pending,
    /// It can no longer happen: a session the wait needs ended in another status (waiting for
    /// every session), or every session did (waiting for any).
    Unreachable,
}

/// How a wait for `wanted` stands given the sessions' `statuses`: a terminal session keeps its
/// status, so one that ended in another status can never satisfy the wait.
pub fn wait_verdict(statuses: &[Status], wanted: &[Status], any: bool) -> WaitVerdict {
    let matched = |s: &Status| wanted.contains(s);
    let ended_elsewhere = |s: &Status| s.is_terminal() && !matched(s);
    if any {
        if statuses.iter().any(matched) {
            WaitVerdict::Reached
        } else if statuses.iter().all(ended_elsewhere) {
            WaitVerdict::Unreachable
        } else {
            WaitVerdict::Pending
        }
    } else if statuses.iter().all(matched) {
        WaitVerdict::Reached
    } else if statuses.iter().any(ended_elsewhere) {
        WaitVerdict::Unreachable
    } else {
        WaitVerdict::Pending
    }
}

/// `DeriveStatus(record, now, hookCapable)`: total and pure; the first matching row wins.
pub fn derive_status(record: &SessionRecord, now: Timestamp, hook_capable: bool) -> Status {
    let no_signal = hook_capable && no_signal_condition(record, now);
    derive(&record.lifecycle, no_signal)
}

/// `DeriveStatusStatic`: `derive_status` with row 6 always `spawning`. Time-independent; used by
/// reactions.
pub fn derive_status_static(lifecycle: &Lifecycle) -> Status {
    derive(lifecycle, false)
}

/// The no-signal condition (launched more than [`NO_SIGNAL_GRACE`] ago and no hook accepted since)
/// minus the hook-capability check, which the caller supplies.
fn no_signal_condition(record: &SessionRecord, now: Timestamp) -> bool {
    match (record.launch.started_at, record.launch.first_signal_at) {
        (Some(started), None) => now.millis_since(started) > NO_SIGNAL_GRACE.as_millis() as i64,
        _ => false,
    }
}

fn derive(lc: &Lifecycle, no_signal: bool) -> Status {
    let session = lc.session;
    match session.state {
        SessionState::Done => return Status::Done,
        SessionState::Terminated => return terminated_status(session.reason),
        SessionState::NeedsInput => return Status::NeedsInput,
        SessionState::Stuck => return Status::Stuck,
        SessionState::Detecting => return Status::Detecting,
        SessionState::NotStarted => {
            return if no_signal {
                Status::NoSignal
            } else {
                Status::Spawning
            };
        }
        // Running but not yet heard from: a hook-capable agent still owes its first signal.
        SessionState::Working
            if session.reason == SessionReason::AgentAcknowledged && no_signal =>
        {
            return Status::NoSignal;
        }
        SessionState::Working | SessionState::Idle => {}
    }
    match lc.pr.state {
        PrState::Merged => return Status::Merged,
        PrState::Draft => {
            return if lc.pr.reason == PrReason::CiFailing {
                Status::CiFailed
            } else {
                Status::Draft
            };
        }
        PrState::Open => return open_pr_status(lc.pr.reason),
        PrState::None | PrState::Closed | PrState::Unset => {}
    }
    if session.state == SessionState::Idle {
        Status::Idle
    } else {
        Status::Working
    }
}

/// Only an explicit kill displays `killed`; an inferred death (`runtime_lost`,
/// `agent_process_exited`) is `terminated`, since nobody killed the session.
fn terminated_status(reason: SessionReason) -> Status {
    match reason {
        SessionReason::ManuallyKilled => Status::Killed,
        SessionReason::AutoCleanup | SessionReason::PrMerged => Status::Cleanup,
        SessionReason::ErrorInProcess | SessionReason::ProbeFailure => Status::Errored,
        _ => Status::Terminated,
    }
}

fn open_pr_status(reason: PrReason) -> Status {
    match reason {
        PrReason::CiFailing => Status::CiFailed,
        PrReason::ChangesRequested | PrReason::BotComments => Status::ChangesRequested,
        PrReason::Approved => Status::Approved,
        PrReason::MergeReady => Status::Mergeable,
        PrReason::ReviewPending => Status::ReviewPending,
        _ => Status::PrOpen,
    }
}
