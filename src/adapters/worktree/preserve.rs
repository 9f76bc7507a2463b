//! Preserving uncommitted work (adapters.md 2.6): the stash into `refs/ao/preserved/<session>`,
//! the one forced removal that follows it, and re-applying a preserved commit.
//!
//! The stash is built in a temporary copy of the worktree's index, so the working tree, the
//! real index and `git stash list` stay exactly as the user left them. The preserved commit's
//! parent is the worktree's HEAD and its tree is everything `git add -A` would stage (ignored
//! files excluded), so `cherry-pick --no-commit` brings the work back later.

use std::path::{Path, PathBuf};

use super::git::failure;
use super::{GitWorktree, LOCKED_WORKTREE, WorktreeRecord, find_registration, io_error};
use crate::ports::{WorkspaceError, WorkspaceInfo};

/// Every preserved ref lives under this prefix; only such refs are ever deleted.
pub const PRESERVED_PREFIX: &str = "refs/ao/preserved/";

/// The identity of preserved commits.
const AO_NAME: &str = "ao";
const AO_EMAIL: &str = "ao@localhost";

/// The empty tree of each object format, for comparing against an unborn HEAD.
const EMPTY_TREE_SHA1: &str = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
const EMPTY_TREE_SHA256: &str = "6ef19b41225c5369f1c104d45d8d85efa9b057b53b14b4b9b939dd74decc5321";

/// `refs/ao/preserved/<session>`.
pub fn preserved_ref_name(session: &str) -> String {
    format!("{PRESERVED_PREFIX}{session}")
}

fn is_not_a_repository(error: &WorkspaceError) -> bool {
    matches!(error, WorkspaceError::Git { output, .. } if output.contains("not a git repository"))
}

fn stale_if_not_a_repository(error: WorkspaceError, path: &Path) -> WorkspaceError {
    if is_not_a_repository(&error) {
        WorkspaceError::Stale(format!("{}: not a git repository", path.display()))
    } else {
        error
    }
}

impl GitWorktree {
    /// The checks before touching a worktree's content: a managed path, an existing directory,
    /// registered in the repository. Returns the registration.
    async fn registered_worktree(
        &self,
        info: &WorkspaceInfo,
    ) -> Result<WorktreeRecord, WorkspaceError> {
        let path = info.path.as_path();
        self.root.check(path)?;
        if !path.is_dir() {
            return Err(WorkspaceError::Stale(format!(
                "{}: directory missing",
                path.display()
            )));
        }
        let records = self.list_registered(&info.repo).await?;
        find_registration(&records, path).cloned().ok_or_else(|| {
            WorkspaceError::Stale(format!(
                "{}: not a registered worktree of {}",
                path.display(),
                info.repo.display()
            ))
        })
    }

    pub(super) async fn stash(
        &self,
        info: &WorkspaceInfo,
    ) -> Result<Option<String>, WorkspaceError> {
        self.registered_worktree(info).await?;
        self.stash_registered(info).await
    }

    /// Steps 2–5 of the stash, for a worktree already checked by `registered_worktree`.
    async fn stash_registered(
        &self,
        info: &WorkspaceInfo,
    ) -> Result<Option<String>, WorkspaceError> {
        let path = info.path.as_path();
        let git = &self.git;
        let index_spec = git.at(path).args(["rev-parse", "--git-path", "index"]);
        let index = git
            .ok(&index_spec)
            .await
            .map_err(|e| stale_if_not_a_repository(e, path))?;
        if index.trim().is_empty() {
            return Err(WorkspaceError::Git {
                argv: index_spec.display(),
                output: "git printed no index path".to_owned(),
            });
        }
        let index = path.join(index.trim());

        let temp = tempfile::Builder::new()
            .prefix("ao-preserve-")
            .tempdir()
            .map_err(|e| WorkspaceError::Io(format!("creating a temporary index: {e}")))?;
        let temp_index = temp.path().join("index");
        match tokio::fs::copy(&index, &temp_index).await {
            Ok(_) => {}
            // No index yet (nothing ever staged): git starts the temporary one from empty.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error("copying the index", &index, &e)),
        }
        git.ok(&git.at_with_index(path, &temp_index).args(["add", "-A"]))
            .await?;
        let tree = git
            .ok(&git.at_with_index(path, &temp_index).arg("write-tree"))
            .await?;
        let tree = tree.trim().to_owned();

        let head_tree = git.resolve(path, "HEAD^{tree}").await?;
        let empty_tree = if tree.len() == EMPTY_TREE_SHA256.len() {
            EMPTY_TREE_SHA256
        } else {
            EMPTY_TREE_SHA1
        };
        if tree == head_tree.as_deref().unwrap_or(empty_tree) {
            return Ok(None);
        }

        let session = info.session_id.as_str();
        let mut commit = git.at(path).args(["commit-tree", tree.as_str()]);
        if head_tree.is_some() {
            commit = commit.args(["-p", "HEAD"]);
        }
        let commit = commit
            .args(["-m", &format!("ao preserved {session}")])
            .env("GIT_AUTHOR_NAME", AO_NAME)
            .env("GIT_COMMITTER_NAME", AO_NAME)
            .env("GIT_AUTHOR_EMAIL", AO_EMAIL)
            .env("GIT_COMMITTER_EMAIL", AO_EMAIL);
        let sha = git.ok(&commit).await?;

        // The empty old value makes git refuse to overwrite an earlier preserved commit that
        // was never applied: that work would otherwise become unreachable.
        let reference = preserved_ref_name(session);
        let update = git
            .at(path)
            .args(["update-ref", reference.as_str(), sha.trim(), ""]);
        let out = git.output(&update).await?;
        if !out.success() {
            let mut error = failure(&update, &out);
            if let WorkspaceError::Git { output, .. } = &mut error {
                output.push_str(&format!(
                    "\n(an earlier {reference} exists: apply or delete it first)"
                ));
            }
            return Err(error);
        }
        Ok(Some(reference))
    }

