//! Group commit: writes queued together share one transaction, and each keeps its own outcome.
//!
//! The tests line writes up into one batch for real: a second connection holds SQLite's write
//! lock, so the first write's leader waits in `BEGIN IMMEDIATE` while the others queue behind
//! it in a known order; releasing the lock lets the leader take them all at once.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;

use super::SqliteStore;
use super::tests::{activity_write, new_session, open};
use ao::ports::{EventLog, RecordReader, RecordWriter, StoreError};
use ao_core::domain::{SessionId, Timestamp};
use ao_testkit::fixtures::t0;

const DEADLINE: Duration = Duration::from_secs(60);

/// A store with `n` sessions (`p-1` … `p-n`, revision 1) in its own temp dir.
async fn store_with_sessions(n: usize) -> (Arc<SqliteStore>, Vec<SessionId>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(open(&dir.path().join("ao.db")).await.unwrap());
    let mut ids = vec![];
    for _ in 0..n {
        ids.push(
            store
                .create(new_session("p", None))
                .await
                .unwrap()
                .record
                .id,
        );
    }
    (store, ids, dir)
}

/// `s` seconds after the fixtures' epoch.
fn at(s: u64) -> Timestamp {
    Timestamp::from_millis(t0().as_millis() + 1000 * s as i64)
}

/// Polls `done` until it holds, or fails the test naming `what`.
async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < DEADLINE, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Starts the writes `start(0)`, `start(1)`, … in that order, all queued behind one leader
/// before any runs, so they run as one batch in that order; returns their outcomes and how
/// many transactions committed meanwhile.
async fn in_one_batch<T: Send + 'static>(
    store: &Arc<SqliteStore>,
    n: usize,
    mut start: impl FnMut(usize) -> JoinHandle<T>,
) -> (Vec<T>, u64) {
    let lock = rusqlite::Connection::open(store.path()).unwrap();
    lock.execute_batch("BEGIN IMMEDIATE").unwrap();
    let commits_before = store.writer.commits();
    // The leader: a write of nothing, which takes the empty queue's lead and then waits for
    // the lock held above.
    let leader = {
        let store = Arc::clone(store);
        tokio::spawn(async move { store.writer.run("lead", |_| Ok(())).await })
    };
    wait_until("the leader took its write", || {
        store.writer.queued() == (0, true)
    })
    .await;
    let mut handles = vec![];
    for i in 0..n {
        handles.push(start(i));
        wait_until(&format!("write {i} is queued"), || {
            store.writer.queued() == (i + 1, true)
        })
        .await;
    }
    lock.execute_batch("ROLLBACK").unwrap();
    leader.await.unwrap().unwrap();
    let mut outcomes = vec![];
    for handle in handles {
        outcomes.push(handle.await.unwrap());
    }
    // Less the leader's own transaction.
    (outcomes, store.writer.commits() - commits_before - 1)
}

/// A task committing an activity signal at `at` to `id` over revision `expected`.
fn commit_task(
    store: &Arc<SqliteStore>,
    id: &SessionId,
    expected: u64,
    at: Timestamp,
) -> JoinHandle<Result<u64, StoreError>> {
    let (store, write) = (Arc::clone(store), activity_write(id, expected, at));
    tokio::spawn(async move { store.commit(write).await.map(|r| r.revision) })
}

/// Every change-log row: (seq, session id, revision in its payload).
async fn log_rows(store: &SqliteStore) -> Vec<(i64, String, u64)> {
    let page = store
        .events_after(0, 10_000, Duration::ZERO, None)
        .await
        .unwrap();
    page.events
        .iter()
        .map(|e| {
            let revision = e.payload["record"]["revision"].as_u64().unwrap();
            (e.seq, e.session_id.as_str().to_owned(), revision)
        })
        .collect()
}

async fn revision(store: &SqliteStore, id: &SessionId) -> u64 {
    store.load(id).await.unwrap().unwrap().revision
}

