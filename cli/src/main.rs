//! `aoctl`, the ao control CLI: parses, calls the daemon, prints. It decides nothing.
//!
//! Exit codes: 0 ok, 1 operation failed, 2 usage error, 3 daemon unreachable or not trusted,
//! 4 not found, 5 (`wait`) a session ended in another status.

mod client;
mod commands;
mod complete;
mod hook;
mod render;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser};

use crate::client::{CliError, exit};
use crate::commands::Command;

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
#[command(next_help_heading = "Global options")]
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
    // A completion request (`COMPLETE=<shell>`, from the script `aoctl completions` prints)
    // is answered here and exits; otherwise this only reads one variable.
    complete::answer_if_asked();
    let cli = Cli::parse();
    match &cli.command {
        Command::Completions { shell } => {
            commands::completions::run(*shell);
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
