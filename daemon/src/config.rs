//! `aod` configuration: command-line flags (each with an environment variable) and the TOML
//! configuration file. Flags beat the environment, which beats the file, which beats defaults.
//! Invalid values fail fast with a message naming the setting.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use ao::decide::reactions::{ReactionAction, ReactionPolicies};
use ao::domain::{Priority, ReactionKey, quote};
use ao::ports::PermissionMode;
use ao_adapters::agents::AgentOptions;
use ao_adapters::agents::codex::toml_string;
use ao_adapters::agents::command::CommandPromptDelivery;
use ao_adapters::github::GitHubOptions;
use ao_adapters::notify::SinkSpec;
use clap::Parser;
use serde::Deserialize;

/// How long a retired worktree stays in the trash by default.
pub const TRASH_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// Default `server.max_connections`.
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;
/// Default `server.idle_timeout`.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(5 * 60);

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
            .map_err(|e| {
                serde::de::Error::custom(format!("invalid duration {}: {e}", quote(&text)))
            })
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
    /// How long a retired worktree stays in the trash (default 7 days).
    pub trash_ttl: Option<HumanDuration>,
}

/// `[server]`: how much of the daemon its clients may hold.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    /// Most connections open at once.
    pub max_connections: Option<usize>,
    /// A connection with no request in flight for this long is closed.
    pub idle_timeout: Option<HumanDuration>,
}

/// `[agents.<name>]`: a configured `command` harness.
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

/// `[agents.claude-code]` and `[agents.codex]` as written in the file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct BuiltinAgentFile {
    binary: Option<PathBuf>,
    model: Option<String>,
    permission_mode: Option<String>,
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
}

/// Options of a built-in harness (`claude-code`, `codex`), validated.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BuiltinAgent {
    /// A configured binary (path or name).
    pub binary: Option<PathBuf>,
    pub options: AgentOptions,
    pub env: BTreeMap<String, String>,
    /// codex's `-c` overrides: dotted key and inline TOML value.
    pub config_overrides: Vec<(String, String)>,
}

/// Every agent section of the file.
#[derive(Debug, Clone, Default)]
pub struct AgentsConfig {
    pub claude: BuiltinAgent,
    pub codex: BuiltinAgent,
    /// `kind = "command"` harnesses by name.
    pub commands: BTreeMap<String, AgentSection>,
}

/// A TOML value written inline (`-c` takes one line): strings as codex's TOML strings, tables
/// as inline tables.
fn inline_toml(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => toml_string(s),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => format!("{f:?}"),
        toml::Value::Boolean(b) => b.to_string(),
        toml::Value::Datetime(d) => d.to_string(),
        toml::Value::Array(items) => {
            let items: Vec<String> = items.iter().map(inline_toml).collect();
            format!("[{}]", items.join(","))
        }
        toml::Value::Table(table) => {
            let entries: Vec<String> = table
                .iter()
                .map(|(k, v)| format!("{}={}", toml_key(k), inline_toml(v)))
                .collect();
            format!("{{{}}}", entries.join(","))
        }
    }
}

fn toml_key(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        key.to_owned()
    } else {
        toml_string(key)
    }
}

/// Validates a built-in agent section; errors name the setting.
fn builtin_agent(name: &str, value: toml::Value, config_dir: &Path) -> Result<BuiltinAgent> {
    let file: BuiltinAgentFile = value
        .try_into()
        .with_context(|| format!("invalid [agents.{name}]"))?;
    let permission_mode = file
        .permission_mode
        .as_deref()
        .map(|m| {
            PermissionMode::parse(m).ok_or_else(|| {
                let known: Vec<&str> = PermissionMode::ALL.iter().map(|m| m.as_str()).collect();
                anyhow::anyhow!(
                    "[agents.{name}] permission_mode: unknown value {} (use one of {})",
                    quote(m),
                    known.join(", ")
                )
            })
        })
        .transpose()?;
    let system_prompt_file = file.system_prompt_file.map(|f| config_dir.join(f));
    if let Some(f) = &system_prompt_file
        && file.system_prompt.is_none()
        && !f.is_file()
    {
        bail!(
            "[agents.{name}] system_prompt_file: {} is not a readable file",
            f.display()
        );
    }
    for (setting, list) in [
        ("allowed_tools", &file.allowed_tools),
        ("disallowed_tools", &file.disallowed_tools),
    ] {
        if list.iter().any(|t| t.trim().is_empty()) {
            bail!("[agents.{name}] {setting}: entries must not be empty");
        }
    }
    if name == "codex" {
        if !file.allowed_tools.is_empty() || !file.disallowed_tools.is_empty() {
            bail!("[agents.codex] allowed_tools / disallowed_tools: codex has no tool lists");
        }
    } else if !file.config.is_empty() {
        bail!("[agents.{name}] config: only [agents.codex] takes `-c` overrides");
    }
    if let Some(key) = file.env.keys().find(|k| !valid_env_key(k)) {
        bail!("[agents.{name}] env: invalid variable name {}", quote(key));
    }
    Ok(BuiltinAgent {
        binary: file.binary,
        options: AgentOptions {
            model: file.model.filter(|m| !m.trim().is_empty()),
            permission_mode,
            system_prompt: file.system_prompt,
            system_prompt_file,
            allowed_tools: file.allowed_tools,
            disallowed_tools: file.disallowed_tools,
        },
        env: file.env,
        config_overrides: file
            .config
            .iter()
            .map(|(k, v)| (k.clone(), inline_toml(v)))
            .collect(),
    })
}

