//! The refs that decide how a new branch is made, read with ONE `git for-each-ref`: whether the
//! branch exists locally, where origin's HEAD points, and which base-ref candidates exist (first
//! existing candidate wins). One process instead of a `rev-parse` per candidate keeps a spawn's
//! process count down; the candidate order and the resolution rules stay git's.

use std::collections::HashMap;

/// `%(refname)<TAB>%(symref)` per line: refnames cannot contain a tab.
pub(super) const FORMAT: &str = "--format=%(refname)%09%(symref)";

/// The patterns to list for `branch` (and a configured default branch `D`): every local and
/// remote-tracking branch, plus the tag and top-level names `rev-parse` would try.
pub(super) fn patterns(branch: &str, configured: Option<&str>) -> Vec<String> {
    let mut patterns = vec![
        "refs/heads/".to_owned(),
        "refs/remotes/".to_owned(),
        format!("refs/tags/{branch}"),
        format!("refs/{branch}"),
    ];
    if let Some(default) = configured.filter(|d| !d.is_empty()) {
        patterns.push(format!("refs/tags/{default}"));
        patterns.push(format!("refs/{default}"));
    }
    patterns
}

/// The listed refs (refname → symbolic-ref target, if any).
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct RefSnapshot {
    refs: HashMap<String, Option<String>>,
}

impl RefSnapshot {
    pub(super) fn parse(text: &str) -> Self {
        let refs = text
            .lines()
            .filter_map(|line| {
                let (name, symref) = line.split_once('\t').unwrap_or((line, ""));
                let name = name.trim_end_matches('\r');
                (!name.is_empty()).then(|| {
                    let symref = symref.trim_end_matches('\r');
                    (
                        name.to_owned(),
                        (!symref.is_empty()).then(|| symref.to_owned()),
                    )
                })
            })
            .collect();
        Self { refs }
    }

    fn has(&self, refname: &str) -> bool {
        self.refs.contains_key(refname)
    }

    /// Whether `refs/heads/<branch>` exists.
    pub(super) fn local_branch(&self, branch: &str) -> bool {
        self.has(&format!("refs/heads/{branch}"))
    }

    /// The branch origin's HEAD points at (`main` for `refs/remotes/origin/main`).
    pub(super) fn origin_head(&self) -> Option<String> {
        self.refs
            .get("refs/remotes/origin/HEAD")?
            .as_deref()?
            .strip_prefix("refs/remotes/origin/")
            .filter(|b| !b.is_empty())
            .map(str::to_owned)
    }

    /// Whether `rev` names an existing ref, by `git rev-parse`'s rules for a ref name: a full
    /// `refs/…` name as is; otherwise `refs/<rev>`, `refs/tags/<rev>`, `refs/heads/<rev>`,
    /// `refs/remotes/<rev>`, `refs/remotes/<rev>/HEAD`.
    pub(super) fn resolves(&self, rev: &str) -> bool {
        if rev.starts_with("refs/") && self.has(rev) {
            return true;
        }
        [
            format!("refs/{rev}"),
            format!("refs/tags/{rev}"),
            format!("refs/heads/{rev}"),
            format!("refs/remotes/{rev}"),
            format!("refs/remotes/{rev}/HEAD"),
        ]
        .iter()
        .any(|name| self.has(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LISTING: &str = "refs/heads/main\t\n\
                           refs/heads/feature/local\t\n\
                           refs/remotes/origin/HEAD\trefs/remotes/origin/main\n\
                           refs/remotes/origin/main\t\n\
                           refs/remotes/origin/feature/test\t\n\
                           refs/remotes/mirror/main\t\n\
                           refs/tags/v1\t\n";

    #[test]
    fn answers_existence_origin_head_and_resolution() {
        let refs = RefSnapshot::parse(LISTING);
        assert!(refs.local_branch("main") && refs.local_branch("feature/local"));
        assert!(!refs.local_branch("feature/test"));
        assert_eq!(refs.origin_head().as_deref(), Some("main"));
        for rev in [
            "origin/feature/test",
            "origin/main",
            "refs/heads/main",
            "mirror/main",
            "v1",
            "refs/tags/v1",
            "origin",
        ] {
            assert!(refs.resolves(rev), "{rev}");
        }
        for rev in [
            "origin/nope",
            "refs/heads/nope",
            "feature/test",
            "refs/tags/v2",
        ] {
            assert!(!refs.resolves(rev), "{rev}");
        }
    }

    #[test]
    fn no_origin_head_and_odd_lines() {
        let refs = RefSnapshot::parse("refs/heads/main\r\n\nrefs/remotes/origin/HEAD\t\n");
        assert!(refs.local_branch("main"));
        assert_eq!(refs.origin_head(), None, "not a symbolic ref");
        assert_eq!(RefSnapshot::parse(""), RefSnapshot::default());
    }

    #[test]
    fn patterns_cover_the_candidates() {
        assert_eq!(
            patterns("feature/test", Some("mirror/main")),
            [
                "refs/heads/",
                "refs/remotes/",
                "refs/tags/feature/test",
                "refs/feature/test",
                "refs/tags/mirror/main",
                "refs/mirror/main"
            ]
        );
        assert_eq!(patterns("b", None).len(), 4);
    }
}
