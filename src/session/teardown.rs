//! Kill and cleanup (session-manager.md sections 6 and 8). Neither ever loses work: a dirty,
//! locked or still-registered worktree is kept unless `preserve` is asked for, and then the work
//! is stashed into `refs/ao/preserved/<id>` before the only forced removal.

use tracing::warn;

use super::{SessionManager, SmError};
use crate::domain::{KillKind, KillReason, ProjectId, SessionId, SessionRecord, meta};
use crate::messages::runtime_handle;
use crate::ports::{WorkspaceError, WorkspaceInfo, WorktreeStatus};

/// How a kill should go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KillOptions {
    pub kind: KillKind,
    pub detail: Option<String>,
    /// Stash uncommitted work into `refs/ao/preserved/<id>`, then remove the worktree.
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

/// What a kill did to the workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KillResult {
    pub id: SessionId,
    pub workspace_freed: bool,
    /// The ref holding preserved work, when there was any.
    pub preserved_ref: Option<String>,
    /// Why the worktree was kept.
    pub workspace_error: Option<WorkspaceError>,
}

/// A terminal session cleanup left alone, and why (never a raw filesystem path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub id: SessionId,
    pub reason: String,
}

/// What a cleanup did (or would do, in a dry run).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CleanupResult {
    pub cleaned: Vec<SessionId>,
    /// Preserved refs of cleaned sessions, `(id, ref)`.
    pub preserved: Vec<(SessionId, String)>,
    pub skipped: Vec<Skipped>,
}

/// The outcome of freeing one worktree.
enum Freed {
    Yes(Option<String>),
    No(WorkspaceError),
}

impl SessionManager {
    /// `Kill` (section 6): terminal intent first, then the runtime, then the worktree.
    pub async fn kill(&self, id: &SessionId, options: KillOptions) -> Result<KillResult, SmError> {
        let Some(record) = self.store.load(id).await? else {
            return Ok(KillResult {
                id: id.clone(),
                workspace_freed: false,
                preserved_ref: None,
                workspace_error: None,
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
        self.runtime.destroy(&handle).await?;
        let freed = match self.workspace_info(&record).await {
            Ok(info) => self.free_workspace(&info, options.preserve).await,
            Err(e) => Freed::No(e),
        };
        Ok(match freed {
            Freed::Yes(preserved_ref) => KillResult {
                id: id.clone(),
                workspace_freed: true,
                preserved_ref,
                workspace_error: None,
            },
            Freed::No(e) => KillResult {
                id: id.clone(),
                workspace_freed: false,
                preserved_ref: None,
                workspace_error: Some(e),
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

    /// Never-forced removal; with `preserve`, a dirty or still-registered worktree is stashed
    /// and then removed. If the stash fails, nothing is removed.
    async fn free_workspace(&self, info: &WorkspaceInfo, preserve: bool) -> Freed {
        match self.workspace.destroy(info).await {
            Ok(()) => Freed::Yes(None),
            Err(WorkspaceError::Dirty | WorkspaceError::StillRegistered(_)) if preserve => {
                match self.workspace.preserve_then_remove(info).await {
                    Ok(reference) => Freed::Yes(reference),
                    Err(e) => Freed::No(e),
                }
            }
            Err(e) => Freed::No(e),
        }
    }

    /// `Cleanup` (section 8) over terminal sessions, in order. A dry run destroys nothing and
    /// reports what a real run would do.
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
            let skip = |result: &mut CleanupResult, reason: &str| {
                result.skipped.push(Skipped {
                    id: id.clone(),
                    reason: reason.to_owned(),
                });
            };
            let info = match self.workspace_info(&record).await {
                Ok(info) => info,
                Err(WorkspaceError::Stale(reason)) => {
                    skip(&mut result, &reason);
                    continue;
                }
                Err(_) => {
                    skip(&mut result, "workspace teardown failed");
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
                        result.cleaned.push(id.clone());
                    }
                    Ok(WorktreeStatus::Dirty) if preserve => result.cleaned.push(id.clone()),
                    Ok(WorktreeStatus::Dirty) => {
                        skip(&mut result, "workspace has uncommitted changes")
                    }
                    Ok(WorktreeStatus::Locked) => skip(&mut result, "workspace is locked"),
                    Ok(WorktreeStatus::Missing) => {}
                    Err(_) => skip(&mut result, "workspace teardown failed"),
                }
                continue;
            }
            if let Some(handle) = runtime_handle(&record)
                && let Err(e) = self.runtime.destroy(&handle).await
            {
                warn!(session = %id, error = %e, "cleanup: destroying a leaked runtime failed");
            }
            match self.free_workspace(&info, preserve).await {
                Freed::Yes(reference) => {
                    result.cleaned.push(id.clone());
                    if let Some(reference) = reference {
                        result.preserved.push((id.clone(), reference));
                    }
                }
                Freed::No(WorkspaceError::Dirty | WorkspaceError::StillRegistered(_)) => {
                    skip(&mut result, "workspace has uncommitted changes")
                }
                Freed::No(WorkspaceError::Locked) => skip(&mut result, "workspace is locked"),
                Freed::No(e) => {
                    warn!(session = %id, error = %e, "cleanup: removing the worktree failed");
                    skip(&mut result, "workspace teardown failed");
                }
            }
        }
        Ok(result)
    }
}
