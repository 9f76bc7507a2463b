//! Session Manager scenarios (M1–M28, R1–R7 and W2–W11 at the SM level): the real LCM over the
//! in-memory store, with fakes of the workspace, project setup, runtime and agent harness that
//! write one shared call journal, so call order across ports can be asserted.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tracing::Level;

use super::*;
use crate::decide::reactions::ReactionPolicies;
use crate::domain::{
    ActivityAxis, ActivitySignal, ActivitySource, ActivityState, EventType, IssueId,
    LifecyclePatch, PrAxis, PrReason, PrState, Priority, Project, ProjectSettings, RuntimeReason,
    RuntimeState, SessionKind, SessionReason, SessionState, Status, meta,
};
use crate::fixtures::{lc, secs, t0, with_handle};
use crate::ports::{
    AgentError, AgentHarness, PaneInfo, PromptDelivery, RecordWrite, Retired, RuntimeConfig,
    RuntimeError, SetupError,
};
use crate::reaper::{REAPER_TICK, Reaper};
use crate::testing::MemoryStore;
use crate::testing::{
    FakeHarness, FakeRuntime, FakeSetup, FakeWorkspace, Harness, Journal, LogCapture, ManualClock,
    ScriptedRecords, WorkspaceOp,
};

const PROMPT: &str = "do the thing\n\nbe careful";
const AOCTL_DIR: &str = "/opt/ao/bin";

fn pid(id: &str) -> ProjectId {
    ProjectId::parse(id).unwrap()
}

fn sid(id: &str) -> SessionId {
    SessionId::parse(id).unwrap()
}

/// The ids a cleanup cleaned (or would clean).
fn cleaned(result: &CleanupResult) -> Vec<SessionId> {
    result.cleaned.iter().map(|(id, _)| id.clone()).collect()
}

fn project(id: &str, default_agent: Option<&str>) -> Project {
    Project {
        id: pid(id),
        repo_path: PathBuf::from(format!("/repo/{id}")),
        default_agent: default_agent.map(str::to_owned),
        base_branch: Some("main".to_owned()),
        settings: ProjectSettings::default(),
        created_at: t0(),
    }
}

fn config() -> SessionManagerConfig {
    SessionManagerConfig {
        data_dir: PathBuf::from("/data/ao"),
        socket_path: PathBuf::from("/run/ao/aod.sock"),
        aoctl_dir: Some(PathBuf::from(AOCTL_DIR)),
        daemon_path: "/usr/bin:/bin".to_owned(),
        runtime_ready: Ok(()),
    }
}

/// The M-group request: project `proj`, issue 42, worker, `feat/42`, prompt and rules.
fn request() -> SpawnRequest {
    SpawnRequest {
        project: pid("proj"),
        issue: Some(IssueId::parse("42").unwrap()),
        kind: SessionKind::Worker,
        branch: Some("feat/42".to_owned()),
        prompt: Some("do the thing".to_owned()),
        agent_rules: Some("be careful".to_owned()),
        agent: Some(FakeHarness::NAME.to_owned()),
        options: LaunchOptions::default(),
        request_id: None,
        parent: None,
    }
}

fn bare_request() -> SpawnRequest {
    SpawnRequest {
        branch: None,
        prompt: None,
        agent_rules: None,
        ..request()
    }
}

/// The OnSpawnCompleted write: it stamps `launch.startedAt` (a revert restores a launch
/// wholesale, metadata included).
fn is_spawn_completed(write: &RecordWrite) -> bool {
    write
        .patch
        .launch
        .as_ref()
        .is_some_and(|l| l.started_at.is_some())
        && write.patch.replace_metadata.is_none()
}

fn injected_failure() -> StoreError {
    StoreError::Backend("injected commit failure".to_owned())
}

fn pane(name: &str, pane_id: &str) -> PaneInfo {
    PaneInfo {
        session_name: name.to_owned(),
        pane_id: pane_id.to_owned(),
        pane_pid: Some(4242),
        dead: false,
        dead_status: None,
    }
}

/// A seeded record of harness `fake` in project `proj`: `lc(S, R, RT)` renumbered, with its
/// runtime handle, workspace path and branch recorded.
fn record(n: u64, state: SessionState, reason: SessionReason, rt: RuntimeState) -> SessionRecord {
    let mut r = lc(state, reason, rt);
    r.num = n;
    r.id = sid(&format!("proj-{n}"));
    r.agent = FakeHarness::NAME.to_owned();
    let mut r = with_handle(r);
    r.metadata.insert(
        meta::WORKSPACE_PATH.to_owned(),
        format!("{}/{}", FakeWorkspace::ROOT, r.id),
    );
    r.metadata
        .insert(meta::BRANCH.to_owned(), format!("feat/{n}"));
    r
}

fn working(n: u64) -> SessionRecord {
    record(
        n,
        SessionState::Working,
        SessionReason::TaskInProgress,
        RuntimeState::Alive,
    )
}

fn killed(n: u64) -> SessionRecord {
    record(
        n,
        SessionState::Terminated,
        SessionReason::ManuallyKilled,
        RuntimeState::Exited,
    )
}

/// The SM wired to fakes that share one journal, over the real LCM and the in-memory store.
struct World {
    h: Harness,
    records: Arc<ScriptedRecords>,
    journal: Journal,
    workspace: Arc<FakeWorkspace>,
    setup: Arc<FakeSetup>,
    runtime: Arc<FakeRuntime>,
    fake: Arc<FakeHarness>,
    sm: SessionManager,
}

impl World {
    async fn new() -> Self {
        Self::build(config(), |_| vec![]).await
    }

    /// `extra` configures further harnesses (and the `fake` one) before the registry is built.
    async fn build(
        config: SessionManagerConfig,
        extra: impl FnOnce(&Journal) -> Vec<Arc<dyn AgentHarness>>,
    ) -> Self {
        let store: Arc<dyn crate::ports::Backend> = Arc::new(MemoryStore::new());
        let journal = Journal::default();
        let records = ScriptedRecords::new(store.clone());
        *records.journal.lock().unwrap() = Some(journal.clone());
        let h = Harness::assemble(
            records.clone(),
            store.clone(),
            ManualClock::new(t0()),
            ReactionPolicies::default(),
        );
        let workspace = FakeWorkspace::with_journal(journal.clone());
        let setup = FakeSetup::with_journal(journal.clone());
        let runtime = FakeRuntime::with_journal(journal.clone());
        let fake = FakeHarness::with_journal(journal.clone());
        let mut agents = AgentRegistry::new();
        agents.register(fake.clone());
        for harness in extra(&journal) {
            agents.register(harness);
        }
        store
            .add_project(&project("proj", Some(FakeHarness::NAME)))
            .await
            .unwrap();
        let sm = SessionManager::new(
            SessionManagerDeps {
                lcm: h.lcm.clone(),
                store,
                workspace: workspace.clone(),
                setup: setup.clone(),
                runtime: runtime.clone(),
                agents: Arc::new(agents),
                clock: h.clock.clone(),
                notifier: h.notifier.clone(),
            },
            config,
        );
        Self {
            h,
            records,
            journal,
            workspace,
            setup,
            runtime,
            fake,
            sm,
        }
    }

    fn calls(&self) -> Vec<String> {
        self.journal.lock().unwrap().clone()
    }

    fn mark(&self) -> usize {
        self.journal.lock().unwrap().len()
    }

    fn calls_since(&self, mark: usize) -> Vec<String> {
        self.calls()[mark..].to_vec()
    }

    fn count(&self, entry: &str) -> usize {
        self.calls().iter().filter(|c| *c == entry).count()
    }

    fn count_prefix(&self, prefix: &str) -> usize {
        self.calls()
            .iter()
            .filter(|c| c.starts_with(prefix))
            .count()
    }

