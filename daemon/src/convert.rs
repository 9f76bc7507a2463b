//! Conversions at the edge: domain types to wire types, and errors to the stable `WireError`.

use ao::domain::{
    ActivityState, ChangeEvent, PrState, Project, ScmFacts, Session, SessionId, meta,
};
use ao::lifecycle::LcmError;
use ao::ports::{Retired, StoreError, TrashEntry, TrashState, WorkspaceError};
use ao::session::{HookError, SendRefusal, SmError};
use ao_proto::{
    ErrorCode, EventView, PrView, ProjectView, RetiredView, ScmView, SessionView, TrashEntryView,
    WireError,
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
        scm: scm.filter(|f| f.fetched).map(scm_view),
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

pub fn invalid(kind: &str, message: impl Into<String>) -> WireError {
    WireError::new(ErrorCode::InvalidArgument, kind, message)
}

pub fn internal(message: impl Into<String>) -> WireError {
    WireError::new(ErrorCode::Failed, "Internal", message)
}

/// The variant name of a workspace error, for `WireError::kind`.
pub fn workspace_kind(e: &WorkspaceError) -> &'static str {
    match e {
        WorkspaceError::UnsafePath(_) => "UnsafePath",
        WorkspaceError::BranchInvalid { .. } => "BranchInvalid",
        WorkspaceError::BranchNotFetched(_) => "BranchNotFetched",
        WorkspaceError::BranchCheckedOutElsewhere { .. } => "BranchCheckedOutElsewhere",
        WorkspaceError::Locked => "Locked",
        WorkspaceError::Stale(_) => "Stale",
        WorkspaceError::Dirty => "Dirty",
        WorkspaceError::TrashUnavailable(_) => "TrashUnavailable",
        WorkspaceError::NotInTrash(_) => "NotInTrash",
        WorkspaceError::RestoreBlocked { .. } => "RestoreBlocked",
        WorkspaceError::PreservedExists { .. } => "PreservedExists",
        WorkspaceError::PreservedConflict { .. } => "PreservedConflict",
        WorkspaceError::NotAWorktree(_) => "NotAWorktree",
        WorkspaceError::Git { .. } => "Git",
        WorkspaceError::Io(_) => "Io",
    }
}

pub fn workspace_error(e: &WorkspaceError) -> WireError {
    WireError::new(ErrorCode::Failed, workspace_kind(e), e.to_string())
}

pub fn store_error(e: StoreError) -> WireError {
    match e {
        StoreError::NotFound(_) => WireError::new(ErrorCode::NotFound, "NotFound", e.to_string()),
        StoreError::Conflict { .. } => WireError::new(ErrorCode::Failed, "Conflict", e.to_string()),
        other => WireError::new(ErrorCode::Failed, "Store", other.to_string()),
    }
}

pub fn sm_error(e: SmError) -> WireError {
    use ErrorCode::*;
    let message = e.to_string();
    let (code, kind): (ErrorCode, &str) = match &e {
        SmError::NotFound(_) => (NotFound, "NotFound"),
        SmError::ProjectNotFound(_) => (NotFound, "ProjectNotFound"),
        SmError::InvalidProject(_) => (InvalidArgument, "InvalidProject"),
        SmError::UnknownAgent(_) => (InvalidArgument, "UnknownAgent"),
        SmError::MissingAgent(_) => (InvalidArgument, "MissingAgent"),
        SmError::AgentBinaryNotFound(_) => (Failed, "AgentBinaryNotFound"),
        SmError::InvalidAgentOptions(_) => (InvalidArgument, "InvalidAgentOptions"),
        SmError::RuntimePrerequisite(_) => (Unavailable, "RuntimePrerequisite"),
        SmError::InvalidInput(_) => (InvalidArgument, "InvalidInput"),
        SmError::BranchInvalid { .. } => (InvalidArgument, "BranchInvalid"),
        SmError::NotRestorable(_) => (Failed, "NotRestorable"),
        SmError::IncompleteHandle { .. } => (Failed, "IncompleteHandle"),
        SmError::NotResumable(_) => (Failed, "NotResumable"),
        SmError::IncompleteTeardownMetadata { .. } => (Failed, "IncompleteTeardownMetadata"),
        SmError::Refused { reason, .. } => (
            if *reason == SendRefusal::NotFound {
                NotFound
            } else {
                Failed
            },
            match reason {
                SendRefusal::NotFound => "NotFound",
                SendRefusal::Terminated => "Terminated",
                SendRefusal::AgentExited => "AgentExited",
                SendRefusal::AwaitingDecision => "AwaitingDecision",
                SendRefusal::UnknownState => "UnknownState",
                SendRefusal::Failed(_) => "DeliveryFailed",
            },
        ),
        SmError::StepFailed { .. } => (Failed, "SpawnFailed"),
        SmError::Workspace(w @ WorkspaceError::NotInTrash(_)) => (NotFound, workspace_kind(w)),
        SmError::Workspace(w) => (Failed, workspace_kind(w)),
        SmError::Runtime(_) => (Failed, "Runtime"),
        SmError::Setup(_) => (Failed, "Setup"),
        SmError::Agent(_) => (Failed, "Agent"),
        SmError::Hook(HookError::SessionNotFound(_)) => (NotFound, "SessionNotFound"),
        SmError::Hook(HookError::InvalidActivityState(_)) => {
            (InvalidArgument, "InvalidActivityState")
        }
        SmError::Hook(HookError::ActivityOrSessionIdRequired) => {
            (InvalidArgument, "ActivityOrSessionIdRequired")
        }
        SmError::Hook(HookError::InvalidSessionId(_)) => (InvalidArgument, "InvalidSessionId"),
        SmError::Lcm(LcmError::Store(StoreError::Conflict { .. })) => (Failed, "Conflict"),
        SmError::Lcm(LcmError::Store(StoreError::ProjectExists(_))) => {
            (InvalidArgument, "ProjectExists")
        }
        SmError::Lcm(_) => (Failed, "Store"),
    };
    WireError::new(code, kind, message)
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
