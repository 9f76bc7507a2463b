//! The Lifecycle Manager (LCM): the only writer of session records.
//!
//! Every entry point runs the same pipeline: take the session's in-process lock, load the record,
//! run the pure planner of `decide::transitions`, and commit the sparse patch with the revision it
//! loaded. The store checks that revision in the same statement that writes, so a write that lost
//! a race (another task, another daemon) gets `Conflict` and the whole load → decide → write is
//! re-run, at most five times. The commit carries, in the same transaction, the change-log row
//! (with the write's `Cause`: the observer and the facts the entry point was given), the
//! trackers whose incident ended, and the reaction row when the reaction key changed;
//! reactions are never run on the caller's task, only woken.

mod locks;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

use crate::decide::reactions::{ReactionPolicies, ended_incidents, reaction_to_enqueue};
use crate::decide::transitions::{
    ActiveSession, classify_write, initial_lifecycle, plan_activity_signal, plan_kill, plan_reopen,
    plan_revert, plan_runtime_observation, plan_scm_observation, plan_spawn_completed,
    runtime_cause, stamp_end,
};
use crate::decide::{FlightState, gate_signal};
use crate::domain::{
    ActivitySignal, Cause, IssueId, KillReason, Launch, LifecyclePatch, Metadata, PrReason,
    ProjectId, RuntimeFacts, ScmFacts, SessionId, SessionKind, SessionRecord, SpawnOutcome,
    Timestamp, meta,
};
use crate::ports::{
    Clock, Created, NewSession, ReactionStore, RecordWrite, RecordWriter, StoreError,
};

use locks::KeyedLocks;

/// Write attempts before the LCM gives up with `Conflict`.
pub const LCM_WRITE_ATTEMPTS: u32 = 5;

/// Errors of the LCM.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LcmError {
    /// A store failure, including `Conflict` after five conflicting attempts.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// `OnSpawnCompleted` for a record that does not exist.
    #[error("session {0} was never seeded")]
    UnseededSession(SessionId),
    /// A reopen over a session that is not terminal.
    #[error("session {0} is still active")]
    ActiveSession(SessionId),
}

/// The result of an `Apply*` or kill entry point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// Committed; the record after the write.
    Changed(Box<SessionRecord>),
    /// A no-op: nothing written, no revision change, no change-log row, no reaction.
    Unchanged,
    /// No record has this id; nothing was created.
    UnknownSession,
}

impl Applied {
    pub fn changed(&self) -> Option<&SessionRecord> {
        match self {
            Applied::Changed(r) => Some(r),
            _ => None,
        }
    }
}

/// What a new session starts with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSessionSpec {
    pub project_id: ProjectId,
    pub issue_id: Option<IssueId>,
    pub kind: SessionKind,
    pub agent: String,
    pub branch: String,
    pub prompt: String,
    pub spawn_request_id: Option<String>,
    /// Further metadata to record at creation (e.g. the launch options).
    pub extra_metadata: Metadata,
}

/// The three ways `OnSpawnInitiated` writes: create a record, reopen a terminal one, or revert to
/// an earlier one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpawnInitiation {
    /// A new record; the store allocates the id.
    Create(NewSessionSpec),
    /// Restore: a terminal record becomes `not_started` with a new launch.
    Reopen(SessionId),
    /// Undo a failed restore: back to the lifecycle, launch and metadata of this earlier record.
    Revert(SessionRecord),
}

/// Wake-ups for the loops that react to commits, and what a caller waiting on a message needs
/// to know about the delivery worker.
#[derive(Debug, Default)]
pub struct Wakeups {
    /// The reaction dispatcher.
    pub reactions: Notify,
    /// The message delivery dispatcher (queued messages, activity changes).
    pub messages: Notify,
    /// Messages the delivery worker is still writing, confirming or typing a draft back after;
    /// a waiting `Send` is woken when one ends.
    pub in_flight: Arc<InFlight>,
    /// What the delivery worker did about a draft in the input line, per message.
    pub drafts: DraftNotes,
}

