//! Reaching the daemon: connect to its socket, start it in the background when nobody answers
//! (unless `--no-autostart`), and turn every failure into a `CliError` with an exit code.
//!
//! A daemon this CLI starts has its stderr read until it answers, so a start that fails shows
//! the daemon's own error; a daemon someone else started meanwhile is reported as such. A
//! running daemon whose data directory or configuration file differ from the ones this CLI was
//! given (`--data-dir`, `--config` or their variables) is named in a warning: it answers from
//! its own. `check_config` runs `aod --check-config`, so the configuration's rules stay in `aod`.
//!
//! Every connection goes through `ao_proto::connect`, which sends nothing to a socket whose
//! directory is not private to this user or whose server runs as someone else; such a socket
//! is an error (exit code 3), never a reason to start a daemon.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ao_proto::{AoClient, ConnectError, ErrorCode, Pong, Untrusted, WireError};
use serde::{Deserialize, Serialize};

use crate::Global;

/// Exit codes (documented in README).
pub mod exit {
    pub const OK: u8 = 0;
    pub const FAILED: u8 = 1;
    pub const USAGE: u8 = 2;
    /// The daemon is unreachable, or its socket is not trusted.
    pub const UNREACHABLE: u8 = 3;
    pub const NOT_FOUND: u8 = 4;
    /// `wait`: a session ended in another status, so the wait can never be met.
    pub const ENDED: u8 = 5;
    /// Interrupted by Ctrl-C (128 + SIGINT): a cancelled spawn.
    pub const INTERRUPTED: u8 = 130;
}

/// An error for the user: one line, an exit code, and (with `-v`) its causes.
#[derive(Debug)]
pub struct CliError {
    pub code: u8,
    pub message: String,
    pub causes: Vec<String>,
    /// The daemon's error kind (`SpawnCancelled`, `Dirty`, …) when the daemon refused.
    pub kind: Option<String>,
}

impl CliError {
    pub fn new(code: u8, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            causes: vec![],
            kind: None,
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(exit::USAGE, message)
    }

    pub fn failed(message: impl Into<String>) -> Self {
        Self::new(exit::FAILED, message)
    }

    pub fn because(mut self, cause: impl ToString) -> Self {
        self.causes.push(cause.to_string());
        self
    }
}

impl From<WireError> for CliError {
    fn from(e: WireError) -> Self {
        let code = match e.code {
            ErrorCode::NotFound => exit::NOT_FOUND,
            ErrorCode::InvalidArgument => exit::USAGE,
            ErrorCode::Failed | ErrorCode::Unavailable => exit::FAILED,
        };
        let mut error = CliError::new(code, e.message).because(format!("kind: {}", e.kind));
        error.kind = Some(e.kind);
        error
    }
}

impl From<tarpc::client::RpcError> for CliError {
    fn from(e: tarpc::client::RpcError) -> Self {
        let message = match &e {
            tarpc::client::RpcError::DeadlineExceeded => {
                "the daemon did not answer in time".to_owned()
            }
            tarpc::client::RpcError::Shutdown => "the daemon closed the connection".to_owned(),
            other => format!("talking to the daemon failed: {other}"),
        };
        CliError::new(exit::UNREACHABLE, message).because(e)
    }
}

pub type Result<T> = std::result::Result<T, CliError>;

/// A connected client.
pub struct Daemon {
    pub client: AoClient,
}

/// Connect timeout of one attempt.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a freshly started daemon may take to answer.
const START_TIMEOUT: Duration = Duration::from_secs(15);

