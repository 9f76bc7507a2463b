//! Message delivery: every text written into a pane — a user message, a reaction nudge, an
//! after-start prompt — is first a row of the session's durable queue, then written by that
//! session's one delivery worker, in order, through the session guard.
//!
//! Per row: wait while a hook-capable agent is `active`; re-read the record and run the guard
//! (a refusal makes no pane write, and a refused nudge gives its attempt back in the same
//! transaction); refuse a nudge whose reaction key is no longer current; mark the row `injected`
//! (committed before the write, so a restart never types it twice); write it. An injected user
//! message ends the session's `agent-idle` incident.
//!
//! Then, for `deliver` rows to a confirm-capable agent (Claude Code reports both prompt submission
//! and permission dialogs), the confirmation loop that makes sure the agent took it: poll the
//! record every 300 ms for up to 2 s per round; `active`, or a `user-prompt-submit` hook that
//! already acknowledged the row by its hash → `acknowledged`; `blocked` → stop (an Enter could
//! answer the dialog); a silent round → guard, then Enter only, at most 3 Enters in all. The loop
//! never fails the delivery. Nudges are not confirmed: the reaction ladder has its own retries, and
//! an extra Enter after a nudge could submit a half-typed user prompt.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;

use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use crate::decide::reactions::{GuardOutcome, guard, reaction_key_for};
use crate::domain::{
    ActivityState, Message, MessageMode, MessageState, ReactionKey, RuntimeHandle, SessionId,
    SessionRecord, meta,
};
use crate::lifecycle::{Lcm, Wakeups};
use crate::ports::{AgentCatalog, AgentMessenger, Clock, Store, StoreError};
use crate::workers::{SessionQueue, SessionWorkers, run_queue};

/// How often the dispatcher looks for queued messages without being woken.
pub const DELIVERY_POLL: Duration = Duration::from_secs(1);

/// The refusal reason of a nudge whose reaction is no longer current.
pub const STALE: &str = "stale";

/// Confirmation loop: poll interval, length of one round, Enters in total (the message's own
/// included).
pub const CONFIRM_POLL: Duration = Duration::from_millis(300);
pub const CONFIRM_ROUND: Duration = Duration::from_secs(2);
pub const CONFIRM_ENTERS: u32 = 3;

/// The message delivery dispatcher and its per-session workers.
pub struct MessageDelivery {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    messenger: Arc<dyn AgentMessenger>,
    catalog: Arc<dyn AgentCatalog>,
    wakeups: Arc<Wakeups>,
    workers: Arc<SessionWorkers>,
}

/// How one confirmation round ended.
enum Round {
    Acknowledged,
    Blocked,
    Silent,
}

/// Why the worker stopped draining a session.
enum Pause {
    /// Nothing queued.
    Empty,
    /// The agent is busy; the next activity change wakes the dispatcher.
    Busy,
}

impl MessageDelivery {
    pub fn new(
        lcm: &Lcm,
        store: Arc<dyn Store>,
        messenger: Arc<dyn AgentMessenger>,
        catalog: Arc<dyn AgentCatalog>,
    ) -> Arc<Self> {
        Arc::new(Self {
            store,
            clock: lcm.clock().clone(),
            messenger,
            catalog,
            wakeups: lcm.wakeups().clone(),
            workers: Arc::default(),
        })
    }

    /// Dispatches until cancelled: on every wake-up (enqueue, commit) and every second, starts a
    /// worker for each session with queued messages. Rows left at shutdown stay queued.
    pub async fn run(self: Arc<Self>, cancel: CancellationToken) {
        run_queue(self, cancel, DELIVERY_POLL).await;
    }

    /// Delivers until the lane is empty or the agent is busy; a store error stops the lane with
    /// its message still queued (the worker retries it after a backoff).
    async fn drain_messages(
        &self,
        id: &SessionId,
        cancel: &CancellationToken,
    ) -> Result<(), StoreError> {
        while !cancel.is_cancelled() {
            match self.deliver_next(id).await? {
                None | Some(Pause::Busy) => return Ok(()),
                Some(Pause::Empty) => {}
            }
        }
        Ok(())
    }

    /// Delivers (or refuses) the oldest queued message. `Ok(None)` when there is none.
    async fn deliver_next(&self, id: &SessionId) -> Result<Option<Pause>, StoreError> {
        let Some(message) = self.store.next_queued_message(id).await? else {
            return Ok(None);
        };
        let read = self.store.load(id).await;
        let record = read.as_ref().ok().and_then(Option::as_ref);
        if record.is_some_and(|r| self.busy(r)) {
            return Ok(Some(Pause::Busy));
        }
        let verdict = guard(
            read.as_ref().map(Option::as_ref).map_err(|_| ()),
            message.mode,
        );
        let now = self.clock.now();
        if verdict != GuardOutcome::Sent {
            self.refuse(&message, verdict.as_str()).await?;
            return Ok(Some(Pause::Empty));
        }
        let Some(record) = record else {
            self.refuse(&message, GuardOutcome::SuppressedNotFound.as_str())
                .await?;
            return Ok(Some(Pause::Empty));
        };
        if message.mode == MessageMode::Nudge && message.reaction_key() != reaction_key_for(record)
        {
            self.refuse(&message, STALE).await?;
            return Ok(Some(Pause::Empty));
        }
        let Some(handle) = runtime_handle(record) else {
            self.refuse(&message, "no runtime handle recorded").await?;
            return Ok(Some(Pause::Empty));
        };
        let ends: &[ReactionKey] = match message.mode {
            MessageMode::Deliver => &[ReactionKey::AgentIdle],
            MessageMode::Nudge => &[],
        };
        let confirm = message.mode == MessageMode::Deliver
            && !message.body.trim().is_empty()
            && self.catalog.capabilities(&record.agent).confirm_capable;
        // Registered before the row turns `injected`, so a waiting sender never mistakes an
        // unconfirmed injection for the final outcome.
        let _confirming = confirm.then(|| self.wakeups.confirming.begin(message.id));
        self.store.mark_injected(message.id, now, ends).await?;
        if let Err(e) = self.messenger.write(id, &handle, &message.body).await {
            self.refuse(&message, &e.message).await?;
            return Ok(Some(Pause::Empty));
        }
        if confirm {
            self.confirm(id, message.id, &handle).await;
        }
        Ok(Some(Pause::Empty))
    }

