//! `doctor`: what works and what does not, each with what to do about it. The daemon supplies
//! what it learned at start; the agent CLIs, the store and the code-host token are checked now.
//! An agent CLI that is not installed is a warning, not a failure: every agent is optional, and
//! only a spawn that names it fails.

use std::time::Duration;

use super::ServiceDeps;
use crate::ports::{AgentError, LaunchConfig};

/// How long an agent CLI gets to print its `--version`: a large one starts slowly on a busy
/// machine.
const AGENT_VERSION_TIMEOUT: Duration = Duration::from_secs(20);

/// One line of the report: `ok` false fails `doctor`; a `warning` (still `ok`) does not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    pub warning: bool,
    pub detail: String,
}

impl Check {
    fn of(name: impl Into<String>, result: Result<String, String>) -> Self {
        let ok = result.is_ok();
        Self {
            name: name.into(),
            ok,
            warning: false,
            detail: result.unwrap_or_else(|e| e),
        }
    }

    fn warning(name: impl Into<String>, detail: String) -> Self {
        Self {
            name: name.into(),
            ok: true,
            warning: true,
            detail,
        }
    }
}

/// What the daemon found at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoctorFacts {
    /// The tmux version, or why tmux is unusable.
    pub tmux: Result<String, String>,
    /// The git version, or why git is unusable.
    pub git: Result<String, String>,
    /// Where the store lives, as shown to the user.
    pub store_location: String,
    pub socket: String,
    /// The notification sinks, as shown to the user.
    pub notify: Vec<String>,
}

pub(super) async fn run(deps: &ServiceDeps) -> Vec<Check> {
    let facts = &deps.facts;
    let mut checks = vec![
        Check::of("tmux", facts.tmux.clone()),
        Check::of("git", facts.git.clone()),
        Check {
            name: "store".into(),
            ok: deps.store.list_running().await.is_ok(),
            warning: false,
            detail: facts.store_location.clone(),
        },
        Check::of("socket", Ok(facts.socket.clone())),
    ];
    for name in deps.agents.names() {
        // The generic harness runs whatever argv a spawn names: it has no CLI of its own.
        if name == "command" {
            continue;
        }
        let Some(harness) = deps.agents.get(name) else {
            continue;
        };
        let check = format!("agent {name}");
        let result = match harness.resolve_binary(&LaunchConfig::default()) {
            Ok(path) => {
                let shown = path.display().to_string();
                match deps.tools.version(&path, AGENT_VERSION_TIMEOUT).await {
                    Ok(version) => Ok(format!("{shown} ({version})")),
                    Err(e) => Err(format!("{shown}: `--version` failed: {e}")),
                }
            }
            Err(e @ AgentError::BinaryNotFound(_)) => {
                checks.push(Check::warning(
                    check,
                    format!("{e}; optional: only spawns with --agent {name} need it"),
                ));
                continue;
            }
            Err(e) => Err(e.to_string()),
        };
        checks.push(Check::of(check, result));
    }
    checks.push(code_host_token(deps).await);
    checks.push(Check::of("notify", Ok(facts.notify.join(", "))));
    checks
}

/// The code host's token: a missing one fails the check only when a project's origin is on
/// that host (its PRs are then not tracked); otherwise it is reported as not needed.
async fn code_host_token(deps: &ServiceDeps) -> Check {
    let name = "github token";
    let e = match deps.scm.credentials().await {
        Ok(source) => return Check::of(name, Ok(format!("from {source}"))),
        Err(e) => e,
    };
    let mut hosted = vec![];
    for project in deps.store.projects().await.unwrap_or_default() {
        if let Ok(Some(repo)) = deps
            .scm
            .remote_repository(&project.repo_path, "origin")
            .await
        {
            hosted.push(format!("{} ({repo})", project.id));
        }
    }
    if hosted.is_empty() {
        Check::of(
            name,
            Ok(format!("{e}; not needed: no project has a GitHub origin")),
        )
    } else {
        Check::of(
            name,
            Err(format!(
                "{e}; PR tracking is disabled for {}",
                hosted.join(", ")
            )),
        )
    }
}
