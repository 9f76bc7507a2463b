//! The git worktree workspace: each session gets its own linked worktree at
//! `<managed root>/<project>/<session>` on its own branch.
//!
//! The adapter never deletes a worktree. Retiring one moves it into the trash (`trash`), after
//! pinning its commits and, when asked, stashing its uncommitted work (`retire`, `preserve`);
//! only emptying the trash deletes files, and only inside it. Nothing outside the managed root
//! is ever moved or removed, and the only branches ever deleted are a failed spawn's
//! `ao/<session>` holding no commit that another branch or tag lacks, and (on request) `ao/*`
//! branches checked out nowhere whose every commit is on the base branch (`branches`).
//!
//! Every git call goes through the shared [`CommandRunner`], so unit tests check the exact argv
//! with a recording fake and integration tests run the real git.

mod branches;
mod git;
mod paths;
mod porcelain;
mod preserve;
mod refs;
mod retire;

/// Why git would refuse `branch` as the name of a branch, by `git check-ref-format --branch`'s
/// rules: `refs/heads/<branch>` must be a valid ref name (gix-validate implements git's rules),
/// and a branch may neither start with `-` nor be `HEAD`. `None` when git would take it as it
/// is. Names git would expand first (`@{-1}`) contain `@{` and are refused.
pub fn branch_name_error(branch: &str) -> Option<String> {
    if branch.starts_with('-') {
        return Some("a branch name cannot start with '-'".to_owned());
    }
    if branch == "HEAD" {
        return Some("'HEAD' is not a valid branch name".to_owned());
    }
    let full = format!("refs/heads/{branch}");
    gix_validate::reference::name(full.as_str().into())
        .err()
        .map(|e| e.to_string())
}

#[cfg(test)]
mod tests;
mod trash;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;

use crate::process::CommandRunner;
use ao::ports::{
    BranchPrune, RetireMode, Retired, TrashEmptied, TrashEntry, TrashRepair, Workspace,
    WorkspaceError, WorkspaceInfo, WorkspaceRequest, WorktreeStatus,
};
use ao_core::domain::{ProjectId, SessionId, Timestamp};

use git::{ADD_TIMEOUT, Git, failure};
use paths::{ManagedRoot, same_place, validate_component};
pub use porcelain::{WorktreeRecord, parse_worktree_list};
pub use preserve::{PRESERVED_PREFIX, preserved_ref_name};
use refs::RefSnapshot;
pub use retire::DETACHED_PREFIX;
pub use trash::TRASH_DIR;

/// The text git prints when `worktree add` meets a stale registration at the target path.
const MISSING_BUT_REGISTERED: &str = "is a missing but already registered worktree";

/// Configuration of [`GitWorktree`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitWorktreeOptions {
    /// The git program (default `git`, looked up on `PATH`).
    pub git: OsString,
    /// Where worktrees live (default `<data dir>/worktrees`); resolved to an absolute physical
    /// path when the adapter is built.
    pub managed_root: PathBuf,
}

impl GitWorktreeOptions {
    /// The defaults for a data directory: `git` on `PATH`, worktrees under `<data dir>/worktrees`.
    pub fn for_data_dir(data_dir: &Path) -> Self {
        Self {
            git: OsString::from("git"),
            managed_root: data_dir.join("worktrees"),
        }
    }
}

/// The [`Workspace`] port over `git worktree`.
#[derive(Debug, Clone)]
pub struct GitWorktree {
    git: Git,
    root: ManagedRoot,
}

impl GitWorktree {
    /// Resolves the managed root (which need not exist yet); runs no git.
    pub fn new(
        options: GitWorktreeOptions,
        runner: Arc<dyn CommandRunner>,
    ) -> Result<Self, WorkspaceError> {
        Ok(Self {
            git: Git::new(runner, options.git),
            root: ManagedRoot::resolve(&options.managed_root)?,
        })
    }

    /// The managed root as an absolute physical path.
    pub fn managed_root(&self) -> &Path {
        self.root.path()
    }

    /// `git -C <repo> worktree list --porcelain`, parsed.
    pub async fn list_registered(
        &self,
        repo: &Path,
    ) -> Result<Vec<WorktreeRecord>, WorkspaceError> {
        let spec = self.git.at(repo).args(["worktree", "list", "--porcelain"]);
        let text = self.git.ok(&spec).await?;
        Ok(parse_worktree_list(&text))
    }

