//! Kill and cleanup. Neither ever loses work: a worktree leaves its managed path only into the
//! trash (after its commits are pinned), a dirty or locked one stays in place unless `preserve`
//! asks to stash the work first, and every reply says where the files went.

use tracing::warn;

use super::{SessionManager, SmError};
use crate::domain::{KillKind, KillReason, ProjectId, SessionId, SessionRecord, meta};
use crate::messages::runtime_handle;
use crate::ports::{
    RetireMode, Retired, RuntimeError, WorkspaceError, WorkspaceInfo, WorktreeStatus,
};

/// How a kill should go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KillOptions {
    pub kind: KillKind,
    pub detail: Option<String>,
    /// Stash uncommitted work into `refs/ao/preserved/<id>` before the worktree goes to the trash.
    pub preserve: bool,
}

impl KillOptions {
    pub fn manual(preserve: bool) -> Self {
        Self {
            kind: KillKind::Manual,
            detail: None,
            preserve,
        }
    }
}

/// What a kill did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KillResult {
    pub id: SessionId,
    /// The worktree left its managed path (into the trash), or was already gone.
    pub workspace_freed: bool,
    /// Where the files went and which refs keep the commits and the work.
    pub retired: Retired,
    /// Why the worktree was kept in place.
    pub workspace_error: Option<WorkspaceError>,
    /// What the runtime left behind although it is gone (e.g. an output log it could not remove).
    pub leftovers: Vec<String>,
}

/// A terminal session cleanup left alone, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub id: SessionId,
    pub reason: String,
}

/// What a cleanup did (or would do, in a dry run).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CleanupResult {
    /// Sessions whose worktree went to the trash (or would), with what retiring it did
    /// (empty in a dry run).
    pub cleaned: Vec<(SessionId, Retired)>,
    pub skipped: Vec<Skipped>,
}

/// The retire mode of kill and cleanup.
fn mode(preserve: bool) -> RetireMode {
    if preserve {
        RetireMode::Preserve
    } else {
        RetireMode::KeepDirty
    }
}

/// Why cleanup leaves a worktree alone, in words that say what to do.
fn skip_reason(error: &WorkspaceError) -> String {
    match error {
        WorkspaceError::Dirty { .. } => format!("{error} (`--preserve` stashes them first)"),
        WorkspaceError::Locked => "workspace is locked (`git worktree unlock` it first)".to_owned(),
        other => other.to_string(),
    }
}

impl SessionManager {
    /// Kill: terminal intent first, then the runtime, then the worktree. A runtime that is gone
    /// but left files behind does not stop the kill; the result names them.
    pub async fn kill(&self, id: &SessionId, options: KillOptions) -> Result<KillResult, SmError> {
        let Some(record) = self.store.load(id).await? else {
            return Ok(KillResult {
                id: id.clone(),
                workspace_freed: false,
                retired: Retired::default(),
                workspace_error: None,
                leftovers: vec![],
            });
        };
        let handle = runtime_handle(&record).ok_or(SmError::IncompleteTeardownMetadata {
            id: id.clone(),
            missing: "runtime handle",
        })?;
        if record.meta(meta::WORKSPACE_PATH).is_none() {
            return Err(SmError::IncompleteTeardownMetadata {
                id: id.clone(),
                missing: "workspace path",
            });
        }
        if !record.is_terminal() {
            let mut reason = KillReason::new(options.kind);
            reason.detail = options.detail.clone();
            self.lcm.on_kill_requested(id, &reason).await?;
        }
        let leftovers = match self.runtime.destroy(&handle).await {
            Ok(()) => vec![],
            Err(leftover @ RuntimeError::Leftover(_)) => vec![leftover.to_string()],
            Err(e) => return Err(e.into()),
        };
        let retired = match self.workspace_info(&record).await {
            Ok(info) => {
                self.workspace
                    .retire(&info, mode(options.preserve), self.clock.now())
                    .await
            }
            Err(e) => Err(e),
        };
        Ok(match retired {
            Ok(retired) => KillResult {
                id: id.clone(),
                workspace_freed: true,
                retired,
                workspace_error: None,
                leftovers,
            },
            Err(e) => KillResult {
                id: id.clone(),
                workspace_freed: false,
                retired: Retired::default(),
                workspace_error: Some(e),
                leftovers,
            },
        })
    }

