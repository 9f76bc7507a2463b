//! End-to-end tests of trust between `aoctl` and its daemon, and of private data: `aoctl` sends
//! nothing to a socket another user could own or serve, `aod` never serves from (nor changes) a
//! directory it cannot trust, `attach` runs only the tmux command `aoctl` builds itself, and
//! everything ao writes under its data directory is private to its user.
//!
//! The other user is `nobody`: as root, the tests chown directories to it and run a fake daemon
//! under its uid (this test binary, re-run with `FAKE_SOCKET` set). Without root they print why
//! they skip that part.

use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};

use ao_testkit::{GitRepo, SLOW, TestEnv, assert_error, bin, wait_for};

/// Set (to a socket path) when this binary runs as the fake daemon of another user.
const FAKE_SOCKET: &str = "AO_TEST_FAKE_DAEMON_SOCKET";

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// `(uid, gid)` of `nobody` when this process may act as it (it runs as root); otherwise prints
/// why the caller skips and returns `None`.
fn other_user(test: &str) -> Option<(u32, u32)> {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("SKIPPED: {test}: needs root to run a process as another user");
        return None;
    }
    match nix::unistd::User::from_name("nobody") {
        Ok(Some(user)) => Some((user.uid.as_raw(), user.gid.as_raw())),
        _ => {
            eprintln!("SKIPPED: {test}: this system has no `nobody` user");
            None
        }
    }
}

/// A temp directory others may traverse (so another user reaches what is inside).
fn open_base() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::Builder::new()
        .prefix("ao-trust")
        .tempdir_in("/tmp")
        .expect("temp dir");
    let base = dir.path().canonicalize().expect("canonical temp dir");
    chmod(&base, 0o755);
    (dir, base)
}

/// Serves `listener` like a daemon that records what it is sent: when a connection ends, one
/// line with the number of bytes it received is appended to `journal`. A complete frame is
/// answered with the next of `attach_replies` (as the reply to `attach`), or else the
/// connection is closed.
fn fake_daemon(listener: UnixListener, journal: PathBuf, attach_replies: Vec<String>) {
    let replies = Arc::new(Mutex::new(attach_replies.into_iter()));
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let (journal, replies) = (journal.clone(), replies.clone());
        std::thread::spawn(move || serve_fake(stream, &journal, &replies));
    }
}