/// Makes inserting the change-log row of `session` fail with `RAISE(<action>, 'injected')`.
fn fail_log_row_of(path: &Path, session: &SessionId, action: &str) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(&format!(
        "CREATE TRIGGER ao_test_fail BEFORE INSERT ON change_log \
         WHEN NEW.session_id = '{session}' BEGIN SELECT RAISE({action}, 'injected'); END;"
    ))
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_queued_together_share_one_commit_and_all_land() {
    let (store, ids, _dir) = store_with_sessions(64).await;
    let created = log_rows(&store).await.len();
    let (outcomes, commits) = in_one_batch(&store, ids.len(), |i| {
        commit_task(&store, &ids[i], 1, at(1))
    })
    .await;
    assert!(outcomes.iter().all(|o| o == &Ok(2)), "{outcomes:?}");
    assert_eq!(commits, 1, "64 lined-up writes, one transaction");
    let rows = log_rows(&store).await;
    let committed = &rows[created..];
    let order: Vec<&str> = committed.iter().map(|(_, id, _)| id.as_str()).collect();
    let ids: Vec<&str> = ids.iter().map(SessionId::as_str).collect();
    assert_eq!(order, ids, "one row each, in arrival order");
    assert!(committed.iter().all(|(_, _, revision)| *revision == 2));
    assert!(
        rows.windows(2).all(|w| w[0].0 < w[1].0),
        "seqs distinct and increasing"
    );
}

/// Unordered concurrent commits (no lining up) all land; this is the daemon's case.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_commits_to_different_sessions_all_land() {
    let (store, ids, _dir) = store_with_sessions(32).await;
    let mut handles = vec![];
    for round in 0..4u64 {
        for id in &ids {
            let (store, id) = (Arc::clone(&store), id.clone());
            handles.push(tokio::spawn(async move {
                loop {
                    let current = store.load(&id).await.unwrap().unwrap();
                    let when = at(round * 100 + current.revision);
                    match store
                        .commit(activity_write(&id, current.revision, when))
                        .await
                    {
                        Err(StoreError::Conflict { .. }) => continue,
                        other => return other.map(|r| r.revision),
                    }
                }
            }));
        }
    }
    for handle in handles {
        handle.await.unwrap().unwrap();
    }
    for id in &ids {
        assert_eq!(revision(&store, id).await, 5, "{id}");
    }
    let rows = log_rows(&store).await;
    assert_eq!(rows.len(), 32 * 5);
    assert!(rows.windows(2).all(|w| w[0].0 < w[1].0));
    for id in &ids {
        let revisions: Vec<u64> = rows
            .iter()
            .filter(|(_, s, _)| s == id.as_str())
            .map(|(_, _, r)| *r)
            .collect();
        assert_eq!(revisions, [1, 2, 3, 4, 5], "{id}");
    }
}

/// Writes to one session in one batch see each other: of several on the same loaded revision,
/// the first wins and the rest conflict, while the batch-mates on other sessions land.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_cas_winner_per_revision_inside_a_batch() {
    let (store, ids, _dir) = store_with_sessions(4).await;
    let (contested, others) = (&ids[0], &ids[1..]);
    let (outcomes, commits) = in_one_batch(&store, 8, |i| {
        if i % 2 == 0 {
            commit_task(&store, contested, 1, at(i as u64 + 1))
        } else {
            commit_task(&store, &others[i / 2 % others.len()], 1, at(1))
        }
    })
    .await;
    assert_eq!(commits, 1);
    let contested_outcomes: Vec<_> = outcomes.iter().step_by(2).collect();
    assert_eq!(contested_outcomes[0], &Ok(2), "the first in the batch wins");
    for outcome in &contested_outcomes[1..] {
        assert!(
            matches!(outcome, Err(StoreError::Conflict { expected: 1, .. })),
            "{outcome:?}"
        );
    }
    // Others: p-2, p-3, p-4, then p-2 again on its stale revision 1.
    let other_outcomes: Vec<_> = outcomes.iter().skip(1).step_by(2).cloned().collect();
    assert_eq!(other_outcomes[..3], [Ok(2), Ok(2), Ok(2)]);
    assert!(matches!(
        other_outcomes[3],
        Err(StoreError::Conflict { .. })
    ));
    assert_eq!(revision(&store, contested).await, 2);
    let record = store.load(contested).await.unwrap().unwrap();
    assert_eq!(record.updated_at, at(1), "the winner's write");
    let rows = log_rows(&store).await;
    assert_eq!(
        rows.iter()
            .filter(|(_, s, _)| s == contested.as_str())
            .count(),
        2
    );
}

/// A write that fails mid-batch (its change-log row is refused after its record row was
/// updated) leaves nothing behind and fails alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_write_fails_only_itself() {
    let (store, ids, _dir) = store_with_sessions(6).await;
    fail_log_row_of(store.path(), &ids[2], "ABORT");
    let (outcomes, commits) = in_one_batch(&store, ids.len(), |i| {
        commit_task(&store, &ids[i], 1, at(1))
    })
    .await;
    assert_eq!(commits, 1);
    for (i, outcome) in outcomes.iter().enumerate() {
        if i == 2 {
            let Err(StoreError::Backend(text)) = outcome else {
                panic!("expected the injected failure, got {outcome:?}");
            };
            assert!(
                text.contains("injected") && text.contains("commit"),
                "{text}"
            );
            assert_eq!(
                revision(&store, &ids[i]).await,
                1,
                "its record row rolled back"
            );
        } else {
            assert_eq!(outcome, &Ok(2), "write {i}");
            assert_eq!(revision(&store, &ids[i]).await, 2);
        }
    }
}

