//! Who may be trusted on the other end of the socket.
//!
//! The socket lives in a directory anyone could have created first (`/tmp/ao-<uid>` when
//! `XDG_RUNTIME_DIR` is unset). `aoctl` and `aod` therefore use one rule: the socket's directory
//! must be a directory owned by this process's uid with no group or other permission bits, and
//! the process serving the socket must run under this uid (its `SO_PEERCRED`). `aoctl` checks
//! both before it sends a byte; `aod` checks the directory before it binds.

use std::fmt;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// A uid as an error shows it: the number, and the user name when the system knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner(pub u32);

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(self.0))
            .ok()
            .flatten()
            .map(|user| user.name);
        match name {
            Some(name) => write!(f, "uid {} ({name})", self.0),
            None => write!(f, "uid {}", self.0),
        }
    }
}

/// Why the socket's directory or the process behind the socket is not trusted.
#[derive(Debug, thiserror::Error)]
pub enum Untrusted {
    #[error(
        "{} belongs to {owner}, but you are {me}: another user may be impersonating the daemon \
         there; use a socket in a private directory of your own (AO_SOCKET)",
        dir.display()
    )]
    ForeignDirectory {
        dir: PathBuf,
        owner: Owner,
        me: Owner,
    },
    #[error(
        "{} (owner {owner}) has mode {mode:04o}: other users can reach or replace the daemon's \
         socket there; if it is yours, make it private with `chmod 700 {}`, else use another \
         AO_SOCKET",
        dir.display(),
        dir.display()
    )]
    OpenDirectory {
        dir: PathBuf,
        owner: Owner,
        mode: u32,
    },
    #[error("{} is not a directory; the daemon's socket must be in a private directory", dir.display())]
    NotADirectory { dir: PathBuf },
    #[error("cannot check {}: {source}", dir.display())]
    Unreadable {
        dir: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "the process serving {} runs as {owner}, but you are {me}: another user may be \
         impersonating the daemon",
        socket.display()
    )]
    ForeignPeer {
        socket: PathBuf,
        owner: Owner,
        me: Owner,
    },
    #[error("cannot identify the process serving {}: {source}", socket.display())]
    UnknownPeer {
        socket: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// The directory a socket path lives in (`.` for a bare file name).
pub fn socket_dir(socket: &Path) -> &Path {
    match socket.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// Checks that `dir` is a directory owned by this process's uid with no group or other
/// permission bits. A missing directory is reported as `NotFound` (nobody serves there yet).
pub fn verify_socket_dir(dir: &Path) -> Result<(), VerifyError> {
    let meta = match std::fs::metadata(dir) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(VerifyError::Missing(e)),
        Err(source) => {
            return Err(Untrusted::Unreadable {
                dir: dir.to_path_buf(),
                source,
            }
            .into());
        }
    };
    let me = Owner(crate::paths::uid());
    if !meta.is_dir() {
        return Err(Untrusted::NotADirectory {
            dir: dir.to_path_buf(),
        }
        .into());
    }
    if meta.uid() != me.0 {
        return Err(Untrusted::ForeignDirectory {
            dir: dir.to_path_buf(),
            owner: Owner(meta.uid()),
            me,
        }
        .into());
    }
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(Untrusted::OpenDirectory {
            dir: dir.to_path_buf(),
            owner: Owner(meta.uid()),
            mode,
        }
        .into());
    }
    Ok(())
}

/// Checks that the process at the other end of `stream` runs under this process's uid.
pub fn verify_peer(stream: &tokio::net::UnixStream, socket: &Path) -> Result<(), Untrusted> {
    let me = Owner(crate::paths::uid());
    match stream.peer_cred() {
        Ok(cred) if cred.uid() == me.0 => Ok(()),
        Ok(cred) => Err(Untrusted::ForeignPeer {
            socket: socket.to_path_buf(),
            owner: Owner(cred.uid()),
            me,
        }),
        Err(source) => Err(Untrusted::UnknownPeer {
            socket: socket.to_path_buf(),
            source,
        }),
    }
}

/// The outcome of [`verify_socket_dir`] when it is not a plain yes.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The directory does not exist.
    #[error("{0}")]
    Missing(io::Error),
    #[error(transparent)]
    Untrusted(#[from] Untrusted),
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn chmod(path: &Path, mode: u32) {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn only_a_private_directory_of_ours_passes() {
        let base = tempfile::tempdir().unwrap();
        let dir = base.path().join("run");
        assert!(matches!(
            verify_socket_dir(&dir),
            Err(VerifyError::Missing(_))
        ));
        std::fs::create_dir(&dir).unwrap();
        chmod(&dir, 0o700);
        verify_socket_dir(&dir).unwrap();
        for mode in [0o750, 0o705, 0o710, 0o777, 0o1777] {
            chmod(&dir, mode);
            let err = verify_socket_dir(&dir).unwrap_err();
            let text = err.to_string();
            assert!(
                matches!(err, VerifyError::Untrusted(Untrusted::OpenDirectory { .. })),
                "{mode:o}: {text}"
            );
            assert!(text.contains(&format!("{mode:04o}")), "{text}");
            assert!(text.contains(&dir.display().to_string()), "{text}");
        }
        let file = base.path().join("file");
        std::fs::write(&file, "").unwrap();
        assert!(matches!(
            verify_socket_dir(&file),
            Err(VerifyError::Untrusted(Untrusted::NotADirectory { .. }))
        ));
    }

    #[test]
    fn owners_show_their_name_when_known() {
        assert_eq!(Owner(0).to_string(), "uid 0 (root)");
        assert_eq!(Owner(4_000_000_000).to_string(), "uid 4000000000");
    }

    #[test]
    fn bare_file_names_live_in_the_current_directory() {
        assert_eq!(socket_dir(Path::new("aod.sock")), Path::new("."));
        assert_eq!(
            socket_dir(Path::new("/run/ao/aod.sock")),
            Path::new("/run/ao")
        );
    }
}
