//! Tables for the per-entry-point planners (scenario groups G, H, J, K and the S-scenarios that pin
//! the composition rules): each row is a loaded record plus an input, and the sparse patch the spec
//! says to write (`None` = no-op).

use super::*;
use crate::decide::hash_evidence;
use crate::domain::{
    ActivitySource as Src, ActivityState as A, DetectingMemory, HookEvent, KillKind, Mergeability,
    PendingComment, ProbeResult as P, RuntimeHandle, RuntimeState as RT, SessionReason as R,
    SessionState as S, Status, derive_status_static,
};
use crate::fixtures::{detecting_lc, lc, mins, secs, stuck_lc, t0};

// ---------------------------------------------------------------- helpers

fn axis(state: S, reason: R) -> SessionAxis {
    SessionAxis::new(state, reason)
}

fn rt(state: RT, reason: RuntimeReason) -> RuntimeAxis {
    RuntimeAxis::new(state, reason)
}

const ALIVE: RuntimeAxis = RuntimeAxis::new(RT::Alive, RuntimeReason::ProcessRunning);
const EXITED: RuntimeAxis = RuntimeAxis::new(RT::Exited, RuntimeReason::TmuxMissing);
const FAILED: RuntimeAxis = RuntimeAxis::new(RT::ProbeFailed, RuntimeReason::ProbeError);

fn working() -> SessionRecord {
    lc(S::Working, R::TaskInProgress, RT::Alive)
}

fn not_started() -> SessionRecord {
    lc(S::NotStarted, R::SpawnRequested, RT::Alive)
}

fn needs_input() -> SessionRecord {
    lc(S::NeedsInput, R::AwaitingUserInput, RT::Alive)
}

fn killed() -> SessionRecord {
    lc(S::Terminated, R::ManuallyKilled, RT::Exited)
}

fn done() -> SessionRecord {
    lc(S::Done, R::Unset, RT::Exited)
}

fn with_activity(mut r: SessionRecord, state: A, at: Timestamp) -> SessionRecord {
    r.lifecycle.activity = activity_axis(state, at, Src::Hook);
    r
}

fn with_pr(mut r: SessionRecord, pr: PrAxis) -> SessionRecord {
    r.lifecycle.pr = pr;
    r
}

fn activity_axis(state: A, at: Timestamp, source: Src) -> ActivityAxis {
    ActivityAxis {
        state: Some(state),
        last_activity_at: Some(at),
        source,
    }
}

/// `probe a/b` of the scenario notation: observed at t0, launch L1.
fn probe(runtime: Option<P>, process: Option<P>) -> RuntimeFacts {
    RuntimeFacts {
        observed_at: Some(t0()),
        launch_id: Some("L1".to_owned()),
        runtime,
        process,
        pane_exit_status: None,
        agent_exit: None,
        server_gone: false,
    }
}

/// `probe a/b` plus the exit the launch script recorded `ago` before t0.
fn exited(runtime: Option<P>, process: Option<P>, code: i32, ago: Duration) -> RuntimeFacts {
    RuntimeFacts {
        agent_exit: Some(AgentExit {
            code,
            at: t0().minus(ago),
        }),
        ..probe(runtime, process)
    }
}

/// The patch of an agent exit with `code`, `ago` before t0, ending in `state`/`reason`.
fn exit_patch(state: S, reason: R, code: i32, ago: Duration, detail: &str) -> LifecyclePatch {
    let at = t0().minus(ago);
    patch()
        .session(state, reason)
        .runtime(rt(RT::Exited, RuntimeReason::ProcessMissing))
        .activity(A::Exited, at, Src::Runtime)
        .meta(&[
            ("exitCode", &code.to_string()),
            ("exitedAt", &at.to_rfc3339()),
            ("terminationDetail", detail),
        ])
}

fn probe_for(launch_id: Option<&str>, runtime: Option<P>, process: Option<P>) -> RuntimeFacts {
    RuntimeFacts {
        launch_id: launch_id.map(str::to_owned),
        ..probe(runtime, process)
    }
}

/// Quarantine memory for `evidence`.
fn memory(attempts: u32, started_at: Timestamp, evidence: &str) -> DetectingMemory {
    DetectingMemory {
        attempts,
        started_at,
        evidence_hash: hash_evidence(evidence),
    }
}

/// A fetched PR `state` #n at `https://example.com/pr/<n>`, head `h1`, no conflicts.
fn scm(state: PrState, number: u64) -> ScmFacts {
    let mut f = ScmFacts::fetched(t0(), state);
    f.pr_number = Some(number);
    f.pr_url = Some(format!("https://example.com/pr/{number}"));
    f.head_sha = "h1".to_owned();
    f.base_sha = "b1".to_owned();
    f.mergeability.no_conflicts = true;
    f
}

/// `scm(state, n)` after `edit`.
fn scm_with(state: PrState, number: u64, edit: fn(&mut ScmFacts)) -> ScmFacts {
    let mut f = scm(state, number);
    edit(&mut f);
    f
}

fn pr(state: PrState, reason: PrReason, number: u64) -> PrAxis {
    PrAxis {
        state,
        reason,
        number: Some(number),
        url: Some(format!("https://example.com/pr/{number}")),
    }
}

fn comment(id: &str, is_bot: bool) -> PendingComment {
    PendingComment {
        thread_id: format!("t-{id}"),
        comment_id: id.to_owned(),
        author: "someone".to_owned(),
        body: "text".to_owned(),
        is_bot,
        url: String::new(),
        path: None,
        line: None,
    }
}

/// A signal of `activity` from `source` at t0 for launch L1.
fn signal(activity: Option<A>, source: Src) -> ActivitySignal {
    ActivitySignal {
        timestamp: Some(t0()),
        launch_id: Some("L1".to_owned()),
        activity,
        ..ActivitySignal::valid(A::Active, source)
    }
}

