//! `aod`'s command line: where its data, socket, tmux server and configuration file are. Each
//! flag has an environment variable, and both beat the configuration file.

use std::path::PathBuf;

use clap::Parser;

/// The ao daemon: supervises agent sessions and serves `aoctl` on a Unix socket.
#[derive(Debug, Clone, Parser)]
#[command(name = "aod", version)]
pub struct Flags {
    /// Data directory: database, logs, tmux.conf, default worktree root.
    #[arg(long, env = "AO_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// The Unix socket to serve on.
    #[arg(long, env = "AO_SOCKET")]
    pub socket: Option<PathBuf>,
    /// ao's own tmux server: a label (`-L`) or, when it contains `/`, a socket path (`-S`).
    #[arg(long, env = "AO_TMUX_SOCKET")]
    pub tmux_socket: Option<String>,
    /// The TOML configuration file.
    #[arg(long, env = "AO_CONFIG")]
    pub config: Option<PathBuf>,
    /// Keep the store in a temporary directory removed when the daemon stops (nothing survives
    /// it; for tests and trials).
    #[arg(long)]
    pub ephemeral: bool,
    /// Log to this file instead of stderr (used when `aoctl` starts the daemon). Until it
    /// serves, the daemon's errors also go to stderr; from then on stderr goes to this file too.
    #[arg(long)]
    pub log_file: Option<PathBuf>,
    /// Read and check the configuration exactly as a start would, print what was resolved as
    /// one JSON object (`ok`, `error`, `config_file`, `config_file_found`, `data_dir`,
    /// `socket`), and exit: 0 when it is valid, 2 when not. Starts nothing (`aoctl config
    /// check` and `aoctl doctor` run this).
    #[arg(long)]
    pub check_config: bool,
}
