//! An in-memory implementation of every store port, for unit tests: the reference semantics.
//!
//! It is faithful to the port contracts the SQLite store keeps: merge-patched records, a
//! revision bumped by exactly one per committed write, `Conflict` on a stale expected revision,
//! one change-log row per committed write, and tracker/queue changes in the same "transaction"
//! (one critical section under one mutex). Nothing survives the process.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;

use crate::domain::{
    Cause, ChangeEvent, EventType, LIFECYCLE_VERSION, Message, MessageState, NewMessage, Project,
    ProjectId, QueuedReaction, ReactionKey, ReactionRowKind, ScmFacts, SessionId, SessionRecord,
    Timestamp, Tracker,
};
use crate::ports::{
    Created, EVENTS_PAGE_MAX, EventLog, EventPage, MessageStore, NewSession, ProjectStore,
    ReactionStore, RecordReader, RecordWrite, RecordWriter, ScmSnapshotStore, StoreError,
    long_poll_events,
};

#[derive(Default)]
struct State {
    records: BTreeMap<SessionId, SessionRecord>,
    /// Highest number allocated (or seeded) per project.
    counters: HashMap<ProjectId, u64>,
    spawn_requests: HashMap<String, SessionId>,
    change_log: BTreeMap<i64, ChangeEvent>,
    last_event_seq: i64,
    /// Highest seq removed by pruning.
    pruned_through: i64,
    reactions: BTreeMap<i64, QueuedReaction>,
    last_reaction_seq: i64,
    trackers: BTreeMap<(SessionId, ReactionKey), Tracker>,
    messages: BTreeMap<i64, Message>,
    last_message_id: i64,
    snapshots: HashMap<SessionId, ScmFacts>,
    projects: BTreeMap<ProjectId, Project>,
}

impl State {
    fn log(
        &mut self,
        record: &SessionRecord,
        event_type: EventType,
        at: Timestamp,
        cause: Option<&Cause>,
    ) {
        self.last_event_seq += 1;
        let seq = self.last_event_seq;
        let mut payload = serde_json::json!({ "version": LIFECYCLE_VERSION, "record": record });
        if let Some(cause) = cause {
            payload["cause"] = serde_json::json!(cause);
        }
        self.change_log.insert(
            seq,
            ChangeEvent {
                seq,
                session_id: record.id.clone(),
                project_id: record.project_id.clone(),
                event_type,
                payload,
                created_at: at,
            },
        );
    }

    fn queue_reaction(&mut self, row: QueuedReaction) {
        self.last_reaction_seq += 1;
        let seq = self.last_reaction_seq;
        self.reactions.insert(seq, QueuedReaction { seq, ..row });
    }

    fn delete_trackers(&mut self, session: &SessionId, keys: &[ReactionKey]) {
        for key in keys {
            self.trackers.remove(&(session.clone(), *key));
        }
    }

    fn insert_message(&mut self, new: NewMessage, now: Timestamp) -> Message {
        self.last_message_id += 1;
        let message = Message::queued(self.last_message_id, new, now);
        self.messages.insert(message.id, message.clone());
        message
    }

    fn message_mut(&mut self, id: i64) -> Result<&mut Message, StoreError> {
        self.messages
            .get_mut(&id)
            .ok_or_else(|| StoreError::Backend(format!("message {id} not found")))
    }
}

/// Every store port in memory.
#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
    committed: Notify,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave a half-applied write: every mutation
        // below completes before the guard is dropped, so a poisoned state is still consistent.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The session's oldest message in `state` (ids grow with age).
    fn first_message(&self, session: &SessionId, state: MessageState) -> Option<Message> {
        self.lock()
            .messages
            .values()
            .find(|m| &m.session_id == session && m.state == state)
            .cloned()
    }
}

#[async_trait]
impl RecordReader for MemoryStore {
    async fn load(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        Ok(self.lock().records.get(id).cloned())
    }

    async fn list(&self, project: Option<&ProjectId>) -> Result<Vec<SessionRecord>, StoreError> {
        let st = self.lock();
        let mut out: Vec<_> = st
            .records
            .values()
            .filter(|r| project.is_none_or(|p| &r.project_id == p))
            .cloned()
            .collect();
        out.sort_by(|a, b| (&a.project_id, a.num).cmp(&(&b.project_id, b.num)));
        Ok(out)
    }

