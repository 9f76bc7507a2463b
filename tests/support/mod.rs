//! Shared helpers for the end-to-end tests: the workspace's binaries, a real `aod` on temp
//! directories with its own private tmux server, an `aoctl` runner, a git repository fixture,
//! and polling with deadlines.
//!
//! Everything a test starts is torn down by `Drop`, even when the test fails: the daemon is
//! killed, `kill-server` runs on the private tmux socket only, and the temp directories go. On a
//! failing test the daemon's log and every pane's content are printed first.
#![allow(dead_code)] // each test binary uses a different subset

pub mod files;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Path of the workspace binary `name` (`aod` or `aoctl`), freshly built.
///
/// `cargo test` builds the binaries of a package only for that package's own integration tests,
/// and these tests live in the root package, so the first call in each test process runs
/// `cargo build` for both binaries into the test executable's own target directory and profile.
/// That also keeps a stale binary from an earlier build from being tested.
pub fn bin(name: &str) -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    let dir = BUILT.get_or_init(build_binaries);
    let path = dir.join(name);
    assert!(path.is_file(), "{} was not built", path.display());
    path
}

fn build_binaries() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("test executable lives in <target>/<profile>/deps");
    let target_dir = profile_dir.parent().expect("<target>/<profile>");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .args(["build", "--quiet", "--locked", "-p", "aod", "-p", "aoctl"])
        .arg("--target-dir")
        .arg(target_dir)
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    // Cargo gives a test process its package's variables; a build script that reruns when one
    // changes (ring watches CARGO_MANIFEST_DIR) would rebuild half the tree at every call.
    for (key, _) in std::env::vars_os() {
        let key_text = key.to_string_lossy();
        let set_by_cargo_for_tests = key_text.starts_with("CARGO_PKG_")
            || key_text.starts_with("CARGO_BIN_")
            || [
                "CARGO_MANIFEST_DIR",
                "CARGO_MANIFEST_PATH",
                "CARGO_CRATE_NAME",
                "CARGO_PRIMARY_PACKAGE",
                "CARGO_TARGET_TMPDIR",
                "OUT_DIR",
            ]
            .contains(&key_text.as_ref());
        if set_by_cargo_for_tests {
            command.env_remove(&key);
        }
    }
    // Profiles `test` and `bench` build into `debug` and `release`.
    match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") => {}
        Some("release") => {
            command.arg("--release");
        }
        Some(other) => {
            command.args(["--profile", other]);
        }
        None => panic!("no profile directory in {}", exe.display()),
    }
    let out = command.output().expect("run cargo build");
    assert!(
        out.status.success(),
        "cargo build -p aod -p aoctl failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    profile_dir.to_path_buf()
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
                .map(|p| command_line(*p))
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

/// `(pid, parent pid)` of every process, from `/proc/<pid>/stat`.
fn process_table() -> Vec<(u32, u32)> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return vec![];
    };
    entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // The command name may hold spaces and parentheses; the fields after it do not.
            let rest = &stat[stat.rfind(')')? + 2..];
            let ppid = rest.split(' ').nth(1)?.parse().ok()?;
            Some((pid, ppid))
        })
        .collect()
}

/// Every live descendant of `root`.
pub fn descendants(root: u32) -> Vec<u32> {
    let table = process_table();
    let mut found = vec![];
    let mut frontier = vec![root];
    while let Some(parent) = frontier.pop() {
        for (pid, ppid) in &table {
            if *ppid == parent && !found.contains(pid) {
                found.push(*pid);
                frontier.push(*pid);
            }
        }
    }
    found
}

/// Whether `pid` runs (a zombie does not).
pub fn process_alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let rest = &stat[stat.rfind(')')? + 2..];
            rest.chars().next()
        })
        .is_some_and(|state| state != 'Z' && state != 'X')
}

fn command_line(pid: u32) -> String {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    format!("{pid}: {}", text(&raw).replace('\0', " "))
}
