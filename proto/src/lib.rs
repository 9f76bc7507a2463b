//! `ao-proto`: the contract between `aoctl` and `aod`.
//!
//! The tarpc service [`Ao`] and its wire types. Wire types are deliberately separate from the
//! core library's domain types (the daemon converts at the edge), so the domain can change
//! without breaking older clients: fields are snake_case, enums travel as their spec spellings
//! (plain strings), and new optional fields may be added. Both sides speak the framing of
//! [`transport`] (length-delimited JSON with bounded frames), and [`connect`] is the only way
//! `aoctl` reaches the daemon: it sends nothing to a socket [`trust`] does not vouch for.

pub mod paths;
pub mod transport;
pub mod trust;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::net::UnixStream;

pub use transport::{
    FrameBudget, Limits, MAX_REPLY_FRAME_BYTES, MAX_REQUEST_FRAME_BYTES, Transport,
};
pub use trust::{Untrusted, VerifyError, socket_dir, verify_peer, verify_socket_dir};

pub use ao_core::domain::limits::{MAX_MESSAGE_BYTES, MAX_TAIL_BYTES, MAX_WAIT};
/// The `why` report is built once, in `ao_core::why`, as the object every transport serves
/// as-is: its fields are already wire-shaped (strings, times, the causes as recorded).
pub use ao_core::why::{
    AxisChange, AxisEvidence, CauseView, MetadataEvidence, Transition, WHY_DEFAULT_TRANSITIONS,
    WHY_MAX_TRANSITIONS, Why,
};

/// The protocol version; bumped on incompatible changes (2: `AttachReply` names the tmux
/// session instead of carrying a command line).
pub const PROTOCOL_VERSION: u32 = 3;

/// A stable, serializable error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct WireError {
    pub code: ErrorCode,
    /// A short machine-readable kind, e.g. `BranchInvalid`, `Dirty`.
    pub kind: String,
    /// One clear line for a human.
    pub message: String,
}

impl WireError {
    pub fn new(code: ErrorCode, kind: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code,
            kind: kind.into(),
            message: message.into(),
        }
    }
}

/// Error classes; `aoctl` maps them to exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The named session or project does not exist (exit 4).
    NotFound,
    /// The request itself is invalid: ids, branch names, options (exit 2).
    InvalidArgument,
    /// The operation was refused or failed (exit 1).
    Failed,
    /// The daemon could not do it right now (shutting down, prerequisites missing) (exit 1).
    Unavailable,
}

/// A pull request as shown next to a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrView {
    pub number: Option<u64>,
    pub url: Option<String>,
    pub state: String,
    pub reason: String,
}

/// CI, review and mergeability of a session's PR, from the latest SCM snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScmView {
    pub ci: String,
    pub failed_checks: Vec<String>,
    pub review: String,
    pub mergeable: bool,
    pub blockers: Vec<String>,
    pub pending_comments: usize,
    pub observed_at: String,
}

/// A session as every `aoctl` command prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    pub id: String,
    pub project: String,
    pub agent: String,
    /// The derived display status.
    pub status: String,
    /// The agent's last reported activity (`active`, `idle`, `waiting_input`, …).
    pub activity: Option<String>,
    pub branch: Option<String>,
    pub workspace_path: Option<String>,
    /// The tmux session name.
    pub runtime_handle: Option<String>,
    pub pr: Option<PrView>,
    pub created_at: String,
    pub last_activity_at: Option<String>,
    pub issue: Option<String>,
    pub kind: String,
    pub session_state: String,
    pub session_reason: String,
    pub runtime_state: String,
    pub revision: u64,
    /// Why the session ended, when it did.
    pub termination_detail: Option<String>,
    /// The agent's exit status, once its launch script recorded that it exited.
    pub exit_code: Option<i32>,
    /// When the agent exited.
    pub exited_at: Option<String>,
    /// The last lines the agent printed before it exited; only `get` fills it.
    #[serde(default)]
    pub exit_output: Vec<String>,
    pub scm: Option<ScmView>,
    /// The error that ended the agent's latest turn (an API error: rate limit, server error, …),
    /// until a turn starts again.
    #[serde(default)]
    pub last_turn_error: Option<TurnErrorView>,
    /// The session whose agent spawned this one.
    #[serde(default)]
    pub parent: Option<String>,
    /// When the session ended (RFC 3339); null while it runs, and for sessions that ended
    /// before ao recorded it.
    #[serde(default)]
    pub ended_at: Option<String>,
}