    async fn list_running(&self) -> Result<Vec<SessionRecord>, StoreError> {
        let st = self.lock();
        Ok(st
            .records
            .values()
            .filter(|r| !r.is_terminal())
            .cloned()
            .collect())
    }
}

#[async_trait]
impl RecordWriter for MemoryStore {
    async fn seed(&self, record: SessionRecord) -> Result<(), StoreError> {
        let mut st = self.lock();
        if st.records.contains_key(&record.id) {
            return Err(StoreError::AlreadyExists(record.id));
        }
        let counter = st.counters.entry(record.project_id.clone()).or_default();
        *counter = (*counter).max(record.num);
        let at = record.updated_at;
        st.log(&record, EventType::SessionCreated, at, None);
        st.records.insert(record.id.clone(), record);
        drop(st);
        self.committed.notify_waiters();
        Ok(())
    }

    async fn create(&self, new: NewSession) -> Result<Created, StoreError> {
        let mut st = self.lock();
        if let Some(request) = &new.spawn_request_id
            && let Some(id) = st.spawn_requests.get(request)
        {
            let record = st.records.get(id).cloned().ok_or_else(|| {
                StoreError::Backend(format!("spawn request {request} names missing {id}"))
            })?;
            return Ok(Created {
                record,
                existing: true,
            });
        }
        let project = new.project_id.clone();
        let request = new.spawn_request_id.clone();
        let cause = new.cause.clone();
        let mut num = st.counters.get(&project).copied().unwrap_or(0) + 1;
        while st
            .records
            .contains_key(&SessionId::allocated(&project, num))
        {
            num += 1;
        }
        st.counters.insert(project, num);
        let record = new.into_record(num);
        if let Some(request) = request {
            st.spawn_requests.insert(request, record.id.clone());
        }
        st.log(
            &record,
            EventType::SessionCreated,
            record.created_at,
            cause.as_ref(),
        );
        st.records.insert(record.id.clone(), record.clone());
        drop(st);
        self.committed.notify_waiters();
        Ok(Created {
            record,
            existing: false,
        })
    }

    async fn commit(&self, write: RecordWrite) -> Result<SessionRecord, StoreError> {
        let mut st = self.lock();
        let current = st
            .records
            .get(&write.id)
            .ok_or_else(|| StoreError::NotFound(write.id.clone()))?;
        if current.revision != write.expected_revision {
            return Err(StoreError::Conflict {
                id: write.id,
                expected: write.expected_revision,
            });
        }
        let mut next = write.patch.applied(current);
        next.revision += 1;
        next.updated_at = write.updated_at;
        st.log(&next, write.event, write.updated_at, write.cause.as_ref());
        st.delete_trackers(&write.id, &write.end_incidents);
        if let Some(key) = write.enqueue {
            st.queue_reaction(QueuedReaction::reaction(&next, key, write.updated_at));
        }
        st.records.insert(next.id.clone(), next.clone());
        drop(st);
        self.committed.notify_waiters();
        Ok(next)
    }

    async fn forget(&self, id: &SessionId, expected_revision: u64) -> Result<(), StoreError> {
        let mut st = self.lock();
        let current = st
            .records
            .get(id)
            .ok_or_else(|| StoreError::NotFound(id.clone()))?;
        if current.revision != expected_revision {
            return Err(StoreError::Conflict {
                id: id.clone(),
                expected: expected_revision,
            });
        }
        st.records.remove(id);
        st.spawn_requests.retain(|_, session| session != id);
        st.reactions.retain(|_, row| &row.session_id != id);
        st.trackers.retain(|(session, _), _| session != id);
        st.messages.retain(|_, message| &message.session_id != id);
        st.snapshots.remove(id);
        Ok(())
    }
}

#[async_trait]
impl ReactionStore for MemoryStore {
    async fn next_reaction(
        &self,
        session: &SessionId,
    ) -> Result<Option<QueuedReaction>, StoreError> {
        let st = self.lock();
        Ok(st
            .reactions
            .values()
            .find(|r| &r.session_id == session)
            .cloned())
    }

