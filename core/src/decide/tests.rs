//! Scenario groups B (probe), C (open-PR ladder), D (terminal PR), E (quarantine) and F (evidence
//! hash), the derivation-consistency invariant (C17: a decision's status is what its session and PR
//! axes derive to), and exhaustive properties of the probe table.

use super::*;
use crate::domain::{
    DetectingMemory, Lifecycle, PrAxis, PrReason as PR, PrState as PS, RuntimeState as RT,
    SessionAxis, SessionReason as R, SessionState as S, Status, derive_status_static,
};
use crate::fixtures::{lc, mins, secs, t0};

// ---------------------------------------------------------------- B: probe decisions

fn probe(runtime: RT, process: ProcessState) -> ProbeInput {
    ProbeInput {
        kill_requested: false,
        server_gone: false,
        runtime,
        runtime_failed: false,
        process,
        process_failed: false,
        recent_activity: false,
        prior: None,
        now: t0(),
    }
}

fn axis(state: S, reason: R) -> Option<SessionAxis> {
    Some(SessionAxis::new(state, reason))
}

#[test]
fn b_probe_table() {
    use ProcessState as P;
    struct Case {
        name: &'static str,
        input: ProbeInput,
        status: Status,
        session: Option<SessionAxis>,
        memory: bool,
        evidence: Option<&'static str>,
    }
    let killed = |mut i: ProbeInput| {
        i.kill_requested = true;
        i
    };
    let runtime_failed = |mut i: ProbeInput| {
        i.runtime_failed = true;
        i
    };
    let process_failed = |mut i: ProbeInput| {
        i.process_failed = true;
        i
    };
    let recent = |mut i: ProbeInput| {
        i.recent_activity = true;
        i
    };
    let server_gone = |mut i: ProbeInput| {
        i.server_gone = true;
        i
    };
    let cases = [
        Case {
            name: "B1",
            input: killed(probe(RT::Alive, P::Alive)),
            status: Status::Killed,
            session: axis(S::Terminated, R::ManuallyKilled),
            memory: false,
            evidence: Some("manual kill requested"),
        },
        Case {
            name: "B2",
            input: killed(probe(RT::Missing, P::Dead)),
            status: Status::Killed,
            session: axis(S::Terminated, R::ManuallyKilled),
            memory: false,
            evidence: Some("manual kill requested"),
        },
        Case {
            name: "B3",
            input: runtime_failed(probe(RT::Missing, P::Dead)),
            status: Status::Detecting,
            session: axis(S::Detecting, R::ProbeFailure),
            memory: true,
            evidence: Some(
                "probe_failed runtime=missing runtimeFailed=true process=dead processFailed=false",
            ),
        },
        Case {
            name: "B4",
            input: process_failed(probe(RT::Alive, P::Dead)),
            status: Status::Detecting,
            session: axis(S::Detecting, R::ProbeFailure),
            memory: true,
            evidence: None,
        },
        Case {
            name: "B5",
            input: probe(RT::ProbeFailed, P::Indeterminate),
            status: Status::Detecting,
            session: axis(S::Detecting, R::ProbeFailure),
            memory: true,
            evidence: None,
        },
        Case {
            name: "B6",
            input: probe(RT::Alive, P::Alive),
            status: Status::Working,
            session: axis(S::Working, R::TaskInProgress),
            memory: false,
            evidence: Some("alive runtime=alive process=alive"),
        },
        Case {
            name: "B7",
            input: probe(RT::Alive, P::Indeterminate),
            status: Status::Working,
            session: axis(S::Working, R::TaskInProgress),
            memory: false,
            evidence: Some("alive runtime=alive process=indeterminate"),
        },
        Case {
            name: "B8",
            input: probe(RT::Alive, P::Dead),
            status: Status::Detecting,
            session: axis(S::Detecting, R::AgentProcessExited),
            memory: true,
            evidence: Some("disagree runtime=alive process=dead recentActivity=false"),
        },
        Case {
            name: "B9",
            input: probe(RT::Exited, P::Alive),
            status: Status::Detecting,
            session: axis(S::Detecting, R::RuntimeLost),
            memory: true,
            evidence: Some("disagree runtime=exited process=alive recentActivity=false"),
        },
        Case {
            name: "B10",
            input: recent(probe(RT::Missing, P::Dead)),
            status: Status::Detecting,
            session: axis(S::Detecting, R::RuntimeLost),
            memory: true,
            evidence: Some("disagree runtime=missing process=dead recentActivity=true"),
        },
        Case {
            name: "B11",
            input: probe(RT::Missing, P::Indeterminate),
            status: Status::Detecting,
            session: axis(S::Detecting, R::RuntimeLost),
            memory: true,
            evidence: Some(
                "runtime_lost runtime=missing process=indeterminate recentActivity=false",
            ),
        },
        Case {
            name: "B12",
            input: probe(RT::Exited, P::Dead),
            status: Status::Terminated,
            session: axis(S::Terminated, R::RuntimeLost),
            memory: false,
            evidence: Some("dead runtime=exited process=dead recentActivity=false"),
        },
        Case {
            name: "B13",
            input: probe(RT::Missing, P::Dead),
            status: Status::Terminated,
            session: axis(S::Terminated, R::RuntimeLost),
            memory: false,
            evidence: Some("dead runtime=missing process=dead recentActivity=false"),
        },
        Case {
            name: "B14",
            input: probe(RT::Unknown, P::Dead),
            status: Status::Detecting,
            session: axis(S::Detecting, R::RuntimeLost),
            memory: true,
            evidence: Some("runtime_unknown runtime=unknown process=dead recentActivity=false"),
        },
        Case {
            name: "server gone",
            input: server_gone(probe(RT::Exited, P::Indeterminate)),
            status: Status::Terminated,
            session: axis(S::Terminated, R::RuntimeLost),
            memory: false,
            evidence: Some("server_gone runtime=exited process=indeterminate"),
        },
        Case {
            name: "server gone, recent activity: no quarantine",
            input: recent(server_gone(probe(RT::Exited, P::Indeterminate))),
            status: Status::Terminated,
            session: axis(S::Terminated, R::RuntimeLost),
            memory: false,
            evidence: Some("server_gone runtime=exited process=indeterminate"),
        },
        Case {
            name: "server gone, yet a probe failed: never death",
            input: runtime_failed(server_gone(probe(RT::Exited, P::Indeterminate))),
            status: Status::Detecting,
            session: axis(S::Detecting, R::ProbeFailure),
            memory: true,
            evidence: None,
        },
        Case {
            name: "server gone, kill requested: the kill wins",
            input: killed(server_gone(probe(RT::Exited, P::Indeterminate))),
            status: Status::Killed,
            session: axis(S::Terminated, R::ManuallyKilled),
            memory: false,
            evidence: Some("manual kill requested"),
        },
    ];
    for case in cases {
        let d = resolve_probe_decision(&case.input);
        assert_eq!(d.status, case.status, "{}", case.name);
        assert_eq!(d.session, case.session, "{}", case.name);
        assert_eq!(d.detecting.is_some(), case.memory, "{}", case.name);
        assert_eq!(
            d.pr_state, None,
            "{}: probe never addresses the PR axis",
            case.name
        );
        if let Some(evidence) = case.evidence {
            assert_eq!(d.evidence, evidence, "{}", case.name);
        }
        if let Some(memory) = &d.detecting {
            assert_eq!(memory.attempts, 1, "{}", case.name);
            assert_eq!(memory.started_at, t0(), "{}", case.name);
            assert_eq!(
                memory.evidence_hash,
                hash_evidence(&d.evidence),
                "{}",
                case.name
            );
        }
    }
}

