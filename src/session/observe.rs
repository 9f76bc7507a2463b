//! Read-side operations the CLI follows: `tail` (pages of the output log's last lines, read
//! backwards, then a long-poll on the log with a byte cursor) and `wait_for_status` (block until sessions reach a status, woken by the change log).

use std::collections::BTreeSet;
use std::time::Duration;

use super::{SessionManager, SmError};
use crate::domain::{
    RuntimeHandle, Session, SessionId, SessionRecord, Status, WaitVerdict, wait_verdict,
};
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
    /// For a page of last lines: how many it holds and where the log's kept output begins.
    pub page: Option<LinesPage>,
}

/// What a page of last lines says beyond its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinesPage {
    /// Lines in the page's text (a line cut off at its start is not one).
    pub lines: usize,
    /// The offset of the oldest byte the log still holds.
    pub oldest: u64,
}

impl SessionManager {
    /// The last `lines` lines of the session's output log before `before` (`None`: its end),
    /// at most `max_bytes` of them; the reply's `next` is the cursor to follow from. Ended
    /// sessions keep their log until their runtime is destroyed.
    pub async fn tail_lines(
        &self,
        id: &SessionId,
        before: Option<u64>,
        lines: usize,
        max_bytes: usize,
    ) -> Result<TailChunk, SmError> {
        let record = self.load_existing(id).await?;
        let handle = self.tail_handle(id, &record);
        let found = self
            .runtime
            .last_lines(&handle, before, lines, max_bytes)
            .await?;
        Ok(TailChunk {
            chunk: found.chunk,
            live: !record.is_terminal(),
            page: Some(LinesPage {
                lines: found.lines,
                oldest: found.oldest,
            }),
        })
    }

    /// The output log after `cursor`, waiting up to `wait` for output to appear.
    pub async fn tail(
        &self,
        id: &SessionId,
        cursor: u64,
        max_bytes: usize,
        wait: Duration,
    ) -> Result<TailChunk, SmError> {
        let record = self.load_existing(id).await?;
        let handle = self.tail_handle(id, &record);
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let chunk = self.runtime.read_output(&handle, cursor, max_bytes).await?;
            let live = !self.store.load(id).await?.is_some_and(|r| r.is_terminal());
            if !chunk.text.is_empty() || !live || tokio::time::Instant::now() >= deadline {
                return Ok(TailChunk {
                    chunk,
                    live,
                    page: None,
                });
            }
            tokio::time::sleep(TAIL_POLL).await;
        }
    }

    /// The runtime handle whose output log `tail` reads: the recorded one, else the one a
    /// spawn gives the session (a runtime that never started has no log: no output).
    fn tail_handle(&self, id: &SessionId, record: &SessionRecord) -> RuntimeHandle {
        runtime_handle(record).unwrap_or_else(|| self.runtime.handle_for(id))
    }

    async fn load_existing(&self, id: &SessionId) -> Result<SessionRecord, SmError> {
        self.store
            .load(id)
            .await?
            .ok_or_else(|| SmError::NotFound(id.clone()))
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
