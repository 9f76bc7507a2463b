//! End-to-end tests of the daemon's life: restarts that adopt live sessions, `daemon stop` and
//! SIGTERM, autostart by `aoctl`, the single-instance checks, a stale socket file and
//! `--ephemeral`.

use std::process::Stdio;

use ao_testkit::{GitRepo, SLOW, TestEnv, assert_error, wait_for};
use nix::sys::signal::Signal;
use serde_json::Value;

/// An agent that prints a line every half second: the terminal observer sees it working.
const TICKER: &str = "sh -c 'while :; do echo tick; sleep 0.5; done'";

/// `(id, status)` of every listed session.
fn statuses(env: &TestEnv) -> Vec<(String, String)> {
    env.json(&["ls"])
        .as_array()
        .expect("ls --json prints an array")
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap_or_default().to_owned(),
                s["status"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn last_seq(env: &TestEnv) -> i64 {
    env.json(&["events"])
        .as_array()
        .and_then(|events| events.last())
        .and_then(|e| e["seq"].as_i64())
        .unwrap_or(0)
}

/// Statuses a live session of these tests never shows unless something went wrong.
const CHANGED: &str =
    "killed,errored,terminated,done,cleanup,detecting,stuck,no_signal,idle,needs_input";

/// How a test ends the daemon.
#[derive(Debug, Clone, Copy)]
enum Stop {
    /// `aoctl daemon stop`.
    Command,
    /// SIGTERM, as a service manager stops it.
    Sigterm,
    /// SIGKILL: a crash.
    Kill,
}

/// Stops the daemon `how`; a graceful stop must end in a clean exit with the socket removed.
fn stop(env: &mut TestEnv, how: Stop) {
    match how {
        Stop::Command => {
            env.stop_daemon();
        }
        Stop::Sigterm => {
            env.signal_daemon(Signal::SIGTERM);
            let status = env.wait_daemon_exit();
            assert!(status.success(), "aod exited with {status} after SIGTERM");
        }
        Stop::Kill => env.kill_daemon_hard(),
    }
    if !matches!(how, Stop::Kill) {
        assert!(!env.socket.exists(), "{how:?}: the socket is removed");
    }
}

/// Restarts the daemon (stopped `how`) and checks that every live session was adopted: same
/// panes and pane processes, same statuses, no notification, no transition.
fn restart_and_check_adoption(env: &mut TestEnv, how: Stop) {
    let panes = env.panes();
    let before = statuses(env);
    let seq = last_seq(env);
    stop(env, how);
    assert_eq!(env.panes(), panes, "the daemon's exit touched no pane");
    assert!(
        panes
            .iter()
            .all(|(_, _, pid)| ao_testkit::procfs::process_alive(*pid)),
        "every pane's process runs on: {panes:?}"
    );
    let offset = env.log_len();
    env.start_daemon();
    let boot = env.log_since(offset);
    assert!(
        boot.contains(&format!("adopted={}", before.len())),
        "boot reconcile adopted every session:\n{boot}"
    );
    assert_eq!(statuses(env), before, "statuses unchanged");

    // Several reaper and observer ticks (1 s and 500 ms) pass without any session changing.
    let mut args = vec!["wait"];
    args.extend(before.iter().map(|(id, _)| id.as_str()));
    args.extend(["--any", "--status", CHANGED, "--timeout", "3s"]);
    let out = env.run(&args);
    assert_eq!(
        out.status.code(),
        Some(1),
        "no session changed after the restart: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(statuses(env), before, "statuses unchanged after ticks");
    assert_eq!(env.panes(), panes, "panes untouched");
    let changes: Vec<Value> = env
        .json(&["events", "--since", &seq.to_string()])
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|e| e["type"] != "session_activity_updated")
        .collect();
    assert!(
        changes.is_empty(),
        "no transition after restart: {changes:?}"
    );
    let log = env.log_since(offset);
    assert!(
        !log.contains("ao::notify"),
        "no notification after restart:\n{log}"
    );
}

#[test]
fn restart_adopts_every_live_session() {
    let repo = GitRepo::new();
    let mut env = TestEnv::fast();
    env.start_daemon();
    env.add_project("demo", &repo.path);
    // Agents that print all the time hold still at `working` (a silent one would turn `idle`
    // 60 s after its start, which a slow run could see in the middle of a check).
    let printer = env.spawn_cmd("demo", "sh -c 'while :; do date; sleep 0.3; done'");
    let ticker = env.spawn_cmd("demo", TICKER);
    env.ok(&[
        "wait",
        &ticker,
        &printer,
        "--status",
        "working",
        "--timeout",
        "60s",
    ]);
    // `working` comes first from the probe (`agent_acknowledged`); the terminal observer's
    // reading of the output (`task_in_progress`) must also be in before the restart, or it
    // would show up as a change after it.
    for id in [&printer, &ticker] {
        wait_for(&format!("{id}'s output to be seen"), SLOW, || {
            let session = env.json(&["get", id]);
            if session["session_reason"] == "task_in_progress" {
                Ok(())
            } else {
                Err(session.to_string())
            }
        });
    }

    restart_and_check_adoption(&mut env, Stop::Command);
    restart_and_check_adoption(&mut env, Stop::Sigterm);
    restart_and_check_adoption(&mut env, Stop::Kill);

    // The adopted sessions are fully usable: the terminal echoes what is typed.
    env.ok(&["send", &ticker, "typed-after-restart"]);
    env.wait_tail(&ticker, "typed-after-restart");
    env.ok(&["kill", &printer]);
    assert!(!env.tmux_sessions().contains(&printer));
    env.stop_daemon();
}

#[test]
fn daemon_stop_keeps_sessions_running() {
    let repo = GitRepo::new();
    let mut env = TestEnv::new();
    env.start_daemon();
    env.add_project("demo", &repo.path);
    let id = env.spawn_cmd("demo", "sh");
    let panes = env.panes();
    let text = env.stop_daemon();
    assert!(text.contains("sessions keep running"), "{text}");

    assert!(!env.socket.exists(), "the socket is removed");
    assert_eq!(env.panes(), panes, "the pane and its process stay");
    assert!(
        ao_testkit::procfs::process_alive(panes[0].2),
        "the pane's shell runs"
    );
    assert_error(&env.run(&["ls"]), 3);
    // The work goes on without the daemon.
    env.tmux(&[
        "send-keys",
        "-t",
        &format!("={id}:0.0"),
        "-l",
        "echo alone-$((4+4))",
    ]);
    env.tmux(&["send-keys", "-t", &format!("={id}:0.0"), "Enter"]);
    wait_for("the pane to keep working", SLOW, || {
        let pane = env.capture(&id);
        if pane.contains("alone-8") {
            Ok(())
        } else {
            Err(pane)
        }
    });
    env.start_daemon();
    let status = env.status(&id);
    assert!(
        ["spawning", "working", "idle"].contains(&status.as_str()),
        "adopted as live: {status}"
    );
    env.wait_tail(&id, "alone-8");
    env.stop_daemon();
}

/// SIGTERM stops the daemon as `daemon stop` does: a spawn in flight (held in its post-create
/// command until the daemon is shutting down) completes and its reply reaches `aoctl`, the
/// daemon exits cleanly, the socket is removed, and every session keeps running.
#[test]
fn sigterm_finishes_work_in_flight_and_leaves_the_sessions_running() {
    let repo = GitRepo::new();
    let gated_repo = GitRepo::new();
    let mut env = TestEnv::new();
    // Room for the held spawn to finish once it is let go, however loaded the machine.
    env.env
        .push(("AO_SHUTDOWN_TIMEOUT".to_owned(), "60s".to_owned()));
    env.start_daemon();
    env.add_project("demo", &repo.path);
    let running = env.spawn_cmd("demo", "sh");
    let started = env.root().join("post-create-started");
    let go = env.root().join("post-create-go");
    let gate = format!(
        "sh -c 'touch {}; while [ ! -e {} ]; do sleep 0.05; done'",
        started.display(),
        go.display()
    );
    env.ok(&[
        "project",
        "add",
        "gated",
        gated_repo.path.to_str().unwrap(),
        "--post-create",
        &gate,
    ]);
    let spawn = env
        .aoctl()
        .args(["spawn", "-p", "gated", "--cmd", "sh", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run aoctl spawn");
    wait_for("the spawn to reach its post-create command", SLOW, || {
        started.exists().then_some(()).ok_or_else(String::new)
    });

    let offset = env.log_len();
    let pid = env.daemon_pid().expect("the daemon's pid");
    env.signal_daemon(Signal::SIGTERM);
    wait_for("the daemon to start shutting down", SLOW, || {
        let log = env.log_since(offset);
        assert!(
            log.contains("shutting down") || ao_testkit::procfs::process_alive(pid),
            "the daemon died on SIGTERM instead of shutting down:\n{log}"
        );
        log.contains("shutting down").then_some(()).ok_or(log)
    });
    std::fs::write(&go, "").unwrap();
    let spawned = spawn.wait_with_output().expect("aoctl spawn");
    let status = env.wait_daemon_exit();
    assert!(
        spawned.status.success(),
        "the spawn in flight got its reply: {}",
        String::from_utf8_lossy(&spawned.stderr)
    );
    let session: Value = serde_json::from_slice(&spawned.stdout).expect("spawn --json");
    assert_eq!(session["id"], "gated-1");
    assert!(status.success(), "aod exited with {status} after SIGTERM");
    assert!(!env.socket.exists(), "the socket is removed");

    let panes = env.panes();
    let sessions: Vec<&str> = panes.iter().map(|(name, _, _)| name.as_str()).collect();
    assert!(
        sessions.contains(&running.as_str()) && sessions.contains(&"gated-1"),
        "both sessions keep their panes: {panes:?}"
    );
    assert!(
        panes
            .iter()
            .all(|(_, _, pid)| ao_testkit::procfs::process_alive(*pid)),
        "every pane's process runs on: {panes:?}"
    );
    env.start_daemon();
    for id in [running.as_str(), "gated-1"] {
        let status = env.status(id);
        assert!(
            ["spawning", "working", "idle"].contains(&status.as_str()),
            "{id} adopted as live: {status}"
        );
    }
    env.stop_daemon();
}

#[test]
fn aoctl_autostarts_the_daemon_with_its_settings() {
    let repo = GitRepo::new();
    let env = TestEnv::with_config(
        r#"
[runtime.tmux]
load_user_config = false
[agents.greeter]
kind = "command"
argv = ["sh", "-c", "echo greeter-$((40+2)); exec sleep 100000"]
"#,
    );
    // Without autostart and without a daemon: exit code 3, one clear line.
    let line = assert_error(&env.run(&["ls"]), 3);
    assert!(line.contains("no daemon answers"), "{line}");
    assert!(!env.data_dir.join("aod.lock").exists(), "nothing started");

    let out = env
        .aoctl_autostart()
        .args(["project", "add", "demo", repo.path.to_str().unwrap()])
        .stdin(Stdio::null())
        .output()
        .expect("run aoctl");
    assert!(
        out.status.success(),
        "autostarting project add: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pong = env.json(&["daemon", "status"]);
    assert_eq!(pong["data_dir"], env.data_dir.to_str().unwrap(), "{pong}");
    assert_eq!(pong["socket"], env.socket.to_str().unwrap(), "{pong}");
    assert!(env.log_path().is_file(), "the daemon logs to the data dir");

    // The configuration file and the tmux socket were passed on.
    let session = env.json(&["spawn", "-p", "demo", "--agent", "greeter"]);
    let id = session["id"].as_str().unwrap().to_owned();
    assert_eq!(
        env.tmux_sessions(),
        vec![id.clone()],
        "on the env's tmux server"
    );
    env.wait_tail(&id, "greeter-42");
}

#[test]
fn a_second_daemon_on_the_same_data_dir_exits() {
    let mut env = TestEnv::new();
    env.start_daemon();
    let first = env.daemon_pid();
    let log_offset = env.log_len();

    // Same data dir and socket.
    let out = env.aod().stderr(Stdio::piped()).output().expect("run aod");
    assert!(!out.status.success(), "a second aod must fail");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("daemon already running"), "{stderr}");

    // Same data dir, another socket: the lock refuses it too.
    let out = env
        .aod()
        .arg("--socket")
        .arg(env.root().join("other.sock"))
        .stderr(Stdio::piped())
        .output()
        .expect("run aod");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("daemon already running"));
    assert!(!env.root().join("other.sock").exists());

    // Same socket, another data dir: the answering socket refuses it.
    let out = env
        .aod()
        .arg("--data-dir")
        .arg(env.root().join("other-data"))
        .stderr(Stdio::piped())
        .output()
        .expect("run aod");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("daemon already running"));

    assert_eq!(env.answering_pid(), first, "the first daemon still serves");
    assert!(
        !env.log_since(log_offset).contains("shutting down"),
        "the first daemon did not stop"
    );
    env.stop_daemon();
}

#[test]
fn a_stale_socket_file_is_replaced() {
    let mut env = TestEnv::new();
    // A socket file nobody listens on, as a crashed daemon leaves it.
    drop(std::os::unix::net::UnixListener::bind(&env.socket).expect("bind"));
    assert!(env.socket.exists());
    // A process another test forks at that moment holds the listener until it execs; once
    // every copy is closed the socket refuses connections for good.
    wait_for(
        "the socket file to be stale",
        SLOW,
        || match std::os::unix::net::UnixStream::connect(&env.socket) {
            Ok(_) => Err("it still accepts".to_owned()),
            Err(_) => Ok(()),
        },
    );
    env.start_daemon();
    assert_eq!(env.json(&["ls"]), serde_json::json!([]));
    env.stop_daemon();
    assert!(!env.socket.exists());
}

/// `daemon stop` gets its answer every time: the daemon used to exit before writing the reply
/// to `shutdown`, and `aoctl daemon stop` failed with "the daemon closed the connection".
#[test]
fn daemon_stop_succeeds_every_time() {
    let mut env = TestEnv::new();
    for _ in 0..10 {
        env.start_daemon();
        let said = env.stop_daemon();
        assert!(said.contains("aod stopped"), "{said}");
        assert!(!env.socket.exists());
    }
}

/// The `aod-ephemeral-*` directories under `dir`.
fn ephemeral_dirs(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("aod-ephemeral-"))
        })
        .collect()
}

