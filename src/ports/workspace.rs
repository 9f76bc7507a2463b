//! The workspace port: a session's git worktree (adapters.md section 2).
//!
//! Conservative with user data: the normal removal is never forced, and the only forced removal
//! (`preserve_then_remove`) first stashes uncommitted work into `refs/ao/preserved/<session>`.

use std::path::PathBuf;

use async_trait::async_trait;

use crate::domain::{ProjectId, SessionId, quote, quote_within};

/// Errors of the workspace port. `Dirty`, `StillRegistered` and `Locked` never cause an
/// automatic forced removal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkspaceError {
    #[error("unsafe path: {0}")]
    UnsafePath(String),
    #[error("invalid branch name {}: {}", quote(.branch), quote_within(.output, .branch))]
    BranchInvalid { branch: String, output: String },
    #[error("no base ref for branch {} (run git fetch, then retry)", quote(.0))]
    BranchNotFetched(String),
    #[error("branch {} is checked out in another worktree at {path}", quote(.branch))]
    BranchCheckedOutElsewhere { branch: String, path: String },
    #[error("worktree is locked")]
    Locked,
    #[error("worktree is stale: {0}")]
    Stale(String),
    #[error("worktree has uncommitted changes")]
    Dirty,
    #[error("worktree is still registered: {0}")]
    StillRegistered(String),
    #[error("preserved changes conflict with the branch (ref {reference} kept)")]
    PreservedConflict { reference: String },
    #[error("path exists and is not a registered worktree: {0}")]
    NotAWorktree(String),
    #[error("`{argv}` failed: {output}")]
    Git { argv: String, output: String },
    #[error("{0}")]
    Io(String),
}

/// Where and on what branch a session's worktree lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceRequest {
    /// The project's repository.
    pub repo: PathBuf,
    pub project_id: ProjectId,
    pub session_id: SessionId,
    pub branch: String,
    /// The project's configured base branch, if any.
    pub base_branch: Option<String>,
}

/// A session's worktree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceInfo {
    pub repo: PathBuf,
    pub path: PathBuf,
    pub branch: String,
    pub project_id: ProjectId,
    pub session_id: SessionId,
}

/// What a worktree looks like right now (read-only inspection).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorktreeStatus {
    /// Neither registered nor present on disk (already removed).
    Missing,
    /// Registered, present, no uncommitted changes.
    Clean,
    /// Registered with tracked or untracked changes.
    Dirty,
    /// Registered and locked.
    Locked,
    /// Present on disk but not a registered worktree (a leftover directory).
    Unregistered,
}

/// A git worktree manager.
#[async_trait]
pub trait Workspace: Send + Sync {
    /// The top-level directory of the git repository containing `path` (an error when `path`
    /// is not inside a repository).
    async fn repo_root(&self, path: &std::path::Path) -> Result<PathBuf, WorkspaceError>;

    /// `git check-ref-format --branch` in the project's repository.
    async fn check_branch(
        &self,
        repo: &std::path::Path,
        branch: &str,
    ) -> Result<(), WorkspaceError>;

    /// The managed path of a session's worktree (no I/O beyond path validation).
    fn path_for(&self, project: &ProjectId, session: &SessionId)
    -> Result<PathBuf, WorkspaceError>;

    async fn create(&self, request: &WorkspaceRequest) -> Result<WorkspaceInfo, WorkspaceError>;

    /// Never forced: a dirty, locked or still-registered worktree is refused and left intact.
    async fn destroy(&self, info: &WorkspaceInfo) -> Result<(), WorkspaceError>;

    /// Worktrees under the managed root of one project.
    async fn list(
        &self,
        repo: &std::path::Path,
        project: &ProjectId,
    ) -> Result<Vec<WorkspaceInfo>, WorkspaceError>;

    /// Reuses or recreates the worktree; `true` when it was recreated.
    async fn restore(
        &self,
        request: &WorkspaceRequest,
    ) -> Result<(WorkspaceInfo, bool), WorkspaceError>;

    /// Commits tracked and untracked changes into `refs/ao/preserved/<session>` through a
    /// temporary index; returns the ref, or `None` when the worktree is clean.
    async fn stash_uncommitted(
        &self,
        info: &WorkspaceInfo,
    ) -> Result<Option<String>, WorkspaceError>;

    /// The only forced removal: stash first; if that fails, remove nothing.
    async fn preserve_then_remove(
        &self,
        info: &WorkspaceInfo,
    ) -> Result<Option<String>, WorkspaceError>;

    /// Whether `refs/ao/preserved/<session>` exists.
    async fn preserved_ref(&self, info: &WorkspaceInfo) -> Result<Option<String>, WorkspaceError>;

    /// Cherry-picks the preserved ref without committing; deletes it on success.
    async fn apply_preserved(
        &self,
        info: &WorkspaceInfo,
        reference: &str,
    ) -> Result<(), WorkspaceError>;

    /// Inspects a worktree without changing anything.
    async fn status(&self, info: &WorkspaceInfo) -> Result<WorktreeStatus, WorkspaceError>;

    /// Appends patterns (idempotently) to the repository's shared `info/exclude`.
    async fn add_exclude(
        &self,
        info: &WorkspaceInfo,
        patterns: &[String],
    ) -> Result<(), WorkspaceError>;
}

/// A project's setup of a new worktree failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetupError {
    #[error("invalid setup path {}: must be relative and stay inside the repository", quote(.0))]
    UnsafePath(String),
    #[error("{path}: source missing in the repository")]
    MissingSource { path: String },
    #[error("{path}: already present in the worktree")]
    Exists { path: String },
    #[error("post-create `{argv}` failed: {output}")]
    PostCreate { argv: String, output: String },
    #[error("{0}")]
    Io(String),
}

/// Prepares a new worktree the way its project asks, before the agent starts.
#[async_trait]
pub trait ProjectSetup: Send + Sync {
    /// Symlinks and copies files from the repository into the worktree, then runs the
    /// post-create commands in it (argv, with a timeout). Returns the worktree-relative
    /// patterns to exclude so the placed files never make the worktree dirty.
    async fn prepare(
        &self,
        info: &WorkspaceInfo,
        settings: &crate::domain::ProjectSettings,
    ) -> Result<Vec<String>, SetupError>;
}
