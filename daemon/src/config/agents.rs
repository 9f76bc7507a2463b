//! `[agents.*]`: defaults for the built-in harnesses (`[agents.claude-code]`, `[agents.codex]`)
//! and the harnesses the file adds (`[agents.<name>]` with a `kind`), checked and turned into
//! what the harnesses take. Errors name the section and the setting.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Result, bail};
use ao::domain::{is_env_key, quote};
use ao::ports::PermissionMode;
use ao_adapters::agents::AgentOptions;
use ao_adapters::agents::command::CommandPromptDelivery;
use serde::Deserialize;
use serde::de::IgnoredAny;

use super::file::HumanDuration;

/// `[agents]`: the built-in harnesses under their own names; every other name is a harness the
/// file adds.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AgentsSection {
    #[serde(rename = "claude-code")]
    claude: Option<BuiltinAgentSection>,
    codex: Option<BuiltinAgentSection>,
    /// The built-in `command` harness takes no settings; read only to refuse it by name.
    command: Option<IgnoredAny>,
    #[serde(flatten)]
    added: BTreeMap<String, AddedAgent>,
}

/// `[agents.claude-code]` and `[agents.codex]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct BuiltinAgentSection {
    binary: Option<PathBuf>,
    model: Option<String>,
    permission_mode: Option<PermissionMode>,
    system_prompt: Option<String>,
    system_prompt_file: Option<PathBuf>,
    #[serde(default)]
    allowed_tools: Vec<String>,
    #[serde(default)]
    disallowed_tools: Vec<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    /// codex only: `-c <key>=<value>` overrides.
    #[serde(default)]
    config: toml::Table,
    /// The longest wait for a typed message to show before Enter.
    enter_delay: Option<HumanDuration>,
}

/// `[agents.<name>]`: a harness the file adds, of the given `kind`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum AddedAgent {
    /// `kind = "command"`: any CLI, run as argv.
    Command(CommandAgent),
}

/// A `command` harness the file adds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandAgent {
    #[serde(default)]
    pub argv: Vec<String>,
    #[serde(default = "prompt_in_argv")]
    pub prompt_delivery: CommandPromptDelivery,
    pub prompt_flag: Option<String>,
    #[serde(default)]
    pub ready_patterns: Vec<String>,
    pub restore_argv: Option<Vec<String>>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// The longest wait for a typed message to show before Enter.
    pub enter_delay: Option<HumanDuration>,
}

/// A configured command harness gets its prompt on its command line unless told otherwise.
fn prompt_in_argv() -> CommandPromptDelivery {
    CommandPromptDelivery::Argv
}

/// The longest `enter_delay` accepted: a send's whole remainder runs within a bounded budget.
const MAX_ENTER_DELAY: Duration = Duration::from_secs(10);

/// Options of a built-in harness (`claude-code`, `codex`), checked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BuiltinAgent {
    /// A configured binary (path or name).
    pub binary: Option<PathBuf>,
    pub options: AgentOptions,
    pub env: BTreeMap<String, String>,
    /// codex's `-c` overrides: dotted key and inline TOML value.
    pub config_overrides: Vec<(String, String)>,
}

/// Every agent section of the file, checked.
#[derive(Debug, Clone, Default)]
pub struct AgentsConfig {
    pub claude: BuiltinAgent,
    pub codex: BuiltinAgent,
    /// The `command` harnesses the file adds, by name.
    pub commands: BTreeMap<String, CommandAgent>,
    /// Each `[agents.X] enter_delay` set, by harness name.
    pub enter_delays: BTreeMap<String, Duration>,
}

impl AgentsSection {
    /// Checks every section; a relative `system_prompt_file` is relative to `config_dir`.
    pub fn resolve(self, config_dir: &Path) -> Result<AgentsConfig> {
        if self.command.is_some() {
            bail!("[agents.command] is built in and takes no settings");
        }
        let mut commands = BTreeMap::new();
        let mut enter_delays = BTreeMap::new();
        for (name, section) in [("claude-code", &self.claude), ("codex", &self.codex)] {
            if let Some(delay) = section.as_ref().and_then(|s| s.enter_delay) {
                enter_delays.insert(name.to_owned(), delay.0);
            }
        }
        for (name, agent) in self.added {
            let AddedAgent::Command(command) = agent;
            if command.argv.is_empty() {
                bail!("[agents.{name}] needs argv");
            }
            if let Some(delay) = command.enter_delay {
                enter_delays.insert(name.clone(), delay.0);
            }
            commands.insert(name, command);
        }
        if let Some((name, delay)) = enter_delays.iter().find(|(_, d)| **d > MAX_ENTER_DELAY) {
            bail!(
                "[agents.{name}] enter_delay is {}; at most {} (the wait ends as soon as the text shows)",
                humantime::format_duration(*delay),
                humantime::format_duration(MAX_ENTER_DELAY)
            );
        }
        Ok(AgentsConfig {
            enter_delays,
            claude: builtin_agent("claude-code", self.claude.unwrap_or_default(), config_dir)?,
            codex: builtin_agent("codex", self.codex.unwrap_or_default(), config_dir)?,
            commands,
        })
    }
}

