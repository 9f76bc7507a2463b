//! Persistence ports: session records with revision compare-and-swap, reaction trackers and the
//! reaction queue, the pane-message queue, SCM snapshots and the change-log reader.
//!
//! One concern per trait; a backend (`adapters::sqlite`, `adapters::memory_store`) implements all
//! of them and is used as `Arc<dyn Store>`. Every method that changes a record writes its
//! change-log row, tracker deletions and reaction-queue row in the same transaction.

use std::time::Duration;

use async_trait::async_trait;

use crate::domain::{
    Cause, ChangeEvent, EventType, IssueId, Launch, Lifecycle, LifecyclePatch, Message, Metadata,
    NewMessage, Project, ProjectId, QueuedReaction, ReactionKey, ScmFacts, SessionId, SessionKind,
    SessionRecord, Timestamp, Tracker,
};

/// Errors of every store port.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The record's revision is not the one the writer loaded.
    #[error("session {id}: revision conflict (expected revision {expected})")]
    Conflict { id: SessionId, expected: u64 },
    #[error("session {0} not found")]
    NotFound(SessionId),
    #[error("session {0} already exists")]
    AlreadyExists(SessionId),
    #[error("project {0} already exists")]
    ProjectExists(ProjectId),
    /// The backend failed (I/O, corruption, a refused schema); the text names the file.
    #[error("{0}")]
    Backend(String),
}

/// A new record, before the store allocates its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    pub project_id: ProjectId,
    pub issue_id: Option<IssueId>,
    pub kind: SessionKind,
    pub agent: String,
    pub lifecycle: Lifecycle,
    pub launch: Launch,
    pub metadata: Metadata,
    pub created_at: Timestamp,
    /// Client-chosen idempotency key of a spawn; unique when set.
    pub spawn_request_id: Option<String>,
    /// What created it, for the change-log row (`None` only outside the LCM: tests, imports).
    pub cause: Option<Cause>,
}

impl NewSession {
    /// The record this becomes as the `num`-th session of its project (revision 1).
    pub fn into_record(self, num: u64) -> SessionRecord {
        SessionRecord {
            id: SessionId::allocated(&self.project_id, num),
            project_id: self.project_id,
            num,
            issue_id: self.issue_id,
            kind: self.kind,
            agent: self.agent,
            revision: 1,
            lifecycle: self.lifecycle,
            launch: self.launch,
            metadata: self.metadata,
            created_at: self.created_at,
            updated_at: self.created_at,
        }
    }
}

/// The result of [`RecordWriter::create`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    pub record: SessionRecord,
    /// True when the spawn request id was already known and no record was inserted.
    pub existing: bool,
}

/// One committed write of the LCM pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordWrite {
    pub id: SessionId,
    /// The revision the writer loaded; checked in the same statement that writes.
    pub expected_revision: u64,
    pub patch: LifecyclePatch,
    pub event: EventType,
    pub updated_at: Timestamp,
    /// Trackers of these keys are deleted: their incident ended.
    pub end_incidents: Vec<ReactionKey>,
    /// A `reaction` row to queue, with the new revision as its trigger.
    pub enqueue: Option<ReactionKey>,
    /// What caused the write, kept in its change-log row (`None` only outside the LCM).
    pub cause: Option<Cause>,
}

/// Reading session records. Everything but the LCM holds a store that can only read them.
#[async_trait]
pub trait RecordReader: Send + Sync {
    async fn load(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError>;

    /// All records (of one project), ordered by project, then number.
    async fn list(&self, project: Option<&ProjectId>) -> Result<Vec<SessionRecord>, StoreError>;

    /// Records whose session state is not terminal, ordered by id.
    async fn list_running(&self) -> Result<Vec<SessionRecord>, StoreError>;
}

/// Writing session records: the LCM is the only holder (and tests that seed a store).
#[async_trait]
pub trait RecordWriter: RecordReader {
    /// Inserts a complete record as-is (tests, imports); rejects an existing id. The project's
    /// id counter moves past `record.num`, so allocation never reuses it.
    async fn seed(&self, record: SessionRecord) -> Result<(), StoreError>;