fn valid_env_key(key: &str) -> bool {
    let mut chars = key.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Splits `[agents.*]` into the built-ins and the command harnesses, validating each.
fn agents_config(
    sections: BTreeMap<String, toml::Value>,
    config_dir: &Path,
) -> Result<AgentsConfig> {
    let mut agents = AgentsConfig::default();
    for (name, value) in sections {
        match name.as_str() {
            "claude-code" => agents.claude = builtin_agent(&name, value, config_dir)?,
            "codex" => agents.codex = builtin_agent(&name, value, config_dir)?,
            "command" => bail!("[agents.command] is built in and takes no settings"),
            _ => {
                let section: AgentSection = value
                    .try_into()
                    .with_context(|| format!("invalid [agents.{name}]"))?;
                if section.kind != "command" {
                    bail!(
                        "[agents.{name}] kind {} is not supported (use \"command\"; claude-code and codex are configured under their own names)",
                        quote(&section.kind)
                    );
                }
                if section.argv.is_empty() {
                    bail!("[agents.{name}] needs argv");
                }
                agents.commands.insert(name, section);
            }
        }
    }
    Ok(agents)
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

/// `[scm.github]`: where GitHub is and how much of its quota ao may use.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GitHubSection {
    pub api_url: Option<String>,
    pub graphql_url: Option<String>,
    pub host: Option<String>,
    pub max_quota_share: Option<f64>,
}

/// `[scm]`: the SCM observer.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScmSection {
    pub poll_interval: Option<HumanDuration>,
    #[serde(default)]
    pub github: GitHubSection,
}

/// `[[notify.sink]]`: one notification sink.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SinkSection {
    pub kind: String,
    pub min_priority: Option<String>,
    /// `webhook`
    pub url: Option<String>,
    /// `webhook`
    pub headers: Option<BTreeMap<String, String>>,
    /// `command`
    pub argv: Option<Vec<String>>,
}

/// `[notify]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifySection {
    #[serde(default)]
    pub sink: Vec<SinkSection>,
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
    pub server: ServerSection,
    #[serde(default)]
    pub reaper: TickSection,
    #[serde(default)]
    pub observer: TickSection,
    #[serde(default)]
    pub store: StoreSection,
    #[serde(default)]
    pub workspace: WorkspaceSection,
    #[serde(default)]
    pub agents: BTreeMap<String, toml::Value>,
    #[serde(default)]
    pub reactions: BTreeMap<String, ReactionSection>,
    #[serde(default)]
    pub projects: Vec<ProjectSection>,
    #[serde(default)]
    pub scm: ScmSection,
    #[serde(default)]
    pub notify: NotifySection,
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
    pub max_connections: usize,
    pub idle_timeout: Duration,
    pub aoctl_path: Option<PathBuf>,
    pub worktree_root: PathBuf,
    pub post_create_timeout: Duration,
    pub trash_ttl: Duration,
    /// The file mode mask agents run with: the one `aod` was started with.
    pub pane_umask: u32,
    pub reaper_tick: Duration,
    pub observer_tick: Duration,
    pub change_log_retention: Duration,
    pub shutdown_timeout: Duration,
    pub policies: ReactionPolicies,
    pub agents: AgentsConfig,
    pub projects: Vec<ProjectSection>,
    pub scm_poll_interval: Duration,
    pub github: GitHubOptions,
    /// The configured sinks with their minimum priority (the log sink is always on).
    pub sinks: Vec<(SinkSpec, Priority)>,
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

