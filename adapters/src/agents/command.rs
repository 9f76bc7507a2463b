//! The `command` harness: any CLI, given as argv.
//!
//! The built-in `command` harness takes its argv from `aoctl spawn --cmd`; configured harnesses
//! (`[agents.<name>] kind = "command"`) carry theirs. No hooks: the agent is never
//! hook-capable (so never `no_signal`); its activity comes from terminal-output change, watched
//! by the terminal observer.

use std::collections::BTreeMap;
use std::path::PathBuf;

use async_trait::async_trait;

use super::find_executable;
use ao::ports::{AgentError, AgentHarness, LaunchConfig, PromptDelivery, RestoreConfig};
use ao_core::domain::quote;

/// How a command harness receives its initial prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommandPromptDelivery {
    /// Appended to the argv (after `prompt_flag` when set).
    Argv,
    /// Typed into the pane once a readiness pattern shows.
    Send,
    /// Only stored.
    None,
}

/// Configuration of a command harness.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandHarnessConfig {
    pub name: String,
    /// Fixed argv; `None` for the built-in harness, which takes `LaunchConfig::command`.
    pub argv: Option<Vec<String>>,
    pub prompt_delivery: CommandPromptDelivery,
    pub prompt_flag: Option<String>,
    pub ready_patterns: Vec<String>,
    pub restore_argv: Option<Vec<String>>,
    pub env: BTreeMap<String, String>,
    /// The PATH to resolve the program on.
    pub search_path: String,
}

impl CommandHarnessConfig {
    /// The built-in `command` harness.
    pub fn builtin(search_path: String) -> Self {
        Self {
            name: "command".to_owned(),
            argv: None,
            prompt_delivery: CommandPromptDelivery::Argv,
            prompt_flag: None,
            ready_patterns: vec![],
            restore_argv: None,
            env: BTreeMap::new(),
            search_path,
        }
    }
}

/// A harness for any CLI.
#[derive(Debug, Clone)]
pub struct CommandHarness {
    config: CommandHarnessConfig,
}

impl CommandHarness {
    pub fn new(config: CommandHarnessConfig) -> Self {
        Self { config }
    }

    /// The program argv for a launch: configured, else the spawn's `--cmd`.
    fn base_argv(&self, launch: &LaunchConfig) -> Result<Vec<String>, AgentError> {
        if launch.model.is_some() || launch.permissions.is_some() {
            return Err(AgentError::InvalidOptions(format!(
                "the {} agent takes no --model or --permission-mode (put flags in its command)",
                self.config.name
            )));
        }
        let argv = match (&self.config.argv, &launch.command) {
            (Some(argv), _) => argv.clone(),
            (None, Some(argv)) => argv.clone(),
            (None, None) => {
                return Err(AgentError::InvalidOptions(
                    "the command agent needs --cmd \"PROGRAM ARGS…\"".to_owned(),
                ));
            }
        };
        if argv.first().is_none_or(|p| p.trim().is_empty()) {
            return Err(AgentError::InvalidOptions("empty command".to_owned()));
        }
        Ok(argv)
    }
}

#[async_trait]
impl AgentHarness for CommandHarness {
    fn name(&self) -> &str {
        &self.config.name
    }

    fn resolve_binary(&self, config: &LaunchConfig) -> Result<PathBuf, AgentError> {
        let argv = self.base_argv(config)?;
        let (search_path, whose) = match &config.search_path {
            Some(path) => (path, "your"),
            None => (&self.config.search_path, "the daemon's"),
        };
        find_executable(&argv[0], search_path, &[]).ok_or_else(|| {
            AgentError::BinaryNotFound(format!("{} (not on {whose} PATH)", quote(&argv[0])))
        })
    }

    fn launch_argv(&self, config: &LaunchConfig) -> Result<Vec<String>, AgentError> {
        let mut argv = self.base_argv(config)?;
        if self.config.prompt_delivery == CommandPromptDelivery::Argv
            && let Some(prompt) = config.prompt.as_deref().filter(|p| !p.is_empty())
        {
            if let Some(flag) = &self.config.prompt_flag {
                argv.push(flag.clone());
            }
            argv.push(prompt.to_owned());
        }
        Ok(argv)
    }

