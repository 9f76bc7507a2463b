//! `aoctl send`: a message for a session's agent, typed through the session guard. It waits
//! until the message is typed (a busy agent gets it when its turn ends, a draft in its input line
//! is waited for) unless `--no-wait`; `--force` sets such a draft aside at once and types it back
//! after the message; sent from inside a session, it is prefixed `[from <id>]`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ao_proto::SendRequest;
use clap::Args;
use clap_complete::engine::ArgValueCandidates;

use super::QUICK;
use crate::Global;
use crate::client::{self, CliError, Result, ctx, exit};
use crate::complete;
use crate::render;

/// How long `send` waits for delivery by default.
const SEND_WAIT: Duration = Duration::from_secs(60);

#[derive(Debug, Args)]
pub struct SendArgs {
    /// The session whose agent gets the message.
    #[arg(add = ArgValueCandidates::new(complete::sessions))]
    id: String,
    /// The message (words are joined with spaces).
    message: Vec<String>,
    /// Read the message from a file (`-` for stdin).
    #[arg(long, conflicts_with = "message")]
    file: Option<PathBuf>,
    /// Return once the message is queued.
    #[arg(long)]
    no_wait: bool,
    /// How long to wait for the message to be typed (default 60s); a message still queued then
    /// stays queued.
    #[arg(long, conflicts_with = "no_wait")]
    timeout: Option<humantime::Duration>,
    /// Do not wait for a draft in the agent's input line: clear it, send, and type it back.
    #[arg(long)]
    force: bool,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

pub async fn run(global: &Global, args: SendArgs) -> Result<u8> {
    let mut text = match &args.file {
        Some(path) => read_message_file(path)?,
        None if args.message.is_empty() => {
            return Err(CliError::usage("give a message or --file"));
        }
        None => args.message.join(" "),
    };
    if let Ok(from) = std::env::var("AO_SESSION_ID")
        && !from.is_empty()
    {
        text = format!("[from {from}] {text}");
    }
    if text.len() > ao_proto::MAX_MESSAGE_BYTES {
        return Err(CliError::usage(format!(
            "the message is {} bytes; the limit is {}",
            text.len(),
            ao_proto::MAX_MESSAGE_BYTES
        )));
    }
    let daemon = client::connect(global).await?;
    let wait = (!args.no_wait).then(|| args.timeout.map_or(SEND_WAIT, Into::into));
    let request = SendRequest {
        id: args.id,
        message: text,
        wait_ms: wait.map(|w| w.as_millis() as u64),
        force: args.force,
    };
    let reply = daemon
        .client
        .send(ctx(wait.unwrap_or(Duration::ZERO) + QUICK), request)
        .await??;
    render::json_or(args.json, &reply, render::send_reply);
    Ok(exit::OK)
}

fn read_message_file(path: &Path) -> Result<String> {
    let mut text = String::new();
    let read = if path == Path::new("-") {
        std::io::stdin().read_to_string(&mut text).map(|_| ())
    } else {
        std::fs::read_to_string(path).map(|t| text = t)
    };
    read.map_err(|e| CliError::usage(format!("cannot read {}: {e}", path.display())))?;
    Ok(text)
}
