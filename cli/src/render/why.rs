//! `aoctl why` for people: the status and what it means, each axis with what last changed it,
//! the metadata that explains it, then the last transitions, one line each. Times are UTC; ages
//! count back from the moment the daemon made the report. Everything the agent, the code host
//! or a user wrote passes through `strip_terminal_codes` first.

use std::fmt::Write as _;

use ao_core::domain::Timestamp;
use ao_core::why::span;
use ao_proto::{AxisChange, AxisEvidence, Transition, Why};

/// Prints the report.
pub fn why(report: &Why) {
    out!("{}", ao_core::text::strip_terminal_codes(&screen(report)));
}

/// `12:03:10`, with the date when it is not the report's day.
fn clock(t: Timestamp, today: Timestamp) -> String {
    let text = t.to_rfc3339();
    let (date, time) = text.split_once('T').unwrap_or(("", &text));
    let time = time.get(..8).unwrap_or(time);
    if today.to_rfc3339().starts_with(date) {
        time.to_owned()
    } else {
        format!("{date} {time}")
    }
}

fn value(state: &str, reason: &str) -> String {
    match (state, reason) {
        ("", _) => "-".to_owned(),
        (s, "") => s.to_owned(),
        (s, r) => format!("{s}/{r}"),
    }
}

fn axis_lines(out: &mut String, a: &AxisEvidence, at: Timestamp) {
    let _ = write!(out, "{:<9} {}", a.axis, value(&a.state, &a.reason));
    if let Some(detail) = &a.detail {
        let _ = write!(out, "  ({detail})");
    }
    out.push('\n');
    let since = match a.since {
        Some(t) => format!("since {} ({} ago)", clock(t, at), span(at.millis_since(t))),
        None => "since before the oldest change ao still has".to_owned(),
    };
    let by = match &a.changed_by {
        Some(cause) => format!("{}: {}", cause.observer, cause.signal),
        None if a.since.is_some() => "cause not recorded".to_owned(),
        None => "cause unknown".to_owned(),
    };
    let _ = writeln!(out, "          {since}, by {by}");
}

fn change(c: &AxisChange) -> String {
    match &c.from {
        Some(from) => format!("{} {from} -> {}", c.axis, c.to),
        None => format!("{} {}", c.axis, c.to),
    }
}

fn transition_line(out: &mut String, t: &Transition, at: Timestamp) {
    let changes: Vec<String> = t.changes.iter().map(change).collect();
    let _ = write!(
        out,
        "{}  {:<24} {}",
        clock(t.at, at),
        t.event,
        changes.join("; ")
    );
    match &t.cause {
        Some(cause) => {
            let _ = writeln!(out, "  ({}: {})", cause.observer, cause.signal);
        }
        None => out.push('\n'),
    }
}

/// The whole screen.
pub fn screen(report: &Why) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}: {}", report.id, report.status);
    let _ = writeln!(out, "{}\n", report.explanation);
    for axis in &report.axes {
        axis_lines(&mut out, axis, report.at);
    }
    if !report.metadata.is_empty() {
        out.push('\n');
        let width = report.metadata.iter().map(|m| m.label.len()).max();
        for m in &report.metadata {
            let _ = writeln!(
                out,
                "{:<width$}  {}",
                m.label,
                m.value,
                width = width.unwrap_or(0)
            );
        }
    }
    let _ = writeln!(
        out,
        "\nlast {} transition(s), times UTC{}:",
        report.transitions.len(),
        if report.history_complete {
            ""
        } else {
            "; older changes were pruned or not read"
        }
    );
    for t in &report.transitions {
        transition_line(&mut out, t, report.at);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ao_proto::{CauseView, MetadataEvidence};
    use serde_json::json;

    fn at(rfc3339: &str) -> Timestamp {
        Timestamp::parse_rfc3339(rfc3339).unwrap()
    }

    fn cause(observer: &str, signal: &str) -> Option<CauseView> {
        Some(CauseView {
            observer: observer.to_owned(),
            signal: signal.to_owned(),
            facts: json!({"observer": observer}),
        })
    }

    #[test]
    fn the_screen_reads_top_down() {
        let report = Why {
            id: "app-1".to_owned(),
            status: "stuck".to_owned(),
            explanation: "the pane is alive but the agent process is gone for 30s.".to_owned(),
            at: at("2026-05-26T12:02:20Z"),
            axes: vec![
                AxisEvidence {
                    axis: "session".to_owned(),
                    state: "stuck".to_owned(),
                    reason: "agent_process_exited".to_owned(),
                    detail: None,
                    since: Some(at("2026-05-26T12:01:50Z")),
                    changed_by: cause("reaper", "probe: the pane is alive but \u{1b}[31mgone"),
                },
                AxisEvidence {
                    axis: "activity".to_owned(),
                    state: String::new(),
                    reason: String::new(),
                    detail: None,
                    since: None,
                    changed_by: None,
                },
                AxisEvidence {
                    axis: "pr".to_owned(),
                    state: "none".to_owned(),
                    reason: "not_created".to_owned(),
                    detail: None,
                    since: Some(at("2026-05-25T23:00:00Z")),
                    changed_by: None,
                },
            ],
            metadata: vec![MetadataEvidence {
                key: "terminationDetail".to_owned(),
                label: "ended because".to_owned(),
                value: "spawn failed".to_owned(),
            }],
            transitions: vec![
                Transition {
                    seq: 1,
                    at: at("2026-05-26T12:00:00Z"),
                    event: "session_created".to_owned(),
                    changes: vec![AxisChange {
                        axis: "session".to_owned(),
                        from: None,
                        to: "not_started/spawn_requested".to_owned(),
                    }],
                    cause: cause("spawn", "spawn requested"),
                },
                Transition {
                    seq: 9,
                    at: at("2026-05-26T12:01:50Z"),
                    event: "session_state_changed".to_owned(),
                    changes: vec![
                        AxisChange {
                            axis: "session".to_owned(),
                            from: Some("detecting/agent_process_exited".to_owned()),
                            to: "stuck/agent_process_exited".to_owned(),
                        },
                        AxisChange {
                            axis: "quarantine".to_owned(),
                            from: Some("report 2".to_owned()),
                            to: "-".to_owned(),
                        },
                    ],
                    cause: None,
                },
            ],
            history_complete: false,
        };
        let expected = "\
app-1: stuck
the pane is alive but the agent process is gone for 30s.

session   stuck/agent_process_exited
          since 12:01:50 (30s ago), by reaper: probe: the pane is alive but \u{1b}[31mgone
activity  -
          since before the oldest change ao still has, by cause unknown
pr        none/not_created
          since 2026-05-25 23:00:00 (13h 2m ago), by cause not recorded

ended because  spawn failed

last 2 transition(s), times UTC; older changes were pruned or not read:
12:00:00  session_created          session not_started/spawn_requested  (spawn: spawn requested)
12:01:50  session_state_changed    session detecting/agent_process_exited -> stuck/agent_process_exited; quarantine report 2 -> -
";
        assert_eq!(screen(&report), expected);
        // What reaches the terminal has no escape sequences.
        let printed = ao_core::text::strip_terminal_codes(&screen(&report));
        assert!(!printed.contains('\u{1b}'));
        assert!(printed.contains("the pane is alive but gone"));
    }
}
