//! Spawn: preflight, then create record → worktree → setup and hooks → runtime →
//! `OnSpawnCompleted`, rolling back in reverse order on failure.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tracing::warn;

use super::env::{IdentityEnv, pinned_path, runtime_env};
use super::in_flight::{SpawnInFlight, SpawnProgress};
use super::{META_LAUNCH_OPTIONS, SessionManager, SmError, Step, validate};
use crate::domain::{
    IssueId, KillKind, KillReason, NewMessage, Project, ProjectId, RuntimeHandle, Session,
    SessionId, SessionKind, SessionRecord, SpawnOutcome, meta,
};
use crate::lifecycle::{NewSessionSpec, SpawnInitiation};
use crate::ports::{
    AgentError, AgentHarness, LaunchConfig, PermissionMode, PromptDelivery, RuntimeConfig,
    SetupProgress, WorkspaceError, WorkspaceInfo, WorkspaceRequest,
};

/// How long a retried spawn waits for the original (same request id) to finish.
const REQUEST_WAIT: Duration = Duration::from_secs(120);
/// Readiness of a `send`-delivery agent: initial delay, poll interval, give-up time.
const READY_DELAY: Duration = Duration::from_millis(750);
const READY_POLL: Duration = Duration::from_millis(200);
const READY_TIMEOUT: Duration = Duration::from_secs(8);
/// How long spawn waits for the after-start prompt to be written.
const PROMPT_WAIT: Duration = Duration::from_secs(30);

/// Agent options chosen at spawn, kept in metadata for restore.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LaunchOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permission_mode: Option<PermissionMode>,
    /// The argv of the generic `command` harness.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    /// Variables the spawner set for this session (`spawn --env`/`--env-file`); they win over
    /// the project's.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// The spawner's `PATH`: the agent's program is looked up there, and the pane gets it
    /// unless the project or `env` sets `PATH`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

impl LaunchOptions {
    /// The options recorded on a session (empty when none were recorded).
    pub fn of(record: &SessionRecord) -> Self {
        record
            .meta(META_LAUNCH_OPTIONS)
            .and_then(|json| serde_json::from_str(json).ok())
            .unwrap_or_default()
    }
}

/// A spawn request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpawnRequest {
    pub project: ProjectId,
    pub issue: Option<IssueId>,
    pub kind: SessionKind,
    pub branch: Option<String>,
    pub prompt: Option<String>,
    /// Standing instructions appended to the prompt.
    pub agent_rules: Option<String>,
    pub agent: Option<String>,
    pub options: LaunchOptions,
    /// Client-chosen idempotency key.
    pub request_id: Option<String>,
    /// The session whose agent spawned this one.
    pub parent: Option<SessionId>,
}

/// `prompt`, `agentRules`, or both joined by a blank line (`prompt` first).
fn full_prompt(prompt: Option<&str>, rules: Option<&str>) -> String {
    let parts: Vec<&str> = [prompt, rules]
        .into_iter()
        .flatten()
        .filter(|s| !s.trim().is_empty())
        .collect();
    parts.join("\n\n")
}

/// What preflight resolved.
struct Preflight {
    project: Project,
    harness: Arc<dyn AgentHarness>,
    binary: std::path::PathBuf,
}

/// Why a spawn stopped after its record was created.
enum Halt {
    Failed {
        step: Step,
        message: String,
    },
    /// Its caller cancelled it while it was at `step`.
    Cancelled {
        step: Step,
    },
}

impl Halt {
    fn failed(step: Step, e: impl std::fmt::Display) -> Self {
        Halt::Failed {
            step,
            message: e.to_string(),
        }
    }
}

/// Records what a spawn is doing, for its caller's progress display.
fn note_step(spawn: Option<&SpawnInFlight>, step: &str) {
    if let Some(spawn) = spawn {
        spawn.set_step(step);
    }
}

/// `Err(Cancelled at step)` once the spawn's caller asked to cancel it.
fn check_cancel(spawn: Option<&SpawnInFlight>, step: Step) -> Result<(), Halt> {
    match spawn {
        Some(spawn) if spawn.is_cancelled() => Err(Halt::Cancelled { step }),
        _ => Ok(()),
    }
}

/// `work`'s output, or `None` when the spawn is cancelled first (`work` is then dropped, so it
/// must be safe to drop at any await point).
async fn unless_cancelled<T>(
    spawn: Option<&SpawnInFlight>,
    work: impl std::future::Future<Output = T>,
) -> Option<T> {
    match spawn {
        None => Some(work.await),
        Some(spawn) => tokio::select! {
            biased;
            () = spawn.cancelled() => None,
            done = work => Some(done),
        },
    }
}

