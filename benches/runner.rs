//! The runner end to end, with RELEASE builds of `aod` and `aoctl`, against the raw tools.
//!
//! Reports, in one run:
//! 1. `aoctl ls --json` with 200 live sessions against `tmux list-sessions` on the same tmux
//!    server (medians; goal: aoctl <= 1.0x);
//! 2. `aoctl spawn` of a `command` agent against the raw, shell-free sequence of `git worktree
//!    add` and `tmux new-session` in the same repository and on the same tmux server (medians; goal
//!    <= 1.5x), with a breakdown of where a spawn's time goes: the worktree and tmux adapters
//!    run directly with a recording command runner (every git/tmux process and its time);
//! 3. the daemon's CPU (utime+stime from `/proc/<pid>/stat`) and RSS over 60 s idle with the
//!    200 sessions once they have settled (every silent agent turned `idle`, 60 s after its
//!    last output; that phase is measured too) (goals: <= 1% of one core, <= 40 MiB), then 20 s
//!    each with only the reaper,
//!    only the terminal observer and no loop running (the daemon restarted with the other loops'
//!    ticks set to 1 h; the restart's time, with boot reconcile adopting 200 sessions, is
//!    shown too).
//!
//! Run with:
//! `cargo bench --bench runner`
//! (`AO_BENCH_ONLY=spawn` or `AO_BENCH_ONLY=list` runs one part)
//! (the daemon and the CLI are built in release mode first, next to this bench).

#[path = "support/report.rs"]
mod report;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ao::domain::{ProjectId, SessionId};
use ao::ports::{Runtime, RuntimeConfig, Workspace, WorkspaceRequest};
use ao_adapters::process::{CommandOutput, CommandRunner, CommandSpec, ProcessError, SystemRunner};
use ao_adapters::tmux::{TmuxOptions, TmuxRuntime, TmuxSocket, write_tmux_conf};
use ao_adapters::worktree::{GitWorktree, GitWorktreeOptions};
use ao_testkit::procfs;
use ao_testkit::{GitRepo, TestEnv};
use async_trait::async_trait;
use report::{Columns, Row, median, ms, print_table, timed};

const SESSIONS: usize = 200;
const LS_ROUNDS: usize = 31;
const SPAWN_ROUNDS: usize = 15;
const IDLE: Duration = Duration::from_secs(60);
/// How long after the last spawn every silent agent has turned idle: the observer's 60 s quiet
/// period, plus its 10 s tick, plus a margin.
const SETTLE: Duration = Duration::from_secs(80);
/// Idle time of each per-loop breakdown run.
const LOOP_IDLE: Duration = Duration::from_secs(20);

const CONFIG: &str = r#"
[runtime.tmux]
load_user_config = false
"#;

/// A bench env: default ticks, info logging (debug logging would inflate the daemon's CPU).
fn bench_env() -> TestEnv {
    let mut env = TestEnv::with_config(CONFIG);
    env.env.push(("AO_LOG".into(), "info".into()));
    env
}

/// CPU time of a process and of its reaped children, in seconds.
fn cpu_seconds(pid: u32) -> (f64, f64) {
    let stat = procfs::stat(pid).expect("the daemon runs");
    (stat.cpu.as_secs_f64(), stat.children_cpu.as_secs_f64())
}

/// A `VmRSS`/`VmHWM`-style field of `/proc/<pid>/status`, in MiB.
fn status_mib(pid: u32, field: &str) -> f64 {
    procfs::status_kib(pid, field).map_or(0.0, |kib| kib as f64 / 1024.0)
}

