use serde_json::json;

use super::*;
use crate::decide::transitions::classify_write;
use crate::domain::{
    ActivityAxis, ActivitySignal, ActivitySource, ActivityState, CiSummary, DetectingMemory,
    HookEvent, KillKind, KillReason, Launch, LaunchCause, Lifecycle, PrAxis, PrReason, PrState,
    ProbeCause, ProbeResult, ProjectId, RuntimeAxis, RuntimeReason, RuntimeState, ScmFacts,
    SessionAxis, SessionId, SessionKind, SessionReason, SessionState, Status, derive_status,
};
use crate::fixtures::t0;

fn at(secs: i64) -> Timestamp {
    Timestamp::from_millis(t0().as_millis() + secs * 1000)
}

/// A freshly created record, as a spawn writes it.
fn created() -> SessionRecord {
    SessionRecord {
        id: SessionId::parse("app-1").unwrap(),
        project_id: ProjectId::parse("app").unwrap(),
        num: 1,
        issue_id: None,
        kind: SessionKind::Worker,
        agent: "claude-code".to_owned(),
        revision: 1,
        lifecycle: Lifecycle {
            session: SessionAxis::new(SessionState::NotStarted, SessionReason::SpawnRequested),
            pr: PrAxis::bare(PrState::None, PrReason::NotCreated),
            runtime: RuntimeAxis::new(RuntimeState::Unknown, RuntimeReason::SpawnIncomplete),
            activity: ActivityAxis::UNSET,
            detecting: None,
        },
        launch: Launch {
            id: "L1".to_owned(),
            started_at: None,
            first_signal_at: None,
        },
        metadata: Default::default(),
        created_at: at(0),
        updated_at: at(0),
    }
}

/// A session's change log, built write by write as the LCM commits them.
struct Log {
    record: SessionRecord,
    rows: Vec<ChangeEvent>,
}

impl Log {
    fn new() -> Self {
        let record = created();
        let mut log = Log {
            record: record.clone(),
            rows: vec![],
        };
        log.push(EventType::SessionCreated, 0, Some(Cause::Spawn));
        log
    }

    fn push(&mut self, event: EventType, secs: i64, cause: Option<Cause>) {
        let mut payload = json!({"version": 1, "record": self.record});
        if let Some(cause) = cause {
            payload["cause"] = serde_json::to_value(cause).unwrap();
        }
        self.rows.push(ChangeEvent {
            seq: self.rows.len() as i64 + 1,
            session_id: self.record.id.clone(),
            project_id: self.record.project_id.clone(),
            event_type: event,
            payload,
            created_at: at(secs),
        });
    }

    /// Commits `change` at `secs` with `cause`.
    fn write(&mut self, secs: i64, cause: Option<Cause>, change: impl FnOnce(&mut SessionRecord)) {
        let before = self.record.clone();
        change(&mut self.record);
        self.record.revision += 1;
        self.record.updated_at = at(secs);
        let event = classify_write(&before, &self.record);
        self.push(event, secs, cause);
    }

    fn session(&self, now: Timestamp) -> Session {
        Session {
            status: derive_status(&self.record, now, true),
            record: self.record.clone(),
        }
    }

    /// The report at `now` from every row, read as the store pages them (newest first).
    fn report(&self, now: Timestamp, limit: usize) -> Why {
        let mut history = History::new(self.session(now));
        let newest_first: Vec<_> = self.rows.iter().rev().cloned().collect();
        history.extend(&newest_first, true);
        history.report(now, limit)
    }
}

fn launch_cause() -> Cause {
    Cause::Launch(LaunchCause {
        runtime_handle: "ao-app-1".to_owned(),
        pane_id: Some("%1".to_owned()),
    })
}

fn hook(event: HookEvent, activity: ActivityState) -> Cause {
    let mut signal = ActivitySignal::valid(activity, ActivitySource::Hook);
    signal.hook_event = Some(event);
    Cause::signal(&signal)
}

fn probe(secs: i64, process: ProbeResult, attempts: Option<u32>, since: i64) -> Cause {
    Cause::Reaper(ProbeCause {
        observed_at: at(secs),
        runtime: Some(ProbeResult::Alive),
        process: Some(process),
        server_gone: false,
        pane_exit_status: None,
        agent_exit: None,
        verdict: "disagree runtime=alive process=dead recentActivity=false".to_owned(),
        attempts,
        since: attempts.map(|_| at(since)),
    })
}

