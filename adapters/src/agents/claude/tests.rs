//! `claude-code` harness scenarios Q1–Q6 and Q11 (claude rows), against real files and git.

use std::process::Command;

use serde_json::json;

use super::*;
use crate::process::SystemRunner;

fn harness(options: AgentOptions) -> ClaudeHarness {
    harness_with(ClaudeConfig {
        options,
        ..ClaudeConfig::default()
    })
}

fn harness_with(config: ClaudeConfig) -> ClaudeHarness {
    ClaudeHarness::new(config, Arc::new(SystemRunner)).unwrap()
}

fn sid(id: &str) -> SessionId {
    SessionId::parse(id).unwrap()
}

fn launch(prompt: &str, permissions: Option<PermissionMode>) -> LaunchConfig {
    LaunchConfig {
        prompt: Some(prompt.to_owned()),
        permissions,
        ..LaunchConfig::default()
    }
}

/// Q1.
#[test]
fn argv_puts_the_prompt_after_double_dash() {
    let h = harness(AgentOptions::default());
    assert_eq!(
        h.launch_argv(&launch(
            "-add a health check",
            Some(PermissionMode::BypassPermissions)
        ))
        .unwrap(),
        [
            "claude",
            "--permission-mode",
            "bypassPermissions",
            "--",
            "-add a health check"
        ]
    );
    let with_id = LaunchConfig {
        session_id: Some(sid("proj-1")),
        ..launch(
            "-add a health check",
            Some(PermissionMode::BypassPermissions),
        )
    };
    let argv = h.launch_argv(&with_id).unwrap();
    assert_eq!(
        argv[1..3],
        ["--session-id".to_owned(), session_uuid(&sid("proj-1"))]
    );
    assert_eq!(argv[3], "--permission-mode");
    let no_prompt = h.launch_argv(&LaunchConfig::default()).unwrap();
    assert_eq!(no_prompt, ["claude"], "no prompt, no `--`");
}

/// Q2.
#[test]
fn permission_mapping_and_precedence() {
    let h = harness(AgentOptions::default());
    let flag = |mode| {
        let argv = h.launch_argv(&launch("p", mode)).unwrap();
        argv.iter()
            .position(|a| a == "--permission-mode")
            .map(|i| argv[i + 1].clone())
    };
    assert_eq!(flag(None), None);
    assert_eq!(
        flag(Some(PermissionMode::Default)).as_deref(),
        Some("default")
    );
    assert_eq!(
        flag(Some(PermissionMode::AcceptEdits)).as_deref(),
        Some("acceptEdits")
    );
    assert_eq!(flag(Some(PermissionMode::Auto)).as_deref(), Some("auto"));
    assert_eq!(
        flag(Some(PermissionMode::BypassPermissions)).as_deref(),
        Some("bypassPermissions")
    );
    assert_eq!(
        PermissionMode::parse("yolo"),
        None,
        "unknown value rejected"
    );

    let configured = harness(AgentOptions {
        permission_mode: Some(PermissionMode::AcceptEdits),
        model: Some("sonnet".into()),
        ..AgentOptions::default()
    });
    let argv = configured
        .launch_argv(&launch("p", Some(PermissionMode::Default)))
        .unwrap();
    assert_eq!(
        argv,
        [
            "claude",
            "--permission-mode",
            "default",
            "--model",
            "sonnet",
            "--",
            "p"
        ],
        "the spawn's permission beats the config; config model → --model"
    );
    let spawn_model = LaunchConfig {
        model: Some("opus".into()),
        ..launch("p", None)
    };
    let argv = configured.launch_argv(&spawn_model).unwrap();
    assert!(
        argv.windows(2).any(|w| w == ["--model", "opus"]),
        "{argv:?}"
    );
    assert!(
        argv.windows(2)
            .any(|w| w == ["--permission-mode", "acceptEdits"])
    );

    let invalid = ClaudeHarness::new(
        ClaudeConfig {
            options: AgentOptions {
                allowed_tools: vec![String::new()],
                ..AgentOptions::default()
            },
            ..ClaudeConfig::default()
        },
        Arc::new(SystemRunner),
    );
    assert!(matches!(invalid, Err(AgentError::InvalidOptions(_))));
    let unreadable = harness(AgentOptions {
        system_prompt_file: Some("/nonexistent/rules.md".into()),
        ..AgentOptions::default()
    });
    assert!(matches!(
        unreadable.launch_argv(&launch("p", None)),
        Err(AgentError::InvalidOptions(_))
    ));
}