/// Over the whole input space: a failed probe is never death; death needs runtime gone +
/// process dead + no recent activity, or the whole server gone (or a kill); a kill always wins;
/// only a kill displays `killed`.
#[test]
fn probe_properties_over_all_inputs() {
    let bools = [false, true];
    let mut count = 0;
    for &runtime in RT::ALL {
        for process in ProcessState::ALL {
            for kill in bools {
                for rf in bools {
                    for pf in bools {
                        for recent in bools {
                            for gone in bools {
                                let input = ProbeInput {
                                    kill_requested: kill,
                                    server_gone: gone,
                                    runtime,
                                    runtime_failed: rf,
                                    process,
                                    process_failed: pf,
                                    recent_activity: recent,
                                    prior: None,
                                    now: t0(),
                                };
                                let d = resolve_probe_decision(&input);
                                count += 1;
                                let terminated = d.session.map(|s| s.state) == Some(S::Terminated);
                                assert_eq!(d.status == Status::Killed, kill, "{input:?}");
                                if kill {
                                    assert_eq!(d.session, axis(S::Terminated, R::ManuallyKilled));
                                    continue;
                                }
                                let failed = rf || pf || runtime == RT::ProbeFailed;
                                let dead_evidence = matches!(runtime, RT::Exited | RT::Missing)
                                    && process == ProcessState::Dead
                                    && !recent;
                                assert_eq!(
                                    terminated,
                                    !failed && (gone || dead_evidence),
                                    "{input:?}"
                                );
                                if terminated {
                                    assert_eq!(d.session, axis(S::Terminated, R::RuntimeLost));
                                    assert_eq!(d.status, Status::Terminated);
                                }
                                if failed {
                                    assert_eq!(d.session, axis(S::Detecting, R::ProbeFailure));
                                }
                                // Memory exists exactly when the verdict is `detecting`.
                                assert_eq!(d.detecting.is_some(), d.status == Status::Detecting);
                            }
                        }
                    }
                }
            }
        }
    }
    assert_eq!(count, 5 * 3 * 32);
}

