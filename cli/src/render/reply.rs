//! What a command did, in sentences and tables: where a killed or cleaned session's worktree
//! went and what keeps its work, a message's delivery, the trash, projects, the daemon, and
//! doctor's checks.

use std::path::Path;

use ao_proto::{
    BranchesView, Check, CleanupReply, ForgetReply, KillReply, Pong, ProjectView, RetiredView,
    SendReply, TrashEmptyReply, TrashEntryView,
};

use super::{age, pairs, table};
use crate::client::ConfigCheck;

/// What a kill did: where the worktree went and what keeps the work.
pub fn kill_reply(reply: &KillReply) {
    let id = &reply.id;
    let killed = match &reply.already_ended {
        Some(status) => format!("{id} had already ended ({status})"),
        None => format!("killed {id}"),
    };
    match (
        &reply.trash_path,
        reply.workspace_freed,
        &reply.workspace_error,
    ) {
        (Some(trash), true, _) => {
            outln!("{killed}; worktree moved to the trash: {trash}");
            outln!(
                "  `aoctl trash restore {id}` puts it back; `aoctl restore {id}` relaunches the agent there"
            );
        }
        (None, true, _) => outln!("{killed}; its worktree was already gone"),
        (_, false, Some(why)) => {
            outln!(
                "{killed}; worktree kept at {}: {}",
                reply.workspace_path.as_deref().unwrap_or("(unknown path)"),
                why.message
            );
            if why.kind == "Dirty" {
                outln!(
                    "  `aoctl kill {id} --preserve` stashes tracked and untracked changes into \
                     refs/ao/preserved/{id} and moves the worktree to the trash"
                );
            }
        }
        (_, false, None) => outln!("{id} was not found; nothing to do"),
    }
    if let Some(reference) = &reply.preserved_ref {
        outln!("  uncommitted work saved in {reference}");
    }
    if let Some(reference) = &reply.detached_ref {
        outln!("  commits on its detached HEAD kept in {reference}");
    }
    if !reply.nested_repos.is_empty() {
        outln!(
            "  nested repositories (not in the preserved ref; their files are in the trash): {}",
            reply.nested_repos.join(", ")
        );
    }
    for leftover in &reply.leftovers {
        outln!("  note: {leftover}");
    }
}

/// What a cleanup moved (or, in a dry run, would move) and what it skipped, one row a session.
pub fn cleanup_reply(reply: &CleanupReply, dry_run: bool) {
    let verb = if dry_run {
        "would move to trash"
    } else {
        "moved to trash"
    };
    let mut rows: Vec<Vec<String>> = reply
        .cleaned
        .iter()
        .map(|id| {
            let detail = reply
                .retired
                .iter()
                .find(|r| &r.id == id)
                .map(retired_detail)
                .unwrap_or_default();
            vec![id.clone(), verb.to_owned(), detail]
        })
        .collect();
    rows.extend(
        reply
            .skipped
            .iter()
            .map(|s| vec![s.id.clone(), "skipped".to_owned(), s.reason.clone()]),
    );
    if let Some(forgotten) = &reply.forgotten {
        rows.extend(forget_rows(forgotten));
    }
    if rows.is_empty() {
        if reply.branches.is_none() {
            outln!("nothing to clean up");
        }
    } else {
        table(&["ID", "RESULT", "DETAIL"], rows);
    }
    if let Some(projects) = &reply.branches {
        branches(projects, dry_run);
    }
}

/// `aoctl forget`: one row per session named.
pub fn forget_reply(reply: &ForgetReply) {
    let rows = forget_rows(reply);
    if rows.is_empty() {
        outln!("nothing to forget");
    } else {
        table(&["ID", "RESULT", "DETAIL"], rows);
    }
}