/// An http(s) URL without a trailing slash.
fn base_url(setting: &str, url: &str) -> Result<String> {
    let trimmed = url.trim().trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"));
    match rest {
        Some(rest)
            if !rest.is_empty()
                && !rest.starts_with('/')
                && !trimmed.contains(char::is_whitespace) =>
        {
            Ok(trimmed.to_owned())
        }
        _ => bail!("{setting} must be an http(s) URL, not {}", quote(url)),
    }
}

fn github_options(section: &GitHubSection) -> Result<GitHubOptions> {
    let defaults = GitHubOptions::default();
    let api_url = match &section.api_url {
        Some(url) => base_url("scm.github.api_url", url)?,
        None => defaults.api_url,
    };
    let graphql_url = match &section.graphql_url {
        Some(url) => base_url("scm.github.graphql_url", url)?,
        None => format!("{api_url}/graphql"),
    };
    let host = section.host.clone().unwrap_or(defaults.host);
    if host.is_empty()
        || !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'))
    {
        bail!(
            "scm.github.host must be a host name such as github.com, not {}",
            quote(&host)
        );
    }
    let max_quota_share = section.max_quota_share.unwrap_or(defaults.max_quota_share);
    if !(max_quota_share > 0.0 && max_quota_share <= 1.0) {
        bail!("scm.github.max_quota_share must be in (0, 1], not {max_quota_share}");
    }
    Ok(GitHubOptions {
        api_url,
        graphql_url,
        host,
        max_quota_share,
    })
}

