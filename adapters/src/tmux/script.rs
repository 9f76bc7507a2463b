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

/// The first words of the line the launch script prints into the pane when the agent exits.
pub const EXIT_NOTICE: &str = "[ao] the agent exited with code ";

/// The last `lines` lines of captured pane text above the last exit notice (all of it when
/// there is none), without the blank lines around them.
pub fn output_before_exit(captured: &str, lines: usize) -> Vec<String> {
    let all: Vec<&str> = captured.lines().collect();
    let end = all
        .iter()
        .rposition(|line| line.starts_with(EXIT_NOTICE))
        .unwrap_or(all.len());
    let mut kept = &all[..end];
    while let [rest @ .., last] = kept
        && last.trim().is_empty()
    {
        kept = rest;
    }
    kept[kept.len().saturating_sub(lines)..]
        .iter()
        .map(|line| (*line).to_owned())
        .collect()
}

/// The script: the user's `umask`, `cd`, `NO_COLOR` handling, sorted exports, `COLORTERM`,
/// `PATH`, the quoted argv, the agent's exit status written to `exit_file` with a notice in the
/// pane, and the interactive shell that keeps the pane open after the agent exits.
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
    exit_file: &str,
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
    // `printf` is a builtin in every `sh`, so recording the exit starts no process.
    script.push_str(&format!(
        "; ao_exit=$?; printf '%s\\n' \"$ao_exit\" > {}; printf '\\n{EXIT_NOTICE}%s; this shell keeps the pane open.\\n' \"$ao_exit\"",
        shell_quote(exit_file)
    ));
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

    const EXIT: &str = "/log/s.exit";

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
            EXIT,
        )
        .unwrap();
        assert_eq!(
            script,
            r#"cd '/w/proj/proj-1' || exit; unset NO_COLOR; export AO_SESSION_ID='proj-1'; export ODD='can'\''t'; export COLORTERM='truecolor'; export PATH='/opt/ao/bin:/usr/bin'; 'claude' '--' 'do the thing'; ao_exit=$?; printf '%s\n' "$ao_exit" > '/log/s.exit'; printf '\n[ao] the agent exited with code %s; this shell keeps the pane open.\n' "$ao_exit"; exec "${SHELL:-/bin/sh}" -i"#
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
            EXIT,
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
        let script =
            launch_script("/w", &argv(&["a"]), &env(&[]), None, Some(0o022), EXIT).unwrap();
        assert!(
            script.starts_with("umask 0022; cd '/w' || exit; "),
            "{script}"
        );
        let script =
            launch_script("/w", &argv(&["a"]), &env(&[]), None, Some(0o7027), EXIT).unwrap();
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
            EXIT,
        )
        .unwrap();
        assert!(!script.contains("unset NO_COLOR"));
        assert!(script.contains("export NO_COLOR='1';"));
    }

    #[test]
    fn path_falls_back_to_the_daemon_and_is_omitted_when_empty() {
        let with =
            launch_script("/w", &argv(&["a"]), &env(&[]), Some("/d/bin"), None, EXIT).unwrap();
        assert!(with.contains("export PATH='/d/bin'; 'a'"));
        let without =
            launch_script("/w", &argv(&["a"]), &env(&[("PATH", "")]), None, None, EXIT).unwrap();
        assert!(!without.contains("PATH"));
    }

    #[test]
    fn o5_bad_env_keys_and_nul_bytes_are_rejected() {
        for key in ["BAD KEY", "", "1X", "A-B", "A=B"] {
            let err = launch_script("/w", &argv(&["a"]), &env(&[(key, "v")]), None, None, EXIT)
                .unwrap_err();
            assert_eq!(err, RuntimeError::InvalidEnvKey(key.to_owned()));
        }
        let err = launch_script("/w", &argv(&["a\0b"]), &env(&[]), None, None, EXIT).unwrap_err();
        assert!(matches!(err, RuntimeError::InvalidConfig(_)));
    }

    #[test]
    fn output_before_exit_cuts_at_the_last_notice() {
        let notice = format!("{EXIT_NOTICE}1; this shell keeps the pane open.");
        let pane = format!("old\n{notice}\n$ ls\nmore\nlast line\n\n{notice}\n$ \n");
        assert_eq!(output_before_exit(&pane, 2), ["more", "last line"]);
        assert_eq!(output_before_exit(&pane, 10).len(), 5);
        assert_eq!(output_before_exit("a\nb\n\n", 5), ["a", "b"], "no notice");
        assert!(output_before_exit(&format!("\n{notice}\n"), 5).is_empty());
    }

    /// The real `sh` runs the script; `SHELL=/bin/true` makes the tail end at once.
    #[test]
    fn the_exit_status_is_recorded_and_announced() {
        let dir = tempfile::tempdir().unwrap();
        let exit_file = dir.path().join("it's.exit");
        let script = launch_script(
            dir.path().to_str().unwrap(),
            &argv(&["sh", "-c", "echo out; exit 3"]),
            &env(&[]),
            std::env::var("PATH").ok().as_deref(),
            None,
            exit_file.to_str().unwrap(),
        )
        .unwrap();
        let out = std::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(&script)
            .env("SHELL", "/bin/true")
            .output()
            .unwrap();
        assert_eq!(std::fs::read_to_string(&exit_file).unwrap(), "3\n");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!("out\n\n{EXIT_NOTICE}3; this shell keeps the pane open.\n")
        );
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
