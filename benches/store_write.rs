//! Write rate of the SQLite store against raw SQLite on the same file system.
//!
//! Reports, in one run:
//! - **raw**: one-row transactions through plain rusqlite with the store's pragmas
//!   (`BEGIN IMMEDIATE; UPDATE one row; COMMIT`) — the ceiling for any durable write;
//! - **raw, synchronous=NORMAL**: the same without the per-commit WAL sync, to show what
//!   `synchronous=FULL` costs;
//! - **raw + log row**: the one-row update plus a 680-byte row in a table with two indexes, the
//!   pages a store commit touches (record row, change-log row and its two indexes): the floor
//!   for a logged write;
//! - **store commit**: `SqliteStore::load` + `commit` of a small activity patch, which is what
//!   the lifecycle manager does per changed observation;
//! - **LCM observations, 1 / 8 / 64 writers**: `Lcm::apply_activity_signal` with a new
//!   timestamp each time (so each is a durable write) over its own store, from 1, 8 and 64
//!   concurrent tasks, each observing its own session: the rate the issue's goals are about
//!   (against raw: >= 0.6 with one writer; >= 2 with 64, which only group commit reaches,
//!   several writes sharing one `fsync`).
//!
//! The store and LCM operations run inside tasks on the workers of a two-thread runtime, as
//! they do in the daemon, [`BATCH`] operations per spawned task.
//!
//! Run with `cargo bench -p ao --bench store_write`. The database files go to a temp dir under
//! `$AO_BENCH_DIR` (default: the system temp dir); put it on the file system you care about.

use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use tokio::runtime::Runtime;

use ao::decide::reactions::ReactionPolicies;
use ao::domain::{
    ActivityAxis, ActivitySignal, ActivitySource, ActivityState, EventType, Launch, LifecyclePatch,
    Metadata, ProjectId, RuntimeState, SessionId, SessionKind, SessionReason, SessionState,
    Timestamp,
};
use ao::lifecycle::{Lcm, Wakeups};
use ao::ports::{NewSession, RecordReader, RecordWrite, RecordWriter};
use ao_adapters::clock::SystemClock;
use ao_adapters::sqlite::{PRAGMAS, SqliteStore};

/// Rounds of interleaved measurement, and how long each operation runs per round. The disk
/// is shared with whatever else the machine does, so its fsync latency drifts; measuring the
/// raw and the store rate back to back in every round, and taking medians, keeps the ratio
/// fair.
const ROUNDS: usize = 9;
const SLICE: Duration = Duration::from_millis(500);
const WARM_UP: u32 = 4;
/// Operations per call of a [`Bench`]'s `op`, so that handing a batch to a runtime worker
/// costs little per operation.
const BATCH: u32 = 16;
/// Concurrent writers of the LCM benches.
const LCM_WRITERS: [usize; 3] = [1, 8, 64];

/// One measured operation, run [`BATCH`] times per writer per call, and its rate (ops/s) in
/// each round.
struct Bench<'a> {
    name: String,
    op: Box<dyn FnMut() + 'a>,
    /// Operations per call of `op`.
    per_call: u64,
    rates: Vec<f64>,
}

impl<'a> Bench<'a> {
    fn new(name: impl Into<String>, op: impl FnMut() + 'a) -> Self {
        Self::concurrent(name, 1, op)
    }

    /// An operation run by `writers` concurrent writers, [`BATCH`] times each per call.
    fn concurrent(name: impl Into<String>, writers: usize, op: impl FnMut() + 'a) -> Self {
        Bench {
            name: name.into(),
            op: Box::new(op),
            per_call: writers as u64 * u64::from(BATCH),
            rates: vec![],
        }
    }

