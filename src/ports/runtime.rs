//! The runtime port: the terminal container an agent runs in (one tmux session on ao's own server).

use std::collections::BTreeMap;
use std::path::PathBuf;

use async_trait::async_trait;

use std::time::Duration;

use ao_core::input_line::{Composer, Screen};

use crate::domain::{AgentExit, ProbeResult, RuntimeHandle, SessionId};

/// Errors of the runtime port. Every command error carries the argv and the command's output.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuntimeError {
    /// tmux is missing or older than 3.2.
    #[error("runtime prerequisite not met: {0}")]
    Prerequisite(String),
    /// The rejected handle, already quoted (`crate::domain::quote`).
    #[error("invalid runtime handle {0}")]
    InvalidHandle(String),
    #[error("invalid env key {0:?}")]
    InvalidEnvKey(String),
    #[error("invalid runtime config: {0}")]
    InvalidConfig(String),
    /// The pane did not start in the workspace.
    #[error("pane started in {got:?}, want {want:?}")]
    CwdMismatch { got: String, want: String },
    #[error("session {0} exited before ready")]
    ExitedBeforeReady(String),
    #[error("`{argv}` timed out after {seconds}s")]
    Timeout { argv: String, seconds: u64 },
    #[error("`{argv}` failed: {output}")]
    Command { argv: String, output: String },
    #[error("cancelled")]
    Cancelled,
    /// The typed text was not submitted: the input line held more than it when Enter was due.
    #[error(
        "someone typed into the pane while ao typed the message, so it was not submitted; the \
         input line holds both texts: finish or clear it in the pane (`aoctl attach`), then send \
         again"
    )]
    Interleaved,
    /// Destroy: the runtime and its processes are gone, but this was left behind.
    #[error("the runtime is gone, but {0}")]
    Leftover(String),
    #[error("{0}")]
    Io(String),
}

/// What to run in a new runtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeConfig {
    pub session_id: SessionId,
    pub workspace_path: PathBuf,
    pub argv: Vec<String>,
    pub env: BTreeMap<String, String>,
}

/// One row of the batched pane listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaneInfo {
    pub session_name: String,
    pub pane_id: String,
    /// `None` when tmux printed something that is not a pid.
    pub pane_pid: Option<u32>,
    pub dead: bool,
    pub dead_status: Option<i32>,
}

/// A session to probe: its handle name and recorded agent pane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeTarget {
    pub handle_id: String,
    pub pane_id: Option<String>,
}

/// The two separate facts about one session: does the pane exist, and is the agent alive
/// under it. A failing probe yields `Failed`, never `Dead`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaneProbe {
    pub runtime: ProbeResult,
    pub process: ProbeResult,
    pub pane_exit_status: Option<i32>,
    /// The agent's exit as its launch script recorded it, whatever the process probe says.
    pub agent_exit: Option<AgentExit>,
    /// The runtime's whole server is gone, and every pane with it. Positive evidence, never
    /// the reading of a probe that failed.
    pub server_gone: bool,
}

/// Output read from a session's output log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputChunk {
    /// The bytes from `start` (lossily decoded UTF-8).
    pub text: String,
    /// Offset of the first returned byte; larger than the requested cursor when older output
    /// was trimmed away.
    pub start: u64,
    /// Cursor to pass next time.
    pub next: u64,
}

/// The last lines of a session's output log before an offset.
///
/// Lines end with `\n` (a CR before it is a control character the CLI drops, so CRLF ends one
/// line); the bytes after the log's last newline are a line when they print something once
/// terminal codes are stripped, as `tail` counts a last line without a newline. The oldest
/// byte the log holds starts a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastLines {
    /// The lines' bytes: from `start`, where the first of them begins (or where the byte
    /// budget ran out, inside one long line), to `next`, the offset asked for or the log's
    /// end.
    pub chunk: OutputChunk,
    /// How many lines the text holds; a line cut off at `start` is not one.
    pub lines: usize,
    /// The offset of the oldest byte the log still holds (older output was trimmed).
    pub oldest: u64,
}

/// How the Enter after a typed message is timed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Submit {
    /// How the agent draws its input line, to see the typed text there.
    pub composer: Composer,
    /// The longest wait for the typed text to show before Enter is pressed anyway; zero presses
    /// Enter right after the text.
    pub enter_delay: Duration,
}

