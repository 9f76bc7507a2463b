//! End-to-end tests of bad input: garbage and oversized frames on the daemon's socket, invalid
//! names and ids, unknown sessions and projects, a message over the size limit, and megabytes of
//! bad input that errors echo only in part. Each must be refused clearly and leave nothing
//! behind.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use ao_testkit::procfs;
use ao_testkit::{GitRepo, TestEnv, assert_error};

/// Writes `bytes` to the daemon's socket, then reads until the daemon hangs up (or a short
/// read timeout passes: a daemon may also just wait for more input). Returns whether it hung
/// up.
fn write_raw(env: &TestEnv, bytes: &[u8]) -> bool {
    let mut stream = UnixStream::connect(&env.socket).expect("connect to the daemon's socket");
    stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .expect("read timeout");
    // The daemon may close the connection before everything is written.
    let _ = stream.write_all(bytes);
    let _ = stream.flush();
    let mut sink = [0u8; 1024];
    loop {
        match stream.read(&mut sink) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) => return e.kind() == std::io::ErrorKind::ConnectionReset,
        }
    }
}

/// Nothing was created: no record, no worktree, no tmux session.
fn assert_nothing_behind(env: &TestEnv) {
    assert_eq!(env.json(&["ls", "--all"]), serde_json::json!([]));
    assert!(env.worktree_dirs("demo").is_empty(), "no worktree");
    assert!(env.tmux_sessions().is_empty(), "no tmux session");
}

#[test]
fn garbage_and_oversized_frames_do_not_stop_the_daemon() {
    let repo = GitRepo::new();
    let mut env = TestEnv::new();
    env.start_daemon();
    env.add_project("demo", &repo.path);

    let mut rng = fastrand::Rng::with_seed(0x5eed);
    for round in 0..20 {
        let len = rng.usize(1..64 * 1024);
        let garbage: Vec<u8> = std::iter::repeat_with(|| rng.u8(..)).take(len).collect();
        write_raw(&env, &garbage);
        // A well-framed request whose JSON is garbage.
        let body = format!("{{\"not\": \"a request\", \"round\": {round}");
        let mut frame = (body.len() as u32).to_be_bytes().to_vec();
        frame.extend(body.as_bytes());
        assert!(
            write_raw(&env, &frame),
            "a bad request closes its connection"
        );
    }
    // A length prefix of 1 GiB, then some of its "body": refused at once, nothing buffered.
    let mut huge = (1u32 << 30).to_be_bytes().to_vec();
    huge.extend(vec![b'x'; 64 * 1024]);
    assert!(
        write_raw(&env, &huge),
        "an oversized frame closes its connection"
    );
    // The largest length the prefix can say.
    assert!(write_raw(&env, &u32::MAX.to_be_bytes()));
    // A connection that sends half a length prefix and hangs up.
    write_raw(&env, &[0, 0]);

    assert_eq!(env.json(&["ls"]), serde_json::json!([]));
    let id = env.spawn_cmd("demo", "sleep 100000");
    assert_eq!(env.json(&["ls"])[0]["id"], id.as_str());
    let pid = env.daemon_pid().expect("the daemon's pid");
    assert!(ao_testkit::procfs::process_alive(pid), "the daemon runs");
    assert!(
        procfs::status_kib(pid, "VmRSS").unwrap_or(0) < 256 * 1024,
        "no frame was buffered whole"
    );
    env.stop_daemon();
}

