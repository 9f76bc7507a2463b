//! The batched probe: one `list-panes -a` listing for every session, turned into two separate facts
//! per session (does the pane exist; is the agent alive under it), or, when the whole server is
//! gone, that one fact for every session.
//!
//! Pure apart from the process probe, which the caller passes in, so the table of outcomes is
//! tested without tmux or `/proc`.

use std::collections::HashMap;

use ao::ports::{PaneInfo, PaneProbe, ProbeTarget};
use ao_core::domain::ProbeResult;

/// The listing format: one argv element; `|` is a literal separator.
pub const LIST_FORMAT: &str =
    "#{session_name}|#{pane_id}|#{pane_pid}|#{pane_dead}|#{pane_dead_status}";

/// Parses one listing line; `None` for a malformed line.
pub fn parse_row(line: &str) -> Option<PaneInfo> {
    let fields: Vec<&str> = line.split('|').collect();
    let [session, pane, pid, dead, status] = fields.as_slice() else {
        return None;
    };
    if session.is_empty() || pane.is_empty() {
        return None;
    }
    let dead = match *dead {
        "0" => false,
        "1" => true,
        _ => return None,
    };
    Some(PaneInfo {
        session_name: (*session).to_owned(),
        pane_id: (*pane).to_owned(),
        pane_pid: pid.parse().ok(),
        dead,
        dead_status: status.parse().ok(),
    })
}

/// Parses the whole listing, logging and skipping malformed lines.
pub fn parse_listing(text: &str) -> Vec<PaneInfo> {
    text.lines()
        .filter(|line| !line.is_empty())
        .filter_map(|line| {
            let row = parse_row(line);
            if row.is_none() {
                tracing::warn!(line, "tmux list-panes: ignoring malformed line");
            }
            row
        })
        .collect()
}

/// The facts for a target when the listing itself failed: never `dead`.
pub const FAILED: PaneProbe = PaneProbe {
    runtime: ProbeResult::Failed,
    process: ProbeResult::Failed,
    pane_exit_status: None,
    agent_exit: None,
    server_gone: false,
};

/// The facts for every target when the server itself is gone: the pane is gone with it; the
/// agent process was not probed (there is no pane pid to start from).
pub const SERVER_GONE: PaneProbe = PaneProbe {
    runtime: ProbeResult::Dead,
    process: ProbeResult::Indeterminate,
    pane_exit_status: None,
    agent_exit: None,
    server_gone: true,
};

const GONE: PaneProbe = PaneProbe {
    runtime: ProbeResult::Dead,
    process: ProbeResult::Dead,
    pane_exit_status: None,
    agent_exit: None,
    server_gone: false,
};

/// The agent pane of a target: the row with the recorded pane id, else the session's first
/// row (a user may have split the window). A recorded pane id with no row means the agent pane
/// is gone, even if other panes remain.
pub fn agent_pane<'a>(rows: &[&'a PaneInfo], target: &ProbeTarget) -> Option<&'a PaneInfo> {
    match &target.pane_id {
        Some(pane_id) => rows.iter().copied().find(|row| &row.pane_id == pane_id),
        None => rows.first().copied(),
    }
}

/// Facts for every target (same order) from one successful listing; `process` answers the
/// process probe for a live agent pane's pid.
pub fn combine(
    targets: &[ProbeTarget],
    rows: &[PaneInfo],
    mut process: impl FnMut(Option<u32>) -> ProbeResult,
) -> Vec<PaneProbe> {
    let mut by_session: HashMap<&str, Vec<&PaneInfo>> = HashMap::new();
    for row in rows {
        by_session
            .entry(row.session_name.as_str())
            .or_default()
            .push(row);
    }
    targets
        .iter()
        .map(|target| {
            let rows = by_session
                .get(target.handle_id.as_str())
                .map(Vec::as_slice)
                .unwrap_or_default();
            match agent_pane(rows, target) {
                None => GONE,
                Some(row) if row.dead => PaneProbe {
                    pane_exit_status: row.dead_status,
                    agent_exit: None,
                    ..GONE
                },
                Some(row) => PaneProbe {
                    runtime: ProbeResult::Alive,
                    process: process(row.pane_pid),
                    pane_exit_status: None,
                    agent_exit: None,
                    server_gone: false,
                },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(id: &str, pane: Option<&str>) -> ProbeTarget {
        ProbeTarget {
            handle_id: id.to_owned(),
            pane_id: pane.map(str::to_owned),
        }
    }

    fn probe(runtime: ProbeResult, process: ProbeResult, status: Option<i32>) -> PaneProbe {
        PaneProbe {
            runtime,
            process,
            pane_exit_status: status,
            agent_exit: None,
            server_gone: false,
        }
    }

    use ProbeResult::{Alive, Dead, Failed};

    #[test]
    fn v2_listing_to_facts() {
        let rows = parse_listing("proj-1|%1|4242|0|\nproj-2|%2|4243|1|3\n");
        let targets = [
            target("proj-1", Some("%1")),
            target("proj-2", Some("%2")),
            target("proj-3", Some("%3")),
        ];
        let mut asked = vec![];
        let facts = combine(&targets, &rows, |pid| {
            asked.push(pid);
            Alive
        });
        assert_eq!(
            facts,
            vec![
                probe(Alive, Alive, None),
                probe(Dead, Dead, Some(3)),
                probe(Dead, Dead, None),
            ]
        );
        assert_eq!(asked, vec![Some(4242)], "only live agent panes reach /proc");
    }

    #[test]
    fn v6_malformed_lines_are_ignored() {
        let rows = parse_listing(
            "garbage\nproj-1|%1|4242|0|\na|b|c\nproj-2|%2|1|maybe|\nx|%9|1|0||extra\n|%3|1|0|\n",
        );
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].session_name, "proj-1");
        assert_eq!(rows[0].pane_pid, Some(4242));
        assert_eq!(rows[0].dead_status, None);
    }

    #[test]
    fn unparsable_pid_is_kept_for_the_process_probe() {
        let rows = parse_listing("s|%1|x|0|\n");
        assert_eq!(rows[0].pane_pid, None);
        let facts = combine(&[target("s", None)], &rows, |pid| {
            if pid.is_none() { Failed } else { Alive }
        });
        assert_eq!(facts, vec![probe(Alive, Failed, None)]);
    }

    #[test]
    fn agent_pane_selection() {
        let rows = parse_listing("s|%4|10|0|\ns|%5|11|0|\nt|%6|12|1|0\n");
        let mut seen = vec![];
        let facts = combine(
            &[
                target("s", Some("%5")),
                target("s", None),
                target("s", Some("%9")),
                target("t", None),
            ],
            &rows,
            |pid| {
                seen.push(pid);
                Alive
            },
        );
        assert_eq!(seen, vec![Some(11), Some(10)]);
        assert_eq!(facts[2], probe(Dead, Dead, None), "recorded pane gone");
        assert_eq!(facts[3], probe(Dead, Dead, Some(0)));
    }

    #[test]
    fn v10_no_prefix_match() {
        let rows = parse_listing("ao_exact_target_long|%1|10|0|\n");
        let facts = combine(&[target("ao_exact_target", None)], &rows, |_| Alive);
        assert_eq!(facts, vec![probe(Dead, Dead, None)]);
    }
}
