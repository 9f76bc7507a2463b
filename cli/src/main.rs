//! `aoctl`, the ao control CLI: parses, calls the daemon, prints. It decides nothing.
//!
//! Exit codes: 0 ok, 1 operation failed, 2 usage error, 3 daemon unreachable or not trusted,
//! 4 not found.

mod attach;
mod client;
mod commands;
mod hook;
mod render;
mod trash;

use std::io;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use clap_complete::Shell;

use crate::client::{CliError, exit};

/// Control the ao daemon: spawn coding agents in their own worktrees and tmux sessions, watch
/// them, talk to them.
#[derive(Debug, Parser)]
#[command(name = "aoctl", version, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Settings shared by every command.
#[derive(Debug, Clone, Args)]
pub struct Global {
    /// The daemon's socket.
    #[arg(long, global = true, env = "AO_SOCKET")]
    pub socket: Option<PathBuf>,
    /// The data directory (passed to a daemon aoctl starts).
    #[arg(long, global = true, env = "AO_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// ao's tmux server label or socket path (passed to a daemon aoctl starts).
    #[arg(long, global = true, env = "AO_TMUX_SOCKET")]
    pub tmux_socket: Option<String>,
    /// The daemon's configuration file (passed to a daemon aoctl starts).
    #[arg(long, global = true, env = "AO_CONFIG")]
    pub config: Option<PathBuf>,
    /// Never start the daemon; fail with exit code 3 when it is not running.
    #[arg(long, global = true)]
    pub no_autostart: bool,
    /// Print the cause chain of errors.
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

impl Global {
    pub fn socket_path(&self) -> PathBuf {
        self.socket
            .clone()
            .unwrap_or_else(ao_proto::paths::default_socket)
    }

