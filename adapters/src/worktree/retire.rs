//! Retiring a worktree when its session ends: nothing it holds is lost.
//!
//! In order: a HEAD that no branch or tag contains is pinned by `refs/ao/detached/<session>`;
//! with `Preserve`, uncommitted work is stashed into `refs/ao/preserved/<session>`; the
//! directory moves into the trash. For a spawn that failed or was interrupted (`Discard`), the
//! branch ao named for it, `ao/<session>`, is deleted when every commit on it is on another
//! branch or tag too (it never moved past its base), so failed spawns leave no branches behind
//! and no commit becomes unreachable; a session's branch is deleted in no other case.

use std::path::Path;

use super::trash::{Departing, TrashNotes};
use super::{GitWorktree, WorktreeRecord, find_registration, io_error, validate_component};
use ao::ports::{RetireMode, Retired, WorkspaceError, WorkspaceInfo};
use ao_core::domain::{SessionId, Timestamp};

/// Every pinned detached HEAD lives under this prefix.
pub const DETACHED_PREFIX: &str = "refs/ao/detached/";
/// `refs/ao/detached/<session>`, then `….2`, `….3` when an earlier pin holds another commit
/// (a session id never contains a dot, so these never name another session's ref).
fn detached_ref_name(session: &SessionId, n: u32) -> String {
    if n == 1 {
        format!("{DETACHED_PREFIX}{session}")
    } else {
        format!("{DETACHED_PREFIX}{session}.{n}")
    }
}

impl GitWorktree {
    pub(super) async fn retire_worktree(
        &self,
        info: &WorkspaceInfo,
        mode: RetireMode,
        now: Timestamp,
    ) -> Result<Retired, WorkspaceError> {
        validate_component("project id", info.project_id.as_str())?;
        let (repo, path) = (info.repo.as_path(), info.path.as_path());
        self.root.check(path)?;
        let on_disk = match tokio::fs::symlink_metadata(path).await {
            Ok(_) => true,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
            Err(e) => return Err(io_error("inspecting", path, &e)),
        };
        let records = self.list_registered(repo).await?;
        let Some(registration) = find_registration(&records, path).cloned() else {
            // A spawn cut short inside `git worktree add` can leave its new branch and no
            // worktree at all.
            let deleted_branch = match mode {
                RetireMode::Discard => self.drop_orphan_branch(info, &records).await,
                RetireMode::KeepDirty | RetireMode::Preserve => None,
            };
            if !on_disk {
                return Ok(Retired {
                    deleted_branch,
                    ..Retired::default()
                });
            }
            // A directory git does not know: moved as plain files.
            let departing = Departing {
                session: &info.session_id,
                project: &info.project_id,
                repo,
                path,
                registration: None,
            };
            let entry = self
                .move_into_trash(departing, TrashNotes::default(), now)
                .await?;
            return Ok(Retired {
                trash: Some(entry),
                deleted_branch,
                ..Retired::default()
            });
        };
        if registration.locked.is_some() {
            return Err(WorkspaceError::Locked);
        }
        let detached_ref = self.pin_detached_head(repo, info, &registration).await?;
        if !on_disk {
            // Registered but gone from disk: only its commits needed keeping.
            return Ok(Retired {
                detached_ref,
                ..Retired::default()
            });
        }
        if mode == RetireMode::KeepDirty {
            let paths = self.dirty_paths(path).await?;
            if !paths.is_empty() {
                return Err(WorkspaceError::Dirty { paths });
            }
        }
        let stashed = match mode {
            RetireMode::Preserve => self.stash_registered(info).await?,
            RetireMode::KeepDirty | RetireMode::Discard => Default::default(),
        };
        let mut departing_registration = registration;
        let deleted_branch = match mode {
            RetireMode::Discard => {
                let deleted = self.drop_unused_branch(info, &departing_registration).await;
                if deleted.is_some() {
                    departing_registration.branch = None;
                    departing_registration.detached = true;
                }
                deleted
            }
            RetireMode::KeepDirty | RetireMode::Preserve => None,
        };
        let departing = Departing {
            session: &info.session_id,
            project: &info.project_id,
            repo,
            path,
            registration: Some(&departing_registration),
        };
        let notes = TrashNotes {
            detached_ref: detached_ref.clone(),
            preserved: stashed.preserved.clone(),
            nested_repos: stashed.nested_repos.clone(),
        };
        let entry = self.move_into_trash(departing, notes, now).await?;
        Ok(Retired {
            trash: Some(entry),
            detached_ref,
            preserved_ref: stashed.preserved.map(|(reference, _)| reference),
            nested_repos: stashed.nested_repos,
            deleted_branch,
        })
    }

    /// Whether `git status` shows tracked changes or untracked files (ignored files do not
    /// count: they go to the trash with the rest).
    /// The paths `git status --porcelain` lists (changed, added, untracked); empty when clean.
    async fn dirty_paths(&self, path: &Path) -> Result<Vec<String>, WorkspaceError> {
        let status = self.git.at(path).args(["status", "--porcelain"]);
        Ok(self
            .git
            .ok(&status)
            .await?
            .lines()
            .filter_map(|line| line.get(3..))
            .map(str::to_owned)
            .collect())
    }

