//! The Session Manager (SM): spawn, kill, restore, cleanup, list, get and send, step by step with
//! their rollback order.
//!
//! The SM drives the adapters through their ports and reports every outcome to the LCM; it never
//! writes a record itself and never derives lifecycle state from observations. Everything that
//! can be validated is validated before anything is created; a failure after that rolls back in
//! reverse creation order and leaves the record visible as `errored`.

mod env;
mod forget;
mod hooks;
mod in_flight;
mod observe;
mod projects;
mod reconcile;
mod registry;
mod restore;
mod send;
mod spawn;
mod teardown;
mod trash;
pub mod validate;

use std::path::PathBuf;
use std::sync::Arc;

use crate::domain::{
    ProjectId, Session, SessionId, SessionRecord, Timestamp, derive_status, meta, quote,
    quote_within,
};
use crate::lifecycle::{Lcm, LcmError};
use crate::messages::runtime_handle;
use crate::ports::{
    AgentCatalog, AgentError, Clock, Notifier, ProjectSetup, Runtime, RuntimeError, SetupError,
    Store, StoreError, Workspace, WorkspaceError,
};

pub use env::{IdentityEnv, pinned_path, runtime_env};
pub use forget::{ForgetResult, ProjectBranches};
pub use hooks::{HookCall, HookError};
pub use in_flight::SpawnProgress;
pub use observe::{LinesPage, TailChunk};
pub use projects::ProjectSpec;
pub use reconcile::BootReport;
pub use registry::AgentRegistry;
pub use send::{SendOutcome, SendRefusal};
pub use spawn::{LaunchOptions, SpawnRequest};
pub use teardown::{CleanupResult, KillOptions, KillResult, Skipped};

/// Metadata key holding the launch options of a spawn (model, permission mode, command argv),
/// so a restore relaunches the agent the same way.
pub const META_LAUNCH_OPTIONS: &str = "launchOptions";

/// A step of spawn or restore, named in errors and in the failed record's detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Workspace,
    Setup,
    Hooks,
    Launch,
    Runtime,
    SpawnCompleted,
    Prompt,
}

