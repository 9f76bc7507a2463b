//! The tarpc transport of the service: converts wire requests into the service's plain input
//! and its answers and errors back into wire types. Decides nothing.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ao::domain::{ProjectSettings, TurnError, WaitVerdict};
use ao::lifecycle::DraftNote;
use ao::service::{CleanupOptions, SpawnInput, WaitInput};
use ao::session::{ForgetResult, HookCall, ProjectBranches, ProjectSpec, SendOutcome};
use ao_proto::{
    Ao, AttachReply, BranchesView, Check, CleanupReply, CleanupRequest, EventsReply, EventsRequest,
    ForgetReply, ForgetRequest, HookRequest, KillReply, KillRequest, ListRequest, Pong,
    ProjectAddRequest, ProjectView, SendReply, SendRequest, SessionView, Skipped,
    SpawnProgressView, TailReply, TailRequest, TrashEmptyReply, TrashEmptyRequest, TrashEntryView,
    WaitReply, WaitRequest, Why, WhyRequest, WireError,
};
use tarpc::context::Context;

use crate::app::App;
use crate::convert::{
    detail_view, event_view, project_view, retired_view, session_view, trash_entry_view,
    wire_error, workspace_error,
};

/// The tarpc service handed to every connection.
#[derive(Clone)]
pub struct Rpc {
    app: Arc<App>,
}

impl Rpc {
    pub fn new(app: Arc<App>) -> Self {
        Self { app }
    }
}

impl Ao for Rpc {
    async fn ping(self, _: Context) -> Pong {
        Pong {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            protocol: ao_proto::PROTOCOL_VERSION,
            pid: std::process::id(),
            data_dir: self.app.config.data_dir.display().to_string(),
            socket: self.app.config.socket.display().to_string(),
            started_at: self.app.started_at.to_rfc3339(),
            config_file: Some(self.app.config.config_file.display().to_string()),
            agents: self.app.agents.names().map(str::to_owned).collect(),
        }
    }

    async fn spawn(
        self,
        _: Context,
        request: ao_proto::SpawnRequest,
    ) -> Result<SessionView, WireError> {
        let input = SpawnInput {
            project: request.project,
            issue: request.issue,
            branch: request.branch,
            prompt: request.prompt,
            agent: request.agent,
            model: request.model,
            permission_mode: request.permission_mode,
            command: request.command,
            request_id: request.request_id,
            parent: request.parent,
            env: request.env,
            path: request.path,
        };
        let session = self.app.service.spawn(input).await.map_err(wire_error)?;
        Ok(session_view(&session, None))
    }

    async fn spawn_progress(
        self,
        _: Context,
        request_id: String,
    ) -> Result<Option<SpawnProgressView>, WireError> {
        let progress = self
            .app
            .service
            .spawn_progress(&request_id)
            .map_err(wire_error)?;
        Ok(progress.map(|p| SpawnProgressView {
            session: p.session.map(|id| id.to_string()),
            step: p.step,
            cancelling: p.cancelling,
        }))
    }

    async fn spawn_cancel(self, _: Context, request_id: String) -> Result<bool, WireError> {
        self.app
            .service
            .cancel_spawn(&request_id)
            .map_err(wire_error)
    }

    async fn kill(self, _: Context, request: KillRequest) -> Result<KillReply, WireError> {
        let report = self
            .app
            .service
            .kill(&request.id, request.preserve)
            .await
            .map_err(wire_error)?;
        let result = report.result;
        let trash = result.retired.trash.as_ref();
        Ok(KillReply {
            id: result.id.to_string(),
            workspace_freed: result.workspace_freed,
            preserved_ref: result.retired.preserved_ref.clone(),
            workspace_error: result.workspace_error.as_ref().map(workspace_error),
            workspace_path: report.workspace_path,
            trash_id: trash.map(|t| t.id.clone()),
            trash_path: trash.map(|t| t.path.display().to_string()),
            detached_ref: result.retired.detached_ref.clone(),
            nested_repos: result.retired.nested_repos.clone(),
            leftovers: result.leftovers,
            already_ended: report.already_ended.map(|s| s.to_string()),
        })
    }

