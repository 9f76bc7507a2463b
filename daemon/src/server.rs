//! The Unix-socket server: the private data and socket directories, single-instance checks,
//! binding with owner-only permissions, peer uid checks, and one tarpc channel per connection,
//! within bounds no client can push the daemon past.
//!
//! - **Connections.** At most `max_connections` are open, fewer when the open-file limit is
//!   lower (`FD_RESERVE` descriptors stay free for the store, tmux and git). At the cap, the
//!   connection that has been idle longest is closed to make room; when every connection has a
//!   request in flight, the new one is closed at once.
//! - **Idle connections.** A connection with no request in flight for `idle_timeout` is closed.
//!   Long-polls (`events -f`, `tail -f`, `wait`) are requests in flight.
//! - **Clients that go away.** A client that hangs up takes its requests in flight with it: a
//!   long-poll ends at once instead of waiting out its timeout for nobody. Mutations run as
//!   detached tasks of the service and finish regardless.
//! - **Accept failures** (such as running out of file descriptors) are retried after a pause
//!   that doubles from 10 ms to 1 s; out of descriptors, the connection idle longest is closed
//!   first. The failure is logged once per minute with a count, not once per attempt.
//! - **Frames** are bounded in size, time and total memory by `ao_proto::transport`.
//!
//! Garbage bytes or an oversized frame only break that one connection; the accept loop never
//! stops for a bad client.

use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, PermissionsExt};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use ao_proto::trust::Owner;
use ao_proto::{Ao, FrameBudget, Limits, Transport, VerifyError};
use futures::StreamExt;
use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};
use tarpc::server::{BaseChannel, Channel};
use tokio::net::{UnixListener, UnixStream};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, info, warn};

use crate::rpc::Rpc;

/// Bytes of large request frames buffered at once across every connection.
pub const FRAME_BUDGET_BYTES: usize = 64 * 1024 * 1024;
/// File descriptors kept free of connections for the daemon's own work.
const FD_RESERVE: u64 = 64;
/// The fewest connections served, whatever the open-file limit.
const MIN_CONNECTIONS: usize = 8;
/// First pause after a failed `accept`; each further failure doubles it, up to `BACKOFF_MAX`.
const BACKOFF_MIN: Duration = Duration::from_millis(10);
const BACKOFF_MAX: Duration = Duration::from_secs(1);
/// A repeated failure is logged at most once per interval.
const REPEAT_LOG_INTERVAL: Duration = Duration::from_secs(60);

/// How much of the daemon its clients may hold.
#[derive(Debug, Clone)]
pub struct ServeLimits {
    pub max_connections: usize,
    pub idle_timeout: Duration,
    /// Bytes of large request frames buffered at once, across every connection.
    pub frame_budget: FrameBudget,
}

/// Creates the data directory (0700) when missing; an existing one must be ours, and is made
/// private when it is not. Returns whether it had to be tightened.
pub fn secure_data_dir(dir: &Path) -> Result<Option<u32>> {
    private_dir(dir)?;
    let meta = std::fs::metadata(dir).with_context(|| format!("checking {}", dir.display()))?;
    let me = ao_proto::paths::uid();
    if meta.uid() != me {
        bail!(
            "the data directory {} is owned by {}, not by you ({}); use a data directory of your own (AO_DATA_DIR)",
            dir.display(),
            Owner(meta.uid()),
            Owner(me)
        );
    }
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o077 == 0 {
        return Ok(None);
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .with_context(|| format!("making {} private (chmod 700)", dir.display()))?;
    Ok(Some(mode))
}

/// Creates `dir` (and missing parents) with mode 0700; an existing directory is left as it is.
pub fn private_dir(dir: &Path) -> Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("creating {}", dir.display()))
}

/// Makes sure the socket's directory exists and is private to us: created 0700 when missing;
/// an existing one that another user owns or can reach is refused, never changed.
pub fn secure_socket_dir(socket: &Path) -> Result<()> {
    let dir = ao_proto::socket_dir(socket);
    private_dir(dir)?;
    match ao_proto::verify_socket_dir(dir) {
        Ok(()) => Ok(()),
        Err(VerifyError::Untrusted(e)) => {
            Err(anyhow::Error::new(e).context(format!("refusing to serve on {}", socket.display())))
        }
        Err(VerifyError::Missing(e)) => {
            Err(e).with_context(|| format!("checking {}", dir.display()))
        }
    }
}

