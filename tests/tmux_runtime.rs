//! The tmux runtime against real tmux, each test on its own private server (`-S <tempdir>`),
//! torn down by a Drop guard even when the test fails (scenarios O32–O35, V9, V10 and the
//! adapter's own checks: odd names, prefix collisions, a 1 MiB message, the process reap, the
//! batched probe over 200 sessions, the output log).

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ao::domain::{ProbeResult, RuntimeHandle, SessionId};
use ao::ports::{PaneProbe, ProbeTarget, Runtime, RuntimeConfig};
use ao_adapters::process::SystemRunner;
use ao_adapters::tmux::{
    TmuxOptions, TmuxRuntime, TmuxSocket, is_missing_output, session_name, write_tmux_conf,
};
use ao_testkit::procfs::process_alive;

/// Generous: a loaded 2-core CI machine can be slow to start processes.
const DEADLINE: Duration = Duration::from_secs(20);

/// A private tmux server for one test. Dropping it kills the server (on its socket only) and
/// removes the socket file.
struct Server {
    dir: tempfile::TempDir,
    socket: PathBuf,
    conf: PathBuf,
}

impl Server {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let socket = dir.path().join("tmux.sock");
        let conf = write_tmux_conf(dir.path(), false).expect("tmux.conf");
        Self { dir, socket, conf }
    }

    fn options(&self) -> TmuxOptions {
        TmuxOptions::new(
            TmuxSocket::Path(self.socket.clone()),
            self.conf.clone(),
            self.dir.path().join("output"),
        )
    }

    fn runtime(&self) -> TmuxRuntime {
        TmuxRuntime::new(self.options(), Arc::new(SystemRunner)).expect("runtime")
    }

    /// Runs tmux directly on this server (test setup and inspection).
    fn tmux(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .arg("-f")
            .arg(&self.conf)
            .args(args)
            .env_remove("TMUX")
            .env_remove("TMUX_PANE")
            .output()
            .expect("run tmux")
    }

    /// What a session's pane shows, for failure messages.
    fn screen(&self, name: &str) -> String {
        let target = format!("={name}:0.0");
        let out = self.tmux(&["capture-pane", "-p", "-t", &target, "-S", "-30"]);
        format!(
            "--- pane {name} ---\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }

    fn workspace(&self, name: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::create_dir_all(&path).expect("workspace");
        path
    }

    fn config(&self, id: &str, argv: &[&str]) -> RuntimeConfig {
        let mut env = BTreeMap::new();
        env.insert("AO_SESSION_ID".to_owned(), id.to_owned());
        // The pane's shell after the agent is the user's `$SHELL`; these tests are about tmux,
        // so it is a plain `sh`, not whatever start-up files this machine's bash runs.
        env.insert("SHELL".to_owned(), "/bin/sh".to_owned());
        RuntimeConfig {
            session_id: SessionId::parse(id).expect("session id"),
            workspace_path: self.workspace("ws"),
            argv: argv.iter().map(|a| (*a).to_owned()).collect(),
            env,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
        let _ = std::fs::remove_file(&self.socket);
    }
}

fn handle(name: &str) -> RuntimeHandle {
    RuntimeHandle {
        id: name.to_owned(),
        runtime_name: "tmux".to_owned(),
        pane_id: None,
    }
}

/// Polls `check` until it returns `Some`, or panics with `what` and `seen()` at the deadline.
async fn wait_for<T, F, Fut>(what: &str, seen: impl Fn() -> String, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "timed out waiting for {what}\n{}",
            seen()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn probe(runtime: ProbeResult, process: ProbeResult) -> (ProbeResult, ProbeResult) {
    (runtime, process)
}

fn pair(facts: &PaneProbe) -> (ProbeResult, ProbeResult) {
    (facts.runtime, facts.process)
}

fn targets(handles: &[RuntimeHandle]) -> Vec<ProbeTarget> {
    handles
        .iter()
        .map(|h| ProbeTarget {
            handle_id: h.id.clone(),
            pane_id: h.pane_id.clone(),
        })
        .collect()
}

#[tokio::test]
async fn prerequisites_hold_here() {
    let server = Server::new();
    let version = server.runtime().check_prerequisites().await.unwrap();
    assert!(version.starts_with("tmux "), "{version}");
}

#[tokio::test]
async fn o32_create_send_output_destroy() {
    let server = Server::new();
    let runtime = server.runtime();
    // The workspace is reached through a symlink: the cwd check compares resolved paths.
    let real = server.workspace("real-ws");
    let link = server.dir.path().join("linked-ws");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let mut config = server.config("o32-1", &["printf", "ready"]);
    config.workspace_path = link;
    let h = runtime.create(&config).await.unwrap();
    assert_eq!(h.id, "o32-1");
    assert!(h.pane_id.as_deref().is_some_and(|p| p.starts_with('%')));
    assert!(runtime.is_alive(&h).await.unwrap());

    runtime
        .send_message(&h, "printf 'hello-%s\\n' from-tmux")
        .await
        .unwrap();
    let screen = || server.screen("o32-1");
    wait_for("the command's output", screen, || async {
        let text = runtime.output(&h, 50).await.ok()?;
        text.lines().any(|l| l == "hello-from-tmux").then_some(())
    })
    .await;

    runtime.destroy(&h).await.unwrap();
    assert!(!runtime.is_alive(&h).await.unwrap());
    // Idempotent.
    runtime.destroy(&h).await.unwrap();
}

#[tokio::test]
async fn odd_ids_get_safe_names_that_tmux_accepts() {
    let server = Server::new();
    let runtime = server.runtime();
    // A 100-character id goes through create.
    let long_id = format!("proj-{}", "x".repeat(95));
    let h = runtime
        .create(&server.config(&long_id, &["sleep", "1000"]))
        .await
        .unwrap();
    assert_eq!(h.id, session_name(&long_id));
    assert!(h.id.len() <= 41);
    assert!(runtime.is_alive(&h).await.unwrap());

    // Ids with tmux's target and format characters cannot be session ids, but the sanitiser
    // must still make names tmux takes literally.
    let raws = [
        "repo/issue#42.1",
        "a.b:c",
        "x#{session_name}",
        "with space",
        "%1",
    ];
    let names: Vec<String> = raws.iter().map(|raw| session_name(raw)).collect();
    for name in &names {
        let out = server.tmux(&["new-session", "-d", "-s", name, "sleep", "1000"]);
        assert!(out.status.success(), "{name}: {out:?}");
    }
    let listed = server.tmux(&["list-sessions", "-F", "#{session_name}"]);
    let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
    for name in names.iter().chain([&h.id]) {
        assert!(listed.lines().any(|l| l == name), "{name} not in {listed}");
        assert!(runtime.is_alive(&handle(name)).await.unwrap(), "{name}");
    }
    for name in &names {
        runtime.destroy(&handle(name)).await.unwrap();
        assert!(!runtime.is_alive(&handle(name)).await.unwrap(), "{name}");
    }
    assert!(
        runtime.is_alive(&h).await.unwrap(),
        "the long one is untouched"
    );
}

#[tokio::test]
async fn o33_v10_prefix_collisions_never_touch_the_wrong_session() {
    let server = Server::new();
    let runtime = server.runtime();
    for (short, long) in [("s1", "s10"), ("ao_exact_target", "ao_exact_target_long")] {
        let long_h = runtime
            .create(&server.config(long, &["sleep", "1000"]))
            .await
            .unwrap();
        let short_h = handle(short);
        assert!(!runtime.is_alive(&short_h).await.unwrap(), "{short}");
        let facts = runtime
            .probe_all(&targets(&[short_h.clone(), long_h.clone()]))
            .await;
        assert_eq!(pair(&facts[0]).0, ProbeResult::Dead, "{short}");
        assert_eq!(pair(&facts[1]).0, ProbeResult::Alive, "{long}");
        assert!(runtime.send_message(&short_h, "typed").await.is_err());
        assert!(runtime.interrupt(&short_h).await.is_err());
        assert!(runtime.output(&short_h, 5).await.is_err());
        runtime.destroy(&short_h).await.unwrap();
        assert!(runtime.is_alive(&long_h).await.unwrap(), "{long} was hit");
        let screen = runtime.output(&long_h, 50).await.unwrap();
        assert!(!screen.contains("typed"), "{long} got keys: {screen}");
    }
}

/// A message with every awkward kind of text: a leading `-`, quotes, `$`, backticks, `;` at
/// chunk ends, multi-byte characters straddling chunk boundaries, newlines, tabs.
fn awkward_message(size: usize) -> String {
    let mut text = String::from("-leading dash; then 'single' \"double\" $HOME `id` \\n\n");
    let lines = [
        "plain ascii line with a tab\there;",
        "ünïcödé — 世界 😀 ✓ and $(not a command) ${X} `echo no`;",
        "'; rm -rf / ; echo '\\;",
        "Enter C-c Escape words typed literally",
        "-- --flag -x",
    ];
    let mut i = 0;
    while text.len() < size {
        text.push_str(&format!("{i:06} "));
        text.push_str(lines[i % lines.len()]);
        text.push('\n');
        i += 1;
    }
    while text.len() > size {
        text.pop();
    }
    text
}

#[tokio::test]
async fn a_one_mib_message_arrives_byte_exact() {
    let server = Server::new();
    let runtime = server.runtime();
    let received = server.dir.path().join("received.bin");
    let received_arg = received.to_str().unwrap();
    let h = runtime
        .create(&server.config(
            "paste-1",
            &[
                "sh",
                "-c",
                "stty raw -echo; exec cat > \"$1\"",
                "sh",
                received_arg,
            ],
        ))
        .await
        .unwrap();
    let screen = || server.screen("paste-1");
    // The file exists once the reader is in raw mode.
    wait_for("the raw reader", screen, || async {
        received.exists().then_some(())
    })
    .await;

    // Then two short messages whose only chunk ends in `;`, which tmux's client would
    // otherwise take as a command separator.
    let messages = [
        awkward_message(1024 * 1024),
        "end;".to_owned(),
        "end\\;".to_owned(),
    ];
    let mut expected = vec![];
    for message in &messages {
        runtime.send_message(&h, message).await.unwrap();
        expected.extend_from_slice(message.as_bytes());
        expected.push(b'\r');
    }
    let got = wait_for(
        "the whole message",
        || {
            let len = std::fs::metadata(&received).map(|m| m.len()).unwrap_or(0);
            format!("received {len} of {} bytes\n{}", expected.len(), screen())
        },
        || async {
            let got = std::fs::read(&received).ok()?;
            (got.len() >= expected.len()).then_some(got)
        },
    )
    .await;
    if got != expected {
        let at = got
            .iter()
            .zip(&expected)
            .position(|(a, b)| a != b)
            .unwrap_or(expected.len().min(got.len()));
        let around = |bytes: &[u8]| {
            String::from_utf8_lossy(&bytes[at.saturating_sub(40)..(at + 40).min(bytes.len())])
                .into_owned()
        };
        panic!(
            "differs at byte {at} (got {} bytes, want {}):\n got: {:?}\nwant: {:?}",
            got.len(),
            expected.len(),
            around(&got),
            around(&expected)
        );
    }
    runtime.destroy(&h).await.unwrap();
}

#[tokio::test]
async fn o34_the_pane_outlives_its_agent() {
    let server = Server::new();
    let runtime = server.runtime();
    let h = runtime
        .create(&server.config("o34-1", &["sh", "-c", "exit 0"]))
        .await
        .unwrap();
    let facts = wait_for(
        "the agent to exit",
        || server.screen("o34-1"),
        || async {
            let facts = runtime.probe_all(&targets(std::slice::from_ref(&h))).await;
            (facts[0].process == ProbeResult::Dead).then_some(facts[0])
        },
    )
    .await;
    assert_eq!(facts.runtime, ProbeResult::Alive);
    assert!(runtime.is_alive(&h).await.unwrap());
}

/// The launch script records the agent's exit: the probe reports its code (whatever the
/// process probe says), `exit_output` shows what the agent printed last, and the record
/// disappears with the session.
#[tokio::test]
async fn an_agent_exit_is_recorded_with_its_code_and_last_output() {
    let server = Server::new();
    let runtime = server.runtime();
    let before = std::time::SystemTime::now();
    let exiting = runtime
        .create(&server.config("exit-1", &["sh", "-c", "echo last words; exit 4"]))
        .await
        .unwrap();
    let running = runtime
        .create(&server.config("exit-2", &["sleep", "600"]))
        .await
        .unwrap();
    let both = targets(&[exiting.clone(), running.clone()]);
    let facts = wait_for(
        "the exit to be recorded",
        || server.screen("exit-1"),
        || async {
            let facts = runtime.probe_all(&both).await;
            facts[0].agent_exit.is_some().then_some(facts)
        },
    )
    .await;
    let exit = facts[0].agent_exit.unwrap();
    assert_eq!(exit.code, 4);
    let since = before.duration_since(std::time::UNIX_EPOCH).unwrap();
    assert!(
        exit.at.as_millis() + 1_000 >= since.as_millis() as i64,
        "{exit:?}"
    );
    assert_eq!(
        facts[0].runtime,
        ProbeResult::Alive,
        "the shell keeps the pane"
    );
    assert_eq!(facts[1].agent_exit, None);
    assert_eq!(facts[1].process, ProbeResult::Alive);

    let shown = wait_for(
        "the exit notice",
        || server.screen("exit-1"),
        || async {
            let pane = runtime.output(&exiting, 20).await.unwrap();
            pane.contains("[ao] the agent exited with code 4")
                .then_some(())
        },
    );
    shown.await;
    assert_eq!(
        runtime.exit_output(&exiting, 5).await.unwrap(),
        ["last words"]
    );

    runtime.destroy(&exiting).await.unwrap();
    runtime.destroy(&running).await.unwrap();
    let again = runtime
        .create(&server.config("exit-1", &["sleep", "600"]))
        .await
        .unwrap();
    let facts = runtime
        .probe_all(&targets(std::slice::from_ref(&again)))
        .await;
    assert_eq!(
        facts[0].agent_exit, None,
        "a new launch starts with no exit"
    );
    runtime.destroy(&again).await.unwrap();
}

#[tokio::test]
async fn o35_destroy_reaps_background_processes() {
    let server = Server::new();
    let runtime = server.runtime();
    let pid_file = server.dir.path().join("bg.pid");
    // The background job ignores SIGHUP, so kill-session's hang-up alone would not end it.
    let h = runtime
        .create(&server.config(
            "o35-1",
            &[
                "sh",
                "-c",
                "trap '' HUP; sleep 1000 & echo $! > \"$1\"; wait",
                "sh",
                pid_file.to_str().unwrap(),
            ],
        ))
        .await
        .unwrap();
    let pid: u32 = wait_for(
        "the background pid",
        || server.screen("o35-1"),
        || async { std::fs::read_to_string(&pid_file).ok()?.trim().parse().ok() },
    )
    .await;
    assert!(process_alive(pid), "background sleep not running");

    // Without the reap the job would live for 1000 s; with it, it is gone right after destroy
    // (polled, since signals are delivered asynchronously).
    runtime.destroy(&h).await.unwrap();
    let stat = || std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    wait_for("the background job to end", stat, || async {
        (!process_alive(pid)).then_some(())
    })
    .await;
}

#[tokio::test]
async fn v9_probe_follows_agents_and_the_server() {
    let server = Server::new();
    let runtime = server.runtime();
    let mut handles = vec![];
    for i in 1..=3 {
        let id = format!("v9-{i}");
        handles.push(
            runtime
                .create(&server.config(&id, &["sleep", "1000"]))
                .await
                .unwrap(),
        );
    }
    let ts = targets(&handles);
    let all = |p: (ProbeResult, ProbeResult)| vec![p; 3];
    let alive = probe(ProbeResult::Alive, ProbeResult::Alive);
    let screens = || handles.iter().map(|h| server.screen(&h.id)).collect();
    wait_for("three live agents", screens, || async {
        let facts: Vec<_> = runtime.probe_all(&ts).await.iter().map(pair).collect();
        (facts == all(alive)).then_some(())
    })
    .await;

    // Kill the agent (the pane's child) of the second session.
    let panes = runtime.list_panes().await.unwrap();
    let pane_pid = panes
        .iter()
        .find(|p| p.session_name == "v9-2")
        .and_then(|p| p.pane_pid)
        .unwrap();
    let children = std::fs::read_to_string(format!("/proc/{pane_pid}/task/{pane_pid}/children"))
        .unwrap_or_default();
    let agent: i32 = children.split_whitespace().next().unwrap().parse().unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(agent),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let expected = vec![alive, probe(ProbeResult::Alive, ProbeResult::Dead), alive];
    wait_for("the second agent to be seen dead", screens, || async {
        let facts: Vec<_> = runtime.probe_all(&ts).await.iter().map(pair).collect();
        (facts == expected).then_some(())
    })
    .await;

    // While the server shuts down a listing can fail ("server exited unexpectedly"): that is
    // `failed`, never `dead`; once it is gone (its socket file left behind, nothing listening on
    // it), every session's pane is gone with it: `server_gone`, the agent not probed.
    assert!(server.tmux(&["kill-server"]).status.success());
    let gone = all(probe(ProbeResult::Dead, ProbeResult::Indeterminate));
    let failed = all(probe(ProbeResult::Failed, ProbeResult::Failed));
    wait_for("the server to be gone", String::new, || async {
        let probes = runtime.probe_all(&ts).await;
        let facts: Vec<_> = probes.iter().map(pair).collect();
        assert!(facts == gone || facts == failed, "{facts:?}");
        assert_eq!(
            probes.iter().all(|p| p.server_gone),
            facts == gone,
            "{probes:?}"
        );
        (facts == gone).then_some(())
    })
    .await;
    assert_eq!(runtime.list_panes().await.unwrap(), vec![]);
}

#[tokio::test]
async fn batched_probe_equals_has_session_over_200_sessions() {
    let server = Server::new();
    let runtime = server.runtime();
    // Create 200 sessions in a few tmux calls (commands joined with ";"), then end every 7th.
    let names: Vec<String> = (0..200).map(|i| format!("bulk-{i}")).collect();
    for batch in names.chunks(50) {
        let mut args: Vec<&str> = vec![];
        for name in batch {
            if !args.is_empty() {
                args.push(";");
            }
            args.extend(["new-session", "-d", "-s", name, "sleep", "1000"]);
        }
        let out = server.tmux(&args);
        assert!(out.status.success(), "{out:?}");
    }
    for name in names.iter().step_by(7) {
        assert!(
            server
                .tmux(&["kill-session", "-t", &format!("={name}")])
                .status
                .success()
        );
    }
    // Plus names that never existed, including prefixes of live ones.
    let mut all: Vec<String> = names.clone();
    all.extend(["bulk-1x", "bulk", "bulk-", "bulk-200"].map(str::to_owned));
    let handles: Vec<RuntimeHandle> = all.iter().map(|n| handle(n)).collect();
    let facts = runtime.probe_all(&targets(&handles)).await;
    assert_eq!(facts.len(), handles.len());
    let mut alive = 0;
    for (h, facts) in handles.iter().zip(&facts) {
        let single = runtime.is_alive(h).await.unwrap();
        assert_eq!(
            facts.runtime == ProbeResult::Alive,
            single,
            "{}: {facts:?}",
            h.id
        );
        assert_ne!(facts.runtime, ProbeResult::Failed);
        alive += usize::from(single);
    }
    assert_eq!(alive, 200 - 29);
}

/// Reads `h`'s output log from `cursor` until the text read contains `want`; returns that text
/// and the next cursor.
async fn read_until(
    server: &Server,
    runtime: &TmuxRuntime,
    h: &RuntimeHandle,
    mut cursor: u64,
    want: &str,
) -> (String, u64) {
    let started = Instant::now();
    let mut text = String::new();
    loop {
        let chunk = runtime.read_output(h, cursor, 1 << 20).await.unwrap();
        assert_eq!(chunk.start, cursor, "nothing was trimmed");
        text.push_str(&chunk.text);
        cursor = chunk.next;
        if text.contains(want) {
            return (text, cursor);
        }
        assert!(
            started.elapsed() < DEADLINE,
            "no {want:?} in the output log, read {text:?}\n{}",
            server.screen(&h.id)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn read_output_follows_the_pane_across_restart() {
    let server = Server::new();
    let runtime = server.runtime();
    let config = server.config(
        "tail-1",
        &[
            "sh",
            "-c",
            "while IFS= read -r line; do echo \"got:$line\"; done",
        ],
    );
    let h = runtime.create(&config).await.unwrap();

    runtime.send_message(&h, "one").await.unwrap();
    let (_, cursor) = read_until(&server, &runtime, &h, 0, "got:one").await;
    runtime.send_message(&h, "two").await.unwrap();
    let (text, cursor) = read_until(&server, &runtime, &h, cursor, "got:two").await;
    assert!(!text.contains("got:one"), "the cursor continues: {text:?}");

    // A restarted agent keeps writing into the same log, at the same offsets.
    runtime.restart(&h, &config).await.unwrap();
    runtime.send_message(&h, "three").await.unwrap();
    let (text, _) = read_until(&server, &runtime, &h, cursor, "got:three").await;
    assert!(!text.contains("got:two"), "{text:?}");

    let log = runtime.output_log_path(&h).unwrap();
    assert!(log.exists());
    runtime.destroy(&h).await.unwrap();
    assert!(!log.exists(), "destroy removes the log");
}

/// An argument longer than one tmux command allows (a long prompt) still reaches the agent
/// intact: the launch script runs from a file instead of `sh -c`.
#[tokio::test]
async fn a_40_kib_argument_reaches_the_agent_intact() {
    let server = Server::new();
    let runtime = server.runtime();
    let out = server.dir.path().join("received.txt");
    let prompt: String = (0..40 * 1024)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    let argv = [
        "sh",
        "-c",
        r#"printf '%s' "$1" > "$2""#,
        "sh",
        prompt.as_str(),
        out.to_str().unwrap(),
    ];
    let h = runtime
        .create(&server.config("long-1", &argv))
        .await
        .unwrap();
    let screen = || server.screen("long-1");
    wait_for("the argument written to the file", screen, || async {
        let got = std::fs::read_to_string(&out).ok()?;
        (got.len() == prompt.len()).then_some(got)
    })
    .await;
    assert_eq!(std::fs::read_to_string(&out).unwrap(), prompt);
    runtime.destroy(&h).await.unwrap();
}

/// A session whose pane writes every byte it receives to `<dir>/<id>.bin`, raw.
async fn raw_reader(server: &Server, runtime: &TmuxRuntime, id: &str) -> (RuntimeHandle, PathBuf) {
    let received = server.dir.path().join(format!("{id}.bin"));
    let argv = [
        "sh",
        "-c",
        "stty raw -echo; exec cat > \"$1\"",
        "sh",
        received.to_str().unwrap(),
    ];
    let h = runtime.create(&server.config(id, &argv)).await.unwrap();
    wait_for(
        "the raw reader",
        || server.screen(id),
        || async { received.exists().then_some(()) },
    )
    .await;
    (h, received)
}

/// Waits until `file` holds `want`, then checks it holds exactly that.
async fn assert_received(server: &Server, id: &str, file: &PathBuf, want: &[u8]) {
    let got = wait_for(
        "the message",
        || format!("{:?}\n{}", std::fs::read(file), server.screen(id)),
        || async {
            let got = std::fs::read(file).ok()?;
            (got.len() >= want.len()).then_some(got)
        },
    )
    .await;
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(want),
        "{id}"
    );
}

/// The control clients attached to the server, as `session` names.
fn control_clients(server: &Server) -> Vec<String> {
    let out = server.tmux(&[
        "list-clients",
        "-F",
        "#{client_control_mode} #{client_session}",
    ]);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("1 ").map(str::to_owned))
        .collect()
}

/// With control mode, messages are typed through one `tmux -C` client: byte-exact whatever the
/// text holds (quotes, `#{}`, `$`, `;`, `\`, tabs, any script), with a tmux process for what
/// cannot go on one line; the client follows sessions that end and a server that is killed.
#[tokio::test]
async fn the_control_client_types_exactly_and_outlives_sessions_and_servers() {
    let server = Server::new();
    let runtime = TmuxRuntime::new(
        TmuxOptions {
            control_mode: true,
            ..server.options()
        },
        Arc::new(SystemRunner),
    )
    .expect("runtime");
    let (a, a_file) = raw_reader(&server, &runtime, "ctl-a").await;
    let (b, b_file) = raw_reader(&server, &runtime, "ctl-b").await;
    assert!(control_clients(&server).is_empty(), "none before a send");

    let printable: String = (0x20u8..0x7f).map(char::from).collect();
    let one_line =
        format!("{printable}\tit's '' \"\" #{{pane_id}} $HOME ~ ${{X}} ü 世界 😀 end\\;");
    runtime.send_message(&a, &one_line).await.unwrap();
    let mut want_a = one_line.clone().into_bytes();
    want_a.push(b'\r');
    assert_received(&server, "ctl-a", &a_file, &want_a).await;
    assert_eq!(
        control_clients(&server),
        ["ctl-a"],
        "typed through the control client"
    );

    // A line break cannot go on a control line: a tmux process types it, exactly.
    let two_lines = "first line\nsecond; line";
    runtime.send_message(&a, two_lines).await.unwrap();
    want_a.extend_from_slice(two_lines.as_bytes());
    want_a.push(b'\r');
    assert_received(&server, "ctl-a", &a_file, &want_a).await;

    // The screen reads the same through the control client as through a process.
    let plain = server.runtime();
    assert_eq!(
        runtime.screen(&b).await.unwrap(),
        plain.screen(&b).await.unwrap()
    );

    // The session the client is attached to ends: the next call attaches a new one.
    runtime.destroy(&a).await.unwrap();
    runtime.send_message(&b, "to b").await.unwrap();
    assert_received(&server, "ctl-b", &b_file, b"to b\r").await;
    assert_eq!(control_clients(&server), ["ctl-b"]);

    // The server is killed: a send says the session is gone; on a new server sends work again.
    server.tmux(&["kill-server"]);
    // kill-server returns before the server has exited; a client in between is told "server
    // exited unexpectedly". Wait until tmux says no server runs.
    wait_for(
        "the server to be gone",
        || server.screen("ctl-b"),
        || async {
            let out = server.tmux(&["list-sessions"]);
            is_missing_output(&String::from_utf8_lossy(&out.stderr)).then_some(())
        },
    )
    .await;
    let err = runtime.send_message(&b, "lost").await.unwrap_err();
    assert!(
        is_missing_output(&err.to_string()),
        "a missing server, not a control client error: {err}"
    );
    // The control client started no server of its own.
    let out = server.tmux(&["list-sessions"]);
    assert!(
        is_missing_output(&String::from_utf8_lossy(&out.stderr)),
        "{out:?}"
    );
    let (c, c_file) = raw_reader(&server, &runtime, "ctl-c").await;
    runtime.send_message(&c, "to c").await.unwrap();
    assert_received(&server, "ctl-c", &c_file, b"to c\r").await;
    assert_eq!(control_clients(&server), ["ctl-c"]);
}
