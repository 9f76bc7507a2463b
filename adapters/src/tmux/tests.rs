//! Exact-argv tests of the tmux runtime with a recording fake runner (scenarios O1–O31,
//! V1–V6 at the adapter level). Integration tests against real tmux live in
//! `tests/tmux_runtime.rs`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::Mutex;

use nix::sys::signal::Signal;
use tokio::time::Instant;

use super::reap::fake::FakeProcesses;
use super::*;
use crate::process::CommandOutput;
use crate::process::{CommandSpec, ProcessError};
use ao_core::domain::{ProbeResult, SessionId};

const SOCK: &str = "/tmp/ao-test/tmux.sock";
const CONF: &str = "/tmp/ao-test/tmux.conf";

/// What the fake answers to one call.
#[derive(Clone)]
enum Reply {
    Out(&'static str),
    Exit(i32, &'static str),
    Spawn(&'static str),
    Hang,
    Slow(Duration),
}

type Script = dyn Fn(&[String], usize) -> Reply + Send + Sync;

/// Records every spec and answers with `script(command, n)`, where `command` is one tmux
/// command (the argv after `tmux <sock> -f <conf>`, split at the bare `;` that chains commands
/// in one process) and `n` counts earlier runs of the same tmux command. Like tmux, a chain
/// stops at its first failing command.
struct FakeRunner {
    calls: Mutex<Vec<CommandSpec>>,
    commands: Mutex<Vec<Vec<String>>>,
    script: Box<Script>,
}

impl fmt::Debug for FakeRunner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeRunner").finish_non_exhaustive()
    }
}

fn command_of(spec: &CommandSpec) -> Vec<String> {
    let argv = spec.argv();
    if argv.get(1).is_some_and(|a| a == "-V") {
        return argv[1..].to_vec();
    }
    argv.get(5..).unwrap_or_default().to_vec()
}

/// The tmux commands of one process: its argv split at bare `;` arguments.
fn chain_of(spec: &CommandSpec) -> Vec<Vec<String>> {
    command_of(spec)
        .split(|a| a == ";")
        .map(<[String]>::to_vec)
        .collect()
}

#[async_trait]
impl CommandRunner for FakeRunner {
    async fn run(&self, spec: &CommandSpec) -> Result<CommandOutput, ProcessError> {
        self.calls.lock().unwrap().push(spec.clone());
        let mut stdout = String::new();
        for command in chain_of(spec) {
            let n = {
                let mut commands = self.commands.lock().unwrap();
                let n = commands
                    .iter()
                    .filter(|c| c.first() == command.first())
                    .count();
                commands.push(command.clone());
                n
            };
            match (self.script)(&command, n) {
                Reply::Out(out) => stdout.push_str(out),
                Reply::Exit(code, stderr) => {
                    return Ok(CommandOutput {
                        code: Some(code),
                        stdout: stdout.into_bytes(),
                        stderr: stderr.as_bytes().to_vec(),
                    });
                }
                Reply::Spawn(error) => {
                    return Err(ProcessError::Spawn {
                        argv: spec.display(),
                        error: error.to_owned(),
                    });
                }
                Reply::Hang => std::future::pending().await,
                Reply::Slow(pause) => tokio::time::sleep(pause).await,
            }
        }
        Ok(CommandOutput {
            code: Some(0),
            stdout: stdout.into_bytes(),
            stderr: vec![],
        })
    }
}

/// The replies of a healthy server: `new-session` prints `%7`, the pane is in `/tmp/ws`.
fn healthy(command: &[String], _n: usize) -> Reply {
    match command.first().map(String::as_str) {
        Some("new-session") => Reply::Out("%7\n"),
        Some("display-message") => Reply::Out("/tmp/ws\n"),
        _ => Reply::Out(""),
    }
}

struct Fixture {
    runtime: TmuxRuntime,
    runner: Arc<FakeRunner>,
    processes: Arc<FakeProcesses>,
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new(script: impl Fn(&[String], usize) -> Reply + Send + Sync + 'static) -> Self {
        Self::with(script, |_| {})
    }

    fn with(
        script: impl Fn(&[String], usize) -> Reply + Send + Sync + 'static,
        tune: impl FnOnce(&mut TmuxOptions),
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut options = TmuxOptions::new(
            TmuxSocket::Path(SOCK.into()),
            CONF.into(),
            dir.path().join("out"),
        );
        options.proc_root = dir.path().join("proc");
        tune(&mut options);
        let runner = Arc::new(FakeRunner {
            calls: Mutex::default(),
            commands: Mutex::default(),
            script: Box::new(script),
        });
        let processes = Arc::new(FakeProcesses::new(|_| Ok(vec![])));
        let runtime = TmuxRuntime::with_processes(
            options,
            Arc::clone(&runner) as Arc<dyn CommandRunner>,
            Arc::clone(&processes) as Arc<dyn ProcessControl>,
        )
        .unwrap();
        Self {
            runtime,
            runner,
            processes,
            dir,
        }
    }

    /// The tmux commands run so far (argv after `tmux <sock> -f <conf>`), one per command
    /// even when several ran chained in one process.
    fn commands(&self) -> Vec<Vec<String>> {
        self.runner.commands.lock().unwrap().clone()
    }

    fn names(&self) -> Vec<String> {
        self.commands().iter().map(|c| c[0].clone()).collect()
    }

