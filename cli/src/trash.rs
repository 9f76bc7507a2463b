//! `aoctl trash`: the worktrees of ended sessions, kept instead of deleted. `ls` shows them,
//! `restore` brings one back as a registered worktree on its branch, `empty` deletes them.

use std::time::Duration;

use ao_proto::{TrashEmptyRequest, TrashEntryView};

use crate::client::{self, Result, ctx, exit};
use crate::render;
use crate::{Global, TrashCommand};

/// Restoring and emptying move or delete whole directory trees.
const SLOW: Duration = Duration::from_secs(15 * 60);
const QUICK: Duration = Duration::from_secs(30);

pub async fn run(global: &Global, command: TrashCommand) -> Result<u8> {
    let daemon = client::connect(global).await?;
    match command {
        TrashCommand::Ls { json } => {
            let entries = daemon.client.trash_list(ctx(QUICK)).await??;
            if json {
                render::json(&entries);
            } else if entries.is_empty() {
                println!("the trash is empty");
            } else {
                let rows = entries.iter().map(row).collect();
                render::table(
                    &["ID", "SESSION", "BRANCH", "TRASHED", "KEPT", "PATH"],
                    rows,
                );
            }
        }
        TrashCommand::Restore { name, json } => {
            let entry = daemon.client.trash_restore(ctx(SLOW), name).await??;
            if json {
                render::json(&entry);
            } else {
                println!(
                    "restored {} to {}{}",
                    entry.id,
                    entry
                        .original_path
                        .as_deref()
                        .unwrap_or("its original path"),
                    entry
                        .branch
                        .as_deref()
                        .map(|b| format!(" (branch {b})"))
                        .unwrap_or_default()
                );
                if let Some(session) = &entry.session {
                    println!("  `aoctl restore {session}` relaunches its agent there");
                }
            }
        }
        TrashCommand::Empty { older_than, json } => {
            let request = TrashEmptyRequest {
                older_than_ms: older_than
                    .map(|d| u64::try_from(Duration::from(d).as_millis()).unwrap_or(u64::MAX)),
            };
            let reply = daemon.client.trash_empty(ctx(SLOW), request).await??;
            if json {
                render::json(&reply);
            } else {
                for entry in &reply.removed {
                    println!("deleted {}", entry.id);
                }
                for kept in &reply.failed {
                    println!("kept {}: {}", kept.id, kept.reason);
                }
                if reply.removed.is_empty() && reply.failed.is_empty() {
                    println!("nothing to delete");
                }
            }
            if !reply.failed.is_empty() {
                return Ok(exit::FAILED);
            }
        }
    }
    Ok(exit::OK)
}

/// One `trash ls` row; KEPT names the refs that keep its commits and work, and its state when
/// it is not simply trashed.
fn row(entry: &TrashEntryView) -> Vec<String> {
    let mut kept: Vec<String> = [&entry.detached_ref, &entry.preserved_ref]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    if !entry.nested_repos.is_empty() {
        kept.push(format!("nested: {}", entry.nested_repos.join(",")));
    }
    if entry.state != "trashed" {
        kept.push(entry.state.clone());
    }
    vec![
        entry.id.clone(),
        entry.session.clone().unwrap_or_else(|| "-".to_owned()),
        entry.branch.clone().unwrap_or_else(|| "-".to_owned()),
        render::age(Some(&entry.trashed_at)),
        if kept.is_empty() {
            "-".to_owned()
        } else {
            kept.join(" ")
        },
        entry.path.clone(),
    ]
}
