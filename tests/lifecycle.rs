//! LCM, reaction and escalation scenarios (groups G, H, I, J, K, L, S, T, U), run over every store
//! backend by `over_backends!`.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use ao::decide::reactions::{ReactionAction, ReactionPolicies, reaction_key_for};
use ao::domain::*;
use ao::domain::{
    ActivitySource, ActivityState, ChangeEvent, CiSummary, EventType, FailedCheck, HookEvent,
    KillKind, NewMessage, PendingComment, PrAxis, PrReason, PrState, ProbeResult, ReactionKey,
    ReviewDecision, RuntimeAxis, RuntimeHandle, RuntimeReason, RuntimeState, SessionAxis,
    SessionReason, SessionState, SignalConfidence, Status, Tracker, TrackerRollback, derive_status,
    meta,
};
use ao::lifecycle::*;
use ao::ports::*;
use ao_testkit::fakes::MemoryStore;
use ao_testkit::fakes::{Harness, ScriptedRecords};
use ao_testkit::fixtures::{detecting_lc, lc, mins, open_pr, secs, stuck_lc, t0, with_handle};

// ------------------------------------------------------------------------------------------
// Backends and helpers

/// A store under test, kept alive (with its directory) for the test's duration.
pub struct Subject {
    pub store: Arc<dyn ao::ports::Backend>,
    _dir: Option<tempfile::TempDir>,
}

pub fn memory() -> Subject {
    Subject {
        store: Arc::new(MemoryStore::new()),
        _dir: None,
    }
}

pub fn sqlite() -> Subject {
    let dir = tempfile::tempdir().unwrap();
    let store = ao_adapters::sqlite::SqliteStore::open(dir.path().join("ao.db")).unwrap();
    Subject {
        store: Arc::new(store),
        _dir: Some(dir),
    }
}

/// Instantiates every scenario once per backend.
macro_rules! over_backends {
    ($($name:ident),* $(,)?) => {
        mod on_memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::memory()).await;
                }
            )*
        }
        mod on_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::sqlite()).await;
                }
            )*
        }
    };
}

fn sid(text: &str) -> SessionId {
    SessionId::parse(text).unwrap()
}

fn p1() -> SessionId {
    sid("proj-1")
}

fn harness(b: &Subject) -> Harness {
    Harness::new(b.store.clone(), t0())
}

fn probe(runtime: ProbeResult, process: ProbeResult) -> RuntimeFacts {
    RuntimeFacts {
        observed_at: Some(t0()),
        launch_id: Some("L1".to_owned()),
        runtime: Some(runtime),
        process: Some(process),
        pane_exit_status: None,
        agent_exit: None,
        server_gone: false,
    }
}

fn probe_at(runtime: ProbeResult, process: ProbeResult, at: Timestamp) -> RuntimeFacts {
    RuntimeFacts {
        observed_at: Some(at),
        ..probe(runtime, process)
    }
}

/// A valid hook signal of `activity` at `t0` for launch `L1`.
fn valid(activity: ActivityState) -> ActivitySignal {
    ActivitySignal {
        timestamp: Some(t0()),
        launch_id: Some("L1".to_owned()),
        ..ActivitySignal::valid(activity, ActivitySource::Hook)
    }
}

/// A hook callback for `event` carrying `activity`.
fn hook(event: HookEvent, activity: Option<ActivityState>) -> ActivitySignal {
    ActivitySignal {
        confidence: if activity.is_some() {
            SignalConfidence::Valid
        } else {
            SignalConfidence::Null
        },
        activity,
        hook_event: Some(event),
        ..valid(ActivityState::Active)
    }
}

fn tool(
    event: HookEvent,
    activity: Option<ActivityState>,
    name: &str,
    use_id: &str,
) -> ActivitySignal {
    ActivitySignal {
        tool_name: Some(name.to_owned()),
        tool_use_id: (!use_id.is_empty()).then(|| use_id.to_owned()),
        ..hook(event, activity)
    }
}

async fn events(store: &Arc<dyn ao::ports::Backend>, id: &SessionId) -> Vec<ChangeEvent> {
    store
        .events_after(0, 512, Duration::ZERO, Some(id))
        .await
        .unwrap()
        .events
}

fn status_of(r: &SessionRecord) -> Status {
    derive_status(r, t0(), r.agent != "command")
}

/// An open PR #n, fetched, everything else neutral.
fn scm(state: PrState, number: u64) -> ScmFacts {
    let mut f = ScmFacts::fetched(t0(), state);
    f.pr_number = Some(number);
    f.pr_url = Some(format!("https://example.com/pr/{number}"));
    f.head_sha = "head1".to_owned();
    f.base_sha = "base1".to_owned();
    f.mergeability.no_conflicts = true;
    f
}

fn ci_failing(mut f: ScmFacts, tail: &str) -> ScmFacts {
    f.ci_summary = CiSummary::Failing;
    f.failed_checks = vec![FailedCheck {
        name: "build".to_owned(),
        conclusion: "failure".to_owned(),
        url: None,
    }];
    f.ci_failure_log_tail = Some(tail.to_owned());
    f
}

fn review_pending(mut f: ScmFacts) -> ScmFacts {
    f.ci_summary = CiSummary::Pending;
    f.review_decision = ReviewDecision::Pending;
    f
}

fn approved_mergeable(mut f: ScmFacts) -> ScmFacts {
    f.ci_summary = CiSummary::Passing;
    f.review_decision = ReviewDecision::Approved;
    f.mergeability.mergeable = true;
    f.mergeability.ci_passing = true;
    f.mergeability.approved = true;
    f
}

fn comment(id: &str, is_bot: bool, body: &str) -> PendingComment {
    PendingComment {
        thread_id: format!("t-{id}"),
        comment_id: id.to_owned(),
        author: if is_bot { "lint-bot" } else { "alice" }.to_owned(),
        body: body.to_owned(),
        is_bot,
        url: format!("https://example.com/c/{id}"),
        path: Some("src/lib.rs".to_owned()),
        line: Some(3),
    }
}

// ------------------------------------------------------------------------------------------
// G. Runtime observations

async fn g1_healthy_probe_never_overwrites_needs_input(b: Subject) {
    let h = harness(&b);
    h.seed(lc(
        SessionState::NeedsInput,
        SessionReason::AwaitingUserInput,
        RuntimeState::Alive,
    ))
    .await;
    let out = h
        .runtime(&p1(), &probe(ProbeResult::Alive, ProbeResult::Alive))
        .await;
    assert_eq!(out, Applied::Unchanged);
    let r = h.load(&p1()).await;
    assert_eq!(r.revision, 1);
    assert_eq!(status_of(&r), Status::NeedsInput);
    assert_eq!(events(&h.store, &p1()).await.len(), 1, "only the seed row");
}

async fn g2_healthy_probe_recovers_detecting(b: Subject) {
    let h = harness(&b);
    h.seed(detecting_lc()).await;
    h.runtime(&p1(), &probe(ProbeResult::Alive, ProbeResult::Alive))
        .await;
    let r = h.load(&p1()).await;
    assert_eq!(
        r.lifecycle.session,
        SessionAxis::new(SessionState::Working, SessionReason::TaskInProgress)
    );
    assert_eq!(
        r.lifecycle.runtime,
        RuntimeAxis::new(RuntimeState::Alive, RuntimeReason::ProcessRunning)
    );
    assert_eq!(r.lifecycle.detecting, None);
    assert_eq!(status_of(&r), Status::Working);
    assert_eq!(r.revision, 2);
}

async fn g3_failed_probe_starts_quarantine(b: Subject) {
    let h = harness(&b);
    h.seed(lc(
        SessionState::Working,
        SessionReason::TaskInProgress,
        RuntimeState::Alive,
    ))
    .await;
    h.runtime(&p1(), &probe(ProbeResult::Failed, ProbeResult::Alive))
        .await;
    let r = h.load(&p1()).await;
    assert_eq!(
        r.lifecycle.session,
        SessionAxis::new(SessionState::Detecting, SessionReason::ProbeFailure)
    );
    assert_eq!(
        r.lifecycle.runtime,
        RuntimeAxis::new(RuntimeState::ProbeFailed, RuntimeReason::ProbeError)
    );
    let memory = r.lifecycle.detecting.clone().expect("memory");
    assert_eq!((memory.attempts, memory.started_at), (1, t0()));
    assert_eq!(status_of(&r), Status::Detecting);
}

async fn g4_dead_probe_kills_detecting(b: Subject) {
    let h = harness(&b);
    h.seed(detecting_lc()).await;
    h.runtime(&p1(), &probe(ProbeResult::Dead, ProbeResult::Dead))
        .await;
    let r = h.load(&p1()).await;
    assert_eq!(
        r.lifecycle.session,
        SessionAxis::new(SessionState::Terminated, SessionReason::RuntimeLost)
    );
    assert_eq!(
        r.lifecycle.runtime,
        RuntimeAxis::new(RuntimeState::Exited, RuntimeReason::TmuxMissing)
    );
    assert_eq!(r.lifecycle.detecting, None);
    assert_eq!(status_of(&r), Status::Terminated, "nobody killed it");
}

async fn g5_unknown_id_creates_nothing(b: Subject) {
    let h = harness(&b);
    let out = h
        .runtime(
            &sid("nope-1"),
            &probe(ProbeResult::Alive, ProbeResult::Alive),
        )
        .await;
    assert_eq!(out, Applied::UnknownSession);
    assert!(h.store.load(&sid("nope-1")).await.unwrap().is_none());
}

async fn g6_terminal_session_only_gets_runtime_axis(b: Subject) {
    let h = harness(&b);
    h.seed(lc(
        SessionState::Terminated,
        SessionReason::ManuallyKilled,
        RuntimeState::Exited,
    ))
    .await;
    h.runtime(&p1(), &probe(ProbeResult::Failed, ProbeResult::Failed))
        .await;
    let r = h.load(&p1()).await;
    assert_eq!(
        r.lifecycle.session,
        SessionAxis::new(SessionState::Terminated, SessionReason::ManuallyKilled)
    );
    assert_eq!(r.lifecycle.detecting, None);
    assert_eq!(
        r.lifecycle.runtime,
        RuntimeAxis::new(RuntimeState::ProbeFailed, RuntimeReason::ProbeError)
    );
    assert_eq!(r.revision, 2);
}

async fn g7_running_sessions_excludes_terminal(b: Subject) {
    let h = harness(&b);
    let states = [
        (
            SessionState::Working,
            SessionReason::TaskInProgress,
            RuntimeState::Alive,
        ),
        (
            SessionState::Detecting,
            SessionReason::ProbeFailure,
            RuntimeState::ProbeFailed,
        ),
        (
            SessionState::Detecting,
            SessionReason::RuntimeLost,
            RuntimeState::Missing,
        ),
        (
            SessionState::Idle,
            SessionReason::Unset,
            RuntimeState::Alive,
        ),
        (
            SessionState::NeedsInput,
            SessionReason::AwaitingUserInput,
            RuntimeState::Alive,
        ),
        (
            SessionState::NotStarted,
            SessionReason::SpawnRequested,
            RuntimeState::Unknown,
        ),
        (
            SessionState::Stuck,
            SessionReason::ProbeFailure,
            RuntimeState::Alive,
        ),
        (
            SessionState::Terminated,
            SessionReason::ManuallyKilled,
            RuntimeState::Exited,
        ),
        (
            SessionState::Done,
            SessionReason::Unset,
            RuntimeState::Exited,
        ),
    ];
    for (i, (s, r, rt)) in states.into_iter().enumerate() {
        let mut rec = lc(s, r, rt);
        rec.num = i as u64 + 1;
        rec.id = sid(&format!("proj-{}", rec.num));
        h.seed(rec).await;
    }
    let running = h.lcm.running_sessions().await.unwrap();
    let ids: Vec<_> = running.iter().map(|r| r.num).collect();
    assert_eq!(ids.len(), 7);
    assert!(ids.iter().all(|&n| n <= 7), "{ids:?}");
}

async fn g8_running_sessions_returns_store_errors(b: Subject) {
    let scripted = ScriptedRecords::new(b.store.clone());
    let h = Harness::assemble(
        scripted.clone(),
        b.store.clone(),
        ao_testkit::fakes::ManualClock::new(t0()),
        ReactionPolicies::default(),
    );
    scripted.fail_reads.store(true, Ordering::SeqCst);
    assert!(matches!(
        h.lcm.running_sessions().await,
        Err(LcmError::Store(StoreError::Backend(_)))
    ));
}

async fn g9_stale_launch_probe_is_ignored(b: Subject) {
    let h = harness(&b);
    h.seed(lc(
        SessionState::Working,
        SessionReason::TaskInProgress,
        RuntimeState::Alive,
    ))
    .await;
    let mut facts = probe(ProbeResult::Dead, ProbeResult::Dead);
    facts.launch_id = Some("L0".to_owned());
    assert_eq!(h.runtime(&p1(), &facts).await, Applied::Unchanged);
    assert_eq!(h.load(&p1()).await.revision, 1);
}