    /// The workspace of a record, from its metadata and its project's repository.
    pub(super) async fn workspace_info(
        &self,
        record: &SessionRecord,
    ) -> Result<WorkspaceInfo, WorkspaceError> {
        let path = record
            .meta(meta::WORKSPACE_PATH)
            .ok_or_else(|| WorkspaceError::Stale("no workspace recorded".to_owned()))?;
        let project = self
            .store
            .project(&record.project_id)
            .await
            .map_err(|e| WorkspaceError::Io(e.to_string()))?
            .ok_or_else(|| {
                WorkspaceError::Stale(format!("project {} is not registered", record.project_id))
            })?;
        Ok(WorkspaceInfo {
            repo: project.repo_path,
            path: path.into(),
            branch: record.meta(meta::BRANCH).unwrap_or_default().to_owned(),
            project_id: record.project_id.clone(),
            session_id: record.id.clone(),
        })
    }

    /// Cleanup over terminal sessions, in order. A dry run changes nothing and reports what a
    /// real run would do.
    pub async fn cleanup(
        &self,
        project: Option<&ProjectId>,
        preserve: bool,
        dry_run: bool,
    ) -> Result<CleanupResult, SmError> {
        let mut result = CleanupResult::default();
        for record in self.store.list(project).await? {
            if !record.is_terminal() {
                continue;
            }
            let id = record.id.clone();
            let skip = |result: &mut CleanupResult, reason: String| {
                result.skipped.push(Skipped {
                    id: id.clone(),
                    reason,
                });
            };
            let info = match self.workspace_info(&record).await {
                Ok(info) => info,
                Err(e) => {
                    skip(&mut result, skip_reason(&e));
                    continue;
                }
            };
            let status = self.workspace.status(&info).await;
            if matches!(status, Ok(WorktreeStatus::Missing)) {
                // Already cleaned earlier: nothing to report.
                continue;
            }
            if dry_run {
                match status {
                    Ok(WorktreeStatus::Clean | WorktreeStatus::Unregistered) => {
                        result.cleaned.push((id.clone(), Retired::default()));
                    }
                    Ok(WorktreeStatus::Dirty) if preserve => {
                        result.cleaned.push((id.clone(), Retired::default()))
                    }
                    Ok(WorktreeStatus::Dirty) => {
                        let dirty = WorkspaceError::Dirty { paths: vec![] };
                        skip(&mut result, skip_reason(&dirty))
                    }
                    Ok(WorktreeStatus::Locked) => {
                        skip(&mut result, skip_reason(&WorkspaceError::Locked))
                    }
                    Ok(WorktreeStatus::Missing) => {}
                    Err(e) => skip(&mut result, skip_reason(&e)),
                }
                continue;
            }
            if let Some(handle) = runtime_handle(&record)
                && let Err(e) = self.runtime.destroy(&handle).await
            {
                warn!(session = %id, error = %e, "cleanup: destroying a leaked runtime failed");
            }
            match self
                .workspace
                .retire(&info, mode(preserve), self.clock.now())
                .await
            {
                Ok(retired) => result.cleaned.push((id.clone(), retired)),
                Err(e) => {
                    warn!(session = %id, error = %e, "cleanup: worktree kept");
                    skip(&mut result, skip_reason(&e));
                }
            }
        }
        Ok(result)
    }

    /// The worktree of a spawn that failed or was interrupted goes to the trash, and the branch
    /// ao created for it goes when it never moved; failures are logged (cleanup can retry).
    pub(super) async fn discard_workspace(&self, info: &WorkspaceInfo) {
        match self
            .workspace
            .retire(info, RetireMode::Discard, self.clock.now())
            .await
        {
            Ok(retired) => {
                if let Some(branch) = &retired.deleted_branch {
                    tracing::info!(session = %info.session_id, branch, "deleted the unused branch of a failed spawn");
                }
            }
            Err(e) => {
                warn!(session = %info.session_id, error = %e, "rollback: moving the worktree to the trash failed; `aoctl cleanup` can retry");
            }
        }
    }
}
