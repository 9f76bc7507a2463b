//! `aoctl ls`: the sessions (ended ones with `--all`), once or redrawn every 2 seconds.

use std::io::IsTerminal;
use std::time::Duration;

use ao_proto::ListRequest;
use clap::Args;
use clap_complete::engine::ArgValueCandidates;

use super::QUICK;
use crate::Global;
use crate::client::{self, Result, ctx, exit};
use crate::complete;
use crate::render;

/// How often `--watch` redraws.
const WATCH_EVERY: Duration = Duration::from_secs(2);

#[derive(Debug, Args)]
pub struct LsArgs {
    /// Only this project's sessions.
    #[arg(short, long, add = ArgValueCandidates::new(complete::projects))]
    project: Option<String>,
    /// Include killed, errored and cleaned-up sessions.
    #[arg(long)]
    all: bool,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
    /// Show long branches whole instead of cutting them to fit the terminal.
    #[arg(long)]
    wide: bool,
    /// Redraw every 2 seconds until interrupted.
    #[arg(long)]
    watch: bool,
}

pub async fn run(global: &Global, args: LsArgs) -> Result<u8> {
    let daemon = client::connect(global).await?;
    if args.watch {
        render::exit_when_reader_leaves();
    }
    let request = ListRequest {
        project: args.project,
        all: args.all,
    };
    loop {
        let sessions = daemon.client.list(ctx(QUICK), request.clone()).await??;
        render::json_or(args.json, sessions.as_slice(), |sessions| {
            if args.watch {
                if std::io::stdout().is_terminal() {
                    render::clear_screen();
                }
                render::watch_stamp();
            }
            render::session_list(sessions, args.all, args.wide);
        });
        if !args.watch {
            return Ok(exit::OK);
        }
        tokio::time::sleep(WATCH_EVERY).await;
    }
}