async fn g10_recent_activity_window(b: Subject) {
    let cases = [
        (
            Some(ActivityState::WaitingInput),
            t0().minus(mins(60)),
            SessionState::Detecting,
            "sticky counts as recent",
        ),
        (
            Some(ActivityState::Active),
            t0().minus(secs(60)),
            SessionState::Detecting,
            "60s is inclusive",
        ),
        (
            Some(ActivityState::Active),
            t0().minus(secs(61)),
            SessionState::Terminated,
            "61s is not recent",
        ),
        (
            Some(ActivityState::Exited),
            t0(),
            SessionState::Terminated,
            "exited is never recent",
        ),
    ];
    let h = harness(&b);
    for (i, (activity, at, want, why)) in cases.into_iter().enumerate() {
        let mut rec = lc(
            SessionState::Working,
            SessionReason::TaskInProgress,
            RuntimeState::Alive,
        );
        rec.num = i as u64 + 1;
        rec.id = sid(&format!("proj-{}", rec.num));
        rec.lifecycle.activity = ao::domain::ActivityAxis {
            state: activity,
            last_activity_at: Some(at),
            source: ActivitySource::Hook,
        };
        let id = rec.id.clone();
        h.seed(rec).await;
        h.runtime(&id, &probe(ProbeResult::Dead, ProbeResult::Dead))
            .await;
        let r = h.load(&id).await;
        assert_eq!(r.lifecycle.session.state, want, "{why}");
        assert_eq!(
            r.lifecycle.session.reason,
            SessionReason::RuntimeLost,
            "{why}"
        );
    }
}

/// G11, changed on purpose: a launched agent that a probe sees running is past `spawning` even
/// before it shows activity (`working`, reason `agent_acknowledged`); a spawn that has not
/// completed stays `spawning` whatever the probe says.
async fn g11_spawning_ends_when_the_agent_is_seen_running(b: Subject) {
    let h = harness(&b);
    let mut unlaunched = lc(
        SessionState::NotStarted,
        SessionReason::SpawnRequested,
        RuntimeState::Alive,
    );
    unlaunched.launch.started_at = None;
    h.seed(unlaunched).await;
    let running = probe(ProbeResult::Alive, ProbeResult::Alive);
    assert_eq!(h.runtime(&p1(), &running).await, Applied::Unchanged);

    h.lcm
        .on_spawn_completed(&p1(), &outcome(&p1()))
        .await
        .unwrap();
    let Applied::Changed(after) = h.runtime(&p1(), &running).await else {
        panic!("a launched, running agent is acknowledged");
    };
    assert_eq!(
        after.lifecycle.session,
        SessionAxis::new(SessionState::Working, SessionReason::AgentAcknowledged)
    );
    assert_eq!(status_of(&after), Status::Working);
    assert_eq!(after.lifecycle.activity.state, None);
}

// ------------------------------------------------------------------------------------------
// H. Activity signals

fn working() -> SessionRecord {
    lc(
        SessionState::Working,
        SessionReason::TaskInProgress,
        RuntimeState::Alive,
    )
}

async fn h1_to_h5_activity_mapping(b: Subject) {
    let h = harness(&b);
    type Case = (
        SessionRecord,
        ActivitySignal,
        SessionAxis,
        Option<ActivityState>,
        u64,
        &'static str,
    );
    let cases: Vec<Case> = vec![
        (
            working(),
            valid(ActivityState::WaitingInput),
            SessionAxis::new(SessionState::NeedsInput, SessionReason::AwaitingUserInput),
            Some(ActivityState::WaitingInput),
            1,
            "H1",
        ),
        (
            lc(
                SessionState::NeedsInput,
                SessionReason::AwaitingUserInput,
                RuntimeState::Alive,
            ),
            valid(ActivityState::Active),
            SessionAxis::new(SessionState::Working, SessionReason::TaskInProgress),
            Some(ActivityState::Active),
            1,
            "H2",
        ),
        (
            working(),
            valid(ActivityState::Idle),
            SessionAxis::new(SessionState::Idle, SessionReason::Unset),
            Some(ActivityState::Idle),
            1,
            "H3",
        ),
        (
            working(),
            ActivitySignal {
                confidence: SignalConfidence::ProbeFailure,
                ..valid(ActivityState::Idle)
            },
            SessionAxis::new(SessionState::Working, SessionReason::TaskInProgress),
            None,
            0,
            "H4",
        ),
        (
            detecting_lc(),
            valid(ActivityState::Active),
            SessionAxis::new(SessionState::Working, SessionReason::TaskInProgress),
            Some(ActivityState::Active),
            1,
            "H5",
        ),
    ];
    for (i, (mut rec, signal, session, activity, delta, name)) in cases.into_iter().enumerate() {
        rec.num = i as u64 + 1;
        rec.id = sid(&format!("proj-{}", rec.num));
        // H4 needs a stamped first signal so the null-confidence hook changes nothing at all.
        rec.launch.first_signal_at = Some(t0());
        let id = rec.id.clone();
        h.seed(rec).await;
        h.signal(&id, &signal).await;
        let r = h.load(&id).await;
        assert_eq!(r.lifecycle.session, session, "{name}");
        assert_eq!(r.lifecycle.activity.state, activity, "{name}");
        assert_eq!(r.revision - 1, delta, "{name}");
        assert_eq!(r.lifecycle.detecting, None, "{name}");
    }
}

async fn h6_concurrent_signals_all_land(b: Subject) {
    let h = Arc::new(harness(&b));
    h.seed(working()).await;
    let mut tasks = vec![];
    for i in 0..50u64 {
        let h = h.clone();
        tasks.push(tokio::spawn(async move {
            let signal = ActivitySignal {
                timestamp: Some(t0().plus(secs(i + 1))),
                ..valid(ActivityState::Active)
            };
            h.lcm.apply_activity_signal(&p1(), &signal).await
        }));
    }
    for t in tasks {
        assert!(matches!(t.await.unwrap(), Ok(Applied::Changed(_))));
    }
    let r = h.load(&p1()).await;
    // 50 activity writes; the first also stamps firstSignalAt in the same write.
    assert_eq!(r.revision - 1, 50);
    assert_eq!(events(&h.store, &p1()).await.len(), 51);
}

async fn h7_ready_blocked_exited(b: Subject) {
    let h = harness(&b);
    let cases = [
        (
            ActivityState::Ready,
            SessionAxis::new(SessionState::Idle, SessionReason::ResearchComplete),
        ),
        (
            ActivityState::Blocked,
            SessionAxis::new(SessionState::NeedsInput, SessionReason::AwaitingUserInput),
        ),
        (
            ActivityState::Exited,
            SessionAxis::new(SessionState::Working, SessionReason::TaskInProgress),
        ),
    ];
    for (i, (activity, session)) in cases.into_iter().enumerate() {
        let mut rec = working();
        rec.num = i as u64 + 1;
        rec.id = sid(&format!("proj-{}", rec.num));
        let id = rec.id.clone();
        h.seed(rec).await;
        h.signal(&id, &valid(activity)).await;
        let r = h.load(&id).await;
        assert_eq!(r.lifecycle.session, session, "{activity}");
        assert_eq!(r.lifecycle.activity.state, Some(activity));
    }
}

async fn h8_null_signal_without_agent_id_is_noop(b: Subject) {
    let h = harness(&b);
    h.seed(working()).await;
    let signal = ActivitySignal {
        confidence: SignalConfidence::Null,
        activity: None,
        ..valid(ActivityState::Active)
    };
    assert_eq!(h.signal(&p1(), &signal).await, Applied::Unchanged);
    assert_eq!(h.load(&p1()).await.revision, 1);
}

async fn h9_metadata_only_hook(b: Subject) {
    let h = harness(&b);
    h.seed(lc(
        SessionState::NotStarted,
        SessionReason::SpawnRequested,
        RuntimeState::Alive,
    ))
    .await;
    let signal = ActivitySignal {
        agent_session_id: Some("conv-9".to_owned()),
        ..hook(HookEvent::SessionStart, None)
    };
    h.signal(&p1(), &signal).await;
    let r = h.load(&p1()).await;
    assert_eq!(r.meta(meta::AGENT_SESSION_ID), Some("conv-9"));
    assert_eq!(r.launch.first_signal_at, Some(t0()));
    assert_eq!(r.lifecycle.session.state, SessionState::NotStarted);
    assert_eq!(r.lifecycle.activity.state, None);
    assert_eq!(r.revision, 2);
    assert_eq!(
        events(&h.store, &p1()).await.last().unwrap().event_type,
        EventType::SessionUpdated
    );
}

async fn h10_agent_session_id_updates_but_never_blanks(b: Subject) {
    let h = harness(&b);
    h.seed(working()).await;
    let with_id = |id: &str| ActivitySignal {
        agent_session_id: Some(id.to_owned()),
        ..valid(ActivityState::Active)
    };
    h.signal(&p1(), &with_id("conv-1")).await;
    h.signal(&p1(), &with_id("conv-2")).await;
    assert_eq!(
        h.load(&p1()).await.meta(meta::AGENT_SESSION_ID),
        Some("conv-2")
    );
    let before = h.load(&p1()).await.revision;
    assert_eq!(h.signal(&p1(), &with_id("  ")).await, Applied::Unchanged);
    let r = h.load(&p1()).await;
    assert_eq!(r.meta(meta::AGENT_SESSION_ID), Some("conv-2"));
    assert_eq!(r.revision, before);
}

async fn h11_h12_launch_generations(b: Subject) {
    let h = harness(&b);
    h.seed(working()).await;
    let stale = ActivitySignal {
        launch_id: Some("L0".to_owned()),
        ..valid(ActivityState::Idle)
    };
    assert_eq!(h.signal(&p1(), &stale).await, Applied::Unchanged, "H11");

    // H12: reopened with L2, before OnSpawnCompleted.
    let mut reopened = lc(
        SessionState::NotStarted,
        SessionReason::SpawnRequested,
        RuntimeState::Unknown,
    );
    reopened.num = 2;
    reopened.id = sid("proj-2");
    reopened.launch = ao::domain::Launch {
        id: "L2".to_owned(),
        started_at: None,
        first_signal_at: None,
    };
    h.seed(reopened).await;
    let signal = ActivitySignal {
        launch_id: Some("L2".to_owned()),
        ..valid(ActivityState::Active)
    };
    h.signal(&sid("proj-2"), &signal).await;
    assert_eq!(
        h.load(&sid("proj-2")).await.lifecycle.session.state,
        SessionState::Working,
        "H12"
    );
}

async fn h13_only_if_revision(b: Subject) {
    let h = harness(&b);
    h.seed(working()).await;
    let r = h.load(&p1()).await.revision;
    h.signal(
        &p1(),
        &hook(HookEvent::UserPromptSubmit, Some(ActivityState::Active)),
    )
    .await;
    let terminal_idle = |rev| ActivitySignal {
        source: ActivitySource::Terminal,
        only_if_revision: Some(rev),
        ..valid(ActivityState::Idle)
    };
    assert_eq!(h.signal(&p1(), &terminal_idle(r)).await, Applied::Unchanged);
    h.signal(&p1(), &terminal_idle(r + 1)).await;
    assert_eq!(
        h.load(&p1()).await.lifecycle.session.state,
        SessionState::Idle
    );
}

async fn h14_unknown_session(b: Subject) {
    let h = harness(&b);
    assert_eq!(
        h.signal(&sid("ghost-1"), &valid(ActivityState::Active))
            .await,
        Applied::UnknownSession
    );
    assert!(h.store.load(&sid("ghost-1")).await.unwrap().is_none());
}

async fn h15_first_signal_is_stamped_once(b: Subject) {
    let h = harness(&b);
    let mut rec = working();
    rec.lifecycle.activity = ao::domain::ActivityAxis {
        state: Some(ActivityState::Active),
        last_activity_at: Some(t0()),
        source: ActivitySource::Hook,
    };
    h.seed(rec).await;
    // Same activity, same timestamp: only the first-signal stamp changes.
    h.signal(&p1(), &valid(ActivityState::Active)).await;
    let first = h.load(&p1()).await;
    assert_eq!(first.launch.first_signal_at, Some(t0()));
    assert_eq!(first.revision, 2);
    h.clock.advance(secs(30));
    h.signal(
        &p1(),
        &ActivitySignal {
            timestamp: Some(t0().plus(secs(30))),
            ..valid(ActivityState::Active)
        },
    )
    .await;
    assert_eq!(h.load(&p1()).await.launch.first_signal_at, Some(t0()));
}

