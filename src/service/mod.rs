//! The service: every operation a client can ask of the daemon, whatever the transport (the
//! tarpc socket today, HTTP next). Each method takes plain, unvalidated input (ids as text,
//! waits in milliseconds), holds it to the bounds in [`crate::domain::limits`], calls the
//! Session Manager or reads the store, and returns domain types or a [`ServiceError`].
//! Transports only convert: they decide nothing.
//!
//! Mutations (spawn, kill, send, restore, cleanup, project and trash changes) run as detached,
//! tracked tasks: a caller that times out or disconnects never aborts one half-way, and
//! [`Service::finish_mutations`] waits for them at shutdown.

mod doctor;
mod error;
mod input;

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::domain::limits::{
    DEFAULT_TAIL_LINES, MAX_EVENTS_PAGE, MAX_MESSAGE_BYTES, MAX_SEND_WAIT, MAX_TAIL_BYTES, MAX_WAIT,
};
use crate::domain::{
    Project, ProjectId, ScmFacts, Session, SessionId, SessionKind, Status, WaitVerdict, meta,
};
use crate::messages::runtime_handle;
use crate::ports::{
    EVENTS_PAGE_MAX, EventPage, Retired, ScmProvider, Store, ToolProbe, TrashEmptied, TrashEntry,
};
use crate::session::{
    AgentRegistry, CleanupResult, ForgetResult, HookCall, KillOptions, LaunchOptions,
    ProjectBranches, ProjectSpec, SendOutcome, SessionManager, SmError, SpawnProgress,
    SpawnRequest, TailChunk,
};
use crate::why::{History, WHY_DEFAULT_TRANSITIONS, WHY_MAX_TRANSITIONS, WHY_SCAN_MAX, Why};

pub use doctor::{Check, DoctorFacts};
pub use error::{ErrorClass, ServiceError};
pub use input::{SpawnInput, WaitInput};

use input::{
    bounded, branch_length, issue_id, path_length, permission_mode, project_id, request_id_length,
    session_id, statuses,
};

/// What the service is built from.
pub struct ServiceDeps {
    pub sm: Arc<SessionManager>,
    pub store: Arc<dyn Store>,
    pub agents: Arc<AgentRegistry>,
    /// The code host, for `doctor`'s token check.
    pub scm: Arc<dyn ScmProvider>,
    /// Asks installed programs their version, for `doctor`.
    pub tools: Arc<dyn ToolProbe>,
    /// What the daemon learned at start, for `doctor`.
    pub facts: DoctorFacts,
    /// Cancelled when the daemon begins to stop: new mutations are refused from then on.
    pub shutdown: CancellationToken,
}

/// A session with the last SCM facts seen for its pull request.
#[derive(Debug, Clone)]
pub struct SessionDetail {
    pub session: Session,
    pub scm: Option<ScmFacts>,
    /// The last lines the agent printed before it exited (empty unless it exited).
    pub exit_output: Vec<String>,
}

/// Lines of an exited agent's output that `get` shows.
pub const EXIT_OUTPUT_LINES: usize = 10;

/// What a kill did, and where the session's worktree is now recorded.
#[derive(Debug, Clone)]
pub struct KillReport {
    pub result: crate::session::KillResult,
    /// The worktree path on the record after the kill (kept when the worktree stayed).
    pub workspace_path: Option<String>,
    /// The status the session had already ended in, when it had (the kill only tidied up).
    pub already_ended: Option<Status>,
}

/// What a cleanup is asked to do beyond moving worktrees to the trash.
#[derive(Debug, Clone, Default)]
pub struct CleanupOptions {
    pub project: Option<String>,
    pub preserve: bool,
    pub dry_run: bool,
    /// Forget ended sessions whose worktree is gone (after this cleanup).
    pub forget_ended: bool,
    /// With `forget_ended`: only those whose last change is at least this old.
    pub older_than: Option<Duration>,
    /// Delete `ao/*` branches that hold no work of their own.
    pub branches: bool,
}

