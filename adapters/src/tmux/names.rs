//! tmux session names and exact targets: the pure rules live in `ao_core::tmux`; this module
//! adds the check every tmux call makes on a runtime handle.

use ao::ports::RuntimeError;
use ao_core::domain::RuntimeHandle;
pub use ao_core::tmux::{
    RUNTIME_NAME, is_valid_name, pane_target, session_name, session_target, window_target,
};

/// Checks a handle before any tmux call: ours (`tmux`) and a safe name.
pub fn validate_handle(handle: &RuntimeHandle) -> Result<&str, RuntimeError> {
    if handle.runtime_name != RUNTIME_NAME || !is_valid_name(&handle.id) {
        return Err(RuntimeError::InvalidHandle(ao_core::domain::quote(
            &format!("{}:{}", handle.runtime_name, handle.id),
        )));
    }
    Ok(&handle.id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

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