    /// The session's managed path.
    fn request_path(&self, request: &WorkspaceRequest) -> Result<PathBuf, WorkspaceError> {
        self.root
            .session_path(request.project_id.as_str(), request.session_id.as_str())
    }

    /// Whether `refs/heads/<branch>` exists.
    async fn local_branch_exists(&self, repo: &Path, branch: &str) -> Result<bool, WorkspaceError> {
        Ok(self
            .git
            .resolve(repo, &format!("refs/heads/{branch}"))
            .await?
            .is_some())
    }

    /// Every ref a new branch's creation depends on, in one `git for-each-ref`.
    async fn ref_snapshot(
        &self,
        repo: &Path,
        branch: &str,
        configured: Option<&str>,
    ) -> Result<RefSnapshot, WorkspaceError> {
        let spec = self
            .git
            .at(repo)
            .args(["for-each-ref", refs::FORMAT])
            .args(refs::patterns(branch, configured));
        Ok(RefSnapshot::parse(&self.git.ok(&spec).await?))
    }

    /// The default branch `D`: the configured base branch, else origin's HEAD, else the current
    /// branch, else `main`.
    async fn default_branch(
        &self,
        repo: &Path,
        refs: &RefSnapshot,
        configured: Option<&str>,
    ) -> Result<String, WorkspaceError> {
        if let Some(base) = configured.filter(|b| !b.is_empty()) {
            return Ok(base.to_owned());
        }
        if let Some(head) = refs.origin_head() {
            return Ok(head);
        }
        let current = self.git.at(repo).args(["branch", "--show-current"]);
        let out = self.git.output(&current).await?;
        let name = out.stdout_text();
        let name = name.trim();
        if out.success() && !name.is_empty() {
            return Ok(name.to_owned());
        }
        Ok("main".to_owned())
    }

    /// The first existing base-ref candidate for a new branch, else `BranchNotFetched`.
    async fn base_ref(
        &self,
        repo: &Path,
        refs: &RefSnapshot,
        branch: &str,
        configured: Option<&str>,
    ) -> Result<String, WorkspaceError> {
        let default = self.default_branch(repo, refs, configured).await?;
        if let Some(found) = base_candidates(branch, &default)
            .into_iter()
            .find(|candidate| refs.resolves(candidate))
        {
            return Ok(found);
        }
        Err(match self.diagnose_missing_base(repo, &default).await {
            WorkspaceError::BaseNotFound(_) if configured.is_none() => {
                WorkspaceError::BranchNotFetched(branch.to_owned())
            }
            other => other,
        })
    }

    /// Runs one `git -C <repo> worktree add …` with the long deadline.
    async fn worktree_add(&self, repo: &Path, args: Vec<OsString>) -> Result<(), WorkspaceError> {
        let mut spec = self.git.at(repo).arg("worktree").arg("add").args(args);
        spec.timeout = ADD_TIMEOUT;
        self.git.ok(&spec).await.map(drop)
    }

    /// Re-registers a worktree whose directory is missing (and is not locked): one
    /// `worktree add --force`, never two (a second `--force` would override a lock).
    async fn reregister(
        &self,
        request: &WorkspaceRequest,
        path: &Path,
        registration: &WorktreeRecord,
        branch: &str,
        records: &[WorktreeRecord],
        refs: RefSnapshot,
    ) -> Result<(), WorkspaceError> {
        if registration.locked.is_some() {
            return Err(WorkspaceError::Locked);
        }
        // `--force` would also let git check out a branch that another worktree has.
        refuse_if_checked_out_elsewhere(records, branch, path)?;
        let configured = request.base_branch.as_deref();
        let args = if refs.local_branch(branch) {
            force_existing_args(path, branch)
        } else {
            let base = self
                .base_ref(&request.repo, &refs, branch, configured)
                .await?;
            force_new_args(path, branch, &base)
        };
        self.worktree_add(&request.repo, args).await
    }