    async fn send(self, _: Context, request: SendRequest) -> Result<SendReply, WireError> {
        let outcome = self
            .app
            .service
            .send(&request.id, request.message, request.wait_ms, request.force)
            .await
            .map_err(wire_error)?;
        let (message_id, state, draft) = match outcome {
            SendOutcome::Queued { message_id, draft } => (message_id, "queued", draft),
            SendOutcome::Injected { message_id, draft } => (message_id, "injected", draft),
            SendOutcome::Acknowledged { message_id, draft } => (message_id, "acknowledged", draft),
        };
        let (draft, draft_text) = match draft {
            None => (None, None),
            Some(DraftNote::Waiting) => (Some("waiting"), None),
            Some(DraftNote::SetAside) => (Some("set_aside"), None),
            Some(DraftNote::Restored) => (Some("restored"), None),
            Some(DraftNote::NotRestored(text)) => (Some("not_restored"), Some(text)),
        };
        Ok(SendReply {
            id: request.id,
            message_id,
            state: state.to_owned(),
            draft: draft.map(str::to_owned),
            draft_text,
        })
    }

    async fn tail(self, _: Context, request: TailRequest) -> Result<TailReply, WireError> {
        let tail = self
            .app
            .service
            .tail(
                &request.id,
                request.cursor,
                request.lines,
                request.before,
                request.wait_ms,
            )
            .await
            .map_err(wire_error)?;
        Ok(TailReply {
            text: tail.chunk.text,
            start: tail.chunk.start,
            next: tail.chunk.next,
            live: tail.live,
            lines: tail
                .page
                .map_or(0, |p| u32::try_from(p.lines).unwrap_or(u32::MAX)),
            oldest: tail.page.map(|p| p.oldest),
        })
    }

    async fn list(self, _: Context, request: ListRequest) -> Result<Vec<SessionView>, WireError> {
        let sessions = self
            .app
            .service
            .list(request.project.as_deref(), request.all)
            .await
            .map_err(wire_error)?;
        Ok(sessions.iter().map(|s| session_view(s, None)).collect())
    }

    async fn get(self, _: Context, id: String) -> Result<SessionView, WireError> {
        let detail = self.app.service.get(&id).await.map_err(wire_error)?;
        Ok(detail_view(&detail))
    }

    async fn why(self, _: Context, request: WhyRequest) -> Result<Why, WireError> {
        self.app
            .service
            .why(&request.id, request.limit)
            .await
            .map_err(wire_error)
    }

    async fn restore(self, _: Context, id: String) -> Result<SessionView, WireError> {
        let detail = self.app.service.restore(&id).await.map_err(wire_error)?;
        Ok(detail_view(&detail))
    }

    async fn cleanup(self, _: Context, request: CleanupRequest) -> Result<CleanupReply, WireError> {
        let report = self
            .app
            .service
            .cleanup(CleanupOptions {
                project: request.project,
                preserve: request.preserve,
                dry_run: request.dry_run,
                forget_ended: request.forget_ended,
                older_than: request.older_than_ms.map(Duration::from_millis),
                branches: request.branches,
            })
            .await
            .map_err(wire_error)?;
        let cleaned = &report.result.cleaned;
        Ok(CleanupReply {
            cleaned: cleaned.iter().map(|(id, _)| id.to_string()).collect(),
            preserved: cleaned
                .iter()
                .filter_map(|(id, r)| Some((id.to_string(), r.preserved_ref.clone()?)))
                .collect(),
            retired: report
                .retired()
                .map(|(id, r)| retired_view(id, r))
                .collect(),
            skipped: report
                .result
                .skipped
                .iter()
                .map(|s| Skipped {
                    id: s.id.to_string(),
                    reason: s.reason.clone(),
                })
                .collect(),
            dry_run: report.dry_run,
            forgotten: report
                .forgotten
                .as_ref()
                .map(|f| forget_reply(f, report.dry_run)),
            branches: report
                .branches
                .as_ref()
                .map(|projects| projects.iter().map(branches_view).collect()),
        })
    }

    async fn forget(self, _: Context, request: ForgetRequest) -> Result<ForgetReply, WireError> {
        let result = self
            .app
            .service
            .forget(&request.ids, request.dry_run)
            .await
            .map_err(wire_error)?;
        Ok(forget_reply(&result, request.dry_run))
    }

