//! The tmux runtime: each session is one tmux session on ao's own tmux server, driven only through
//! argv (`tokio::process`, via [`CommandRunner`]).
//!
//! What it keeps solved: exact `=name` / `=name:` / `=name:0.0` targets (tmux would otherwise
//! match a prefix and hit `p-10` for `p-1`); no user text in any shell string except as single-quoted
//! words of the launch script (and tmux-format arguments have `#` doubled); a 5 s deadline per
//! call; a reap of each pane's whole process session on destroy; a probe that is never `dead`
//! when tmux itself failed; messages that are never left half-typed.
//!
//! "The server is gone" is positive evidence that every pane is gone, and the probe reports it
//! as such ([`PaneProbe::server_gone`]) only when tmux says no server answers on the socket
//! (the file refuses connections — tmux leaves it behind when its server is killed — or does
//! not exist) and `/proc/net/unix` shows no process listening on that path. A listener there
//! means a live server whose socket file was deleted or replaced (a `/tmp` cleaner): its panes
//! are alive but unreachable, so the probe fails instead. Without `/proc/net/unix`, tmux's
//! answer stands.
//!
//! Output for `tail` ([`Runtime::read_output`]) comes from `pipe-pane`, not `capture-pane`.
//! `capture-pane` returns a snapshot of the screen and its history: output that scrolled past
//! the history limit is gone, and two snapshots have no stable byte positions to resume from.
//! `pipe-pane` copies every byte the pane prints into a per-session log file as it happens, so
//! nothing is missed between reads and a byte offset in that stream means the same byte
//! forever, across daemon restarts (the log and its offset file live on disk; tmux keeps the
//! pipe running while the daemon is away). The pipe starts right after `new-session` (it
//! survives `restart`, or is opened again after it), so output printed in the first
//! milliseconds of a launch, before the pipe exists, is only on the screen. See `output_log` for the bounded log and its
//! offsets; `probe_all` (the reaper's 5 s tick) and `read_output` keep the logs within their cap.
//!
//! Modules: `names` (session names, targets), `script` (the launch script), `command` (the
//! tmux client), `probe` (the batched listing), `procfs` (`/proc` reads), `reap` (destroy's
//! process reap), `send` (message chunks), `output_log` (the pipe-pane log).

mod command;
mod control;
mod names;
mod output_log;
mod probe;
mod procfs;
mod reap;
mod script;
mod send;

#[cfg(test)]
mod tests;

use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;

use crate::process::CommandRunner;
use ao::backoff::RepeatedFailure;
use ao::ports::{
    LastLines, OutputChunk, PaneInfo, PaneProbe, ProbeTarget, Runtime, RuntimeConfig, RuntimeError,
    Submit,
};
use ao_core::domain::RuntimeHandle;
use ao_core::input_line::{Composer, Screen, Typed, read_input, typed_state};

pub use ao_core::tmux::{AttachCommand, TmuxSocket, attach_command};
pub use command::{check_version, is_missing_output, tmux_conf_text, write_tmux_conf};
pub use names::{
    RUNTIME_NAME, pane_target, session_name, session_target, validate_handle, window_target,
};

use command::{Repeat, Tmux, command_error, escape_format};
use output_log::OutputLog;
use procfs::ProcFs;
use reap::{ProcessControl, SystemProcesses, parse_pane_pids, reap_sessions};
use script::launch_script;

/// How many times `create` reads the pane's working directory before giving up.
const CWD_SAMPLES: usize = 5;
/// The pause between two working-directory samples.
const CWD_INTERVAL: Duration = Duration::from_millis(50);
/// How often the input line is read while waiting for typed text to show.
const SHOWN_POLL: Duration = Duration::from_millis(2);
/// Bytes tmux's client can carry for one command beyond the exact packing, kept free in case
/// another tmux version packs a little differently.
const COMMAND_MARGIN: usize = 64;

/// Pane lines captured beyond what `exit_output` returns: the exit notice and the prompts of the
/// shell that keeps the pane open.
const EXIT_TAIL_MARGIN: usize = 20;

/// Configuration of a [`TmuxRuntime`]. [`TmuxOptions::new`] fills in the spec's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TmuxOptions {
    /// ao's own tmux server.
    pub socket: TmuxSocket,
    /// Passed as `-f` on every call (see [`write_tmux_conf`]).
    pub config_file: PathBuf,
    /// Where the per-session output logs live.
    pub output_dir: PathBuf,
    /// The `/proc` tree for the process probe and the reap.
    pub proc_root: PathBuf,
    /// Deadline of each tmux call (5 s).
    pub command_timeout: Duration,
    /// How long destroy's reap waits after TERM before KILL (5 s).
    pub reap_grace: Duration,
    /// Largest `send-keys -l` chunk (16 KiB; further capped by tmux's command size).
    pub chunk_bytes: usize,
    /// Size at which an output log is trimmed to its newest half (4 MiB).
    pub output_log_cap: u64,
    /// The file mode mask agents run with; `None` keeps the daemon's.
    pub pane_umask: Option<u32>,
    /// Type, press Enter and read screens through a persistent `tmux -C` client instead of a
    /// tmux process per call (off here; the daemon turns it on unless configured off).
    pub control_mode: bool,
}

