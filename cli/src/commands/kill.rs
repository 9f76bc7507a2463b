//! `aoctl kill`: ends a session; its worktree goes to the trash (a dirty one stays unless
//! `--preserve` stashes its work first).

use ao_proto::KillRequest;
use clap::Args;
use clap_complete::engine::ArgValueCandidates;

use super::SLOW;
use crate::Global;
use crate::client::{self, Result, ctx, exit};
use crate::complete;
use crate::render;

#[derive(Debug, Args)]
pub struct KillArgs {
    /// The session to kill (e.g. demo-3).
    #[arg(add = ArgValueCandidates::new(complete::sessions))]
    id: String,
    /// Stash uncommitted work into refs/ao/preserved/<id>, then move the worktree to the trash.
    #[arg(long)]
    preserve: bool,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

pub async fn run(global: &Global, args: KillArgs) -> Result<u8> {
    let daemon = client::connect(global).await?;
    let request = KillRequest {
        id: args.id,
        preserve: args.preserve,
    };
    let reply = daemon.client.kill(ctx(SLOW), request).await??;
    render::json_or(args.json, &reply, render::kill_reply);
    Ok(exit::OK)
}
