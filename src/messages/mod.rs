//! Message delivery: every text written into a pane — a user message, a reaction nudge, an
//! after-start prompt — is first a row of the session's durable queue, then written by that
//! session's one delivery worker, in order, through the session guard.
//!
//! Per row: wait while a hook-capable agent is `active`; re-read the record and run the guard
//! (a refusal makes no pane write, and a refused nudge gives its attempt back in the same
//! transaction); refuse a nudge whose reaction key is no longer current; look at the input line
//! (below); mark the row `injected` (committed before the write, so a restart never types it
//! twice); write it: Enter follows as soon as the text shows (see `ports::Submit`). An injected
//! user message ends the session's `agent-idle` incident.
//!
//! Drafts: text is never typed into a draft the user left in the input line. While one is there,
//! the row waits (re-checked every `DELIVERY_POLL`, the send reply says why) until the line is
//! empty, or until the same draft has sat unchanged for the draft grace; then, or at once for
//! `send --force`, the draft is set aside: the line is cleared (and must read empty), the message
//! is sent, and once the line is empty again (after the confirmation loop, if any) the draft is
//! typed back without Enter. A draft that cannot be typed back within `RESTORE_WAIT` is logged
//! and returned to the sender. Someone typing while ao types is caught before Enter: the message
//! is then refused, not submitted.
//!
//! Then, for `deliver` rows to a confirm-capable agent (Claude Code reports both prompt submission
//! and permission dialogs), the confirmation loop that makes sure the agent took it: poll the
//! record every 300 ms for up to 2 s per round; `active`, or a `user-prompt-submit` hook that
//! already acknowledged the row by its hash → `acknowledged`; `blocked` → stop (an Enter could
//! answer the dialog); a silent round → guard, then Enter only, at most 3 Enters in all. The loop
//! never fails the delivery. Nudges are not confirmed: the reaction ladder has its own retries, and
//! an extra Enter after a nudge could submit a half-typed user prompt.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ao_core::input_line::{Composer, InputLine};

use async_trait::async_trait;
use tokio::sync::Notify;

use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use crate::decide::reactions::{GuardOutcome, guard, reaction_key_for};
use crate::domain::{
    ActivityState, Message, MessageMode, MessageState, ReactionKey, RuntimeHandle, SessionId,
    SessionRecord, Timestamp, meta,
};
use crate::lifecycle::{DraftNote, Lcm, Wakeups};
use crate::ports::{AgentCatalog, AgentMessenger, Clock, Store, StoreError, Submit};
use crate::workers::{Drained, SessionQueue, SessionWorkers, run_queue};

/// How often the dispatcher looks for queued messages without being woken.
pub const DELIVERY_POLL: Duration = Duration::from_secs(1);

/// The refusal reason of a nudge whose reaction is no longer current.
pub const STALE: &str = "stale";

/// Confirmation loop: poll interval, length of one round, Enters in total (the message's own
/// included).
pub const CONFIRM_POLL: Duration = Duration::from_millis(300);
pub const CONFIRM_ROUND: Duration = Duration::from_secs(2);
pub const CONFIRM_ENTERS: u32 = 3;

/// How long a draft set aside may take to be typed back: the input line must come back empty
/// (the agent took the message and shows its prompt again).
pub const RESTORE_WAIT: Duration = Duration::from_secs(10);
/// How often the input line is read while waiting to type a draft back.
pub const RESTORE_POLL: Duration = Duration::from_millis(50);

/// The default of `[delivery] draft_grace`: how long an unchanged draft holds messages back.
pub const DEFAULT_DRAFT_GRACE: Duration = Duration::from_secs(30);

/// The message delivery dispatcher and its per-session workers.
pub struct MessageDelivery {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    messenger: Arc<dyn AgentMessenger>,
    catalog: Arc<dyn AgentCatalog>,
    wakeups: Arc<Wakeups>,
    workers: Arc<SessionWorkers>,
    /// How long an unchanged draft holds a message back.
    draft_grace: Duration,
    /// The draft last seen in each session's input line, and since when it has not changed.
    drafts: Mutex<HashMap<SessionId, (String, Timestamp)>>,
}

