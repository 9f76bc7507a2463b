//! A real `aod` on temp directories with its own private tmux server, and `aoctl` run against
//! it: one isolated ao installation per test.
//!
//! Everything an env starts is torn down by `Drop`, even when the test fails: the daemon is
//! killed, `kill-server` runs on the private tmux socket only, and the temp directories go. On a
//! failing test the daemon's log and every pane's content are printed first.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use crate::procfs::{command_line, descendants, process_alive};
use crate::{bin, text, wait_for};

/// Generous deadline for anything involving tmux on a loaded 2-core CI machine.
pub const SLOW: Duration = Duration::from_secs(60);

/// A configuration with short reaper and observer ticks (so transitions show within a second
/// or two) and no user tmux configuration.
pub const FAST_CONFIG: &str = r#"
[runtime.tmux]
load_user_config = false
[reaper]
tick = "1s"
[observer]
tick = "500ms"
"#;

/// One isolated ao installation: data dir, daemon socket, private tmux server, config file.
pub struct TestEnv {
    dir: tempfile::TempDir,
    pub data_dir: PathBuf,
    pub socket: PathBuf,
    pub tmux_socket: PathBuf,
    pub config: PathBuf,
    /// Extra environment for every `aoctl` and `aod` this env runs.
    pub env: Vec<(String, String)>,
    /// Variables removed from the environment of every `aoctl` and `aod` this env runs.
    pub env_remove: Vec<String>,
    daemon: Option<Child>,
}

impl TestEnv {
    /// An env with an empty configuration file.
    pub fn new() -> Self {
        Self::with_config("")
    }

    /// An env with [`FAST_CONFIG`].
    pub fn fast() -> Self {
        Self::with_config(FAST_CONFIG)
    }

