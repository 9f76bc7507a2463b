//! Shell completion, through the binary: the checked-in registration scripts under
//! `completions/` are what `aoctl completions` prints, and `aoctl` answers the requests those
//! scripts make (`COMPLETE=<shell> aoctl -- <words>`) with session ids, projects, agents and
//! statuses from a running daemon, never with a hidden command, and without a daemon with the
//! static candidates only, starting none.
//!
//! Regenerate the scripts with `AO_UPDATE_COMPLETIONS=1 cargo test --workspace --test completions`.

use std::os::unix::net::UnixListener;
use std::path::Path;
use std::process::{Command, Stdio};

use ao_testkit::{GitRepo, SLOW, TestEnv, wait_for};

const SHELLS: [(&str, &str); 5] = [
    ("bash", "aoctl.bash"),
    ("zsh", "_aoctl"),
    ("fish", "aoctl.fish"),
    ("powershell", "_aoctl.ps1"),
    ("elvish", "aoctl.elv"),
];

#[test]
fn completions_are_current() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
    let update = std::env::var_os("AO_UPDATE_COMPLETIONS").is_some();
    let mut stale = vec![];
    for (shell, file) in SHELLS {
        let out = Command::new(ao_testkit::bin("aoctl"))
            .args(["completions", shell])
            .output()
            .expect("run aoctl completions");
        assert!(out.status.success(), "aoctl completions {shell}: {out:?}");
        assert!(
            !out.stdout.is_empty(),
            "aoctl completions {shell} printed nothing"
        );
        let path = dir.join(file);
        if update {
            std::fs::write(&path, &out.stdout).expect("write completion script");
        } else if std::fs::read(&path).ok().as_deref() != Some(out.stdout.as_slice()) {
            stale.push(file);
        }
    }
    assert!(
        stale.is_empty(),
        "stale completion scripts {stale:?}: run \
         `AO_UPDATE_COMPLETIONS=1 cargo test --workspace --test completions` and commit"
    );
}

#[test]
fn binaries_answer_help_and_version() {
    for name in ["aod", "aoctl"] {
        for flag in ["--help", "--version"] {
            let out = Command::new(ao_testkit::bin(name))
                .arg(flag)
                .output()
                .unwrap();
            assert!(out.status.success(), "{name} {flag}: {out:?}");
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(text.contains(name), "{name} {flag} printed {text:?}");
        }
    }
}

/// One completion request as `shell`'s registration script makes it: the words typed so far,
/// the last one being completed. Returns the candidates' values and their help texts (for the
/// shells that show help), and asserts the request succeeded and printed nothing on stderr.
fn complete(mut aoctl: Command, shell: &str, words: &[&str]) -> Vec<(String, String)> {
    let out = aoctl
        .env("COMPLETE", shell)
        .env("_CLAP_IFS", "\n")
        .env("_CLAP_COMPLETE_INDEX", (words.len() - 1).to_string())
        .arg("--")
        .args(words)
        .stdin(Stdio::null())
        .output()
        .expect("run aoctl for completions");
    assert!(out.status.success(), "{shell} {words:?}: {out:?}");
    assert!(out.stderr.is_empty(), "{shell} {words:?}: {out:?}");
    String::from_utf8(out.stdout)
        .expect("UTF-8 candidates")
        .lines()
        .filter(|line| !line.is_empty())
        .map(|line| {
            let separator = if shell == "zsh" { ':' } else { '\t' };
            let (value, help) = line.split_once(separator).unwrap_or((line, ""));
            (value.replace("\\:", ":"), help.to_owned())
        })
        .collect()
}

fn values(candidates: &[(String, String)]) -> Vec<&str> {
    candidates.iter().map(|(v, _)| v.as_str()).collect()
}

/// The candidates that are not options.
fn dynamic(candidates: &[(String, String)]) -> Vec<&str> {
    let mut found = values(candidates);
    found.retain(|v| !v.starts_with('-'));
    found
}

/// An `aoctl` that may autostart a daemon: a completion must not.
fn aoctl_in(env: &TestEnv) -> Command {
    env.aoctl_autostart()
}

/// `hook` is in none of the checked-in scripts and none of the dynamic answers, while the
/// commands next to it are.
#[test]
fn no_shell_offers_the_hidden_hook_command() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
    for (_, file) in SHELLS {
        let script = std::fs::read_to_string(dir.join(file)).expect("read completion script");
        assert!(!script.contains("hook"), "{file} mentions hook");
    }
    let env = TestEnv::new();
    for (shell, _) in SHELLS {
        for words in [
            &["aoctl", ""][..],
            &["aoctl", "help", ""],
            &["aoctl", "--verbose", ""],
        ] {
            let found = complete(aoctl_in(&env), shell, words);
            let found = values(&found);
            assert!(found.contains(&"spawn"), "{shell} {words:?}: {found:?}");
            assert!(!found.contains(&"hook"), "{shell} {words:?}: {found:?}");
        }
        // The only command that starts so: still not offered.
        let found = complete(aoctl_in(&env), shell, &["aoctl", "ho"]);
        assert!(found.is_empty(), "{shell}: {found:?}");
        let found = complete(aoctl_in(&env), shell, &["aoctl", "help", "ho"]);
        assert!(found.is_empty(), "{shell}: {found:?}");
    }
}

