//! Input checks for spawn and project registration: whatever a later step would refuse — a NUL
//! byte (no argv word, environment value or `sh -c` script can hold one), an argument longer
//! than `exec` carries, an environment key `export` cannot take — is refused here, before any
//! record, worktree or branch exists.
//!
//! One function per field. Each error names the field and what is wrong with it, never the
//! whole value (a prompt can be megabytes).

use std::collections::BTreeMap;

use crate::domain::is_env_key;

/// The longest single argument `exec` carries on Linux (`MAX_ARG_STRLEN`, 32 pages, less the
/// terminating NUL).
pub const MAX_ARG_BYTES: usize = 32 * 4096 - 1;
/// The most bytes a launch command line may hold in all: half of the usual `ARG_MAX` (2 MiB),
/// leaving the other half to the environment.
pub const MAX_ARGV_BYTES: usize = 1024 * 1024;
/// The longest model name.
pub const MAX_MODEL_BYTES: usize = 256;

/// A field a later step would refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {field}: {problem}")]
pub struct InvalidInput {
    /// What the field is called for the user (`prompt`, `--cmd word 2`, `project env`, …).
    pub field: String,
    pub problem: String,
}

fn invalid(field: impl Into<String>, problem: impl Into<String>) -> InvalidInput {
    InvalidInput {
        field: field.into(),
        problem: problem.into(),
    }
}

/// No NUL byte: nothing ao passes a program (argv, environment, the launch script) can hold one.
fn no_nul(field: impl FnOnce() -> String, text: &str) -> Result<(), InvalidInput> {
    match text.find('\0') {
        Some(at) => Err(invalid(
            field(),
            format!("contains a NUL byte (at byte {at})"),
        )),
        None => Ok(()),
    }
}

/// The prompt: no NUL byte (it is typed into the pane or passed on the command line).
pub fn prompt(text: &str) -> Result<(), InvalidInput> {
    no_nul(|| "prompt".to_owned(), text)
}

/// A prompt the agent takes on its command line: at most one argument's worth.
pub fn prompt_in_command(text: &str, agent: &str) -> Result<(), InvalidInput> {
    if text.len() > MAX_ARG_BYTES {
        return Err(invalid(
            "prompt",
            format!(
                "is {} bytes, but the {agent} agent takes its prompt as one command-line \
                 argument, which holds at most {MAX_ARG_BYTES}: shorten it, or spawn with a \
                 short prompt and `aoctl send` the rest",
                text.len()
            ),
        ));
    }
    Ok(())
}

/// The `--cmd` argv: no NUL byte in any word.
pub fn command(argv: &[String]) -> Result<(), InvalidInput> {
    argv.iter()
        .enumerate()
        .try_for_each(|(i, word)| no_nul(|| format!("--cmd word {}", i + 1), word))
}

/// A model name: a short name of printable characters that cannot pass for a flag.
pub fn model(name: &str) -> Result<(), InvalidInput> {
    if name.len() > MAX_MODEL_BYTES {
        return Err(invalid(
            "model",
            format!("is {} bytes; at most {MAX_MODEL_BYTES}", name.len()),
        ));
    }
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return Err(invalid(
            "model",
            format!("contains the control character {c:?}"),
        ));
    }
    if name.starts_with('-') {
        return Err(invalid(
            "model",
            "starts with '-', so the agent would read it as a flag",
        ));
    }
    Ok(())
}

/// A branch name: no control character (git refuses them, and a NUL cannot even reach git);
/// `git check-ref-format` judges the rest.
pub fn branch(name: &str) -> Result<(), InvalidInput> {
    match name.chars().find(|c| c.is_control()) {
        Some(c) => Err(invalid(
            "branch",
            format!("contains the control character {c:?}"),
        )),
        None => Ok(()),
    }
}

