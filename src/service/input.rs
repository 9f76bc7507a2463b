//! Request input as a transport receives it, and the rules that turn its text into domain
//! values: ids, statuses, permission modes, and the bounds on sizes and waits.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use super::ServiceError;
use crate::domain::limits::{MAX_BRANCH_BYTES, MAX_PATH_BYTES, MAX_REQUEST_ID_BYTES};
use crate::domain::{IssueId, ProjectId, SessionId, Status, quote};
use crate::ports::PermissionMode;

/// A spawn as a client asks for it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpawnInput {
    pub project: String,
    pub issue: Option<String>,
    pub branch: Option<String>,
    pub prompt: Option<String>,
    pub agent: Option<String>,
    /// Blank means the agent's default.
    pub model: Option<String>,
    pub permission_mode: Option<String>,
    /// The argv of the generic `command` harness.
    pub command: Option<Vec<String>>,
    /// Client-chosen idempotency key.
    pub request_id: Option<String>,
    /// The session spawning this one (recorded when it exists).
    pub parent: Option<String>,
    /// Variables for this session's agent (`spawn --env`, `--env-file`).
    pub env: std::collections::BTreeMap<String, String>,
    /// The spawner's `PATH`.
    pub path: Option<String>,
}

/// A wait for statuses as a client asks for it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WaitInput {
    pub ids: Vec<String>,
    pub statuses: Vec<String>,
    /// One session reaching a status is enough.
    pub any: bool,
    pub wait_ms: u64,
}

pub(super) fn session_id(text: &str) -> Result<SessionId, ServiceError> {
    SessionId::parse(text).map_err(|e| ServiceError::invalid("InvalidSessionId", e.to_string()))
}

pub(super) fn project_id(text: &str) -> Result<ProjectId, ServiceError> {
    ProjectId::parse(text).map_err(|e| ServiceError::invalid("InvalidProject", e.to_string()))
}

pub(super) fn issue_id(text: &str) -> Result<IssueId, ServiceError> {
    IssueId::parse(text).map_err(|e| ServiceError::invalid("InvalidIssue", e.to_string()))
}

pub(super) fn permission_mode(text: &str) -> Result<PermissionMode, ServiceError> {
    PermissionMode::parse(text).ok_or_else(|| {
        ServiceError::invalid_value("InvalidAgentOptions", "unknown permission mode", text)
    })
}

/// At least one status, each a known one.
pub(super) fn statuses(names: &[String]) -> Result<BTreeSet<Status>, ServiceError> {
    let statuses = names
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<Status>().map_err(|_| {
                let known: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
                ServiceError::invalid(
                    "InvalidStatus",
                    format!(
                        "unknown status {} (statuses: {})",
                        quote(s),
                        known.join(", ")
                    ),
                )
            })
        })
        .collect::<Result<BTreeSet<_>, _>>()?;
    if statuses.is_empty() {
        return Err(ServiceError::invalid(
            "InvalidStatus",
            "name at least one status",
        ));
    }
    Ok(statuses)
}

/// A branch name no longer than `MAX_BRANCH_BYTES`; git checks the rest.
/// A spawn's request id within its bound.
pub(super) fn request_id_length(request_id: &str) -> Result<(), ServiceError> {
    if request_id.len() > MAX_REQUEST_ID_BYTES {
        return Err(ServiceError::too_large("request id", MAX_REQUEST_ID_BYTES));
    }
    Ok(())
}

pub(super) fn branch_length(branch: Option<&str>) -> Result<(), ServiceError> {
    match branch {
        Some(b) if b.len() > MAX_BRANCH_BYTES => Err(ServiceError::invalid(
            "BranchInvalid",
            format!(
                "invalid branch name {}: longer than {MAX_BRANCH_BYTES} bytes",
                quote(b)
            ),
        )),
        _ => Ok(()),
    }
}

/// A repository path no longer than the system's `PATH_MAX`.
pub(super) fn path_length(path: &Path) -> Result<(), ServiceError> {
    if path.as_os_str().len() > MAX_PATH_BYTES {
        return Err(ServiceError::invalid(
            "InvalidProject",
            format!(
                "invalid project: the repository path {} is longer than {MAX_PATH_BYTES} bytes",
                quote(&path.display().to_string())
            ),
        ));
    }
    Ok(())
}

/// A client's wait, cut to `max`.
pub(super) fn bounded(ms: u64, max: Duration) -> Duration {
    Duration::from_millis(ms).min(max)
}

#[cfg(test)]
mod tests {
    use super::super::ErrorClass;
    use super::*;

    fn kind<T: std::fmt::Debug>(result: Result<T, ServiceError>) -> (ErrorClass, &'static str) {
        let e = result.unwrap_err();
        (e.class, e.kind)
    }

    #[test]
    fn ids_are_parsed_into_their_own_kind_of_error() {
        assert_eq!(session_id("p-1").unwrap().to_string(), "p-1");
        assert_eq!(
            kind(session_id("../x")),
            (ErrorClass::InvalidArgument, "InvalidSessionId")
        );
        assert_eq!(
            kind(project_id("a b")),
            (ErrorClass::InvalidArgument, "InvalidProject")
        );
        assert_eq!(
            kind(issue_id("")),
            (ErrorClass::InvalidArgument, "InvalidIssue")
        );
        assert_eq!(
            kind(permission_mode("yolo")),
            (ErrorClass::InvalidArgument, "InvalidAgentOptions")
        );
    }

    #[test]
    fn statuses_must_be_known_and_at_least_one() {
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            statuses(&names(&["working", " stuck", "working "])).unwrap(),
            BTreeSet::from([Status::Working, Status::Stuck])
        );
        assert_eq!(
            kind(statuses(&names(&[]))),
            (ErrorClass::InvalidArgument, "InvalidStatus")
        );
        let e = statuses(&names(&["working", "sleepy"])).unwrap_err();
        assert_eq!(e.kind, "InvalidStatus");
        assert!(e.message.contains("sleepy"), "{}", e.message);
        assert!(e.message.contains("needs_input, stuck"), "{}", e.message);
    }

    #[test]
    fn lengths_are_bounded_at_the_limit() {
        let at = "b".repeat(MAX_BRANCH_BYTES);
        assert!(branch_length(Some(&at)).is_ok());
        assert!(branch_length(None).is_ok());
        let over = format!("{at}b");
        assert_eq!(
            kind(branch_length(Some(&over))),
            (ErrorClass::InvalidArgument, "BranchInvalid")
        );
        let path = "/".repeat(MAX_PATH_BYTES);
        assert!(path_length(Path::new(&path)).is_ok());
        assert_eq!(
            kind(path_length(Path::new(&format!("{path}a")))),
            (ErrorClass::InvalidArgument, "InvalidProject")
        );
    }

    #[test]
    fn waits_are_cut_to_their_maximum() {
        let max = Duration::from_secs(30);
        assert_eq!(bounded(5, max), Duration::from_millis(5));
        assert_eq!(bounded(u64::MAX, max), max);
    }
}