/// Connects; starts the daemon first when it is not running (and autostart is allowed). A
/// running daemon with another data directory or configuration file than this CLI was given
/// gets a warning on stderr.
pub async fn connect(global: &Global) -> Result<Daemon> {
    let socket = global.socket_path();
    match ao_proto::connect(&socket, CONNECT_TIMEOUT).await {
        Ok(client) => {
            if global.data_dir.is_some() || global.config.is_some() {
                // A daemon too old or too busy to answer a ping is not worth a warning.
                if let Ok(pong) = client.ping(ctx(CONNECT_TIMEOUT)).await {
                    for warning in other_settings(global, &pong) {
                        eprintln!("aoctl: warning: {warning}");
                    }
                }
            }
            Ok(Daemon { client })
        }
        Err(ConnectError::Untrusted(e)) => Err(untrusted(e)),
        Err(e) if global.no_autostart => Err(unreachable(&socket, e)),
        Err(_) => {
            if let Started::AlreadyRunning(pong) = start_daemon(global).await? {
                for warning in other_settings(global, &pong) {
                    eprintln!("aoctl: warning: {warning}");
                }
            }
            let client =
                ao_proto::connect(&socket, CONNECT_TIMEOUT)
                    .await
                    .map_err(|e| match e {
                        ConnectError::Untrusted(e) => untrusted(e),
                        e => unreachable(&socket, e),
                    })?;
            Ok(Daemon { client })
        }
    }
}

/// How the running daemon differs from what this CLI was explicitly given: its data directory
/// (`--data-dir`, `AO_DATA_DIR`) and its configuration file (`--config`, `AO_CONFIG`). One
/// sentence each, none when they agree or were not given.
pub fn other_settings(global: &Global, pong: &Pong) -> Vec<String> {
    let mut differences = vec![];
    let restart = "`aoctl daemon restart` restarts it with yours; a daemon of its own needs its \
                   own --socket";
    if let Some(wanted) = &global.data_dir
        && !same_path(wanted, Path::new(&pong.data_dir))
    {
        differences.push(format!(
            "the daemon on {} (pid {}) uses the data directory {}, not {} (--data-dir, \
             AO_DATA_DIR): it answers from its own; {restart}",
            pong.socket,
            pong.pid,
            pong.data_dir,
            wanted.display()
        ));
    }
    if let (Some(wanted), Some(read)) = (&global.config, &pong.config_file)
        && !same_path(wanted, Path::new(read))
    {
        differences.push(format!(
            "the daemon on {} (pid {}) read the configuration file {read}, not {} (--config, \
             AO_CONFIG); {restart}",
            pong.socket,
            pong.pid,
            wanted.display()
        ));
    }
    differences
}

/// Whether two paths name the same file: compared resolved when both exist, else made
/// absolute against the current directory.
fn same_path(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => std::path::absolute(a).ok() == std::path::absolute(b).ok(),
    }
}

fn unreachable(socket: &Path, e: ConnectError) -> CliError {
    CliError::new(
        exit::UNREACHABLE,
        format!(
            "no daemon answers on {} (start it with `aoctl daemon start`)",
            socket.display()
        ),
    )
    .because(e)
}

/// A socket that may belong to someone else: nothing was sent to it.
pub fn untrusted(e: Untrusted) -> CliError {
    CliError::new(
        exit::UNREACHABLE,
        format!("not using the daemon socket: {e}"),
    )
}

/// `aod` next to this `aoctl`, else on PATH.
fn find_aod() -> Option<PathBuf> {
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join("aod")))
        .filter(|p| p.is_file());
    beside.or_else(|| {
        let path = std::env::var("PATH").unwrap_or_default();
        std::env::split_paths(&path)
            .map(|d| d.join("aod"))
            .find(|p| p.is_file())
    })
}

/// `aod`'s exit code when another daemon holds its data directory or answers on its socket.
const AOD_ALREADY_RUNNING: i32 = 3;
/// How much of a starting daemon's stderr is kept.
const MAX_START_ERRORS: usize = 64 * 1024;
/// How long an exited daemon's stderr may take to reach its end (a program it started may
/// still hold it open).
const START_ERRORS_GRACE: Duration = Duration::from_secs(1);
/// How long `aod --check-config` may take.
const CHECK_CONFIG_TIMEOUT: Duration = Duration::from_secs(30);

