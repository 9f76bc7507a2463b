//! A registered project: a git repository sessions are spawned from.

use std::collections::BTreeMap;
use std::path::PathBuf;

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