/// The error that ended an agent's turn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TurnErrorView {
    /// `rate_limit`, `authentication_failed`, `billing_error`, `server_error`, … or `unknown`.
    pub kind: String,
    /// What the agent printed about it (e.g. `API Error: Request rejected (429)`).
    pub message: String,
}

/// `aoctl spawn`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpawnRequest {
    pub project: String,
    pub agent: Option<String>,
    /// argv of the generic `command` agent.
    pub command: Option<Vec<String>>,
    pub branch: Option<String>,
    pub issue: Option<String>,
    pub prompt: Option<String>,
    pub model: Option<String>,
    pub permission_mode: Option<String>,
    /// Client-chosen idempotency key: a retried spawn returns the same session.
    pub request_id: Option<String>,
    /// The session spawning this one: `aoctl` run inside a session sends its `AO_SESSION_ID`.
    #[serde(default)]
    pub parent: Option<String>,
    /// Variables for the agent (`--env`, `--env-file`), over the project's.
    #[serde(default)]
    pub env: std::collections::BTreeMap<String, String>,
    /// The spawner's `PATH`: the agent's program is looked up there and the agent gets it.
    #[serde(default)]
    pub path: Option<String>,
}

/// Where a spawn in flight is (`aoctl spawn` shows it while it waits).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpawnProgressView {
    /// The new session's id, once its record exists.
    pub session: Option<String>,
    /// What the spawn is doing, in plain words (`post-create 1/2: npm ci`).
    pub step: String,
    /// A cancel was asked for; the spawn is rolling back.
    pub cancelling: bool,
}

/// `aoctl kill`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KillRequest {
    pub id: String,
    pub preserve: bool,
}

/// What a kill did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KillReply {
    pub id: String,
    /// The worktree left its path (into the trash), or was already gone.
    pub workspace_freed: bool,
    pub preserved_ref: Option<String>,
    /// Why the worktree was kept (`Dirty`, `Locked`, …) and a human explanation.
    pub workspace_error: Option<WireError>,
    pub workspace_path: Option<String>,
    /// The trash entry now holding the worktree.
    #[serde(default)]
    pub trash_id: Option<String>,
    #[serde(default)]
    pub trash_path: Option<String>,
    /// The ref pinning a detached HEAD that no branch or tag contained.
    #[serde(default)]
    pub detached_ref: Option<String>,
    /// Nested repositories the preserved ref cannot hold (their files are in the trash).
    #[serde(default)]
    pub nested_repos: Vec<String>,
    /// What the runtime left behind although it is gone.
    #[serde(default)]
    pub leftovers: Vec<String>,
    /// The status the session had already ended in before this kill, when it had.
    #[serde(default)]
    pub already_ended: Option<String>,
}

/// Where one cleaned-up session's worktree went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetiredView {
    pub id: String,
    pub trash_id: Option<String>,
    pub trash_path: Option<String>,
    pub detached_ref: Option<String>,
    pub preserved_ref: Option<String>,
    pub nested_repos: Vec<String>,
}

/// One worktree in the trash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrashEntryView {
    /// The id `aoctl trash restore` takes.
    pub id: String,
    pub path: String,
    /// `trashed`, `interrupted` (a move the next daemon start finishes) or `unknown` (no manifest).
    pub state: String,
    pub session: Option<String>,
    pub project: Option<String>,
    pub repo: Option<String>,
    pub branch: Option<String>,
    /// Where a restore puts it back.
    pub original_path: Option<String>,
    pub trashed_at: String,
    pub detached_ref: Option<String>,
    pub preserved_ref: Option<String>,
    pub nested_repos: Vec<String>,
}