    pub fn with_config(toml: &str) -> Self {
        // Short paths: a Unix socket path must fit in 108 bytes.
        let dir = tempfile::Builder::new()
            .prefix("ao-e2e")
            .tempdir_in("/tmp")
            .expect("temp dir");
        let base = dir.path().canonicalize().expect("canonical temp dir");
        // The daemon's socket lives here: aod and aoctl use only a directory private to them.
        std::fs::set_permissions(&base, std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .expect("make the env's directory private");
        let config = base.join("config.toml");
        std::fs::write(&config, toml).expect("write config");
        Self {
            data_dir: base.join("data"),
            socket: base.join("aod.sock"),
            tmux_socket: base.join("tmux.sock"),
            config,
            env: vec![],
            env_remove: vec![],
            daemon: None,
            dir,
        }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn log_path(&self) -> PathBuf {
        self.data_dir.join("aod.log")
    }

    fn apply_env(&self, command: &mut Command) {
        command
            .env("AO_DATA_DIR", &self.data_dir)
            .env("AO_SOCKET", &self.socket)
            .env("AO_TMUX_SOCKET", &self.tmux_socket)
            .env("AO_CONFIG", &self.config)
            .env("AO_LOG", "debug,tarpc=info")
            .env_remove("TMUX")
            .env_remove("TMUX_PANE")
            .env_remove("AO_SESSION_ID");
        for key in &self.env_remove {
            command.env_remove(key);
        }
        for (key, value) in &self.env {
            command.env(key, value);
        }
    }

    /// An `aoctl` command for this env (never autostarts a daemon).
    pub fn aoctl(&self) -> Command {
        let mut command = Command::new(bin("aoctl"));
        self.apply_env(&mut command);
        command.arg("--no-autostart");
        command
    }

    /// An `aoctl` command for this env that starts the daemon when none answers (the daemon
    /// it starts is not a child of the test; `Drop` still kills it).
    pub fn aoctl_autostart(&self) -> Command {
        let mut command = Command::new(bin("aoctl"));
        self.apply_env(&mut command);
        command
    }

    /// An `aod` command for this env (not started).
    pub fn aod(&self) -> Command {
        let mut command = Command::new(bin("aod"));
        self.apply_env(&mut command);
        command
            .arg("--log-file")
            .arg(self.log_path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        command
    }

    /// Runs `aoctl args…` and returns its output, whatever the exit status.
    pub fn run(&self, args: &[&str]) -> Output {
        self.aoctl().args(args).output().expect("run aoctl")
    }

    /// Runs `aoctl args…`, asserts success and returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "aoctl {args:?} failed ({:?}):\nstdout: {}\nstderr: {}",
            out.status.code(),
            text(&out.stdout),
            text(&out.stderr)
        );
        text(&out.stdout)
    }

    /// Runs `aoctl args… --json` and parses the document.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut all: Vec<&str> = args.to_vec();
        all.push("--json");
        let stdout = self.ok(&all);
        serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("aoctl {all:?}: bad JSON ({e}): {stdout}"))
    }

    /// Starts `aod` for this env and waits until it answers.
    pub fn start_daemon(&mut self) {
        self.start_daemon_with(|_| {});
    }

    /// Starts `aod` for this env, its command changed by `adjust` first, and waits until it
    /// answers.
    pub fn start_daemon_with(&mut self, adjust: impl FnOnce(&mut Command)) {
        assert!(self.daemon.is_none(), "daemon already started");
        let mut command = self.aod();
        adjust(&mut command);
        self.daemon = Some(command.spawn().expect("start aod"));
        wait_for("the daemon to answer", SLOW, || {
            if let Some(child) = self.daemon.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!("aod exited at start ({status}):\n{}", self.log_tail(40));
            }
            let out = self.run(&["daemon", "status"]);
            if out.status.success() {
                Ok(())
            } else {
                Err(text(&out.stderr))
            }
        });
    }

    /// Stops the daemon gracefully (`aoctl daemon stop`), reaps it, and returns what
    /// `daemon stop` printed.
    pub fn stop_daemon(&mut self) -> String {
        let said = self.ok(&["daemon", "stop"]);
        if let Some(mut child) = self.daemon.take() {
            let status = child.wait().expect("wait for aod");
            assert!(
                status.success(),
                "aod exited with {status}:\n{}",
                self.log_tail(40)
            );
        }
        said
    }

    /// Sends `signal` to the daemon this env started.
    pub fn signal_daemon(&self, signal_to_send: nix::sys::signal::Signal) {
        let pid = self.daemon_pid().expect("no daemon started");
        signal(pid, signal_to_send).expect("signal the daemon");
    }

    /// Waits (up to [`SLOW`]) for the daemon this env started to exit, reaps it, and returns
    /// how it exited.
    pub fn wait_daemon_exit(&mut self) -> std::process::ExitStatus {
        let mut child = self.daemon.take().expect("no daemon started");
        wait_for("the daemon to exit", SLOW, || match child.try_wait() {
            Ok(Some(status)) => Ok(status),
            other => Err(format!("{other:?}")),
        })
    }

    /// SIGKILLs the daemon (a crash).
    pub fn kill_daemon_hard(&mut self) {
        if let Some(mut child) = self.daemon.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// A crash in the middle of work: freezes the daemon (so it starts nothing new), notes
    /// every process it has started, SIGKILLs it, and waits until those orphans (`git`, `tmux`
    /// clients) have finished, so what they were doing has landed on disk before the test looks.
    /// Returns how many orphans there were.
    pub fn crash_daemon(&mut self) -> usize {
        let Some(mut child) = self.daemon.take() else {
            panic!("no daemon to crash");
        };
        let pid = child.id();
        let _ = signal(pid, nix::sys::signal::Signal::SIGSTOP);
        let orphans = descendants(pid);
        let _ = child.kill();
        let _ = child.wait();
        wait_for("the crashed daemon's children to finish", SLOW, || {
            let alive: Vec<String> = orphans
                .iter()
                .filter(|p| process_alive(**p))
                .map(|p| format!("{p}: {}", command_line(*p)))
                .collect();
            if alive.is_empty() {
                Ok(())
            } else {
                Err(alive.join("; "))
            }
        });
        orphans.len()
    }

    /// The pid of whatever daemon answers on this env's socket (started by the test or not).
    pub fn answering_pid(&self) -> Option<u32> {
        let out = self.run(&["daemon", "status", "--json"]);
        if !out.status.success() {
            return None;
        }
        let pong: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
        pong["pid"].as_u64().and_then(|p| u32::try_from(p).ok())
    }

    pub fn daemon_pid(&self) -> Option<u32> {
        self.daemon.as_ref().map(Child::id)
    }

    /// Runs `tmux -S <private socket> args…`.
    pub fn tmux(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-S")
            .arg(&self.tmux_socket)
            .args(args)
            .env_remove("TMUX")
            .output()
            .expect("run tmux")
    }

    /// `(session name, pane id, pane pid)` of every pane on the private server.
    pub fn panes(&self) -> Vec<(String, String, u32)> {
        let out = self.tmux(&[
            "list-panes",
            "-a",
            "-F",
            "#{session_name} #{pane_id} #{pane_pid}",
        ]);
        text(&out.stdout)
            .lines()
            .filter_map(|line| {
                let mut words = line.split(' ');
                let (name, pane, pid) = (words.next()?, words.next()?, words.next()?);
                Some((name.to_owned(), pane.to_owned(), pid.parse().ok()?))
            })
            .collect()
    }

    /// Names of the tmux sessions on the private server (empty when it is not running).
    pub fn tmux_sessions(&self) -> Vec<String> {
        let out = self.tmux(&["list-sessions", "-F", "#{session_name}"]);
        text(&out.stdout).lines().map(str::to_owned).collect()
    }

    /// The visible content of a session's pane.
    pub fn capture(&self, session: &str) -> String {
        let target = format!("={session}:0.0");
        text(&self.tmux(&["capture-pane", "-p", "-t", &target]).stdout)
    }

    /// The log's current length: an offset for [`TestEnv::log_since`].
    pub fn log_len(&self) -> usize {
        std::fs::metadata(self.log_path()).map_or(0, |m| m.len() as usize)
    }

    /// What the daemon logged after `offset` bytes.
    pub fn log_since(&self, offset: usize) -> String {
        let log = std::fs::read(self.log_path()).unwrap_or_default();
        text(log.get(offset..).unwrap_or_default())
    }

    pub fn log_tail(&self, lines: usize) -> String {
        let log = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        let all: Vec<&str> = log.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// The managed worktree root (the default, `<data dir>/worktrees`).
    pub fn worktree_root(&self) -> PathBuf {
        self.data_dir.join("worktrees")
    }

    /// Directory names under `<worktree root>/<project>`, sorted (empty when there is none).
    pub fn worktree_dirs(&self, project: &str) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.worktree_root().join(project))
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    /// Spawns a `command` agent running `cmd` (split like a shell would; no shell runs) and
    /// returns its session id.
    pub fn spawn_cmd(&self, project: &str, cmd: &str) -> String {
        let session = self.json(&["spawn", "-p", project, "--cmd", cmd]);
        session["id"]
            .as_str()
            .unwrap_or_else(|| panic!("spawn printed no id: {session}"))
            .to_owned()
    }

    /// Waits until `aoctl tail <id>` shows `needle`; returns what it showed.
    pub fn wait_tail(&self, id: &str, needle: &str) -> String {
        wait_for(&format!("{needle:?} in the output of {id}"), SLOW, || {
            let out = self.ok(&["tail", id, "-n", "200"]);
            if out.contains(needle) {
                Ok(out)
            } else {
                Err(out)
            }
        })
    }

    /// Registers `repo` as project `name`.
    pub fn add_project(&self, name: &str, repo: &Path) {
        self.ok(&["project", "add", name, repo.to_str().unwrap()]);
    }

    /// Registers `repo` as project `name` with one post-create command (split like a shell
    /// would by `project add`).
    pub fn add_project_with_post_create(&self, name: &str, repo: &Path, post_create: &str) {
        self.ok(&[
            "project",
            "add",
            name,
            repo.to_str().unwrap(),
            "--post-create",
            post_create,
        ]);
    }

    /// A started daemon with a fresh repository registered as project `demo`.
    pub fn with_demo_project() -> (Self, crate::GitRepo) {
        let repo = crate::GitRepo::new();
        let mut env = Self::new();
        env.start_daemon();
        env.add_project("demo", &repo.path);
        (env, repo)
    }

    /// The `status` of a session per `aoctl get --json`.
    pub fn status(&self, id: &str) -> String {
        self.json(&["get", id])["status"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Waits until a session shows one of `statuses`.
    pub fn wait_status(&self, id: &str, statuses: &[&str]) -> serde_json::Value {
        wait_for(&format!("{id} to be {statuses:?}"), SLOW, || {
            let session = self.json(&["get", id]);
            let status = session["status"].as_str().unwrap_or_default();
            if statuses.contains(&status) {
                Ok(session)
            } else {
                Err(format!("status {status}; pane:\n{}", self.capture(id)))
            }
        })
    }
}

impl Default for TestEnv {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("---- aod.log (last 80 lines) ----\n{}", self.log_tail(80));
            for session in self.tmux_sessions() {
                eprintln!("---- pane {session} ----\n{}", self.capture(&session));
            }
        }
        self.kill_daemon_hard();
        // A daemon `aoctl` started by itself is not our child.
        if self.socket.exists()
            && let Some(pid) = self.answering_pid()
        {
            let _ = signal(pid, nix::sys::signal::Signal::SIGKILL);
        }
        let _ = self.tmux(&["kill-server"]);
        let _ = std::fs::remove_file(&self.tmux_socket);
        let _ = std::fs::remove_file(&self.socket);
    }
}

/// Asserts that a failed `aoctl` run exited with `code` and printed exactly one line on
/// stderr (starting with `aoctl: `); returns that line.
pub fn assert_error(out: &Output, code: i32) -> String {
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(code),
        "exit code; stdout: {}; stderr: {stderr}",
        text(&out.stdout)
    );
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(
        lines.len() == 1 && lines[0].starts_with("aoctl: "),
        "expected one `aoctl: ` line on stderr, got: {stderr:?}"
    );
    lines[0].to_owned()
}

fn signal(pid: u32, signal: nix::sys::signal::Signal) -> nix::Result<()> {
    let pid = i32::try_from(pid).map_err(|_| nix::errno::Errno::ESRCH)?;
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), signal)
}