// ---------------------------------------------------------------- C: open-PR ladder

fn pr_input() -> OpenPrInput {
    OpenPrInput::default()
}

#[test]
fn c_ladder_table() {
    let all_review_flags = |mut i: OpenPrInput| {
        i.changes_requested = true;
        i.approved = true;
        i.mergeable = true;
        i
    };
    #[rustfmt::skip]
    let cases: Vec<(&str, OpenPrInput, Status, PS, PR, S)> = vec![
        ("C1", OpenPrInput { ci_failing: true, ..all_review_flags(pr_input()) }, Status::CiFailed, PS::Open, PR::CiFailing, S::Working),
        ("C2", OpenPrInput { draft: true, ci_failing: true, ..all_review_flags(pr_input()) }, Status::CiFailed, PS::Draft, PR::CiFailing, S::Working),
        ("C3", OpenPrInput { draft: true, review_pending: true, idle_beyond: true, ..all_review_flags(pr_input()) }, Status::Draft, PS::Draft, PR::InProgress, S::Working),
        ("C4", all_review_flags(pr_input()), Status::ChangesRequested, PS::Open, PR::ChangesRequested, S::Working),
        ("C5", OpenPrInput { bot_comments: true, approved: true, mergeable: true, ..pr_input() }, Status::ChangesRequested, PS::Open, PR::BotComments, S::Working),
        ("C6", OpenPrInput { merge_conflicts: true, approved: true, ..pr_input() }, Status::PrOpen, PS::Open, PR::MergeConflicts, S::Working),
        ("C7", OpenPrInput { approved: true, mergeable: true, ..pr_input() }, Status::Mergeable, PS::Open, PR::MergeReady, S::Idle),
        ("C8", OpenPrInput { mergeable: true, ..pr_input() }, Status::Mergeable, PS::Open, PR::MergeReady, S::Idle),
        ("C9", OpenPrInput { approved: true, ..pr_input() }, Status::Approved, PS::Open, PR::Approved, S::Idle),
        ("C10", OpenPrInput { review_pending: true, ..pr_input() }, Status::ReviewPending, PS::Open, PR::ReviewPending, S::Idle),
        ("C11", OpenPrInput { idle_beyond: true, ..pr_input() }, Status::Stuck, PS::Open, PR::InProgress, S::Stuck),
        ("C12", OpenPrInput { review_pending: true, idle_beyond: true, ..pr_input() }, Status::ReviewPending, PS::Open, PR::ReviewPending, S::Idle),
        ("C13", pr_input(), Status::PrOpen, PS::Open, PR::InProgress, S::Working),
    ];
    for (name, input, status, pr_state, pr_reason, session) in cases {
        let d = resolve_open_pr_decision(&input);
        assert_eq!(d.status, status, "{name}");
        assert_eq!(d.pr_state, Some(pr_state), "{name}");
        assert_eq!(d.pr_reason, Some(pr_reason), "{name}");
        assert_eq!(d.session.map(|s| s.state), Some(session), "{name}");
        assert_eq!(d.detecting, None, "{name}");
    }
}