/// A terminal container for agents.
#[async_trait]
pub trait Runtime: Send + Sync {
    /// `tmux` for the tmux runtime; recorded as the handle's runtime name.
    fn name(&self) -> &'static str;

    /// The handle `create` gives (or gave) the session, without looking at the runtime. Used
    /// to find the pane of a spawn interrupted before its handle was recorded.
    fn handle_for(&self, session: &SessionId) -> RuntimeHandle;

    /// Checks the runtime can work here (tmux 3.2+); returns its version text.
    async fn check_prerequisites(&self) -> Result<String, RuntimeError>;

    /// Starts the agent; any failure after creation destroys what was made.
    async fn create(&self, config: &RuntimeConfig) -> Result<RuntimeHandle, RuntimeError>;

    /// Idempotent; also reaps every process of the pane's process sessions. `Leftover` means
    /// the runtime is gone and only some of its files stayed.
    async fn destroy(&self, handle: &RuntimeHandle) -> Result<(), RuntimeError>;

    /// Types `text` literally, then Enter as soon as the text shows in the input line (at most
    /// `submit.enter_delay` later); empty text sends Enter only. Once the first chunk is accepted,
    /// the rest completes even if the caller is cancelled. `Interleaved` when the input line
    /// holds more than the text when Enter is due: nothing is submitted.
    async fn submit_message(
        &self,
        handle: &RuntimeHandle,
        text: &str,
        submit: Submit,
    ) -> Result<(), RuntimeError>;

    /// `submit_message` with Enter right after the text.
    async fn send_message(&self, handle: &RuntimeHandle, text: &str) -> Result<(), RuntimeError> {
        self.submit_message(handle, text, Submit::default()).await
    }

    /// Types `text` literally without Enter (a draft put back).
    async fn type_text(&self, handle: &RuntimeHandle, text: &str) -> Result<(), RuntimeError>;

    /// Empties the input line the way `composer` clears it (`C-e C-u`; `Escape Escape` for
    /// Claude Code).
    async fn clear_input(
        &self,
        handle: &RuntimeHandle,
        composer: Composer,
    ) -> Result<(), RuntimeError>;

    /// The visible screen with its attributes, the cursor and the width.
    async fn screen(&self, handle: &RuntimeHandle) -> Result<Screen, RuntimeError>;

    /// Sends Ctrl-C.
    async fn interrupt(&self, handle: &RuntimeHandle) -> Result<(), RuntimeError>;

    /// The last `lines` lines of the pane (trailing blank lines trimmed); `lines` must be > 0.
    async fn output(&self, handle: &RuntimeHandle, lines: usize) -> Result<String, RuntimeError>;

    /// The last `lines` lines the agent printed before it exited (above the notice its launch
    /// script prints then), oldest first; `lines` must be > 0.
    async fn exit_output(
        &self,
        handle: &RuntimeHandle,
        lines: usize,
    ) -> Result<Vec<String>, RuntimeError>;

    /// Where the last `lines` lines of the session's output log before `before` (`None`: the
    /// log's end) begin, and their bytes; at most `max_bytes` of them, so a caller wanting more
    /// asks again before the returned `start`. A missing log has no lines.
    async fn last_lines(
        &self,
        handle: &RuntimeHandle,
        before: Option<u64>,
        lines: usize,
        max_bytes: usize,
    ) -> Result<LastLines, RuntimeError>;

    /// Bytes of the session's output log after `cursor`, at most `max_bytes`. `u64::MAX` asks
    /// for the current end (no text), to follow from now on.
    async fn read_output(
        &self,
        handle: &RuntimeHandle,
        cursor: u64,
        max_bytes: usize,
    ) -> Result<OutputChunk, RuntimeError>;

    /// `Ok(false)` only when the runtime is known to be gone; other failures are errors.
    async fn is_alive(&self, handle: &RuntimeHandle) -> Result<bool, RuntimeError>;

    /// Restarts the agent in the same pane with a new launch.
    async fn restart(
        &self,
        handle: &RuntimeHandle,
        config: &RuntimeConfig,
    ) -> Result<(), RuntimeError>;

    /// Every pane on the server (one runtime call). A missing server is an empty listing.
    async fn list_panes(&self) -> Result<Vec<PaneInfo>, RuntimeError>;

    /// Facts for every target from ONE listing plus process reads; same order as `targets`.
    async fn probe_all(&self, targets: &[ProbeTarget]) -> Vec<PaneProbe>;
}