impl SessionManager {
    /// Spawns a session; returns it with status `spawning`. A spawn with a request id is
    /// tracked while it runs: [`SessionManager::spawn_progress`] tells its step, and
    /// [`SessionManager::cancel_spawn`] stops it and rolls it back.
    pub async fn spawn(&self, request: SpawnRequest) -> Result<Session, SmError> {
        let guard = request
            .request_id
            .as_deref()
            .and_then(|request_id| self.in_flight.register(request_id));
        let tracker = guard.as_ref().map(|g| g.spawn.as_ref());
        let pre = self.preflight(&request).await?;
        let prompt = full_prompt(request.prompt.as_deref(), request.agent_rules.as_deref());
        let created = self
            .lcm
            .on_spawn_initiated(SpawnInitiation::Create(NewSessionSpec {
                project_id: request.project.clone(),
                issue_id: request.issue.clone(),
                kind: request.kind,
                agent: pre.harness.name().to_owned(),
                branch: request.branch.clone().unwrap_or_default(),
                prompt: prompt.clone(),
                spawn_request_id: request.request_id.clone(),
                extra_metadata: spawn_metadata(&request),
            }))
            .await?;
        if created.existing {
            return self.await_existing_spawn(&created.record.id).await;
        }
        let record = created.record;
        let id = record.id.clone();
        if let Some(tracker) = tracker {
            tracker.set_session(&id);
        }
        let branch = request.branch.clone().unwrap_or_else(|| format!("ao/{id}"));
        if let Err(halt) = check_cancel(tracker, Step::Workspace) {
            return Err(self.fail_spawn(&id, halt, None, None).await);
        }

        // 2. The worktree.
        let workspace_request = WorkspaceRequest {
            repo: pre.project.repo_path.clone(),
            project_id: request.project.clone(),
            session_id: id.clone(),
            branch: branch.clone(),
            base_branch: pre.project.base_branch.clone(),
        };
        // Not raced with a cancel: a `git worktree add` cut short would leave a half-made
        // worktree. A cancel is seen right after it.
        note_step(tracker, "creating the worktree");
        let info = match self.workspace.create(&workspace_request).await {
            Ok(info) => info,
            Err(e) => {
                let halt = Halt::failed(Step::Workspace, e);
                return Err(self.fail_spawn(&id, halt, None, None).await);
            }
        };
        // 3–6 with the worktree to roll back.
        let launched = self
            .launch(&record, &pre, &request, &info, &branch, &prompt, tracker)
            .await;
        let handle = match launched {
            Ok(handle) => handle,
            Err((halt, handle)) => {
                return Err(self
                    .fail_spawn(&id, halt, Some(&info), handle.as_ref())
                    .await);
            }
        };
        // 7. After-start prompt for `send`-delivery harnesses.
        if matches!(pre.harness.prompt_delivery(), PromptDelivery::Send { .. })
            && !prompt.is_empty()
            && let Err(halt) = self
                .deliver_initial_prompt(&id, &handle, pre.harness.as_ref(), &prompt, tracker)
                .await
        {
            return Err(self.fail_spawn(&id, halt, Some(&info), Some(&handle)).await);
        }
        self.get(&id).await
    }

    /// Where the spawn of `request_id` is, while it runs.
    pub fn spawn_progress(&self, request_id: &str) -> Option<SpawnProgress> {
        self.in_flight.progress(request_id)
    }

    /// Asks the spawn of `request_id` to stop and roll back (its call then fails with
    /// [`SmError::SpawnCancelled`]). False when no such spawn is in flight. A spawn past its
    /// last step (its agent running, its prompt delivered) finishes anyway.
    pub fn cancel_spawn(&self, request_id: &str) -> bool {
        self.in_flight.cancel(request_id)
    }

