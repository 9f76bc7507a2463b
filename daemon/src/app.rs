//! Assembly: the adapters, the LCM, the Session Manager and the background loops, built from the
//! configuration in the daemon's start order (see `main`), and their shutdown.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use ao::domain::Timestamp;
use ao::lifecycle::{Lcm, Wakeups};
use ao::messages::MessageDelivery;
use ao::ports::{Clock, Notifier, Runtime, Store, ToolProbe};
use ao::reaction_dispatch::Reactions;
use ao::reaper::Reaper;
use ao::scm_observer::ScmObserver;
use ao::service::{DoctorFacts, Service, ServiceDeps};
use ao::session::{AgentRegistry, SessionManager, SessionManagerConfig, SessionManagerDeps};
use ao::terminal_observer::TerminalObserver;
use ao::upkeep;
use ao_adapters::agents::HookProgram;
use ao_adapters::agents::claude::{ClaudeConfig, ClaudeHarness};
use ao_adapters::agents::codex::{CodexConfig, CodexHarness};
use ao_adapters::agents::command::{CommandHarness, CommandHarnessConfig};
use ao_adapters::clock::SystemClock;
use ao_adapters::github::{GitHubClient, TokenSource};
use ao_adapters::messenger::RuntimeMessenger;
use ao_adapters::notify::{Notifiers, build_sinks};
use ao_adapters::process::SystemRunner;
use ao_adapters::setup::FsProjectSetup;
use ao_adapters::sqlite::SqliteStore;
use ao_adapters::tmux::{TmuxOptions, TmuxRuntime, TmuxSocket, write_tmux_conf};
use ao_adapters::worktree::{GitWorktree, GitWorktreeOptions};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use crate::config::Config;

/// The assembled daemon: its configuration, the parts its loops run on, and the service.
pub struct App {
    pub config: Config,
    pub store: Arc<dyn Store>,
    pub lcm: Arc<Lcm>,
    pub sm: Arc<SessionManager>,
    pub runtime: Arc<dyn Runtime>,
    pub agents: Arc<AgentRegistry>,
    pub notifier: Arc<dyn Notifier>,
    /// The same notifier, for its sink workers and `doctor`.
    pub notifiers: Arc<Notifiers>,
    pub github: Arc<GitHubClient>,
    pub clock: Arc<dyn Clock>,
    /// The operations every transport serves.
    pub service: Service,
    pub started_at: Timestamp,
    /// Cancelled to stop the daemon.
    pub shutdown: CancellationToken,
    /// The store's directory in ephemeral mode, removed with the daemon.
    _ephemeral_dir: Option<tempfile::TempDir>,
}

/// The directory of `aoctl` to pin on pane PATHs: next to this `aod`, else the configured path.
fn aoctl_dir(config: &Config) -> Option<PathBuf> {
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
        .filter(|dir| dir.join("aoctl").is_file());
    beside.or_else(|| {
        config
            .aoctl_path
            .as_ref()
            .filter(|p| p.is_file())
            .and_then(|p| p.parent().map(Path::to_path_buf))
    })
}

/// Every harness: the built-in `command`, `claude-code` and `codex`, then the configured
/// command harnesses. Hooks call the `aoctl` in `aoctl_dir` by its absolute path when it is
/// known: the same binary the pane's PATH would find first, but immune to shell start-up files
/// that reorder PATH and to an older `aoctl` elsewhere on the user's PATH.
fn registry(
    config: &Config,
    search_path: &str,
    aoctl_dir: Option<&Path>,
    runner: Arc<SystemRunner>,
) -> Result<AgentRegistry> {
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from);
    let hook_program = HookProgram::new(aoctl_dir);
    let mut agents = AgentRegistry::new();
    agents.register(Arc::new(CommandHarness::new(
        CommandHarnessConfig::builtin(search_path.to_owned()),
    )));
    let claude = &config.agents.claude;
    // The panes see the section's CLAUDE_CONFIG_DIR, else the daemon's own.
    let claude_config_dir = claude
        .env
        .get("CLAUDE_CONFIG_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("CLAUDE_CONFIG_DIR").map(PathBuf::from))
        .filter(|d| !d.as_os_str().is_empty());
    agents.register(Arc::new(
        ClaudeHarness::new(
            ClaudeConfig {
                binary: claude.binary.clone(),
                search_path: search_path.to_owned(),
                home: home.clone(),
                config_dir: claude_config_dir,
                options: claude.options.clone(),
                hook_program: hook_program.clone(),
                env: claude.env.clone(),
            },
            runner,
        )
        .context("[agents.claude-code]")?,
    ));
    let codex = &config.agents.codex;
    agents.register(Arc::new(
        CodexHarness::new(CodexConfig {
            binary: codex.binary.clone(),
            search_path: search_path.to_owned(),
            home,
            options: codex.options.clone(),
            hook_program,
            env: codex.env.clone(),
            config_overrides: codex.config_overrides.clone(),
        })
        .context("[agents.codex]")?,
    ));
    for (name, section) in &config.agents.commands {
        agents.register(Arc::new(CommandHarness::new(CommandHarnessConfig {
            name: name.clone(),
            argv: Some(section.argv.clone()),
            prompt_delivery: section.prompt_delivery,
            prompt_flag: section.prompt_flag.clone(),
            ready_patterns: section.ready_patterns.clone(),
            restore_argv: section.restore_argv.clone(),
            env: section.env.clone(),
            search_path: search_path.to_owned(),
        })));
    }
    for (name, delay) in &config.agents.enter_delays {
        agents.set_enter_delay(name, *delay);
    }
    Ok(agents)
}

