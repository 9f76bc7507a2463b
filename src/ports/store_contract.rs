//! The store contract: behaviour every `Store` backend must show, written once and run against
//! each backend (`store_contract_tests!(factory)` in the backend's test module).
//!
//! The in-memory store is the reference; the SQLite store must be indistinguishable from it
//! through the ports. Scenario names (K6, R11, U10) are those of the spec's catalog.

use std::time::Duration;

use crate::domain::{
    ActivityAxis, ActivitySource, ActivityState, Cause, ChangeEvent, CiSummary, DetectingMemory,
    EventType, FailedCheck, IssueId, KillKind, KillReason, Launch, LifecyclePatch, Message,
    MessageMode, MessageState, Metadata, NewMessage, PendingComment, PrAxis, PrReason, PrState,
    Project, ProjectId, ProjectSettings, QueuedReaction, ReactionKey, ReactionRowKind,
    ReviewDecision, RuntimeAxis, RuntimeReason, RuntimeState, ScmFacts, SessionAxis, SessionId,
    SessionKind, SessionReason, SessionRecord, SessionState, Timestamp, Tracker, TrackerRollback,
    meta,
};
use crate::fixtures::{lc, mins, secs, t0};
use crate::ports::{Backend, EventPage, NewSession, RecordWrite, StoreError};

/// Instantiates every contract case for one backend, on both runtime flavours. `$make` names an `async fn() -> (S, G)`
/// returning a fresh, empty store and a guard kept alive for the test (a temp dir, say).
#[macro_export]
macro_rules! store_contract_tests {
    ($make:path) => {
        mod store_contract {
            use super::*;
            $crate::ports::store_contract::store_contract_tests!(@cases $make;
                k6_cas,
                create_allocates_ids,
                seeded_ids_are_never_allocated,
                spawn_request_id_is_idempotent,
                commit_merges_and_logs,
                change_log_keeps_every_event_type,
                u10_lost_cas_leaves_nothing,
                list_orders,
                reaction_queue,
                trackers,
                escalate_due,
                message_lifecycle,
                refused_nudge_gives_the_attempt_back,
                refused_nudge_keeps_a_newer_signature,
                refused_nudge_after_incident_ended,
                snapshots,
                projects,
                r11_events_in_order,
                r11_waiting_reader_wakes_on_commit,
                r11_truncated_after_prune,
                session_events_newest_first,
                forget_drops_the_record_and_keeps_its_history,
            );
        }
    };
    // Each case on both runtime flavours: a backend may block differently on each (the SQLite
    // store uses `spawn_blocking` on one, `block_in_place` on the other).
    (@cases $make:path; $($case:ident),+ $(,)?) => {
        $(
            mod $case {
                use super::*;

                async fn run() {
                    // The guard (a temp dir, say) outlives the store.
                    let (store, _guard) = $make().await;
                    $crate::ports::store_contract::$case(&store).await;
                    drop(store);
                }

                #[tokio::test]
                async fn current_thread() {
                    run().await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn multi_thread() {
                    run().await;
                }
            }
        )+
    };
}
pub use crate::store_contract_tests;

fn sid(s: &str) -> SessionId {
    SessionId::parse(s).unwrap()
}

fn pid(s: &str) -> ProjectId {
    ProjectId::parse(s).unwrap()
}

/// `lc(working, task_in_progress, alive)` with the given id, project and number.
fn record(id: &str, project: &str, num: u64) -> SessionRecord {
    let mut r = lc(
        SessionState::Working,
        SessionReason::TaskInProgress,
        RuntimeState::Alive,
    );
    r.id = sid(id);
    r.project_id = pid(project);
    r.num = num;
    r
}

fn new_session(project: &str, request: Option<&str>) -> NewSession {
    NewSession {
        project_id: pid(project),
        issue_id: Some(IssueId::parse("GH-17").unwrap()),
        kind: SessionKind::Worker,
        agent: "claude-code".to_owned(),
        lifecycle: lc(
            SessionState::NotStarted,
            SessionReason::SpawnRequested,
            RuntimeState::Unknown,
        )
        .lifecycle,
        launch: Launch {
            id: "L1".to_owned(),
            started_at: None,
            first_signal_at: None,
        },
        metadata: Metadata::from([
            (meta::BRANCH.to_owned(), "ao/feature".to_owned()),
            (meta::PROMPT.to_owned(), "fix the bug".to_owned()),
        ]),
        created_at: t0(),
        spawn_request_id: request.map(str::to_owned),
        cause: None,
    }
}

fn write(id: &SessionId, expected: u64, patch: LifecyclePatch, event: EventType) -> RecordWrite {
    RecordWrite {
        id: id.clone(),
        expected_revision: expected,
        patch,
        event,
        updated_at: t0().plus(secs(expected)),
        end_incidents: vec![],
        enqueue: None,
        cause: None,
    }
}

/// An `active` activity signal at `at`, as the LCM writes it.
fn activity_write(id: &SessionId, expected: u64, at: Timestamp) -> RecordWrite {
    let patch = LifecyclePatch {
        activity: Some(ActivityAxis {
            state: Some(ActivityState::Active),
            last_activity_at: Some(at),
            source: ActivitySource::Hook,
        }),
        ..Default::default()
    };
    RecordWrite {
        updated_at: at,
        ..write(id, expected, patch, EventType::SessionActivityUpdated)
    }
}

fn session_patch(state: SessionState, reason: SessionReason) -> LifecyclePatch {
    LifecyclePatch {
        session: Some(SessionAxis::new(state, reason)),
        ..Default::default()
    }
}

async fn all_events(store: &dyn Backend) -> Vec<ChangeEvent> {
    let page = store
        .events_after(0, 512, Duration::ZERO, None)
        .await
        .unwrap();
    page.events
}

fn tracker(session: &str, key: ReactionKey) -> Tracker {
    Tracker {
        session_id: sid(session),
        key,
        project_id: pid("proj"),
        attempts: 1,
        first_attempt_at: Some(t0()),
        escalated: false,
        last_signature: Some(format!("sig-{key}")),
    }
}

fn deliver(session: &str, body: &str) -> NewMessage {
    NewMessage::deliver(sid(session), body)
}

fn ids(records: &[SessionRecord]) -> Vec<&str> {
    records.iter().map(|r| r.id.as_str()).collect()
}

/// True when any object in `value` has a key `status`.
fn has_status_key(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::Object(map) => {
            map.contains_key("status") || map.values().any(has_status_key)
        }
        serde_json::Value::Array(items) => items.iter().any(has_status_key),
        _ => false,
    }
}

