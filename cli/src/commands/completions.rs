//! `aoctl completions SHELL`: the shell's registration script for dynamic completion (run
//! before any connection: it needs no daemon). The script calls `aoctl` back for candidates at
//! each Tab; see `complete.rs`.

use clap_complete::Shell;

pub fn run(shell: Shell) {
    let script = crate::complete::registration(shell);
    crate::render::write_out(|out| out.write_all(&script));
}