impl TmuxOptions {
    pub fn new(socket: TmuxSocket, config_file: PathBuf, output_dir: PathBuf) -> Self {
        Self {
            socket,
            config_file,
            output_dir,
            proc_root: PathBuf::from("/proc"),
            command_timeout: Duration::from_secs(5),
            reap_grace: Duration::from_secs(5),
            chunk_bytes: send::CHUNK_BYTES,
            output_log_cap: output_log::LOG_CAP,
            pane_umask: None,
            control_mode: false,
        }
    }
}

/// The tmux implementation of [`Runtime`]. Cheap to clone (shared state behind an `Arc`), so
/// detached work (the rest of a message, cleanup of a cancelled create) can own a copy.
#[derive(Debug, Clone)]
pub struct TmuxRuntime {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    tmux: Tmux,
    options: TmuxOptions,
    proc: ProcFs,
    processes: Arc<dyn ProcessControl>,
    log: OutputLog,
    /// The server's socket file (for a label, where tmux puts it).
    socket_path: PathBuf,
    /// Throttles the log lines of a probe that keeps failing (one per reaper tick otherwise).
    probe_failures: Mutex<RepeatedFailure>,
}

impl TmuxRuntime {
    /// A runtime on the configured server, running tmux through `runner`.
    pub fn new(options: TmuxOptions, runner: Arc<dyn CommandRunner>) -> Result<Self, RuntimeError> {
        let processes = Arc::new(SystemProcesses::new(ProcFs::new(&options.proc_root)));
        Self::with_processes(options, runner, processes)
    }

    fn with_processes(
        options: TmuxOptions,
        runner: Arc<dyn CommandRunner>,
        processes: Arc<dyn ProcessControl>,
    ) -> Result<Self, RuntimeError> {
        if let TmuxSocket::Path(path) = &options.socket
            && path.to_str().is_none()
        {
            return Err(RuntimeError::InvalidConfig(format!(
                "tmux socket path {path:?} is not UTF-8"
            )));
        }
        if options.chunk_bytes < 4 {
            return Err(RuntimeError::InvalidConfig(
                "chunk size must be at least 4 bytes".to_owned(),
            ));
        }
        let log = OutputLog::new(options.output_dir.clone(), options.output_log_cap)?;
        let mut tmux = Tmux::new(
            runner,
            options.socket.clone(),
            options.config_file.clone(),
            options.command_timeout,
        );
        if options.control_mode {
            tmux = tmux.with_control();
        }
        let socket_path = options.socket.path(
            std::env::var_os("TMUX_TMPDIR").as_deref(),
            nix::unistd::getuid().as_raw(),
        );
        Ok(Self {
            inner: Arc::new(Inner {
                tmux,
                proc: ProcFs::new(&options.proc_root),
                options,
                processes,
                log,
                socket_path,
                probe_failures: Mutex::default(),
            }),
        })
    }

    /// The one `list-panes -a` listing of every pane; `None` when tmux says no server answers
    /// on the socket (with `-a` no other "missing" output can come).
    async fn listing(&self) -> Result<Option<Vec<PaneInfo>>, RuntimeError> {
        let listed = self
            .inner
            .tmux
            .run_unless_missing(["list-panes", "-a", "-F", probe::LIST_FORMAT])
            .await?;
        Ok(listed.map(|out| probe::parse_listing(&out.stdout_text())))
    }

    /// The facts when tmux says no server answers: every pane is gone with the server, unless
    /// some process still listens on the socket's path (then the server lives, unreachable
    /// through a deleted or replaced socket file, and the probe has failed).
    async fn probe_without_server(&self, targets: usize) -> Vec<PaneProbe> {
        let listening = self
            .run_blocking("reading /proc/net/unix", |inner| {
                let mut paths = vec![inner.socket_path.clone()];
                if let (Some(dir), Some(name)) =
                    (inner.socket_path.parent(), inner.socket_path.file_name())
                    && let Ok(dir) = dir.canonicalize()
                {
                    paths.push(dir.join(name));
                }
                inner
                    .proc
                    .unix_listener(&paths)
                    .map_err(|e| RuntimeError::Io(e.to_string()))
            })
            .await;
        match listening {
            Ok(true) => {
                let path = self.inner.socket_path.display();
                let e = format!(
                    "no tmux server answers on {path}, but a process still listens on that path: \
                     the socket file was deleted or replaced under a live server (send that tmux \
                     server SIGUSR1 to make it recreate its socket)"
                );
                self.probe_failed("the batched probe", &e);
                vec![probe::FAILED; targets]
            }
            Ok(false) => {
                self.probe_worked();
                vec![probe::SERVER_GONE; targets]
            }
            Err(e) => {
                tracing::debug!(error = %e, "no listener table: tmux's word that its server is gone stands");
                self.probe_worked();
                vec![probe::SERVER_GONE; targets]
            }
        }
    }

