//! Tables for the hook activity gate (scenario group I): which stored activity lets which hook
//! event through, the flight-state bookkeeping, the 128-entry in-flight cap, and the I-scenarios
//! replayed as sequences through the gate alone.

use super::*;
use crate::domain::{ActivitySource, ActivityState as A, HookEvent as H};

// ---------------------------------------------------------------- helpers

/// A hook callback of `event`; the gate never looks at the activity it carries.
fn hook(event: H, tool_name: Option<&str>, tool_use_id: Option<&str>) -> ActivitySignal {
    let mut s = ActivitySignal::valid(A::Active, ActivitySource::Hook);
    s.hook_event = Some(event);
    s.tool_name = tool_name.map(str::to_owned);
    s.tool_use_id = tool_use_id.map(str::to_owned);
    s
}

fn pre(name: &str, id: &str) -> ActivitySignal {
    hook(H::PreToolUse, Some(name), Some(id))
}

fn post(id: &str) -> ActivitySignal {
    hook(H::PostToolUse, None, Some(id))
}

fn permission(name: &str) -> ActivitySignal {
    hook(H::PermissionRequest, Some(name), None)
}

fn event(event: H) -> ActivitySignal {
    hook(event, None, None)
}

/// A flight state with `inflight` (id, name) pairs and an optional blocked candidate.
fn flight(inflight: &[(&str, &str)], candidate: Option<&str>) -> FlightState {
    FlightState {
        launch_id: "L1".to_owned(),
        inflight: inflight
            .iter()
            .map(|(id, name)| ((*id).to_owned(), (*name).to_owned()))
            .collect(),
        blocked_candidate: candidate.map(str::to_owned),
    }
}

/// One hook callback of a flow: the signal, the activity it carries, and the stored activity
/// expected after it.
type Step = (ActivitySignal, A, Option<A>);

/// Replays hook callbacks through the gate, applying the carried activity only when the gate
/// allows it (what `ApplyActivitySignal` does), and checks the stored activity after each.
fn replay(name: &str, start: Option<A>, steps: Vec<Step>) {
    let mut stored = start;
    let mut state = FlightState::for_launch("L1");
    for (i, (signal, carried, want)) in steps.into_iter().enumerate() {
        let (allowed, next) = gate_signal(stored, &state, &signal);
        state = next;
        if allowed {
            stored = Some(carried);
        }
        assert_eq!(stored, want, "{name}: step {}", i + 1);
    }
}

// ---------------------------------------------------------------- state gate