#[test]
fn invalid_names_and_ids_are_refused_and_leave_nothing_behind() {
    let repo = GitRepo::new();
    let mut env = TestEnv::new();
    env.start_daemon();
    env.add_project("demo", &repo.path);
    let branches_before = ao_testkit::git(&repo.path, &["branch", "--list"]);

    // Invalid branch names: exit 2, one line naming the branch.
    for branch in [
        "bad..name",
        "-leading-dash",
        "has space",
        "end.lock",
        "a~b",
        "@{-1}",
    ] {
        let flag = format!("--branch={branch}");
        let out = env.run(&["spawn", "-p", "demo", "--cmd", "sleep 1", &flag]);
        let line = assert_error(&out, 2);
        assert!(
            line.contains(&format!("invalid branch name \"{branch}\"")),
            "{branch}: {line}"
        );
    }
    // Invalid session ids: exit 2 for every command that takes one.
    for id in ["../x", "a b", "x/y", ""] {
        for args in [
            vec!["get", id],
            vec!["kill", id],
            vec!["restore", id],
            vec!["tail", id],
            vec!["send", id, "hello"],
            vec!["wait", id, "--status", "killed", "--timeout", "1s"],
        ] {
            let line = assert_error(&env.run(&args), 2);
            assert!(line.contains("session id"), "{args:?}: {line}");
        }
    }
    // Invalid project names: exit 2.
    let repo_arg = repo.path.to_str().unwrap();
    for name in ["../x", "a b", "_x", "x/y", ""] {
        let line = assert_error(&env.run(&["project", "add", name, repo_arg]), 2);
        assert!(line.contains("project"), "{name}: {line}");
        let line = assert_error(&env.run(&["spawn", "-p", name, "--cmd", "sleep 1"]), 2);
        assert!(line.contains("project"), "{name}: {line}");
    }
    // Not a repository: exit 2.
    let not_repo = env.root().join("plain-dir");
    std::fs::create_dir(&not_repo).unwrap();
    let line = assert_error(
        &env.run(&["project", "add", "plain", not_repo.to_str().unwrap()]),
        2,
    );
    assert!(line.contains("not a git repository"), "{line}");
    // Unknown sessions and projects: exit 4.
    for args in [
        vec!["get", "demo-99"],
        vec!["kill", "demo-99"],
        vec!["restore", "demo-99"],
        vec!["tail", "demo-99"],
        vec!["send", "demo-99", "hello"],
        vec!["wait", "demo-99", "--status", "killed", "--timeout", "1s"],
        vec!["spawn", "-p", "nope", "--cmd", "sleep 1"],
        vec!["project", "rm", "nope"],
        vec!["ls", "-p", "nope"],
        vec!["cleanup", "-p", "nope"],
    ] {
        let line = assert_error(&env.run(&args), 4);
        assert!(line.contains("not found"), "{args:?}: {line}");
    }
    // Bad agent options: exit 2.
    for args in [
        vec!["spawn", "-p", "demo", "--cmd", ""],
        vec!["spawn", "-p", "demo", "--cmd", "unterminated 'quote"],
        vec!["spawn", "-p", "demo", "--agent", "no-such-agent"],
        vec!["spawn", "-p", "demo"],
    ] {
        assert_error(&env.run(&args), 2);
    }

    assert_nothing_behind(&env);
    assert_eq!(
        ao_testkit::git(&repo.path, &["branch", "--list"]),
        branches_before,
        "no branch was created"
    );
    // No id was used up: the first real session is number 1.
    assert_eq!(env.spawn_cmd("demo", "sleep 100000"), "demo-1");
    env.stop_daemon();
}

#[test]
fn a_message_over_the_limit_is_refused() {
    let repo = GitRepo::new();
    let mut env = TestEnv::new();
    env.start_daemon();
    env.add_project("demo", &repo.path);
    let received = env.root().join("received.txt");
    let id = env.spawn_cmd(
        "demo",
        &format!("sh -c 'exec cat > {}'", received.display()),
    );
    let big = env.root().join("big.txt");
    std::fs::write(&big, vec![b'a'; 1024 * 1024 + 1]).unwrap();
    let line = assert_error(&env.run(&["send", &id, "--file", big.to_str().unwrap()]), 2);
    assert!(line.contains("limit"), "{line}");
    assert_eq!(env.json(&["ls", "--all"]).as_array().map(Vec::len), Some(1));

    // The session took nothing in, and still works.
    env.ok(&["send", &id, "small"]);
    ao_testkit::wait_for("the small message", ao_testkit::SLOW, || {
        let got = std::fs::read_to_string(&received).unwrap_or_default();
        if got == "small\n" {
            Ok(())
        } else {
            Err(format!(
                "{} bytes: {:?}",
                got.len(),
                &got[..got.len().min(80)]
            ))
        }
    });
    env.stop_daemon();
}

/// Sends one request framed as `aoctl` frames it and returns the method's result (`{"Ok": …}`
/// or `{"Err": …}`) with the size of the whole reply frame.
fn call(env: &TestEnv, method: &str, args: serde_json::Value) -> (serde_json::Value, usize) {
    let request = serde_json::json!({"Request": {
        "context": {
            "deadline": {"secs": 30, "nanos": 0},
            "trace_context": {"trace_id": vec![0u8; 16], "span_id": 1, "sampling_decision": "Unsampled"},
        },
        "id": 1,
        "message": {method: args},
    }});
    let body = request.to_string();
    let mut stream = UnixStream::connect(&env.socket).expect("connect to the daemon's socket");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("read timeout");
    stream
        .write_all(&(body.len() as u32).to_be_bytes())
        .and_then(|()| stream.write_all(body.as_bytes()))
        .expect("send the request");
    let mut len = [0u8; 4];
    stream.read_exact(&mut len).expect("a reply");
    let mut reply = vec![0u8; u32::from_be_bytes(len) as usize];
    stream.read_exact(&mut reply).expect("the whole reply");
    let reply: serde_json::Value = serde_json::from_slice(&reply).expect("reply JSON");
    (
        reply["message"]["Ok"][method].clone(),
        reply.to_string().len(),
    )
}

