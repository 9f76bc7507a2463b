//! Scenarios X1–X12: `aoctl hook` never fails the agent. Every case runs the real `aoctl`
//! binary; the daemon cases run a real `aod`.
//!
//! Wall time is measured in `benches/hooks.rs`; the bounds here only catch a hang (a callback
//! stuck on stdin or on a silent daemon for seconds).

use std::io::Write;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ao_testkit::{GitRepo, SLOW, TestEnv, bin, wait_for};

/// Far above the spec's 100–500 ms budgets; only a hang exceeds it.
const HANG: Duration = Duration::from_secs(10);

struct Run {
    out: Output,
    took: Duration,
}

/// Runs `aoctl hook <agent> <event>` with `env` and `payload` on stdin (closed after it).
fn hook(agent: &str, event: &str, env: &[(&str, &str)], payload: &[u8]) -> Run {
    let mut command = Command::new(bin("aoctl"));
    command
        .args(["hook", agent, event])
        .env_remove("AO_SESSION_ID")
        .env_remove("AO_RUNTIME_LAUNCH_ID")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    let started = Instant::now();
    let mut child = command.spawn().expect("run aoctl hook");
    let mut stdin = child.stdin.take().expect("stdin");
    let payload = payload.to_vec();
    // A separate writer: the callback reads while we write (the payload may exceed a pipe).
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&payload);
    });
    let out = child.wait_with_output().expect("wait for aoctl hook");
    let took = started.elapsed();
    writer.join().expect("payload writer");
    Run { out, took }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn log_lines(data_dir: &Path) -> Vec<String> {
    std::fs::read_to_string(data_dir.join("hooks.log"))
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Asserts the callback's contract: exit 0, nothing on stdout, no hang.
fn assert_quiet_success(run: &Run) {
    assert_eq!(
        run.out.status.code(),
        Some(0),
        "stderr: {}",
        text(&run.out.stderr)
    );
    assert!(
        run.out.stdout.is_empty(),
        "stdout: {}",
        text(&run.out.stdout)
    );
    assert!(run.took < HANG, "took {:?}", run.took);
}

/// A socket that accepts connections and never answers; counts them.
struct SilentDaemon {
    path: PathBuf,
    accepted: Arc<AtomicUsize>,
}

impl SilentDaemon {
    fn start(dir: &Path) -> Self {
        let path = dir.join("silent.sock");
        let listener = UnixListener::bind(&path).expect("bind the silent socket");
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        std::thread::spawn(move || {
            let mut held = vec![];
            for stream in listener.incoming().flatten() {
                count.fetch_add(1, Ordering::SeqCst);
                held.push(stream);
            }
        });
        Self { path, accepted }
    }

    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

struct Dirs {
    _tmp: tempfile::TempDir,
    data: PathBuf,
    absent_socket: String,
}

fn dirs() -> Dirs {
    let tmp = tempfile::Builder::new()
        .prefix("ao-hook")
        .tempdir_in("/tmp")
        .expect("temp dir");
    let base = tmp.path().to_path_buf();
    // A daemon's socket is only used in a directory private to its user.
    std::fs::set_permissions(&base, std::os::unix::fs::PermissionsExt::from_mode(0o700))
        .expect("make the temp dir private");
    Dirs {
        data: base.join("data"),
        absent_socket: base.join("absent.sock").display().to_string(),
        _tmp: tmp,
    }
}

/// Creates `dir` with mode 0700, as the daemon does: only there is a socket trusted.
fn private_dir(dir: &Path) {
    std::os::unix::fs::DirBuilderExt::mode(&mut std::fs::DirBuilder::new(), 0o700)
        .create(dir)
        .expect("create a private directory");
}

/// X1: daemon down.
#[test]
fn x1_daemon_down_logs_one_line() {
    let d = dirs();
    let data = d.data.display().to_string();
    let env = [
        ("AO_SESSION_ID", "proj-1"),
        ("AO_DATA_DIR", data.as_str()),
        ("AO_SOCKET", d.absent_socket.as_str()),
    ];
    let run = hook("claude-code", "stop", &env, br#"{"session_id":"c-1"}"#);
    assert_quiet_success(&run);
    assert_eq!(text(&run.out.stderr).lines().count(), 1, "one stderr line");
    let lines = log_lines(&d.data);
    assert_eq!(lines.len(), 1, "{lines:?}");
    for needle in ["proj-1", "claude-code", "stop"] {
        assert!(lines[0].contains(needle), "{}", lines[0]);
    }
    let time = lines[0].split(' ').next().unwrap_or_default();
    assert!(
        chrono::DateTime::parse_from_rfc3339(time).is_ok(),
        "RFC 3339 first: {time}"
    );
}

/// X2: a socket that accepts but never answers; X12: nothing to report → no contact.
#[test]
fn x2_x12_silent_daemon_deadline_and_no_contact() {
    let d = dirs();
    private_dir(&d.data);
    let silent = SilentDaemon::start(&d.data);
    let data = d.data.display().to_string();
    let socket = silent.path.display().to_string();
    let env = [
        ("AO_SESSION_ID", "proj-1"),
        ("AO_DATA_DIR", data.as_str()),
        ("AO_SOCKET", socket.as_str()),
    ];
    let nothing = hook(
        "claude-code",
        "notification",
        &env,
        br#"{"notification_type":"auth_success"}"#,
    );
    assert_quiet_success(&nothing);
    assert_eq!(silent.accepted(), 0, "X12: no daemon contact");
    assert!(log_lines(&d.data).is_empty());

    let run = hook("claude-code", "stop", &env, br#"{"session_id":"c-1"}"#);
    assert_quiet_success(&run);
    assert_eq!(silent.accepted(), 1);
    let lines = log_lines(&d.data);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("deadline"), "{}", lines[0]);
}

/// X3: no or invalid `AO_SESSION_ID` → silent, no contact, no log.
#[test]
fn x3_missing_or_invalid_session_is_silent() {
    let d = dirs();
    private_dir(&d.data);
    let silent = SilentDaemon::start(&d.data);
    let data = d.data.display().to_string();
    let socket = silent.path.display().to_string();
    for session in [None, Some("../x")] {
        let mut env = vec![
            ("AO_DATA_DIR", data.as_str()),
            ("AO_SOCKET", socket.as_str()),
        ];
        if let Some(s) = session {
            env.push(("AO_SESSION_ID", s));
        }
        let run = hook("claude-code", "stop", &env, br#"{"session_id":"c-1"}"#);
        assert_quiet_success(&run);
        assert!(run.out.stderr.is_empty(), "{}", text(&run.out.stderr));
    }
    assert_eq!(silent.accepted(), 0);
    assert!(log_lines(&d.data).is_empty());
}

/// X4, X5, X7: garbage payloads, unknown agents, huge payloads → one log line each.
#[test]
fn x4_x5_x7_bad_input_logs_once() {
    let d = dirs();
    let data = d.data.display().to_string();
    let env = [
        ("AO_SESSION_ID", "proj-1"),
        ("AO_DATA_DIR", data.as_str()),
        ("AO_SOCKET", d.absent_socket.as_str()),
    ];
    let garbage = hook("claude-code", "stop", &env, b"{not json");
    assert_quiet_success(&garbage);
    assert_eq!(log_lines(&d.data).len(), 1);
    assert!(log_lines(&d.data)[0].contains("invalid JSON"));

    let unknown = hook("nosuch", "stop", &env, br#"{"session_id":"c-1"}"#);
    assert_quiet_success(&unknown);
    let lines = log_lines(&d.data);
    assert_eq!(lines.len(), 2);
    assert!(lines[1].contains("nosuch"), "{}", lines[1]);

    // 5 MiB of a valid document: only the first MiB is parsed, which is not valid JSON.
    let mut big = br#"{"session_id":"c-1","pad":""#.to_vec();
    big.extend(std::iter::repeat_n(b'x', 5 * 1024 * 1024));
    big.extend(br#""}"#);
    let huge = hook("claude-code", "stop", &env, &big);
    assert_quiet_success(&huge);
    let lines = log_lines(&d.data);
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(lines[2].contains("invalid JSON"), "{}", lines[2]);
}

/// X6: an oversized log is emptied before the new line.
#[test]
fn x6_oversized_log_is_truncated() {
    let d = dirs();
    std::fs::create_dir_all(&d.data).unwrap();
    std::fs::write(d.data.join("hooks.log"), vec![b'x'; 1536 * 1024]).unwrap();
    let data = d.data.display().to_string();
    let env = [
        ("AO_SESSION_ID", "proj-1"),
        ("AO_DATA_DIR", data.as_str()),
        ("AO_SOCKET", d.absent_socket.as_str()),
    ];
    assert_quiet_success(&hook("claude-code", "stop", &env, br#"{"session_id":"c"}"#));
    let lines = log_lines(&d.data);
    assert_eq!(lines.len(), 1, "only the new line");
    assert!(lines[0].contains("proj-1"));
}

/// X11: 20 rapid callbacks while no daemon listens → 20 exits 0, 20 log lines.
#[test]
fn x11_rapid_callbacks_while_the_daemon_is_away() {
    let d = dirs();
    let data = d.data.display().to_string();
    let runs: Vec<_> = (0..20)
        .map(|i| {
            let data = data.clone();
            let socket = d.absent_socket.clone();
            std::thread::spawn(move || {
                let payload = format!(
                    r#"{{"session_id":"c-1","tool_name":"Bash","tool_use_id":"toolu_{i}"}}"#
                );
                let env = [
                    ("AO_SESSION_ID", "proj-1"),
                    ("AO_DATA_DIR", data.as_str()),
                    ("AO_SOCKET", socket.as_str()),
                ];
                hook("claude-code", "pre-tool-use", &env, payload.as_bytes())
            })
        })
        .collect();
    for run in runs {
        assert_quiet_success(&run.join().unwrap());
    }
    assert_eq!(log_lines(&d.data).len(), 20);
}

/// X8, X9, X10 against a real daemon with one running session, then a stop failure and the
/// next turn.
#[test]
fn x8_x9_x10_with_a_daemon() {
    let repo = GitRepo::new();
    // The terminal observer would otherwise report the pane's output as activity.
    let mut env = TestEnv::with_config("[observer]\ntick = \"1h\"\n");
    env.start_daemon();
    env.add_project("demo", &repo.path);
    env.json(&["spawn", "-p", "demo", "--cmd", "sleep 600"]);
    let data = env.data_dir.display().to_string();
    let socket = env.socket.display().to_string();
    let base = |session: &'static str| {
        vec![
            ("AO_SESSION_ID", session),
            ("AO_DATA_DIR", data.as_str()),
            ("AO_SOCKET", socket.as_str()),
        ]
    };

    // X8: unknown session.
    let run = hook(
        "claude-code",
        "stop",
        &base("demo-99"),
        br#"{"session_id":"c"}"#,
    );
    assert_quiet_success(&run);
    let lines = log_lines(&env.data_dir);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("demo-99") && lines[0].contains("SessionNotFound"));

    // X9: a signal from an older launch changes nothing.
    let before = env.json(&["get", "demo-1"]);
    let mut stale = base("demo-1");
    stale.push(("AO_RUNTIME_LAUNCH_ID", "L0"));
    let run = hook(
        "claude-code",
        "permission-request",
        &stale,
        br#"{"session_id":"c","tool_name":"Bash"}"#,
    );
    assert_quiet_success(&run);
    let after = env.json(&["get", "demo-1"]);
    assert_eq!(after["revision"], before["revision"], "record unchanged");
    assert_eq!(after["activity"], before["activity"]);

    // X10: a permission dialog makes the session need input.
    let run = hook(
        "claude-code",
        "permission-request",
        &base("demo-1"),
        br#"{"session_id":"c","tool_name":"Bash"}"#,
    );
    assert_quiet_success(&run);
    assert!(run.out.stderr.is_empty(), "{}", text(&run.out.stderr));
    let session = wait_for("needs_input", SLOW, || {
        let s = env.json(&["get", "demo-1"]);
        if s["status"] == "needs_input" {
            Ok(s)
        } else {
            Err(s.to_string())
        }
    });
    assert_eq!(session["activity"], "blocked");

    // A turn an API error ended (the pinned CLI's payload, with terminal codes added): idle,
    // the error kept on one line; the next turn removes it.
    let run = hook(
        "claude-code",
        "stop-failure",
        &base("demo-1"),
        "{\"session_id\":\"c\",\"hook_event_name\":\"StopFailure\",\"error\":\"rate_limit\",\
          \"last_assistant_message\":\"API Error: Request rejected (429)\\n\\u001b[31m· slow down\"}"
            .as_bytes(),
    );
    assert_quiet_success(&run);
    let session = env.json(&["get", "demo-1"]);
    assert_eq!(
        (&session["status"], &session["activity"]),
        (&"idle".into(), &"idle".into()),
        "{session}"
    );
    assert_eq!(
        session["last_turn_error"],
        serde_json::json!({"kind": "rate_limit", "message": "API Error: Request rejected (429) [31m· slow down"}),
    );
    let detail = env.ok(&["get", "demo-1"]);
    assert!(
        detail.lines().any(|l| l.starts_with("last turn error")
            && l.ends_with("rate_limit: API Error: Request rejected (429) [31m· slow down")),
        "{detail}"
    );
    let run = hook(
        "claude-code",
        "user-prompt-submit",
        &base("demo-1"),
        br#"{"session_id":"c","prompt":"again"}"#,
    );
    assert_quiet_success(&run);
    let session = env.json(&["get", "demo-1"]);
    assert_eq!(session["activity"], "active", "{session}");
    assert_eq!(
        session["last_turn_error"],
        serde_json::Value::Null,
        "{session}"
    );
    assert!(!env.ok(&["get", "demo-1"]).contains("last turn error"));
    assert_eq!(log_lines(&env.data_dir).len(), 1, "no new failure");
    env.stop_daemon();
}