/// "Stored activity | allowed to change the activity", for every hook event.
#[test]
fn state_gate_table() {
    type Row = (&'static str, Option<A>, FlightState, ActivitySignal, bool);
    // Blocked on toolu_1 (a Bash dialog) while a sub-task's Read is in flight.
    let on_1 = || {
        flight(
            &[("toolu_1", "Bash"), ("toolu_sub", "Read")],
            Some("toolu_1"),
        )
    };
    let none = || flight(&[], None);
    let bg = || flight(&[("bg", "Bash")], None);
    let post_failure = |id| hook(H::PostToolUseFailure, None, Some(id));
    #[rustfmt::skip]
    let cases: Vec<Row> = vec![
        // blocked: only turn boundaries and the post of the dialog's own tool.
        ("I4 blocked + user-prompt-submit", Some(A::Blocked), on_1(), event(H::UserPromptSubmit), true),
        ("I4 blocked + stop", Some(A::Blocked), on_1(), event(H::Stop), true),
        ("blocked + stop-failure", Some(A::Blocked), on_1(), event(H::StopFailure), true),
        ("I4 blocked + session-end", Some(A::Blocked), on_1(), event(H::SessionEnd), true),
        ("I1 blocked + post(candidate)", Some(A::Blocked), on_1(), post("toolu_1"), true),
        ("I2 blocked + post-failure(candidate)", Some(A::Blocked), on_1(), post_failure("toolu_1"), true),
        ("I3 blocked + post(sub-task)", Some(A::Blocked), on_1(), post("toolu_sub"), false),
        ("blocked + post-failure(sub-task)", Some(A::Blocked), on_1(), post_failure("toolu_sub"), false),
        ("I3 blocked + pre(sub-task)", Some(A::Blocked), on_1(), pre("Read", "toolu_x"), false),
        ("blocked + permission-request", Some(A::Blocked), on_1(), permission("Bash"), false),
        ("I5 blocked + notification", Some(A::Blocked), on_1(), event(H::Notification), false),
        ("blocked + session-start", Some(A::Blocked), on_1(), event(H::SessionStart), false),
        // Fail closed: without a candidate no post matches, not even one without an id.
        ("I6 blocked, no candidate + post", Some(A::Blocked), none(), post("toolu_1"), false),
        ("blocked, no candidate + id-less post", Some(A::Blocked), none(), hook(H::PostToolUse, None, None), false),
        // waiting_input: any event except the three tool events.
        ("I8 waiting + pre", Some(A::WaitingInput), none(), pre("Bash", "bg"), false),
        ("I8 waiting + post", Some(A::WaitingInput), bg(), post("bg"), false),
        ("waiting + post-failure", Some(A::WaitingInput), bg(), post_failure("bg"), false),
        ("I8 waiting + user-prompt-submit", Some(A::WaitingInput), none(), event(H::UserPromptSubmit), true),
        ("waiting + stop", Some(A::WaitingInput), none(), event(H::Stop), true),
        ("waiting + stop-failure", Some(A::WaitingInput), none(), event(H::StopFailure), true),
        ("waiting + session-end", Some(A::WaitingInput), none(), event(H::SessionEnd), true),
        ("waiting + permission-request", Some(A::WaitingInput), none(), permission("Bash"), true),
        ("waiting + notification", Some(A::WaitingInput), none(), event(H::Notification), true),
        ("waiting + session-start", Some(A::WaitingInput), none(), event(H::SessionStart), true),
    ];
    for (name, stored, before, signal, allowed) in cases {
        let (got, _) = gate_signal(stored, &before, &signal);
        assert_eq!(got, allowed, "{name}");
    }
}

/// "other → any event": every non-sticky stored activity (and none at all) lets everything
/// through, even a post whose id matches nothing.
#[test]
fn state_gate_other_activities_allow_every_event() {
    let others = [
        None,
        Some(A::Active),
        Some(A::Ready),
        Some(A::Idle),
        Some(A::Exited),
    ];
    for stored in others {
        for &ev in H::ALL {
            let signal = hook(ev, Some("Bash"), Some("toolu_9"));
            let (allowed, _) = gate_signal(stored, &flight(&[], None), &signal);
            assert!(allowed, "stored {stored:?}, event {ev}");
        }
    }
}

/// I7: a signal without a hook event is not gated (last writer wins) and does no bookkeeping.
#[test]
fn signals_without_hook_event_pass_untouched() {
    let before = flight(&[("toolu_1", "Bash")], Some("toolu_1"));
    for stored in [None, Some(A::Blocked), Some(A::WaitingInput)] {
        let signal = ActivitySignal::valid(A::Active, ActivitySource::Terminal);
        assert_eq!(
            gate_signal(stored, &before, &signal),
            (true, before.clone())
        );
    }
}

// ---------------------------------------------------------------- bookkeeping

/// "Hook event | effect", applied whatever the verdict: (stored activity, flight state before,
/// hook) → flight state after.
#[test]
fn bookkeeping_table() {
    type Row = (
        &'static str,
        Option<A>,
        FlightState,
        ActivitySignal,
        FlightState,
    );
    let f = flight;
    #[rustfmt::skip]
    let cases: Vec<Row> = vec![
        ("pre-tool-use adds (id, name)",
            Some(A::Active), f(&[("a", "Read")], None), pre("Bash", "b"), f(&[("a", "Read"), ("b", "Bash")], None)),
        ("pre-tool-use is recorded even while blocked (suppressed)",
            Some(A::Blocked), f(&[("t1", "Bash")], Some("t1")), pre("Read", "sub"), f(&[("t1", "Bash"), ("sub", "Read")], Some("t1"))),
        ("pre-tool-use without an id tracks nothing",
            Some(A::Active), f(&[("a", "Read")], None), hook(H::PreToolUse, Some("Bash"), None), f(&[("a", "Read")], None)),
        ("pre-tool-use without a name tracks an empty name",
            Some(A::Active), f(&[], None), hook(H::PreToolUse, None, Some("a")), f(&[("a", "")], None)),
        ("post-tool-use removes its id",
            Some(A::Active), f(&[("a", "Read"), ("b", "Bash")], None), post("a"), f(&[("b", "Bash")], None)),
        ("post-tool-use-failure removes its id",
            Some(A::Active), f(&[("a", "Read"), ("b", "Bash")], None), hook(H::PostToolUseFailure, None, Some("b")), f(&[("a", "Read")], None)),
        ("a suppressed post of a sub-task still removes it; the dialog stays",
            Some(A::Blocked), f(&[("t1", "Bash"), ("sub", "Read")], Some("t1")), post("sub"), f(&[("t1", "Bash")], Some("t1"))),
        ("post of an unknown id changes nothing",
            Some(A::Active), f(&[("a", "Read")], None), post("zzz"), f(&[("a", "Read")], None)),
        ("post without an id changes nothing",
            Some(A::Blocked), f(&[("a", "Bash")], Some("a")), hook(H::PostToolUse, None, None), f(&[("a", "Bash")], Some("a"))),
        ("permission-request: the single in-flight tool of that name is the candidate",
            Some(A::Active), f(&[("a", "Read"), ("b", "Bash")], None), permission("Bash"), f(&[("a", "Read"), ("b", "Bash")], Some("b"))),
        ("permission-request: none of that name in flight → no candidate (fail closed)",
            Some(A::Active), f(&[("a", "Read")], None), permission("Bash"), f(&[("a", "Read")], None)),
        ("permission-request: two of that name in flight → no candidate (fail closed)",
            Some(A::Active), f(&[("a", "Bash"), ("b", "Bash")], None), permission("Bash"), f(&[("a", "Bash"), ("b", "Bash")], None)),
        ("permission-request replaces an older candidate, even while blocked",
            Some(A::Blocked), f(&[("a", "Read"), ("b", "Bash")], Some("a")), permission("Bash"), f(&[("a", "Read"), ("b", "Bash")], Some("b"))),
        ("permission-request without a name matches no named tool",
            Some(A::Active), f(&[("a", "Bash")], Some("a")), hook(H::PermissionRequest, None, None), f(&[("a", "Bash")], None)),
        ("notification leaves the candidate (it repeats the open dialog)",
            Some(A::Blocked), f(&[("a", "Bash")], Some("a")), event(H::Notification), f(&[("a", "Bash")], Some("a"))),
        ("session-start needs no bookkeeping",
            Some(A::Active), f(&[("a", "Bash")], Some("a")), event(H::SessionStart), f(&[("a", "Bash")], Some("a"))),
        ("user-prompt-submit clears everything",
            Some(A::Blocked), f(&[("a", "Bash"), ("b", "Read")], Some("a")), event(H::UserPromptSubmit), f(&[], None)),
        ("stop clears everything",
            Some(A::WaitingInput), f(&[("a", "Bash")], Some("a")), event(H::Stop), f(&[], None)),
        ("stop-failure clears everything (the failed turn is over)",
            Some(A::Active), f(&[("a", "Bash")], Some("a")), event(H::StopFailure), f(&[], None)),
        ("session-end clears everything",
            Some(A::Active), f(&[("a", "Bash")], Some("a")), event(H::SessionEnd), f(&[], None)),
    ];
    for (name, stored, before, signal, want) in cases {
        let (_, after) = gate_signal(stored, &before, &signal);
        assert_eq!(after, want, "{name}");
    }
}

/// "inflight … at most 128 entries; cleared when exceeded".
#[test]
fn inflight_is_capped_at_128_entries() {
    assert_eq!(INFLIGHT_MAX, 128);
    let mut state = FlightState::for_launch("L1");
    for i in 0..INFLIGHT_MAX {
        let (_, next) = gate_signal(Some(A::Active), &state, &pre("Read", &format!("t{i}")));
        state = next;
    }
    assert_eq!(state.inflight.len(), 128, "128 entries fit");

    // Re-announcing a tool already in flight does not grow the map.
    let (_, same) = gate_signal(Some(A::Active), &state, &pre("Read", "t0"));
    assert_eq!(same.inflight.len(), 128);

    // The 129th distinct tool exceeds the cap: the map is cleared.
    let (_, over) = gate_signal(Some(A::Active), &state, &pre("Bash", "t128"));
    assert!(over.inflight.is_empty(), "cleared when exceeded");
    assert_eq!(over.launch_id, "L1");

    // After the clear, a dialog cannot be tied to any tool: fail closed.
    let (_, dialog) = gate_signal(Some(A::Active), &over, &permission("Bash"));
    assert_eq!(dialog.blocked_candidate, None);
}

/// The flight state is reset on every new launch: nothing in flight, no dialog.
#[test]
fn flight_state_for_a_launch_starts_empty() {
    let fresh = FlightState::for_launch("L2");
    assert_eq!(fresh.launch_id, "L2");
    assert!(fresh.inflight.is_empty());
    assert_eq!(fresh.blocked_candidate, None);
}

// ---------------------------------------------------------------- I-scenarios as sequences

#[test]
fn i_scenarios() {
    let (active, blocked, idle) = (Some(A::Active), Some(A::Blocked), Some(A::Idle));
    let waiting = Some(A::WaitingInput);
    let post_failure = |id| hook(H::PostToolUseFailure, None, Some(id));
    #[rustfmt::skip]
    let flows: Vec<(&str, Option<A>, Vec<Step>)> = vec![
        ("I1", active, vec![
            (pre("Bash", "toolu_1"), A::Active, active),
            (permission("Bash"), A::Blocked, blocked),
            (post("toolu_1"), A::Active, active),
        ]),
        ("I2", active, vec![
            (pre("Bash", "toolu_1"), A::Active, active),
            (permission("Bash"), A::Blocked, blocked),
            (post_failure("toolu_1"), A::Active, active),
        ]),
        ("I3", active, vec![
            (pre("Bash", "toolu_1"), A::Active, active),
            (permission("Bash"), A::Blocked, blocked),
            (pre("Read", "toolu_sub"), A::Active, blocked),
            (post("toolu_sub"), A::Active, blocked),
            (post("toolu_1"), A::Active, active),
        ]),
        ("I4 user-prompt-submit", blocked, vec![(event(H::UserPromptSubmit), A::Active, active)]),
        ("I4 stop", blocked, vec![(event(H::Stop), A::Idle, idle)]),
        ("I4 stop-failure", blocked, vec![(event(H::StopFailure), A::Idle, idle)]),
        ("a turn an API error ended, then the next turn", active, vec![
            (pre("Bash", "t1"), A::Active, active),
            (event(H::StopFailure), A::Idle, idle),
            (event(H::UserPromptSubmit), A::Active, active),
            (post("t1"), A::Active, active),
            (event(H::Stop), A::Idle, idle),
        ]),
        ("I4 session-end", blocked, vec![(event(H::SessionEnd), A::Exited, Some(A::Exited))]),
        ("I5", blocked, vec![
            (event(H::Notification), A::WaitingInput, blocked),
            (event(H::Notification), A::Blocked, blocked),
        ]),
        ("I6", active, vec![
            (permission("Bash"), A::Blocked, blocked),
            (post("toolu_anything"), A::Active, blocked),
            (event(H::Stop), A::Idle, idle),
        ]),
        ("I8", waiting, vec![
            (pre("Bash", "bg"), A::Active, waiting),
            (post("bg"), A::Active, waiting),
            (event(H::UserPromptSubmit), A::Active, active),
        ]),
        ("I9", active, vec![
            (pre("Bash", "b1"), A::Active, active),
            (pre("Bash", "b2"), A::Active, active),
            (permission("Bash"), A::Blocked, blocked),
            (post("b1"), A::Active, blocked),
            (post("b2"), A::Active, blocked),
            (event(H::Stop), A::Idle, idle),
            (pre("Bash", "b3"), A::Active, active),
            (permission("Bash"), A::Blocked, blocked),
            (post("b3"), A::Active, active),
        ]),
    ];
    for (name, start, steps) in flows {
        replay(name, start, steps);
    }
}
