//! Spawn validates before it creates: input a later step would refuse (a NUL byte in the
//! prompt, the `--cmd` argv, the model or the branch; a prompt longer than a command line
//! carries; a bad project environment) is refused as invalid input (exit 2) before any record,
//! worktree, branch or tmux session exists, and uses up no session id.
//!
//! `aoctl` cannot put a NUL into argv, so these requests go over raw RPC, as any local client
//! of the socket could send them.

use std::time::Duration;

use ao_proto::{ErrorCode, SpawnRequest, WireError};
use ao_testkit::{GitRepo, SLOW, TestEnv, assert_error, git};

/// Sends one spawn request over the daemon's socket and returns the daemon's answer.
fn raw_spawn(env: &TestEnv, request: SpawnRequest) -> Result<ao_proto::SessionView, WireError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async {
        let client = ao_proto::connect(&env.socket, Duration::from_secs(5))
            .await
            .expect("connect to the daemon");
        client
            .spawn(ao_proto::context_with_timeout(SLOW), request)
            .await
            .expect("the RPC itself works")
    })
}

/// A spawn of `sleep 100000` in project `demo`, to be spoiled by each case.
fn sleeper() -> SpawnRequest {
    SpawnRequest {
        project: "demo".to_owned(),
        agent: Some("command".to_owned()),
        command: Some(vec!["sleep".to_owned(), "100000".to_owned()]),
        branch: None,
        issue: None,
        prompt: None,
        model: None,
        permission_mode: None,
        request_id: None,
        parent: None,
        env: Default::default(),
        path: None,
    }
}

/// Nothing exists: no record, no `ao/` branch, no worktree, no tmux session.
fn assert_nothing_created(env: &TestEnv, repo: &GitRepo, case: &str) {
    assert_eq!(
        env.json(&["ls", "--all"]),
        serde_json::json!([]),
        "{case}: a record"
    );
    assert_eq!(
        git(
            &repo.path,
            &["for-each-ref", "--format=%(refname)", "refs/heads/ao/"]
        ),
        "",
        "{case}: a branch"
    );
    assert!(env.worktree_dirs("demo").is_empty(), "{case}: a worktree");
    assert!(env.tmux_sessions().is_empty(), "{case}: a tmux session");
}

#[test]
fn invalid_spawn_input_over_raw_rpc_creates_nothing() {
    let repo = GitRepo::new();
    let mut env = TestEnv::new();
    env.start_daemon();
    env.add_project("demo", &repo.path);

    let with = |change: &dyn Fn(&mut SpawnRequest)| {
        let mut request = sleeper();
        change(&mut request);
        request
    };
    let cases: Vec<(&str, SpawnRequest, &str)> = vec![
        (
            "NUL in the prompt",
            with(&|r| r.prompt = Some("fix\0it".into())),
            "prompt",
        ),
        (
            "NUL in the program",
            with(&|r| r.command = Some(vec!["sle\0ep".into(), "1".into()])),
            "--cmd word 1",
        ),
        (
            "NUL in an argument",
            with(&|r| r.command = Some(vec!["sleep".into(), "10\0x".into()])),
            "--cmd word 2",
        ),
        (
            "NUL in the model",
            with(&|r| {
                r.agent = Some("codex".into());
                r.command = None;
                r.model = Some("gpt\0".into());
            }),
            "model",
        ),
        (
            "a model that reads as a flag",
            with(&|r| {
                r.agent = Some("codex".into());
                r.command = None;
                r.model = Some("--yolo".into());
            }),
            "model",
        ),
        (
            "NUL in the branch",
            with(&|r| r.branch = Some("feat\0x".into())),
            "branch",
        ),
        (
            "NUL in the issue",
            with(&|r| r.issue = Some("GH-1\0".into())),
            "issue",
        ),
        (
            "a prompt longer than one argument",
            with(&|r| r.prompt = Some("x".repeat(200 * 1024))),
            "prompt",
        ),
        (
            "a command line longer than exec carries",
            with(&|r| {
                r.command = Some(
                    std::iter::once("echo".to_owned())
                        .chain(std::iter::repeat_n("y".repeat(100 * 1024), 12))
                        .collect(),
                )
            }),
            "launch command",
        ),
    ];
    for (case, request, field) in cases {
        let error = raw_spawn(&env, request).expect_err(case);
        assert_eq!(error.code, ErrorCode::InvalidArgument, "{case}: {error:?}");
        assert!(error.message.contains(field), "{case}: {}", error.message);
        assert!(
            error.message.len() < 400,
            "{case}: the input is not echoed whole"
        );
        assert_nothing_created(&env, &repo, case);
    }

    // A valid spawn still works, and gets the first id: no id was used up.
    let session = raw_spawn(&env, sleeper()).expect("a valid spawn");
    assert_eq!(session.id, "demo-1");
    env.stop_daemon();
}

#[test]
fn a_project_environment_a_shell_cannot_take_is_refused_before_spawning() {
    let repo = GitRepo::new();
    let mut env = TestEnv::new();
    env.start_daemon();
    // Over RPC a project can be given any environment; registration refuses what the pane's
    // launch script could not export.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let add = |name: &str, env_pairs: Vec<(String, String)>| {
        runtime.block_on(async {
            let client = ao_proto::connect(&env.socket, Duration::from_secs(5))
                .await
                .expect("connect to the daemon");
            client
                .project_add(
                    ao_proto::context_with_timeout(SLOW),
                    ao_proto::ProjectAddRequest {
                        name: name.to_owned(),
                        repo_path: repo.path.display().to_string(),
                        base_branch: None,
                        default_agent: None,
                        symlinks: vec![],
                        copies: vec![],
                        post_create: vec![],
                        env: env_pairs,
                        exclude: vec![],
                    },
                )
                .await
                .expect("the RPC itself works")
        })
    };
    for (key, value) in [("TOKEN", "a\0b"), ("BAD-KEY", "x")] {
        let error = add("demo", vec![(key.to_owned(), value.to_owned())])
            .expect_err("a bad environment is refused");
        assert_eq!(error.code, ErrorCode::InvalidArgument, "{key}: {error:?}");
        assert!(error.message.contains(key), "{key}: {}", error.message);
    }
    let line = assert_error(&env.run(&["spawn", "-p", "demo", "--cmd", "sleep 1"]), 4);
    assert!(line.contains("not found"), "{line}");
    add("demo", vec![("TOKEN".to_owned(), "ok".to_owned())]).expect("a good environment");
    env.stop_daemon();
}
