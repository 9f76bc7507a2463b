//! The tarpc service: parses and bounds every request, calls the Session Manager (or the store
//! for reads), converts the answer. Decides nothing.
//!
//! Mutations (spawn, kill, send, restore, cleanup, project changes) run as detached, tracked
//! tasks: a client that times out or disconnects never aborts one half-way, and shutdown waits
//! for them within its budget.

use std::collections::BTreeSet;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ao::domain::{IssueId, ProjectId, SessionId, SessionKind, Status, quote};
use ao::ports::PermissionMode;
use ao::session::{HookCall, KillOptions, LaunchOptions, ProjectSpec, SendOutcome, SpawnRequest};
use ao_proto::{
    Ao, AttachReply, Check, CleanupReply, CleanupRequest, EventsReply, EventsRequest, HookRequest,
    KillReply, KillRequest, ListRequest, MAX_MESSAGE_BYTES, MAX_TAIL_BYTES, MAX_WAIT, Pong,
    ProjectAddRequest, ProjectView, SendReply, SendRequest, SessionView, Skipped, TailReply,
    TailRequest, TrashEmptyReply, TrashEmptyRequest, TrashEntryView, WaitReply, WaitRequest,
    WireError,
};
use tarpc::context::Context;
use tokio_util::task::TaskTracker;

use crate::app::App;
use crate::convert::{
    event_view, internal, invalid, project_view, retired_view, session_view, sm_error, store_error,
    trash_entry_view, workspace_error,
};

/// Longest a `send` waits for delivery on the daemon side.
const MAX_SEND_WAIT: Duration = Duration::from_secs(120);
/// How long `doctor` waits for an agent CLI's `--version`.
const AGENT_VERSION_TIMEOUT: Duration = Duration::from_secs(20);
/// Default number of pane lines `tail` shows without a cursor.
const DEFAULT_TAIL_LINES: u32 = 50;
/// Most pane lines `tail` shows without a cursor.
const MAX_TAIL_LINES: u32 = 10_000;
/// Longest branch name accepted: git keeps a branch as a file named after it, and file names
/// longer than this fail on common filesystems.
const MAX_BRANCH_BYTES: usize = 255;
/// Longest repository path accepted (the system's `PATH_MAX`).
const MAX_PATH_BYTES: usize = 4096;

/// The service handed to every connection.
#[derive(Clone)]
pub struct Service {
    app: Arc<App>,
    mutations: TaskTracker,
}

fn session_id(text: &str) -> Result<SessionId, WireError> {
    SessionId::parse(text).map_err(|e| invalid("InvalidSessionId", e.to_string()))
}

fn project_id(text: &str) -> Result<ProjectId, WireError> {
    ProjectId::parse(text).map_err(|e| invalid("InvalidProject", e.to_string()))
}

/// A branch name no longer than `MAX_BRANCH_BYTES`; git checks the rest.
fn branch_length(branch: Option<&str>) -> Result<(), WireError> {
    match branch {
        Some(b) if b.len() > MAX_BRANCH_BYTES => Err(invalid(
            "BranchInvalid",
            format!(
                "invalid branch name {}: longer than {MAX_BRANCH_BYTES} bytes",
                quote(b)
            ),
        )),
        _ => Ok(()),
    }
}

fn bounded(ms: u64, max: Duration) -> Duration {
    Duration::from_millis(ms).min(max)
}

impl Service {
    pub fn new(app: Arc<App>, mutations: TaskTracker) -> Self {
        Self { app, mutations }
    }

    /// Runs a mutation to completion even if the caller goes away.
    async fn detached<T, F>(&self, work: F) -> Result<T, WireError>
    where
        T: Send + 'static,
        F: Future<Output = Result<T, WireError>> + Send + 'static,
    {
        if self.app.shutdown.is_cancelled() {
            return Err(WireError::new(
                ao_proto::ErrorCode::Unavailable,
                "ShuttingDown",
                "the daemon is shutting down",
            ));
        }
        self.mutations
            .spawn(work)
            .await
            .unwrap_or_else(|e| Err(internal(format!("the operation panicked: {e}"))))
    }