fn metadata(pairs: &[(&str, &str)]) -> Metadata {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The launch of `lc` (L1, started t0−10m) with `firstSignalAt` stamped at `at`.
fn stamped(at: Timestamp) -> Launch {
    Launch {
        id: "L1".to_owned(),
        started_at: Some(t0().minus(mins(10))),
        first_signal_at: Some(at),
    }
}

/// An empty patch, to be filled with the builder methods below.
fn patch() -> LifecyclePatch {
    LifecyclePatch::default()
}

/// Shorthand for expected patches, so a table row fits on one line.
trait Expect {
    fn session(self, state: S, reason: R) -> Self;
    fn pr(self, pr: PrAxis) -> Self;
    fn runtime(self, runtime: RuntimeAxis) -> Self;
    fn activity(self, state: A, at: Timestamp, source: Src) -> Self;
    fn memory(self, memory: DetectingMemory) -> Self;
    fn clear_memory(self) -> Self;
    fn launch(self, launch: Launch) -> Self;
    fn meta(self, pairs: &[(&str, &str)]) -> Self;
    fn unmeta(self, key: &str) -> Self;
}

impl Expect for LifecyclePatch {
    fn session(mut self, state: S, reason: R) -> Self {
        self.session = Some(axis(state, reason));
        self
    }
    fn pr(mut self, pr: PrAxis) -> Self {
        self.pr = Some(pr);
        self
    }
    fn runtime(mut self, runtime: RuntimeAxis) -> Self {
        self.runtime = Some(runtime);
        self
    }
    fn activity(mut self, state: A, at: Timestamp, source: Src) -> Self {
        self.activity = Some(activity_axis(state, at, source));
        self
    }
    fn memory(mut self, memory: DetectingMemory) -> Self {
        self.detecting = Some(Some(memory));
        self
    }
    fn clear_memory(mut self) -> Self {
        self.detecting = Some(None);
        self
    }
    fn launch(mut self, launch: Launch) -> Self {
        self.launch = Some(launch);
        self
    }
    fn meta(mut self, pairs: &[(&str, &str)]) -> Self {
        self.metadata = metadata(pairs);
        self
    }
    fn unmeta(mut self, key: &str) -> Self {
        self.remove_metadata.insert(key.to_owned());
        self
    }
}

/// Every session state a record can be loaded in, one representative each.
fn every_kind_of_record() -> Vec<(&'static str, SessionRecord)> {
    vec![
        ("not_started", not_started()),
        ("working", working()),
        ("idle", lc(S::Idle, R::Unset, RT::Alive)),
        ("needs_input", needs_input()),
        (
            "stuck (idleBeyond)",
            lc(S::Stuck, R::AwaitingUserInput, RT::Alive),
        ),
        ("liveness-stuck", stuck_lc(R::ProbeFailure)),
        ("detecting", detecting_lc()),
        ("terminated", killed()),
        ("done", done()),
    ]
}

// ---------------------------------------------------------------- recentActivity

#[test]
fn recent_activity_table() {
    let ago = |state, d| with_activity(working(), state, t0().minus(d));
    let state_only = |state| {
        let mut r = working();
        r.lifecycle.activity.state = Some(state);
        r
    };
    let ms = std::time::Duration::from_millis;
    #[rustfmt::skip]
    let cases = [
        ("G10 sticky waiting_input an hour ago", ago(A::WaitingInput, mins(60)), true),
        ("sticky blocked an hour ago", ago(A::Blocked, mins(60)), true),
        ("a sticky state without a time", state_only(A::Blocked), true),
        ("G10 active exactly 60s ago (inclusive)", ago(A::Active, secs(60)), true),
        ("active 60.001s ago", ago(A::Active, ms(60_001)), false),
        ("G10 active 61s ago", ago(A::Active, secs(61)), false),
        ("idle just now", ago(A::Idle, secs(0)), true),
        ("ready 30s ago", ago(A::Ready, secs(30)), true),
        ("G10 a reported exit is never recent", ago(A::Exited, secs(0)), false),
        ("a state without a time", state_only(A::Active), false),
        ("no activity at all", working(), false),
    ];
    for (name, record, want) in cases {
        assert_eq!(recent_activity(&record, t0()), want, "{name}");
    }
}

// ---------------------------------------------------------------- ApplyRuntimeObservation

#[test]
fn runtime_observation_scenarios() {
    type Row = (
        &'static str,
        SessionRecord,
        RuntimeFacts,
        Option<LifecyclePatch>,
    );
    let (alive, dead, failed, indet) = (
        Some(P::Alive),
        Some(P::Dead),
        Some(P::Failed),
        Some(P::Indeterminate),
    );
    let g10 = |state, d| with_activity(working(), state, t0().minus(d));
    // An episode of an unchanged ambiguous observation, started 2s ago.
    let exit_unclear = "runtime_lost runtime=exited process=indeterminate recentActivity=false";
    let episode = |attempts| {
        let mut r = lc(S::Detecting, R::RuntimeLost, RT::Exited);
        r.lifecycle.detecting = Some(memory(attempts, t0().minus(secs(2)), exit_unclear));
        r
    };
    let unlaunched = || {
        let mut r = not_started();
        r.launch.started_at = None;
        r
    };
    let no_launch = || {
        let mut r = working();
        r.launch.id = String::new();
        r
    };
    let g3 =
        "probe_failed runtime=probe_failed runtimeFailed=true process=alive processFailed=false";
    let s10 = "probe_failed runtime=probe_failed runtimeFailed=true process=indeterminate processFailed=true";
    let recent_exit = "disagree runtime=exited process=dead recentActivity=true";
    let death = || {
        Some(
            patch()
                .session(S::Terminated, R::RuntimeLost)
                .runtime(EXITED),
        )
    };
    #[rustfmt::skip]
    let cases: Vec<Row> = vec![
        ("G1 a healthy probe never overwrites needs_input", needs_input(), probe(alive, alive), None),
        ("G2 a healthy probe recovers detecting", detecting_lc(), probe(alive, alive),
            Some(patch().session(S::Working, R::TaskInProgress).runtime(ALIVE).clear_memory())),
        ("G3 a failed probe quarantines", working(), probe(failed, alive),
            Some(patch().session(S::Detecting, R::ProbeFailure).runtime(FAILED).memory(memory(1, t0(), g3)))),
        ("G4 dead/dead on detecting infers death", detecting_lc(), probe(dead, dead), death().map(|p| p.clear_memory())),
        ("G6 terminal: runtime axis only", killed(), probe(failed, failed), Some(patch().runtime(FAILED))),
        ("G9 an older launch generation", working(), probe_for(Some("L0"), dead, dead), None),
        ("a probe without launch id is current", working(), probe_for(None, dead, dead), death()),
        ("a record without launch id takes any generation", no_launch(), probe_for(Some("L0"), dead, dead), death()),
        ("G10 sticky activity keeps a vanished runtime ambiguous", g10(A::WaitingInput, mins(60)), probe(dead, dead),
            Some(patch().session(S::Detecting, R::RuntimeLost).runtime(EXITED).memory(memory(1, t0(), recent_exit)))),
        ("G10 activity 60s ago is recent (inclusive)", g10(A::Active, secs(60)), probe(dead, dead),
            Some(patch().session(S::Detecting, R::RuntimeLost).runtime(EXITED).memory(memory(1, t0(), recent_exit)))),
        ("G10 activity 61s ago is not", g10(A::Active, secs(61)), probe(dead, dead), death()),
        ("G10 a reported exit is not recent activity", g10(A::Exited, secs(0)), probe(dead, dead), death()),
        ("a launched agent seen running is working, acknowledged by the probe", not_started(), probe(alive, alive),
            Some(patch().session(S::Working, R::AgentAcknowledged))),
        ("a spawn that has not completed stays spawning", unlaunched(), probe(alive, alive), None),
        ("an undetermined process does not end spawning", not_started(), probe(alive, indet), None),
        ("a repeated ambiguous probe updates only the memory", episode(1), probe(dead, indet),
            Some(patch().memory(memory(2, t0().minus(secs(2)), exit_unclear)))),
        ("the third identical report escalates and drops the memory", episode(2), probe(dead, indet),
            Some(patch().session(S::Stuck, R::RuntimeLost).clear_memory())),
        ("S1 liveness-stuck + failed probe: runtime only, no memory", stuck_lc(R::ProbeFailure), probe(failed, failed),
            Some(patch().runtime(FAILED))),
        ("S3 liveness-stuck + other ambiguous evidence: runtime only", stuck_lc(R::ProbeFailure), probe(dead, indet),
            Some(patch().runtime(EXITED))),
        ("S4 liveness-stuck + healthy probe recovers", stuck_lc(R::ProbeFailure), probe(alive, alive),
            Some(patch().session(S::Working, R::TaskInProgress))),
        ("S6 liveness-stuck + inferred death", with_activity(stuck_lc(R::RuntimeLost), A::Active, t0().minus(mins(5))),
            probe(dead, dead), death()),
        ("an exit with code 0 is done", working(), exited(alive, dead, 0, secs(2)),
            Some(exit_patch(S::Done, R::AgentExited, 0, secs(2), "the agent exited with code 0"))),
        ("an exit with another code is errored", working(), exited(alive, dead, 1, secs(0)),
            Some(exit_patch(S::Terminated, R::ErrorInProcess, 1, secs(0), "the agent exited with code 1"))),
        ("an exit while spawning ends the spawn", not_started(), exited(alive, dead, 127, secs(0)),
            Some(exit_patch(S::Terminated, R::ErrorInProcess, 127, secs(0), "the agent exited with code 127"))),
        ("an exit ends a quarantine and drops its memory", detecting_lc(), exited(alive, dead, 0, secs(1)),
            Some(exit_patch(S::Done, R::AgentExited, 0, secs(1), "the agent exited with code 0").clear_memory())),
        ("an exit ends liveness-stuck", stuck_lc(R::AgentProcessExited), exited(alive, dead, 0, secs(1)),
            Some(exit_patch(S::Done, R::AgentExited, 0, secs(1), "the agent exited with code 0"))),
        ("an exit overrides a pending permission decision", with_activity(needs_input(), A::Blocked, t0()),
            exited(alive, dead, 0, secs(0)), Some(exit_patch(S::Done, R::AgentExited, 0, secs(0), "the agent exited with code 0"))),
        ("an exit counts even after the pane is gone", working(), exited(dead, dead, 2, secs(9)),
            Some(exit_patch(S::Terminated, R::ErrorInProcess, 2, secs(9), "the agent exited with code 2"))),
        ("an exit beats a failed probe: it is the agent's own account", working(), exited(failed, failed, 0, secs(0)),
            Some(exit_patch(S::Done, R::AgentExited, 0, secs(0), "the agent exited with code 0"))),
        ("a signal's exit status names the signal", working(), exited(alive, dead, 137, secs(0)),
            Some(exit_patch(S::Terminated, R::ErrorInProcess, 137, secs(0), "the agent was ended by signal 9 (exit code 137)"))),
        ("an exit of an older launch is ignored", working(),
            RuntimeFacts { launch_id: Some("L0".into()), ..exited(alive, dead, 0, secs(0)) }, None),
        ("a terminal session keeps its end; the runtime axis follows the pane", killed(), exited(alive, dead, 0, secs(0)),
            Some(patch().runtime(ALIVE))),
        ("S10 the quarantine overrides a pending permission decision", with_activity(needs_input(), A::Blocked, t0()),
            probe(failed, failed), Some(patch().session(S::Detecting, R::ProbeFailure).runtime(FAILED).memory(memory(1, t0(), s10)))),
    ];
    for (name, cur, facts, want) in cases {
        assert_eq!(plan_runtime_observation(&cur, &facts, t0()), want, "{name}");
    }
}

/// Probe results as the decider sees them, read back from the evidence (hashed into the memory) or
/// the verdict. `detectingLC` is liveness-owned, so every verdict is written.
#[test]
fn runtime_probe_translation_table() {
    let (alive, dead, failed, indet) = (
        Some(P::Alive),
        Some(P::Dead),
        Some(P::Failed),
        Some(P::Indeterminate),
    );
    let working = Err(axis(S::Working, R::TaskInProgress));
    // (runtime probe, process probe, Ok(quarantine evidence) or Err(session written))
    type Row = (Option<P>, Option<P>, Result<&'static str, SessionAxis>);
    #[rustfmt::skip]
    let cases: [Row; 13] = [
        (alive, alive, working),
        (alive, indet, working),
        (alive, None, working),
        (alive, dead, Ok("disagree runtime=alive process=dead recentActivity=false")),
        (alive, failed, Ok("probe_failed runtime=alive runtimeFailed=false process=indeterminate processFailed=true")),
        (dead, alive, Ok("disagree runtime=exited process=alive recentActivity=false")),
        (dead, dead, Err(axis(S::Terminated, R::RuntimeLost))),
        (dead, indet, Ok("runtime_lost runtime=exited process=indeterminate recentActivity=false")),
        (dead, None, Ok("runtime_lost runtime=exited process=indeterminate recentActivity=false")),
        (failed, dead, Ok("probe_failed runtime=probe_failed runtimeFailed=true process=dead processFailed=false")),
        (indet, dead, Ok("runtime_unknown runtime=unknown process=dead recentActivity=false")),
        (None, alive, Ok("runtime_unknown runtime=unknown process=alive recentActivity=false")),
        (None, None, Ok("runtime_unknown runtime=unknown process=indeterminate recentActivity=false")),
    ];
    let cur = detecting_lc();
    for (runtime, process, want) in cases {
        let name = format!("{runtime:?}/{process:?}");
        let after = plan_runtime_observation(&cur, &probe(runtime, process), t0())
            .expect("the verdict changes the record")
            .applied(&cur);
        match want {
            Ok(evidence) => {
                let mem = after.lifecycle.detecting.expect("quarantined");
                assert_eq!(
                    mem.evidence_hash,
                    hash_evidence(evidence),
                    "{name}: {evidence}"
                );
                assert_eq!(mem.started_at, t0(), "{name}: the episode start is kept");
            }
            Err(session) => {
                assert_eq!(after.lifecycle.session, session, "{name}");
                assert_eq!(after.lifecycle.detecting, None, "{name}");
            }
        }
    }
}

/// The runtime axis each probe result is written as, whenever it differs.
#[test]
fn runtime_axis_table() {
    let cases = [
        (Some(P::Alive), ALIVE),
        (Some(P::Dead), EXITED),
        (Some(P::Failed), FAILED),
        (
            Some(P::Indeterminate),
            rt(RT::Unknown, RuntimeReason::Unset),
        ),
        (None, rt(RT::Unknown, RuntimeReason::Unset)),
    ];
    // A terminal record holding a reserved runtime value, so every result differs from it.
    let mut cur = killed();
    cur.lifecycle.runtime = rt(RT::Missing, RuntimeReason::ProcessMissing);
    for (result, want) in cases {
        let facts = probe(result, Some(P::Alive));
        let got = plan_runtime_observation(&cur, &facts, t0());
        assert_eq!(got, Some(patch().runtime(want)), "{result:?}");
        let mut same = cur.clone();
        same.lifecycle.runtime = want;
        assert_eq!(
            plan_runtime_observation(&same, &facts, t0()),
            None,
            "{result:?} again"
        );
    }
}

/// `shouldWriteSessionRuntime` over every kind of loaded record and the three kinds of verdict: the
/// session axis the probe writes (`None` = untouched).
#[test]
fn should_write_session_runtime_matrix() {
    let healthy = probe(Some(P::Alive), Some(P::Alive));
    let quarantine = probe(Some(P::Failed), Some(P::Failed));
    let death = probe(Some(P::Dead), Some(P::Dead));
    let recovered = Some(axis(S::Working, R::TaskInProgress));
    let acknowledged = Some(axis(S::Working, R::AgentAcknowledged));
    let detecting = Some(axis(S::Detecting, R::ProbeFailure));
    let dead = Some(axis(S::Terminated, R::RuntimeLost));
    // (record, after a healthy probe, after a failed probe, after dead/dead)
    #[rustfmt::skip]
    let want = [
        ("not_started", acknowledged, detecting, dead), // launched and running: working
        ("working", None, detecting, dead),
        ("idle", None, detecting, dead),                // activity-owned
        ("needs_input", None, detecting, dead),         // activity-owned
        ("stuck (idleBeyond)", None, detecting, dead),  // not a liveness reason
        ("liveness-stuck", recovered, None, dead),      // never re-enters detecting
        ("detecting", recovered, detecting, dead),
        ("terminated", None, None, None),
        ("done", None, None, None),
    ];
    let records = every_kind_of_record();
    assert_eq!(records.len(), want.len());
    for ((name, cur), (row, on_healthy, on_failed, on_dead)) in records.into_iter().zip(want) {
        assert_eq!(name, row);
        for (verdict, facts, expected) in [
            ("healthy", &healthy, on_healthy),
            ("failed", &quarantine, on_failed),
            ("dead", &death, on_dead),
        ] {
            let planned = plan_runtime_observation(&cur, facts, t0());
            let session = planned.as_ref().and_then(|p| p.session);
            assert_eq!(session, expected, "{name} + {verdict} probe");
        }
    }
}

/// The predicate itself, over every verdict kind (including ones the probe table never
/// produces) and every kind of record: (verdict, records it may write over).
#[test]
fn should_write_session_runtime_predicate() {
    let verdict = |session: Option<SessionAxis>| Decision {
        status: Status::Working,
        evidence: String::new(),
        detecting: None,
        session,
        pr_state: None,
        pr_reason: None,
    };
    let non_terminal = [
        "not_started",
        "working",
        "idle",
        "needs_input",
        "stuck (idleBeyond)",
        "liveness-stuck",
        "detecting",
    ];
    #[rustfmt::skip]
    let cases: [(&str, Decision, Vec<&str>); 6] = [
        ("healthy → only liveness-owned", verdict(Some(axis(S::Working, R::TaskInProgress))), vec!["liveness-stuck", "detecting"]),
        ("detecting → all but liveness-stuck", verdict(Some(axis(S::Detecting, R::ProbeFailure))),
            vec!["not_started", "working", "idle", "needs_input", "stuck (idleBeyond)", "detecting"]),
        ("stuck → all but liveness-stuck", verdict(Some(axis(S::Stuck, R::ProbeFailure))),
            vec!["not_started", "working", "idle", "needs_input", "stuck (idleBeyond)", "detecting"]),
        ("terminated → every non-terminal record", verdict(Some(axis(S::Terminated, R::RuntimeLost))), non_terminal.to_vec()),
        ("not a probe verdict → never", verdict(Some(axis(S::Idle, R::Unset))), vec![]),
        ("no session axis → never", verdict(None), vec![]),
    ];
    for (name, decision, writable) in cases {
        for (record, cur) in every_kind_of_record() {
            let want = writable.contains(&record);
            assert_eq!(
                should_write_session_runtime(&decision, &cur),
                want,
                "{name}: over {record}"
            );
        }
    }
}

// ---------------------------------------------------------------- ApplySCMObservation

/// The ladder input built from SCM facts.
#[test]
fn open_pr_input_table() {
    type Row = (&'static str, fn(&mut ScmFacts), fn(&mut OpenPrInput));
    let nothing: fn(&mut OpenPrInput) = |_| {};
    // mergeConflicts = !mergeable && !noConflicts && (ciPassing || approved || blockers)
    #[rustfmt::skip]
    let cases: Vec<Row> = vec![
        ("nothing", |_| {}, nothing),
        ("draft state", |f| f.pr_state = PrState::Draft, |i| i.draft = true),
        ("draft flag on an open PR", |f| f.draft = true, |i| i.draft = true),
        ("CI failing", |f| f.ci_summary = CiSummary::Failing, |i| i.ci_failing = true),
        ("CI pending is not failing", |f| f.ci_summary = CiSummary::Pending, nothing),
        ("review changes_requested", |f| f.review_decision = ReviewDecision::ChangesRequested, |i| i.changes_requested = true),
        ("a pending human comment", |f| f.pending_comments = vec![comment("h1", false)], |i| i.changes_requested = true),
        ("a pending bot comment", |f| f.pending_comments = vec![comment("b1", true)], |i| i.bot_comments = true),
        ("both kinds of comment", |f| f.pending_comments = vec![comment("b1", true), comment("h1", false)],
            |i| { i.bot_comments = true; i.changes_requested = true; }),
        ("review approved", |f| f.review_decision = ReviewDecision::Approved, |i| i.approved = true),
        ("review pending", |f| f.review_decision = ReviewDecision::Pending, |i| i.review_pending = true),
        ("mergeable", |f| f.mergeability.mergeable = true, |i| i.mergeable = true),
        ("conflicts: CI passing", |f| { f.mergeability.no_conflicts = false; f.mergeability.ci_passing = true; },
            |i| i.merge_conflicts = true),
        ("conflicts: approved", |f| { f.mergeability.no_conflicts = false; f.mergeability.approved = true; },
            |i| i.merge_conflicts = true),
        ("conflicts: blockers (J8)", |f| { f.mergeability.no_conflicts = false; f.mergeability.blockers = vec!["x".into()]; },
            |i| i.merge_conflicts = true),
        ("no evidence beyond !noConflicts: mergeability still unknown", |f| f.mergeability.no_conflicts = false, nothing),
        ("a mergeable PR is never conflicted",
            |f| { f.mergeability.no_conflicts = false; f.mergeability.ci_passing = true; f.mergeability.mergeable = true; },
            |i| i.mergeable = true),
        ("noConflicts is never conflicted", |f| { f.mergeability.ci_passing = true; f.mergeability.blockers = vec!["x".into()]; },
            nothing),
    ];
    for (name, edit, expect) in cases {
        let facts = scm_with(PrState::Open, 12, edit);
        let mut want = OpenPrInput {
            number: Some(12),
            url: Some("https://example.com/pr/12".into()),
            ..OpenPrInput::default()
        };
        expect(&mut want);
        // `idleBeyond` stays false: the LCM has no idle clock.
        assert_eq!(open_pr_input(&facts), want, "{name}");
    }
}

#[test]
fn scm_observation_scenarios() {
    use PrReason as PR;
    use PrState as PS;
    type Row = (
        &'static str,
        SessionRecord,
        ScmFacts,
        Option<LifecyclePatch>,
    );
    let pr_only = |axis: PrAxis| Some(patch().pr(axis));
    let conflicts = Mergeability {
        mergeable: false,
        ci_passing: true,
        approved: true,
        no_conflicts: false,
        blockers: vec!["merge conflicts".into()],
    };
    let j8_conflicts = ScmFacts {
        mergeability: conflicts,
        ..scm(PS::Open, 12)
    };
    let parked_merged = || {
        with_pr(
            lc(S::Idle, R::MergedWaitingDecision, RT::Alive),
            pr(PS::Merged, PR::Merged, 7),
        )
    };
    #[rustfmt::skip]
    let cases: Vec<Row> = vec![
        ("J1 a failed query", working(), scm_with(PS::Open, 12, |f| f.fetched = false), None),
        ("J2 open + CI failing", working(), scm_with(PS::Open, 12, |f| f.ci_summary = CiSummary::Failing),
            pr_only(pr(PS::Open, PR::CiFailing, 12))),
        ("J3 draft + CI failing", working(), scm_with(PS::Draft, 12, |f| f.ci_summary = CiSummary::Failing),
            pr_only(pr(PS::Draft, PR::CiFailing, 12))),
        ("J4 open with the draft flag", working(), scm_with(PS::Open, 12, |f| f.draft = true),
            pr_only(pr(PS::Draft, PR::InProgress, 12))),
        ("J6 a draft ignores approval and mergeability", working(),
            scm_with(PS::Draft, 12, |f| { f.review_decision = ReviewDecision::Approved; f.mergeability.mergeable = true; }),
            pr_only(pr(PS::Draft, PR::InProgress, 12))),
        ("J8 changes requested", working(), scm_with(PS::Open, 12, |f| f.review_decision = ReviewDecision::ChangesRequested),
            pr_only(pr(PS::Open, PR::ChangesRequested, 12))),
        ("J8 a pending human comment", working(), scm_with(PS::Open, 12, |f| f.pending_comments = vec![comment("h1", false)]),
            pr_only(pr(PS::Open, PR::ChangesRequested, 12))),
        ("J8 a pending bot comment", working(), scm_with(PS::Open, 12, |f| f.pending_comments = vec![comment("b1", true)]),
            pr_only(pr(PS::Open, PR::BotComments, 12))),
        ("J8 conflicts", working(), j8_conflicts, pr_only(pr(PS::Open, PR::MergeConflicts, 12))),
        ("J8 approved + mergeable", working(),
            scm_with(PS::Open, 12, |f| { f.review_decision = ReviewDecision::Approved; f.mergeability.mergeable = true; }),
            pr_only(pr(PS::Open, PR::MergeReady, 12))),
        ("J8 review pending", working(), scm_with(PS::Open, 12, |f| f.review_decision = ReviewDecision::Pending),
            pr_only(pr(PS::Open, PR::ReviewPending, 12))),
        ("an open PR never touches the session, not even needs_input", needs_input(), scm(PS::Open, 12),
            pr_only(pr(PS::Open, PR::InProgress, 12))),
        ("an unchanged PR is a no-op", with_pr(working(), pr(PS::Open, PR::CiFailing, 12)),
            scm_with(PS::Open, 12, |f| f.ci_summary = CiSummary::Failing), None),
        ("number 0 and an empty URL are omitted", working(), scm_with(PS::Open, 0, |f| f.pr_url = Some(String::new())),
            pr_only(PrAxis::bare(PS::Open, PR::InProgress))),
        ("J7 merged", with_pr(working(), pr(PS::Open, PR::InProgress, 12)), scm(PS::Merged, 12),
            Some(patch().pr(pr(PS::Merged, PR::Merged, 12)).session(S::Idle, R::MergedWaitingDecision))),
        ("J9 PR state none", working(), scm(PS::None, 12), None),
        ("PR state unset", working(), scm(PS::Unset, 12), None),
        ("J10 closed over needs_input", needs_input(), scm(PS::Closed, 7),
            Some(patch().pr(pr(PS::Closed, PR::ClosedUnmerged, 7)).session(S::Idle, R::AwaitingUserInput))),
        ("J11 merged over detecting clears the memory", detecting_lc(), scm(PS::Merged, 7),
            Some(patch().pr(pr(PS::Merged, PR::Merged, 7)).session(S::Idle, R::MergedWaitingDecision).clear_memory())),
        ("S9 merged while liveness-stuck: PR axis only", stuck_lc(R::ProbeFailure), scm(PS::Merged, 7),
            pr_only(pr(PS::Merged, PR::Merged, 7))),
        ("merged on a terminal record: PR axis only", killed(), scm(PS::Merged, 7), pr_only(pr(PS::Merged, PR::Merged, 7))),
        ("merged again: nothing left to write", parked_merged(), scm(PS::Merged, 7), None),
        ("closed with the session already parked: PR axis only", lc(S::Idle, R::AwaitingUserInput, RT::Alive),
            scm(PS::Closed, 7), pr_only(pr(PS::Closed, PR::ClosedUnmerged, 7))),
    ];
    for (name, cur, facts, want) in cases {
        assert_eq!(plan_scm_observation(&cur, &facts), want, "{name}");
    }
}

// ---------------------------------------------------------------- ApplyActivitySignal

#[test]
fn session_for_activity_table() {
    let cases = [
        (A::Active, Some(axis(S::Working, R::TaskInProgress))),
        (A::Ready, Some(axis(S::Idle, R::ResearchComplete))),
        (A::Idle, Some(axis(S::Idle, R::Unset))),
        (
            A::WaitingInput,
            Some(axis(S::NeedsInput, R::AwaitingUserInput)),
        ),
        (A::Blocked, Some(axis(S::NeedsInput, R::AwaitingUserInput))),
        (A::Exited, None),
    ];
    assert_eq!(cases.len(), A::ALL.len());
    for (activity, want) in cases {
        assert_eq!(session_for_activity(activity), want, "{activity}");
    }
}

#[test]
fn activity_signal_scenarios() {
    use SignalConfidence as C;
    type Row = (
        &'static str,
        SessionRecord,
        ActivitySignal,
        bool,
        Result<Option<LifecyclePatch>, SignalSkip>,
    );
    let now = t0().plus(secs(1));
    let hook = |activity| signal(activity, Src::Hook);
    let term = |activity| signal(activity, Src::Terminal);
    let with = |s: ActivitySignal, edit: fn(&mut ActivitySignal)| {
        let mut s = s;
        edit(&mut s);
        s
    };
    // A record that already heard from its hooks (conversation conv-1) and shows `activity`.
    let heard = |state, activity| {
        let mut r = with_activity(lc(state, R::TaskInProgress, RT::Alive), activity, t0());
        r.launch.first_signal_at = Some(t0().minus(mins(9)));
        r.metadata = metadata(&[("agentSessionId", "conv-1")]);
        r
    };
    let unstamped = || {
        let mut r = heard(S::Working, A::Active);
        r.launch.first_signal_at = None;
        r
    };
    let heard_by_terminal = || {
        let mut r = unstamped();
        r.lifecycle.activity.source = Src::Terminal;
        r
    };
    let reopened = || {
        let mut r = working();
        r.launch = Launch {
            id: "L2".into(),
            started_at: None,
            first_signal_at: None,
        };
        r
    };
    let metadata_only = ActivitySignal {
        confidence: C::Null,
        agent_session_id: Some("conv-9".into()),
        hook_event: Some(HookEvent::SessionStart),
        ..hook(None)
    };
    let act = |state, source| patch().activity(state, t0(), source);
    let t5 = t0().plus(secs(5));
    // A record whose last turn an API error ended.
    let failed = |state, activity, error: &str| {
        let mut r = heard(state, activity);
        r.metadata
            .insert(meta::LAST_TURN_ERROR.to_owned(), error.to_owned());
        r
    };
    fn stop_failure(s: &mut ActivitySignal, kind: &str, message: &str) {
        s.hook_event = Some(HookEvent::StopFailure);
        s.turn_error = Some(TurnError::new(kind, message));
    }
    let rate_limited = with(hook(Some(A::Idle)), |s| {
        stop_failure(s, "rate_limit", "API Error: Request rejected (429)")
    });
    let overloaded = with(hook(Some(A::Idle)), |s| {
        stop_failure(s, "server_error", "API Error: 529 Overloaded")
    });
    const RATE_LIMITED: &str = "rate_limit: API Error: Request rejected (429)";
    let error_meta = |value| [(meta::LAST_TURN_ERROR, value)];
    #[rustfmt::skip]
    let cases: Vec<Row> = vec![
        ("H1 waiting_input (the first hook stamps the launch)", working(), hook(Some(A::WaitingInput)), true,
            Ok(Some(act(A::WaitingInput, Src::Hook).session(S::NeedsInput, R::AwaitingUserInput).launch(stamped(now))))),
        ("H2 needs_input + active", needs_input(), term(Some(A::Active)), true,
            Ok(Some(act(A::Active, Src::Terminal).session(S::Working, R::TaskInProgress)))),
        ("H3 idle, empty reason", working(), term(Some(A::Idle)), true,
            Ok(Some(act(A::Idle, Src::Terminal).session(S::Idle, R::Unset)))),
        ("H4 confidence probe_failure", working(), with(term(Some(A::Idle)), |s| s.confidence = C::ProbeFailure), true, Ok(None)),
        ("confidence stale", working(), with(term(Some(A::Idle)), |s| s.confidence = C::Stale), true, Ok(None)),
        ("H5 detecting + active clears the memory", detecting_lc(), term(Some(A::Active)), true,
            Ok(Some(act(A::Active, Src::Terminal).session(S::Working, R::TaskInProgress).clear_memory()))),
        ("H7 ready", working(), term(Some(A::Ready)), true,
            Ok(Some(act(A::Ready, Src::Terminal).session(S::Idle, R::ResearchComplete)))),
        ("H7 blocked keeps `blocked` on the activity axis", working(), term(Some(A::Blocked)), true,
            Ok(Some(act(A::Blocked, Src::Terminal).session(S::NeedsInput, R::AwaitingUserInput)))),
        ("H7 exited: activity only", working(), term(Some(A::Exited)), true, Ok(Some(act(A::Exited, Src::Terminal)))),
        ("exited on detecting: the memory stays", detecting_lc(), term(Some(A::Exited)), true, Ok(Some(act(A::Exited, Src::Terminal)))),
        ("H8 a null hook without activity or agent id", working(), with(hook(None), |s| s.confidence = C::Null), true, Ok(None)),
        ("H9 a metadata-only hook", not_started(), metadata_only, true,
            Ok(Some(patch().launch(stamped(now)).meta(&[("agentSessionId", "conv-9")])))),
        ("H10 same state, new agent id", heard(S::Working, A::Active),
            with(hook(Some(A::Active)), |s| s.agent_session_id = Some("conv-2".into())), true,
            Ok(Some(patch().meta(&[("agentSessionId", "conv-2")])))),
        ("H10 a blank id never overwrites", heard(S::Working, A::Active),
            with(hook(Some(A::Active)), |s| s.agent_session_id = Some("  ".into())), true, Ok(None)),
        ("the same agent id is not rewritten", heard(S::Working, A::Active),
            with(hook(Some(A::Active)), |s| s.agent_session_id = Some("conv-1".into())), true, Ok(None)),
        ("bookkeeping is for hooks only", heard_by_terminal(),
            with(term(Some(A::Active)), |s| s.agent_session_id = Some("conv-2".into())), true, Ok(None)),
        ("H11 an older launch generation", working(), with(term(Some(A::Idle)), |s| s.launch_id = Some("L0".into())), true,
            Err(SignalSkip::StaleLaunch)),
        ("H12 the reopened generation is current", reopened(), with(term(Some(A::Idle)), |s| s.launch_id = Some("L2".into())), true,
            Ok(Some(act(A::Idle, Src::Terminal).session(S::Idle, R::Unset)))),
        ("a signal without launch id is current", working(), with(term(Some(A::Exited)), |s| s.launch_id = None), true,
            Ok(Some(act(A::Exited, Src::Terminal)))),
        ("H13 the revision moved", working(), with(term(Some(A::Idle)), |s| s.only_if_revision = Some(0)), true,
            Err(SignalSkip::RevisionMoved)),
        ("H13 the revision is still current", working(), with(term(Some(A::Exited)), |s| s.only_if_revision = Some(1)), true,
            Ok(Some(act(A::Exited, Src::Terminal)))),
        ("H15 the first hook stamps even when the activity is unchanged", unstamped(), hook(Some(A::Active)), true,
            Ok(Some(patch().launch(stamped(now))))),
        ("H15 later hooks never move the stamp; a new timestamp alone is a change (K9)", heard(S::Working, A::Active),
            with(hook(Some(A::Active)), |s| s.timestamp = Some(t0().plus(secs(5)))), true,
            Ok(Some(patch().activity(A::Active, t5, Src::Hook)))),
        ("no timestamp: the receipt time", working(), with(term(Some(A::Exited)), |s| s.timestamp = None), true,
            Ok(Some(patch().activity(A::Exited, now, Src::Terminal)))),
        ("H16 terminal: activity axis only", killed(), term(Some(A::Active)), true, Ok(Some(act(A::Active, Src::Terminal)))),
        ("done: activity axis only", done(), term(Some(A::Idle)), true, Ok(Some(act(A::Idle, Src::Terminal)))),
        ("S5 a valid signal ends liveness-stuck", stuck_lc(R::AgentProcessExited), term(Some(A::Active)), true,
            Ok(Some(act(A::Active, Src::Terminal).session(S::Working, R::TaskInProgress)))),
        ("the first valid signal ends not_started", not_started(), term(Some(A::Active)), true,
            Ok(Some(act(A::Active, Src::Terminal).session(S::Working, R::TaskInProgress)))),
        ("I10 suppressed by the gate: bookkeeping only", working(),
            with(hook(Some(A::Active)), |s| s.agent_session_id = Some("conv-3".into())), false,
            Ok(Some(patch().launch(stamped(now)).meta(&[("agentSessionId", "conv-3")])))),
        ("suppressed with nothing to book", heard(S::NeedsInput, A::Blocked), hook(Some(A::Active)), false, Ok(None)),
        ("valid but without an activity", heard(S::Working, A::Active), hook(None), true, Ok(None)),
        ("a stop failure: idle, the error kept as evidence", heard(S::Working, A::Active), rate_limited.clone(), true,
            Ok(Some(act(A::Idle, Src::Hook).session(S::Idle, R::Unset).meta(&error_meta(RATE_LIMITED))))),
        ("a stop failure ends a blocked turn too", heard(S::NeedsInput, A::Blocked), rate_limited.clone(), true,
            Ok(Some(act(A::Idle, Src::Hook).session(S::Idle, R::Unset).meta(&error_meta(RATE_LIMITED))))),
        ("a newer failure supersedes the older one", failed(S::Working, A::Active, RATE_LIMITED), overloaded, true,
            Ok(Some(act(A::Idle, Src::Hook).session(S::Idle, R::Unset)
                .meta(&error_meta("server_error: API Error: 529 Overloaded"))))),
        ("the same failure again rewrites nothing", failed(S::Working, A::Active, RATE_LIMITED), rate_limited.clone(), true,
            Ok(Some(act(A::Idle, Src::Hook).session(S::Idle, R::Unset)))),
        ("a later idle notification keeps the evidence", failed(S::Idle, A::Idle, RATE_LIMITED),
            with(hook(Some(A::Idle)), |s| s.hook_event = Some(HookEvent::Notification)), true,
            Ok(Some(patch().session(S::Idle, R::Unset)))),
        ("the next turn removes the evidence", failed(S::Idle, A::Idle, RATE_LIMITED),
            with(hook(Some(A::Active)), |s| s.hook_event = Some(HookEvent::UserPromptSubmit)), true,
            Ok(Some(act(A::Active, Src::Hook).session(S::Working, R::TaskInProgress).unmeta(meta::LAST_TURN_ERROR)))),
        ("a turn seen starting by the terminal removes it too", failed(S::Idle, A::Idle, RATE_LIMITED), term(Some(A::Active)), true,
            Ok(Some(act(A::Active, Src::Terminal).session(S::Working, R::TaskInProgress).unmeta(meta::LAST_TURN_ERROR)))),
        ("a suppressed active keeps it", failed(S::NeedsInput, A::Blocked, RATE_LIMITED), hook(Some(A::Active)), false, Ok(None)),
        ("nothing to remove without evidence", heard(S::Idle, A::Idle), hook(Some(A::Active)), true,
            Ok(Some(act(A::Active, Src::Hook).session(S::Working, R::TaskInProgress)))),
    ];
    for (name, cur, signal, gate_allows, want) in cases {
        assert_eq!(
            plan_activity_signal(&cur, &signal, gate_allows, now),
            want,
            "{name}"
        );
    }
}

// ---------------------------------------------------------------- composition (who writes what)

/// Who writes what: over every kind of record and a spread of inputs, each entry point touches only
/// its own axes, never resurrects a terminal record, never moves a liveness-stuck session back to
/// detecting, and keeps memory only while the session is detecting.
#[test]
fn composition_rules() {
    let probes = [
        None,
        Some(P::Alive),
        Some(P::Dead),
        Some(P::Indeterminate),
        Some(P::Failed),
    ];
    let pr_states = [
        PrState::Open,
        PrState::Draft,
        PrState::Merged,
        PrState::Closed,
        PrState::None,
    ];
    let scm_facts: Vec<ScmFacts> = pr_states
        .into_iter()
        .flat_map(|state| {
            let failing = ScmFacts {
                ci_summary: CiSummary::Failing,
                ..scm(state, 7)
            };
            [scm(state, 7), failing]
        })
        .collect();
    let memory_only_while_detecting = |name: &str, cur: &SessionRecord, p: &LifecyclePatch| {
        let after = p.applied(cur);
        let detecting = after.lifecycle.session.state == S::Detecting;
        assert_eq!(
            after.lifecycle.detecting.is_some(),
            detecting,
            "{name}: memory"
        );
    };
    for (name, cur) in every_kind_of_record() {
        let terminal = cur.is_terminal();
        for (runtime, process) in probes.iter().flat_map(|r| probes.map(|p| (*r, p))) {
            let name = format!("{name} + probe {runtime:?}/{process:?}");
            let Some(p) = plan_runtime_observation(&cur, &probe(runtime, process), t0()) else {
                continue;
            };
            assert!(
                p.pr.is_none() && p.activity.is_none() && p.launch.is_none(),
                "{name}"
            );
            assert!(
                p.metadata.is_empty() && p.replace_metadata.is_none(),
                "{name}"
            );
            if terminal {
                assert!(
                    p.session.is_none() && p.detecting.is_none(),
                    "{name}: terminal"
                );
            }
            if cur.is_liveness_stuck() {
                let state = p.session.map(|s| s.state);
                assert_ne!(
                    state,
                    Some(S::Detecting),
                    "{name}: liveness-stuck stays stuck"
                );
                assert!(
                    p.detecting.is_none(),
                    "{name}: liveness-stuck has no memory"
                );
            }
            memory_only_while_detecting(&name, &cur, &p);
        }
        for facts in &scm_facts {
            let name = format!("{name} + PR {} {}", facts.pr_state, facts.ci_summary);
            let Some(p) = plan_scm_observation(&cur, facts) else {
                continue;
            };
            assert!(
                p.runtime.is_none() && p.activity.is_none() && p.launch.is_none(),
                "{name}"
            );
            assert!(
                p.metadata.is_empty() && p.replace_metadata.is_none(),
                "{name}"
            );
            if facts.pr_state.is_active() || terminal || cur.is_liveness_stuck() {
                assert!(
                    p.session.is_none() && p.detecting.is_none(),
                    "{name}: session kept"
                );
            }
            memory_only_while_detecting(&name, &cur, &p);
        }
        for &activity in A::ALL {
            for confidence in [SignalConfidence::Valid, SignalConfidence::Null] {
                for source in [Src::Hook, Src::Terminal] {
                    let name = format!("{name} + {confidence} {activity} from {source}");
                    let s = ActivitySignal {
                        confidence,
                        ..signal(Some(activity), source)
                    };
                    let Ok(Some(p)) = plan_activity_signal(&cur, &s, true, t0()) else {
                        continue;
                    };
                    assert!(p.pr.is_none() && p.runtime.is_none(), "{name}");
                    if terminal {
                        assert!(p.session.is_none(), "{name}: terminal");
                    }
                    if confidence != SignalConfidence::Valid {
                        let touched = p.activity.is_some() || p.session.is_some();
                        assert!(!touched, "{name}: only a valid signal is authoritative");
                    }
                    memory_only_while_detecting(&name, &cur, &p);
                }
            }
        }
        let outcome = SpawnOutcome {
            branch: "b".into(),
            workspace_path: "/w".into(),
            runtime_handle: RuntimeHandle {
                id: "proj-1".into(),
                runtime_name: "tmux".into(),
                pane_id: None,
            },
            agent_session_id: None,
            prompt: None,
        };
        let p = plan_spawn_completed(&cur, &outcome, t0());
        let untouched = p.session.is_none() && p.pr.is_none() && p.activity.is_none();
        assert!(
            untouched && p.detecting.is_none(),
            "{name} + spawn completed"
        );
        for kind in KillKind::ALL {
            if let Some(p) = plan_kill(&cur, &KillReason::new(*kind)) {
                let untouched = p.pr.is_none() && p.activity.is_none() && p.launch.is_none();
                assert!(untouched && !terminal, "{name} + kill {kind}");
            }
        }
    }
}

// ---------------------------------------------------------------- OnSpawnCompleted

#[test]
fn spawn_completed_table() {
    let now = t0().plus(secs(3));
    let outcome = |pane: Option<&str>, agent: Option<&str>, prompt: Option<&str>| SpawnOutcome {
        branch: "feat/x".into(),
        workspace_path: "/w/x".into(),
        runtime_handle: RuntimeHandle {
            id: "proj-1".into(),
            runtime_name: "tmux".into(),
            pane_id: pane.map(str::to_owned),
        },
        agent_session_id: agent.map(str::to_owned),
        prompt: prompt.map(str::to_owned),
    };
    // K1's record right after create: spawn incomplete, branch and prompt recorded.
    let fresh = || {
        let mut r = lc(S::NotStarted, R::SpawnRequested, RT::Unknown);
        r.lifecycle.runtime = rt(RT::Unknown, RuntimeReason::SpawnIncomplete);
        r.launch.started_at = None;
        r.metadata = metadata(&[("branch", "feat/x"), ("prompt", "do it")]);
        r
    };
    let live = || {
        let mut r = fresh();
        r.lifecycle.runtime = ALIVE;
        r.metadata = metadata(&[
            ("branch", "feat/x"),
            ("workspacePath", "/w/x"),
            ("runtimeHandleId", "proj-1"),
            ("runtimeName", "tmux"),
        ]);
        r
    };
    let started = Launch {
        started_at: Some(now),
        ..fresh().launch
    };
    let handle = [
        ("workspacePath", "/w/x"),
        ("runtimeHandleId", "proj-1"),
        ("runtimeName", "tmux"),
    ];
    let no_branch = SpawnOutcome {
        branch: String::new(),
        ..outcome(Some(""), None, None)
    };
    let all_of_it = [
        handle.as_slice(),
        &[
            ("runtimePaneId", "%3"),
            ("agentSessionId", "agent-1"),
            ("prompt", "do it better"),
        ],
    ]
    .concat();
    #[rustfmt::skip]
    let cases = [
        ("K1 everything recorded; unchanged keys (branch) not rewritten", fresh(),
            outcome(Some("%3"), Some("agent-1"), Some("do it better")),
            patch().runtime(ALIVE).launch(started.clone()).meta(&all_of_it)),
        ("absent and empty fields are never written", fresh(), no_branch,
            patch().runtime(ALIVE).launch(started.clone()).meta(&handle)),
        ("over a live runtime with the same facts: the launch stamp only", live(), outcome(None, None, None),
            patch().launch(started.clone())),
    ];
    for (name, cur, outcome, want) in cases {
        assert_eq!(plan_spawn_completed(&cur, &outcome, now), want, "{name}");
    }
}

// ---------------------------------------------------------------- OnKillRequested

#[test]
fn kill_table() {
    use RuntimeReason as RR;
    #[rustfmt::skip]
    let cases = [
        (KillKind::Manual, R::ManuallyKilled, RR::ManualKillRequested),
        (KillKind::Cleanup, R::AutoCleanup, RR::AutoCleanup),
        (KillKind::Error, R::ErrorInProcess, RR::ProbeError),
    ];
    for (kind, session_reason, runtime_reason) in cases {
        // K3: on detectingLC the memory is cleared too.
        let want = patch()
            .session(S::Terminated, session_reason)
            .runtime(rt(RT::Exited, runtime_reason))
            .clear_memory();
        let got = plan_kill(&detecting_lc(), &KillReason::new(kind));
        assert_eq!(got, Some(want), "K3 {kind}");
    }

    // The metadata patch is merged; the explicit detail wins over a patch entry of its key.
    let reason = KillReason {
        kind: KillKind::Error,
        detail: Some("runtime create failed".into()),
        metadata: metadata(&[("workspacePath", "/w/x"), ("terminationDetail", "stale")]),
    };
    let got = plan_kill(&working(), &reason).expect("not terminal");
    let want = metadata(&[
        ("workspacePath", "/w/x"),
        ("terminationDetail", "runtime create failed"),
    ]);
    assert_eq!(got.metadata, want);
    let blank = KillReason {
        detail: Some(String::new()),
        ..KillReason::new(KillKind::Manual)
    };
    let got = plan_kill(&working(), &blank).expect("not terminal");
    assert!(got.metadata.is_empty(), "an empty detail is not written");

    // K5: already terminal → no-op; the first terminal reason is kept.
    let terminal = [lc(S::Terminated, R::RuntimeLost, RT::Exited), done()];
    for cur in terminal {
        for kind in KillKind::ALL {
            let got = plan_kill(&cur, &KillReason::new(*kind));
            assert_eq!(got, None, "K5 {} + {kind}", cur.lifecycle.session.state);
        }
    }
}

// ---------------------------------------------------------------- reopen and revert

#[test]
fn reopen_only_over_terminal_records() {
    for (name, cur) in every_kind_of_record() {
        let got = plan_reopen(&cur, "L2".into());
        match got {
            Ok(_) => assert!(cur.is_terminal(), "{name}"),
            Err(ActiveSession) => assert!(!cur.is_terminal(), "{name}"),
        }
    }
}

#[test]
fn reopen_resets_the_lifecycle_and_revert_restores_it() {
    // K8: a killed session with a PR, activity, a stamped launch and metadata.
    let mut earlier = with_activity(killed(), A::Active, t0());
    earlier.lifecycle.pr = pr(PrState::Open, PrReason::CiFailing, 7);
    earlier.launch.first_signal_at = Some(t0().minus(mins(9)));
    earlier.metadata = metadata(&[("branch", "feat/x"), ("agentSessionId", "conv-1")]);

    let after = plan_reopen(&earlier, "L2".into())
        .expect("terminal")
        .applied(&earlier);
    let lc = &after.lifecycle;
    assert_eq!(lc.session, axis(S::NotStarted, R::SpawnRequested));
    assert_eq!(
        lc.pr,
        PrAxis::bare(PrState::None, PrReason::ClearedOnRestore)
    );
    assert_eq!(lc.runtime, rt(RT::Unknown, RuntimeReason::SpawnIncomplete));
    assert_eq!(lc.activity, ActivityAxis::UNSET);
    assert_eq!(lc.detecting, None);
    let fresh_launch = Launch {
        id: "L2".into(),
        started_at: None,
        first_signal_at: None,
    };
    assert_eq!(after.launch, fresh_launch);
    assert_eq!(after.metadata, earlier.metadata, "metadata kept");

    // How the last launch ended is dropped; everything else is kept.
    let mut exited_earlier = earlier.clone();
    exited_earlier.metadata.extend(metadata(&[
        ("exitCode", "1"),
        ("exitedAt", "2026-01-01T00:00:00Z"),
        ("terminationDetail", "the agent exited with code 1"),
    ]));
    let reopened = plan_reopen(&exited_earlier, "L2".into())
        .expect("terminal")
        .applied(&exited_earlier);
    assert_eq!(reopened.metadata, earlier.metadata);
    assert_eq!(after.created_at, earlier.created_at, "createdAt kept");
    assert_eq!(derive_status_static(lc), Status::Spawning, "S8");

    // A failed restore reverts to exactly the earlier lifecycle, launch and metadata; keys
    // added in between are dropped.
    let mut in_between = after.clone();
    in_between
        .metadata
        .insert("runtimeHandleId".into(), "proj-1".into());
    let reverted = plan_revert(&earlier).applied(&in_between);
    assert_eq!(reverted.lifecycle, earlier.lifecycle);
    assert_eq!(reverted.launch, earlier.launch);
    assert_eq!(reverted.metadata, earlier.metadata);

    // Quarantine memory is carried back as well.
    let reverted = plan_revert(&detecting_lc()).applied(&in_between);
    assert_eq!(reverted.lifecycle, detecting_lc().lifecycle);
}

// ---------------------------------------------------------------- event types

#[test]
fn classify_write_table() {
    use EventType as E;
    type Row = (
        &'static str,
        SessionRecord,
        fn(&mut SessionRecord),
        EventType,
    );
    #[rustfmt::skip]
    let cases: Vec<Row> = vec![
        ("K9 kill", working(), |r| r.lifecycle.session = axis(S::Terminated, R::ManuallyKilled), E::SessionTerminated),
        ("termination outranks every other change", detecting_lc(), |r| {
            r.lifecycle.session = axis(S::Terminated, R::RuntimeLost);
            r.lifecycle.pr = pr(PrState::Merged, PrReason::Merged, 7);
            r.lifecycle.runtime = EXITED;
            r.lifecycle.detecting = None;
        }, E::SessionTerminated),
        ("done → terminated", done(), |r| r.lifecycle.session = axis(S::Terminated, R::Unset), E::SessionTerminated),
        ("an agent exit ends the session as done", working(), |r| {
            r.lifecycle.session = axis(S::Done, R::AgentExited);
            r.lifecycle.activity = activity_axis(A::Exited, t0(), Src::Runtime);
        }, E::SessionTerminated),
        ("already terminated, the reason changes", killed(), |r| r.lifecycle.session.reason = R::RuntimeLost, E::SessionStateChanged),
        ("K9 waiting_input (with the activity)", working(), |r| {
            r.lifecycle.session = axis(S::NeedsInput, R::AwaitingUserInput);
            r.lifecycle.activity = activity_axis(A::WaitingInput, t0(), Src::Hook);
        }, E::SessionStateChanged),
        ("the reason only", lc(S::Idle, R::Unset, RT::Alive), |r| r.lifecycle.session.reason = R::ResearchComplete, E::SessionStateChanged),
        ("K8 reopen", killed(), |r| r.lifecycle.session = axis(S::NotStarted, R::SpawnRequested), E::SessionStateChanged),
        ("K9 CI failing (with a runtime change)", working(), |r| {
            r.lifecycle.pr = pr(PrState::Open, PrReason::CiFailing, 7);
            r.lifecycle.runtime = FAILED;
        }, E::SessionPrUpdated),
        ("K9 runtime (with an activity change)", lc(S::NeedsInput, R::AwaitingUserInput, RT::Unknown), |r| {
            r.lifecycle.runtime = ALIVE;
            r.lifecycle.activity = activity_axis(A::Blocked, t0(), Src::Hook);
        }, E::SessionRuntimeUpdated),
        ("K9 same-state signal with a new timestamp", with_activity(working(), A::Active, t0()),
            |r| r.lifecycle.activity.last_activity_at = Some(t0().plus(secs(1))), E::SessionActivityUpdated),
        ("K9 agent id only", working(), |r| { r.metadata.insert("agentSessionId".into(), "conv-9".into()); }, E::SessionUpdated),
        ("the launch stamp only", working(), |r| r.launch.first_signal_at = Some(t0()), E::SessionUpdated),
        ("the memory only (attempt 2)", detecting_lc(), |r| {
            if let Some(m) = r.lifecycle.detecting.as_mut() { m.attempts = 2; }
        }, E::SessionUpdated),
    ];
    for (name, cur, edit, want) in cases {
        let mut next = cur.clone();
        edit(&mut next);
        assert_eq!(classify_write(&cur, &next), want, "{name}");
    }
}

/// Only the write that ends a session stamps when it ended; a reopen removes the stamp.
#[test]
fn stamp_end_table() {
    let now = t0().plus(secs(5));
    let session = |state, reason| LifecyclePatch {
        session: Some(axis(state, reason)),
        ..LifecyclePatch::default()
    };
    #[rustfmt::skip]
    let cases: Vec<(&str, SessionRecord, LifecyclePatch, bool)> = vec![
        ("a kill", working(), session(S::Terminated, R::ManuallyKilled), true),
        ("an agent exit", working(), session(S::Done, R::AgentExited), true),
        ("an errored agent", working(), session(S::Terminated, R::ErrorInProcess), true),
        ("not ending", working(), session(S::NeedsInput, R::AwaitingUserInput), false),
        ("no session change", working(), LifecyclePatch { runtime: Some(EXITED), ..LifecyclePatch::default() }, false),
        ("already ended: the first end stays", done(), session(S::Terminated, R::Unset), false),
        ("a reopen", killed(), session(S::NotStarted, R::SpawnRequested), false),
    ];
    for (name, cur, patch, stamped) in cases {
        let out = stamp_end(&cur, patch.clone(), now);
        let want = if stamped {
            let mut want = patch;
            want.metadata
                .insert(meta::ENDED_AT.into(), now.to_rfc3339());
            want
        } else {
            patch
        };
        assert_eq!(out, want, "{name}");
    }
    let mut ended = killed();
    ended
        .metadata
        .insert(meta::ENDED_AT.into(), now.to_rfc3339());
    let reopen = plan_reopen(&ended, "launch-2".into()).unwrap();
    assert!(reopen.remove_metadata.contains(meta::ENDED_AT));
}

// ---------------------------------------------------------------- the cause of a runtime write

/// The cause a probe's write records: the facts as given, the decision's evidence, and where a
/// quarantined report stands in its episode (the count the quarantine itself keeps).
#[test]
fn runtime_cause_carries_the_probe_and_its_episode() {
    let disagree = "disagree runtime=alive process=dead recentActivity=false";
    let cause =
        |record: &SessionRecord, facts: &RuntimeFacts| match runtime_cause(record, facts, t0()) {
            Cause::Reaper(p) => p,
            other => panic!("a reaper cause, got {other:?}"),
        };
    let healthy = cause(&working(), &probe(Some(P::Alive), Some(P::Alive)));
    assert_eq!(
        healthy,
        ProbeCause {
            observed_at: t0(),
            runtime: Some(P::Alive),
            process: Some(P::Alive),
            server_gone: false,
            pane_exit_status: None,
            agent_exit: None,
            verdict: "alive runtime=alive process=alive".to_owned(),
            attempts: None,
            since: None,
        }
    );

    let first = cause(&working(), &probe(Some(P::Alive), Some(P::Dead)));
    assert_eq!(
        (first.verdict.as_str(), first.attempts, first.since),
        (disagree, Some(1), Some(t0()))
    );

    let began = t0().minus(secs(10));
    let mut second = working();
    second.lifecycle.session = axis(S::Detecting, R::AgentProcessExited);
    second.lifecycle.detecting = Some(memory(2, began, disagree));
    let third = cause(&second, &probe(Some(P::Alive), Some(P::Dead)));
    assert_eq!((third.attempts, third.since), (Some(3), Some(began)));
    // The same report the planner escalates to stuck.
    let patch = plan_runtime_observation(&second, &probe(Some(P::Alive), Some(P::Dead)), t0())
        .expect("a write");
    assert_eq!(patch.session, Some(axis(S::Stuck, R::AgentProcessExited)));

    let mut gone = probe(Some(P::Dead), Some(P::Dead));
    gone.server_gone = true;
    gone.pane_exit_status = Some(1);
    let lost = cause(&working(), &gone);
    assert!(lost.server_gone && lost.attempts.is_none());
    assert_eq!(lost.pane_exit_status, Some(1));

    // A recorded exit is the verdict itself: no quarantine episode.
    let exit = exited(Some(P::Alive), Some(P::Dead), 3, secs(1));
    let ended = cause(&second, &exit);
    assert_eq!(ended.agent_exit, exit.agent_exit);
    assert_eq!(
        (ended.verdict.as_str(), ended.attempts, ended.since),
        ("the agent exited with code 3", None, None)
    );
}
