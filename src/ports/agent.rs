//! The agent port: a harness for one kind of coding agent.
//!
//! A harness knows how to find, launch and resume its CLI, which hooks to install, and how its
//! hook events map to activity.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ao_core::input_line::Composer;
use async_trait::async_trait;

use crate::domain::{ActivityState, HookEvent, SessionId};
use crate::ports::Submit;

/// The wait for a typed message to show before Enter, for a harness that names none: a shell
/// echoes typed text at once.
pub const DEFAULT_ENTER_DELAY: Duration = Duration::from_millis(100);

/// Errors of the agent port.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgentError {
    #[error("agent binary not found: {0}")]
    BinaryNotFound(String),
    #[error("invalid agent options: {0}")]
    InvalidOptions(String),
    #[error("installing hooks: {0}")]
    Hooks(String),
    #[error("preparing launch: {0}")]
    PreLaunch(String),
}

/// Permission modes a spawn may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PermissionMode {
    Default,
    AcceptEdits,
    Auto,
    BypassPermissions,
}

impl PermissionMode {
    pub const ALL: [PermissionMode; 4] = [
        PermissionMode::Default,
        PermissionMode::AcceptEdits,
        PermissionMode::Auto,
        PermissionMode::BypassPermissions,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            PermissionMode::Default => "default",
            PermissionMode::AcceptEdits => "accept-edits",
            PermissionMode::Auto => "auto",
            PermissionMode::BypassPermissions => "bypass-permissions",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == text)
    }
}

/// How the initial prompt reaches the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptDelivery {
    /// In the launch argv.
    InCommand,
    /// Typed into the pane after start, once the agent looks ready.
    Send { ready_patterns_configured: bool },
    /// Only stored.
    None,
}

/// What a launch needs to know.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LaunchConfig {
    pub session_id: Option<SessionId>,
    pub workspace_path: Option<PathBuf>,
    pub prompt: Option<String>,
    pub permissions: Option<PermissionMode>,
    pub model: Option<String>,
    /// Argv for the generic `command` harness (`aoctl spawn --cmd`).
    pub command: Option<Vec<String>>,
    /// Where the `command` harness looks its program up: the spawner's `PATH`; `None` is the
    /// daemon's.
    pub search_path: Option<String>,
}

/// What a resume needs to know.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RestoreConfig {
    pub launch: LaunchConfig,
    /// The agent's own conversation id, when one was captured.
    pub agent_session_id: Option<String>,
}

/// What `install_hooks` did that the workspace must complete.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HookInstall {
    /// Patterns for the repository's `info/exclude`, so hook files never dirty the worktree.
    pub exclude: Vec<String>,
}

/// A harness for one kind of agent.
#[async_trait]
pub trait AgentHarness: Send + Sync {
    /// `claude-code`, `codex`, `command`, or a configured name.
    fn name(&self) -> &str;

    /// Finds the executable for `config` (a configured path, PATH, well-known locations).
    fn resolve_binary(&self, config: &LaunchConfig) -> Result<PathBuf, AgentError>;

    /// The launch argv; the prompt goes after `--` where the CLI supports it.
    fn launch_argv(&self, config: &LaunchConfig) -> Result<Vec<String>, AgentError>;

    /// `Some(argv)` for a native resume; `None` when the caller must fall back to the prompt.
    fn restore_argv(&self, config: &RestoreConfig) -> Result<Option<Vec<String>>, AgentError>;

    /// Extra environment entries for the pane.
    fn environment(&self, config: &LaunchConfig) -> BTreeMap<String, String>;

    fn prompt_delivery(&self) -> PromptDelivery;

    /// Readiness substrings for `send` prompt delivery.
    fn ready_patterns(&self) -> Vec<String> {
        vec![]
    }

    /// Writes or merges the agent's hook configuration into the worktree; idempotent and
    /// preserving user entries. By default the harness has no files to install.
    async fn install_hooks(&self, _worktree: &Path) -> Result<HookInstall, AgentError> {
        Ok(HookInstall::default())
    }

    /// One-time preparation before launch (e.g. Claude Code's folder trust); none by default.
    async fn pre_launch(&self, _worktree: &Path) -> Result<(), AgentError> {
        Ok(())
    }

    /// A conversation id known before launch, if the harness assigns one.
    fn initial_agent_session_id(&self, _session: &SessionId) -> Option<String> {
        None
    }

    /// Emits hook callbacks (enables `no_signal` and the busy wait before deliveries).
    fn hook_capable(&self) -> bool;

    /// Reports both prompt submission and permission dialogs (enables send confirmation).
    fn confirm_capable(&self) -> bool {
        false
    }

    /// How the agent draws its input line (a shell-like prompt unless it says otherwise).
    fn composer(&self) -> Composer {
        Composer::Shell
    }

    /// The longest wait for a typed message to show before Enter is pressed anyway (a
    /// configured `[agents.X] enter_delay` wins).
    fn enter_delay(&self) -> Duration {
        DEFAULT_ENTER_DELAY
    }

    /// The activity a hook event means, from the event and its JSON payload; nothing for a
    /// harness without hooks.
    fn derive_activity(
        &self,
        _event: HookEvent,
        _payload: &serde_json::Value,
    ) -> Option<ActivityState> {
        None
    }

    /// The activity pane text means, for harnesses with a terminal heuristic.
    fn terminal_activity(&self, _output: &str) -> Option<ActivityState> {
        None
    }

    /// Whether `terminal_activity` says anything (the terminal observer then repairs a stale
    /// `active` or `blocked` from pane text).
    fn has_terminal_heuristic(&self) -> bool {
        false
    }
}

/// What orchestration needs to know about a harness without holding it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AgentCapabilities {
    /// Emits hook callbacks: enables `no_signal` and the busy wait before deliveries.
    pub hook_capable: bool,
    /// Reports prompt submission and permission dialogs: enables send confirmation.
    pub confirm_capable: bool,
    /// How its input line is drawn and when Enter follows a typed message.
    pub submit: Submit,
}

/// Looks up capabilities by harness name (the record's `agent` field).
pub trait AgentCatalog: Send + Sync {
    /// Capabilities of `agent`; an unknown harness has none.
    fn capabilities(&self, agent: &str) -> AgentCapabilities;
}