    fn specs(&self) -> Vec<CommandSpec> {
        self.runner.calls.lock().unwrap().clone()
    }
}

fn words(text: &str) -> Vec<String> {
    text.split(' ').map(str::to_owned).collect()
}

fn handle(id: &str) -> RuntimeHandle {
    RuntimeHandle {
        id: id.to_owned(),
        runtime_name: "tmux".to_owned(),
        pane_id: Some("%7".to_owned()),
    }
}

fn config(id: &str) -> RuntimeConfig {
    let mut env = BTreeMap::new();
    env.insert("AO_SESSION_ID".to_owned(), id.to_owned());
    env.insert("PATH".to_owned(), "/custom/bin:/usr/bin".to_owned());
    RuntimeConfig {
        session_id: SessionId::parse(id).unwrap(),
        workspace_path: "/tmp/ws".into(),
        argv: vec!["agent".to_owned(), "--go".to_owned()],
        env,
    }
}

fn script_for(id: &str, out: &Path) -> String {
    let exit = out.join("exits").join(format!("{id}.exit"));
    format!(
        r#"cd '/tmp/ws' || exit; unset NO_COLOR; export AO_SESSION_ID='{id}'; export COLORTERM='truecolor'; export PATH='/custom/bin:/usr/bin'; 'agent' '--go'; ao_exit=$?; printf '%s\n' "$ao_exit" > '{}'; printf '\n[ao] the agent exited with code %s; this shell keeps the pane open.\n' "$ao_exit"; exec "${{SHELL:-/bin/sh}}" -i"#,
        exit.display()
    )
}

#[tokio::test]
async fn o1_o6_o7_create_runs_exactly_these_commands() {
    let f = Fixture::new(healthy);
    let handle = f.runtime.create(&config("sess-1")).await.unwrap();
    assert_eq!(
        handle,
        RuntimeHandle {
            id: "sess-1".to_owned(),
            runtime_name: "tmux".to_owned(),
            pane_id: Some("%7".to_owned()),
        }
    );
    let log = f.dir.path().join("out/sess-1.log");
    let mut new_session =
        words("new-session -d -P -F #{pane_id} -s sess-1 -x 220 -y 50 -c /tmp/ws /bin/sh -c");
    new_session.push(script_for("sess-1", &f.dir.path().join("out")));
    let expected = vec![
        new_session,
        vec![
            "pipe-pane".to_owned(),
            "-o".to_owned(),
            "-t".to_owned(),
            "=sess-1:0.0".to_owned(),
            format!("exec cat >> '{}'", log.display()),
        ],
        words("set-option -t =sess-1: status off"),
        words("set-option -t =sess-1: mouse on"),
        words("set-option -t =sess-1: window-size largest"),
        words("display-message -p -t =sess-1:0.0 #{pane_current_path}"),
        words("has-session -t =sess-1"),
    ];
    assert_eq!(f.commands(), expected);
    // Two tmux processes: everything up to the first cwd sample chained in one, then the
    // final liveness check (a spawn's cost is its process count).
    assert_eq!(f.specs().len(), 2);
    assert_eq!(chain_of(&f.specs()[0]).len(), 6);
    // The socket and config arguments come first on every call.
    for spec in f.specs() {
        assert_eq!(spec.argv()[..5], ["tmux", "-S", SOCK, "-f", CONF]);
    }
}

#[tokio::test]
async fn o1_other_rows_of_the_command_table() {
    let f = Fixture::new(|command: &[String], _| match command[0].as_str() {
        "capture-pane" => Reply::Out("x\n"),
        _ => Reply::Out(""),
    });
    let h = handle("sess-1");
    f.runtime.destroy(&h).await.unwrap();
    assert!(f.runtime.is_alive(&h).await.unwrap());
    f.runtime.list_panes().await.unwrap();
    f.runtime.restart(&h, &config("sess-1")).await.unwrap();
    f.runtime.send_message(&h, "hi").await.unwrap();
    f.runtime.interrupt(&h).await.unwrap();
    f.runtime.output(&h, 40).await.unwrap();
    let log = f.dir.path().join("out/sess-1.log");
    let mut respawn = words("respawn-pane -k -t =sess-1:0.0 /bin/sh -c");
    respawn.push(script_for("sess-1", &f.dir.path().join("out")));
    let expected = vec![
        words("list-panes -s -t =sess-1: -F #{pane_pid}"),
        words("kill-session -t =sess-1"),
        words("has-session -t =sess-1"),
        vec![
            "list-panes".to_owned(),
            "-a".to_owned(),
            "-F".to_owned(),
            "#{session_name}|#{pane_id}|#{pane_pid}|#{pane_dead}|#{pane_dead_status}".to_owned(),
        ],
        respawn,
        words("display-message -p -t =sess-1:0.0 #{pane_pipe}"),
        vec![
            "pipe-pane".to_owned(),
            "-o".to_owned(),
            "-t".to_owned(),
            "=sess-1:0.0".to_owned(),
            format!("exec cat >> '{}'", log.display()),
        ],
        words("send-keys -t =sess-1:0.0 -l -- hi"),
        words("send-keys -t =sess-1:0.0 Enter"),
        words("send-keys -t =sess-1:0.0 C-c"),
        words("capture-pane -t =sess-1:0.0 -p -S -40"),
    ];
    assert_eq!(f.commands(), expected);
}

#[tokio::test]
async fn o3_long_ids_are_sanitised_into_the_new_session_name() {
    let f = Fixture::new(healthy);
    let id = format!("p{}", "x".repeat(61));
    let handle = f.runtime.create(&config(&id)).await.unwrap();
    let name = session_name(&id);
    assert!(name.len() <= 41);
    assert_eq!(handle.id, name);
    let new_session = &f.commands()[0];
    let s = new_session.iter().position(|a| a == "-s").unwrap();
    assert_eq!(new_session[s + 1], name);
}

#[tokio::test]
async fn o4_bad_handles_run_nothing() {
    let f = Fixture::new(healthy);
    for id in ["", "sess.1", "sess/1", "$(boom)", "with space"] {
        let h = handle(id);
        assert!(matches!(
            f.runtime.destroy(&h).await,
            Err(RuntimeError::InvalidHandle(_))
        ));
        assert!(f.runtime.is_alive(&h).await.is_err());
        assert!(f.runtime.send_message(&h, "x").await.is_err());
        assert!(f.runtime.interrupt(&h).await.is_err());
        assert!(f.runtime.output(&h, 1).await.is_err());
        assert!(f.runtime.read_output(&h, 0, 10).await.is_err());
        assert!(f.runtime.restart(&h, &config("sess-1")).await.is_err());
    }
    let mut foreign = handle("sess-1");
    foreign.runtime_name = "docker".to_owned();
    assert!(f.runtime.is_alive(&foreign).await.is_err());
    assert!(f.commands().is_empty());
}

#[tokio::test]
async fn o5_bad_config_runs_nothing() {
    let f = Fixture::new(healthy);
    let mut bad_key = config("sess-1");
    bad_key.env.insert("BAD KEY".to_owned(), "v".to_owned());
    assert_eq!(
        f.runtime.create(&bad_key).await,
        Err(RuntimeError::InvalidEnvKey("BAD KEY".to_owned()))
    );
    let mut no_argv = config("sess-1");
    no_argv.argv.clear();
    assert!(matches!(
        f.runtime.create(&no_argv).await,
        Err(RuntimeError::InvalidConfig(_))
    ));
    let mut no_workspace = config("sess-1");
    no_workspace.workspace_path = "".into();
    assert!(f.runtime.create(&no_workspace).await.is_err());
    assert!(
        f.runtime
            .restart(&handle("sess-1"), &bad_key)
            .await
            .is_err()
    );
    assert!(f.commands().is_empty());
}

#[tokio::test]
async fn create_escapes_format_characters_in_the_start_directory() {
    let f = Fixture::new(|command: &[String], _| match command[0].as_str() {
        "new-session" => Reply::Out("%1\n"),
        "display-message" => Reply::Out("/tmp/w#{x}\n"),
        _ => Reply::Out(""),
    });
    let mut cfg = config("sess-1");
    cfg.workspace_path = "/tmp/w#{x}".into();
    f.runtime.create(&cfg).await.unwrap();
    let new_session = &f.commands()[0];
    let c = new_session.iter().position(|a| a == "-c").unwrap();
    assert_eq!(new_session[c + 1], "/tmp/w##{x}");
    assert!(
        new_session
            .last()
            .unwrap()
            .starts_with("cd '/tmp/w#{x}' || exit; ")
    );
}

#[tokio::test(start_paused = true)]
async fn o9_cwd_mismatch_on_every_sample() {
    let f = Fixture::new(|command: &[String], _| match command[0].as_str() {
        "new-session" => Reply::Out("%7\n"),
        "display-message" => Reply::Out("/deleted/shipit\n"),
        _ => Reply::Out(""),
    });
    let err = f.runtime.create(&config("sess-1")).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"pane started in "/deleted/shipit", want "/tmp/ws""#
    );
    let names = f.names();
    assert_eq!(names.iter().filter(|n| *n == "display-message").count(), 5);
    assert!(names.contains(&"kill-session".to_owned()));
    assert!(!names.contains(&"has-session".to_owned()));
}