fn sink_specs(sections: &[SinkSection]) -> Result<Vec<(SinkSpec, Priority)>> {
    sections
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let name = format!("notify.sink[{i}] ({})", s.kind);
            let min_priority = match &s.min_priority {
                Some(p) => p.parse::<Priority>().map_err(|_| {
                    anyhow::anyhow!(
                        "{name}: min_priority {} is not one of urgent, action, warning, info",
                        quote(p)
                    )
                })?,
                None => Priority::Info,
            };
            let not_for = |field: &str, present: bool| -> Result<()> {
                if present {
                    bail!("{name}: `{field}` does not apply to this kind");
                }
                Ok(())
            };
            let spec = match s.kind.as_str() {
                "desktop" => {
                    not_for("url", s.url.is_some())?;
                    not_for("headers", s.headers.is_some())?;
                    not_for("argv", s.argv.is_some())?;
                    SinkSpec::Desktop
                }
                "webhook" => {
                    not_for("argv", s.argv.is_some())?;
                    let Some(url) = s.url.clone() else {
                        bail!("{name}: `url` is required");
                    };
                    SinkSpec::Webhook {
                        url,
                        headers: s.headers.clone().unwrap_or_default().into_iter().collect(),
                    }
                }
                "command" => {
                    not_for("url", s.url.is_some())?;
                    not_for("headers", s.headers.is_some())?;
                    SinkSpec::Command {
                        argv: s.argv.clone().unwrap_or_default(),
                    }
                }
                "log" => bail!("{name}: the log sink is always on and is not configured"),
                other => bail!(
                    "{name}: unknown kind {} (use desktop, webhook or command)",
                    quote(other)
                ),
            };
            spec.validate()
                .map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
            Ok((spec, min_priority))
        })
        .collect()
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
            .with_context(|| format!("invalid AO_SHUTDOWN_TIMEOUT {}", quote(&text)))?,
        Err(_) => Duration::from_secs(10),
    };
    let tick = |section: &TickSection, default: Duration, name: &str| -> Result<Duration> {
        let d = section.tick.map_or(default, |d| d.0);
        if d.is_zero() {
            bail!("[{name}] tick must be positive");
        }
        Ok(d)
    };
    let config_dir = absolute(
        config_path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default(),
    )?;
    let agents = agents_config(file.agents, &config_dir)?;
    let scm_poll_interval = file
        .scm
        .poll_interval
        .map_or(ao::scm::SCM_POLL_INTERVAL, |d| d.0);
    if scm_poll_interval.is_zero() {
        bail!("scm.poll_interval must be positive");
    }
    let trash_ttl = file.workspace.trash_ttl.map_or(TRASH_TTL, |d| d.0);
    if trash_ttl.is_zero() {
        bail!("workspace.trash_ttl must be positive (the trash is emptied after it)");
    }
    let max_connections = file
        .server
        .max_connections
        .unwrap_or(DEFAULT_MAX_CONNECTIONS);
    if max_connections == 0 {
        bail!("server.max_connections must be at least 1");
    }
    let idle_timeout = file
        .server
        .idle_timeout
        .map_or(DEFAULT_IDLE_TIMEOUT, |d| d.0);
    if idle_timeout.is_zero() {
        bail!("server.idle_timeout must be positive");
    }
    Ok(Config {
        scm_poll_interval,
        github: github_options(&file.scm.github)?,
        sinks: sink_specs(&file.notify.sink)?,
        worktree_root: file
            .workspace
            .root
            .clone()
            .unwrap_or_else(|| data_dir.join("worktrees")),
        post_create_timeout: file
            .workspace
            .post_create_timeout
            .map_or(ao_adapters::setup::POST_CREATE_TIMEOUT, |d| d.0),
        trash_ttl,
        pane_umask: 0o022,
        reaper_tick: tick(&file.reaper, ao::reaper::REAPER_TICK, "reaper")?,
        observer_tick: tick(&file.observer, ao::observer::OBSERVER_TICK, "observer")?,
        change_log_retention: file
            .store
            .change_log_retention
            .map_or(Duration::from_secs(30 * 24 * 3600), |d| d.0),
        policies: reaction_policies(&file.reactions)?,
        load_user_tmux_config: file.runtime.tmux.load_user_config.unwrap_or(true),
        aoctl_path: file.aoctl_path.clone(),
        agents,
        projects: file.projects,
        data_dir,
        socket,
        tmux_socket,
        ephemeral: flags.ephemeral,
        log_file: flags.log_file,
        max_connections,
        idle_timeout,
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
[scm]
poll_interval = "5s"
[server]
max_connections = 64
idle_timeout = "90s"
[scm.github]
api_url = "https://ghe.example.com/api/v3/"
host = "ghe.example.com"
max_quota_share = 0.25
[[notify.sink]]
kind = "desktop"
min_priority = "action"
[[notify.sink]]
kind = "webhook"
url = "https://hooks.example.com/ao"
headers = { Authorization = "Bearer x" }
min_priority = "warning"
[[notify.sink]]
kind = "command"
argv = ["/usr/local/bin/page-me", "--now"]
min_priority = "urgent"
"#,
        )
        .unwrap();
        let config = resolve(flags(&path)).unwrap();
        assert_eq!(config.tmux_socket, "ao-test");
        assert!(!config.load_user_tmux_config);
        assert_eq!(config.reaper_tick, Duration::from_secs(2));
        assert_eq!(config.agents.commands["aider"].argv, ["aider", "--yes"]);
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
        assert_eq!(config.scm_poll_interval, Duration::from_secs(5));
        assert_eq!(config.max_connections, 64);
        assert_eq!(config.idle_timeout, Duration::from_secs(90));
        assert_eq!(config.github.api_url, "https://ghe.example.com/api/v3");
        assert_eq!(
            config.github.graphql_url,
            "https://ghe.example.com/api/v3/graphql"
        );
        assert_eq!(config.github.host, "ghe.example.com");
        assert_eq!(config.github.max_quota_share, 0.25);
        assert_eq!(
            config.sinks,
            vec![
                (SinkSpec::Desktop, Priority::Action),
                (
                    SinkSpec::Webhook {
                        url: "https://hooks.example.com/ao".into(),
                        headers: vec![("Authorization".into(), "Bearer x".into())],
                    },
                    Priority::Warning
                ),
                (
                    SinkSpec::Command {
                        argv: vec!["/usr/local/bin/page-me".into(), "--now".into()],
                    },
                    Priority::Urgent
                ),
            ]
        );
    }

    #[test]
    fn scm_and_notify_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "").unwrap();
        let config = resolve(flags(&path)).unwrap();
        assert_eq!(config.github, GitHubOptions::default());
        assert_eq!(config.scm_poll_interval, Duration::from_secs(30));
        assert!(config.sinks.is_empty());
        assert_eq!(config.trash_ttl, TRASH_TTL);
        std::fs::write(&path, "[workspace]\ntrash_ttl = \"2d\"").unwrap();
        let config = resolve(flags(&path)).unwrap();
        assert_eq!(config.trash_ttl, Duration::from_secs(2 * 24 * 3600));
        assert_eq!(config.max_connections, 512);
        assert_eq!(config.idle_timeout, Duration::from_secs(300));
    }

    #[test]
    fn invalid_values_fail_with_the_setting_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        for (text, needle) in [
            ("[reaper]\ntick = \"soon\"", "invalid duration"),
            (
                "[workspace]\ntrash_ttl = \"0s\"",
                "trash_ttl must be positive",
            ),
            ("[reactions.nope]\nretries = 1", "unknown reaction"),
            (
                "[reactions.agent-stuck]\naction = \"send-to-agent\"",
                "cannot be send-to-agent",
            ),
            (
                "[agents.x]\nkind = \"vim\"\nargv=[\"vim\"]",
                "not supported",
            ),
            (
                "[agents.claude-code]\npermission_mode = \"yolo\"",
                "[agents.claude-code] permission_mode",
            ),
            (
                "[agents.claude-code]\nsystem_prompt_file = \"absent.md\"",
                "[agents.claude-code] system_prompt_file",
            ),
            (
                "[agents.codex]\nallowed_tools = [\"Read\"]",
                "[agents.codex] allowed_tools",
            ),
            (
                "[agents.claude-code]\nallowed_tools = [\"\"]",
                "[agents.claude-code] allowed_tools",
            ),
            (
                "[agents.claude-code]\nconfig = { a = 1 }",
                "[agents.claude-code] config",
            ),
            ("[agents.codex]\nsurprise = 1", "invalid [agents.codex]"),
            (
                "[agents.codex]\nenv = { \"A-B\" = \"1\" }",
                "[agents.codex] env",
            ),
            ("surprise = 1", "unknown field"),
            ("[scm]\npoll_interval = \"0s\"", "scm.poll_interval"),
            ("[server]\nmax_connections = 0", "server.max_connections"),
            ("[server]\nidle_timeout = \"0s\"", "server.idle_timeout"),
            (
                "[scm.github]\napi_url = \"api.github.com\"",
                "scm.github.api_url",
            ),
            (
                "[scm.github]\ngraphql_url = \"ftp://x\"",
                "scm.github.graphql_url",
            ),
            ("[scm.github]\nhost = \"github.com/x\"", "scm.github.host"),
            (
                "[scm.github]\nmax_quota_share = 1.5",
                "scm.github.max_quota_share",
            ),
            (
                "[[notify.sink]]\nkind = \"pager\"",
                "notify.sink[0] (pager): unknown kind",
            ),
            ("[[notify.sink]]\nkind = \"log\"", "always on"),
            (
                "[[notify.sink]]\nkind = \"webhook\"",
                "notify.sink[0] (webhook): `url` is required",
            ),
            (
                "[[notify.sink]]\nkind = \"webhook\"\nurl = \"https://h.example\"\nheaders = { \"A B\" = \"x\" }",
                "invalid header name",
            ),
            (
                "[[notify.sink]]\nkind = \"command\"",
                "notify.sink[0] (command): argv",
            ),
            (
                "[[notify.sink]]\nkind = \"command\"\nargv = [\"x\"]\nurl = \"https://h\"",
                "`url` does not apply",
            ),
            (
                "[[notify.sink]]\nkind = \"desktop\"\nmin_priority = \"loud\"",
                "min_priority \"loud\"",
            ),
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

    #[test]
    fn builtin_agent_sections() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(dir.path().join("rules.md"), "be kind\n").unwrap();
        std::fs::write(
            &path,
            r#"
[agents.claude-code]
binary = "/opt/claude/bin/claude"
model = "sonnet"
permission_mode = "accept-edits"
system_prompt_file = "rules.md"
allowed_tools = ["Read", "Bash(git log *)"]
env = { ANTHROPIC_BASE_URL = "http://127.0.0.1:9" }
[agents.codex]
permission_mode = "auto"
system_prompt = "be brief"
[agents.codex.config]
model_provider = "mock"
model_providers.mock = { name = "Mock's", base_url = "http://127.0.0.1:9/v1", wire_api = "responses", retries = 0 }
"#,
        )
        .unwrap();
        let config = resolve(flags(&path)).unwrap();
        let claude = &config.agents.claude;
        assert_eq!(claude.binary, Some(PathBuf::from("/opt/claude/bin/claude")));
        assert_eq!(claude.options.model.as_deref(), Some("sonnet"));
        assert_eq!(
            claude.options.permission_mode,
            Some(PermissionMode::AcceptEdits)
        );
        assert_eq!(
            claude.options.system_prompt_file,
            Some(dir.path().join("rules.md")),
            "relative to the configuration file"
        );
        assert_eq!(claude.options.allowed_tools, ["Read", "Bash(git log *)"]);
        assert_eq!(claude.env["ANTHROPIC_BASE_URL"], "http://127.0.0.1:9");
        let codex = &config.agents.codex;
        assert_eq!(codex.options.permission_mode, Some(PermissionMode::Auto));
        assert_eq!(
            codex.config_overrides,
            [
                ("model_provider".to_owned(), "'mock'".to_owned()),
                (
                    "model_providers".to_owned(),
                    r#"{mock={base_url='http://127.0.0.1:9/v1',name="Mock's",retries=0,wire_api='responses'}}"#
                        .to_owned()
                ),
            ]
        );
        assert!(config.agents.commands.is_empty());
    }
}
