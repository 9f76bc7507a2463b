//! A per-session worker pool: at most one worker task per session, sessions in parallel.
//!
//! The reaction dispatcher and the message delivery dispatcher both drain per-session queues in
//! order; this keeps "one worker per session" and lets tests ask whether any worker is running.

use std::collections::HashSet;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::warn;

use crate::domain::SessionId;
use crate::ports::StoreError;

/// A durable queue with one ordered lane per session (reaction rows, pane messages).
#[async_trait]
pub(crate) trait SessionQueue: Send + Sync + 'static {
    /// What the queue holds, for logs.
    const NAME: &'static str;

    /// Woken after commits that may have queued work.
    fn wake(&self) -> &Notify;

    /// The queue's workers.
    fn workers(&self) -> &Arc<SessionWorkers>;

    /// Sessions with queued work.
    async fn pending(&self) -> Result<Vec<SessionId>, StoreError>;

    /// Works through one session's lane in order, until it is empty, blocked, or cancelled.
    async fn drain(self: Arc<Self>, id: SessionId, cancel: CancellationToken);
}

/// Runs a queue until cancelled: on every wake-up and every `poll` (which also catches work
/// queued by another process), starts a worker for each session with pending work. At
/// cancellation each worker finishes the item it holds; other items stay queued.
pub(crate) async fn run_queue<Q: SessionQueue>(
    queue: Arc<Q>,
    cancel: CancellationToken,
    poll: Duration,
) {
    loop {
        match queue.pending().await {
            Ok(sessions) => {
                for id in sessions {
                    let (worker, cancel) = (queue.clone(), cancel.clone());
                    let rewake = queue.clone();
                    queue
                        .workers()
                        .ensure(id.clone(), worker.drain(id, cancel), move || {
                            rewake.wake().notify_one()
                        });
                }
            }
            Err(e) => warn!(queue = Q::NAME, error = %e, "listing queued work failed"),
        }
        tokio::select! {
            _ = cancel.cancelled() => break,
            _ = queue.wake().notified() => {}
            _ = tokio::time::sleep(poll) => {}
        }
    }
    while !queue.workers().is_idle() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[derive(Debug, Default)]
pub(crate) struct SessionWorkers {
    running: Mutex<HashSet<SessionId>>,
}

impl SessionWorkers {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<SessionId>> {
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Spawns `work` for `id` unless a worker for `id` is running. `on_exit` runs after the
    /// worker has left the running set (used to re-wake the dispatcher, so work queued while
    /// the worker was finishing is not left to the next poll).
    pub(crate) fn ensure<W, E>(self: &Arc<Self>, id: SessionId, work: W, on_exit: E)
    where
        W: Future<Output = ()> + Send + 'static,
        E: FnOnce() + Send + 'static,
    {
        if !self.lock().insert(id.clone()) {
            return;
        }
        let workers = self.clone();
        tokio::spawn(async move {
            // Leave the running set even if the work panics, or the session would be stuck.
            struct Exit(Arc<SessionWorkers>, Option<SessionId>);
            impl Drop for Exit {
                fn drop(&mut self) {
                    if let Some(id) = self.1.take() {
                        self.0.lock().remove(&id);
                    }
                }
            }
            let exit = Exit(workers, Some(id));
            work.await;
            drop(exit);
            on_exit();
        });
    }

    /// True when no worker is running.
    pub(crate) fn is_idle(&self) -> bool {
        self.lock().is_empty()
    }
}