    async fn has_later_reaction(
        &self,
        session: &SessionId,
        seq: i64,
        key: ReactionKey,
    ) -> Result<bool, StoreError> {
        let st = self.lock();
        Ok(st.reactions.range(seq + 1..).any(|(_, r)| {
            &r.session_id == session && r.kind == ReactionRowKind::Reaction && r.key == key
        }))
    }

    async fn delete_reaction(&self, seq: i64) -> Result<(), StoreError> {
        self.lock().reactions.remove(&seq);
        Ok(())
    }

    async fn sessions_with_reactions(&self) -> Result<Vec<SessionId>, StoreError> {
        let st = self.lock();
        let mut ids: Vec<_> = st
            .reactions
            .values()
            .map(|r| r.session_id.clone())
            .collect();
        ids.sort();
        ids.dedup();
        Ok(ids)
    }

    async fn tracker(
        &self,
        session: &SessionId,
        key: ReactionKey,
    ) -> Result<Option<Tracker>, StoreError> {
        Ok(self.lock().trackers.get(&(session.clone(), key)).cloned())
    }

    async fn trackers(&self, session: &SessionId) -> Result<Vec<Tracker>, StoreError> {
        let st = self.lock();
        Ok(st
            .trackers
            .values()
            .filter(|t| &t.session_id == session)
            .cloned()
            .collect())
    }

    async fn save_tracker(&self, tracker: &Tracker) -> Result<(), StoreError> {
        let key = (tracker.session_id.clone(), tracker.key);
        self.lock().trackers.insert(key, tracker.clone());
        Ok(())
    }

    async fn commit_nudge(
        &self,
        tracker: &Tracker,
        nudge: NewMessage,
        now: Timestamp,
    ) -> Result<Message, StoreError> {
        let mut st = self.lock();
        st.trackers
            .insert((tracker.session_id.clone(), tracker.key), tracker.clone());
        Ok(st.insert_message(nudge, now))
    }

    async fn escalate_due(
        &self,
        now: Timestamp,
        budgets: &[(ReactionKey, Duration)],
    ) -> Result<Vec<Tracker>, StoreError> {
        let mut st = self.lock();
        let mut due = vec![];
        for tracker in st.trackers.values_mut() {
            let Some(&(_, budget)) = budgets.iter().find(|(k, _)| *k == tracker.key) else {
                continue;
            };
            let expired = tracker
                .first_attempt_at
                .is_some_and(|first| now.at_least_after(first, budget));
            if !tracker.escalated && !budget.is_zero() && expired {
                tracker.escalated = true;
                due.push(tracker.clone());
            }
        }
        for tracker in &due {
            st.queue_reaction(QueuedReaction::escalation(tracker, now));
        }
        Ok(due)
    }
}

#[async_trait]
impl MessageStore for MemoryStore {
    async fn enqueue_message(
        &self,
        new: NewMessage,
        now: Timestamp,
    ) -> Result<Message, StoreError> {
        Ok(self.lock().insert_message(new, now))
    }

    async fn message(&self, id: i64) -> Result<Option<Message>, StoreError> {
        Ok(self.lock().messages.get(&id).cloned())
    }

    async fn next_queued_message(
        &self,
        session: &SessionId,
    ) -> Result<Option<Message>, StoreError> {
        Ok(self.first_message(session, MessageState::Queued))
    }

    async fn sessions_with_queued_messages(&self) -> Result<Vec<SessionId>, StoreError> {
        let st = self.lock();
        let mut ids: Vec<_> = st
            .messages
            .values()
            .filter(|m| m.state == MessageState::Queued)
            .map(|m| m.session_id.clone())
            .collect();
        ids.sort();
        ids.dedup();
        Ok(ids)
    }

    async fn mark_injected(
        &self,
        id: i64,
        now: Timestamp,
        end_incidents: &[ReactionKey],
    ) -> Result<(), StoreError> {
        let mut st = self.lock();
        let message = st.message_mut(id)?;
        message.state = MessageState::Injected;
        message.attempts += 1;
        message.updated_at = now;
        let session = message.session_id.clone();
        st.delete_trackers(&session, end_incidents);
        Ok(())
    }

    async fn mark_acknowledged(&self, id: i64, now: Timestamp) -> Result<(), StoreError> {
        let mut st = self.lock();
        let message = st.message_mut(id)?;
        message.state = MessageState::Acknowledged;
        message.updated_at = now;
        Ok(())
    }

