//! `aoctl send` into a `bash --norc -i` pane against raw tmux, with 200 sessions alive, RELEASE
//! builds of `aod` and `aoctl`.
//!
//! One round, for each side: the time from starting the send to the command's output showing in
//! the pane (polled with `capture-pane`, the same way for both sides):
//! - ours: `aoctl send <id> "echo mark-N"` (the daemon types it, waits until the text shows, then
//!   presses Enter);
//! - raw: `tmux send-keys -l "echo mark-N"` then `tmux send-keys Enter` into another bash pane on
//!   the same tmux server.
//!
//! Rounds alternate between the two; the table shows medians and the ratio (goal <= 2x).
//!
//! Run with: `cargo bench --bench send_latency`

#[path = "support/report.rs"]
mod report;

use std::process::Command;
use std::time::{Duration, Instant};

use ao_testkit::{GitRepo, TestEnv};
use report::{Columns, Row, median, ms, print_table, timed};

const SESSIONS: usize = 200;
const ROUNDS: usize = 25;
const WARMUP: usize = 3;
/// The longest one round may take before the bench gives up.
const ROUND_DEADLINE: Duration = Duration::from_secs(10);

const CONFIG: &str = r#"
[runtime.tmux]
load_user_config = false
"#;

fn tmux(env: &TestEnv) -> Command {
    let mut c = Command::new("tmux");
    c.arg("-S").arg(&env.tmux_socket).env_remove("TMUX");
    c
}

/// Polls the pane until a row reads exactly `line`; returns when it does.
fn wait_output(env: &TestEnv, target: &str, line: &str) {
    let started = Instant::now();
    loop {
        let out = tmux(env)
            .args(["capture-pane", "-p", "-t", target])
            .output()
            .expect("capture-pane");
        if String::from_utf8_lossy(&out.stdout)
            .lines()
            .any(|l| l.trim_end() == line)
        {
            return;
        }
        assert!(
            started.elapsed() < ROUND_DEADLINE,
            "no {line:?} in {target}:\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

/// Waits until the pane shows a bash prompt with nothing after it.
fn wait_prompt(env: &TestEnv, target: &str) {
    let started = Instant::now();
    loop {
        let out = tmux(env)
            .args(["capture-pane", "-p", "-t", target])
            .output()
            .expect("capture-pane");
        let text = String::from_utf8_lossy(&out.stdout);
        let last = text.lines().rev().find(|l| !l.trim().is_empty());
        if last.is_some_and(|l| l.ends_with('$') || l.ends_with('#')) {
            return;
        }
        assert!(
            started.elapsed() < ROUND_DEADLINE,
            "no prompt in {target}:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn ours(env: &TestEnv, id: &str, target: &str, n: usize) -> Duration {
    let command = format!("echo mark-{n}");
    let started = Instant::now();
    timed(env.aoctl().args(["send", id, &command]));
    wait_output(env, target, &format!("mark-{n}"));
    let took = started.elapsed();
    wait_prompt(env, target);
    took
}

fn raw(env: &TestEnv, target: &str, n: usize) -> Duration {
    let command = format!("echo raw-{n}");
    let started = Instant::now();
    timed(tmux(env).args(["send-keys", "-t", target, "-l", "--", &command]));
    timed(tmux(env).args(["send-keys", "-t", target, "Enter"]));
    wait_output(env, target, &format!("raw-{n}"));
    let took = started.elapsed();
    wait_prompt(env, target);
    took
}

fn main() {
    let aod = ao_testkit::bin("aod");
    assert!(
        aod.parent()
            .is_some_and(|dir| dir.file_name().is_some_and(|n| n == "release")),
        "run with `cargo bench --bench send_latency` ({} is not a release build)",
        aod.display()
    );
    let repo = GitRepo::new();
    let mut env = TestEnv::with_config(CONFIG);
    env.env.push(("AO_LOG".into(), "info".into()));
    env.start_daemon();
    env.add_project("bench", &repo.path);
    let id = env.spawn_cmd("bench", "bash --norc -i");
    for _ in 1..SESSIONS {
        env.spawn_cmd("bench", "sleep 100000");
    }
    assert_eq!(env.tmux_sessions().len(), SESSIONS);
    // The raw side's bash, on the same tmux server.
    timed(tmux(&env).args([
        "new-session",
        "-d",
        "-s",
        "raw",
        "-x",
        "220",
        "-y",
        "50",
        "bash",
        "--norc",
        "-i",
    ]));
    let (target, raw_target) = (format!("={id}:0.0"), "=raw:0.0".to_owned());
    wait_prompt(&env, &target);
    wait_prompt(&env, &raw_target);
    eprintln!("{SESSIONS} sessions alive; {WARMUP} warm-up rounds, then {ROUNDS}");

    let (mut our_times, mut raw_times) = (vec![], vec![]);
    for n in 0..WARMUP + ROUNDS {
        let o = ours(&env, &id, &target, n);
        let r = raw(&env, &raw_target, n);
        if n >= WARMUP {
            our_times.push(o);
            raw_times.push(r);
        }
    }
    let (o, r) = (median(our_times.clone()), median(raw_times.clone()));
    let ratio = o.as_secs_f64() / r.as_secs_f64();
    let max = |times: &[Duration]| times.iter().max().copied().unwrap_or_default();
    let rows = vec![
        Row {
            what: format!("send to output, bash pane, {SESSIONS} sessions (median)"),
            ours: format!("{:.1} ms", ms(o)),
            baseline: format!("{:.1} ms", ms(r)),
            ratio: format!("{ratio:.2}x"),
            goal: "<= 2.0x",
            met: Some(ratio <= 2.0),
        },
        Row::info(
            "  slowest round",
            format!("{:.1} ms", ms(max(&our_times))),
            format!("{:.1} ms", ms(max(&raw_times))),
            String::new(),
        ),
    ];
    print_table(
        &Columns {
            titles: ["measure", "aoctl send", "raw tmux", "ratio", "goal"],
            widths: [52, 12, 12, 8, 8],
        },
        &rows,
    );
    env.stop_daemon();
}