    fn median(&self) -> f64 {
        median(self.rates.clone())
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Warms every operation up, then runs each for [`SLICE`] per round, in turn.
fn run_interleaved(benches: &mut [Bench<'_>]) {
    for bench in benches.iter_mut() {
        for _ in 0..WARM_UP {
            (bench.op)();
        }
    }
    for _ in 0..ROUNDS {
        for bench in benches.iter_mut() {
            let start = Instant::now();
            let mut ops = 0u64;
            while start.elapsed() < SLICE {
                (bench.op)();
                ops += bench.per_call;
            }
            bench.rates.push(ops as f64 / start.elapsed().as_secs_f64());
        }
    }
}

/// A plain rusqlite connection with the store's pragmas, except `synchronous = sync`, and one
/// row to update.
fn raw_connection(path: &Path, sync: &str) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(path).expect("open the raw database");
    for (name, value) in PRAGMAS {
        let value = if *name == "synchronous" { sync } else { value };
        if *name == "journal_mode" {
            // Setting the journal mode answers with the mode in effect.
            let mode: String = conn
                .pragma_update_and_check(None, name, value, |row| row.get(0))
                .expect("set journal_mode");
            assert!(mode.eq_ignore_ascii_case(value), "journal_mode is {mode}");
        } else {
            conn.pragma_update(None, name, value)
                .expect("apply a pragma");
        }
    }
    conn.execute_batch(
        "CREATE TABLE t (id TEXT PRIMARY KEY, revision INTEGER NOT NULL, updated_at INTEGER);
         INSERT INTO t VALUES ('proj-1', 1, 0);",
    )
    .expect("create the raw table");
    conn
}

/// `BEGIN IMMEDIATE; UPDATE one row; COMMIT`.
fn raw_transaction(conn: &mut rusqlite::Connection, at: i64) {
    raw_write(conn, at, false);
}

/// [`raw_transaction`] plus a change-log-sized row in the `log` table.
fn raw_logged_transaction(conn: &mut rusqlite::Connection, at: i64) {
    raw_write(conn, at, true);
}

fn raw_write(conn: &mut rusqlite::Connection, at: i64, log_row: bool) {
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .expect("begin");
    tx.prepare_cached("UPDATE t SET revision = revision + 1, updated_at = ?1 WHERE id = 'proj-1'")
        .expect("prepare")
        .execute([at])
        .expect("update");
    if log_row {
        tx.prepare_cached("INSERT INTO log (id, payload, at) VALUES ('proj-1', ?1, ?2)")
            .expect("prepare")
            .execute(rusqlite::params![*LOG_PAYLOAD, at])
            .expect("insert");
    }
    tx.commit().expect("commit");
}

/// About the size of a change-log payload (the run prints the real average).
static LOG_PAYLOAD: LazyLock<String> = LazyLock::new(|| "x".repeat(680));

fn new_session() -> NewSession {
    NewSession {
        project_id: ProjectId::parse("proj").expect("valid project id"),
        issue_id: None,
        kind: SessionKind::Worker,
        agent: "claude-code".to_owned(),
        lifecycle: ao::domain::Lifecycle {
            session: ao::domain::SessionAxis::new(
                SessionState::Working,
                SessionReason::TaskInProgress,
            ),
            pr: ao::domain::PrAxis::UNOBSERVED,
            runtime: ao::domain::RuntimeAxis::new(
                RuntimeState::Alive,
                ao::domain::RuntimeReason::ProcessRunning,
            ),
            activity: ActivityAxis::UNSET,
            detecting: None,
        },
        launch: Launch {
            id: "8b0b8f8e-launch".to_owned(),
            started_at: Some(Timestamp::from_millis(1_700_000_000_000)),
            first_signal_at: None,
        },
        metadata: Metadata::from([
            ("branch".to_owned(), "ao/proj-1".to_owned()),
            (
                "workspacePath".to_owned(),
                "/data/worktrees/proj/proj-1".to_owned(),
            ),
            ("runtimeHandleId".to_owned(), "proj-1".to_owned()),
            (
                "prompt".to_owned(),
                "Fix the flaky test in the parser.".to_owned(),
            ),
        ]),
        created_at: Timestamp::from_millis(1_700_000_000_000),
        spawn_request_id: None,
        cause: None,
    }
}

fn activity_write(id: &SessionId, expected: u64, at: i64) -> RecordWrite {
    RecordWrite {
        id: id.clone(),
        expected_revision: expected,
        patch: LifecyclePatch {
            activity: Some(ActivityAxis {
                state: Some(ActivityState::Active),
                last_activity_at: Some(Timestamp::from_millis(at)),
                source: ActivitySource::Hook,
            }),
            ..Default::default()
        },
        event: EventType::SessionActivityUpdated,
        updated_at: Timestamp::from_millis(at),
        end_incidents: vec![],
        enqueue: None,
        cause: None,
    }
}

/// `load` + `commit` of an activity patch, as the LCM does per changed observation.
async fn load_and_commit(store: &SqliteStore, id: &SessionId, at: i64) {
    let current = store.load(id).await.expect("load").expect("present");
    store
        .commit(activity_write(id, current.revision, at))
        .await
        .expect("commit");
}

/// A fresh timestamp per write, shared with the runtime's tasks.
fn tick(clock: &AtomicI64) -> i64 {
    clock.fetch_add(1, Ordering::Relaxed) + 1
}

/// A new store at `path` holding one session.
fn store_with_session(path: &Path, rt: &Runtime) -> (Arc<SqliteStore>, SessionId) {
    let store = Arc::new(SqliteStore::open(path).expect("open the store"));
    let id = rt
        .block_on(store.create(new_session()))
        .expect("create the session")
        .record
        .id;
    (store, id)
}

/// Store writes: [`BATCH`] loads + commits per task on a runtime worker.
fn store_bench<'a>(dir: &Path, rt: &'a Runtime, clock: Arc<AtomicI64>) -> Bench<'a> {
    let (store, id) = store_with_session(&dir.join("store.db"), rt);
    Bench::new("SqliteStore load + commit", move || {
        let (store, id, clock) = (store.clone(), id.clone(), clock.clone());
        rt.block_on(rt.spawn(async move {
            for _ in 0..BATCH {
                load_and_commit(&store, &id, tick(&clock)).await;
            }
        }))
        .expect("the batch ran");
    })
}