#[tokio::test(start_paused = true)]
async fn o10_a_mismatch_wins_over_a_later_failing_sample() {
    let f = Fixture::new(|command: &[String], n| match command[0].as_str() {
        "new-session" => Reply::Out("%7\n"),
        "display-message" if n == 0 => Reply::Out("/elsewhere\n"),
        "display-message" => Reply::Exit(1, "server exited unexpectedly"),
        _ => Reply::Out(""),
    });
    let err = f.runtime.create(&config("sess-1")).await.unwrap_err();
    assert!(matches!(err, RuntimeError::CwdMismatch { .. }), "{err}");
}

#[tokio::test(start_paused = true)]
async fn o11_stale_then_matching_cwd() {
    let f = Fixture::new(|command: &[String], n| match command[0].as_str() {
        "new-session" => Reply::Out("%7\n"),
        "display-message" if n == 0 => Reply::Out("/\n"),
        "display-message" => Reply::Out("/tmp/./ws/\n"),
        _ => Reply::Out(""),
    });
    let started = Instant::now();
    f.runtime.create(&config("sess-1")).await.unwrap();
    assert_eq!(
        f.names().iter().filter(|n| *n == "display-message").count(),
        2
    );
    assert!(started.elapsed() >= Duration::from_millis(50));
}

#[tokio::test(start_paused = true)]
async fn o12_a_create_dropped_mid_way_destroys_the_session() {
    let f = Fixture::new(|command: &[String], _| match command[0].as_str() {
        "new-session" => Reply::Out("%7\n"),
        "display-message" => Reply::Out("/somewhere/else\n"),
        _ => Reply::Out(""),
    });
    let cancelled = tokio::time::timeout(
        Duration::from_millis(20),
        f.runtime.create(&config("sess-1")),
    )
    .await;
    assert!(cancelled.is_err(), "create should still be sampling");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let names = f.names();
    assert_eq!(names.iter().filter(|n| *n == "display-message").count(), 1);
    assert_eq!(names.last().unwrap(), "kill-session", "{names:?}");
}

#[tokio::test]
async fn o13_agent_gone_at_the_final_check() {
    let f = Fixture::new(|command: &[String], n| match command[0].as_str() {
        "has-session" => Reply::Exit(1, "can't find session: sess-1"),
        _ => healthy(command, n),
    });
    let err = f.runtime.create(&config("sess-1")).await.unwrap_err();
    assert_eq!(err, RuntimeError::ExitedBeforeReady("sess-1".to_owned()));
    let names = f.names();
    assert_eq!(&names[names.len() - 2..], ["list-panes", "kill-session"]);
}