    /// Steps P1–P6: everything checkable before anything is created, including every input a
    /// later step would refuse (`validate`).
    async fn preflight(&self, request: &SpawnRequest) -> Result<Preflight, SmError> {
        let prompt = full_prompt(request.prompt.as_deref(), request.agent_rules.as_deref());
        validate::prompt(&prompt)?;
        if let Some(argv) = &request.options.command {
            validate::command(argv)?;
        }
        if let Some(model) = &request.options.model {
            validate::model(model)?;
        }
        if let Some(branch) = &request.branch {
            validate::branch(branch)?;
        }
        let project = self
            .store
            .project(&request.project)
            .await?
            .ok_or_else(|| SmError::ProjectNotFound(request.project.clone()))?;
        let agent_name = request
            .agent
            .clone()
            .or_else(|| project.default_agent.clone())
            .ok_or_else(|| SmError::MissingAgent(project.id.clone()))?;
        let harness = self
            .agents
            .get(&agent_name)
            .ok_or_else(|| self.unknown_agent(&agent_name))?;
        if let Err(reason) = &self.config.runtime_ready {
            return Err(SmError::RuntimePrerequisite(reason.clone()));
        }
        let launch = self.launch_config(None, None, request.prompt.clone(), &request.options);
        let binary = harness.resolve_binary(&launch).map_err(agent_error)?;
        if let Some(branch) = &request.branch {
            self.workspace
                .check_branch(&project.repo_path, branch)
                .await
                .map_err(|e| match e {
                    WorkspaceError::BranchInvalid { branch, output } => SmError::BranchInvalid {
                        branch,
                        reason: output,
                    },
                    other => SmError::Workspace(other),
                })?;
        }
        // The launch command line and environment as the launch will build them, checked before
        // anything is created.
        let in_command = harness.prompt_delivery() == PromptDelivery::InCommand;
        if in_command {
            validate::prompt_in_command(&prompt, harness.name())?;
        }
        let launch = self.launch_config(None, None, in_command.then_some(prompt), &request.options);
        validate::launch_argv(&harness.launch_argv(&launch).map_err(agent_error)?)?;
        validate::env("project env", &project.settings.env)?;
        validate::env("--env", &request.options.env)?;
        validate::env("agent env", &harness.environment(&launch))?;
        Ok(Preflight {
            project,
            harness,
            binary,
        })
    }

    pub(super) fn launch_config(
        &self,
        session: Option<&SessionId>,
        workspace: Option<&std::path::Path>,
        prompt: Option<String>,
        options: &LaunchOptions,
    ) -> LaunchConfig {
        LaunchConfig {
            session_id: session.cloned(),
            workspace_path: workspace.map(std::path::Path::to_path_buf),
            prompt: prompt.filter(|p| !p.is_empty()),
            permissions: options.permission_mode,
            model: options.model.clone(),
            command: options.command.clone(),
            search_path: options.path.clone(),
        }
    }

    /// Steps 3–6. On failure returns why and the runtime handle to destroy.
    #[allow(clippy::too_many_arguments)]
    async fn launch(
        &self,
        record: &SessionRecord,
        pre: &Preflight,
        request: &SpawnRequest,
        info: &WorkspaceInfo,
        branch: &str,
        prompt: &str,
        tracker: Option<&SpawnInFlight>,
    ) -> Result<RuntimeHandle, (Halt, Option<RuntimeHandle>)> {
        let fail = |step, e: &dyn std::fmt::Display| (Halt::failed(step, e), None);
        let no_handle = |halt| (halt, None);
        self.prepare_worktree(&pre.project, pre.harness.as_ref(), info, tracker)
            .await
            .map_err(no_handle)?;

        let in_command = pre.harness.prompt_delivery() == PromptDelivery::InCommand;
        let launch = self.launch_config(
            Some(&record.id),
            Some(&info.path),
            in_command.then(|| prompt.to_owned()),
            &request.options,
        );
        let argv = pre
            .harness
            .launch_argv(&launch)
            .map_err(|e| fail(Step::Launch, &e))?;
        let env = self.pane_env(
            record,
            &pre.project,
            pre.harness.as_ref(),
            &launch,
            &request.options,
            &pre.binary,
        );
        let config = RuntimeConfig {
            session_id: record.id.clone(),
            workspace_path: info.path.clone(),
            argv,
            env,
        };
        check_cancel(tracker, Step::Runtime).map_err(no_handle)?;
        note_step(tracker, "starting the agent");
        let handle = self
            .runtime
            .create(&config)
            .await
            .map_err(|e| fail(Step::Runtime, &e))?;
        if let Err(halt) = check_cancel(tracker, Step::Runtime) {
            return Err((halt, Some(handle)));
        }

        let outcome = SpawnOutcome {
            branch: branch.to_owned(),
            workspace_path: info.path.display().to_string(),
            runtime_handle: handle.clone(),
            agent_session_id: pre.harness.initial_agent_session_id(&record.id),
            prompt: Some(prompt.to_owned()).filter(|p| !p.is_empty()),
        };
        let completed = self.lcm.on_spawn_completed(&record.id, &outcome).await;
        if let Err(e) = completed {
            return Err((Halt::failed(Step::SpawnCompleted, e), Some(handle)));
        }
        Ok(handle)
    }