    pub(super) async fn preserve_and_remove(
        &self,
        info: &WorkspaceInfo,
    ) -> Result<Option<String>, WorkspaceError> {
        let registration = self.registered_worktree(info).await?;
        // A locked worktree is never removed, so there is nothing to preserve it for.
        if registration.locked.is_some() {
            return Err(WorkspaceError::Locked);
        }
        let reference = self.stash_registered(info).await?;

        let (repo, path) = (info.repo.as_path(), info.path.as_path());
        let remove = self
            .git
            .at(repo)
            .args(["worktree", "remove", "--force"])
            .arg(path);
        let removed = self.git.output(&remove).await?;
        let prune = self.git.at(repo).args(["worktree", "prune"]);
        self.git.ok(&prune).await?;
        let records = self.list_registered(repo).await?;
        if let Some(registration) = find_registration(&records, path) {
            let remove_error = removed.combined();
            if registration.locked.is_some() || remove_error.contains(LOCKED_WORKTREE) {
                return Err(WorkspaceError::Locked);
            }
            return Err(WorkspaceError::StillRegistered(format!(
                "{}: {remove_error}",
                path.display()
            )));
        }
        // Backstop for what the forced remove left behind; the work is preserved by now.
        self.root.check(path)?;
        match tokio::fs::remove_dir_all(path).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error("removing", path, &e)),
        }
        Ok(reference)
    }

    pub(super) async fn find_preserved(
        &self,
        info: &WorkspaceInfo,
    ) -> Result<Option<String>, WorkspaceError> {
        let reference = preserved_ref_name(info.session_id.as_str());
        Ok(self
            .git
            .resolve(&info.repo, &reference)
            .await?
            .map(|_| reference))
    }

    pub(super) async fn apply(
        &self,
        info: &WorkspaceInfo,
        reference: &str,
    ) -> Result<(), WorkspaceError> {
        let path = info.path.as_path();
        self.root.check(path)?;
        if !reference.starts_with(PRESERVED_PREFIX) {
            return Err(WorkspaceError::UnsafePath(format!(
                "{reference:?} is not a preserved ref (expected {PRESERVED_PREFIX}<session>)"
            )));
        }
        let Some(sha) = self.git.resolve(path, reference).await? else {
            return Err(WorkspaceError::Git {
                argv: format!(
                    "git -C {} rev-parse --verify --quiet {reference}",
                    path.display()
                ),
                output: format!("{reference} does not exist"),
            });
        };
        let pick = self
            .git
            .at(path)
            .args(["cherry-pick", "--no-commit", sha.as_str()]);
        let out = self.git.output(&pick).await?;
        if !out.success() {
            tracing::warn!(
                reference,
                worktree = %path.display(),
                output = %out.combined(),
                "preserved changes conflict; ref kept, conflict left in the worktree"
            );
            return Err(WorkspaceError::PreservedConflict {
                reference: reference.to_owned(),
            });
        }
        // Deleting only if the ref still names the commit just applied.
        let delete = self
            .git
            .at(path)
            .args(["update-ref", "-d", reference, sha.as_str()]);
        match self.git.output(&delete).await {
            Ok(out) if out.success() => {}
            Ok(out) => {
                tracing::warn!(reference, error = %failure(&delete, &out), "preserved ref applied but not deleted");
            }
            Err(e) => {
                tracing::warn!(reference, error = %e, "preserved ref applied but not deleted");
            }
        }
        Ok(())
    }

    pub(super) async fn exclude(
        &self,
        info: &WorkspaceInfo,
        patterns: &[String],
    ) -> Result<(), WorkspaceError> {
        let path = info.path.as_path();
        self.root.check(path)?;
        if let Some(bad) = patterns.iter().find(|p| p.contains(['\n', '\r'])) {
            return Err(WorkspaceError::Io(format!(
                "exclude pattern {bad:?} spans more than one line"
            )));
        }
        let wanted: Vec<&str> = patterns
            .iter()
            .map(|p| p.trim_end())
            .filter(|p| !p.is_empty())
            .collect();
        if wanted.is_empty() {
            return Ok(());
        }
        let spec = self.git.at(path).args(["rev-parse", "--git-common-dir"]);
        let common = self.git.ok(&spec).await?;
        let info_dir: PathBuf = path.join(common.trim()).join("info");
        tokio::fs::create_dir_all(&info_dir)
            .await
            .map_err(|e| io_error("creating", &info_dir, &e))?;
        let file = info_dir.join("exclude");
        let existing = match tokio::fs::read_to_string(&file).await {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(io_error("reading", &file, &e)),
        };
        let mut present: Vec<&str> = existing.lines().map(str::trim_end).collect();
        let mut addition = String::new();
        for pattern in wanted {
            if !present.contains(&pattern) {
                present.push(pattern);
                addition.push_str(pattern);
                addition.push('\n');
            }
        }
        if addition.is_empty() {
            return Ok(());
        }
        if !existing.is_empty() && !existing.ends_with('\n') {
            addition.insert(0, '\n');
        }
        append(&file, addition.as_bytes())
            .await
            .map_err(|e| io_error("appending to", &file, &e))
    }
}

async fn append(file: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt;
    let mut handle = tokio::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
        .await?;
    handle.write_all(bytes).await?;
    handle.flush().await
}
