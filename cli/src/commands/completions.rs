//! `aoctl completions SHELL`: the completion script, generated from the command definitions
//! (run before any connection: it needs no daemon).

use clap::CommandFactory;
use clap_complete::Shell;

use crate::Cli;

pub fn run(shell: Shell) {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "aoctl", &mut script);
    crate::render::write_out(|out| out.write_all(&script));
}