/// When SQLite itself rolls the whole transaction back (as it does on a full disk), the
/// writes before the failing one are undone with it and say so; the writes after it run in a
/// new transaction.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_sqlite_rolls_back_fails_the_writes_before_only() {
    let (store, ids, _dir) = store_with_sessions(6).await;
    fail_log_row_of(store.path(), &ids[2], "ROLLBACK");
    let (outcomes, commits) = in_one_batch(&store, ids.len(), |i| {
        commit_task(&store, &ids[i], 1, at(1))
    })
    .await;
    assert_eq!(commits, 1, "only the writes after the failure committed");
    for (i, outcome) in outcomes.iter().enumerate() {
        let Err(StoreError::Backend(text)) = outcome else {
            assert!(i > 2, "write {i} should have failed: {outcome:?}");
            assert_eq!(outcome, &Ok(2));
            assert_eq!(revision(&store, &ids[i]).await, 2);
            continue;
        };
        assert!(i <= 2, "write {i} failed: {text}");
        let why = if i == 2 {
            "injected"
        } else {
            "rolled the transaction back"
        };
        assert!(text.contains(why), "write {i}: {text}");
        assert_eq!(revision(&store, &ids[i]).await, 1, "write {i} left nothing");
    }
}

/// A write that panics is rolled back alone; the store goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_write_fails_only_itself() {
    let (store, ids, _dir) = store_with_sessions(3).await;
    let (outcomes, commits) = in_one_batch(&store, 3, |i| {
        let store = Arc::clone(&store);
        let write = activity_write(&ids[i], 1, at(1));
        tokio::spawn(async move {
            store
                .writer
                .run("commit", move |c| {
                    let record = super::write::commit(c, write)?;
                    assert_ne!(i, 1, "a bug in write {i}");
                    Ok(record.revision)
                })
                .await
        })
    })
    .await;
    assert_eq!(commits, 1);
    assert_eq!(outcomes[0], Ok(2));
    assert!(matches!(&outcomes[1], Err(StoreError::Backend(t)) if t.contains("panicked")));
    assert_eq!(outcomes[2], Ok(2));
    assert_eq!(revision(&store, &ids[1]).await, 1);
    store
        .commit(activity_write(&ids[1], 1, t0()))
        .await
        .unwrap();
}

/// A batch whose `COMMIT` fails acknowledges none of its writes: each gets the error and
/// none of them is in the file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_commit_fails_every_write_in_the_batch() {
    let (store, ids, _dir) = store_with_sessions(4).await;
    store
        .writer
        .run("test table", |c| {
            Ok(c.execute_batch(
                "CREATE TABLE ao_test_parent (id INTEGER PRIMARY KEY);
                 CREATE TABLE ao_test_child (parent INTEGER REFERENCES ao_test_parent (id) \
                 DEFERRABLE INITIALLY DEFERRED);",
            )?)
        })
        .await
        .unwrap();
    let (outcomes, commits) = in_one_batch(&store, 4, |i| {
        if i == 1 {
            // A dangling reference, checked only at `COMMIT`.
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                store
                    .writer
                    .run("dangle", |c| {
                        c.execute("INSERT INTO ao_test_child (parent) VALUES (7)", [])?;
                        Ok(2)
                    })
                    .await
            })
        } else {
            commit_task(&store, &ids[i], 1, at(1))
        }
    })
    .await;
    assert_eq!(commits, 0);
    for outcome in &outcomes {
        let Err(StoreError::Backend(text)) = outcome else {
            panic!("acknowledged a write that did not commit: {outcome:?}");
        };
        assert!(
            text.contains("commit") && text.contains("FOREIGN KEY"),
            "{text}"
        );
    }
    for id in &ids {
        assert_eq!(revision(&store, id).await, 1);
    }
    let dangling: i64 = store
        .writer
        .run("count", |c| {
            Ok(c.query_row("SELECT count(*) FROM ao_test_child", [], |r| r.get(0))?)
        })
        .await
        .unwrap();
    assert_eq!(dangling, 0);
    // The store goes on.
    store
        .commit(activity_write(&ids[0], 1, t0()))
        .await
        .unwrap();
}