    pub fn data_dir(&self) -> PathBuf {
        self.data_dir
            .clone()
            .unwrap_or_else(ao_proto::paths::default_data_dir)
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PermissionMode {
    Default,
    AcceptEdits,
    Auto,
    BypassPermissions,
}

impl PermissionMode {
    pub fn as_str(self) -> &'static str {
        match self {
            PermissionMode::Default => "default",
            PermissionMode::AcceptEdits => "accept-edits",
            PermissionMode::Auto => "auto",
            PermissionMode::BypassPermissions => "bypass-permissions",
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start a new agent session in its own worktree and tmux session.
    Spawn {
        /// The project (default: the git repository you are in, registered on first use).
        #[arg(short, long)]
        project: Option<String>,
        /// The agent harness (`command`, `claude-code`, `codex`, or a configured name).
        #[arg(long)]
        agent: Option<String>,
        /// For the `command` agent: the program and its arguments, split like a shell would
        /// (no shell runs).
        #[arg(long = "cmd", value_name = "PROGRAM ARGS…")]
        command: Option<String>,
        /// The branch to work on (default `ao/<session id>`).
        #[arg(long)]
        branch: Option<String>,
        /// An issue reference, exported as AO_ISSUE_ID.
        #[arg(long)]
        issue: Option<String>,
        /// The agent's model.
        #[arg(long)]
        model: Option<String>,
        /// The agent's permission mode.
        #[arg(long, value_enum)]
        permission_mode: Option<PermissionMode>,
        /// Print the session as JSON.
        #[arg(long)]
        json: bool,
        /// The task for the agent.
        prompt: Vec<String>,
    },
    /// List sessions.
    #[command(alias = "list")]
    Ls {
        #[arg(short, long)]
        project: Option<String>,
        /// Include killed, errored and cleaned-up sessions.
        #[arg(long)]
        all: bool,
        #[arg(long)]
        json: bool,
        /// Redraw every 2 seconds until interrupted.
        #[arg(long)]
        watch: bool,
    },
    /// Show one session.
    Get {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Stop a session's agent and move its worktree to the trash (a dirty worktree stays).
    Kill {
        id: String,
        /// Stash uncommitted work into refs/ao/preserved/<id>, then move the worktree to the trash.
        #[arg(long)]
        preserve: bool,
        #[arg(long)]
        json: bool,
    },
    /// Type a message into a session's agent.
    Send {
        id: String,
        /// The message (words are joined with spaces).
        message: Vec<String>,
        /// Read the message from a file (`-` for stdin).
        #[arg(long, short, conflicts_with = "message")]
        file: Option<PathBuf>,
        /// Return once the message is queued.
        #[arg(long)]
        no_wait: bool,
        #[arg(long)]
        json: bool,
    },
    /// Show a session's output.
    Tail {
        id: String,
        /// Lines to show first.
        #[arg(short = 'n', long, default_value_t = 50)]
        lines: u32,
        /// Keep following new output.
        #[arg(short, long)]
        follow: bool,
    },
    /// Relaunch a killed session in its worktree (resuming the agent's conversation when it can).
    Restore {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Move the worktrees of ended sessions to the trash (dirty ones stay unless --preserve).
    Cleanup {
        #[arg(short, long)]
        project: Option<String>,
        /// Show what would be moved; move nothing.
        #[arg(long)]
        dry_run: bool,
        /// Stash uncommitted work into refs/ao/preserved/<id> before moving.
        #[arg(long)]
        preserve: bool,
        #[arg(long)]
        json: bool,
    },
    /// The worktrees of ended sessions: list, restore, empty.
    Trash {
        #[command(subcommand)]
        command: TrashCommand,
    },
    /// Attach your terminal to a session's tmux session.
    Attach { id: String },
    /// Show the change log (session transitions).
    Events {
        /// Keep following new events.
        #[arg(short, long)]
        follow: bool,
        /// Start after this sequence number.
        #[arg(long, default_value_t = 0)]
        since: i64,
        /// Only this session's events.
        #[arg(long)]
        session: Option<String>,
        /// One JSON array (or, with --follow, one JSON object per line).
        #[arg(long)]
        json: bool,
    },
    /// Wait until sessions reach a status.
    Wait {
        #[arg(required = true)]
        ids: Vec<String>,
        /// Statuses to wait for, comma separated (e.g. idle,needs_input).
        #[arg(long, value_delimiter = ',', required = true)]
        status: Vec<String>,
        /// Return when any session matches (default: all).
        #[arg(long)]
        any: bool,
        /// Give up after this long (e.g. 30s, 5m); exit code 1.
        #[arg(long)]
        timeout: Option<humantime::Duration>,
        #[arg(long)]
        json: bool,
    },
    /// Manage projects (git repositories sessions are spawned from).
    Project {
        #[command(subcommand)]
        command: ProjectCommand,
    },
    /// Start, stop or inspect the daemon.
    Daemon {
        #[command(subcommand)]
        command: DaemonCommand,
    },
    /// Check tmux, git, the socket, the store and the agent CLIs.
    Doctor {
        #[arg(long)]
        json: bool,
    },
    /// Print a shell completion script.
    Completions { shell: Shell },
    /// The callback agent hooks run (never fails; see `hook.rs`).
    #[command(hide = true)]
    Hook { agent: String, event: String },
}

#[derive(Debug, Subcommand)]
pub enum ProjectCommand {
    /// Register a repository.
    Add {
        name: String,
        repo_path: PathBuf,
        /// The branch new branches start from (default: origin's HEAD).
        #[arg(long)]
        base: Option<String>,
        /// The default agent for this project.
        #[arg(long)]
        agent: Option<String>,
        /// A repository file to symlink into every new worktree (repeatable).
        #[arg(long)]
        symlink: Vec<String>,
        /// A repository file or directory to copy into every new worktree (repeatable).
        #[arg(long)]
        copy: Vec<String>,
        /// A command to run in every new worktree before the agent starts (repeatable; split
        /// like a shell would, no shell runs).
        #[arg(long)]
        post_create: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// List projects.
    #[command(alias = "list")]
    Ls {
        #[arg(long)]
        json: bool,
    },
    /// Unregister a project (refused while it has live sessions).
    #[command(alias = "remove")]
    Rm { name: String },
}

#[derive(Debug, Subcommand)]
pub enum TrashCommand {
    /// List the trash, oldest first.
    #[command(alias = "list")]
    Ls {
        #[arg(long)]
        json: bool,
    },
    /// Move an entry back to its original path, as a registered worktree on its branch.
    Restore {
        /// An entry id, or a session id for its newest entry.
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Delete trash entries (all of them, or those older than --older-than).
    Empty {
        /// Only entries trashed longer ago than this (e.g. 3d, 12h).
        #[arg(long)]
        older_than: Option<humantime::Duration>,
        #[arg(long)]
        json: bool,
    },
}

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

fn main() -> ExitCode {
    // Whatever aoctl creates (the data directory and `hooks.log` when the daemon is down, a
    // daemon it starts) is private to its user.
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o077));
    // The hook callback skips clap and every setup below: it runs inside an agent's turn.
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == "hook") {
        hook::run(&args[2..]);
        return ExitCode::SUCCESS;
    }
    let cli = Cli::parse();
    match &cli.command {
        Command::Completions { shell } => {
            clap_complete::generate(*shell, &mut Cli::command(), "aoctl", &mut io::stdout());
            return ExitCode::SUCCESS;
        }
        Command::Hook { agent, event } => {
            hook::run(&[agent.into(), event.into()]);
            return ExitCode::SUCCESS;
        }
        _ => {}
    }
    let verbose = cli.global.verbose;
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("aoctl: starting the async runtime: {e}");
            return ExitCode::from(exit::FAILED);
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => report(e, verbose),
    }
}

fn report(e: CliError, verbose: bool) -> ExitCode {
    eprintln!("aoctl: {}", e.message);
    if verbose {
        for cause in &e.causes {
            eprintln!("  caused by: {cause}");
        }
    }
    ExitCode::from(e.code)
}