#[test]
fn c14_to_c16_evidence() {
    let c14 = resolve_open_pr_decision(&OpenPrInput {
        ci_failing: true,
        number: Some(123),
        url: Some("https://example.com/pr/123".to_owned()),
        ..pr_input()
    });
    assert_eq!(c14.evidence, "ci_failing #123 https://example.com/pr/123");
    let c15 = resolve_open_pr_decision(&OpenPrInput {
        approved: true,
        mergeable: true,
        number: Some(7),
        ..pr_input()
    });
    assert_eq!(c15.evidence, "merge_ready #7");
    assert_eq!(resolve_open_pr_decision(&pr_input()).evidence, "pr_open");
    // Number 0 and an empty URL are omitted.
    let zero = resolve_open_pr_decision(&OpenPrInput {
        number: Some(0),
        url: Some(String::new()),
        ..pr_input()
    });
    assert_eq!(zero.evidence, "pr_open");
    // Every ladder condition word appears in its evidence.
    for (input, word) in [
        (
            OpenPrInput {
                draft: true,
                ..pr_input()
            },
            "draft",
        ),
        (
            OpenPrInput {
                changes_requested: true,
                ..pr_input()
            },
            "changes_requested",
        ),
        (
            OpenPrInput {
                bot_comments: true,
                ..pr_input()
            },
            "bot_comments",
        ),
        (
            OpenPrInput {
                merge_conflicts: true,
                ..pr_input()
            },
            "merge_conflicts",
        ),
        (
            OpenPrInput {
                approved: true,
                ..pr_input()
            },
            "approved",
        ),
        (
            OpenPrInput {
                review_pending: true,
                ..pr_input()
            },
            "review_pending",
        ),
        (
            OpenPrInput {
                idle_beyond: true,
                ..pr_input()
            },
            "idle_beyond",
        ),
    ] {
        assert_eq!(resolve_open_pr_decision(&input).evidence, word);
    }
}

// ---------------------------------------------------------------- D: terminal PR