/// Checks a built-in agent's section. Each `[agents.codex.config]` entry becomes one `-c`
/// override, its value written as inline TOML (one value, as codex parses it).
fn builtin_agent(
    name: &str,
    section: BuiltinAgentSection,
    config_dir: &Path,
) -> Result<BuiltinAgent> {
    let system_prompt_file = section.system_prompt_file.map(|f| config_dir.join(f));
    if let Some(f) = &system_prompt_file
        && section.system_prompt.is_none()
        && !f.is_file()
    {
        bail!(
            "[agents.{name}] system_prompt_file: {} is not a readable file",
            f.display()
        );
    }
    for (setting, list) in [
        ("allowed_tools", &section.allowed_tools),
        ("disallowed_tools", &section.disallowed_tools),
    ] {
        if list.iter().any(|t| t.trim().is_empty()) {
            bail!("[agents.{name}] {setting}: entries must not be empty");
        }
    }
    if name == "codex" {
        if !section.allowed_tools.is_empty() || !section.disallowed_tools.is_empty() {
            bail!("[agents.codex] allowed_tools / disallowed_tools: codex has no tool lists");
        }
    } else if !section.config.is_empty() {
        bail!("[agents.{name}] config: only [agents.codex] takes `-c` overrides");
    }
    if let Some(key) = section.env.keys().find(|k| !is_env_key(k)) {
        bail!("[agents.{name}] env: invalid variable name {}", quote(key));
    }
    Ok(BuiltinAgent {
        binary: section.binary,
        options: AgentOptions {
            model: section.model.filter(|m| !m.trim().is_empty()),
            permission_mode: section.permission_mode,
            system_prompt: section.system_prompt,
            system_prompt_file,
            allowed_tools: section.allowed_tools,
            disallowed_tools: section.disallowed_tools,
        },
        env: section.env,
        config_overrides: section
            .config
            .into_iter()
            .map(|(key, value)| (key, value.to_string()))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::file::FileConfig;

    fn codex_overrides(config: &str) -> Vec<(String, String)> {
        let file: FileConfig = toml::from_str(&format!("[agents.codex.config]\n{config}")).unwrap();
        file.agents
            .resolve(Path::new("/"))
            .unwrap()
            .codex
            .config_overrides
    }

    /// codex reads a `-c key=value` value by parsing `_x_ = <value>` as a TOML document.
    fn as_codex_reads(value: &str) -> toml::Value {
        let mut doc: toml::Table = toml::from_str(&format!("_x_ = {value}"))
            .unwrap_or_else(|e| panic!("codex cannot parse {value}: {e}"));
        assert_eq!(doc.len(), 1, "one value: {value}");
        doc.remove("_x_").unwrap()
    }

    #[test]
    fn codex_overrides_are_inline_toml_codex_reads_back() {
        let config = r#"
plain = "text"
quotes = "it's \"quoted\" \\ here"
lines = "first\nsecond\ttabbed\u0001"
number = 3
float = 0.25
flag = false
list = ["a", 1, { b = "c" }]
"odd key" = { "a b" = 1, "x.y" = { z = "w" } }
when = 1979-05-27T07:32:00Z
"#;
        let expected: toml::Table = toml::from_str(config).unwrap();
        let overrides = codex_overrides(config);
        assert_eq!(overrides.len(), expected.len());
        for (key, value) in &overrides {
            assert_eq!(&as_codex_reads(value), &expected[key], "{key}={value}");
            if !matches!(expected[key], toml::Value::String(_)) {
                assert!(!value.contains('\n'), "inline: {key}={value}");
            }
        }
    }
}