/// Another daemon holds the data directory or answers on the socket: `aod` exits with
/// [`AlreadyRunning::EXIT_CODE`], so whoever started it knows to look for that daemon.
#[derive(Debug)]
pub struct AlreadyRunning(String);

impl AlreadyRunning {
    pub const EXIT_CODE: u8 = 3;
}

impl std::fmt::Display for AlreadyRunning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "daemon already running ({})", self.0)
    }
}

impl std::error::Error for AlreadyRunning {}

/// Takes `<data dir>/aod.lock` without blocking; held for the daemon's lifetime.
pub fn lock_data_dir(path: &Path) -> Result<Flock<File>> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))?;
    Flock::lock(file, FlockArg::LockExclusiveNonblock).map_err(|(_, errno)| {
        if errno == nix::errno::Errno::EWOULDBLOCK {
            anyhow::Error::new(AlreadyRunning(format!(
                "data directory lock {} is held",
                path.display()
            )))
        } else {
            anyhow::anyhow!("locking {}: {errno}", path.display())
        }
    })
}

/// A live socket means another daemon; a stale socket file from a crash is removed.
pub async fn claim_socket_path(path: &Path) -> Result<()> {
    if UnixStream::connect(path).await.is_ok() {
        return Err(AlreadyRunning(format!("socket {} answers", path.display())).into());
    }
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => {
            std::fs::remove_file(path)
                .with_context(|| format!("removing stale socket {}", path.display()))?;
            debug!(socket = %path.display(), "removed a stale socket");
        }
        Ok(_) => bail!(
            "{} exists and is not a socket; refusing to replace it",
            path.display()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("checking {}", path.display())),
    }
    Ok(())
}

/// Binds the socket (0600) in its directory, which `secure_socket_dir` has checked.
pub fn bind(path: &Path) -> Result<UnixListener> {
    let listener = match UnixListener::bind(path) {
        Ok(listener) => listener,
        // Another daemon bound it since `claim_socket_path` looked (two starts at once).
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            return Err(AlreadyRunning(format!("socket {} is taken", path.display())).into());
        }
        Err(e) => return Err(e).with_context(|| format!("binding {}", path.display())),
    };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("securing {}", path.display()))?;
    Ok(listener)
}

/// The connection cap: the configured one, lowered so connections cannot take the descriptors
/// the daemon needs for itself.
pub fn connection_cap(configured: usize) -> usize {
    let Ok((soft, _)) = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
    else {
        return configured;
    };
    let room = usize::try_from(soft.saturating_sub(FD_RESERVE)).unwrap_or(usize::MAX);
    let cap = configured.min(room.max(MIN_CONNECTIONS));
    if cap < configured {
        info!(
            configured,
            cap,
            open_file_limit = soft,
            "serving fewer connections than configured: the open-file limit is low"
        );
    }
    cap
}

/// Accepts connections until `cancel`; each same-uid peer gets a tarpc channel, run as a task
/// of `connections` so shutdown can let replies in flight reach their clients.
pub async fn serve(
    listener: UnixListener,
    rpc: Rpc,
    cancel: CancellationToken,
    connections: &TaskTracker,
    limits: ServeLimits,
) {
    let uid = ao_proto::paths::uid();
    let open = Registry::default();
    let mut backoff = Backoff::default();
    let mut accept_failures = Repeated::default();
    let mut refusals = Repeated::default();
    loop {
        let accepted = tokio::select! {
            _ = cancel.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _)) => {
                backoff = Backoff::default();
                stream
            }
            Err(e) => {
                let errno = e.raw_os_error().map(Errno::from_raw);
                if matches!(errno, Some(Errno::EMFILE | Errno::ENFILE)) {
                    open.close_idlest();
                }
                if let Some(unreported) = accept_failures.due() {
                    warn!(error = %e, unreported, "accepting a connection failed; retrying after a growing pause (reported once a minute)");
                }
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tokio::time::sleep(backoff.next()) => continue,
                }
            }
        };
        match stream.peer_cred() {
            Ok(cred) if cred.uid() == uid => {}
            Ok(cred) => {
                warn!(
                    peer_uid = cred.uid(),
                    "refused a connection from another user"
                );
                continue;
            }
            Err(e) => {
                warn!(error = %e, "refused a connection whose peer could not be identified");
                continue;
            }
        }
        if open.len() >= limits.max_connections && !open.close_idlest() {
            if let Some(unreported) = refusals.due() {
                warn!(
                    max_connections = limits.max_connections,
                    unreported,
                    "connection limit reached and every connection has a request in flight; closed a new connection (reported once a minute)"
                );
            }
            continue;
        }
        let conn = open.register();
        connections.spawn(run_connection(stream, rpc.clone(), conn, limits.clone()));
    }
}