/// Q3.
#[test]
fn system_prompt_and_session_uuid() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rules.md");
    std::fs::write(&file, "from the file\n").unwrap();
    let from_file = harness(AgentOptions {
        system_prompt_file: Some(file.clone()),
        ..AgentOptions::default()
    });
    assert_eq!(
        from_file.launch_argv(&launch("p", None)).unwrap(),
        [
            "claude",
            "--append-system-prompt",
            "from the file",
            "--",
            "p"
        ]
    );
    let inline = harness(AgentOptions {
        system_prompt: Some("inline wins".into()),
        system_prompt_file: Some(file),
        ..AgentOptions::default()
    });
    assert!(
        inline
            .launch_argv(&launch("p", None))
            .unwrap()
            .windows(2)
            .any(|w| w == ["--append-system-prompt", "inline wins"])
    );
    assert_eq!(session_uuid(&sid("proj-1")), session_uuid(&sid("proj-1")));
    assert_ne!(session_uuid(&sid("proj-1")), session_uuid(&sid("proj-2")));
    let parsed = Uuid::parse_str(&session_uuid(&sid("proj-1"))).unwrap();
    assert_eq!(parsed.get_version_num(), 5);
    assert_eq!(
        from_file.initial_agent_session_id(&sid("proj-1")),
        Some(session_uuid(&sid("proj-1")))
    );
}

/// Q6 (tool lists).
#[test]
fn tool_lists_join_with_commas() {
    let h = harness(AgentOptions {
        allowed_tools: vec!["Bash(git log *)".into(), "Read".into()],
        disallowed_tools: vec!["WebFetch".into()],
        ..AgentOptions::default()
    });
    assert_eq!(
        h.launch_argv(&launch("p", Some(PermissionMode::Auto)))
            .unwrap(),
        [
            "claude",
            "--permission-mode",
            "auto",
            "--allowedTools",
            "Bash(git log *),Read",
            "--disallowedTools",
            "WebFetch",
            "--",
            "p"
        ]
    );
}

/// Q5.
#[test]
fn restore_resumes_the_stored_or_derived_conversation() {
    let h = harness(AgentOptions {
        system_prompt: Some("rules".into()),
        model: Some("sonnet".into()),
        ..AgentOptions::default()
    });
    let base = LaunchConfig {
        session_id: Some(sid("proj-1")),
        permissions: Some(PermissionMode::AcceptEdits),
        prompt: Some("not replayed".into()),
        ..LaunchConfig::default()
    };
    let stored = RestoreConfig {
        launch: base.clone(),
        agent_session_id: Some("conv-7".into()),
    };
    assert_eq!(
        h.restore_argv(&stored).unwrap().unwrap(),
        [
            "claude",
            "--permission-mode",
            "acceptEdits",
            "--append-system-prompt",
            "rules",
            "--resume",
            "conv-7"
        ]
    );
    let derived = RestoreConfig {
        launch: base,
        agent_session_id: None,
    };
    let argv = h.restore_argv(&derived).unwrap().unwrap();
    assert_eq!(
        argv[argv.len() - 2..],
        ["--resume".to_owned(), session_uuid(&sid("proj-1"))]
    );
    let neither = RestoreConfig::default();
    assert_eq!(h.restore_argv(&neither).unwrap(), None);
}

/// Q11 (claude-code rows).
#[test]
fn event_table() {
    use ActivityState::*;
    let none = json!({});
    let cases: &[(HookEvent, Value, Option<ActivityState>)] = &[
        (HookEvent::UserPromptSubmit, none.clone(), Some(Active)),
        (HookEvent::PreToolUse, none.clone(), Some(Active)),
        (HookEvent::PostToolUse, none.clone(), Some(Active)),
        (HookEvent::PostToolUseFailure, none.clone(), Some(Active)),
        (HookEvent::PermissionRequest, none.clone(), Some(Blocked)),
        (HookEvent::Stop, none.clone(), Some(Idle)),
        (
            HookEvent::StopFailure,
            json!({"error": "rate_limit", "last_assistant_message": "API Error: Request rejected (429)"}),
            Some(Idle),
        ),
        (
            HookEvent::Notification,
            json!({"notification_type": "idle_prompt"}),
            Some(Idle),
        ),
        (
            HookEvent::Notification,
            json!({"notification_type": "agent_completed"}),
            Some(Idle),
        ),
        (
            HookEvent::Notification,
            json!({"notification_type": "agent_needs_input"}),
            Some(WaitingInput),
        ),
        (
            HookEvent::Notification,
            json!({"notification_type": "permission_prompt"}),
            Some(Blocked),
        ),
        (
            HookEvent::Notification,
            json!({"notification_type": "auth_success"}),
            None,
        ),
        (HookEvent::Notification, none.clone(), None),
        (HookEvent::SessionEnd, json!({"reason": "clear"}), None),
        (HookEvent::SessionEnd, json!({"reason": "resume"}), None),
        (
            HookEvent::SessionEnd,
            json!({"reason": "logout"}),
            Some(Exited),
        ),
        (HookEvent::SessionEnd, none.clone(), Some(Exited)),
        (HookEvent::SessionStart, json!({"source": "startup"}), None),
    ];
    let h = harness(AgentOptions::default());
    for (event, payload, want) in cases {
        assert_eq!(
            h.derive_activity(*event, payload),
            *want,
            "{event} {payload}"
        );
    }
    assert!(h.hook_capable() && h.confirm_capable() && !h.has_terminal_heuristic());
    assert_eq!(h.prompt_delivery(), PromptDelivery::InCommand);
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "--quiet", "-b", "main"]);
    std::fs::write(dir.path().join("README"), "hi\n").unwrap();
    git(dir.path(), &["add", "README"]);
    git(dir.path(), &["commit", "--quiet", "-m", "init"]);
    dir
}

