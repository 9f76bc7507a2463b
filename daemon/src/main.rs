//! `aod`, the ao daemon.
//!
//! Not yet functional: only `--help` and `--version` work. The socket server, the store and the
//! background loops arrive with the runner (issue 6).

use clap::Parser;

/// The ao daemon (not yet functional: only --help and --version work).
#[derive(Parser)]
#[command(name = "aod", version)]
struct Args {}

fn main() {
    let _ = Args::parse();
    eprintln!("aod: the daemon is not implemented yet; see `aod --help`");
    std::process::exit(1);
}