impl App {
    /// Steps 5–8 of the start order: tmux check, store, adapters, boot reconcile.
    pub async fn build(config: Config) -> Result<Arc<App>> {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let runner = Arc::new(SystemRunner);
        let daemon_path =
            std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into());

        let conf = write_tmux_conf(&config.data_dir, config.load_user_tmux_config)
            .context("writing tmux.conf")?;
        let socket = TmuxSocket::parse(&config.tmux_socket).context("the tmux socket setting")?;
        let tmux = TmuxRuntime::new(
            TmuxOptions {
                pane_umask: Some(config.pane_umask),
                control_mode: config.tmux_control_mode,
                ..TmuxOptions::new(socket, conf, config.tmux_output_dir())
            },
            runner.clone(),
        )
        .context("setting up the tmux runtime")?;
        let runtime: Arc<dyn Runtime> = Arc::new(tmux);
        let runtime_version = runtime
            .check_prerequisites()
            .await
            .map_err(|e| e.to_string());
        match &runtime_version {
            Ok(v) => info!(version = %v, "tmux ok"),
            Err(e) => {
                error!(error = %e, "tmux is not usable: spawns will fail until it is installed (3.2+)")
            }
        }
        let git_version = runner
            .version(Path::new("git"), Duration::from_secs(5))
            .await;

        // Ephemeral: the same store, in a directory removed when the daemon stops.
        let ephemeral_dir = if config.ephemeral {
            let dir = tempfile::Builder::new()
                .prefix("aod-ephemeral-")
                .tempdir()
                .context("creating the ephemeral store's directory")?;
            warn!(dir = %dir.path().display(), "ephemeral mode: nothing survives this daemon");
            Some(dir)
        } else {
            None
        };
        let path = ephemeral_dir
            .as_ref()
            .map_or_else(|| config.db_path(), |dir| dir.path().join("ao.db"));
        let backend = Arc::new(
            tokio::task::spawn_blocking(move || SqliteStore::open(&path))
                .await
                .context("opening the store")??,
        );
        // Only the LCM gets the store as a record writer; everything else reads records.
        let store: Arc<dyn Store> = backend.clone();

