//! Where SQLite calls run: the write connection, with group commit, and a small pool of
//! read-only connections, both used only from threads that may block.
//!
//! SQLite calls block (on disk I/O, on `fsync`, on another process's write lock for up to the
//! busy timeout), so none of them may stall a tokio worker. [`off_the_runtime`] runs them in
//! place on a multi-thread runtime (`block_in_place`: tokio hands the worker's other tasks to
//! another thread meanwhile), on the blocking pool on a current-thread runtime, and directly
//! outside any runtime. Running in place keeps thread hand-offs off a lone write: each
//! hand-off is a wake-up of a parked thread, and `benches/store_write.rs` measured two of them
//! per write (to a writer thread and back) costing as much as the write itself.
//!
//! Writes go through one queue to the one write connection ([`Writer`]), so one process never
//! contends with itself for SQLite's write lock, and writes that arrive together share one
//! transaction and one `fsync`.

use std::collections::VecDeque;
use std::ops::{Deref, DerefMut};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};

use rusqlite::Connection;
use tokio::runtime::{Handle, RuntimeFlavor};
use tokio::sync::{Semaphore, oneshot};

use ao::ports::StoreError;

/// Why an operation failed, before it is turned into a [`StoreError`] naming the file.
#[derive(Debug)]
pub(super) enum Fail {
    /// A port-level outcome (`Conflict`, `NotFound`, …), passed through unchanged.
    Store(StoreError),
    Sql(rusqlite::Error),
    /// A stored value that does not decode (an unknown enum spelling, bad JSON, …), or a row
    /// the operation needs is missing.
    Data(String),
}

impl From<rusqlite::Error> for Fail {
    fn from(e: rusqlite::Error) -> Self {
        Fail::Sql(e)
    }
}

impl From<StoreError> for Fail {
    fn from(e: StoreError) -> Self {
        Fail::Store(e)
    }
}

impl Fail {
    /// The port error; backend failures name the database file and the operation.
    pub(super) fn into_store(self, path: &Path, op: &str) -> StoreError {
        match self {
            Fail::Store(e) => e,
            Fail::Sql(e) => backend(path, op, e),
            Fail::Data(msg) => backend(path, op, msg),
        }
    }
}

/// `StoreError::Backend` naming the database file and what was being done.
pub(super) fn backend(path: &Path, op: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("sqlite store {}: {op}: {e}", path.display()))
}

/// Runs blocking `f` where blocking is allowed; `Err` only when `f` panicked (or the runtime
/// shut down under it). Either way `f` runs to completion once started, also when the caller's
/// future is dropped: a write that began stands.
async fn off_the_runtime<T, F>(f: F) -> Result<T, String>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let caught = |f: F| catch_unwind(AssertUnwindSafe(f)).map_err(|_| "it panicked".to_owned());
    match Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(RuntimeFlavor::CurrentThread) => tokio::task::spawn_blocking(move || caught(f))
            .await
            .map_err(|e| e.to_string())?,
        Ok(_) => tokio::task::block_in_place(move || caught(f)),
        Err(_) => caught(f),
    }
}

/// Most writes one transaction takes: enough to share one `fsync` among all of a busy
/// daemon's writers, few enough that no write waits long behind the others.
const BATCH_MAX: usize = 64;

/// The write connection and the writes waiting for it.
///
/// Group commit: a write is queued, and its caller becomes the *leader* unless one is already
/// at work. The leader takes every queued write (up to [`BATCH_MAX`]), runs them in arrival
/// order in one transaction, each in its own savepoint, commits once (one `fsync`) and only
/// then answers each caller; it repeats while writes wait. Once its own write is answered it
/// hands the leading to a blocking-pool thread, so a caller is never held up by other callers'
/// writes for more than the batch its own write is in. Only what is already queued is batched:
/// a lone write runs at once, in place.
pub(super) struct Writer {
    shared: Arc<Shared>,
}

struct Shared {
    /// `None` once closed.
    conn: Mutex<Option<Connection>>,
    queue: Mutex<Queue>,
    path: Arc<PathBuf>,
    /// Transactions committed (tests check that lined-up writes share one).
    #[cfg(test)]
    commits: std::sync::atomic::AtomicU64,
}

#[derive(Default)]
struct Queue {
    jobs: VecDeque<Box<dyn Job>>,
    /// Whether a leader is at work; it clears this itself, under this lock, when it finds the
    /// queue empty, so a queued write always has a leader.
    leading: bool,
    /// The ticket of the next queued write; tickets count up in arrival order.
    next_ticket: u64,
}