fn serve_fake(mut stream: UnixStream, journal: &Path, replies: &Mutex<std::vec::IntoIter<String>>) {
    let mut received = 0;
    let mut pending: Vec<u8> = vec![];
    let mut chunk = [0u8; 64 * 1024];
    loop {
        let n = match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        received += n;
        pending.extend_from_slice(&chunk[..n]);
        let Some(len) = pending
            .get(..4)
            .map(|p| u32::from_be_bytes([p[0], p[1], p[2], p[3]]) as usize)
        else {
            continue;
        };
        if pending.len() < 4 + len {
            continue;
        }
        let request: serde_json::Value =
            serde_json::from_slice(&pending[4..4 + len]).unwrap_or_default();
        pending.drain(..4 + len);
        let reply = replies.lock().unwrap().next();
        match (request["Request"]["id"].as_u64(), reply) {
            (Some(id), Some(reply)) => {
                let reply: serde_json::Value = serde_json::from_str(&reply).expect("reply JSON");
                let body = serde_json::json!({
                    "request_id": id,
                    "message": {"Ok": {"Attach": {"Ok": reply}}},
                })
                .to_string();
                let mut frame = (body.len() as u32).to_be_bytes().to_vec();
                frame.extend(body.as_bytes());
                let _ = stream.write_all(&frame);
            }
            _ => break,
        }
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(journal)
        .expect("open the journal");
    writeln!(file, "{received}").expect("write the journal");
}

/// Not a test: the body of the fake daemon the tests run as another user.
#[test]
#[ignore = "helper process: the tests of this file run it as another user"]
fn fake_daemon_process() {
    let Some(socket) = std::env::var_os(FAKE_SOCKET).map(PathBuf::from) else {
        return;
    };
    let listener = UnixListener::bind(&socket).expect("bind the fake daemon's socket");
    fake_daemon(listener, journal_of(&socket), vec![]);
}

fn journal_of(socket: &Path) -> PathBuf {
    socket.with_extension("journal")
}

/// The fake daemon, run as `uid:gid` from a copy of this binary in `base` (the target
/// directory may be out of that user's reach); killed on drop.
struct ForeignDaemon {
    child: Child,
    journal: PathBuf,
}

impl ForeignDaemon {
    fn start(base: &Path, socket: &Path, (uid, gid): (u32, u32)) -> Self {
        let program = base.join("fake-daemon");
        std::fs::copy(std::env::current_exe().expect("this test binary"), &program)
            .expect("copy this test binary");
        chmod(&program, 0o755);
        let child = Command::new(&program)
            .args([
                "fake_daemon_process",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(FAKE_SOCKET, socket)
            .uid(uid)
            .gid(gid)
            .stdout(Stdio::null())
            .spawn()
            .expect("start the fake daemon as another user");
        let daemon = Self {
            child,
            journal: journal_of(socket),
        };
        wait_for("the fake daemon's socket", SLOW, || {
            if socket.exists() {
                Ok(())
            } else {
                Err("absent".to_owned())
            }
        });
        daemon
    }

    /// Bytes received per finished connection, once `connections` have finished.
    fn received(&self, connections: usize) -> Vec<usize> {
        wait_for(&format!("{connections} connections to end"), SLOW, || {
            let lines: Vec<usize> = std::fs::read_to_string(&self.journal)
                .unwrap_or_default()
                .lines()
                .filter_map(|l| l.parse().ok())
                .collect();
            if lines.len() >= connections {
                Ok(lines)
            } else {
                Err(format!("{lines:?}"))
            }
        })
    }
}

impl Drop for ForeignDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `aoctl` with `socket` as its daemon's socket and everything else in `base`.
fn aoctl(base: &Path, socket: &Path) -> Command {
    let mut command = Command::new(bin("aoctl"));
    command
        .env("AO_SOCKET", socket)
        .env("AO_DATA_DIR", base.join("data"))
        .env("AO_CONFIG", base.join("config.toml"))
        .env("AO_TMUX_SOCKET", base.join("tmux.sock"))
        .env_remove("AO_SESSION_ID")
        .env_remove("TMUX")
        .stdin(Stdio::null());
    command
}

fn run(mut command: Command) -> Output {
    command.output().expect("run aoctl")
}

/// `aoctl hook claude-code stop` with a payload it reports to the daemon.
fn hook(base: &Path, socket: &Path) -> Output {
    let mut command = aoctl(base, socket);
    command
        .args(["hook", "claude-code", "stop"])
        .env("AO_SESSION_ID", "demo-1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("run aoctl hook");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(br#"{"session_id":"c-1"}"#)
        .expect("write the payload");
    drop(stdin);
    child.wait_with_output().expect("wait for aoctl hook")
}

/// Runs the commands that reach a daemon against `socket` and checks that each refuses it with
/// exit code 3 and a line naming `named` and `owner` (the hook: silently, exit 0, logged), and
/// that no daemon was started instead.
fn assert_every_command_refuses(base: &Path, socket: &Path, named: &Path, owner: &str) {
    let mut send = aoctl(base, socket);
    send.args(["--no-autostart", "send", "demo-1", "secret-message"]);
    let mut ls = aoctl(base, socket);
    ls.args(["ls"]); // autostart allowed: it must not start a daemon either
    let mut status = aoctl(base, socket);
    status.args(["daemon", "status"]);
    for (what, command) in [("send", send), ("ls", ls), ("daemon status", status)] {
        let out = run(command);
        let line = assert_error(&out, 3);
        assert!(
            line.contains(&named.display().to_string()) && line.contains(owner),
            "{what}: the refusal names {} and {owner}: {line}",
            named.display()
        );
    }
    assert!(
        !base.join("data/aod.lock").exists(),
        "no daemon was started for an untrusted socket"
    );
    let out = hook(base, socket);
    assert_eq!(out.status.code(), Some(0), "the hook never fails its agent");
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    let log = std::fs::read_to_string(base.join("data/hooks.log")).unwrap_or_default();
    assert!(
        log.lines()
            .last()
            .is_some_and(|l| l.contains("not using the daemon socket") && l.contains(owner)),
        "hooks.log says why: {log}"
    );
}

/// Another user squats the socket directory (`/tmp/ao-<uid>` before the real daemon makes it)
/// and serves a fake daemon there; or serves one whose socket ended up in our own directory.
/// aoctl sends it nothing: not a message, not a hook, and it starts no daemon instead.
#[test]
fn aoctl_sends_nothing_to_a_daemon_of_another_user() {
    let Some(nobody) = other_user("aoctl_sends_nothing_to_a_daemon_of_another_user") else {
        return;
    };
    let (_dir, base) = open_base();
    let squat = base.join("squat");
    std::fs::create_dir(&squat).unwrap();
    chmod(&squat, 0o777);
    std::os::unix::fs::chown(&squat, Some(nobody.0), Some(nobody.1)).unwrap();
    let foreign_socket = squat.join("aod.sock");
    let fake = ForeignDaemon::start(&base, &foreign_socket, nobody);
    let owner = format!("uid {} (nobody)", nobody.0);

    // The directory belongs to someone else: nothing even connects.
    assert_every_command_refuses(&base, &foreign_socket, &squat, &owner);
    // Private to its owner, it is still not ours.
    chmod(&squat, 0o700);
    assert_every_command_refuses(&base, &foreign_socket, &squat, &owner);
    assert!(
        !fake.journal.exists(),
        "no connection reached the fake daemon"
    );

    // Our own private directory, but the socket in it is served by the other user: aoctl
    // connects, reads the peer's credentials and hangs up without sending a byte.
    let mine = base.join("mine");
    std::os::unix::fs::DirBuilderExt::mode(&mut std::fs::DirBuilder::new(), 0o700)
        .create(&mine)
        .unwrap();
    let moved = mine.join("aod.sock");
    std::fs::rename(&foreign_socket, &moved).unwrap();
    assert_every_command_refuses(&base, &moved, &moved, &owner);
    assert_eq!(
        fake.received(4),
        [0, 0, 0, 0],
        "send, ls, daemon status and the hook connected and sent nothing"
    );
}

/// `aod` refuses a socket directory another user owns or may write to, says whose it is, and
/// leaves its mode alone (a socket at `/tmp/aod.sock` used to make `/tmp` 0700); a missing
/// directory it creates private.
#[test]
fn aod_serves_only_from_a_private_directory_of_its_own() {
    let (_dir, base) = open_base();
    let env = TestEnv::new();
    // Runs aod on `socket` until it exits, and returns what it printed; fails (after stopping
    // it) if it serves instead.
    let refused = |socket: &Path| -> String {
        let mut child = env
            .aod()
            .arg("--socket")
            .arg(socket)
            .stderr(Stdio::piped())
            .spawn()
            .expect("run aod");
        let status = wait_for("aod to give up", SLOW, || {
            if socket.exists() {
                let _ = child.kill();
                let _ = child.wait();
                panic!("aod served on {}", socket.display());
            }
            match child.try_wait() {
                Ok(Some(status)) => Ok(status),
                _ => Err("still running".to_owned()),
            }
        });
        assert!(!status.success(), "aod must refuse {}", socket.display());
        let mut stderr = String::new();
        let _ = child
            .stderr
            .take()
            .map(|mut e| e.read_to_string(&mut stderr));
        stderr
    };

    // A shared directory like /tmp: ours (we are its owner), but everyone may write to it.
    let shared = base.join("shared");
    std::fs::create_dir(&shared).unwrap();
    chmod(&shared, 0o1777);
    let stderr = refused(&shared.join("aod.sock"));
    assert!(
        stderr.contains(&shared.display().to_string()) && stderr.contains("mode 1777"),
        "{stderr}"
    );
    assert_eq!(mode(&shared), 0o1777, "aod left the directory's mode alone");
    assert!(!shared.join("aod.sock").exists());

    if let Some(nobody) = other_user("aod_serves_only_from_a_private_directory_of_its_own") {
        let squat = base.join("squat");
        std::fs::create_dir(&squat).unwrap();
        chmod(&squat, 0o700);
        std::os::unix::fs::chown(&squat, Some(nobody.0), Some(nobody.1)).unwrap();
        let stderr = refused(&squat.join("aod.sock"));
        assert!(
            stderr.contains(&squat.display().to_string())
                && stderr.contains(&format!("uid {} (nobody)", nobody.0)),
            "{stderr}"
        );
        assert_eq!(mode(&squat), 0o700);
        assert_eq!(std::fs::metadata(&squat).unwrap().uid(), nobody.0);
        assert!(!squat.join("aod.sock").exists());
    }

    // A missing directory is created private, and served from.
    let mut env = TestEnv::new();
    let fresh = env.root().join("run/ao");
    env.socket = fresh.join("aod.sock");
    env.start_daemon();
    assert_eq!(mode(&fresh), 0o700);
    assert_eq!(mode(&env.root().join("run")), 0o700);
    assert_eq!(mode(&env.socket) & 0o777, 0o600);
    env.stop_daemon();
}

/// A pseudo-terminal for a child's stdin (attach needs a terminal); the master end is kept
/// open for as long as the returned value lives.
fn terminal() -> (std::os::fd::OwnedFd, Stdio) {
    let pty = nix::pty::openpty(None, None).expect("open a pseudo-terminal");
    (pty.master, Stdio::from(pty.slave))
}

/// A `tmux` first on PATH that writes its arguments, one per line, to `<dir>/tmux.args`.
fn recording_tmux(dir: &Path) -> PathBuf {
    let bin_dir = dir.join("bin");
    std::fs::create_dir_all(&bin_dir).unwrap();
    let script = bin_dir.join("tmux");
    let record = dir.join("tmux.args");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$@\" > '{}'\n",
            record.display()
        ),
    )
    .unwrap();
    chmod(&script, 0o755);
    bin_dir
}

fn path_with(dir: &Path) -> String {
    format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// `attach` executes nothing the daemon names: a reply carrying a command line (the old wire
/// format) or an unusable session name is refused, a daemon on another tmux socket is refused
/// with the setting to use, and the command it runs is `tmux <its own socket> … -t =<name>`.
#[test]
fn attach_runs_only_the_tmux_command_aoctl_builds() {
    let repo = GitRepo::new();
    let mut env = TestEnv::new();
    let marker = env.root().join("pwned");
    let tmux_bin = recording_tmux(env.root());
    let record = env.root().join("tmux.args");
    let base = env.root().to_path_buf();
    let attach = |socket: &Path, id: &str| {
        let (_master, tty) = terminal();
        let mut command = aoctl(&base, socket);
        // No data directory or configuration file of its own: aoctl then asks the daemon
        // nothing (no `ping` to compare them) before `attach`, the fake's one answer.
        command
            .env_remove("AO_DATA_DIR")
            .env_remove("AO_CONFIG")
            .env("PATH", path_with(&tmux_bin))
            .args(["--no-autostart", "attach", id])
            .stdin(tty);
        run(command)
    };

    // A daemon of ours, in a private directory, that answers `attach` with what it likes.
    let fake_dir = env.root().join("fake");
    std::os::unix::fs::DirBuilderExt::mode(&mut std::fs::DirBuilder::new(), 0o700)
        .create(&fake_dir)
        .unwrap();
    let fake_socket = fake_dir.join("aod.sock");
    let listener = UnixListener::bind(&fake_socket).unwrap();
    let own_tmux = env.tmux_socket.display().to_string();
    let replies = vec![
        serde_json::json!({
            "argv": ["touch", marker.to_str().unwrap()],
            "env_set": [],
            "env_remove": [],
            "runtime_name": "demo-1;touch",
            "tmux_socket": own_tmux,
        })
        .to_string(),
        serde_json::json!({"runtime_name": "demo-1", "tmux_socket": "/tmp/elsewhere.sock"})
            .to_string(),
    ];
    let journal = fake_dir.join("journal");
    std::thread::spawn(move || fake_daemon(listener, journal, replies));

    let line = assert_error(&attach(&fake_socket, "demo-1"), 1);
    assert!(line.contains("unusable tmux session name"), "{line}");
    assert!(!marker.exists(), "the daemon's command line was executed");
    let line = assert_error(&attach(&fake_socket, "demo-1"), 1);
    assert!(
        line.contains("/tmp/elsewhere.sock") && line.contains("--tmux-socket"),
        "{line}"
    );
    assert!(!record.exists(), "tmux was not run");

    // The real daemon: aoctl runs tmux on its own socket with the exact target.
    env.start_daemon();
    env.add_project("demo", &repo.path);
    let id = env.spawn_cmd("demo", "sleep 100000");
    let out = attach(&env.socket, &id);
    assert!(out.status.success(), "attach: {}", text(&out.stderr));
    let argv = std::fs::read_to_string(&record).expect("tmux ran");
    let target = format!("={id}");
    assert_eq!(
        argv.lines().collect::<Vec<_>>(),
        [
            "-S",
            own_tmux.as_str(),
            "-u",
            "-T",
            "RGB",
            "attach-session",
            "-t",
            target.as_str()
        ]
    );

    // Without a setting of its own, aoctl attaches on the socket its daemon reports.
    std::fs::remove_file(&record).unwrap();
    let (_master, tty) = terminal();
    let mut command = aoctl(&base, &env.socket);
    command
        .env_remove("AO_TMUX_SOCKET")
        .env("PATH", path_with(&tmux_bin))
        .args(["--no-autostart", "attach", &id])
        .stdin(tty);
    let out = run(command);
    assert!(out.status.success(), "attach: {}", text(&out.stderr));
    let again = std::fs::read_to_string(&record).expect("tmux ran");
    assert_eq!(again, argv);
    env.stop_daemon();
}

/// Every file and directory ao writes under its data directory is for its user only: the
/// database and its WAL, the logs, the output logs, the worktrees.
#[test]
fn data_written_by_ao_is_private() {
    let repo = GitRepo::new();
    let mut env = TestEnv::new();
    env.start_daemon();
    env.add_project("demo", &repo.path);
    let id = env.spawn_cmd("demo", "sh");
    env.ok(&["send", &id, "echo private-$((6*7))"]);
    env.wait_tail(&id, "private-42");
    // A hook callback that fails writes `hooks.log`.
    let out = env
        .aoctl()
        .args(["hook", "claude-code", "stop"])
        .env("AO_SESSION_ID", &id)
        .stdin(Stdio::null())
        .output()
        .expect("run aoctl hook");
    assert!(out.status.success());

    let data = &env.data_dir;
    for name in [
        "ao.db",
        "ao.db-wal",
        "hooks.log",
        "aod.log",
        "output",
        "worktrees",
    ] {
        assert!(data.join(name).exists(), "{name} was written");
    }
    let mut open = vec![];
    let mut seen = 0;
    let mut todo = vec![data.clone()];
    while let Some(path) = todo.pop() {
        let meta = std::fs::symlink_metadata(&path).unwrap();
        if meta.file_type().is_symlink() {
            continue;
        }
        seen += 1;
        if meta.permissions().mode() & 0o077 != 0 {
            open.push(format!(
                "{} {:o}",
                path.display(),
                meta.permissions().mode() & 0o7777
            ));
        }
        if meta.is_dir() {
            todo.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        }
    }
    assert!(seen > 10, "walked the data directory");
    assert!(open.is_empty(), "readable by others:\n{}", open.join("\n"));
    env.stop_daemon();
}

/// Agents get back the file mode mask the daemon was started with: what they write is the
/// user's work, shared as the user's other files are, not ao's private data.
#[test]
fn agents_run_with_the_users_umask() {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let mine = status
        .lines()
        .find_map(|l| l.strip_prefix("Umask:"))
        .map(|m| m.trim().to_owned())
        .expect("Umask in /proc/self/status");
    if mine == "0077" {
        eprintln!("SKIPPED: this test process already runs with umask 0077");
        return;
    }
    let repo = GitRepo::new();
    let mut env = TestEnv::new();
    env.start_daemon();
    env.add_project("demo", &repo.path);
    let id = env.spawn_cmd("demo", "sh -c umask");
    env.wait_tail(&id, &mine);
    env.stop_daemon();
}

/// With the daemon down, the hook callback creates the data directory and `hooks.log`
/// private; a daemon tightens an existing data directory that others can read, and says so.
#[test]
fn data_directories_are_created_or_made_private() {
    let (_dir, base) = open_base();
    let out = hook(&base, &base.join("absent.sock"));
    assert!(out.status.success());
    assert_eq!(mode(&base.join("data")), 0o700);
    assert_eq!(mode(&base.join("data/hooks.log")) & 0o777, 0o600);

    let mut env = TestEnv::new();
    let data = env.root().join("loose/data");
    env.data_dir = data.clone();
    std::fs::create_dir_all(&data).unwrap();
    chmod(&data, 0o755);
    env.start_daemon();
    assert_eq!(mode(&data), 0o700);
    let log = std::fs::read_to_string(env.log_path()).unwrap();
    assert!(log.contains("made it private"), "{log}");
    env.stop_daemon();
}
