//! The `claude-code` harness: Anthropic's Claude Code CLI.
//!
//! Launch passes a deterministic `--session-id` (UUIDv5 of the ao session id), so restore can
//! resume the same conversation even when no hook ever reported its id. Hooks live in the
//! worktree's `.claude/settings.local.json` (kept out of `git status` through `info/exclude`,
//! or `--skip-worktree` when the repository tracks that file); `pre_launch` marks the worktree
//! trusted in the user's Claude config. Activity comes only from hooks: Claude Code reports
//! prompt submission and permission dialogs, so it is confirm-capable too.

mod settings;
mod trust;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;
use uuid::Uuid;

use super::{AgentOptions, BinaryResolver, BinarySearch, HookProgram};
use crate::process::{CommandRunner, CommandSpec};
use ao::ports::{
    AgentError, AgentHarness, HookInstall, LaunchConfig, PermissionMode, PromptDelivery,
    RestoreConfig,
};
use ao_core::domain::{ActivityState, HookEvent, SessionId};
use ao_core::input_line::Composer;

/// The longest wait for a typed message to show in Claude Code's input before Enter.
pub const ENTER_DELAY: Duration = Duration::from_millis(300);

pub use settings::{
    EVENTS, HOOK_TIMEOUT_SECS, SETTINGS_FILE, install_ao_hooks, remove_ao_hooks,
    uninstall as uninstall_hooks,
};
pub use trust::{config_file, trust_workspace};

/// The harness name (the record's `agent`).
pub const NAME: &str = ao_core::decide::hooks::CLAUDE_CODE;

/// The namespace of the derived conversation ids.
pub const SESSION_NAMESPACE: Uuid = Uuid::from_u128(0xa1f0c3d2_7b54_4e96_8a2b_0d9e1f2a3b4c);

/// The exclude pattern that keeps the hook file out of `git status`.
pub const EXCLUDE_PATTERN: &str = "/.claude/settings.local.json";

/// Deadline of the git calls that check and flag a tracked settings file.
const GIT_TIMEOUT: Duration = Duration::from_secs(30);

/// The conversation id ao gives a session: UUIDv5 of its id, so restore can recompute it.
pub fn session_uuid(session: &SessionId) -> String {
    Uuid::new_v5(&SESSION_NAMESPACE, session.as_str().as_bytes()).to_string()
}

/// Claude Code's spelling of a permission mode.
pub const fn permission_flag(mode: PermissionMode) -> &'static str {
    match mode {
        // Explicit: recent CLI versions otherwise start in their own `auto` mode.
        PermissionMode::Default => "default",
        PermissionMode::AcceptEdits => "acceptEdits",
        PermissionMode::Auto => "auto",
        PermissionMode::BypassPermissions => "bypassPermissions",
    }
}

/// Configuration of the `claude-code` harness (`[agents.claude-code]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClaudeConfig {
    /// A configured `claude` binary (path or name); PATH and the well-known places otherwise.
    pub binary: Option<PathBuf>,
    /// The PATH to search.
    pub search_path: String,
    /// The user's home: well-known install places and `~/.claude.json`.
    pub home: Option<PathBuf>,
    /// `CLAUDE_CONFIG_DIR` as the panes see it: the trust entry goes into its `.claude.json`.
    pub config_dir: Option<PathBuf>,
    pub options: AgentOptions,
    /// The `aoctl` hooks call.
    pub hook_program: HookProgram,
    /// Extra pane environment.
    pub env: BTreeMap<String, String>,
}

/// The `claude-code` harness.
#[derive(Debug)]
pub struct ClaudeHarness {
    config: ClaudeConfig,
    binary: BinaryResolver,
    runner: Arc<dyn CommandRunner>,
}

impl ClaudeHarness {
    /// Fails when the options are invalid (the daemon refuses to start).
    pub fn new(config: ClaudeConfig, runner: Arc<dyn CommandRunner>) -> Result<Self, AgentError> {
        config.options.validate()?;
        let home = config.home.clone();
        let mut well_known = vec![];
        if let Some(home) = &home {
            well_known.push(home.join(".claude/local"));
        }
        well_known.push("/usr/local/bin".into());
        well_known.push("/opt/homebrew/bin".into());
        if let Some(home) = &home {
            well_known.push(home.join(".local/bin"));
        }
        let binary = BinaryResolver::new(BinarySearch {
            name: "claude",
            configured: config.binary.clone(),
            search_path: config.search_path.clone(),
            well_known,
        });
        Ok(Self {
            config,
            binary,
            runner,
        })
    }

    /// `--permission-mode` and `--append-system-prompt`, shared by launch and restore.
    fn mode_flags(&self, launch: &LaunchConfig) -> Vec<String> {
        match self.config.options.permission_mode(launch.permissions) {
            Some(mode) => vec!["--permission-mode".into(), permission_flag(mode).into()],
            None => vec![],
        }
    }

    fn system_prompt_flags(&self) -> Result<Vec<String>, AgentError> {
        Ok(match self.config.options.system_prompt_text()? {
            Some(text) => vec!["--append-system-prompt".into(), text],
            None => vec![],
        })
    }

    /// `git -C <worktree> …` with a deadline; the caller's `GIT_DIR` and friends removed.
    fn git(&self, worktree: &Path, args: &[&str]) -> CommandSpec {
        CommandSpec::new("git", GIT_TIMEOUT)
            .arg("-C")
            .arg(worktree)
            .args(args)
            .env("LC_ALL", "C")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .env_remove("GIT_INDEX_FILE")
    }

