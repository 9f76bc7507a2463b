//! Terminal observer scenarios (Q14, Q15) with a fake runtime and the real `command` and `codex`
//! harnesses (so Q15 runs codex's own terminal heuristic on codex-like pane text).

use std::sync::Arc;

use ao::decide::reactions::ReactionPolicies;
use ao::domain::*;
use ao::domain::{ActivityAxis, RuntimeState, SessionReason, SessionState};
use ao::lifecycle::Lcm;
use ao::lifecycle::Wakeups;
use ao::ports::Backend;
use ao::session::AgentRegistry;
use ao::terminal_observer::*;
use ao_adapters::agents::codex::{CodexConfig, CodexHarness};
use ao_adapters::agents::command::{CommandHarness, CommandHarnessConfig};
use ao_testkit::fakes::MemoryStore;
use ao_testkit::fakes::{FakeRuntime, ManualClock, ScriptedRecords};
use ao_testkit::fixtures::{lc, secs, t0, with_handle};

/// Codex with its composer back (idle).
const CODEX_IDLE: &str = "\
• Done: the tests pass.

› Ask Codex to do anything

  gpt-5 default · /w/proj-1
";
/// Codex in the middle of a turn.
const CODEX_BUSY: &str = "\
› fix the tests

• Working (12s • esc to interrupt)
";
/// Codex's approval dialog.
const CODEX_DIALOG: &str = "\
  Would you like to run the following command?

  $ cargo test

› 1. Yes, proceed (y)
  2. No, and tell Codex what to do differently (esc)

  Press enter to confirm or esc to cancel
";

struct Setup {
    store: Arc<dyn Backend>,
    records: Arc<ScriptedRecords>,
    clock: Arc<ManualClock>,
    runtime: Arc<FakeRuntime>,
    observer: TerminalObserver,
}

fn setup() -> Setup {
    let store: Arc<dyn Backend> = Arc::new(MemoryStore::new());
    let records = ScriptedRecords::new(store.clone());
    let clock = ManualClock::new(t0());
    let lcm = Arc::new(Lcm::new(
        records.clone(),
        store.clone(),
        clock.clone(),
        ReactionPolicies::default(),
        Arc::new(Wakeups::default()),
    ));
    let runtime = Arc::new(FakeRuntime::default());
    let mut agents = AgentRegistry::new();
    agents.register(Arc::new(CommandHarness::new(
        CommandHarnessConfig::builtin(String::new()),
    )));
    agents.register(Arc::new(
        CodexHarness::new(CodexConfig::default()).expect("default codex options are valid"),
    ));
    let observer = TerminalObserver::new(lcm, runtime.clone(), Arc::new(agents), clock.clone());
    Setup {
        store,
        records,
        clock,
        runtime,
        observer,
    }
}

fn session(agent: &str, activity: Option<ActivityState>, at: Timestamp) -> SessionRecord {
    let mut r = with_handle(lc(
        SessionState::Working,
        SessionReason::TaskInProgress,
        RuntimeState::Alive,
    ));
    r.agent = agent.to_owned();
    r.lifecycle.activity = ActivityAxis {
        state: activity,
        last_activity_at: Some(at),
        source: ActivitySource::Terminal,
    };
    r
}

fn p1() -> SessionId {
    SessionId::parse("proj-1").unwrap()
}

async fn activity(s: &Setup) -> (Option<ActivityState>, u64) {
    let r = s.store.load(&p1()).await.unwrap().unwrap();
    (r.lifecycle.activity.state, r.revision)
}

/// Q14: first sample records; changed output → active; quiet for 60 s → idle.
#[tokio::test]
async fn q14_command_agent_activity_from_output() {
    let s = setup();
    s.store.seed(session("command", None, t0())).await.unwrap();
    s.runtime.set_output("proj-1", 10, "");
    s.observer.tick().await;
    assert_eq!(activity(&s).await, (None, 1), "first sample: no signal");
    s.clock.advance(secs(10));
    s.runtime.set_output("proj-1", 25, "");
    s.observer.tick().await;
    assert_eq!(activity(&s).await.0, Some(ActivityState::Active));
    let r = s.store.load(&p1()).await.unwrap().unwrap();
    assert_eq!(r.lifecycle.activity.source, ActivitySource::Terminal);
    assert_eq!(r.lifecycle.session.state, SessionState::Working);
    s.clock.advance(secs(50));
    s.observer.tick().await;
    assert_eq!(
        activity(&s).await.0,
        Some(ActivityState::Active),
        "59 s quiet is not yet idle"
    );
    s.clock.advance(secs(10));
    s.observer.tick().await;
    let r = s.store.load(&p1()).await.unwrap().unwrap();
    assert_eq!(r.lifecycle.activity.state, Some(ActivityState::Idle));
    assert_eq!(r.lifecycle.session.state, SessionState::Idle);
    let revision = r.revision;
    s.clock.advance(secs(60));
    s.observer.tick().await;
    assert_eq!(activity(&s).await.1, revision, "already idle: no rewrite");
}

