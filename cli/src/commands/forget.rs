//! `aoctl forget ID…`: drops the records of ended sessions whose worktree is gone, so `ls --all`
//! and `cleanup` stop listing them; their change-log history stays. Exits 1 when any is kept.

use ao_proto::ForgetRequest;
use clap::Args;
use clap_complete::engine::ArgValueCandidates;

use super::QUICK;
use crate::Global;
use crate::client::{self, Result, ctx, exit};
use crate::complete;
use crate::render;

#[derive(Debug, Args)]
pub struct ForgetArgs {
    /// Sessions to forget (each must have ended; a worktree still in place is moved to the
    /// trash by `aoctl cleanup` first).
    #[arg(required = true, value_name = "ID", add = ArgValueCandidates::new(complete::sessions))]
    ids: Vec<String>,
    /// Show what would be forgotten; change nothing.
    #[arg(long)]
    dry_run: bool,
    #[arg(long)]
    json: bool,
}

pub async fn run(global: &Global, args: ForgetArgs) -> Result<u8> {
    let daemon = client::connect(global).await?;
    let request = ForgetRequest {
        ids: args.ids,
        dry_run: args.dry_run,
    };
    let reply = daemon.client.forget(ctx(QUICK), request).await??;
    render::json_or(args.json, &reply, render::forget_reply);
    Ok(if reply.skipped.is_empty() {
        exit::OK
    } else {
        exit::FAILED
    })
}
