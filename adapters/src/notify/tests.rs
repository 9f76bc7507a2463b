//! The notifier and its sinks: priority routing, per-sink FIFO order and overflow, a slow sink
//! never blocking `notify`, the desktop argv (fake runner), the webhook against a loopback
//! server, and the command sink running a real program.

use std::os::unix::fs::PermissionsExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tracing::Level;

use super::*;
use crate::process::{CommandOutput, CommandSpec, ProcessError, SystemRunner};
use ao_core::domain::{ProjectId, SessionId, Timestamp};
use ao_testkit::fakes::LogCapture;
use ao_testkit::fixtures::t0;
use ao_testkit::http::{HttpServer, Response};

fn event(kind: &str, priority: Priority) -> NotifyEvent {
    NotifyEvent {
        event_type: kind.to_owned(),
        priority,
        session_id: SessionId::parse("proj-3").unwrap(),
        project_id: ProjectId::parse("proj").unwrap(),
        message: format!("message of {kind}"),
        data: serde_json::json!({"reaction": "ci-failed"}),
        created_at: t0(),
    }
}

/// Records deliveries (and when each was attempted); can hold each delivery until a permit is
/// given, or fail.
#[derive(Default)]
struct RecordingSink {
    delivered: Mutex<Vec<NotifyEvent>>,
    attempted_at: Mutex<Vec<tokio::time::Instant>>,
    gate: Option<Arc<Semaphore>>,
    started: Notify,
    fail: AtomicBool,
}

impl RecordingSink {
    fn delivered(&self) -> Vec<String> {
        self.delivered
            .lock()
            .unwrap()
            .iter()
            .map(|e| e.event_type.clone())
            .collect()
    }
}

#[async_trait]
impl Sink for RecordingSink {
    fn kind(&self) -> &'static str {
        "recording"
    }

    async fn deliver(&self, event: &NotifyEvent) -> Result<(), SinkError> {
        self.started.notify_one();
        self.attempted_at
            .lock()
            .unwrap()
            .push(tokio::time::Instant::now());
        if let Some(gate) = &self.gate {
            gate.acquire().await.unwrap().forget();
        }
        self.delivered.lock().unwrap().push(event.clone());
        if self.fail.load(Ordering::SeqCst) {
            Err(SinkError("the sink is broken".into()))
        } else {
            Ok(())
        }
    }
}