/// What to do about the input line before typing.
enum Draft {
    /// Nothing in the way.
    None,
    /// A draft the message waits for.
    Wait,
    /// A draft to clear now and type back after the message.
    SetAside(String),
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
    /// A draft is in the input line; the dispatcher's poll looks again.
    Draft,
}

impl MessageDelivery {
    pub fn new(
        lcm: &Lcm,
        store: Arc<dyn Store>,
        messenger: Arc<dyn AgentMessenger>,
        catalog: Arc<dyn AgentCatalog>,
        draft_grace: Duration,
    ) -> Arc<Self> {
        Arc::new(Self {
            store,
            clock: lcm.clock().clone(),
            messenger,
            catalog,
            wakeups: lcm.wakeups().clone(),
            workers: Arc::default(),
            draft_grace,
            drafts: Mutex::default(),
        })
    }

    /// Dispatches until cancelled: on every wake-up (enqueue, commit) and every second, starts a
    /// worker for each session with queued messages. Rows left at shutdown stay queued.
    pub async fn run(self: Arc<Self>, cancel: CancellationToken) {
        run_queue(self, cancel, DELIVERY_POLL).await;
    }

    /// Delivers until the lane is empty, the agent is busy or a draft is in its input line; a
    /// store error stops the lane with its message still queued (the worker retries it after a
    /// backoff).
    async fn drain_messages(
        &self,
        id: &SessionId,
        cancel: &CancellationToken,
    ) -> Result<Drained, StoreError> {
        while !cancel.is_cancelled() {
            match self.deliver_next(id).await? {
                None => return Ok(Drained::Empty),
                Some(Pause::Busy | Pause::Draft) => return Ok(Drained::Paused),
                Some(Pause::Empty) => {}
            }
        }
        Ok(Drained::Paused)
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
        let capabilities = self.catalog.capabilities(&record.agent);
        let submit = capabilities.submit;
        let set_aside = match self.draft(id, &message, &handle, submit.composer).await {
            Draft::None => None,
            Draft::Wait => {
                self.wakeups.drafts.set(message.id, DraftNote::Waiting);
                return Ok(Some(Pause::Draft));
            }
            Draft::SetAside(draft) => {
                self.wakeups.drafts.set(message.id, DraftNote::SetAside);
                if let Err(why) = self.clear(id, &handle, submit.composer).await {
                    let reason = format!(
                        "the draft in the input line could not be cleared ({why}); nothing was \
                         typed. The draft was: {draft:?}"
                    );
                    self.wakeups.drafts.take(message.id);
                    self.refuse(&message, &reason).await?;
                    return Ok(Some(Pause::Empty));
                }
                Some(draft)
            }
        };
        let confirm = message.mode == MessageMode::Deliver
            && !message.body.trim().is_empty()
            && capabilities.confirm_capable;
        // Registered before the row turns `injected`, so a waiting sender never takes a message
        // still being typed, or not yet confirmed, for the final outcome.
        let _in_flight = self.wakeups.in_flight.begin(message.id);
        self.store.mark_injected(message.id, now, ends).await?;
        if let Err(e) = self
            .messenger
            .write(id, &handle, &message.body, submit)
            .await
        {
            let mut reason = e.message;
            if let Some(draft) = &set_aside {
                reason.push_str(&format!("; the draft set aside was: {draft:?}"));
                self.wakeups.drafts.take(message.id);
            }
            self.refuse(&message, &reason).await?;
            return Ok(Some(Pause::Empty));
        }
        if confirm {
            self.confirm(id, message.id, &handle, submit).await;
        }
        if let Some(draft) = set_aside {
            let note = self.restore(id, &handle, submit.composer, &draft).await;
            self.wakeups.drafts.set(message.id, note);
        } else {
            self.wakeups.drafts.take(message.id);
        }
        Ok(Some(Pause::Empty))
    }

