//! `aod` configuration: command-line flags (each with an environment variable) and the TOML
//! configuration file. Flags beat the environment, which beats the file, which beats defaults.
//! Invalid values fail fast with a message naming the setting.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use ao::adapters::agents::command::CommandPromptDelivery;
use ao::decide::reactions::{ReactionAction, ReactionPolicies};
use ao::domain::ReactionKey;
use clap::Parser;
use serde::Deserialize;

/// The ao daemon: supervises agent sessions and serves `aoctl` on a Unix socket.
#[derive(Debug, Clone, Parser)]
#[command(name = "aod", version)]
pub struct Flags {
    /// Data directory: database, logs, tmux.conf, default worktree root.
    #[arg(long, env = "AO_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// The Unix socket to serve on.
    #[arg(long, env = "AO_SOCKET")]
    pub socket: Option<PathBuf>,
    /// ao's own tmux server: a label (`-L`) or, when it contains `/`, a socket path (`-S`).
    #[arg(long, env = "AO_TMUX_SOCKET")]
    pub tmux_socket: Option<String>,
    /// The TOML configuration file.
    #[arg(long, env = "AO_CONFIG")]
    pub config: Option<PathBuf>,
    /// Keep everything in memory (nothing survives the daemon; for tests and trials).
    #[arg(long)]
    pub ephemeral: bool,
    /// Log to this file instead of stderr (used when `aoctl` starts the daemon).
    #[arg(long)]
    pub log_file: Option<PathBuf>,
}

/// A duration written as `5s`, `15m`, `1h30m`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HumanDuration(pub Duration);

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_duration(&text)
            .map(HumanDuration)
            .map_err(|e| serde::de::Error::custom(format!("invalid duration {text:?}: {e}")))
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TmuxSection {
    pub socket: Option<String>,
    pub load_user_config: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeSection {
    #[serde(default)]
    pub tmux: TmuxSection,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TickSection {
    pub tick: Option<HumanDuration>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSection {
    pub change_log_retention: Option<HumanDuration>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceSection {
    /// Where worktrees live (default `<data dir>/worktrees`).
    pub root: Option<PathBuf>,
    pub post_create_timeout: Option<HumanDuration>,
}

/// `[agents.<name>]`: a configured harness.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentSection {
    pub kind: String,
    #[serde(default)]
    pub argv: Vec<String>,
    pub prompt_delivery: Option<CommandPromptDelivery>,
    pub prompt_flag: Option<String>,
    #[serde(default)]
    pub ready_patterns: Vec<String>,
    pub restore_argv: Option<Vec<String>>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
}

/// `[reactions.<key>]`: overrides of the reaction table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReactionSection {
    pub action: Option<ReactionAction>,
    pub retries: Option<u32>,
    pub escalate_after: Option<HumanDuration>,
}

/// `[[projects]]`: a project known from the configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectSection {
    pub id: String,
    pub repo: PathBuf,
    pub default_agent: Option<String>,
    pub base_branch: Option<String>,
    #[serde(default)]
    pub symlinks: Vec<String>,
    #[serde(default)]
    pub copies: Vec<String>,
    #[serde(default)]
    pub post_create: Vec<Vec<String>>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    pub push_remote: Option<String>,
}

/// The configuration file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Where `aoctl` lives, when it is not next to `aod`.
    pub aoctl_path: Option<PathBuf>,
    #[serde(default)]
    pub runtime: RuntimeSection,
    #[serde(default)]
    pub reaper: TickSection,
    #[serde(default)]
    pub observer: TickSection,
    #[serde(default)]
    pub store: StoreSection,
    #[serde(default)]
    pub workspace: WorkspaceSection,
    #[serde(default)]
    pub agents: BTreeMap<String, AgentSection>,
    #[serde(default)]
    pub reactions: BTreeMap<String, ReactionSection>,
    #[serde(default)]
    pub projects: Vec<ProjectSection>,
}

