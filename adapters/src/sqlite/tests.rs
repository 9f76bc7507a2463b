//! SQLite-specific tests: the shared store contract, persistence across reopening, refusal of
//! unreadable files, connection settings and writes from two handles on one file.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::types::Value;

use super::{PRAGMAS, SCHEMA_VERSION, SqliteStore, read, schema};
use ao::ports::{
    EventLog, MessageStore, NewSession, ProjectStore, ReactionStore, RecordReader, RecordWrite,
    RecordWriter, ScmSnapshotStore, StoreError,
};
use ao_core::domain::{
    ActivityAxis, ActivitySource, ActivityState, EventType, Launch, LifecyclePatch, Metadata,
    NewMessage, PrState, Project, ProjectId, ReactionKey, RuntimeState, ScmFacts, SessionId,
    SessionKind, SessionReason, SessionState, Tracker,
};
use ao_testkit::fixtures::{lc, mins, secs, t0};

/// A fresh store in its own temp dir (opened off the async worker).
pub(super) async fn temp_store() -> (SqliteStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir.path().join("ao.db")).await.unwrap();
    (store, dir)
}

ao_testkit::store_contract::store_contract_tests!(temp_store);

/// `SqliteStore::open` on a blocking thread, as async callers must.
pub(super) async fn open(path: &Path) -> Result<SqliteStore, StoreError> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || SqliteStore::open(path))
        .await
        .unwrap()
}

pub(super) fn sid(s: &str) -> SessionId {
    SessionId::parse(s).unwrap()
}

pub(super) fn new_session(project: &str, request: Option<&str>) -> NewSession {
    NewSession {
        project_id: ProjectId::parse(project).unwrap(),
        issue_id: None,
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
        metadata: Metadata::from([("prompt".to_owned(), "fix the bug".to_owned())]),
        created_at: t0(),
        spawn_request_id: request.map(str::to_owned),
        cause: None,
    }
}

/// An `active` activity signal at `at` on top of `expected`.
pub(super) fn activity_write(
    id: &SessionId,
    expected: u64,
    at: ao_core::domain::Timestamp,
) -> RecordWrite {
    RecordWrite {
        id: id.clone(),
        expected_revision: expected,
        patch: LifecyclePatch {
            activity: Some(ActivityAxis {
                state: Some(ActivityState::Active),
                last_activity_at: Some(at),
                source: ActivitySource::Hook,
            }),
            ..Default::default()
        },
        event: EventType::SessionActivityUpdated,
        updated_at: at,
        end_incidents: vec![],
        enqueue: None,
        cause: None,
    }
}

fn assert_refused(err: &StoreError, path: &Path, why: &str) {
    let StoreError::Backend(text) = err else {
        panic!("expected a backend error, got {err:?}");
    };
    assert!(
        text.contains(&path.display().to_string()),
        "error does not name {}: {text}",
        path.display()
    );
    assert!(text.contains(why), "error does not say {why:?}: {text}");
}

