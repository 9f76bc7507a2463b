//! A registered project: a git repository sessions are spawned from.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::ids::ProjectId;
use super::time::Timestamp;

/// What every new worktree of a project gets before its agent starts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectSettings {
    /// Repository-relative paths symlinked into every new worktree (a `.env`, say).
    #[serde(default)]
    pub symlinks: Vec<String>,
    /// Repository-relative paths copied into every new worktree.
    #[serde(default)]
    pub copies: Vec<String>,
    /// Commands run in the new worktree before the agent starts, each as argv.
    #[serde(default)]
    pub post_create: Vec<Vec<String>>,
    /// gitignore patterns added to every new worktree's exclude file: what the post-create
    /// commands make (`node_modules/`, say), so it neither shows in `git status` nor keeps a
    /// killed session's worktree in place as uncommitted work.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Extra environment for the agent's pane.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// The remote whose repository PRs are attributed to (a fork), when not `origin`.
    #[serde(default)]
    pub push_remote: Option<String>,
}

/// A project registered with `aoctl project add` (or listed in the configuration).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Project {
    pub id: ProjectId,
    pub repo_path: PathBuf,
    pub default_agent: Option<String>,
    pub base_branch: Option<String>,
    #[serde(default)]
    pub settings: ProjectSettings,
    pub created_at: Timestamp,
}

/// A repository-relative setup path (a file symlinked or copied into every worktree),
/// normalised; `None` unless it is non-empty, holds no NUL byte and is made only of plain
/// components (no root, no `..`), so it can lead out of neither the repository nor the worktree.
pub fn relative_setup_path(path: &str) -> Option<PathBuf> {
    let p = Path::new(path);
    let normal = !path.is_empty()
        && !path.contains('\0')
        && p.components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    normal.then(|| p.components().collect())
}

/// The main worktree of the repository whose work tree is `top`, given git's common directory
/// (`git rev-parse --path-format=absolute --show-toplevel --git-common-dir`): for a linked
/// worktree (an ao session's, say) the directory holding the common `.git`, so it maps to its
/// repository's project; `top` itself otherwise (a main worktree, a submodule, a separate git
/// directory).
pub fn main_worktree(top: &Path, common_dir: &Path) -> PathBuf {
    match (common_dir.file_name(), common_dir.parent()) {
        (Some(name), Some(parent)) if name == ".git" => parent.to_path_buf(),
        _ => top.to_path_buf(),
    }
}

#[cfg(test)]
mod setup_path_tests {
    use super::*;

    #[test]
    fn setup_paths_stay_inside() {
        assert_eq!(relative_setup_path("a/./b"), Some(PathBuf::from("a/b")));
        assert_eq!(relative_setup_path(".env"), Some(PathBuf::from(".env")));
        for bad in ["", "/etc/passwd", "../x", "a/../../b", "a\0b"] {
            assert_eq!(relative_setup_path(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_linked_worktree_maps_to_its_main_worktree() {
        let main = |top: &str, common: &str| main_worktree(Path::new(top), Path::new(common));
        assert_eq!(main("/r", "/r/.git"), PathBuf::from("/r"));
        assert_eq!(
            main("/data/worktrees/demo/demo-1", "/r/.git"),
            PathBuf::from("/r")
        );
        // A submodule, or a work tree with its git directory elsewhere: its own top.
        assert_eq!(
            main("/r/sub", "/r/.git/modules/sub"),
            PathBuf::from("/r/sub")
        );
        assert_eq!(main("/w", "/srv/w.git"), PathBuf::from("/w"));
    }
}