/// Spawned, launched, working through two tool calls, then a `Stop`.
fn worked_then_stopped() -> Log {
    let mut log = Log::new();
    log.write(2, Some(launch_cause()), |r| {
        r.launch.started_at = Some(at(2));
        r.lifecycle.runtime = RuntimeAxis::new(RuntimeState::Alive, RuntimeReason::ProcessRunning);
    });
    for (secs, event) in [
        (5, HookEvent::UserPromptSubmit),
        (6, HookEvent::PreToolUse),
        (7, HookEvent::PostToolUse),
    ] {
        log.write(secs, Some(hook(event, ActivityState::Active)), |r| {
            r.launch.first_signal_at.get_or_insert(at(5));
            r.lifecycle.session =
                SessionAxis::new(SessionState::Working, SessionReason::TaskInProgress);
            r.lifecycle.activity = ActivityAxis {
                state: Some(ActivityState::Active),
                last_activity_at: Some(at(secs)),
                source: ActivitySource::Hook,
            };
        });
    }
    log.write(20, Some(hook(HookEvent::Stop, ActivityState::Ready)), |r| {
        r.lifecycle.session = SessionAxis::new(SessionState::Idle, SessionReason::ResearchComplete);
        r.lifecycle.activity = ActivityAxis {
            state: Some(ActivityState::Ready),
            last_activity_at: Some(at(20)),
            source: ActivitySource::Hook,
        };
    });
    log
}

fn axis<'a>(why: &'a Why, name: &str) -> &'a AxisEvidence {
    why.axes.iter().find(|a| a.axis == name).unwrap()
}

fn observer(evidence: &AxisEvidence) -> Option<&str> {
    evidence.changed_by.as_ref().map(|c| c.observer.as_str())
}

#[test]
fn each_axis_names_the_write_that_gave_it_its_value() {
    let why = worked_then_stopped().report(at(140), 10);
    assert_eq!(why.status, "idle");
    assert_eq!(
        why.explanation,
        "the agent finished its turn and waits for your next message (hook stop: ready, 2m ago)."
    );
    assert_eq!(
        why.axes.iter().map(|a| a.axis.as_str()).collect::<Vec<_>>(),
        ["session", "runtime", "activity", "pr"]
    );
    let session = axis(&why, "session");
    assert_eq!(
        (session.state.as_str(), session.reason.as_str()),
        ("idle", "research_complete")
    );
    assert_eq!(
        (observer(session), session.since),
        (Some("hook"), Some(at(20)))
    );
    assert_eq!(
        session.changed_by.as_ref().unwrap().signal,
        "hook stop: ready"
    );
    let runtime = axis(&why, "runtime");
    assert_eq!(
        (observer(runtime), runtime.since),
        (Some("launch"), Some(at(2)))
    );
    let activity = axis(&why, "activity");
    assert_eq!(
        activity.detail.as_deref(),
        Some("reported by hook, last 2m ago")
    );
    // The PR axis kept the value the spawn gave it.
    let pr = axis(&why, "pr");
    assert_eq!((observer(pr), pr.since), (Some("spawn"), Some(at(0))));
    assert!(why.history_complete);
    assert!(why.metadata.is_empty());
}

#[test]
fn transitions_leave_out_repeated_reports_and_keep_the_newest() {
    let log = worked_then_stopped();
    let why = log.report(at(140), 10);
    let summary: Vec<(i64, Vec<String>)> = why
        .transitions
        .iter()
        .map(|t| {
            let changes = t
                .changes
                .iter()
                .map(|c| {
                    format!(
                        "{} {} -> {}",
                        c.axis,
                        c.from.as_deref().unwrap_or("none"),
                        c.to
                    )
                })
                .collect();
            (t.seq, changes)
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                1,
                vec!["session none -> not_started/spawn_requested".to_owned()]
            ),
            (
                2,
                vec![
                    "runtime unknown/spawn_incomplete -> alive/process_running".to_owned(),
                    "launch - -> runtime started".to_owned(),
                ]
            ),
            (
                3,
                vec![
                    "session not_started/spawn_requested -> working/task_in_progress".to_owned(),
                    "activity - -> active".to_owned(),
                    "first hook - -> received".to_owned(),
                ]
            ),
            // Rows 4 and 5 only moved the activity's time.
            (
                6,
                vec![
                    "session working/task_in_progress -> idle/research_complete".to_owned(),
                    "activity active -> ready".to_owned(),
                ]
            ),
        ]
    );
    assert_eq!(why.transitions[3].event, "session_state_changed");
    assert_eq!(
        why.transitions[3].cause.as_ref().unwrap().signal,
        "hook stop: ready"
    );
    let last_two = log.report(at(140), 2);
    assert_eq!(
        last_two
            .transitions
            .iter()
            .map(|t| t.seq)
            .collect::<Vec<_>>(),
        [3, 6]
    );
}