/// K6: a stale expected revision is `Conflict` (not `NotFound`, not `Backend`) and writes
/// nothing; the right one bumps the revision by one; a missing id is `NotFound`.
pub async fn k6_cas(store: &dyn Backend) {
    store.seed(record("proj-1", "proj", 1)).await.unwrap();
    let id = sid("proj-1");
    let before = store.load(&id).await.unwrap().unwrap();

    let err = store
        .commit(activity_write(&id, 99, t0()))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        StoreError::Conflict {
            id: id.clone(),
            expected: 99
        }
    );
    assert_eq!(store.load(&id).await.unwrap().unwrap(), before);
    assert_eq!(all_events(store).await.len(), 1, "only the seed is logged");

    let after = store.commit(activity_write(&id, 1, t0())).await.unwrap();
    assert_eq!(after.revision, 2);
    assert_eq!(after.lifecycle.activity.state, Some(ActivityState::Active));
    assert_eq!(store.load(&id).await.unwrap(), Some(after));

    let missing = sid("proj-9");
    assert_eq!(
        store
            .commit(activity_write(&missing, 1, t0()))
            .await
            .unwrap_err(),
        StoreError::NotFound(missing.clone())
    );
    assert_eq!(store.load(&missing).await.unwrap(), None);
}

/// Ids are `<project>-<n>` from 1 per project; records start at revision 1.
pub async fn create_allocates_ids(store: &dyn Backend) {
    let a = store.create(new_session("p", None)).await.unwrap();
    assert!(!a.existing);
    assert_eq!(a.record.id, sid("p-1"));
    assert_eq!((a.record.num, a.record.revision), (1, 1));
    assert_eq!((a.record.created_at, a.record.updated_at), (t0(), t0()));
    assert_eq!(a.record.metadata, new_session("p", None).metadata);
    assert_eq!(store.load(&a.record.id).await.unwrap(), Some(a.record));

    let b = store.create(new_session("p", None)).await.unwrap();
    assert_eq!(b.record.id, sid("p-2"));
    let q = store.create(new_session("q", None)).await.unwrap();
    assert_eq!(q.record.id, sid("q-1"));

    let events = all_events(store).await;
    assert_eq!(events.len(), 3);
    assert!(
        events
            .iter()
            .all(|e| e.event_type == EventType::SessionCreated)
    );
}

/// Seeding moves the project's counter past the seeded number (never back), and an id that a
/// seeded record already holds is skipped.
pub async fn seeded_ids_are_never_allocated(store: &dyn Backend) {
    store.create(new_session("p", None)).await.unwrap();
    let seeded = record("p-5", "p", 5);
    store.seed(seeded.clone()).await.unwrap();
    assert_eq!(store.load(&seeded.id).await.unwrap(), Some(seeded.clone()));
    assert_eq!(
        store.seed(seeded).await.unwrap_err(),
        StoreError::AlreadyExists(sid("p-5"))
    );
    let next = store.create(new_session("p", None)).await.unwrap();
    assert_eq!(next.record.id, sid("p-6"));

    store.seed(record("p-3", "p", 3)).await.unwrap();
    let next = store.create(new_session("p", None)).await.unwrap();
    assert_eq!(
        next.record.id,
        sid("p-7"),
        "a lower seed does not move back"
    );

    // `r-1` is taken by a record of another project: allocation for `r` skips it.
    store.seed(record("r-1", "other", 1)).await.unwrap();
    let r = store.create(new_session("r", None)).await.unwrap();
    assert_eq!(r.record.id, sid("r-2"));
}

/// A known spawn request id returns that request's current record and inserts nothing.
pub async fn spawn_request_id_is_idempotent(store: &dyn Backend) {
    let first = store.create(new_session("p", Some("req-1"))).await.unwrap();
    assert!(!first.existing);
    assert_eq!(first.record.id, sid("p-1"));
    let updated = store
        .commit(activity_write(&first.record.id, 1, t0().plus(secs(5))))
        .await
        .unwrap();

    let again = store.create(new_session("p", Some("req-1"))).await.unwrap();
    assert!(again.existing);
    assert_eq!(again.record, updated);

    let other = store.create(new_session("p", None)).await.unwrap();
    assert_eq!(other.record.id, sid("p-2"), "a repeat consumes no number");
    let third = store.create(new_session("p", Some("req-2"))).await.unwrap();
    assert_eq!((third.record.id, third.existing), (sid("p-3"), false));
    assert_eq!(store.list(None).await.unwrap().len(), 3);
    assert_eq!(all_events(store).await.len(), 4);
}

