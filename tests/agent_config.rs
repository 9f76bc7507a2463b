//! Agent configuration through the real binaries, without running an agent: a missing CLI
//! fails the spawn before anything is created, and invalid `[agents.*]` settings stop `aod`
//! at start with the setting named.

use std::process::Command;

use ao_testkit::{GitRepo, TestEnv, bin};

#[test]
fn missing_agent_binary_fails_before_anything_is_created() {
    let repo = GitRepo::new();
    let mut env = TestEnv::with_config(
        "[agents.claude-code]\nbinary = \"/nonexistent/claude\"\n\
         [agents.codex]\nbinary = \"/nonexistent/codex\"\n",
    );
    env.start_daemon();
    env.add_project("demo", &repo.path);
    for agent in ["claude-code", "codex"] {
        let out = env.run(&["spawn", "-p", "demo", "--agent", agent, "do it"]);
        assert_eq!(out.status.code(), Some(1), "{agent}: {out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("agent binary not found") && stderr.contains("/nonexistent/"),
            "{agent}: {stderr}"
        );
    }
    let all = env.json(&["ls", "--all"]);
    assert_eq!(all.as_array().map(Vec::len), Some(0), "no record: {all}");
    assert!(env.tmux_sessions().is_empty(), "no tmux session");
    let worktrees = env.data_dir.join("worktrees");
    let created = std::fs::read_dir(&worktrees).map_or(0, |d| d.count());
    assert_eq!(created, 0, "no worktree under {}", worktrees.display());
    env.stop_daemon();
}

#[test]
fn invalid_agent_settings_stop_the_daemon_at_start() {
    let env = TestEnv::new();
    for (toml, setting) in [
        (
            "[agents.claude-code]\npermission_mode = \"yolo\"\n",
            "permission_mode = \"yolo\"",
        ),
        (
            "[agents.codex]\nsystem_prompt_file = \"missing.md\"\n",
            "[agents.codex] system_prompt_file",
        ),
        (
            "[agents.codex]\nallowed_tools = [\"Read\"]\n",
            "[agents.codex] allowed_tools",
        ),
    ] {
        std::fs::write(&env.config, toml).unwrap();
        let out = Command::new(bin("aod"))
            .arg("--config")
            .arg(&env.config)
            .arg("--data-dir")
            .arg(&env.data_dir)
            .arg("--socket")
            .arg(&env.socket)
            .arg("--tmux-socket")
            .arg(&env.tmux_socket)
            .output()
            .expect("run aod");
        assert_eq!(out.status.code(), Some(2), "{toml}: {out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(setting), "{toml}: {stderr}");
        assert!(!env.socket.exists(), "never served");
    }
}