async fn wait_until(what: &str, check: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn events_are_routed_by_priority_and_logged() {
    let (logs, _guard) = LogCapture::install();
    let all = Arc::new(RecordingSink::default());
    let actionable = Arc::new(RecordingSink::default());
    let notifiers = Notifiers::new(vec![
        (all.clone() as Arc<dyn Sink>, Priority::Info),
        (actionable.clone() as Arc<dyn Sink>, Priority::Action),
    ]);
    let cancel = CancellationToken::new();
    let run = tokio::spawn(notifiers.clone().run(cancel.clone()));
    for (kind, priority) in [
        ("reaction.escalated", Priority::Urgent),
        ("reaction.ci-failed", Priority::Action),
        ("workspace.preserved-conflict", Priority::Warning),
        ("reaction.agent-idle", Priority::Info),
    ] {
        notifiers.notify(event(kind, priority)).await;
    }
    wait_until("deliveries", || all.delivered().len() == 4).await;
    cancel.cancel();
    run.await.unwrap();
    assert_eq!(
        actionable.delivered(),
        vec!["reaction.escalated", "reaction.ci-failed"]
    );
    assert_eq!(
        logs.matching(Level::WARN, "message of reaction.escalated")
            .len(),
        1
    );
    assert_eq!(
        logs.matching(Level::INFO, "message of reaction.agent-idle")
            .len(),
        1
    );
    assert_eq!(
        notifiers.describe(),
        vec!["log", "recording (min info)", "recording (min action)"]
    );
}

#[tokio::test]
async fn a_full_queue_drops_its_oldest_events_and_keeps_the_order() {
    let (logs, _guard) = LogCapture::install();
    let gate = Arc::new(Semaphore::new(0));
    let sink = Arc::new(RecordingSink {
        gate: Some(gate.clone()),
        ..RecordingSink::default()
    });
    let notifiers = Notifiers::new(vec![(sink.clone() as Arc<dyn Sink>, Priority::Info)]);
    let cancel = CancellationToken::new();
    let run = tokio::spawn(notifiers.clone().run(cancel.clone()));
    // Event 0 is taken by the worker and held; 299 more arrive meanwhile.
    notifiers.notify(event("e0", Priority::Info)).await;
    sink.started.notified().await;
    for i in 1..300 {
        notifiers
            .notify(event(&format!("e{i}"), Priority::Info))
            .await;
    }
    gate.add_permits(1000);
    wait_until("the queue to drain", || sink.delivered().len() == 257).await;
    cancel.cancel();
    run.await.unwrap();
    let expected: Vec<String> = std::iter::once(0)
        .chain(44..300)
        .map(|i| format!("e{i}"))
        .collect();
    assert_eq!(sink.delivered(), expected);
    // 43 drops within a minute: one line.
    let drops = logs.matching(Level::WARN, "dropped its oldest queued event");
    assert_eq!(drops.len(), 1, "{drops:?}");
    assert!(drops[0].contains("dropped=e1"), "{}", drops[0]);
}

#[tokio::test]
async fn a_stuck_or_broken_sink_never_blocks_notify() {
    let (logs, _guard) = LogCapture::install();
    let stuck = Arc::new(RecordingSink {
        gate: Some(Arc::new(Semaphore::new(0))),
        ..RecordingSink::default()
    });
    let broken = Arc::new(RecordingSink {
        fail: AtomicBool::new(true),
        ..RecordingSink::default()
    });
    let notifiers = Notifiers::new(vec![
        (stuck.clone() as Arc<dyn Sink>, Priority::Info),
        (broken.clone() as Arc<dyn Sink>, Priority::Info),
    ]);
    let cancel = CancellationToken::new();
    tokio::spawn(notifiers.clone().run(cancel.clone()));
    let notify_all = async {
        for i in 0..200 {
            notifiers
                .notify(event(&format!("e{i}"), Priority::Info))
                .await;
        }
    };
    tokio::time::timeout(Duration::from_secs(5), notify_all)
        .await
        .expect("notify returns while a sink is stuck");
    wait_until("the broken sink's second attempt", || {
        broken.delivered().len() >= 2
    })
    .await;
    assert!(stuck.delivered().is_empty());
    let failures = logs.matching(Level::WARN, "notification sink failed");
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(failures[0].contains("sink=recording") && failures[0].contains("the sink is broken"));
    assert!(
        broken.delivered().len() < 20,
        "the broken sink backs off: {} attempts",
        broken.delivered().len()
    );
    cancel.cancel();
}

#[tokio::test(start_paused = true)]
async fn a_broken_sink_backs_off_and_says_when_it_works_again() {
    let (logs, _guard) = LogCapture::install();
    let sink = Arc::new(RecordingSink {
        fail: AtomicBool::new(true),
        ..RecordingSink::default()
    });
    let notifiers = Notifiers::new(vec![(sink.clone() as Arc<dyn Sink>, Priority::Info)]);
    let cancel = CancellationToken::new();
    let run = tokio::spawn(notifiers.clone().run(cancel.clone()));
    for i in 0..10 {
        notifiers
            .notify(event(&format!("e{i}"), Priority::Info))
            .await;
    }
    // Attempts at 0, 0.1, 0.3, 0.7 and 1.5 s.
    tokio::time::sleep(Duration::from_millis(1_550)).await;
    sink.fail.store(false, Ordering::SeqCst);
    // The next attempt (at 3.1 s) succeeds, and the rest follow at once.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let times = sink.attempted_at.lock().unwrap().clone();
    let gaps: Vec<u128> = times
        .windows(2)
        .map(|w| (w[1] - w[0]).as_millis())
        .collect();
    assert_eq!(gaps, [100, 200, 400, 800, 1_600, 0, 0, 0, 0], "{gaps:?}");
    assert_eq!(
        logs.matching(Level::WARN, "notification sink failed").len(),
        1
    );
    let again = logs.matching(Level::INFO, "notification sink works again");
    assert_eq!(again.len(), 1);
    assert!(again[0].contains("failures=5"), "{}", again[0]);
    cancel.cancel();
    run.await.unwrap();
}

#[tokio::test]
async fn at_shutdown_a_sink_delivers_what_it_holds() {
    let sink = Arc::new(RecordingSink::default());
    let notifiers = Notifiers::new(vec![(sink.clone() as Arc<dyn Sink>, Priority::Info)]);
    for i in 0..5 {
        notifiers
            .notify(event(&format!("e{i}"), Priority::Info))
            .await;
    }
    let cancel = CancellationToken::new();
    cancel.cancel();
    notifiers.run(cancel).await;
    assert_eq!(sink.delivered().len(), 5);
}

/// Records argv instead of running anything.
#[derive(Debug, Default)]
struct FakeRunner {
    specs: Mutex<Vec<CommandSpec>>,
    exit: i32,
}

#[async_trait]
impl CommandRunner for FakeRunner {
    async fn run(&self, spec: &CommandSpec) -> Result<CommandOutput, ProcessError> {
        self.specs.lock().unwrap().push(spec.clone());
        Ok(CommandOutput {
            code: Some(self.exit),
            stdout: vec![],
            stderr: b"no notification daemon".to_vec(),
        })
    }
}

fn executable(dir: &std::path::Path, name: &str, mode: u32) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, "#!/bin/sh\nexit 0\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    path
}

