//! The durable store: every store port on one SQLite database file.
//!
//! Parts: `schema` opens the file (read-only safety probe, connection settings, numbered
//! migrations), `write` holds the write transactions, `read` the queries, `codec` the column
//! conversions and `threads` where the connections are used: the write connection, which runs
//! writes queued together as one transaction (group commit), and a pool of read-only
//! connections for reads, both off the async workers.
//!
//! What it guarantees, also when several processes write the same file:
//! - **The revision CAS is the `UPDATE`'s own `WHERE id = ? AND revision = ?`**, run inside a
//!   `BEGIN IMMEDIATE` transaction; zero rows updated is `Conflict` (or `NotFound` when the id
//!   does not exist) and the whole write — metadata, change-log row, tracker deletions, queue
//!   row — rolls back (its savepoint; the other writes of its batch stand).
//! - **A write is acknowledged only once its transaction committed.** Writes that queue up
//!   while the write connection is busy share one transaction and one `fsync`, each in its own
//!   savepoint and in arrival order; a failed `COMMIT` fails all of them (`threads`).
//! - **One `change_log` row per committed record change, in the same transaction**, with
//!   `{"version": 1, "record": <record after the write>}` and never a status.
//! - **Ids are allocated inside the inserting transaction** from `project_counters`, so two
//!   processes never get the same `<project>-<n>`.
//! - **An unreadable, corrupt, foreign or newer-schema file is refused** with an error naming
//!   the path, before any write connection touches it; it is never replaced.
//! - **No SQLite call stalls an async worker**: writes take the one write connection, reads one
//!   of a pool of read-only connections, each in a blocking section (`threads`).
//!
//! # Durability: `synchronous=FULL`
//!
//! The spec names `synchronous=NORMAL`; this store uses `FULL`. In WAL mode `NORMAL` syncs the
//! WAL only at checkpoints. A commit is then safe from a crash of the *process* (its pages are
//! already in the kernel's page cache, which outlives the process), but an OS crash or a power
//! loss can roll back the last transactions before the next checkpoint — the database stays
//! consistent, it just forgets them. Our promise is that a crash at any instant loses nothing
//! that was acknowledged, and acknowledged writes have effects that survive an OS crash outside
//! this file: an allocated id whose worktree and branch are on disk (losing the row would hand
//! the same id out again), a nudge marked `injected` whose text the agent acted on and pushed
//! (losing the tracker's signature would type it again, breaking at-most-once per signature).
//! `FULL` syncs the WAL at every commit, so an acknowledged commit survives power loss on a
//! disk that honours `fsync`. The price is one `fsync` per write transaction, shared by the
//! writes that arrive together (group commit), measured by `benches/store_write.rs` with 1, 8
//! and 64 concurrent writers.

mod codec;
mod read;
mod schema;
mod threads;
mod write;

#[cfg(test)]
mod batch_tests;
#[cfg(test)]
mod process_tests;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;

pub use schema::{PRAGMAS, SCHEMA_VERSION};

use ao::ports::{
    Created, EVENTS_PAGE_MAX, EventLog, EventPage, MessageStore, NewSession, ProjectStore,
    ReactionStore, RecordReader, RecordWrite, RecordWriter, ScmSnapshotStore, StoreError,
    long_poll_events,
};
use ao_core::domain::{
    ChangeEvent, Message, MessageState, NewMessage, Project, ProjectId, QueuedReaction,
    ReactionKey, ScmFacts, SessionId, SessionRecord, Timestamp, Tracker,
};
use threads::{Readers, Writer};

/// Read-only connections per store: enough for the two cores this runs on.
const READERS: usize = 2;

/// How often a waiting `events_after` looks again, to see other processes' commits (its own
/// process's commits wake it at once).
const FOREIGN_COMMIT_POLL: Duration = Duration::from_secs(1);

/// Every store port on one SQLite file.
pub struct SqliteStore {
    path: Arc<PathBuf>,
    writer: Writer,
    readers: Arc<Readers>,
    /// Woken after every commit that wrote a change-log row.
    committed: Notify,
}

