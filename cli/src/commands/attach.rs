//! `aoctl attach`: hands the terminal to `tmux attach-session`.
//!
//! The command is built here, never taken from the daemon: the program is `tmux` and the target
//! is the exact `=name` of the session name the daemon reported, once it has passed tmux
//! session-name validation. The tmux socket is aoctl's own setting (`--tmux-socket` /
//! `AO_TMUX_SOCKET`) when it has one, and a daemon on another socket is then refused with the
//! setting to use; without one it is the socket the daemon reports (a label or a path, parsed
//! like the setting), which the connection has already proven to be the user's own daemon.

use std::io::IsTerminal;
use std::os::unix::process::CommandExt;

use ao_core::domain::quote;
use ao_core::tmux::{TmuxSocket, attach_command};
use ao_proto::AttachReply;
use clap::Args;
use clap_complete::engine::ArgValueCandidates;

use super::QUICK;
use crate::Global;
use crate::client::{self, CliError, Result, ctx};
use crate::complete;

#[derive(Debug, Args)]
pub struct AttachArgs {
    /// The session whose tmux session to attach to.
    #[arg(add = ArgValueCandidates::new(complete::sessions))]
    id: String,
}

/// Asks the daemon for the session's tmux session, then hands the terminal to tmux.
pub async fn run(global: &Global, args: AttachArgs) -> Result<u8> {
    let daemon = client::connect(global).await?;
    let reply = daemon.client.attach(ctx(QUICK), args.id).await??;
    exec(global, &reply)
}

/// Replaces this process with `tmux … attach-session -t =<name>`; returns only on failure.
fn exec(global: &Global, reply: &AttachReply) -> Result<u8> {
    let daemons = TmuxSocket::parse(&reply.tmux_socket).map_err(|e| {
        CliError::failed(format!(
            "the daemon reported the tmux socket {}: {e}",
            quote(&reply.tmux_socket)
        ))
    })?;
    let socket = match &global.tmux_socket {
        Some(value) => {
            TmuxSocket::parse(value).map_err(|e| CliError::usage(format!("--tmux-socket: {e}")))?
        }
        None => daemons.clone(),
    };
    if daemons != socket {
        return Err(CliError::failed(format!(
            "the daemon runs its sessions on tmux socket {}, but aoctl is set to {}; pass \
             --tmux-socket {} (or set AO_TMUX_SOCKET)",
            quote(&reply.tmux_socket),
            quote(&shown(&socket)),
            quote(&reply.tmux_socket)
        )));
    }
    let attach = attach_command(&socket, &reply.runtime_name).map_err(|e| {
        CliError::failed(format!(
            "the daemon reported an unusable tmux session name: {e}"
        ))
    })?;
    if !std::io::stdin().is_terminal() {
        return Err(CliError::failed("attach needs a terminal"));
    }
    let Some((program, args)) = attach.argv.split_first() else {
        return Err(CliError::failed("the attach command is empty"));
    };
    let mut command = std::process::Command::new(program);
    command.args(args);
    for key in &attach.env_remove {
        command.env_remove(key);
    }
    for (key, value) in &attach.env_set {
        command.env(key, value);
    }
    let error = command.exec();
    Err(CliError::failed(format!("running {} failed", program.to_string_lossy())).because(error))
}

/// The setting as a user writes it.
fn shown(socket: &TmuxSocket) -> String {
    match socket {
        TmuxSocket::Label(label) => label.clone(),
        TmuxSocket::Path(path) => path.display().to_string(),
    }
}