async fn h16_terminal_session_takes_activity_only(b: Subject) {
    let h = harness(&b);
    h.seed(lc(
        SessionState::Terminated,
        SessionReason::ManuallyKilled,
        RuntimeState::Exited,
    ))
    .await;
    h.signal(&p1(), &valid(ActivityState::Active)).await;
    let r = h.load(&p1()).await;
    assert_eq!(r.lifecycle.activity.state, Some(ActivityState::Active));
    assert_eq!(
        r.lifecycle.session,
        SessionAxis::new(SessionState::Terminated, SessionReason::ManuallyKilled)
    );
}

// ------------------------------------------------------------------------------------------
// I. Hook activity gate

async fn run_hooks(
    h: &Harness,
    id: &SessionId,
    signals: &[ActivitySignal],
) -> Option<ActivityState> {
    for s in signals {
        h.signal(id, s).await;
    }
    h.load(id).await.lifecycle.activity.state
}

async fn i1_to_i9_gate(b: Subject) {
    use ActivityState::{Active, Blocked, Exited, Idle, WaitingInput};
    use HookEvent::*;
    let h = harness(&b);
    let pre = |name: &str, id: &str| tool(PreToolUse, Some(Active), name, id);
    let post = |id: &str| tool(PostToolUse, Some(Active), "", id);
    let post_fail = |id: &str| tool(PostToolUseFailure, Some(Active), "", id);
    let perm = |name: &str| tool(PermissionRequest, Some(Blocked), name, "");
    let boundary = |event| {
        hook(
            event,
            Some(match event {
                UserPromptSubmit => Active,
                Stop => Idle,
                _ => Exited,
            }),
        )
    };

    let mut n = 0;
    let mut fresh = async || {
        n += 1;
        let mut rec = working();
        rec.num = n;
        rec.id = sid(&format!("proj-{n}"));
        let id = rec.id.clone();
        h.seed(rec).await;
        id
    };

    let s = fresh().await;
    assert_eq!(
        run_hooks(&h, &s, &[pre("Bash", "toolu_1"), perm("Bash")]).await,
        Some(Blocked),
        "I1"
    );
    assert_eq!(
        run_hooks(&h, &s, &[post("toolu_1")]).await,
        Some(Active),
        "I1 clear"
    );

    let s = fresh().await;
    run_hooks(&h, &s, &[pre("Bash", "toolu_1"), perm("Bash")]).await;
    assert_eq!(
        run_hooks(&h, &s, &[post_fail("toolu_1")]).await,
        Some(Active),
        "I2"
    );

    let s = fresh().await;
    run_hooks(&h, &s, &[pre("Bash", "toolu_1"), perm("Bash")]).await;
    assert_eq!(
        run_hooks(&h, &s, &[pre("Read", "toolu_sub"), post("toolu_sub")]).await,
        Some(Blocked),
        "I3"
    );
    assert_eq!(
        run_hooks(&h, &s, &[post("toolu_1")]).await,
        Some(Active),
        "I3 clear"
    );

    for (event, want) in [
        (UserPromptSubmit, Active),
        (Stop, Idle),
        (SessionEnd, Exited),
    ] {
        let s = fresh().await;
        run_hooks(&h, &s, &[pre("Bash", "toolu_1"), perm("Bash")]).await;
        assert_eq!(
            run_hooks(&h, &s, &[boundary(event)]).await,
            Some(want),
            "I4 {event}"
        );
    }

    for kind in ["idle_prompt", "agent_needs_input"] {
        let s = fresh().await;
        run_hooks(&h, &s, &[pre("Bash", "toolu_1"), perm("Bash")]).await;
        let activity = if kind == "idle_prompt" {
            Idle
        } else {
            WaitingInput
        };
        assert_eq!(
            run_hooks(&h, &s, &[hook(Notification, Some(activity))]).await,
            Some(Blocked),
            "I5 {kind}"
        );
    }

    let s = fresh().await;
    assert_eq!(
        run_hooks(&h, &s, &[perm("Bash")]).await,
        Some(Blocked),
        "I6"
    );
    assert_eq!(
        run_hooks(&h, &s, &[post("toolu_x"), post_fail("toolu_y")]).await,
        Some(Blocked),
        "I6 posts"
    );
    assert_eq!(
        run_hooks(&h, &s, &[boundary(Stop)]).await,
        Some(Idle),
        "I6 stop"
    );

    let s = fresh().await;
    run_hooks(&h, &s, &[perm("Bash")]).await;
    let terminal_active = ActivitySignal {
        source: ActivitySource::Terminal,
        ..valid(Active)
    };
    assert_eq!(
        run_hooks(&h, &s, &[terminal_active]).await,
        Some(Active),
        "I7"
    );

    let s = fresh().await;
    run_hooks(&h, &s, &[valid(WaitingInput)]).await;
    assert_eq!(
        run_hooks(&h, &s, &[pre("Bash", "bg_1"), post("bg_1")]).await,
        Some(WaitingInput),
        "I8"
    );
    assert_eq!(
        run_hooks(&h, &s, &[boundary(UserPromptSubmit)]).await,
        Some(Active),
        "I8 submit"
    );

    let s = fresh().await;
    run_hooks(
        &h,
        &s,
        &[pre("Bash", "b1"), pre("Bash", "b2"), perm("Bash")],
    )
    .await;
    assert_eq!(
        run_hooks(&h, &s, &[post("b1"), post("b2")]).await,
        Some(Blocked),
        "I9 ambiguous"
    );
    run_hooks(&h, &s, &[boundary(Stop)]).await;
    assert_eq!(
        run_hooks(&h, &s, &[pre("Bash", "b3"), perm("Bash")]).await,
        Some(Blocked),
        "I9 new dialog"
    );
    assert_eq!(
        run_hooks(&h, &s, &[post("b3")]).await,
        Some(Active),
        "I9 single candidate clears"
    );
}

async fn i10_suppressed_signal_still_does_bookkeeping(b: Subject) {
    let mut h = harness(&b);
    h.start();
    let mut rec = working();
    rec.lifecycle.activity = ao::domain::ActivityAxis {
        state: Some(ActivityState::Blocked),
        last_activity_at: Some(t0()),
        source: ActivitySource::Hook,
    };
    rec.lifecycle.session =
        SessionAxis::new(SessionState::NeedsInput, SessionReason::AwaitingUserInput);
    h.seed(rec).await;
    let signal = ActivitySignal {
        agent_session_id: Some("conv-1".to_owned()),
        ..tool(
            HookEvent::PreToolUse,
            Some(ActivityState::Active),
            "Read",
            "toolu_9",
        )
    };
    h.signal(&p1(), &signal).await;
    h.wait_idle().await;
    let r = h.load(&p1()).await;
    assert_eq!(r.lifecycle.activity.state, Some(ActivityState::Blocked));
    assert_eq!(r.meta(meta::AGENT_SESSION_ID), Some("conv-1"));
    assert_eq!(r.launch.first_signal_at, Some(t0()));
    assert!(
        h.notifier.events().is_empty(),
        "a suppressed signal enqueues nothing"
    );
}

// ------------------------------------------------------------------------------------------
// J. SCM observations

async fn j1_to_j6_open_and_draft(b: Subject) {
    let h = harness(&b);
    let mut n = 0;
    let mut check =
        async |facts: ScmFacts, pr: Option<(PrState, PrReason)>, status: Status, name: &str| {
            n += 1;
            let mut rec = working();
            rec.num = n;
            rec.id = sid(&format!("proj-{n}"));
            let id = rec.id.clone();
            h.seed(rec).await;
            h.observe_scm(&id, &facts).await;
            let r = h.load(&id).await;
            match pr {
                Some((state, reason)) => {
                    assert_eq!(
                        (r.lifecycle.pr.state, r.lifecycle.pr.reason),
                        (state, reason),
                        "{name}"
                    );
                    assert_eq!(r.lifecycle.pr.number, facts.pr_number, "{name}");
                }
                None => assert_eq!(r.revision, 1, "{name}: no-op"),
            }
            assert_eq!(
                r.lifecycle.session.state,
                SessionState::Working,
                "{name}: session untouched"
            );
            assert_eq!(status_of(&r), status, "{name}");
        };
    let mut unfetched = ci_failing(scm(PrState::Open, 12), "x");
    unfetched.fetched = false;
    check(unfetched, None, Status::Working, "J1").await;
    check(
        ci_failing(scm(PrState::Open, 12), "x"),
        Some((PrState::Open, PrReason::CiFailing)),
        Status::CiFailed,
        "J2",
    )
    .await;
    check(
        ci_failing(scm(PrState::Draft, 12), "x"),
        Some((PrState::Draft, PrReason::CiFailing)),
        Status::CiFailed,
        "J3",
    )
    .await;
    let mut flagged = scm(PrState::Open, 12);
    flagged.draft = true;
    check(
        flagged.clone(),
        Some((PrState::Draft, PrReason::InProgress)),
        Status::Draft,
        "J4",
    )
    .await;
    check(
        ci_failing(flagged, "x"),
        Some((PrState::Draft, PrReason::CiFailing)),
        Status::CiFailed,
        "J5",
    )
    .await;
    check(
        approved_mergeable(scm(PrState::Draft, 12)),
        Some((PrState::Draft, PrReason::InProgress)),
        Status::Draft,
        "J6",
    )
    .await;
}

async fn j7_merged(b: Subject) {
    let h = harness(&b);
    let mut rec = working();
    rec.lifecycle.pr = PrAxis {
        state: PrState::Open,
        reason: PrReason::InProgress,
        number: Some(12),
        url: None,
    };
    h.seed(rec).await;
    h.observe_scm(&p1(), &scm(PrState::Merged, 12)).await;
    let r = h.load(&p1()).await;
    assert_eq!(
        (r.lifecycle.pr.state, r.lifecycle.pr.reason),
        (PrState::Merged, PrReason::Merged)
    );
    assert_eq!(
        r.lifecycle.session,
        SessionAxis::new(SessionState::Idle, SessionReason::MergedWaitingDecision)
    );
    assert_eq!(status_of(&r), Status::Merged);
}

async fn j8_review_and_mergeability(b: Subject) {
    let h = harness(&b);
    let mut changes = scm(PrState::Open, 3);
    changes.review_decision = ReviewDecision::ChangesRequested;
    let mut human = scm(PrState::Open, 3);
    human.pending_comments = vec![comment("c1", false, "please fix")];
    let mut bot = scm(PrState::Open, 3);
    bot.pending_comments = vec![comment("b1", true, "lint")];
    let mut conflicts = scm(PrState::Open, 3);
    conflicts.mergeability = ao::domain::Mergeability {
        mergeable: false,
        ci_passing: true,
        approved: true,
        no_conflicts: false,
        blockers: vec!["merge conflicts".to_owned()],
    };
    let cases = [
        (
            changes,
            PrReason::ChangesRequested,
            Status::ChangesRequested,
        ),
        (human, PrReason::ChangesRequested, Status::ChangesRequested),
        (bot, PrReason::BotComments, Status::ChangesRequested),
        (conflicts, PrReason::MergeConflicts, Status::PrOpen),
        (
            approved_mergeable(scm(PrState::Open, 3)),
            PrReason::MergeReady,
            Status::Mergeable,
        ),
        (
            review_pending(scm(PrState::Open, 3)),
            PrReason::ReviewPending,
            Status::ReviewPending,
        ),
    ];
    for (i, (facts, reason, status)) in cases.into_iter().enumerate() {
        let mut rec = working();
        rec.num = i as u64 + 1;
        rec.id = sid(&format!("proj-{}", rec.num));
        let id = rec.id.clone();
        h.seed(rec).await;
        h.observe_scm(&id, &facts).await;
        let r = h.load(&id).await;
        assert_eq!(r.lifecycle.pr.reason, reason, "case {i}");
        assert_eq!(status_of(&r), status, "case {i}");
        assert_eq!(
            r.lifecycle.session.state,
            SessionState::Working,
            "case {i}: session untouched"
        );
    }
}

async fn j9_to_j11(b: Subject) {
    let h = harness(&b);
    h.seed(working()).await;
    assert_eq!(
        h.observe_scm(&p1(), &scm(PrState::None, 0)).await,
        Applied::Unchanged,
        "J9"
    );

    let mut waiting = lc(
        SessionState::NeedsInput,
        SessionReason::AwaitingUserInput,
        RuntimeState::Alive,
    );
    waiting.num = 2;
    waiting.id = sid("proj-2");
    h.seed(waiting).await;
    h.observe_scm(&sid("proj-2"), &scm(PrState::Closed, 7))
        .await;
    let r = h.load(&sid("proj-2")).await;
    assert_eq!(
        r.lifecycle.session,
        SessionAxis::new(SessionState::Idle, SessionReason::AwaitingUserInput),
        "J10"
    );
    assert_eq!(
        (r.lifecycle.pr.state, r.lifecycle.pr.reason),
        (PrState::Closed, PrReason::ClosedUnmerged),
        "J10"
    );

    let mut detecting = detecting_lc();
    detecting.num = 3;
    detecting.id = sid("proj-3");
    h.seed(detecting).await;
    h.observe_scm(&sid("proj-3"), &scm(PrState::Merged, 7))
        .await;
    let r = h.load(&sid("proj-3")).await;
    assert_eq!(
        r.lifecycle.session,
        SessionAxis::new(SessionState::Idle, SessionReason::MergedWaitingDecision),
        "J11"
    );
    assert_eq!(r.lifecycle.detecting, None, "J11 memory cleared");
}

