//! `aoctl trash ls|restore|empty`: the worktrees of ended sessions, kept instead of deleted.
//! `ls` shows them, `restore` brings one back as a registered worktree on its branch, `empty`
//! deletes them (exit code 1 when one could not be deleted).

use std::time::Duration;

use ao_proto::TrashEmptyRequest;
use clap::Subcommand;
use clap_complete::engine::ArgValueCandidates;

use super::{QUICK, SLOW};
use crate::Global;
use crate::client::{self, Result, ctx, exit};
use crate::complete;
use crate::render;

#[derive(Debug, Subcommand)]
pub enum TrashCommand {
    /// List the trash, oldest first.
    #[command(alias = "list")]
    Ls {
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Move an entry back to its original path, as a registered worktree on its branch.
    Restore {
        /// An entry id, or a session id for its newest entry.
        #[arg(add = ArgValueCandidates::new(complete::trash_entries))]
        name: String,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Delete trash entries (all of them, or those older than --older-than).
    Empty {
        /// Only entries trashed longer ago than this (e.g. 3d, 12h).
        #[arg(long)]
        older_than: Option<humantime::Duration>,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(global: &Global, command: TrashCommand) -> Result<u8> {
    let daemon = client::connect(global).await?;
    match command {
        TrashCommand::Ls { json } => {
            let entries = daemon.client.trash_list(ctx(QUICK)).await??;
            render::json_or(json, entries.as_slice(), render::trash_entries);
        }
        TrashCommand::Restore { name, json } => {
            let entry = daemon.client.trash_restore(ctx(SLOW), name).await??;
            render::json_or(json, &entry, render::trash_restored);
        }
        TrashCommand::Empty { older_than, json } => {
            let request = TrashEmptyRequest {
                older_than_ms: older_than
                    .map(|d| u64::try_from(Duration::from(d).as_millis()).unwrap_or(u64::MAX)),
            };
            let reply = daemon.client.trash_empty(ctx(SLOW), request).await??;
            render::json_or(json, &reply, render::trash_emptied);
            if !reply.failed.is_empty() {
                return Ok(exit::FAILED);
            }
        }
    }
    Ok(exit::OK)
}
