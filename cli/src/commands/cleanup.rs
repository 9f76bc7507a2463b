//! `aoctl cleanup`: moves the worktrees of ended sessions to the trash (dirty ones stay unless
//! `--preserve`), or with `--dry-run` says what it would move.

use ao_proto::CleanupRequest;
use clap::Args;

use super::SLOW;
use crate::Global;
use crate::client::{self, Result, ctx, exit};
use crate::render;

#[derive(Debug, Args)]
pub struct CleanupArgs {
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
}

pub async fn run(global: &Global, args: CleanupArgs) -> Result<u8> {
    let daemon = client::connect(global).await?;
    let request = CleanupRequest {
        project: args.project,
        preserve: args.preserve,
        dry_run: args.dry_run,
    };
    let reply = daemon.client.cleanup(ctx(SLOW), request).await??;
    render::json_or(args.json, &reply, |reply| {
        render::cleanup_reply(reply, args.dry_run)
    });
    Ok(exit::OK)
}
