//! `aod`'s configuration: command-line flags (each with an environment variable) and the TOML
//! configuration file, resolved into one [`Config`]. Flags beat the environment, which beats the
//! file, which beats defaults. Invalid values fail at start with a message naming the setting.
//!
//! `flags` is the command line, `file` the file's schema; `agents`, `notify`, `github` and
//! `reaction_table` each check their sections and turn them into what the library takes.

mod agents;
mod file;
mod flags;
mod github;
mod notify;
mod reaction_table;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use ao::decide::reactions::ReactionPolicies;
use ao::domain::{Priority, quote};
use ao::session::ProjectSpec;
use ao_adapters::github::GitHubOptions;
use ao_adapters::notify::SinkSpec;

pub use agents::AgentsConfig;
pub use flags::Flags;

use file::TickSection;

/// How long a retired worktree stays in the trash by default.
pub const TRASH_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// Default `server.max_connections`.
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;
/// Default `server.idle_timeout`.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// Everything resolved.
#[derive(Debug, Clone)]
pub struct Config {
    /// The configuration file read (or, when it does not exist, the default path looked at).
    pub config_file: PathBuf,
    /// Whether that file exists (a missing default file means every default applies).
    pub config_file_found: bool,
    pub data_dir: PathBuf,
    pub socket: PathBuf,
    pub tmux_socket: String,
    pub load_user_tmux_config: bool,
    /// `[runtime.tmux] control_mode`: a persistent `tmux -C` client for typing and screen reads.
    pub tmux_control_mode: bool,
    pub ephemeral: bool,
    pub log_file: Option<PathBuf>,
    pub max_connections: usize,
    pub idle_timeout: Duration,
    pub aoctl_path: Option<PathBuf>,
    pub worktree_root: PathBuf,
    pub post_create_timeout: Duration,
    pub trash_ttl: Duration,
    /// How long an unchanged draft in an agent's input line holds messages back.
    pub draft_grace: Duration,
    /// The file mode mask agents run with: the one `aod` was started with.
    pub pane_umask: u32,
    pub reaper_tick: Duration,
    pub observer_tick: Duration,
    pub change_log_retention: Duration,
    pub shutdown_timeout: Duration,
    pub policies: ReactionPolicies,
    pub agents: AgentsConfig,
    /// `[[projects]]`, registered on first start.
    pub projects: Vec<ProjectSpec>,
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

/// Resolves flags, environment and file into one configuration.
pub fn resolve(flags: Flags) -> Result<Config> {
    let config_path = flags
        .config
        .clone()
        .unwrap_or_else(ao_proto::paths::default_config_file);
    let config_path = absolute(config_path)?;
    let file = file::read(&config_path, flags.config.is_some())?;
    let config_file_found = file.is_some();
    let file = file.unwrap_or_default();
    let data_dir = absolute(
        flags
            .data_dir
            .unwrap_or_else(ao_proto::paths::default_data_dir),
    )?;
    let socket = absolute(flags.socket.unwrap_or_else(ao_proto::paths::default_socket))?;
    let tmux_socket = flags
        .tmux_socket
        .or(file.runtime.tmux.socket)
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
    let agents = file.agents.resolve(&config_dir)?;
    let scm_poll_interval = file
        .scm
        .poll_interval
        .map_or(ao::scm_observer::SCM_POLL_INTERVAL, |d| d.0);
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
        config_file: config_path,
        config_file_found,
        scm_poll_interval,
        github: file.scm.github.resolve()?,
        sinks: file.notify.resolve()?,
        worktree_root: file
            .workspace
            .root
            .unwrap_or_else(|| data_dir.join("worktrees")),
        post_create_timeout: file
            .workspace
            .post_create_timeout
            .map_or(ao_adapters::setup::POST_CREATE_TIMEOUT, |d| d.0),
        trash_ttl,
        draft_grace: file
            .delivery
            .draft_grace
            .map_or(ao::messages::DEFAULT_DRAFT_GRACE, |d| d.0),
        pane_umask: 0o022,
        reaper_tick: tick(&file.reaper, ao::reaper::REAPER_TICK, "reaper")?,
        observer_tick: tick(
            &file.observer,
            ao::terminal_observer::OBSERVER_TICK,
            "observer",
        )?,
        change_log_retention: file
            .store
            .change_log_retention
            .map_or(Duration::from_secs(30 * 24 * 3600), |d| d.0),
        policies: reaction_table::reaction_policies(&file.reactions)?,
        load_user_tmux_config: file.runtime.tmux.load_user_config.unwrap_or(true),
        tmux_control_mode: file.runtime.tmux.control_mode.unwrap_or(true),
        aoctl_path: file.aoctl_path,
        agents,
        projects: file
            .projects
            .into_iter()
            .map(file::ProjectSection::into_spec)
            .collect(),
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
    use std::collections::BTreeMap;

    use ao::decide::reactions::ReactionAction;
    use ao::domain::{ProjectSettings, ReactionKey};
    use ao::ports::PermissionMode;
    use ao_adapters::agents::command::CommandPromptDelivery;

    use super::*;

    fn flags(config: &Path) -> Flags {
        Flags {
            data_dir: Some("/tmp/ao-test-data".into()),
            socket: Some("/tmp/ao-test.sock".into()),
            tmux_socket: None,
            config: Some(config.to_path_buf()),
            ephemeral: false,
            log_file: None,
            check_config: false,
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
enter_delay = "250ms"
[agents.codex]
enter_delay = "1s"
[delivery]
draft_grace = "45s"
[reactions.agent-idle]
action = "send-to-agent"
[reactions.ci-failed]
retries = 5
[agents.later]
kind = "command"
argv = ["later"]
prompt_delivery = "send"
ready_patterns = ["> $"]
[[projects]]
id = "web"
repo = "/src/web"
default_agent = "aider"
base_branch = "main"
symlinks = [".env"]
copies = ["fixtures"]
post_create = [["npm", "ci"]]
exclude = ["node_modules/"]
env = { NODE_ENV = "test" }
push_remote = "fork"
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
        assert_eq!(config.draft_grace, Duration::from_secs(45));
        assert_eq!(
            config.agents.enter_delays,
            BTreeMap::from([
                ("aider".to_owned(), Duration::from_millis(250)),
                ("codex".to_owned(), Duration::from_secs(1)),
            ])
        );
        assert!(!config.load_user_tmux_config);
        assert_eq!(config.reaper_tick, Duration::from_secs(2));
        let aider = &config.agents.commands["aider"];
        assert_eq!(aider.argv, ["aider", "--yes"]);
        assert_eq!(aider.prompt_flag.as_deref(), Some("--message"));
        assert_eq!(
            aider.prompt_delivery,
            CommandPromptDelivery::Argv,
            "the default"
        );
        let later = &config.agents.commands["later"];
        assert_eq!(later.prompt_delivery, CommandPromptDelivery::Send);
        assert_eq!(later.ready_patterns, ["> $"]);
        assert_eq!(
            config.policies.get(ReactionKey::AgentIdle).action,
            ReactionAction::SendToAgent
        );
        assert_eq!(config.policies.get(ReactionKey::CiFailed).retries, 5);
        assert_eq!(
            config.projects,
            [ProjectSpec {
                name: "web".into(),
                repo_path: "/src/web".into(),
                base_branch: Some("main".into()),
                default_agent: Some("aider".into()),
                settings: ProjectSettings {
                    symlinks: vec![".env".into()],
                    copies: vec!["fixtures".into()],
                    post_create: vec![vec!["npm".into(), "ci".into()]],
                    exclude: vec!["node_modules/".into()],
                    env: [("NODE_ENV".to_owned(), "test".to_owned())].into(),
                    push_remote: Some("fork".into()),
                },
            }]
        );
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
        assert_eq!(config.draft_grace, ao::messages::DEFAULT_DRAFT_GRACE);
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
        // A value the schema refuses is reported with the line it is on (the key and the
        // value, or the section header for a sink or an added agent); a rule between values
        // names the setting in its message.
        for (text, needles) in [
            (
                "[reaper]\ntick = \"soon\"",
                &["tick = \"soon\"", "invalid duration"][..],
            ),
            (
                "[workspace]\ntrash_ttl = \"0s\"",
                &["workspace.trash_ttl must be positive"],
            ),
            (
                "[reactions.nope]\nretries = 1",
                &["unknown reaction [reactions.nope]"],
            ),
            (
                "[reactions.agent-stuck]\naction = \"send-to-agent\"",
                &["[reactions.agent-stuck] cannot be send-to-agent"],
            ),
            (
                "[reactions.ci-failed]\naction = \"explode\"",
                &[
                    "action = \"explode\"",
                    "unknown variant `explode`, expected one of `send-to-agent`, `notify`",
                ],
            ),
            (
                "[agents.x]\nkind = \"vim\"\nargv=[\"vim\"]",
                &["[agents.x]", "unknown variant `vim`, expected `command`"],
            ),
            (
                "[agents.x]\nargv=[\"vim\"]",
                &["[agents.x]", "missing field `kind`"],
            ),
            (
                "[agents.x]\nkind = \"command\"\nargv = [\"x\"]\nprompt_delivery = \"later\"",
                &[
                    "[agents.x]",
                    "unknown variant `later`, expected one of `argv`, `send`, `none`",
                ],
            ),
            (
                "[agents.x]\nkind = \"command\"\nargv = [\"x\"]\nmodel = \"m\"",
                &["[agents.x]", "unknown field `model`"],
            ),
            ("[agents.x]\nkind = \"command\"", &["[agents.x] needs argv"]),
            (
                "[agents.claude-code]\nenter_delay = \"11s\"",
                &["[agents.claude-code] enter_delay is 11s; at most 10s"],
            ),
            (
                "[delivery]\ndraft_grace = \"soon\"",
                &["invalid duration \"soon\""],
            ),
            (
                "[agents.command]\nargv = [\"sh\"]",
                &["[agents.command] is built in and takes no settings"],
            ),
            (
                "[agents.claude-code]\npermission_mode = \"yolo\"",
                &[
                    "permission_mode = \"yolo\"",
                    "unknown variant `yolo`, expected one of `default`, `accept-edits`, `auto`, `bypass-permissions`",
                ],
            ),
            (
                "[agents.claude-code]\nsystem_prompt_file = \"absent.md\"",
                &["[agents.claude-code] system_prompt_file"],
            ),
            (
                "[agents.codex]\nallowed_tools = [\"Read\"]",
                &["[agents.codex] allowed_tools"],
            ),
            (
                "[agents.claude-code]\nallowed_tools = [\"\"]",
                &["[agents.claude-code] allowed_tools"],
            ),
            (
                "[agents.claude-code]\nconfig = { a = 1 }",
                &["[agents.claude-code] config"],
            ),
            (
                "[agents.codex]\nsurprise = 1",
                &["surprise = 1", "unknown field `surprise`"],
            ),
            (
                "[agents.codex]\nenv = { \"A-B\" = \"1\" }",
                &["[agents.codex] env: invalid variable name \"A-B\""],
            ),
            ("surprise = 1", &["unknown field `surprise`"]),
            ("[scm]\npoll_interval = \"0s\"", &["scm.poll_interval"]),
            ("[server]\nmax_connections = 0", &["server.max_connections"]),
            ("[server]\nidle_timeout = \"0s\"", &["server.idle_timeout"]),
            (
                "[scm.github]\napi_url = \"api.github.com\"",
                &["scm.github.api_url"],
            ),
            (
                "[scm.github]\ngraphql_url = \"ftp://x\"",
                &["scm.github.graphql_url"],
            ),
            (
                "[scm.github]\nhost = \"github.com/x\"",
                &["scm.github.host"],
            ),
            (
                "[scm.github]\nmax_quota_share = 1.5",
                &["scm.github.max_quota_share"],
            ),
            (
                "[[projects]]\nid = \"web\"\nrepo = \"/src/web\"\nsurprise = 1",
                &["[[projects]]", "unknown field `surprise`"],
            ),
            (
                "[[projects]]\nid = \"web\"\nrepo = \"/src/web\"\nsymlinks = \".env\"",
                &[
                    "[[projects]]",
                    "invalid type: string \".env\", expected a sequence",
                ],
            ),
            (
                "[[notify.sink]]\nkind = \"pager\"",
                &[
                    "[[notify.sink]]",
                    "unknown variant `pager`, expected one of `desktop`, `webhook`, `command`",
                ],
            ),
            (
                "[[notify.sink]]\nkind = \"log\"",
                &["[[notify.sink]]", "unknown variant `log`"],
            ),
            (
                "[[notify.sink]]\nmin_priority = \"info\"",
                &["[[notify.sink]]", "missing field `kind`"],
            ),
            (
                "[[notify.sink]]\nkind = \"webhook\"",
                &["[[notify.sink]]", "missing field `url`"],
            ),
            (
                "[[notify.sink]]\nkind = \"webhook\"\nurl = \"https://h.example\"\nheaders = { \"A B\" = \"x\" }",
                &["notify.sink[0] (webhook): invalid header name"],
            ),
            (
                "[[notify.sink]]\nkind = \"command\"",
                &["notify.sink[0] (command): argv"],
            ),
            (
                "[[notify.sink]]\nkind = \"command\"\nargv = [\"x\"]\nurl = \"https://h\"",
                &["[[notify.sink]]", "unknown field `url`, expected `argv`"],
            ),
            (
                "[[notify.sink]]\nkind = \"desktop\"\nheaders = { A = \"b\" }",
                &["[[notify.sink]]", "unknown field `headers`"],
            ),
            (
                "[[notify.sink]]\nkind = \"desktop\"\nmin_priority = \"loud\"",
                &["min_priority = \"loud\"", "unknown Priority value \"loud\""],
            ),
        ] {
            std::fs::write(&path, text).unwrap();
            let err = format!("{:#}", resolve(flags(&path)).unwrap_err());
            for needle in needles {
                assert!(err.contains(needle), "{text}: {needle} not in {err}");
            }
        }
        let absent = dir.path().join("absent.toml");
        let err = format!("{:#}", resolve(flags(&absent)).unwrap_err());
        assert!(
            err.contains(&format!("{} does not exist", absent.display())),
            "an explicit missing file is an error naming it: {err}"
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
                ("model_provider".to_owned(), r#""mock""#.to_owned()),
                (
                    "model_providers".to_owned(),
                    r#"{ mock = { base_url = "http://127.0.0.1:9/v1", name = "Mock's", retries = 0, wire_api = "responses" } }"#
                        .to_owned()
                ),
            ]
        );
        assert!(config.agents.commands.is_empty());
    }
}