/// Patches merge (metadata key by key, empty values ignored, `replace_metadata` first, then the
/// removals, then the merge), every axis round-trips, the revision moves by one and each write logs one row of the record after.
pub async fn commit_merges_and_logs(store: &dyn Backend) {
    let created = store
        .create(new_session("proj", None))
        .await
        .unwrap()
        .record;
    let id = created.id.clone();

    let mut patch = session_patch(SessionState::Detecting, SessionReason::ProbeFailure);
    patch.detecting = Some(Some(DetectingMemory {
        attempts: 2,
        started_at: t0().minus(mins(1)),
        evidence_hash: "abc123".to_owned(),
    }));
    patch.metadata = Metadata::from([
        (meta::WORKSPACE_PATH.to_owned(), "/w/proj-1".to_owned()),
        (meta::BRANCH.to_owned(), String::new()),
    ]);
    patch.remove_metadata = [meta::PROMPT, meta::WORKSPACE_PATH, "neverSet"]
        .map(str::to_owned)
        .into();
    let r2 = store
        .commit(write(&id, 1, patch, EventType::SessionStateChanged))
        .await
        .unwrap();
    assert_eq!(r2.revision, 2);
    assert_eq!(r2.updated_at, t0().plus(secs(1)));
    assert_eq!(r2.created_at, created.created_at);
    assert_eq!(
        r2.meta(meta::BRANCH),
        Some("ao/feature"),
        "empty value ignored"
    );
    assert_eq!(
        r2.meta(meta::WORKSPACE_PATH),
        Some("/w/proj-1"),
        "a merged value wins over its removal"
    );
    assert_eq!(r2.meta(meta::PROMPT), None, "removed");
    assert_eq!(r2.lifecycle.session.state, SessionState::Detecting);
    assert_eq!(r2.lifecycle.pr, created.lifecycle.pr, "untouched axis kept");
    assert_eq!(store.load(&id).await.unwrap().as_ref(), Some(&r2));

    let patch = LifecyclePatch {
        pr: Some(PrAxis {
            state: PrState::Open,
            reason: PrReason::CiFailing,
            number: Some(42),
            url: Some("https://example.test/pr/42".to_owned()),
        }),
        runtime: Some(RuntimeAxis::new(
            RuntimeState::ProbeFailed,
            RuntimeReason::ProbeError,
        )),
        detecting: Some(None),
        launch: Some(Launch {
            id: "L2".to_owned(),
            started_at: Some(t0()),
            first_signal_at: Some(t0().plus(secs(1))),
        }),
        replace_metadata: Some(Metadata::from([(
            meta::BRANCH.to_owned(),
            "ao/other".to_owned(),
        )])),
        metadata: Metadata::from([(meta::AGENT_SESSION_ID.to_owned(), "conv-1".to_owned())]),
        ..Default::default()
    };
    let r3 = store
        .commit(write(&id, 2, patch, EventType::SessionPrUpdated))
        .await
        .unwrap();
    assert_eq!(r3.revision, 3);
    assert_eq!(r3.lifecycle.detecting, None);
    assert_eq!(r3.lifecycle.pr.number, Some(42));
    assert_eq!(r3.launch.id, "L2");
    assert_eq!(
        r3.metadata,
        Metadata::from([
            (meta::AGENT_SESSION_ID.to_owned(), "conv-1".to_owned()),
            (meta::BRANCH.to_owned(), "ao/other".to_owned()),
        ])
    );
    assert_eq!(store.load(&id).await.unwrap().as_ref(), Some(&r3));

    let events = all_events(store).await;
    let types: Vec<_> = events.iter().map(|e| e.event_type).collect();
    assert_eq!(
        types,
        [
            EventType::SessionCreated,
            EventType::SessionStateChanged,
            EventType::SessionPrUpdated
        ]
    );
    for (event, rec) in events.iter().zip([&created, &r2, &r3]) {
        assert_eq!(event.session_id, id);
        assert_eq!(event.project_id, pid("proj"));
        assert_eq!(event.created_at, rec.updated_at);
        // K10: version 1, the record after the write (with its revision), no status.
        assert_eq!(
            event.payload,
            serde_json::json!({ "version": 1, "record": rec })
        );
        assert!(!has_status_key(&event.payload), "{}", event.payload);
    }
}

/// The change log keeps each write's event type as given (K9's store side).
pub async fn change_log_keeps_every_event_type(store: &dyn Backend) {
    store.seed(record("proj-1", "proj", 1)).await.unwrap();
    let id = sid("proj-1");
    for (i, event) in EventType::ALL.iter().enumerate() {
        let mut w = activity_write(&id, i as u64 + 1, t0().plus(secs(i as u64)));
        w.event = *event;
        store.commit(w).await.unwrap();
    }
    let logged: Vec<_> = all_events(store)
        .await
        .iter()
        .skip(1)
        .map(|e| e.event_type)
        .collect();
    assert_eq!(logged, EventType::ALL);
}

/// U10: a write that loses the CAS leaves no change-log, tracker or queue row; the same write
/// with the right revision deletes the ended trackers and queues its reaction.
pub async fn u10_lost_cas_leaves_nothing(store: &dyn Backend) {
    store.seed(record("proj-1", "proj", 1)).await.unwrap();
    let id = sid("proj-1");
    store
        .save_tracker(&tracker("proj-1", ReactionKey::CiFailed))
        .await
        .unwrap();
    store
        .save_tracker(&tracker("proj-1", ReactionKey::AgentIdle))
        .await
        .unwrap();
    let ending = |expected| RecordWrite {
        end_incidents: vec![ReactionKey::CiFailed],
        enqueue: Some(ReactionKey::ChangesRequested),
        cause: None,
        ..activity_write(&id, expected, t0().plus(secs(30)))
    };

    assert!(matches!(
        store.commit(ending(99)).await,
        Err(StoreError::Conflict { .. })
    ));
    assert_eq!(store.trackers(&id).await.unwrap().len(), 2);
    assert_eq!(store.next_reaction(&id).await.unwrap(), None);
    assert!(store.sessions_with_reactions().await.unwrap().is_empty());
    assert_eq!(all_events(store).await.len(), 1);

    let after = store.commit(ending(1)).await.unwrap();
    assert_eq!(
        store.trackers(&id).await.unwrap(),
        [tracker("proj-1", ReactionKey::AgentIdle)]
    );
    let queued = store.next_reaction(&id).await.unwrap().unwrap();
    assert_eq!(
        queued,
        QueuedReaction {
            seq: queued.seq,
            session_id: id.clone(),
            kind: ReactionRowKind::Reaction,
            key: ReactionKey::ChangesRequested,
            trigger_revision: Some(after.revision),
            project_id: pid("proj"),
            enqueued_at: t0().plus(secs(30)),
        }
    );
    assert_eq!(all_events(store).await.len(), 2);
}