/// What the SM does with `HookInstall::exclude` (the workspace's `AddExclude`).
fn add_excludes(worktree: &Path, patterns: &[String]) {
    let exclude = worktree.join(".git/info/exclude");
    std::fs::create_dir_all(exclude.parent().unwrap()).unwrap();
    let mut text = std::fs::read_to_string(&exclude).unwrap_or_default();
    for p in patterns {
        text.push_str(p);
        text.push('\n');
    }
    std::fs::write(exclude, text).unwrap();
}

/// Q4: the hooks land in the settings file and the worktree stays clean.
#[tokio::test]
async fn hooks_install_keeps_the_worktree_clean() {
    let dir = repo();
    let h = harness(AgentOptions::default());
    let install = h.install_hooks(dir.path()).await.unwrap();
    assert_eq!(install.exclude, [EXCLUDE_PATTERN]);
    add_excludes(dir.path(), &install.exclude);
    assert_eq!(git(dir.path(), &["status", "--porcelain"]), "");
    let settings: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join(SETTINGS_FILE)).unwrap())
            .unwrap();
    let hooks = settings["hooks"].as_object().unwrap();
    assert_eq!(hooks.len(), 10);
    for (native, event, _) in EVENTS {
        let command = &hooks[native][0]["hooks"][0];
        assert_eq!(
            command["command"],
            format!("aoctl hook claude-code {event}")
        );
        assert_eq!(command["timeout"], 30);
    }
    let again = h.install_hooks(dir.path()).await.unwrap();
    assert_eq!(again, install);
}

/// Q4: a settings file the repository tracks is flagged `--skip-worktree`.
#[tokio::test]
async fn tracked_settings_file_is_hidden() {
    let dir = repo();
    std::fs::create_dir_all(dir.path().join(".claude")).unwrap();
    std::fs::write(
        dir.path().join(SETTINGS_FILE),
        r#"{"permissions": {"allow": ["Read"]}}"#,
    )
    .unwrap();
    git(dir.path(), &["add", SETTINGS_FILE]);
    git(dir.path(), &["commit", "--quiet", "-m", "team settings"]);
    let h = harness(AgentOptions::default());
    h.install_hooks(dir.path()).await.unwrap();
    assert_eq!(git(dir.path(), &["status", "--porcelain"]), "");
    let flags = git(dir.path(), &["ls-files", "-v", "--", SETTINGS_FILE]);
    assert!(flags.starts_with("S "), "skip-worktree flag: {flags:?}");
    let settings: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join(SETTINGS_FILE)).unwrap())
            .unwrap();
    assert_eq!(
        settings["permissions"]["allow"][0], "Read",
        "user keys kept"
    );
}

/// Q6: 20 concurrent `pre_launch` calls for 20 worktrees → all 20 entries; the config file
/// follows `CLAUDE_CONFIG_DIR`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_pre_launch_trusts_every_worktree() {
    let home = tempfile::tempdir().unwrap();
    let h = Arc::new(harness_with(ClaudeConfig {
        home: Some(home.path().to_path_buf()),
        ..ClaudeConfig::default()
    }));
    let mut calls = tokio::task::JoinSet::new();
    for i in 0..20 {
        let h = h.clone();
        calls.spawn(async move { h.pre_launch(Path::new(&format!("/w/tree-{i}"))).await });
    }
    while let Some(result) = calls.join_next().await {
        result.unwrap().unwrap();
    }
    let config: Value =
        serde_json::from_str(&std::fs::read_to_string(home.path().join(".claude.json")).unwrap())
            .unwrap();
    assert_eq!(config["projects"].as_object().unwrap().len(), 20);

    let custom = home.path().join("custom");
    let h = harness_with(ClaudeConfig {
        home: Some(home.path().to_path_buf()),
        config_dir: Some(custom.clone()),
        ..ClaudeConfig::default()
    });
    h.pre_launch(Path::new("/w/elsewhere")).await.unwrap();
    assert!(custom.join(".claude.json").is_file());
    let none = harness(AgentOptions::default());
    assert!(matches!(
        none.pre_launch(Path::new("/w")).await,
        Err(AgentError::PreLaunch(_))
    ));
}
