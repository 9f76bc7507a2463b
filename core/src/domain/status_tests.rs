//! Scenario group A (display status) and exhaustive properties of `derive_status`.

use super::*;
use crate::fixtures::{lc, mins, secs, t0};

use PrReason as PR;
use PrState as PS;
use RuntimeState as RT;
use SessionReason as R;
use SessionState as S;

fn with_pr(mut rec: SessionRecord, state: PrState, reason: PrReason) -> SessionRecord {
    rec.lifecycle.pr = PrAxis::bare(state, reason);
    rec
}

fn status(rec: &SessionRecord) -> Status {
    derive_status(rec, t0(), true)
}

#[test]
fn a1_to_a18_table() {
    let cases: Vec<(&str, SessionRecord, Status)> = vec![
        (
            "A1",
            lc(S::NotStarted, R::SpawnRequested, RT::Unknown),
            Status::Spawning,
        ),
        (
            "A2",
            lc(S::Terminated, R::ManuallyKilled, RT::Exited),
            Status::Killed,
        ),
        (
            "A3",
            lc(S::Terminated, R::AutoCleanup, RT::Exited),
            Status::Cleanup,
        ),
        (
            "A4",
            lc(S::Terminated, R::ErrorInProcess, RT::Exited),
            Status::Errored,
        ),
        (
            "A5",
            lc(S::NeedsInput, R::Unset, RT::Alive),
            Status::NeedsInput,
        ),
        (
            "A6",
            with_pr(lc(S::Idle, R::Unset, RT::Alive), PS::Merged, PR::Merged),
            Status::Merged,
        ),
        (
            "A7",
            with_pr(lc(S::Idle, R::Unset, RT::Alive), PS::Open, PR::CiFailing),
            Status::CiFailed,
        ),
        (
            "A8",
            with_pr(
                lc(S::Working, R::TaskInProgress, RT::Alive),
                PS::Open,
                PR::Approved,
            ),
            Status::Approved,
        ),
        (
            "A9",
            with_pr(
                lc(S::Working, R::TaskInProgress, RT::Alive),
                PS::Open,
                PR::MergeReady,
            ),
            Status::Mergeable,
        ),
        ("A10", lc(S::Idle, R::Unset, RT::Alive), Status::Idle),
        (
            "A11",
            lc(S::Working, R::TaskInProgress, RT::Alive),
            Status::Working,
        ),
        (
            "A12",
            with_pr(
                lc(S::Working, R::TaskInProgress, RT::Alive),
                PS::Draft,
                PR::CiFailing,
            ),
            Status::CiFailed,
        ),
        (
            "A13",
            with_pr(
                lc(S::Working, R::TaskInProgress, RT::Alive),
                PS::Draft,
                PR::MergeReady,
            ),
            Status::Draft,
        ),
        (
            "A14",
            with_pr(
                lc(S::Working, R::TaskInProgress, RT::Alive),
                PS::Open,
                PR::BotComments,
            ),
            Status::ChangesRequested,
        ),
        (
            "A15",
            with_pr(
                lc(S::Working, R::TaskInProgress, RT::Alive),
                PS::Open,
                PR::MergeConflicts,
            ),
            Status::PrOpen,
        ),
        (
            "A16 runtime_lost",
            lc(S::Terminated, R::RuntimeLost, RT::Exited),
            Status::Terminated,
        ),
        (
            "A16 agent_process_exited",
            lc(S::Terminated, R::AgentProcessExited, RT::Exited),
            Status::Terminated,
        ),
        (
            "A16 pr_merged",
            lc(S::Terminated, R::PrMerged, RT::Exited),
            Status::Cleanup,
        ),
        (
            "A16 probe_failure",
            lc(S::Terminated, R::ProbeFailure, RT::Exited),
            Status::Errored,
        ),
        (
            "A16 empty",
            lc(S::Terminated, R::Unset, RT::Exited),
            Status::Terminated,
        ),
        ("A16 done", lc(S::Done, R::Unset, RT::Exited), Status::Done),
        (
            "A17",
            with_pr(
                lc(S::Stuck, R::ProbeFailure, RT::Alive),
                PS::Open,
                PR::CiFailing,
            ),
            Status::Stuck,
        ),
        (
            "A18",
            with_pr(
                lc(S::Idle, R::AwaitingUserInput, RT::Alive),
                PS::Closed,
                PR::ClosedUnmerged,
            ),
            Status::Idle,
        ),
    ];
    for (name, rec, want) in cases {
        // The fixture's launch started 10 minutes ago without a hook, so set a first signal to
        // keep the no-signal refinement out of these rows.
        let mut rec = rec;
        rec.launch.first_signal_at = Some(t0());
        assert_eq!(status(&rec), want, "{name}");
        assert_eq!(
            derive_status_static(&rec.lifecycle),
            want,
            "{name} (static)"
        );
    }
}