/// `list` orders by project, then number; `list_running` leaves terminal records out and
/// orders by id.
pub async fn list_orders(store: &dyn Backend) {
    for _ in 0..10 {
        store.create(new_session("p", None)).await.unwrap();
    }
    store.create(new_session("q", None)).await.unwrap();
    store.create(new_session("o", None)).await.unwrap();
    let terminate = session_patch(SessionState::Terminated, SessionReason::ManuallyKilled);
    store
        .commit(write(
            &sid("p-2"),
            1,
            terminate,
            EventType::SessionTerminated,
        ))
        .await
        .unwrap();
    let done = session_patch(SessionState::Done, SessionReason::PrMerged);
    store
        .commit(write(&sid("p-3"), 1, done, EventType::SessionStateChanged))
        .await
        .unwrap();

    let all = store.list(None).await.unwrap();
    assert_eq!(
        ids(&all),
        [
            "o-1", "p-1", "p-2", "p-3", "p-4", "p-5", "p-6", "p-7", "p-8", "p-9", "p-10", "q-1"
        ]
    );
    assert!(
        all.iter()
            .all(|r| r.meta(meta::PROMPT) == Some("fix the bug"))
    );
    let p = store.list(Some(&pid("p"))).await.unwrap();
    assert_eq!(p.len(), 10);
    assert!(p.iter().all(|r| r.project_id == pid("p")));
    assert!(store.list(Some(&pid("zzz"))).await.unwrap().is_empty());

    let running = store.list_running().await.unwrap();
    assert_eq!(
        ids(&running),
        [
            "o-1", "p-1", "p-10", "p-4", "p-5", "p-6", "p-7", "p-8", "p-9", "q-1"
        ]
    );
    assert_eq!(running[2], store.load(&sid("p-10")).await.unwrap().unwrap());
}

/// The reaction queue: per-session FIFO, supersession check, deletion, sessions listing.
pub async fn reaction_queue(store: &dyn Backend) {
    store.seed(record("proj-1", "proj", 1)).await.unwrap();
    store.seed(record("proj-2", "proj", 2)).await.unwrap();
    let (one, two) = (sid("proj-1"), sid("proj-2"));
    let enqueue = |id: &SessionId, expected, key| RecordWrite {
        enqueue: Some(key),
        cause: None,
        ..activity_write(id, expected, t0().plus(secs(expected)))
    };
    store
        .commit(enqueue(&one, 1, ReactionKey::CiFailed))
        .await
        .unwrap();
    store
        .commit(enqueue(&two, 1, ReactionKey::AgentIdle))
        .await
        .unwrap();
    store
        .commit(enqueue(&one, 2, ReactionKey::ChangesRequested))
        .await
        .unwrap();
    store
        .commit(enqueue(&one, 3, ReactionKey::CiFailed))
        .await
        .unwrap();

    let first = store.next_reaction(&one).await.unwrap().unwrap();
    assert_eq!(
        (first.key, first.trigger_revision, first.kind),
        (ReactionKey::CiFailed, Some(2), ReactionRowKind::Reaction)
    );
    assert!(
        store
            .has_later_reaction(&one, first.seq, ReactionKey::CiFailed)
            .await
            .unwrap()
    );
    assert!(
        !store
            .has_later_reaction(&one, first.seq, ReactionKey::AgentIdle)
            .await
            .unwrap(),
        "another session's row does not supersede"
    );
    assert_eq!(
        store.sessions_with_reactions().await.unwrap(),
        [one.clone(), two.clone()]
    );

    store.delete_reaction(first.seq).await.unwrap();
    let second = store.next_reaction(&one).await.unwrap().unwrap();
    assert_eq!(second.key, ReactionKey::ChangesRequested);
    assert!(second.seq > first.seq);
    store.delete_reaction(second.seq).await.unwrap();
    let third = store.next_reaction(&one).await.unwrap().unwrap();
    assert!(
        !store
            .has_later_reaction(&one, third.seq, ReactionKey::CiFailed)
            .await
            .unwrap()
    );

    let other = store.next_reaction(&two).await.unwrap().unwrap();
    store.delete_reaction(other.seq).await.unwrap();
    store.delete_reaction(other.seq).await.unwrap();
    assert_eq!(store.sessions_with_reactions().await.unwrap(), [one]);
    assert_eq!(store.next_reaction(&two).await.unwrap(), None);
}

/// Trackers are keyed by (session, key), replaced on save and listed in key order.
pub async fn trackers(store: &dyn Backend) {
    let one = sid("proj-1");
    store
        .save_tracker(&tracker("proj-1", ReactionKey::AgentIdle))
        .await
        .unwrap();
    store
        .save_tracker(&tracker("proj-1", ReactionKey::CiFailed))
        .await
        .unwrap();
    store
        .save_tracker(&tracker("proj-2", ReactionKey::CiFailed))
        .await
        .unwrap();
    assert_eq!(
        store.trackers(&one).await.unwrap(),
        [
            tracker("proj-1", ReactionKey::CiFailed),
            tracker("proj-1", ReactionKey::AgentIdle)
        ]
    );
    assert_eq!(
        store.tracker(&one, ReactionKey::BotComments).await.unwrap(),
        None
    );

    let replaced = Tracker {
        attempts: 3,
        first_attempt_at: None,
        escalated: true,
        last_signature: None,
        ..tracker("proj-1", ReactionKey::CiFailed)
    };
    store.save_tracker(&replaced).await.unwrap();
    assert_eq!(
        store.tracker(&one, ReactionKey::CiFailed).await.unwrap(),
        Some(replaced)
    );
    assert_eq!(store.trackers(&sid("proj-2")).await.unwrap().len(), 1);
}

