//! tmux session names and exact targets (adapters.md 1.2, 1.3).
//!
//! tmux resolves an unqualified target by unique prefix, so `p-1` can select `p-10` once `p-1`
//! is gone. Every target built here is therefore exact (`=name`, `=name:`, `=name:0.0`), and
//! every name is
//! restricted to `[A-Za-z0-9_-]` so it can never contain tmux's target separators (`:` `.`) or
//! format characters (`#`).

use sha2::{Digest, Sha256};

use crate::domain::RuntimeHandle;
use crate::ports::RuntimeError;

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

/// Checks a handle before any tmux call: ours (`tmux`) and a safe name.
pub fn validate_handle(handle: &RuntimeHandle) -> Result<&str, RuntimeError> {
    if handle.runtime_name != RUNTIME_NAME || !is_valid_name(&handle.id) {
        return Err(RuntimeError::InvalidHandle(crate::domain::quote(&format!(
            "{}:{}",
            handle.runtime_name, handle.id
        ))));
    }
    Ok(&handle.id)
}

/// Exact session-level target: `=name`.
pub fn session_target(name: &str) -> String {
    format!("={name}")
}

/// Exact session target for commands whose `-t` is resolved as a window or pane
/// (`set-option`, `list-panes -s`): `=name:`. tmux (3.3) does not read a bare `=name` there as
/// an exact session: `set-option -t =s1` fails with "no such session", and
/// `list-panes -s -t =s1` lists `s10`'s panes when `s1` is gone. The trailing `:` names exactly
/// session `name` (and its current window, for window options).
pub fn window_target(name: &str) -> String {
    format!("={name}:")
}

/// Exact target of the session's first pane: `=name:0.0`.
pub fn pane_target(name: &str) -> String {
    format!("={name}:0.0")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handle(id: &str) -> RuntimeHandle {
        RuntimeHandle {
            id: id.to_owned(),
            runtime_name: RUNTIME_NAME.to_owned(),
            pane_id: None,
        }
    }

    fn assert_hashed(name: &str, readable: &str, raw: &str) {
        let (prefix, hash) = name.rsplit_once('-').expect("hash suffix");
        assert_eq!(prefix, readable, "{name}");
        assert_eq!(hash.len(), 8);
        assert!(
            hash.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_eq!(hash, &hex::encode(Sha256::digest(raw.as_bytes()))[..8]);
    }

    #[test]
    fn o2_targets_are_exact() {
        assert_eq!(session_target("abc"), "=abc");
        assert_eq!(pane_target("abc"), "=abc:0.0");
        assert_eq!(window_target("abc"), "=abc:");
    }

    #[test]
    fn o3_session_names() {
        assert_eq!(session_name("myproj-1"), "myproj-1");
        let name = session_name("repo/issue#42.1");
        assert_hashed(&name, "repo-issue-42-1", "repo/issue#42.1");

        let long = format!("p{}", "x".repeat(61));
        assert_eq!(long.len(), 62);
        let name = session_name(&long);
        assert!(name.len() <= 41, "{name}");
        assert_hashed(&name, &long[..32], &long);

        // Exactly 48 safe characters are kept; 49 are hashed.
        let at_cap = "a".repeat(48);
        assert_eq!(session_name(&at_cap), at_cap);
        assert!(session_name(&"a".repeat(49)).len() <= 41);
    }

    #[test]
    fn sanitising_edges() {
        assert_hashed(&session_name("///"), "session", "///");
        assert_hashed(&session_name(""), "session", "");
        assert_hashed(&session_name("a.b:c d"), "a-b-c-d", "a.b:c d");
        // The cut at 32 characters never leaves a trailing '-'.
        let raw = format!("{}/tail", "a".repeat(31));
        assert_hashed(&session_name(&raw), &"a".repeat(31), &raw);
        // Ids that differ only in unsafe characters get different names.
        assert_ne!(session_name("a/b"), session_name("a#b"));
        for raw in ["repo/issue#42.1", "x:y.z", "über", &"q".repeat(100)] {
            assert!(is_valid_name(&session_name(raw)), "{raw}");
        }
    }

    #[test]
    fn o4_handle_validation() {
        for id in ["sess-1", "S_2", "abc123"] {
            assert_eq!(validate_handle(&handle(id)).unwrap(), id);
        }
        for id in ["", "sess.1", "sess/1", "$(boom)", "with space"] {
            assert!(
                matches!(
                    validate_handle(&handle(id)),
                    Err(RuntimeError::InvalidHandle(_))
                ),
                "{id:?} accepted"
            );
        }
        let mut other = handle("sess-1");
        other.runtime_name = "process".to_owned();
        assert!(validate_handle(&other).is_err());
    }
}
