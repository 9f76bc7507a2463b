//! Preserving uncommitted work: the stash into `refs/ao/preserved/<session>` and re-applying a
//! preserved commit.
//!
//! The stash is built in a temporary copy of the worktree's index, so the working tree, the
//! real index and `git stash list` stay exactly as the user left them. The preserved commit's
//! parent is the worktree's HEAD and its tree is everything `git add -A` would stage (ignored
//! files excluded), so `cherry-pick --no-commit` brings the work back later. A nested repository
//! cannot be held by the commit (its objects are not in this repository): it is left out of the
//! tree and reported, and its files travel with the worktree into the trash.
//!
//! The stash is idempotent: a preserved ref that already holds the same tree on the same parent
//! (a removal cut short after its stash) is reused; one holding other work is never overwritten.

use std::path::{Path, PathBuf};

use super::git::failure;
use super::{GitWorktree, io_error};
use ao::ports::{WorkspaceError, WorkspaceInfo};

/// Every preserved ref lives under this prefix; only such refs are ever deleted.
pub const PRESERVED_PREFIX: &str = "refs/ao/preserved/";

/// The identity of preserved commits.
const AO_NAME: &str = "ao";
const AO_EMAIL: &str = "ao@localhost";

/// The empty tree of each object format, for comparing against an unborn HEAD.
const EMPTY_TREE_SHA1: &str = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
const EMPTY_TREE_SHA256: &str = "6ef19b41225c5369f1c104d45d8d85efa9b057b53b14b4b9b939dd74decc5321";
/// The index mode of a gitlink (a nested repository or submodule).
const GITLINK_MODE: &str = "160000";

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

/// What the stash saved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Stashed {
    /// `(ref, commit)`, or `None` when there was nothing uncommitted.
    pub(super) preserved: Option<(String, String)>,
    /// Nested repositories left out of the preserved tree.
    pub(super) nested_repos: Vec<String>,
}

/// One entry of `git diff-index -z`: the old and new mode and object, and the path.
#[derive(Debug, Clone, PartialEq, Eq)]
struct IndexChange {
    old_mode: String,
    new_mode: String,
    old_sha: String,
    path: String,
}

/// Parses `git diff-index -z --no-renames` output: `:<old mode> <new mode> <old> <new> <status>`
/// and the path, each NUL-terminated.
fn parse_index_changes(text: &str) -> Vec<IndexChange> {
    let mut fields = text.split('\0');
    let mut changes = vec![];
    while let (Some(meta), Some(path)) = (fields.next(), fields.next()) {
        let mut parts = meta.trim_start_matches(':').split(' ');
        if let (Some(old_mode), Some(new_mode), Some(old_sha)) =
            (parts.next(), parts.next(), parts.next())
        {
            changes.push(IndexChange {
                old_mode: old_mode.to_owned(),
                new_mode: new_mode.to_owned(),
                old_sha: old_sha.to_owned(),
                path: path.to_owned(),
            });
        }
    }
    changes
}

/// `git update-index -z --index-info` input that puts the nested repositories back as HEAD has
/// them: removed when HEAD has no such path, else HEAD's entry.
fn index_info_reverting(nested: &[IndexChange]) -> Vec<u8> {
    let mut input = vec![];
    for change in nested {
        let line = if change.old_mode == "000000" {
            format!("0 {}\t{}\0", change.old_sha, change.path)
        } else {
            format!("{} {}\t{}\0", change.old_mode, change.old_sha, change.path)
        };
        input.extend_from_slice(line.as_bytes());
    }
    input
}

impl GitWorktree {
    /// Commits tracked and untracked changes (ignored files and nested repositories excluded)
    /// into `refs/ao/preserved/<session>` through a temporary index, for a registered worktree
    /// whose directory exists.
    pub(super) async fn stash_registered(
        &self,
        info: &WorkspaceInfo,
    ) -> Result<Stashed, WorkspaceError> {
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
        let head_tree = git.resolve(path, "HEAD^{tree}").await?;
        let nested_repos = self
            .leave_out_nested_repos(path, &temp_index, head_tree.as_deref())
            .await?;
        let tree = git
            .ok(&git.at_with_index(path, &temp_index).arg("write-tree"))
            .await?;
        let tree = tree.trim().to_owned();

        let empty_tree = empty_tree_like(&tree);
        if tree == head_tree.as_deref().unwrap_or(empty_tree) {
            return Ok(Stashed {
                preserved: None,
                nested_repos,
            });
        }
        let session = info.session_id.as_str();
        let reference = preserved_ref_name(session);
        let head = match head_tree {
            Some(_) => git.resolve(path, "HEAD").await?,
            None => None,
        };
        if let Some(existing) = git.resolve(path, &reference).await? {
            return self
                .reuse_preserved(path, &reference, &existing, &tree, head.as_deref())
                .await
                .map(|sha| Stashed {
                    preserved: Some((reference, sha)),
                    nested_repos,
                });
        }

        let mut commit = git.at(path).args(["commit-tree", tree.as_str()]);
        if let Some(head) = &head {
            commit = commit.args(["-p", head.as_str()]);
        }
        let commit = commit
            .args(["-m", &format!("ao preserved {session}")])
            .env("GIT_AUTHOR_NAME", AO_NAME)
            .env("GIT_COMMITTER_NAME", AO_NAME)
            .env("GIT_AUTHOR_EMAIL", AO_EMAIL)
            .env("GIT_COMMITTER_EMAIL", AO_EMAIL);
        let sha = git.ok(&commit).await?.trim().to_owned();

        // The empty old value makes git refuse to overwrite a preserved commit written since
        // the check above: that work would otherwise become unreachable.
        let update = git
            .at(path)
            .args(["update-ref", reference.as_str(), sha.as_str(), ""]);
        let out = git.output(&update).await?;
        if !out.success() {
            return Err(failure(&update, &out));
        }
        Ok(Stashed {
            preserved: Some((reference, sha)),
            nested_repos,
        })
    }

