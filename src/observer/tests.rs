//! Terminal observer scenarios (Q14, Q15 of scenarios.md) with a fake runtime.

use std::sync::Arc;

use async_trait::async_trait;

use super::*;
use crate::adapters::agents::command::{CommandHarness, CommandHarnessConfig};
use crate::adapters::memory_store::MemoryStore;
use crate::decide::reactions::ReactionPolicies;
use crate::domain::{ActivityAxis, HookEvent, RuntimeState, SessionReason, SessionState};
use crate::fixtures::{lc, secs, t0, with_handle};
use crate::lifecycle::Wakeups;
use crate::ports::{AgentError, HookInstall, LaunchConfig, PromptDelivery, RestoreConfig, Store};
use crate::testing::{FakeRuntime, ManualClock};

/// A hook-capable harness whose heuristic calls a pane idle when it shows `IDLE`.
struct HeuristicHarness;

#[async_trait]
impl AgentHarness for HeuristicHarness {
    fn name(&self) -> &str {
        "codex"
    }
    fn resolve_binary(&self, _: &LaunchConfig) -> Result<std::path::PathBuf, AgentError> {
        Ok("/bin/true".into())
    }
    fn launch_argv(&self, _: &LaunchConfig) -> Result<Vec<String>, AgentError> {
        Ok(vec!["codex".into()])
    }
    fn restore_argv(&self, _: &RestoreConfig) -> Result<Option<Vec<String>>, AgentError> {
        Ok(None)
    }
    fn environment(&self, _: &LaunchConfig) -> std::collections::BTreeMap<String, String> {
        Default::default()
    }
    fn prompt_delivery(&self) -> PromptDelivery {
        PromptDelivery::InCommand
    }
    async fn install_hooks(&self, _: &std::path::Path) -> Result<HookInstall, AgentError> {
        Ok(HookInstall::default())
    }
    async fn pre_launch(&self, _: &std::path::Path) -> Result<(), AgentError> {
        Ok(())
    }
    fn initial_agent_session_id(&self, _: &SessionId) -> Option<String> {
        None
    }
    fn hook_capable(&self) -> bool {
        true
    }
    fn confirm_capable(&self) -> bool {
        false
    }
    fn derive_activity(&self, _: HookEvent, _: &serde_json::Value) -> Option<ActivityState> {
        None
    }
    fn terminal_activity(&self, output: &str) -> Option<ActivityState> {
        output.contains("IDLE").then_some(ActivityState::Idle)
    }
    fn has_terminal_heuristic(&self) -> bool {
        true
    }
}

struct Setup {
    store: Arc<dyn Store>,
    clock: Arc<ManualClock>,
    runtime: Arc<FakeRuntime>,
    observer: TerminalObserver,
}

fn setup() -> Setup {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let clock = ManualClock::new(t0());
    let lcm = Arc::new(Lcm::new(
        store.clone(),
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
    agents.register(Arc::new(HeuristicHarness));
    let observer = TerminalObserver::new(lcm, runtime.clone(), Arc::new(agents), clock.clone());
    Setup {
        store,
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

/// Q15: a stale hook-fed `active` with an idle pane becomes `idle`; a fresh one is left alone,
/// and no pane is read for it.
#[tokio::test]
async fn q15_stale_active_is_repaired_from_pane_text() {
    let s = setup();
    s.store
        .seed(session("codex", Some(ActivityState::Active), t0()))
        .await
        .unwrap();
    s.runtime.set_output("proj-1", 0, "› \n  model · 80% left");
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
    s.runtime
        .set_output("proj-1", 0, "working… esc to interrupt");
    s.observer.tick().await;
    assert_eq!(
        activity(&s).await.0,
        Some(ActivityState::Active),
        "the pane is busy"
    );
    s.runtime.set_output("proj-1", 0, "IDLE");
    s.clock.advance(secs(10));
    s.observer.tick().await;
    assert_eq!(
        activity(&s).await.0,
        Some(ActivityState::Active),
        "checked at most every 30 s"
    );
    s.clock.advance(secs(20));
    s.observer.tick().await;
    assert_eq!(activity(&s).await.0, Some(ActivityState::Idle));
}
