//! ao's tmux names, pure: the session name a session id maps to, the exact targets built from
//! it, which tmux server a socket setting names, and the command a user's terminal attaches
//! with. Shared by the tmux adapter and `aoctl attach`, which must agree on every one.
//!
//! tmux resolves an unqualified target by unique prefix, so `p-1` can select `p-10` once `p-1`
//! is gone. Every target built here is therefore exact (`=name`, `=name:`, `=name:0.0`), and
//! every name is restricted to `[A-Za-z0-9_-]` so it can never contain tmux's target separators
//! (`:` `.`) or format characters (`#`).

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;

use sha2::{Digest, Sha256};

use crate::domain::quote;

/// A tmux name or setting that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TmuxNameError {
    #[error("tmux socket must not be empty")]
    EmptySocket,
    #[error("invalid tmux session name {}", quote(.0))]
    InvalidSessionName(String),
}

/// The runtime name recorded in every handle this adapter makes.
pub const RUNTIME_NAME: &str = "tmux";

/// Ids at most this long (and already in the safe alphabet) are used unchanged.
const NAME_MAX: usize = 48;
/// Length of the readable part of a sanitised name, before `-<hash>`.
const SANITISED_PREFIX_MAX: usize = 32;

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// True when `name` is non-empty and only holds `[A-Za-z0-9_-]`.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(is_name_char)
}

/// The tmux session name for a session id: unchanged when short and safe, otherwise a readable
/// prefix plus the first 8 hex characters of the id's SHA-256, so distinct ids stay distinct.
pub fn session_name(id: &str) -> String {
    if is_valid_name(id) && id.chars().count() <= NAME_MAX {
        return id.to_owned();
    }
    let mut readable = String::with_capacity(id.len());
    for c in id.chars() {
        if is_name_char(c) {
            readable.push(c);
        } else if !readable.ends_with('-') {
            readable.push('-');
        }
    }
    let mut readable: String = readable
        .trim_matches('-')
        .chars()
        .take(SANITISED_PREFIX_MAX)
        .collect();
    if readable.is_empty() {
        readable.push_str("session");
    }
    let readable = readable.trim_end_matches('-');
    let digest = hex::encode(Sha256::digest(id.as_bytes()));
    format!("{readable}-{}", &digest[..8])
}

/// Exact session-level target: `=name`.
pub fn session_target(name: &str) -> String {
    format!("={name}")
}

/// Exact session target for commands whose `-t` is resolved as a window or pane (`set-option`,
/// `list-panes -s`): `=name:`. tmux 3.3 does not read a bare `=name` there as an exact session:
/// `set-option -t =s1` fails with "no such session", and `list-panes -s -t =s1` lists `s10`'s panes
/// when `s1` is gone. The trailing `:` names exactly session `name` (and its current window, for
/// window options).
pub fn window_target(name: &str) -> String {
    format!("={name}:")
}

/// Exact target of the session's first pane: `=name:0.0`.
pub fn pane_target(name: &str) -> String {
    format!("={name}:0.0")
}

/// Which tmux server ao talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TmuxSocket {
    /// `-L <label>`: a socket named `label` in tmux's socket directory.
    Label(String),
    /// `-S <path>`: an explicit socket path.
    Path(PathBuf),
}

impl Default for TmuxSocket {
    /// The label `ao`.
    fn default() -> Self {
        TmuxSocket::Label("ao".to_owned())
    }
}

impl TmuxSocket {
    /// Reads the configured value: one containing `/` is a path, anything else a label.
    pub fn parse(value: &str) -> Result<Self, TmuxNameError> {
        if value.is_empty() {
            return Err(TmuxNameError::EmptySocket);
        }
        Ok(if value.contains('/') {
            TmuxSocket::Path(PathBuf::from(value))
        } else {
            TmuxSocket::Label(value.to_owned())
        })
    }

    /// The socket file tmux uses: the path itself, or for a label
    /// `<TMUX_TMPDIR or /tmp>/tmux-<uid>/<label>`, the way tmux builds it.
    pub fn path(&self, tmpdir: Option<&OsStr>, uid: u32) -> PathBuf {
        match self {
            TmuxSocket::Path(path) => path.clone(),
            TmuxSocket::Label(label) => {
                let base = tmpdir
                    .filter(|d| !d.is_empty())
                    .map_or_else(|| PathBuf::from("/tmp"), PathBuf::from);
                base.join(format!("tmux-{uid}")).join(label)
            }
        }
    }

    /// `["-L", label]` or `["-S", path]`.
    pub fn args(&self) -> [OsString; 2] {
        match self {
            TmuxSocket::Label(label) => ["-L".into(), label.into()],
            TmuxSocket::Path(path) => ["-S".into(), path.into()],
        }
    }
}

/// How a user's terminal attaches to a session: `tmux <sock> -u -T RGB attach-session -t =name`
/// with `TERM`/`COLORTERM` forced and `TMUX` removed (so it works from inside another tmux).
/// No `-f <conf>`: attaching never starts a server, and the server read ao's configuration when
/// the daemon started it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachCommand {
    pub argv: Vec<OsString>,
    /// Variables to set (replacing existing values).
    pub env_set: Vec<(String, String)>,
    /// Variables to remove.
    pub env_remove: Vec<String>,
}

/// The attach command for session `name` on `socket`; `name` must be a valid session name.
pub fn attach_command(socket: &TmuxSocket, name: &str) -> Result<AttachCommand, TmuxNameError> {
    if !is_valid_name(name) {
        return Err(TmuxNameError::InvalidSessionName(name.to_owned()));
    }
    let mut argv: Vec<OsString> = vec!["tmux".into()];
    argv.extend(socket.args());
    argv.extend(
        ["-u", "-T", "RGB", "attach-session", "-t"]
            .into_iter()
            .map(OsString::from),
    );
    argv.push(session_target(name).into());
    Ok(AttachCommand {
        argv,
        env_set: vec![
            ("TERM".to_owned(), "xterm-256color".to_owned()),
            ("COLORTERM".to_owned(), "truecolor".to_owned()),
        ],
        env_remove: vec!["TMUX".to_owned()],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_paths() {
        let label = TmuxSocket::Label("ao".into());
        assert_eq!(label.path(None, 1000), PathBuf::from("/tmp/tmux-1000/ao"));
        assert_eq!(
            label.path(Some(OsStr::new("")), 0),
            PathBuf::from("/tmp/tmux-0/ao")
        );
        assert_eq!(
            label.path(Some(OsStr::new("/run/t")), 7),
            PathBuf::from("/run/t/tmux-7/ao")
        );
        let path = TmuxSocket::Path("/srv/ao/tmux.sock".into());
        assert_eq!(
            path.path(Some(OsStr::new("/run/t")), 7),
            PathBuf::from("/srv/ao/tmux.sock")
        );
    }

    #[test]
    fn socket_setting() {
        assert_eq!(TmuxSocket::default(), TmuxSocket::Label("ao".into()));
        assert_eq!(
            TmuxSocket::parse("mine").unwrap(),
            TmuxSocket::Label("mine".into())
        );
        assert_eq!(
            TmuxSocket::parse("/run/ao/tmux.sock").unwrap(),
            TmuxSocket::Path("/run/ao/tmux.sock".into())
        );
        assert_eq!(TmuxSocket::parse("rel/x").unwrap().args()[0], "-S");
        assert_eq!(TmuxSocket::parse("ao").unwrap().args()[0], "-L");
        assert!(TmuxSocket::parse("").is_err());
    }
}
