//! Conversions at the edge: domain types to wire types, and errors to the stable `WireError`.

use ao::domain::{
    ActivityState, ChangeEvent, PrState, Project, ScmFacts, Session, SessionId, TurnError, meta,
};
use ao::ports::{Retired, TrashEntry, TrashState, WorkspaceError};
use ao::service::{ErrorClass, ServiceError, SessionDetail};
use ao_proto::{
    ErrorCode, EventView, PrView, ProjectView, RetiredView, ScmView, SessionView, TrashEntryView,
    TurnErrorView, WireError,
};

pub fn session_view(session: &Session, scm: Option<&ScmFacts>) -> SessionView {
    let r = &session.record;
    let lc = &r.lifecycle;
    let pr = (!matches!(lc.pr.state, PrState::Unset | PrState::None)).then(|| PrView {
        number: lc.pr.number,
        url: lc.pr.url.clone(),
        state: lc.pr.state.as_str().to_owned(),
        reason: lc.pr.reason.as_str().to_owned(),
    });
    SessionView {
        id: r.id.to_string(),
        project: r.project_id.to_string(),
        agent: r.agent.clone(),
        status: session.status.as_str().to_owned(),
        activity: lc
            .activity
            .state
            .map(|a: ActivityState| a.as_str().to_owned()),
        branch: r.meta(meta::BRANCH).map(str::to_owned),
        workspace_path: r.meta(meta::WORKSPACE_PATH).map(str::to_owned),
        runtime_handle: r.meta(meta::RUNTIME_HANDLE_ID).map(str::to_owned),
        pr,
        created_at: r.created_at.to_rfc3339(),
        last_activity_at: lc.activity.last_activity_at.map(|t| t.to_rfc3339()),
        issue: r.issue_id.as_ref().map(ToString::to_string),
        kind: r.kind.as_str().to_owned(),
        session_state: lc.session.state.as_str().to_owned(),
        session_reason: lc.session.reason.as_str().to_owned(),
        runtime_state: lc.runtime.state.as_str().to_owned(),
        revision: r.revision,
        termination_detail: r.meta(meta::TERMINATION_DETAIL).map(str::to_owned),
        exit_code: r.meta(meta::EXIT_CODE).and_then(|code| code.parse().ok()),
        exited_at: r.meta(meta::EXITED_AT).map(str::to_owned),
        exit_output: vec![],
        scm: scm.filter(|f| f.fetched).map(scm_view),
        last_turn_error: r.meta(meta::LAST_TURN_ERROR).map(|value| {
            let error = TurnError::from_meta(value);
            TurnErrorView {
                kind: error.kind.as_str().to_owned(),
                message: error.message,
            }
        }),
        parent: r.meta(meta::PARENT_SESSION).map(str::to_owned),
        ended_at: r.meta(meta::ENDED_AT).map(str::to_owned),
    }
}

/// `get`'s view: the session, its PR's last SCM facts, and an exited agent's last output.
pub fn detail_view(detail: &SessionDetail) -> SessionView {
    SessionView {
        exit_output: detail.exit_output.clone(),
        ..session_view(&detail.session, detail.scm.as_ref())
    }
}

fn scm_view(f: &ScmFacts) -> ScmView {
    ScmView {
        ci: f.ci_summary.as_str().to_owned(),
        failed_checks: f.failed_checks.iter().map(|c| c.name.clone()).collect(),
        review: f.review_decision.as_str().to_owned(),
        mergeable: f.mergeability.mergeable,
        blockers: f.mergeability.blockers.clone(),
        pending_comments: f.pending_comments.len(),
        observed_at: f.observed_at.to_rfc3339(),
    }
}

pub fn project_view(p: &Project) -> ProjectView {
    ProjectView {
        id: p.id.to_string(),
        repo_path: p.repo_path.display().to_string(),
        base_branch: p.base_branch.clone(),
        default_agent: p.default_agent.clone(),
        symlinks: p.settings.symlinks.clone(),
        copies: p.settings.copies.clone(),
        post_create: p.settings.post_create.clone(),
        exclude: p.settings.exclude.clone(),
        created_at: p.created_at.to_rfc3339(),
    }
}

pub fn event_view(e: ChangeEvent) -> EventView {
    EventView {
        seq: e.seq,
        session_id: e.session_id.to_string(),
        project_id: e.project_id.to_string(),
        event_type: e.event_type.as_str().to_owned(),
        payload: e.payload,
        created_at: e.created_at.to_rfc3339(),
    }
}

/// A service error on the wire: its class becomes the code the client maps to an exit status.
pub fn wire_error(e: ServiceError) -> WireError {
    let code = match e.class {
        ErrorClass::NotFound => ErrorCode::NotFound,
        ErrorClass::InvalidArgument => ErrorCode::InvalidArgument,
        ErrorClass::Failed => ErrorCode::Failed,
        ErrorClass::Unavailable => ErrorCode::Unavailable,
    };
    WireError::new(code, e.kind, e.message)
}

/// Why a worktree was kept in place, on the wire.
pub fn workspace_error(e: &WorkspaceError) -> WireError {
    wire_error(ServiceError::from(e))
}

/// A trash entry on the wire.
pub fn trash_entry_view(entry: &TrashEntry) -> TrashEntryView {
    let path = |p: &std::path::Path| p.display().to_string();
    TrashEntryView {
        id: entry.id.clone(),
        path: path(&entry.path),
        state: match entry.state {
            TrashState::Trashed => "trashed",
            TrashState::Interrupted => "interrupted",
            TrashState::Unknown => "unknown",
        }
        .to_owned(),
        session: entry.session_id.as_ref().map(ToString::to_string),
        project: entry.project_id.as_ref().map(ToString::to_string),
        repo: entry.repo.as_deref().map(path),
        branch: entry.branch.clone(),
        original_path: entry.original_path.as_deref().map(path),
        trashed_at: entry.trashed_at.to_rfc3339(),
        detached_ref: entry.detached_ref.clone(),
        preserved_ref: entry.preserved_ref.clone(),
        nested_repos: entry.nested_repos.clone(),
    }
}

/// Where a retired worktree went, on the wire.
pub fn retired_view(id: &SessionId, retired: &Retired) -> RetiredView {
    RetiredView {
        id: id.to_string(),
        trash_id: retired.trash.as_ref().map(|t| t.id.clone()),
        trash_path: retired.trash.as_ref().map(|t| t.path.display().to_string()),
        detached_ref: retired.detached_ref.clone(),
        preserved_ref: retired.preserved_ref.clone(),
        nested_repos: retired.nested_repos.clone(),
    }
}