    /// An explicitly named project must exist: listing or cleaning up an unknown one is an
    /// error (exit code 4), not an empty answer.
    async fn known_project(&self, name: Option<&str>) -> Result<Option<ProjectId>, WireError> {
        let Some(id) = name.map(project_id).transpose()? else {
            return Ok(None);
        };
        match self.app.store.project(&id).await.map_err(store_error)? {
            Some(_) => Ok(Some(id)),
            None => Err(sm_error(ao::session::SmError::ProjectNotFound(id))),
        }
    }

    async fn view(&self, id: &SessionId) -> Result<SessionView, WireError> {
        let session = self.app.sm.get(id).await.map_err(sm_error)?;
        let scm = self.app.store.scm_snapshot(id).await.map_err(store_error)?;
        Ok(session_view(&session, scm.as_ref()))
    }
}

/// The GitHub token: a missing one fails the check only when a project has a GitHub origin
/// (PR tracking is then off); otherwise it is reported as not needed.
async fn github_check(app: &App) -> Check {
    use ao::ports::ScmProvider;
    let name = "github token".to_owned();
    match app.github.credentials().await {
        Ok(source) => Check {
            name,
            ok: true,
            detail: format!("from {source}"),
        },
        Err(e) => {
            let mut on_github = vec![];
            for project in app.store.projects().await.unwrap_or_default() {
                if let Ok(Some(repo)) = app
                    .github
                    .remote_repository(&project.repo_path, "origin")
                    .await
                {
                    on_github.push(format!("{} ({repo})", project.id));
                }
            }
            Check {
                name,
                ok: on_github.is_empty(),
                detail: if on_github.is_empty() {
                    format!("{e}; not needed: no project has a GitHub origin")
                } else {
                    format!("{e}; PR tracking is disabled for {}", on_github.join(", "))
                },
            }
        }
    }
}

impl Ao for Service {
    async fn ping(self, _: Context) -> Pong {
        Pong {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            protocol: ao_proto::PROTOCOL_VERSION,
            pid: std::process::id(),
            data_dir: self.app.config.data_dir.display().to_string(),
            socket: self.app.config.socket.display().to_string(),
            started_at: self.app.started_at.to_rfc3339(),
        }
    }

    async fn spawn(
        self,
        _: Context,
        request: ao_proto::SpawnRequest,
    ) -> Result<SessionView, WireError> {
        let project = project_id(&request.project)?;
        let issue = request
            .issue
            .as_deref()
            .map(IssueId::parse)
            .transpose()
            .map_err(|e| invalid("InvalidIssue", e.to_string()))?;
        let permission_mode = request
            .permission_mode
            .as_deref()
            .map(|m| {
                PermissionMode::parse(m).ok_or_else(|| {
                    invalid(
                        "InvalidAgentOptions",
                        format!("unknown permission mode {}", quote(m)),
                    )
                })
            })
            .transpose()?;
        if let Some(prompt) = &request.prompt
            && prompt.len() > MAX_MESSAGE_BYTES
        {
            return Err(invalid(
                "TooLarge",
                format!("the prompt is larger than {MAX_MESSAGE_BYTES} bytes"),
            ));
        }
        branch_length(request.branch.as_deref())?;
        let spawn = SpawnRequest {
            project,
            issue,
            kind: SessionKind::Worker,
            branch: request.branch,
            prompt: request.prompt,
            agent_rules: None,
            agent: request.agent,
            options: LaunchOptions {
                model: request.model.filter(|m| !m.trim().is_empty()),
                permission_mode,
                command: request.command,
            },
            request_id: request.request_id,
        };
        let app = self.app.clone();
        let session = self
            .detached(async move { app.sm.spawn(spawn).await.map_err(sm_error) })
            .await?;
        Ok(session_view(&session, None))
    }