    /// Step 3: project setup (cut short by a cancel: a running post-create command is
    /// stopped), then the harness's hooks and pre-launch preparation.
    async fn prepare_worktree(
        &self,
        project: &Project,
        harness: &dyn AgentHarness,
        info: &WorkspaceInfo,
        tracker: Option<&SpawnInFlight>,
    ) -> Result<(), Halt> {
        check_cancel(tracker, Step::Setup)?;
        let progress = |step: SetupProgress<'_>| {
            if let Some(tracker) = tracker {
                tracker.set_setup_step(step);
            }
        };
        let setup = self.setup.prepare(info, &project.settings, &progress);
        let mut exclude = unless_cancelled(tracker, setup)
            .await
            .ok_or(Halt::Cancelled { step: Step::Setup })?
            .map_err(|e| Halt::failed(Step::Setup, e))?;
        exclude.extend(project.settings.exclude.iter().cloned());
        check_cancel(tracker, Step::Hooks)?;
        note_step(tracker, "installing the agent's hooks");
        self.prepare_agent(harness, info, exclude)
            .await
            .map_err(|(step, message)| Halt::Failed { step, message })
    }

    /// The harness's hooks (their paths added to `exclude`, which is then written to the
    /// worktree's exclude file) and its pre-launch preparation; spawn and restore both run it.
    pub(super) async fn prepare_agent(
        &self,
        harness: &dyn AgentHarness,
        info: &WorkspaceInfo,
        mut exclude: Vec<String>,
    ) -> Result<(), (Step, String)> {
        let hooks = harness
            .install_hooks(&info.path)
            .await
            .map_err(|e| (Step::Hooks, e.to_string()))?;
        exclude.extend(hooks.exclude);
        if !exclude.is_empty() {
            self.workspace
                .add_exclude(info, &exclude)
                .await
                .map_err(|e| (Step::Hooks, e.to_string()))?;
        }
        harness
            .pre_launch(&info.path)
            .await
            .map_err(|e| (Step::Hooks, e.to_string()))
    }

    /// The pane environment of a launch (see `super::env` for its layers).
    pub(super) fn pane_env(
        &self,
        record: &SessionRecord,
        project: &Project,
        harness: &dyn AgentHarness,
        launch: &LaunchConfig,
        options: &LaunchOptions,
        binary: &std::path::Path,
    ) -> BTreeMap<String, String> {
        let identity = IdentityEnv {
            session_id: record.id.to_string(),
            project_id: record.project_id.to_string(),
            issue_id: record
                .issue_id
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            data_dir: self.config.data_dir.display().to_string(),
            socket: self.config.socket_path.display().to_string(),
            launch_id: record.launch.id.clone(),
        };
        // The spawner's variables win over the project's; PATH: theirs, the project's, the
        // spawner's own PATH, the daemon's.
        let mut env = project.settings.env.clone();
        env.extend(options.env.iter().map(|(k, v)| (k.clone(), v.clone())));
        let base = env
            .get("PATH")
            .or(options.path.as_ref())
            .cloned()
            .unwrap_or_else(|| self.config.daemon_path.clone());
        if self.config.aoctl_dir.is_none() {
            warn!(session = %record.id, "no aoctl next to aod: PATH left unpinned, hooks rely on the user's PATH");
        }
        let path = pinned_path(self.config.aoctl_dir.as_deref(), binary.parent(), &base);
        runtime_env(&env, &harness.environment(launch), &identity, &path)
    }

    /// "Kill record" then undo, in reverse creation order. Returns the error to report. Rollback
    /// failures are logged; the original error (or the cancel) is what the caller sees.
    async fn fail_spawn(
        &self,
        id: &SessionId,
        halt: Halt,
        info: Option<&WorkspaceInfo>,
        handle: Option<&RuntimeHandle>,
    ) -> SmError {
        let (mut reason, error) = match halt {
            Halt::Failed { step, message } => {
                let mut reason = KillReason::new(KillKind::Error);
                reason.detail = Some(format!("spawn failed: {step}: {message}"));
                let error = SmError::StepFailed {
                    id: id.clone(),
                    step,
                    message,
                };
                (reason, error)
            }
            Halt::Cancelled { step } => {
                let mut reason = KillReason::new(KillKind::Manual);
                reason.detail = Some(format!("spawn cancelled by its caller at: {step}"));
                let error = SmError::SpawnCancelled {
                    id: id.clone(),
                    step,
                };
                (reason, error)
            }
        };
        if let Some(info) = info {
            reason.metadata.insert(
                meta::WORKSPACE_PATH.to_owned(),
                info.path.display().to_string(),
            );
            reason
                .metadata
                .insert(meta::BRANCH.to_owned(), info.branch.clone());
        }
        if let Err(e) = self.lcm.on_kill_requested(id, &reason).await {
            warn!(session = %id, error = %e, "recording the failed spawn failed");
        }
        if let Some(handle) = handle
            && let Err(e) = self.runtime.destroy(handle).await
        {
            warn!(session = %id, error = %e, "rollback: destroying the runtime failed");
        }
        if let Some(info) = info {
            self.discard_workspace(info).await;
        }
        error
    }

    /// A retried spawn: wait for the original request's spawn to finish, then return it.
    async fn await_existing_spawn(&self, id: &SessionId) -> Result<Session, SmError> {
        let deadline = tokio::time::Instant::now() + REQUEST_WAIT;
        loop {
            let session = self.get(id).await?;
            let finished =
                session.record.launch.started_at.is_some() || session.record.is_terminal();
            if finished || tokio::time::Instant::now() >= deadline {
                return Ok(session);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Step 7: wait for a readiness pattern (or give up after 8 s with a warning), then queue
    /// the prompt through the guarded message queue and wait for it to be written. A cancel
    /// is heard until the prompt is queued.
    async fn deliver_initial_prompt(
        &self,
        id: &SessionId,
        handle: &RuntimeHandle,
        harness: &dyn AgentHarness,
        prompt: &str,
        tracker: Option<&SpawnInFlight>,
    ) -> Result<(), Halt> {
        note_step(tracker, "waiting for the agent to be ready");
        let patterns = harness.ready_patterns();
        let ready_wait = async {
            tokio::time::sleep(READY_DELAY).await;
            let deadline = tokio::time::Instant::now() + READY_TIMEOUT;
            let mut ready = patterns.is_empty();
            while !ready && tokio::time::Instant::now() < deadline {
                if let Ok(output) = self.runtime.output(handle, 80).await {
                    ready = patterns.iter().any(|p| output.contains(p.as_str()));
                }
                if !ready {
                    tokio::time::sleep(READY_POLL).await;
                }
            }
            ready
        };
        let ready = unless_cancelled(tracker, ready_wait)
            .await
            .ok_or(Halt::Cancelled { step: Step::Prompt })?;
        if !ready {
            warn!(session = %id, "agent showed no readiness pattern within 8s; delivering the prompt anyway");
        }
        check_cancel(tracker, Step::Prompt)?;
        note_step(tracker, "delivering the prompt");
        let message = NewMessage::deliver(id.clone(), prompt);
        match self.send_message(message, Some(PROMPT_WAIT)).await {
            Ok(super::SendOutcome::Queued { .. }) => Err(Halt::failed(
                Step::Prompt,
                "the prompt was not delivered within the wait",
            )),
            Ok(_) => Ok(()),
            Err(e) => Err(Halt::failed(Step::Prompt, e)),
        }
    }
}

/// The new record's metadata: the launch options (when not all default) and the parent session.
fn spawn_metadata(request: &SpawnRequest) -> crate::domain::Metadata {
    let mut metadata = crate::domain::Metadata::new();
    if request.options != LaunchOptions::default()
        && let Ok(json) = serde_json::to_string(&request.options)
    {
        metadata.insert(META_LAUNCH_OPTIONS.to_owned(), json);
    }
    if let Some(parent) = &request.parent {
        metadata.insert(meta::PARENT_SESSION.to_owned(), parent.to_string());
    }
    metadata
}

/// A harness error in the spec's vocabulary (shared by spawn and restore).
pub(super) fn agent_error(e: AgentError) -> SmError {
    match e {
        AgentError::BinaryNotFound(what) => SmError::AgentBinaryNotFound(what),
        AgentError::InvalidOptions(what) => SmError::InvalidAgentOptions(what),
        other => SmError::Agent(other),
    }
}

#[cfg(test)]
mod tests {
    use super::full_prompt;

    #[test]
    fn prompt_joins_rules_with_a_blank_line() {
        assert_eq!(full_prompt(Some("do"), Some("rules")), "do\n\nrules");
        assert_eq!(full_prompt(Some("do"), None), "do");
        assert_eq!(full_prompt(None, Some("rules")), "rules");
        assert_eq!(full_prompt(None, None), "");
        assert_eq!(full_prompt(Some("  "), Some("rules")), "rules");
    }
}
