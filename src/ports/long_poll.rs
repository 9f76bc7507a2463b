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

    fn event(seq: i64) -> ChangeEvent {
        ChangeEvent {
            seq,
            session_id: SessionId::parse("proj-1").unwrap(),
            project_id: ProjectId::parse("proj").unwrap(),
            event_type: EventType::SessionCreated,
            payload: serde_json::json!({}),
            created_at: Timestamp::from_millis(0),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn without_a_wake_up_it_looks_again_every_recheck() {
        let committed = Notify::new();
        let looks = AtomicUsize::new(0);
        let start = Instant::now();
        let page = long_poll_events(
            &committed,
            Some(Duration::from_secs(1)),
            4,
            10,
            Duration::from_secs(10),
            |_| {
                // Another process commits row 5 between the second and the third look.
                let rows = match looks.fetch_add(1, Ordering::SeqCst) {
                    0 | 1 => vec![],
                    _ => vec![event(5)],
                };
                async move { Ok((rows, 0)) }
            },
        )
        .await
        .unwrap();
        assert_eq!(looks.load(Ordering::SeqCst), 3);
        assert_eq!(start.elapsed(), Duration::from_secs(2));
        assert_eq!((page.next, page.truncated), (5, false));
    }

    #[tokio::test(start_paused = true)]
    async fn with_nothing_to_find_it_answers_at_the_deadline() {
        let committed = Notify::new();
        let looks = AtomicUsize::new(0);
        let start = Instant::now();
        let page = long_poll_events(&committed, None, 4, 0, Duration::from_secs(5), |limit| {
            assert_eq!(limit, 1, "the limit is at least one row");
            looks.fetch_add(1, Ordering::SeqCst);
            async { Ok((vec![], 7)) }
        })
        .await
        .unwrap();
        assert_eq!(
            looks.load(Ordering::SeqCst),
            2,
            "at once and at the deadline"
        );
        assert_eq!(start.elapsed(), Duration::from_secs(5));
        assert_eq!(
            page,
            EventPage {
                events: vec![],
                next: 4,
                truncated: true,
            }
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_commit_wakes_the_wait() {
        let committed = Notify::new();
        let looks = AtomicUsize::new(0);
        let start = Instant::now();
        let wait = long_poll_events(&committed, None, 0, 10, Duration::from_secs(30), |_| {
            let rows = match looks.fetch_add(1, Ordering::SeqCst) {
                0 => vec![],
                _ => vec![event(1)],
            };
            async move { Ok((rows, 0)) }
        });
        let commit = async {
            tokio::time::sleep(Duration::from_secs(3)).await;
            committed.notify_waiters();
        };
        let (page, ()) = tokio::join!(wait, commit);
        assert_eq!(page.unwrap().next, 1);
        assert_eq!(start.elapsed(), Duration::from_secs(3));
    }
}