/// One connection: its requests run as tasks until the client hangs up, breaks the protocol, is
/// idle for too long or is closed to make room.
async fn run_connection(stream: UnixStream, rpc: Rpc, conn: Conn, limits: ServeLimits) {
    let transport = Transport::new(stream, Limits::server(limits.frame_budget));
    let hung_up = transport.hung_up();
    let mut requests = BaseChannel::with_defaults(transport).requests();
    loop {
        let recheck = conn.idle_deadline(limits.idle_timeout);
        tokio::select! {
            next = requests.next() => match next {
                Some(Ok(request)) => {
                    let activity = conn.start_request();
                    let serve = rpc.clone().serve();
                    tokio::spawn(async move {
                        request.execute(serve).await;
                        activity.finish();
                    });
                }
                Some(Err(e)) => {
                    debug!(error = %e, "closing a connection that broke the protocol");
                    return;
                }
                None => return,
            },
            () = hung_up.cancelled() => {
                let in_flight = requests.channel().in_flight_requests();
                if in_flight > 0 {
                    debug!(in_flight, "client hung up; dropping its requests in flight");
                }
                return;
            }
            () = conn.closed.cancelled() => {
                debug!("closed an idle connection to make room for a new one");
                return;
            }
            () = tokio::time::sleep_until(recheck) => {
                if conn.idle_deadline(limits.idle_timeout) <= Instant::now() {
                    debug!(idle_timeout = ?limits.idle_timeout, "closed an idle connection");
                    return;
                }
            }
        }
    }
}

/// The open connections and what each is doing.
#[derive(Clone, Default)]
struct Registry(Arc<Mutex<Connections>>);

#[derive(Default)]
struct Connections {
    next_id: u64,
    open: HashMap<u64, Activity>,
}

struct Activity {
    in_flight: usize,
    /// When the last request finished (or the connection opened).
    idle_since: Instant,
    closed: CancellationToken,
}

impl Registry {
    fn lock(&self) -> std::sync::MutexGuard<'_, Connections> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn len(&self) -> usize {
        self.lock().open.len()
    }

    fn register(&self) -> Conn {
        let mut connections = self.lock();
        let id = connections.next_id;
        connections.next_id += 1;
        let closed = CancellationToken::new();
        connections.open.insert(
            id,
            Activity {
                in_flight: 0,
                idle_since: Instant::now(),
                closed: closed.clone(),
            },
        );
        Conn {
            registry: self.clone(),
            id,
            closed,
        }
    }

    /// Closes the connection that has been idle longest; false when none is idle.
    fn close_idlest(&self) -> bool {
        let mut connections = self.lock();
        let idlest = connections
            .open
            .iter()
            .filter(|(_, a)| a.in_flight == 0)
            .min_by_key(|(_, a)| a.idle_since)
            .map(|(id, _)| *id);
        match idlest.and_then(|id| connections.open.remove(&id)) {
            Some(activity) => {
                activity.closed.cancel();
                true
            }
            None => false,
        }
    }

    fn update(&self, id: u64, change: impl FnOnce(&mut Activity)) {
        if let Some(activity) = self.lock().open.get_mut(&id) {
            change(activity);
        }
    }
}

/// A registered connection; dropping it unregisters it.
struct Conn {
    registry: Registry,
    id: u64,
    closed: CancellationToken,
}