#[tokio::test]
async fn create_failures_after_new_session_destroy_it_but_new_session_failures_do_not() {
    // A failing option after creation: destroyed.
    let f = Fixture::new(|command: &[String], n| match command[0].as_str() {
        "set-option" => Reply::Exit(1, "invalid option: window-size"),
        _ => healthy(command, n),
    });
    let err = f.runtime.create(&config("sess-1")).await.unwrap_err();
    assert!(err.to_string().contains("invalid option"), "{err}");
    assert_eq!(f.names().last().unwrap(), "kill-session");
    // An unexpected pane id: destroyed.
    let f = Fixture::new(|command: &[String], n| match command[0].as_str() {
        "new-session" => Reply::Out("garbage\n"),
        _ => healthy(command, n),
    });
    assert!(f.runtime.create(&config("sess-1")).await.is_err());
    assert_eq!(
        f.names(),
        [
            "new-session",
            "pipe-pane",
            "set-option",
            "set-option",
            "set-option",
            "display-message",
            "list-panes",
            "kill-session"
        ]
    );
    // new-session itself fails (e.g. a duplicate name): nothing else runs, nothing is killed.
    let f = Fixture::new(|_: &[String], _| Reply::Exit(1, "duplicate session: sess-1"));
    let err = f.runtime.create(&config("sess-1")).await.unwrap_err();
    assert!(err.to_string().contains("duplicate session"));
    assert_eq!(f.names(), ["new-session"]);
}

#[tokio::test]
async fn o14_destroy_of_a_missing_session_is_ok() {
    for missing in ["can't find session: sess-1", "no server running on /tmp/x"] {
        let f = Fixture::new(move |command: &[String], _| match command[0].as_str() {
            "list-panes" | "kill-session" => Reply::Exit(1, missing),
            _ => Reply::Out(""),
        });
        std::fs::create_dir_all(f.dir.path().join("out")).unwrap();
        std::fs::write(f.dir.path().join("out/sess-1.log"), "old").unwrap();
        std::fs::write(f.dir.path().join("out/sess-1.log.offset"), "5").unwrap();
        f.runtime.destroy(&handle("sess-1")).await.unwrap();
        assert_eq!(f.names(), ["list-panes", "kill-session"]);
        assert!(!f.dir.path().join("out/sess-1.log").exists());
        assert!(!f.dir.path().join("out/sess-1.log.offset").exists());
    }
}

#[tokio::test]
async fn o15_destroy_failure_is_an_error_after_the_reap() {
    let f = Fixture::new(|command: &[String], _| match command[0].as_str() {
        "list-panes" => Reply::Out("4242\n"),
        "kill-session" => Reply::Exit(1, "permission denied"),
        _ => Reply::Out(""),
    });
    std::fs::create_dir_all(f.dir.path().join("out")).unwrap();
    std::fs::write(f.dir.path().join("out/sess-1.log"), "kept").unwrap();
    let err = f.runtime.destroy(&handle("sess-1")).await.unwrap_err();
    assert!(err.to_string().contains("permission denied"), "{err}");
    assert!(err.to_string().contains("kill-session -t =sess-1"), "{err}");
    assert_eq!(*f.processes.lookups.lock().unwrap(), vec![vec![4242]]);
    assert!(
        f.dir.path().join("out/sess-1.log").exists(),
        "a live session keeps its log"
    );
}

#[tokio::test(start_paused = true)]
async fn o16_destroy_reaps_the_listed_pane_sessions_with_a_5s_grace() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        TmuxOptions::new(TmuxSocket::default(), CONF.into(), dir.path().into()).reap_grace,
        Duration::from_secs(5)
    );
    let f = Fixture::new(|command: &[String], _| match command[0].as_str() {
        "list-panes" => Reply::Out("4242\n4243\n\n1\n"),
        _ => Reply::Out(""),
    });
    // The survivors never leave: TERM, a 5 s grace, KILL.
    let processes = Arc::new(FakeProcesses::new(|_| Ok(vec![5000])));
    let runtime = TmuxRuntime::with_processes(
        f.runtime.inner.options.clone(),
        Arc::clone(&f.runner) as Arc<dyn CommandRunner>,
        Arc::clone(&processes) as Arc<dyn ProcessControl>,
    )
    .unwrap();
    let started = Instant::now();
    runtime.destroy(&handle("sess-1")).await.unwrap();
    assert!(started.elapsed() >= Duration::from_secs(5));
    assert!(started.elapsed() < Duration::from_secs(6));
    let lookups = processes.lookups.lock().unwrap().clone();
    assert!(
        lookups.iter().all(|l| l == &vec![4242, 4243]),
        "{lookups:?}"
    );
    assert_eq!(
        *processes.signals.lock().unwrap(),
        vec![(5000, Signal::SIGTERM), (5000, Signal::SIGKILL)]
    );
}

#[tokio::test]
async fn o17_is_alive() {
    let alive = Fixture::new(|_: &[String], _| Reply::Out(""));
    assert!(alive.runtime.is_alive(&handle("sess-1")).await.unwrap());
    for missing in [
        "can't find session: sess-1",
        "no server running on /tmp/x",
        "error connecting to /tmp/x (No such file or directory)",
    ] {
        let f = Fixture::new(move |_: &[String], _| Reply::Exit(1, missing));
        assert!(!f.runtime.is_alive(&handle("sess-1")).await.unwrap());
    }
    let broken = Fixture::new(|_: &[String], _| Reply::Exit(1, "protocol version mismatch"));
    assert!(broken.runtime.is_alive(&handle("sess-1")).await.is_err());
}

