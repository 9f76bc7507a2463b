//! `aoctl restore`: relaunches an ended session in its worktree (brought back from the trash),
//! resuming the agent's conversation when it can.

use clap::Args;
use clap_complete::engine::ArgValueCandidates;

use super::SLOW;
use crate::Global;
use crate::client::{self, Result, ctx, exit};
use crate::complete;
use crate::render;

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The ended session to relaunch.
    #[arg(add = ArgValueCandidates::new(complete::sessions))]
    id: String,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

pub async fn run(global: &Global, args: RestoreArgs) -> Result<u8> {
    let daemon = client::connect(global).await?;
    let session = daemon.client.restore(ctx(SLOW), args.id).await??;
    render::json_or(args.json, &session, render::session);
    Ok(exit::OK)
}