impl Conn {
    fn start_request(&self) -> RequestActivity {
        self.registry.update(self.id, |a| a.in_flight += 1);
        RequestActivity {
            registry: self.registry.clone(),
            id: self.id,
        }
    }

    /// When the connection will have been idle for `timeout`; a busy connection is looked at
    /// again a whole `timeout` from now.
    fn idle_deadline(&self, timeout: Duration) -> Instant {
        let connections = self.registry.lock();
        match connections.open.get(&self.id) {
            Some(a) if a.in_flight == 0 => a.idle_since + timeout,
            _ => Instant::now() + timeout,
        }
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.registry.lock().open.remove(&self.id);
    }
}

/// Marks the end of one request of a connection.
struct RequestActivity {
    registry: Registry,
    id: u64,
}

impl RequestActivity {
    fn finish(self) {
        self.registry.update(self.id, |a| {
            a.in_flight = a.in_flight.saturating_sub(1);
            a.idle_since = Instant::now();
        });
    }
}

/// The pause before retrying a failed `accept`: doubles from `BACKOFF_MIN` to `BACKOFF_MAX`.
struct Backoff(Duration);

impl Default for Backoff {
    fn default() -> Self {
        Self(BACKOFF_MIN)
    }
}

impl Backoff {
    fn next(&mut self) -> Duration {
        let pause = self.0;
        self.0 = (pause * 2).min(BACKOFF_MAX);
        pause
    }
}

/// A failure that may repeat many times a second: reported once per `REPEAT_LOG_INTERVAL`.
#[derive(Default)]
struct Repeated {
    last_report: Option<Instant>,
    since_report: u64,
}

impl Repeated {
    /// Counts one occurrence; returns how many went unreported before it when it is time to
    /// report this one.
    fn due(&mut self) -> Option<u64> {
        let now = Instant::now();
        match self.last_report {
            Some(at) if now.duration_since(at) < REPEAT_LOG_INTERVAL => {
                self.since_report += 1;
                None
            }
            _ => {
                self.last_report = Some(now);
                Some(std::mem::take(&mut self.since_report))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let mut backoff = Backoff::default();
        let pauses: Vec<u128> = (0..10).map(|_| backoff.next().as_millis()).collect();
        assert_eq!(pauses, [10, 20, 40, 80, 160, 320, 640, 1000, 1000, 1000]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_repeated_failure_is_reported_once_per_interval() {
        let mut repeated = Repeated::default();
        assert_eq!(repeated.due(), Some(0));
        for _ in 0..1000 {
            assert_eq!(repeated.due(), None);
        }
        tokio::time::advance(REPEAT_LOG_INTERVAL).await;
        assert_eq!(repeated.due(), Some(1000));
        assert_eq!(repeated.due(), None);
    }

    #[tokio::test(start_paused = true)]
    async fn the_connection_idle_longest_makes_room() {
        let registry = Registry::default();
        let oldest = registry.register();
        tokio::time::advance(Duration::from_secs(1)).await;
        let busy = registry.register();
        let _request = busy.start_request();
        tokio::time::advance(Duration::from_secs(1)).await;
        let newer = registry.register();
        assert_eq!(registry.len(), 3);

        assert!(registry.close_idlest());
        assert!(oldest.closed.is_cancelled(), "idle longest");
        assert!(!busy.closed.is_cancelled());
        assert_eq!(registry.len(), 2);
        assert!(registry.close_idlest());
        assert!(newer.closed.is_cancelled());
        assert!(
            !registry.close_idlest(),
            "a busy connection is never closed"
        );
        assert!(!busy.closed.is_cancelled());
        drop(busy);
        assert_eq!(registry.len(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn idleness_counts_from_the_last_request() {
        let registry = Registry::default();
        let conn = registry.register();
        let timeout = Duration::from_secs(300);
        let opened = Instant::now();
        assert_eq!(conn.idle_deadline(timeout), opened + timeout);
        let request = conn.start_request();
        tokio::time::advance(Duration::from_secs(600)).await;
        assert_eq!(
            conn.idle_deadline(timeout),
            Instant::now() + timeout,
            "busy: never due"
        );
        request.finish();
        assert_eq!(conn.idle_deadline(timeout), Instant::now() + timeout);
    }
}
