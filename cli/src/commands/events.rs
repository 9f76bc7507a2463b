//! `aoctl events`: the change log (one row per committed session transition), from a sequence
//! number on, for one session or all; `-f` follows it live.

use std::time::Duration;

use ao_proto::EventsRequest;
use clap::Args;
use clap_complete::engine::ArgValueCandidates;

use super::{POLL_WAIT, QUICK};
use crate::Global;
use crate::client::{self, Result, ctx, exit};
use crate::complete;
use crate::render;

/// Events asked for per call.
const PAGE: u32 = 512;

#[derive(Debug, Args)]
pub struct EventsArgs {
    /// Keep following new events.
    #[arg(short, long)]
    follow: bool,
    /// Start after this sequence number.
    #[arg(long, default_value_t = 0)]
    since: i64,
    /// Only this session's events.
    #[arg(long, add = ArgValueCandidates::new(complete::sessions))]
    session: Option<String>,
    /// One JSON array (or, with --follow, one JSON object per line).
    #[arg(long)]
    json: bool,
}

pub async fn run(global: &Global, args: EventsArgs) -> Result<u8> {
    let daemon = client::connect(global).await?;
    if args.follow {
        render::exit_when_reader_leaves();
    }
    let mut after = args.since;
    let mut collected = vec![];
    let mut header_shown = false;
    let show_header = |shown: &mut bool| {
        if !args.json && !*shown {
            render::events_header();
            *shown = true;
        }
    };
    loop {
        let wait = if args.follow {
            POLL_WAIT
        } else {
            Duration::ZERO
        };
        let page = daemon
            .client
            .events(
                ctx(wait + QUICK),
                EventsRequest {
                    after,
                    limit: PAGE,
                    session: args.session.clone(),
                    wait_ms: wait.as_millis() as u64,
                },
            )
            .await??;
        if page.truncated && after == args.since && args.since > 0 {
            render::events_pruned();
        }
        let empty = page.events.is_empty();
        after = page.next;
        if args.follow {
            for e in &page.events {
                show_header(&mut header_shown);
                render::event(e, args.json);
            }
            continue;
        }
        collected.extend(page.events);
        if empty {
            break;
        }
    }
    if args.json {
        render::json(&collected);
    } else {
        for e in &collected {
            show_header(&mut header_shown);
            render::event(e, false);
        }
    }
    Ok(exit::OK)
}
