//! Test doubles for orchestration tests: a manual clock, a recording notifier, a recording
//! messenger (the pane writer behind the session guard), a harness wiring the LCM,
//! reactions and message delivery over any store backend, a scripted record store, a fake
//! runtime, the Session Manager's other fakes (`session`) and a log capture (`logs`).

mod logs;
mod memory_store;
mod session;

pub use logs::LogCapture;
pub use memory_store::MemoryStore;
pub use session::{FakeHarness, FakeSetup, FakeWorkspace, WorkspaceOp};

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use crate::decide::reactions::ReactionPolicies;
use crate::domain::{
    ActivitySignal, NotifyEvent, ReactionKey, RuntimeFacts, RuntimeHandle, ScmFacts, SessionId,
    SessionRecord, Timestamp, Tracker,
};
use crate::lifecycle::{Applied, Lcm, Wakeups};
use crate::messages::MessageDelivery;
use crate::ports::{
    AgentCapabilities, AgentCatalog, AgentMessenger, Backend, Clock, MessengerError, RecordReader,
    RecordWriter, Submit,
};
use crate::reaction_dispatch::Reactions;
use ao_core::input_line::{Composer, InputLine, Screen};

/// A clock that only moves when told to.
#[derive(Debug)]
pub struct ManualClock(Mutex<Timestamp>);

impl ManualClock {
    pub fn new(at: Timestamp) -> Arc<Self> {
        Arc::new(Self(Mutex::new(at)))
    }

    pub fn set(&self, at: Timestamp) {
        *self.0.lock().unwrap() = at;
    }

    pub fn advance(&self, by: Duration) {
        let mut t = self.0.lock().unwrap();
        *t = t.plus(by);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap()
    }
}

/// Collects every notification.
#[derive(Debug, Default)]
pub struct RecordingNotifier(Mutex<Vec<NotifyEvent>>);

impl RecordingNotifier {
    pub fn events(&self) -> Vec<NotifyEvent> {
        self.0.lock().unwrap().clone()
    }

    pub fn of_type(&self, event_type: &str) -> Vec<NotifyEvent> {
        self.events()
            .into_iter()
            .filter(|e| e.event_type == event_type)
            .collect()
    }
}

#[async_trait]
impl crate::ports::Notifier for RecordingNotifier {
    async fn notify(&self, event: NotifyEvent) {
        self.0.lock().unwrap().push(event);
    }
}

/// Records pane writes; can be told to fail, or to take time per session. Each session's input
/// line holds a draft when told so: `clear_input` empties it, `type_text` puts text back.
#[derive(Debug, Default)]
pub struct RecordingMessenger {
    writes: Mutex<Vec<(SessionId, String)>>,
    attempts: Mutex<usize>,
    fail: Mutex<bool>,
    delays: Mutex<HashMap<SessionId, Duration>>,
    drafts: Mutex<HashMap<SessionId, String>>,
    /// Every pane action in order: `write <text>`, `clear`, `type <text>`.
    actions: Mutex<Vec<String>>,
}

impl RecordingMessenger {
    /// The session's input line holds `draft` (empty: nothing).
    pub fn set_draft(&self, session: &SessionId, draft: &str) {
        let mut drafts = self.drafts.lock().unwrap();
        if draft.is_empty() {
            drafts.remove(session);
        } else {
            drafts.insert(session.clone(), draft.to_owned());
        }
    }

    /// Every pane action in order: `write <text>`, `clear`, `type <text>`.
    pub fn actions(&self) -> Vec<String> {
        self.actions.lock().unwrap().clone()
    }

    /// Successful writes, in order.
    pub fn writes(&self) -> Vec<(SessionId, String)> {
        self.writes.lock().unwrap().clone()
    }

    pub fn texts(&self) -> Vec<String> {
        self.writes().into_iter().map(|(_, t)| t).collect()
    }

    /// Write calls, including failed ones.
    pub fn attempts(&self) -> usize {
        *self.attempts.lock().unwrap()
    }

    pub fn set_failing(&self, fail: bool) {
        *self.fail.lock().unwrap() = fail;
    }

    pub fn set_delay(&self, session: &SessionId, delay: Duration) {
        self.delays.lock().unwrap().insert(session.clone(), delay);
    }
}