#[test]
fn ephemeral_runs_a_real_store_and_keeps_nothing() {
    let repo = GitRepo::new();
    let mut env = TestEnv::fast();
    let tmp = env.root().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let ephemeral = |c: &mut std::process::Command| {
        c.arg("--ephemeral").env("TMPDIR", &tmp);
    };
    env.start_daemon_with(ephemeral);
    env.add_project("demo", &repo.path);
    let id = env.spawn_cmd("demo", TICKER);
    env.ok(&["wait", &id, "--status", "working", "--timeout", "60s"]);
    assert_eq!(statuses(&env), [(id.clone(), "working".to_owned())]);
    // The store is SQLite in a directory of its own, never the data directory's.
    let dirs = ephemeral_dirs(&tmp);
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    assert!(dirs[0].join("ao.db").is_file(), "{:?}", dirs[0]);
    assert!(!env.data_dir.join("ao.db").exists());
    // (Only the store's line matters here.)
    let doctor = String::from_utf8_lossy(&env.run(&["doctor"]).stdout).into_owned();
    assert!(
        doctor
            .lines()
            .any(|l| l.contains("store") && l.contains("(ephemeral)")),
        "{doctor}"
    );

    env.ok(&["kill", &id]);
    env.stop_daemon();
    assert_eq!(ephemeral_dirs(&tmp), Vec::<std::path::PathBuf>::new());

    // A new ephemeral daemon starts from nothing.
    env.start_daemon_with(ephemeral);
    assert_eq!(env.json(&["ls", "--all"]), serde_json::json!([]));
    assert_eq!(env.json(&["project", "ls"]), serde_json::json!([]));
    env.stop_daemon();
    assert!(!env.data_dir.join("ao.db").exists());
}