    fn probe_failures(&self) -> std::sync::MutexGuard<'_, RepeatedFailure> {
        self.inner
            .probe_failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Logs a failed probe through the throttle: the reaper probes every tick.
    fn probe_failed(&self, what: &str, error: &dyn std::fmt::Display) {
        if let Some(line) = self.probe_failures().failed() {
            tracing::warn!(error = %error, "{what} failed{line}");
        }
    }

    fn probe_worked(&self) {
        if let Some(n) = self.probe_failures().succeeded() {
            tracing::info!(failures = n, "the tmux probe works again");
        }
    }

    /// The path of a session's output log (for diagnostics and tests).
    pub fn output_log_path(&self, handle: &RuntimeHandle) -> Result<PathBuf, RuntimeError> {
        Ok(self.inner.log.log_path(validate_handle(handle)?))
    }

    /// The largest chunk one `send-keys -t <target> -l -- <chunk>` can carry: the configured
    /// size, capped so the whole command fits tmux's client message (tmux 3.3 rejects a
    /// 16 KiB argument with "command too long"). One byte is kept for a trailing `;`'s escape.
    fn chunk_limit(&self, target: &str) -> usize {
        let overhead = Tmux::packed_size(["send-keys", "-t", target, "-l", "--"]) + 1 + 1;
        let fits = Tmux::COMMAND_MAX.saturating_sub(overhead + COMMAND_MARGIN);
        self.inner.options.chunk_bytes.min(fits).max(4)
    }