#[tokio::test(start_paused = true)]
async fn a_server_caught_exiting_is_asked_again() {
    let f = Fixture::new(|_: &[String], n| match n {
        0 | 1 => Reply::Exit(1, "server exited unexpectedly"),
        _ => Reply::Exit(1, "no server running on /tmp/x"),
    });
    assert!(!f.runtime.is_alive(&handle("sess-1")).await.unwrap());
    assert_eq!(f.names(), ["has-session"; 3]);

    let f = Fixture::new(|_: &[String], _| Reply::Exit(1, "server exited unexpectedly"));
    let facts = f.runtime.probe_all(&targets(&[("s", "%1")])).await;
    assert_eq!(facts, vec![probe::FAILED]);
    assert_eq!(f.names(), ["list-panes"; 5]);
    // Commands that must not run twice are never repeated.
    f.runtime.interrupt(&handle("s")).await.unwrap_err();
    assert_eq!(f.names().len(), 6);
}

fn small_chunks(options: &mut TmuxOptions) {
    options.chunk_bytes = 5;
}

#[tokio::test(start_paused = true)]
async fn o18_o19_o20_literal_chunks() {
    let f = Fixture::with(|_: &[String], _| Reply::Out(""), small_chunks);
    let h = handle("sess-1");
    f.runtime.send_message(&h, "hello世界").await.unwrap();
    f.runtime.send_message(&h, "Enter").await.unwrap();
    f.runtime.send_message(&h, "-fix").await.unwrap();
    let literal = |text: &str| {
        let mut argv = words("send-keys -t =sess-1:0.0 -l --");
        argv.push(text.to_owned());
        argv
    };
    let enter = words("send-keys -t =sess-1:0.0 Enter");
    assert_eq!(
        f.commands(),
        vec![
            literal("hello"),
            literal("世"),
            literal("界"),
            enter.clone(),
            literal("Enter"),
            enter.clone(),
            literal("-fix"),
            enter,
        ]
    );
}

#[tokio::test]
async fn a_message_with_a_nul_byte_types_nothing() {
    let f = Fixture::with(|_: &[String], _| Reply::Out(""), small_chunks);
    let err = f.runtime.send_message(&handle("s"), "hello\0world").await;
    assert!(
        matches!(err, Err(RuntimeError::InvalidConfig(_))),
        "{err:?}"
    );
    assert!(f.commands().is_empty());
}

#[tokio::test]
async fn chunks_ending_in_a_semicolon_are_escaped_for_tmux() {
    let f = Fixture::with(|_: &[String], _| Reply::Out(""), small_chunks);
    f.runtime
        .send_message(&handle("s"), "ab;cd\\;")
        .await
        .unwrap();
    let chunks: Vec<String> = f.specs()[..2]
        .iter()
        .map(|s| s.argv().last().unwrap().clone())
        .collect();
    assert_eq!(chunks, ["ab;cd", "\\\\;"]);
}

#[test]
fn default_chunks_fit_tmux_command_limit() {
    let f = Fixture::new(healthy);
    let target = pane_target(&"n".repeat(48));
    let limit = f.runtime.chunk_limit(&target);
    assert!(limit > 15_000, "{limit}");
    let chunk = "x".repeat(limit - 1) + ";";
    let packed = Tmux::packed_size(["send-keys", "-t", &target, "-l", "--", &chunk]);
    assert!(packed <= Tmux::COMMAND_MAX, "{packed}");
}

/// A submit that waits for the text: the screen's answers, one per read.
fn screens(reads: &'static [&'static str]) -> impl Fn(&[String], usize) -> Reply {
    move |command: &[String], n| match command[0].as_str() {
        "display-message" => Reply::Out(reads[n.min(reads.len() - 1)]),
        _ => Reply::Out(""),
    }
}

fn shell_submit(ms: u64) -> Submit {
    Submit {
        composer: Composer::Shell,
        enter_delay: Duration::from_millis(ms),
    }
}

#[tokio::test(start_paused = true)]
async fn o21_enter_follows_as_soon_as_the_text_shows() {
    // Without a delay: Enter right after the text, no screen read.
    let f = Fixture::new(|_: &[String], _| Reply::Out(""));
    let started = Instant::now();
    f.runtime.send_message(&handle("s"), "hi").await.unwrap();
    assert_eq!(started.elapsed(), Duration::ZERO);
    assert_eq!(f.commands().len(), 2);

    // The text shows at the third read: Enter then, long before the delay.
    let f = Fixture::new(screens(&["2,0,80\n$\n", "2,0,80\n$\n", "4,0,80\n$ hi\n"]));
    let started = Instant::now();
    let submit = shell_submit(300);
    f.runtime
        .submit_message(&handle("s"), "hi", submit)
        .await
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_millis(10),
        "{:?}",
        started.elapsed()
    );
    let commands = f.commands();
    let names: Vec<&str> = commands.iter().map(|c| c[0].as_str()).collect();
    assert_eq!(
        names,
        [
            "send-keys",
            "display-message",
            "capture-pane",
            "display-message",
            "capture-pane",
            "display-message",
            "capture-pane",
            "send-keys"
        ]
    );
    assert_eq!(
        f.commands()[2],
        words("capture-pane -p -e -t =s:0.0"),
        "the screen with its attributes"
    );

    // Never shown (an input ao cannot read): Enter after the delay.
    let f = Fixture::new(screens(&["0,0,80\nworking...\n"]));
    let started = Instant::now();
    f.runtime
        .submit_message(&handle("s"), "hi", shell_submit(30))
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(30));
    assert_eq!(
        f.commands().last().unwrap(),
        &words("send-keys -t =s:0.0 Enter")
    );

    // Empty text: Enter only, at once.
    let f = Fixture::new(|_: &[String], _| Reply::Out(""));
    let started = Instant::now();
    f.runtime
        .submit_message(&handle("s"), "", shell_submit(300))
        .await
        .unwrap();
    assert_eq!(started.elapsed(), Duration::ZERO);
    assert_eq!(f.commands(), vec![words("send-keys -t =s:0.0 Enter")]);
}