    async fn refuse_message(
        &self,
        id: i64,
        reason: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut st = self.lock();
        let message = st.message_mut(id)?;
        message.state = MessageState::Refused;
        message.reason = Some(reason.to_owned());
        message.updated_at = now;
        let session = message.session_id.clone();
        let Some(rollback) = message.rollback.clone() else {
            return Ok(());
        };
        if let Some(tracker) = st.trackers.get_mut(&(session, rollback.key)) {
            tracker.attempts = tracker.attempts.saturating_sub(1);
            if rollback.set_first_attempt {
                tracker.first_attempt_at = None;
            }
            if tracker.last_signature.as_deref() == Some(rollback.signature.as_str()) {
                tracker.last_signature = rollback.previous_signature;
            }
        }
        Ok(())
    }

    async fn oldest_injected_message(
        &self,
        session: &SessionId,
    ) -> Result<Option<Message>, StoreError> {
        Ok(self.first_message(session, MessageState::Injected))
    }
}

#[async_trait]
impl ScmSnapshotStore for MemoryStore {
    async fn put_scm_snapshot(
        &self,
        session: &SessionId,
        facts: &ScmFacts,
    ) -> Result<(), StoreError> {
        self.lock().snapshots.insert(session.clone(), facts.clone());
        Ok(())
    }

    async fn scm_snapshot(&self, session: &SessionId) -> Result<Option<ScmFacts>, StoreError> {
        Ok(self.lock().snapshots.get(session).cloned())
    }
}

#[async_trait]
impl EventLog for MemoryStore {
    async fn events_after(
        &self,
        after: i64,
        limit: usize,
        wait: Duration,
        session: Option<&SessionId>,
    ) -> Result<EventPage, StoreError> {
        // Every commit wakes `committed`: no need to look without a wake-up.
        long_poll_events(&self.committed, None, after, limit, wait, |limit| {
            let st = self.lock();
            let events: Vec<ChangeEvent> = st
                .change_log
                .range(after + 1..)
                .map(|(_, e)| e)
                .filter(|e| session.is_none_or(|s| &e.session_id == s))
                .take(limit)
                .cloned()
                .collect();
            std::future::ready(Ok((events, st.pruned_through)))
        })
        .await
    }

    async fn session_events(
        &self,
        session: &SessionId,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<ChangeEvent>, StoreError> {
        let st = self.lock();
        Ok(st
            .change_log
            .range(..before.unwrap_or(i64::MAX))
            .rev()
            .map(|(_, e)| e)
            .filter(|e| &e.session_id == session)
            .take(limit.min(EVENTS_PAGE_MAX))
            .cloned()
            .collect())
    }

    async fn prune_events(&self, before: Timestamp) -> Result<u64, StoreError> {
        let mut st = self.lock();
        let old: Vec<i64> = st
            .change_log
            .values()
            .filter(|e| e.created_at < before)
            .map(|e| e.seq)
            .collect();
        for seq in &old {
            st.change_log.remove(seq);
        }
        if let Some(&max) = old.iter().max() {
            st.pruned_through = st.pruned_through.max(max);
        }
        Ok(old.len() as u64)
    }
}

#[async_trait]
impl ProjectStore for MemoryStore {
    async fn add_project(&self, project: &Project) -> Result<(), StoreError> {
        let mut st = self.lock();
        if st.projects.contains_key(&project.id) {
            return Err(StoreError::ProjectExists(project.id.clone()));
        }
        st.projects.insert(project.id.clone(), project.clone());
        Ok(())
    }

    async fn project(&self, id: &ProjectId) -> Result<Option<Project>, StoreError> {
        Ok(self.lock().projects.get(id).cloned())
    }

    async fn projects(&self) -> Result<Vec<Project>, StoreError> {
        Ok(self.lock().projects.values().cloned().collect())
    }

    async fn remove_project(&self, id: &ProjectId) -> Result<bool, StoreError> {
        Ok(self.lock().projects.remove(id).is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::MemoryStore;

    async fn memory_store() -> (MemoryStore, ()) {
        (MemoryStore::new(), ())
    }

    crate::ports::store_contract::store_contract_tests!(memory_store);
}