/// `aoctl trash empty`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrashEmptyRequest {
    /// Only entries trashed longer ago than this; every entry when `None`.
    pub older_than_ms: Option<u64>,
}

/// What emptying the trash did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrashEmptyReply {
    pub removed: Vec<TrashEntryView>,
    /// Entries left in the trash, and why.
    pub failed: Vec<Skipped>,
}

/// `aoctl send`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendRequest {
    pub id: String,
    pub message: String,
    /// Wait for delivery up to this long; `None` returns once queued.
    pub wait_ms: Option<u64>,
    /// Clear a draft in the agent's input line at once (and type it back after the message)
    /// instead of waiting for it.
    #[serde(default)]
    pub force: bool,
}

/// Where a message got to: `queued`, `injected` or `acknowledged`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendReply {
    pub id: String,
    pub message_id: i64,
    pub state: String,
    /// A draft in the input line: `waiting` (queued behind it), `set_aside` (cleared, to be
    /// typed back after the message), `restored` (cleared, the message sent, the draft typed
    /// back) or `not_restored` (cleared; see `draft_text`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub draft: Option<String>,
    /// The text of a draft that was cleared and could not be typed back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub draft_text: Option<String>,
}

/// `aoctl tail`: the output log after `cursor`; without a cursor, a page of the log's last
/// `lines` lines before `before` (its end when absent). A page holds at most
/// [`MAX_TAIL_BYTES`] of the log: for more lines, ask again with `before` set to the page's
/// `start` (and the lines still wanted) until enough came or `start` reaches `oldest`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TailRequest {
    pub id: String,
    pub cursor: Option<u64>,
    pub lines: Option<u32>,
    /// Where a page of last lines ends (an earlier page's `start`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<u64>,
    /// Long-poll: wait up to this long for output past the cursor.
    pub wait_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TailReply {
    pub text: String,
    /// Offset of the first returned byte (larger than the cursor when older output was
    /// trimmed; where the first line begins in a page of last lines).
    pub start: u64,
    /// The cursor for the next call (for a page of last lines: where it ends, so following
    /// from it neither repeats nor skips a byte).
    pub next: u64,
    /// False once the session is terminal and its output is exhausted.
    pub live: bool,
    /// A page of last lines: how many lines its text holds (a line cut off at `start`, when
    /// one line is longer than a page, is not one).
    #[serde(default)]
    pub lines: u32,
    /// A page of last lines: the offset of the oldest byte the log still holds (older output
    /// was trimmed). Absent from a followed chunk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oldest: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListRequest {
    pub project: Option<String>,
    /// Include terminal sessions.
    pub all: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CleanupRequest {
    pub project: Option<String>,
    pub preserve: bool,
    pub dry_run: bool,
    /// Also forget ended sessions whose worktree is gone.
    #[serde(default)]
    pub forget_ended: bool,
    /// With `forget_ended`: only sessions whose last change is at least this old.
    #[serde(default)]
    pub older_than_ms: Option<u64>,
    /// Also delete `ao/*` branches whose every commit is on the base branch.
    #[serde(default)]
    pub branches: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForgetRequest {
    pub ids: Vec<String>,
    pub dry_run: bool,
}

/// Sessions forgotten (or, in a dry run, forgettable) and those left, with why.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForgetReply {
    pub forgotten: Vec<String>,
    pub skipped: Vec<Skipped>,
    pub dry_run: bool,
}

/// One project's `ao/*` branches after `cleanup --branches`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BranchesView {
    pub project: String,
    /// The branch they were compared with.
    pub base: Option<String>,
    /// Deleted (in a dry run: deletable).
    pub deleted: Vec<String>,
    /// Kept, with why.
    pub kept: Vec<Skipped>,
    /// Why the project's branches could not be looked at.
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    pub id: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CleanupReply {
    pub cleaned: Vec<String>,
    pub preserved: Vec<(String, String)>,
    pub skipped: Vec<Skipped>,
    pub dry_run: bool,
    /// Where each cleaned session's worktree went (empty in a dry run).
    #[serde(default)]
    pub retired: Vec<RetiredView>,
    /// With `forget_ended`.
    #[serde(default)]
    pub forgotten: Option<ForgetReply>,
    /// With `branches`.
    #[serde(default)]
    pub branches: Option<Vec<BranchesView>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventsRequest {
    pub after: i64,
    pub limit: u32,
    pub session: Option<String>,
    pub wait_ms: u64,
}

/// One change-log row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventView {
    pub seq: i64,
    pub session_id: String,
    pub project_id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub payload: serde_json::Value,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventsReply {
    pub events: Vec<EventView>,
    pub next: i64,
    pub truncated: bool,
}

/// `aoctl wait`: block until the sessions reach one of the statuses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitRequest {
    pub ids: Vec<String>,
    pub statuses: Vec<String>,
    /// Return when any (instead of every) session matches.
    pub any: bool,
    pub wait_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitReply {
    /// True when the condition held at return.
    pub reached: bool,
    /// True when it never can: a session the wait needs ended in another status.
    #[serde(default)]
    pub unreachable: bool,
    pub sessions: Vec<SessionView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectAddRequest {
    pub name: String,
    pub repo_path: String,
    pub base_branch: Option<String>,
    pub default_agent: Option<String>,
    pub symlinks: Vec<String>,
    pub copies: Vec<String>,
    pub post_create: Vec<Vec<String>>,
    pub env: Vec<(String, String)>,
    /// gitignore patterns for every new worktree's exclude file.
    #[serde(default)]
    pub exclude: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectView {
    pub id: String,
    pub repo_path: String,
    pub base_branch: Option<String>,
    pub default_agent: Option<String>,
    pub symlinks: Vec<String>,
    pub copies: Vec<String>,
    pub post_create: Vec<Vec<String>>,
    #[serde(default)]
    pub exclude: Vec<String>,
    pub created_at: String,
}

/// A hook callback (`aoctl hook <agent> <event>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookRequest {
    pub session_id: String,
    pub agent: String,
    pub event: String,
    /// The activity the event means (`active`, `blocked`, …).
    pub state: Option<String>,
    pub tool_name: Option<String>,
    pub tool_use_id: Option<String>,
    pub agent_session_id: Option<String>,
    pub launch_id: Option<String>,
    /// SHA-256 hex of a submitted prompt (trimmed).
    pub prompt_hash: Option<String>,
    /// The error that ended the turn (`stop-failure`): its kind (`rate_limit`, …) and the
    /// agent's message about it.
    #[serde(default)]
    pub turn_error: Option<TurnErrorView>,
}

/// Which tmux session to attach to. `aoctl` builds the `tmux attach` command itself, from its
/// own tmux socket setting and this name once validated; nothing in the reply is executed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachReply {
    /// The tmux session name.
    pub runtime_name: String,
    /// The daemon's tmux socket setting (a label, or a path when it contains `/`).
    pub tmux_socket: String,
}

/// `aoctl why`: the evidence behind a session's status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhyRequest {
    pub id: String,
    /// Transitions to show (the daemon's default when `None`; at most
    /// [`WHY_MAX_TRANSITIONS`]).
    pub limit: Option<u32>,
}

/// `ping`: who answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pong {
    pub version: String,
    pub protocol: u32,
    pub pid: u32,
    pub data_dir: String,
    pub socket: String,
    pub started_at: String,
    /// The configuration file the daemon read at start (or the default path it looked at and
    /// did not find); absent from daemons older than this field.
    #[serde(default)]
    pub config_file: Option<String>,
    /// The agent harnesses `spawn --agent` accepts (built-in and configured), by name; empty
    /// from daemons older than this field.
    #[serde(default)]
    pub agents: Vec<String>,
}

