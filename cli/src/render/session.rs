//! Sessions as people read them: the session table, one session in detail, change-log lines, and
//! a pane's output stripped of terminal control sequences.

use ao_core::text::strip_terminal_codes;
use ao_proto::{EventView, SessionView, TurnErrorView};

use std::io::IsTerminal;

use super::{age, or_dash, pairs, table_text};

/// `#12 open` for a session's PR.
fn pr_cell(s: &SessionView) -> String {
    match &s.pr {
        Some(pr) => match pr.number {
            Some(n) => format!("#{n} {}", pr.state),
            None => pr.state.clone(),
        },
        None => "-".to_owned(),
    }
}

const SESSION_HEADER: [&str; 9] = [
    "ID",
    "PROJECT",
    "AGENT",
    "STATUS",
    "ACTIVITY",
    "PR",
    "BRANCH",
    "AGE",
    "LAST ACTIVITY",
];

fn session_row(s: &SessionView) -> Vec<String> {
    vec![
        s.id.clone(),
        s.project.clone(),
        s.agent.clone(),
        s.status.clone(),
        or_dash(s.activity.as_deref()),
        pr_cell(s),
        or_dash(s.branch.as_deref()),
        age(Some(&s.created_at)),
        age(s.last_activity_at.as_deref()),
    ]
}

/// The BRANCH column of [`SESSION_HEADER`].
const BRANCH_COLUMN: usize = 6;
/// A branch is never cut shorter than this to fit the terminal.
const BRANCH_MIN: usize = 12;

/// Sessions as a table. On a terminal, long branches are cut (with `…`) so the table fits its
/// width unless `wide`, and the STATUS column is coloured unless `NO_COLOR` is set.
pub fn sessions_table(list: &[SessionView], wide: bool) {
    let mut rows: Vec<Vec<String>> = list.iter().map(session_row).collect();
    let terminal = std::io::stdout().is_terminal();
    if terminal
        && !wide
        && let Some((terminal_size::Width(columns), _)) = terminal_size::terminal_size()
    {
        let width = table_text(&SESSION_HEADER, rows.clone())
            .lines()
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(0);
        let over = width.saturating_sub(usize::from(columns));
        let longest = rows
            .iter()
            .map(|r| r[BRANCH_COLUMN].chars().count())
            .max()
            .unwrap_or(0);
        if over > 0 {
            let keep = longest.saturating_sub(over).max(BRANCH_MIN);
            for row in &mut rows {
                row[BRANCH_COLUMN] = cut(&row[BRANCH_COLUMN], keep);
            }
        }
    }
    let text = table_text(&SESSION_HEADER, rows);
    let text = if terminal && colour_wanted() {
        colour_status_column(&text)
    } else {
        text
    };
    super::write_out(|out| out.write_all(text.as_bytes()));
}

/// Sessions as a table that fits the terminal.
pub fn sessions(list: &[SessionView]) {
    sessions_table(list, false);
}

/// `text` cut to `keep` characters, the last of them `…`.
fn cut(text: &str, keep: usize) -> String {
    if text.chars().count() <= keep {
        return text.to_owned();
    }
    let mut short: String = text.chars().take(keep.saturating_sub(1)).collect();
    short.push('…');
    short
}

/// Colour unless `NO_COLOR` is set (to anything but empty) or the terminal is `dumb`.
fn colour_wanted() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
}

/// The SGR colour of a status: red where a human is needed or something failed, yellow for
/// what may need a look, green for progress, cyan for a PR in review, dim for the ended.
fn status_colour(status: &str) -> Option<&'static str> {
    Some(match status {
        "errored" | "stuck" | "ci_failed" | "changes_requested" | "needs_input" => "31",
        "no_signal" | "detecting" => "33",
        "working" | "approved" | "mergeable" | "merged" | "done" => "32",
        "pr_open" | "draft" | "review_pending" => "36",
        "killed" | "terminated" | "cleanup" => "2",
        _ => return None,
    })
}

/// The laid-out table with each STATUS cell coloured (after layout, so widths are unchanged).
fn colour_status_column(text: &str) -> String {
    let mut lines = text.lines();
    let Some(header) = lines.next() else {
        return String::new();
    };
    let Some(at) = header.find("STATUS") else {
        return text.to_owned();
    };
    let at = header[..at].chars().count();
    let mut out = format!("{header}\n");
    for line in lines {
        let head: String = line.chars().take(at).collect();
        let rest: String = line.chars().skip(at).collect();
        let word_end = rest.find(' ').unwrap_or(rest.len());
        let (word, tail) = rest.split_at(word_end);
        match status_colour(word) {
            Some(sgr) => out.push_str(&format!("{head}\u{1b}[{sgr}m{word}\u{1b}[0m{tail}\n")),
            None => out.push_str(&format!("{line}\n")),
        }
    }
    out
}

/// One session as a one-row table.
pub fn session(s: &SessionView) {
    sessions(std::slice::from_ref(s));
}

/// `aoctl ls`: the table, or a line saying there is none (and that `--all` shows ended ones
/// when it was not given).
pub fn session_list(list: &[SessionView], all: bool, wide: bool) {
    if list.is_empty() {
        outln!(
            "no sessions{}",
            if all { "" } else { " (--all shows ended ones)" }
        );
    } else {
        sessions_table(list, wide);
    }
}

