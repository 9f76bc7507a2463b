//! Retiring a worktree when its session ends: nothing it holds is lost.
//!
//! In order: a HEAD that no branch or tag contains is pinned by `refs/ao/detached/<session>`;
//! with `Preserve`, uncommitted work is stashed into `refs/ao/preserved/<session>`; the
//! directory moves into the trash. For a spawn that never ran (`Discard`), the branch ao created
//! for it is deleted when it still points where it was created, so failed spawns leave no
//! branches behind; the session's branch is deleted in no other case.

use std::path::{Path, PathBuf};

use super::trash::{Departing, TrashNotes};
use super::{GitWorktree, WorktreeRecord, find_registration, io_error, validate_component};
use crate::domain::{SessionId, Timestamp};
use crate::ports::{RetireMode, Retired, WorkspaceError, WorkspaceInfo};

/// Every pinned detached HEAD lives under this prefix.
pub const DETACHED_PREFIX: &str = "refs/ao/detached/";
/// The file in a worktree's administrative directory that records a branch ao created for it:
/// `<branch>\n<commit>\n`.
const CREATED_BRANCH_FILE: &str = "ao-created-branch";

/// `refs/ao/detached/<session>`, then `….2`, `….3` when an earlier pin holds another commit
/// (a session id never contains a dot, so these never name another session's ref).
fn detached_ref_name(session: &SessionId, n: u32) -> String {
    if n == 1 {
        format!("{DETACHED_PREFIX}{session}")
    } else {
        format!("{DETACHED_PREFIX}{session}.{n}")
    }
}

/// The administrative directory a worktree's `.git` file points to.
fn admin_dir(worktree: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(worktree.join(".git")).ok()?;
    let dir = PathBuf::from(text.strip_prefix("gitdir:")?.trim());
    Some(if dir.is_absolute() {
        dir
    } else {
        worktree.join(dir)
    })
}

/// The commit `refs/heads/<branch>` names, read from its loose ref file (a new branch is always
/// loose); `None` when it cannot be read that way.
fn loose_branch_commit(admin: &Path, branch: &str) -> Option<String> {
    let common = std::fs::read_to_string(admin.join("commondir")).ok()?;
    let common = admin.join(common.trim());
    let sha = std::fs::read_to_string(common.join("refs/heads").join(branch)).ok()?;
    let sha = sha.trim();
    (sha.len() >= 40 && sha.bytes().all(|b| b.is_ascii_hexdigit())).then(|| sha.to_owned())
}

impl GitWorktree {
    /// Records that ao created `branch` for the worktree at `path` (read back by `Discard`).
    /// Best effort: without the record, the branch is simply never deleted.
    pub(super) fn record_created_branch(&self, path: &Path, branch: &str) {
        let recorded = admin_dir(path).and_then(|admin| {
            let sha = loose_branch_commit(&admin, branch)?;
            std::fs::write(
                admin.join(CREATED_BRANCH_FILE),
                format!("{branch}\n{sha}\n"),
            )
            .ok()
        });
        if recorded.is_none() {
            tracing::debug!(path = %path.display(), branch, "could not record the created branch; it will be kept");
        }
    }

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
            if !on_disk {
                return Ok(Retired::default());
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
        if mode == RetireMode::KeepDirty && self.is_dirty(path).await? {
            return Err(WorkspaceError::Dirty);
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
    async fn is_dirty(&self, path: &Path) -> Result<bool, WorkspaceError> {
        let status = self.git.at(path).args(["status", "--porcelain"]);
        Ok(!self.git.ok(&status).await?.trim().is_empty())
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

    /// Deletes the branch ao created for this worktree when it still names the commit it was
    /// created at, after detaching the worktree's HEAD there. Any doubt keeps the branch.
    async fn drop_unused_branch(
        &self,
        info: &WorkspaceInfo,
        registration: &WorktreeRecord,
    ) -> Option<String> {
        let branch = registration.branch.as_deref()?;
        let recorded =
            std::fs::read_to_string(admin_dir(&info.path)?.join(CREATED_BRANCH_FILE)).ok()?;
        let mut lines = recorded.lines();
        let (created, sha) = (lines.next()?, lines.next()?);
        if created != branch || registration.head.as_deref() != Some(sha) {
            return None;
        }
        let reference = format!("refs/heads/{branch}");
        let detach = self
            .git
            .at(&info.path)
            .args(["update-ref", "--no-deref", "HEAD", sha]);
        let delete = self
            .git
            .at(&info.repo)
            .args(["update-ref", "-d", reference.as_str(), sha]);
        let deleted = match self.git.ok(&detach).await {
            Ok(_) => self.git.ok(&delete).await,
            Err(e) => Err(e),
        };
        match deleted {
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

    #[test]
    fn admin_dir_and_loose_branch_are_read_from_git_files() {
        let dir = tempfile::tempdir().unwrap();
        let worktree = dir.path().join("wt");
        let admin = dir.path().join("repo/.git/worktrees/wt");
        std::fs::create_dir_all(&worktree).unwrap();
        std::fs::create_dir_all(admin.join("../../refs/heads/ao")).unwrap();
        std::fs::write(
            worktree.join(".git"),
            format!("gitdir: {}\n", admin.display()),
        )
        .unwrap();
        std::fs::write(admin.join("commondir"), "../..\n").unwrap();
        let sha = "a".repeat(40);
        std::fs::write(admin.join("../../refs/heads/ao/x"), format!("{sha}\n")).unwrap();
        assert_eq!(admin_dir(&worktree), Some(admin.clone()));
        assert_eq!(loose_branch_commit(&admin, "ao/x"), Some(sha));
        assert_eq!(loose_branch_commit(&admin, "ao/missing"), None);
        assert_eq!(admin_dir(&dir.path().join("nowhere")), None);
    }
}
