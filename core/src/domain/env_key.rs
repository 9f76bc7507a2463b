//! The one rule for environment variable names ao exports into a pane.

/// True for a name `export` takes: POSIX `[A-Za-z_][A-Za-z0-9_]*`.
///
/// Every environment ao hands a pane (a project's `env`, an agent's `env`, the launch script's
/// exports) is checked with this, because the launch script writes keys bare, not quoted.
pub fn is_env_key(key: &str) -> bool {
    let mut chars = key.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_keys() {
        for good in ["A", "_", "a_b", "X1", "_9", "A1", "PATH", "__"] {
            assert!(is_env_key(good), "{good}");
        }
        for bad in [
            "", "1A", "1X", "A-B", "A B", "BAD KEY", "É", "A=B", "AÉ", "A.B", "A\0", " A",
        ] {
            assert!(!is_env_key(bad), "{bad:?}");
        }
    }
}
