//! The Unix-socket server: single-instance checks, binding with owner-only permissions, peer
//! uid checks, and one tarpc channel per connection.
//!
//! Garbage bytes or an oversized frame only break that one connection: the length-delimited
//! codec refuses frames over `MAX_FRAME_BYTES` and a JSON error closes the channel; the accept
//! loop never stops for a bad client.

use std::fs::File;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, PermissionsExt};
use std::path::Path;

use anyhow::{Context, Result, bail};
use ao_proto::Ao;
use futures::StreamExt;
use nix::fcntl::{Flock, FlockArg};
use tarpc::server::{BaseChannel, Channel};
use tokio::net::UnixListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, warn};

use crate::service::Service;

/// Creates `dir` (and parents) with mode 0700 when missing.
pub fn private_dir(dir: &Path) -> Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("creating {}", dir.display()))
}

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
            anyhow::anyhow!(
                "daemon already running (data directory lock {} is held)",
                path.display()
            )
        } else {
            anyhow::anyhow!("locking {}: {errno}", path.display())
        }
    })
}

/// A live socket means another daemon; a stale socket file from a crash is removed.
pub async fn claim_socket_path(path: &Path) -> Result<()> {
    if tokio::net::UnixStream::connect(path).await.is_ok() {
        bail!("daemon already running (socket {} answers)", path.display());
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

/// Binds the socket: its directory 0700, the socket 0600.
pub fn bind(path: &Path) -> Result<UnixListener> {
    if let Some(dir) = path.parent() {
        private_dir(dir)?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("securing {}", dir.display()))?;
    }
    let listener =
        UnixListener::bind(path).with_context(|| format!("binding {}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("securing {}", path.display()))?;
    Ok(listener)
}

/// Accepts connections until `cancel`; each same-uid peer gets a tarpc channel, run as a task
/// of `connections`, so shutdown can wait for clients to receive the replies in flight (the
/// answer to `shutdown` itself, for one) before the process exits.
pub async fn serve(
    listener: UnixListener,
    service: Service,
    cancel: CancellationToken,
    connections: TaskTracker,
) {
    let uid = ao_proto::paths::uid();
    loop {
        let accepted = tokio::select! {
            _ = cancel.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                warn!(error = %e, "accepting a connection failed");
                continue;
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
        // A connection lives until its client hangs up (or the process exits): cancelling it
        // with the accept loop would drop replies in flight, such as the answer to `shutdown`.
        let channel = BaseChannel::with_defaults(ao_proto::transport(stream));
        connections.spawn(
            channel
                .execute(service.clone().serve())
                .for_each(|response| async {
                    tokio::spawn(response);
                }),
        );
    }
}
