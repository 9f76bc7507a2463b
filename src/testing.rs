//! Test doubles for orchestration tests: a manual clock, a recording notifier, a recording
//! messenger (the pane writer behind the session guard), and a harness wiring the LCM,
//! reactions and message delivery over any store backend.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use crate::decide::reactions::ReactionPolicies;
use crate::domain::{NotifyEvent, RuntimeHandle, SessionId, SessionRecord, Timestamp};
use crate::lifecycle::{Lcm, Wakeups};
use crate::messages::MessageDelivery;
use crate::ports::{
    AgentCapabilities, AgentCatalog, AgentMessenger, Clock, LifecycleStore, MessengerError, Store,
};
use crate::reactions::Reactions;

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

/// Records pane writes; can be told to fail, or to take time per session.
#[derive(Debug, Default)]
pub struct RecordingMessenger {
    writes: Mutex<Vec<(SessionId, String)>>,
    attempts: Mutex<usize>,
    fail: Mutex<bool>,
    delays: Mutex<HashMap<SessionId, Duration>>,
}

impl RecordingMessenger {
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
        self.writes
            .lock()
            .unwrap()
            .push((session.clone(), text.to_owned()));
        Ok(())
    }
}

/// `claude-code` and `codex` are hook-capable; everything else is not.
#[derive(Debug, Default)]
pub struct TestCatalog;

impl AgentCatalog for TestCatalog {
    fn capabilities(&self, agent: &str) -> AgentCapabilities {
        AgentCapabilities {
            hook_capable: matches!(agent, "claude-code" | "codex"),
            confirm_capable: agent == "claude-code",
        }
    }
}

/// The LCM with reactions and delivery over one store, a pinned clock and recording doubles.
pub struct Harness {
    pub store: Arc<dyn Store>,
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
    pub fn new(store: Arc<dyn Store>, at: Timestamp) -> Self {
        Self::with_policies(store, at, ReactionPolicies::default())
    }

    pub fn with_policies(store: Arc<dyn Store>, at: Timestamp, policies: ReactionPolicies) -> Self {
        let clock = ManualClock::new(at);
        Self::assemble(store.clone(), store, clock, policies)
    }

    /// Like `with_policies`, with the LCM writing records through `records` (a wrapper that
    /// injects failures, say) while everything else uses `store`.
    pub fn assemble(
        records: Arc<dyn LifecycleStore>,
        store: Arc<dyn Store>,
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
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

type Interleave = Box<
    dyn FnOnce(Arc<dyn Store>) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>
        + Send,
>;

/// A record store wrapper that counts calls and injects failures and interleaved writes.
pub struct ScriptedRecords {
    inner: Arc<dyn Store>,
    pub loads: std::sync::atomic::AtomicUsize,
    pub commits: std::sync::atomic::AtomicUsize,
    pub always_conflict: std::sync::atomic::AtomicBool,
    pub fail_reads: std::sync::atomic::AtomicBool,
    /// Yields to other tasks between a load and the commit that follows it.
    pub yield_before_commit: std::sync::atomic::AtomicBool,
    before_commit: Mutex<Option<Interleave>>,
}

impl ScriptedRecords {
    pub fn new(inner: Arc<dyn Store>) -> Arc<Self> {
        Arc::new(Self {
            inner,
            loads: Default::default(),
            commits: Default::default(),
            always_conflict: Default::default(),
            fail_reads: Default::default(),
            yield_before_commit: Default::default(),
            before_commit: Mutex::new(None),
        })
    }

    /// Runs `write` against the inner store right before the next commit (once), as another
    /// writer racing in between the LCM's load and its write.
    pub fn interleave_before_next_commit<F, Fut>(&self, write: F)
    where
        F: FnOnce(Arc<dyn Store>) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        *self.before_commit.lock().unwrap() = Some(Box::new(move |s| Box::pin(write(s))));
    }

    fn read_error(&self) -> Option<crate::ports::StoreError> {
        self.fail_reads
            .load(std::sync::atomic::Ordering::SeqCst)
            .then(|| crate::ports::StoreError::Backend("injected read failure".to_owned()))
    }
}

#[async_trait]
impl LifecycleStore for ScriptedRecords {
    async fn seed(&self, record: SessionRecord) -> Result<(), crate::ports::StoreError> {
        self.inner.seed(record).await
    }

    async fn create(
        &self,
        new: crate::ports::NewSession,
    ) -> Result<crate::ports::Created, crate::ports::StoreError> {
        self.inner.create(new).await
    }

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

    async fn commit(
        &self,
        write: crate::ports::RecordWrite,
    ) -> Result<SessionRecord, crate::ports::StoreError> {
        self.commits
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
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

    async fn list(
        &self,
        project: Option<&crate::domain::ProjectId>,
    ) -> Result<Vec<SessionRecord>, crate::ports::StoreError> {
        self.inner.list(project).await
    }

    async fn list_running(&self) -> Result<Vec<SessionRecord>, crate::ports::StoreError> {
        if let Some(e) = self.read_error() {
            return Err(e);
        }
        self.inner.list_running().await
    }
}