/// Escalation by time: exactly the unescalated trackers whose time budget has run out (inclusive)
/// escalate, once, each with one `escalation` row; nothing touches the change log.
pub async fn escalate_due(store: &dyn Backend) {
    let at = |session: &str, key, first: Option<Timestamp>, escalated| Tracker {
        first_attempt_at: first,
        escalated,
        ..tracker(session, key)
    };
    let due_a = at(
        "proj-1",
        ReactionKey::AgentStuck,
        Some(t0().minus(mins(10))),
        false,
    );
    let due_b = at(
        "proj-2",
        ReactionKey::AgentStuck,
        Some(t0().minus(mins(5))),
        false,
    );
    let all = [
        due_b.clone(),
        due_a.clone(),
        at(
            "proj-1",
            ReactionKey::AgentNeedsInput,
            Some(t0().minus(mins(1))),
            false,
        ),
        at(
            "proj-1",
            ReactionKey::ChangesRequested,
            Some(t0().minus(mins(60))),
            true,
        ),
        at(
            "proj-1",
            ReactionKey::CiFailed,
            Some(t0().minus(mins(60))),
            false,
        ),
        at(
            "proj-1",
            ReactionKey::BotComments,
            Some(t0().minus(mins(60))),
            false,
        ),
        at("proj-1", ReactionKey::AgentIdle, None, false),
    ];
    for t in &all {
        store.save_tracker(t).await.unwrap();
    }
    let budgets = [
        (ReactionKey::AgentStuck, mins(5)),
        (ReactionKey::AgentNeedsInput, mins(5)),
        (ReactionKey::ChangesRequested, mins(1)),
        (ReactionKey::BotComments, Duration::ZERO),
        (ReactionKey::AgentIdle, mins(1)),
    ];

    let escalated = store.escalate_due(t0(), &budgets).await.unwrap();
    let expect = |t: &Tracker| Tracker {
        escalated: true,
        ..t.clone()
    };
    assert_eq!(escalated, [expect(&due_a), expect(&due_b)]);
    assert_eq!(
        store
            .tracker(&sid("proj-1"), ReactionKey::AgentStuck)
            .await
            .unwrap(),
        Some(expect(&due_a))
    );
    for session in ["proj-1", "proj-2"] {
        let row = store.next_reaction(&sid(session)).await.unwrap().unwrap();
        assert_eq!(
            (row.kind, row.key, row.trigger_revision, row.enqueued_at),
            (
                ReactionRowKind::Escalation,
                ReactionKey::AgentStuck,
                None,
                t0()
            )
        );
        assert_eq!(row.project_id, pid("proj"));
    }
    assert!(
        !store
            .has_later_reaction(&sid("proj-1"), 0, ReactionKey::AgentStuck)
            .await
            .unwrap(),
        "escalation rows are not reaction rows"
    );
    let later = store
        .escalate_due(t0().plus(mins(60)), &budgets[..2])
        .await
        .unwrap();
    assert_eq!(
        later,
        [expect(&all[2])],
        "only the newly due tracker; escalated ones never escalate again"
    );
    assert!(all_events(store).await.is_empty());
}

/// The message queue: queued → injected (deleting ended trackers) → acknowledged, or refused.
pub async fn message_lifecycle(store: &dyn Backend) {
    let one = sid("proj-1");
    let m1 = store
        .enqueue_message(deliver("proj-1", "hello"), t0())
        .await
        .unwrap();
    assert_eq!(m1, Message::queued(m1.id, deliver("proj-1", "hello"), t0()));
    let m2 = store
        .enqueue_message(deliver("proj-1", "second"), t0().plus(secs(1)))
        .await
        .unwrap();
    assert!(m2.id > m1.id);
    let forced = store
        .enqueue_message(deliver("proj-2", "other").forced(true), t0())
        .await
        .unwrap();
    assert_eq!(store.message(m1.id).await.unwrap().as_ref(), Some(&m1));
    let read = store.message(forced.id).await.unwrap().unwrap();
    assert!(read.force && !m1.force, "send --force is kept with the row");
    assert_eq!(
        store.next_queued_message(&one).await.unwrap().as_ref(),
        Some(&m1)
    );
    assert_eq!(
        store.sessions_with_queued_messages().await.unwrap(),
        [one.clone(), sid("proj-2")]
    );

    store
        .save_tracker(&tracker("proj-1", ReactionKey::AgentIdle))
        .await
        .unwrap();
    store
        .save_tracker(&tracker("proj-1", ReactionKey::CiFailed))
        .await
        .unwrap();
    let t1 = t0().plus(secs(10));
    store
        .mark_injected(m1.id, t1, &[ReactionKey::AgentIdle])
        .await
        .unwrap();
    let injected = store.message(m1.id).await.unwrap().unwrap();
    assert_eq!(
        (injected.state, injected.attempts, injected.updated_at),
        (MessageState::Injected, 1, t1)
    );
    assert_eq!(
        store.trackers(&one).await.unwrap(),
        [tracker("proj-1", ReactionKey::CiFailed)]
    );
    assert_eq!(
        store.next_queued_message(&one).await.unwrap().as_ref(),
        Some(&m2)
    );
    assert_eq!(
        store.oldest_injected_message(&one).await.unwrap(),
        Some(injected)
    );

    let t2 = t0().plus(secs(20));
    store.mark_acknowledged(m1.id, t2).await.unwrap();
    let acked = store.message(m1.id).await.unwrap().unwrap();
    assert_eq!(
        (acked.state, acked.updated_at),
        (MessageState::Acknowledged, t2)
    );
    assert_eq!(store.oldest_injected_message(&one).await.unwrap(), None);

    store.refuse_message(m2.id, "pane busy", t2).await.unwrap();
    let refused = store.message(m2.id).await.unwrap().unwrap();
    assert_eq!(
        (refused.state, refused.reason.as_deref()),
        (MessageState::Refused, Some("pane busy"))
    );
    assert_eq!(store.next_queued_message(&one).await.unwrap(), None);
    assert_eq!(
        store.sessions_with_queued_messages().await.unwrap(),
        [sid("proj-2")]
    );

    assert_eq!(store.message(9999).await.unwrap(), None);
    for result in [
        store.mark_injected(9999, t2, &[]).await,
        store.mark_acknowledged(9999, t2).await,
        store.refuse_message(9999, "gone", t2).await,
    ] {
        assert!(matches!(result, Err(StoreError::Backend(_))), "{result:?}");
    }
}

