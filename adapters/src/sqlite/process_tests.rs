//! Tests with several OS processes on one database file: U8 (CAS across processes), U9 (id
//! allocation across processes) and a crash test (SIGKILL at a random moment loses nothing
//! that was acknowledged).
//!
//! The test binary re-runs itself as the child: the parent starts `current_exe()` with the
//! test's exact name and [`ROLE`] set, and the same test function, seeing the variable, plays
//! the child. Children print their results after [`MARK`], straight to stdout.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::SqliteStore;
use super::tests::{activity_write, new_session, open, sid};
use ao::ports::{EventLog, RecordReader, RecordWriter, StoreError};
use ao_core::domain::{SessionId, SessionRecord, Timestamp};
use ao_testkit::fixtures::{lc, t0};

/// Set in a child: what it should do.
const ROLE: &str = "AO_SQLITE_TEST_ROLE";
/// Set in a child: the database file.
const DB: &str = "AO_SQLITE_TEST_DB";
/// Prefix of the lines a child reports on.
const MARK: &str = "@ao ";
/// How long anything in these tests may take before it counts as hung.
const DEADLINE: Duration = Duration::from_secs(120);

/// The LCM's bound on attempts of one write (compare-and-swap conflicts retried).
const WRITE_ATTEMPTS: u32 = 5;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A small xorshift generator: jitter and kill moments need variety, not quality.
struct Jitter(u64);

impl Jitter {
    fn new() -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64);
        Jitter(nanos ^ (u64::from(std::process::id()) << 32) | 1)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// The child's role, when this process is a child.
fn child_role() -> Option<(String, PathBuf)> {
    let role = std::env::var(ROLE).ok()?;
    let db = std::env::var_os(DB)?;
    Some((role, PathBuf::from(db)))
}

/// A running child with its output collected by two threads (so a full pipe never blocks it).
struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    stdout: std::thread::JoinHandle<()>,
    stderr: std::thread::JoinHandle<String>,
}

/// Starts this test binary as the child of `test` (its name within this module).
fn spawn_child(test: &str, role: &str, db: &Path) -> Running {
    let module = module_path!()
        .split_once("::")
        .map_or(module_path!(), |(_, rest)| rest);
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            &format!("{module}::{test}"),
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ROLE, role)
        .env(DB, db)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (send, lines) = mpsc::channel();
    let out = child.stdout.take().unwrap();
    let stdout = std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            // The harness may have printed `test … ` on the same line first.
            if let Some((_, report)) = line.split_once(MARK) {
                let _ = send.send(report.to_owned());
            }
        }
    });
    let mut err = child.stderr.take().unwrap();
    let stderr = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = err.read_to_string(&mut text);
        text
    });
    Running {
        child,
        lines,
        stdout,
        stderr,
    }
}

