//! The workspace port: a session's git worktree, and the trash worktrees go to when a session
//! ends.
//!
//! Nothing a worktree holds is ever deleted by retiring it: the directory is moved into the
//! trash whole (ignored files, nested repositories and build outputs included), a HEAD that no
//! branch or tag contains is pinned by `refs/ao/detached/<session>`, and only emptying the trash
//! (after its time to live, or on the user's request) deletes files.

use std::path::PathBuf;

use async_trait::async_trait;

use crate::domain::{ProjectId, SessionId, Timestamp, quote, quote_within};

/// How many of a dirty worktree's paths an error names.
pub const DIRTY_PATHS_SHOWN: usize = 5;

/// `: a.txt, b/ (and 3 more)` for an error message; empty without paths.
fn dirty_paths(paths: &[String]) -> String {
    match paths.len() {
        0 => String::new(),
        n if n > DIRTY_PATHS_SHOWN => format!(
            ": {} (and {} more)",
            paths[..DIRTY_PATHS_SHOWN].join(", "),
            n - DIRTY_PATHS_SHOWN
        ),
        _ => format!(": {}", paths.join(", ")),
    }
}

/// Errors of the workspace port. `Dirty` and `Locked` leave the worktree exactly where it is.
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
    #[error("worktree has uncommitted changes{}", dirty_paths(.paths))]
    Dirty {
        /// Some of the paths that made it dirty, as `git status` names them.
        paths: Vec<String>,
    },
    #[error("the worktree could not be moved to the trash, so it was kept in place: {0}")]
    TrashUnavailable(String),
    #[error("no trash entry {} (see `aoctl trash ls`)", quote(.0))]
    NotInTrash(String),
    #[error("cannot restore to {path}: {why}")]
    RestoreBlocked { path: String, why: String },
    #[error(
        "{reference} already holds other preserved work (from an earlier kill whose work was not \
         applied): apply it elsewhere with `git cherry-pick --no-commit {reference}` or delete it \
         with `git update-ref -d {reference}`, then retry"
    )]
    PreservedExists { reference: String },
    #[error("preserved changes conflict with the branch (ref {reference} kept)")]
    PreservedConflict { reference: String },
    #[error("path exists and is not a registered worktree: {0}")]
    NotAWorktree(String),
    #[error("repository {} does not exist (was it moved or deleted?)", quote(.0))]
    RepoMissing(String),
    #[error("repository {} has no commits yet; commit something first", quote(.0))]
    NoCommits(String),
    #[error(
        "base branch {} does not exist in the repository (as a branch or as origin's); create \
         it, `git fetch` it, or choose another base",
        quote(.0)
    )]
    BaseNotFound(String),
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

/// How [`Workspace::retire`] treats a worktree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetireMode {
    /// Kill and cleanup: a worktree with uncommitted changes stays where it is (`Dirty`).
    KeepDirty,
    /// Kill and cleanup with `--preserve`: uncommitted tracked and untracked work is first
    /// stashed into `refs/ao/preserved/<session>`, then the worktree goes to the trash.
    Preserve,
    /// A spawn that failed or was interrupted: the worktree goes to the trash whatever it holds,
    /// and the branch ao named for it (`ao/<session>`) is deleted when every commit on it is on
    /// another branch or tag too.
    Discard,
}

/// What [`Workspace::prune_branches`] did (or would do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BranchPrune {
    /// The ref the branches were compared with.
    pub base: String,
    /// Deleted (or, in a dry run, deletable) branches.
    pub deleted: Vec<String>,
    /// Branches kept, with why.
    pub kept: Vec<(String, String)>,
}

/// What [`Workspace::retire`] did. Nothing was deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Retired {
    /// The trash entry that now holds the worktree's directory; `None` when nothing was on disk.
    pub trash: Option<TrashEntry>,
    /// `refs/ao/detached/<session>…`, pinning a HEAD that no branch or tag contained.
    pub detached_ref: Option<String>,
    /// `refs/ao/preserved/<session>`, holding the uncommitted work (`Preserve` only).
    pub preserved_ref: Option<String>,
    /// Nested repositories (paths inside the worktree) the preserved ref cannot hold; their
    /// files are in the trash entry.
    pub nested_repos: Vec<String>,
    /// The branch deleted because it was a failed spawn's `ao/<session>` with no commit of its
    /// own (`Discard`).
    pub deleted_branch: Option<String>,
}

/// Where a trash entry stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrashState {
    /// Complete: the worktree is in the trash (registered and locked when it was registered).
    Trashed,
    /// A move into or out of the trash, or an emptying, was cut short; the daemon finishes or
    /// rolls it back at start.
    Interrupted,
    /// A directory in the trash without ao's manifest (placed there by hand).
    Unknown,
}