// ------------------------------------------------------------------------------------------
// K. Command entry points and the store

fn spec(branch: &str) -> NewSessionSpec {
    NewSessionSpec {
        project_id: ProjectId::parse("proj").unwrap(),
        issue_id: None,
        kind: SessionKind::Worker,
        agent: "claude-code".to_owned(),
        branch: branch.to_owned(),
        prompt: "do it".to_owned(),
        spawn_request_id: None,
        extra_metadata: Default::default(),
    }
}

fn outcome(id: &SessionId) -> SpawnOutcome {
    SpawnOutcome {
        branch: "feat/x".to_owned(),
        workspace_path: "/w/x".to_owned(),
        runtime_handle: RuntimeHandle {
            id: id.as_str().to_owned(),
            runtime_name: "tmux".to_owned(),
            pane_id: Some("%3".to_owned()),
        },
        agent_session_id: Some("agent-1".to_owned()),
        prompt: None,
    }
}

async fn k1_create_then_complete(b: Subject) {
    let mut h = harness(&b);
    h.start();
    let created = h
        .lcm
        .on_spawn_initiated(SpawnInitiation::Create(spec("feat/x")))
        .await
        .unwrap();
    let r = created.record;
    assert_eq!(r.id.as_str(), "proj-1");
    assert_eq!(r.revision, 1);
    assert_eq!(
        r.lifecycle.session,
        SessionAxis::new(SessionState::NotStarted, SessionReason::SpawnRequested)
    );
    assert_eq!(
        r.lifecycle.runtime,
        RuntimeAxis::new(RuntimeState::Unknown, RuntimeReason::SpawnIncomplete)
    );
    assert_eq!(
        r.lifecycle.pr,
        PrAxis::bare(PrState::None, PrReason::NotCreated)
    );
    assert_eq!(status_of(&r), Status::Spawning);
    assert_eq!(r.meta(meta::BRANCH), Some("feat/x"));
    assert!(!r.launch.id.is_empty());

    let done = h
        .lcm
        .on_spawn_completed(&r.id, &outcome(&r.id))
        .await
        .unwrap();
    assert_eq!(
        done.lifecycle.runtime,
        RuntimeAxis::new(RuntimeState::Alive, RuntimeReason::ProcessRunning)
    );
    assert_eq!(done.lifecycle.session.state, SessionState::NotStarted);
    assert_eq!(status_of(&done), Status::Spawning);
    for (key, value) in [
        (meta::BRANCH, "feat/x"),
        (meta::WORKSPACE_PATH, "/w/x"),
        (meta::RUNTIME_HANDLE_ID, "proj-1"),
        (meta::RUNTIME_NAME, "tmux"),
        (meta::RUNTIME_PANE_ID, "%3"),
        (meta::AGENT_SESSION_ID, "agent-1"),
    ] {
        assert_eq!(done.meta(key), Some(value), "{key}");
    }
    assert_eq!(done.launch.started_at, Some(t0()));
    h.wait_idle().await;
    assert!(h.notifier.events().is_empty(), "no reaction");
}

async fn k2_complete_unknown(b: Subject) {
    let h = harness(&b);
    let err = h
        .lcm
        .on_spawn_completed(&p1(), &outcome(&p1()))
        .await
        .unwrap_err();
    assert_eq!(err, LcmError::UnseededSession(p1()));
    assert!(h.store.load(&p1()).await.unwrap().is_none());
}

async fn k3_kill_kinds(b: Subject) {
    let h = harness(&b);
    let cases = [
        (
            KillKind::Manual,
            SessionReason::ManuallyKilled,
            RuntimeReason::ManualKillRequested,
            Status::Killed,
        ),
        (
            KillKind::Cleanup,
            SessionReason::AutoCleanup,
            RuntimeReason::AutoCleanup,
            Status::Cleanup,
        ),
        (
            KillKind::Error,
            SessionReason::ErrorInProcess,
            RuntimeReason::ProbeError,
            Status::Errored,
        ),
    ];
    for (i, (kind, reason, runtime_reason, status)) in cases.into_iter().enumerate() {
        let mut rec = detecting_lc();
        rec.num = i as u64 + 1;
        rec.id = sid(&format!("proj-{}", rec.num));
        let id = rec.id.clone();
        h.seed(rec).await;
        let mut why = KillReason::new(kind);
        why.detail = Some("by test".to_owned());
        h.lcm.on_kill_requested(&id, &why).await.unwrap();
        let r = h.load(&id).await;
        assert_eq!(
            r.lifecycle.session,
            SessionAxis::new(SessionState::Terminated, reason)
        );
        assert_eq!(
            r.lifecycle.runtime,
            RuntimeAxis::new(RuntimeState::Exited, runtime_reason)
        );
        assert_eq!(r.lifecycle.detecting, None);
        assert_eq!(status_of(&r), status);
        assert_eq!(r.meta(meta::TERMINATION_DETAIL), Some("by test"));
    }
}

async fn k4_k5_kill_unknown_and_terminal(b: Subject) {
    let h = harness(&b);
    let out = h
        .lcm
        .on_kill_requested(&p1(), &KillReason::new(KillKind::Manual))
        .await
        .unwrap();
    assert_eq!(out, Applied::UnknownSession, "K4");
    assert!(h.store.load(&p1()).await.unwrap().is_none());
    h.seed(lc(
        SessionState::Terminated,
        SessionReason::RuntimeLost,
        RuntimeState::Exited,
    ))
    .await;
    let out = h
        .lcm
        .on_kill_requested(&p1(), &KillReason::new(KillKind::Manual))
        .await
        .unwrap();
    assert_eq!(out, Applied::Unchanged, "K5");
    assert_eq!(
        h.load(&p1()).await.lifecycle.session.reason,
        SessionReason::RuntimeLost
    );
}

async fn k7_reopen_of_active_session(b: Subject) {
    let h = harness(&b);
    h.seed(working()).await;
    let err = h
        .lcm
        .on_spawn_initiated(SpawnInitiation::Reopen(p1()))
        .await
        .unwrap_err();
    assert_eq!(err, LcmError::ActiveSession(p1()));
    assert_eq!(h.load(&p1()).await.revision, 1);
}

async fn k8_reopen(b: Subject) {
    let h = harness(&b);
    let mut rec = lc(
        SessionState::Terminated,
        SessionReason::ManuallyKilled,
        RuntimeState::Exited,
    );
    rec.lifecycle.pr = PrAxis {
        state: PrState::Open,
        reason: PrReason::CiFailing,
        number: Some(7),
        url: Some("u".into()),
    };
    rec.lifecycle.activity.state = Some(ActivityState::Idle);
    rec.launch.first_signal_at = Some(t0());
    rec.metadata.insert(meta::BRANCH.into(), "feat/x".into());
    h.seed(rec).await;
    let r = h
        .lcm
        .on_spawn_initiated(SpawnInitiation::Reopen(p1()))
        .await
        .unwrap()
        .record;
    assert_ne!(r.launch.id, "L1");
    assert_eq!(
        r.lifecycle.pr,
        PrAxis::bare(PrState::None, PrReason::ClearedOnRestore)
    );
    assert_eq!(r.lifecycle.activity, ao::domain::ActivityAxis::UNSET);
    assert_eq!(
        (r.launch.started_at, r.launch.first_signal_at),
        (None, None)
    );
    assert_eq!(r.meta(meta::BRANCH), Some("feat/x"));
    assert_eq!(status_of(&r), Status::Spawning);
    assert_eq!(
        events(&h.store, &p1()).await.last().unwrap().event_type,
        EventType::SessionStateChanged
    );
}

async fn k9_k10_event_types_and_payloads(b: Subject) {
    let h = harness(&b);
    let created = h
        .lcm
        .on_spawn_initiated(SpawnInitiation::Create(spec("")))
        .await
        .unwrap()
        .record;
    let id = created.id.clone();
    let launch = Some(created.launch.id.clone());
    let sig = |activity, at: u64| ActivitySignal {
        launch_id: launch.clone(),
        timestamp: Some(t0().plus(secs(at))),
        ..valid(activity)
    };
    h.signal(&id, &sig(ActivityState::WaitingInput, 1)).await; // state changed
    h.signal(&id, &sig(ActivityState::WaitingInput, 2)).await; // activity only
    h.signal(
        &id,
        &ActivitySignal {
            agent_session_id: Some("a".into()),
            activity: None,
            confidence: SignalConfidence::Null,
            launch_id: launch.clone(),
            ..valid(ActivityState::Active)
        },
    )
    .await;
    h.observe_scm(&id, &ci_failing(scm(PrState::Open, 5), "t"))
        .await; // PR
    h.runtime(
        &id,
        &RuntimeFacts {
            launch_id: launch.clone(),
            ..probe(ProbeResult::Alive, ProbeResult::Alive)
        },
    )
    .await; // runtime
    h.lcm
        .on_kill_requested(&id, &KillReason::new(KillKind::Manual))
        .await
        .unwrap();
    let types: Vec<_> = events(&h.store, &id)
        .await
        .into_iter()
        .map(|e| e.event_type)
        .collect();
    assert_eq!(
        types,
        [
            EventType::SessionCreated,
            EventType::SessionStateChanged,
            EventType::SessionActivityUpdated,
            EventType::SessionUpdated,
            EventType::SessionPrUpdated,
            EventType::SessionRuntimeUpdated,
            EventType::SessionTerminated,
        ]
    );
    for (i, e) in events(&h.store, &id).await.iter().enumerate() {
        assert_eq!(e.payload["version"], 1);
        assert_eq!(e.payload["record"]["revision"], i as u64 + 1);
        assert!(e.payload.get("status").is_none() && e.payload["record"].get("status").is_none());
    }
}

// ------------------------------------------------------------------------------------------
// L. Reactions

/// `openPR(review_pending)` with a routable pane, the dispatchers running.
async fn reaction_harness(b: &Subject, policies: ReactionPolicies) -> Harness {
    let mut h = Harness::with_policies(b.store.clone(), t0(), policies);
    h.start();
    h.seed(with_handle(open_pr(PrReason::ReviewPending))).await;
    h
}

async fn l1_ci_failure_sends_log_tail(b: Subject) {
    let h = reaction_harness(&b, ReactionPolicies::default()).await;
    h.observe_scm(
        &p1(),
        &ci_failing(scm(PrState::Open, 7), "build failed\nundefined: foo"),
    )
    .await;
    h.wait_idle().await;
    assert_eq!(h.messenger.writes().len(), 1);
    let text = &h.messenger.texts()[0];
    assert!(
        text.contains("CI is failing") && text.contains("build failed\nundefined: foo"),
        "{text}"
    );
    assert!(text.contains("PR: https://example.com/pr/7"), "{text}");
    assert_eq!(h.notified("reaction.escalated"), 0);

    // L23: a restarted daemon over the same store, the observer re-fetching the same facts.
    let mut again = Harness::new(b.store.clone(), t0());
    again.start();
    again
        .observe_scm(
            &p1(),
            &ci_failing(scm(PrState::Open, 7), "build failed\nundefined: foo"),
        )
        .await;
    again.wait_idle().await;
    assert!(
        again.messenger.writes().is_empty(),
        "L23: no additional send"
    );
}

async fn l2_comments(b: Subject) {
    let h = reaction_harness(&b, ReactionPolicies::default()).await;
    let mut bot = review_pending(scm(PrState::Open, 7));
    bot.pending_comments = vec![comment("b1", true, "unused import")];
    h.observe_scm(&p1(), &bot).await;
    h.wait_idle().await;
    assert_eq!(h.sends_containing("automated reviewer"), 1);

    let mut second = with_handle(open_pr(PrReason::ReviewPending));
    second.num = 2;
    second.id = sid("proj-2");
    h.seed(second).await;
    let mut human = review_pending(scm(PrState::Open, 8));
    human.pending_comments = vec![comment("c1", false, "rename this function")];
    h.observe_scm(&sid("proj-2"), &human).await;
    h.wait_idle().await;
    let texts = h.messenger.texts();
    let sent = texts
        .iter()
        .find(|t| t.contains("reviewer requested changes"))
        .expect("human comments sent");
    assert!(
        sent.contains("rename this function") && sent.contains("src/lib.rs:3 (@alice)"),
        "{sent}"
    );
}