    /// Allocates `<project>-<n>` and inserts the record, atomically. With a known spawn request
    /// id, returns that request's record instead (`existing = true`).
    async fn create(&self, new: NewSession) -> Result<Created, StoreError>;

    /// Applies the patch iff the stored revision equals `expected_revision`; bumps the revision
    /// by one and writes the change-log row, tracker deletions and queue row in the same
    /// transaction. Mismatch → `Conflict`; missing → `NotFound`. Returns the record after.
    async fn commit(&self, write: RecordWrite) -> Result<SessionRecord, StoreError>;

    /// Drops a record with everything kept for it alone (metadata, trackers, queued reactions,
    /// pane messages, SCM snapshot) iff the stored revision equals `expected_revision`. Its
    /// change-log rows stay, and its number is never allocated again. Mismatch → `Conflict`;
    /// missing → `NotFound`.
    async fn forget(&self, id: &SessionId, expected_revision: u64) -> Result<(), StoreError>;
}

/// Incident trackers and the durable per-session reaction queue.
#[async_trait]
pub trait ReactionStore: Send + Sync {
    /// The oldest queued row of a session.
    async fn next_reaction(
        &self,
        session: &SessionId,
    ) -> Result<Option<QueuedReaction>, StoreError>;

    /// Whether a `reaction` row of `key` was queued for the session after `seq`.
    async fn has_later_reaction(
        &self,
        session: &SessionId,
        seq: i64,
        key: ReactionKey,
    ) -> Result<bool, StoreError>;

    async fn delete_reaction(&self, seq: i64) -> Result<(), StoreError>;

    /// Sessions with at least one queued row.
    async fn sessions_with_reactions(&self) -> Result<Vec<SessionId>, StoreError>;

    async fn tracker(
        &self,
        session: &SessionId,
        key: ReactionKey,
    ) -> Result<Option<Tracker>, StoreError>;

    async fn trackers(&self, session: &SessionId) -> Result<Vec<Tracker>, StoreError>;

    /// Inserts or replaces a tracker.
    async fn save_tracker(&self, tracker: &Tracker) -> Result<(), StoreError>;

    /// Persists the tracker and queues the nudge in one transaction, before anything reaches a
    /// pane, so a crash never leaves a nudge without its counted attempt. Returns the queued
    /// message.
    async fn commit_nudge(
        &self,
        tracker: &Tracker,
        nudge: NewMessage,
        now: Timestamp,
    ) -> Result<Message, StoreError>;

    /// `TickEscalations`, in one transaction: every tracker that is not escalated, whose key has a
    /// time budget in `budgets`, with `first_attempt_at` set and at least that budget ago, becomes
    /// escalated and gets one `escalation` queue row. Returns them.
    async fn escalate_due(
        &self,
        now: Timestamp,
        budgets: &[(ReactionKey, Duration)],
    ) -> Result<Vec<Tracker>, StoreError>;
}

/// The durable per-session queue of pane messages: user messages, nudges, after-start prompts.
#[async_trait]
pub trait MessageStore: Send + Sync {
    async fn enqueue_message(&self, new: NewMessage, now: Timestamp)
    -> Result<Message, StoreError>;

    async fn message(&self, id: i64) -> Result<Option<Message>, StoreError>;

    /// The oldest `queued` message of a session.
    async fn next_queued_message(&self, session: &SessionId)
    -> Result<Option<Message>, StoreError>;

    /// Sessions with at least one `queued` message.
    async fn sessions_with_queued_messages(&self) -> Result<Vec<SessionId>, StoreError>;