    /// The confirmation loop; never fails (a store error ends it with a warning).
    async fn confirm(&self, id: &SessionId, message: i64, handle: &RuntimeHandle) {
        let mut enters = 1;
        loop {
            match self.confirmation_round(id, message).await {
                Ok(Round::Acknowledged) => return,
                Ok(Round::Blocked) => {
                    debug!(session = %id, message, "a dialog opened: no further Enter");
                    return;
                }
                Ok(Round::Silent) => {}
                Err(e) => {
                    warn!(session = %id, message, error = %e, "confirmation loop stopped");
                    return;
                }
            }
            if enters >= CONFIRM_ENTERS {
                warn!("activity confirmation budget exhausted session={id} attempts={enters}");
                return;
            }
            let read = self.store.load(id).await;
            let verdict = guard(
                read.as_ref().map(Option::as_ref).map_err(|_| ()),
                MessageMode::Deliver,
            );
            if verdict != GuardOutcome::Sent {
                debug!(session = %id, message, outcome = verdict.as_str(), "Enter re-send refused");
                return;
            }
            if let Err(e) = self.messenger.write(id, handle, "").await {
                warn!(session = %id, message, error = %e.message, "Enter re-send failed");
                return;
            }
            enters += 1;
        }
    }

    /// Polls every `CONFIRM_POLL` for up to `CONFIRM_ROUND`.
    async fn confirmation_round(&self, id: &SessionId, message: i64) -> Result<Round, StoreError> {
        let deadline = tokio::time::Instant::now() + CONFIRM_ROUND;
        loop {
            tokio::time::sleep(CONFIRM_POLL).await;
            let acknowledged = self
                .store
                .message(message)
                .await?
                .is_some_and(|m| m.state == MessageState::Acknowledged);
            if acknowledged {
                return Ok(Round::Acknowledged);
            }
            let activity = self
                .store
                .load(id)
                .await?
                .and_then(|r| r.lifecycle.activity.state);
            match activity {
                Some(ActivityState::Active) => {
                    self.store
                        .mark_acknowledged(message, self.clock.now())
                        .await?;
                    return Ok(Round::Acknowledged);
                }
                Some(ActivityState::Blocked) => return Ok(Round::Blocked),
                _ => {}
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(Round::Silent);
            }
        }
    }

    /// A hook-capable agent in `active` is working on a turn: typing now would interleave.
    fn busy(&self, record: &SessionRecord) -> bool {
        record.lifecycle.activity.state == Some(ActivityState::Active)
            && self.catalog.capabilities(&record.agent).hook_capable
    }

    async fn refuse(&self, message: &Message, reason: &str) -> Result<(), StoreError> {
        debug!(session = %message.session_id, id = message.id, reason, "message refused");
        self.store
            .refuse_message(message.id, reason, self.clock.now())
            .await
    }

    /// True when no message is queued and no worker holds one.
    pub async fn is_idle(&self) -> Result<bool, StoreError> {
        Ok(self.workers.is_idle() && self.store.sessions_with_queued_messages().await?.is_empty())
    }
}

/// The runtime handle recorded in a session's metadata.
pub fn runtime_handle(record: &SessionRecord) -> Option<RuntimeHandle> {
    Some(RuntimeHandle {
        id: record.meta(meta::RUNTIME_HANDLE_ID)?.to_owned(),
        runtime_name: record.meta(meta::RUNTIME_NAME)?.to_owned(),
        pane_id: record.meta(meta::RUNTIME_PANE_ID).map(str::to_owned),
    })
}

#[async_trait]
impl SessionQueue for MessageDelivery {
    const NAME: &'static str = "message delivery";

    fn wake(&self) -> &Notify {
        &self.wakeups.messages
    }

    fn workers(&self) -> &Arc<SessionWorkers> {
        &self.workers
    }

    async fn pending(&self) -> Result<Vec<SessionId>, StoreError> {
        self.store.sessions_with_queued_messages().await
    }

    async fn drain(
        self: Arc<Self>,
        id: SessionId,
        cancel: CancellationToken,
    ) -> Result<(), StoreError> {
        self.drain_messages(&id, &cancel).await
    }
}

#[cfg(test)]
mod tests;