#[async_trait]
impl AgentMessenger for RecordingMessenger {
    async fn write(
        &self,
        session: &SessionId,
        _handle: &RuntimeHandle,
        text: &str,
        _submit: Submit,
    ) -> Result<(), MessengerError> {
        *self.attempts.lock().unwrap() += 1;
        let delay = self.delays.lock().unwrap().get(session).copied();
        if let Some(delay) = delay {
            tokio::time::sleep(delay).await;
        }
        if *self.fail.lock().unwrap() {
            return Err(MessengerError {
                session: session.clone(),
                message: "pane write failed".to_owned(),
            });
        }
        if self.drafts.lock().unwrap().contains_key(session) {
            return Err(MessengerError {
                session: session.clone(),
                message: "typed into a draft".to_owned(),
            });
        }
        self.actions.lock().unwrap().push(format!("write {text}"));
        self.writes
            .lock()
            .unwrap()
            .push((session.clone(), text.to_owned()));
        Ok(())
    }

    async fn input_line(
        &self,
        session: &SessionId,
        _handle: &RuntimeHandle,
        _composer: Composer,
    ) -> Result<InputLine, MessengerError> {
        Ok(match self.drafts.lock().unwrap().get(session) {
            Some(draft) => InputLine::Draft(draft.clone()),
            None => InputLine::Empty,
        })
    }

    async fn clear_input(
        &self,
        session: &SessionId,
        _handle: &RuntimeHandle,
        _composer: Composer,
    ) -> Result<(), MessengerError> {
        self.actions.lock().unwrap().push("clear".to_owned());
        self.drafts.lock().unwrap().remove(session);
        Ok(())
    }

    async fn type_text(
        &self,
        session: &SessionId,
        _handle: &RuntimeHandle,
        text: &str,
    ) -> Result<(), MessengerError> {
        self.actions.lock().unwrap().push(format!("type {text}"));
        self.set_draft(session, text);
        Ok(())
    }
}

/// The draft grace of the harness's delivery.
pub const TEST_DRAFT_GRACE: Duration = Duration::from_secs(30);

/// `claude-code` and `codex` are hook-capable; everything else is not.
#[derive(Debug, Default)]
pub struct TestCatalog;

impl AgentCatalog for TestCatalog {
    fn capabilities(&self, agent: &str) -> AgentCapabilities {
        AgentCapabilities {
            hook_capable: matches!(agent, "claude-code" | "codex"),
            confirm_capable: agent == "claude-code",
            submit: Submit::default(),
        }
    }
}

/// The LCM with reactions and delivery over one store, a pinned clock and recording doubles.
pub struct Harness {
    pub store: Arc<dyn Backend>,
    pub clock: Arc<ManualClock>,
    pub lcm: Arc<Lcm>,
    pub notifier: Arc<RecordingNotifier>,
    pub messenger: Arc<RecordingMessenger>,
    pub reactions: Arc<Reactions>,
    pub delivery: Arc<MessageDelivery>,
    cancel: CancellationToken,
    reactions_started: bool,
    delivery_started: bool,
}

impl Harness {
    pub fn new(store: Arc<dyn Backend>, at: Timestamp) -> Self {
        Self::with_policies(store, at, ReactionPolicies::default())
    }

    pub fn with_policies(
        store: Arc<dyn Backend>,
        at: Timestamp,
        policies: ReactionPolicies,
    ) -> Self {
        let clock = ManualClock::new(at);
        Self::assemble(store.clone(), store, clock, policies)
    }

    /// Like `with_policies`, with the LCM writing records through `records` (a wrapper that
    /// injects failures, say) while everything else uses `store`.
    pub fn assemble(
        records: Arc<dyn RecordWriter>,
        store: Arc<dyn Backend>,
        clock: Arc<ManualClock>,
        policies: ReactionPolicies,
    ) -> Self {
        let lcm = Arc::new(Lcm::new(
            records,
            store.clone(),
            clock.clone(),
            policies,
            Arc::new(Wakeups::default()),
        ));
        let notifier = Arc::new(RecordingNotifier::default());
        let messenger = Arc::new(RecordingMessenger::default());
        let reactions = Reactions::new(&lcm, store.clone(), notifier.clone());
        let delivery = MessageDelivery::new(
            &lcm,
            store.clone(),
            messenger.clone(),
            Arc::new(TestCatalog),
            TEST_DRAFT_GRACE,
        );
        Self {
            store,
            clock,
            lcm,
            notifier,
            messenger,
            reactions,
            delivery,
            cancel: CancellationToken::new(),
            reactions_started: false,
            delivery_started: false,
        }
    }

