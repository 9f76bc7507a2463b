//! Shared helpers for the end-to-end tests: the workspace's binaries, a real `aod` on temp
//! directories with its own private tmux server, an `aoctl` runner, a git repository fixture,
//! and polling with deadlines.
//!
//! Everything a test starts is torn down by `Drop`, even when the test fails: the daemon is
//! killed, `kill-server` runs on the private tmux socket only, and the temp directories go. On a
//! failing test the daemon's log and every pane's content are printed first.
#![allow(dead_code)] // each test binary uses a different subset

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Path of a binary built by `cargo test --workspace` (or `cargo build --workspace`), found
/// next to the test executable's `deps/` directory.
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("test executable lives in <target>/<profile>/deps");
    let path = dir.join(name);
    assert!(
        path.is_file(),
        "{} not found: build the workspace first (`cargo test --workspace` does)",
        path.display()
    );
    path
}

/// Polls `check` until it returns `Some`, or panics after `timeout` with `what` and the last
/// value seen.
pub fn wait_for<T, F>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Result<T, String>,
{
    let deadline = Instant::now() + timeout;
    loop {
        let last = match check() {
            Ok(value) => return value,
            Err(seen) => seen,
        };
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}; last seen: {last}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Generous deadline for anything involving tmux on a loaded 2-core CI machine.
pub const SLOW: Duration = Duration::from_secs(60);

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A git repository with a bare `origin`, one commit (`README`) on `main`, pushed.
pub struct GitRepo {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
    pub origin: PathBuf,
}

pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

impl GitRepo {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let base = dir.path().canonicalize().expect("canonical temp dir");
        let origin = base.join("origin.git");
        let path = base.join("repo");
        git(
            &base,
            &["init", "--quiet", "--bare", "-b", "main", "origin.git"],
        );
        git(
            &base,
            &["clone", "--quiet", origin.to_str().unwrap(), "repo"],
        );
        git(&path, &["symbolic-ref", "HEAD", "refs/heads/main"]);
        std::fs::write(path.join("README"), "hello\n").expect("write README");
        git(&path, &["add", "README"]);
        git(&path, &["commit", "--quiet", "-m", "initial"]);
        git(&path, &["push", "--quiet", "origin", "main"]);
        git(&path, &["remote", "set-head", "origin", "main"]);
        Self {
            _dir: dir,
            path,
            origin,
        }
    }
}

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

    pub fn with_config(toml: &str) -> Self {
        // Short paths: a Unix socket path must fit in 108 bytes.
        let dir = tempfile::Builder::new()
            .prefix("ao-e2e")
            .tempdir_in("/tmp")
            .expect("temp dir");
        let base = dir.path().canonicalize().expect("canonical temp dir");
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
            .env("AO_LOG", "debug")
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
        assert!(self.daemon.is_none(), "daemon already started");
        let mut command = Command::new(bin("aod"));
        self.apply_env(&mut command);
        command
            .arg("--log-file")
            .arg(self.log_path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
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

    /// Stops the daemon gracefully (`aoctl daemon stop`) and reaps it.
    pub fn stop_daemon(&mut self) {
        self.ok(&["daemon", "stop"]);
        if let Some(mut child) = self.daemon.take() {
            let status = child.wait().expect("wait for aod");
            assert!(
                status.success(),
                "aod exited with {status}:\n{}",
                self.log_tail(40)
            );
        }
    }

    /// SIGKILLs the daemon (a crash).
    pub fn kill_daemon_hard(&mut self) {
        if let Some(mut child) = self.daemon.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
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

    pub fn log_tail(&self, lines: usize) -> String {
        let log = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        let all: Vec<&str> = log.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Registers `repo` as project `name`.
    pub fn add_project(&self, name: &str, repo: &Path) {
        self.ok(&["project", "add", name, repo.to_str().unwrap()]);
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

impl Drop for TestEnv {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("---- aod.log (last 80 lines) ----\n{}", self.log_tail(80));
            for session in self.tmux_sessions() {
                eprintln!("---- pane {session} ----\n{}", self.capture(&session));
            }
        }
        self.kill_daemon_hard();
        let _ = self.tmux(&["kill-server"]);
        let _ = std::fs::remove_file(&self.tmux_socket);
        let _ = std::fs::remove_file(&self.socket);
    }
}
