//! The launch script a pane runs with `/bin/sh -c`, built as a pure function.
//!
//! This is the only shell text ao gives tmux that contains user text, so every piece of it is
//! either fixed by ao or a single-quoted word: the workspace path, every environment value and
//! every argv word. Environment keys are validated instead of quoted, because `export` needs a
//! bare name.

use std::collections::BTreeMap;

use ao::domain::is_env_key;
use ao::ports::RuntimeError;

/// Wraps `word` in single quotes, writing every `'` as `'\''`, so `sh` reads it verbatim.
pub fn shell_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// Rejects environment keys `export` cannot take; runs before any tmux call.
pub fn validate_env(env: &BTreeMap<String, String>) -> Result<(), RuntimeError> {
    match env.keys().find(|key| !is_env_key(key)) {
        Some(bad) => Err(RuntimeError::InvalidEnvKey(bad.clone())),
        None => Ok(()),
    }
}

/// The script: the user's `umask`, `cd`, `NO_COLOR` handling, sorted exports, `COLORTERM`,
/// `PATH`, the quoted argv, and the interactive shell that keeps the pane open after the agent
/// exits.
///
/// `daemon_path` is the daemon's own `PATH`, used when `env` has none. `umask` gives the agent
/// the file mode mask of the user who started the daemon (whose own, stricter one would make
/// every file the agent writes private). A NUL byte cannot pass through `sh -c`, so any is
/// rejected.
pub fn launch_script(
    workspace: &str,
    argv: &[String],
    env: &BTreeMap<String, String>,
    daemon_path: Option<&str>,
    umask: Option<u32>,
) -> Result<String, RuntimeError> {
    validate_env(env)?;
    let has_nul = std::iter::once(workspace)
        .chain(argv.iter().map(String::as_str))
        .chain(env.values().map(String::as_str))
        .any(|text| text.contains('\0'));
    if has_nul {
        return Err(RuntimeError::InvalidConfig(
            "workspace, argv and env values must not contain NUL bytes".to_owned(),
        ));
    }

    let mut script = match umask {
        Some(mask) => format!("umask {:04o}; ", mask & 0o777),
        None => String::new(),
    };
    script.push_str(&format!("cd {} || exit; ", shell_quote(workspace)));
    if !env.contains_key("NO_COLOR") {
        script.push_str("unset NO_COLOR; ");
    }
    // BTreeMap iterates in key order, which is the sorted order the spec asks for.
    for (key, value) in env {
        if key == "PATH" || key == "COLORTERM" {
            continue;
        }
        script.push_str(&format!("export {key}={}; ", shell_quote(value)));
    }
    script.push_str("export COLORTERM='truecolor'; ");
    let path = env.get("PATH").map(String::as_str).or(daemon_path);
    if let Some(path) = path.filter(|p| !p.is_empty()) {
        script.push_str(&format!("export PATH={}; ", shell_quote(path)));
    }
    let words: Vec<String> = argv.iter().map(|w| shell_quote(w)).collect();
    script.push_str(&words.join(" "));
    script.push_str(r#"; exec "${SHELL:-/bin/sh}" -i"#);
    Ok(script)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn spec_example() {
        let script = launch_script(
            "/w/proj/proj-1",
            &argv(&["claude", "--", "do the thing"]),
            &env(&[
                ("AO_SESSION_ID", "proj-1"),
                ("ODD", "can't"),
                ("PATH", "/opt/ao/bin:/usr/bin"),
            ]),
            Some("/daemon/bin"),
            None,
        )
        .unwrap();
        assert_eq!(
            script,
            r#"cd '/w/proj/proj-1' || exit; unset NO_COLOR; export AO_SESSION_ID='proj-1'; export ODD='can'\''t'; export COLORTERM='truecolor'; export PATH='/opt/ao/bin:/usr/bin'; 'claude' '--' 'do the thing'; exec "${SHELL:-/bin/sh}" -i"#
        );
    }

    #[test]
    fn o7_script_parts() {
        let script = launch_script(
            "/tmp/ws",
            &argv(&["agent", "$(rm -rf ~)", "`x`"]),
            &env(&[
                ("ZED", "z"),
                ("AO_SESSION_ID", "sess-1"),
                ("COLORTERM", "ansi"),
                ("ODD", "can't"),
                ("PATH", "/custom/bin:/usr/bin"),
            ]),
            None,
            None,
        )
        .unwrap();
        assert!(script.starts_with("cd '/tmp/ws' || exit; "), "{script}");
        assert!(script.contains("unset NO_COLOR;"));
        assert!(script.contains("export COLORTERM='truecolor';"));
        assert!(!script.contains("ansi"));
        assert!(script.contains(r"export ODD='can'\''t';"));
        assert!(script.contains("export PATH='/custom/bin:/usr/bin';"));
        let a = script.find("AO_SESSION_ID").unwrap();
        let o = script.find("export ODD").unwrap();
        let z = script.find("export ZED").unwrap();
        assert!(a < o && o < z, "exports not sorted: {script}");
        assert!(script.contains(r"'agent' '$(rm -rf ~)' '`x`'"));
        assert!(script.ends_with(r#"; exec "${SHELL:-/bin/sh}" -i"#));
    }

    #[test]
    fn the_users_umask_comes_first() {
        let script = launch_script("/w", &argv(&["a"]), &env(&[]), None, Some(0o022)).unwrap();
        assert!(
            script.starts_with("umask 0022; cd '/w' || exit; "),
            "{script}"
        );
        let script = launch_script("/w", &argv(&["a"]), &env(&[]), None, Some(0o7027)).unwrap();
        assert!(script.starts_with("umask 0027; "), "{script}");
    }

    #[test]
    fn o8_explicit_no_color_is_exported() {
        let script = launch_script(
            "/tmp/ws",
            &argv(&["a"]),
            &env(&[("NO_COLOR", "1")]),
            None,
            None,
        )
        .unwrap();
        assert!(!script.contains("unset NO_COLOR"));
        assert!(script.contains("export NO_COLOR='1';"));
    }

    #[test]
    fn path_falls_back_to_the_daemon_and_is_omitted_when_empty() {
        let with = launch_script("/w", &argv(&["a"]), &env(&[]), Some("/d/bin"), None).unwrap();
        assert!(with.contains("export PATH='/d/bin'; 'a'"));
        let without =
            launch_script("/w", &argv(&["a"]), &env(&[("PATH", "")]), None, None).unwrap();
        assert!(!without.contains("PATH"));
    }

    #[test]
    fn o5_bad_env_keys_and_nul_bytes_are_rejected() {
        for key in ["BAD KEY", "", "1X", "A-B", "A=B"] {
            let err =
                launch_script("/w", &argv(&["a"]), &env(&[(key, "v")]), None, None).unwrap_err();
            assert_eq!(err, RuntimeError::InvalidEnvKey(key.to_owned()));
        }
        let err = launch_script("/w", &argv(&["a\0b"]), &env(&[]), None, None).unwrap_err();
        assert!(matches!(err, RuntimeError::InvalidConfig(_)));
    }

    #[test]
    fn quoting_round_trips_through_sh() {
        let word = "it's $HOME `id` \"q\" \\ \n end";
        let out = std::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(format!("printf %s {}", shell_quote(word)))
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), word);
    }
}
