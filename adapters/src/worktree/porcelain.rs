//! Parser for `git worktree list --porcelain`.
//!
//! Records are separated by blank lines and start with `worktree <path>`; the attribute lines
//! that matter to ao are `HEAD`, `branch` and the flags `bare`, `detached`, `locked` and
//! `prunable` (the last two with an optional reason). Unknown lines are ignored so that newer
//! git versions keep parsing.

use std::path::PathBuf;

/// One registered worktree.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WorktreeRecord {
    pub path: PathBuf,
    /// The checked-out commit; `None` for a bare repository.
    pub head: Option<String>,
    /// The branch name with `refs/heads/` stripped; `None` when detached or bare.
    pub branch: Option<String>,
    pub bare: bool,
    pub detached: bool,
    /// `Some(reason)` when locked; the reason is empty when none was given.
    pub locked: Option<String>,
    /// `Some(reason)` when git considers the registration prunable.
    pub prunable: Option<String>,
}

/// Parses the whole output; records without a `worktree` line are dropped.
pub fn parse_worktree_list(text: &str) -> Vec<WorktreeRecord> {
    let mut records = vec![];
    let mut current: Option<WorktreeRecord> = None;
    for raw in text.split('\n') {
        let line = raw.replace('\r', "");
        if line.is_empty() {
            records.extend(current.take());
            continue;
        }
        let (key, value) = match line.split_once(' ') {
            Some((key, value)) => (key, Some(value)),
            None => (line.as_str(), None),
        };
        if key == "worktree" {
            records.extend(current.take());
            current = Some(WorktreeRecord {
                path: PathBuf::from(value.unwrap_or_default()),
                ..WorktreeRecord::default()
            });
            continue;
        }
        // Attribute lines outside a record belong to no path and are dropped with it.
        let Some(record) = current.as_mut() else {
            continue;
        };
        match (key, value) {
            ("HEAD", Some(sha)) => record.head = Some(sha.to_owned()),
            ("branch", Some(name)) => {
                record.branch = Some(name.strip_prefix("refs/heads/").unwrap_or(name).to_owned());
            }
            ("bare", _) => record.bare = true,
            ("detached", _) => record.detached = true,
            ("locked", reason) => record.locked = Some(reason.unwrap_or_default().to_owned()),
            ("prunable", reason) => record.prunable = Some(reason.unwrap_or_default().to_owned()),
            _ => {}
        }
    }
    records.extend(current);
    records.retain(|r| !r.path.as_os_str().is_empty());
    records
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_main_branch_detached_and_bare_records() {
        // P4.
        let text = "worktree /repo\r\nHEAD 1111111111111111111111111111111111111111\r\nbranch refs/heads/main\r\n\r\n\
                    worktree /wt/proj/s1\nHEAD 2222222222222222222222222222222222222222\nbranch refs/heads/feature/test\nlocked\n\n\
                    worktree /wt/proj/s2\nHEAD 3333333333333333333333333333333333333333\ndetached\nprunable gitdir file points to non-existent location\n\n\
                    worktree /srv/bare.git\nbare\n";
        let records = parse_worktree_list(text);
        assert_eq!(
            records,
            vec![
                WorktreeRecord {
                    path: "/repo".into(),
                    head: Some("1".repeat(40)),
                    branch: Some("main".into()),
                    ..Default::default()
                },
                WorktreeRecord {
                    path: "/wt/proj/s1".into(),
                    head: Some("2".repeat(40)),
                    branch: Some("feature/test".into()),
                    locked: Some(String::new()),
                    ..Default::default()
                },
                WorktreeRecord {
                    path: "/wt/proj/s2".into(),
                    head: Some("3".repeat(40)),
                    detached: true,
                    prunable: Some("gitdir file points to non-existent location".into()),
                    ..Default::default()
                },
                WorktreeRecord {
                    path: "/srv/bare.git".into(),
                    bare: true,
                    ..Default::default()
                },
            ]
        );
    }

    #[test]
    fn keeps_lock_reasons_and_drops_pathless_records() {
        let text = "HEAD 1234\nbranch refs/heads/orphan\n\nworktree /a\nlocked because of a reason\nworktree /b\n\n\n";
        let records = parse_worktree_list(text);
        assert_eq!(records.len(), 2, "{records:?}");
        assert_eq!(records[0].locked.as_deref(), Some("because of a reason"));
        assert_eq!(records[1].path, PathBuf::from("/b"));
        assert!(parse_worktree_list("").is_empty());
        assert!(parse_worktree_list("worktree\n").is_empty());
    }
}