    async fn events(self, _: Context, request: EventsRequest) -> Result<EventsReply, WireError> {
        let page = self
            .app
            .service
            .events(
                request.after,
                request.limit,
                request.wait_ms,
                request.session.as_deref(),
            )
            .await
            .map_err(wire_error)?;
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
        let input = WaitInput {
            ids: request.ids,
            statuses: request.statuses,
            any: request.any,
            wait_ms: request.wait_ms,
        };
        let (verdict, sessions) = self
            .app
            .service
            .wait_for_status(input)
            .await
            .map_err(wire_error)?;
        Ok(WaitReply {
            reached: verdict == WaitVerdict::Reached,
            unreachable: verdict == WaitVerdict::Unreachable,
            sessions: sessions.iter().map(|s| session_view(s, None)).collect(),
        })
    }

    async fn project_add(
        self,
        _: Context,
        request: ProjectAddRequest,
    ) -> Result<ProjectView, WireError> {
        let spec = ProjectSpec {
            name: request.name,
            repo_path: PathBuf::from(request.repo_path),
            base_branch: request.base_branch,
            default_agent: request.default_agent,
            settings: ProjectSettings {
                symlinks: request.symlinks,
                copies: request.copies,
                post_create: request.post_create,
                exclude: request.exclude,
                env: request.env.into_iter().collect(),
                push_remote: None,
            },
        };
        let project = self
            .app
            .service
            .project_add(spec)
            .await
            .map_err(wire_error)?;
        Ok(project_view(&project))
    }

    async fn project_list(self, _: Context) -> Result<Vec<ProjectView>, WireError> {
        let projects = self.app.service.project_list().await.map_err(wire_error)?;
        Ok(projects.iter().map(project_view).collect())
    }

    async fn project_remove(self, _: Context, name: String) -> Result<bool, WireError> {
        self.app
            .service
            .project_remove(&name)
            .await
            .map_err(wire_error)
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
            turn_error: request
                .turn_error
                .map(|e| TurnError::new(&e.kind, &e.message)),
        };
        self.app.service.ingest_hook(call).await.map_err(wire_error)
    }

    async fn attach(self, _: Context, id: String) -> Result<AttachReply, WireError> {
        let runtime_name = self
            .app
            .service
            .attach_target(&id)
            .await
            .map_err(wire_error)?;
        Ok(AttachReply {
            runtime_name,
            tmux_socket: self.app.config.tmux_socket.clone(),
        })
    }

    async fn doctor(self, _: Context) -> Vec<Check> {
        self.app
            .service
            .doctor()
            .await
            .into_iter()
            .map(|c| Check {
                name: c.name,
                ok: c.ok,
                warning: c.warning,
                detail: c.detail,
            })
            .collect()
    }

    async fn trash_list(self, _: Context) -> Result<Vec<TrashEntryView>, WireError> {
        let entries = self.app.service.trash_list().await.map_err(wire_error)?;
        Ok(entries.iter().map(trash_entry_view).collect())
    }

    async fn trash_restore(self, _: Context, name: String) -> Result<TrashEntryView, WireError> {
        let entry = self
            .app
            .service
            .trash_restore(name)
            .await
            .map_err(wire_error)?;
        Ok(trash_entry_view(&entry))
    }

    async fn trash_empty(
        self,
        _: Context,
        request: TrashEmptyRequest,
    ) -> Result<TrashEmptyReply, WireError> {
        let emptied = self
            .app
            .service
            .trash_empty(request.older_than_ms.map(Duration::from_millis))
            .await
            .map_err(wire_error)?;
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
        self.app.service.shutdown();
        Ok(())
    }
}

fn forget_reply(result: &ForgetResult, dry_run: bool) -> ForgetReply {
    ForgetReply {
        forgotten: result.forgotten.iter().map(ToString::to_string).collect(),
        skipped: result
            .skipped
            .iter()
            .map(|s| Skipped {
                id: s.id.to_string(),
                reason: s.reason.clone(),
            })
            .collect(),
        dry_run,
    }
}

fn branches_view(project: &ProjectBranches) -> BranchesView {
    let (base, deleted, kept, error) = match &project.result {
        Ok(prune) => (
            Some(prune.base.clone()),
            prune.deleted.clone(),
            prune
                .kept
                .iter()
                .map(|(branch, reason)| Skipped {
                    id: branch.clone(),
                    reason: reason.clone(),
                })
                .collect(),
            None,
        ),
        Err(e) => (None, vec![], vec![], Some(e.clone())),
    };
    BranchesView {
        project: project.project.to_string(),
        base,
        deleted,
        kept,
        error,
    }
}