/// What a cleanup did; `retired` is empty in a dry run.
#[derive(Debug, Clone)]
pub struct CleanupReport {
    pub result: CleanupResult,
    pub dry_run: bool,
    /// What forgetting did, when asked.
    pub forgotten: Option<ForgetResult>,
    /// What pruning branches did, per project, when asked.
    pub branches: Option<Vec<ProjectBranches>>,
}

impl CleanupReport {
    /// The sessions whose worktree was retired, with where it went (none in a dry run).
    pub fn retired(&self) -> impl Iterator<Item = &(SessionId, Retired)> {
        self.result.cleaned.iter().filter(|_| !self.dry_run)
    }
}

/// The operations, shared by every connection of every transport.
#[derive(Clone)]
pub struct Service {
    inner: Arc<ServiceDeps>,
    mutations: TaskTracker,
}

impl Service {
    pub fn new(deps: ServiceDeps) -> Self {
        Self {
            inner: Arc::new(deps),
            mutations: TaskTracker::new(),
        }
    }

    /// Refuses new mutations and waits for those under way (the caller bounds the wait).
    pub async fn finish_mutations(&self) {
        self.mutations.close();
        self.mutations.wait().await;
    }

    /// Asks the daemon to stop; sessions keep running.
    pub fn shutdown(&self) {
        self.inner.shutdown.cancel();
    }

    /// Runs a mutation to completion even if the caller goes away.
    async fn detached<T, F>(&self, work: F) -> Result<T, ServiceError>
    where
        T: Send + 'static,
        F: Future<Output = Result<T, SmError>> + Send + 'static,
    {
        if self.inner.shutdown.is_cancelled() || self.mutations.is_closed() {
            return Err(ServiceError::new(
                ErrorClass::Unavailable,
                "ShuttingDown",
                "the daemon is shutting down",
            ));
        }
        match self.mutations.spawn(work).await {
            Ok(result) => result.map_err(ServiceError::from),
            Err(e) => Err(ServiceError::internal(format!(
                "the operation panicked: {e}"
            ))),
        }
    }

    fn sm(&self) -> Arc<SessionManager> {
        self.inner.sm.clone()
    }

    /// An explicitly named project must exist: listing or cleaning up an unknown one is an
    /// error, not an empty answer.
    async fn known_project(&self, name: Option<&str>) -> Result<Option<ProjectId>, ServiceError> {
        let Some(id) = name.map(project_id).transpose()? else {
            return Ok(None);
        };
        match self.inner.store.project(&id).await? {
            Some(_) => Ok(Some(id)),
            None => Err(SmError::ProjectNotFound(id).into()),
        }
    }

    /// Starts a worker session.
    pub async fn spawn(&self, input: SpawnInput) -> Result<Session, ServiceError> {
        let project = project_id(&input.project)?;
        let issue = input.issue.as_deref().map(issue_id).transpose()?;
        let permission_mode = input
            .permission_mode
            .as_deref()
            .map(permission_mode)
            .transpose()?;
        if input
            .prompt
            .as_ref()
            .is_some_and(|p| p.len() > MAX_MESSAGE_BYTES)
        {
            return Err(ServiceError::too_large("prompt", MAX_MESSAGE_BYTES));
        }
        branch_length(input.branch.as_deref())?;
        if let Some(request_id) = &input.request_id {
            request_id_length(request_id)?;
        }
        // A parent that is not a known session (a stale `AO_SESSION_ID`) is not recorded.
        let parent = match input.parent.as_deref().map(SessionId::parse) {
            Some(Ok(parent)) if self.inner.store.load(&parent).await?.is_some() => Some(parent),
            _ => None,
        };
        let request = SpawnRequest {
            project,
            issue,
            kind: SessionKind::Worker,
            branch: input.branch,
            prompt: input.prompt,
            agent_rules: None,
            agent: input.agent,
            options: LaunchOptions {
                model: input.model.filter(|m| !m.trim().is_empty()),
                permission_mode,
                command: input.command,
                env: input.env,
                path: input.path.filter(|p| !p.is_empty()),
            },
            request_id: input.request_id,
            parent,
        };
        let sm = self.sm();
        self.detached(async move { sm.spawn(request).await }).await
    }

