//! A per-session worker pool: at most one worker task per session, sessions in parallel.
//!
//! The reaction dispatcher and the message delivery dispatcher both drain per-session queues in
//! order; this keeps "one worker per session" and lets tests ask whether any worker is running.
//! A lane that stops on a store failure is retried by its own worker with [`Backoff`] (the
//! dispatcher does not restart it meanwhile), and its failures are logged through a
//! [`RepeatedFailure`]; a dispatcher that cannot list its queue backs off the same way.

use std::collections::HashSet;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::backoff::{Backoff, RepeatedFailure};
use crate::domain::SessionId;
use crate::ports::StoreError;

/// A durable queue with one ordered lane per session (reaction rows, pane messages).
#[async_trait]
pub(crate) trait SessionQueue: Send + Sync + 'static {
    /// What working through the queue is called in logs ("message delivery").
    const NAME: &'static str;

    /// Woken after commits that may have queued work.
    fn wake(&self) -> &Notify;

    /// The queue's workers.
    fn workers(&self) -> &Arc<SessionWorkers>;

    /// Sessions with queued work.
    async fn pending(&self) -> Result<Vec<SessionId>, StoreError>;

    /// Works through one session's lane in order, until it is empty, blocked, or cancelled.
    /// An error stops the lane where it is: the item that failed stays queued.
    async fn drain(
        self: Arc<Self>,
        id: SessionId,
        cancel: CancellationToken,
    ) -> Result<Drained, StoreError>;
}

/// How a worker left its lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Drained {
    /// Nothing left (work queued while it finished is picked up at once).
    Empty,
    /// Its next item waits for something (a busy agent, a draft): the next wake-up or poll
    /// looks again, so an ending worker does not wake the dispatcher into a busy loop.
    Paused,
}