fn nudge(rollback: TrackerRollback) -> NewMessage {
    NewMessage::nudge(sid("proj-1"), "CI is failing on PR #42.", rollback)
}

/// The nudge is queued with its tracker in one transaction; refusing it gives the attempt, the
/// first-attempt time and the previous signature back.
pub async fn refused_nudge_gives_the_attempt_back(store: &dyn Backend) {
    let one = sid("proj-1");
    let after_step_3 = Tracker {
        attempts: 1,
        first_attempt_at: Some(t0()),
        last_signature: Some("sig-1".to_owned()),
        ..tracker("proj-1", ReactionKey::CiFailed)
    };
    let rollback = TrackerRollback {
        key: ReactionKey::CiFailed,
        set_first_attempt: true,
        previous_signature: Some("sig-0".to_owned()),
        signature: "sig-1".to_owned(),
    };
    let queued = store
        .commit_nudge(&after_step_3, nudge(rollback.clone()), t0())
        .await
        .unwrap();
    assert_eq!(
        (queued.mode, queued.state, queued.reaction_key()),
        (
            MessageMode::Nudge,
            MessageState::Queued,
            Some(ReactionKey::CiFailed)
        )
    );
    assert_eq!(queued.rollback, Some(rollback));
    assert_eq!(
        store.message(queued.id).await.unwrap(),
        Some(queued.clone())
    );
    assert_eq!(
        store.tracker(&one, ReactionKey::CiFailed).await.unwrap(),
        Some(after_step_3.clone())
    );

    store
        .refuse_message(queued.id, "stale key", t0().plus(secs(1)))
        .await
        .unwrap();
    assert_eq!(
        store.tracker(&one, ReactionKey::CiFailed).await.unwrap(),
        Some(Tracker {
            attempts: 0,
            first_attempt_at: None,
            last_signature: Some("sig-0".to_owned()),
            ..after_step_3
        })
    );
    assert_eq!(
        store.message(queued.id).await.unwrap().unwrap().state,
        MessageState::Refused
    );
}

/// A refused nudge does not overwrite a signature a later nudge set, nor clear a first-attempt
/// time it did not set.
pub async fn refused_nudge_keeps_a_newer_signature(store: &dyn Backend) {
    let one = sid("proj-1");
    let first = store
        .commit_nudge(
            &Tracker {
                attempts: 1,
                last_signature: Some("sig-1".to_owned()),
                ..tracker("proj-1", ReactionKey::CiFailed)
            },
            nudge(TrackerRollback {
                key: ReactionKey::CiFailed,
                set_first_attempt: false,
                previous_signature: None,
                signature: "sig-1".to_owned(),
            }),
            t0(),
        )
        .await
        .unwrap();
    let newer = Tracker {
        attempts: 2,
        last_signature: Some("sig-2".to_owned()),
        ..tracker("proj-1", ReactionKey::CiFailed)
    };
    store.save_tracker(&newer).await.unwrap();
    store.refuse_message(first.id, "busy", t0()).await.unwrap();
    assert_eq!(
        store.tracker(&one, ReactionKey::CiFailed).await.unwrap(),
        Some(Tracker {
            attempts: 1,
            ..newer
        })
    );
}

/// A nudge refused after its incident ended (tracker deleted) is just marked refused; the
/// tracker is not brought back.
pub async fn refused_nudge_after_incident_ended(store: &dyn Backend) {
    store.seed(record("proj-1", "proj", 1)).await.unwrap();
    let one = sid("proj-1");
    let queued = store
        .commit_nudge(
            &tracker("proj-1", ReactionKey::CiFailed),
            nudge(TrackerRollback {
                key: ReactionKey::CiFailed,
                set_first_attempt: true,
                previous_signature: None,
                signature: "sig-ci-failed".to_owned(),
            }),
            t0(),
        )
        .await
        .unwrap();
    let recovered = RecordWrite {
        end_incidents: vec![ReactionKey::CiFailed],
        ..activity_write(&one, 1, t0().plus(secs(1)))
    };
    store.commit(recovered).await.unwrap();
    assert!(store.trackers(&one).await.unwrap().is_empty());

    store
        .refuse_message(queued.id, "stale key", t0().plus(secs(2)))
        .await
        .unwrap();
    assert!(store.trackers(&one).await.unwrap().is_empty());
    let refused = store.message(queued.id).await.unwrap().unwrap();
    assert_eq!(
        (refused.state, refused.reason.as_deref()),
        (MessageState::Refused, Some("stale key"))
    );
}

