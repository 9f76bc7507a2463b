//! A daemon whose store writes fail, as they do on a full disk: its loops back off instead of
//! spinning, log the failure once instead of once per attempt, and carry on where they were
//! once writes work again.
//!
//! The writes are made to fail from a second connection to the daemon's database, with
//! triggers that raise SQLite's own "database or disk is full" error. That is the daemon's real
//! store, failing through the same code path as a full disk, without needing a mount or root
//! (a full tmpfs was used to find the spin; see the commit that added this test).

use std::time::{Duration, Instant};

use ao_testkit::procfs::cpu_time;
use ao_testkit::{GitRepo, SLOW, TestEnv, wait_for};

/// Makes every write of chosen tables fail, and undoes it.
struct FullDisk {
    db: rusqlite::Connection,
    triggers: Vec<String>,
}

impl FullDisk {
    fn open(env: &TestEnv) -> Self {
        let db = rusqlite::Connection::open(env.data_dir.join("ao.db")).expect("open ao.db");
        db.busy_timeout(Duration::from_secs(10))
            .expect("busy timeout");
        Self {
            db,
            triggers: vec![],
        }
    }

    /// Every table of the store.
    fn tables(&self) -> Vec<String> {
        let mut query = self
            .db
            .prepare(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            )
            .expect("list tables");
        query
            .query_map([], |row| row.get(0))
            .expect("list tables")
            .collect::<Result<_, _>>()
            .expect("table names")
    }

    /// `INSERT`, `UPDATE` and `DELETE` on `table` fail from now on (`ops` picks which).
    fn fail(&mut self, table: &str, ops: &[&str]) {
        for op in ops {
            let name = format!("ao_test_full_{table}_{}", op.to_lowercase());
            self.db
                .execute_batch(&format!(
                    "CREATE TRIGGER {name} BEFORE {op} ON {table} \
                     BEGIN SELECT RAISE(FAIL, 'database or disk is full'); END;"
                ))
                .unwrap_or_else(|e| panic!("creating trigger {name}: {e}"));
            self.triggers.push(name);
        }
    }

    fn heal(&mut self) {
        for name in self.triggers.drain(..) {
            self.db
                .execute_batch(&format!("DROP TRIGGER {name};"))
                .unwrap_or_else(|e| panic!("dropping trigger {name}: {e}"));
        }
    }
}

#[test]
fn failing_store_writes_are_retried_with_backoff_and_recover() {
    let repo = GitRepo::new();
    let mut env = TestEnv::fast();
    env.start_daemon();
    env.add_project("demo", &repo.path);
    let received = env.root().join("received.txt");
    let id = env.spawn_cmd(
        "demo",
        &format!("sh -c 'exec cat > {}'", received.display()),
    );
    let pid = env.daemon_pid().expect("the daemon's pid");

    // Delivery can queue the message but not mark it: the row the trial saw spin.
    let mut disk = FullDisk::open(&env);
    disk.fail("messages", &["UPDATE"]);
    env.ok(&["send", &id, "--no-wait", "hello"]);
    wait_for("the first delivery failure", SLOW, || {
        let log = env.log_since(0);
        if log.contains("message delivery failed") {
            Ok(())
        } else {
            Err(env.log_tail(5))
        }
    });
    // From now on every write of every table fails.
    for table in disk.tables() {
        let ops: &[&str] = if table == "messages" {
            &["INSERT", "DELETE"]
        } else {
            &["INSERT", "UPDATE", "DELETE"]
        };
        disk.fail(&table, ops);
    }

    let window = Duration::from_secs(10);
    let (log_at, cpu_at, started) = (env.log_len(), cpu_time(pid), Instant::now());
    std::thread::sleep(window);
    let cpu = cpu_time(pid) - cpu_at;
    let elapsed = started.elapsed();
    let logged = env.log_since(log_at);
    let lines = logged.lines().count();
    let warnings = logged.lines().filter(|l| l.contains(" WARN ")).count();
    let share = cpu.as_secs_f64() / elapsed.as_secs_f64();
    eprintln!(
        "while writes failed for {elapsed:?}: {:.1}% of one core, {lines} log lines ({warnings} warnings)",
        share * 100.0
    );
    assert!(
        share < 0.10,
        "the daemon used {:.0}% of a core while writes failed:\n{}",
        share * 100.0,
        env.log_tail(20)
    );
    assert!(
        warnings <= 2 && lines <= 100,
        "{lines} log lines ({warnings} warnings) in {elapsed:?}:\n{}",
        logged.lines().take(20).collect::<Vec<_>>().join("\n")
    );
    assert_eq!(
        std::fs::read_to_string(&received).unwrap_or_default(),
        "",
        "nothing was typed while the message could not be marked"
    );

    // Writes work again: the message goes out (within the 30 s backoff cap) and the log says so.
    disk.heal();
    wait_for("the message to arrive", SLOW, || {
        let got = std::fs::read_to_string(&received).unwrap_or_default();
        if got == "hello\n" {
            Ok(())
        } else {
            Err(format!("received {got:?}"))
        }
    });
    wait_for("the recovery line", SLOW, || {
        let log = env.log_since(log_at);
        if log.contains("message delivery works again") {
            Ok(())
        } else {
            Err(env.log_tail(5))
        }
    });
    env.ok(&["send", &id, "again"]);
    wait_for("a second message", SLOW, || {
        let got = std::fs::read_to_string(&received).unwrap_or_default();
        if got == "hello\nagain\n" {
            Ok(())
        } else {
            Err(format!("received {got:?}"))
        }
    });
    env.stop_daemon();
}