impl Step {
    pub const fn as_str(self) -> &'static str {
        match self {
            Step::Workspace => "workspace",
            Step::Setup => "project setup",
            Step::Hooks => "agent hooks",
            Step::Launch => "launch command",
            Step::Runtime => "runtime",
            Step::SpawnCompleted => "spawn completed",
            Step::Prompt => "prompt delivery",
        }
    }
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Errors of the Session Manager.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmError {
    #[error("session {0} not found")]
    NotFound(SessionId),
    #[error("project {0} not found (add it with `aoctl project add`)")]
    ProjectNotFound(ProjectId),
    #[error("invalid project: {0}")]
    InvalidProject(String),
    #[error("unknown agent {} (configured agents: {})", quote(.name), .known.join(", "))]
    UnknownAgent { name: String, known: Vec<String> },
    #[error(
        "no agent given and project {0} has no default agent: name one with `--agent NAME`, run a \
         program with `--cmd \"PROGRAM ARGS\"`, or give the project a default with `aoctl \
         project add … --agent NAME`"
    )]
    MissingAgent(ProjectId),
    #[error("agent binary not found: {0}")]
    AgentBinaryNotFound(String),
    #[error("invalid agent options: {0}")]
    InvalidAgentOptions(String),
    #[error("runtime prerequisite not met: {0}")]
    RuntimePrerequisite(String),
    #[error(transparent)]
    InvalidInput(#[from] validate::InvalidInput),
    #[error("invalid branch name {}: {}", quote(.branch), quote_within(.reason, .branch))]
    BranchInvalid { branch: String, reason: String },
    #[error(
        "session {0} is still running; only a session that ended (killed, done, errored) can be \
         restored"
    )]
    NotRestorable(SessionId),
    #[error("session {id} cannot be restored: no {missing} recorded")]
    IncompleteHandle {
        id: SessionId,
        missing: &'static str,
    },
    #[error("session {0} cannot be restored: no agent conversation and no saved prompt")]
    NotResumable(SessionId),
    #[error("session {id} cannot be torn down: no {missing} recorded")]
    IncompleteTeardownMetadata {
        id: SessionId,
        missing: &'static str,
    },
    #[error("message to {id} refused: {reason}")]
    Refused { id: SessionId, reason: SendRefusal },
    #[error(
        "the spawn of {id} was cancelled (at: {step}); what it had made was rolled back, its \
         record stays as killed"
    )]
    SpawnCancelled { id: SessionId, step: Step },
    #[error("session {id}: {step} failed: {message}")]
    StepFailed {
        id: SessionId,
        step: Step,
        message: String,
    },
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    #[error(transparent)]
    Setup(#[from] SetupError),
    #[error(transparent)]
    Agent(#[from] AgentError),
    #[error(transparent)]
    Hook(#[from] HookError),
    #[error(transparent)]
    Lcm(#[from] LcmError),
}

impl From<StoreError> for SmError {
    fn from(e: StoreError) -> Self {
        SmError::Lcm(LcmError::Store(e))
    }
}

/// Where the SM's sessions live and how their panes reach the daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionManagerConfig {
    /// Exported as `AO_DATA_DIR`.
    pub data_dir: PathBuf,
    /// Exported as `AO_SOCKET`.
    pub socket_path: PathBuf,
    /// The directory holding `aoctl`, pinned first on the pane's PATH so hooks find it.
    pub aoctl_dir: Option<PathBuf>,
    /// The daemon's own PATH.
    pub daemon_path: String,
    /// `Err(reason)` when the runtime's prerequisites failed at daemon start.
    pub runtime_ready: Result<(), String>,
}

/// What the Session Manager drives: the LCM it reports every outcome to, and the ports it acts
/// through. Its store reads records only; writing one goes through the LCM.
pub struct SessionManagerDeps {
    pub lcm: Arc<Lcm>,
    pub store: Arc<dyn Store>,
    pub workspace: Arc<dyn Workspace>,
    pub setup: Arc<dyn ProjectSetup>,
    pub runtime: Arc<dyn Runtime>,
    pub agents: Arc<AgentRegistry>,
    pub clock: Arc<dyn Clock>,
    /// Warnings an operation itself raises (a restore's conflicting preserved work).
    pub notifier: Arc<dyn Notifier>,
}

/// The Session Manager.
pub struct SessionManager {
    lcm: Arc<Lcm>,
    store: Arc<dyn Store>,
    workspace: Arc<dyn Workspace>,
    setup: Arc<dyn ProjectSetup>,
    runtime: Arc<dyn Runtime>,
    agents: Arc<AgentRegistry>,
    clock: Arc<dyn Clock>,
    notifier: Arc<dyn Notifier>,
    config: SessionManagerConfig,
    in_flight: Arc<in_flight::SpawnsInFlight>,
}

impl SessionManager {
    /// The names of the configured agents, sorted.
    pub fn agent_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.agents.names().map(str::to_owned).collect();
        names.sort();
        names
    }

    /// The error for an agent name nobody configured, naming those that are.
    fn unknown_agent(&self, name: &str) -> SmError {
        SmError::UnknownAgent {
            name: name.to_owned(),
            known: self.agent_names(),
        }
    }

    pub fn new(deps: SessionManagerDeps, config: SessionManagerConfig) -> Self {
        let SessionManagerDeps {
            lcm,
            store,
            workspace,
            setup,
            runtime,
            agents,
            clock,
            notifier,
        } = deps;
        Self {
            lcm,
            store,
            workspace,
            setup,
            runtime,
            agents,
            clock,
            notifier,
            config,
            in_flight: Arc::default(),
        }
    }

    pub fn agents(&self) -> &Arc<AgentRegistry> {
        &self.agents
    }

    /// The read model of a record: the record plus its derived display status.
    pub fn read_model(&self, record: SessionRecord, now: Timestamp) -> Session {
        let hook_capable = self.agents.capabilities(&record.agent).hook_capable;
        Session {
            status: derive_status(&record, now, hook_capable),
            record,
        }
    }

    /// All sessions (of one project), ordered by project, then number.
    pub async fn list(&self, project: Option<&ProjectId>) -> Result<Vec<Session>, SmError> {
        let now = self.clock.now();
        let records = self.store.list(project).await?;
        Ok(records
            .into_iter()
            .map(|r| self.read_model(r, now))
            .collect())
    }

    /// What an agent printed last before it exited: up to `lines` lines, empty when it has not
    /// exited or its pane is gone (a read failure is logged, never an error of the caller).
    pub async fn exit_output(&self, record: &SessionRecord, lines: usize) -> Vec<String> {
        if record.meta(meta::EXIT_CODE).is_none() {
            return vec![];
        }
        let Some(handle) = runtime_handle(record) else {
            return vec![];
        };
        match self.runtime.exit_output(&handle, lines).await {
            Ok(output) => output,
            Err(e) => {
                tracing::debug!(session = %record.id, error = %e, "no output of the exited agent");
                vec![]
            }
        }
    }

    /// One session; unknown id → `NotFound`.
    pub async fn get(&self, id: &SessionId) -> Result<Session, SmError> {
        let record = self
            .store
            .load(id)
            .await?
            .ok_or_else(|| SmError::NotFound(id.clone()))?;
        Ok(self.read_model(record, self.clock.now()))
    }

    /// The time by the SM's clock (the time its read models are derived at).
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }
}

#[cfg(test)]
mod tests;
