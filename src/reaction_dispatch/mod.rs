//! Reaction dispatch: one worker per session drains that session's durable reaction queue in `seq`
//! order, outside any lock.
//!
//! Before executing a row the worker re-reads the record and drops the row when its key is no
//! longer `ReactionKeyFor(current)` (stale) or a later row of the same key exists (superseded).
//! `notify` reactions go to the notifier; `send-to-agent` reactions spend the incident's budget
//! and queue a nudge — tracker and message in one transaction, before anything reaches a pane —
//! which the message delivery worker writes through the session guard.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;

use tokio_util::sync::CancellationToken;
use tracing::debug;

use crate::decide::reactions::{
    ReactionAction, ReactionPolicies, budget_exhausted, escalation_event, nudge_message,
    nudge_signature, reaction_event, reaction_key_for,
};
use crate::domain::{
    NewMessage, QueuedReaction, ReactionKey, ReactionRowKind, SessionId, SessionRecord, Tracker,
    TrackerRollback,
};
use crate::lifecycle::{Lcm, Wakeups};
use crate::ports::{Clock, Notifier, Store, StoreError};
use crate::workers::{Drained, SessionQueue, SessionWorkers, run_queue};

/// How often the dispatcher looks for rows without being woken (catches other processes).
pub const DISPATCH_POLL: Duration = Duration::from_secs(1);

/// The reaction dispatcher and its per-session workers.
pub struct Reactions {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    notifier: Arc<dyn Notifier>,
    policies: ReactionPolicies,
    wakeups: Arc<Wakeups>,
    workers: Arc<SessionWorkers>,
    /// Every executed reaction row: (session, seq, key, revision of the re-read record).
    #[cfg(any(test, feature = "testkit"))]
    dispatched: std::sync::Mutex<Vec<(SessionId, i64, ReactionKey, u64)>>,
}

