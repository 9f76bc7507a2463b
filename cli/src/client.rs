//! Reaching the daemon: connect to its socket, start it in the background when nobody answers
//! (unless `--no-autostart`), and turn every failure into a `CliError` with an exit code.
//!
//! Every connection goes through `ao_proto::connect`, which sends nothing to a socket whose
//! directory is not private to this user or whose server runs as someone else; such a socket
//! is an error (exit code 3), never a reason to start a daemon.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use ao_proto::{AoClient, ConnectError, ErrorCode, Untrusted, WireError};

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
}

/// An error for the user: one line, an exit code, and (with `-v`) its causes.
#[derive(Debug)]
pub struct CliError {
    pub code: u8,
    pub message: String,
    pub causes: Vec<String>,
}

impl CliError {
    pub fn new(code: u8, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            causes: vec![],
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
        CliError::new(code, e.message).because(format!("kind: {}", e.kind))
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

/// Connects; starts the daemon first when it is not running (and autostart is allowed).
pub async fn connect(global: &Global) -> Result<Daemon> {
    let socket = global.socket_path();
    match ao_proto::connect(&socket, CONNECT_TIMEOUT).await {
        Ok(client) => Ok(Daemon { client }),
        Err(ConnectError::Untrusted(e)) => Err(untrusted(e)),
        Err(e) if global.no_autostart => Err(unreachable(&socket, e)),
        Err(_) => {
            start_daemon(global).await?;
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

/// Starts `aod` in the background with this client's settings and waits until it answers.
pub async fn start_daemon(global: &Global) -> Result<u32> {
    let aod = find_aod().ok_or_else(|| {
        CliError::new(
            exit::UNREACHABLE,
            "no daemon is running and `aod` was not found next to aoctl or on PATH",
        )
    })?;
    let data_dir = global.data_dir();
    let log = data_dir.join("aod.log");
    let mut command = std::process::Command::new(&aod);
    command
        .arg("--data-dir")
        .arg(&data_dir)
        .arg("--socket")
        .arg(global.socket_path())
        .arg("--log-file")
        .arg(&log)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(tmux) = &global.tmux_socket {
        command.arg("--tmux-socket").arg(tmux);
    }
    if let Some(config) = &global.config {
        command.arg("--config").arg(config);
    }
    // Its own process group: a Ctrl-C in this terminal must not stop the daemon.
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command.spawn().map_err(|e| {
        CliError::new(
            exit::UNREACHABLE,
            format!("starting {} failed", aod.display()),
        )
        .because(e)
    })?;
    let pid = child.id();
    let socket = global.socket_path();
    let deadline = tokio::time::Instant::now() + START_TIMEOUT;
    loop {
        match ao_proto::connect(&socket, CONNECT_TIMEOUT).await {
            Ok(client)
                if client
                    .ping(ao_proto::context_with_timeout(CONNECT_TIMEOUT))
                    .await
                    .is_ok() =>
            {
                // The daemon outlives us; its exit status is none of our business.
                std::mem::forget(child);
                return Ok(pid);
            }
            // The daemon we started refuses such a directory too, and exits.
            Err(ConnectError::Untrusted(e)) => return Err(untrusted(e)),
            _ => {}
        }
        if let Ok(Some(status)) = child.try_wait() {
            let tail = log_tail(&log, 5);
            return Err(CliError::new(
                exit::UNREACHABLE,
                format!("the daemon exited at start ({status}); {}", log.display()),
            )
            .because(tail));
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(CliError::new(
                exit::UNREACHABLE,
                format!(
                    "the daemon did not answer within {START_TIMEOUT:?}; see {}",
                    log.display()
                ),
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The last lines of a log, for error messages.
pub fn log_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// A request context with `timeout`.
pub fn ctx(timeout: Duration) -> tarpc::context::Context {
    ao_proto::context_with_timeout(timeout)
}