fn wal_of(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

/// Runs `f` on a plain rusqlite connection to `path` (test setup and inspection).
fn with_raw<T>(path: &Path, f: impl FnOnce(&rusqlite::Connection) -> T) -> T {
    let conn = rusqlite::Connection::open(path).unwrap();
    let out = f(&conn);
    conn.close().unwrap();
    out
}

#[tokio::test]
async fn connection_settings() {
    let (store, _dir) = temp_store().await;
    let pragma = |name| store.writer_pragma(name);
    assert_eq!(
        pragma("journal_mode").await.unwrap(),
        Value::Text("wal".into())
    );
    assert_eq!(
        pragma("synchronous").await.unwrap(),
        Value::Integer(2),
        "FULL"
    );
    assert_eq!(pragma("foreign_keys").await.unwrap(), Value::Integer(1));
    let busy = i64::try_from(schema::BUSY_TIMEOUT.as_millis()).unwrap();
    assert_eq!(pragma("busy_timeout").await.unwrap(), Value::Integer(busy));
    assert!(PRAGMAS.contains(&("busy_timeout", busy.to_string().as_str())));
}

#[test]
fn terminal_states_match_the_domain() {
    let terminal: Vec<_> = SessionState::ALL
        .iter()
        .copied()
        .filter(|s| s.is_terminal())
        .collect();
    assert_eq!(terminal, read::TERMINAL_STATES);
}

#[tokio::test]
async fn reopening_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ao.db");
    let store = open(&path).await.unwrap();
    let mut old = lc(
        SessionState::Idle,
        SessionReason::Unset,
        RuntimeState::Alive,
    );
    old.updated_at = t0().minus(mins(120));
    store.seed(old).await.unwrap();
    let id = store
        .create(new_session("p", Some("req-1")))
        .await
        .unwrap()
        .record
        .id;
    store
        .commit(RecordWrite {
            enqueue: Some(ReactionKey::AgentIdle),
            cause: None,
            ..activity_write(&id, 1, t0())
        })
        .await
        .unwrap();
    let tracker = Tracker {
        session_id: id.clone(),
        key: ReactionKey::AgentIdle,
        project_id: ProjectId::parse("p").unwrap(),
        attempts: 2,
        first_attempt_at: Some(t0()),
        escalated: false,
        last_signature: Some("sig".to_owned()),
    };
    store.save_tracker(&tracker).await.unwrap();
    let message = NewMessage::deliver(id.clone(), "hello");
    store.enqueue_message(message, t0()).await.unwrap();
    let facts = ScmFacts::fetched(t0(), PrState::Open);
    store.put_scm_snapshot(&id, &facts).await.unwrap();
    let project = Project {
        id: ProjectId::parse("p").unwrap(),
        repo_path: "/repos/p".into(),
        default_agent: None,
        base_branch: Some("main".to_owned()),
        settings: Default::default(),
        created_at: t0(),
    };
    store.add_project(&project).await.unwrap();
    assert_eq!(store.prune_events(t0().minus(mins(60))).await.unwrap(), 1);

    let records = store.list(None).await.unwrap();
    let events = store
        .events_after(0, 512, Duration::ZERO, None)
        .await
        .unwrap();
    let queued = store.next_queued_message(&id).await.unwrap();
    let reaction = store.next_reaction(&id).await.unwrap();
    store.close().await.unwrap();
    assert!(!wal_of(&path).exists(), "close checkpoints the WAL away");

    let store = open(&path).await.unwrap();
    assert_eq!(store.list(None).await.unwrap(), records);
    assert_eq!(
        store
            .events_after(0, 512, Duration::ZERO, None)
            .await
            .unwrap(),
        events
    );
    assert!(events.truncated, "the pruned mark survives");
    assert_eq!(store.next_queued_message(&id).await.unwrap(), queued);
    assert_eq!(store.next_reaction(&id).await.unwrap(), reaction);
    assert_eq!(
        store.tracker(&id, ReactionKey::AgentIdle).await.unwrap(),
        Some(tracker)
    );
    assert_eq!(store.scm_snapshot(&id).await.unwrap(), Some(facts));
    assert_eq!(store.projects().await.unwrap(), [project]);
    let again = store.create(new_session("p", Some("req-1"))).await.unwrap();
    assert!(again.existing);
    let next = store.create(new_session("p", None)).await.unwrap();
    assert_eq!(next.record.id, sid("p-2"), "the counter survives");
}

#[tokio::test]
async fn refuses_a_file_of_garbage() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ao.db");
    // Deterministic noise (a linear congruential sequence), 8 KiB.
    let mut x: u32 = 12345;
    let garbage: Vec<u8> = (0..8192)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (x >> 16) as u8
        })
        .collect();
    std::fs::write(&path, &garbage).unwrap();

    let err = open(&path).await.unwrap_err();
    assert_refused(&err, &path, "not a readable SQLite database");
    assert_refused(&err, &path, "not modified");
    assert_eq!(std::fs::read(&path).unwrap(), garbage);
    assert!(!wal_of(&path).exists());
}

#[tokio::test]
async fn refuses_a_truncated_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ao.db");
    let store = open(&path).await.unwrap();
    for _ in 0..60 {
        let mut new = new_session("p", None);
        new.metadata.insert("prompt".to_owned(), "x".repeat(2000));
        store.create(new).await.unwrap();
    }
    store.close().await.unwrap();
    let full = std::fs::read(&path).unwrap();
    assert!(full.len() > 64 * 1024, "a database of {} bytes", full.len());
    let truncated = &full[..full.len() / 2];
    std::fs::write(&path, truncated).unwrap();

    let err = open(&path).await.unwrap_err();
    assert_refused(&err, &path, "refusing to open it");
    assert_eq!(std::fs::read(&path).unwrap(), truncated);
}

#[tokio::test]
async fn refuses_a_newer_schema_without_touching_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ao.db");
    let store = open(&path).await.unwrap();
    store.create(new_session("p", None)).await.unwrap();
    store.close().await.unwrap();
    with_raw(&path, |c| {
        c.execute(
            "INSERT INTO schema_version (version) VALUES (?1)",
            [SCHEMA_VERSION + 1],
        )
        .unwrap();
    });
    let before = std::fs::read(&path).unwrap();

    let err = open(&path).await.unwrap_err();
    assert_refused(&err, &path, "is newer than this ao supports");
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[tokio::test]
async fn refuses_a_foreign_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ao.db");
    with_raw(&path, |c| {
        c.execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('mine');")
            .unwrap();
    });
    let before = std::fs::read(&path).unwrap();
    let err = open(&path).await.unwrap_err();
    assert_refused(&err, &path, "not an ao database");
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[tokio::test]
async fn refuses_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let err = open(dir.path()).await.unwrap_err();
    assert_refused(&err, dir.path(), "not a regular file");
}