fn forget_rows(reply: &ForgetReply) -> Vec<Vec<String>> {
    let verb = if reply.dry_run {
        "would forget"
    } else {
        "forgotten"
    };
    let detail = "record dropped; `aoctl events --session` keeps its history";
    reply
        .forgotten
        .iter()
        .map(|id| vec![id.clone(), verb.to_owned(), detail.to_owned()])
        .chain(
            reply
                .skipped
                .iter()
                .map(|s| vec![s.id.clone(), "kept".to_owned(), s.reason.clone()]),
        )
        .collect()
}

/// `cleanup --branches`: each project's `ao/*` branches, deleted or kept with why.
fn branches(projects: &[BranchesView], dry_run: bool) {
    let verb = if dry_run { "would delete" } else { "deleted" };
    let mut rows = vec![];
    for project in projects {
        if let Some(error) = &project.error {
            rows.push(vec![
                project.project.clone(),
                "-".to_owned(),
                "not checked".to_owned(),
                error.clone(),
            ]);
        }
        let merged = match &project.base {
            Some(base) => format!("all its commits are on {base}"),
            None => String::new(),
        };
        for branch in &project.deleted {
            rows.push(vec![
                project.project.clone(),
                branch.clone(),
                verb.to_owned(),
                merged.clone(),
            ]);
        }
        for kept in &project.kept {
            rows.push(vec![
                project.project.clone(),
                kept.id.clone(),
                "kept".to_owned(),
                kept.reason.clone(),
            ]);
        }
    }
    if rows.is_empty() {
        outln!("no ao/* branches");
    } else {
        table(&["PROJECT", "BRANCH", "RESULT", "DETAIL"], rows);
    }
}

/// The DETAIL cell of a cleaned session: where its worktree went and what keeps its work.
fn retired_detail(retired: &RetiredView) -> String {
    let mut parts = vec![];
    if let Some(path) = &retired.trash_path {
        parts.push(path.clone());
    }
    if let Some(reference) = &retired.preserved_ref {
        parts.push(format!("work saved in {reference}"));
    }
    if let Some(reference) = &retired.detached_ref {
        parts.push(format!("commits kept in {reference}"));
    }
    if !retired.nested_repos.is_empty() {
        parts.push(format!("nested repos: {}", retired.nested_repos.join(",")));
    }
    parts.join("; ")
}

/// How far a sent message got.
pub fn send_reply(reply: &SendReply) {
    match (reply.state.as_str(), reply.draft.as_deref()) {
        ("acknowledged", _) => {
            outln!("delivered to {} (the agent confirmed it)", reply.id)
        }
        ("injected", _) => outln!("typed into {}", reply.id),
        (_, Some("waiting")) => outln!(
            "queued for {}: a draft is in the agent's input line; the message waits until it \
             is sent or cleared, or has sat unchanged for the draft grace (`send --force` sets \
             it aside now)",
            reply.id
        ),
        _ => outln!(
            "queued for {} (it will be typed once the agent is not busy)",
            reply.id
        ),
    }
    match reply.draft.as_deref() {
        Some("restored") => {
            outln!("the draft in the input line was cleared for it and typed back afterwards")
        }
        Some("set_aside") => outln!(
            "the draft in the input line was cleared for it; it is typed back once the message is in"
        ),
        Some("not_restored") => outln!(
            "the draft in the input line was cleared for it and could not be typed back; it \
             was:\n{}",
            reply.draft_text.as_deref().unwrap_or_default()
        ),
        _ => {}
    }
}

/// `trash ls`: the entries, oldest first.
pub fn trash_entries(entries: &[TrashEntryView]) {
    if entries.is_empty() {
        outln!("the trash is empty");
    } else {
        let rows = entries.iter().map(trash_row).collect();
        table(
            &["ID", "SESSION", "BRANCH", "TRASHED", "KEPT", "PATH"],
            rows,
        );
    }
}

/// One `trash ls` row; KEPT names the refs that keep its commits and work, and its state when
/// it is not simply trashed.
fn trash_row(entry: &TrashEntryView) -> Vec<String> {
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
        age(Some(&entry.trashed_at)),
        if kept.is_empty() {
            "-".to_owned()
        } else {
            kept.join(" ")
        },
        entry.path.clone(),
    ]
}