    /// Adds a worktree at an unregistered path: refused while the branch is checked out in another
    /// worktree; the local branch if it exists, else a new branch from the first base candidate.
    async fn add_fresh(
        &self,
        request: &WorkspaceRequest,
        path: &Path,
        records: &[WorktreeRecord],
        refs: RefSnapshot,
    ) -> Result<(), WorkspaceError> {
        let (repo, branch) = (&request.repo, request.branch.as_str());
        refuse_if_checked_out_elsewhere(records, branch, path)?;
        refuse_if_occupied(path)?;
        let configured = request.base_branch.as_deref();
        if refs.local_branch(branch) {
            return self.worktree_add(repo, existing_args(path, branch)).await;
        }
        let base = self.base_ref(repo, &refs, branch, configured).await?;
        let first = match self.worktree_add(repo, new_args(path, branch, &base)).await {
            Ok(()) => return Ok(()),
            Err(e) => e,
        };
        let WorkspaceError::Git { argv, output } = &first else {
            return Err(first);
        };
        if !output.contains(MISSING_BUT_REGISTERED) {
            return Err(first);
        }
        // The failed attempt may have created the branch already; that ref is kept either way.
        let retry = if self.local_branch_exists(repo, branch).await? {
            force_existing_args(path, branch)
        } else {
            force_new_args(path, branch, &base)
        };
        match self.worktree_add(repo, retry).await {
            Ok(()) => Ok(()),
            Err(WorkspaceError::Git {
                argv: retry_argv,
                output: retry_output,
            }) => Err(WorkspaceError::Git {
                argv: retry_argv,
                output: format!("{retry_output}\n(first attempt `{argv}`: {output})"),
            }),
            Err(other) => Err(other),
        }
    }

    fn info(&self, request: &WorkspaceRequest, path: PathBuf, branch: String) -> WorkspaceInfo {
        WorkspaceInfo {
            repo: request.repo.clone(),
            path,
            branch,
            project_id: request.project_id.clone(),
            session_id: request.session_id.clone(),
        }
    }
}

#[async_trait]
impl Workspace for GitWorktree {
    async fn check_branch(&self, _repo: &Path, branch: &str) -> Result<(), WorkspaceError> {
        match branch_name_error(branch) {
            None => Ok(()),
            Some(reason) => Err(WorkspaceError::BranchInvalid {
                branch: branch.to_owned(),
                output: reason,
            }),
        }
    }

    async fn check_base(&self, repo: &Path, base: Option<&str>) -> Result<(), WorkspaceError> {
        self.check_base_impl(repo, base).await
    }

    async fn prune_branches(
        &self,
        repo: &Path,
        base: Option<&str>,
        dry_run: bool,
    ) -> Result<BranchPrune, WorkspaceError> {
        self.prune_branches_impl(repo, base, dry_run).await
    }

    fn path_for(
        &self,
        project: &ProjectId,
        session: &SessionId,
    ) -> Result<PathBuf, WorkspaceError> {
        self.root.session_path(project.as_str(), session.as_str())
    }

    async fn create(&self, request: &WorkspaceRequest) -> Result<WorkspaceInfo, WorkspaceError> {
        validate_request(request)?;
        let path = self.request_path(request)?;
        let (repo, branch) = (&request.repo, request.branch.as_str());
        // The branch name is checked in-process, before any git runs; the two read-only
        // queries run at once (a spawn's latency is the processes on its critical path).
        self.check_branch(repo, branch).await?;
        let (records, refs) = tokio::join!(
            self.list_registered(repo),
            self.ref_snapshot(repo, branch, request.base_branch.as_deref()),
        );
        // Git cannot even start in a deleted repository: say that, not git's words for it.
        let records = records.or_else(|e| Self::ensure_repo_exists(repo).and(Err(e)))?;
        if let Some(registration) = find_registration(&records, &path) {
            let registered = registration
                .branch
                .clone()
                .unwrap_or_else(|| request.branch.clone());
            if path.is_dir() {
                return Ok(self.info(request, path, registered));
            }
            self.reregister(request, &path, registration, branch, &records, refs?)
                .await?;
            return Ok(self.info(request, path, request.branch.clone()));
        }
        self.add_fresh(request, &path, &records, refs?).await?;
        Ok(self.info(request, path, request.branch.clone()))
    }

    async fn retire(
        &self,
        info: &WorkspaceInfo,
        mode: RetireMode,
        now: Timestamp,
    ) -> Result<Retired, WorkspaceError> {
        self.retire_worktree(info, mode, now).await
    }

