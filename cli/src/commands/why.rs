//! `aoctl why`: the evidence behind a session's status: each lifecycle axis with the observer
//! that last changed it (when, on what signal), the metadata that explains it, and the last
//! transitions from the change log.

use ao_proto::{WHY_DEFAULT_TRANSITIONS, WHY_MAX_TRANSITIONS, WhyRequest};
use clap::Args;
use clap_complete::engine::ArgValueCandidates;

use super::QUICK;
use crate::Global;
use crate::client::{self, Result, ctx, exit};
use crate::complete;
use crate::render;

#[derive(Debug, Args)]
pub struct WhyArgs {
    /// The session to explain.
    #[arg(add = ArgValueCandidates::new(complete::sessions))]
    id: String,
    /// How many of the last transitions to show.
    #[arg(
        long,
        default_value_t = WHY_DEFAULT_TRANSITIONS,
        value_parser = clap::value_parser!(u32).range(1..=i64::from(WHY_MAX_TRANSITIONS)),
    )]
    limit: u32,
    /// The report as one JSON object.
    #[arg(long)]
    json: bool,
}

pub async fn run(global: &Global, args: WhyArgs) -> Result<u8> {
    let daemon = client::connect(global).await?;
    let request = WhyRequest {
        id: args.id,
        limit: Some(args.limit),
    };
    let why = daemon.client.why(ctx(QUICK), request).await??;
    render::json_or(args.json, &why, render::why);
    Ok(exit::OK)
}