/// Observations through the lifecycle manager from `writers` concurrent tasks, each observing
/// its own session: each one an activity signal with a new timestamp (so each one a change
/// and a durable write), over its own `SqliteStore` in `dir`: load, pure decide,
/// compare-and-swap commit with the change-log row. [`BATCH`] of them per task per call.
fn lcm_observation_bench<'a>(
    dir: &Path,
    rt: &'a Runtime,
    clock: Arc<AtomicI64>,
    writers: usize,
) -> Bench<'a> {
    let store =
        Arc::new(SqliteStore::open(dir.join(format!("lcm-{writers}.db"))).expect("open the store"));
    let ids: Vec<SessionId> = (0..writers)
        .map(|_| {
            rt.block_on(store.create(new_session()))
                .expect("create a session")
                .record
                .id
        })
        .collect();
    let lcm = Arc::new(Lcm::new(
        store.clone(),
        store,
        Arc::new(SystemClock),
        ReactionPolicies::default(),
        Arc::new(Wakeups::default()),
    ));
    let name = format!("LCM observations, {writers} writer(s)");
    Bench::concurrent(name, writers, move || {
        let tasks: Vec<_> = ids
            .iter()
            .map(|id| {
                let (lcm, id, clock) = (lcm.clone(), id.clone(), clock.clone());
                rt.spawn(async move {
                    for _ in 0..BATCH {
                        let signal = ActivitySignal {
                            timestamp: Some(Timestamp::from_millis(tick(&clock))),
                            ..ActivitySignal::valid(ActivityState::Active, ActivitySource::Terminal)
                        };
                        let applied = lcm
                            .apply_activity_signal(&id, &signal)
                            .await
                            .expect("apply the observation");
                        assert!(applied.changed().is_some(), "every observation is a write");
                    }
                })
            })
            .collect();
        for task in tasks {
            rt.block_on(task).expect("the writer ran");
        }
    })
}