/// One worktree in the trash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrashEntry {
    /// `<session>-<UTC time>`: the entry's directory name and the id `aoctl trash` takes.
    pub id: String,
    /// The entry's directory (the worktree itself).
    pub path: PathBuf,
    pub state: TrashState,
    pub session_id: Option<SessionId>,
    pub project_id: Option<ProjectId>,
    pub repo: Option<PathBuf>,
    /// The branch checked out when it was trashed (`None`: detached HEAD or not a worktree).
    pub branch: Option<String>,
    /// Where the worktree was, and where a restore puts it back.
    pub original_path: Option<PathBuf>,
    pub trashed_at: Timestamp,
    /// Whether git knows the worktree (a leftover directory is moved as plain files).
    pub registered: bool,
    pub detached_ref: Option<String>,
    pub preserved_ref: Option<String>,
    pub nested_repos: Vec<String>,
}

/// What emptying the trash did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrashEmptied {
    pub removed: Vec<TrashEntry>,
    /// Entries that could not be removed, with why (they stay in the trash).
    pub failed: Vec<(TrashEntry, String)>,
}

/// What finishing interrupted trash operations at start did, one line per entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrashRepair {
    pub finished: Vec<String>,
    pub rolled_back: Vec<String>,
    pub failed: Vec<String>,
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

    /// That the repository exists and has a commit, and that `base` (when given) names an
    /// existing branch: `refs/heads/<base>` or `origin/<base>` (a name with `/` may be any ref).
    async fn check_base(
        &self,
        repo: &std::path::Path,
        base: Option<&str>,
    ) -> Result<(), WorkspaceError>;

    /// Deletes the `ao/*` branches whose every commit is on the base branch (`base`, else the
    /// default branch a spawn would start from), and none checked out in any worktree; the
    /// rest are kept, each with why. `dry_run` deletes nothing and reports the same.
    async fn prune_branches(
        &self,
        repo: &std::path::Path,
        base: Option<&str>,
        dry_run: bool,
    ) -> Result<BranchPrune, WorkspaceError>;

    /// The managed path of a session's worktree (no I/O beyond path validation).
    fn path_for(&self, project: &ProjectId, session: &SessionId)
    -> Result<PathBuf, WorkspaceError>;

    async fn create(&self, request: &WorkspaceRequest) -> Result<WorkspaceInfo, WorkspaceError>;

    /// Takes a worktree away from its managed path without losing anything: pins a HEAD no
    /// branch or tag contains, stashes with `Preserve`, and moves the directory into the trash
    /// (a rename on the same filesystem; when that is impossible, the worktree stays and the
    /// error says why). A locked worktree is refused in every mode; `KeepDirty` refuses one with
    /// uncommitted changes. Nothing on disk and nothing registered is an empty success.
    async fn retire(
        &self,
        info: &WorkspaceInfo,
        mode: RetireMode,
        now: Timestamp,
    ) -> Result<Retired, WorkspaceError>;

    /// Worktrees under the managed root of one project.
    async fn list(
        &self,
        repo: &std::path::Path,
        project: &ProjectId,
    ) -> Result<Vec<WorkspaceInfo>, WorkspaceError>;

    /// Reuses the worktree, brings the session's latest trash entry back, or recreates it from
    /// the branch; `true` when it was recreated (its uncommitted work is not there).
    async fn restore(
        &self,
        request: &WorkspaceRequest,
    ) -> Result<(WorkspaceInfo, bool), WorkspaceError>;

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

    /// Every trash entry, oldest first.
    async fn trash_list(&self) -> Result<Vec<TrashEntry>, WorkspaceError>;

    /// Moves a trash entry back to its original path as a registered worktree on its branch.
    /// Refused when something occupies that path.
    async fn trash_restore(&self, id: &str) -> Result<TrashEntry, WorkspaceError>;

    /// Deletes the trash entries trashed before `cutoff` (all of them with `None`).
    async fn trash_empty(&self, cutoff: Option<Timestamp>) -> Result<TrashEmptied, WorkspaceError>;

    /// Finishes or rolls back trash operations a crash cut short (run at start).
    async fn trash_repair(&self) -> Result<TrashRepair, WorkspaceError>;
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

/// What a project's setup is doing, reported as it goes (a spawn shows it to its caller).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetupProgress<'a> {
    /// Symlinking and copying files from the repository.
    PlacingFiles,
    /// Running post-create command `index` (from 1) of `total`.
    PostCreate {
        index: usize,
        total: usize,
        argv: &'a [String],
    },
}

/// Prepares a new worktree the way its project asks, before the agent starts.
#[async_trait]
pub trait ProjectSetup: Send + Sync {
    /// Symlinks and copies files from the repository into the worktree, then runs the
    /// post-create commands in it (argv, with a timeout), telling `progress` each step as it
    /// starts. Returns the worktree-relative patterns to exclude so the placed files never make
    /// the worktree dirty. Dropping the future stops a running post-create command (its whole
    /// process group).
    async fn prepare(
        &self,
        info: &WorkspaceInfo,
        settings: &crate::domain::ProjectSettings,
        progress: &(dyn for<'a> Fn(SetupProgress<'a>) + Send + Sync),
    ) -> Result<Vec<String>, SetupError>;
}
