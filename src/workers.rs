//! A per-session worker pool: at most one worker task per session, sessions in parallel.
//!
//! The reaction dispatcher and the message delivery dispatcher both drain per-session queues in
//! order; this keeps "one worker per session" and lets tests ask whether any worker is running.

use std::collections::HashSet;
use std::future::Future;
use std::sync::{Arc, Mutex};

use crate::domain::SessionId;

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