/// One line of `aoctl doctor`: `ok` false fails `doctor`; `warning` (with `ok` true) is
/// something to look at that does not (an optional agent CLI that is not installed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    /// Absent from daemons older than this field.
    #[serde(default)]
    pub warning: bool,
    pub detail: String,
}

/// The daemon's service.
#[tarpc::service]
pub trait Ao {
    async fn ping() -> Pong;
    async fn spawn(request: SpawnRequest) -> Result<SessionView, WireError>;
    /// Where the spawn with this request id is; `None` when none is running.
    async fn spawn_progress(request_id: String) -> Result<Option<SpawnProgressView>, WireError>;
    /// Cancels the spawn with this request id: it rolls back and its call fails with
    /// `SpawnCancelled`. False when none is running.
    async fn spawn_cancel(request_id: String) -> Result<bool, WireError>;
    async fn kill(request: KillRequest) -> Result<KillReply, WireError>;
    async fn send(request: SendRequest) -> Result<SendReply, WireError>;
    async fn tail(request: TailRequest) -> Result<TailReply, WireError>;
    async fn list(request: ListRequest) -> Result<Vec<SessionView>, WireError>;
    async fn get(id: String) -> Result<SessionView, WireError>;
    /// The evidence behind a session's status: axes, causes, last transitions.
    async fn why(request: WhyRequest) -> Result<Why, WireError>;
    async fn restore(id: String) -> Result<SessionView, WireError>;
    async fn cleanup(request: CleanupRequest) -> Result<CleanupReply, WireError>;
    /// Drops the records of ended sessions (their change-log history stays).
    async fn forget(request: ForgetRequest) -> Result<ForgetReply, WireError>;
    async fn events(request: EventsRequest) -> Result<EventsReply, WireError>;
    async fn wait_for_status(request: WaitRequest) -> Result<WaitReply, WireError>;
    async fn project_add(request: ProjectAddRequest) -> Result<ProjectView, WireError>;
    async fn project_list() -> Result<Vec<ProjectView>, WireError>;
    async fn project_remove(name: String) -> Result<bool, WireError>;
    async fn ingest_hook(request: HookRequest) -> Result<(), WireError>;
    async fn attach(id: String) -> Result<AttachReply, WireError>;
    async fn doctor() -> Vec<Check>;
    async fn trash_list() -> Result<Vec<TrashEntryView>, WireError>;
    /// Restores a trash entry (an entry id, or a session id for its newest entry).
    async fn trash_restore(name: String) -> Result<TrashEntryView, WireError>;
    async fn trash_empty(request: TrashEmptyRequest) -> Result<TrashEmptyReply, WireError>;
    /// Graceful shutdown (`aoctl daemon stop`); sessions keep running.
    async fn shutdown() -> Result<(), WireError>;
}