/// Measure 1 and 3 on one env with 200 sessions.
fn list_and_idle(rows: &mut Vec<Row>) {
    let repo = GitRepo::new();
    let mut env = bench_env();
    env.start_daemon();
    env.add_project("bench", &repo.path);
    let started = Instant::now();
    let mut spawns = vec![];
    for _ in 0..SESSIONS {
        let (took, _) = timed(
            env.aoctl()
                .args(["spawn", "-p", "bench", "--cmd", "sleep 100000"]),
        );
        spawns.push(took);
    }
    eprintln!(
        "spawned {SESSIONS} sessions in {:.1} s (median {:.1} ms, last {:.1} ms)",
        started.elapsed().as_secs_f64(),
        ms(median(spawns.clone())),
        ms(spawns[spawns.len() - 1])
    );
    assert_eq!(env.tmux_sessions().len(), SESSIONS);
    let last_spawn = Instant::now();

    // 1. ls --json against tmux list-sessions, interleaved.
    let tmux_ls = || {
        let mut c = Command::new("tmux");
        c.arg("-S")
            .arg(&env.tmux_socket)
            .arg("list-sessions")
            .env_remove("TMUX");
        c
    };
    for _ in 0..3 {
        timed(env.aoctl().args(["ls", "--json"]));
        timed(&mut tmux_ls());
    }
    let (mut ours, mut theirs, mut ping) = (vec![], vec![], vec![]);
    for _ in 0..LS_ROUNDS {
        let (took, out) = timed(env.aoctl().args(["ls", "--json"]));
        ours.push(took);
        assert!(out.stdout.len() > SESSIONS * 100, "200 sessions listed");
        theirs.push(timed(&mut tmux_ls()).0);
        ping.push(timed(env.aoctl().args(["daemon", "status", "--json"])).0);
    }
    let (ours, theirs, ping) = (median(ours), median(theirs), median(ping));
    let ratio = ours.as_secs_f64() / theirs.as_secs_f64();
    rows.push(Row {
        what: format!("aoctl ls --json, {SESSIONS} sessions (median)"),
        ours: format!("{:.2} ms", ms(ours)),
        baseline: format!("{:.2} ms", ms(theirs)),
        ratio: format!("{ratio:.2}x"),
        goal: "<= 1.0x",
        met: Some(ratio <= 1.0),
    });
    rows.push(Row {
        what: "  of which aoctl start + connect + ping".into(),
        ours: format!("{:.2} ms", ms(ping)),
        baseline: String::new(),
        ratio: String::new(),
        goal: "",
        met: None,
    });

    // 3. Idle CPU and memory.
    let last_seq = || -> i64 {
        let (_, out) = timed(env.aoctl().args(["events", "--json"]));
        let events: serde_json::Value = serde_json::from_slice(&out.stdout).expect("events");
        events
            .as_array()
            .and_then(|e| e.last())
            .and_then(|e| e["seq"].as_i64())
            .unwrap_or(0)
    };
    let pid = env.daemon_pid().expect("daemon pid");
    // A silent agent turns `idle` once the terminal observer has seen no output for 60 s: one
    // durable write per session. Let that pass (and measure it) before measuring steady idle.
    let seq0 = last_seq();
    let (settle0, _) = cpu_seconds(pid);
    let settle_started = Instant::now();
    std::thread::sleep((last_spawn + SETTLE).saturating_duration_since(Instant::now()));
    let all_idle = |env: &TestEnv| {
        let (_, out) = timed(env.aoctl().args(["ls", "--json"]));
        let sessions: serde_json::Value = serde_json::from_slice(&out.stdout).expect("ls");
        sessions
            .as_array()
            .is_some_and(|all| all.iter().all(|s| s["status"] == "idle"))
    };
    while !all_idle(&env) {
        assert!(
            last_spawn.elapsed() < SETTLE * 3,
            "the sessions never turned idle"
        );
        std::thread::sleep(Duration::from_secs(5));
    }
    let settle_wall = settle_started.elapsed().as_secs_f64();
    let settle_share = (cpu_seconds(pid).0 - settle0) / settle_wall * 100.0;
    rows.push(Row {
        what: format!("aod CPU while {SESSIONS} silent agents turn idle"),
        ours: format!("{settle_share:.2}% core"),
        baseline: format!("{} writes", last_seq() - seq0),
        ratio: String::new(),
        goal: "",
        met: None,
    });

    let seq0 = last_seq();
    let (cpu0, children0) = cpu_seconds(pid);
    let t0 = Instant::now();
    std::thread::sleep(IDLE);
    let (cpu1, children1) = cpu_seconds(pid);
    let wall = t0.elapsed().as_secs_f64();
    let share = (cpu1 - cpu0) / wall * 100.0;
    let children = (children1 - children0) / wall * 100.0;
    let writes = last_seq() - seq0;
    let rss = status_mib(pid, "VmRSS");
    let hwm = status_mib(pid, "VmHWM");
    rows.push(Row {
        what: format!("aod CPU idle {}s, {SESSIONS} sessions", IDLE.as_secs()),
        ours: format!("{share:.2}% core"),
        baseline: format!("{:.2} s", cpu1 - cpu0),
        ratio: String::new(),
        goal: "<= 1%",
        met: Some(share <= 1.0),
    });
    rows.push(Row {
        what: "  its children's CPU; change-log rows written".into(),
        ours: format!("{children:.2}% core"),
        baseline: format!("{writes} writes"),
        ratio: String::new(),
        goal: "",
        met: None,
    });
    rows.push(Row {
        what: format!("aod RSS after idle (peak {hwm:.1} MiB)"),
        ours: format!("{rss:.1} MiB"),
        baseline: String::new(),
        ratio: String::new(),
        goal: "<= 40 MiB",
        met: Some(rss <= 40.0),
    });

    // Which loop costs what: restart (adopting the 200 sessions) with one loop slowed to 1h.
    for (what, extra) in [
        (
            "no loop",
            "[reaper]\ntick = \"1h\"\n[observer]\ntick = \"1h\"\n",
        ),
        ("reaper only (5 s)", "[observer]\ntick = \"1h\"\n"),
        ("observer only (10 s)", "[reaper]\ntick = \"1h\"\n"),
    ] {
        env.stop_daemon();
        std::fs::write(&env.config, format!("{CONFIG}{extra}")).expect("write config");
        let started = Instant::now();
        env.start_daemon();
        let boot = started.elapsed();
        let pid = env.daemon_pid().expect("daemon pid");
        let (cpu0, _) = cpu_seconds(pid);
        let t0 = Instant::now();
        std::thread::sleep(LOOP_IDLE);
        let share = (cpu_seconds(pid).0 - cpu0) / t0.elapsed().as_secs_f64() * 100.0;
        rows.push(Row {
            what: format!("  aod CPU, {what}, {}s", LOOP_IDLE.as_secs()),
            ours: format!("{share:.2}% core"),
            baseline: format!("start {:.0} ms", ms(boot)),
            ratio: String::new(),
            goal: "",
            met: None,
        });
    }
    env.stop_daemon();
}