/// Q15: a stale hook-fed `active` with an idle composer becomes `idle`; a fresh one is left
/// alone, and no pane is read for it; a busy pane stays `active`; one check per 30 s.
#[tokio::test]
async fn q15_stale_active_is_repaired_from_pane_text() {
    let s = setup();
    s.store
        .seed(session("codex", Some(ActivityState::Active), t0()))
        .await
        .unwrap();
    s.runtime.set_output("proj-1", 0, CODEX_IDLE);
    s.clock.advance(secs(60));
    s.observer.tick().await;
    assert_eq!(
        activity(&s).await.0,
        Some(ActivityState::Active),
        "1 minute is not stale"
    );
    assert!(
        s.runtime
            .journal
            .lock()
            .unwrap()
            .iter()
            .all(|c| !c.starts_with("runtime.output"))
    );
    s.clock.advance(secs(60));
    s.runtime.set_output("proj-1", 0, CODEX_BUSY);
    s.observer.tick().await;
    assert_eq!(
        activity(&s).await.0,
        Some(ActivityState::Active),
        "the pane is busy"
    );
    s.runtime.set_output("proj-1", 0, CODEX_IDLE);
    s.clock.advance(secs(10));
    s.observer.tick().await;
    assert_eq!(
        activity(&s).await.0,
        Some(ActivityState::Active),
        "checked at most every 30 s"
    );
    s.clock.advance(secs(20));
    s.observer.tick().await;
    let r = s.store.load(&p1()).await.unwrap().unwrap();
    assert_eq!(r.lifecycle.activity.state, Some(ActivityState::Idle));
    assert_eq!(r.lifecycle.activity.source, ActivitySource::Terminal);
}

/// Q15: a record change between the observer's read and its write (a hook committing) makes
/// the `idle` a no-op (`only_if_revision`).
#[tokio::test]
async fn q15_a_change_in_between_wins() {
    let s = setup();
    s.store
        .seed(session("codex", Some(ActivityState::Active), t0()))
        .await
        .unwrap();
    s.runtime.set_output("proj-1", 0, CODEX_IDLE);
    s.clock.advance(secs(150));
    s.records.interleave_before_next_commit(|store| async move {
        // Another writer (a `user-prompt-submit` hook) commits first.
        let other = Lcm::new(
            store.clone(),
            store,
            ManualClock::new(t0().plus(secs(150))),
            ReactionPolicies::default(),
            Arc::default(),
        );
        let signal = ActivitySignal {
            timestamp: Some(t0().plus(secs(150))),
            launch_id: Some("L1".to_owned()),
            ..ActivitySignal::valid(ActivityState::Active, ActivitySource::Hook)
        };
        other.apply_activity_signal(&p1(), &signal).await.unwrap();
    });
    let (_, before) = activity(&s).await;
    s.observer.tick().await;
    let r = s.store.load(&p1()).await.unwrap().unwrap();
    assert_eq!(r.revision, before + 1, "only the hook's write");
    assert_eq!(r.lifecycle.activity.state, Some(ActivityState::Active));
    assert_eq!(r.lifecycle.activity.source, ActivitySource::Hook);
}

/// Q15: `blocked` for 30 s with the dialog still up stays `blocked`; the composer back → `idle`.
#[tokio::test]
async fn q15_blocked_codex_is_released_by_the_composer() {
    let s = setup();
    s.store
        .seed(session("codex", Some(ActivityState::Blocked), t0()))
        .await
        .unwrap();
    s.runtime.set_output("proj-1", 0, CODEX_DIALOG);
    s.clock.advance(secs(20));
    s.observer.tick().await;
    assert_eq!(activity(&s).await.0, Some(ActivityState::Blocked), "20 s");
    s.clock.advance(secs(15));
    s.observer.tick().await;
    assert_eq!(
        activity(&s).await.0,
        Some(ActivityState::Blocked),
        "the dialog is still on screen"
    );
    s.runtime.set_output("proj-1", 0, CODEX_IDLE);
    s.clock.advance(secs(30));
    s.observer.tick().await;
    let r = s.store.load(&p1()).await.unwrap().unwrap();
    assert_eq!(r.lifecycle.activity.state, Some(ActivityState::Idle));
    assert_eq!(r.lifecycle.session.state, SessionState::Idle);
}