    /// A settings file the repository tracks would show as modified: flag it
    /// `--skip-worktree` (an untracked one is covered by the exclude pattern).
    async fn hide_tracked_settings(&self, worktree: &Path) -> Result<(), AgentError> {
        let tracked = self.git(
            worktree,
            &["ls-files", "--error-unmatch", "--", SETTINGS_FILE],
        );
        let out = self
            .runner
            .run(&tracked)
            .await
            .map_err(|e| AgentError::Hooks(e.to_string()))?;
        if !out.success() {
            return Ok(());
        }
        let skip = self.git(
            worktree,
            &["update-index", "--skip-worktree", "--", SETTINGS_FILE],
        );
        let out = self
            .runner
            .run(&skip)
            .await
            .map_err(|e| AgentError::Hooks(e.to_string()))?;
        if out.success() {
            Ok(())
        } else {
            Err(AgentError::Hooks(format!(
                "{} failed: {}",
                skip.display(),
                out.combined()
            )))
        }
    }
}

#[async_trait]
impl AgentHarness for ClaudeHarness {
    fn name(&self) -> &str {
        NAME
    }

    fn resolve_binary(&self, _config: &LaunchConfig) -> Result<PathBuf, AgentError> {
        self.binary.resolve()
    }

    /// `claude [--session-id <uuid>] [--permission-mode <m>] [--allowedTools <a,b>]
    /// [--disallowedTools <x,y>] [--model <model>] [--append-system-prompt <text>] [-- <prompt>]`
    fn launch_argv(&self, config: &LaunchConfig) -> Result<Vec<String>, AgentError> {
        let options = &self.config.options;
        let mut argv = vec![self.binary.program()];
        if let Some(session) = &config.session_id {
            argv.extend(["--session-id".into(), session_uuid(session)]);
        }
        argv.extend(self.mode_flags(config));
        if !options.allowed_tools.is_empty() {
            argv.extend(["--allowedTools".into(), options.allowed_tools.join(",")]);
        }
        if !options.disallowed_tools.is_empty() {
            argv.extend([
                "--disallowedTools".into(),
                options.disallowed_tools.join(","),
            ]);
        }
        if let Some(model) = options.model(config.model.as_deref()) {
            argv.extend(["--model".into(), model.to_owned()]);
        }
        argv.extend(self.system_prompt_flags()?);
        if let Some(prompt) = config.prompt.as_deref().filter(|p| !p.is_empty()) {
            argv.extend(["--".into(), prompt.to_owned()]);
        }
        Ok(argv)
    }

    /// `claude [--permission-mode <m>] [--append-system-prompt <text>] --resume <id>`: the
    /// captured conversation id, else the derived one; the prompt is not replayed.
    fn restore_argv(&self, config: &RestoreConfig) -> Result<Option<Vec<String>>, AgentError> {
        let id = config
            .agent_session_id
            .clone()
            .filter(|id| !id.trim().is_empty())
            .or_else(|| config.launch.session_id.as_ref().map(session_uuid));
        let Some(id) = id else {
            return Ok(None);
        };
        let mut argv = vec![self.binary.program()];
        argv.extend(self.mode_flags(&config.launch));
        argv.extend(self.system_prompt_flags()?);
        argv.extend(["--resume".into(), id]);
        Ok(Some(argv))
    }

    fn environment(&self, _config: &LaunchConfig) -> BTreeMap<String, String> {
        self.config.env.clone()
    }

    fn prompt_delivery(&self) -> PromptDelivery {
        PromptDelivery::InCommand
    }

    async fn install_hooks(&self, worktree: &Path) -> Result<HookInstall, AgentError> {
        let (dir, program) = (worktree.to_path_buf(), self.config.hook_program.clone());
        tokio::task::spawn_blocking(move || settings::install(&dir, &program))
            .await
            .map_err(|e| AgentError::Hooks(format!("hook installer stopped: {e}")))??;
        self.hide_tracked_settings(worktree).await?;
        Ok(HookInstall {
            exclude: vec![EXCLUDE_PATTERN.to_owned()],
        })
    }

    async fn pre_launch(&self, worktree: &Path) -> Result<(), AgentError> {
        let file = config_file(
            self.config.home.as_deref(),
            self.config.config_dir.as_deref(),
        )
        .ok_or_else(|| {
            AgentError::PreLaunch(
                "neither HOME nor CLAUDE_CONFIG_DIR is known: cannot mark the worktree trusted"
                    .to_owned(),
            )
        })?;
        let workspace = worktree.to_path_buf();
        tokio::task::spawn_blocking(move || trust_workspace(&file, &workspace))
            .await
            .map_err(|e| AgentError::PreLaunch(format!("trust writer stopped: {e}")))??;
        Ok(())
    }

    fn initial_agent_session_id(&self, session: &SessionId) -> Option<String> {
        Some(session_uuid(session))
    }

    fn hook_capable(&self) -> bool {
        true
    }

    fn confirm_capable(&self) -> bool {
        true
    }

    fn composer(&self) -> Composer {
        Composer::Claude
    }

    /// Claude Code takes an Enter right after typed text (a long text becomes a `[Pasted text]`
    /// placeholder, which counts as shown); the wait covers a slow first render.
    fn enter_delay(&self) -> Duration {
        ENTER_DELAY
    }

    fn derive_activity(&self, event: HookEvent, payload: &Value) -> Option<ActivityState> {
        ao_core::decide::hooks::claude_code_activity(event, payload)
    }

    fn terminal_activity(&self, _output: &str) -> Option<ActivityState> {
        None
    }
}

#[cfg(test)]
mod tests;