#[tokio::test]
async fn desktop_argv_per_priority() {
    let dir = tempfile::tempdir().unwrap();
    let program = executable(dir.path(), "notify-send", 0o755);
    let runner = Arc::new(FakeRunner::default());
    let path = std::env::join_paths([std::path::Path::new("/nonexistent"), dir.path()]).unwrap();
    let sink = DesktopSink::find(Some(&path), runner.clone()).expect("found on PATH");
    for (kind, priority, urgency) in [
        ("reaction.escalated", Priority::Urgent, "critical"),
        ("reaction.ci-failed", Priority::Action, "normal"),
        ("workspace.preserved-conflict", Priority::Warning, "normal"),
        ("reaction.agent-idle", Priority::Info, "low"),
    ] {
        sink.deliver(&event(kind, priority)).await.unwrap();
        let spec = runner.specs.lock().unwrap().pop().unwrap();
        let title_kind = kind.strip_prefix("reaction.").unwrap_or(kind);
        assert_eq!(
            spec.argv(),
            vec![
                program.display().to_string(),
                "--app-name=ao".to_owned(),
                format!("--urgency={urgency}"),
                format!("ao: proj-3 {title_kind}"),
                format!("message of {kind}"),
            ]
        );
        assert_eq!(spec.timeout, DESKTOP_TIMEOUT);
    }
    let failing = DesktopSink::find(
        Some(&path),
        Arc::new(FakeRunner {
            exit: 1,
            ..FakeRunner::default()
        }),
    )
    .unwrap();
    let err = failing
        .deliver(&event("reaction.agent-idle", Priority::Info))
        .await
        .unwrap_err();
    assert!(err.0.contains("no notification daemon"), "{err}");
}

#[tokio::test]
async fn the_desktop_sink_needs_notify_send_on_path() {
    let (logs, _guard) = LogCapture::install();
    let dir = tempfile::tempdir().unwrap();
    executable(dir.path(), "notify-send", 0o644);
    let runner: Arc<dyn CommandRunner> = Arc::new(FakeRunner::default());
    assert!(DesktopSink::find(Some(dir.path().as_os_str()), runner.clone()).is_none());
    assert!(DesktopSink::find(None, runner.clone()).is_none());
    let specs = [(SinkSpec::Desktop, Priority::Action)];
    let sinks = build_sinks(&specs, runner, Some(dir.path().as_os_str())).unwrap();
    assert!(sinks.is_empty());
    assert_eq!(
        logs.matching(Level::INFO, "notify-send is not on PATH")
            .len(),
        1
    );
}

fn headers() -> Vec<(String, String)> {
    vec![("Authorization".to_owned(), "Bearer hook-secret".to_owned())]
}

#[tokio::test]
async fn webhook_retries_5xx_after_one_and_three_seconds() {
    let calls = Arc::new(Mutex::new(0));
    let count = calls.clone();
    let server = HttpServer::start(move |_| {
        let mut n = count.lock().unwrap();
        *n += 1;
        Response::new(if *n < 3 { 503 } else { 204 })
    });
    let sink = WebhookSink::new(&format!("{}/hook", server.url()), &headers()).unwrap();
    let started = Instant::now();
    let e = event("reaction.escalated", Priority::Urgent);
    sink.deliver(&e).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(4),
        "1 s + 3 s pauses"
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    let r = &requests[2];
    assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/hook"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("authorization"), Some("Bearer hook-secret"));
    let body = r.json().expect("a JSON body");
    assert_eq!(body, serde_json::to_value(&e).unwrap());
    assert_eq!(body["type"], "reaction.escalated");
    assert_eq!(body["session_id"], "proj-3");
    assert_eq!(body["created_at"], "2026-05-26T12:00:00.000Z");
}

