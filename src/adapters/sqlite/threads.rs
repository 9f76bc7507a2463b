//! Where SQLite calls run: one dedicated writer thread that owns the write connection, and a
//! small pool of read-only connections used from `spawn_blocking`.
//!
//! SQLite calls block (on disk I/O, on `fsync`, on another process's write lock for up to the
//! busy timeout), so none of them may run on a tokio worker thread. Writes are funnelled into
//! one thread, which also means one process never contends with itself for the write lock.

use std::ops::{Deref, DerefMut};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;
use tokio::sync::{Semaphore, oneshot};

use crate::ports::StoreError;

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

type Job = Box<dyn FnOnce(&mut Connection) + Send>;

enum Request {
    Run(Job),
    /// Drops the readers, closes the write connection (the last one closed checkpoints the
    /// WAL into the main file) and stops the thread.
    Close {
        readers: Vec<Connection>,
        reply: oneshot::Sender<Result<(), StoreError>>,
    },
    /// Connections to close on this thread rather than on the dropping (maybe async) one.
    Retire(Vec<Connection>),
}

/// The handle of the writer thread.
pub(super) struct Writer {
    requests: mpsc::Sender<Request>,
    path: Arc<PathBuf>,
}

impl Writer {
    /// Moves `conn` into a new writer thread.
    pub(super) fn spawn(conn: Connection, path: Arc<PathBuf>) -> Result<Writer, StoreError> {
        let (requests, inbox) = mpsc::channel::<Request>();
        std::thread::Builder::new()
            .name("ao-sqlite-writer".to_owned())
            .spawn(move || serve(conn, inbox))
            .map_err(|e| backend(&path, "start the writer thread", e))?;
        Ok(Writer { requests, path })
    }

    /// Runs `f` on the writer thread and waits (asynchronously) for its result.
    pub(super) async fn run<T, F>(&self, op: &'static str, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, Fail> + Send + 'static,
    {
        let (reply, result) = oneshot::channel();
        let path = Arc::clone(&self.path);
        let job: Job = Box::new(move |conn| {
            // The caller may have gone away (a cancelled future); the write stands either way.
            let _ = reply.send(f(conn).map_err(|e| e.into_store(&path, op)));
        });
        self.requests
            .send(Request::Run(job))
            .map_err(|_| backend(&self.path, op, "the writer thread has stopped"))?;
        result.await.map_err(|_| {
            backend(
                &self.path,
                op,
                "the writer thread failed during the operation",
            )
        })?
    }

    pub(super) async fn close(&self, readers: Vec<Connection>) -> Result<(), StoreError> {
        let (reply, result) = oneshot::channel();
        self.requests
            .send(Request::Close { readers, reply })
            .map_err(|_| backend(&self.path, "close", "the writer thread has stopped"))?;
        result.await.map_err(|_| {
            backend(
                &self.path,
                "close",
                "the writer thread failed while closing",
            )
        })?
    }

    /// Hands connections to the writer thread to be closed there (best effort: if the thread
    /// is gone, they are dropped here).
    pub(super) fn retire(&self, conns: Vec<Connection>) {
        let _ = self.requests.send(Request::Retire(conns));
    }
}

fn serve(conn: Connection, inbox: mpsc::Receiver<Request>) {
    let mut conn = conn;
    while let Ok(request) = inbox.recv() {
        match request {
            Request::Run(job) => {
                // A panicking job drops its reply (the caller sees an error) and any open
                // transaction (which rolls back); the thread keeps serving.
                let _ = catch_unwind(AssertUnwindSafe(|| job(&mut conn)));
            }
            Request::Retire(conns) => drop(conns),
            Request::Close { readers, reply } => {
                drop(readers);
                let result = conn.close().map_err(|(_, e)| e);
                let _ = reply.send(result.map_err(|e| StoreError::Backend(e.to_string())));
                return;
            }
        }
    }
}

/// A fixed set of read-only connections, each used by one blocking task at a time.
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

    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<Connection>> {
        // The vector is only pushed to and popped from; a panic cannot leave it half-changed.
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` with a reader connection on a blocking thread.
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
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let conn = pool.idle().pop();
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
        .map_err(|e| backend(&self.path, op, format!("reader task failed: {e}")))?
    }

    /// Waits until no reader is in use and takes them all out of the pool.
    pub(super) async fn take_all(&self) -> Vec<Connection> {
        // Closing the semaphore after taking every permit keeps later reads from waiting forever.
        if let Ok(all) = self.permits.acquire_many(self.size).await {
            all.forget();
        }
        self.permits.close();
        std::mem::take(&mut *self.idle())
    }

    /// Takes the idle connections out without waiting (for `Drop`).
    pub(super) fn take_idle(&self) -> Vec<Connection> {
        self.permits.close();
        std::mem::take(&mut *self.idle())
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
            self.pool.idle().push(conn);
        }
    }
}