async fn l3_l4_conflicts_and_approval(b: Subject) {
    let h = reaction_harness(&b, ReactionPolicies::default()).await;
    let mut conflicts = scm(PrState::Open, 7);
    conflicts.mergeability = ao::domain::Mergeability {
        mergeable: false,
        ci_passing: true,
        approved: false,
        no_conflicts: false,
        blockers: vec!["merge conflicts".into()],
    };
    h.observe_scm(&p1(), &conflicts).await;
    h.wait_idle().await;
    assert_eq!(h.sends_containing("merge conflicts"), 1, "L3");

    h.observe_scm(&p1(), &approved_mergeable(scm(PrState::Open, 7)))
        .await;
    h.wait_idle().await;
    assert_eq!(h.messenger.writes().len(), 1, "L4: no send");
    let events = h.notifier.of_type("reaction.approved-and-green");
    assert_eq!(events.len(), 1, "L4");
    assert!(events[0].message.contains("ready for a human to merge"));
}

async fn l5_needs_input_notifies(b: Subject) {
    let mut h = harness(&b);
    h.start();
    h.seed(with_handle(working())).await;
    h.signal(&p1(), &valid(ActivityState::WaitingInput)).await;
    h.wait_idle().await;
    let events = h.notifier.of_type("reaction.agent-needs-input");
    assert_eq!(events.len(), 1);
    assert!(events[0].message.contains("waiting for"));
    assert_eq!(events[0].priority, ao::domain::Priority::Urgent);

    let mut second = with_handle(working());
    second.num = 2;
    second.id = sid("proj-2");
    h.seed(second).await;
    h.signal(&sid("proj-2"), &valid(ActivityState::Blocked))
        .await;
    h.wait_idle().await;
    let events = h.notifier.of_type("reaction.agent-needs-input");
    assert_eq!(events.len(), 2);
    assert!(
        events[1].message.contains("permission decision is pending"),
        "{}",
        events[1].message
    );
    assert!(h.messenger.writes().is_empty());
}

async fn l6_l7_l8_notifications(b: Subject) {
    let mut h = harness(&b);
    h.start();
    h.seed(detecting_lc()).await;
    h.runtime(&p1(), &probe(ProbeResult::Dead, ProbeResult::Dead))
        .await;
    h.wait_idle().await;
    assert_eq!(status_of(&h.load(&p1()).await), Status::Terminated);
    assert_eq!(h.notified("reaction.agent-exited"), 1, "L6");

    for (n, state, event) in [
        (2, PrState::Closed, "reaction.pr-closed"),
        (3, PrState::Merged, "reaction.all-complete"),
    ] {
        let mut rec = open_pr(PrReason::ReviewPending);
        rec.num = n;
        rec.id = sid(&format!("proj-{n}"));
        let id = rec.id.clone();
        h.seed(rec).await;
        h.observe_scm(&id, &scm(state, 7)).await;
        h.wait_idle().await;
        assert_eq!(h.notified(event), 1, "L7 {event}");
    }

    let mut live = working();
    live.num = 4;
    live.id = sid("proj-4");
    h.seed(live).await;
    let before = h.notifier.events().len();
    h.lcm
        .on_kill_requested(&sid("proj-4"), &KillReason::new(KillKind::Manual))
        .await
        .unwrap();
    h.wait_idle().await;
    assert_eq!(
        h.notifier.events().len(),
        before,
        "L8: an explicit kill notifies nothing"
    );
}

/// One CI round: failing with `tail`, then pending with review pending.
async fn ci_round(h: &Harness, tail: &str) {
    h.observe_scm(&p1(), &ci_failing(scm(PrState::Open, 7), tail))
        .await;
    h.wait_idle().await;
    h.observe_scm(&p1(), &review_pending(scm(PrState::Open, 7)))
        .await;
    h.wait_idle().await;
}

async fn l9_ci_budget_escalates_once(b: Subject) {
    let h = reaction_harness(&b, ReactionPolicies::default()).await;
    for i in 1..=4 {
        ci_round(&h, &format!("fail round {i}")).await;
    }
    assert_eq!(h.sends_containing("CI is failing"), 2);
    let escalations = h.notifier.of_type("reaction.escalated");
    assert_eq!(escalations.len(), 1);
    assert_eq!(
        escalations[0].data,
        serde_json::json!({"reaction": "ci-failed"})
    );
    assert_eq!(escalations[0].priority, ao::domain::Priority::Urgent);
}

async fn l10_same_signature_sends_once(b: Subject) {
    let h = reaction_harness(&b, ReactionPolicies::default()).await;
    for _ in 0..4 {
        ci_round(&h, "same failure").await;
    }
    assert_eq!(h.sends_containing("CI is failing"), 1);
    assert_eq!(h.notified("reaction.escalated"), 0);
    assert_eq!(
        h.tracker(&p1(), ReactionKey::CiFailed)
            .await
            .unwrap()
            .attempts,
        1
    );
}

async fn l11_draft_flap_keeps_ci_tracker(b: Subject) {
    let mut h = harness(&b);
    h.start();
    let mut rec = with_handle(working());
    rec.lifecycle.pr = PrAxis {
        state: PrState::Draft,
        reason: PrReason::InProgress,
        number: Some(7),
        url: None,
    };
    h.seed(rec).await;
    h.observe_scm(&p1(), &ci_failing(scm(PrState::Draft, 7), "x"))
        .await;
    h.wait_idle().await;
    let mut pending = scm(PrState::Draft, 7);
    pending.ci_summary = CiSummary::Pending;
    h.observe_scm(&p1(), &pending).await;
    h.wait_idle().await;
    assert!(h.tracker(&p1(), ReactionKey::CiFailed).await.is_some());
}

fn changes_requested_with(comments: Vec<PendingComment>) -> ScmFacts {
    let mut f = scm(PrState::Open, 7);
    f.review_decision = ReviewDecision::ChangesRequested;
    f.pending_comments = comments;
    f
}

async fn l12_l13_time_escalation(b: Subject) {
    let h = reaction_harness(&b, ReactionPolicies::default()).await;
    h.observe_scm(
        &p1(),
        &changes_requested_with(vec![comment("c1", false, "fix")]),
    )
    .await;
    h.wait_idle().await;
    assert_eq!(h.messenger.writes().len(), 1);
    assert_eq!(
        h.lcm.tick_escalations(t0().plus(mins(10))).await.unwrap(),
        0
    );
    assert_eq!(
        h.lcm.tick_escalations(t0().plus(mins(30))).await.unwrap(),
        1,
        "inclusive"
    );
    h.wait_idle().await;
    assert_eq!(h.notified("reaction.escalated"), 1, "L12");
    assert_eq!(
        h.lcm.tick_escalations(t0().plus(mins(31))).await.unwrap(),
        0,
        "once"
    );

    // L13: a kill deletes the trackers; nothing escalates afterwards.
    let mut second = with_handle(open_pr(PrReason::ReviewPending));
    second.num = 2;
    second.id = sid("proj-2");
    h.seed(second).await;
    h.observe_scm(
        &sid("proj-2"),
        &changes_requested_with(vec![comment("c2", false, "fix")]),
    )
    .await;
    h.wait_idle().await;
    assert!(
        h.tracker(&sid("proj-2"), ReactionKey::ChangesRequested)
            .await
            .is_some()
    );
    h.lcm
        .on_kill_requested(&sid("proj-2"), &KillReason::new(KillKind::Manual))
        .await
        .unwrap();
    assert!(
        h.store.trackers(&sid("proj-2")).await.unwrap().is_empty(),
        "L13"
    );
    assert_eq!(
        h.lcm.tick_escalations(t0().plus(mins(60))).await.unwrap(),
        0,
        "L13"
    );
}

async fn l14_failed_sends_consume_no_budget(b: Subject) {
    let h = reaction_harness(&b, ReactionPolicies::default()).await;
    h.messenger.set_failing(true);
    for i in 1..=5 {
        ci_round(&h, "same failure").await;
        assert_eq!(h.messenger.attempts(), i, "round {i}");
        assert_eq!(
            h.tracker(&p1(), ReactionKey::CiFailed)
                .await
                .unwrap()
                .attempts,
            0,
            "round {i}"
        );
    }
    assert_eq!(h.notified("reaction.escalated"), 0);
}

async fn idle_rounds(h: &Harness, rounds: u64) {
    for i in 0..rounds {
        let at = |s| t0().plus(secs(10 * i + s));
        h.signal(
            &p1(),
            &ActivitySignal {
                timestamp: Some(at(1)),
                ..valid(ActivityState::Idle)
            },
        )
        .await;
        h.wait_idle().await;
        h.signal(
            &p1(),
            &ActivitySignal {
                timestamp: Some(at(2)),
                ..valid(ActivityState::Active)
            },
        )
        .await;
        h.wait_idle().await;
    }
}

async fn l15_agent_idle_default_and_nudging(b: Subject) {
    let mut h = harness(&b);
    h.start();
    h.seed(with_handle(working())).await;
    idle_rounds(&h, 3).await;
    let idle = h.notifier.of_type("reaction.agent-idle");
    assert_eq!(idle.len(), 3);
    assert!(idle.iter().all(
        |e| e.priority == ao::domain::Priority::Info && e.message.contains("finished its turn")
    ));
    assert!(h.messenger.writes().is_empty());

    let store: Arc<dyn ao::ports::Backend> = Arc::new(MemoryStore::new());
    let mut policies = ReactionPolicies::default();
    policies.set_action(ReactionKey::AgentIdle, ReactionAction::SendToAgent);
    let mut h = Harness::with_policies(store, t0(), policies);
    h.start();
    h.seed(with_handle(working())).await;
    idle_rounds(&h, 3).await;
    assert_eq!(h.sends_containing("You appear to be idle"), 2);
    let escalations = h.notifier.of_type("reaction.escalated");
    assert_eq!(escalations.len(), 1);
    assert_eq!(
        escalations[0].data,
        serde_json::json!({"reaction": "agent-idle"})
    );
}

async fn l16_recovery_resets_budget(b: Subject) {
    let h = reaction_harness(&b, ReactionPolicies::default()).await;
    for i in 1..=3 {
        ci_round(&h, &format!("fail round {i}")).await;
    }
    assert_eq!(h.notified("reaction.escalated"), 1);
    h.observe_scm(&p1(), &approved_mergeable(scm(PrState::Open, 7)))
        .await;
    h.wait_idle().await;
    assert!(
        h.tracker(&p1(), ReactionKey::CiFailed).await.is_none(),
        "recovery ends the incident"
    );
    h.observe_scm(&p1(), &ci_failing(scm(PrState::Open, 7), "fail round 1"))
        .await;
    h.wait_idle().await;
    assert_eq!(h.sends_containing("CI is failing"), 3);
}

async fn l17_l18_merge_ends_incidents_and_empty_tick(b: Subject) {
    let h = reaction_harness(&b, ReactionPolicies::default()).await;
    assert_eq!(h.lcm.tick_escalations(t0()).await.unwrap(), 0, "L18");
    assert_eq!(h.load(&p1()).await.revision, 1, "L18: no record write");
    assert!(h.reactions.is_idle().await.unwrap(), "L18: no queue rows");
    h.observe_scm(&p1(), &ci_failing(scm(PrState::Open, 7), "x"))
        .await;
    h.wait_idle().await;
    assert!(h.tracker(&p1(), ReactionKey::CiFailed).await.is_some());
    h.observe_scm(&p1(), &scm(PrState::Merged, 7)).await;
    h.wait_idle().await;
    assert!(h.store.trackers(&p1()).await.unwrap().is_empty(), "L17");
}

async fn l19_events_carry_the_project(b: Subject) {
    let mut h = harness(&b);
    h.start();
    let mut rec = with_handle(open_pr(PrReason::ReviewPending));
    rec.project_id = ProjectId::parse("acme").unwrap();
    rec.id = sid("acme-1");
    let id = rec.id.clone();
    h.seed(rec).await;
    h.observe_scm(&id, &approved_mergeable(scm(PrState::Open, 7)))
        .await;
    h.wait_idle().await;
    let green = h.notifier.of_type("reaction.approved-and-green");
    assert_eq!(
        (green[0].project_id.as_str(), green[0].session_id.as_str()),
        ("acme", "acme-1")
    );

    for i in 1..=3 {
        h.observe_scm(
            &id,
            &ci_failing(scm(PrState::Open, 7), &format!("round {i}")),
        )
        .await;
        h.wait_idle().await;
        h.observe_scm(&id, &review_pending(scm(PrState::Open, 7)))
            .await;
        h.wait_idle().await;
    }
    h.observe_scm(
        &id,
        &changes_requested_with(vec![comment("c1", false, "x")]),
    )
    .await;
    h.wait_idle().await;
    h.lcm.tick_escalations(t0().plus(mins(30))).await.unwrap();
    h.wait_idle().await;
    let escalations = h.notifier.of_type("reaction.escalated");
    assert_eq!(escalations.len(), 2, "numeric and time escalation");
    assert!(escalations.iter().all(|e| e.project_id.as_str() == "acme"));
}