#[tokio::test(start_paused = true)]
async fn someone_typing_at_the_same_time_withholds_the_enter() {
    let f = Fixture::new(screens(&["9,0,80\n$ hixy\n"]));
    let err = f
        .runtime
        .submit_message(&handle("s"), "hi", shell_submit(300))
        .await
        .unwrap_err();
    assert_eq!(err, RuntimeError::Interleaved);
    assert!(
        !f.commands()
            .iter()
            .any(|c| c.last().is_some_and(|k| k == "Enter")),
        "no Enter: {:?}",
        f.commands()
    );
}

#[tokio::test]
async fn clear_input_keys_per_composer_and_the_screen() {
    let f = Fixture::new(screens(&["3,1,80\n\u{1b}[1mtop\n$ x\n"]));
    let h = handle("s");
    f.runtime.clear_input(&h, Composer::Shell).await.unwrap();
    f.runtime.clear_input(&h, Composer::Codex).await.unwrap();
    f.runtime.clear_input(&h, Composer::Claude).await.unwrap();
    f.runtime.type_text(&h, "back").await.unwrap();
    let screen = f.runtime.screen(&h).await.unwrap();
    assert_eq!(
        f.commands()[..4],
        [
            words("send-keys -t =s:0.0 C-e C-u"),
            words("send-keys -t =s:0.0 C-e C-u"),
            words("send-keys -t =s:0.0 Escape Escape"),
            words("send-keys -t =s:0.0 -l -- back"),
        ]
    );
    assert_eq!(
        screen,
        Screen {
            text: "\u{1b}[1mtop\n$ x\n".to_owned(),
            cursor_x: 3,
            cursor_y: 1,
            width: 80,
        }
    );
}

