//! `aoctl daemon start|stop|restart|status`. Stopping the daemon leaves every session running.
//! A socket that is not the user's own is an error here too, never a reason to start a daemon.
//! Two starts at once agree on one daemon: the one that did not start it says it was already
//! running. A running daemon with another data directory or configuration file than the ones
//! given is named in a warning.

use std::path::Path;
use std::time::Duration;

use ao_proto::Pong;
use clap::Subcommand;

use super::QUICK;
use crate::Global;
use crate::client::{self, CliError, Result, Started, ctx, exit};
use crate::render;

/// How long `stop` waits for the daemon to remove its socket.
const STOP_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Debug, Subcommand)]
pub enum DaemonCommand {
    /// Start the daemon in the background (if it is not running).
    Start,
    /// Stop the daemon; sessions keep running.
    Stop,
    /// Stop the daemon (if it runs) and start it again with these settings: a changed
    /// configuration file takes effect (an invalid one is refused first, the daemon left
    /// running). Sessions keep running.
    Restart,
    /// Show whether the daemon runs, and where.
    Status {
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(global: &Global, command: DaemonCommand) -> Result<u8> {
    let socket = global.socket_path();
    let running = match ao_proto::connect(&socket, Duration::from_secs(2)).await {
        Ok(c) => c.ping(ctx(Duration::from_secs(5))).await.ok(),
        Err(ao_proto::ConnectError::Untrusted(e)) => return Err(client::untrusted(e)),
        Err(ao_proto::ConnectError::Unreachable { .. }) => None,
    };
    match command {
        DaemonCommand::Start => match running {
            Some(pong) => already_running(global, &pong),
            None => start(global).await?,
        },
        DaemonCommand::Stop => match running {
            Some(pong) => stop(&socket, &pong).await?,
            None => render::daemon_not_running(),
        },
        DaemonCommand::Restart => {
            // A configuration the new daemon would refuse leaves the running one alone.
            if running.is_some() {
                let check = client::check_config(global).await?;
                if let (false, Some(error)) = (check.ok, check.error) {
                    return Err(CliError::usage(format!(
                        "not restarting the daemon: {error}"
                    )));
                }
            }
            if let Some(pong) = running {
                stop(&socket, &pong).await?;
            }
            start(global).await?;
        }
        DaemonCommand::Status { json } => match running {
            Some(pong) => {
                warn_other_settings(global, &pong);
                render::json_or(json, &pong, render::daemon_status);
            }
            None => {
                return Err(CliError::new(
                    exit::UNREACHABLE,
                    format!("aod is not running (socket {})", socket.display()),
                ));
            }
        },
    }
    Ok(exit::OK)
}

fn warn_other_settings(global: &Global, pong: &Pong) {
    for warning in client::other_settings(global, pong) {
        eprintln!("aoctl: warning: {warning}");
    }
}

fn already_running(global: &Global, pong: &Pong) {
    warn_other_settings(global, pong);
    render::daemon_already_running(pong);
}

/// Starts the daemon; one started meanwhile by someone else is reported as already running.
async fn start(global: &Global) -> Result<()> {
    match client::start_daemon(global).await? {
        Started::New(pong) => render::daemon_started(pong.pid, Path::new(&pong.socket)),
        Started::AlreadyRunning(pong) => already_running(global, &pong),
    }
    Ok(())
}

/// Asks the daemon to stop and waits until its socket is gone.
async fn stop(socket: &Path, pong: &Pong) -> Result<()> {
    let client = ao_proto::connect(socket, Duration::from_secs(2))
        .await
        .map_err(|e| match e {
            ao_proto::ConnectError::Untrusted(e) => client::untrusted(e),
            e => CliError::new(exit::UNREACHABLE, "lost the daemon").because(e),
        })?;
    match client.shutdown(ctx(QUICK)).await {
        Ok(reply) => reply?,
        // A daemon may exit before its reply is written; the socket's removal below is the
        // proof that it stopped.
        Err(tarpc::client::RpcError::Shutdown) => {}
        Err(e) => return Err(e.into()),
    }
    // Hang up so the daemon is not left waiting for this connection to close.
    drop(client);
    let deadline = tokio::time::Instant::now() + STOP_TIMEOUT;
    // The socket goes first, the data directory's lock with the process: a start right after
    // this (`restart`) would find the lock still held.
    while (socket.exists() || process_runs(pong.pid)) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if socket.exists() || process_runs(pong.pid) {
        return Err(CliError::failed(format!(
            "aod (pid {}) did not stop within {}",
            pong.pid,
            humantime::format_duration(STOP_TIMEOUT)
        )));
    }
    render::daemon_stopped(pong.pid);
    Ok(())
}

/// Whether process `pid` still runs: it exists and has not exited (an exited process its
/// parent has not reaped yet is a zombie, and holds no file or lock any more).
fn process_runs(pid: u32) -> bool {
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    if nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None)
        == Err(nix::errno::Errno::ESRCH)
    {
        return false;
    }
    // `/proc/<pid>/stat`: `pid (comm) state …`, the command name may hold anything.
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next());
    !matches!(state, Some("Z" | "X"))
}