    /// Marks a message `injected` (committed before the pane write) and, in the same
    /// transaction, deletes the session's trackers of `end_incidents`.
    async fn mark_injected(
        &self,
        id: i64,
        now: Timestamp,
        end_incidents: &[ReactionKey],
    ) -> Result<(), StoreError>;

    async fn mark_acknowledged(&self, id: i64, now: Timestamp) -> Result<(), StoreError>;

    /// Marks a message `refused` and, in the same transaction, gives a nudge's attempt back to its
    /// tracker if the tracker still exists: a nudge that never reached the pane does not count
    /// against the reaction's budget.
    async fn refuse_message(&self, id: i64, reason: &str, now: Timestamp)
    -> Result<(), StoreError>;

    /// The oldest `injected` message of a session (awaiting acknowledgement).
    async fn oldest_injected_message(
        &self,
        session: &SessionId,
    ) -> Result<Option<Message>, StoreError>;
}

/// The latest fetched SCM facts per session.
#[async_trait]
pub trait ScmSnapshotStore: Send + Sync {
    async fn put_scm_snapshot(
        &self,
        session: &SessionId,
        facts: &ScmFacts,
    ) -> Result<(), StoreError>;
    async fn scm_snapshot(&self, session: &SessionId) -> Result<Option<ScmFacts>, StoreError>;
}

/// A page of the change log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventPage {
    pub events: Vec<ChangeEvent>,
    /// The last returned seq, or the cursor when nothing was returned.
    pub next: i64,
    /// True when rows after the cursor were already pruned.
    pub truncated: bool,
}

/// Longest page of the change log.
pub const EVENTS_PAGE_MAX: usize = 512;
/// Longest wait of an events query.
pub const EVENTS_WAIT_MAX: Duration = Duration::from_secs(30);

/// The change-log reader. A row's payload is `{"version": 1, "record": <record after the
/// write>, "cause": <what caused it>}` (`cause` absent on rows written before causes were kept).
#[async_trait]
pub trait EventLog: Send + Sync {
    /// Rows with `seq > after` (of one session), oldest first, at most `limit` (capped at 512).
    /// When there are none, waits up to `wait` (capped at 30 s) for a commit.
    async fn events_after(
        &self,
        after: i64,
        limit: usize,
        wait: Duration,
        session: Option<&SessionId>,
    ) -> Result<EventPage, StoreError>;

    /// One session's rows with `seq < before` (all when `None`), newest first, at most `limit`
    /// (capped at 512). Never waits.
    async fn session_events(
        &self,
        session: &SessionId,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<ChangeEvent>, StoreError>;

    /// Deletes rows older than `before`; returns how many.
    async fn prune_events(&self, before: Timestamp) -> Result<u64, StoreError>;
}

/// Registered projects.
#[async_trait]
pub trait ProjectStore: Send + Sync {
    /// Registers a project; an existing id → `ProjectExists`.
    async fn add_project(&self, project: &Project) -> Result<(), StoreError>;
    async fn project(&self, id: &ProjectId) -> Result<Option<Project>, StoreError>;
    /// All projects, ordered by id.
    async fn projects(&self) -> Result<Vec<Project>, StoreError>;
    /// Removes a project registration (its sessions stay); false when it did not exist.
    async fn remove_project(&self, id: &ProjectId) -> Result<bool, StoreError>;
}

/// What everything but the LCM needs from the store: records to read, and the queues,
/// trackers, snapshots, change log and projects. Writing a record does not compile with it.
pub trait Store:
    RecordReader + ReactionStore + MessageStore + ScmSnapshotStore + EventLog + ProjectStore
{
}

impl<T> Store for T where
    T: RecordReader + ReactionStore + MessageStore + ScmSnapshotStore + EventLog + ProjectStore
{
}

/// A whole store backend, records writable: what the daemon opens, hands the LCM as its
/// [`RecordWriter`], and everyone else as a [`Store`].
pub trait Backend: Store + RecordWriter {}

impl<T> Backend for T where T: Store + RecordWriter {}
