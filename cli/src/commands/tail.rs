//! `aoctl tail`: a session's pane output, its last lines first; `-f` follows it with a byte
//! cursor until the session ends and its output is exhausted.

use ao_proto::TailRequest;
use clap::Args;
use clap_complete::engine::ArgValueCandidates;

use super::{POLL_WAIT, QUICK};
use crate::Global;
use crate::client::{self, Result, ctx, exit};
use crate::complete;
use crate::render;

#[derive(Debug, Args)]
pub struct TailArgs {
    /// The session whose output to show.
    #[arg(add = ArgValueCandidates::new(complete::sessions))]
    id: String,
    /// Lines to show first.
    #[arg(short = 'n', long, default_value_t = 50)]
    lines: u32,
    /// Keep following new output.
    #[arg(short, long)]
    follow: bool,
}

pub async fn run(global: &Global, args: TailArgs) -> Result<u8> {
    let daemon = client::connect(global).await?;
    let first = daemon
        .client
        .tail(
            ctx(QUICK),
            TailRequest {
                id: args.id.clone(),
                cursor: None,
                lines: Some(args.lines),
                wait_ms: 0,
            },
        )
        .await??;
    render::tail_start(&first.text);
    if args.follow {
        render::exit_when_reader_leaves();
    }
    let mut cursor = first.next;
    let mut live = first.live;
    while args.follow && live {
        let reply = daemon
            .client
            .tail(
                ctx(POLL_WAIT + QUICK),
                TailRequest {
                    id: args.id.clone(),
                    cursor: Some(cursor),
                    lines: None,
                    wait_ms: POLL_WAIT.as_millis() as u64,
                },
            )
            .await??;
        if reply.start > cursor {
            render::output_trimmed(reply.start - cursor);
        }
        render::output(&reply.text);
        cursor = reply.next;
        live = reply.live || !reply.text.is_empty();
    }
    Ok(exit::OK)
}
