//! `aoctl`, the ao control CLI.
//!
//! Only `completions` works so far; the session commands arrive with the runner (issue 6).

use std::io;

use clap::{CommandFactory, Parser, Subcommand};
use clap_complete::Shell;

/// Control the ao daemon.
#[derive(Parser)]
#[command(name = "aoctl", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions {
        /// The shell to generate completions for.
        shell: Shell,
    },
}

fn main() {
    match Cli::parse().command {
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "aoctl", &mut io::stdout());
        }
    }
}