        let wakeups = Arc::new(Wakeups::default());
        let lcm = Arc::new(Lcm::new(
            backend,
            store.clone(),
            clock.clone(),
            config.policies.clone(),
            wakeups,
        ));
        let workspace = Arc::new(
            GitWorktree::new(
                GitWorktreeOptions {
                    managed_root: config.worktree_root.clone(),
                    ..GitWorktreeOptions::for_data_dir(&config.data_dir)
                },
                runner.clone(),
            )
            .context("setting up the worktree root")?,
        );
        let aoctl_dir = aoctl_dir(&config);
        let agents = Arc::new(registry(
            &config,
            &daemon_path,
            aoctl_dir.as_deref(),
            runner.clone(),
        )?);
        if aoctl_dir.is_none() {
            warn!(
                "no aoctl next to aod and no aoctl_path configured: agent hooks will rely on the user's PATH"
            );
        }
        let sinks = build_sinks(
            &config.sinks,
            runner.clone(),
            std::env::var_os("PATH").as_deref(),
        )
        .context("setting up notification sinks")?;
        let notifiers = Notifiers::new(sinks);
        let sm = Arc::new(SessionManager::new(
            SessionManagerDeps {
                lcm: lcm.clone(),
                store: store.clone(),
                workspace,
                setup: Arc::new(FsProjectSetup::new(
                    runner.clone(),
                    config.post_create_timeout,
                )),
                runtime: runtime.clone(),
                agents: agents.clone(),
                clock: clock.clone(),
                notifier: notifiers.clone(),
            },
            SessionManagerConfig {
                data_dir: config.data_dir.clone(),
                socket_path: config.socket.clone(),
                aoctl_dir,
                daemon_path,
                runtime_ready: runtime_version.clone().map(|_| ()),
            },
        ));
        let github = Arc::new(
            GitHubClient::new(
                config.github.clone(),
                TokenSource::new(
                    |name| std::env::var(name).ok(),
                    runner.clone(),
                    &config.github.host,
                ),
                runner.clone(),
                clock.clone(),
            )
            .context("setting up the GitHub provider")?,
        );
        let shutdown = CancellationToken::new();
        let service = Service::new(ServiceDeps {
            sm: sm.clone(),
            store: store.clone(),
            agents: agents.clone(),
            scm: github.clone(),
            tools: runner.clone(),
            facts: DoctorFacts {
                tmux: runtime_version,
                git: git_version,
                store_location: if config.ephemeral {
                    "in a temporary directory (ephemeral)".into()
                } else {
                    config.db_path().display().to_string()
                },
                socket: config.socket.display().to_string(),
                notify: notifiers.describe(),
            },
            shutdown: shutdown.clone(),
        });
        let app = Arc::new(App {
            started_at: clock.now(),
            config,
            store,
            lcm,
            sm,
            runtime,
            agents,
            notifier: notifiers.clone(),
            notifiers,
            github,
            clock,
            service,
            shutdown,
            _ephemeral_dir: ephemeral_dir,
        });
        app.sm.add_missing_projects(&app.config.projects).await;
        let report = app.sm.reconcile_at_boot().await;
        info!(
            adopted = report.adopted.len(),
            interrupted = report.interrupted.len(),
            leaked = report.leaked.len(),
            unowned_panes = report.unowned_panes.len(),
            unowned_worktrees = report.unowned_worktrees.len(),
            "boot reconcile"
        );
        Ok(app)
    }

    /// Step 9: the background loops. They all stop when `cancel` is cancelled.
    pub fn start_loops(self: &Arc<Self>, cancel: &CancellationToken) -> JoinSet<()> {
        let mut loops = JoinSet::new();
        loops.spawn(self.notifiers.clone().run(cancel.clone()));
        let reactions = Reactions::new(&self.lcm, self.store.clone(), self.notifier.clone());
        loops.spawn(reactions.run(cancel.clone()));
        let delivery = MessageDelivery::new(
            &self.lcm,
            self.store.clone(),
            Arc::new(RuntimeMessenger::new(self.runtime.clone())),
            self.agents.clone(),
            self.config.draft_grace,
        );
        loops.spawn(delivery.run(cancel.clone()));
        let reaper = Arc::new(Reaper::new(
            self.lcm.clone(),
            self.runtime.clone(),
            self.clock.clone(),
            self.config.reaper_tick,
        ));
        loops.spawn(reaper.run(cancel.clone()));
        let observer = Arc::new(TerminalObserver::new(
            self.lcm.clone(),
            self.runtime.clone(),
            self.agents.clone(),
            self.clock.clone(),
        ));
        loops.spawn(observer.run(cancel.clone(), self.config.observer_tick));
        let scm = Arc::new(ScmObserver::new(
            self.lcm.clone(),
            self.store.clone(),
            self.github.clone(),
            self.clock.clone(),
            self.config.scm_poll_interval,
        ));
        loops.spawn(scm.run(cancel.clone()));
        loops.spawn(upkeep::sweep_trash(
            self.sm.clone(),
            self.config.trash_ttl,
            cancel.clone(),
        ));
        loops.spawn(upkeep::prune_change_log(
            self.store.clone(),
            self.clock.clone(),
            self.config.change_log_retention,
            cancel.clone(),
        ));
        loops
    }
}