    /// Pins a detached HEAD that no branch or tag contains, so its commits stay reachable.
    async fn pin_detached_head(
        &self,
        repo: &Path,
        info: &WorkspaceInfo,
        registration: &WorktreeRecord,
    ) -> Result<Option<String>, WorkspaceError> {
        let Some(head) = registration
            .head
            .as_deref()
            .filter(|_| registration.detached)
        else {
            return Ok(None);
        };
        let contains = self.git.at(repo).args([
            "for-each-ref",
            "--count=1",
            "--format=%(refname)",
            "--contains",
            head,
            "refs/heads/",
            "refs/tags/",
        ]);
        if !self.git.ok(&contains).await?.trim().is_empty() {
            return Ok(None);
        }
        for n in 1..=100 {
            let name = detached_ref_name(&info.session_id, n);
            match self.git.resolve(repo, &name).await? {
                Some(existing) if existing == head => return Ok(Some(name)),
                Some(_) => continue,
                None => {}
            }
            // Create-only: a pin written since the check above is never overwritten.
            let create = self.git.at(repo).args(["update-ref", &name, head, ""]);
            if self.git.output(&create).await?.success() {
                return Ok(Some(name));
            }
        }
        Err(WorkspaceError::Git {
            argv: format!("git -C {} update-ref {DETACHED_PREFIX}…", repo.display()),
            output: format!(
                "no free {DETACHED_PREFIX}{}[.N] ref for {head}",
                info.session_id
            ),
        })
    }

    /// Deletes `ao/<session>` when every commit on it is on another branch or tag too, after
    /// detaching the worktree's HEAD at the same commit. Any doubt keeps the branch.
    async fn drop_unused_branch(
        &self,
        info: &WorkspaceInfo,
        registration: &WorktreeRecord,
    ) -> Option<String> {
        let branch = registration.branch.as_deref()?;
        let tip = registration.head.as_deref()?;
        if !self.is_unused_session_branch(info, branch, tip).await {
            return None;
        }
        let detach = self
            .git
            .at(&info.path)
            .args(["update-ref", "--no-deref", "HEAD", tip]);
        if let Err(e) = self.git.ok(&detach).await {
            tracing::warn!(branch, error = %e, "keeping the branch of a failed spawn");
            return None;
        }
        self.delete_branch(&info.repo, branch, tip).await
    }

    /// Deletes `ao/<session>` that no worktree has checked out (what a spawn cut short inside
    /// `git worktree add` leaves) when another branch or tag holds its commits.
    async fn drop_orphan_branch(
        &self,
        info: &WorkspaceInfo,
        records: &[WorktreeRecord],
    ) -> Option<String> {
        let branch = info.branch.as_str();
        if records.iter().any(|r| r.branch.as_deref() == Some(branch)) {
            return None;
        }
        let tip = self
            .git
            .resolve(&info.repo, &format!("refs/heads/{branch}"))
            .await
            .ok()??;
        if !self.is_unused_session_branch(info, branch, &tip).await {
            return None;
        }
        self.delete_branch(&info.repo, branch, &tip).await
    }

    /// Whether `branch` is the session's own `ao/<session>` and another branch or tag contains
    /// its tip.
    async fn is_unused_session_branch(
        &self,
        info: &WorkspaceInfo,
        branch: &str,
        tip: &str,
    ) -> bool {
        if branch != format!("ao/{}", info.session_id) {
            return false;
        }
        let reference = format!("refs/heads/{branch}");
        let containing = self.git.at(&info.repo).args([
            "for-each-ref",
            "--count=2",
            "--format=%(refname)",
            "--contains",
            tip,
            "refs/heads/",
            "refs/tags/",
        ]);
        match self.git.ok(&containing).await {
            Ok(listed) => listed.lines().any(|r| !r.is_empty() && r != reference),
            Err(_) => false,
        }
    }

    /// `git update-ref -d refs/heads/<branch> <tip>`: only while it still names `tip`.
    async fn delete_branch(&self, repo: &Path, branch: &str, tip: &str) -> Option<String> {
        let reference = format!("refs/heads/{branch}");
        let delete = self
            .git
            .at(repo)
            .args(["update-ref", "-d", reference.as_str(), tip]);
        match self.git.ok(&delete).await {
            Ok(_) => Some(branch.to_owned()),
            Err(e) => {
                tracing::warn!(branch, error = %e, "keeping the branch of a failed spawn");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detached_pins_never_name_another_session() {
        let s = SessionId::parse("proj-1").unwrap();
        assert_eq!(detached_ref_name(&s, 1), "refs/ao/detached/proj-1");
        assert_eq!(detached_ref_name(&s, 2), "refs/ao/detached/proj-1.2");
        assert!(SessionId::parse("proj-1.2").is_err());
    }
}