/// With a daemon up: session ids (with status and project) wherever a session is taken,
/// projects, the daemon's agents (configured ones included) and statuses, also after a comma.
#[test]
fn sessions_projects_agents_and_statuses_complete_from_the_daemon() {
    let repo = GitRepo::new();
    let mut env = TestEnv::with_config("[agents.aider]\nkind = \"command\"\nargv = [\"aider\"]\n");
    env.start_daemon();
    env.add_project("demo", &repo.path);
    let id = env.spawn_cmd("demo", "sleep 100000");

    for words in [
        &["aoctl", "get", ""][..],
        &["aoctl", "kill", ""],
        &["aoctl", "send", ""],
        &["aoctl", "tail", ""],
        &["aoctl", "why", ""],
        &["aoctl", "restore", ""],
        &["aoctl", "attach", ""],
        &["aoctl", "forget", "other", ""],
        &["aoctl", "wait", ""],
        &["aoctl", "events", "--session", ""],
        &["aoctl", "get", "de"],
    ] {
        let found = complete(aoctl_in(&env), "bash", words);
        assert_eq!(dynamic(&found), [id.as_str()], "{words:?}");
    }
    // The shells that show help get the session's status and project.
    for shell in ["fish", "zsh", "powershell"] {
        let found = complete(aoctl_in(&env), shell, &["aoctl", "get", "de"]);
        assert_eq!(values(&found), [id.as_str()], "{shell}");
        let help = &found[0].1;
        let (status, project) = help.split_once(" · ").unwrap_or_default();
        assert_eq!(project, "demo", "{shell}: {help}");
        assert!(
            !status.is_empty() && status.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
            "{shell}: {help}"
        );
    }
    // Not a prefix of any session: nothing.
    assert!(complete(aoctl_in(&env), "bash", &["aoctl", "get", "zz"]).is_empty());

    for words in [
        &["aoctl", "ls", "-p", ""][..],
        &["aoctl", "spawn", "--project", ""],
        &["aoctl", "cleanup", "-p", ""],
        &["aoctl", "project", "rm", ""],
    ] {
        let found = complete(aoctl_in(&env), "bash", words);
        assert_eq!(dynamic(&found), ["demo"], "{words:?}");
    }

    for words in [
        &["aoctl", "spawn", "--agent", ""][..],
        &["aoctl", "project", "add", "--agent", ""],
    ] {
        let found = complete(aoctl_in(&env), "bash", words);
        let mut found = dynamic(&found);
        found.sort_unstable();
        assert_eq!(
            found,
            ["aider", "claude-code", "codex", "command"],
            "{words:?}"
        );
    }

    let found = complete(
        aoctl_in(&env),
        "bash",
        &["aoctl", "wait", &id, "--status", "need"],
    );
    assert_eq!(values(&found), ["needs_input"]);
    let found = complete(
        aoctl_in(&env),
        "bash",
        &["aoctl", "wait", &id, "--status", "idle,ne"],
    );
    assert_eq!(values(&found), ["idle,needs_input"]);
    let found = complete(
        aoctl_in(&env),
        "bash",
        &["aoctl", "wait", &id, "--status", ""],
    );
    let found = values(&found);
    for status in [
        "spawning",
        "working",
        "idle",
        "needs_input",
        "merged",
        "killed",
    ] {
        assert!(found.contains(&status), "{status}: {found:?}");
    }

    // The socket given on the line is the one asked.
    let mut aoctl = aoctl_in(&env);
    aoctl.env_remove("AO_SOCKET");
    let socket = env.socket.to_str().expect("UTF-8 socket path");
    let found = complete(aoctl, "bash", &["aoctl", "--socket", socket, "get", ""]);
    assert_eq!(dynamic(&found), [id.as_str()]);
}

/// Without a daemon, a completion offers the static candidates only, prints no error and
/// starts no daemon; a socket that accepts but never answers is given up on.
#[test]
fn without_a_daemon_completion_offers_static_candidates_and_starts_none() {
    let env = TestEnv::new();
    let found = complete(aoctl_in(&env), "bash", &["aoctl", "get", ""]);
    let found = values(&found);
    assert!(found.contains(&"--json"), "{found:?}");
    assert!(found.iter().all(|v| v.starts_with('-')), "{found:?}");
    let found = complete(
        aoctl_in(&env),
        "bash",
        &["aoctl", "wait", "x", "--status", "idl"],
    );
    assert_eq!(values(&found), ["idle"]);
    assert!(!env.socket.exists(), "a completion started a daemon");
    assert!(
        !env.data_dir.exists(),
        "a completion created the data directory"
    );

    // Something listens on the socket but never answers.
    let listener = UnixListener::bind(&env.socket).expect("bind a silent socket");
    let mut silent = aoctl_in(&env)
        .env("COMPLETE", "bash")
        .env("_CLAP_COMPLETE_INDEX", "2")
        .args(["--", "aoctl", "get", ""])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start aoctl for completions");
    let status = wait_for("the completion to give up on a silent socket", SLOW, || {
        silent
            .try_wait()
            .map_err(|e| e.to_string())?
            .ok_or_else(|| "still running".to_owned())
    });
    let out = silent.wait_with_output().expect("completion output");
    assert!(status.success(), "{out:?}");
    assert!(out.stderr.is_empty(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("--json"),
        "{out:?}"
    );
    drop(listener);
}
