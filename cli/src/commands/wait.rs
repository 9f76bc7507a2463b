//! `aoctl wait`: blocks until the sessions reach one of the statuses (all of them, or any with
//! `--any`), in long-polls of at most 25 s; a timeout is exit code 1, and a session that ended in
//! another status (so the wait can never be met) exit code 5 at once.

use std::time::Duration;

use ao_core::domain::Status;
use ao_proto::WaitRequest;
use clap::Args;
use clap_complete::engine::ArgValueCandidates;

use super::{POLL_WAIT, QUICK};
use crate::Global;
use crate::client::{self, CliError, Result, ctx, exit};
use crate::complete;
use crate::render;

#[derive(Debug, Args)]
pub struct WaitArgs {
    /// The sessions to wait for.
    #[arg(required = true, add = ArgValueCandidates::new(complete::sessions))]
    ids: Vec<String>,
    /// Statuses to wait for, comma separated (e.g. idle,needs_input).
    #[arg(
        long,
        value_delimiter = ',',
        required = true,
        add = ArgValueCandidates::new(complete::statuses)
    )]
    status: Vec<String>,
    /// Return when any session matches (default: all).
    #[arg(long)]
    any: bool,
    /// Give up after this long (e.g. 30s, 5m); exit code 1.
    #[arg(long)]
    timeout: Option<humantime::Duration>,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

pub async fn run(global: &Global, args: WaitArgs) -> Result<u8> {
    let daemon = client::connect(global).await?;
    let deadline = args
        .timeout
        .map(|t| tokio::time::Instant::now() + Duration::from(t));
    loop {
        let remaining = deadline.map_or(POLL_WAIT, |d| {
            d.saturating_duration_since(tokio::time::Instant::now())
                .min(POLL_WAIT)
        });
        let reply = daemon
            .client
            .wait_for_status(
                ctx(remaining + QUICK),
                WaitRequest {
                    ids: args.ids.clone(),
                    statuses: args.status.clone(),
                    any: args.any,
                    wait_ms: remaining.as_millis() as u64,
                },
            )
            .await??;
        let timed_out = deadline.is_some_and(|d| tokio::time::Instant::now() >= d);
        if reply.reached || reply.unreachable || timed_out {
            render::json_or(args.json, &reply, |reply| render::sessions(&reply.sessions));
            if reply.reached {
                return Ok(exit::OK);
            }
            let wanted = args.status.join(",");
            if reply.unreachable {
                let ended: Vec<String> = reply
                    .sessions
                    .iter()
                    .filter(|s| {
                        s.status.parse::<Status>().is_ok_and(Status::is_terminal)
                            && !args.status.iter().any(|w| w.trim() == s.status)
                    })
                    .map(|s| format!("{} ended as {}", s.id, s.status))
                    .collect();
                return Err(CliError::new(
                    exit::ENDED,
                    format!("{}; it can no longer become {wanted}", ended.join(", ")),
                ));
            }
            return Err(CliError::failed(format!("timed out waiting for {wanted}")));
        }
    }
}