/// What happened to a draft the user left in the input line, for the message it concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DraftNote {
    /// The message is queued behind a draft (waiting for it to be sent, cleared or left alone
    /// for the grace).
    Waiting,
    /// The draft is cleared and is typed back once the message is in (a waiting sender waits
    /// for the outcome).
    SetAside,
    /// The draft was cleared, the message sent, and the draft typed back.
    Restored,
    /// The draft was cleared and the message sent, but the draft could not be typed back (the
    /// input line did not come back empty): this is its text.
    NotRestored(String),
}

/// Draft notes by message id, in memory (a restart forgets them); the oldest go beyond
/// `MAX_DRAFT_NOTES`, so notes nobody waits for cannot pile up.
#[derive(Debug, Default)]
pub struct DraftNotes(Mutex<std::collections::BTreeMap<i64, DraftNote>>);

/// The most draft notes kept.
pub const MAX_DRAFT_NOTES: usize = 1024;

impl DraftNotes {
    pub fn set(&self, message: i64, note: DraftNote) {
        let mut notes = self.lock();
        notes.insert(message, note);
        while notes.len() > MAX_DRAFT_NOTES {
            notes.pop_first();
        }
    }

    pub fn get(&self, message: i64) -> Option<DraftNote> {
        self.lock().get(&message).cloned()
    }