    /// Where a spawn in flight is, by the request id its caller chose; `None` when no spawn with
    /// that id is running (it finished, failed, or has not begun).
    pub fn spawn_progress(&self, request_id: &str) -> Result<Option<SpawnProgress>, ServiceError> {
        request_id_length(request_id)?;
        Ok(self.inner.sm.spawn_progress(request_id))
    }

    /// Cancels a spawn in flight: it stops at its next safe point (a running post-create
    /// command is stopped) and rolls back; its own call then fails with `SpawnCancelled`. False
    /// when no spawn with that id is running.
    pub fn cancel_spawn(&self, request_id: &str) -> Result<bool, ServiceError> {
        request_id_length(request_id)?;
        Ok(self.inner.sm.cancel_spawn(request_id))
    }

    /// Kills a session; its worktree goes to the trash (or stays, when dirty or locked).
    pub async fn kill(&self, id: &str, preserve: bool) -> Result<KillReport, ServiceError> {
        let id = session_id(id)?;
        // The SM treats a missing record as a benign race; for a caller, an unknown id is an
        // error like every other command's.
        let before = self.inner.sm.get(&id).await?;
        let already_ended = before.record.is_terminal().then_some(before.status);
        let sm = self.sm();
        let kill_id = id.clone();
        let result = self
            .detached(async move { sm.kill(&kill_id, KillOptions::manual(preserve)).await })
            .await?;
        let workspace_path = self
            .inner
            .store
            .load(&id)
            .await?
            .and_then(|r| r.meta(meta::WORKSPACE_PATH).map(str::to_owned));
        Ok(KillReport {
            result,
            workspace_path,
            already_ended,
        })
    }

    /// Queues a message for a session's agent; with `wait_ms`, waits (bounded) for delivery;
    /// `force` sets a draft in the agent's input line aside at once instead of waiting for it.
    pub async fn send(
        &self,
        id: &str,
        message: String,
        wait_ms: Option<u64>,
        force: bool,
    ) -> Result<SendOutcome, ServiceError> {
        let id = session_id(id)?;
        if message.len() > MAX_MESSAGE_BYTES {
            return Err(ServiceError::too_large("message", MAX_MESSAGE_BYTES));
        }
        if message.contains('\0') {
            return Err(ServiceError::invalid(
                "InvalidMessage",
                "the message contains a NUL byte",
            ));
        }
        let wait = wait_ms.map(|ms| bounded(ms, MAX_SEND_WAIT));
        let sm = self.sm();
        self.detached(async move { sm.send(&id, message, wait, force).await })
            .await
    }

    /// The session's output after `cursor` (waiting a bounded time for some); without one, a
    /// page of the log's last `lines` lines before `before` (`None`: the log's end), at most
    /// [`MAX_TAIL_BYTES`] of them: a client wanting more asks again before the page's start.
    pub async fn tail(
        &self,
        id: &str,
        cursor: Option<u64>,
        lines: Option<u32>,
        before: Option<u64>,
        wait_ms: u64,
    ) -> Result<TailChunk, ServiceError> {
        let id = session_id(id)?;
        let sm = &self.inner.sm;
        Ok(match cursor {
            Some(cursor) => {
                sm.tail(&id, cursor, MAX_TAIL_BYTES, bounded(wait_ms, MAX_WAIT))
                    .await?
            }
            None => {
                let lines = lines.unwrap_or(DEFAULT_TAIL_LINES) as usize;
                sm.tail_lines(&id, before, lines, MAX_TAIL_BYTES).await?
            }
        })
    }

    /// Sessions, of one project or all; terminal ones only with `all`.
    pub async fn list(
        &self,
        project: Option<&str>,
        all: bool,
    ) -> Result<Vec<Session>, ServiceError> {
        let project = self.known_project(project).await?;
        let mut sessions = self.inner.sm.list(project.as_ref()).await?;
        sessions.retain(|s| all || !s.record.is_terminal());
        Ok(sessions)
    }

    /// One session, with its last SCM facts.
    pub async fn get(&self, id: &str) -> Result<SessionDetail, ServiceError> {
        let id = session_id(id)?;
        self.detail(&id).await
    }