#[test]
fn a_stuck_session_says_what_the_probes_saw_and_for_how_long() {
    let mut log = worked_then_stopped();
    let detecting = |attempts| {
        move |r: &mut SessionRecord| {
            r.lifecycle.session =
                SessionAxis::new(SessionState::Detecting, SessionReason::AgentProcessExited);
            r.lifecycle.detecting = Some(DetectingMemory {
                attempts,
                started_at: at(100),
                evidence_hash: "h".to_owned(),
            });
        }
    };
    log.write(
        100,
        Some(probe(100, ProbeResult::Dead, Some(1), 100)),
        detecting(1),
    );
    let why = log.report(at(103), 10);
    assert_eq!(why.status, "detecting");
    assert_eq!(
        why.explanation,
        "ao is not sure the agent is alive: the pane is alive but the agent process is gone \
         (report 1 in a row, first 3s ago); 3 such reports or 5m make it stuck, a healthy probe \
         clears it."
    );
    assert_eq!(
        axis(&why, "session").detail.as_deref(),
        Some("quarantine: report 1 of 3 in a row, began 3s ago")
    );

    log.write(
        105,
        Some(probe(105, ProbeResult::Dead, Some(2), 100)),
        detecting(2),
    );
    log.write(
        110,
        Some(probe(110, ProbeResult::Dead, Some(3), 100)),
        |r| {
            r.lifecycle.session =
                SessionAxis::new(SessionState::Stuck, SessionReason::AgentProcessExited);
            r.lifecycle.detecting = None;
        },
    );
    let why = log.report(at(130), 10);
    assert_eq!(why.status, "stuck");
    assert_eq!(
        why.explanation,
        "the pane is alive but the agent process is gone for 30s (3 probes in a row), so ao \
         stopped waiting for it to recover; look at the pane (`aoctl attach`), then `aoctl kill` \
         or `aoctl restore` it."
    );
    let session = axis(&why, "session");
    assert_eq!(
        (observer(session), session.since),
        (Some("reaper"), Some(at(110)))
    );
    assert_eq!(
        session.changed_by.as_ref().unwrap().signal,
        "probe: the pane is alive but the agent process is gone (report 3 in a row)"
    );
    let quarantine: Vec<_> = why
        .transitions
        .iter()
        .flat_map(|t| &t.changes)
        .filter(|c| c.axis == "quarantine")
        .map(|c| (c.from.clone().unwrap(), c.to.clone()))
        .collect();
    assert_eq!(quarantine, [("report 1".to_owned(), "report 2".to_owned())]);
}

#[test]
fn a_kill_names_its_kind_and_the_recorded_detail() {
    let mut log = worked_then_stopped();
    let mut reason = KillReason::new(KillKind::Manual);
    reason.detail = Some("asked by the user".to_owned());
    log.write(200, Some(Cause::kill(&reason)), |r| {
        r.lifecycle.session =
            SessionAxis::new(SessionState::Terminated, SessionReason::ManuallyKilled);
        r.lifecycle.runtime =
            RuntimeAxis::new(RuntimeState::Exited, RuntimeReason::ManualKillRequested);
        r.metadata.insert(
            meta::TERMINATION_DETAIL.to_owned(),
            "asked by the user".to_owned(),
        );
    });
    let why = log.report(at(260), 10);
    assert_eq!(why.status, "killed");
    assert_eq!(why.explanation, "killed by `aoctl kill` 1m ago.");
    assert_eq!(
        why.metadata,
        [MetadataEvidence {
            key: "terminationDetail".to_owned(),
            label: "ended because".to_owned(),
            value: "asked by the user".to_owned(),
        }]
    );
    let last = why.transitions.last().unwrap();
    assert_eq!(last.event, "session_terminated");
    assert_eq!(
        last.changes
            .iter()
            .map(|c| c.axis.as_str())
            .collect::<Vec<_>>(),
        ["session", "runtime", "terminationDetail"]
    );
    assert_eq!(
        last.cause.as_ref().unwrap().facts,
        json!({"observer": "kill", "kind": "manual", "detail": "asked by the user"})
    );
    assert_eq!(
        last.cause.as_ref().unwrap().signal,
        "`aoctl kill`: asked by the user"
    );
}

