//! `aoctl daemon start|stop|status`. Stopping the daemon leaves every session running. A
//! socket that is not the user's own is an error here too, never a reason to start a daemon.

use std::time::Duration;

use clap::Subcommand;

use super::QUICK;
use crate::Global;
use crate::client::{self, CliError, Result, ctx, exit};
use crate::render;

/// How long `stop` waits for the daemon to remove its socket.
const STOP_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Debug, Subcommand)]
pub enum DaemonCommand {
    /// Start the daemon in the background (if it is not running).
    Start,
    /// Stop the daemon; sessions keep running.
    Stop,
    /// Show whether the daemon runs, and where.
    Status {
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
            Some(pong) => render::daemon_already_running(&pong),
            None => {
                let pid = client::start_daemon(global).await?;
                render::daemon_started(pid, &socket);
            }
        },
        DaemonCommand::Stop => {
            let Some(pong) = running else {
                render::daemon_not_running();
                return Ok(exit::OK);
            };
            let client = ao_proto::connect(&socket, Duration::from_secs(2))
                .await
                .map_err(|e| match e {
                    ao_proto::ConnectError::Untrusted(e) => client::untrusted(e),
                    e => CliError::new(exit::UNREACHABLE, "lost the daemon").because(e),
                })?;
            match client.shutdown(ctx(QUICK)).await {
                Ok(reply) => reply?,
                // A daemon may exit before its reply is written; the socket's removal below is
                // the proof that it stopped.
                Err(tarpc::client::RpcError::Shutdown) => {}
                Err(e) => return Err(e.into()),
            }
            // Hang up so the daemon is not left waiting for this connection to close.
            drop(client);
            let deadline = tokio::time::Instant::now() + STOP_TIMEOUT;
            while socket.exists() && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            if socket.exists() {
                return Err(CliError::failed(format!(
                    "aod (pid {}) did not stop within {}",
                    pong.pid,
                    humantime::format_duration(STOP_TIMEOUT)
                )));
            }
            render::daemon_stopped(pong.pid);
        }
        DaemonCommand::Status { json } => match running {
            Some(pong) => render::json_or(json, &pong, render::daemon_status),
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