    /// Starts the reaction dispatcher (a "paused" worker is one not started yet).
    pub fn start_reactions(&mut self) {
        if !self.reactions_started {
            self.reactions_started = true;
            tokio::spawn(self.reactions.clone().run(self.cancel.clone()));
        }
    }

    pub fn start_delivery(&mut self) {
        if !self.delivery_started {
            self.delivery_started = true;
            tokio::spawn(self.delivery.clone().run(self.cancel.clone()));
        }
    }

    pub fn start(&mut self) {
        self.start_reactions();
        self.start_delivery();
    }

    /// `Reactions::wait_idle()`: every reaction queue empty, no queued message waiting to be
    /// written, no worker holding a row. Panics after 10 s with what is still pending.
    pub async fn wait_idle(&self) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            // Reactions first: a reaction worker queues its nudge before it lets go of its row.
            let reactions = self.reactions.is_idle().await.unwrap();
            let delivery = self.delivery.is_idle().await.unwrap();
            if reactions && delivery {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "not idle after 10 s: reactions idle={reactions}, delivery idle={delivery}"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    pub async fn seed(&self, record: SessionRecord) -> SessionRecord {
        self.store.seed(record.clone()).await.unwrap();
        record
    }

    pub async fn load(&self, id: &SessionId) -> SessionRecord {
        self.store.load(id).await.unwrap().expect("record exists")
    }

    /// What the SCM observer does: snapshot the facts, then report them.
    pub async fn observe_scm(&self, id: &SessionId, facts: &ScmFacts) -> Applied {
        self.store.put_scm_snapshot(id, facts).await.unwrap();
        self.lcm.apply_scm_observation(id, facts).await.unwrap()
    }

    pub async fn signal(&self, id: &SessionId, signal: &ActivitySignal) -> Applied {
        self.lcm.apply_activity_signal(id, signal).await.unwrap()
    }

    pub async fn runtime(&self, id: &SessionId, facts: &RuntimeFacts) -> Applied {
        self.lcm.apply_runtime_observation(id, facts).await.unwrap()
    }

    pub async fn tracker(&self, id: &SessionId, key: ReactionKey) -> Option<Tracker> {
        self.store.tracker(id, key).await.unwrap()
    }

    pub fn sends_containing(&self, needle: &str) -> usize {
        self.messenger
            .texts()
            .iter()
            .filter(|t| t.contains(needle))
            .count()
    }

    pub fn notified(&self, event_type: &str) -> usize {
        self.notifier.of_type(event_type).len()
    }

    pub async fn wait_idle_reactions_only(&self) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while !self.reactions.is_idle().await.unwrap() {
            assert!(tokio::time::Instant::now() < deadline, "reactions not idle");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// Decides whether a write gets an injected failure.
type CommitFilter = Box<dyn Fn(&crate::ports::RecordWrite) -> bool + Send>;

type Interleave = Box<
    dyn FnOnce(Arc<dyn Backend>) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>
        + Send,
>;

/// A record store wrapper that counts calls and injects failures and interleaved writes.
pub struct ScriptedRecords {
    inner: Arc<dyn Backend>,
    pub loads: std::sync::atomic::AtomicUsize,
    pub commits: std::sync::atomic::AtomicUsize,
    pub always_conflict: std::sync::atomic::AtomicBool,
    pub fail_reads: std::sync::atomic::AtomicBool,
    /// Yields to other tasks between a load and the commit that follows it.
    pub yield_before_commit: std::sync::atomic::AtomicBool,
    before_commit: Mutex<Option<Interleave>>,
    fail_commit: Mutex<Option<(CommitFilter, crate::ports::StoreError)>>,
    /// Records `create <id>`, `list_running` and `commit <id>` calls when set.
    pub journal: Mutex<Option<Journal>>,
}

impl ScriptedRecords {
    pub fn new(inner: Arc<dyn Backend>) -> Arc<Self> {
        Arc::new(Self {
            inner,
            loads: Default::default(),
            commits: Default::default(),
            always_conflict: Default::default(),
            fail_reads: Default::default(),
            yield_before_commit: Default::default(),
            before_commit: Mutex::new(None),
            fail_commit: Mutex::new(None),
            journal: Mutex::new(None),
        })
    }

    /// Runs `write` against the inner store right before the next commit (once), as another
    /// writer racing in between the LCM's load and its write.
    pub fn interleave_before_next_commit<F, Fut>(&self, write: F)
    where
        F: FnOnce(Arc<dyn Backend>) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        *self.before_commit.lock().unwrap() = Some(Box::new(move |s| Box::pin(write(s))));
    }

    /// Fails the next commit for which `when` holds with `error` (once), before it reaches the
    /// store; other commits pass.
    pub fn fail_next_commit_where<F>(&self, when: F, error: crate::ports::StoreError)
    where
        F: Fn(&crate::ports::RecordWrite) -> bool + Send + 'static,
    {
        *self.fail_commit.lock().unwrap() = Some((Box::new(when), error));
    }

    fn note(&self, entry: String) {
        if let Some(journal) = self.journal.lock().unwrap().as_ref() {
            journal.lock().unwrap().push(entry);
        }
    }

    fn read_error(&self) -> Option<crate::ports::StoreError> {
        self.fail_reads
            .load(std::sync::atomic::Ordering::SeqCst)
            .then(|| crate::ports::StoreError::Backend("injected read failure".to_owned()))
    }
}

#[async_trait]
impl RecordReader for ScriptedRecords {
    async fn load(
        &self,
        id: &SessionId,
    ) -> Result<Option<SessionRecord>, crate::ports::StoreError> {
        self.loads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if let Some(e) = self.read_error() {
            return Err(e);
        }
        self.inner.load(id).await
    }

    async fn list(
        &self,
        project: Option<&crate::domain::ProjectId>,
    ) -> Result<Vec<SessionRecord>, crate::ports::StoreError> {
        self.inner.list(project).await
    }

    async fn list_running(&self) -> Result<Vec<SessionRecord>, crate::ports::StoreError> {
        self.note("list_running".to_owned());
        if let Some(e) = self.read_error() {
            return Err(e);
        }
        self.inner.list_running().await
    }
}

#[async_trait]
impl RecordWriter for ScriptedRecords {
    async fn seed(&self, record: SessionRecord) -> Result<(), crate::ports::StoreError> {
        self.inner.seed(record).await
    }

    async fn forget(
        &self,
        id: &SessionId,
        expected_revision: u64,
    ) -> Result<(), crate::ports::StoreError> {
        self.note(format!("forget {id}"));
        self.inner.forget(id, expected_revision).await
    }

    async fn create(
        &self,
        new: crate::ports::NewSession,
    ) -> Result<crate::ports::Created, crate::ports::StoreError> {
        let created = self.inner.create(new).await?;
        self.note(format!("create {}", created.record.id));
        Ok(created)
    }

    async fn commit(
        &self,
        write: crate::ports::RecordWrite,
    ) -> Result<SessionRecord, crate::ports::StoreError> {
        self.commits
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.note(format!("commit {}", write.id));
        let injected = {
            let mut slot = self.fail_commit.lock().unwrap();
            match slot.take() {
                Some((when, error)) if when(&write) => Some(error),
                other => {
                    *slot = other;
                    None
                }
            }
        };
        if let Some(error) = injected {
            return Err(error);
        }
        if self
            .always_conflict
            .load(std::sync::atomic::Ordering::SeqCst)
        {
            return Err(crate::ports::StoreError::Conflict {
                id: write.id,
                expected: write.expected_revision,
            });
        }
        if self
            .yield_before_commit
            .load(std::sync::atomic::Ordering::SeqCst)
        {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let interleave = self.before_commit.lock().unwrap().take();
        if let Some(interleave) = interleave {
            interleave(self.inner.clone()).await;
        }
        self.inner.commit(write).await
    }
}

/// A shared call journal, to assert the order of calls across fakes.
pub type Journal = Arc<Mutex<Vec<String>>>;

/// An in-memory runtime: records calls, answers probes from a table (absent = dead/dead), and
/// fails on request.
#[derive(Default)]
pub struct FakeRuntime {
    pub journal: Journal,
    probes: Mutex<HashMap<String, crate::ports::PaneProbe>>,
    probe_delay: Mutex<Option<Duration>>,
    fail_create: Mutex<Option<crate::ports::RuntimeError>>,
    fail_destroy: Mutex<Option<crate::ports::RuntimeError>>,
    pub created: Mutex<Vec<crate::ports::RuntimeConfig>>,
    pub destroyed: Mutex<Vec<String>>,
    pub probe_calls: std::sync::atomic::AtomicUsize,
    panes: Mutex<Vec<crate::ports::PaneInfo>>,
    list_error: Mutex<Option<crate::ports::RuntimeError>>,
    /// Output log end offset and pane text per handle.
    logs: Mutex<HashMap<String, (u64, String)>>,
}

impl FakeRuntime {
    pub fn with_journal(journal: Journal) -> Arc<Self> {
        Arc::new(Self {
            journal,
            ..Self::default()
        })
    }

    fn note(&self, entry: String) {
        self.journal.lock().unwrap().push(entry);
    }

    /// Sets what `probe_all` reports for a handle.
    pub fn set_probe(
        &self,
        handle: &str,
        runtime: crate::domain::ProbeResult,
        process: crate::domain::ProbeResult,
    ) {
        self.probes.lock().unwrap().insert(
            handle.to_owned(),
            crate::ports::PaneProbe {
                runtime,
                process,
                pane_exit_status: None,
                agent_exit: None,
                server_gone: false,
            },
        );
    }

    /// Sets every fact `probe_all` reports for a handle.
    pub fn set_pane_probe(&self, handle: &str, probe: crate::ports::PaneProbe) {
        self.probes.lock().unwrap().insert(handle.to_owned(), probe);
    }

    /// Makes every probe take this long and then fail (a hanging tmux).
    pub fn hang_probes(&self, delay: Duration) {
        *self.probe_delay.lock().unwrap() = Some(delay);
    }

    pub fn fail_next_create(&self, e: crate::ports::RuntimeError) {
        *self.fail_create.lock().unwrap() = Some(e);
    }

    pub fn fail_destroys(&self, e: Option<crate::ports::RuntimeError>) {
        *self.fail_destroy.lock().unwrap() = e;
    }

    pub fn set_panes(&self, panes: Vec<crate::ports::PaneInfo>) {
        *self.panes.lock().unwrap() = panes;
    }

    /// Sets what the pane shows and where its output log ends.
    pub fn set_output(&self, handle: &str, log_end: u64, text: &str) {
        self.logs
            .lock()
            .unwrap()
            .insert(handle.to_owned(), (log_end, text.to_owned()));
    }

    pub fn fail_listing(&self, e: crate::ports::RuntimeError) {
        *self.list_error.lock().unwrap() = Some(e);
    }
}

#[async_trait]
impl crate::ports::Runtime for FakeRuntime {
    fn name(&self) -> &'static str {
        "tmux"
    }

    fn handle_for(&self, session: &SessionId) -> RuntimeHandle {
        RuntimeHandle {
            id: session.as_str().to_owned(),
            runtime_name: "tmux".to_owned(),
            pane_id: None,
        }
    }

    async fn check_prerequisites(&self) -> Result<String, crate::ports::RuntimeError> {
        Ok("tmux fake".to_owned())
    }

    async fn create(
        &self,
        config: &crate::ports::RuntimeConfig,
    ) -> Result<RuntimeHandle, crate::ports::RuntimeError> {
        self.note(format!("runtime.create {}", config.session_id));
        if let Some(e) = self.fail_create.lock().unwrap().take() {
            return Err(e);
        }
        self.created.lock().unwrap().push(config.clone());
        let n = self.created.lock().unwrap().len();
        Ok(RuntimeHandle {
            id: config.session_id.as_str().to_owned(),
            runtime_name: "tmux".to_owned(),
            pane_id: Some(format!("%{n}")),
        })
    }

    async fn destroy(&self, handle: &RuntimeHandle) -> Result<(), crate::ports::RuntimeError> {
        self.note(format!("runtime.destroy {}", handle.id));
        if let Some(e) = self.fail_destroy.lock().unwrap().clone() {
            return Err(e);
        }
        self.destroyed.lock().unwrap().push(handle.id.clone());
        Ok(())
    }

    async fn submit_message(
        &self,
        handle: &RuntimeHandle,
        text: &str,
        _submit: Submit,
    ) -> Result<(), crate::ports::RuntimeError> {
        self.note(format!("runtime.send {} {text}", handle.id));
        Ok(())
    }

    async fn type_text(
        &self,
        handle: &RuntimeHandle,
        text: &str,
    ) -> Result<(), crate::ports::RuntimeError> {
        self.note(format!("runtime.type {} {text}", handle.id));
        Ok(())
    }

    async fn clear_input(
        &self,
        handle: &RuntimeHandle,
        _composer: Composer,
    ) -> Result<(), crate::ports::RuntimeError> {
        self.note(format!("runtime.clear {}", handle.id));
        Ok(())
    }

    async fn screen(&self, _handle: &RuntimeHandle) -> Result<Screen, crate::ports::RuntimeError> {
        Ok(Screen {
            text: String::new(),
            cursor_x: 0,
            cursor_y: 0,
            width: 80,
        })
    }

    async fn interrupt(&self, handle: &RuntimeHandle) -> Result<(), crate::ports::RuntimeError> {
        self.note(format!("runtime.interrupt {}", handle.id));
        Ok(())
    }

    async fn output(
        &self,
        handle: &RuntimeHandle,
        _lines: usize,
    ) -> Result<String, crate::ports::RuntimeError> {
        self.note(format!("runtime.output {}", handle.id));
        let logs = self.logs.lock().unwrap();
        Ok(logs
            .get(&handle.id)
            .map(|(_, t)| t.clone())
            .unwrap_or_default())
    }

    async fn exit_output(
        &self,
        handle: &RuntimeHandle,
        lines: usize,
    ) -> Result<Vec<String>, crate::ports::RuntimeError> {
        self.note(format!("runtime.exit_output {}", handle.id));
        let logs = self.logs.lock().unwrap();
        let text = logs.get(&handle.id).map(|(_, t)| t.as_str()).unwrap_or("");
        let all: Vec<String> = text.lines().map(str::to_owned).collect();
        Ok(all[all.len().saturating_sub(lines)..].to_vec())
    }

    async fn last_lines(
        &self,
        handle: &RuntimeHandle,
        _before: Option<u64>,
        _lines: usize,
        _max_bytes: usize,
    ) -> Result<crate::ports::LastLines, crate::ports::RuntimeError> {
        let end = self.read_output(handle, u64::MAX, 0).await?.next;
        Ok(crate::ports::LastLines {
            chunk: crate::ports::OutputChunk {
                text: String::new(),
                start: end,
                next: end,
            },
            lines: 0,
            oldest: 0,
        })
    }

    async fn read_output(
        &self,
        handle: &RuntimeHandle,
        cursor: u64,
        _max_bytes: usize,
    ) -> Result<crate::ports::OutputChunk, crate::ports::RuntimeError> {
        let end = self
            .logs
            .lock()
            .unwrap()
            .get(&handle.id)
            .map_or(0, |(end, _)| *end);
        let at = if cursor == u64::MAX { end } else { cursor };
        Ok(crate::ports::OutputChunk {
            text: String::new(),
            start: at,
            next: at,
        })
    }

    async fn is_alive(&self, handle: &RuntimeHandle) -> Result<bool, crate::ports::RuntimeError> {
        Ok(!self.destroyed.lock().unwrap().contains(&handle.id))
    }

    async fn restart(
        &self,
        handle: &RuntimeHandle,
        _config: &crate::ports::RuntimeConfig,
    ) -> Result<(), crate::ports::RuntimeError> {
        self.note(format!("runtime.restart {}", handle.id));
        Ok(())
    }

    async fn list_panes(&self) -> Result<Vec<crate::ports::PaneInfo>, crate::ports::RuntimeError> {
        self.note("runtime.list_panes".to_owned());
        if let Some(e) = self.list_error.lock().unwrap().clone() {
            return Err(e);
        }
        Ok(self.panes.lock().unwrap().clone())
    }

    async fn probe_all(
        &self,
        targets: &[crate::ports::ProbeTarget],
    ) -> Vec<crate::ports::PaneProbe> {
        use crate::domain::ProbeResult;
        self.note(format!("runtime.probe_all {}", targets.len()));
        self.probe_calls
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let delay = *self.probe_delay.lock().unwrap();
        if let Some(delay) = delay {
            tokio::time::sleep(delay).await;
            let failed = crate::ports::PaneProbe {
                runtime: ProbeResult::Failed,
                process: ProbeResult::Failed,
                pane_exit_status: None,
                agent_exit: None,
                server_gone: false,
            };
            return vec![failed; targets.len()];
        }
        let probes = self.probes.lock().unwrap();
        targets
            .iter()
            .map(|t| {
                probes
                    .get(&t.handle_id)
                    .copied()
                    .unwrap_or(crate::ports::PaneProbe {
                        runtime: ProbeResult::Dead,
                        process: ProbeResult::Dead,
                        pane_exit_status: None,
                        agent_exit: None,
                        server_gone: false,
                    })
            })
            .collect()
    }
}