    async fn detail(&self, id: &SessionId) -> Result<SessionDetail, ServiceError> {
        let session = self.inner.sm.get(id).await?;
        let scm = self.inner.store.scm_snapshot(id).await?;
        let exit_output = self
            .inner
            .sm
            .exit_output(&session.record, EXIT_OUTPUT_LINES)
            .await;
        Ok(SessionDetail {
            session,
            scm,
            exit_output,
        })
    }

    /// Relaunches a terminal session in its worktree (brought back from the trash if needed).
    pub async fn restore(&self, id: &str) -> Result<SessionDetail, ServiceError> {
        let id = session_id(id)?;
        let sm = self.sm();
        let restore_id = id.clone();
        self.detached(async move { sm.restore(&restore_id).await })
            .await?;
        self.detail(&id).await
    }

    /// Retires the worktrees of terminal sessions (of one project, or all); then, when asked,
    /// forgets ended sessions and prunes `ao/*` branches.
    pub async fn cleanup(&self, options: CleanupOptions) -> Result<CleanupReport, ServiceError> {
        let project = self.known_project(options.project.as_deref()).await?;
        let sm = self.sm();
        let dry_run = options.dry_run;
        self.detached(async move {
            let only = project.as_ref();
            let result = sm.cleanup(only, options.preserve, dry_run).await?;
            let forgotten = if options.forget_ended {
                let cleaned: Vec<SessionId> =
                    result.cleaned.iter().map(|(id, _)| id.clone()).collect();
                Some(
                    sm.forget_ended(only, options.older_than, dry_run, &cleaned)
                        .await?,
                )
            } else {
                None
            };
            let branches = if options.branches {
                Some(sm.prune_branches(only, dry_run).await?)
            } else {
                None
            };
            Ok(CleanupReport {
                result,
                dry_run,
                forgotten,
                branches,
            })
        })
        .await
    }

    /// Forgets ended sessions by id (a dry run only says which it would).
    pub async fn forget(
        &self,
        ids: &[String],
        dry_run: bool,
    ) -> Result<ForgetResult, ServiceError> {
        if ids.is_empty() {
            return Err(ServiceError::invalid(
                "InvalidInput",
                "name at least one session to forget".to_owned(),
            ));
        }
        let ids = ids
            .iter()
            .map(|id| session_id(id))
            .collect::<Result<Vec<_>, _>>()?;
        let sm = self.sm();
        self.detached(async move { sm.forget(&ids, dry_run).await })
            .await
    }

    /// A page of the change log after `after`, waiting a bounded time for one.
    pub async fn events(
        &self,
        after: i64,
        limit: u32,
        wait_ms: u64,
        session: Option<&str>,
    ) -> Result<EventPage, ServiceError> {
        let session = session.map(session_id).transpose()?;
        if let Some(id) = &session
            && self.inner.store.load(id).await?.is_none()
            && self
                .inner
                .store
                .session_events(id, None, 1)
                .await?
                .is_empty()
        {
            // An unknown id is an error here as everywhere, not an empty log; a forgotten
            // session's history is still there.
            return Err(SmError::NotFound(id.clone()).into());
        }
        let limit = limit.clamp(1, MAX_EVENTS_PAGE) as usize;
        Ok(self
            .inner
            .store
            .events_after(after, limit, bounded(wait_ms, MAX_WAIT), session.as_ref())
            .await?)
    }

    /// The evidence behind a session's status: each axis with the write that gave it its value
    /// (observer, time, signal), the metadata that explains it, and the last `limit`
    /// transitions (10 by default, at most 100). Pages back through the session's change log,
    /// newest first, until that is known, the log is exhausted, or 2048 rows were read.
    pub async fn why(&self, id: &str, limit: Option<u32>) -> Result<Why, ServiceError> {
        let id = session_id(id)?;
        let limit = limit
            .unwrap_or(WHY_DEFAULT_TRANSITIONS)
            .clamp(1, WHY_MAX_TRANSITIONS) as usize;
        let session = self.inner.sm.get(&id).await?;
        let mut history = History::new(session);
        while !history.is_enough(limit) && history.rows_read() < WHY_SCAN_MAX {
            let page = self
                .inner
                .store
                .session_events(&id, history.oldest_seq(), EVENTS_PAGE_MAX)
                .await?;
            history.extend(&page, page.len() < EVENTS_PAGE_MAX);
        }
        Ok(history.report(self.inner.sm.now(), limit))
    }