async fn l20_exited_agent_gets_no_nudge(b: Subject) {
    let h = reaction_harness(&b, ReactionPolicies::default()).await;
    h.signal(&p1(), &valid(ActivityState::Exited)).await;
    h.observe_scm(&p1(), &ci_failing(scm(PrState::Open, 7), "x"))
        .await;
    h.wait_idle().await;
    assert!(h.messenger.writes().is_empty());
    assert_eq!(
        h.tracker(&p1(), ReactionKey::CiFailed)
            .await
            .unwrap()
            .attempts,
        0
    );
}

async fn l21_guard_sees_blocked(b: Subject) {
    let mut h = Harness::new(b.store.clone(), t0());
    h.start_reactions();
    h.seed(with_handle(open_pr(PrReason::ReviewPending))).await;
    h.observe_scm(&p1(), &ci_failing(scm(PrState::Open, 7), "x"))
        .await;
    // The nudge is queued (budget spent) but not yet written…
    h.wait_idle_reactions_only().await;
    assert_eq!(
        h.tracker(&p1(), ReactionKey::CiFailed)
            .await
            .unwrap()
            .attempts,
        1
    );
    // …when a permission dialog opens, right before the delivery worker's re-read.
    h.signal(&p1(), &valid(ActivityState::Blocked)).await;
    h.start_delivery();
    h.wait_idle().await;
    assert_eq!(h.messenger.attempts(), 0, "no pane write");
    let nudge = h.store.message(1).await.unwrap().expect("the nudge row");
    assert_eq!(
        nudge.reason.as_deref(),
        Some("suppressed_awaiting_user"),
        "refused by the guard"
    );
    assert_eq!(
        h.tracker(&p1(), ReactionKey::CiFailed)
            .await
            .unwrap()
            .attempts,
        0,
        "budget rolled back"
    );
    assert_eq!(h.notified("reaction.agent-needs-input"), 1);
}

async fn l22_provider_text_is_sanitised(b: Subject) {
    let h = reaction_harness(&b, ReactionPolicies::default()).await;
    let tail = "\u{1b}[31merror\u{1b}[0m\u{7} in ````` block";
    h.observe_scm(&p1(), &ci_failing(scm(PrState::Open, 7), tail))
        .await;
    h.wait_idle().await;
    let text = &h.messenger.texts()[0];
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}'),
        "{text:?}"
    );
    assert!(text.contains("\n``````\n"), "six-backtick fence: {text}");
    assert!(!text.contains("```````"), "not seven");
}

// ------------------------------------------------------------------------------------------
// S. A liveness-stuck session stays stuck

async fn s1_failed_probe_on_stuck(b: Subject) {
    let mut h = harness(&b);
    h.start();
    h.seed(stuck_lc(SessionReason::ProbeFailure)).await;
    h.runtime(&p1(), &probe(ProbeResult::Failed, ProbeResult::Failed))
        .await;
    h.wait_idle().await;
    let r = h.load(&p1()).await;
    assert_eq!(
        r.lifecycle.session,
        SessionAxis::new(SessionState::Stuck, SessionReason::ProbeFailure)
    );
    assert_eq!(r.lifecycle.detecting, None);
    assert_eq!(
        r.lifecycle.runtime,
        RuntimeAxis::new(RuntimeState::ProbeFailed, RuntimeReason::ProbeError)
    );
    assert_eq!(r.revision, 2);
    assert_eq!(
        events(&h.store, &p1()).await.last().unwrap().event_type,
        EventType::SessionRuntimeUpdated
    );
    assert_eq!(h.notified("reaction.agent-stuck"), 0);
}

async fn s2_stuck_fires_once(b: Subject) {
    let mut h = harness(&b);
    h.start();
    h.seed(working()).await;
    let states: Vec<_> = {
        let mut out = vec![];
        for s in [0, 5, 10] {
            h.runtime(
                &p1(),
                &probe_at(ProbeResult::Failed, ProbeResult::Failed, t0().plus(secs(s))),
            )
            .await;
            out.push(h.load(&p1()).await.lifecycle.session.state);
        }
        out
    };
    assert_eq!(
        states,
        [
            SessionState::Detecting,
            SessionState::Detecting,
            SessionState::Stuck
        ]
    );
    h.wait_idle().await;
    assert_eq!(h.notified("reaction.agent-stuck"), 1);
    let seq_at_escalation = events(&h.store, &p1()).await.last().unwrap().seq;
    for s in (15..=60).step_by(5).take(10) {
        h.runtime(
            &p1(),
            &probe_at(ProbeResult::Failed, ProbeResult::Failed, t0().plus(secs(s))),
        )
        .await;
        let r = h.load(&p1()).await;
        assert_eq!(
            r.lifecycle.session,
            SessionAxis::new(SessionState::Stuck, SessionReason::ProbeFailure)
        );
        assert_eq!(r.lifecycle.detecting, None);
    }
    h.wait_idle().await;
    assert_eq!(h.notified("reaction.agent-stuck"), 1);
    for e in events(&h.store, &p1())
        .await
        .iter()
        .filter(|e| e.seq > seq_at_escalation)
    {
        assert_ne!(
            e.payload["record"]["lifecycle"]["session"]["state"],
            "detecting"
        );
    }
}

async fn s3_to_s6(b: Subject) {
    let mut h = harness(&b);
    h.start();
    let seed = |n: u64, mut rec: SessionRecord| {
        rec.num = n;
        rec.id = sid(&format!("proj-{n}"));
        rec
    };
    h.seed(seed(1, stuck_lc(SessionReason::ProbeFailure))).await;
    h.runtime(
        &sid("proj-1"),
        &probe(ProbeResult::Dead, ProbeResult::Indeterminate),
    )
    .await;
    let r = h.load(&sid("proj-1")).await;
    assert_eq!(
        r.lifecycle.session,
        SessionAxis::new(SessionState::Stuck, SessionReason::ProbeFailure),
        "S3"
    );
    assert_eq!(
        r.lifecycle.runtime,
        RuntimeAxis::new(RuntimeState::Exited, RuntimeReason::TmuxMissing),
        "S3"
    );

    h.seed(seed(2, stuck_lc(SessionReason::ProbeFailure))).await;
    h.runtime(
        &sid("proj-2"),
        &probe(ProbeResult::Alive, ProbeResult::Alive),
    )
    .await;
    let r = h.load(&sid("proj-2")).await;
    assert_eq!(
        r.lifecycle.session,
        SessionAxis::new(SessionState::Working, SessionReason::TaskInProgress),
        "S4"
    );
    assert_eq!(status_of(&r), Status::Working, "S4");

    h.seed(seed(3, stuck_lc(SessionReason::AgentProcessExited)))
        .await;
    h.signal(&sid("proj-3"), &valid(ActivityState::Active))
        .await;
    assert_eq!(
        h.load(&sid("proj-3")).await.lifecycle.session.state,
        SessionState::Working,
        "S5"
    );

    let mut s6 = seed(4, stuck_lc(SessionReason::RuntimeLost));
    s6.lifecycle.activity = ao::domain::ActivityAxis {
        state: Some(ActivityState::Active),
        last_activity_at: Some(t0().minus(mins(5))),
        source: ActivitySource::Hook,
    };
    h.seed(s6).await;
    h.runtime(&sid("proj-4"), &probe(ProbeResult::Dead, ProbeResult::Dead))
        .await;
    h.wait_idle().await;
    let r = h.load(&sid("proj-4")).await;
    assert_eq!(
        r.lifecycle.session,
        SessionAxis::new(SessionState::Terminated, SessionReason::RuntimeLost),
        "S6"
    );
    assert_eq!(status_of(&r), Status::Terminated, "S6");
    assert_eq!(h.notified("reaction.agent-exited"), 1, "S6");
}

async fn s7_s8_kill_and_restore_stuck(b: Subject) {
    let mut h = harness(&b);
    h.start();
    h.seed(stuck_lc(SessionReason::ProbeFailure)).await;
    h.lcm
        .on_kill_requested(&p1(), &KillReason::new(KillKind::Manual))
        .await
        .unwrap();
    h.wait_idle().await;
    assert_eq!(status_of(&h.load(&p1()).await), Status::Killed, "S7");
    assert!(h.notifier.events().is_empty(), "S7");
    let r = h
        .lcm
        .on_spawn_initiated(SpawnInitiation::Reopen(p1()))
        .await
        .unwrap()
        .record;
    assert_eq!(status_of(&r), Status::Spawning, "S8");
}

async fn s9_merge_while_stuck(b: Subject) {
    let mut h = harness(&b);
    h.start();
    let mut rec = stuck_lc(SessionReason::ProbeFailure);
    rec.lifecycle.pr = PrAxis {
        state: PrState::Open,
        reason: PrReason::InProgress,
        number: Some(7),
        url: None,
    };
    h.seed(rec).await;
    h.observe_scm(&p1(), &scm(PrState::Merged, 7)).await;
    h.wait_idle().await;
    let r = h.load(&p1()).await;
    assert_eq!(
        (r.lifecycle.pr.state, r.lifecycle.pr.reason),
        (PrState::Merged, PrReason::Merged)
    );
    assert_eq!(
        r.lifecycle.session,
        SessionAxis::new(SessionState::Stuck, SessionReason::ProbeFailure)
    );
    assert_eq!(status_of(&r), Status::Stuck);
    assert_eq!(h.notified("reaction.all-complete"), 0);
    h.runtime(&p1(), &probe(ProbeResult::Alive, ProbeResult::Alive))
        .await;
    h.wait_idle().await;
    let r = h.load(&p1()).await;
    assert_eq!(r.lifecycle.session.state, SessionState::Working);
    assert_eq!(status_of(&r), Status::Merged);
    assert_eq!(h.notified("reaction.all-complete"), 1);
}

async fn s10_quarantine_overrides_permission_dialog(b: Subject) {
    let h = harness(&b);
    let mut rec = lc(
        SessionState::NeedsInput,
        SessionReason::AwaitingUserInput,
        RuntimeState::Alive,
    );
    rec.lifecycle.activity.state = Some(ActivityState::Blocked);
    h.seed(rec).await;
    h.runtime(&p1(), &probe(ProbeResult::Failed, ProbeResult::Failed))
        .await;
    let r = h.load(&p1()).await;
    assert_eq!(
        r.lifecycle.session,
        SessionAxis::new(SessionState::Detecting, SessionReason::ProbeFailure)
    );
}

async fn s11_send_to_exited_agent_is_refused(b: Subject) {
    let mut h = harness(&b);
    h.start();
    h.seed(with_handle(stuck_lc(SessionReason::AgentProcessExited)))
        .await;
    let message = h
        .store
        .enqueue_message(NewMessage::deliver(p1(), "hello"), t0())
        .await
        .unwrap();
    h.lcm.wakeups().messages.notify_one();
    h.wait_idle().await;
    let m = h.store.message(message.id).await.unwrap().unwrap();
    assert_eq!(m.state, ao::domain::MessageState::Refused);
    assert_eq!(m.reason.as_deref(), Some("suppressed_exited"));
    assert_eq!(h.messenger.attempts(), 0, "no tmux call");
}

// ------------------------------------------------------------------------------------------
// T. Trackers end only with their incident

fn idle_nudging() -> ReactionPolicies {
    let mut p = ReactionPolicies::default();
    p.set_action(ReactionKey::AgentIdle, ReactionAction::SendToAgent);
    p
}

async fn t1_idle_tracker_spans_the_task(b: Subject) {
    let mut h = Harness::with_policies(b.store.clone(), t0(), idle_nudging());
    h.start();
    h.seed(with_handle(working())).await;
    h.signal(&p1(), &valid(ActivityState::Idle)).await;
    h.wait_idle().await;
    assert_eq!(h.messenger.writes().len(), 1);
    let tracker = h.tracker(&p1(), ReactionKey::AgentIdle).await.unwrap();
    assert_eq!(
        (tracker.attempts, tracker.first_attempt_at),
        (1, Some(t0()))
    );
    h.signal(
        &p1(),
        &ActivitySignal {
            timestamp: Some(t0().plus(mins(1))),
            ..valid(ActivityState::Idle)
        },
    )
    .await;
    h.signal(
        &p1(),
        &ActivitySignal {
            agent_session_id: Some("c".into()),
            activity: None,
            confidence: SignalConfidence::Null,
            ..valid(ActivityState::Idle)
        },
    )
    .await;
    h.wait_idle().await;
    assert_eq!(
        h.tracker(&p1(), ReactionKey::AgentIdle).await.unwrap(),
        tracker,
        "unchanged"
    );
    h.lcm.tick_escalations(t0().plus(mins(15))).await.unwrap();
    h.wait_idle().await;
    let e = h.notifier.of_type("reaction.escalated");
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].data, serde_json::json!({"reaction": "agent-idle"}));
}

