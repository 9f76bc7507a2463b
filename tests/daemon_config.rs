//! End-to-end tests of what `aoctl` says about the configuration and the daemon it reaches: a
//! start that fails shows the daemon's own error, `config check` and `doctor` read the
//! configuration without a daemon, two starts at once agree on one daemon, `daemon restart`
//! applies a changed configuration, a daemon with other settings is named, and agent CLIs that
//! are not installed are warnings.

use std::process::{Output, Stdio};

use ao_testkit::{GitRepo, TestEnv};
use serde_json::Value;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The settings ao's own tests need (no user tmux configuration), plus `extra`.
fn config(extra: &str) -> String {
    format!("[runtime.tmux]\nload_user_config = false\n{extra}")
}

/// `aoctl args…` that may start the daemon.
fn autostart(env: &TestEnv, args: &[&str]) -> Output {
    env.aoctl_autostart()
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run aoctl")
}

/// The row of `doctor`'s table named `name` (after the `ok`, `WARN` or `FAIL` column).
fn doctor_row(stdout: &str, name: &str) -> String {
    stdout
        .lines()
        .find(|l| {
            l.trim_start()
                .split_once(' ')
                .is_some_and(|(_, rest)| rest.trim_start().starts_with(&format!("{name} ")))
        })
        .unwrap_or_else(|| panic!("no {name} row:\n{stdout}"))
        .to_owned()
}

/// The check named `name` of `doctor --json`.
fn doctor_check(checks: &Value, name: &str) -> Value {
    checks
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == name))
        .cloned()
        .unwrap_or_else(|| panic!("no {name} check: {checks}"))
}

