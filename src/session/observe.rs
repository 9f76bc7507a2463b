//! Read-side operations the CLI follows: `tail` (long-poll on the output log with a byte
//! cursor) and `wait_for_status` (block until sessions reach a status, woken by the change log).

use std::collections::BTreeSet;
use std::time::Duration;

use super::{SessionManager, SmError};
use crate::domain::{Session, SessionId, Status, WaitVerdict, wait_verdict};
use crate::messages::runtime_handle;
use crate::ports::OutputChunk;

/// How often `tail` looks at the output log while waiting.
const TAIL_POLL: Duration = Duration::from_millis(100);
/// Longest gap between status checks while waiting (the no-signal status is time-based).
const STATUS_RECHECK: Duration = Duration::from_secs(1);

/// Output for `aoctl tail`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TailChunk {
    pub chunk: OutputChunk,
    /// False when the session is terminal: no more output will come.
    pub live: bool,
}

impl SessionManager {
    /// Without a cursor: the last `lines` lines of the pane (none for 0) and the cursor of the
    /// log's end.
    /// With one: the log after it, waiting up to `wait` for output to appear.
    pub async fn tail(
        &self,
        id: &SessionId,
        cursor: Option<u64>,
        lines: usize,
        max_bytes: usize,
        wait: Duration,
    ) -> Result<TailChunk, SmError> {
        let record = self
            .store
            .load(id)
            .await?
            .ok_or_else(|| SmError::NotFound(id.clone()))?;
        let handle = runtime_handle(&record).ok_or(SmError::IncompleteTeardownMetadata {
            id: id.clone(),
            missing: "runtime handle",
        })?;
        let live = !record.is_terminal();
        let Some(cursor) = cursor else {
            let end = self.runtime.read_output(&handle, u64::MAX, 0).await?;
            let text = if live && lines > 0 {
                self.runtime
                    .output(&handle, lines)
                    .await
                    .unwrap_or_default()
            } else {
                String::new()
            };
            return Ok(TailChunk {
                chunk: OutputChunk { text, ..end },
                live,
            });
        };
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let chunk = self.runtime.read_output(&handle, cursor, max_bytes).await?;
            let live = !self.store.load(id).await?.is_some_and(|r| r.is_terminal());
            if !chunk.text.is_empty() || !live || tokio::time::Instant::now() >= deadline {
                return Ok(TailChunk { chunk, live });
            }
            tokio::time::sleep(TAIL_POLL).await;
        }
    }

    /// Waits up to `wait` until every (or, with `any`, one) session's status is in `statuses`,
    /// or until that can no longer happen (see [`wait_verdict`]). Returns the verdict
    /// (`Pending` when the wait ran out) and the sessions as last seen.
    pub async fn wait_for_status(
        &self,
        ids: &[SessionId],
        statuses: &BTreeSet<Status>,
        any: bool,
        wait: Duration,
    ) -> Result<(WaitVerdict, Vec<Session>), SmError> {
        let deadline = tokio::time::Instant::now() + wait;
        let wanted: Vec<Status> = statuses.iter().copied().collect();
        let mut cursor = 0;
        loop {
            let mut sessions = Vec::with_capacity(ids.len());
            for id in ids {
                sessions.push(self.get(id).await?);
            }
            let seen: Vec<Status> = sessions.iter().map(|s| s.status).collect();
            let verdict = wait_verdict(&seen, &wanted, any);
            let now = tokio::time::Instant::now();
            if verdict != WaitVerdict::Pending || now >= deadline {
                return Ok((verdict, sessions));
            }
            // Sleep until a commit (or the recheck interval, for time-based statuses).
            let nap = (deadline - now).min(STATUS_RECHECK);
            let page = self.store.events_after(cursor, 512, nap, None).await?;
            cursor = page.next;
        }
    }
}