/// A raw operation, [`BATCH`] times.
fn raw_bench<'a>(
    name: &str,
    mut conn: rusqlite::Connection,
    clock: Arc<AtomicI64>,
    op: fn(&mut rusqlite::Connection, i64),
) -> Bench<'a> {
    Bench::new(name, move || {
        for _ in 0..BATCH {
            op(&mut conn, tick(&clock));
        }
    })
}

fn main() {
    let base = std::env::var_os("AO_BENCH_DIR").map_or_else(std::env::temp_dir, Into::into);
    let dir = tempfile::tempdir_in(&base).expect("create a temp dir for the databases");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("build the runtime");
    println!("store_write: databases in {}", dir.path().display());
    println!(
        "cores: {}; {ROUNDS} interleaved rounds of {SLICE:?} per operation; medians",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    let clock = Arc::new(AtomicI64::new(1_700_000_000_000));
    let raw_log = raw_connection(&dir.path().join("raw-log.db"), "FULL");
    raw_log
        .execute_batch(
            "CREATE TABLE log (seq INTEGER PRIMARY KEY, id TEXT, payload TEXT, at INTEGER);
             CREATE INDEX log_by_id ON log (id, seq);
             CREATE INDEX log_by_time ON log (at);",
        )
        .expect("create the raw log table");
    let mut benches = vec![
        raw_bench(
            "raw transaction (store pragmas)",
            raw_connection(&dir.path().join("raw-full.db"), "FULL"),
            clock.clone(),
            raw_transaction,
        ),
        raw_bench(
            "raw transaction (synchronous=NORMAL)",
            raw_connection(&dir.path().join("raw-normal.db"), "NORMAL"),
            clock.clone(),
            raw_transaction,
        ),
        raw_bench(
            "raw transaction + log row",
            raw_log,
            clock.clone(),
            raw_logged_transaction,
        ),
        store_bench(dir.path(), &rt, clock.clone()),
    ];
    for writers in LCM_WRITERS {
        benches.push(lcm_observation_bench(
            dir.path(),
            &rt,
            clock.clone(),
            writers,
        ));
    }
    run_interleaved(&mut benches);

    for bench in &benches {
        let rate = bench.median();
        println!(
            "{:<38} {rate:>9.0} ops/s {:>9.1} µs/op",
            bench.name,
            1e6 / rate
        );
    }
    // Per-round ratios: each pair was measured back to back, under the same disk load.
    let ratio = |i: usize| {
        median(
            benches[i]
                .rates
                .iter()
                .zip(&benches[0].rates)
                .map(|(x, raw)| x / raw)
                .collect(),
        )
    };
    println!("NORMAL / FULL = {:.1}", ratio(1));
    println!("raw + log row / raw = {:.2}", ratio(2));
    println!("store / raw = {:.2} (median of per-round ratios)", ratio(3));
    println!();
    println!("durable LCM observations against raw one-row transactions (one writer):");
    println!("| writers | observations/s | / raw | goal |");
    println!("|--------:|---------------:|------:|-----:|");
    for (i, writers) in LCM_WRITERS.into_iter().enumerate() {
        let goal = match writers {
            1 => ">= 0.6",
            64 => ">= 2",
            _ => "",
        };
        println!(
            "| {writers} | {:.0} | {:.2} | {goal} |",
            benches[4 + i].median(),
            ratio(4 + i)
        );
    }
    let store_db = rusqlite::Connection::open(dir.path().join("store.db")).expect("reopen");
    let payload: f64 = store_db
        .query_row(
            "SELECT avg(length(payload_json)) FROM change_log",
            [],
            |r| r.get(0),
        )
        .expect("measure the change-log payloads");
    println!("change-log payload: {payload:.0} bytes on average");
}