async fn t2_changes_tracker_survives_ci_detour(b: Subject) {
    let h = reaction_harness(&b, ReactionPolicies::default()).await;
    let c1 = || changes_requested_with(vec![comment("c1", false, "fix")]);
    h.observe_scm(&p1(), &c1()).await;
    h.wait_idle().await;
    assert_eq!(h.messenger.writes().len(), 1);
    h.clock.set(t0().plus(mins(5)));
    h.observe_scm(&p1(), &ci_failing(c1(), "boom")).await;
    h.wait_idle().await;
    assert_eq!(h.sends_containing("CI is failing"), 1);
    assert!(
        h.tracker(&p1(), ReactionKey::ChangesRequested)
            .await
            .is_some()
    );
    h.clock.set(t0().plus(mins(10)));
    let mut passing = c1();
    passing.ci_summary = CiSummary::Passing;
    h.observe_scm(&p1(), &passing).await;
    h.wait_idle().await;
    assert_eq!(h.messenger.writes().len(), 2, "same signature: no new send");
    h.lcm.tick_escalations(t0().plus(mins(30))).await.unwrap();
    h.wait_idle().await;
    let e = h.notifier.of_type("reaction.escalated");
    assert_eq!(e.len(), 1);
    assert_eq!(
        e[0].data,
        serde_json::json!({"reaction": "changes-requested"})
    );
}

async fn t3_review_pending_ends_changes_incident(b: Subject) {
    let h = reaction_harness(&b, ReactionPolicies::default()).await;
    h.observe_scm(
        &p1(),
        &changes_requested_with(vec![comment("c1", false, "fix")]),
    )
    .await;
    h.wait_idle().await;
    assert!(
        h.tracker(&p1(), ReactionKey::ChangesRequested)
            .await
            .is_some()
    );
    h.observe_scm(&p1(), &review_pending(scm(PrState::Open, 7)))
        .await;
    assert!(
        h.tracker(&p1(), ReactionKey::ChangesRequested)
            .await
            .is_none()
    );
}

async fn t4_pr_appearing_ends_idle_incident(b: Subject) {
    let mut h = Harness::with_policies(b.store.clone(), t0(), idle_nudging());
    h.start();
    h.seed(with_handle(working())).await;
    h.signal(&p1(), &valid(ActivityState::Idle)).await;
    h.wait_idle().await;
    assert_eq!(h.sends_containing("You appear to be idle"), 1);
    h.observe_scm(&p1(), &ci_failing(scm(PrState::Open, 7), "x"))
        .await;
    h.wait_idle().await;
    assert_eq!(h.sends_containing("CI is failing"), 1);
    assert!(h.tracker(&p1(), ReactionKey::AgentIdle).await.is_none());
    h.runtime(&p1(), &probe(ProbeResult::Failed, ProbeResult::Failed))
        .await;
    assert_eq!(
        h.load(&p1()).await.lifecycle.session.state,
        SessionState::Detecting
    );
    assert!(
        h.tracker(&p1(), ReactionKey::CiFailed).await.is_some(),
        "persistent"
    );
}

async fn t5_t6_t7_tracker_lifetimes(b: Subject) {
    let h = reaction_harness(&b, ReactionPolicies::default()).await;
    h.observe_scm(
        &p1(),
        &ci_failing(
            changes_requested_with(vec![comment("c1", false, "x")]),
            "boom",
        ),
    )
    .await;
    h.wait_idle().await;
    let put = |key| Tracker {
        session_id: p1(),
        key,
        project_id: ProjectId::parse("proj").unwrap(),
        attempts: 1,
        first_attempt_at: Some(t0()),
        escalated: false,
        last_signature: None,
    };
    h.store
        .save_tracker(&put(ReactionKey::ChangesRequested))
        .await
        .unwrap();
    for _ in 0..10 {
        let mut f = scm(PrState::Open, 7);
        f.fetched = false;
        h.observe_scm(&p1(), &f).await;
    }
    assert!(
        h.tracker(&p1(), ReactionKey::CiFailed).await.is_some(),
        "T7"
    );
    h.observe_scm(&p1(), &scm(PrState::None, 0)).await;
    assert!(
        h.tracker(&p1(), ReactionKey::CiFailed).await.is_some(),
        "T6"
    );
    h.runtime(&p1(), &probe(ProbeResult::Dead, ProbeResult::Dead))
        .await;
    assert_eq!(
        h.load(&p1()).await.lifecycle.session.state,
        SessionState::Terminated
    );
    assert!(h.store.trackers(&p1()).await.unwrap().is_empty(), "T5");
}

// ------------------------------------------------------------------------------------------
// U. Ordered dispatch and revision CAS

async fn u1_stale_reaction_is_dropped(b: Subject) {
    let mut h = Harness::new(b.store.clone(), t0());
    h.seed(with_handle(open_pr(PrReason::ReviewPending))).await;
    h.observe_scm(&p1(), &ci_failing(scm(PrState::Open, 7), "x"))
        .await;
    h.observe_scm(&p1(), &approved_mergeable(scm(PrState::Open, 7)))
        .await;
    h.start();
    h.wait_idle().await;
    assert_eq!(h.sends_containing("CI is failing"), 0);
    assert_eq!(h.notified("reaction.approved-and-green"), 1);
}

async fn u2_superseded_reaction_is_dropped(b: Subject) {
    let mut h = Harness::new(b.store.clone(), t0());
    h.seed(with_handle(open_pr(PrReason::ReviewPending))).await;
    h.observe_scm(&p1(), &ci_failing(scm(PrState::Open, 7), "tail A"))
        .await;
    h.observe_scm(&p1(), &review_pending(scm(PrState::Open, 7)))
        .await;
    h.observe_scm(&p1(), &ci_failing(scm(PrState::Open, 7), "tail B"))
        .await;
    h.start();
    h.wait_idle().await;
    let texts = h.messenger.texts();
    assert_eq!(texts.len(), 1);
    assert!(texts[0].contains("tail B") && !texts[0].contains("tail A"));
}

async fn u3_order_property(b: Subject) {
    let mut h = harness(&b);
    h.start();
    h.seed(with_handle(open_pr(PrReason::ReviewPending))).await;
    h.messenger.set_delay(&p1(), Duration::from_millis(20));
    let mut rng = fastrand::Rng::with_seed(7);
    for i in 0..200u64 {
        let at = t0().plus(secs(i));
        match rng.u8(0..6) {
            0 => {
                h.signal(
                    &p1(),
                    &ActivitySignal {
                        timestamp: Some(at),
                        ..valid(ActivityState::Idle)
                    },
                )
                .await;
            }
            1 => {
                h.signal(
                    &p1(),
                    &ActivitySignal {
                        timestamp: Some(at),
                        ..valid(ActivityState::WaitingInput)
                    },
                )
                .await;
            }
            2 => {
                h.observe_scm(&p1(), &ci_failing(scm(PrState::Open, 7), &format!("t{i}")))
                    .await;
            }
            3 => {
                h.observe_scm(&p1(), &approved_mergeable(scm(PrState::Open, 7)))
                    .await;
            }
            4 => {
                h.observe_scm(&p1(), &review_pending(scm(PrState::Open, 7)))
                    .await;
            }
            _ => {
                h.signal(
                    &p1(),
                    &ActivitySignal {
                        timestamp: Some(at),
                        ..valid(ActivityState::Active)
                    },
                )
                .await;
            }
        }
    }
    // Let the agent go idle so queued nudges can be written, then drain.
    h.signal(
        &p1(),
        &ActivitySignal {
            timestamp: Some(t0().plus(secs(500))),
            ..valid(ActivityState::Idle)
        },
    )
    .await;
    h.wait_idle().await;
    let dispatched = h.reactions.dispatched();
    assert!(!dispatched.is_empty());
    let log = events(&h.store, &p1()).await;
    let mut last_seq = 0;
    for (_, seq, key, revision) in dispatched {
        assert!(seq > last_seq, "rows dispatched out of order");
        last_seq = seq;
        let record = log
            .iter()
            .find(|e| e.payload["record"]["revision"] == revision)
            .map(|e| serde_json::from_value::<SessionRecord>(e.payload["record"].clone()).unwrap())
            .expect("the re-read revision is in the change log");
        assert_eq!(
            reaction_key_for(&record),
            Some(key),
            "dispatched a key that was not current"
        );
    }

    // Two sessions: a pane write blocked on proj-1 does not delay proj-2.
    let mut a = with_handle(working());
    a.num = 2;
    a.id = sid("proj-2");
    // Not confirm-capable: only the one slow write matters here, not Enter re-sends.
    a.agent = "codex".to_owned();
    let mut c = with_handle(working());
    c.num = 3;
    c.id = sid("proj-3");
    h.seed(a).await;
    h.seed(c).await;
    let policies_nudge_idle = idle_nudging();
    drop(policies_nudge_idle);
    h.messenger
        .set_delay(&sid("proj-2"), Duration::from_secs(2));
    h.store
        .enqueue_message(NewMessage::deliver(sid("proj-2"), "slow"), t0())
        .await
        .unwrap();
    h.lcm.wakeups().messages.notify_one();
    h.signal(&sid("proj-3"), &valid(ActivityState::WaitingInput))
        .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while h
        .notifier
        .of_type("reaction.agent-needs-input")
        .iter()
        .all(|e| e.session_id != sid("proj-3"))
    {
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert!(
        !h.messenger
            .writes()
            .iter()
            .any(|(s, _)| *s == sid("proj-2")),
        "proj-3's notification arrived while proj-2's write was still blocked"
    );
    h.wait_idle().await;
}

async fn u4_committed_reaction_survives_restart(b: Subject) {
    {
        let h = harness(&b);
        h.seed(with_handle(working())).await;
        h.signal(&p1(), &valid(ActivityState::WaitingInput)).await;
        // Dropped before any dispatch: the "daemon" dies with the row committed.
    }
    let mut h = harness(&b);
    h.start();
    h.wait_idle().await;
    assert_eq!(h.notified("reaction.agent-needs-input"), 1);
}

async fn u5_nudge_is_never_typed_twice(b: Subject) {
    // The state a crash leaves between committing a nudge and deleting its reaction row: the
    // tracker with the signature, the queued nudge, and the reaction row still queued.
    {
        let h = harness(&b);
        h.seed(with_handle(open_pr(PrReason::ReviewPending))).await;
        h.observe_scm(&p1(), &ci_failing(scm(PrState::Open, 7), "x"))
            .await;
        let record = h.load(&p1()).await;
        let snapshot = h.store.scm_snapshot(&p1()).await.unwrap();
        let signature = ao::decide::reactions::nudge_signature(
            ReactionKey::CiFailed,
            &record,
            snapshot.as_ref(),
        );
        let tracker = Tracker {
            session_id: p1(),
            key: ReactionKey::CiFailed,
            project_id: record.project_id.clone(),
            attempts: 1,
            first_attempt_at: Some(t0()),
            escalated: false,
            last_signature: Some(signature.clone()),
        };
        let nudge = NewMessage::nudge(
            p1(),
            "CI is failing (replayed)",
            TrackerRollback {
                key: ReactionKey::CiFailed,
                set_first_attempt: true,
                previous_signature: None,
                signature,
            },
        );
        h.store.commit_nudge(&tracker, nudge, t0()).await.unwrap();
    }
    let mut h = harness(&b);
    h.start();
    h.wait_idle().await;
    assert_eq!(h.messenger.writes().len(), 1);
    assert_eq!(
        h.tracker(&p1(), ReactionKey::CiFailed)
            .await
            .unwrap()
            .attempts,
        1
    );
}

async fn u6_lost_cas_is_retried(b: Subject) {
    let scripted = ScriptedRecords::new(b.store.clone());
    let h = Harness::assemble(
        scripted.clone(),
        b.store.clone(),
        ao_testkit::fakes::ManualClock::new(t0()),
        ReactionPolicies::default(),
    );
    let mut rec = working();
    rec.revision = 3;
    h.seed(rec).await;
    // Writer B commits revision 4 between A's load (revision 3) and A's write.
    scripted.interleave_before_next_commit(|store| async move {
        let other = Lcm::new(
            store.clone(),
            store,
            ao_testkit::fakes::ManualClock::new(t0()),
            ReactionPolicies::default(),
            Arc::default(),
        );
        let signal = ActivitySignal {
            agent_session_id: Some("from-b".into()),
            activity: None,
            confidence: SignalConfidence::Null,
            ..valid(ActivityState::Active)
        };
        assert!(
            other
                .apply_activity_signal(&p1(), &signal)
                .await
                .unwrap()
                .changed()
                .is_some()
        );
    });
    h.signal(&p1(), &valid(ActivityState::Idle)).await;
    let r = h.load(&p1()).await;
    assert_eq!(r.revision, 5);
    assert_eq!(r.meta(meta::AGENT_SESSION_ID), Some("from-b"));
    assert_eq!(r.lifecycle.activity.state, Some(ActivityState::Idle));
    assert_eq!(scripted.commits.load(Ordering::SeqCst), 2);
}

async fn u7_always_conflicting_store(b: Subject) {
    let scripted = ScriptedRecords::new(b.store.clone());
    let h = Harness::assemble(
        scripted.clone(),
        b.store.clone(),
        ao_testkit::fakes::ManualClock::new(t0()),
        ReactionPolicies::default(),
    );
    h.seed(working()).await;
    scripted.always_conflict.store(true, Ordering::SeqCst);
    let err = h
        .lcm
        .apply_activity_signal(&p1(), &valid(ActivityState::Idle))
        .await
        .unwrap_err();
    assert!(
        matches!(err, LcmError::Store(StoreError::Conflict { .. })),
        "{err:?}"
    );
    assert_eq!(scripted.loads.load(Ordering::SeqCst), 5);
    assert_eq!(scripted.commits.load(Ordering::SeqCst), 5);
    assert_eq!(h.load(&p1()).await.revision, 1);
    assert_eq!(events(&h.store, &p1()).await.len(), 1);
}

async fn u10_lost_cas_leaves_nothing(b: Subject) {
    let h = harness(&b);
    h.seed(with_handle(open_pr(PrReason::ReviewPending))).await;
    let tracker = Tracker {
        session_id: p1(),
        key: ReactionKey::ChangesRequested,
        project_id: ProjectId::parse("proj").unwrap(),
        attempts: 1,
        first_attempt_at: Some(t0()),
        escalated: false,
        last_signature: None,
    };
    h.store.save_tracker(&tracker).await.unwrap();
    let patch = LifecyclePatch {
        session: Some(SessionAxis::new(
            SessionState::Terminated,
            SessionReason::ManuallyKilled,
        )),
        ..LifecyclePatch::default()
    };
    let err = h
        .store
        .commit(RecordWrite {
            id: p1(),
            expected_revision: 99,
            patch,
            event: EventType::SessionTerminated,
            updated_at: t0(),
            end_incidents: ReactionKey::ALL.to_vec(),
            enqueue: Some(ReactionKey::AgentExited),
            cause: None,
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }));
    assert_eq!(events(&h.store, &p1()).await.len(), 1, "no change_log row");
    assert!(
        h.tracker(&p1(), ReactionKey::ChangesRequested)
            .await
            .is_some(),
        "tracker kept"
    );
    assert!(h.reactions.is_idle().await.unwrap(), "no queue row");
}