    fn commits(&self) -> usize {
        self.records
            .commits
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    fn created(&self) -> Vec<RuntimeConfig> {
        self.runtime.created.lock().unwrap().clone()
    }

    fn destroyed(&self) -> Vec<String> {
        self.runtime.destroyed.lock().unwrap().clone()
    }

    async fn load(&self, id: &str) -> SessionRecord {
        self.h.load(&sid(id)).await
    }

    async fn status(&self, id: &str) -> Status {
        self.sm.get(&sid(id)).await.unwrap().status
    }

    /// Replaces the registration of a project.
    async fn set_project(&self, project: Project) {
        self.h.store.remove_project(&project.id).await.unwrap();
        self.h.store.add_project(&project).await.unwrap();
    }

    /// Seeds a record and, when it records a workspace, the worktree it names.
    /// Session `<name>-1` of a new project `<name>`, with its worktree and tmux session.
    async fn seed_in_own_project(
        &self,
        name: &str,
        state: SessionState,
        reason: SessionReason,
    ) -> SessionRecord {
        self.h
            .store
            .add_project(&project(name, None))
            .await
            .unwrap();
        let mut r = record(1, state, reason, RuntimeState::Alive);
        r.id = sid(&format!("{name}-1"));
        r.project_id = pid(name);
        r.metadata.insert(
            meta::WORKSPACE_PATH.to_owned(),
            format!("{}/{}", FakeWorkspace::ROOT, r.id),
        );
        r.metadata
            .insert(meta::RUNTIME_HANDLE_ID.to_owned(), r.id.to_string());
        self.seed_with_worktree(r).await
    }

    async fn seed_with_worktree(&self, r: SessionRecord) -> SessionRecord {
        let branch = r.meta(meta::BRANCH).unwrap_or("main").to_owned();
        self.workspace.add_worktree(
            &PathBuf::from(format!("/repo/{}", r.project_id)),
            &r.project_id,
            &r.id,
            &branch,
        );
        self.h.seed(r).await
    }

    /// Spawns `proj-1` and kills it (clean worktree, so it is removed).
    async fn spawned_and_killed(&self, req: SpawnRequest) -> SessionRecord {
        let s = self.sm.spawn(req).await.unwrap();
        let k = self
            .sm
            .kill(&s.record.id, KillOptions::manual(false))
            .await
            .unwrap();
        assert!(k.workspace_freed);
        self.h.load(&s.record.id).await
    }

    /// Merges metadata into a record directly in the store (test setup, not an SM call).
    async fn set_meta(&self, id: &str, key: &str, value: &str) {
        let cur = self.load(id).await;
        self.h
            .store
            .commit(RecordWrite {
                id: cur.id.clone(),
                expected_revision: cur.revision,
                patch: LifecyclePatch {
                    metadata: BTreeMap::from([(key.to_owned(), value.to_owned())]),
                    ..LifecyclePatch::default()
                },
                event: EventType::SessionUpdated,
                updated_at: t0(),
                end_incidents: vec![],
                enqueue: None,
                cause: None,
            })
            .await
            .unwrap();
    }
}

// ---------------------------------------------------------------------------------------------
// Spawn (M1–M10)
// ---------------------------------------------------------------------------------------------

/// M1: identity, states, call order across every port, the pane environment and metadata.
#[tokio::test]
async fn m1_spawn() {
    let w = World::new().await;
    w.setup.set_excludes(&[".env"]);
    let s = w.sm.spawn(request()).await.unwrap();

    assert_eq!(s.record.id, sid("proj-1"));
    assert_eq!(s.status, Status::Spawning);
    assert_eq!(s.record.project_id, pid("proj"));
    assert_eq!(s.record.issue_id, Some(IssueId::parse("42").unwrap()));
    assert_eq!(s.record.kind, SessionKind::Worker);
    assert_eq!(s.record.agent, "fake");
    assert_eq!(s.record.created_at, t0());
    assert_eq!(
        s.record.lifecycle.session,
        crate::domain::SessionAxis::new(SessionState::NotStarted, SessionReason::SpawnRequested)
    );
    assert_eq!(s.record.lifecycle.runtime.state, RuntimeState::Alive);
    assert_eq!(
        s.record.lifecycle.runtime.reason,
        RuntimeReason::ProcessRunning
    );
    assert_eq!(s.record.launch.started_at, Some(t0()));

    assert_eq!(
        w.calls(),
        [
            "workspace.check_branch feat/42",
            "create proj-1",
            "workspace.create proj-1 feat/42",
            "setup.prepare proj-1",
            "agent.install_hooks /tmp/ws/proj-1",
            "workspace.add_exclude proj-1 .env,.fake/hooks.json",
            "agent.pre_launch /tmp/ws/proj-1",
            "runtime.create proj-1",
            "commit proj-1",
        ],
        "OnSpawnInitiated(create) → Workspace.Create → setup/hooks → Runtime.Create → OnSpawnCompleted"
    );

    let created = w.created();
    assert_eq!(created.len(), 1);
    let config = &created[0];
    assert_eq!(config.workspace_path, PathBuf::from("/tmp/ws/proj-1"));
    assert_eq!(config.argv, ["fake", "--", PROMPT], "in-command prompt");
    let env = &config.env;
    assert_eq!(env["AO_SESSION_ID"], "proj-1");
    assert_eq!(env["AO_PROJECT_ID"], "proj");
    assert_eq!(env["AO_ISSUE_ID"], "42");
    assert_eq!(env["AO_RUNTIME_LAUNCH_ID"], s.record.launch.id);
    assert!(!s.record.launch.id.is_empty());
    assert_eq!(env["AO_DATA_DIR"], "/data/ao");
    assert_eq!(env["AO_SOCKET"], "/run/ao/aod.sock");
    assert_eq!(env["BASE"], "1");
    assert_eq!(env["PATH"], "/opt/ao/bin:/usr/bin:/bin");

    let m = &s.record;
    assert_eq!(m.meta(meta::BRANCH), Some("feat/42"));
    assert_eq!(m.meta(meta::WORKSPACE_PATH), Some("/tmp/ws/proj-1"));
    assert_eq!(m.meta(meta::RUNTIME_HANDLE_ID), Some("proj-1"));
    assert_eq!(m.meta(meta::RUNTIME_NAME), Some("tmux"));
    assert_eq!(m.meta(meta::PROMPT), Some(PROMPT));
    assert_eq!(
        w.workspace.excludes(),
        [".env", ".fake/hooks.json"],
        "placed files and hook files never dirty the worktree"
    );
}

/// Section 4: project env, then harness env, then identity, then PATH; TMUX never passes.
#[tokio::test]
async fn pane_env_precedence() {
    let w = World::new().await;
    let mut p = project("proj", Some("fake"));
    p.settings.env = BTreeMap::from([
        ("AO_SESSION_ID".to_owned(), "spoof".to_owned()),
        ("BASE".to_owned(), "project".to_owned()),
        ("PROJECT_ONLY".to_owned(), "p".to_owned()),
        ("TMUX".to_owned(), "/tmp/tmux-1000/default,1,0".to_owned()),
        ("TMUX_PANE".to_owned(), "%0".to_owned()),
    ]);
    w.set_project(p).await;
    w.sm.spawn(request()).await.unwrap();
    let env = &w.created()[0].env;
    assert_eq!(env["AO_SESSION_ID"], "proj-1", "identity wins");
    assert_eq!(env["BASE"], "1", "the harness beats the project");
    assert_eq!(env["PROJECT_ONLY"], "p");
    assert!(!env.contains_key("TMUX") && !env.contains_key("TMUX_PANE"));
}

/// M2: a failed `Runtime.Create` leaves `errored` (recorded first), then removes the worktree
/// once; `OnSpawnCompleted` is never called.
#[tokio::test]
async fn m2_runtime_create_fails() {
    let w = World::new().await;
    w.runtime
        .fail_next_create(RuntimeError::ExitedBeforeReady("proj-1".to_owned()));
    let err = w.sm.spawn(request()).await.unwrap_err();
    assert!(
        matches!(&err, SmError::StepFailed { id, step: Step::Runtime, .. } if id.as_str() == "proj-1"),
        "{err:?}"
    );

    let r = w.load("proj-1").await;
    assert_eq!(r.lifecycle.session.state, SessionState::Terminated);
    assert_eq!(r.lifecycle.session.reason, SessionReason::ErrorInProcess);
    assert_eq!(w.status("proj-1").await, Status::Errored);
    let detail = r.meta(meta::TERMINATION_DETAIL).unwrap();
    assert!(detail.starts_with("spawn failed: runtime: "), "{detail}");
    assert_eq!(r.meta(meta::WORKSPACE_PATH), Some("/tmp/ws/proj-1"));
    assert_eq!(r.launch.started_at, None, "OnSpawnCompleted never ran");
    assert_eq!(w.commits(), 1, "the only write is the kill");
    assert_eq!(w.count("workspace.retire proj-1 discard"), 1);
    assert!(!w.workspace.exists(&sid("proj-1")));
    let tail = w.calls()[w.calls().len() - 3..].to_vec();
    assert_eq!(
        tail,
        [
            "runtime.create proj-1",
            "commit proj-1",
            "workspace.retire proj-1 discard"
        ],
        "the terminal outcome is recorded before the rollback"
    );
}

/// M3: numbers are never reused after a failed spawn; concurrent spawns get distinct ids.
#[tokio::test]
async fn m3_ids_after_failure_and_concurrency() {
    let w = World::new().await;
    w.runtime
        .fail_next_create(RuntimeError::Io("boom".to_owned()));
    w.sm.spawn(request()).await.unwrap_err();
    let next = w.sm.spawn(request()).await.unwrap();
    assert_eq!(next.record.id, sid("proj-2"));

    let (a, b) = tokio::join!(w.sm.spawn(bare_request()), w.sm.spawn(bare_request()));
    let (a, b) = (a.unwrap(), b.unwrap());
    let mut ids = vec![a.record.id.to_string(), b.record.id.to_string()];
    ids.sort();
    assert_eq!(ids, ["proj-3", "proj-4"]);
    for s in [a, b] {
        assert_eq!(
            s.record.meta(meta::BRANCH),
            Some(format!("ao/{}", s.record.id).as_str())
        );
    }
}

/// M4: `OnSpawnCompleted` fails → runtime and workspace each destroyed once, record `errored`.
#[tokio::test]
async fn m4_spawn_completed_fails() {
    let w = World::new().await;
    w.records
        .fail_next_commit_where(is_spawn_completed, injected_failure());
    let err = w.sm.spawn(request()).await.unwrap_err();
    assert!(
        matches!(
            err,
            SmError::StepFailed {
                step: Step::SpawnCompleted,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(w.destroyed(), ["proj-1"]);
    assert_eq!(w.count("workspace.retire proj-1 discard"), 1);
    assert_eq!(w.status("proj-1").await, Status::Errored);
    let calls = w.calls();
    assert_eq!(
        calls[calls.len() - 4..],
        [
            "commit proj-1",
            "commit proj-1",
            "runtime.destroy proj-1",
            "workspace.retire proj-1 discard"
        ],
        "failed completion, kill record, then undo in reverse creation order"
    );
}

/// A cancel while project setup runs (a post-create command that hangs) stops it and rolls
/// back what the spawn made: the worktree is discarded, no runtime starts, and the record stays
/// as `killed` (its caller cancelled it; nothing failed).
#[tokio::test]
async fn a_cancelled_spawn_stops_its_setup_and_rolls_back() {
    let w = World::new().await;
    w.setup.hold_next();
    let request = SpawnRequest {
        request_id: Some("req-1".to_owned()),
        ..request()
    };
    let cancel = async {
        w.setup.held.notified().await;
        let progress = w.sm.spawn_progress("req-1").expect("in flight");
        assert_eq!(progress.session, Some(sid("proj-1")));
        assert_eq!(progress.step, "placing the project's files");
        assert!(!progress.cancelling);
        assert!(!w.sm.cancel_spawn("req-2"), "another request id");
        assert!(w.sm.cancel_spawn("req-1"));
    };
    let (spawned, ()) = tokio::join!(w.sm.spawn(request), cancel);
    let err = spawned.unwrap_err();
    assert!(
        matches!(&err, SmError::SpawnCancelled { id, step: Step::Setup } if id.as_str() == "proj-1"),
        "{err:?}"
    );
    assert_eq!(w.count("workspace.retire proj-1 discard"), 1);
    assert!(w.destroyed().is_empty(), "no runtime was created");
    assert_eq!(w.count("runtime.create proj-1"), 0);
    assert_eq!(w.status("proj-1").await, Status::Killed);
    let record = w.sm.get(&sid("proj-1")).await.unwrap().record;
    assert_eq!(
        record.meta(meta::TERMINATION_DETAIL),
        Some("spawn cancelled by its caller at: project setup")
    );
    assert_eq!(w.sm.spawn_progress("req-1"), None, "no longer in flight");
    assert!(!w.sm.cancel_spawn("req-1"), "nothing left to cancel");
}

/// A spawn that finished is no longer in flight: a late cancel changes nothing.
#[tokio::test]
async fn a_finished_spawn_cannot_be_cancelled() {
    let w = World::new().await;
    let request = SpawnRequest {
        request_id: Some("req-1".to_owned()),
        ..request()
    };
    let session = w.sm.spawn(request).await.unwrap();
    assert!(!w.sm.cancel_spawn("req-1"));
    assert_eq!(w.sm.spawn_progress("req-1"), None);
    assert_eq!(w.status(session.record.id.as_str()).await, Status::Spawning);
}

/// M5: the branch is checked out elsewhere → `errored`, no runtime, nothing to remove.
#[tokio::test]
async fn m5_workspace_create_fails() {
    let w = World::new().await;
    w.workspace.add_worktree(
        &PathBuf::from("/repo/proj"),
        &pid("proj"),
        &sid("proj-9"),
        "feat/42",
    );
    let err = w.sm.spawn(request()).await.unwrap_err();
    match &err {
        SmError::StepFailed {
            step: Step::Workspace,
            message,
            ..
        } => assert!(
            message.contains("checked out in another worktree"),
            "{message}"
        ),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(w.status("proj-1").await, Status::Errored);
    assert_eq!(w.count_prefix("runtime."), 0);
    assert_eq!(w.count_prefix("workspace.retire"), 0);
    assert!(
        w.workspace.exists(&sid("proj-9")),
        "the other worktree is untouched"
    );
    let r = w.load("proj-1").await;
    assert_eq!(
        r.meta(meta::WORKSPACE_PATH),
        None,
        "no worktree was made, so none is recorded"
    );
}

/// Step 3: a failed project setup or hook install removes the worktree; no runtime is made.
#[tokio::test]
async fn setup_or_hooks_failure_rolls_back_the_worktree() {
    let w = World::new().await;
    w.setup.fail_next(SetupError::PostCreate {
        argv: "make deps".to_owned(),
        output: "exit 2".to_owned(),
    });
    let err = w.sm.spawn(request()).await.unwrap_err();
    assert!(
        matches!(
            err,
            SmError::StepFailed {
                step: Step::Setup,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(w.count("workspace.retire proj-1 discard"), 1);

    w.fake
        .fail_next_hooks(AgentError::Hooks("settings unreadable".to_owned()));
    let err = w.sm.spawn(request()).await.unwrap_err();
    assert!(
        matches!(
            err,
            SmError::StepFailed {
                step: Step::Hooks,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(w.count("workspace.retire proj-2 discard"), 1);
    assert_eq!(w.count_prefix("runtime."), 0);
    for id in ["proj-1", "proj-2"] {
        assert_eq!(w.status(id).await, Status::Errored);
        assert!(!w.workspace.exists(&sid(id)));
    }
}

/// Asserts that a spawn attempt created nothing at all.
async fn assert_nothing_created(w: &World) {
    assert!(w.sm.list(None).await.unwrap().is_empty(), "no record");
    assert_eq!(w.count_prefix("workspace.create"), 0, "no workspace");
    assert_eq!(w.count_prefix("runtime."), 0, "no runtime");
}

/// M6: preflight errors create nothing.
#[tokio::test]
async fn m6_preflight() {
    let mut not_ready = config();
    not_ready.runtime_ready = Err("tmux 3.1 is older than 3.2".to_owned());
    let w = World::build(not_ready, |_| vec![]).await;
    let err = w.sm.spawn(request()).await.unwrap_err();
    assert_eq!(
        err,
        SmError::RuntimePrerequisite("tmux 3.1 is older than 3.2".to_owned())
    );
    assert_nothing_created(&w).await;
    assert!(w.calls().is_empty());

    let w = World::new().await;
    let mut req = request();
    req.agent = Some("nosuch".to_owned());
    assert_eq!(
        w.sm.spawn(req).await.unwrap_err(),
        SmError::UnknownAgent {
            name: "nosuch".to_owned(),
            known: w.sm.agent_names(),
        }
    );
    assert!(!w.sm.agent_names().is_empty());
    w.h.store.add_project(&project("bare", None)).await.unwrap();
    let mut req = request();
    req.project = pid("bare");
    req.agent = None;
    assert_eq!(
        w.sm.spawn(req).await.unwrap_err(),
        SmError::MissingAgent(pid("bare"))
    );
    let mut req = request();
    req.project = pid("nosuch");
    assert_eq!(
        w.sm.spawn(req).await.unwrap_err(),
        SmError::ProjectNotFound(pid("nosuch"))
    );
    // P6.
    w.fake.set_invalid_options(Some("unknown permission mode"));
    assert_eq!(
        w.sm.spawn(request()).await.unwrap_err(),
        SmError::InvalidAgentOptions("unknown permission mode".to_owned())
    );
    assert_nothing_created(&w).await;

    // No agent given: the project's default harness.
    w.fake.set_invalid_options(None);
    let mut req = request();
    req.agent = None;
    assert_eq!(w.sm.spawn(req).await.unwrap().record.agent, "fake");
}

/// Spawn validates before it creates: input that a later step (the launch script, `exec`,
/// git) would refuse is `InvalidInput` from preflight, before any call to the world.
#[tokio::test]
async fn input_a_later_step_would_refuse_is_refused_in_preflight() {
    let w = World::new().await;
    let with = |change: &dyn Fn(&mut SpawnRequest)| {
        let mut req = request();
        change(&mut req);
        req
    };
    let huge = "x".repeat(super::validate::MAX_ARG_BYTES + 1);
    let cases: Vec<(&str, SpawnRequest, PromptDelivery, &str)> = vec![
        (
            "NUL in the prompt",
            with(&|r| r.prompt = Some("a\0".into())),
            PromptDelivery::Send {
                ready_patterns_configured: false,
            },
            "prompt",
        ),
        (
            "NUL in the agent rules",
            with(&|r| r.agent_rules = Some("\0".into())),
            PromptDelivery::InCommand,
            "prompt",
        ),
        (
            "NUL in --cmd",
            with(&|r| r.options.command = Some(vec!["x\0".into()])),
            PromptDelivery::InCommand,
            "--cmd word 1",
        ),
        (
            "a model flag",
            with(&|r| r.options.model = Some("-x".into())),
            PromptDelivery::InCommand,
            "model",
        ),
        (
            "NUL in the branch",
            with(&|r| r.branch = Some("a\0b".into())),
            PromptDelivery::InCommand,
            "branch",
        ),
        (
            "a prompt over one argument",
            with(&|r| r.prompt = Some(huge.clone())),
            PromptDelivery::InCommand,
            "prompt",
        ),
        (
            "a long model",
            with(&|r| r.options.model = Some(huge[..300].to_owned())),
            PromptDelivery::InCommand,
            "model",
        ),
    ];
    for (case, req, delivery, field) in cases {
        w.fake.set_prompt_delivery(delivery);
        let err = w.sm.spawn(req).await.unwrap_err();
        let SmError::InvalidInput(e) = &err else {
            panic!("{case}: {err:?}");
        };
        assert_eq!(e.field, field, "{case}");
        assert_nothing_created(&w).await;
        // At most the read-only branch check ran.
        assert!(
            w.calls()
                .iter()
                .all(|c| c.starts_with("workspace.check_branch")),
            "{case}: {:?}",
            w.calls()
        );
    }
    // A project stored with an environment the launch script cannot export.
    w.fake.set_prompt_delivery(PromptDelivery::InCommand);
    let mut p = project("proj", Some("fake"));
    p.settings.env.insert("TOKEN".to_owned(), "a\0b".to_owned());
    w.set_project(p).await;
    let err = w.sm.spawn(request()).await.unwrap_err();
    assert!(
        matches!(&err, SmError::InvalidInput(e) if e.field == "project env TOKEN"),
        "{err:?}"
    );
    assert_nothing_created(&w).await;
}

/// M7: the harness binary does not resolve → `AgentBinaryNotFound`, nothing created.
#[tokio::test]
async fn m7_binary_missing() {
    let w = World::new().await;
    w.fake.set_binary(None);
    let err = w.sm.spawn(request()).await.unwrap_err();
    assert!(matches!(err, SmError::AgentBinaryNotFound(_)), "{err:?}");
    assert_nothing_created(&w).await;
}

/// M8: the default branch is `ao/<id>`; an explicit branch is kept; a bad one is refused in
/// preflight.
#[tokio::test]
async fn m8_branches() {
    let w = World::new().await;
    let mut req = request();
    req.branch = Some("bad..name".to_owned());
    let err = w.sm.spawn(req).await.unwrap_err();
    assert!(
        matches!(&err, SmError::BranchInvalid { branch, .. } if branch == "bad..name"),
        "{err:?}"
    );
    assert_nothing_created(&w).await;
    assert_eq!(w.calls(), ["workspace.check_branch bad..name"]);

    let s = w.sm.spawn(bare_request()).await.unwrap();
    assert_eq!(s.record.id, sid("proj-1"));
    assert_eq!(s.record.meta(meta::BRANCH), Some("ao/proj-1"));
    assert_eq!(w.count("workspace.create proj-1 ao/proj-1"), 1);
    assert_eq!(
        w.count_prefix("workspace.check_branch"),
        1,
        "no check without an explicit branch"
    );

    let s = w.sm.spawn(request()).await.unwrap();
    assert_eq!(s.record.meta(meta::BRANCH), Some("feat/42"));
}

/// M9: PATH pinning: the `aoctl` directory first, the harness binary's directory when it is not
/// on the base PATH, then the project's PATH or the daemon's; no `aoctl` → unpinned + warning.
#[tokio::test]
async fn m9_path_pinning() {
    async fn pane_path(
        aoctl_dir: Option<&str>,
        project_path: Option<&str>,
        binary: &str,
    ) -> (String, LogCapture) {
        let (logs, _guard) = LogCapture::install();
        let mut cfg = config();
        cfg.aoctl_dir = aoctl_dir.map(PathBuf::from);
        cfg.daemon_path = "/usr/bin".to_owned();
        let w = World::build(cfg, |_| vec![]).await;
        if let Some(path) = project_path {
            let mut p = project("proj", Some("fake"));
            p.settings.env.insert("PATH".to_owned(), path.to_owned());
            w.set_project(p).await;
        }
        w.fake.set_binary(Some(binary));
        w.sm.spawn(request()).await.unwrap();
        (w.created()[0].env["PATH"].clone(), logs)
    }

    let bin = "/tmp/t/bin";
    let (path, _) = pane_path(Some(bin), None, "/usr/bin/fake").await;
    assert_eq!(path, "/tmp/t/bin:/usr/bin");
    let (path, _) = pane_path(Some(bin), Some("/opt/x"), "/opt/x/fake").await;
    assert_eq!(path, "/tmp/t/bin:/opt/x");
    let (path, _) = pane_path(Some(bin), None, "/home/u/.local/bin/fake").await;
    assert_eq!(path, "/tmp/t/bin:/home/u/.local/bin:/usr/bin");
    let (path, logs) = pane_path(None, None, "/usr/bin/fake").await;
    assert_eq!(path, "/usr/bin", "left unpinned");
    assert_eq!(
        logs.matching(Level::WARN, "PATH left unpinned").len(),
        1,
        "{:?}",
        logs.lines()
    );
}

/// A `send`-delivery harness with readiness pattern `ready>`, and the dispatchers running.
async fn send_delivery_world() -> World {
    let mut w = World::new().await;
    w.fake.set_prompt_delivery(PromptDelivery::Send {
        ready_patterns_configured: true,
    });
    w.fake.set_ready_patterns(&["ready>"]);
    w.h.start();
    w
}

/// M10: the readiness pattern appears → the prompt is delivered once, through the guarded queue.
#[tokio::test(start_paused = true)]
async fn m10_prompt_delivered_when_ready() {
    let w = send_delivery_world().await;
    w.runtime.set_output("proj-1", 0, "model loaded\nready> ");
    let s = w.sm.spawn(request()).await.unwrap();
    assert_eq!(s.status, Status::Spawning);
    assert_eq!(
        w.created()[0].argv,
        ["fake"],
        "the prompt is not in the argv"
    );
    w.h.wait_idle().await;
    assert_eq!(w.h.messenger.writes(), [(sid("proj-1"), PROMPT.to_owned())]);
}

/// M10: no readiness pattern → delivered after 8 s, with a warning.
#[tokio::test(start_paused = true)]
async fn m10_prompt_delivered_after_readiness_timeout() {
    let (logs, _guard) = LogCapture::install();
    let w = send_delivery_world().await;
    let started = tokio::time::Instant::now();
    w.sm.spawn(request()).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(w.h.messenger.writes(), [(sid("proj-1"), PROMPT.to_owned())]);
    assert_eq!(
        logs.matching(Level::WARN, "no readiness pattern").len(),
        1,
        "{:?}",
        logs.lines()
    );
}

/// M10: the agent shows a permission dialog before the prompt is typed → the guard refuses, the
/// spawn fails and is rolled back.
#[tokio::test(start_paused = true)]
async fn m10_blocked_before_delivery_fails_the_spawn() {
    let w = send_delivery_world().await;
    let lcm = w.h.lcm.clone();
    let store = w.h.store.clone();
    let block = tokio::spawn(async move {
        let id = sid("proj-1");
        loop {
            if let Some(r) = store.load(&id).await.unwrap()
                && r.launch.started_at.is_some()
            {
                let signal = ActivitySignal::valid(ActivityState::Blocked, ActivitySource::Hook);
                lcm.apply_activity_signal(&id, &signal).await.unwrap();
                return;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    });
    let err = w.sm.spawn(request()).await.unwrap_err();
    block.await.unwrap();
    match &err {
        SmError::StepFailed {
            step: Step::Prompt,
            message,
            ..
        } => assert!(message.contains("permission dialog"), "{message}"),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(w.h.messenger.attempts(), 0, "nothing typed");
    assert_eq!(w.destroyed(), ["proj-1"]);
    assert_eq!(w.count("workspace.retire proj-1 discard"), 1);
    assert_eq!(w.status("proj-1").await, Status::Errored);
}

/// Section 5: a retried spawn with the same request id returns the first session.
#[tokio::test]
async fn retried_spawn_request_returns_the_same_session() {
    let w = World::new().await;
    let mut req = request();
    req.request_id = Some("req-1".to_owned());
    let first = w.sm.spawn(req.clone()).await.unwrap();
    let again = w.sm.spawn(req).await.unwrap();
    assert_eq!(again.record.id, first.record.id);
    assert_eq!(w.count_prefix("workspace.create"), 1);
    assert_eq!(w.count_prefix("runtime.create"), 1);
    assert_eq!(w.sm.list(None).await.unwrap().len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Kill (M11–M15) and the kill side of W
// ---------------------------------------------------------------------------------------------

/// M11: terminal intent first, then the runtime, then the worktree; no reaction fires.
#[tokio::test]
async fn m11_kill_order() {
    let mut w = World::new().await;
    w.h.start();
    w.sm.spawn(request()).await.unwrap();
    let mark = w.mark();
    let k =
        w.sm.kill(&sid("proj-1"), KillOptions::manual(false))
            .await
            .unwrap();
    assert!(k.workspace_freed);
    assert_eq!(k.workspace_error, None);
    assert_eq!(
        w.calls_since(mark),
        [
            "commit proj-1",
            "runtime.destroy proj-1",
            "workspace.retire proj-1 keep-dirty"
        ]
    );
    assert_eq!(w.status("proj-1").await, Status::Killed);
    w.h.wait_idle().await;
    assert!(w.h.notifier.events().is_empty());
    assert!(w.h.messenger.writes().is_empty());
}

/// M12 / W2: a dirty worktree is kept without `--preserve`; the runtime is still destroyed.
#[tokio::test]
async fn m12_w2_dirty_worktree_is_kept() {
    let w = World::new().await;
    w.sm.spawn(request()).await.unwrap();
    w.workspace.set_dirty(&sid("proj-1"), true);
    let k =
        w.sm.kill(&sid("proj-1"), KillOptions::manual(false))
            .await
            .unwrap();
    assert_eq!(
        k,
        KillResult {
            id: sid("proj-1"),
            workspace_freed: false,
            retired: Retired::default(),
            workspace_error: Some(WorkspaceError::Dirty {
                paths: vec!["notes.txt".to_owned()]
            }),
            leftovers: vec![],
        }
    );
    assert_eq!(w.destroyed(), ["proj-1"]);
    assert_eq!(w.status("proj-1").await, Status::Killed);
    assert!(w.workspace.exists(&sid("proj-1")) && w.workspace.is_dirty(&sid("proj-1")));
    assert_eq!(w.workspace.preserved(&sid("proj-1")), None);
    assert!(w.workspace.trashed(&sid("proj-1")).is_empty());
}

/// M13: a failed runtime destroy returns the error with the record already terminal and the
/// worktree untouched; a retried kill finishes without another LCM write.
#[tokio::test]
async fn m13_runtime_destroy_fails_then_retry() {
    let w = World::new().await;
    w.sm.spawn(request()).await.unwrap();
    w.runtime.fail_destroys(Some(RuntimeError::Command {
        argv: "tmux kill-session -t =proj-1".to_owned(),
        output: "permission denied".to_owned(),
    }));
    let err =
        w.sm.kill(&sid("proj-1"), KillOptions::manual(false))
            .await
            .unwrap_err();
    assert!(
        matches!(err, SmError::Runtime(RuntimeError::Command { .. })),
        "{err:?}"
    );
    let r = w.load("proj-1").await;
    assert_eq!(r.lifecycle.session.state, SessionState::Terminated);
    assert_eq!(r.lifecycle.session.reason, SessionReason::ManuallyKilled);
    assert_eq!(w.count_prefix("workspace.retire"), 0);

    w.runtime.fail_destroys(None);
    let commits = w.commits();
    let k =
        w.sm.kill(&sid("proj-1"), KillOptions::manual(false))
            .await
            .unwrap();
    assert!(k.workspace_freed);
    assert_eq!(w.commits(), commits, "no new LCM write");
    assert_eq!(w.destroyed(), ["proj-1"]);
    assert!(!w.workspace.exists(&sid("proj-1")));
    assert_eq!(w.load("proj-1").await.revision, r.revision);
}

/// A runtime that is gone but left files behind does not stop a kill: the worktree still goes
/// to the trash and the result names what was left.
#[tokio::test]
async fn kill_reports_what_the_runtime_left_behind() {
    let w = World::new().await;
    w.sm.spawn(request()).await.unwrap();
    w.runtime.fail_destroys(Some(RuntimeError::Leftover(
        "its output files could not be removed".to_owned(),
    )));
    let k =
        w.sm.kill(&sid("proj-1"), KillOptions::manual(false))
            .await
            .unwrap();
    assert!(k.workspace_freed);
    assert_eq!(
        k.leftovers,
        ["the runtime is gone, but its output files could not be removed"]
    );
    assert_eq!(w.workspace.trashed(&sid("proj-1")).len(), 1);
    assert_eq!(w.status("proj-1").await, Status::Killed);
}

/// M14: a record without a runtime handle or a workspace path is not torn down at all.
#[tokio::test]
async fn m14_incomplete_teardown_metadata() {
    let w = World::new().await;
    let mut no_handle = working(1);
    no_handle.metadata.remove(meta::RUNTIME_HANDLE_ID);
    w.h.seed(no_handle).await;
    let mut no_path = working(2);
    no_path.metadata.remove(meta::WORKSPACE_PATH);
    w.h.seed(no_path).await;

    for (id, missing) in [("proj-1", "runtime handle"), ("proj-2", "workspace path")] {
        let err =
            w.sm.kill(&sid(id), KillOptions::manual(false))
                .await
                .unwrap_err();
        assert_eq!(
            err,
            SmError::IncompleteTeardownMetadata {
                id: sid(id),
                missing
            }
        );
        assert_eq!(w.load(id).await.revision, 1);
        assert_eq!(
            w.load(id).await.lifecycle.session.state,
            SessionState::Working
        );
    }
    assert_eq!(w.commits(), 0);
    assert!(w.calls().is_empty(), "{:?}", w.calls());
}

/// M15: killing an unknown id is a benign race.
#[tokio::test]
async fn m15_kill_unknown() {
    let w = World::new().await;
    let k =
        w.sm.kill(&sid("proj-9"), KillOptions::manual(true))
            .await
            .unwrap();
    assert_eq!(
        k,
        KillResult {
            id: sid("proj-9"),
            workspace_freed: false,
            retired: Retired::default(),
            workspace_error: None,
            leftovers: vec![],
        }
    );
    assert!(w.calls().is_empty());
}

/// W3: `kill --preserve` on a dirty worktree stashes into the preserved ref, then trashes it.
#[tokio::test]
async fn w3_kill_preserve_dirty() {
    let w = World::new().await;
    w.sm.spawn(request()).await.unwrap();
    w.workspace.set_dirty(&sid("proj-1"), true);
    let mark = w.mark();
    let k =
        w.sm.kill(&sid("proj-1"), KillOptions::manual(true))
            .await
            .unwrap();
    assert!(k.workspace_freed);
    assert_eq!(
        k.retired.preserved_ref.as_deref(),
        Some("refs/ao/preserved/proj-1")
    );
    assert_eq!(k.workspace_error, None);
    assert!(!w.workspace.exists(&sid("proj-1")));
    assert_eq!(
        k.retired.trash.as_ref().map(|t| t.id.as_str()),
        Some("proj-1-1"),
        "the worktree went to the trash"
    );
    assert_eq!(
        w.workspace.preserved(&sid("proj-1")).as_deref(),
        Some("refs/ao/preserved/proj-1")
    );
    assert_eq!(
        w.calls_since(mark),
        [
            "commit proj-1",
            "runtime.destroy proj-1",
            "workspace.retire proj-1 preserve"
        ]
    );
}

/// W6: `kill --preserve` on a clean worktree: trashed, no ref.
#[tokio::test]
async fn w6_kill_preserve_clean() {
    let w = World::new().await;
    w.sm.spawn(request()).await.unwrap();
    let k =
        w.sm.kill(&sid("proj-1"), KillOptions::manual(true))
            .await
            .unwrap();
    assert!(k.workspace_freed);
    assert_eq!(k.retired.preserved_ref, None);
    assert_eq!(w.workspace.preserved(&sid("proj-1")), None);
    assert_eq!(w.workspace.trashed(&sid("proj-1")).len(), 1);
}

/// W7: the stash fails → nothing moves; the worktree stays with its work.
#[tokio::test]
async fn w7_stash_fails() {
    let w = World::new().await;
    w.sm.spawn(request()).await.unwrap();
    w.workspace.set_dirty(&sid("proj-1"), true);
    let stash_error = WorkspaceError::Git {
        argv: "git commit-tree".to_owned(),
        output: "fatal: cannot write tree".to_owned(),
    };
    w.workspace
        .fail_next(WorkspaceOp::Retire, stash_error.clone());
    let k =
        w.sm.kill(&sid("proj-1"), KillOptions::manual(true))
            .await
            .unwrap();
    assert!(!k.workspace_freed);
    assert_eq!(k.workspace_error, Some(stash_error));
    assert_eq!(k.retired, Retired::default());
    assert!(w.workspace.exists(&sid("proj-1")) && w.workspace.is_dirty(&sid("proj-1")));
    assert_eq!(w.status("proj-1").await, Status::Killed);
}

/// W8: a locked worktree is never forced, even with `--preserve`.
#[tokio::test]
async fn w8_locked_worktree() {
    let w = World::new().await;
    w.sm.spawn(request()).await.unwrap();
    w.workspace.set_locked(&sid("proj-1"), true);
    let k =
        w.sm.kill(&sid("proj-1"), KillOptions::manual(true))
            .await
            .unwrap();
    assert!(!k.workspace_freed);
    assert_eq!(k.workspace_error, Some(WorkspaceError::Locked));
    assert!(w.workspace.exists(&sid("proj-1")));
    assert!(w.workspace.trashed(&sid("proj-1")).is_empty());
}

// ---------------------------------------------------------------------------------------------
// Cleanup (M16, M17, W9)
// ---------------------------------------------------------------------------------------------

/// M16: a terminal record without a workspace path is skipped, and nothing is destroyed.
#[tokio::test]
async fn m16_cleanup_without_workspace() {
    let w = World::new().await;
    let mut orphan = killed(1);
    orphan.id = sid("orphan-1");
    orphan.project_id = pid("orphan");
    orphan.metadata.remove(meta::WORKSPACE_PATH);
    w.h.seed(orphan).await;
    let result = w.sm.cleanup(None, false, false).await.unwrap();
    assert_eq!(cleaned(&result), Vec::<SessionId>::new());
    assert_eq!(
        result.skipped,
        [Skipped {
            id: sid("orphan-1"),
            reason: "worktree is stale: no workspace recorded".to_owned()
        }]
    );
    assert_eq!(w.count_prefix("runtime.destroy"), 0);
    assert_eq!(w.count_prefix("workspace.retire"), 0);
}

/// M17: clean terminal → cleaned; dirty terminal → skipped; live → neither. Dry run first.
#[tokio::test]
async fn m17_cleanup_mixed() {
    let w = World::new().await;
    let mut seeds = vec![];
    for (name, state, reason) in [
        ("done", SessionState::Done, SessionReason::Unset),
        (
            "dirty",
            SessionState::Terminated,
            SessionReason::ManuallyKilled,
        ),
        ("live", SessionState::Working, SessionReason::TaskInProgress),
    ] {
        seeds.push(w.seed_in_own_project(name, state, reason).await);
    }
    w.workspace.set_dirty(&sid("dirty-1"), true);
    let skip = |reason: &str| Skipped {
        id: sid("dirty-1"),
        reason: reason.to_owned(),
    };

    let dry = w.sm.cleanup(None, false, true).await.unwrap();
    assert_eq!(cleaned(&dry), [sid("done-1")]);
    assert_eq!(
        dry.skipped,
        [skip(
            "worktree has uncommitted changes (`--preserve` stashes them first)"
        )]
    );
    assert_eq!(
        w.count_prefix("workspace.retire"),
        0,
        "a dry run moves nothing"
    );
    assert_eq!(w.count_prefix("runtime.destroy"), 0);

    let result = w.sm.cleanup(None, false, false).await.unwrap();
    assert_eq!(cleaned(&result), [sid("done-1")]);
    // The real run names the paths that made it dirty.
    assert_eq!(
        result.skipped,
        [skip(
            "worktree has uncommitted changes: notes.txt (`--preserve` stashes them first)"
        )]
    );
    assert!(
        result
            .cleaned
            .iter()
            .all(|(_, r)| r.preserved_ref.is_none())
    );
    assert_eq!(w.workspace.trashed(&sid("done-1")).len(), 1);
    assert!(result.skipped.iter().all(|s| !s.reason.contains('/')));
    assert!(!w.workspace.exists(&sid("done-1")));
    assert!(w.workspace.exists(&sid("dirty-1")) && w.workspace.is_dirty(&sid("dirty-1")));
    assert!(w.workspace.exists(&sid("live-1")));
    assert_eq!(
        w.destroyed(),
        ["dirty-1", "done-1"],
        "leaked panes of terminal sessions are reaped; live-1 is left alone"
    );
    assert!(w.calls().iter().all(|c| !c.contains("live-1")));
}

/// W9: `cleanup --preserve` cleans a dirty terminal session and reports its preserved ref.
#[tokio::test]
async fn w9_cleanup_preserve() {
    let w = World::new().await;
    w.seed_with_worktree(killed(1)).await;
    w.workspace.set_dirty(&sid("proj-1"), true);

    let dry = w.sm.cleanup(Some(&pid("proj")), true, true).await.unwrap();
    assert_eq!(cleaned(&dry), [sid("proj-1")]);
    assert!(w.workspace.exists(&sid("proj-1")));

    let result = w.sm.cleanup(Some(&pid("proj")), true, false).await.unwrap();
    assert_eq!(cleaned(&result), [sid("proj-1")]);
    assert_eq!(
        result.cleaned[0].1.preserved_ref.as_deref(),
        Some("refs/ao/preserved/proj-1")
    );
    assert!(result.skipped.is_empty());
    assert!(!w.workspace.exists(&sid("proj-1")));

    // Without --preserve the same session would have been skipped.
    let w = World::new().await;
    w.seed_with_worktree(killed(1)).await;
    w.workspace.set_dirty(&sid("proj-1"), true);
    let result =
        w.sm.cleanup(Some(&pid("proj")), false, false)
            .await
            .unwrap();
    assert!(result.cleaned.is_empty());
    assert_eq!(result.skipped.len(), 1);
    assert!(w.workspace.exists(&sid("proj-1")));
    assert_eq!(w.workspace.preserved(&sid("proj-1")), None);
}

/// Cleanup of a locked worktree is skipped with a path-free reason.
#[tokio::test]
async fn cleanup_skips_a_locked_worktree() {
    let w = World::new().await;
    w.seed_with_worktree(killed(1)).await;
    w.workspace.set_locked(&sid("proj-1"), true);
    for dry_run in [true, false] {
        let result = w.sm.cleanup(None, true, dry_run).await.unwrap();
        assert_eq!(
            result.skipped,
            [Skipped {
                id: sid("proj-1"),
                reason: "workspace is locked (`git worktree unlock` it first)".to_owned()
            }]
        );
    }
    assert!(w.workspace.exists(&sid("proj-1")));
}

// ---------------------------------------------------------------------------------------------
// Restore (M18, M22–M27, W4, W5, W11)
// ---------------------------------------------------------------------------------------------

/// M18: restoring a live session touches nothing.
#[tokio::test]
async fn m18_restore_live() {
    let w = World::new().await;
    w.seed_with_worktree(working(1)).await;
    let err = w.sm.restore(&sid("proj-1")).await.unwrap_err();
    assert_eq!(err, SmError::NotRestorable(sid("proj-1")));
    assert_eq!(w.count_prefix("workspace.restore"), 0);
    assert_eq!(w.count_prefix("runtime."), 0);
    assert_eq!(w.commits(), 0);
    assert_eq!(
        w.sm.restore(&sid("proj-9")).await.unwrap_err(),
        SmError::NotFound(sid("proj-9"))
    );
}

/// M22: a native resume by the recorded agent id, with a fresh launch generation.
#[tokio::test]
async fn m22_restore_resumes() {
    let w = World::new().await;
    let first_launch = w.sm.spawn(request()).await.unwrap().record.launch.id;
    w.sm.kill(&sid("proj-1"), KillOptions::manual(false))
        .await
        .unwrap();
    w.set_meta("proj-1", meta::AGENT_SESSION_ID, "agent-xyz")
        .await;
    let mark = w.mark();

    let s = w.sm.restore(&sid("proj-1")).await.unwrap();
    assert_eq!(s.status, Status::Spawning);
    let lc = &s.record.lifecycle;
    assert_eq!(lc.session.state, SessionState::NotStarted);
    assert_eq!(lc.session.reason, SessionReason::SpawnRequested);
    assert_eq!(
        lc.pr,
        PrAxis::bare(PrState::None, PrReason::ClearedOnRestore)
    );
    assert_eq!(lc.runtime.state, RuntimeState::Alive);
    let created = w.created();
    assert_eq!(created.len(), 2);
    assert_eq!(created[1].argv, ["fake", "--resume", "agent-xyz"]);
    assert_eq!(created[1].env["AO_RUNTIME_LAUNCH_ID"], s.record.launch.id);
    assert_ne!(s.record.launch.id, first_launch);
    assert_eq!(created[0].env["AO_RUNTIME_LAUNCH_ID"], first_launch);
    let calls = w.calls_since(mark);
    assert!(
        calls.contains(&"workspace.restore proj-1".to_owned()),
        "{calls:?}"
    );
    assert_eq!(
        calls.iter().filter(|c| c.starts_with("setup.")).count(),
        0,
        "restore re-runs only hooks and pre-launch"
    );
}

/// M23: no agent id and no prompt → `NotResumable` before any I/O; with a saved prompt → a
/// fresh launch carrying it.
#[tokio::test]
async fn m23_restore_without_resume() {
    let w = World::new().await;
    w.spawned_and_killed(bare_request()).await;
    let mark = w.mark();
    let err = w.sm.restore(&sid("proj-1")).await.unwrap_err();
    assert_eq!(err, SmError::NotResumable(sid("proj-1")));
    assert!(w.calls_since(mark).is_empty(), "{:?}", w.calls_since(mark));
    assert_eq!(w.status("proj-1").await, Status::Killed);

    w.spawned_and_killed(request()).await;
    let s = w.sm.restore(&sid("proj-2")).await.unwrap();
    assert_eq!(s.status, Status::Spawning);
    let created = w.created();
    assert_eq!(created.len(), 3, "exactly one new runtime");
    assert_eq!(created[2].argv, ["fake", "--", PROMPT]);
}

/// S8: a liveness-stuck session can be killed and restored like any other.
#[tokio::test]
async fn s8_stuck_session_killed_then_restored() {
    let w = World::new().await;
    let mut stuck = record(
        1,
        SessionState::Stuck,
        SessionReason::ProbeFailure,
        RuntimeState::Alive,
    );
    stuck
        .metadata
        .insert(meta::PROMPT.to_owned(), "p".to_owned());
    w.seed_with_worktree(stuck).await;
    w.sm.kill(&sid("proj-1"), KillOptions::manual(false))
        .await
        .unwrap();
    assert_eq!(w.status("proj-1").await, Status::Killed);
    let s = w.sm.restore(&sid("proj-1")).await.unwrap();
    assert_eq!(s.status, Status::Spawning);
}

/// Restore relaunches with the launch options chosen at spawn.
#[tokio::test]
async fn restore_keeps_launch_options() {
    let w = World::new().await;
    let mut req = request();
    req.options.model = Some("m1".to_owned());
    w.spawned_and_killed(req).await;
    w.sm.restore(&sid("proj-1")).await.unwrap();
    let created = w.created();
    assert_eq!(created[0].argv, ["fake", "--model", "m1", "--", PROMPT]);
    assert_eq!(created[1].argv, created[0].argv);
}

/// Restoring a session whose agent exited first destroys the pane its shell kept open, so the
/// new launch gets the name; a killed session's pane is already gone and is left alone.
#[tokio::test]
async fn restore_after_an_exit_replaces_the_open_pane() {
    let w = World::new().await;
    w.spawned_and_killed(request()).await;
    w.sm.restore(&sid("proj-1")).await.unwrap();
    assert_eq!(w.destroyed(), ["proj-1"], "the kill's destroy only");

    let w = World::new().await;
    w.spawned_and_killed(request()).await;
    w.set_meta("proj-1", meta::EXIT_CODE, "0").await;
    let mark = w.mark();
    w.sm.restore(&sid("proj-1")).await.unwrap();
    let calls = w.calls_since(mark);
    let destroy = calls.iter().position(|e| e == "runtime.destroy proj-1");
    let create = calls.iter().position(|e| e == "runtime.create proj-1");
    assert!(destroy.is_some() && destroy < create, "{calls:?}");
    let record = w.load("proj-1").await;
    assert_eq!(
        record.meta(meta::EXIT_CODE),
        None,
        "the new launch has not exited"
    );
}

/// M24: a terminal record without workspace metadata is not restorable; nothing is touched.
#[tokio::test]
async fn m24_restore_incomplete_handle() {
    let w = World::new().await;
    let mut r = killed(1);
    r.metadata.clear();
    w.h.seed(r).await;
    let err = w.sm.restore(&sid("proj-1")).await.unwrap_err();
    assert_eq!(
        err,
        SmError::IncompleteHandle {
            id: sid("proj-1"),
            missing: "workspace path"
        }
    );
    let mut r = killed(2);
    r.metadata.remove(meta::BRANCH);
    w.h.seed(r).await;
    let err = w.sm.restore(&sid("proj-2")).await.unwrap_err();
    assert_eq!(
        err,
        SmError::IncompleteHandle {
            id: sid("proj-2"),
            missing: "branch"
        }
    );
    assert!(w.calls().is_empty());
    assert_eq!(w.commits(), 0);
}

/// M25: `OnSpawnCompleted` fails during restore → the new runtime is destroyed once, the
/// worktree is kept, and the record is reverted exactly (ΔRev 2: reopen + revert).
#[tokio::test]
async fn m25_restore_completion_fails() {
    let w = World::new().await;
    let before = w.spawned_and_killed(request()).await;
    w.records
        .fail_next_commit_where(is_spawn_completed, injected_failure());
    let mark = w.mark();
    let err = w.sm.restore(&sid("proj-1")).await.unwrap_err();
    assert!(
        matches!(
            err,
            SmError::StepFailed {
                step: Step::SpawnCompleted,
                ..
            }
        ),
        "{err:?}"
    );
    let calls = w.calls_since(mark);
    assert_eq!(
        calls
            .iter()
            .filter(|c| *c == "runtime.destroy proj-1")
            .count(),
        1,
        "{calls:?}"
    );
    assert!(!calls.iter().any(|c| c.starts_with("workspace.retire")));
    assert!(w.workspace.exists(&sid("proj-1")), "the worktree is kept");

    let after = w.load("proj-1").await;
    assert_eq!(after.revision - before.revision, 2);
    assert_eq!(after.lifecycle, before.lifecycle);
    assert_eq!(after.launch, before.launch);
    assert_eq!(after.metadata, before.metadata);
    assert_eq!(w.status("proj-1").await, Status::Killed);
}

/// M26: `Runtime.Create` fails during restore → reverted (ΔRev 2); the worktree is kept.
#[tokio::test]
async fn m26_restore_runtime_fails() {
    let w = World::new().await;
    let before = w.spawned_and_killed(request()).await;
    w.runtime
        .fail_next_create(RuntimeError::Io("tmux exploded".to_owned()));
    let mark = w.mark();
    let err = w.sm.restore(&sid("proj-1")).await.unwrap_err();
    assert!(
        matches!(
            err,
            SmError::StepFailed {
                step: Step::Runtime,
                ..
            }
        ),
        "{err:?}"
    );
    let after = w.load("proj-1").await;
    assert_eq!(after.revision - before.revision, 2);
    assert_eq!(after.lifecycle, before.lifecycle);
    assert_eq!(after.launch, before.launch);
    assert_eq!(after.metadata, before.metadata);
    assert!(w.workspace.exists(&sid("proj-1")));
    let calls = w.calls_since(mark);
    assert!(
        !calls.iter().any(|c| c.starts_with("workspace.retire")),
        "{calls:?}"
    );
    assert!(
        !calls.iter().any(|c| c.starts_with("runtime.destroy")),
        "{calls:?}"
    );
}

/// M27: resume by a captured id; else a fresh launch with the saved prompt; else
/// `NotResumable`. A harness that derives its ids (like `claude-code`) is never `NotResumable`.
#[tokio::test]
async fn m27_restore_launch_choice() {
    let w = World::build(config(), |journal| {
        let derives = FakeHarness::named("deriver", journal.clone());
        derives.set_derives_agent_ids(true);
        vec![derives as Arc<dyn AgentHarness>]
    })
    .await;
    let mut captured = killed(1);
    captured
        .metadata
        .insert(meta::AGENT_SESSION_ID.to_owned(), "conv-1".to_owned());
    captured
        .metadata
        .insert(meta::PROMPT.to_owned(), "p".to_owned());
    let mut prompt_only = killed(2);
    prompt_only
        .metadata
        .insert(meta::PROMPT.to_owned(), "saved prompt".to_owned());
    let neither = killed(3);
    let mut derived = killed(4);
    derived.agent = "deriver".to_owned();
    for r in [captured, prompt_only, neither, derived] {
        w.h.seed(r).await;
    }

    w.sm.restore(&sid("proj-1")).await.unwrap();
    w.sm.restore(&sid("proj-2")).await.unwrap();
    assert_eq!(
        w.sm.restore(&sid("proj-3")).await.unwrap_err(),
        SmError::NotResumable(sid("proj-3"))
    );
    w.sm.restore(&sid("proj-4")).await.unwrap();
    let argvs: Vec<Vec<String>> = w.created().into_iter().map(|c| c.argv).collect();
    assert_eq!(
        argvs,
        [
            vec!["fake", "--resume", "conv-1"],
            vec!["fake", "--", "saved prompt"],
            vec!["deriver", "--resume", "deriver-proj-4"],
        ]
    );
    assert_eq!(w.status("proj-3").await, Status::Killed);
}

/// Restore reports harness problems with the same errors as spawn (`AgentBinaryNotFound`,
/// `InvalidAgentOptions`), before any I/O.
#[tokio::test]
async fn restore_harness_errors_match_spawn() {
    let w = World::new().await;
    w.spawned_and_killed(request()).await;
    let mark = w.mark();
    w.fake.set_binary(None);
    let err = w.sm.restore(&sid("proj-1")).await.unwrap_err();
    assert!(matches!(err, SmError::AgentBinaryNotFound(_)), "{err:?}");
    w.fake.set_binary(Some("/usr/bin/fake"));
    w.fake.set_invalid_options(Some("unknown permission mode"));
    let err = w.sm.restore(&sid("proj-1")).await.unwrap_err();
    assert_eq!(
        err,
        SmError::InvalidAgentOptions("unknown permission mode".to_owned())
    );
    assert!(w.calls_since(mark).is_empty(), "{:?}", w.calls_since(mark));
    assert_eq!(w.status("proj-1").await, Status::Killed);
}

/// A failed worktree restore or hook install leaves the record terminal and the worktree in place.
#[tokio::test]
async fn restore_workspace_or_hook_failure_keeps_the_record_terminal() {
    let w = World::new().await;
    let before = w.spawned_and_killed(request()).await;
    w.workspace.fail_next(
        WorkspaceOp::Restore,
        WorkspaceError::BranchNotFetched("feat/42".to_owned()),
    );
    let err = w.sm.restore(&sid("proj-1")).await.unwrap_err();
    assert_eq!(
        err,
        SmError::Workspace(WorkspaceError::BranchNotFetched("feat/42".to_owned()))
    );
    w.fake
        .fail_next_hooks(AgentError::Hooks("settings unreadable".to_owned()));
    let err = w.sm.restore(&sid("proj-1")).await.unwrap_err();
    assert!(
        matches!(
            err,
            SmError::StepFailed {
                step: Step::Hooks,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(w.load("proj-1").await, before, "nothing written");
    assert!(w.workspace.exists(&sid("proj-1")));
    assert_eq!(w.created().len(), 1);
}

/// Restore after a kill brings the worktree back from the trash, uncommitted work and all; the
/// preserved ref is left alone (the work never left the worktree).
#[tokio::test]
async fn restore_brings_the_worktree_back_from_the_trash() {
    let w = World::new().await;
    w.sm.spawn(request()).await.unwrap();
    w.workspace.set_dirty(&sid("proj-1"), true);
    w.sm.kill(&sid("proj-1"), KillOptions::manual(true))
        .await
        .unwrap();
    assert!(!w.workspace.exists(&sid("proj-1")));
    w.sm.restore(&sid("proj-1")).await.unwrap();
    assert!(w.workspace.exists(&sid("proj-1")) && w.workspace.is_dirty(&sid("proj-1")));
    assert!(w.workspace.trashed(&sid("proj-1")).is_empty());
    assert_eq!(w.count_prefix("workspace.apply_preserved"), 0);
}

/// W4: restore after `kill --preserve` and an emptied trash recreates the worktree and
/// re-applies the work.
#[tokio::test]
async fn w4_restore_reapplies_preserved_work() {
    let w = World::new().await;
    w.sm.spawn(request()).await.unwrap();
    w.workspace.set_dirty(&sid("proj-1"), true);
    w.sm.kill(&sid("proj-1"), KillOptions::manual(true))
        .await
        .unwrap();
    w.sm.trash_empty(None).await.unwrap();
    let mark = w.mark();
    let s = w.sm.restore(&sid("proj-1")).await.unwrap();
    assert_eq!(s.status, Status::Spawning);
    let calls = w.calls_since(mark);
    assert_eq!(
        calls[..3],
        [
            "workspace.restore proj-1",
            "workspace.preserved_ref proj-1",
            "workspace.apply_preserved proj-1 refs/ao/preserved/proj-1"
        ]
    );
    assert_eq!(
        w.workspace.preserved(&sid("proj-1")),
        None,
        "the ref is deleted"
    );
    assert!(
        w.workspace.is_dirty(&sid("proj-1")),
        "the work is back, uncommitted"
    );
    assert_eq!(w.created().len(), 2, "the agent is relaunched");
}

/// W5: a conflicting re-apply still restores, keeps the ref and warns the user once.
#[tokio::test]
async fn w5_restore_with_preserved_conflict() {
    let w = World::new().await;
    w.sm.spawn(request()).await.unwrap();
    w.workspace.set_dirty(&sid("proj-1"), true);
    w.sm.kill(&sid("proj-1"), KillOptions::manual(true))
        .await
        .unwrap();
    w.sm.trash_empty(None).await.unwrap();
    w.workspace.fail_next(
        WorkspaceOp::ApplyPreserved,
        WorkspaceError::PreservedConflict {
            reference: "refs/ao/preserved/proj-1".to_owned(),
        },
    );
    let s = w.sm.restore(&sid("proj-1")).await.unwrap();
    assert_eq!(s.status, Status::Spawning);
    assert_eq!(
        w.workspace.preserved(&sid("proj-1")).as_deref(),
        Some("refs/ao/preserved/proj-1")
    );
    let events = w.h.notifier.of_type("workspace.preserved-conflict");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].priority, Priority::Warning);
    assert_eq!(events[0].session_id, sid("proj-1"));
    assert_eq!(events[0].data["ref"], "refs/ao/preserved/proj-1");
}

/// W11: a reused worktree never gets the preserved ref applied; a warning says so.
#[tokio::test]
async fn w11_reused_worktree_leaves_preserved_ref() {
    let (logs, _guard) = LogCapture::install();
    let w = World::new().await;
    let mut r = killed(1);
    r.metadata.insert(meta::PROMPT.to_owned(), "p".to_owned());
    w.seed_with_worktree(r).await;
    w.workspace.set_preserved(&sid("proj-1"));
    w.sm.restore(&sid("proj-1")).await.unwrap();
    assert_eq!(w.count_prefix("workspace.apply_preserved"), 0);
    assert_eq!(
        w.workspace.preserved(&sid("proj-1")).as_deref(),
        Some("refs/ao/preserved/proj-1")
    );
    assert_eq!(
        logs.matching(Level::WARN, "preserved ref left untouched")
            .len(),
        1,
        "{:?}",
        logs.lines()
    );
}

// ---------------------------------------------------------------------------------------------
// List, get, send (M19–M21, M28)
// ---------------------------------------------------------------------------------------------

/// M19, M20: the display status is derived on read; list orders by project, then number.
#[tokio::test]
async fn m19_m20_list_and_get() {
    let w = World::new().await;
    let mut not_started = record(
        1,
        SessionState::NotStarted,
        SessionReason::SpawnRequested,
        RuntimeState::Unknown,
    );
    not_started.launch.started_at = None;
    let mut ci_failed = working(5);
    ci_failed.lifecycle.pr = PrAxis::bare(PrState::Open, PrReason::CiFailing);
    let mut merged = record(
        6,
        SessionState::Idle,
        SessionReason::MergedWaitingDecision,
        RuntimeState::Alive,
    );
    merged.lifecycle.pr = PrAxis::bare(PrState::Merged, PrReason::Merged);
    let mut other = working(1);
    other.id = sid("alpha-1");
    other.project_id = pid("alpha");
    for r in [
        killed(7),
        merged,
        ci_failed,
        record(
            4,
            SessionState::NeedsInput,
            SessionReason::AwaitingUserInput,
            RuntimeState::Alive,
        ),
        record(
            3,
            SessionState::Idle,
            SessionReason::Unset,
            RuntimeState::Alive,
        ),
        working(2),
        not_started,
        other,
    ] {
        w.h.seed(r).await;
    }
    let expected = [
        ("alpha-1", Status::Working),
        ("proj-1", Status::Spawning),
        ("proj-2", Status::Working),
        ("proj-3", Status::Idle),
        ("proj-4", Status::NeedsInput),
        ("proj-5", Status::CiFailed),
        ("proj-6", Status::Merged),
        ("proj-7", Status::Killed),
    ];
    let listed: Vec<(String, Status)> =
        w.sm.list(None)
            .await
            .unwrap()
            .into_iter()
            .map(|s| (s.record.id.to_string(), s.status))
            .collect();
    let expected_owned: Vec<(String, Status)> = expected
        .iter()
        .map(|(id, s)| ((*id).to_owned(), *s))
        .collect();
    assert_eq!(listed, expected_owned);
    assert_eq!(w.sm.list(Some(&pid("proj"))).await.unwrap().len(), 7);
    for (id, status) in expected {
        assert_eq!(w.status(id).await, status, "{id}");
    }
    assert_eq!(
        w.sm.get(&sid("proj-99")).await.unwrap_err(),
        SmError::NotFound(sid("proj-99"))
    );
}

/// Section 9: `no_signal` is derived only for hook-capable harnesses.
#[tokio::test]
async fn get_derives_no_signal_for_hook_capable_harnesses() {
    let w = World::new().await;
    w.sm.spawn(request()).await.unwrap();
    w.h.clock.advance(secs(91));
    assert_eq!(w.status("proj-1").await, Status::Spawning);
    w.fake.set_hook_capable(true);
    assert_eq!(w.status("proj-1").await, Status::NoSignal);
}

/// M21: a user message reaches the pane verbatim.
#[tokio::test]
async fn m21_send() {
    let mut w = World::new().await;
    w.h.start();
    w.h.seed(working(1)).await;
    let outcome =
        w.sm.send(&sid("proj-1"), "hello".to_owned(), Some(secs(10)), false)
            .await
            .unwrap();
    assert!(
        matches!(outcome, SendOutcome::Injected { .. }),
        "{outcome:?}"
    );
    assert_eq!(
        w.h.messenger.writes(),
        [(sid("proj-1"), "hello".to_owned())]
    );

    // --no-wait: queued now, written by the worker.
    let outcome =
        w.sm.send(&sid("proj-1"), "again".to_owned(), None, false)
            .await
            .unwrap();
    assert!(matches!(outcome, SendOutcome::Queued { .. }), "{outcome:?}");
    w.h.wait_idle().await;
    assert_eq!(w.h.messenger.texts(), ["hello", "again"]);

    // Unknown id: nothing queued.
    assert_eq!(
        w.sm.send(&sid("proj-9"), "x".to_owned(), None, false)
            .await
            .unwrap_err(),
        SmError::NotFound(sid("proj-9"))
    );
}

/// A waiting `Send` answers once the pane write is over: a slow write is waited for, and a write
/// that fails is the error, never an `injected` reported while the text was still being typed.
#[tokio::test(start_paused = true)]
async fn send_answers_once_the_write_is_over() {
    let mut w = World::new().await;
    w.h.start();
    w.h.seed(working(1)).await;
    w.h.messenger.set_delay(&sid("proj-1"), secs(2));
    let started = tokio::time::Instant::now();
    let outcome =
        w.sm.send(&sid("proj-1"), "slow".to_owned(), Some(secs(10)), false)
            .await
            .unwrap();
    assert!(
        matches!(outcome, SendOutcome::Injected { .. }),
        "{outcome:?}"
    );
    assert!(started.elapsed() >= secs(2), "{:?}", started.elapsed());
    assert_eq!(w.h.messenger.texts(), ["slow"], "typed before the answer");

    w.h.messenger.set_failing(true);
    let err =
        w.sm.send(&sid("proj-1"), "lost".to_owned(), Some(secs(10)), false)
            .await
            .unwrap_err();
    assert_eq!(
        err,
        SmError::Refused {
            id: sid("proj-1"),
            reason: SendRefusal::Failed("pane write failed".to_owned()),
        }
    );
}

/// M28 (guard part), S11: refusals map to the spec's errors and type nothing.
#[tokio::test]
async fn m28_send_guard() {
    let mut w = World::new().await;
    w.h.start();
    let with_activity = |n: u64, activity: ActivityState| {
        let mut r = working(n);
        r.lifecycle.activity = ActivityAxis {
            state: Some(activity),
            last_activity_at: Some(t0()),
            source: ActivitySource::Hook,
        };
        r
    };
    w.h.seed(with_activity(1, ActivityState::Blocked)).await;
    w.h.seed(with_activity(2, ActivityState::Exited)).await;
    w.h.seed(with_activity(3, ActivityState::WaitingInput))
        .await;
    w.h.seed(record(
        4,
        SessionState::Stuck,
        SessionReason::AgentProcessExited,
        RuntimeState::Alive,
    ))
    .await;
    w.h.seed(killed(5)).await;

    async fn send(w: &World, n: u64) -> Result<SendOutcome, SmError> {
        let id = sid(&format!("proj-{n}"));
        w.sm.send(&id, "hi".to_owned(), Some(secs(10)), false).await
    }
    for (n, refusal) in [
        (1, SendRefusal::AwaitingDecision),
        (2, SendRefusal::AgentExited),
        (4, SendRefusal::AgentExited),
        (5, SendRefusal::Terminated),
    ] {
        let err = send(&w, n).await.unwrap_err();
        assert_eq!(
            err,
            SmError::Refused {
                id: sid(&format!("proj-{n}")),
                reason: refusal
            }
        );
    }
    assert_eq!(w.h.messenger.attempts(), 0, "no pane write for a refusal");
    let outcome = send(&w, 3).await.unwrap();
    assert!(
        matches!(outcome, SendOutcome::Injected { .. }),
        "{outcome:?}"
    );
    assert_eq!(w.h.messenger.writes(), [(sid("proj-3"), "hi".to_owned())]);
}

/// M28 (confirmation loop, SM level): `Send` to a confirm-capable agent reports the loop's
/// outcome, not the bare injection.
#[tokio::test(start_paused = true)]
async fn m28_send_waits_for_the_confirmation() {
    let mut w = World::new().await;
    w.h.start();
    for n in [1, 2] {
        let mut r = working(n);
        r.agent = "claude-code".to_owned();
        w.h.seed(r).await;
    }
    // proj-1 starts its turn once the message is typed.
    let (messenger, lcm) = (w.h.messenger.clone(), w.h.lcm.clone());
    tokio::spawn(async move {
        while messenger.writes().is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let signal = ActivitySignal {
            timestamp: Some(t0()),
            ..ActivitySignal::valid(ActivityState::Active, ActivitySource::Hook)
        };
        lcm.apply_activity_signal(&sid("proj-1"), &signal)
            .await
            .unwrap();
    });
    let outcome =
        w.sm.send(&sid("proj-1"), "hello".to_owned(), Some(secs(60)), false)
            .await
            .unwrap();
    assert!(
        matches!(outcome, SendOutcome::Acknowledged { .. }),
        "{outcome:?}"
    );
    // proj-2 never confirms: `injected`, after the loop's three Enters.
    let outcome =
        w.sm.send(&sid("proj-2"), "hi".to_owned(), Some(secs(60)), false)
            .await
            .unwrap();
    assert!(
        matches!(outcome, SendOutcome::Injected { .. }),
        "{outcome:?}"
    );
    let to_proj_2: Vec<String> =
        w.h.messenger
            .writes()
            .into_iter()
            .filter(|(s, _)| *s == sid("proj-2"))
            .map(|(_, t)| t)
            .collect();
    assert_eq!(to_proj_2, ["hi", "", ""]);
}

// ---------------------------------------------------------------------------------------------
// Boot reconcile (R1–R7, W10)
// ---------------------------------------------------------------------------------------------

/// R1: a live session whose recorded pane exists is adopted: nothing written or destroyed.
#[tokio::test]
async fn r1_adopt() {
    let w = World::new().await;
    let mut r = working(1);
    r.metadata
        .insert(meta::RUNTIME_PANE_ID.to_owned(), "%3".to_owned());
    w.seed_with_worktree(r).await;
    w.runtime.set_panes(vec![pane("proj-1", "%3")]);
    let report = w.sm.reconcile_at_boot().await;
    assert_eq!(report.adopted, [sid("proj-1")]);
    assert_eq!(w.commits(), 0);
    assert!(w.destroyed().is_empty());
    assert!(report.unowned_panes.is_empty());
}

/// R2: a live session's pane is gone (or is not its recorded pane) → nothing at boot; the
/// first reaper tick infers the death.
#[tokio::test]
async fn r2_missing_pane_is_left_to_the_reaper() {
    let w = World::new().await;
    w.seed_with_worktree(working(1)).await;
    let mut r = working(2);
    r.metadata
        .insert(meta::RUNTIME_PANE_ID.to_owned(), "%5".to_owned());
    w.seed_with_worktree(r).await;
    w.runtime.set_panes(vec![pane("proj-2", "%9")]);
    let report = w.sm.reconcile_at_boot().await;
    assert_eq!(report.missing_panes, [sid("proj-1"), sid("proj-2")]);
    assert!(
        report.unowned_panes.is_empty(),
        "proj-2's session name is owned"
    );
    assert_eq!(w.commits(), 0);
    assert!(w.destroyed().is_empty());

    let reaper = Reaper::new(
        w.h.lcm.clone(),
        w.runtime.clone(),
        w.h.clock.clone(),
        REAPER_TICK,
    );
    reaper.tick(t0()).await;
    for id in ["proj-1", "proj-2"] {
        let r = w.load(id).await;
        assert_eq!(r.lifecycle.session.reason, SessionReason::RuntimeLost);
        assert_eq!(w.status(id).await, Status::Terminated);
    }
}

/// R3: the pane listing fails → nothing written or destroyed; an error is logged.
#[tokio::test]
async fn r3_listing_fails() {
    let (logs, _guard) = LogCapture::install();
    let w = World::new().await;
    w.seed_with_worktree(working(1)).await;
    w.h.seed(killed(2)).await;
    let mut interrupted = working(3);
    interrupted.launch.started_at = None;
    w.h.seed(interrupted).await;
    w.runtime.fail_listing(RuntimeError::Command {
        argv: "tmux list-panes -a".to_owned(),
        output: "permission denied".to_owned(),
    });
    let report = w.sm.reconcile_at_boot().await;
    assert!(report.listing_error.is_some());
    assert_eq!(
        report,
        BootReport {
            listing_error: report.listing_error.clone(),
            ..BootReport::default()
        }
    );
    assert_eq!(w.commits(), 0);
    assert!(w.destroyed().is_empty());
    assert_eq!(
        logs.matching(Level::ERROR, "listing panes failed").len(),
        1,
        "{:?}",
        logs.lines()
    );
}

/// R4: a terminal session's leaked pane is destroyed; without a pane nothing happens.
#[tokio::test]
async fn r4_leaked_runtime() {
    let w = World::new().await;
    w.h.seed(killed(1)).await;
    w.h.seed(killed(2)).await;
    w.runtime.set_panes(vec![pane("proj-1", "%1")]);
    let report = w.sm.reconcile_at_boot().await;
    assert_eq!(report.leaked, [sid("proj-1")]);
    assert_eq!(w.destroyed(), ["proj-1"]);
    assert_eq!(w.commits(), 0);
}

/// The open pane of an agent that exited is not a leak: it stays, with its last output, until a
/// kill or cleanup.
#[tokio::test]
async fn boot_keeps_the_pane_of_an_exited_agent() {
    let w = World::new().await;
    let mut exited = killed(1);
    exited.metadata.insert(meta::EXIT_CODE.into(), "1".into());
    w.h.seed(exited).await;
    w.runtime.set_panes(vec![pane("proj-1", "%1")]);
    let report = w.sm.reconcile_at_boot().await;
    assert!(report.leaked.is_empty(), "{report:?}");
    assert!(w.destroyed().is_empty());
    assert_eq!(w.commits(), 0);
}

/// R5: a spawn interrupted after `Runtime.Create` → pane destroyed, record `errored` with the
/// detail and its worktree recorded (with or without a pane), and the worktree of that first
/// spawn moved to the trash.
#[tokio::test]
async fn r5_interrupted_spawn() {
    let w = World::new().await;
    w.workspace.add_worktree(
        &PathBuf::from("/repo/proj"),
        &pid("proj"),
        &sid("proj-1"),
        "feat/1",
    );
    for n in [1, 2] {
        let mut r = record(
            n,
            SessionState::NotStarted,
            SessionReason::SpawnRequested,
            RuntimeState::Unknown,
        );
        r.launch.started_at = None;
        r.metadata.clear();
        r.metadata
            .insert(meta::BRANCH.to_owned(), format!("feat/{n}"));
        w.h.seed(r).await;
    }
    w.runtime.set_panes(vec![pane("proj-1", "%1")]);
    let report = w.sm.reconcile_at_boot().await;
    assert_eq!(report.interrupted, [sid("proj-1"), sid("proj-2")]);
    assert_eq!(
        w.destroyed(),
        ["proj-1"],
        "only the existing pane is destroyed"
    );
    for (n, id) in [(1, "proj-1"), (2, "proj-2")] {
        let r = w.load(id).await;
        assert_eq!(r.lifecycle.session.state, SessionState::Terminated);
        assert_eq!(r.lifecycle.session.reason, SessionReason::ErrorInProcess);
        assert_eq!(
            r.meta(meta::TERMINATION_DETAIL),
            Some("spawn interrupted by daemon restart")
        );
        assert_eq!(
            r.meta(meta::WORKSPACE_PATH).map(str::to_owned),
            Some(format!("/tmp/ws/{id}"))
        );
        assert_eq!(
            r.meta(meta::BRANCH).map(str::to_owned),
            Some(format!("feat/{n}"))
        );
        assert_eq!(w.status(id).await, Status::Errored);
        assert_eq!(w.count(&format!("workspace.retire {id} discard")), 1);
    }
    assert!(!w.workspace.exists(&sid("proj-1")));
    assert_eq!(w.workspace.trashed(&sid("proj-1")).len(), 1);
}

/// R6, R7: unowned panes and worktrees are reported and left alone; boot removes no worktree.
#[tokio::test]
async fn r6_r7_unowned_things_are_left_alone() {
    let (logs, _guard) = LogCapture::install();
    let w = World::new().await;
    w.seed_with_worktree(working(1)).await;
    w.seed_with_worktree(killed(2)).await;
    w.workspace.set_dirty(&sid("proj-2"), true);
    let mut interrupted = working(3);
    interrupted.launch.started_at = None;
    w.seed_with_worktree(interrupted).await;
    w.workspace.add_worktree(
        &PathBuf::from("/repo/proj"),
        &pid("proj"),
        &sid("proj-9"),
        "feat/9",
    );
    w.runtime.set_panes(vec![
        pane("proj-1", "%1"),
        pane("proj-2", "%2"),
        pane("proj-3", "%3"),
        pane("stray", "%7"),
    ]);
    let report = w.sm.reconcile_at_boot().await;
    assert_eq!(report.adopted, [sid("proj-1")]);
    assert_eq!(report.leaked, [sid("proj-2")]);
    assert_eq!(report.interrupted, [sid("proj-3")]);
    assert_eq!(report.unowned_panes, ["stray"]);
    assert_eq!(report.unowned_worktrees, ["proj-9"]);
    assert_eq!(
        w.destroyed(),
        ["proj-2", "proj-3"],
        "stray is not destroyed"
    );
    let workspace_calls: Vec<String> = w
        .calls()
        .into_iter()
        .filter(|c| c.starts_with("workspace."))
        .collect();
    assert_eq!(
        workspace_calls,
        ["workspace.trash_repair", "workspace.list proj"],
        "R7: only the trash repair and a listing"
    );
    for id in ["proj-1", "proj-2", "proj-3", "proj-9"] {
        assert!(w.workspace.exists(&sid(id)), "{id}");
    }
    assert!(w.workspace.is_dirty(&sid("proj-2")));
    assert_eq!(
        logs.matching(Level::WARN, "matches no record").len(),
        2,
        "one warning for the pane, one for the worktree: {:?}",
        logs.lines()
    );
}

/// W10: a dead-pane session with a dirty worktree: boot and the reaper's death inference run
/// no worktree command but the listing, and the work is untouched.
#[tokio::test]
async fn w10_boot_never_touches_a_dirty_worktree() {
    let w = World::new().await;
    w.seed_with_worktree(working(1)).await;
    w.workspace.set_dirty(&sid("proj-1"), true);
    let report = w.sm.reconcile_at_boot().await;
    assert_eq!(report.missing_panes, [sid("proj-1")]);
    let reaper = Reaper::new(
        w.h.lcm.clone(),
        w.runtime.clone(),
        w.h.clock.clone(),
        REAPER_TICK,
    );
    reaper.tick(t0()).await;
    assert_eq!(w.status("proj-1").await, Status::Terminated);
    let workspace_calls: Vec<String> = w
        .calls()
        .into_iter()
        .filter(|c| c.starts_with("workspace."))
        .collect();
    assert_eq!(
        workspace_calls,
        ["workspace.trash_repair", "workspace.list proj"]
    );
    assert!(w.workspace.exists(&sid("proj-1")) && w.workspace.is_dirty(&sid("proj-1")));
}

#[tokio::test]
async fn configured_projects_are_added_once_and_a_bad_one_is_skipped() {
    let w = World::new().await;
    let before = w.h.store.project(&pid("proj")).await.unwrap().unwrap();
    let spec = |name: &str, repo: &str, agent: Option<&str>| ProjectSpec {
        name: name.to_owned(),
        repo_path: PathBuf::from(repo),
        default_agent: agent.map(str::to_owned),
        ..ProjectSpec::default()
    };
    let specs = [
        // Already registered: left exactly as it is, even when the file now says otherwise.
        spec("proj", "/elsewhere", None),
        spec("fresh", "/repos/fresh", None),
        spec("bad id!", "/repos/bad", None),
        spec("typo", "/repos/typo", Some("no-such-agent")),
    ];
    w.sm.add_missing_projects(&specs).await;
    w.sm.add_missing_projects(&specs).await;
    let projects: Vec<String> =
        w.h.store
            .projects()
            .await
            .unwrap()
            .iter()
            .map(|p| p.id.to_string())
            .collect();
    assert_eq!(projects, ["fresh", "proj"]);
    assert_eq!(
        w.h.store.project(&pid("proj")).await.unwrap().unwrap(),
        before
    );
    let fresh = w.h.store.project(&pid("fresh")).await.unwrap().unwrap();
    assert_eq!(fresh.repo_path, PathBuf::from("/repos/fresh"));
}

// ---------------------------------------------------------------------------------------------
// Forget
// ---------------------------------------------------------------------------------------------

/// Forget: a live session and one whose worktree is still in place are kept with why; after
/// cleanup moves the worktree, the ended one goes (a dry run first), and `forget_ended` honours
/// its age cutoff.
#[tokio::test]
async fn forget_only_ended_sessions_whose_worktree_is_gone() {
    let w = World::new().await;
    for (name, state, reason) in [
        ("done", SessionState::Done, SessionReason::Unset),
        ("live", SessionState::Working, SessionReason::TaskInProgress),
    ] {
        w.seed_in_own_project(name, state, reason).await;
    }
    let ids = [sid("done-1"), sid("live-1")];
    let first = w.sm.forget(&ids, false).await.unwrap();
    assert_eq!(first.forgotten, Vec::<SessionId>::new());
    let reasons: Vec<&str> = first.skipped.iter().map(|s| s.reason.as_str()).collect();
    assert!(
        reasons[0].contains("`aoctl cleanup` moves it"),
        "{reasons:?}"
    );
    assert!(reasons[1].contains("still live"), "{reasons:?}");

    let dry_ended =
        w.sm.forget_ended(None, None, true, &[sid("done-1")])
            .await
            .unwrap();
    assert_eq!(
        dry_ended.forgotten,
        [sid("done-1")],
        "cleanup would move it first"
    );
    w.sm.cleanup(None, false, false).await.unwrap();
    let too_new =
        w.sm.forget_ended(
            None,
            Some(Duration::from_secs(3600 * 24 * 365 * 100)),
            false,
            &[],
        )
        .await
        .unwrap();
    assert_eq!(too_new, ForgetResult::default());
    let dry = w.sm.forget(&ids[..1], true).await.unwrap();
    assert_eq!(dry.forgotten, [sid("done-1")]);
    assert!(w.h.store.load(&sid("done-1")).await.unwrap().is_some());
    let done = w.sm.forget(&ids, false).await.unwrap();
    assert_eq!(done.forgotten, [sid("done-1")]);
    assert_eq!(done.skipped.len(), 1);
    assert!(w.h.store.load(&sid("done-1")).await.unwrap().is_none());
    assert!(w.h.store.load(&sid("live-1")).await.unwrap().is_some());
}