    /// Waits (bounded) until every session, or with `any` one of them, has one of the
    /// statuses; returns whether that happened and the sessions as last seen.
    pub async fn wait_for_status(
        &self,
        input: WaitInput,
    ) -> Result<(WaitVerdict, Vec<Session>), ServiceError> {
        if input.ids.is_empty() {
            return Err(ServiceError::invalid(
                "InvalidArgument",
                "name at least one session",
            ));
        }
        let ids = input
            .ids
            .iter()
            .map(|s| session_id(s))
            .collect::<Result<Vec<_>, _>>()?;
        let statuses: BTreeSet<_> = statuses(&input.statuses)?;
        Ok(self
            .inner
            .sm
            .wait_for_status(&ids, &statuses, input.any, bounded(input.wait_ms, MAX_WAIT))
            .await?)
    }

    /// Registers a project.
    pub async fn project_add(&self, spec: ProjectSpec) -> Result<Project, ServiceError> {
        branch_length(spec.base_branch.as_deref())?;
        path_length(&spec.repo_path)?;
        let sm = self.sm();
        self.detached(async move { sm.add_project(spec).await })
            .await
    }

    pub async fn project_list(&self) -> Result<Vec<Project>, ServiceError> {
        Ok(self.inner.sm.projects().await?)
    }

    /// Forgets a project (its sessions stay); false when it was not registered.
    pub async fn project_remove(&self, name: &str) -> Result<bool, ServiceError> {
        let id = project_id(name)?;
        let sm = self.sm();
        self.detached(async move { sm.remove_project(&id).await })
            .await
    }

    /// An agent hook's report.
    pub async fn ingest_hook(&self, call: HookCall) -> Result<(), ServiceError> {
        Ok(self.inner.sm.ingest_hook(call).await?)
    }

    /// The tmux session name to attach to: the session must be live and its recorded handle a
    /// name ao itself would give (a tampered record never reaches a tmux command line).
    pub async fn attach_target(&self, id: &str) -> Result<String, ServiceError> {
        let id = session_id(id)?;
        let session = self.inner.sm.get(&id).await?;
        if session.record.is_terminal() {
            return Err(ServiceError::new(
                ErrorClass::Failed,
                "Terminated",
                format!("session {id} is {}; restore it first", session.status),
            ));
        }
        let handle = runtime_handle(&session.record).ok_or_else(|| {
            ServiceError::new(
                ErrorClass::Failed,
                "NoRuntime",
                format!("session {id} has no runtime yet"),
            )
        })?;
        if handle.runtime_name != ao_core::tmux::RUNTIME_NAME
            || !ao_core::tmux::is_valid_name(&handle.id)
        {
            return Err(ServiceError::internal(format!(
                "session {id} has an invalid runtime handle {}",
                crate::domain::quote(&format!("{}:{}", handle.runtime_name, handle.id))
            )));
        }
        Ok(handle.id)
    }

    /// The checks `aoctl doctor` shows.
    pub async fn doctor(&self) -> Vec<Check> {
        doctor::run(&self.inner).await
    }

    pub async fn trash_list(&self) -> Result<Vec<TrashEntry>, ServiceError> {
        Ok(self.inner.sm.trash_list().await?)
    }

    /// Moves a trash entry (an entry id, or a session id for its newest entry) back.
    pub async fn trash_restore(&self, name: String) -> Result<TrashEntry, ServiceError> {
        let sm = self.sm();
        self.detached(async move { sm.trash_restore(&name).await })
            .await
    }

    /// Deletes trash entries (older than `older_than`, when given).
    pub async fn trash_empty(
        &self,
        older_than: Option<Duration>,
    ) -> Result<TrashEmptied, ServiceError> {
        let sm = self.sm();
        self.detached(async move { sm.trash_empty(older_than).await })
            .await
    }
}