/// Clears the terminal before `ls --watch` redraws.
pub fn clear_screen() {
    out!("\u{1b}[2J\u{1b}[H");
}

/// One session in detail.
pub fn session_detail(s: &SessionView) {
    let mut rows = vec![
        ("id", s.id.clone()),
        ("project", s.project.clone()),
        ("agent", s.agent.clone()),
        ("status", s.status.clone()),
        ("activity", or_dash(s.activity.as_deref())),
        (
            "session",
            format!("{}/{}", s.session_state, or_dash(Some(&s.session_reason))),
        ),
        ("runtime", s.runtime_state.clone()),
        ("branch", or_dash(s.branch.as_deref())),
        ("workspace", workspace_cell(s.workspace_path.as_deref())),
        ("tmux session", or_dash(s.runtime_handle.as_deref())),
        ("issue", or_dash(s.issue.as_deref())),
        (
            "created",
            format!("{} ({} ago)", s.created_at, age(Some(&s.created_at))),
        ),
        ("last activity", or_dash(s.last_activity_at.as_deref())),
    ];
    if let Some(error) = &s.last_turn_error {
        rows.push(("last turn error", turn_error_cell(error)));
    }
    if let Some(parent) = &s.parent {
        rows.push(("spawned by", parent.clone()));
    }
    rows.push(("pr", pr_cell(s)));
    if let Some(pr) = &s.pr {
        rows.push(("pr url", or_dash(pr.url.as_deref())));
    }
    if let Some(scm) = &s.scm {
        rows.push(("ci", scm.ci.clone()));
        if !scm.failed_checks.is_empty() {
            rows.push(("failed checks", scm.failed_checks.join(", ")));
        }
        rows.push(("review", scm.review.clone()));
        rows.push(("mergeable", scm.mergeable.to_string()));
        if !scm.blockers.is_empty() {
            rows.push(("blockers", scm.blockers.join(", ")));
        }
        rows.push(("open comments", scm.pending_comments.to_string()));
    }
    match (&s.ended_at, &s.termination_detail) {
        (Some(at), detail) => {
            let mut cell = format!("{at} ({} ago)", age(Some(at)));
            if let Some(detail) = detail {
                cell.push_str(": ");
                cell.push_str(detail);
            }
            rows.push(("ended", cell));
        }
        (None, Some(detail)) => rows.push(("ended", detail.clone())),
        (None, None) => {}
    }
    if let Some(code) = s.exit_code {
        rows.push(("exit code", code.to_string()));
    }
    if let Some(at) = &s.exited_at {
        rows.push(("exited", format!("{at} ({} ago)", age(Some(at)))));
    }
    pairs(&rows);
    if !s.exit_output.is_empty() {
        outln!("last output:");
        for line in &s.exit_output {
            outln!("  {}", strip_terminal_codes(line));
        }
    }
}

/// The worktree path, marked when nothing is there any more (moved to the trash, removed).
fn workspace_cell(path: Option<&str>) -> String {
    match path {
        Some(path) if !std::path::Path::new(path).exists() => {
            format!("{path} (no longer there)")
        }
        other => or_dash(other),
    }
}

/// `<kind>: <message>`, or the kind alone.
fn turn_error_cell(error: &TurnErrorView) -> String {
    if error.message.is_empty() {
        error.kind.clone()
    } else {
        format!("{}: {}", error.kind, error.message)
    }
}

/// The header above change-log rows.
pub fn events_header() {
    outln!(
        "{:>6}  {:<24}  {:<12} {:<26} STATES",
        "SEQ",
        "TIME",
        "SESSION",
        "EVENT"
    );
}

/// The line above each `ls --watch` redraw: the time of the listing.
pub fn watch_stamp() {
    outln!(
        "{} (every 2s; Ctrl-C stops)",
        chrono::Local::now().format("%Y-%m-%d %H:%M:%S")
    );
}

/// One change-log row: a JSON object, or a line with the state of each lifecycle axis.
pub fn event(e: &EventView, json: bool) {
    if json {
        outln!("{}", serde_json::to_string(e).unwrap_or_default());
        return;
    }
    let state = |axis: &str| {
        e.payload["record"]["lifecycle"][axis]["state"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    };
    outln!(
        "{:>6}  {}  {:<12} {:<26} session={} pr={} runtime={}",
        e.seq,
        e.created_at,
        e.session_id,
        e.event_type,
        state("session"),
        state("pr"),
        state("runtime")
    );
}

/// The change log no longer holds the events asked for.
pub fn events_pruned() {
    eprintln!("aoctl: events before the oldest kept one were pruned");
}

/// Pane output, stripped of terminal control sequences (a TUI's redraws would scramble the
/// reader's terminal). Returns whether what it printed leaves a line open (`None` when it
/// printed nothing).
pub fn output(text: &str) -> Option<bool> {
    let clean = strip_terminal_codes(text);
    if clean.is_empty() {
        return None;
    }
    super::write_out(|out| out.write_all(clean.as_bytes()));
    Some(!clean.ends_with('\n'))
}

/// Ends the line pane output left open.
pub fn end_line() {
    outln!();
}

/// Output was trimmed from the log before `tail` read it.
pub fn output_trimmed(bytes: u64) {
    eprintln!("aoctl: [{bytes} bytes of older output were trimmed]");
}
