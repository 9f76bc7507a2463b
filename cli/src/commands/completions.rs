//! `aoctl completions SHELL`: the completion script, generated from the command definitions
//! (run before any connection: it needs no daemon).

use std::io;

use clap::CommandFactory;
use clap_complete::Shell;

use crate::Cli;

pub fn run(shell: Shell) {
    clap_complete::generate(shell, &mut Cli::command(), "aoctl", &mut io::stdout());
}
