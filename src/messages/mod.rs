//! Message delivery (adapters.md section 4): every text written into a pane — a user message, a
//! reaction nudge, an after-start prompt — is first a row of the session's durable queue, then
//! written by that session's one delivery worker, in order, through the session guard.
//!
//! Per row: wait while a hook-capable agent is `active`; re-read the record and run the guard
//! (a refusal makes no pane write, and a refused nudge gives its attempt back in the same
//! transaction); refuse a nudge whose reaction key is no longer current; mark the row `injected`
//! (committed before the write, so a restart never types it twice); write it. An injected user
//! message ends the session's `agent-idle` incident.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;

use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use crate::decide::reactions::{GuardOutcome, guard, reaction_key_for};
use crate::domain::{
    ActivityState, Message, MessageMode, ReactionKey, RuntimeHandle, SessionId, SessionRecord, meta,
};
use crate::lifecycle::{Lcm, Wakeups};
use crate::ports::{AgentCatalog, AgentMessenger, Clock, Store, StoreError};
use crate::workers::{SessionQueue, SessionWorkers, run_queue};

/// How often the dispatcher looks for queued messages without being woken.
pub const DELIVERY_POLL: Duration = Duration::from_secs(1);

/// The refusal reason of a nudge whose reaction is no longer current.
pub const STALE: &str = "stale";

/// The message delivery dispatcher and its per-session workers.
pub struct MessageDelivery {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    messenger: Arc<dyn AgentMessenger>,
    catalog: Arc<dyn AgentCatalog>,
    wakeups: Arc<Wakeups>,
    workers: Arc<SessionWorkers>,
}

/// Why the worker stopped draining a session.
enum Pause {
    /// Nothing queued.
    Empty,
    /// The agent is busy; the next activity change wakes the dispatcher.
    Busy,
    Failed,
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

    async fn drain_messages(&self, id: &SessionId, cancel: &CancellationToken) -> Pause {
        while !cancel.is_cancelled() {
            match self.deliver_next(id).await {
                Ok(None) => return Pause::Empty,
                Ok(Some(Pause::Busy)) => return Pause::Busy,
                Ok(Some(_)) => {}
                Err(e) => {
                    warn!(session = %id, error = %e, "message delivery failed");
                    return Pause::Failed;
                }
            }
        }
        Pause::Empty
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
        self.store.mark_injected(message.id, now, ends).await?;
        if let Err(e) = self.messenger.write(id, &handle, &message.body).await {
            self.refuse(&message, &e.message).await?;
        }
        Ok(Some(Pause::Empty))
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
    const NAME: &'static str = "messages";

    fn wake(&self) -> &Notify {
        &self.wakeups.messages
    }

    fn workers(&self) -> &Arc<SessionWorkers> {
        &self.workers
    }

    async fn pending(&self) -> Result<Vec<SessionId>, StoreError> {
        self.store.sessions_with_queued_messages().await
    }

    async fn drain(self: Arc<Self>, id: SessionId, cancel: CancellationToken) {
        if let Pause::Failed = self.drain_messages(&id, &cancel).await {
            debug!(session = %id, "delivery paused after an error");
        }
    }
}
