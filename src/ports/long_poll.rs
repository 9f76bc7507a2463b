//! The long-poll of [`EventLog::events_after`](super::EventLog::events_after), written once for
//! every store: look for change-log rows, and while there are none, wait for a commit and look
//! again until the wait ends.

use std::future::Future;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use super::{EVENTS_PAGE_MAX, EVENTS_WAIT_MAX, EventPage, StoreError};
use crate::domain::ChangeEvent;

/// Answers `events_after(after, limit, wait, ..)` for a store.
///
/// `look(limit)` reads at most `limit` rows with `seq > after` (`limit` already capped at
/// [`EVENTS_PAGE_MAX`]) and returns them with the seq the log is pruned through. While it finds
/// none, this waits for `committed` (which the store wakes with `notify_waiters` after every
/// commit that wrote a row) and looks again, until `wait` (capped at [`EVENTS_WAIT_MAX`]) ends,
/// when it looks one last time. A store that other processes write too passes `recheck`: it
/// looks again that often without a wake-up.
pub async fn long_poll_events<F, Fut>(
    committed: &Notify,
    recheck: Option<Duration>,
    after: i64,
    limit: usize,
    wait: Duration,
    mut look: F,
) -> Result<EventPage, StoreError>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = Result<(Vec<ChangeEvent>, i64), StoreError>>,
{
    let limit = limit.clamp(1, EVENTS_PAGE_MAX);
    let deadline = Instant::now() + wait.min(EVENTS_WAIT_MAX);
    loop {
        // Register for the wake-up before looking, so a commit in between is not missed.
        let woken = committed.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        let (events, pruned_through) = look(limit).await?;
        let now = Instant::now();
        if !events.is_empty() || now >= deadline {
            return Ok(EventPage {
                next: events.last().map_or(after, |e| e.seq),
                truncated: after < pruned_through,
                events,
            });
        }
        let next_look = recheck.map_or(deadline, |every| (now + every).min(deadline));
        tokio::select! {
            _ = woken => {}
            _ = tokio::time::sleep_until(next_look) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::domain::{EventType, ProjectId, SessionId, Timestamp};

    /// A change log that is empty for its first `empty_looks` looks and then holds row 5; it
    /// counts the looks.
    struct Log {
        empty_looks: usize,
        pruned_through: i64,
        looks: AtomicUsize,
    }

    impl Log {
        fn new(empty_looks: usize, pruned_through: i64) -> Self {
            Log {
                empty_looks,
                pruned_through,
                looks: AtomicUsize::new(0),
            }
        }

        fn look(&self) -> impl Future<Output = Result<(Vec<ChangeEvent>, i64), StoreError>> {
            let looked = self.looks.fetch_add(1, Ordering::SeqCst);
            let rows = if looked < self.empty_looks {
                vec![]
            } else {
                vec![ChangeEvent {
                    seq: 5,
                    session_id: SessionId::parse("proj-1").unwrap(),
                    project_id: ProjectId::parse("proj").unwrap(),
                    event_type: EventType::SessionCreated,
                    payload: serde_json::json!({}),
                    created_at: Timestamp::from_millis(0),
                }]
            };
            std::future::ready(Ok((rows, self.pruned_through)))
        }

        fn looks(&self) -> usize {
            self.looks.load(Ordering::SeqCst)
        }
    }

    #[tokio::test(start_paused = true)]
    async fn without_a_wake_up_it_looks_again_every_recheck() {
        // Another process commits row 5 between the second and the third look.
        let log = Log::new(2, 0);
        let start = Instant::now();
        let recheck = Some(Duration::from_secs(1));
        let wait = Duration::from_secs(10);
        let page = long_poll_events(&Notify::new(), recheck, 4, 10, wait, |_| log.look())
            .await
            .unwrap();
        assert_eq!(log.looks(), 3);
        assert_eq!(start.elapsed(), Duration::from_secs(2));
        assert_eq!((page.next, page.truncated), (5, false));
    }

    #[tokio::test(start_paused = true)]
    async fn with_nothing_to_find_it_answers_at_the_deadline() {
        let log = Log::new(usize::MAX, 7);
        let start = Instant::now();
        let wait = Duration::from_secs(5);
        let page = long_poll_events(&Notify::new(), None, 4, 0, wait, |limit| {
            assert_eq!(limit, 1, "the limit is at least one row");
            log.look()
        })
        .await
        .unwrap();
        assert_eq!(log.looks(), 2, "at once and at the deadline");
        assert_eq!(start.elapsed(), wait);
        let truncated = EventPage {
            events: vec![],
            next: 4,
            truncated: true,
        };
        assert_eq!(page, truncated);
    }

    #[tokio::test(start_paused = true)]
    async fn a_commit_wakes_the_wait() {
        let committed = Notify::new();
        let log = Log::new(1, 0);
        let start = Instant::now();
        let wait = Duration::from_secs(30);
        let page = long_poll_events(&committed, None, 0, 10, wait, |_| log.look());
        let commit = async {
            tokio::time::sleep(Duration::from_secs(3)).await;
            committed.notify_waiters();
        };
        let (page, ()) = tokio::join!(page, commit);
        assert_eq!(page.unwrap().next, 5);
        assert_eq!(start.elapsed(), Duration::from_secs(3));
    }
}
