//! `aoctl config check`: the configuration file checked exactly as a daemon start would check
//! it (by `aod --check-config`), without a daemon. Exit 2 when it is invalid.

use clap::Subcommand;

use crate::Global;
use crate::client::{self, CliError, Result, exit};
use crate::render;

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Check the configuration file (`--config`, `AO_CONFIG`, else the default) as a daemon
    /// start would, without a daemon; show the file, data directory and socket it resolves to.
    Check {
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(global: &Global, command: ConfigCommand) -> Result<u8> {
    match command {
        ConfigCommand::Check { json } => {
            let check = client::check_config(global).await?;
            if json {
                render::json(&check);
            } else if !check.ok {
                return Err(CliError::usage(
                    check
                        .error
                        .unwrap_or_else(|| "the configuration is invalid".to_owned()),
                ));
            } else {
                render::config_check(&check);
            }
            Ok(if check.ok { exit::OK } else { exit::USAGE })
        }
    }
}