    async fn list(
        &self,
        repo: &Path,
        project: &ProjectId,
    ) -> Result<Vec<WorkspaceInfo>, WorkspaceError> {
        let project_dir = self.root.project_dir(project.as_str())?;
        let records = self.list_registered(repo).await?;
        let mut infos = vec![];
        for record in records.into_iter().filter(|r| !r.bare) {
            let Some(parent) = record.path.parent() else {
                continue;
            };
            if !same_place(parent, &project_dir) {
                continue;
            }
            let Some(name) = record.path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            let Ok(session_id) = SessionId::parse(name) else {
                tracing::warn!(path = %record.path.display(), "worktree under the managed root has no valid session id");
                continue;
            };
            infos.push(WorkspaceInfo {
                repo: repo.to_path_buf(),
                path: project_dir.join(name),
                branch: record.branch.unwrap_or_default(),
                project_id: project.clone(),
                session_id,
            });
        }
        Ok(infos)
    }

    async fn restore(
        &self,
        request: &WorkspaceRequest,
    ) -> Result<(WorkspaceInfo, bool), WorkspaceError> {
        validate_request(request)?;
        let path = self.request_path(request)?;
        let records = self.list_registered(&request.repo).await?;
        if let Some(registration) = find_registration(&records, &path) {
            let branch = registration
                .branch
                .clone()
                .unwrap_or_else(|| request.branch.clone());
            if path.is_dir() {
                return Ok((self.info(request, path, branch), false));
            }
            let refs = self
                .ref_snapshot(&request.repo, &branch, request.base_branch.as_deref())
                .await?;
            self.reregister(request, &path, registration, &branch, &records, refs)
                .await?;
            return Ok((self.info(request, path, branch), true));
        }
        refuse_if_occupied(&path)?;
        if let Some(id) = self
            .latest_entry_of(&request.session_id, &request.repo)
            .await?
        {
            let entry = self.restore_entry(&id).await?;
            let records = self.list_registered(&request.repo).await?;
            let branch = find_registration(&records, &path)
                .and_then(|r| r.branch.clone())
                .or(entry.branch)
                .unwrap_or_else(|| request.branch.clone());
            return Ok((self.info(request, path, branch), false));
        }
        self.check_branch(&request.repo, &request.branch).await?;
        let refs = self
            .ref_snapshot(
                &request.repo,
                &request.branch,
                request.base_branch.as_deref(),
            )
            .await?;
        self.add_fresh(request, &path, &records, refs).await?;
        Ok((self.info(request, path, request.branch.clone()), true))
    }

    async fn preserved_ref(&self, info: &WorkspaceInfo) -> Result<Option<String>, WorkspaceError> {
        self.find_preserved(info).await
    }

    async fn apply_preserved(
        &self,
        info: &WorkspaceInfo,
        reference: &str,
    ) -> Result<(), WorkspaceError> {
        self.apply(info, reference).await
    }

    async fn repo_root(&self, path: &Path) -> Result<PathBuf, WorkspaceError> {
        let spec = self.git.at(path).args([
            "rev-parse",
            "--path-format=absolute",
            "--show-toplevel",
            "--git-common-dir",
        ]);
        let out = self.git.output(&spec).await?;
        if !out.success() {
            if !path.exists() {
                return Err(WorkspaceError::RepoMissing(path.display().to_string()));
            }
            return Err(failure(&spec, &out));
        }
        let text = out.stdout_text();
        let mut lines = text.lines().map(str::trim);
        match (lines.next(), lines.next()) {
            (Some(top), Some(common_dir)) if !top.is_empty() => Ok(ao_core::domain::main_worktree(
                Path::new(top),
                Path::new(common_dir),
            )),
            _ => Err(WorkspaceError::Io(format!(
                "{} is not inside a git work tree",
                path.display()
            ))),
        }
    }

    async fn status(&self, info: &WorkspaceInfo) -> Result<WorktreeStatus, WorkspaceError> {
        let path = info.path.as_path();
        self.root.check(path)?;
        let records = self.list_registered(&info.repo).await?;
        let Some(registration) = find_registration(&records, path) else {
            return Ok(if path.exists() {
                WorktreeStatus::Unregistered
            } else {
                WorktreeStatus::Missing
            });
        };
        if registration.locked.is_some() {
            return Ok(WorktreeStatus::Locked);
        }
        if !path.is_dir() {
            return Ok(WorktreeStatus::Missing);
        }
        let status = self.git.at(path).args(["status", "--porcelain"]);
        let out = self.git.output(&status).await?;
        if !out.success() {
            return Err(failure(&status, &out));
        }
        Ok(if out.stdout_text().trim().is_empty() {
            WorktreeStatus::Clean
        } else {
            WorktreeStatus::Dirty
        })
    }