    /// Removes and returns the note (a final outcome reports it once).
    pub fn take(&self, message: i64) -> Option<DraftNote> {
        self.lock().remove(&message)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::BTreeMap<i64, DraftNote>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The ids of messages the delivery worker is still handling after it marked them injected:
/// typing, pressing Enter, the confirmation loop (the re-sent Enters that wait for the agent to
/// take the message) and a draft typed back. A waiting `Send` reports `injected` only once that
/// ended, and is woken (`ended`) when it does. In memory on purpose: a restart ends every flight.
#[derive(Debug, Default)]
pub struct InFlight {
    ids: Mutex<std::collections::HashSet<i64>>,
    /// Woken whenever a flight ends or a queued message is refused.
    pub ended: Notify,
}

impl InFlight {
    /// Marks `message` in flight until the returned guard drops.
    pub fn begin(self: &Arc<Self>, message: i64) -> InFlightGuard {
        self.lock().insert(message);
        InFlightGuard {
            set: self.clone(),
            message,
        }
    }

    pub fn contains(&self, message: i64) -> bool {
        self.lock().contains(&message)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::HashSet<i64>> {
        self.ids.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Ends a message's flight when dropped (also on an early return or a cancelled task) and wakes
/// the senders waiting for an outcome.
#[derive(Debug)]
pub struct InFlightGuard {
    set: Arc<InFlight>,
    message: i64,
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        self.set.lock().remove(&self.message);
        self.set.ended.notify_waiters();
    }
}

impl Wakeups {
    pub fn after_commit(&self) {
        self.reactions.notify_one();
        self.messages.notify_one();
    }
}

/// The Lifecycle Manager.
pub struct Lcm {
    records: Arc<dyn RecordWriter>,
    trackers: Arc<dyn ReactionStore>,
    clock: Arc<dyn Clock>,
    policies: ReactionPolicies,
    locks: KeyedLocks<SessionId>,
    /// Hook-gate flight state per session; in memory on purpose.
    flights: Mutex<HashMap<SessionId, FlightState>>,
    wakeups: Arc<Wakeups>,
}

/// One pass of the pipeline.
enum Attempt {
    Done(Applied),
    Conflict(StoreError),
}

impl Lcm {
    /// `records` holds the session records; `trackers` the incident trackers escalated by
    /// `tick_escalations`. One backend usually serves both.
    pub fn new(
        records: Arc<dyn RecordWriter>,
        trackers: Arc<dyn ReactionStore>,
        clock: Arc<dyn Clock>,
        policies: ReactionPolicies,
        wakeups: Arc<Wakeups>,
    ) -> Self {
        Self {
            records,
            trackers,
            clock,
            policies,
            locks: KeyedLocks::default(),
            flights: Mutex::default(),
            wakeups,
        }
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    pub fn policies(&self) -> &ReactionPolicies {
        &self.policies
    }

    pub fn wakeups(&self) -> &Arc<Wakeups> {
        &self.wakeups
    }

    /// Load → plan → compare-and-swap, once. `plan` returning `Ok(None)` is a no-op; `cause`
    /// names what caused a planned write, for its change-log row.
    async fn attempt<F, C>(
        &self,
        id: &SessionId,
        enqueue: bool,
        plan: &mut F,
        cause: &C,
    ) -> Result<Attempt, LcmError>
    where
        F: FnMut(&SessionRecord, Timestamp) -> Result<Option<LifecyclePatch>, LcmError>,
        C: Fn(&SessionRecord, Timestamp) -> Cause,
    {
        let Some(cur) = self.records.load(id).await? else {
            return Ok(Attempt::Done(Applied::UnknownSession));
        };
        let now = self.clock.now();
        let Some(patch) = plan(&cur, now)?.filter(|p| !p.is_empty()) else {
            return Ok(Attempt::Done(Applied::Unchanged));
        };
        let patch = stamp_end(&cur, patch, now);
        let next = patch.applied(&cur);
        let write = RecordWrite {
            id: id.clone(),
            expected_revision: cur.revision,
            event: classify_write(&cur, &next),
            updated_at: now,
            end_incidents: ended_incidents(&next),
            enqueue: if enqueue {
                reaction_to_enqueue(&cur, &next)
            } else {
                None
            },
            cause: Some(cause(&cur, now)),
            patch,
        };
        match self.records.commit(write).await {
            Ok(record) => {
                self.wakeups.after_commit();
                Ok(Attempt::Done(Applied::Changed(Box::new(record))))
            }
            Err(e @ StoreError::Conflict { .. }) => Ok(Attempt::Conflict(e)),
            Err(e) => Err(e.into()),
        }
    }

    /// The write pipeline (lock, load, plan, compare-and-swap commit) with up to five attempts.
    async fn pipeline<F, C>(
        &self,
        id: &SessionId,
        enqueue: bool,
        plan: F,
        cause: C,
    ) -> Result<Applied, LcmError>
    where
        F: FnMut(&SessionRecord, Timestamp) -> Result<Option<LifecyclePatch>, LcmError>,
        C: Fn(&SessionRecord, Timestamp) -> Cause,
    {
        self.pipeline_then(id, enqueue, plan, cause, || {}).await
    }

    /// The pipeline, running `finished` once the outcome is known, still under the session lock.
    async fn pipeline_then<F, C, D>(
        &self,
        id: &SessionId,
        enqueue: bool,
        mut plan: F,
        cause: C,
        finished: D,
    ) -> Result<Applied, LcmError>
    where
        F: FnMut(&SessionRecord, Timestamp) -> Result<Option<LifecyclePatch>, LcmError>,
        C: Fn(&SessionRecord, Timestamp) -> Cause,
        D: FnOnce(),
    {
        let mut last_conflict = None;
        for attempt in 1..=LCM_WRITE_ATTEMPTS {
            let guard = self.locks.lock(id).await;
            match self.attempt(id, enqueue, &mut plan, &cause).await? {
                Attempt::Done(applied) => {
                    finished();
                    return Ok(applied);
                }
                Attempt::Conflict(e) => {
                    drop(guard);
                    last_conflict = Some(e);
                    backoff(attempt).await;
                }
            }
        }
        Err(conflict(id, last_conflict))
    }

    /// `ApplyRuntimeObservation`: unknown ids and stale launches are no-ops.
    pub async fn apply_runtime_observation(
        &self,
        id: &SessionId,
        facts: &RuntimeFacts,
    ) -> Result<Applied, LcmError> {
        let observed = |now: Timestamp| facts.observed_at.unwrap_or(now);
        self.pipeline(
            id,
            true,
            |cur, now| Ok(plan_runtime_observation(cur, facts, observed(now))),
            |cur, now| runtime_cause(cur, facts, observed(now)),
        )
        .await
    }

    /// `ApplyRuntimeObservation` for a caller that already holds a recent snapshot of the
    /// record (the reaper, from `running_sessions`): when the plan on the snapshot is a no-op,
    /// nothing is loaded or written. Anything else goes through the full pipeline, so a write
    /// is always decided on the freshly loaded record; a snapshot that is stale by a few
    /// milliseconds can only delay a change to the next observation.
    pub async fn apply_runtime_observation_from(
        &self,
        snapshot: &SessionRecord,
        facts: &RuntimeFacts,
    ) -> Result<Applied, LcmError> {
        let now = facts.observed_at.unwrap_or_else(|| self.clock.now());
        if plan_runtime_observation(snapshot, facts, now).is_none() {
            return Ok(Applied::Unchanged);
        }
        self.apply_runtime_observation(&snapshot.id, facts).await
    }

    /// `ApplySCMObservation`: `fetched = false` is a no-op.
    pub async fn apply_scm_observation(
        &self,
        id: &SessionId,
        facts: &ScmFacts,
    ) -> Result<Applied, LcmError> {
        self.pipeline(
            id,
            true,
            |cur, _| Ok(plan_scm_observation(cur, facts)),
            |_, _| Cause::scm(facts),
        )
        .await
    }

    /// `ApplyActivitySignal`, behind the hook activity gate. An unknown id gives
    /// `Applied::UnknownSession`. The gate's bookkeeping is computed by the (re-runnable) plan and
    /// stored once, under the session lock, when the pipeline finishes.
    pub async fn apply_activity_signal(
        &self,
        id: &SessionId,
        signal: &ActivitySignal,
    ) -> Result<Applied, LcmError> {
        let flight_after: Mutex<Option<FlightState>> = Mutex::new(None);
        let plan = |cur: &SessionRecord, now: Timestamp| {
            let flight = self.flight_for(id, &cur.launch.id);
            let (allowed, next_flight) = gate_signal(cur.lifecycle.activity.state, &flight, signal);
            let planned = plan_activity_signal(cur, signal, allowed, now);
            // A stale launch or a moved revision ignores the signal entirely.
            *lock(&flight_after) = planned.is_ok().then_some(next_flight);
            Ok(planned.unwrap_or(None))
        };
        let store_flight = || {
            if let Some(flight) = lock(&flight_after).take() {
                lock(&self.flights).insert(id.clone(), flight);
            }
        };
        self.pipeline_then(id, true, plan, |_, _| Cause::signal(signal), store_flight)
            .await
    }

    /// The flight state of a session's current launch (fresh for a new launch).
    fn flight_for(&self, id: &SessionId, launch_id: &str) -> FlightState {
        match lock(&self.flights).get(id) {
            Some(f) if f.launch_id == launch_id => f.clone(),
            _ => FlightState::for_launch(launch_id),
        }
    }

    /// `OnSpawnInitiated`: create, reopen or revert. Never enqueues a reaction.
    pub async fn on_spawn_initiated(&self, init: SpawnInitiation) -> Result<Created, LcmError> {
        match init {
            SpawnInitiation::Create(spec) => {
                let now = self.clock.now();
                let mut metadata = spec.extra_metadata.clone();
                for (key, value) in [(meta::BRANCH, &spec.branch), (meta::PROMPT, &spec.prompt)] {
                    metadata.insert(key.to_owned(), value.clone());
                }
                metadata.retain(|_, v| !v.is_empty());
                let created = self
                    .records
                    .create(NewSession {
                        project_id: spec.project_id,
                        issue_id: spec.issue_id,
                        kind: spec.kind,
                        agent: spec.agent,
                        lifecycle: initial_lifecycle(PrReason::NotCreated),
                        launch: Launch {
                            id: new_launch_id(),
                            started_at: None,
                            first_signal_at: None,
                        },
                        metadata,
                        created_at: now,
                        spawn_request_id: spec.spawn_request_id,
                        cause: Some(Cause::Spawn),
                    })
                    .await?;
                if !created.existing {
                    self.wakeups.after_commit();
                }
                Ok(created)
            }
            SpawnInitiation::Reopen(id) => {
                let launch_id = new_launch_id();
                let applied = self
                    .pipeline(
                        &id,
                        false,
                        |cur, _| {
                            plan_reopen(cur, launch_id.clone())
                                .map(Some)
                                .map_err(|ActiveSession| LcmError::ActiveSession(id.clone()))
                        },
                        |_, _| Cause::Restore,
                    )
                    .await?;
                self.expect_record(&id, applied).await
            }
            SpawnInitiation::Revert(earlier) => {
                let id = earlier.id.clone();
                let applied = self
                    .pipeline(
                        &id,
                        false,
                        |_, _| Ok(Some(plan_revert(&earlier))),
                        |_, _| Cause::Revert,
                    )
                    .await?;
                self.expect_record(&id, applied).await
            }
        }
    }

    async fn expect_record(&self, id: &SessionId, applied: Applied) -> Result<Created, LcmError> {
        let record = match applied {
            Applied::Changed(record) => *record,
            Applied::Unchanged => self
                .records
                .load(id)
                .await?
                .ok_or_else(|| StoreError::NotFound(id.clone()))?,
            Applied::UnknownSession => return Err(StoreError::NotFound(id.clone()).into()),
        };
        Ok(Created {
            record,
            existing: false,
        })
    }

    /// `OnSpawnCompleted`: the runtime exists. Unknown id → `UnseededSession`.
    pub async fn on_spawn_completed(
        &self,
        id: &SessionId,
        outcome: &SpawnOutcome,
    ) -> Result<SessionRecord, LcmError> {
        let applied = self
            .pipeline(
                id,
                false,
                |cur, now| Ok(Some(plan_spawn_completed(cur, outcome, now))),
                |_, _| Cause::launch(outcome),
            )
            .await?;
        match applied {
            Applied::UnknownSession => Err(LcmError::UnseededSession(id.clone())),
            other => Ok(self.expect_record(id, other).await?.record),
        }
    }

    /// `OnKillRequested`: explicit terminal authority. Unknown or already terminal → no-op. The
    /// commit deletes every tracker of the session and enqueues nothing.
    pub async fn on_kill_requested(
        &self,
        id: &SessionId,
        reason: &KillReason,
    ) -> Result<Applied, LcmError> {
        self.pipeline(
            id,
            false,
            |cur, _| Ok(plan_kill(cur, reason)),
            |_, _| Cause::kill(reason),
        )
        .await
    }

    /// `TickEscalations(now)`: escalates trackers whose time budget ran out, queuing one escalation
    /// row each. Never writes session records. Returns how many escalated.
    pub async fn tick_escalations(&self, now: Timestamp) -> Result<usize, LcmError> {
        let due = self
            .trackers
            .escalate_due(now, &self.policies.time_budgets())
            .await?;
        if !due.is_empty() {
            self.wakeups.reactions.notify_one();
        }
        Ok(due.len())
    }

    /// Drops an ended session's record (its change-log rows stay). A session that is not
    /// terminal is refused with `ActiveSession`; an unknown id is `UnknownSession`.
    pub async fn forget(&self, id: &SessionId) -> Result<Applied, LcmError> {
        let _guard = self.locks.lock(id).await;
        let Some(record) = self.records.load(id).await? else {
            return Ok(Applied::UnknownSession);
        };
        if !record.is_terminal() {
            return Err(LcmError::ActiveSession(id.clone()));
        }
        self.records.forget(id, record.revision).await?;
        Ok(Applied::Changed(Box::new(record)))
    }

    /// `RunningSessions()`: every record whose session state is not terminal.
    pub async fn running_sessions(&self) -> Result<Vec<SessionRecord>, LcmError> {
        Ok(self.records.list_running().await?)
    }
}

/// Locks a std mutex, ignoring poisoning: every critical section here completes its update.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The error after the last attempt lost its compare-and-swap.
fn conflict(id: &SessionId, last: Option<StoreError>) -> LcmError {
    LcmError::Store(last.unwrap_or_else(|| StoreError::Conflict {
        id: id.clone(),
        expected: 0,
    }))
}

/// A small jittered pause (1–10 ms × attempt) before retrying a lost compare-and-swap.
async fn backoff(attempt: u32) {
    let millis = fastrand::u64(1..=10) * u64::from(attempt);
    tokio::time::sleep(Duration::from_millis(millis)).await;
}

/// A fresh launch generation id (UUIDv4).
pub fn new_launch_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
