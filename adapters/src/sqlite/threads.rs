//! Where SQLite calls run: the write connection behind a mutex and a small pool of read-only
//! connections, both used only from threads that may block.
//!
//! SQLite calls block (on disk I/O, on `fsync`, on another process's write lock for up to the
//! busy timeout), so none of them may stall a tokio worker. [`off_the_runtime`] runs them in
//! place on a multi-thread runtime (`block_in_place`: tokio hands the worker's other tasks to
//! another thread meanwhile), on the blocking pool on a current-thread runtime, and directly
//! outside any runtime. Running in place keeps thread hand-offs off the write path: each
//! hand-off is a wake-up of a parked thread, and `benches/store_write.rs` measured two of them
//! per write (to a writer thread and back) costing as much as the write itself.
//!
//! Writes take the one write connection's mutex, so one process never contends with itself
//! for SQLite's write lock.

use std::ops::{Deref, DerefMut};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};

use rusqlite::Connection;
use tokio::runtime::{Handle, RuntimeFlavor};
use tokio::sync::Semaphore;

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

/// The write connection; `None` once closed.
pub(super) struct Writer {
    conn: Arc<Mutex<Option<Connection>>>,
    path: Arc<PathBuf>,
}

impl Writer {
    pub(super) fn new(conn: Connection, path: Arc<PathBuf>) -> Writer {
        Writer {
            conn: Arc::new(Mutex::new(Some(conn))),
            path,
        }
    }

    /// Runs `f` on the write connection, one write at a time.
    pub(super) async fn run<T, F>(&self, op: &'static str, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, Fail> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        let path = Arc::clone(&self.path);
        off_the_runtime(move || {
            let mut guard = locked(&conn);
            let conn = guard
                .as_mut()
                .ok_or_else(|| backend(&path, op, "the store is closed"))?;
            // A panicking `f` drops its open transaction, which rolls back.
            f(conn).map_err(|e| e.into_store(&path, op))
        })
        .await
        .map_err(|e| backend(&self.path, op, e))?
    }

    /// Closes `readers`, then the write connection (the last one closed checkpoints the WAL
    /// into the main file).
    pub(super) async fn close(&self, readers: Vec<Connection>) -> Result<(), StoreError> {
        let conn = Arc::clone(&self.conn);
        off_the_runtime(move || {
            drop(readers);
            match locked(&conn).take() {
                Some(conn) => conn.close().map_err(|(_, e)| e.to_string()),
                None => Ok(()),
            }
        })
        .await
        .and_then(|closed| closed)
        .map_err(|e| backend(&self.path, "close", e))
    }

    /// Takes the write connection out without waiting (for `Drop`). While a write still runs
    /// (one whose caller gave up), it is left in place: that write's thread holds the last
    /// reference and closes it there.
    pub(super) fn take_idle(&self) -> Option<Connection> {
        match self.conn.try_lock() {
            Ok(mut conn) => conn.take(),
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner().take(),
            Err(TryLockError::WouldBlock) => None,
        }
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