    async fn add_exclude(
        &self,
        info: &WorkspaceInfo,
        patterns: &[String],
    ) -> Result<(), WorkspaceError> {
        self.exclude(info, patterns).await
    }

    async fn trash_list(&self) -> Result<Vec<TrashEntry>, WorkspaceError> {
        self.list_trash().await
    }

    async fn trash_restore(&self, id: &str) -> Result<TrashEntry, WorkspaceError> {
        self.restore_entry(id).await
    }

    async fn trash_empty(&self, cutoff: Option<Timestamp>) -> Result<TrashEmptied, WorkspaceError> {
        self.empty_trash(cutoff).await
    }

    async fn trash_repair(&self) -> Result<TrashRepair, WorkspaceError> {
        self.repair_trash().await
    }
}

/// Config validation: ids usable as path components, a branch given.
fn validate_request(request: &WorkspaceRequest) -> Result<(), WorkspaceError> {
    validate_component("project id", request.project_id.as_str())?;
    validate_component("session id", request.session_id.as_str())?;
    if request.branch.is_empty() {
        return Err(WorkspaceError::BranchInvalid {
            branch: String::new(),
            output: "a branch is required".to_owned(),
        });
    }
    Ok(())
}

/// Base-ref candidates for a new branch `B`, in order, the first that exists wins: `origin/B`; `D`
/// as is when it contains `/`, else `origin/D` then `refs/heads/D`; `B`; `refs/tags/B`.
pub fn base_candidates(branch: &str, default: &str) -> Vec<String> {
    let mut candidates = vec![format!("origin/{branch}")];
    if default.contains('/') {
        candidates.push(default.to_owned());
    } else {
        candidates.push(format!("origin/{default}"));
        candidates.push(format!("refs/heads/{default}"));
    }
    candidates.push(branch.to_owned());
    candidates.push(format!("refs/tags/{branch}"));
    candidates
}

fn existing_args(path: &Path, branch: &str) -> Vec<OsString> {
    vec![path.into(), branch.into()]
}

fn new_args(path: &Path, branch: &str, base: &str) -> Vec<OsString> {
    vec!["-b".into(), branch.into(), path.into(), base.into()]
}

fn force_existing_args(path: &Path, branch: &str) -> Vec<OsString> {
    let mut args = vec![OsString::from("--force")];
    args.extend(existing_args(path, branch));
    args
}

fn force_new_args(path: &Path, branch: &str, base: &str) -> Vec<OsString> {
    let mut args = vec![OsString::from("--force")];
    args.extend(new_args(path, branch, base));
    args
}

/// The registration at `path`, if any.
fn find_registration<'a>(records: &'a [WorktreeRecord], path: &Path) -> Option<&'a WorktreeRecord> {
    records.iter().find(|r| same_place(&r.path, path))
}

fn refuse_if_checked_out_elsewhere(
    records: &[WorktreeRecord],
    branch: &str,
    path: &Path,
) -> Result<(), WorkspaceError> {
    match records
        .iter()
        .find(|r| r.branch.as_deref() == Some(branch) && !same_place(&r.path, path))
    {
        Some(other) => {
            let mut place = other.path.display().to_string();
            if other
                .locked
                .as_deref()
                .is_some_and(|reason| reason.starts_with(trash::LOCK_REASON_PREFIX))
            {
                place.push_str(
                    " (a killed session's worktree in the trash: `aoctl trash restore` or \
                     `aoctl trash empty` it first)",
                );
            }
            Err(WorkspaceError::BranchCheckedOutElsewhere {
                branch: branch.to_owned(),
                path: place,
            })
        }
        None => Ok(()),
    }
}

/// Refuses an unregistered path that holds anything (a file, or a non-empty directory).
fn refuse_if_occupied(path: &Path) -> Result<(), WorkspaceError> {
    let occupied = match std::fs::symlink_metadata(path) {
        Err(_) => false,
        Ok(meta) if meta.is_dir() => std::fs::read_dir(path)
            .map(|mut entries| entries.next().is_some())
            .unwrap_or(true),
        Ok(_) => true,
    };
    if occupied {
        return Err(WorkspaceError::NotAWorktree(path.display().to_string()));
    }
    Ok(())
}

fn io_error(doing: &str, path: &Path, error: &std::io::Error) -> WorkspaceError {
    WorkspaceError::Io(format!("{doing} {}: {error}", path.display()))
}