impl Writer {
    pub(super) fn new(conn: Connection, path: Arc<PathBuf>) -> Writer {
        Writer {
            shared: Arc::new(Shared {
                conn: Mutex::new(Some(conn)),
                queue: Mutex::default(),
                path,
                #[cfg(test)]
                commits: std::sync::atomic::AtomicU64::new(0),
            }),
        }
    }

    /// Runs `f` on the write connection, after every write queued before it and in the same
    /// transaction as the writes queued with it; answers once that transaction committed.
    pub(super) async fn run<T, F>(&self, op: &'static str, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, Fail> + Send + 'static,
    {
        let path = &self.shared.path;
        let (reply, answer) = oneshot::channel();
        let job = Box::new(Write {
            op,
            f,
            path: Arc::clone(path),
            reply,
        });
        let lead = {
            let mut queue = locked(&self.shared.queue);
            let ticket = queue.next_ticket;
            queue.next_ticket += 1;
            queue.jobs.push_back(job);
            (!std::mem::replace(&mut queue.leading, true)).then_some(ticket)
        };
        if let Some(ticket) = lead {
            let shared = Arc::clone(&self.shared);
            off_the_runtime(move || shared.lead(Some(ticket)))
                .await
                .map_err(|e| backend(path, op, format!("the write leader failed: {e}")))?;
        }
        answer.await.map_err(|_| {
            backend(
                path,
                op,
                "the write was abandoned: its batch's leader failed; try again",
            )
        })?
    }

    /// Closes `readers`, then the write connection (the last one closed checkpoints the WAL
    /// into the main file). Writes queued later are refused.
    pub(super) async fn close(&self, readers: Vec<Connection>) -> Result<(), StoreError> {
        let shared = Arc::clone(&self.shared);
        off_the_runtime(move || {
            drop(readers);
            match locked(&shared.conn).take() {
                Some(conn) => conn.close().map_err(|(_, e)| e.to_string()),
                None => Ok(()),
            }
        })
        .await
        .and_then(|closed| closed)
        .map_err(|e| backend(&self.shared.path, "close", e))
    }

    /// Takes the write connection out without waiting (for `Drop`). While a batch still runs
    /// (one whose callers gave up), it is left in place: that batch's leader holds the last
    /// reference and closes it there.
    pub(super) fn take_idle(&self) -> Option<Connection> {
        match self.shared.conn.try_lock() {
            Ok(mut conn) => conn.take(),
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner().take(),
            Err(TryLockError::WouldBlock) => None,
        }
    }

    /// How many writes wait for a leader, and whether one is at work (tests line writes up
    /// into one batch).
    #[cfg(test)]
    pub(super) fn queued(&self) -> (usize, bool) {
        let queue = locked(&self.shared.queue);
        (queue.jobs.len(), queue.leading)
    }

    /// How many transactions committed so far.
    #[cfg(test)]
    pub(super) fn commits(&self) -> u64 {
        self.shared
            .commits
            .load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Shared {
    /// Runs batches while writes are queued. `mine` is the ticket of the leader's own write:
    /// once that is answered, a blocking-pool thread takes over the rest. `None` leads until
    /// the queue is empty.
    fn lead(self: Arc<Self>, mine: Option<u64>) {
        let abandon = AbandonOnPanic(&self);
        loop {
            let mut conn = locked(&self.conn);
            let (batch, last) = {
                let mut queue = locked(&self.queue);
                let take = queue.jobs.len().min(BATCH_MAX);
                if take == 0 {
                    queue.leading = false;
                    return;
                }
                let last = queue.next_ticket - (queue.jobs.len() - take) as u64 - 1;
                (queue.jobs.drain(..take).collect::<Vec<_>>(), last)
            };
            match conn.as_mut() {
                Some(conn) => self.run_batch(conn, batch),
                None => batch
                    .into_iter()
                    .for_each(|job| job.refuse("the store is closed")),
            }
            drop(conn);
            if mine.is_some_and(|mine| mine <= last) {
                break;
            }
        }
        // The leader's own write is answered: its caller goes on, a pool thread leads on.
        let mut queue = locked(&self.queue);
        if queue.jobs.is_empty() {
            queue.leading = false;
            return;
        }
        drop(queue);
        drop(abandon);
        match Handle::try_current() {
            Ok(handle) => {
                let handoff = Handoff(Some(self));
                drop(handle.spawn_blocking(move || handoff.lead()));
            }
            Err(_) => self.lead(None),
        }
    }

    /// Drops every queued write (their callers get an error) and lets the next write lead.
    fn abandon_queue(&self) {
        let mut queue = locked(&self.queue);
        queue.jobs.clear();
        queue.leading = false;
    }

    /// Runs `jobs` in arrival order, each in its own savepoint, in one transaction, and answers
    /// each once that transaction has ended: a write that failed gets its own error and left
    /// nothing behind; the others get their results if the commit succeeded (they are on disk)
    /// and the commit's error if it failed (none of them is). Only when SQLite gives a transaction
    /// up in the middle (it rolls the whole transaction back on a full disk or an I/O error) do
    /// the writes before that point fail with it, and the rest go on in a new transaction.
    fn run_batch(&self, conn: &Connection, jobs: Vec<Box<dyn Job>>) {
        let mut jobs = jobs.into_iter();
        while jobs.len() > 0 {
            if !conn.is_autocommit() {
                // Left open by a leader that panicked, or by a `ROLLBACK` that failed.
                let _ = sql(conn, "ROLLBACK");
            }
            if let Err(e) = sql(conn, "BEGIN IMMEDIATE") {
                let why = format!("begin a write transaction: {e}");
                jobs.for_each(|job| job.refuse(&why));
                return;
            }
            // A lone write needs no savepoint: if it fails, the transaction is rolled back.
            let alone = jobs.len() == 1;
            let mut answers: Vec<Box<dyn Answer>> = Vec::with_capacity(jobs.len());
            let mut given_up = None;
            for job in jobs.by_ref() {
                if let Err(e) = (!alone).then(|| sql(conn, "SAVEPOINT write")).transpose() {
                    let why = format!("open a savepoint: {e}");
                    job.refuse(&why);
                    given_up = Some(why);
                    break;
                }
                let answer = job.run(conn);
                if conn.is_autocommit() {
                    answers.push(answer);
                    given_up = Some(
                        "SQLite rolled the transaction back after a write in it failed \
                         (see that write's error); try again"
                            .to_owned(),
                    );
                    break;
                }
                let ended = match (alone, answer.succeeded()) {
                    (true, _) => Ok(()),
                    (false, true) => sql(conn, "RELEASE write"),
                    (false, false) => {
                        sql(conn, "ROLLBACK TO write").and_then(|()| sql(conn, "RELEASE write"))
                    }
                };
                answers.push(answer);
                if let Err(e) = ended {
                    given_up = Some(format!("end a savepoint: {e}"));
                    break;
                }
            }
            let ended = match given_up {
                Some(why) => Err(why),
                None if answers.iter().any(|a| a.succeeded()) => {
                    let committed = sql(conn, "COMMIT");
                    #[cfg(test)]
                    if committed.is_ok() {
                        self.commits
                            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    committed.map_err(|e| format!("commit: {e}"))
                }
                None => Ok(()),
            };
            if !conn.is_autocommit() {
                // What did not commit is undone before anyone is answered (a failing
                // `ROLLBACK` is tried again before the next batch).
                let _ = sql(conn, "ROLLBACK");
            }
            let ended = ended.as_ref().map_err(String::as_str).copied();
            answers.into_iter().for_each(|answer| answer.send(ended));
        }
    }
}

/// Runs a transaction-control statement, prepared once per connection.
fn sql(conn: &Connection, statement: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(statement)?.execute([])?;
    Ok(())
}

/// Unwinding out of a leader (a bug, never a failing write: those are caught) must not leave
/// queued writes waiting for a leader that is gone: they are dropped, so their callers get an
/// error, and the next write leads.
struct AbandonOnPanic<'a>(&'a Shared);

impl Drop for AbandonOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.abandon_queue();
        }
    }
}