/// The latest SCM facts per session, replaced on put.
pub async fn snapshots(store: &dyn Backend) {
    let one = sid("proj-1");
    assert_eq!(store.scm_snapshot(&one).await.unwrap(), None);
    let mut facts = ScmFacts::fetched(t0(), PrState::Open);
    facts.pr_number = Some(42);
    facts.head_sha = "abc".to_owned();
    facts.ci_summary = CiSummary::Failing;
    facts.review_decision = ReviewDecision::ChangesRequested;
    facts.failed_checks = vec![FailedCheck {
        name: "test".to_owned(),
        conclusion: "failure".to_owned(),
        url: None,
    }];
    facts.pending_comments = vec![PendingComment {
        thread_id: "t1".to_owned(),
        comment_id: "c1".to_owned(),
        author: "alice".to_owned(),
        body: "please rename\n\tthis".to_owned(),
        is_bot: false,
        url: "https://example.test/c1".to_owned(),
        path: Some("src/lib.rs".to_owned()),
        line: Some(7),
    }];
    facts.ci_failure_log_tail = Some("error: boom".to_owned());
    store.put_scm_snapshot(&one, &facts).await.unwrap();
    assert_eq!(store.scm_snapshot(&one).await.unwrap(), Some(facts));

    let newer = ScmFacts::fetched(t0().plus(secs(60)), PrState::Merged);
    store.put_scm_snapshot(&one, &newer).await.unwrap();
    assert_eq!(store.scm_snapshot(&one).await.unwrap(), Some(newer));
    assert_eq!(store.scm_snapshot(&sid("proj-2")).await.unwrap(), None);
}

fn project(id: &str, repo: std::path::PathBuf) -> Project {
    Project {
        id: pid(id),
        repo_path: repo,
        default_agent: Some("codex".to_owned()),
        base_branch: None,
        settings: ProjectSettings {
            symlinks: vec![".env".to_owned()],
            copies: vec![],
            post_create: vec![vec!["npm".to_owned(), "ci".to_owned()]],
            exclude: vec!["node_modules/".to_owned()],
            env: [("A".to_owned(), "1".to_owned())].into(),
            push_remote: Some("fork".to_owned()),
        },
        created_at: t0(),
    }
}

/// Registered projects: unique ids, ordered listing, removal.
pub async fn projects(store: &dyn Backend) {
    use std::os::unix::ffi::OsStrExt;
    let q = project("q", "/repos/q".into());
    // Paths need not be UTF-8.
    let p = project("p", std::ffi::OsStr::from_bytes(b"/repos/\xffp").into());
    store.add_project(&q).await.unwrap();
    store.add_project(&p).await.unwrap();
    assert_eq!(
        store.add_project(&p).await.unwrap_err(),
        StoreError::ProjectExists(pid("p"))
    );
    assert_eq!(store.project(&pid("p")).await.unwrap(), Some(p.clone()));
    assert_eq!(store.projects().await.unwrap(), [p, q.clone()]);
    assert!(store.remove_project(&pid("p")).await.unwrap());
    assert!(!store.remove_project(&pid("p")).await.unwrap());
    assert_eq!(store.project(&pid("p")).await.unwrap(), None);
    assert_eq!(store.projects().await.unwrap(), [q]);
}

fn revision_of(event: &ChangeEvent) -> u64 {
    event.payload["record"]["revision"].as_u64().unwrap()
}

/// R11: three writes are three events in `seq` order; `next` is the last seq; paging and the
/// session filter work; an empty page comes back at once without a wait.
pub async fn r11_events_in_order(store: &dyn Backend) {
    let id = store
        .create(new_session("p", None))
        .await
        .unwrap()
        .record
        .id;
    store.commit(activity_write(&id, 1, t0())).await.unwrap();
    store.commit(activity_write(&id, 2, t0())).await.unwrap();

    let page = store
        .events_after(0, 100, Duration::ZERO, None)
        .await
        .unwrap();
    assert_eq!(page.events.len(), 3);
    assert!(page.events.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(page.next, page.events[2].seq);
    assert!(!page.truncated);
    assert_eq!(
        page.events.iter().map(revision_of).collect::<Vec<_>>(),
        [1, 2, 3]
    );

    let first = page.events[0].seq;
    let rest = store
        .events_after(first, 100, Duration::ZERO, None)
        .await
        .unwrap();
    assert_eq!(rest.events, page.events[1..]);
    for limit in [0, 1] {
        let one = store
            .events_after(0, limit, Duration::ZERO, None)
            .await
            .unwrap();
        assert_eq!((one.events.len(), one.next), (1, first), "limit {limit}");
    }

    let other = store
        .create(new_session("q", None))
        .await
        .unwrap()
        .record
        .id;
    let filtered = store
        .events_after(0, 100, Duration::ZERO, Some(&other))
        .await
        .unwrap();
    assert_eq!(filtered.events.len(), 1);
    assert_eq!(filtered.events[0].session_id, other);
    let mine = store
        .events_after(first, 100, Duration::ZERO, Some(&id))
        .await
        .unwrap();
    assert_eq!(mine.events, page.events[1..]);

    let end = filtered.next;
    let empty = store
        .events_after(end, 100, Duration::ZERO, None)
        .await
        .unwrap();
    assert_eq!(
        empty,
        EventPage {
            events: vec![],
            next: end,
            truncated: false
        }
    );
}

/// R11: a reader waiting after `next` gets a row committed 200 ms later, within its 1 s wait.
pub async fn r11_waiting_reader_wakes_on_commit(store: &dyn Backend) {
    store.seed(record("proj-1", "proj", 1)).await.unwrap();
    let id = sid("proj-1");
    let next = store
        .events_after(0, 100, Duration::ZERO, None)
        .await
        .unwrap()
        .next;
    let late_write = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        store.commit(activity_write(&id, 1, t0())).await.unwrap()
    };
    let wait = store.events_after(next, 100, Duration::from_secs(1), None);
    let (written, page) = tokio::join!(late_write, wait);
    let page = page.unwrap();
    assert_eq!(page.events.len(), 1, "the commit arrived within the wait");
    assert_eq!(
        page.events[0].payload["record"]["revision"],
        written.revision
    );
    assert_eq!(page.next, page.events[0].seq);
}