/// Where a trash entry went back to, and how to relaunch its agent.
pub fn trash_restored(entry: &TrashEntryView) {
    outln!(
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
        outln!("  `aoctl restore {session}` relaunches its agent there");
    }
}

/// What emptying the trash deleted and what it kept.
pub fn trash_emptied(reply: &TrashEmptyReply) {
    for entry in &reply.removed {
        outln!("deleted {}", entry.id);
    }
    for kept in &reply.failed {
        outln!("kept {}: {}", kept.id, kept.reason);
    }
    if reply.removed.is_empty() && reply.failed.is_empty() {
        outln!("nothing to delete");
    }
}

/// A project `spawn` registered for the repository it runs in (on stderr: stdout is the
/// session).
pub fn project_registered(project: &ProjectView) {
    eprintln!(
        "registered project {} for {}",
        project.id, project.repo_path
    );
}

pub fn project_added(project: &ProjectView) {
    outln!("added project {} ({})", project.id, project.repo_path);
}

/// `project ls`.
pub fn projects(projects: &[ProjectView]) {
    if projects.is_empty() {
        outln!("no projects (add one with `aoctl project add NAME REPO_PATH`)");
    } else {
        let rows = projects
            .iter()
            .map(|p| {
                vec![
                    p.id.clone(),
                    p.repo_path.clone(),
                    p.default_agent.clone().unwrap_or_else(|| "-".into()),
                    p.base_branch.clone().unwrap_or_else(|| "-".into()),
                ]
            })
            .collect();
        table(&["NAME", "REPOSITORY", "AGENT", "BASE"], rows);
    }
}

pub fn project_removed(name: &str) {
    outln!("removed project {name}");
}

pub fn daemon_already_running(pong: &Pong) {
    outln!("aod already running (pid {}) on {}", pong.pid, pong.socket);
}

pub fn daemon_started(pid: u32, socket: &Path) {
    outln!("aod started (pid {pid}) on {}", socket.display());
}

pub fn daemon_not_running() {
    outln!("aod is not running");
}

pub fn daemon_stopped(pid: u32) {
    outln!("aod stopped (pid {pid}); sessions keep running");
}

/// `daemon status` of a running daemon.
pub fn daemon_status(pong: &Pong) {
    pairs(&[
        ("status", "running".into()),
        ("pid", pong.pid.to_string()),
        ("version", pong.version.clone()),
        ("socket", pong.socket.clone()),
        ("data dir", pong.data_dir.clone()),
        (
            "config",
            pong.config_file.clone().unwrap_or_else(|| "-".into()),
        ),
        ("since", pong.started_at.clone()),
    ]);
}

/// `config check` of a valid configuration: what it resolves to.
pub fn config_check(check: &ConfigCheck) {
    let file = check.config_file.display().to_string();
    let shown = |path: &Option<std::path::PathBuf>| {
        path.as_ref()
            .map_or_else(|| "-".to_owned(), |p| p.display().to_string())
    };
    pairs(&[
        (
            "config file",
            if check.config_file_found == Some(false) {
                format!("{file} (not found: every default applies)")
            } else {
                file
            },
        ),
        ("data dir", shown(&check.data_dir)),
        ("socket", shown(&check.socket)),
        ("status", "valid".into()),
    ]);
}

/// Doctor's checks, one row each.
pub fn doctor_checks(checks: &[Check]) {
    let rows = checks
        .iter()
        .map(|c| {
            vec![
                match (c.ok, c.warning) {
                    (false, _) => "FAIL",
                    (true, true) => "WARN",
                    (true, false) => "ok",
                }
                .to_owned(),
                c.name.clone(),
                c.detail.clone(),
            ]
        })
        .collect();
    table(&["", "CHECK", "DETAIL"], rows);
}