/// A19–A23: the `no_signal` refinement of `spawning`.
#[test]
fn a19_to_a23_no_signal() {
    let mut rec = lc(S::NotStarted, R::SpawnRequested, RT::Alive);
    rec.launch.started_at = Some(t0());
    rec.launch.first_signal_at = None;

    // A19: strict 90s boundary.
    assert_eq!(
        derive_status(&rec, t0().plus(secs(90)), true),
        Status::Spawning,
        "A19 at 90s"
    );
    let just_after = t0().plus(std::time::Duration::from_millis(90_001));
    assert_eq!(
        derive_status(&rec, just_after, true),
        Status::NoSignal,
        "A19 at 90.001s"
    );

    // A20: a hook arrived.
    let mut signalled = rec.clone();
    signalled.launch.first_signal_at = Some(t0().plus(secs(5)));
    assert_eq!(
        derive_status(&signalled, t0().plus(mins(10)), true),
        Status::Spawning,
        "A20"
    );

    // A21: a `command` harness is never hook-capable.
    assert_eq!(
        derive_status(&rec, t0().plus(mins(10)), false),
        Status::Spawning,
        "A21"
    );

    // A22: launch not started.
    let mut unstarted = rec.clone();
    unstarted.launch.started_at = None;
    assert_eq!(
        derive_status(&unstarted, t0().plus(mins(60)), true),
        Status::Spawning,
        "A22"
    );

    // A23: the static derivation never says no_signal.
    assert_eq!(
        derive_status_static(&rec.lifecycle),
        Status::Spawning,
        "A23"
    );

    // Once a probe saw the agent running, it is `working`; a hook-capable one that still owes its
    // first signal past the grace is `no_signal`, as it would have been while `not_started`.
    let mut running = rec.clone();
    running.lifecycle.session = SessionAxis::new(S::Working, R::AgentAcknowledged);
    let after_grace = t0().plus(mins(10));
    assert_eq!(
        derive_status(&running, t0().plus(secs(5)), true),
        Status::Working
    );
    assert_eq!(derive_status(&running, after_grace, true), Status::NoSignal);
    assert_eq!(derive_status(&running, after_grace, false), Status::Working);
    assert_eq!(
        derive_status(&signalled_running(&running), after_grace, true),
        Status::Working
    );
    assert_eq!(derive_status_static(&running.lifecycle), Status::Working);
}

fn signalled_running(rec: &SessionRecord) -> SessionRecord {
    let mut r = rec.clone();
    r.launch.first_signal_at = Some(t0().plus(secs(5)));
    r
}

/// Every combination of session state, session reason, PR state and PR reason derives a status
/// (totality), and the precedence rules hold: hard session states outrank PR facts, PR facts only
/// show over the soft states, and a closed PR never shows.
#[test]
fn derivation_is_total_and_respects_precedence() {
    let mut rec = lc(S::Working, R::Unset, RT::Alive);
    rec.launch.first_signal_at = Some(t0());
    for &state in SessionState::ALL {
        for &reason in SessionReason::ALL {
            for &pr_state in PrState::ALL {
                for &pr_reason in PrReason::ALL {
                    rec.lifecycle.session = SessionAxis::new(state, reason);
                    rec.lifecycle.pr = PrAxis::bare(pr_state, pr_reason);
                    let got = status(&rec);
                    let soft = matches!(state, S::Working | S::Idle);
                    if !soft {
                        // The PR axis must not matter for hard states.
                        let mut no_pr = rec.clone();
                        no_pr.lifecycle.pr = PrAxis::UNOBSERVED;
                        assert_eq!(
                            got,
                            status(&no_pr),
                            "{state}/{reason} {pr_state}/{pr_reason}"
                        );
                    }
                    if soft && matches!(pr_state, PS::Closed | PS::None | PS::Unset) {
                        let want = if state == S::Idle {
                            Status::Idle
                        } else {
                            Status::Working
                        };
                        assert_eq!(got, want, "{state} with PR {pr_state}");
                    }
                    assert_eq!(got.is_terminal(), state.is_terminal(), "{state}/{reason}");
                }
            }
        }
    }
}

#[test]
fn read_model_serializes_status_next_to_the_record() {
    let rec = lc(S::Working, R::TaskInProgress, RT::Alive);
    let session = Session {
        status: derive_status(&rec, t0(), true),
        record: rec,
    };
    let json = serde_json::to_value(&session).unwrap();
    assert_eq!(json["status"], "working");
    assert_eq!(json["id"], "proj-1");
    assert_eq!(json["lifecycle"]["session"]["state"], "working");
    assert_eq!(json["lifecycle"]["pr"]["state"], "");
    let back: Session = serde_json::from_value(json).unwrap();
    assert_eq!(back, session);
}

/// A wait for statuses ends when met, or when a session it needs ended elsewhere.
#[test]
fn wait_verdicts() {
    use Status::{Done, Errored, Idle, Killed, NeedsInput, Working};
    use WaitVerdict::{Pending, Reached, Unreachable};
    let idle_or_input = [Idle, NeedsInput];
    let cases: &[(&[Status], &[Status], bool, WaitVerdict)] = &[
        // Every session.
        (&[Idle], &idle_or_input, false, Reached),
        (&[Idle, NeedsInput], &idle_or_input, false, Reached),
        (&[Idle, Working], &idle_or_input, false, Pending),
        (&[Idle, Killed], &idle_or_input, false, Unreachable),
        (&[Working, Errored], &idle_or_input, false, Unreachable),
        (&[Killed], &[Killed], false, Reached),
        (&[Done, Killed], &[Done, Killed], false, Reached),
        (&[Done, Working], &[Done], false, Pending),
        // Any session.
        (&[Working, Idle], &idle_or_input, true, Reached),
        (&[Working, Killed], &idle_or_input, true, Pending),
        (&[Killed, Errored], &idle_or_input, true, Unreachable),
        (&[Killed, Done], &[Done], true, Reached),
        (&[Working], &idle_or_input, true, Pending),
    ];
    for (statuses, wanted, any, verdict) in cases {
        assert_eq!(
            wait_verdict(statuses, wanted, *any),
            *verdict,
            "{statuses:?} waiting for {wanted:?}, any: {any}"
        );
    }
}