/// Everything resolved.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub socket: PathBuf,
    pub tmux_socket: String,
    pub load_user_tmux_config: bool,
    pub ephemeral: bool,
    pub log_file: Option<PathBuf>,
    pub aoctl_path: Option<PathBuf>,
    pub worktree_root: PathBuf,
    pub post_create_timeout: Duration,
    pub reaper_tick: Duration,
    pub observer_tick: Duration,
    pub change_log_retention: Duration,
    pub shutdown_timeout: Duration,
    pub policies: ReactionPolicies,
    pub agents: BTreeMap<String, AgentSection>,
    pub projects: Vec<ProjectSection>,
}

impl Config {
    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join("ao.db")
    }

    pub fn lock_path(&self) -> PathBuf {
        self.data_dir.join("aod.lock")
    }

    pub fn tmux_output_dir(&self) -> PathBuf {
        self.data_dir.join("output")
    }
}

/// Reads the file (a missing default file is an empty configuration; a missing explicit one
/// is an error).
fn read_file(path: &Path, explicit: bool) -> Result<FileConfig> {
    match std::fs::read_to_string(path) {
        Ok(text) => toml::from_str(&text)
            .with_context(|| format!("invalid configuration file {}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => {
            Ok(FileConfig::default())
        }
        Err(e) => Err(e).with_context(|| format!("reading configuration file {}", path.display())),
    }
}

fn reaction_policies(sections: &BTreeMap<String, ReactionSection>) -> Result<ReactionPolicies> {
    let mut policies = ReactionPolicies::default();
    for (name, section) in sections {
        let key: ReactionKey = name
            .parse()
            .map_err(|_| anyhow::anyhow!("unknown reaction [reactions.{name}]"))?;
        if let Some(action) = section.action {
            if action == ReactionAction::SendToAgent
                && !matches!(
                    key,
                    ReactionKey::CiFailed
                        | ReactionKey::ChangesRequested
                        | ReactionKey::BotComments
                        | ReactionKey::MergeConflicts
                        | ReactionKey::AgentIdle
                )
            {
                bail!(
                    "[reactions.{name}] cannot be send-to-agent (it has no message for the agent)"
                );
            }
            policies.set_action(key, action);
        }
        if let Some(retries) = section.retries {
            policies.set_retries(key, retries);
        }
        if let Some(after) = section.escalate_after {
            policies.set_escalate_after(key, Some(after.0));
        }
    }
    Ok(policies)
}

/// Resolves flags, environment and file into one configuration.
pub fn resolve(flags: Flags) -> Result<Config> {
    let config_path = flags
        .config
        .clone()
        .unwrap_or_else(ao_proto::paths::default_config_file);
    let file = read_file(&config_path, flags.config.is_some())?;
    let data_dir = absolute(
        flags
            .data_dir
            .unwrap_or_else(ao_proto::paths::default_data_dir),
    )?;
    let socket = absolute(flags.socket.unwrap_or_else(ao_proto::paths::default_socket))?;
    let tmux_socket = flags
        .tmux_socket
        .or(file.runtime.tmux.socket.clone())
        .unwrap_or_else(|| "ao".to_owned());
    if tmux_socket.trim().is_empty() {
        bail!("the tmux socket (AO_TMUX_SOCKET / runtime.tmux.socket) must not be empty");
    }
    let shutdown_timeout = match std::env::var("AO_SHUTDOWN_TIMEOUT") {
        Ok(text) => humantime::parse_duration(&text)
            .with_context(|| format!("invalid AO_SHUTDOWN_TIMEOUT {text:?}"))?,
        Err(_) => Duration::from_secs(10),
    };
    let tick = |section: &TickSection, default: Duration, name: &str| -> Result<Duration> {
        let d = section.tick.map_or(default, |d| d.0);
        if d.is_zero() {
            bail!("[{name}] tick must be positive");
        }
        Ok(d)
    };
    for (name, agent) in &file.agents {
        if agent.kind != "command" {
            bail!(
                "[agents.{name}] kind {:?} is not supported (use \"command\")",
                agent.kind
            );
        }
        if agent.argv.is_empty() {
            bail!("[agents.{name}] needs argv");
        }
    }
    Ok(Config {
        worktree_root: file
            .workspace
            .root
            .clone()
            .unwrap_or_else(|| data_dir.join("worktrees")),
        post_create_timeout: file
            .workspace
            .post_create_timeout
            .map_or(ao::adapters::setup::POST_CREATE_TIMEOUT, |d| d.0),
        reaper_tick: tick(&file.reaper, ao::reaper::REAPER_TICK, "reaper")?,
        observer_tick: tick(&file.observer, ao::observer::OBSERVER_TICK, "observer")?,
        change_log_retention: file
            .store
            .change_log_retention
            .map_or(Duration::from_secs(30 * 24 * 3600), |d| d.0),
        policies: reaction_policies(&file.reactions)?,
        load_user_tmux_config: file.runtime.tmux.load_user_config.unwrap_or(true),
        aoctl_path: file.aoctl_path.clone(),
        agents: file.agents,
        projects: file.projects,
        data_dir,
        socket,
        tmux_socket,
        ephemeral: flags.ephemeral,
        log_file: flags.log_file,
        shutdown_timeout,
    })
}

fn absolute(path: PathBuf) -> Result<PathBuf> {
    if path.is_absolute() {
        Ok(path)
    } else {
        Ok(std::env::current_dir()
            .context("reading the current directory")?
            .join(path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(config: &Path) -> Flags {
        Flags {
            data_dir: Some("/tmp/ao-test-data".into()),
            socket: Some("/tmp/ao-test.sock".into()),
            tmux_socket: None,
            config: Some(config.to_path_buf()),
            ephemeral: false,
            log_file: None,
        }
    }

    #[test]
    fn reads_every_section() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(
            &path,
            r#"
[runtime.tmux]
socket = "ao-test"
load_user_config = false
[reaper]
tick = "2s"
[agents.aider]
kind = "command"
argv = ["aider", "--yes"]
prompt_flag = "--message"
[reactions.agent-idle]
action = "send-to-agent"
[reactions.ci-failed]
retries = 5
[[projects]]
id = "web"
repo = "/src/web"
default_agent = "aider"
"#,
        )
        .unwrap();
        let config = resolve(flags(&path)).unwrap();
        assert_eq!(config.tmux_socket, "ao-test");
        assert!(!config.load_user_tmux_config);
        assert_eq!(config.reaper_tick, Duration::from_secs(2));
        assert_eq!(config.agents["aider"].argv, ["aider", "--yes"]);
        assert_eq!(
            config.policies.get(ReactionKey::AgentIdle).action,
            ReactionAction::SendToAgent
        );
        assert_eq!(config.policies.get(ReactionKey::CiFailed).retries, 5);
        assert_eq!(config.projects[0].id, "web");
        assert_eq!(
            config.worktree_root,
            PathBuf::from("/tmp/ao-test-data/worktrees")
        );
    }

    #[test]
    fn invalid_values_fail_with_the_setting_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        for (text, needle) in [
            ("[reaper]\ntick = \"soon\"", "invalid duration"),
            ("[reactions.nope]\nretries = 1", "unknown reaction"),
            (
                "[reactions.agent-stuck]\naction = \"send-to-agent\"",
                "cannot be send-to-agent",
            ),
            (
                "[agents.x]\nkind = \"vim\"\nargv=[\"vim\"]",
                "not supported",
            ),
            ("surprise = 1", "unknown field"),
        ] {
            std::fs::write(&path, text).unwrap();
            let err = format!("{:#}", resolve(flags(&path)).unwrap_err());
            assert!(err.contains(needle), "{text}: {err}");
        }
        let missing = flags(&dir.path().join("absent.toml"));
        assert!(
            resolve(missing).is_err(),
            "an explicit missing file is an error"
        );
    }
}
