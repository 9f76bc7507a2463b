//! `aoctl get`: one session in detail, with CI, review and mergeability when it has a PR.

use clap::Args;
use clap_complete::engine::ArgValueCandidates;

use super::QUICK;
use crate::Global;
use crate::client::{self, Result, ctx, exit};
use crate::complete;
use crate::render;

#[derive(Debug, Args)]
pub struct GetArgs {
    /// The session to show.
    #[arg(add = ArgValueCandidates::new(complete::sessions))]
    id: String,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

pub async fn run(global: &Global, args: GetArgs) -> Result<u8> {
    let daemon = client::connect(global).await?;
    let session = daemon.client.get(ctx(QUICK), args.id).await??;
    render::json_or(args.json, &session, render::session_detail);
    Ok(exit::OK)
}