/// Environment for the pane (`source` says whose: `project env`, `agent env`): keys `export`
/// takes, values without NUL.
pub fn env(source: &str, env: &BTreeMap<String, String>) -> Result<(), InvalidInput> {
    for (key, value) in env {
        if !is_env_key(key) {
            return Err(invalid(
                source,
                format!(
                    "{} is not a variable name ([A-Za-z_][A-Za-z0-9_]*)",
                    crate::domain::quote(key)
                ),
            ));
        }
        no_nul(|| format!("{source} {key}"), value)?;
    }
    Ok(())
}

/// A program's argv (a post-create command; `what` names it): a program, and no NUL byte.
pub fn program(what: &str, argv: &[String]) -> Result<(), InvalidInput> {
    if argv.first().is_none_or(|p| p.trim().is_empty()) {
        return Err(invalid(what, "names no program"));
    }
    argv.iter()
        .enumerate()
        .try_for_each(|(i, word)| no_nul(|| format!("{what} word {}", i + 1), word))
}

/// The agent's whole launch command line: every word one `exec` argument can hold, and all of
/// them together within [`MAX_ARGV_BYTES`].
pub fn launch_argv(argv: &[String]) -> Result<(), InvalidInput> {
    let field = "launch command";
    for (i, word) in argv.iter().enumerate() {
        no_nul(|| format!("{field} word {}", i + 1), word)?;
        if word.len() > MAX_ARG_BYTES {
            return Err(invalid(
                field,
                format!(
                    "word {} is {} bytes; one argument holds at most {MAX_ARG_BYTES}",
                    i + 1,
                    word.len()
                ),
            ));
        }
    }
    let total: usize = argv.iter().map(|w| w.len() + 1).sum();
    if total > MAX_ARGV_BYTES {
        return Err(invalid(
            field,
            format!("is {total} bytes; at most {MAX_ARGV_BYTES} in all"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(list: &[&str]) -> Vec<String> {
        list.iter().map(|w| (*w).to_owned()).collect()
    }

    /// `Ok` or the error's text.
    fn said(result: Result<(), InvalidInput>) -> Result<(), String> {
        result.map_err(|e| e.to_string())
    }

    #[test]
    fn prompts() {
        let big = "x".repeat(MAX_ARG_BYTES + 1);
        let cases: [(&str, Result<(), &str>); 4] = [
            ("fix the tests", Ok(())),
            ("", Ok(())),
            ("multi\nline\ttext with ünïcode", Ok(())),
            (
                "a\0b",
                Err("invalid prompt: contains a NUL byte (at byte 1)"),
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(
                said(prompt(text)),
                expected.map_err(str::to_owned),
                "{text:?}"
            );
        }
        assert_eq!(
            prompt_in_command(&"x".repeat(MAX_ARG_BYTES), "codex"),
            Ok(())
        );
        let e = prompt_in_command(&big, "codex").unwrap_err();
        assert_eq!(e.field, "prompt");
        assert!(
            e.problem.contains("131072 bytes") && e.problem.contains("codex"),
            "{e}"
        );
        assert!(
            e.to_string().len() < 300,
            "the value itself is never quoted"
        );
        assert_eq!(
            prompt(&big),
            Ok(()),
            "a prompt typed into the pane may be long"
        );
    }

    #[test]
    fn commands() {
        let cases: [(&[&str], Result<(), &str>); 4] = [
            (&["sleep", "100"], Ok(())),
            (&[], Ok(())),
            (
                &["sh", "-c", "echo\0hi"],
                Err("invalid --cmd word 3: contains a NUL byte (at byte 4)"),
            ),
            (
                &["\0"],
                Err("invalid --cmd word 1: contains a NUL byte (at byte 0)"),
            ),
        ];
        for (argv, expected) in cases {
            assert_eq!(
                said(command(&words(argv))),
                expected.map_err(str::to_owned),
                "{argv:?}"
            );
        }
    }

    #[test]
    fn models() {
        let long = "m".repeat(MAX_MODEL_BYTES + 1);
        let cases: [(&str, bool); 8] = [
            ("sonnet", true),
            ("gpt-5", true),
            ("claude-opus-4-1@20250805", true),
            ("a\0b", false),
            ("line\nbreak", false),
            ("--dangerously-skip-permissions", false),
            ("-m", false),
            (&long, false),
        ];
        for (name, ok) in cases {
            let result = model(name);
            assert_eq!(result.is_ok(), ok, "{name:?}: {result:?}");
            if let Err(e) = result {
                assert_eq!(e.field, "model");
            }
        }
    }

    #[test]
    fn branches() {
        for (name, ok) in [
            ("feature/x", true),
            ("ao/demo-1", true),
            ("a\0b", false),
            ("a\nb", false),
            ("tab\there", false),
        ] {
            assert_eq!(branch(name).is_ok(), ok, "{name:?}");
        }
    }

    #[test]
    fn environments() {
        let map = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        type Case<'a> = (&'a [(&'a str, &'a str)], Result<(), &'a str>);
        let cases: [Case; 7] = [
            (&[], Ok(())),
            (&[("PATH", "/bin"), ("_X1", "")], Ok(())),
            (&[("A", "multi\nline")], Ok(())),
            (
                &[("A", "x\0y")],
                Err("invalid project env A: contains a NUL byte (at byte 1)"),
            ),
            (
                &[("1A", "x")],
                Err("invalid project env: \"1A\" is not a variable name ([A-Za-z_][A-Za-z0-9_]*)"),
            ),
            (
                &[("A-B", "x")],
                Err("invalid project env: \"A-B\" is not a variable name ([A-Za-z_][A-Za-z0-9_]*)"),
            ),
            (
                &[("", "x")],
                Err("invalid project env: \"\" is not a variable name ([A-Za-z_][A-Za-z0-9_]*)"),
            ),
        ];
        for (pairs, expected) in cases {
            assert_eq!(
                said(env("project env", &map(pairs))),
                expected.map_err(str::to_owned),
                "{pairs:?}"
            );
        }
    }

    #[test]
    fn programs() {
        let cases: [(&[&str], Result<(), &str>); 5] = [
            (&["npm", "ci"], Ok(())),
            (&[], Err("invalid post-create command 1: names no program")),
            (
                &["  "],
                Err("invalid post-create command 1: names no program"),
            ),
            (
                &["make", "a\0"],
                Err("invalid post-create command 1 word 2: contains a NUL byte (at byte 1)"),
            ),
            (
                &["\0"],
                Err("invalid post-create command 1 word 1: contains a NUL byte (at byte 0)"),
            ),
        ];
        for (argv, expected) in cases {
            assert_eq!(
                said(program("post-create command 1", &words(argv))),
                expected.map_err(str::to_owned),
                "{argv:?}"
            );
        }
    }

    #[test]
    fn launch_command_lines() {
        let max = "w".repeat(MAX_ARG_BYTES);
        let over = "w".repeat(MAX_ARG_BYTES + 1);
        assert_eq!(
            launch_argv(&words(&["claude", "--model", "x", &max])),
            Ok(())
        );
        let e = launch_argv(&words(&["codex", &over])).unwrap_err();
        assert_eq!(
            e.problem,
            format!(
                "word 2 is {} bytes; one argument holds at most {MAX_ARG_BYTES}",
                MAX_ARG_BYTES + 1
            )
        );
        let e = launch_argv(&words(&["sh", "a\0"])).unwrap_err();
        assert_eq!(e.field, "launch command word 2");
        let many: Vec<String> = std::iter::repeat_n(max, 9).collect();
        let e = launch_argv(&many).unwrap_err();
        assert!(
            e.problem
                .ends_with(&format!("at most {MAX_ARGV_BYTES} in all")),
            "{e}"
        );
        assert_eq!(launch_argv(&[]), Ok(()));
    }
}
