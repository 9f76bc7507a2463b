//! The configuration file as serde reads it: every section and key `aod` accepts. An unknown
//! key is an error, and a value with a fixed set of spellings (a kind, an action, a priority, a
//! permission mode) is read straight into its enum, so a bad one fails here with the line it is
//! on. Rules between values are checked when the configuration is resolved.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use ao::domain::{ProjectSettings, quote};
use ao::session::ProjectSpec;
use serde::Deserialize;

use super::agents::AgentsSection;
use super::github::GitHubSection;
use super::notify::NotifySection;
use super::reaction_table::ReactionSection;

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
    pub agents: AgentsSection,
    #[serde(default)]
    pub reactions: BTreeMap<String, ReactionSection>,
    #[serde(default)]
    pub projects: Vec<ProjectSection>,
    #[serde(default)]
    pub scm: ScmSection,
    #[serde(default)]
    pub notify: NotifySection,
    #[serde(default)]
    pub delivery: DeliverySection,
}

/// `[delivery]`: how messages reach a pane.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliverySection {
    /// How long an unchanged draft in an agent's input line holds messages back (default 30 s).
    pub draft_grace: Option<HumanDuration>,
}

/// Reads the file: a missing default file is an empty configuration (`None`), a missing
/// explicit one (`--config`, `AO_CONFIG`) an error naming it.
pub fn read(path: &Path, explicit: bool) -> Result<Option<FileConfig>> {
    match std::fs::read_to_string(path) {
        Ok(text) => toml::from_str(&text)
            .map(Some)
            .with_context(|| format!("invalid configuration file {}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
            "the configuration file {} does not exist (it is named by --config or AO_CONFIG; \
             create it, or unset AO_CONFIG to use {})",
            path.display(),
            ao_proto::paths::default_config_file().display()
        ),
        Err(e) => Err(e).with_context(|| format!("reading configuration file {}", path.display())),
    }
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

/// `[runtime]`: the session runtime, tmux.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeSection {
    #[serde(default)]
    pub tmux: TmuxSection,
}

/// `[runtime.tmux]`: ao's own tmux server.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TmuxSection {
    /// A label (`-L`) or, with a `/`, a socket path (`-S`).
    pub socket: Option<String>,
    /// Source `~/.tmux.conf` in ao's server.
    pub load_user_config: Option<bool>,
    /// Type and read screens through a persistent `tmux -C` client.
    pub control_mode: Option<bool>,
}

/// `[reaper]` and `[observer]`: how often a loop ticks.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TickSection {
    pub tick: Option<HumanDuration>,
}

/// `[store]`: how long the change log keeps its rows.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSection {
    pub change_log_retention: Option<HumanDuration>,
}

/// `[workspace]`: where worktrees live and how long the trash keeps them.
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

/// `[scm]`: the pull-request observer.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScmSection {
    pub poll_interval: Option<HumanDuration>,
    #[serde(default)]
    pub github: GitHubSection,
}

/// `[[projects]]`: a project registered on the daemon's first start with it. What every new
/// worktree gets (`symlinks`, `copies`, `post_create`, `exclude`, `env`, `push_remote`) is read as the
/// project's own settings, so the file takes exactly the keys a registered project keeps.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectSection {
    pub id: String,
    pub repo: PathBuf,
    pub default_agent: Option<String>,
    pub base_branch: Option<String>,
    #[serde(flatten)]
    pub settings: ProjectSettings,
}

impl ProjectSection {
    /// The registration this section asks for.
    pub fn into_spec(self) -> ProjectSpec {
        ProjectSpec {
            name: self.id,
            repo_path: self.repo,
            base_branch: self.base_branch,
            default_agent: self.default_agent,
            settings: self.settings,
        }
    }
}