    async fn run_blocking<T: Send + 'static>(
        &self,
        what: &'static str,
        job: impl FnOnce(&Inner) -> Result<T, RuntimeError> + Send + 'static,
    ) -> Result<T, RuntimeError> {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || job(&inner))
            .await
            .map_err(|e| RuntimeError::Io(format!("{what}: {e}")))?
    }

    /// `/bin/sh -c <launch script>` after checking the config; runs before any tmux call.
    fn launch_command(&self, config: &RuntimeConfig) -> Result<(String, String), RuntimeError> {
        if config.argv.is_empty() {
            return Err(RuntimeError::InvalidConfig(
                "argv must not be empty".to_owned(),
            ));
        }
        let workspace = config
            .workspace_path
            .to_str()
            .filter(|w| !w.is_empty())
            .ok_or_else(|| {
                RuntimeError::InvalidConfig(format!(
                    "workspace path {:?} must be non-empty UTF-8",
                    config.workspace_path
                ))
            })?;
        let daemon_path = std::env::var("PATH").ok();
        let name = session_name(config.session_id.as_str());
        let exit_file = self.inner.log.exit_path(&name);
        let script = launch_script(
            workspace,
            &config.argv,
            &config.env,
            daemon_path.as_deref(),
            self.inner.options.pane_umask,
            &exit_file.to_string_lossy(),
        )?;
        Ok((workspace.to_owned(), script))
    }

    /// Starts piping the pane's output into its log. `-o` opens a pipe only where none is
    /// open, but it also closes an open one (tmux toggles), so callers use it on a pane known
    /// to have no pipe.
    async fn open_pipe(&self, name: &str) -> Result<(), RuntimeError> {
        let command = self.inner.log.pipe_command(name);
        self.inner
            .tmux
            .run_ok(["pipe-pane", "-o", "-t", &pane_target(name), &command])
            .await
            .map(drop)
    }

    /// After `respawn-pane` the pane's pipe normally survives (tmux 3.3 keeps it), and then
    /// must not be touched; it is opened again only when tmux reports none.
    async fn ensure_pipe(&self, name: &str) -> Result<(), RuntimeError> {
        let out = self
            .inner
            .tmux
            .run_ok([
                "display-message",
                "-p",
                "-t",
                &pane_target(name),
                "#{pane_pipe}",
            ])
            .await?;
        if out.stdout_text().trim() == "1" {
            return Ok(());
        }
        self.open_pipe(name).await
    }

    /// `new-session` up to the program: detached, printing the pane id, 220x50, in `cwd`.
    fn new_session_args<'a>(name: &'a str, cwd: &'a str) -> Vec<&'a str> {
        vec![
            "new-session",
            "-d",
            "-P",
            "-F",
            "#{pane_id}",
            "-s",
            name,
            "-x",
            "220",
            "-y",
            "50",
            "-c",
            cwd,
        ]
    }

    /// The commands `create` runs in one tmux process: the session, its output pipe, the
    /// three window options, and the first sample of the pane's working directory.
    fn create_chain<'a>(
        new_session: &[&'a str],
        pane: &'a str,
        window: &'a str,
        pipe: &'a str,
    ) -> Vec<Vec<&'a str>> {
        vec![
            new_session.to_vec(),
            vec!["pipe-pane", "-o", "-t", pane, pipe],
            vec!["set-option", "-t", window, "status", "off"],
            vec!["set-option", "-t", window, "mouse", "on"],
            vec!["set-option", "-t", window, "window-size", "largest"],
            vec!["display-message", "-p", "-t", pane, "#{pane_current_path}"],
        ]
    }

    /// The pane's program: `/bin/sh -c <script>`, or, when that would make the tmux command too
    /// long (a long prompt in the agent's argv), `/bin/sh <file>` with the script in a 0600 file
    /// beside the output log (removed on destroy). `size_with` measures the whole command for a
    /// given program.
    fn pane_program(
        &self,
        name: &str,
        script: &str,
        size_with: impl Fn(&[&str]) -> usize,
    ) -> Result<Vec<String>, RuntimeError> {
        if size_with(&["/bin/sh", "-c", script]) + COMMAND_MARGIN <= Tmux::COMMAND_MAX {
            return Ok(vec!["/bin/sh".into(), "-c".into(), script.into()]);
        }
        let path = self.inner.log.script_path(name);
        let write = || -> std::io::Result<()> {
            use std::io::Write;
            use std::os::unix::fs::OpenOptionsExt;
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&path)?;
            file.write_all(script.as_bytes())?;
            file.sync_all()
        };
        write().map_err(|e| RuntimeError::Io(format!("{}: {e}", path.display())))?;
        Ok(vec!["/bin/sh".into(), path.to_string_lossy().into_owned()])
    }

    /// Everything `create` does after its first tmux process; any error makes `create` destroy
    /// the session.
    async fn finish_create(
        &self,
        name: &str,
        workspace: &str,
        first_cwd: Option<String>,
    ) -> Result<(), RuntimeError> {
        self.verify_cwd(name, workspace, first_cwd).await?;
        if self
            .inner
            .tmux
            .run_unless_missing(["has-session", "-t", &session_target(name)])
            .await?
            .is_none()
        {
            return Err(RuntimeError::ExitedBeforeReady(name.to_owned()));
        }
        Ok(())
    }

    /// Samples `#{pane_current_path}` until it is the workspace (symlinks resolved). A
    /// mismatch wins over a later failure to sample.
    /// `first` is a sample already taken (by `create`'s first tmux process).
    async fn verify_cwd(
        &self,
        name: &str,
        workspace: &str,
        first: Option<String>,
    ) -> Result<(), RuntimeError> {
        let want = resolve_dir(Path::new(workspace));
        let target = pane_target(name);
        let mut mismatch: Option<String> = None;
        let mut failure: Option<RuntimeError> = None;
        let mut taken = 0;
        if let Some(got) = first {
            if resolve_dir(Path::new(&got)) == want {
                return Ok(());
            }
            mismatch = Some(got);
            taken = 1;
        }
        for sample in taken..CWD_SAMPLES {
            if sample > 0 {
                tokio::time::sleep(CWD_INTERVAL).await;
            }
            let args = [
                "display-message",
                "-p",
                "-t",
                &target,
                "#{pane_current_path}",
            ];
            match self.inner.tmux.run_ok(args).await {
                Ok(out) => {
                    let text = out.stdout_text();
                    let got = text.trim_end_matches(['\n', '\r']);
                    if resolve_dir(Path::new(got)) == want {
                        return Ok(());
                    }
                    mismatch = Some(got.to_owned());
                }
                Err(e) => failure = Some(e),
            }
        }
        Err(match (mismatch, failure) {
            (Some(got), _) => RuntimeError::CwdMismatch {
                got,
                want: workspace.to_owned(),
            },
            (None, Some(e)) => e,
            (None, None) => RuntimeError::Io(format!("no working directory sample for {name}")),
        })
    }

    /// Destroy by session name: list pane pids, kill, reap, remove the output log.
    async fn destroy_name(&self, name: &str) -> Result<(), RuntimeError> {
        let tmux = &self.inner.tmux;
        let pids = match tmux
            .run_unless_missing([
                "list-panes",
                "-s",
                "-t",
                &window_target(name),
                "-F",
                "#{pane_pid}",
            ])
            .await
        {
            Ok(Some(out)) => parse_pane_pids(&out.stdout_text()),
            Ok(None) => vec![],
            Err(e) => {
                tracing::warn!(session = name, error = %e, "destroy: cannot list pane pids; no reap");
                vec![]
            }
        };
        let killed = tmux
            .run_unless_missing(["kill-session", "-t", &session_target(name)])
            .await
            .map(drop);
        reap_sessions(&self.inner.processes, &pids, self.inner.options.reap_grace).await;
        killed?;
        // Two unlinks: not worth a blocking-pool round trip.
        self.inner.log.remove(name).map_err(|e| {
            RuntimeError::Leftover(format!("its output files could not be removed: {e}"))
        })
    }

    /// Types the chunks after the first, waits for the text to show, and presses Enter.
    async fn finish_message(
        tmux: Tmux,
        name: String,
        text: String,
        rest: Vec<String>,
        submit: Submit,
    ) -> Result<(), RuntimeError> {
        let target = pane_target(&name);
        for chunk in &rest {
            type_keys(
                &tmux,
                &name,
                &["send-keys", "-t", &target, "-l", "--", chunk],
            )
            .await?;
        }
        if !submit.enter_delay.is_zero() {
            Self::wait_until_shown(&tmux, &name, &text, submit).await?;
        }
        type_keys(&tmux, &name, &["send-keys", "-t", &target, "Enter"]).await
    }

    /// Polls the input line until it shows `text` (then Enter may follow at once) or
    /// `submit.enter_delay` passed (Enter follows anyway: some agents draw input ao cannot read).
    /// `Interleaved` when the input line holds more than `text`: nothing may be submitted.
    async fn wait_until_shown(
        tmux: &Tmux,
        name: &str,
        text: &str,
        submit: Submit,
    ) -> Result<(), RuntimeError> {
        let deadline = tokio::time::Instant::now() + submit.enter_delay;
        loop {
            let typed = match Self::read_screen(tmux, name).await {
                Ok(screen) => typed_state(&read_input(submit.composer, &screen), text),
                Err(e) => {
                    tracing::debug!(session = name, error = %e, "screen unreadable; Enter after the delay");
                    Typed::NotShown
                }
            };
            match typed {
                Typed::Shown => return Ok(()),
                Typed::Interleaved => return Err(RuntimeError::Interleaved),
                Typed::NotShown if tokio::time::Instant::now() >= deadline => return Ok(()),
                Typed::NotShown => tokio::time::sleep(SHOWN_POLL).await,
            }
        }
    }

    /// The screen of the session's pane with attributes, its cursor and width, from one tmux
    /// call.
    async fn read_screen(tmux: &Tmux, name: &str) -> Result<Screen, RuntimeError> {
        let target = pane_target(name);
        let commands: [&[&str]; 2] = [
            &[
                "display-message",
                "-p",
                "-t",
                &target,
                "#{cursor_x},#{cursor_y},#{pane_width}",
            ],
            &["capture-pane", "-p", "-e", "-t", &target],
        ];
        let out = tmux.run_commands(name, &commands, Repeat::Safe).await?;
        if !out.success() {
            return Err(command_error(&tmux.chain_spec(&commands), &out));
        }
        let stdout = out.stdout_text();
        let (head, text) = stdout.split_once('\n').unwrap_or((&stdout, ""));
        let numbers: Vec<usize> = head
            .trim()
            .split(',')
            .filter_map(|n| n.parse().ok())
            .collect();
        let [cursor_x, cursor_y, width] = numbers[..] else {
            return Err(RuntimeError::Command {
                argv: tmux.chain_spec(&commands).display(),
                output: format!("unexpected cursor line {head:?}"),
            });
        };
        Ok(Screen {
            text: text.to_owned(),
            cursor_x,
            cursor_y,
            width,
        })
    }
}

