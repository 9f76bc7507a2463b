//! The commands, one module each: its arguments and its `run`, which builds the request, calls
//! the daemon and hands the reply to `render`. This module lists them and dispatches.

mod attach;
mod cleanup;
pub mod completions;
mod config;
mod daemon;
mod doctor;
mod events;
mod forget;
mod get;
mod kill;
mod logs;
mod ls;
mod project;
mod restore;
mod send;
mod spawn;
mod tail;
mod trash;
mod wait;
mod why;

use std::time::Duration;

use clap::Subcommand;
use clap_complete::Shell;

use crate::Cli;
use crate::client::Result;

/// Deadline of quick calls.
const QUICK: Duration = Duration::from_secs(30);
/// Deadline of a call that creates, moves or deletes worktrees: spawn, restore, kill, cleanup,
/// trash restore and empty (worktree creation and post-create commands can be slow on big
/// repositories, and the trash moves and deletes whole directory trees).
const SLOW: Duration = Duration::from_secs(15 * 60);
/// Server-side wait of one long-poll call.
const POLL_WAIT: Duration = Duration::from_secs(25);

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start a new agent session in its own worktree and tmux session.
    Spawn(spawn::SpawnArgs),
    /// List sessions.
    #[command(alias = "list")]
    Ls(ls::LsArgs),
    /// Show one session.
    Get(get::GetArgs),
    /// Explain a session's status: the evidence behind each axis and the last transitions.
    Why(why::WhyArgs),
    /// Stop a session's agent and move its worktree to the trash (a dirty worktree stays).
    Kill(kill::KillArgs),
    /// Type a message into a session's agent.
    Send(send::SendArgs),
    /// Show a session's output.
    Tail(tail::TailArgs),
    /// Relaunch a killed session in its worktree (resuming the agent's conversation when it can).
    Restore(restore::RestoreArgs),
    /// Move the worktrees of ended sessions to the trash (dirty ones stay unless --preserve);
    /// optionally forget ended sessions and delete merged ao/* branches.
    Cleanup(cleanup::CleanupArgs),
    /// Drop the records of ended sessions (their change-log history stays).
    Forget(forget::ForgetArgs),
    /// The worktrees of ended sessions: list, restore, empty.
    Trash {
        #[command(subcommand)]
        command: trash::TrashCommand,
    },
    /// Attach your terminal to a session's tmux session.
    Attach(attach::AttachArgs),
    /// Show the change log (session transitions).
    Events(events::EventsArgs),
    /// Wait until sessions reach a status.
    Wait(wait::WaitArgs),
    /// Manage projects (git repositories sessions are spawned from).
    Project {
        #[command(subcommand)]
        command: project::ProjectCommand,
    },
    /// Start, stop or inspect the daemon.
    Daemon {
        #[command(subcommand)]
        command: daemon::DaemonCommand,
    },
    /// Check the configuration file, the daemon, tmux, git, the socket, the store and the agent
    /// CLIs (a missing agent CLI is a warning).
    Doctor(doctor::DoctorArgs),
    /// The daemon's log (`<data dir>/aod.log`), its last lines; `-f` follows it.
    Logs(logs::LogsArgs),
    /// Check the configuration file without a daemon.
    Config {
        #[command(subcommand)]
        command: config::ConfigCommand,
    },
    /// Print a shell completion script.
    Completions { shell: Shell },
    /// The callback agent hooks run (never fails; see `hook.rs`).
    #[command(hide = true)]
    Hook { agent: String, event: String },
}

/// Runs a command that talks to the daemon.
pub async fn run(cli: Cli) -> Result<u8> {
    let global = &cli.global;
    match cli.command {
        Command::Spawn(args) => spawn::run(global, args).await,
        Command::Ls(args) => ls::run(global, args).await,
        Command::Get(args) => get::run(global, args).await,
        Command::Why(args) => why::run(global, args).await,
        Command::Kill(args) => kill::run(global, args).await,
        Command::Send(args) => send::run(global, args).await,
        Command::Tail(args) => tail::run(global, args).await,
        Command::Restore(args) => restore::run(global, args).await,
        Command::Cleanup(args) => cleanup::run(global, args).await,
        Command::Forget(args) => forget::run(global, args).await,
        Command::Trash { command } => trash::run(global, command).await,
        Command::Attach(args) => attach::run(global, args).await,
        Command::Events(args) => events::run(global, args).await,
        Command::Wait(args) => wait::run(global, args).await,
        Command::Project { command } => project::run(global, command).await,
        Command::Daemon { command } => daemon::run(global, command).await,
        Command::Doctor(args) => doctor::run(global, args).await,
        Command::Config { command } => config::run(global, command).await,
        Command::Logs(args) => logs::run(global, args).await,
        Command::Completions { .. } | Command::Hook { .. } => {
            unreachable!("handled before the runtime starts")
        }
    }
}