    /// Looks at the input line: nothing in the way, a draft to wait for, or one to set aside
    /// (`force`, or unchanged for the grace). An input line that cannot be read is no draft.
    async fn draft(
        &self,
        id: &SessionId,
        message: &Message,
        handle: &RuntimeHandle,
        composer: Composer,
    ) -> Draft {
        let draft = match self.messenger.input_line(id, handle, composer).await {
            Ok(InputLine::Draft(draft)) => draft,
            Ok(InputLine::Empty | InputLine::Unseen) => {
                self.drafts().remove(id);
                return Draft::None;
            }
            Err(e) => {
                debug!(session = %id, error = %e, "input line unreadable; typing as before");
                self.drafts().remove(id);
                return Draft::None;
            }
        };
        if message.force {
            self.drafts().remove(id);
            return Draft::SetAside(draft);
        }
        let now = self.clock.now();
        let mut drafts = self.drafts();
        let since = match drafts.get(id) {
            Some((seen, since)) if *seen == draft => *since,
            _ => {
                drafts.insert(id.clone(), (draft, now));
                return Draft::Wait;
            }
        };
        if now.at_least_after(since, self.draft_grace) {
            drafts.remove(id);
            debug!(session = %id, "a draft unchanged for the grace is set aside");
            Draft::SetAside(draft)
        } else {
            Draft::Wait
        }
    }

    /// Clears the input line and checks it reads empty.
    async fn clear(
        &self,
        id: &SessionId,
        handle: &RuntimeHandle,
        composer: Composer,
    ) -> Result<(), String> {
        self.messenger
            .clear_input(id, handle, composer)
            .await
            .map_err(|e| e.message)?;
        let deadline = tokio::time::Instant::now() + RESTORE_WAIT;
        loop {
            match self.messenger.input_line(id, handle, composer).await {
                Ok(InputLine::Empty) => return Ok(()),
                Ok(other) if tokio::time::Instant::now() >= deadline => {
                    return Err(format!("the input line still reads {other:?}"));
                }
                Err(e) => return Err(e.message),
                Ok(_) => tokio::time::sleep(RESTORE_POLL).await,
            }
        }
    }

    /// Types a set-aside draft back once the input line is empty again.
    async fn restore(
        &self,
        id: &SessionId,
        handle: &RuntimeHandle,
        composer: Composer,
        draft: &str,
    ) -> DraftNote {
        let deadline = tokio::time::Instant::now() + RESTORE_WAIT;
        loop {
            match self.messenger.input_line(id, handle, composer).await {
                Ok(InputLine::Empty) => break,
                Ok(_) | Err(_) if tokio::time::Instant::now() >= deadline => {
                    warn!(session = %id, "the draft set aside could not be typed back: the input line did not come back empty");
                    return DraftNote::NotRestored(draft.to_owned());
                }
                _ => tokio::time::sleep(RESTORE_POLL).await,
            }
        }
        match self.messenger.type_text(id, handle, draft).await {
            Ok(()) => DraftNote::Restored,
            Err(e) => {
                warn!(session = %id, error = %e, "typing the draft back failed");
                DraftNote::NotRestored(draft.to_owned())
            }
        }
    }

    fn drafts(&self) -> std::sync::MutexGuard<'_, HashMap<SessionId, (String, Timestamp)>> {
        self.drafts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The confirmation loop; never fails (a store error ends it with a warning).
    async fn confirm(&self, id: &SessionId, message: i64, handle: &RuntimeHandle, submit: Submit) {
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
            if let Err(e) = self.messenger.write(id, handle, "", submit).await {
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
            .await?;
        self.wakeups.in_flight.ended.notify_waiters();
        Ok(())
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
    ) -> Result<Drained, StoreError> {
        self.drain_messages(&id, &cancel).await
    }
}

#[cfg(test)]
mod tests;