#[test]
fn d_terminal_pr_table() {
    let d1 = resolve_terminal_pr_decision(PS::Merged);
    assert_eq!(d1.status, Status::Merged, "D1");
    assert_eq!(d1.session, axis(S::Idle, R::MergedWaitingDecision), "D1");
    assert_eq!(
        (d1.pr_state, d1.pr_reason),
        (Some(PS::Merged), Some(PR::Merged)),
        "D1"
    );
    assert_eq!(d1.evidence, "pr merged");

    let d2 = resolve_terminal_pr_decision(PS::Closed);
    assert_eq!(d2.status, Status::Idle, "D2");
    assert_eq!(d2.session, axis(S::Idle, R::AwaitingUserInput), "D2");
    assert_eq!(
        (d2.pr_state, d2.pr_reason),
        (Some(PS::Closed), Some(PR::ClosedUnmerged)),
        "D2"
    );
    assert_eq!(d2.evidence, "pr closed unmerged");

    for (name, state) in [
        ("D3", PS::None),
        ("D4", PS::Open),
        ("D5", PS::Draft),
        ("unset", PS::Unset),
    ] {
        let d = resolve_terminal_pr_decision(state);
        assert_eq!(d.status, Status::Working, "{name}");
        assert_eq!(d.session, axis(S::Working, R::TaskInProgress), "{name}");
        assert_eq!((d.pr_state, d.pr_reason), (Some(state), None), "{name}");
        assert_eq!(
            d.evidence,
            format!("non-terminal pr state={state}"),
            "{name}"
        );
    }
}

// ---------------------------------------------------------------- E: quarantine

const E_EVIDENCE: &str = "runtime_lost runtime=missing process=indeterminate";

fn memory(attempts: u32, hash: &str) -> DetectingMemory {
    DetectingMemory {
        attempts,
        started_at: t0(),
        evidence_hash: hash.to_owned(),
    }
}

#[test]
fn e1_to_e6_quarantine() {
    let hash = hash_evidence(E_EVIDENCE);
    let run = |prior: Option<DetectingMemory>, evidence: &str, now| {
        create_detecting_decision(evidence.to_owned(), R::RuntimeLost, prior.as_ref(), now)
    };

    let e1 = run(None, E_EVIDENCE, t0());
    assert_eq!(e1.status, Status::Detecting, "E1");
    assert_eq!(e1.detecting, Some(memory(1, &hash)), "E1");
    assert_eq!(e1.session, axis(S::Detecting, R::RuntimeLost), "E1");
    assert_eq!(e1.evidence, E_EVIDENCE, "E1 passes evidence through");

    let e2 = run(Some(memory(1, &hash)), E_EVIDENCE, t0().plus(mins(1)));
    assert_eq!(e2.detecting, Some(memory(2, &hash)), "E2");

    let e3 = run(Some(memory(2, &hash)), E_EVIDENCE, t0().plus(mins(1)));
    assert_eq!(e3.status, Status::Stuck, "E3");
    assert_eq!(e3.detecting, None, "E3 drops the memory");
    assert_eq!(e3.session, axis(S::Stuck, R::RuntimeLost), "E3");

    let other = "disagree runtime=exited process=alive recentActivity=false";
    let e4 = run(Some(memory(2, &hash)), other, t0().plus(mins(1)));
    assert_eq!(e4.status, Status::Detecting, "E4");
    assert_eq!(
        e4.detecting,
        Some(memory(1, &hash_evidence(other))),
        "E4 restarts the count, keeps startedAt"
    );

    let e5 = run(Some(memory(1, &hash)), E_EVIDENCE, t0().plus(mins(5)));
    assert_eq!(e5.status, Status::Stuck, "E5 (inclusive)");
    let before = run(
        Some(memory(1, &hash)),
        E_EVIDENCE,
        t0().plus(mins(5))
            .minus(std::time::Duration::from_millis(1)),
    );
    assert_eq!(
        before.status,
        Status::Detecting,
        "E5 one millisecond earlier"
    );

    let e6 = run(
        Some(memory(1, "something-else")),
        "changing evidence 7",
        t0().plus(mins(6)),
    );
    assert_eq!(e6.status, Status::Stuck, "E6");
}

#[test]
fn e7_flow_feeding_memory_back() {
    let mut prior: Option<DetectingMemory> = None;
    let mut statuses = vec![];
    for offset in [0, 1, 2] {
        let input = ProbeInput {
            prior: prior.clone(),
            now: t0().plus(secs(offset)),
            ..probe(RT::Missing, ProcessState::Indeterminate)
        };
        let d = resolve_probe_decision(&input);
        statuses.push(d.status);
        prior = d.detecting;
    }
    assert_eq!(
        statuses,
        [Status::Detecting, Status::Detecting, Status::Stuck]
    );
}