/// R11: after pruning, a cursor before the pruned range reads `truncated`.
pub async fn r11_truncated_after_prune(store: &dyn Backend) {
    let old = |id: &str, num| SessionRecord {
        updated_at: t0().minus(mins(120)),
        ..record(id, "proj", num)
    };
    store.seed(old("proj-1", 1)).await.unwrap();
    store.seed(old("proj-2", 2)).await.unwrap();
    store
        .commit(activity_write(&sid("proj-1"), 1, t0()))
        .await
        .unwrap();
    let before = all_events(store).await;
    let seqs: Vec<i64> = before.iter().map(|e| e.seq).collect();

    assert_eq!(store.prune_events(t0().minus(mins(60))).await.unwrap(), 2);
    let page = store
        .events_after(0, 100, Duration::ZERO, None)
        .await
        .unwrap();
    assert!(page.truncated);
    assert_eq!(page.events, before[2..]);
    assert!(
        store
            .events_after(seqs[0], 100, Duration::ZERO, None)
            .await
            .unwrap()
            .truncated
    );
    let from_mark = store
        .events_after(seqs[1], 100, Duration::ZERO, None)
        .await
        .unwrap();
    assert!(!from_mark.truncated);
    assert_eq!(from_mark.events, before[2..]);

    assert_eq!(store.prune_events(t0().minus(mins(60))).await.unwrap(), 0);
    assert!(
        !store
            .events_after(seqs[1], 100, Duration::ZERO, None)
            .await
            .unwrap()
            .truncated
    );
}

/// A session's rows come back newest first, only its own, paged by `before` and `limit`; each
/// keeps the cause its write named (none when the write named none).
pub async fn session_events_newest_first(store: &dyn Backend) {
    let created = store
        .create(NewSession {
            cause: Some(Cause::Spawn),
            ..new_session("p", None)
        })
        .await
        .unwrap()
        .record
        .id;
    let other = store
        .create(new_session("q", None))
        .await
        .unwrap()
        .record
        .id;
    let kill = Cause::kill(&KillReason::new(KillKind::Manual));
    store
        .commit(activity_write(&created, 1, t0()))
        .await
        .unwrap();
    store.commit(activity_write(&other, 1, t0())).await.unwrap();
    store
        .commit(RecordWrite {
            cause: Some(kill.clone()),
            ..write(
                &created,
                2,
                session_patch(SessionState::Terminated, SessionReason::ManuallyKilled),
                EventType::SessionTerminated,
            )
        })
        .await
        .unwrap();

    let mine = store.session_events(&created, None, 100).await.unwrap();
    assert_eq!(
        mine.iter().map(revision_of).collect::<Vec<_>>(),
        [3, 2, 1],
        "newest first"
    );
    assert!(mine.iter().all(|e| e.session_id == created));
    assert!(mine.windows(2).all(|w| w[0].seq > w[1].seq));
    assert_eq!(
        mine[0].payload["cause"],
        serde_json::to_value(&kill).unwrap()
    );
    assert!(mine[1].payload.get("cause").is_none(), "no cause named");
    assert_eq!(
        mine[2].payload["cause"],
        serde_json::json!({"observer": "spawn"})
    );

    let first_two = store.session_events(&created, None, 2).await.unwrap();
    assert_eq!(first_two, mine[..2]);
    let rest = store
        .session_events(&created, Some(first_two[1].seq), 100)
        .await
        .unwrap();
    assert_eq!(rest, mine[2..]);
    assert!(
        store
            .session_events(&created, Some(mine[2].seq), 100)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.session_events(&other, None, 100).await.unwrap().len(),
        2
    );
    assert!(
        store
            .session_events(&sid("p-9"), None, 100)
            .await
            .unwrap()
            .is_empty()
    );
}

/// Forgetting drops the record and what was kept for it alone, only at the loaded revision; the
/// change log keeps its rows, another session keeps its own, and the number is never reused.
pub async fn forget_drops_the_record_and_keeps_its_history(store: &dyn Backend) {
    let one = store
        .create(new_session("p", Some("req-1")))
        .await
        .unwrap()
        .record
        .id;
    let two = store
        .create(new_session("p", None))
        .await
        .unwrap()
        .record
        .id;
    store.commit(activity_write(&one, 1, t0())).await.unwrap();
    store
        .save_tracker(&tracker(one.as_str(), ReactionKey::CiFailed))
        .await
        .unwrap();
    store
        .save_tracker(&tracker(two.as_str(), ReactionKey::CiFailed))
        .await
        .unwrap();
    store
        .enqueue_message(deliver(one.as_str(), "hello"), t0())
        .await
        .unwrap();
    store
        .put_scm_snapshot(&one, &ScmFacts::fetched(t0(), PrState::Open))
        .await
        .unwrap();
    let history = store.session_events(&one, None, 100).await.unwrap();
    assert_eq!(history.len(), 2);

    assert_eq!(
        store.forget(&one, 1).await.unwrap_err(),
        StoreError::Conflict {
            id: one.clone(),
            expected: 1
        },
        "a stale revision forgets nothing"
    );
    assert!(store.load(&one).await.unwrap().is_some());
    store.forget(&one, 2).await.unwrap();

    assert_eq!(store.load(&one).await.unwrap(), None);
    assert_eq!(ids(&store.list(None).await.unwrap()), [two.as_str()]);
    assert_eq!(store.trackers(&one).await.unwrap(), []);
    assert_eq!(store.trackers(&two).await.unwrap().len(), 1);
    assert_eq!(store.next_queued_message(&one).await.unwrap(), None);
    assert_eq!(store.scm_snapshot(&one).await.unwrap(), None);
    assert_eq!(
        store.session_events(&one, None, 100).await.unwrap(),
        history,
        "the change log keeps the forgotten session's history"
    );
    assert_eq!(
        store.forget(&one, 2).await.unwrap_err(),
        StoreError::NotFound(one.clone())
    );

    let next = store.create(new_session("p", None)).await.unwrap();
    assert_eq!(
        next.record.id,
        sid("p-3"),
        "a forgotten number is not reused"
    );
    let again = store.create(new_session("p", Some("req-1"))).await.unwrap();
    assert!(!again.existing, "a forgotten spawn request starts afresh");
    assert_eq!(again.record.id, sid("p-4"));
}