#[tokio::test(start_paused = true)]
async fn o22_cancelled_during_the_pause_still_submits() {
    // The text never shows: the wait lasts the whole delay, and a cancelled caller still gets
    // its Enter.
    let f = Fixture::new(screens(&["0,0,80\nworking...\n"]));
    let h = handle("s");
    let send = f.runtime.submit_message(&h, "hi", shell_submit(300));
    assert!(
        tokio::time::timeout(Duration::from_millis(100), send)
            .await
            .is_err()
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let commands = f.commands();
    assert_eq!(commands[0], words("send-keys -t =s:0.0 -l -- hi"));
    assert_eq!(commands.last(), Some(&words("send-keys -t =s:0.0 Enter")));
    assert_eq!(
        commands.iter().filter(|c| c[0] == "send-keys").count(),
        2,
        "{commands:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn o23_cancelled_after_the_first_of_two_chunks() {
    let f = Fixture::with(
        |_: &[String], _| Reply::Slow(Duration::from_millis(50)),
        small_chunks,
    );
    let h = handle("s");
    let send = f.runtime.send_message(&h, "helloworld");
    assert!(
        tokio::time::timeout(Duration::from_millis(75), send)
            .await
            .is_err()
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let texts: Vec<String> = f
        .commands()
        .iter()
        .map(|c| c.last().unwrap().clone())
        .collect();
    assert_eq!(texts, ["hello", "world", "Enter"]);
}

#[tokio::test(start_paused = true)]
async fn o25_cancelled_before_the_first_chunk_sends_nothing_more() {
    let f = Fixture::new(|_: &[String], _| Reply::Hang);
    let h = handle("s");
    let send = f.runtime.send_message(&h, "hi");
    assert!(
        tokio::time::timeout(Duration::from_millis(100), send)
            .await
            .is_err()
    );
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert_eq!(f.commands().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_hanging_remainder_ends_with_a_timeout() {
    // The second chunk hangs: the detached remainder fails with its call's deadline.
    let f = Fixture::with(
        |command: &[String], n| match command[0].as_str() {
            "send-keys" if n == 1 => Reply::Hang,
            _ => Reply::Out(""),
        },
        small_chunks,
    );
    let started = Instant::now();
    let err = f
        .runtime
        .send_message(&handle("s"), "helloworld")
        .await
        .unwrap_err();
    assert!(matches!(err, RuntimeError::Timeout { .. }), "{err}");
    assert!(started.elapsed() <= Duration::from_millis(10_300));
}

#[tokio::test]
async fn o26_o27_interrupt_and_capture() {
    let f = Fixture::new(|_: &[String], _| Reply::Out("one\ntwo\nthree\n\n  \n"));
    let h = handle("sess-1");
    f.runtime.interrupt(&h).await.unwrap();
    assert_eq!(f.commands()[0], words("send-keys -t =sess-1:0.0 C-c"));
    assert_eq!(f.runtime.output(&h, 2).await.unwrap(), "two\nthree\n");
    assert_eq!(f.runtime.output(&h, 10).await.unwrap(), "one\ntwo\nthree\n");
    assert!(matches!(
        f.runtime.output(&h, 0).await,
        Err(RuntimeError::InvalidConfig(_))
    ));
    assert_eq!(last_lines("\n\n", 3), "");
}

#[test]
fn o28_attach_command() {
    let attach = attach_command(&TmuxSocket::Path(SOCK.into()), "sess-1").unwrap();
    assert_eq!(
        attach.argv,
        [
            "tmux",
            "-S",
            SOCK,
            "-u",
            "-T",
            "RGB",
            "attach-session",
            "-t",
            "=sess-1"
        ]
    );
    assert_eq!(
        attach.env_set,
        vec![
            ("TERM".to_owned(), "xterm-256color".to_owned()),
            ("COLORTERM".to_owned(), "truecolor".to_owned()),
        ]
    );
    assert_eq!(attach.env_remove, ["TMUX"]);
    for bad in ["", "a;b", "s:0", "=s", "a\nb", "a b", "../x"] {
        assert!(
            attach_command(&TmuxSocket::default(), bad).is_err(),
            "{bad:?}"
        );
    }
    assert_eq!(
        attach_command(&TmuxSocket::default(), "s").unwrap().argv[..3],
        ["tmux", "-L", "ao"]
    );
}

#[tokio::test]
async fn o30_errors_carry_argv_and_output() {
    let f = Fixture::new(|_: &[String], _| Reply::Exit(1, "no current client"));
    let err = f.runtime.interrupt(&handle("sess-1")).await.unwrap_err();
    assert_eq!(
        err,
        RuntimeError::Command {
            argv: format!("tmux -S {SOCK} -f {CONF} send-keys -t =sess-1:0.0 C-c"),
            output: "no current client".to_owned(),
        }
    );
    let f = Fixture::new(|_: &[String], _| Reply::Exit(3, ""));
    let err = f.runtime.interrupt(&handle("sess-1")).await.unwrap_err();
    assert!(err.to_string().ends_with("exit status 3"), "{err}");
    let f = Fixture::new(|_: &[String], _| Reply::Spawn("No such file or directory"));
    let err = f.runtime.interrupt(&handle("sess-1")).await.unwrap_err();
    assert!(
        err.to_string().contains("could not start: No such file"),
        "{err}"
    );
}

#[tokio::test(start_paused = true)]
async fn o31_hygiene_and_deadline() {
    let f = Fixture::new(|_: &[String], _| Reply::Hang);
    let started = Instant::now();
    let err = f.runtime.is_alive(&handle("sess-1")).await.unwrap_err();
    assert_eq!(
        err,
        RuntimeError::Timeout {
            argv: format!("tmux -S {SOCK} -f {CONF} has-session -t =sess-1"),
            seconds: 5,
        }
    );
    assert_eq!(started.elapsed(), Duration::from_secs(5));

    let f = Fixture::new(healthy);
    f.runtime.create(&config("sess-1")).await.unwrap();
    f.runtime.destroy(&handle("sess-1")).await.unwrap();
    f.runtime.check_prerequisites().await.unwrap_err();
    let specs = f.specs();
    assert_eq!(specs.len(), 5, "create 2, destroy 2, version 1");
    for spec in specs {
        assert_eq!(spec.cwd.as_deref(), Some(command::stable_cwd().as_path()));
        assert!(spec.cwd.as_ref().unwrap().is_dir());
        assert_eq!(spec.env_remove, ["TMUX", "TMUX_PANE"]);
        assert_eq!(spec.timeout, Duration::from_secs(5));
    }
}

#[tokio::test]
async fn prerequisites() {
    for (reply, ok) in [
        (Reply::Out("tmux 3.3a\n"), true),
        (Reply::Out("tmux next-3.4\n"), true),
        (Reply::Out("tmux 3.1c\n"), false),
        (Reply::Exit(1, "unknown option"), false),
        (Reply::Spawn("No such file or directory"), false),
    ] {
        let f = Fixture::new(move |_: &[String], _| reply.clone());
        let result = f.runtime.check_prerequisites().await;
        assert_eq!(result.is_ok(), ok, "{result:?}");
        if let Err(e) = result {
            assert!(matches!(e, RuntimeError::Prerequisite(_)), "{e}");
        }
        assert_eq!(f.specs()[0].argv(), ["tmux", "-V"]);
    }
}

fn targets(ids: &[(&str, &str)]) -> Vec<ProbeTarget> {
    ids.iter()
        .map(|(id, pane)| ProbeTarget {
            handle_id: (*id).to_owned(),
            pane_id: Some((*pane).to_owned()),
        })
        .collect()
}

fn facts(runtime: ProbeResult, process: ProbeResult, status: Option<i32>) -> PaneProbe {
    PaneProbe {
        runtime,
        process,
        pane_exit_status: status,
        agent_exit: None,
        server_gone: false,
    }
}

#[tokio::test]
async fn v1_v2_probe_all_is_one_listing_plus_proc() {
    let f = Fixture::new(|_: &[String], _| Reply::Out("proj-1|%1|4242|0|\nproj-2|%2|4243|1|3\n"));
    let proc = f.dir.path().join("proc");
    procfs::fake::process(&proc, 4242, "sh", 'S', 1, 4242);
    procfs::fake::children(&proc, 4242, &[4250]);
    procfs::fake::process(&proc, 4250, "agent", 'S', 4242, 4242);
    let result = f
        .runtime
        .probe_all(&targets(&[
            ("proj-1", "%1"),
            ("proj-2", "%2"),
            ("proj-3", "%3"),
        ]))
        .await;
    use ProbeResult::{Alive, Dead};
    assert_eq!(
        result,
        vec![
            facts(Alive, Alive, None),
            facts(Dead, Dead, Some(3)),
            facts(Dead, Dead, None),
        ]
    );
    assert_eq!(
        f.commands(),
        vec![words(&format!("list-panes -a -F {}", probe::LIST_FORMAT))]
    );
    // Without /proc the process fact is indeterminate, never dead.
    std::fs::remove_dir_all(&proc).unwrap();
    let result = f.runtime.probe_all(&targets(&[("proj-1", "%1")])).await;
    assert_eq!(result, vec![facts(Alive, ProbeResult::Indeterminate, None)]);
}

#[tokio::test(start_paused = true)]
async fn v3_v4_v5_listing_failures() {
    let ts = targets(&[("proj-1", "%1"), ("proj-2", "%2")]);
    let gone = PaneProbe {
        runtime: ProbeResult::Dead,
        process: ProbeResult::Indeterminate,
        pane_exit_status: None,
        agent_exit: None,
        server_gone: true,
    };
    let failed = facts(ProbeResult::Failed, ProbeResult::Failed, None);
    for missing in [
        "no server running on /tmp/tmux-1000/ao",
        "error connecting to /tmp/tmux-1000/ao (No such file or directory)",
    ] {
        let f = Fixture::new(move |_: &[String], _| Reply::Exit(1, missing));
        // Without a listener table (no `/proc/net/unix`), tmux's word stands.
        assert_eq!(f.runtime.probe_all(&ts).await, vec![gone; 2], "{missing}");
        assert_eq!(f.runtime.list_panes().await.unwrap(), vec![]);
        // Nothing listens on the socket's path: the server is gone.
        let proc = f.dir.path().join("proc");
        procfs::fake::unix_sockets(&proc, &[(true, "/tmp/other.sock"), (false, SOCK)]);
        assert_eq!(f.runtime.probe_all(&ts).await, vec![gone; 2], "{missing}");
        // A server still listens on that path (its socket file was deleted or replaced): it
        // lives, unreachable, so the probe failed.
        procfs::fake::unix_sockets(&proc, &[(true, SOCK)]);
        assert_eq!(f.runtime.probe_all(&ts).await, vec![failed; 2], "{missing}");
    }
    // Any other connection error is a failure, never "gone".
    let denied = Fixture::new(|_: &[String], _| {
        Reply::Exit(
            1,
            "error connecting to /tmp/tmux-1000/ao (Permission denied)",
        )
    });
    assert_eq!(denied.runtime.probe_all(&ts).await, vec![failed; 2]);
    assert!(denied.runtime.list_panes().await.is_err());
    let hang = Fixture::new(|_: &[String], _| Reply::Hang);
    let started = Instant::now();
    assert_eq!(hang.runtime.probe_all(&ts).await, vec![failed; 2]);
    assert_eq!(started.elapsed(), Duration::from_secs(5));
    let broken = Fixture::new(|_: &[String], _| Reply::Exit(1, "lost server"));
    assert_eq!(broken.runtime.probe_all(&ts).await, vec![failed; 2]);
    assert!(broken.runtime.list_panes().await.is_err());
}

#[tokio::test]
async fn v6_probe_ignores_malformed_lines() {
    let f = Fixture::new(|_: &[String], _| Reply::Out("garbage\nproj-1|%1|4242|1|0\n"));
    let result = f.runtime.probe_all(&targets(&[("proj-1", "%1")])).await;
    assert_eq!(
        result,
        vec![facts(ProbeResult::Dead, ProbeResult::Dead, Some(0))]
    );
}

#[tokio::test]
async fn read_output_and_probe_keep_the_log_bounded() {
    let f = Fixture::with(
        |_: &[String], _| Reply::Out("s|%1|4242|0|\n"),
        |o| o.output_log_cap = 100,
    );
    let out = f.dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("s.log"), "x".repeat(150)).unwrap();
    f.runtime.probe_all(&targets(&[("s", "%1")])).await;
    assert_eq!(std::fs::metadata(out.join("s.log")).unwrap().len(), 50);
    let chunk = f.runtime.read_output(&handle("s"), 0, 10).await.unwrap();
    assert_eq!((chunk.start, chunk.next, chunk.text.len()), (100, 110, 10));
    assert_eq!(
        f.runtime.output_log_path(&handle("s")).unwrap(),
        out.join("s.log")
    );
}

#[test]
fn config_validation() {
    let dir = tempfile::tempdir().unwrap();
    let base = TmuxOptions::new(TmuxSocket::default(), CONF.into(), dir.path().into());
    let runner: Arc<dyn CommandRunner> = Arc::new(crate::process::SystemRunner);
    let mut tiny = base.clone();
    tiny.chunk_bytes = 3;
    assert!(TmuxRuntime::new(tiny, Arc::clone(&runner)).is_err());
    let mut bad_dir = base.clone();
    bad_dir.output_dir = "".into();
    assert!(TmuxRuntime::new(bad_dir, Arc::clone(&runner)).is_err());
    assert!(TmuxRuntime::new(base, runner).is_ok());
    assert!(resolve_dir(Path::new("/a/./b/../c")) == Path::new("/a/c"));
    assert!(is_pane_id("%12") && !is_pane_id("%") && !is_pane_id("12") && !is_pane_id("%1x"));
}

#[tokio::test]
async fn restart_keeps_a_surviving_pipe() {
    let f = Fixture::new(|command: &[String], _| match command[0].as_str() {
        "display-message" => Reply::Out("1\n"),
        _ => Reply::Out(""),
    });
    f.runtime
        .restart(&handle("sess-1"), &config("sess-1"))
        .await
        .unwrap();
    assert_eq!(f.names(), ["respawn-pane", "display-message"]);
}

/// A launch script too long for one tmux command (a long prompt in the agent's argv) is run
/// from a 0600 file beside the output log, which destroy removes.
#[tokio::test]
async fn a_long_launch_script_runs_from_a_private_file() {
    use std::os::unix::fs::PermissionsExt;
    let f = Fixture::new(healthy);
    let mut cfg = config("sess-1");
    let prompt = "x".repeat(40 * 1024);
    cfg.argv.push(prompt.clone());
    f.runtime.create(&cfg).await.unwrap();
    let script_path = f.dir.path().join("out/sess-1.launch.sh");
    let new_session = &f.commands()[0];
    assert_eq!(
        new_session[new_session.len() - 2..],
        ["/bin/sh".to_owned(), script_path.display().to_string()]
    );
    let script = std::fs::read_to_string(&script_path).unwrap();
    assert!(script.starts_with("cd '/tmp/ws' || exit; ") && script.contains(&prompt));
    let mode = std::fs::metadata(&script_path)
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    for spec in f.specs() {
        let size = Tmux::packed_size(spec.argv().iter().skip(1));
        assert!(size <= Tmux::COMMAND_MAX, "{size}");
    }
    f.runtime.destroy(&handle("sess-1")).await.unwrap();
    assert!(!script_path.exists(), "destroy removes the script");
}
