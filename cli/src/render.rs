//! Presentation: tables for people, one JSON document for machines. No colour is ever emitted,
//! so `NO_COLOR` and non-TTY output need no special handling.

use std::io::{IsTerminal, Write};

use ao_proto::SessionView;
use serde::Serialize;
use tabled::Table;
use tabled::settings::Style;

/// Prints one JSON document (pretty when stdout is a terminal).
pub fn json<T: Serialize>(value: &T) {
    let text = if std::io::stdout().is_terminal() {
        serde_json::to_string_pretty(value)
    } else {
        serde_json::to_string(value)
    };
    println!(
        "{}",
        text.unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    );
}

/// Prints rows under a header with blank separators.
pub fn table(header: &[&str], rows: Vec<Vec<String>>) {
    let mut builder = tabled::builder::Builder::default();
    builder.push_record(header.iter().map(|h| h.to_string()));
    for row in rows {
        builder.push_record(row);
    }
    let mut table: Table = builder.build();
    table.with(Style::blank());
    let mut out = std::io::stdout().lock();
    for line in table.to_string().lines() {
        let _ = writeln!(out, "{}", line.trim_end());
    }
}

/// Key/value pairs, one per line.
pub fn pairs(pairs: &[(&str, String)]) {
    let width = pairs.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let mut out = std::io::stdout().lock();
    for (key, value) in pairs {
        let _ = writeln!(out, "{key:<width$}  {value}");
    }
}

/// `5s`, `3m`, `2h`, `4d` since an RFC 3339 time (`-` when unknown).
pub fn age(since: Option<&str>) -> String {
    let Some(since) = since.and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok()) else {
        return "-".to_owned();
    };
    let secs = (chrono::Utc::now() - since.with_timezone(&chrono::Utc))
        .num_seconds()
        .max(0);
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86_400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

fn or_dash(value: Option<&str>) -> String {
    value.filter(|v| !v.is_empty()).unwrap_or("-").to_owned()
}

/// `#12 open` for a session's PR.
pub fn pr_cell(s: &SessionView) -> String {
    match &s.pr {
        Some(pr) => match pr.number {
            Some(n) => format!("#{n} {}", pr.state),
            None => pr.state.clone(),
        },
        None => "-".to_owned(),
    }
}

pub const SESSION_HEADER: [&str; 9] = [
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

pub fn session_row(s: &SessionView) -> Vec<String> {
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

/// Sessions as a table.
pub fn sessions(list: &[SessionView]) {
    table(&SESSION_HEADER, list.iter().map(session_row).collect());
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
        ("workspace", or_dash(s.workspace_path.as_deref())),
        ("tmux session", or_dash(s.runtime_handle.as_deref())),
        ("issue", or_dash(s.issue.as_deref())),
        (
            "created",
            format!("{} ({} ago)", s.created_at, age(Some(&s.created_at))),
        ),
        ("last activity", or_dash(s.last_activity_at.as_deref())),
        ("pr", pr_cell(s)),
    ];
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
    if let Some(detail) = &s.termination_detail {
        rows.push(("ended", detail.clone()));
    }
    pairs(&rows);
}

/// Removes terminal control sequences (CSI, OSC, other escapes) and carriage returns, for
/// output that is not going to a terminal.
pub fn strip_terminal_codes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => match chars.next() {
                Some('[') => {
                    // CSI: parameters and intermediates, then one final byte in @..~.
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                }
                Some(']') => {
                    // OSC: until BEL or ESC \.
                    while let Some(c) = chars.next() {
                        if c == '\u{7}' || (c == '\u{1b}' && chars.peek() == Some(&'\\')) {
                            if c == '\u{1b}' {
                                chars.next();
                            }
                            break;
                        }
                    }
                }
                _ => {}
            },
            '\r' => {}
            c if c.is_control() && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_escape_sequences() {
        let raw =
            "\u{1b}[1;31mred\u{1b}[0m \u{1b}]0;title\u{7}done\r\n\u{1b}]8;;x\u{1b}\\link\u{7}";
        assert_eq!(strip_terminal_codes(raw), "red done\nlink");
    }

    #[test]
    fn ages() {
        assert_eq!(age(None), "-");
        assert_eq!(age(Some("not a time")), "-");
        let old = (chrono::Utc::now() - chrono::Duration::hours(3)).to_rfc3339();
        assert_eq!(age(Some(&old)), "3h");
    }
}