/// The lead passed to a blocking-pool thread. If that thread never runs it (the runtime is
/// shutting down), the queued writes are dropped rather than left waiting for a leader.
struct Handoff(Option<Arc<Shared>>);

impl Handoff {
    fn lead(mut self) {
        if let Some(shared) = self.0.take() {
            shared.lead(None);
        }
    }
}

impl Drop for Handoff {
    fn drop(&mut self) {
        if let Some(shared) = self.0.take() {
            shared.abandon_queue();
        }
    }
}

/// A queued write, of any result type.
trait Job: Send {
    /// Runs the write inside the batch's transaction; its answer waits for the transaction
    /// to end.
    fn run(self: Box<Self>, conn: &Connection) -> Box<dyn Answer>;
    /// Answers `why` without running the write.
    fn refuse(self: Box<Self>, why: &str);
}

/// A write's outcome, held until its transaction has ended.
trait Answer: Send {
    fn succeeded(&self) -> bool;
    /// Answers the caller: its own outcome when its transaction committed (or when it failed
    /// itself), else why the transaction did not commit.
    fn send(self: Box<Self>, ended: Result<(), &str>);
}

struct Write<T, F> {
    op: &'static str,
    f: F,
    path: Arc<PathBuf>,
    reply: oneshot::Sender<Result<T, StoreError>>,
}

