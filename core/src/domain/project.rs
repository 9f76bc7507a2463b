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
}
