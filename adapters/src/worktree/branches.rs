//! Repository checks for `project add` and spawn (the repository exists, has a commit, has the
//! base branch) and pruning of `ao/*` branches whose work is all on the base branch.
//!
//! Pruning never loses a commit: a branch is deleted only when its tip is an ancestor of (or
//! equal to) the base, only when no worktree (the trash's included) has it checked out, and with
//! `update-ref -d <ref> <old tip>`, so a branch that moved meanwhile is left alone.

use std::path::Path;

use ao::ports::{BranchPrune, WorkspaceError};

use super::GitWorktree;
use super::git::failure;

/// The namespace of the branches ao names (`ao/<session>`).
const AO_BRANCHES: &str = "refs/heads/ao/";

impl GitWorktree {
    /// `RepoMissing` when the repository directory is gone (git's own error would only say it
    /// cannot change into it).
    pub(super) fn ensure_repo_exists(repo: &Path) -> Result<(), WorkspaceError> {
        if repo.is_dir() {
            Ok(())
        } else {
            Err(WorkspaceError::RepoMissing(repo.display().to_string()))
        }
    }

    /// Whether any commit exists: HEAD resolves, or some branch, remote-tracking branch or tag
    /// does (HEAD may be an unborn branch in a repository that has others).
    pub(super) async fn has_commits(&self, repo: &Path) -> Result<bool, WorkspaceError> {
        if self.git.resolve(repo, "HEAD^{commit}").await?.is_some() {
            return Ok(true);
        }
        let spec = self.git.at(repo).args([
            "for-each-ref",
            "--count=1",
            "--format=%(objectname)",
            "refs/heads/",
            "refs/remotes/",
            "refs/tags/",
        ]);
        Ok(!self.git.ok(&spec).await?.trim().is_empty())
    }

    /// The existing refs a branch of base `base` may be merged into: `base` itself when it has
    /// a `/`, else the local branch and origin's.
    async fn base_refs(&self, repo: &Path, base: &str) -> Result<Vec<String>, WorkspaceError> {
        let candidates = if base.contains('/') {
            vec![base.to_owned()]
        } else {
            vec![
                format!("refs/heads/{base}"),
                format!("refs/remotes/origin/{base}"),
            ]
        };
        let mut found = Vec::new();
        for candidate in candidates {
            if let Some(oid) = self
                .git
                .resolve(repo, &format!("{candidate}^{{commit}}"))
                .await?
            {
                found.push(oid);
            }
        }
        Ok(found)
    }

    /// Why no base ref was found for a new branch: no repository, no commit at all, or a
    /// missing base branch.
    pub(super) async fn diagnose_missing_base(&self, repo: &Path, base: &str) -> WorkspaceError {
        if let Err(e) = Self::ensure_repo_exists(repo) {
            return e;
        }
        match self.has_commits(repo).await {
            Ok(false) => WorkspaceError::NoCommits(repo.display().to_string()),
            Ok(true) => WorkspaceError::BaseNotFound(base.to_owned()),
            Err(e) => e,
        }
    }

    pub(super) async fn check_base_impl(
        &self,
        repo: &Path,
        base: Option<&str>,
    ) -> Result<(), WorkspaceError> {
        Self::ensure_repo_exists(repo)?;
        if !self.has_commits(repo).await? {
            return Err(WorkspaceError::NoCommits(repo.display().to_string()));
        }
        if let Some(base) = base
            && self.base_refs(repo, base).await?.is_empty()
        {
            return Err(WorkspaceError::BaseNotFound(base.to_owned()));
        }
        Ok(())
    }

    pub(super) async fn prune_branches_impl(
        &self,
        repo: &Path,
        configured: Option<&str>,
        dry_run: bool,
    ) -> Result<BranchPrune, WorkspaceError> {
        Self::ensure_repo_exists(repo)?;
        let snapshot = self.ref_snapshot(repo, "ao", configured).await?;
        let base = self.default_branch(repo, &snapshot, configured).await?;
        let bases = self.base_refs(repo, &base).await?;
        if bases.is_empty() {
            return Err(self.diagnose_missing_base(repo, &base).await);
        }
        let checked_out: Vec<(String, String)> = self
            .list_registered(repo)
            .await?
            .into_iter()
            .filter_map(|w| Some((w.branch?, w.path.display().to_string())))
            .collect();
        let list = self.git.at(repo).args([
            "for-each-ref",
            "--format=%(refname)%09%(objectname)",
            AO_BRANCHES,
        ]);
        let mut prune = BranchPrune {
            base: base.clone(),
            ..BranchPrune::default()
        };
        for line in self.git.ok(&list).await?.lines() {
            let Some((refname, tip)) = line.split_once('\t') else {
                continue;
            };
            let branch = refname.trim_start_matches("refs/heads/").to_owned();
            if let Some((_, path)) = checked_out.iter().find(|(b, _)| *b == branch) {
                let why = if Path::new(path).starts_with(self.trash_dir()) {
                    format!(
                        "checked out in a worktree in the trash at {path} (`aoctl trash empty` \
                         releases it)"
                    )
                } else {
                    format!("checked out in the worktree at {path}")
                };
                prune.kept.push((branch, why));
                continue;
            }
            let mut merged = false;
            for base_tip in &bases {
                if self.is_ancestor(repo, tip, base_tip).await? {
                    merged = true;
                    break;
                }
            }
            if !merged {
                prune
                    .kept
                    .push((branch, format!("has commits that are not on {base}")));
                continue;
            }
            if !dry_run {
                let delete = self.git.at(repo).args(["update-ref", "-d", refname, tip]);
                let out = self.git.output(&delete).await?;
                if !out.success() {
                    let why = failure(&delete, &out);
                    prune.kept.push((branch, format!("not deleted: {why}")));
                    continue;
                }
            }
            prune.deleted.push(branch);
        }
        Ok(prune)
    }

    /// `git merge-base --is-ancestor <commit> <base>`: exit 0 yes, 1 no, anything else an error.
    async fn is_ancestor(
        &self,
        repo: &Path,
        commit: &str,
        base: &str,
    ) -> Result<bool, WorkspaceError> {
        let spec = self
            .git
            .at(repo)
            .args(["merge-base", "--is-ancestor", commit, base]);
        let out = self.git.output(&spec).await?;
        match out.code {
            Some(0) => Ok(true),
            Some(1) => Ok(false),
            _ => Err(failure(&spec, &out)),
        }
    }
}