/// Which daemon answered a start.
#[derive(Debug)]
pub enum Started {
    /// The one this call started.
    New(Pong),
    /// Another one, started meanwhile by someone else (the one this call started stepped aside).
    AlreadyRunning(Pong),
}

/// `aod` with this client's settings (data directory, socket, tmux server, configuration file).
fn aod_command(aod: &Path, global: &Global) -> std::process::Command {
    let mut command = std::process::Command::new(aod);
    command
        .arg("--data-dir")
        .arg(global.data_dir())
        .arg("--socket")
        .arg(global.socket_path());
    if let Some(tmux) = &global.tmux_socket {
        command.arg("--tmux-socket").arg(tmux);
    }
    if let Some(config) = &global.config {
        command.arg("--config").arg(config);
    }
    command
}

/// Starts `aod` in the background with this client's settings and waits until a daemon
/// answers: the one it started, or one someone else started meanwhile (two starts at once).
/// A daemon that exits at start is reported with its own error (its stderr) and the lines it
/// added to its log.
pub async fn start_daemon(global: &Global) -> Result<Started> {
    let aod = find_aod().ok_or_else(|| {
        CliError::new(
            exit::UNREACHABLE,
            "no daemon is running and `aod` was not found next to aoctl or on PATH",
        )
    })?;
    let log = global.data_dir().join("aod.log");
    let log_start = std::fs::metadata(&log).map_or(0, |m| m.len());
    let mut command = aod_command(&aod, global);
    command
        .arg("--log-file")
        .arg(&log)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    // Its own process group: a Ctrl-C in this terminal must not stop the daemon.
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command.spawn().map_err(|e| {
        CliError::new(
            exit::UNREACHABLE,
            format!("starting {} failed", aod.display()),
        )
        .because(e)
    })?;
    let errors = StartErrors::read(child.stderr.take());
    let pid = child.id();
    let socket = global.socket_path();
    let deadline = tokio::time::Instant::now() + START_TIMEOUT;
    // Set once ours exited because another daemon holds the data directory or the socket.
    let mut stepped_aside = false;
    loop {
        match ao_proto::connect(&socket, CONNECT_TIMEOUT).await {
            Ok(client) => {
                if let Ok(pong) = client.ping(ctx(CONNECT_TIMEOUT)).await {
                    // The daemon outlives us; its exit status is none of our business.
                    std::mem::forget(child);
                    return Ok(if pong.pid == pid {
                        Started::New(pong)
                    } else {
                        Started::AlreadyRunning(pong)
                    });
                }
            }
            // The daemon we started refuses such a directory too, and exits.
            Err(ConnectError::Untrusted(e)) => return Err(untrusted(e)),
            Err(ConnectError::Unreachable { .. }) => {}
        }
        if !stepped_aside && let Ok(Some(status)) = child.try_wait() {
            if status.code() != Some(AOD_ALREADY_RUNNING) {
                return Err(start_failed(
                    format!("the daemon exited at start ({status})"),
                    &errors.collect().await,
                    &log,
                    log_start,
                ));
            }
            // Another daemon holds the data directory or the socket: it is starting (two
            // starts at once) and answers soon, or it serves another socket.
            stepped_aside = true;
        }
        if tokio::time::Instant::now() >= deadline {
            let what = if stepped_aside {
                format!(
                    "another daemon holds the data directory {} but none answered on {} \
                     within {START_TIMEOUT:?} (is it serving another --socket?)",
                    global.data_dir().display(),
                    socket.display()
                )
            } else {
                format!("the daemon did not answer within {START_TIMEOUT:?}")
            };
            return Err(start_failed(what, &errors.snapshot(), &log, log_start));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A start that failed: what happened and the daemon's own error on the first lines; with
/// `-v`, the lines the daemon added to its log during this start (never older ones).
fn start_failed(what: String, stderr: &str, log: &Path, log_start: u64) -> CliError {
    let stderr = stderr.trim_end();
    let message = if stderr.is_empty() {
        format!("{what}; its log is {}", log.display())
    } else {
        format!("{what}:\n{}", indent(stderr))
    };
    let mut error = CliError::new(exit::UNREACHABLE, message);
    let added = log_since(log, log_start);
    if !added.trim().is_empty() {
        error = error.because(format!(
            "{} during this start:\n{}",
            log.display(),
            added.trim_end()
        ));
    }
    error
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// What a log gained after `offset` (all of it when it was rotated meanwhile), at most its
/// last 40 lines.
fn log_since(path: &Path, offset: u64) -> String {
    let bytes = std::fs::read(path).unwrap_or_default();
    let start = usize::try_from(offset)
        .ok()
        .filter(|o| *o <= bytes.len())
        .unwrap_or(0);
    let text = String::from_utf8_lossy(&bytes[start..]);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// A starting daemon's stderr, read on a thread of its own until it ends (the daemon points
/// it at its log file once it serves), the first [`MAX_START_ERRORS`] bytes kept.
struct StartErrors {
    text: Arc<Mutex<Vec<u8>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl StartErrors {
    fn read(stderr: Option<std::process::ChildStderr>) -> Self {
        let text = Arc::new(Mutex::new(Vec::new()));
        let reader = stderr.map(|mut stderr| {
            let text = Arc::clone(&text);
            std::thread::spawn(move || {
                let mut chunk = [0u8; 4096];
                while let Ok(n) = stderr.read(&mut chunk) {
                    if n == 0 {
                        break;
                    }
                    let mut text = text.lock().unwrap_or_else(|e| e.into_inner());
                    let room = MAX_START_ERRORS.saturating_sub(text.len());
                    text.extend_from_slice(&chunk[..n.min(room)]);
                }
            })
        });
        Self { text, reader }
    }

    /// What was read so far.
    fn snapshot(&self) -> String {
        String::from_utf8_lossy(&self.text.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }

    /// Everything, once the stream ended (or [`START_ERRORS_GRACE`] passed).
    async fn collect(&self) -> String {
        let deadline = tokio::time::Instant::now() + START_ERRORS_GRACE;
        while self.reader.as_ref().is_some_and(|r| !r.is_finished())
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.snapshot()
    }
}

/// What `aod --check-config` reports: the configuration resolved as a start would resolve it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConfigCheck {
    pub ok: bool,
    /// Why it is invalid (the file and line, the setting).
    pub error: Option<String>,
    pub config_file: PathBuf,
    /// Whether the file exists (`None` when invalid); a missing default file means defaults.
    pub config_file_found: Option<bool>,
    pub data_dir: Option<PathBuf>,
    pub socket: Option<PathBuf>,
}

/// Runs `aod --check-config` with this client's settings: no daemon is needed or started.
pub async fn check_config(global: &Global) -> Result<ConfigCheck> {
    let aod = find_aod().ok_or_else(|| {
        CliError::failed(
            "`aod` (which checks the configuration) was not found next to aoctl or on PATH",
        )
    })?;
    let mut command = tokio::process::Command::from(aod_command(&aod, global));
    command
        .arg("--check-config")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let out = tokio::time::timeout(CHECK_CONFIG_TIMEOUT, command.output())
        .await
        .map_err(|_| {
            CliError::failed(format!(
                "`{} --check-config` did not finish within {CHECK_CONFIG_TIMEOUT:?}",
                aod.display()
            ))
        })?
        .map_err(|e| CliError::failed(format!("running {} failed", aod.display())).because(e))?;
    serde_json::from_slice(&out.stdout).map_err(|e| {
        CliError::failed(format!(
            "`{} --check-config` gave no report ({}; is it older than this aoctl?)",
            aod.display(),
            out.status
        ))
        .because(e)
        .because(String::from_utf8_lossy(&out.stderr).trim_end())
    })
}

/// A request context with `timeout`.
pub fn ctx(timeout: Duration) -> tarpc::context::Context {
    ao_proto::context_with_timeout(timeout)
}