    /// Takes every nested repository `add -A` staged as a gitlink back out of the temporary
    /// index (HEAD's entry, or none), and returns their paths.
    async fn leave_out_nested_repos(
        &self,
        path: &Path,
        temp_index: &Path,
        head_tree: Option<&str>,
    ) -> Result<Vec<String>, WorkspaceError> {
        let git = &self.git;
        let base = match head_tree {
            Some(tree) => tree.to_owned(),
            None => {
                let format = git.at(path).args(["rev-parse", "--show-object-format"]);
                if git.ok(&format).await?.trim() == "sha256" {
                    EMPTY_TREE_SHA256.to_owned()
                } else {
                    EMPTY_TREE_SHA1.to_owned()
                }
            }
        };
        let changes = git
            .ok(&git.at_with_index(path, temp_index).args([
                "diff-index",
                "--cached",
                "--no-renames",
                "-z",
                base.as_str(),
            ]))
            .await?;
        let nested: Vec<IndexChange> = parse_index_changes(&changes)
            .into_iter()
            .filter(|c| c.new_mode == GITLINK_MODE)
            .collect();
        if nested.is_empty() {
            return Ok(vec![]);
        }
        let revert = git
            .at_with_index(path, temp_index)
            .args(["update-index", "-z", "--index-info"])
            .stdin(index_info_reverting(&nested));
        git.ok(&revert).await?;
        Ok(nested.into_iter().map(|c| c.path).collect())
    }

    /// An existing preserved ref is reused when it holds the same tree on the same parent (the
    /// stash of a removal that was cut short); otherwise the stash stops with what to do.
    async fn reuse_preserved(
        &self,
        path: &Path,
        reference: &str,
        existing: &str,
        tree: &str,
        head: Option<&str>,
    ) -> Result<String, WorkspaceError> {
        let show = self
            .git
            .at(path)
            .args(["show", "-s", "--format=%T %P", existing]);
        let shown = self.git.ok(&show).await?;
        let mut words = shown.split_whitespace();
        let same_tree = words.next() == Some(tree);
        let parents: Vec<&str> = words.collect();
        if same_tree && parents == head.into_iter().collect::<Vec<_>>() {
            return Ok(existing.to_owned());
        }
        Err(WorkspaceError::PreservedExists {
            reference: reference.to_owned(),
        })
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

/// The empty tree of the object format `tree` is written in.
fn empty_tree_like(tree: &str) -> &'static str {
    if tree.len() == EMPTY_TREE_SHA256.len() {
        EMPTY_TREE_SHA256
    } else {
        EMPTY_TREE_SHA1
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_changes_parse_and_nested_repos_revert_to_head() {
        let zero = "0".repeat(40);
        let text = format!(
            ":000000 160000 {zero} {b} A\0vendor/lib\0:100644 100644 {a} {c} M\0a file\0:160000 160000 {a} {b} M\0sub\0",
            a = "a".repeat(40),
            b = "b".repeat(40),
            c = "c".repeat(40),
        );
        let changes = parse_index_changes(&text);
        assert_eq!(changes.len(), 3);
        assert_eq!(changes[1].path, "a file");
        let nested: Vec<IndexChange> = changes
            .into_iter()
            .filter(|c| c.new_mode == GITLINK_MODE)
            .collect();
        assert_eq!(
            String::from_utf8(index_info_reverting(&nested)).unwrap(),
            format!("0 {zero}\tvendor/lib\0160000 {}\tsub\0", "a".repeat(40))
        );
        assert!(parse_index_changes("").is_empty());
    }
}