/// Runs a queue until cancelled: on every wake-up and every `poll` (which also catches work
/// queued by another process), starts a worker for each session with pending work. At
/// cancellation each worker finishes the item it holds; other items stay queued.
pub(crate) async fn run_queue<Q: SessionQueue>(
    queue: Arc<Q>,
    cancel: CancellationToken,
    poll: Duration,
) {
    let mut backoff = Backoff::ticks(poll);
    let mut failures = RepeatedFailure::default();
    loop {
        let wait = match queue.pending().await {
            Ok(sessions) => {
                if let Some(n) = failures.succeeded() {
                    info!(failures = n, "{}: listing the queue works again", Q::NAME);
                }
                for id in sessions {
                    let (worker, cancel) = (queue.clone(), cancel.clone());
                    let rewake = queue.clone();
                    queue.workers().ensure(
                        id.clone(),
                        work_lane(worker, id, cancel),
                        move |drained| {
                            if drained == Drained::Empty {
                                rewake.wake().notify_one()
                            }
                        },
                    );
                }
                backoff.succeed()
            }
            Err(e) => {
                if let Some(line) = failures.failed() {
                    warn!(error = %e, "{}: listing the queue failed{line}; retrying with backoff", Q::NAME);
                }
                backoff.fail()
            }
        };
        // A failing listing waits out its backoff: wake-ups would only make it fail again.
        let woken = async {
            if failures.is_failing() {
                std::future::pending::<()>().await;
            }
            queue.wake().notified().await;
        };
        tokio::select! {
            _ = cancel.cancelled() => break,
            _ = woken => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
    while !queue.workers().is_idle() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// One session's worker: drains its lane, and after a failure drains it again once the
/// backoff has passed, until the lane is drained or the queue is cancelled.
async fn work_lane<Q: SessionQueue>(
    queue: Arc<Q>,
    id: SessionId,
    cancel: CancellationToken,
) -> Drained {
    let mut backoff = Backoff::retry();
    let mut failures = RepeatedFailure::default();
    loop {
        match queue.clone().drain(id.clone(), cancel.clone()).await {
            Ok(drained) => {
                if let Some(n) = failures.succeeded() {
                    info!(session = %id, failures = n, "{} works again", Q::NAME);
                }
                return drained;
            }
            Err(e) => {
                if let Some(line) = failures.failed() {
                    warn!(session = %id, error = %e, "{} failed{line}; retrying with backoff", Q::NAME);
                }
            }
        }
        tokio::select! {
            _ = cancel.cancelled() => return Drained::Paused,
            _ = tokio::time::sleep(backoff.fail()) => {}
        }
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

    /// Spawns `work` for `id` unless a worker for `id` is running. `on_exit` gets the work's
    /// result after the worker has left the running set (used to re-wake the dispatcher, so
    /// work queued while the worker was finishing is not left to the next poll).
    pub(crate) fn ensure<W, T, E>(self: &Arc<Self>, id: SessionId, work: W, on_exit: E)
    where
        W: Future<Output = T> + Send + 'static,
        T: Send + 'static,
        E: FnOnce(T) + Send + 'static,
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
            let result = work.await;
            drop(exit);
            on_exit(result);
        });
    }

    /// True when no worker is running.
    pub(crate) fn is_idle(&self) -> bool {
        self.lock().is_empty()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use tokio::time::Instant;
    use tracing::Level;

    use super::*;
    use crate::testing::LogCapture;

    /// One session's lane whose drain fails `failures` times (a full disk), then empties it.
    struct FlakyQueue {
        wake: Notify,
        workers: Arc<SessionWorkers>,
        failures: usize,
        drains: Mutex<Vec<Instant>>,
    }

    impl FlakyQueue {
        fn new(failures: usize) -> Arc<Self> {
            Arc::new(Self {
                wake: Notify::new(),
                workers: Arc::default(),
                failures,
                drains: Mutex::default(),
            })
        }

        fn drains(&self) -> Vec<Instant> {
            self.drains.lock().unwrap().clone()
        }
    }

    #[async_trait]
    impl SessionQueue for FlakyQueue {
        const NAME: &'static str = "test delivery";

        fn wake(&self) -> &Notify {
            &self.wake
        }

        fn workers(&self) -> &Arc<SessionWorkers> {
            &self.workers
        }

        async fn pending(&self) -> Result<Vec<SessionId>, StoreError> {
            let drained = self.drains().len() > self.failures;
            Ok(if drained {
                vec![]
            } else {
                vec![SessionId::parse("proj-1").unwrap()]
            })
        }

        async fn drain(
            self: Arc<Self>,
            _: SessionId,
            _: CancellationToken,
        ) -> Result<Drained, StoreError> {
            let mut drains = self.drains.lock().unwrap();
            drains.push(Instant::now());
            if drains.len() <= self.failures {
                Err(StoreError::Backend("database or disk is full".to_owned()))
            } else {
                Ok(Drained::Empty)
            }
        }
    }

    fn gaps_ms(times: &[Instant]) -> Vec<u128> {
        times
            .windows(2)
            .map(|w| (w[1] - w[0]).as_millis())
            .collect()
    }

    #[tokio::test(start_paused = true)]
    async fn a_failing_lane_backs_off_instead_of_spinning() {
        let (logs, _guard) = LogCapture::install();
        let queue = FlakyQueue::new(7);
        let cancel = CancellationToken::new();
        let run = tokio::spawn(run_queue(
            queue.clone(),
            cancel.clone(),
            Duration::from_secs(1),
        ));
        // Wake-ups while the lane backs off (commits elsewhere) do not restart it.
        for _ in 0..50 {
            queue.wake.notify_one();
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(Duration::from_secs(30)).await;
        assert_eq!(
            gaps_ms(&queue.drains()),
            [100, 200, 400, 800, 1_600, 3_200, 6_400],
            "one worker retries with backoff; the dispatcher does not restart it"
        );
        let failed = logs.matching(Level::WARN, "test delivery failed; retrying with backoff");
        assert_eq!(failed.len(), 1, "{:?}", logs.lines());
        assert!(failed[0].contains("session=proj-1") && failed[0].contains("disk is full"));
        let again = logs.matching(Level::INFO, "test delivery works again");
        assert_eq!(again.len(), 1, "{:?}", logs.lines());
        assert!(again[0].contains("failures=7"), "{}", again[0]);
        assert!(queue.workers.is_idle());
        cancel.cancel();
        run.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn cancellation_ends_a_backoff_at_once() {
        let queue = FlakyQueue::new(usize::MAX);
        let cancel = CancellationToken::new();
        let run = tokio::spawn(run_queue(
            queue.clone(),
            cancel.clone(),
            Duration::from_secs(1),
        ));
        tokio::time::sleep(Duration::from_secs(60)).await;
        let before = queue.drains().len();
        assert!((9..=11).contains(&before), "{before} attempts in a minute");
        let asked = Instant::now();
        cancel.cancel();
        run.await.unwrap();
        // The dispatcher notices the worker's exit at its next 5 ms look.
        assert!(
            Instant::now() - asked <= Duration::from_millis(5),
            "no wait for the backoff to pass"
        );
        assert_eq!(queue.drains().len(), before);
        assert!(queue.workers.is_idle());
    }
}