/// A megabyte of bad input gets an error of a few hundred bytes: every echo of it shows at
/// most 80 characters, with an ellipsis and its length.
#[test]
fn errors_quote_at_most_80_characters_of_the_input() {
    let repo = GitRepo::new();
    let mut env = TestEnv::new();
    env.start_daemon();
    env.add_project("demo", &repo.path);
    let mib = 1 << 20;
    let huge = |c: &str| c.repeat(mib);
    let repo_path = repo.path.to_str().unwrap();
    let project = |fields: serde_json::Value| {
        let mut request = serde_json::json!({
            "name": "other", "repo_path": repo_path, "base_branch": null,
            "default_agent": null, "symlinks": [], "copies": [], "post_create": [], "env": [],
        });
        for (k, v) in fields.as_object().unwrap() {
            request[k] = v.clone();
        }
        serde_json::json!({"request": request})
    };
    let spawn = |fields: serde_json::Value| {
        let mut request = serde_json::json!({
            "project": "demo", "agent": "command", "command": ["sleep", "1"], "branch": null,
            "issue": null, "prompt": null, "model": null, "permission_mode": null,
            "request_id": null,
        });
        for (k, v) in fields.as_object().unwrap() {
            request[k] = v.clone();
        }
        serde_json::json!({"request": request})
    };
    let cases = [
        (
            "ProjectAdd",
            project(serde_json::json!({"name": huge("x/")})),
        ),
        (
            "ProjectAdd",
            project(serde_json::json!({"repo_path": huge("/r")})),
        ),
        (
            "ProjectAdd",
            project(serde_json::json!({"base_branch": huge("b")})),
        ),
        (
            "ProjectAdd",
            project(serde_json::json!({"default_agent": huge("a")})),
        ),
        (
            "ProjectAdd",
            project(serde_json::json!({"symlinks": [huge("../")]})),
        ),
        (
            "ProjectAdd",
            project(serde_json::json!({"env": [[huge("K-"), "v"]]})),
        ),
        ("Get", serde_json::json!({"id": huge("i.")})),
        (
            "Kill",
            serde_json::json!({"request": {"id": huge("k"), "preserve": false}}),
        ),
        ("Spawn", spawn(serde_json::json!({"project": huge("p")}))),
        ("Spawn", spawn(serde_json::json!({"agent": huge("a")}))),
        ("Spawn", spawn(serde_json::json!({"branch": huge("b..")}))),
        ("Spawn", spawn(serde_json::json!({"issue": huge("i\n")}))),
        (
            "Spawn",
            spawn(serde_json::json!({"permission_mode": huge("m")})),
        ),
        ("Spawn", spawn(serde_json::json!({"command": [huge("c")]}))),
        (
            "WaitForStatus",
            serde_json::json!({"request": {"ids": ["demo-1"], "statuses": [huge("s")], "any": false, "wait_ms": 0}}),
        ),
        (
            "IngestHook",
            serde_json::json!({"request": {"session_id": huge("s."), "agent": "claude-code",
                "event": "stop", "state": null, "tool_name": null, "tool_use_id": null,
                "agent_session_id": "c", "launch_id": null, "prompt_hash": null}}),
        ),
    ];
    for (method, args) in cases {
        let (result, reply_bytes) = call(&env, method, args.clone());
        let message = result["Err"]["message"].as_str().unwrap_or_else(|| {
            panic!(
                "{method} {}: not an error: {result}",
                &args.to_string()[..200]
            )
        });
        assert!(
            reply_bytes < 1024 && message.contains("…") && message.contains(" bytes)"),
            "{method}: a {reply_bytes}-byte reply: {}",
            &message[..message.len().min(400)]
        );
    }

    // Through aoctl (arguments up to 128 KiB): git's own echo of a branch is bounded too.
    let long = format!("{}..x", "b".repeat(100_000));
    for args in [
        vec![
            "spawn",
            "-p",
            "demo",
            "--cmd",
            "sleep 1",
            "--branch",
            long.as_str(),
        ],
        vec!["get", long.as_str()],
        vec![
            "wait",
            "demo-1",
            "--status",
            long.as_str(),
            "--timeout",
            "1s",
        ],
    ] {
        let line = assert_error(&env.run(&args), 2);
        assert!(
            line.len() < 400 && line.contains("…"),
            "{}",
            &line[..line.len().min(400)]
        );
    }
    let invalid = format!("{}..x", "b".repeat(200));
    let line = assert_error(
        &env.run(&[
            "spawn", "-p", "demo", "--cmd", "sleep 1", "--branch", &invalid,
        ]),
        2,
    );
    assert!(
        line.len() < 400 && line.contains("repeated dots"),
        "the reason is named: {line}"
    );
    assert_nothing_behind(&env);
    env.stop_daemon();
}