/// Why [`connect`] did not produce a client.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// Nobody answers: no socket, no directory, refused, or too slow.
    #[error("connecting to {}: {source}", socket.display())]
    Unreachable {
        socket: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Something is there that is not provably this user's daemon.
    #[error(transparent)]
    Untrusted(#[from] Untrusted),
}

/// Connects to the daemon's socket within `timeout`, after checking that its directory is
/// private to this user, and before sending anything, that the peer runs as this user.
pub async fn connect(socket: &Path, timeout: Duration) -> Result<AoClient, ConnectError> {
    let unreachable = |source| ConnectError::Unreachable {
        socket: socket.to_path_buf(),
        source,
    };
    match verify_socket_dir(socket_dir(socket)) {
        Ok(()) => {}
        Err(VerifyError::Missing(e)) => return Err(unreachable(e)),
        Err(VerifyError::Untrusted(e)) => return Err(e.into()),
    }
    let stream = tokio::time::timeout(timeout, UnixStream::connect(socket))
        .await
        .map_err(|_| {
            unreachable(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("no answer within {timeout:?}"),
            ))
        })?
        .map_err(unreachable)?;
    verify_peer(&stream, socket)?;
    let transport = Transport::new(stream, Limits::client());
    Ok(AoClient::new(tarpc::client::Config::default(), transport).spawn())
}

/// A request context whose deadline is `timeout` from now.
pub fn context_with_timeout(timeout: Duration) -> tarpc::context::Context {
    let mut ctx = tarpc::context::current();
    ctx.deadline = std::time::Instant::now() + timeout;
    ctx
}
