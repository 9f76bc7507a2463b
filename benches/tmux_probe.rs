//! The batched probe against its alternatives on a private tmux server with 200 sessions.
//!
//! Reports, in one run, medians of: `probe_all` over 200 targets (one `list-panes -a` plus
//! `/proc` reads), one bare `tmux list-panes -a`, and 200 `has-session` calls. The goal is a
//! batched probe within 2x of the bare listing. Run with
//! `cargo bench -p ao --bench tmux_probe`.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ao::domain::{ProbeResult, RuntimeHandle};
use ao::ports::{ProbeTarget, Runtime};
use ao_adapters::process::{CommandRunner, CommandSpec, SystemRunner};
use ao_adapters::tmux::{TmuxOptions, TmuxRuntime, TmuxSocket, write_tmux_conf};

const SESSIONS: usize = 200;
const ROUNDS: usize = 40;
const HAS_SESSION_ROUNDS: usize = 5;

/// A private server; dropping it kills that server and removes its socket.
struct Server {
    _dir: tempfile::TempDir,
    socket: PathBuf,
    conf: PathBuf,
}

impl Server {
    fn tmux(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .arg("-f")
            .arg(&self.conf)
            .args(args)
            .env_remove("TMUX")
            .output()
            .expect("run tmux")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
        let _ = std::fs::remove_file(&self.socket);
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server {
        socket: dir.path().join("tmux.sock"),
        conf: write_tmux_conf(dir.path(), false).expect("tmux.conf"),
        _dir: dir,
    };
    let names: Vec<String> = (0..SESSIONS).map(|i| format!("bench-{i}")).collect();
    for batch in names.chunks(50) {
        let mut args: Vec<&str> = vec![];
        for name in batch {
            if !args.is_empty() {
                args.push(";");
            }
            // Like a launch script: a shell whose child is the agent.
            args.extend(["new-session", "-d", "-s", name, "sh", "-c", "sleep 1000; :"]);
        }
        let out = server.tmux(&args);
        assert!(out.status.success(), "creating sessions: {out:?}");
    }

    let options = TmuxOptions::new(
        TmuxSocket::Path(server.socket.clone()),
        server.conf.clone(),
        server.socket.with_file_name("output"),
    );
    let runner = Arc::new(SystemRunner);
    let runtime = TmuxRuntime::new(options, runner.clone()).expect("runtime");
    let targets: Vec<ProbeTarget> = names
        .iter()
        .map(|n| ProbeTarget {
            handle_id: n.clone(),
            pane_id: None,
        })
        .collect();
    let bare = CommandSpec::new("tmux", Duration::from_secs(5))
        .arg("-S")
        .arg(&server.socket)
        .arg("-f")
        .arg(&server.conf)
        .args(["list-panes", "-a"]);

    // Wait until the probe sees every agent alive (the shells start their children
    // asynchronously), which also warms up.
    let started = Instant::now();
    loop {
        let facts = runtime.probe_all(&targets).await;
        let alive = facts
            .iter()
            .filter(|f| f.runtime == ProbeResult::Alive && f.process == ProbeResult::Alive)
            .count();
        if alive == SESSIONS {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "only {alive} of {SESSIONS} sessions alive/alive"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for _ in 0..3 {
        runner.run(&bare).await.expect("bare list-panes");
    }

    let mut probe = vec![];
    let mut listing = vec![];
    for _ in 0..ROUNDS {
        let started = Instant::now();
        runtime.probe_all(&targets).await;
        probe.push(started.elapsed());
        let started = Instant::now();
        let out = runner.run(&bare).await.expect("bare list-panes");
        listing.push(started.elapsed());
        assert!(out.success());
    }
    let mut has_session = vec![];
    for _ in 0..HAS_SESSION_ROUNDS {
        let started = Instant::now();
        for name in &names {
            let handle = RuntimeHandle {
                id: name.clone(),
                runtime_name: "tmux".to_owned(),
                pane_id: None,
            };
            assert!(runtime.is_alive(&handle).await.expect("has-session"));
        }
        has_session.push(started.elapsed());
    }

    let (probe, listing, has_session) = (median(probe), median(listing), median(has_session));
    let ratio = probe.as_secs_f64() / listing.as_secs_f64();
    println!("tmux_probe: {SESSIONS} sessions, {} cores", num_cpus());
    println!(
        "  probe_all (1 list-panes -a + /proc)  median {:8.2} ms  ({ROUNDS} rounds)",
        ms(probe)
    );
    println!(
        "  bare tmux list-panes -a              median {:8.2} ms  ({ROUNDS} rounds)",
        ms(listing)
    );
    println!(
        "  {SESSIONS} x has-session                     median {:8.2} ms  ({HAS_SESSION_ROUNDS} rounds)",
        ms(has_session)
    );
    println!(
        "  probe / bare listing = {ratio:.2}x (goal <= 2x: {})",
        if ratio <= 2.0 { "met" } else { "NOT met" }
    );
}

fn num_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(run());
}