/// Runs one `send-keys` into session `name`'s pane; a failure is an error with its output.
async fn type_keys(tmux: &Tmux, name: &str, args: &[&str]) -> Result<(), RuntimeError> {
    let out = tmux.run_commands(name, &[args], Repeat::Unsafe).await?;
    if out.success() {
        Ok(())
    } else {
        Err(command_error(&tmux.spec(args), &out))
    }
}

/// Cleans up a session whose `create` future was dropped between `new-session` and the end.
struct CreateGuard {
    runtime: TmuxRuntime,
    name: Option<String>,
}

impl CreateGuard {
    fn disarm(&mut self) {
        self.name = None;
    }
}

impl Drop for CreateGuard {
    fn drop(&mut self) {
        let Some(name) = self.name.take() else {
            return;
        };
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            tracing::warn!(session = %name, "create cancelled outside a runtime; session left");
            return;
        };
        let runtime = self.runtime.clone();
        handle.spawn(async move {
            if let Err(e) = runtime.destroy_name(&name).await {
                tracing::warn!(session = %name, error = %e, "cleanup of a cancelled create failed");
            }
        });
    }
}

fn is_pane_id(text: &str) -> bool {
    text.strip_prefix('%')
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// A directory for comparison: symlinks resolved when it exists, else cleaned lexically.
fn resolve_dir(path: &Path) -> PathBuf {
    if let Ok(real) = path.canonicalize() {
        return real;
    }
    let mut clean = PathBuf::new();
    for part in path.components() {
        match part {
            Component::ParentDir => {
                clean.pop();
            }
            Component::CurDir => {}
            other => clean.push(other),
        }
    }
    clean
}

/// The last `lines` lines of captured text, after dropping trailing blank lines.
fn last_lines(text: &str, lines: usize) -> String {
    let mut all: Vec<&str> = text.lines().collect();
    while all.last().is_some_and(|line| line.trim().is_empty()) {
        all.pop();
    }
    let keep = &all[all.len().saturating_sub(lines)..];
    let mut out = keep.join("\n");
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

#[async_trait]
impl Runtime for TmuxRuntime {
    fn name(&self) -> &'static str {
        RUNTIME_NAME
    }

    fn handle_for(&self, session: &ao_core::domain::SessionId) -> RuntimeHandle {
        RuntimeHandle {
            id: session_name(session.as_str()),
            runtime_name: RUNTIME_NAME.to_owned(),
            pane_id: None,
        }
    }

    async fn check_prerequisites(&self) -> Result<String, RuntimeError> {
        let tmux = &self.inner.tmux;
        let spec = tmux.version_spec();
        let out = tmux
            .run_spec(&spec)
            .await
            .map_err(|e| RuntimeError::Prerequisite(format!("tmux is not usable: {e}")))?;
        if !out.success() {
            return Err(RuntimeError::Prerequisite(
                command_error(&spec, &out).to_string(),
            ));
        }
        let version = out.stdout_text().trim().to_owned();
        check_version(&version)?;
        Ok(version)
    }

    async fn create(&self, config: &RuntimeConfig) -> Result<RuntimeHandle, RuntimeError> {
        let (workspace, script) = self.launch_command(config)?;
        let name = session_name(config.session_id.as_str());
        // One mkdir and one unlink: not worth a blocking-pool round trip.
        self.inner.log.prepare()?;
        self.inner.log.clear_exit(&name)?;
        let (pane, window) = (pane_target(&name), window_target(&name));
        let cwd = escape_format(&workspace);
        let pipe = self.inner.log.pipe_command(&name);
        let program = self.pane_program(&name, &script, |program| {
            let mut new_session = Self::new_session_args(&name, &cwd);
            new_session.extend(program);
            let chain = Self::create_chain(&new_session, &pane, &window, &pipe);
            let chain: Vec<&[&str]> = chain.iter().map(Vec::as_slice).collect();
            Tmux::chain_packed_size(&chain)
        })?;
        let mut new_session = Self::new_session_args(&name, &cwd);
        new_session.extend(program.iter().map(String::as_str));
        // Everything up to the first cwd sample in ONE tmux process (a spawn's cost is its
        // process count); tmux stops the chain at the first failing command.
        let chain = Self::create_chain(&new_session, &pane, &window, &pipe);
        let chain: Vec<&[&str]> = chain.iter().map(Vec::as_slice).collect();
        let spec = self.inner.tmux.chain_spec(&chain);
        let mut guard = CreateGuard {
            runtime: self.clone(),
            name: Some(name.clone()),
        };
        let out = match self.inner.tmux.run_spec(&spec).await {
            Ok(out) => out,
            Err(e) => {
                // Whether new-session ran is unknown: the guard cleans up.
                drop(guard);
                return Err(e);
            }
        };
        let printed = out.stdout_text();
        let mut lines = printed.lines();
        let pane_id = lines
            .next()
            .map(str::trim)
            .filter(|p| is_pane_id(p))
            .map(str::to_owned);
        let finished = match (&pane_id, out.success()) {
            (None, false) => {
                // new-session itself failed, so nothing was created here; a session that
                // already had this name is not ours to destroy.
                guard.disarm();
                return Err(command_error(&spec, &out));
            }
            (None, true) => Err(RuntimeError::Command {
                argv: spec.display(),
                output: format!("expected a pane id, got {printed:?}"),
            }),
            (Some(_), false) => Err(command_error(&spec, &out)),
            (Some(_), true) => {
                let first_cwd = lines.next().map(str::to_owned);
                self.finish_create(&name, &workspace, first_cwd).await
            }
        };
        if finished.is_err()
            && let Err(cleanup) = self.destroy_name(&name).await
        {
            tracing::warn!(session = %name, error = %cleanup, "cleanup after a failed create");
        }
        // Disarmed only now: a caller that gives up during the cleanup above still gets it.
        guard.disarm();
        finished?;
        Ok(RuntimeHandle {
            id: name,
            runtime_name: RUNTIME_NAME.to_owned(),
            pane_id,
        })
    }

    async fn destroy(&self, handle: &RuntimeHandle) -> Result<(), RuntimeError> {
        let name = validate_handle(handle)?;
        self.destroy_name(name).await
    }

    async fn submit_message(
        &self,
        handle: &RuntimeHandle,
        text: &str,
        submit: Submit,
    ) -> Result<(), RuntimeError> {
        let name = validate_handle(handle)?;
        if text.contains('\0') {
            // Rejected up front: a NUL cannot be passed as an argument, and failing on a later
            // chunk would leave half a message typed.
            return Err(RuntimeError::InvalidConfig(
                "a message must not contain NUL bytes".to_owned(),
            ));
        }
        let target = pane_target(name);
        let tmux = &self.inner.tmux;
        let chunks = send::split_chunks(text, self.chunk_limit(&target));
        let Some((first, rest)) = chunks.split_first() else {
            return type_keys(tmux, name, &["send-keys", "-t", &target, "Enter"]).await;
        };
        type_keys(tmux, name, &["send-keys", "-t", &target, "-l", "--", first]).await?;
        // The message is partly typed now: finish it on a task the caller cannot cancel, so no
        // half-typed draft is left in the agent's input.
        let options = &self.inner.options;
        let budget =
            send::detached_budget(chunks.len(), options.command_timeout, submit.enter_delay);
        let rest: Vec<String> = rest.iter().map(|c| (*c).to_owned()).collect();
        let finish =
            Self::finish_message(tmux.clone(), name.to_owned(), text.to_owned(), rest, submit);
        let task = tokio::spawn(async move {
            match tokio::time::timeout(budget, finish).await {
                Ok(result) => result,
                Err(_) => Err(RuntimeError::Timeout {
                    argv: format!("send-keys -t {target} (rest of the message and Enter)"),
                    seconds: budget.as_secs(),
                }),
            }
        });
        task.await
            .map_err(|e| RuntimeError::Io(format!("message task failed: {e}")))?
    }

    async fn type_text(&self, handle: &RuntimeHandle, text: &str) -> Result<(), RuntimeError> {
        let name = validate_handle(handle)?;
        if text.contains('\0') {
            return Err(RuntimeError::InvalidConfig(
                "typed text must not contain NUL bytes".to_owned(),
            ));
        }
        let target = pane_target(name);
        for chunk in send::split_chunks(text, self.chunk_limit(&target)) {
            type_keys(
                &self.inner.tmux,
                name,
                &["send-keys", "-t", &target, "-l", "--", chunk],
            )
            .await?;
        }
        Ok(())
    }

    async fn clear_input(
        &self,
        handle: &RuntimeHandle,
        composer: Composer,
    ) -> Result<(), RuntimeError> {
        let name = validate_handle(handle)?;
        // Claude Code's C-u clears one wrapped row only; two Escapes clear its whole input.
        let keys: &[&str] = match composer {
            Composer::Claude => &["Escape", "Escape"],
            Composer::Codex | Composer::Shell => &["C-e", "C-u"],
        };
        let target = pane_target(name);
        let mut args = vec!["send-keys", "-t", &target];
        args.extend_from_slice(keys);
        type_keys(&self.inner.tmux, name, &args).await
    }

    async fn screen(&self, handle: &RuntimeHandle) -> Result<Screen, RuntimeError> {
        let name = validate_handle(handle)?;
        Self::read_screen(&self.inner.tmux, name).await
    }

    async fn interrupt(&self, handle: &RuntimeHandle) -> Result<(), RuntimeError> {
        let name = validate_handle(handle)?;
        self.inner
            .tmux
            .run_ok(["send-keys", "-t", &pane_target(name), "C-c"])
            .await
            .map(drop)
    }

    async fn output(&self, handle: &RuntimeHandle, lines: usize) -> Result<String, RuntimeError> {
        let name = validate_handle(handle)?;
        if lines == 0 {
            return Err(RuntimeError::InvalidConfig(
                "output lines must be greater than 0".to_owned(),
            ));
        }
        let out = self
            .inner
            .tmux
            .run_ok([
                "capture-pane",
                "-t",
                &pane_target(name),
                "-p",
                "-S",
                &format!("-{lines}"),
            ])
            .await?;
        Ok(last_lines(&out.stdout_text(), lines))
    }

    async fn exit_output(
        &self,
        handle: &RuntimeHandle,
        lines: usize,
    ) -> Result<Vec<String>, RuntimeError> {
        // The notice and the shell's prompts below it take a few lines of their own.
        let captured = self.output(handle, lines + EXIT_TAIL_MARGIN).await?;
        Ok(script::output_before_exit(&captured, lines))
    }

    async fn last_lines(
        &self,
        handle: &RuntimeHandle,
        before: Option<u64>,
        lines: usize,
        max_bytes: usize,
    ) -> Result<LastLines, RuntimeError> {
        let name = validate_handle(handle)?.to_owned();
        self.run_blocking("read output log lines", move |inner| {
            inner.log.enforce_cap(&name)?;
            inner.log.last_lines(&name, before, lines, max_bytes)
        })
        .await
    }

    async fn read_output(
        &self,
        handle: &RuntimeHandle,
        cursor: u64,
        max_bytes: usize,
    ) -> Result<OutputChunk, RuntimeError> {
        let name = validate_handle(handle)?.to_owned();
        self.run_blocking("read output log", move |inner| {
            inner.log.enforce_cap(&name)?;
            inner.log.read(&name, cursor, max_bytes)
        })
        .await
    }

    async fn is_alive(&self, handle: &RuntimeHandle) -> Result<bool, RuntimeError> {
        let name = validate_handle(handle)?;
        Ok(self
            .inner
            .tmux
            .run_unless_missing(["has-session", "-t", &session_target(name)])
            .await?
            .is_some())
    }

    async fn restart(
        &self,
        handle: &RuntimeHandle,
        config: &RuntimeConfig,
    ) -> Result<(), RuntimeError> {
        let name = validate_handle(handle)?;
        let (_, script) = self.launch_command(config)?;
        self.inner.log.clear_exit(name)?;
        let target = pane_target(name);
        let program = self.pane_program(name, &script, |program| {
            let mut args = vec!["respawn-pane", "-k", "-t", &target];
            args.extend(program);
            Tmux::packed_size(args)
        })?;
        let mut args = vec!["respawn-pane", "-k", "-t", &target];
        args.extend(program.iter().map(String::as_str));
        self.inner.tmux.run_ok(args).await?;
        self.ensure_pipe(name).await
    }

    async fn list_panes(&self) -> Result<Vec<PaneInfo>, RuntimeError> {
        Ok(self.listing().await?.unwrap_or_default())
    }

    async fn probe_all(&self, targets: &[ProbeTarget]) -> Vec<PaneProbe> {
        let facts = self.probe_panes(targets).await;
        self.with_agent_exits(targets, facts).await
    }
}

impl TmuxRuntime {
    /// `probe_all` before the exit files are read.
    async fn probe_panes(&self, targets: &[ProbeTarget]) -> Vec<PaneProbe> {
        let rows = match self.listing().await {
            Ok(Some(rows)) => rows,
            Ok(None) => return self.probe_without_server(targets.len()).await,
            Err(e) => {
                self.probe_failed("the batched probe", &e);
                return vec![probe::FAILED; targets.len()];
            }
        };
        let owned = targets.to_vec();
        let facts = self
            .run_blocking("process probe", move |inner| {
                for target in owned.iter().filter(|t| names::is_valid_name(&t.handle_id)) {
                    if let Err(e) = inner.log.enforce_cap(&target.handle_id) {
                        tracing::warn!(session = %target.handle_id, error = %e, "output log trim failed");
                    }
                }
                let mut prober = inner.proc.prober();
                Ok(probe::combine(&owned, &rows, |pid| prober.probe(pid)))
            })
            .await;
        match facts {
            Ok(facts) => {
                self.probe_worked();
                facts
            }
            Err(e) => {
                self.probe_failed("the process probe", &e);
                vec![probe::FAILED; targets.len()]
            }
        }
    }

    /// Adds the recorded exit of every target that has one. The process probe cannot tell:
    /// the shell that keeps the pane open may have children of its own (a job its rc file
    /// started), and an agent's background child may outlive it. One directory listing finds
    /// the few exit files, so a steady fleet costs no per-session reads.
    async fn with_agent_exits(
        &self,
        targets: &[ProbeTarget],
        mut facts: Vec<PaneProbe>,
    ) -> Vec<PaneProbe> {
        let names: Vec<String> = targets.iter().map(|t| t.handle_id.clone()).collect();
        let read = self
            .run_blocking("reading exit files", move |inner| {
                let exited = inner.log.exited_names()?;
                Ok(names
                    .iter()
                    .enumerate()
                    .filter(|(_, name)| exited.contains(name.as_str()))
                    .map(|(i, name)| (i, inner.log.read_exit(name)))
                    .collect::<Vec<_>>())
            })
            .await;
        match read {
            Ok(exits) => {
                for (i, exit) in exits {
                    facts[i].agent_exit = exit;
                }
            }
            Err(e) => tracing::warn!(error = %e, "reading exit files"),
        }
        facts
    }
}