    async fn kill(self, _: Context, request: KillRequest) -> Result<KillReply, WireError> {
        let id = session_id(&request.id)?;
        // The SM treats a missing record as a benign race; for a user, an unknown id is an
        // error (exit code 4), like every other command's.
        self.app.sm.get(&id).await.map_err(sm_error)?;
        let app = self.app.clone();
        let kill_id = id.clone();
        let result = self
            .detached(async move {
                app.sm
                    .kill(&kill_id, KillOptions::manual(request.preserve))
                    .await
                    .map_err(sm_error)
            })
            .await?;
        let workspace_path = self
            .app
            .store
            .load(&id)
            .await
            .map_err(store_error)?
            .and_then(|r| r.meta(ao::domain::meta::WORKSPACE_PATH).map(str::to_owned));
        let trash = result.retired.trash.as_ref();
        Ok(KillReply {
            id: result.id.to_string(),
            workspace_freed: result.workspace_freed,
            preserved_ref: result.retired.preserved_ref.clone(),
            workspace_error: result.workspace_error.as_ref().map(workspace_error),
            workspace_path,
            trash_id: trash.map(|t| t.id.clone()),
            trash_path: trash.map(|t| t.path.display().to_string()),
            detached_ref: result.retired.detached_ref.clone(),
            nested_repos: result.retired.nested_repos.clone(),
            leftovers: result.leftovers,
        })
    }

    async fn send(self, _: Context, request: SendRequest) -> Result<SendReply, WireError> {
        let id = session_id(&request.id)?;
        if request.message.len() > MAX_MESSAGE_BYTES {
            return Err(invalid(
                "TooLarge",
                format!("the message is larger than {MAX_MESSAGE_BYTES} bytes"),
            ));
        }
        if request.message.contains('\0') {
            return Err(invalid("InvalidMessage", "the message contains a NUL byte"));
        }
        let wait = request.wait_ms.map(|ms| bounded(ms, MAX_SEND_WAIT));
        let app = self.app.clone();
        let send_id = id.clone();
        let outcome = self
            .detached(async move {
                app.sm
                    .send(&send_id, request.message, wait)
                    .await
                    .map_err(sm_error)
            })
            .await?;
        let (message_id, state) = match outcome {
            SendOutcome::Queued { message_id } => (message_id, "queued"),
            SendOutcome::Injected { message_id } => (message_id, "injected"),
            SendOutcome::Acknowledged { message_id } => (message_id, "acknowledged"),
        };
        Ok(SendReply {
            id: id.to_string(),
            message_id,
            state: state.to_owned(),
        })
    }

    async fn tail(self, _: Context, request: TailRequest) -> Result<TailReply, WireError> {
        let id = session_id(&request.id)?;
        let lines = request
            .lines
            .unwrap_or(DEFAULT_TAIL_LINES)
            .clamp(1, MAX_TAIL_LINES) as usize;
        let tail = self
            .app
            .sm
            .tail(
                &id,
                request.cursor,
                lines,
                MAX_TAIL_BYTES,
                bounded(request.wait_ms, MAX_WAIT),
            )
            .await
            .map_err(sm_error)?;
        Ok(TailReply {
            text: tail.chunk.text,
            start: tail.chunk.start,
            next: tail.chunk.next,
            live: tail.live,
        })
    }

    async fn list(self, _: Context, request: ListRequest) -> Result<Vec<SessionView>, WireError> {
        let project = self.known_project(request.project.as_deref()).await?;
        let sessions = self.app.sm.list(project.as_ref()).await.map_err(sm_error)?;
        Ok(sessions
            .iter()
            .filter(|s| request.all || !s.record.is_terminal())
            .map(|s| session_view(s, None))
            .collect())
    }

    async fn get(self, _: Context, id: String) -> Result<SessionView, WireError> {
        let id = session_id(&id)?;
        self.view(&id).await
    }

    async fn restore(self, _: Context, id: String) -> Result<SessionView, WireError> {
        let id = session_id(&id)?;
        let app = self.app.clone();
        let restore_id = id.clone();
        self.detached(async move {
            let notifier = app.notifier.clone();
            let notify = move |event| {
                let notifier = notifier.clone();
                tokio::spawn(async move { notifier.notify(event).await });
            };
            app.sm.restore(&restore_id, &notify).await.map_err(sm_error)
        })
        .await?;
        self.view(&id).await
    }

