//! The service's one error type: what went wrong, in which class a transport maps to its own
//! status (an exit code, an HTTP status), with a stable kind and one line for a human.

use crate::domain::quote;
use crate::lifecycle::LcmError;
use crate::ports::{StoreError, WorkspaceError};
use crate::session::{HookError, SendRefusal, SmError};

/// How a transport should present an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// The named session, project or trash entry does not exist.
    NotFound,
    /// The request itself is invalid: ids, branch names, options, sizes.
    InvalidArgument,
    /// The operation was refused or failed.
    Failed,
    /// The daemon cannot do it right now (shutting down, prerequisites missing).
    Unavailable,
}

/// A failed operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ServiceError {
    pub class: ErrorClass,
    /// A short, stable, machine-readable kind (`BranchInvalid`, `Dirty`, …).
    pub kind: &'static str,
    pub message: String,
}

impl ServiceError {
    pub fn new(class: ErrorClass, kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            class,
            kind,
            message: message.into(),
        }
    }

    pub fn invalid(kind: &'static str, message: impl Into<String>) -> Self {
        Self::new(ErrorClass::InvalidArgument, kind, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorClass::Failed, "Internal", message)
    }

    /// A value over its limit, named without echoing it whole.
    pub(super) fn too_large(what: &str, limit: usize) -> Self {
        Self::invalid(
            "TooLarge",
            format!("the {what} is larger than {limit} bytes"),
        )
    }

    pub(super) fn invalid_value(kind: &'static str, what: &str, value: &str) -> Self {
        Self::invalid(kind, format!("{what} {}", quote(value)))
    }
}

/// The variant name of a workspace error, as an error kind.
fn workspace_kind(e: &WorkspaceError) -> &'static str {
    match e {
        WorkspaceError::UnsafePath(_) => "UnsafePath",
        WorkspaceError::BranchInvalid { .. } => "BranchInvalid",
        WorkspaceError::BranchNotFetched(_) => "BranchNotFetched",
        WorkspaceError::BranchCheckedOutElsewhere { .. } => "BranchCheckedOutElsewhere",
        WorkspaceError::Locked => "Locked",
        WorkspaceError::Stale(_) => "Stale",
        WorkspaceError::Dirty { .. } => "Dirty",
        WorkspaceError::TrashUnavailable(_) => "TrashUnavailable",
        WorkspaceError::NotInTrash(_) => "NotInTrash",
        WorkspaceError::RestoreBlocked { .. } => "RestoreBlocked",
        WorkspaceError::PreservedExists { .. } => "PreservedExists",
        WorkspaceError::PreservedConflict { .. } => "PreservedConflict",
        WorkspaceError::NotAWorktree(_) => "NotAWorktree",
        WorkspaceError::RepoMissing(_) => "RepoMissing",
        WorkspaceError::NoCommits(_) => "NoCommits",
        WorkspaceError::BaseNotFound(_) => "BaseNotFound",
        WorkspaceError::Git { .. } => "Git",
        WorkspaceError::Io(_) => "Io",
    }
}

impl From<&WorkspaceError> for ServiceError {
    fn from(e: &WorkspaceError) -> Self {
        let class = match e {
            WorkspaceError::NotInTrash(_) => ErrorClass::NotFound,
            _ => ErrorClass::Failed,
        };
        Self::new(class, workspace_kind(e), e.to_string())
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        let (class, kind) = match &e {
            StoreError::NotFound(_) => (ErrorClass::NotFound, "NotFound"),
            StoreError::Conflict { .. } => (ErrorClass::Failed, "Conflict"),
            StoreError::ProjectExists(_) => (ErrorClass::InvalidArgument, "ProjectExists"),
            _ => (ErrorClass::Failed, "Store"),
        };
        Self::new(class, kind, e.to_string())
    }
}

impl From<SmError> for ServiceError {
    fn from(e: SmError) -> Self {
        use ErrorClass::*;
        let (class, kind): (ErrorClass, &'static str) = match &e {
            SmError::NotFound(_) => (NotFound, "NotFound"),
            SmError::ProjectNotFound(_) => (NotFound, "ProjectNotFound"),
            SmError::InvalidProject(_) => (InvalidArgument, "InvalidProject"),
            SmError::UnknownAgent { .. } => (InvalidArgument, "UnknownAgent"),
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
            SmError::Refused { reason, .. } => match reason {
                SendRefusal::NotFound => (NotFound, "NotFound"),
                SendRefusal::Terminated => (Failed, "Terminated"),
                SendRefusal::AgentExited => (Failed, "AgentExited"),
                SendRefusal::AwaitingDecision => (Failed, "AwaitingDecision"),
                SendRefusal::UnknownState => (Failed, "UnknownState"),
                SendRefusal::Failed(_) => (Failed, "DeliveryFailed"),
            },
            SmError::StepFailed { .. } => (Failed, "SpawnFailed"),
            SmError::SpawnCancelled { .. } => (Failed, "SpawnCancelled"),
            SmError::Workspace(w) => return w.into(),
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
            SmError::Lcm(LcmError::Store(store)) => return store.clone().into(),
            SmError::Lcm(_) => (Failed, "Store"),
        };
        Self::new(class, kind, e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::SessionId;

    #[test]
    fn classes_follow_what_the_user_can_do() {
        let id = SessionId::parse("p-1").unwrap();
        let cases: [(SmError, ErrorClass, &str); 5] = [
            (
                SmError::NotFound(id.clone()),
                ErrorClass::NotFound,
                "NotFound",
            ),
            (
                SmError::Workspace(WorkspaceError::NotInTrash("x".into())),
                ErrorClass::NotFound,
                "NotInTrash",
            ),
            (
                SmError::Workspace(WorkspaceError::Dirty { paths: vec![] }),
                ErrorClass::Failed,
                "Dirty",
            ),
            (
                SmError::Lcm(LcmError::Store(StoreError::ProjectExists(
                    crate::domain::ProjectId::parse("p").unwrap(),
                ))),
                ErrorClass::InvalidArgument,
                "ProjectExists",
            ),
            (
                SmError::RuntimePrerequisite("tmux".into()),
                ErrorClass::Unavailable,
                "RuntimePrerequisite",
            ),
        ];
        for (error, class, kind) in cases {
            let message = error.to_string();
            let e = ServiceError::from(error);
            assert_eq!((e.class, e.kind), (class, kind), "{message}");
            assert_eq!(e.message, message);
        }
    }
}
