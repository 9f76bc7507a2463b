//! The hook callback path (`aoctl hook <agent> <event>`), end to end through the real binaries:
//!
//! - **daemon down**: wall time of `aoctl hook claude-code stop` when no daemon listens (goal
//!   < 100 ms): process start, stdin, the failed connect, the `hooks.log` line;
//! - **hook → visible**: from starting `aoctl hook` with a state change until `aoctl ls --json`
//!   shows it (goal p50 <= 50 ms): the callback, the daemon's ingest and commit, and one `ls`
//!   round trip (an `ls` poll costs a process start too, so this is an upper bound);
//! - **hook, daemon up**: wall time of the callback alone when the daemon answers.
//!
//! Run with `cargo bench --bench hooks` (it builds and measures the release binaries).

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ao_testkit::{GitRepo, TestEnv, bin};

const SAMPLES: usize = 60;

fn hook(env: &[(&str, String)], agent: &str, event: &str, payload: &str) -> Duration {
    let started = Instant::now();
    let mut child = Command::new(bin("aoctl"))
        .args(["hook", agent, event])
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run aoctl hook");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(payload.as_bytes()).expect("payload");
    drop(stdin);
    let status = child.wait().expect("wait");
    assert!(status.success(), "aoctl hook exits 0");
    started.elapsed()
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    let index = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[index]
}

fn report(name: &str, samples: &mut [Duration]) {
    let p50 = percentile(samples, 0.5);
    let p95 = percentile(samples, 0.95);
    let max = percentile(samples, 1.0);
    println!(
        "{name:<22} n={:<3} p50={:>6.1} ms  p95={:>6.1} ms  max={:>6.1} ms",
        samples.len(),
        p50.as_secs_f64() * 1e3,
        p95.as_secs_f64() * 1e3,
        max.as_secs_f64() * 1e3
    );
}

fn main() {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("hook callback bench ({cores} cores)");

    // Daemon down.
    let dir = tempfile::tempdir().expect("temp dir");
    // Private, as a socket directory must be: "down" means no socket, not an untrusted one.
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .expect("make the temp dir private");
    let down_env = [
        ("AO_SESSION_ID", "proj-1".to_owned()),
        ("AO_DATA_DIR", dir.path().display().to_string()),
        (
            "AO_SOCKET",
            dir.path().join("absent.sock").display().to_string(),
        ),
    ];
    let mut down: Vec<Duration> = (0..SAMPLES)
        .map(|_| hook(&down_env, "claude-code", "stop", r#"{"session_id":"c-1"}"#))
        .collect();
    report("daemon down", &mut down);

    // Daemon up, one session of the `command` agent (no output: the observer stays quiet).
    let repo = GitRepo::new();
    let mut env = TestEnv::with_config("[observer]\ntick = \"1h\"\n");
    env.start_daemon();
    env.add_project("bench", &repo.path);
    env.json(&["spawn", "-p", "bench", "--cmd", "sleep 3600"]);
    let up_env = [
        ("AO_SESSION_ID", "bench-1".to_owned()),
        ("AO_DATA_DIR", env.data_dir.display().to_string()),
        ("AO_SOCKET", env.socket.display().to_string()),
    ];
    let mut visible = vec![];
    let mut callback = vec![];
    for i in 0..SAMPLES {
        let (event, want) = if i % 2 == 0 {
            ("user-prompt-submit", "active")
        } else {
            ("stop", "idle")
        };
        let started = Instant::now();
        callback.push(hook(
            &up_env,
            "claude-code",
            event,
            r#"{"session_id":"c-1"}"#,
        ));
        loop {
            let listed = env.json(&["ls"]);
            if listed[0]["activity"] == want {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "activity never became {want}: {listed}"
            );
        }
        visible.push(started.elapsed());
    }
    report("hook -> visible in ls", &mut visible);
    report("hook, daemon up", &mut callback);
    env.ok(&["kill", "bench-1"]);
    env.stop_daemon();
}