impl Running {
    /// Waits for the child to exit successfully; returns its report lines.
    fn finish(mut self, what: &str) -> Vec<String> {
        let start = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if start.elapsed() > DEADLINE {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("{what}: still running after {DEADLINE:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        self.stdout.join().unwrap();
        let stderr = self.stderr.join().unwrap();
        let lines: Vec<String> = self.lines.try_iter().collect();
        assert!(
            status.success(),
            "{what} failed ({status}); reports {lines:?}; stderr:\n{stderr}"
        );
        lines
    }
}

/// Both children wait for the parent's go, so their work overlaps.
fn release_together(dir: &Path, children: usize) {
    let start = Instant::now();
    while (0..children).any(|i| !dir.join(format!("ready-{i}")).exists()) {
        assert!(start.elapsed() < DEADLINE, "children never got ready");
        std::thread::sleep(Duration::from_millis(5));
    }
    std::fs::write(dir.join("go"), b"").unwrap();
}

fn wait_for_go(db: &Path, index: &str) {
    let dir = db.parent().unwrap();
    std::fs::write(dir.join(format!("ready-{index}")), b"").unwrap();
    let start = Instant::now();
    while !dir.join("go").exists() {
        assert!(start.elapsed() < DEADLINE, "no go from the parent");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Writes one report line straight to stdout (not through the test harness's capture) and
/// flushes it.
fn report(line: &str) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{MARK}{line}").unwrap();
    out.flush().unwrap();
}

fn open_blocking(path: &Path) -> SqliteStore {
    SqliteStore::open(path).unwrap()
}

/// The record of every change-log row of `id`, oldest first, paging through `events_after`.
async fn logged_records(store: &SqliteStore, id: &SessionId) -> Vec<SessionRecord> {
    let mut out = vec![];
    let mut after = 0;
    loop {
        let page = store
            .events_after(after, 512, Duration::ZERO, Some(id))
            .await
            .unwrap();
        if page.events.is_empty() {
            return out;
        }
        for event in &page.events {
            out.push(serde_json::from_value(event.payload["record"].clone()).unwrap());
        }
        after = page.next;
    }
}

fn seeded(id: &str, num: u64) -> SessionRecord {
    use ao_core::domain::{ProjectId, RuntimeState, SessionReason, SessionState};
    let mut r = lc(
        SessionState::Working,
        SessionReason::TaskInProgress,
        RuntimeState::Alive,
    );
    r.id = sid(id);
    r.project_id = ProjectId::parse("proj").unwrap();
    r.num = num;
    r
}

/// Metadata key counting the writes applied to a record: each write stores the loaded count
/// plus one, so a write applied over a stale load (a lost update) shows as a count behind
/// the revision.
const WRITES: &str = "writes";

fn writes_of(record: &SessionRecord) -> u64 {
    record.meta(WRITES).map_or(0, |n| n.parse().unwrap())
}

/// One LCM-style write: load, patch (activity, and the [`WRITES`] count), commit with the
/// loaded revision; on `Conflict` back off
/// (1–10 ms × attempt) and retry, up to [`WRITE_ATTEMPTS`]. Returns the committed record, or
/// `None` after the last conflict. `think` stands in for the decide step between load and
/// commit. Counts every conflict it saw in `conflicts`.
async fn cas_write(
    store: &SqliteStore,
    id: &SessionId,
    at: Timestamp,
    think: Duration,
    jitter: &mut Jitter,
    conflicts: &mut u64,
) -> Option<SessionRecord> {
    for attempt in 1..=WRITE_ATTEMPTS {
        let current = store.load(id).await.unwrap().unwrap();
        if !think.is_zero() {
            tokio::time::sleep(think).await;
        }
        let mut write = activity_write(id, current.revision, at);
        write
            .patch
            .metadata
            .insert(WRITES.to_owned(), (writes_of(&current) + 1).to_string());
        match store.commit(write).await {
            Ok(record) => return Some(record),
            Err(StoreError::Conflict { .. }) => {
                *conflicts += 1;
                let backoff = (1 + jitter.below(10)) * u64::from(attempt);
                tokio::time::sleep(Duration::from_millis(backoff)).await;
            }
            Err(e) => panic!("commit failed with a non-conflict error: {e}"),
        }
    }
    None
}

/// Time between load and commit in U8, so the two processes interleave there as two LCMs
/// deciding would.
const U8_THINK: Duration = Duration::from_micros(300);

/// U8 child: 100 activity signals with distinct timestamps, each an LCM-style CAS write.
fn u8_child(index: &str, db: &Path) {
    let store = open_blocking(db);
    wait_for_go(db, index);
    let offset: i64 = index.parse::<i64>().unwrap() * 1000;
    let mut jitter = Jitter::new();
    let (ok, conflict, retried) = runtime().block_on(async {
        let (mut ok, mut conflict, mut retried) = (0, 0, 0);
        for i in 0..100 {
            let at = Timestamp::from_millis(t0().as_millis() + offset + i);
            match cas_write(
                &store,
                &sid("proj-1"),
                at,
                U8_THINK,
                &mut jitter,
                &mut retried,
            )
            .await
            {
                Some(_) => ok += 1,
                None => conflict += 1,
            }
        }
        (ok, conflict, retried)
    });
    report(&format!("{ok} {conflict} {retried}"));
}

/// U8: two processes, 100 CAS writes each to `proj-1` at the same time → the revision grew by
/// exactly the number of `Ok`s, every other result is `Conflict`, and the change log has one
/// row per `Ok` with distinct revisions.
#[test]
fn u8_two_processes_cas_on_one_record() {
    if let Some((role, db)) = child_role() {
        return u8_child(&role, &db);
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ao.db");
    let rt = runtime();
    let store = rt.block_on(open(&db)).unwrap();
    rt.block_on(store.seed(seeded("proj-1", 1))).unwrap();
    rt.block_on(store.close()).unwrap();

    let children: Vec<_> = (0..2)
        .map(|i| spawn_child("u8_two_processes_cas_on_one_record", &i.to_string(), &db))
        .collect();
    release_together(dir.path(), 2);
    let mut oks = 0;
    for (i, child) in children.into_iter().enumerate() {
        let report = child.finish(&format!("U8 child {i}"));
        let [line] = report.as_slice() else {
            panic!("child {i} reported {report:?}");
        };
        let counts: Vec<u64> = line.split(' ').map(|n| n.parse().unwrap()).collect();
        let [ok, conflict, retried] = counts[..] else {
            panic!("child {i} reported {line:?}");
        };
        eprintln!("U8 child {i}: {ok} Ok, {conflict} Conflict, {retried} conflicts retried");
        assert_eq!(
            ok + conflict,
            100,
            "child {i}: every result is Ok or Conflict"
        );
        oks += ok;
    }

    let store = rt.block_on(open(&db)).unwrap();
    let record = rt.block_on(store.load(&sid("proj-1"))).unwrap().unwrap();
    assert_eq!(
        record.revision - 1,
        oks,
        "final revision − initial = number of Ok"
    );
    assert_eq!(writes_of(&record), oks, "no lost update");
    let logged = rt.block_on(logged_records(&store, &sid("proj-1")));
    for r in &logged {
        assert_eq!(
            writes_of(r),
            r.revision - 1,
            "revision {} saw every write",
            r.revision
        );
    }
    let revisions: Vec<u64> = logged.iter().skip(1).map(|r| r.revision).collect();
    assert_eq!(revisions.len() as u64, oks, "one change-log row per Ok");
    let distinct: BTreeSet<u64> = revisions.iter().copied().collect();
    assert_eq!(
        distinct,
        (2..=record.revision).collect(),
        "distinct revisions"
    );
}

/// U9 child: 20 creates of project `p`.
fn u9_child(index: &str, db: &Path) {
    let store = open_blocking(db);
    wait_for_go(db, index);
    let ids = runtime().block_on(async {
        let mut ids = vec![];
        for _ in 0..20 {
            let created = store.create(new_session("p", None)).await.unwrap();
            assert!(!created.existing);
            ids.push(created.record.id.as_str().to_owned());
        }
        ids
    });
    report(&ids.join(" "));
}

/// U9: two processes each create 20 sessions of `p` at the same time → 40 distinct ids
/// `p-1` … `p-40`.
#[test]
fn u9_two_processes_allocate_distinct_ids() {
    if let Some((role, db)) = child_role() {
        return u9_child(&role, &db);
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ao.db");
    let rt = runtime();
    rt.block_on(async { open(&db).await.unwrap().close().await.unwrap() });

    let children: Vec<_> = (0..2)
        .map(|i| {
            spawn_child(
                "u9_two_processes_allocate_distinct_ids",
                &i.to_string(),
                &db,
            )
        })
        .collect();
    release_together(dir.path(), 2);
    let mut all = BTreeSet::new();
    for (i, child) in children.into_iter().enumerate() {
        let report = child.finish(&format!("U9 child {i}"));
        let ids: Vec<&str> = report.iter().flat_map(|l| l.split(' ')).collect();
        assert_eq!(ids.len(), 20, "child {i} reported {report:?}");
        all.extend(ids.into_iter().map(str::to_owned));
    }
    let expected: BTreeSet<String> = (1..=40).map(|n| format!("p-{n}")).collect();
    assert_eq!(all, expected);

    let store = rt.block_on(open(&db)).unwrap();
    let listed: BTreeSet<String> = rt
        .block_on(store.list(None))
        .unwrap()
        .iter()
        .map(|r| r.id.as_str().to_owned())
        .collect();
    assert_eq!(listed, expected);
}

/// Sessions the crash child writes to, each from its own concurrent writer, so that writes
/// share transactions (group commit).
const CRASH_SESSIONS: [&str; 4] = ["proj-1", "proj-2", "proj-3", "proj-4"];

/// Crash child: one writer per session, CAS writes until killed, each reporting a revision
/// only after its commit returned, flushed at once.
fn crash_child(db: &Path) {
    let store = std::sync::Arc::new(open_blocking(db));
    let start = Instant::now();
    runtime().block_on(async {
        let mut writers = tokio::task::JoinSet::new();
        for (n, id) in CRASH_SESSIONS.into_iter().enumerate() {
            let store = std::sync::Arc::clone(&store);
            writers.spawn(async move {
                let mut jitter = Jitter::new();
                let id = sid(id);
                for i in 0i64.. {
                    // A bound, so an orphaned child stops by itself.
                    if start.elapsed() > DEADLINE {
                        break;
                    }
                    let at = Timestamp::from_millis(t0().as_millis() + i * 10 + n as i64);
                    let record = cas_write(&store, &id, at, Duration::ZERO, &mut jitter, &mut 0)
                        .await
                        .expect("one writer per session never conflicts");
                    report(&format!("{} {}", record.id, record.revision));
                }
            });
        }
        while let Some(done) = writers.join_next().await {
            done.unwrap();
        }
    });
}

/// SIGKILL at a random moment during thousands of CAS writes from concurrent writers: on reopen the file passes
/// `integrity_check`, every revision reported as committed is there, revisions are gap-free
/// per session and the change log has exactly one row per committed change, in order.
#[test]
fn crash_loses_nothing_acknowledged() {
    if let Some((_, db)) = child_role() {
        return crash_child(&db);
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ao.db");
    let rt = runtime();
    rt.block_on(async {
        let store = open(&db).await.unwrap();
        for (n, id) in CRASH_SESSIONS.iter().enumerate() {
            store.seed(seeded(id, n as u64 + 1)).await.unwrap();
        }
        store.close().await.unwrap();
    });

    let mut jitter = Jitter::new();
    let kill_after = 1000 + jitter.below(2000) as usize;
    let mut running = spawn_child("crash_loses_nothing_acknowledged", "crash", &db);
    let mut reported: Vec<String> = vec![];
    let start = Instant::now();
    while reported.len() < kill_after {
        match running.lines.recv_timeout(Duration::from_secs(1)) {
            Ok(line) => reported.push(line),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                assert!(
                    start.elapsed() < DEADLINE,
                    "only {} writes reported",
                    reported.len()
                );
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let stderr = running.stderr.join().unwrap();
                panic!(
                    "the child stopped after {} writes; stderr:\n{stderr}",
                    reported.len()
                );
            }
        }
    }
    std::thread::sleep(Duration::from_micros(jitter.below(3000)));
    running.child.kill().unwrap(); // SIGKILL
    running.child.wait().unwrap();
    running.stdout.join().unwrap();
    reported.extend(running.lines.try_iter());
    eprintln!(
        "crash test: killed after {} reported writes (target {kill_after})",
        reported.len()
    );

    // The last reported revision of each session.
    let mut last: BTreeMap<String, u64> = BTreeMap::new();
    for line in &reported {
        let (id, revision) = line.split_once(' ').unwrap();
        let revision: u64 = revision.parse().unwrap();
        let previous = last.insert(id.to_owned(), revision);
        assert!(previous.is_none_or(|p| p < revision), "reports in order");
    }

    let integrity: String = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");

    let store = rt.block_on(open(&db)).unwrap();
    let mut revisions: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    let mut after = 0;
    loop {
        let page = rt
            .block_on(store.events_after(after, 512, Duration::ZERO, None))
            .unwrap();
        if page.events.is_empty() {
            break;
        }
        for event in &page.events {
            assert!(event.seq > after, "seq strictly increasing");
            after = event.seq;
            let revision = event.payload["record"]["revision"].as_u64().unwrap();
            revisions
                .entry(event.session_id.as_str().to_owned())
                .or_default()
                .push(revision);
        }
    }
    for id in CRASH_SESSIONS {
        let record = rt.block_on(store.load(&sid(id))).unwrap().unwrap();
        let reported = last.get(id).copied().unwrap_or(1);
        assert!(
            record.revision >= reported,
            "{id}: revision {} < reported {reported}",
            record.revision
        );
        assert_eq!(
            writes_of(&record),
            record.revision - 1,
            "{id}: no lost update"
        );
        assert_eq!(
            revisions.remove(id).unwrap_or_default(),
            (1..=record.revision).collect::<Vec<_>>(),
            "{id}: exactly one row per committed revision, gap-free, in seq order"
        );
    }
    assert!(
        revisions.is_empty(),
        "rows of unknown sessions: {revisions:?}"
    );
}