#[test]
fn an_inferred_death_says_nobody_killed_it() {
    let mut log = worked_then_stopped();
    let gone = Cause::Reaper(ProbeCause {
        observed_at: at(300),
        runtime: Some(ProbeResult::Dead),
        process: Some(ProbeResult::Dead),
        server_gone: false,
        pane_exit_status: Some(0),
        agent_exit: None,
        verdict: "dead runtime=exited process=dead recentActivity=false".to_owned(),
        attempts: None,
        since: None,
    });
    log.write(300, Some(gone), |r| {
        r.lifecycle.session =
            SessionAxis::new(SessionState::Terminated, SessionReason::RuntimeLost);
        r.lifecycle.runtime = RuntimeAxis::new(RuntimeState::Exited, RuntimeReason::TmuxMissing);
    });
    let why = log.report(at(310), 10);
    assert_eq!(why.status, "terminated");
    assert_eq!(
        why.explanation,
        "the session ended on its own 10s ago: the pane and the agent process are gone (the \
         pane's command exited with status 0); nobody killed it (`aoctl restore` relaunches it)."
    );
}

#[test]
fn a_pr_status_quotes_the_poll() {
    let mut log = worked_then_stopped();
    let mut facts = ScmFacts::fetched(at(400), PrState::Open);
    facts.pr_number = Some(12);
    facts.ci_summary = CiSummary::Failing;
    facts.failed_checks = vec![crate::domain::FailedCheck {
        name: "test".to_owned(),
        conclusion: "failure".to_owned(),
        url: None,
    }];
    log.write(400, Some(Cause::scm(&facts)), |r| {
        r.lifecycle.pr = PrAxis {
            state: PrState::Open,
            reason: PrReason::CiFailing,
            number: Some(12),
            url: Some("https://example.com/pr/12".to_owned()),
        };
    });
    let why = log.report(at(460), 10);
    assert_eq!(why.status, "ci_failed");
    assert_eq!(
        why.explanation,
        "CI is failing on PR #12: test (SCM poll 1m ago)."
    );
    let pr = axis(&why, "pr");
    assert_eq!(pr.detail.as_deref(), Some("#12 https://example.com/pr/12"));
    assert_eq!(
        pr.changed_by.as_ref().unwrap().signal,
        "PR #12 open: CI failing, review none"
    );
    let last = why.transitions.last().unwrap();
    assert_eq!(
        (last.changes[0].from.as_deref(), last.changes[0].to.as_str()),
        (Some("none/not_created"), "open/ci_failing #12")
    );
}

#[test]
fn a_partial_history_leaves_older_origins_unknown() {
    let log = worked_then_stopped();
    let now = at(140);
    let newest_first: Vec<_> = log.rows.iter().rev().cloned().collect();
    let mut history = History::new(log.session(now));
    // The newest three rows only: the stop, and two reports of the same activity.
    history.extend(&newest_first[..3], false);
    assert_eq!(history.oldest_seq(), Some(4));
    assert!(!history.is_enough(1), "the runtime's origin is older");
    let why = history.report(now, 10);
    assert!(!why.history_complete);
    assert_eq!(observer(axis(&why, "session")), Some("hook"));
    assert_eq!(axis(&why, "runtime").since, None);
    assert_eq!(axis(&why, "runtime").changed_by, None);
    // The oldest row read has no row before it: it shows no transition.
    assert_eq!(
        why.transitions.iter().map(|t| t.seq).collect::<Vec<_>>(),
        [6]
    );

    history.extend(&newest_first[3..], false);
    assert!(history.is_enough(4), "the creation was read");
    assert!(history.report(now, 10).history_complete);
}

#[test]
fn enough_once_every_origin_and_the_transitions_asked_for_are_known() {
    let log = worked_then_stopped();
    let newest_first: Vec<_> = log.rows.iter().rev().cloned().collect();
    let mut history = History::new(log.session(at(140)));
    history.extend(&newest_first[..5], false);
    // Rows 6..2 read: the launch (row 2) set the runtime, and the PR axis is older.
    assert!(!history.is_enough(1));
    history.extend(&newest_first[5..], false);
    assert!(history.is_enough(10));
}