impl<T, F> Job for Write<T, F>
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> Result<T, Fail> + Send + 'static,
{
    fn run(self: Box<Self>, conn: &Connection) -> Box<dyn Answer> {
        let Write { op, f, path, reply } = *self;
        // A panicking write is rolled back with its savepoint, like one that failed.
        let outcome = match catch_unwind(AssertUnwindSafe(|| f(conn))) {
            Ok(outcome) => outcome.map_err(|e| e.into_store(&path, op)),
            Err(_) => Err(backend(&path, op, "it panicked")),
        };
        Box::new(Written {
            op,
            path,
            reply,
            outcome,
        })
    }

    fn refuse(self: Box<Self>, why: &str) {
        // The caller may have given up; then nobody needs the answer.
        let _ = self.reply.send(Err(backend(&self.path, self.op, why)));
    }
}

struct Written<T> {
    op: &'static str,
    path: Arc<PathBuf>,
    reply: oneshot::Sender<Result<T, StoreError>>,
    outcome: Result<T, StoreError>,
}

impl<T: Send> Answer for Written<T> {
    fn succeeded(&self) -> bool {
        self.outcome.is_ok()
    }

    fn send(self: Box<Self>, ended: Result<(), &str>) {
        let outcome = match (self.outcome, ended) {
            (Ok(_), Err(why)) => Err(backend(&self.path, self.op, why)),
            (outcome, _) => outcome,
        };
        let _ = self.reply.send(outcome);
    }
}

/// A panic while the lock was held cannot leave the connection half-changed (SQLite rolls the
/// open transaction back), so a poisoned lock is still good.
fn locked<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Closes connections without blocking an async worker: on the blocking pool when inside a
/// runtime, else right here.
pub(super) fn close_in_background(conns: Vec<Connection>) {
    if conns.is_empty() {
        return;
    }
    match Handle::try_current() {
        Ok(handle) => drop(handle.spawn_blocking(move || drop(conns))),
        Err(_) => drop(conns),
    }
}

/// A fixed set of read-only connections, each used by one blocking call at a time.
pub(super) struct Readers {
    idle: Mutex<Vec<Connection>>,
    permits: Arc<Semaphore>,
    size: u32,
    path: Arc<PathBuf>,
}

impl Readers {
    pub(super) fn new(conns: Vec<Connection>, path: Arc<PathBuf>) -> Arc<Readers> {
        let size = u32::try_from(conns.len()).unwrap_or(u32::MAX);
        Arc::new(Readers {
            permits: Arc::new(Semaphore::new(conns.len())),
            idle: Mutex::new(conns),
            size,
            path,
        })
    }

    /// Runs `f` with a reader connection.
    pub(super) async fn run<T, F>(self: &Arc<Self>, op: &'static str, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, Fail> + Send + 'static,
    {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| backend(&self.path, op, "the reader pool is closed"))?;
        let pool = Arc::clone(self);
        off_the_runtime(move || {
            let _permit = permit;
            let conn = locked(&pool.idle).pop();
            let Some(conn) = conn else {
                return Err(backend(&pool.path, op, "no idle reader connection"));
            };
            let mut lease = Lease {
                conn: Some(conn),
                pool: &pool,
            };
            f(&mut lease).map_err(|e| e.into_store(&pool.path, op))
        })
        .await
        .map_err(|e| backend(&self.path, op, format!("reader failed: {e}")))?
    }

    /// Waits until no reader is in use and takes them all out of the pool.
    pub(super) async fn take_all(&self) -> Vec<Connection> {
        // Closing the semaphore after taking every permit keeps later reads from waiting forever.
        if let Ok(all) = self.permits.acquire_many(self.size).await {
            all.forget();
        }
        self.permits.close();
        std::mem::take(&mut *locked(&self.idle))
    }

    /// Takes the idle connections out without waiting (for `Drop`).
    pub(super) fn take_idle(&self) -> Vec<Connection> {
        self.permits.close();
        std::mem::take(&mut *locked(&self.idle))
    }
}

/// A reader connection out of the pool; goes back on drop, even when the job panics.
struct Lease<'a> {
    conn: Option<Connection>,
    pool: &'a Readers,
}

impl Deref for Lease<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn
            .as_ref()
            .expect("a lease holds its connection until dropped")
    }
}

impl DerefMut for Lease<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        self.conn
            .as_mut()
            .expect("a lease holds its connection until dropped")
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            locked(&self.pool.idle).push(conn);
        }
    }
}
