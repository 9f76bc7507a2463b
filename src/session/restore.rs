//! Restore: relaunch a terminal session in its worktree, by the agent's native resume when
//! possible, else with its saved prompt. The worktree is never destroyed by a failed restore; the
//! record is reverted instead.

use tracing::warn;

use super::spawn::{LaunchOptions, agent_error};
use super::{SessionManager, SmError, Step};
use crate::domain::{NotifyEvent, Priority, Session, SessionId, SessionRecord, SpawnOutcome, meta};
use crate::lifecycle::SpawnInitiation;
use crate::messages::runtime_handle;
use crate::ports::{RestoreConfig, RuntimeConfig, RuntimeError, WorkspaceError, WorkspaceRequest};

impl SessionManager {
    /// `Restore(id)`; returns the session with status `spawning`. Preserved work that conflicts
    /// on re-apply is told to the user as a `workspace.preserved-conflict` warning.
    pub async fn restore(&self, id: &SessionId) -> Result<Session, SmError> {
        let earlier = self
            .store
            .load(id)
            .await?
            .ok_or_else(|| SmError::NotFound(id.clone()))?;
        if !earlier.is_terminal() {
            return Err(SmError::NotRestorable(id.clone()));
        }
        let (Some(path), Some(branch)) = (
            earlier.meta(meta::WORKSPACE_PATH),
            earlier.meta(meta::BRANCH),
        ) else {
            let missing = if earlier.meta(meta::WORKSPACE_PATH).is_none() {
                "workspace path"
            } else {
                "branch"
            };
            return Err(SmError::IncompleteHandle {
                id: id.clone(),
                missing,
            });
        };
        let harness = self
            .agents
            .get(&earlier.agent)
            .ok_or_else(|| self.unknown_agent(&earlier.agent))?;
        let project = self
            .store
            .project(&earlier.project_id)
            .await?
            .ok_or_else(|| SmError::ProjectNotFound(earlier.project_id.clone()))?;

        // 2. Choose the launch before any I/O.
        let options = LaunchOptions::of(&earlier);
        let prompt = earlier.meta(meta::PROMPT).map(str::to_owned);
        let workspace_path = std::path::PathBuf::from(path);
        let launch = self.launch_config(Some(id), Some(&workspace_path), prompt.clone(), &options);
        let restore = RestoreConfig {
            launch: launch.clone(),
            agent_session_id: earlier.meta(meta::AGENT_SESSION_ID).map(str::to_owned),
        };
        let argv = match harness.restore_argv(&restore).map_err(agent_error)? {
            Some(argv) => argv,
            None if prompt.is_some() => harness.launch_argv(&launch).map_err(agent_error)?,
            None => return Err(SmError::NotResumable(id.clone())),
        };
        let binary = harness.resolve_binary(&launch).map_err(agent_error)?;

        // 3–4. The worktree, and preserved work when it had to be recreated.
        let request = WorkspaceRequest {
            repo: project.repo_path.clone(),
            project_id: earlier.project_id.clone(),
            session_id: id.clone(),
            branch: branch.to_owned(),
            base_branch: project.base_branch.clone(),
        };
        let (info, recreated) = self.workspace.restore(&request).await?;
        match self.workspace.preserved_ref(&info).await {
            Ok(Some(reference)) if recreated => {
                match self.workspace.apply_preserved(&info, &reference).await {
                    Ok(()) => {}
                    Err(WorkspaceError::PreservedConflict { reference }) => {
                        warn!(session = %id, %reference, "preserved work conflicts with the branch; markers left in place");
                        self.notifier.notify(NotifyEvent {
                            event_type: "workspace.preserved-conflict".to_owned(),
                            priority: Priority::Warning,
                            session_id: id.clone(),
                            project_id: earlier.project_id.clone(),
                            message: format!(
                                "Session {id}: preserved changes conflict with the branch; resolve the conflict markers (ref {reference} kept)."
                            ),
                            data: serde_json::json!({ "ref": reference }),
                            created_at: self.clock.now(),
                        })
                        .await;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            Ok(Some(reference)) => {
                warn!(session = %id, %reference, "worktree reused; preserved ref left untouched");
            }
            Ok(None) => {}
            Err(e) => warn!(session = %id, error = %e, "checking for preserved work failed"),
        }

        // 5. Hooks and pre-launch (idempotent).
        self.prepare_agent(harness.as_ref(), &info, vec![])
            .await
            .map_err(|(step, message)| SmError::StepFailed {
                id: id.clone(),
                step,
                message,
            })?;

        // An agent that exited left its pane open (the shell after it); the new launch needs
        // the name.
        if earlier.meta(meta::EXIT_CODE).is_some()
            && let Some(old) = runtime_handle(&earlier)
        {
            match self.runtime.destroy(&old).await {
                Ok(()) | Err(RuntimeError::Leftover(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }

        // 6. Reopen.
        let reopened = self
            .lcm
            .on_spawn_initiated(SpawnInitiation::Reopen(id.clone()))
            .await?
            .record;

        // 7. A fresh runtime with the new launch generation.
        let env = self.pane_env(
            &reopened,
            &project,
            harness.as_ref(),
            &launch,
            &options,
            &binary,
        );
        let config = RuntimeConfig {
            session_id: id.clone(),
            workspace_path: info.path.clone(),
            argv,
            env,
        };
        let handle = match self.runtime.create(&config).await {
            Ok(handle) => handle,
            Err(e) => {
                self.revert(&earlier).await;
                return Err(SmError::StepFailed {
                    id: id.clone(),
                    step: Step::Runtime,
                    message: e.to_string(),
                });
            }
        };

        // 8. Completed.
        let outcome = SpawnOutcome {
            branch: info.branch.clone(),
            workspace_path: info.path.display().to_string(),
            runtime_handle: handle.clone(),
            agent_session_id: restore.agent_session_id.clone(),
            prompt,
        };
        if let Err(e) = self.lcm.on_spawn_completed(id, &outcome).await {
            if let Err(destroy) = self.runtime.destroy(&handle).await {
                warn!(session = %id, error = %destroy, "rollback: destroying the runtime failed");
            }
            self.revert(&earlier).await;
            return Err(SmError::StepFailed {
                id: id.clone(),
                step: Step::SpawnCompleted,
                message: e.to_string(),
            });
        }
        self.get(id).await
    }

    /// `OnSpawnInitiated(revert)` to the pre-restore record, best effort.
    async fn revert(&self, earlier: &SessionRecord) {
        if let Err(e) = self
            .lcm
            .on_spawn_initiated(SpawnInitiation::Revert(earlier.clone()))
            .await
        {
            warn!(session = %earlier.id, error = %e, "reverting a failed restore failed");
        }
    }
}