impl SqliteStore {
    /// Opens the database at `path`, creating and migrating it when needed.
    ///
    /// Blocking (it probes, migrates and opens connections): call it before the async runtime
    /// starts or inside `spawn_blocking`. Refuses — with `StoreError::Backend` naming the path,
    /// leaving the file untouched — a file that is not a readable SQLite database, fails
    /// `PRAGMA quick_check`, holds foreign tables, or has a newer schema version.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore, StoreError> {
        let path = Arc::new(path.as_ref().to_path_buf());
        schema::probe_existing(&path)?;
        let conn = schema::open_writer(&path)?;
        let readers = (0..READERS)
            .map(|_| schema::open_reader(&path))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SqliteStore {
            writer: Writer::new(conn, Arc::clone(&path)),
            readers: Readers::new(readers, Arc::clone(&path)),
            path,
            committed: Notify::new(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Waits for running reads and writes, then closes every connection (the last close
    /// checkpoints the WAL into the main file). Dropping the store without `close` also
    /// releases everything, without waiting.
    pub async fn close(self) -> Result<(), StoreError> {
        let readers = self.readers.take_all().await;
        self.writer.close(readers).await
    }

    /// A pragma's value on the write connection (tests check the connection settings).
    #[cfg(test)]
    async fn writer_pragma(
        &self,
        name: &'static str,
    ) -> Result<rusqlite::types::Value, StoreError> {
        self.writer
            .run("read a pragma", move |c| {
                Ok(c.pragma_query_value(None, name, |row| row.get(0))?)
            })
            .await
    }

    async fn read<T, F>(&self, op: &'static str, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut rusqlite::Connection) -> Result<T, threads::Fail> + Send + 'static,
    {
        self.readers.run(op, f).await
    }

    /// Runs a write that logged a change, then wakes the event readers.
    async fn write_logged<T, F>(&self, op: &'static str, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Connection) -> Result<T, threads::Fail> + Send + 'static,
    {
        let out = self.writer.run(op, f).await?;
        self.committed.notify_waiters();
        Ok(out)
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        // Closing may checkpoint (disk I/O): never on the (possibly async) dropping thread.
        let mut conns = self.readers.take_idle();
        conns.extend(self.writer.take_idle());
        threads::close_in_background(conns);
    }
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl RecordReader for SqliteStore {
    async fn load(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        let id = id.clone();
        self.read("load", move |c| read::record(c, id.as_str()))
            .await
    }

    async fn list(&self, project: Option<&ProjectId>) -> Result<Vec<SessionRecord>, StoreError> {
        let project = project.cloned();
        self.read("list", move |c| {
            read::list(c, project.as_ref().map(ProjectId::as_str))
        })
        .await
    }

    async fn list_running(&self) -> Result<Vec<SessionRecord>, StoreError> {
        self.read("list_running", |c| read::list_running(c)).await
    }
}

#[async_trait]
impl RecordWriter for SqliteStore {
    async fn seed(&self, record: SessionRecord) -> Result<(), StoreError> {
        self.write_logged("seed", move |c| write::seed(c, &record))
            .await
    }

    async fn create(&self, new: NewSession) -> Result<Created, StoreError> {
        self.write_logged("create", move |c| write::create(c, new))
            .await
    }

    async fn commit(&self, write: RecordWrite) -> Result<SessionRecord, StoreError> {
        self.write_logged("commit", move |c| write::commit(c, write))
            .await
    }

    async fn forget(&self, id: &SessionId, expected_revision: u64) -> Result<(), StoreError> {
        let id = id.clone();
        self.write_logged("forget", move |c| write::forget(c, &id, expected_revision))
            .await
    }
}

#[async_trait]
impl ReactionStore for SqliteStore {
    async fn next_reaction(
        &self,
        session: &SessionId,
    ) -> Result<Option<QueuedReaction>, StoreError> {
        let session = session.clone();
        self.read("next_reaction", move |c| {
            read::next_reaction(c, session.as_str())
        })
        .await
    }

    async fn has_later_reaction(
        &self,
        session: &SessionId,
        seq: i64,
        key: ReactionKey,
    ) -> Result<bool, StoreError> {
        let session = session.clone();
        self.read("has_later_reaction", move |c| {
            read::has_later_reaction(c, session.as_str(), seq, key)
        })
        .await
    }

    async fn delete_reaction(&self, seq: i64) -> Result<(), StoreError> {
        self.writer
            .run("delete_reaction", move |c| write::delete_reaction(c, seq))
            .await
    }

    async fn sessions_with_reactions(&self) -> Result<Vec<SessionId>, StoreError> {
        self.read("sessions_with_reactions", |c| {
            read::sessions_with_reactions(c)
        })
        .await
    }

    async fn tracker(
        &self,
        session: &SessionId,
        key: ReactionKey,
    ) -> Result<Option<Tracker>, StoreError> {
        let session = session.clone();
        self.read("tracker", move |c| read::tracker(c, session.as_str(), key))
            .await
    }

    async fn trackers(&self, session: &SessionId) -> Result<Vec<Tracker>, StoreError> {
        let session = session.clone();
        self.read("trackers", move |c| read::trackers(c, session.as_str()))
            .await
    }

    async fn save_tracker(&self, tracker: &Tracker) -> Result<(), StoreError> {
        let tracker = tracker.clone();
        self.writer
            .run("save_tracker", move |c| write::save_tracker(c, &tracker))
            .await
    }

    async fn commit_nudge(
        &self,
        tracker: &Tracker,
        nudge: NewMessage,
        now: Timestamp,
    ) -> Result<Message, StoreError> {
        let tracker = tracker.clone();
        self.writer
            .run("commit_nudge", move |c| {
                write::commit_nudge(c, &tracker, nudge, now)
            })
            .await
    }

    async fn escalate_due(
        &self,
        now: Timestamp,
        budgets: &[(ReactionKey, Duration)],
    ) -> Result<Vec<Tracker>, StoreError> {
        let budgets = budgets.to_vec();
        self.writer
            .run("escalate_due", move |c| {
                write::escalate_due(c, now, &budgets)
            })
            .await
    }
}

#[async_trait]
impl MessageStore for SqliteStore {
    async fn enqueue_message(
        &self,
        new: NewMessage,
        now: Timestamp,
    ) -> Result<Message, StoreError> {
        self.writer
            .run("enqueue_message", move |c| {
                write::enqueue_message(c, new, now)
            })
            .await
    }

    async fn message(&self, id: i64) -> Result<Option<Message>, StoreError> {
        self.read("message", move |c| read::message(c, id)).await
    }

    async fn next_queued_message(
        &self,
        session: &SessionId,
    ) -> Result<Option<Message>, StoreError> {
        let session = session.clone();
        self.read("next_queued_message", move |c| {
            read::oldest_message(c, session.as_str(), MessageState::Queued)
        })
        .await
    }

    async fn sessions_with_queued_messages(&self) -> Result<Vec<SessionId>, StoreError> {
        self.read("sessions_with_queued_messages", |c| {
            read::sessions_with_queued_messages(c)
        })
        .await
    }

    async fn mark_injected(
        &self,
        id: i64,
        now: Timestamp,
        end_incidents: &[ReactionKey],
    ) -> Result<(), StoreError> {
        let end_incidents = end_incidents.to_vec();
        self.writer
            .run("mark_injected", move |c| {
                write::mark_injected(c, id, now, &end_incidents)
            })
            .await
    }

    async fn mark_acknowledged(&self, id: i64, now: Timestamp) -> Result<(), StoreError> {
        self.writer
            .run("mark_acknowledged", move |c| {
                write::mark_acknowledged(c, id, now)
            })
            .await
    }

    async fn refuse_message(
        &self,
        id: i64,
        reason: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let reason = reason.to_owned();
        self.writer
            .run("refuse_message", move |c| {
                write::refuse_message(c, id, &reason, now)
            })
            .await
    }

    async fn oldest_injected_message(
        &self,
        session: &SessionId,
    ) -> Result<Option<Message>, StoreError> {
        let session = session.clone();
        self.read("oldest_injected_message", move |c| {
            read::oldest_message(c, session.as_str(), MessageState::Injected)
        })
        .await
    }
}

#[async_trait]
impl ScmSnapshotStore for SqliteStore {
    async fn put_scm_snapshot(
        &self,
        session: &SessionId,
        facts: &ScmFacts,
    ) -> Result<(), StoreError> {
        let (session, facts) = (session.clone(), facts.clone());
        self.writer
            .run("put_scm_snapshot", move |c| {
                write::put_scm_snapshot(c, &session, &facts)
            })
            .await
    }

    async fn scm_snapshot(&self, session: &SessionId) -> Result<Option<ScmFacts>, StoreError> {
        let session = session.clone();
        self.read("scm_snapshot", move |c| {
            read::scm_snapshot(c, session.as_str())
        })
        .await
    }
}

#[async_trait]
impl EventLog for SqliteStore {
    async fn events_after(
        &self,
        after: i64,
        limit: usize,
        wait: Duration,
        session: Option<&SessionId>,
    ) -> Result<EventPage, StoreError> {
        let session = session.cloned();
        let recheck = Some(FOREIGN_COMMIT_POLL);
        long_poll_events(&self.committed, recheck, after, limit, wait, |limit| {
            let filter = session.clone();
            self.read("events_after", move |c| {
                read::events(c, after, limit, filter.as_ref().map(SessionId::as_str))
            })
        })
        .await
    }

    async fn session_events(
        &self,
        session: &SessionId,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<ChangeEvent>, StoreError> {
        let session = session.clone();
        let limit = limit.min(EVENTS_PAGE_MAX);
        self.read("session_events", move |c| {
            read::session_events(c, session.as_str(), before.unwrap_or(i64::MAX), limit)
        })
        .await
    }

    async fn prune_events(&self, before: Timestamp) -> Result<u64, StoreError> {
        self.writer
            .run("prune_events", move |c| write::prune_events(c, before))
            .await
    }
}

#[async_trait]
impl ProjectStore for SqliteStore {
    async fn add_project(&self, project: &Project) -> Result<(), StoreError> {
        let project = project.clone();
        self.writer
            .run("add_project", move |c| write::add_project(c, &project))
            .await
    }

    async fn project(&self, id: &ProjectId) -> Result<Option<Project>, StoreError> {
        let id = id.clone();
        self.read("project", move |c| read::project(c, id.as_str()))
            .await
    }

    async fn projects(&self) -> Result<Vec<Project>, StoreError> {
        self.read("projects", |c| read::projects(c)).await
    }

    async fn remove_project(&self, id: &ProjectId) -> Result<bool, StoreError> {
        let id = id.clone();
        self.writer
            .run("remove_project", move |c| write::remove_project(c, &id))
            .await
    }
}