    async fn cleanup(self, _: Context, request: CleanupRequest) -> Result<CleanupReply, WireError> {
        let project = self.known_project(request.project.as_deref()).await?;
        let app = self.app.clone();
        let result = self
            .detached(async move {
                app.sm
                    .cleanup(project.as_ref(), request.preserve, request.dry_run)
                    .await
                    .map_err(sm_error)
            })
            .await?;
        Ok(CleanupReply {
            cleaned: result
                .cleaned
                .iter()
                .map(|(id, _)| id.to_string())
                .collect(),
            preserved: result
                .cleaned
                .iter()
                .filter_map(|(id, r)| Some((id.to_string(), r.preserved_ref.clone()?)))
                .collect(),
            retired: if request.dry_run {
                vec![]
            } else {
                result
                    .cleaned
                    .iter()
                    .map(|(id, r)| retired_view(id, r))
                    .collect()
            },
            skipped: result
                .skipped
                .into_iter()
                .map(|s| Skipped {
                    id: s.id.to_string(),
                    reason: s.reason,
                })
                .collect(),
            dry_run: request.dry_run,
        })
    }

    async fn events(self, _: Context, request: EventsRequest) -> Result<EventsReply, WireError> {
        let session = request.session.as_deref().map(session_id).transpose()?;
        let page = self
            .app
            .store
            .events_after(
                request.after,
                request.limit.clamp(1, 512) as usize,
                bounded(request.wait_ms, MAX_WAIT),
                session.as_ref(),
            )
            .await
            .map_err(store_error)?;
        Ok(EventsReply {
            events: page.events.into_iter().map(event_view).collect(),
            next: page.next,
            truncated: page.truncated,
        })
    }

    async fn wait_for_status(
        self,
        _: Context,
        request: WaitRequest,
    ) -> Result<WaitReply, WireError> {
        if request.ids.is_empty() {
            return Err(invalid("InvalidArgument", "name at least one session"));
        }
        let ids = request
            .ids
            .iter()
            .map(|s| session_id(s))
            .collect::<Result<Vec<_>, _>>()?;
        let statuses = request
            .statuses
            .iter()
            .map(|s| {
                s.parse::<Status>()
                    .map_err(|_| invalid("InvalidStatus", format!("unknown status {}", quote(s))))
            })
            .collect::<Result<BTreeSet<_>, _>>()?;
        if statuses.is_empty() {
            return Err(invalid("InvalidStatus", "name at least one status"));
        }
        let (reached, sessions) = self
            .app
            .sm
            .wait_for_status(
                &ids,
                &statuses,
                request.any,
                bounded(request.wait_ms, MAX_WAIT),
            )
            .await
            .map_err(sm_error)?;
        Ok(WaitReply {
            reached,
            sessions: sessions.iter().map(|s| session_view(s, None)).collect(),
        })
    }

    async fn project_add(
        self,
        _: Context,
        request: ProjectAddRequest,
    ) -> Result<ProjectView, WireError> {
        branch_length(request.base_branch.as_deref())?;
        if request.repo_path.len() > MAX_PATH_BYTES {
            return Err(invalid(
                "InvalidProject",
                format!(
                    "invalid project: the repository path {} is longer than {MAX_PATH_BYTES} bytes",
                    quote(&request.repo_path)
                ),
            ));
        }
        let spec = ProjectSpec {
            name: request.name,
            repo_path: PathBuf::from(request.repo_path),
            base_branch: request.base_branch,
            default_agent: request.default_agent,
            settings: ao::domain::ProjectSettings {
                symlinks: request.symlinks,
                copies: request.copies,
                post_create: request.post_create,
                env: request.env.into_iter().collect(),
                push_remote: None,
            },
        };
        let app = self.app.clone();
        let project = self
            .detached(async move { app.sm.add_project(spec).await.map_err(sm_error) })
            .await?;
        Ok(project_view(&project))
    }

    async fn project_list(self, _: Context) -> Result<Vec<ProjectView>, WireError> {
        let projects = self.app.sm.projects().await.map_err(sm_error)?;
        Ok(projects.iter().map(project_view).collect())
    }

    async fn project_remove(self, _: Context, name: String) -> Result<bool, WireError> {
        let id = project_id(&name)?;
        let app = self.app.clone();
        self.detached(async move { app.sm.remove_project(&id).await.map_err(sm_error) })
            .await
    }

    async fn ingest_hook(self, _: Context, request: HookRequest) -> Result<(), WireError> {
        let call = HookCall {
            session_id: request.session_id,
            agent: request.agent,
            event: request.event,
            state: request.state,
            tool_name: request.tool_name,
            tool_use_id: request.tool_use_id,
            agent_session_id: request.agent_session_id,
            launch_id: request.launch_id,
            prompt_hash: request.prompt_hash,
        };
        self.app.sm.ingest_hook(call).await.map_err(sm_error)
    }