async fn u11_concurrent_signals_in_one_process(b: Subject) {
    // Also the issue's check: 64 concurrent signals → revision == number of effective writes.
    let h = Arc::new(harness(&b));
    let mut rec = working();
    rec.launch.first_signal_at = Some(t0());
    h.seed(rec).await;
    let mut tasks = vec![];
    for i in 0..64u64 {
        let h = h.clone();
        tasks.push(tokio::spawn(async move {
            // Every other signal repeats its predecessor's timestamp: some are no-ops.
            let at = t0().plus(secs(i / 2 + 1));
            let activity = if (i / 2) % 2 == 0 {
                ActivityState::Active
            } else {
                ActivityState::Idle
            };
            h.lcm
                .apply_activity_signal(
                    &p1(),
                    &ActivitySignal {
                        timestamp: Some(at),
                        ..valid(activity)
                    },
                )
                .await
        }));
    }
    let mut effective = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(Applied::Changed(_)) => effective += 1,
            Ok(_) => {}
            Err(e) => panic!("no conflict may escape: {e}"),
        }
    }
    let r = h.load(&p1()).await;
    assert_eq!(r.revision - 1, effective);
    assert_eq!(events(&h.store, &p1()).await.len() as u64, effective + 1);
    assert!(effective >= 32, "at least one write per distinct timestamp");
}

async fn two_lcms_share_one_store(b: Subject) {
    let h = harness(&b);
    h.seed(working()).await;
    let mut wrappers = vec![];
    let make = |wrappers: &mut Vec<Arc<ScriptedRecords>>| {
        let records = ScriptedRecords::new(b.store.clone());
        records.yield_before_commit.store(true, Ordering::SeqCst);
        wrappers.push(records.clone());
        Arc::new(Lcm::new(
            records,
            b.store.clone(),
            ao_testkit::fakes::ManualClock::new(t0()),
            ReactionPolicies::default(),
            Arc::default(),
        ))
    };
    let (a, c) = (make(&mut wrappers), make(&mut wrappers));
    let mut tasks = vec![];
    for i in 0..40u64 {
        let lcm = if i % 2 == 0 { a.clone() } else { c.clone() };
        tasks.push(tokio::spawn(async move {
            let signal = ActivitySignal {
                timestamp: Some(t0().plus(secs(i + 1))),
                ..valid(ActivityState::Active)
            };
            lcm.apply_activity_signal(&p1(), &signal).await
        }));
    }
    // Five attempts can run out under heavy contention; a lost race must then be a clean
    // `Conflict` with nothing written (retrying is pinned deterministically by U6 and U7).
    let mut ok = 0u64;
    for t in tasks {
        match t.await.unwrap() {
            Ok(Applied::Changed(_)) => ok += 1,
            Err(LcmError::Store(StoreError::Conflict { .. })) => {}
            other => panic!("unexpected outcome {other:?}"),
        }
    }
    let commits: usize = wrappers
        .iter()
        .map(|w| w.commits.load(Ordering::SeqCst))
        .sum();
    assert!(
        commits as u64 > ok,
        "the writers really raced ({commits} commit attempts for {ok} writes)"
    );
    let r = h.load(&p1()).await;
    assert_eq!(r.revision - 1, ok, "no lost update");
    let revisions: Vec<u64> = events(&h.store, &p1())
        .await
        .iter()
        .map(|e| e.payload["record"]["revision"].as_u64().unwrap())
        .collect();
    assert_eq!(
        revisions,
        (1..=r.revision).collect::<Vec<_>>(),
        "gap-free, one row per write"
    );
}

// ------------------------------------------------------------------------------------------
// Causes: every entry point's commit names its observer and facts in the change-log row

/// The cause of the newest change-log row of `id`.
async fn last_cause(store: &Arc<dyn ao::ports::Backend>, id: &SessionId) -> serde_json::Value {
    let rows = store.session_events(id, None, 1).await.unwrap();
    rows[0].payload["cause"].clone()
}

async fn every_write_names_its_cause(b: Subject) {
    let h = harness(&b);
    let created = h
        .lcm
        .on_spawn_initiated(SpawnInitiation::Create(spec("feat/x")))
        .await
        .unwrap()
        .record;
    let id = created.id.clone();
    assert_eq!(
        last_cause(&b.store, &id).await,
        serde_json::json!({"observer": "spawn"})
    );
    let launch_id = created.launch.id.clone();

    h.lcm.on_spawn_completed(&id, &outcome(&id)).await.unwrap();
    let cause = last_cause(&b.store, &id).await;
    assert_eq!(
        cause,
        serde_json::json!({"observer": "launch", "runtime_handle": id.as_str(), "pane_id": "%3"})
    );

    let signal = ActivitySignal {
        launch_id: Some(launch_id.clone()),
        ..hook(HookEvent::Stop, Some(ActivityState::Ready))
    };
    assert!(h.signal(&id, &signal).await.changed().is_some());
    let cause = last_cause(&b.store, &id).await;
    assert_eq!(
        (&cause["observer"], &cause["event"], &cause["activity"]),
        (&"hook".into(), &"stop".into(), &"ready".into())
    );

    let facts = RuntimeFacts {
        launch_id: Some(launch_id),
        ..probe(ProbeResult::Alive, ProbeResult::Dead)
    };
    assert!(h.runtime(&id, &facts).await.changed().is_some());
    let cause = last_cause(&b.store, &id).await;
    assert_eq!(
        (&cause["observer"], &cause["process"], &cause["attempts"]),
        (&"reaper".into(), &"dead".into(), &1.into())
    );

    let mut pr = scm(PrState::Open, 12);
    pr.ci_summary = CiSummary::Failing;
    assert!(h.observe_scm(&id, &pr).await.changed().is_some());
    let cause = last_cause(&b.store, &id).await;
    assert_eq!(
        (&cause["observer"], &cause["number"], &cause["ci"]),
        (&"scm".into(), &12.into(), &"failing".into())
    );

    let before_kill = h.load(&id).await;
    let mut reason = KillReason::new(KillKind::Manual);
    reason.detail = Some("by hand".to_owned());
    h.lcm.on_kill_requested(&id, &reason).await.unwrap();
    assert_eq!(
        last_cause(&b.store, &id).await,
        serde_json::json!({"observer": "kill", "kind": "manual", "detail": "by hand"})
    );

    h.lcm
        .on_spawn_initiated(SpawnInitiation::Reopen(id.clone()))
        .await
        .unwrap();
    assert_eq!(
        last_cause(&b.store, &id).await,
        serde_json::json!({"observer": "restore"})
    );
    h.lcm
        .on_spawn_initiated(SpawnInitiation::Revert(before_kill))
        .await
        .unwrap();
    assert_eq!(
        last_cause(&b.store, &id).await,
        serde_json::json!({"observer": "revert"})
    );
    // A no-op writes no row, so it names no cause.
    let rows = b.store.session_events(&id, None, 512).await.unwrap().len();
    h.lcm.on_kill_requested(&id, &reason).await.unwrap();
    h.lcm.on_kill_requested(&id, &reason).await.unwrap();
    assert_eq!(
        b.store.session_events(&id, None, 512).await.unwrap().len(),
        rows + 1,
        "the second kill of an ended session writes nothing"
    );
}

over_backends!(
    g1_healthy_probe_never_overwrites_needs_input,
    every_write_names_its_cause,
    g2_healthy_probe_recovers_detecting,
    g3_failed_probe_starts_quarantine,
    g4_dead_probe_kills_detecting,
    g5_unknown_id_creates_nothing,
    g6_terminal_session_only_gets_runtime_axis,
    g7_running_sessions_excludes_terminal,
    g8_running_sessions_returns_store_errors,
    g9_stale_launch_probe_is_ignored,
    g10_recent_activity_window,
    g11_spawning_ends_when_the_agent_is_seen_running,
    h1_to_h5_activity_mapping,
    h6_concurrent_signals_all_land,
    h7_ready_blocked_exited,
    h8_null_signal_without_agent_id_is_noop,
    h9_metadata_only_hook,
    h10_agent_session_id_updates_but_never_blanks,
    h11_h12_launch_generations,
    h13_only_if_revision,
    h14_unknown_session,
    h15_first_signal_is_stamped_once,
    h16_terminal_session_takes_activity_only,
    i1_to_i9_gate,
    i10_suppressed_signal_still_does_bookkeeping,
    j1_to_j6_open_and_draft,
    j7_merged,
    j8_review_and_mergeability,
    j9_to_j11,
    k1_create_then_complete,
    k2_complete_unknown,
    k3_kill_kinds,
    k4_k5_kill_unknown_and_terminal,
    k7_reopen_of_active_session,
    k8_reopen,
    k9_k10_event_types_and_payloads,
    l1_ci_failure_sends_log_tail,
    l2_comments,
    l3_l4_conflicts_and_approval,
    l5_needs_input_notifies,
    l6_l7_l8_notifications,
    l9_ci_budget_escalates_once,
    l10_same_signature_sends_once,
    l11_draft_flap_keeps_ci_tracker,
    l12_l13_time_escalation,
    l14_failed_sends_consume_no_budget,
    l15_agent_idle_default_and_nudging,
    l16_recovery_resets_budget,
    l17_l18_merge_ends_incidents_and_empty_tick,
    l19_events_carry_the_project,
    l20_exited_agent_gets_no_nudge,
    l21_guard_sees_blocked,
    l22_provider_text_is_sanitised,
    s1_failed_probe_on_stuck,
    s2_stuck_fires_once,
    s3_to_s6,
    s7_s8_kill_and_restore_stuck,
    s9_merge_while_stuck,
    s10_quarantine_overrides_permission_dialog,
    s11_send_to_exited_agent_is_refused,
    t1_idle_tracker_spans_the_task,
    t2_changes_tracker_survives_ci_detour,
    t3_review_pending_ends_changes_incident,
    t4_pr_appearing_ends_idle_incident,
    t5_t6_t7_tracker_lifetimes,
    u1_stale_reaction_is_dropped,
    u2_superseded_reaction_is_dropped,
    u3_order_property,
    u4_committed_reaction_survives_restart,
    u5_nudge_is_never_typed_twice,
    u6_lost_cas_is_retried,
    u7_always_conflicting_store,
    u10_lost_cas_leaves_nothing,
    u11_concurrent_signals_in_one_process,
    two_lcms_share_one_store,
);
