//! `aoctl tail`: a session's output log, its last lines first (paged backwards from the log's
//! end until there are enough or the log holds no more); `-f` then follows the log with a byte
//! cursor from exactly where those lines end, until the session ends and its output is
//! exhausted.

use ao_proto::TailRequest;
use clap::Args;
use clap_complete::engine::ArgValueCandidates;

use super::{POLL_WAIT, QUICK};
use crate::Global;
use crate::client::{self, Daemon, Result, ctx, exit};
use crate::complete;
use crate::render;

#[derive(Debug, Args)]
pub struct TailArgs {
    /// The session whose output to show.
    #[arg(add = ArgValueCandidates::new(complete::sessions))]
    id: String,
    /// Lines to show first, from the end of the session's output log (all it holds when it
    /// holds fewer). A last line without a newline counts as a line.
    #[arg(short = 'n', long, default_value_t = 50)]
    lines: u32,
    /// Keep following new output.
    #[arg(short, long)]
    follow: bool,
}

pub async fn run(global: &Global, args: TailArgs) -> Result<u8> {
    let daemon = client::connect(global).await?;
    let first = last_lines(&daemon, &args.id, args.lines).await?;
    if let Some(bytes) = first.missing {
        render::output_trimmed(bytes);
    }
    // One text, so a terminal code split between two pages is still stripped whole.
    let text: String = first.pages.iter().rev().map(String::as_str).collect();
    let mut line_open = render::output(&text).unwrap_or(false);
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
                    before: None,
                    wait_ms: POLL_WAIT.as_millis() as u64,
                },
            )
            .await??;
        if reply.start > cursor {
            render::output_trimmed(reply.start - cursor);
        }
        line_open = render::output(&reply.text).unwrap_or(line_open);
        cursor = reply.next;
        live = reply.live || !reply.text.is_empty();
    }
    if line_open {
        render::end_line();
    }
    Ok(exit::OK)
}

/// The last lines of a session's output log, as pages of text (newest first).
struct LastLines {
    pages: Vec<String>,
    /// Where the lines end: the cursor to follow from.
    next: u64,
    live: bool,
    /// Bytes of older output the log no longer holds, when fewer lines than wanted remain.
    missing: Option<u64>,
}

/// Asks for the last `wanted` lines, then for the lines before each page's start until there
/// are enough, the log's oldest byte is reached, or a page brings nothing older.
async fn last_lines(daemon: &Daemon, id: &str, mut wanted: u32) -> Result<LastLines> {
    let mut pages = vec![];
    let mut before = None;
    let mut end = None;
    loop {
        let reply = daemon
            .client
            .tail(
                ctx(QUICK),
                TailRequest {
                    id: id.to_owned(),
                    cursor: None,
                    lines: Some(wanted),
                    before,
                    wait_ms: 0,
                },
            )
            .await??;
        let (next, live) = *end.get_or_insert((reply.next, reply.live));
        let older = before.is_none_or(|b| reply.start < b);
        wanted = wanted.saturating_sub(reply.lines);
        let first = if older {
            reply.start
        } else {
            before.unwrap_or(0)
        };
        if older && !reply.text.is_empty() {
            pages.push(reply.text);
        }
        // A daemon that does not page says nothing of the log's oldest byte.
        let Some(oldest) = reply.oldest else {
            return Ok(LastLines {
                pages,
                next,
                live,
                missing: None,
            });
        };
        if wanted == 0 || !older || first <= oldest {
            return Ok(LastLines {
                pages,
                next,
                live,
                missing: (wanted > 0 && first > 0).then_some(first),
            });
        }
        before = Some(first);
    }
}