/// One process the adapters ran: its first words and how long it took.
#[derive(Debug, Default)]
struct Recording {
    calls: Mutex<Vec<(String, Duration)>>,
}

#[derive(Debug)]
struct RecordingRunner(Arc<Recording>);

#[async_trait]
impl CommandRunner for RecordingRunner {
    async fn run(&self, spec: &CommandSpec) -> Result<CommandOutput, ProcessError> {
        let started = Instant::now();
        let out = SystemRunner.run(spec).await;
        let argv = spec.argv();
        // `git -C <dir> <sub>` / `tmux -S <sock> -f <conf> <sub>`: name the subcommand.
        let program = Path::new(&argv[0])
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let sub = match program.as_str() {
            "git" => argv.get(3..5).map(|s| s.join(" ")).unwrap_or_default(),
            "tmux" => argv.get(5).cloned().unwrap_or_default(),
            _ => String::new(),
        };
        self.0
            .calls
            .lock()
            .unwrap()
            .push((format!("{program} {sub}"), started.elapsed()));
        out
    }
}

/// Measure 2: spawn against the raw sequence, then the adapters' breakdown.
fn spawn(rows: &mut Vec<Row>) {
    let repo = GitRepo::new();
    let mut env = bench_env();
    env.start_daemon();
    env.add_project("bench", &repo.path);
    let raw_root = env.root().join("raw");
    std::fs::create_dir_all(&raw_root).expect("raw root");
    let raw = |n: usize| -> Duration {
        let dir = raw_root.join(format!("raw-{n}"));
        let started = Instant::now();
        timed(
            Command::new("git")
                .arg("-C")
                .arg(&repo.path)
                .args(["worktree", "add", "--quiet", "-b", &format!("raw/{n}")])
                .arg(&dir)
                .arg("origin/main")
                .stdout(Stdio::null()),
        );
        timed(
            Command::new("tmux")
                .arg("-S")
                .arg(&env.tmux_socket)
                .args(["new-session", "-d", "-s", &format!("raw-{n}"), "-c"])
                .arg(&dir)
                .args(["sleep", "100000"])
                .env_remove("TMUX"),
        );
        started.elapsed()
    };
    let ours = || -> Duration {
        timed(
            env.aoctl()
                .args(["spawn", "-p", "bench", "--cmd", "sleep 100000"]),
        )
        .0
    };

    // Where the time goes: the same adapters the daemon runs, called directly with a runner
    // that records every process.
    let recording = Arc::new(Recording::default());
    let runner: Arc<dyn CommandRunner> = Arc::new(RecordingRunner(recording.clone()));
    let probe_root = env.root().join("probe");
    let worktree = GitWorktree::new(
        GitWorktreeOptions::for_data_dir(&probe_root),
        runner.clone(),
    )
    .expect("worktree adapter");
    let conf = write_tmux_conf(&probe_root, false).expect("tmux.conf");
    let tmux = TmuxRuntime::new(
        TmuxOptions::new(
            TmuxSocket::Path(env.tmux_socket.clone()),
            conf,
            probe_root.join("output"),
        ),
        runner,
    )
    .expect("tmux adapter");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio");
    let adapters = |n: usize| -> (Duration, Duration) {
        let id = SessionId::parse(&format!("probe-{n}")).expect("id");
        let request = WorkspaceRequest {
            repo: repo.path.clone(),
            project_id: ProjectId::parse("bench").expect("project"),
            session_id: id.clone(),
            branch: format!("ao/probe-{n}"),
            base_branch: None,
        };
        rt.block_on(async {
            let started = Instant::now();
            let info = worktree.create(&request).await.expect("worktree create");
            let ws = started.elapsed();
            let started = Instant::now();
            tmux.create(&RuntimeConfig {
                session_id: id,
                workspace_path: info.path,
                argv: vec!["sleep".into(), "100000".into()],
                env: BTreeMap::new(),
            })
            .await
            .expect("tmux create");
            (ws, started.elapsed())
        })
    };
    let client = || timed(env.aoctl().args(["daemon", "status", "--json"])).0;

    // Warm-up, then the four measurements interleaved so they share the machine's load.
    ours();
    raw(1000);
    adapters(1000);
    recording.calls.lock().unwrap().clear();
    let (mut a, mut b, mut ws_times, mut rt_times, mut ping) =
        (vec![], vec![], vec![], vec![], vec![]);
    for n in 0..SPAWN_ROUNDS {
        a.push(ours());
        b.push(raw(n));
        let (ws, rtm) = adapters(n);
        ws_times.push(ws);
        rt_times.push(rtm);
        ping.push(client());
    }
    let (a, b) = (median(a), median(b));
    let ratio = a.as_secs_f64() / b.as_secs_f64();
    rows.push(Row {
        what: "aoctl spawn (command agent) (median)".into(),
        ours: format!("{:.1} ms", ms(a)),
        baseline: format!("{:.1} ms", ms(b)),
        ratio: format!("{ratio:.2}x"),
        goal: "<= 1.5x",
        met: Some(ratio <= 1.5),
    });
    let calls = recording.calls.lock().unwrap();
    let mut by_kind: BTreeMap<&str, (usize, Duration)> = BTreeMap::new();
    for (what, took) in calls.iter() {
        let entry = by_kind.entry(what.as_str()).or_default();
        entry.0 += 1;
        entry.1 += *took;
    }
    let per = SPAWN_ROUNDS as f64;
    let (ws, rtm, ping) = (median(ws_times), median(rt_times), median(ping));
    let git_procs: usize = by_kind
        .iter()
        .filter(|(k, _)| k.starts_with("git"))
        .map(|(_, v)| v.0)
        .sum();
    let tmux_procs: usize = by_kind
        .iter()
        .filter(|(k, _)| k.starts_with("tmux"))
        .map(|(_, v)| v.0)
        .sum();
    for (what, value) in [
        (
            "  of which worktree adapter create".to_owned(),
            format!("{:.1} ms", ms(ws)),
        ),
        (
            "  of which tmux adapter create".to_owned(),
            format!("{:.1} ms", ms(rtm)),
        ),
        (
            "  processes per spawn (git + tmux)".to_owned(),
            format!(
                "{:.0} + {:.0}",
                git_procs as f64 / per,
                tmux_procs as f64 / per
            ),
        ),
        (
            "  aoctl start + connect + ping".to_owned(),
            format!("{:.1} ms", ms(ping)),
        ),
        (
            "  rest: RPC, store writes, hooks, exclude".to_owned(),
            format!("{:.1} ms", ms(a.saturating_sub(ws + rtm + ping))),
        ),
    ] {
        rows.push(Row {
            what,
            ours: value,
            baseline: String::new(),
            ratio: String::new(),
            goal: "",
            met: None,
        });
    }
    println!("\nper-spawn processes of the adapters (mean count and time per spawn):");
    for (what, (count, total)) in &by_kind {
        println!(
            "  {what:<32} {:>4.1} x  {:>7.2} ms",
            *count as f64 / per,
            ms(*total) / per
        );
    }
    drop(calls);
    env.stop_daemon();
}

fn main() {
    let aod = ao_testkit::bin("aod");
    let release = aod
        .parent()
        .is_some_and(|dir| dir.file_name().is_some_and(|n| n == "release"));
    assert!(
        release,
        "run with `cargo bench --bench runner` \
         ({} is not a release build)",
        aod.display()
    );
    println!(
        "runner bench: aod {} (built {:?} ago)",
        aod.display(),
        modified_ago(&aod)
    );
    // `AO_BENCH_ONLY=spawn` (or `list`) runs one part; by default both run.
    let only = std::env::var("AO_BENCH_ONLY").unwrap_or_default();
    let mut rows = vec![];
    if only.is_empty() || only == "spawn" {
        spawn(&mut rows);
    }
    if only.is_empty() || only == "list" {
        list_and_idle(&mut rows);
    }
    print_table(
        &Columns {
            titles: ["measure", "ao", "baseline", "ratio", "goal"],
            widths: [44, 14, 14, 8, 10],
        },
        &rows,
    );
}

fn modified_ago(path: &Path) -> Duration {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .unwrap_or_default()
}
