//! `aoctl cleanup`: moves the worktrees of ended sessions to the trash (dirty ones stay unless
//! `--preserve`), then with `--forget-ended` drops ended sessions' records and with `--branches`
//! deletes `ao/*` branches that hold no work of their own; `--dry-run` says what it would do.

use ao_proto::CleanupRequest;
use clap::Args;
use clap_complete::engine::ArgValueCandidates;

use super::SLOW;
use crate::Global;
use crate::client::{self, Result, ctx, exit};
use crate::complete;
use crate::render;

#[derive(Debug, Args)]
pub struct CleanupArgs {
    #[arg(short, long, add = ArgValueCandidates::new(complete::projects))]
    project: Option<String>,
    /// Show what would be moved, forgotten or deleted; change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Stash uncommitted work into refs/ao/preserved/<id> before moving.
    #[arg(long)]
    preserve: bool,
    /// Then forget ended sessions whose worktree is gone: `ls --all` stops listing them; their
    /// change-log history stays and their ids are never reused.
    #[arg(long)]
    forget_ended: bool,
    /// With --forget-ended: only sessions whose last change is at least this old (e.g. 7d).
    #[arg(long, requires = "forget_ended")]
    older_than: Option<humantime::Duration>,
    /// Then delete ao/* branches checked out nowhere whose every commit is on the project's
    /// base branch (merged, or never moved); any other branch is kept, with why.
    #[arg(long)]
    branches: bool,
    #[arg(long)]
    json: bool,
}

pub async fn run(global: &Global, args: CleanupArgs) -> Result<u8> {
    let daemon = client::connect(global).await?;
    let request = CleanupRequest {
        project: args.project,
        preserve: args.preserve,
        dry_run: args.dry_run,
        forget_ended: args.forget_ended,
        older_than_ms: args
            .older_than
            .map(|age| u64::try_from(age.as_millis()).unwrap_or(u64::MAX)),
        branches: args.branches,
    };
    let reply = daemon.client.cleanup(ctx(SLOW), request).await??;
    render::json_or(args.json, &reply, |reply| {
        render::cleanup_reply(reply, args.dry_run)
    });
    Ok(exit::OK)
}