// ---------------------------------------------------------------- F: evidence hash

#[test]
fn f_evidence_hash() {
    let same = |a: &str, b: &str| hash_evidence(a) == hash_evidence(b);
    assert!(same("runtime_lost x", "runtime_lost x"), "F1");
    assert!(!same("runtime_lost", "agent_process_exited"), "F2");
    assert!(
        same(
            "probe failed at 2026-05-26T12:00:00Z runtime=missing",
            "probe failed at 2026-05-26T12:05:43.218Z runtime=missing"
        ),
        "F3"
    );
    assert!(same("idle since 12:00:00", "idle since 13:30:59"), "F4");
    assert!(same("last seen 1716724800", "last seen 1716728400"), "F5");
    assert!(
        !same(
            "at 2026-05-26T12:00:00Z runtime=missing",
            "at 2026-05-26T12:00:00Z runtime=alive"
        ),
        "F6"
    );
    assert!(
        same(
            "runtime=missing   process=dead",
            "runtime=missing process=dead"
        ),
        "F7"
    );

    // Offsets, a space separator, 13-digit millisecond epochs; 9 and 14 digits are kept.
    assert!(same(
        "t 2026-05-26 12:00:00+02:00 x",
        "t 2027-01-01T00:00:00-0530 x"
    ));
    assert!(same("ms 1716724800123", "ms 1716724899999"));
    assert!(!same("n 123456789", "n 123456780"));
    assert!(!same("n 12345678901234", "n 12345678901230"));
    // Shape of the output: lowercase hex SHA-256; the empty string after normalisation.
    let h = hash_evidence("  ");
    assert_eq!(
        h,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
}

// ---------------------------------------------------------------- C17: consistency invariant

/// For every real decision of the probe, open-PR and terminal-PR deciders,
/// `DeriveStatusStatic({session, pr})` equals its status.
#[test]
fn c17_decider_and_derivation_agree() {
    let mut decisions = vec![];
    // Every ladder row, with and without draft, including combinations.
    for bits in 0u32..(1 << 9) {
        let flag = |i: u32| bits & (1 << i) != 0;
        decisions.push(resolve_open_pr_decision(&OpenPrInput {
            draft: flag(0),
            ci_failing: flag(1),
            changes_requested: flag(2),
            bot_comments: flag(3),
            merge_conflicts: flag(4),
            approved: flag(5),
            mergeable: flag(6),
            review_pending: flag(7),
            idle_beyond: flag(8),
            number: Some(7),
            url: None,
        }));
    }
    decisions.push(resolve_terminal_pr_decision(PS::Merged));
    decisions.push(resolve_terminal_pr_decision(PS::Closed));
    decisions.push(resolve_probe_decision(&ProbeInput {
        kill_requested: true,
        ..probe(RT::Alive, ProcessState::Alive)
    }));
    decisions.push(resolve_probe_decision(&probe(
        RT::Alive,
        ProcessState::Alive,
    )));
    decisions.push(resolve_probe_decision(&probe(
        RT::Missing,
        ProcessState::Indeterminate,
    )));
    decisions.push(resolve_probe_decision(&probe(
        RT::Exited,
        ProcessState::Dead,
    )));

    let base = lc(S::Working, R::TaskInProgress, RT::Alive).lifecycle;
    for d in decisions {
        let lifecycle = Lifecycle {
            session: d
                .session
                .expect("every real decision addresses the session axis"),
            pr: match d.pr_state {
                Some(state) => PrAxis::bare(state, d.pr_reason.unwrap_or(PR::Unset)),
                None => PrAxis::UNOBSERVED,
            },
            ..base.clone()
        };
        assert_eq!(derive_status_static(&lifecycle), d.status, "{}", d.evidence);
    }
}