#[test]
fn rows_without_a_cause_or_newer_than_the_session_are_handled() {
    let mut log = Log::new();
    // A row written before causes were recorded.
    log.write(3, None, |r| {
        r.lifecycle.runtime = RuntimeAxis::new(RuntimeState::Alive, RuntimeReason::ProcessRunning);
    });
    let session = log.session(at(10));
    // A commit that landed after the session was loaded.
    log.write(5, Some(launch_cause()), |r| {
        r.launch.started_at = Some(at(5));
    });
    let mut history = History::new(session);
    let newest_first: Vec<_> = log.rows.iter().rev().cloned().collect();
    history.extend(&newest_first, true);
    assert_eq!(history.rows_read(), 3);
    assert_eq!(history.steps.len(), 2, "the newer row is left out");
    let why = history.report(at(10), 10);
    let runtime = axis(&why, "runtime");
    assert_eq!(
        (runtime.since, runtime.changed_by.as_ref()),
        (Some(at(3)), None)
    );
    assert_eq!(why.transitions.last().unwrap().cause, None);
    // A row whose payload holds no record is skipped.
    let mut broken = History::new(log.session(at(10)));
    let mut row = log.rows[0].clone();
    row.payload = json!({"version": 1});
    broken.extend(&[row], true);
    assert!(broken.steps.is_empty());
    assert_eq!((broken.rows_read(), broken.oldest_seq()), (1, Some(1)));
}

#[test]
fn the_report_round_trips_through_json() {
    let why = worked_then_stopped().report(at(140), 10);
    let text = serde_json::to_string(&why).unwrap();
    assert_eq!(serde_json::from_str::<Why>(&text).unwrap(), why);
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(value["at"], "2026-05-26T12:02:20.000Z");
    assert_eq!(value["axes"][0]["changed_by"]["facts"]["event"], "stop");
}

#[test]
fn spans_read_like_people_say_them() {
    for (millis, text) in [
        (-5, "0s"),
        (999, "0s"),
        (45_000, "45s"),
        (60_000, "1m"),
        (250_000, "4m 10s"),
        (3_600_000, "1h"),
        (7_500_000, "2h 5m"),
        (86_400_000 * 3 + 3_600_000 * 4, "3d 4h"),
    ] {
        assert_eq!(span(millis), text, "{millis} ms");
    }
}

#[test]
fn probe_phrases_never_call_a_failed_probe_death() {
    use ProbeResult::{Alive, Dead, Failed, Indeterminate};
    let phrase = |runtime, process, server_gone| {
        probe_phrase(&ProbeCause {
            observed_at: at(0),
            runtime,
            process,
            server_gone,
            pane_exit_status: None,
            agent_exit: None,
            verdict: String::new(),
            attempts: None,
            since: None,
        })
    };
    let cases = [
        (
            Some(Alive),
            Some(Alive),
            "the pane and the agent process are alive",
        ),
        (
            Some(Alive),
            Some(Dead),
            "the pane is alive but the agent process is gone",
        ),
        (
            Some(Alive),
            Some(Indeterminate),
            "the pane is alive; the agent process could not be checked",
        ),
        (
            Some(Dead),
            Some(Dead),
            "the pane and the agent process are gone",
        ),
        (
            Some(Dead),
            Some(Alive),
            "the pane is gone but the agent process still runs",
        ),
        (
            Some(Dead),
            None,
            "the pane is gone; the agent process could not be checked",
        ),
        (Some(Failed), Some(Dead), "the probe itself failed"),
        (Some(Alive), Some(Failed), "the probe itself failed"),
        (
            Some(Indeterminate),
            Some(Dead),
            "the probe could not tell whether the pane exists",
        ),
        (
            None,
            None,
            "the probe could not tell whether the pane exists",
        ),
    ];
    for (runtime, process, text) in cases {
        assert_eq!(
            phrase(runtime, process, false),
            text,
            "{runtime:?} {process:?}"
        );
    }
    assert_eq!(
        phrase(Some(Dead), Some(Dead), true),
        "the whole tmux server is gone"
    );
}

#[test]
fn every_status_has_a_sentence() {
    // The record is a plain working session; each status still gets a sentence of its own.
    let log = worked_then_stopped();
    let mut history = History::new(log.session(at(140)));
    let newest_first: Vec<_> = log.rows.iter().rev().cloned().collect();
    history.extend(&newest_first, true);
    let mut seen = std::collections::HashSet::new();
    for &status in Status::ALL {
        history.session.status = status;
        let text = history.report(at(140), 1).explanation;
        assert!(!text.is_empty() && text.ends_with('.'), "{status}: {text}");
        assert!(seen.insert(text.clone()), "{status}: {text}");
    }
}

#[test]
fn a_pruned_history_is_not_complete_but_ends_the_reading() {
    let log = worked_then_stopped();
    let newest_first: Vec<_> = log.rows.iter().rev().cloned().collect();
    let mut history = History::new(log.session(at(140)));
    // The store pruned rows 1 and 2: it has nothing older than row 3.
    history.extend(&newest_first[..4], true);
    assert!(history.is_enough(10));
    let why = history.report(at(140), 10);
    assert!(!why.history_complete);
    assert_eq!(axis(&why, "pr").changed_by, None);
}