impl Reactions {
    /// Every reaction row executed so far: (session, seq, key, revision of the re-read record).
    #[cfg(any(test, feature = "testkit"))]
    pub fn dispatched(&self) -> Vec<(SessionId, i64, ReactionKey, u64)> {
        self.dispatched
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn new(lcm: &Lcm, store: Arc<dyn Store>, notifier: Arc<dyn Notifier>) -> Arc<Self> {
        Arc::new(Self {
            store,
            clock: lcm.clock().clone(),
            notifier,
            policies: lcm.policies().clone(),
            wakeups: lcm.wakeups().clone(),
            workers: Arc::default(),
            #[cfg(any(test, feature = "testkit"))]
            dispatched: Default::default(),
        })
    }

    /// Dispatches until cancelled: on every wake-up and every second, starts a worker for each
    /// session with queued rows. Workers finish the row they hold and stop at cancellation.
    pub async fn run(self: Arc<Self>, cancel: CancellationToken) {
        run_queue(self, cancel, DISPATCH_POLL).await;
    }

    /// Processes one session's rows in order until none are left. A store error stops the lane
    /// with its row still queued (the worker retries it after a backoff).
    async fn drain_rows(&self, id: SessionId, cancel: CancellationToken) -> Result<(), StoreError> {
        while !cancel.is_cancelled() {
            let Some(row) = self.store.next_reaction(&id).await? else {
                return Ok(());
            };
            self.process(&row).await?;
            self.store.delete_reaction(row.seq).await?;
        }
        Ok(())
    }

    /// Handles one row against the freshly re-read record.
    async fn process(&self, row: &QueuedReaction) -> Result<(), StoreError> {
        match row.kind {
            ReactionRowKind::Escalation => {
                let tracker = self.store.tracker(&row.session_id, row.key).await?;
                if let Some(tracker) = tracker.filter(|t| t.escalated) {
                    let event = escalation_event(&tracker, self.clock.now());
                    self.notifier.notify(event).await;
                }
                Ok(())
            }
            ReactionRowKind::Reaction => {
                let Some(record) = self.store.load(&row.session_id).await? else {
                    return Ok(());
                };
                if reaction_key_for(&record) != Some(row.key) {
                    debug!(session = %row.session_id, key = %row.key, "dropping stale reaction");
                    return Ok(());
                }
                if self
                    .store
                    .has_later_reaction(&row.session_id, row.seq, row.key)
                    .await?
                {
                    debug!(session = %row.session_id, key = %row.key, "dropping superseded reaction");
                    return Ok(());
                }
                #[cfg(any(test, feature = "testkit"))]
                self.dispatched.lock().unwrap().push((
                    row.session_id.clone(),
                    row.seq,
                    row.key,
                    record.revision,
                ));
                self.execute(row.key, &record).await
            }
        }
    }

    /// Executes a current reaction: notify, or count one attempt and queue a nudge (skipped when
    /// the same nudge was already delivered; escalated to a notification once the budget is spent).
    async fn execute(&self, key: ReactionKey, record: &SessionRecord) -> Result<(), StoreError> {
        let policy = self.policies.get(key);
        let now = self.clock.now();
        match policy.action {
            ReactionAction::Disabled | ReactionAction::AutoMerge => Ok(()),
            ReactionAction::Notify => {
                let event = reaction_event(key, record, policy.priority, now);
                self.notifier.notify(event).await;
                Ok(())
            }
            ReactionAction::SendToAgent => {
                let mut tracker = match self.store.tracker(&record.id, key).await? {
                    Some(t) => t,
                    None => Tracker {
                        session_id: record.id.clone(),
                        key,
                        project_id: record.project_id.clone(),
                        attempts: 0,
                        first_attempt_at: None,
                        escalated: false,
                        last_signature: None,
                    },
                };
                if tracker.escalated {
                    return Ok(());
                }
                let snapshot = self.store.scm_snapshot(&record.id).await?;
                let signature = nudge_signature(key, record, snapshot.as_ref());
                if tracker.last_signature.as_deref() == Some(signature.as_str()) {
                    debug!(session = %record.id, %key, "nudge already delivered (same signature)");
                    return Ok(());
                }
                tracker.attempts += 1;
                let set_first_attempt = tracker.first_attempt_at.is_none();
                if set_first_attempt {
                    tracker.first_attempt_at = Some(now);
                }
                if budget_exhausted(&policy, &tracker, now) {
                    tracker.escalated = true;
                    self.store.save_tracker(&tracker).await?;
                    self.notifier.notify(escalation_event(&tracker, now)).await;
                    return Ok(());
                }
                let rollback = TrackerRollback {
                    key,
                    set_first_attempt,
                    previous_signature: tracker.last_signature.replace(signature.clone()),
                    signature,
                };
                let nudge = NewMessage::nudge(
                    record.id.clone(),
                    nudge_message(key, record, snapshot.as_ref()),
                    rollback,
                );
                self.store.commit_nudge(&tracker, nudge, now).await?;
                self.wakeups.messages.notify_one();
                Ok(())
            }
        }
    }

    /// True when no reaction row is queued and no worker holds one.
    pub async fn is_idle(&self) -> Result<bool, StoreError> {
        Ok(self.workers.is_idle() && self.store.sessions_with_reactions().await?.is_empty())
    }
}

#[async_trait]
impl SessionQueue for Reactions {
    const NAME: &'static str = "reaction dispatch";

    fn wake(&self) -> &Notify {
        &self.wakeups.reactions
    }

    fn workers(&self) -> &Arc<SessionWorkers> {
        &self.workers
    }

    async fn pending(&self) -> Result<Vec<SessionId>, StoreError> {
        self.store.sessions_with_reactions().await
    }

    async fn drain(
        self: Arc<Self>,
        id: SessionId,
        cancel: CancellationToken,
    ) -> Result<Drained, StoreError> {
        self.drain_rows(id, cancel).await.map(|()| Drained::Empty)
    }
}
