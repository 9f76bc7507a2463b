//! Forgetting ended sessions (`aoctl forget`, `cleanup --forget-ended`) and pruning `ao/*`
//! branches (`cleanup --branches`). A forgotten session's record goes; its change-log history
//! stays, and its number is never handed out again (so its id always means the same session).
//! Only an ended session whose worktree is gone (never made, or moved to the trash) is forgotten.

use std::path::PathBuf;
use std::time::Duration;

use super::{SessionManager, Skipped, SmError};
use crate::domain::{Project, ProjectId, SessionId, SessionRecord, meta};
use crate::lifecycle::{Applied, LcmError};
use crate::ports::{BranchPrune, WorkspaceInfo, WorktreeStatus};

/// What a forget did (or would do, in a dry run).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ForgetResult {
    pub forgotten: Vec<SessionId>,
    pub skipped: Vec<Skipped>,
}

/// What pruning one project's branches did, or why it could not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectBranches {
    pub project: ProjectId,
    pub result: Result<BranchPrune, String>,
}

impl SessionManager {
    /// Forgets the named sessions, each on its own: one that is unknown, still live, or whose
    /// worktree is still in place is skipped with why.
    pub async fn forget(&self, ids: &[SessionId], dry_run: bool) -> Result<ForgetResult, SmError> {
        let mut result = ForgetResult::default();
        for id in ids {
            match self.store.load(id).await? {
                Some(record) => self.forget_one(&record, false, dry_run, &mut result).await,
                None => result.skipped.push(Skipped {
                    id: id.clone(),
                    reason: "no such session (see `aoctl ls --all`)".to_owned(),
                }),
            }
        }
        Ok(result)
    }

    /// Forgets every ended session (of `project`) whose last change is at least `older_than`
    /// old. `cleaned` are the sessions whose worktree a dry-run cleanup would move first.
    pub async fn forget_ended(
        &self,
        project: Option<&ProjectId>,
        older_than: Option<Duration>,
        dry_run: bool,
        cleaned: &[SessionId],
    ) -> Result<ForgetResult, SmError> {
        let cutoff = older_than.map(|age| self.clock.now().minus(age));
        let mut result = ForgetResult::default();
        for record in self.store.list(project).await? {
            if !record.is_terminal() || cutoff.is_some_and(|cutoff| record.updated_at > cutoff) {
                continue;
            }
            let cleaned_first = dry_run && cleaned.contains(&record.id);
            self.forget_one(&record, cleaned_first, dry_run, &mut result)
                .await;
        }
        Ok(result)
    }

    async fn forget_one(
        &self,
        record: &SessionRecord,
        cleaned_first: bool,
        dry_run: bool,
        result: &mut ForgetResult,
    ) {
        let id = record.id.clone();
        let refusal = match self.why_not_forgettable(record).await {
            Some(_) if cleaned_first => None,
            other => other,
        };
        if let Some(reason) = refusal {
            result.skipped.push(Skipped { id, reason });
            return;
        }
        if dry_run {
            result.forgotten.push(id);
            return;
        }
        match self.lcm.forget(&id).await {
            Ok(Applied::UnknownSession) => result.skipped.push(Skipped {
                id,
                reason: "no such session (already forgotten?)".to_owned(),
            }),
            Ok(_) => result.forgotten.push(id),
            Err(LcmError::ActiveSession(_)) => result.skipped.push(Skipped {
                reason: live_reason(&id),
                id,
            }),
            Err(e) => result.skipped.push(Skipped {
                id,
                reason: e.to_string(),
            }),
        }
    }

    /// Why a record may not be forgotten yet, in words that say what to do; `None` when it may.
    async fn why_not_forgettable(&self, record: &SessionRecord) -> Option<String> {
        if !record.is_terminal() {
            return Some(live_reason(&record.id));
        }
        let path = record.meta(meta::WORKSPACE_PATH)?;
        // A removed project's worktrees are no longer ao's to clean.
        let project = match self.store.project(&record.project_id).await {
            Ok(project) => project?,
            Err(e) => return Some(e.to_string()),
        };
        let info = WorkspaceInfo {
            repo: project.repo_path,
            path: PathBuf::from(path),
            branch: record.meta(meta::BRANCH).unwrap_or_default().to_owned(),
            project_id: record.project_id.clone(),
            session_id: record.id.clone(),
        };
        match self.workspace.status(&info).await {
            Ok(WorktreeStatus::Missing) => None,
            Ok(_) => Some(format!(
                "its worktree is still at {path}; `aoctl cleanup` moves it to the trash first"
            )),
            Err(e) => Some(format!("its worktree could not be checked: {e}")),
        }
    }

    /// Deletes the `ao/*` branches of each project (or one) that hold no work of their own.
    pub async fn prune_branches(
        &self,
        project: Option<&ProjectId>,
        dry_run: bool,
    ) -> Result<Vec<ProjectBranches>, SmError> {
        let projects: Vec<Project> = self
            .store
            .projects()
            .await?
            .into_iter()
            .filter(|p| project.is_none_or(|only| &p.id == only))
            .collect();
        let mut out = Vec::with_capacity(projects.len());
        for p in projects {
            let result = self
                .workspace
                .prune_branches(&p.repo_path, p.base_branch.as_deref(), dry_run)
                .await
                .map_err(|e| e.to_string());
            out.push(ProjectBranches {
                project: p.id,
                result,
            });
        }
        Ok(out)
    }
}

fn live_reason(id: &SessionId) -> String {
    format!("session is still live; end it with `aoctl kill {id}` first")
}