    /// Never `None`: the configured restore argv, else a fresh launch with the saved prompt.
    fn restore_argv(&self, config: &RestoreConfig) -> Result<Option<Vec<String>>, AgentError> {
        match &self.config.restore_argv {
            Some(argv) => Ok(Some(argv.clone())),
            None => self.launch_argv(&config.launch).map(Some),
        }
    }

    fn environment(&self, _config: &LaunchConfig) -> BTreeMap<String, String> {
        self.config.env.clone()
    }

    fn prompt_delivery(&self) -> PromptDelivery {
        match self.config.prompt_delivery {
            CommandPromptDelivery::Argv => PromptDelivery::InCommand,
            CommandPromptDelivery::Send => PromptDelivery::Send {
                ready_patterns_configured: !self.config.ready_patterns.is_empty(),
            },
            CommandPromptDelivery::None => PromptDelivery::None,
        }
    }

    fn ready_patterns(&self) -> Vec<String> {
        self.config.ready_patterns.clone()
    }

    fn hook_capable(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn launch(prompt: &str) -> LaunchConfig {
        LaunchConfig {
            prompt: Some(prompt.to_owned()),
            command: Some(vec!["aider".into(), "--yes".into()]),
            ..LaunchConfig::default()
        }
    }

    /// Q13.
    #[test]
    fn prompt_placement_and_restore() {
        let builtin = CommandHarness::new(CommandHarnessConfig::builtin(String::new()));
        assert_eq!(
            builtin.launch_argv(&launch("-fix it")).unwrap(),
            ["aider", "--yes", "-fix it"]
        );
        let mut flagged = CommandHarnessConfig::builtin(String::new());
        flagged.prompt_flag = Some("--message".into());
        let flagged = CommandHarness::new(flagged);
        assert_eq!(
            flagged.launch_argv(&launch("go")).unwrap(),
            ["aider", "--yes", "--message", "go"]
        );
        let restore = RestoreConfig {
            launch: launch("go"),
            agent_session_id: None,
        };
        assert_eq!(
            flagged.restore_argv(&restore).unwrap().unwrap(),
            ["aider", "--yes", "--message", "go"]
        );
        let mut restoring = CommandHarnessConfig::builtin(String::new());
        restoring.restore_argv = Some(vec!["aider".into(), "--restore-chat-history".into()]);
        let restoring = CommandHarness::new(restoring);
        assert_eq!(
            restoring.restore_argv(&restore).unwrap().unwrap(),
            ["aider", "--restore-chat-history"]
        );
        assert!(!builtin.hook_capable() && !builtin.confirm_capable());
    }

    #[test]
    fn invalid_options_are_errors() {
        let builtin = CommandHarness::new(CommandHarnessConfig::builtin(String::new()));
        let none = LaunchConfig::default();
        assert!(matches!(
            builtin.launch_argv(&none),
            Err(AgentError::InvalidOptions(_))
        ));
        let empty = LaunchConfig {
            command: Some(vec![" ".into()]),
            ..LaunchConfig::default()
        };
        assert!(matches!(
            builtin.launch_argv(&empty),
            Err(AgentError::InvalidOptions(_))
        ));
        let model = LaunchConfig {
            model: Some("x".into()),
            ..launch("p")
        };
        assert!(matches!(
            builtin.launch_argv(&model),
            Err(AgentError::InvalidOptions(_))
        ));
        let missing = LaunchConfig {
            command: Some(vec!["ao-no-such-program".into()]),
            ..LaunchConfig::default()
        };
        assert!(matches!(
            builtin.resolve_binary(&missing),
            Err(AgentError::BinaryNotFound(_))
        ));
        let sh = LaunchConfig {
            command: Some(vec!["sh".into()]),
            ..LaunchConfig::default()
        };
        let on_path = CommandHarness::new(CommandHarnessConfig::builtin("/bin:/usr/bin".into()));
        assert!(on_path.resolve_binary(&sh).unwrap().ends_with("sh"));
    }
}