#[test]
fn a_daemon_that_cannot_start_shows_its_own_error() {
    let mut env = TestEnv::new();
    let absent = env.root().join("absent.toml");
    for (toml, needles) in [
        (
            Some("[reaper]\ntick = \"banana\"\n"),
            vec!["tick = \"banana\"", "invalid duration \"banana\""],
        ),
        (
            Some("surprise = 1\n"),
            vec!["surprise = 1", "unknown field `surprise`"],
        ),
        (
            None,
            vec![
                "the configuration file",
                absent.to_str().unwrap(),
                "does not exist",
            ],
        ),
    ] {
        match toml {
            Some(toml) => {
                env.config = env.root().join("config.toml");
                std::fs::write(&env.config, toml).unwrap();
            }
            None => env.config = absent.clone(),
        }
        // An earlier daemon's lines in the log are not this start's.
        std::fs::create_dir_all(&env.data_dir).unwrap();
        std::fs::write(env.log_path(), "an earlier daemon's stale line\n").unwrap();

        let out = autostart(&env, &["ls"]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{toml:?}: {stderr}");
        assert!(
            stderr.starts_with("aoctl: the daemon exited at start (exit status: 2):"),
            "{toml:?}: {stderr}"
        );
        for needle in &needles {
            assert!(
                stderr.contains(needle),
                "{toml:?}: {needle} not in {stderr}"
            );
        }
        // With -v: the lines this start added to the log, never older ones.
        let out = autostart(&env, &["-v", "ls"]);
        let stderr = text(&out.stderr);
        assert!(stderr.contains("during this start"), "{stderr}");
        assert!(!stderr.contains("stale line"), "{stderr}");
        // The log has the reason too.
        let log = std::fs::read_to_string(env.log_path()).unwrap();
        assert!(log.contains("ERROR aod: not started"), "{log}");
        assert!(log.contains(needles[1]), "{log}");
        assert!(!env.socket.exists(), "nothing served");
        assert!(!env.data_dir.join("aod.lock").exists(), "nothing started");
    }
}

#[test]
fn config_check_and_doctor_read_a_bad_configuration_without_a_daemon() {
    let env = TestEnv::with_config("[reaper]\ntick = \"banana\"\n");

    let out = env.run(&["config", "check"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("invalid configuration file"), "{stderr}");
    assert!(stderr.contains(env.config.to_str().unwrap()), "{stderr}");
    assert!(stderr.contains("invalid duration \"banana\""), "{stderr}");
    let out = env.run(&["config", "check", "--json"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let check: Value = serde_json::from_slice(&out.stdout).expect("config check --json");
    assert_eq!(check["ok"], false, "{check}");
    assert!(
        check["error"]
            .as_str()
            .is_some_and(|e| e.contains("tick = \"banana\"")),
        "{check}"
    );

    // doctor may start a daemon, but not for a configuration that would stop it.
    let out = autostart(&env, &["doctor"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    let row = doctor_row(&stdout, "config");
    assert!(row.trim_start().starts_with("FAIL"), "{stdout}");
    assert!(stdout.contains("invalid duration \"banana\""), "{stdout}");
    let row = doctor_row(&stdout, "daemon");
    assert!(
        row.trim_start().starts_with("FAIL") && row.contains("the configuration is invalid"),
        "{stdout}"
    );
    assert!(!env.data_dir.join("aod.lock").exists(), "no daemon started");
    assert!(!env.socket.exists());

    // Fixed: valid, and what it resolves to.
    std::fs::write(&env.config, config("[reaper]\ntick = \"2s\"\n")).unwrap();
    let stdout = env.ok(&["config", "check"]);
    assert!(stdout.contains(env.config.to_str().unwrap()), "{stdout}");
    assert!(stdout.contains(env.data_dir.to_str().unwrap()), "{stdout}");
    assert!(stdout.contains("valid"), "{stdout}");
    let check = env.json(&["config", "check"]);
    assert_eq!(check["ok"], true, "{check}");
    assert_eq!(check["config_file_found"], true, "{check}");
    assert_eq!(check["data_dir"], env.data_dir.to_str().unwrap(), "{check}");
    assert_eq!(check["socket"], env.socket.to_str().unwrap(), "{check}");

    // Without AO_CONFIG, a missing default file means every default applies.
    let home = env.root().join("home");
    let stdout = text(
        &env.aoctl()
            .env_remove("AO_CONFIG")
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .args(["config", "check"])
            .output()
            .unwrap()
            .stdout,
    );
    assert!(
        stdout.contains(&format!(
            "{}/.config/ao/config.toml (not found: every default applies)",
            home.display()
        )),
        "{stdout}"
    );
    assert!(!env.socket.exists(), "config check started nothing");
}

#[test]
fn doctor_warns_about_agents_that_are_not_installed_and_names_what_it_uses() {
    let missing = "/nonexistent/ao-test";
    let mut env = TestEnv::with_config(&config(&format!(
        "[agents.claude-code]\nbinary = \"{missing}/claude\"\n\
         [agents.codex]\nbinary = \"{missing}/codex\"\n"
    )));
    env.start_daemon();
    let pid = env.daemon_pid().unwrap();

    let out = env.run(&["doctor"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    for agent in ["claude-code", "codex"] {
        let row = doctor_row(&stdout, &format!("agent {agent}"));
        assert!(row.trim_start().starts_with("WARN"), "{stdout}");
    }
    let row = doctor_row(&stdout, "config");
    assert!(
        row.contains(&format!("{} (valid)", env.config.display())),
        "{stdout}"
    );
    let row = doctor_row(&stdout, "data dir");
    assert!(row.contains(env.data_dir.to_str().unwrap()), "{stdout}");
    let row = doctor_row(&stdout, "daemon");
    assert!(
        row.trim_start().starts_with("ok")
            && row.contains(&format!("(pid {pid})"))
            && row.contains(&format!("read {}", env.config.display())),
        "{stdout}"
    );

    let checks = env.json(&["doctor"]);
    let claude = doctor_check(&checks, "agent claude-code");
    assert_eq!(
        (&claude["ok"], &claude["warning"]),
        (&Value::Bool(true), &Value::Bool(true))
    );
    assert!(
        claude["detail"]
            .as_str()
            .is_some_and(|d| d.contains(&format!("{missing}/claude"))),
        "{claude}"
    );
    assert_eq!(doctor_check(&checks, "store")["warning"], false);

    // The file changed after the daemon read it: a warning that says how to apply it.
    let edited = std::fs::read_to_string(&env.config).unwrap() + "[reaper]\ntick = \"3s\"\n";
    std::fs::write(&env.config, edited).unwrap();
    let out = env.run(&["doctor"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let row = doctor_row(&stdout, "daemon");
    assert!(
        row.trim_start().starts_with("WARN") && row.contains("aoctl daemon restart"),
        "{stdout}"
    );
    env.stop_daemon();
}

#[test]
fn daemon_starts_at_once_agree_on_one_daemon() {
    let env = TestEnv::with_config(&config(""));
    for round in 0..3 {
        let starts: Vec<_> = (0..4)
            .map(|_| {
                env.aoctl()
                    .args(["daemon", "start"])
                    .stdin(Stdio::null())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("run aoctl daemon start")
            })
            .collect();
        let said: Vec<String> = starts
            .into_iter()
            .map(|child| {
                let out = child.wait_with_output().unwrap();
                assert!(
                    out.status.success(),
                    "round {round}: {} {}",
                    text(&out.stdout),
                    text(&out.stderr)
                );
                text(&out.stdout)
            })
            .collect();
        let pid = env.answering_pid().expect("a daemon answers");
        let started = said
            .iter()
            .filter(|s| s.contains(&format!("aod started (pid {pid})")))
            .count();
        let already = said
            .iter()
            .filter(|s| s.contains(&format!("aod already running (pid {pid})")))
            .count();
        assert_eq!((started, already), (1, 3), "round {round}: {said:?}");
        let stopped = env.ok(&["daemon", "stop"]);
        assert!(
            stopped.contains(&format!("aod stopped (pid {pid})")),
            "{stopped}"
        );
    }
}

#[test]
fn daemon_restart_applies_a_changed_configuration() {
    let repo = GitRepo::new();
    let env = TestEnv::with_config(&config(""));
    // Not running: restart starts it.
    let said = env.ok(&["daemon", "restart"]);
    assert!(said.contains("aod started"), "{said}");
    let first = env.answering_pid().unwrap();
    env.add_project("demo", &repo.path);
    let sh = env.spawn_cmd("demo", "sh");
    let out = env.run(&["spawn", "-p", "demo", "--agent", "greeter"]);
    assert!(!out.status.success(), "no such agent yet");

    std::fs::write(
        &env.config,
        config(
            "[agents.greeter]\nkind = \"command\"\n\
             argv = [\"sh\", \"-c\", \"echo greeter-$((40+2)); exec sleep 100000\"]\n",
        ),
    )
    .unwrap();
    let said = env.ok(&["daemon", "restart"]);
    let second = env.answering_pid().unwrap();
    assert_ne!(first, second);
    assert!(
        said.contains(&format!("aod stopped (pid {first})"))
            && said.contains(&format!("aod started (pid {second})")),
        "{said}"
    );
    let greeter = env.json(&["spawn", "-p", "demo", "--agent", "greeter"]);
    env.wait_tail(greeter["id"].as_str().unwrap(), "greeter-42");
    let status = env.status(&sh);
    assert!(
        ["spawning", "working", "idle"].contains(&status.as_str()),
        "the session kept running: {status}"
    );

    // A configuration the new daemon would refuse: the running one is left alone.
    std::fs::write(&env.config, "surprise = 1\n").unwrap();
    let out = env.run(&["daemon", "restart"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("not restarting the daemon") && stderr.contains("unknown field `surprise`"),
        "{stderr}"
    );
    assert_eq!(env.answering_pid(), Some(second));
    env.ok(&["daemon", "stop"]);
}

#[test]
fn a_daemon_with_other_settings_is_named() {
    let mut env = TestEnv::with_config(&config(""));
    env.start_daemon();
    let pid = env.daemon_pid().unwrap();
    let other_data = env.root().join("other-data");
    let other_config = env.root().join("other.toml");
    std::fs::write(&other_config, config("")).unwrap();

    // Same settings: no warning.
    let out = env.run(&["ls"]);
    assert!(out.status.success() && out.stderr.is_empty(), "{out:?}");

    let out = env
        .aoctl()
        .env("AO_DATA_DIR", &other_data)
        .args(["ls"])
        .output()
        .unwrap();
    assert!(out.status.success(), "it still answers: {out:?}");
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("aoctl: warning: ")
            && stderr.contains(&format!(
                "(pid {pid}) uses the data directory {}",
                env.data_dir.display()
            ))
            && stderr.contains(&format!("not {}", other_data.display())),
        "{stderr}"
    );

    let out = env
        .aoctl()
        .arg("--config")
        .arg(&other_config)
        .args(["daemon", "start"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(
        text(&out.stdout).contains(&format!("aod already running (pid {pid})")),
        "{out:?}"
    );
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "read the configuration file {}, not {}",
            env.config.display(),
            other_config.display()
        )),
        "{stderr}"
    );
    env.stop_daemon();
}