#[tokio::test]
async fn an_empty_file_becomes_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ao.db");
    std::fs::write(&path, b"").unwrap();
    let store = open(&path).await.unwrap();
    let created = store.create(new_session("p", None)).await.unwrap();
    assert_eq!(created.record.id, sid("p-1"));
}

#[tokio::test]
async fn a_corrupt_value_is_reported_not_guessed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ao.db");
    let store = open(&path).await.unwrap();
    store.create(new_session("p", None)).await.unwrap();
    store.close().await.unwrap();
    with_raw(&path, |c| {
        c.execute("UPDATE sessions SET session_state = 'napping'", [])
            .unwrap();
    });

    let store = open(&path).await.unwrap();
    let err = store.load(&sid("p-1")).await.unwrap_err();
    assert_refused(&err, &path, "sessions row p-1");
    assert_refused(&err, &path, "napping");
    assert!(matches!(
        store.list(None).await,
        Err(StoreError::Backend(_))
    ));
}

/// Two handles on one file (as two daemons would have): the CAS holds between them, and a
/// reader on one sees the other's commits through its poll.
#[tokio::test]
async fn two_handles_on_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ao.db");
    let a = open(&path).await.unwrap();
    let b = open(&path).await.unwrap();
    let id = a.create(new_session("p", None)).await.unwrap().record.id;
    let loaded = b.load(&id).await.unwrap().unwrap();
    assert_eq!(loaded.revision, 1);

    a.commit(activity_write(&id, 1, t0())).await.unwrap();
    assert_eq!(
        b.commit(activity_write(&id, 1, t0())).await.unwrap_err(),
        StoreError::Conflict {
            id: id.clone(),
            expected: 1
        }
    );
    assert_eq!(
        b.create(new_session("p", None)).await.unwrap().record.id,
        sid("p-2")
    );

    let next = b
        .events_after(0, 512, Duration::ZERO, None)
        .await
        .unwrap()
        .next;
    let late_write = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        a.commit(activity_write(&id, 2, t0().plus(secs(1))))
            .await
            .unwrap()
    };
    let wait = b.events_after(next, 512, Duration::from_secs(10), None);
    let (written, page) = tokio::join!(late_write, wait);
    let page = page.unwrap();
    assert_eq!(page.events.len(), 1, "b's poll found a's commit");
    assert_eq!(
        page.events[0].payload["record"]["revision"],
        written.revision
    );
}

/// A caller that gives up on a write (a timeout, a dropped request) does not undo it: once
/// started, the write runs to completion and is acknowledged to nobody, but it stands.
#[tokio::test]
async fn a_write_stands_when_its_caller_gives_up() {
    let (store, _dir) = temp_store().await;
    let id = store
        .create(new_session("p", None))
        .await
        .unwrap()
        .record
        .id;
    // A zero timeout polls the commit once (which starts it) and then drops it.
    let gave_up = tokio::time::timeout(Duration::ZERO, store.commit(activity_write(&id, 1, t0())));
    if let Ok(done) = gave_up.await {
        done.unwrap();
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let revision = store.load(&id).await.unwrap().unwrap().revision;
        if revision == 2 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the write never landed"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A WAL still holding commits but without its `-shm` index (a copy taken while the store was
/// open): the read-only probe recovers it rather than refusing the file.
#[tokio::test]
async fn opens_a_wal_left_without_its_index() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ao.db");
    let store = open(&path).await.unwrap();
    let id = store
        .create(new_session("p", None))
        .await
        .unwrap()
        .record
        .id;
    store.commit(activity_write(&id, 1, t0())).await.unwrap();
    let copy = dir.path().join("copy");
    std::fs::create_dir(&copy).unwrap();
    std::fs::copy(&path, copy.join("ao.db")).unwrap();
    std::fs::copy(wal_of(&path), wal_of(&copy.join("ao.db"))).unwrap();
    assert!(std::fs::metadata(wal_of(&path)).unwrap().len() > 0);
    let s2 = open(&copy.join("ao.db")).await.unwrap();
    assert_eq!(s2.load(&id).await.unwrap().unwrap().revision, 2);
}

/// `why` reads a session's newest rows first: the query walks `change_log_by_session`
/// backwards, with no scan of the table and no sort.
#[tokio::test]
async fn session_events_use_the_session_index() {
    let (store, dir) = temp_store().await;
    drop(store);
    let plan = with_raw(&dir.path().join("ao.db"), |conn| {
        let mut stmt = conn
            .prepare(&format!(
                "EXPLAIN QUERY PLAN {}",
                super::read::SESSION_EVENTS
            ))
            .unwrap();
        let rows = stmt
            .query_map(rusqlite::params!["p-1", i64::MAX, 10], |row| {
                row.get::<_, String>(3)
            })
            .unwrap();
        rows.map(Result::unwrap).collect::<Vec<_>>().join("\n")
    });
    assert!(
        plan.contains("USING INDEX change_log_by_session") && !plan.contains("TEMP B-TREE"),
        "{plan}"
    );
}