#[tokio::test]
async fn webhook_gives_up_after_three_attempts_and_never_retries_4xx() {
    let server =
        HttpServer::start(|req| Response::new(if req.path == "/gone" { 410 } else { 500 }));
    let quick = |path: &str| {
        WebhookSink::new(&format!("{}{path}", server.url()), &[])
            .unwrap()
            .with_retry_delays(vec![Duration::from_millis(10); 2])
    };
    let e = event("reaction.all-complete", Priority::Info);
    let err = quick("/down").deliver(&e).await.unwrap_err();
    assert!(
        err.0.contains("500") && err.0.contains("3 attempts"),
        "{err}"
    );
    assert_eq!(server.requests().len(), 3);
    let err = quick("/gone").deliver(&e).await.unwrap_err();
    assert!(
        err.0.contains("410") && err.0.contains("not retried"),
        "{err}"
    );
    assert_eq!(server.requests().len(), 4);
    // Transport errors are retried too.
    let url = format!("{}/hook", server.url());
    drop(server);
    let sink =
        WebhookSink::new(&url, &[])
            .unwrap()
            .with_retry_delays(vec![Duration::from_millis(10); 2]);
    assert!(sink.deliver(&e).await.unwrap_err().0.contains("3 attempts"));
}

#[test]
fn sink_specs_are_validated() {
    let webhook = |url: &str, headers: Vec<(String, String)>| SinkSpec::Webhook {
        url: url.to_owned(),
        headers,
    };
    assert!(
        webhook("https://hooks.example.com/ao", headers())
            .validate()
            .is_ok()
    );
    for (spec, needle) in [
        (webhook("hooks.example.com", vec![]), "url"),
        (
            webhook("ftp://hooks.example.com/x", vec![]),
            "http or https",
        ),
        (
            webhook("https://h.example", vec![("Bad Name".into(), "v".into())]),
            "invalid header name",
        ),
        (
            webhook(
                "https://h.example",
                vec![("X".into(), "line\nbreak".into())],
            ),
            "invalid value",
        ),
        (SinkSpec::Command { argv: vec![] }, "argv"),
    ] {
        let err = spec.validate().unwrap_err();
        assert!(err.0.contains(needle), "{spec:?}: {err}");
    }
}

#[tokio::test]
async fn the_command_sink_runs_argv_with_json_on_stdin_and_the_event_environment() {
    let dir = tempfile::tempdir().unwrap();
    let stdin_file = dir.path().join("stdin.json");
    let env_file = dir.path().join("env.txt");
    let script = r#"cat > "$1"; printf '%s|%s|%s|%s' "$AO_EVENT_TYPE" "$AO_EVENT_PRIORITY" "$AO_SESSION_ID" "$AO_PROJECT_ID" > "$2""#;
    let argv = vec![
        "sh".to_owned(),
        "-c".to_owned(),
        script.to_owned(),
        "sh".to_owned(),
        stdin_file.display().to_string(),
        env_file.display().to_string(),
    ];
    let sink = CommandSink::new(argv, Arc::new(SystemRunner));
    let mut e = event("reaction.agent-needs-input", Priority::Urgent);
    e.message = "it's $(not) `run`".to_owned();
    sink.deliver(&e).await.unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&stdin_file).unwrap()).unwrap();
    assert_eq!(json, serde_json::to_value(&e).unwrap());
    assert_eq!(
        std::fs::read_to_string(&env_file).unwrap(),
        "reaction.agent-needs-input|urgent|proj-3|proj"
    );
}

#[tokio::test]
async fn a_failing_command_reports_the_first_kib_of_stderr() {
    let argv = vec![
        "sh".to_owned(),
        "-c".to_owned(),
        "cat >/dev/null; printf 'boom%.0s' $(seq 1 600) >&2; exit 3".to_owned(),
    ];
    let sink = CommandSink::new(argv, Arc::new(SystemRunner));
    let err = sink
        .deliver(&event("reaction.agent-idle", Priority::Info))
        .await
        .unwrap_err();
    assert!(err.0.contains("status 3"), "{err}");
    let stderr_part = err.0.rsplit(": ").next().unwrap();
    assert_eq!(stderr_part.len(), STDERR_LOGGED);
    assert!(stderr_part.starts_with("boomboom"));
    let missing = CommandSink::new(
        vec!["/nonexistent/ao-page-me".to_owned()],
        Arc::new(SystemRunner),
    );
    assert!(missing.deliver(&event("x", Priority::Info)).await.is_err());
}

#[test]
fn timestamps_serialize_as_the_spec_shows() {
    let e = event("reaction.agent-needs-input", Priority::Urgent);
    let json = serde_json::to_value(&e).unwrap();
    assert_eq!(json["priority"], "urgent");
    assert_eq!(json["project_id"], "proj");
    assert_eq!(
        Timestamp::parse_rfc3339(json["created_at"].as_str().unwrap()).unwrap(),
        t0()
    );
}