    async fn attach(self, _: Context, id: String) -> Result<AttachReply, WireError> {
        let id = session_id(&id)?;
        let session = self.app.sm.get(&id).await.map_err(sm_error)?;
        if session.record.is_terminal() {
            return Err(WireError::new(
                ao_proto::ErrorCode::Failed,
                "Terminated",
                format!("session {id} is {}; restore it first", session.status),
            ));
        }
        let handle = ao::messages::runtime_handle(&session.record).ok_or_else(|| {
            WireError::new(
                ao_proto::ErrorCode::Failed,
                "NoRuntime",
                format!("session {id} has no runtime yet"),
            )
        })?;
        let name =
            ao_adapters::tmux::validate_handle(&handle).map_err(|e| internal(e.to_string()))?;
        Ok(AttachReply {
            runtime_name: name.to_owned(),
            tmux_socket: self.app.config.tmux_socket.clone(),
        })
    }

    async fn doctor(self, _: Context) -> Vec<Check> {
        let app = &self.app;
        let check = |name: &str, result: &Result<String, String>| Check {
            name: name.to_owned(),
            ok: result.is_ok(),
            detail: match result {
                Ok(v) | Err(v) => v.clone(),
            },
        };
        let mut checks = vec![
            check("tmux", &app.runtime_version),
            check("git", &app.git_version),
            Check {
                name: "store".into(),
                ok: app.store.list_running().await.is_ok(),
                detail: if app.config.ephemeral {
                    "in a temporary directory (ephemeral)".into()
                } else {
                    app.config.db_path().display().to_string()
                },
            },
            Check {
                name: "socket".into(),
                ok: true,
                detail: app.config.socket.display().to_string(),
            },
        ];
        for name in app.agents.names() {
            let Some(harness) = app.agents.get(name) else {
                continue;
            };
            if name == "command" {
                continue;
            }
            let launch = ao::ports::LaunchConfig::default();
            let result = match harness.resolve_binary(&launch) {
                Ok(path) => {
                    let shown = path.display().to_string();
                    // A large agent CLI starts slowly on a busy machine.
                    match crate::app::tool_version(&shown, AGENT_VERSION_TIMEOUT).await {
                        Ok(version) => Ok(format!("{shown} ({version})")),
                        Err(e) => Err(format!("{shown}: `--version` failed: {e}")),
                    }
                }
                Err(e) => Err(e.to_string()),
            };
            checks.push(check(&format!("agent {name}"), &result));
        }
        checks.push(github_check(app).await);
        checks.push(Check {
            name: "notify".into(),
            ok: true,
            detail: app.notifiers.describe().join(", "),
        });
        checks
    }

    async fn trash_list(self, _: Context) -> Result<Vec<TrashEntryView>, WireError> {
        let entries = self.app.sm.trash_list().await.map_err(sm_error)?;
        Ok(entries.iter().map(trash_entry_view).collect())
    }

    async fn trash_restore(self, _: Context, name: String) -> Result<TrashEntryView, WireError> {
        let app = self.app.clone();
        let entry = self
            .detached(async move { app.sm.trash_restore(&name).await.map_err(sm_error) })
            .await?;
        Ok(trash_entry_view(&entry))
    }

    async fn trash_empty(
        self,
        _: Context,
        request: TrashEmptyRequest,
    ) -> Result<TrashEmptyReply, WireError> {
        let app = self.app.clone();
        let older_than = request.older_than_ms.map(Duration::from_millis);
        let emptied = self
            .detached(async move { app.sm.trash_empty(older_than).await.map_err(sm_error) })
            .await?;
        Ok(TrashEmptyReply {
            removed: emptied.removed.iter().map(trash_entry_view).collect(),
            failed: emptied
                .failed
                .iter()
                .map(|(entry, reason)| Skipped {
                    id: entry.id.clone(),
                    reason: reason.clone(),
                })
                .collect(),
        })
    }

    async fn shutdown(self, _: Context) -> Result<(), WireError> {
        self.app.shutdown.cancel();
        Ok(())
    }
}
