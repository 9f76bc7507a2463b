//! End-to-end tests of the runner's session commands: a real `aod` on temp directories with a
//! private tmux server, driven only through `aoctl` (tmux, git and the file system are only
//! looked at).

use std::io::Read;
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use ao_testkit::{GitRepo, SLOW, TestEnv, assert_error, git, wait_for};
use serde_json::Value;

/// An agent that prints a line every half second: the terminal observer sees it working.
const TICKER: &str = "sh -c 'while :; do echo tick; sleep 0.5; done'";

/// Asserts the documented fields of a session document and their types.
fn assert_session_document(doc: &Value, id: &str, project: &str) {
    let string = |field: &str| {
        doc[field]
            .as_str()
            .unwrap_or_else(|| panic!("{field} is not a string in {doc}"))
            .to_owned()
    };
    assert_eq!(string("id"), id);
    assert_eq!(string("project"), project);
    assert_eq!(string("agent"), "command");
    assert!(!string("status").is_empty());
    assert!(
        doc["activity"].is_null() || doc["activity"].is_string(),
        "activity: {doc}"
    );
    assert_eq!(string("branch"), format!("ao/{id}"));
    assert!(
        std::path::Path::new(&string("workspace_path")).is_absolute(),
        "workspace_path: {doc}"
    );
    assert_eq!(string("runtime_handle"), id, "the tmux session name");
    assert!(doc["pr"].is_null(), "no PR yet: {doc}");
    let created = string("created_at");
    assert!(
        created.len() >= 20 && created.as_bytes()[10] == b'T' && created.ends_with('Z'),
        "created_at is RFC 3339 UTC: {created}"
    );
    assert!(
        doc["last_activity_at"].is_null() || doc["last_activity_at"].is_string(),
        "last_activity_at: {doc}"
    );
}

#[test]
fn spawn_list_send_tail_kill() {
    let repo = GitRepo::new();
    let mut env = TestEnv::new();
    env.start_daemon();
    env.add_project("demo", &repo.path);

    let session = env.json(&["spawn", "-p", "demo", "--cmd", "sh"]);
    assert_eq!(session["id"], "demo-1");
    assert_eq!(session["status"], "spawning");
    let listed = env.json(&["ls"]);
    assert_eq!(listed[0]["id"], "demo-1");
    let table = env.ok(&["ls"]);
    assert!(
        table.lines().any(|l| l.contains("demo-1")),
        "ls shows the session: {table}"
    );

    env.ok(&["send", "demo-1", "echo", "marker-$((6*7))"]);
    env.wait_tail("demo-1", "marker-42");

    let kill = env.json(&["kill", "demo-1"]);
    assert_eq!(kill["workspace_freed"], true);
    assert!(env.tmux_sessions().is_empty(), "tmux session gone");
    assert_eq!(env.status("demo-1"), "killed");
    env.stop_daemon();
}

#[test]
fn json_documents_have_the_documented_fields() {
    let repo = GitRepo::new();
    let mut env = TestEnv::new();
    env.start_daemon();
    env.add_project("demo", &repo.path);

    let spawned = env.json(&["spawn", "-p", "demo", "--cmd", "sleep 100000"]);
    assert_session_document(&spawned, "demo-1", "demo");
    assert!(
        std::path::Path::new(spawned["workspace_path"].as_str().unwrap()).is_dir(),
        "the worktree exists: {spawned}"
    );
    assert_eq!(env.tmux_sessions(), ["demo-1"]);
    assert_session_document(&env.json(&["get", "demo-1"]), "demo-1", "demo");
    let listed = env.json(&["ls"]);
    let listed = listed.as_array().expect("ls --json prints an array");
    assert_eq!(listed.len(), 1);
    assert_session_document(&listed[0], "demo-1", "demo");

    let project = env.json(&["project", "ls"]);
    assert_eq!(project[0]["id"], "demo");
    assert_eq!(project[0]["repo_path"], repo.path.to_str().unwrap());
    env.stop_daemon();
}

#[test]
fn tail_follow_delivers_output_produced_after_it_started() {
    let repo = GitRepo::new();
    let mut env = TestEnv::new();
    env.start_daemon();
    env.add_project("demo", &repo.path);
    let id = env.spawn_cmd("demo", "sh");
    env.ok(&["send", &id, "echo before-$((1+1))"]);
    env.wait_tail(&id, "before-2");

    let mut follow = env
        .aoctl()
        .args(["tail", &id, "-f", "-n", "20"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start aoctl tail -f");
    let seen = Arc::new(Mutex::new(String::new()));
    let reader = {
        let seen = seen.clone();
        let mut stdout = follow.stdout.take().expect("piped stdout");
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                seen.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        })
    };
    let seen_now = || seen.lock().unwrap().clone();
    // The first reply (the last lines and the cursor) has arrived once the old output shows.
    wait_for("tail -f to print the existing output", SLOW, || {
        let text = seen_now();
        if text.contains("before-2") {
            Ok(())
        } else {
            Err(text)
        }
    });
    env.ok(&["send", &id, "echo after-$((2+3))"]);
    wait_for("output produced after the follow started", SLOW, || {
        let text = seen_now();
        if text.contains("after-5") {
            Ok(())
        } else {
            Err(text)
        }
    });

    // Following ends by itself when the session ends.
    env.ok(&["kill", &id]);
    let status = wait_for("tail -f to exit after the kill", SLOW, || {
        match follow.try_wait().expect("poll tail -f") {
            Some(status) => Ok(status),
            None => Err(seen_now()),
        }
    });
    reader.join().expect("reader thread");
    let mut stderr = String::new();
    if let Some(mut pipe) = follow.stderr.take() {
        let _ = pipe.read_to_string(&mut stderr);
    }
    assert!(status.success(), "tail -f exited with {status}: {stderr}");
    env.stop_daemon();
}

#[test]
fn send_delivers_a_multi_line_message_intact() {
    let repo = GitRepo::new();
    let mut env = TestEnv::new();
    env.start_daemon();
    env.add_project("demo", &repo.path);
    let received = env.root().join("received.txt");
    let id = env.spawn_cmd(
        "demo",
        &format!("sh -c 'exec cat > {}'", received.display()),
    );
    let message = "first line\n  second, indented\nquotes ' \" and $HOME `x` ; | &\nlast";
    env.ok(&["send", &id, message]);
    // `cat` writes each line as the terminal completes it; the final Enter ends the last one.
    let expected = format!("{message}\n");
    wait_for("the message in the agent's input", SLOW, || {
        let got = std::fs::read_to_string(&received).unwrap_or_default();
        if got == expected {
            Ok(())
        } else {
            Err(format!("{got:?}"))
        }
    });
    env.stop_daemon();
}

/// A `send` from inside a session names the sender: an agent whose command is `aoctl send`
/// (its pane has `AO_SESSION_ID`, the daemon's socket and `aoctl` on `PATH`) makes the other
/// session's agent receive `[from <sender>] <message>`. An empty `AO_SESSION_ID` adds nothing.
#[test]
fn a_send_from_inside_a_session_names_the_sender() {
    let repo = GitRepo::new();
    let mut env = TestEnv::new();
    env.start_daemon();
    env.add_project("demo", &repo.path);
    let received = env.root().join("received.txt");
    let receiver = env.spawn_cmd(
        "demo",
        &format!("sh -c 'exec cat > {}'", received.display()),
    );
    let sender = env.spawn_cmd(
        "demo",
        &format!(r#"sh -c 'aoctl --no-autostart send {receiver} "hello there"'"#),
    );
    let first = format!("[from {sender}] hello there\n");
    wait_for("the message from the other session", SLOW, || {
        let got = std::fs::read_to_string(&received).unwrap_or_default();
        if got == first {
            Ok(())
        } else {
            Err(format!("{got:?}"))
        }
    });
    let out = env
        .aoctl()
        .env("AO_SESSION_ID", "")
        .args(["send", &receiver, "plain"])
        .output()
        .expect("run aoctl");
    assert!(out.status.success(), "{out:?}");
    let expected = format!("{first}plain\n");
    wait_for("the message from outside any session", SLOW, || {
        let got = std::fs::read_to_string(&received).unwrap_or_default();
        if got == expected {
            Ok(())
        } else {
            Err(format!("{got:?}"))
        }
    });
    env.stop_daemon();
}

#[test]
fn kill_removes_a_clean_worktree_keeps_a_dirty_one_and_preserves_on_request() {
    let repo = GitRepo::new();
    let mut env = TestEnv::new();
    env.start_daemon();
    env.add_project("demo", &repo.path);
    let clean = env.spawn_cmd("demo", "sleep 100000");
    let dirty = env.spawn_cmd("demo", "sleep 100000");
    let preserved = env.spawn_cmd("demo", "sleep 100000");
    let path_of = |id: &str| {
        std::path::PathBuf::from(env.json(&["get", id])["workspace_path"].as_str().unwrap())
    };
    let (clean_path, dirty_path, preserved_path) =
        (path_of(&clean), path_of(&dirty), path_of(&preserved));
    std::fs::write(dirty_path.join("notes.txt"), "keep me\n").unwrap();
    std::fs::write(preserved_path.join("notes.txt"), "stash me\n").unwrap();

    // Clean: session and worktree gone.
    let reply = env.json(&["kill", &clean]);
    assert_eq!(reply["workspace_freed"], true, "{reply}");
    assert!(reply["preserved_ref"].is_null(), "{reply}");
    assert!(!clean_path.exists(), "the clean worktree is removed");
    assert!(!env.tmux_sessions().contains(&clean));
    assert_eq!(env.status(&clean), "killed");

    // Dirty: the session goes, the worktree and its file stay, and the reply says why.
    let text = env.ok(&["kill", &dirty]);
    assert!(
        text.contains("worktree kept") && text.contains("--preserve"),
        "the kill explains the kept worktree: {text}"
    );
    assert!(!env.tmux_sessions().contains(&dirty), "the pane is gone");
    assert_eq!(
        std::fs::read_to_string(dirty_path.join("notes.txt")).unwrap(),
        "keep me\n"
    );
    assert_eq!(env.status(&dirty), "killed");

    // --preserve: the work is stashed into refs/ao/preserved/<id>, the worktree removed.
    let reply = env.json(&["kill", &preserved, "--preserve"]);
    let reference = format!("refs/ao/preserved/{preserved}");
    assert_eq!(reply["workspace_freed"], true, "{reply}");
    assert_eq!(reply["preserved_ref"], reference.as_str(), "{reply}");
    assert!(
        !preserved_path.exists(),
        "the preserved worktree is removed"
    );
    assert_eq!(
        git(&repo.path, &["show", &format!("{reference}:notes.txt")]),
        "stash me\n"
    );
    assert!(env.tmux_sessions().is_empty(), "every pane is gone");
    env.stop_daemon();
}

#[test]
fn restore_relaunches_a_killed_session_in_a_new_pane() {
    let repo = GitRepo::new();
    let mut env = TestEnv::new();
    env.start_daemon();
    env.add_project("demo", &repo.path);
    let id = env.spawn_cmd("demo", "sh");
    // A second session keeps the tmux server (and its pane numbering) alive.
    let other = env.spawn_cmd("demo", "sleep 100000");
    let pane_of = |session: &str| {
        env.panes()
            .into_iter()
            .find(|(name, _, _)| name == session)
            .map(|(_, pane, _)| pane)
    };
    let before = pane_of(&id).expect("the first pane");
    env.ok(&["kill", &id]);
    assert_eq!(pane_of(&id), None);

    let restored = env.json(&["restore", &id]);
    assert_eq!(restored["id"], id.as_str());
    assert_eq!(restored["status"], "spawning", "{restored}");
    let after = pane_of(&id).expect("a pane after restore");
    assert_ne!(before, after, "restore opens a new pane");
    assert!(
        std::path::Path::new(restored["workspace_path"].as_str().unwrap()).is_dir(),
        "the worktree is back: {restored}"
    );
    env.ok(&["send", &id, "echo restored-$((3*3))"]);
    env.wait_tail(&id, "restored-9");
    assert!(pane_of(&other).is_some(), "the other session is untouched");

    // Restoring a live session is refused.
    let out = env.run(&["restore", &id]);
    assert_error(&out, 1);
    env.stop_daemon();
}

#[test]
fn events_and_wait_follow_the_transitions() {
    let repo = GitRepo::new();
    let mut env = TestEnv::fast();
    env.start_daemon();
    env.add_project("demo", &repo.path);
    let id = env.spawn_cmd("demo", TICKER);

    let reply: Value = serde_json::from_str(&env.ok(&[
        "wait",
        &id,
        "--status",
        "working",
        "--timeout",
        "60s",
        "--json",
    ]))
    .expect("wait --json");
    assert_eq!(reply["reached"], true, "{reply}");
    assert_eq!(reply["sessions"][0]["status"], "working", "{reply}");

    // A status that does not come: exit 1 once the timeout passes.
    let out = env.run(&["wait", &id, "--status", "killed", "--timeout", "1s"]);
    let line = assert_error(&out, 1);
    assert!(line.contains("timed out"), "{line}");

    env.ok(&["kill", &id]);
    env.ok(&["wait", &id, "--status", "killed", "--timeout", "60s"]);

    let events = env.json(&["events", "--session", &id]);
    let events = events.as_array().expect("events --json prints an array");
    let types: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    for wanted in [
        "session_created",
        "session_runtime_updated",
        "session_state_changed",
        "session_terminated",
    ] {
        assert!(types.contains(&wanted), "{wanted} in {types:?}");
    }
    let state = |e: &Value| {
        e["payload"]["record"]["lifecycle"]["session"]["state"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(state(&events[0]), "not_started");
    assert!(
        events.iter().any(|e| state(e) == "working"),
        "a working transition: {types:?}"
    );
    assert_eq!(state(events.last().unwrap()), "terminated");
    let seqs: Vec<i64> = events.iter().filter_map(|e| e["seq"].as_i64()).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "seq increases: {seqs:?}"
    );
    assert!(events.iter().all(|e| e["session_id"] == id.as_str()));

    // A cursor: only what came after it.
    let since = seqs[seqs.len() - 2].to_string();
    let tail = env.json(&["events", "--session", &id, "--since", &since]);
    assert_eq!(tail.as_array().map(Vec::len), Some(1), "{tail}");
    assert_eq!(tail[0]["seq"], seqs[seqs.len() - 1]);
    env.stop_daemon();
}

#[test]
fn cleanup_dry_run_reports_and_cleanup_removes() {
    let repo = GitRepo::new();
    let mut env = TestEnv::new();
    env.start_daemon();
    env.add_project("demo", &repo.path);
    let tidy = env.spawn_cmd("demo", "sleep 100000");
    let messy = env.spawn_cmd("demo", "sleep 100000");
    let live = env.spawn_cmd("demo", "sleep 100000");
    let path_of = |id: &str| {
        std::path::PathBuf::from(env.json(&["get", id])["workspace_path"].as_str().unwrap())
    };
    let (tidy_path, messy_path, live_path) = (path_of(&tidy), path_of(&messy), path_of(&live));
    // Both kills keep their worktree (dirty); then one is tidied by hand.
    std::fs::write(tidy_path.join("scratch.txt"), "x\n").unwrap();
    std::fs::write(messy_path.join("scratch.txt"), "y\n").unwrap();
    std::fs::write(live_path.join("scratch.txt"), "z\n").unwrap();
    for id in [&tidy, &messy] {
        assert_eq!(env.json(&["kill", id])["workspace_freed"], false);
    }
    std::fs::remove_file(tidy_path.join("scratch.txt")).unwrap();

    let dry = env.json(&["cleanup", "--dry-run"]);
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["cleaned"], serde_json::json!([tidy]), "{dry}");
    assert_eq!(dry["skipped"][0]["id"], messy.as_str(), "{dry}");
    assert!(
        dry["skipped"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("uncommitted"),
        "{dry}"
    );
    assert!(
        tidy_path.is_dir() && messy_path.is_dir(),
        "a dry run removes nothing"
    );

    let real = env.json(&["cleanup"]);
    assert_eq!(real["cleaned"], serde_json::json!([tidy]), "{real}");
    assert!(!tidy_path.exists(), "cleanup removed the clean worktree");
    assert!(
        messy_path.join("scratch.txt").is_file(),
        "dirty work is kept"
    );
    assert!(live_path.is_dir(), "a live session is not touched");

    let preserve = env.json(&["cleanup", "--preserve"]);
    assert_eq!(
        preserve["cleaned"],
        serde_json::json!([messy]),
        "{preserve}"
    );
    assert!(!messy_path.exists());
    assert_eq!(
        git(
            &repo.path,
            &["show", &format!("refs/ao/preserved/{messy}:scratch.txt")]
        ),
        "y\n"
    );
    assert!(live_path.is_dir() && env.tmux_sessions() == [live.clone()]);
    env.stop_daemon();
}

#[test]
fn project_add_ls_rm() {
    let repo = GitRepo::new();
    let other = GitRepo::new();
    let mut env = TestEnv::new();
    env.start_daemon();
    assert_eq!(env.json(&["project", "ls"]), serde_json::json!([]));
    env.add_project("demo", &repo.path);
    let added = env.json(&["project", "add", "side", other.path.to_str().unwrap()]);
    assert_eq!(added["id"], "side");
    let names: Vec<String> = env
        .json(&["project", "ls"])
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["demo", "side"]);
    let table = env.ok(&["project", "ls"]);
    assert!(table.contains("demo") && table.contains("side"), "{table}");

    // A name is registered once.
    let again = env.run(&["project", "add", "demo", other.path.to_str().unwrap()]);
    assert_error(&again, 2);

    // Refused while a session lives; allowed once it is killed.
    let id = env.spawn_cmd("demo", "sleep 100000");
    let refused = env.run(&["project", "rm", "demo"]);
    let line = assert_error(&refused, 2);
    assert!(line.contains("live session"), "{line}");
    assert_eq!(env.json(&["project", "ls"]).as_array().unwrap().len(), 2);
    env.ok(&["kill", &id]);
    env.ok(&["project", "rm", "demo"]);
    let names: Vec<Value> = env
        .json(&["project", "ls"])
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].clone())
        .collect();
    assert_eq!(names, ["side"]);
    assert_error(&env.run(&["project", "rm", "demo"]), 4);
    env.stop_daemon();
}

/// Spawns from one repository at the same time all succeed. (`git worktree add -b` used to
/// write upstream tracking into the shared `.git/config`, and concurrent spawns failed on its
/// lock.)
#[test]
fn concurrent_spawns_from_one_repository_all_succeed() {
    let repo = GitRepo::new();
    let mut env = TestEnv::new();
    env.start_daemon();
    env.add_project("demo", &repo.path);
    let spawns: Vec<std::process::Child> = (0..20)
        .map(|_| {
            env.aoctl()
                .args(["spawn", "-p", "demo", "--cmd", "sleep 100000", "--json"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start aoctl spawn")
        })
        .collect();
    for child in spawns {
        let out = child.wait_with_output().expect("wait for aoctl spawn");
        assert!(
            out.status.success(),
            "a concurrent spawn failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let live = env.json(&["ls"]);
    assert_eq!(live.as_array().map(Vec::len), Some(20), "{live}");
    assert_eq!(env.tmux_sessions().len(), 20);
    env.stop_daemon();
}

/// A silent agent is `working` once the probe sees it running, not `spawning` for ever: its
/// activity stays unknown until it shows some, and `spawning` never comes back.
#[test]
fn a_silent_agent_is_working_once_seen_running() {
    let repo = GitRepo::new();
    let mut env = TestEnv::fast();
    env.start_daemon();
    env.add_project("demo", &repo.path);
    let id = env.spawn_cmd("demo", "sleep 600");
    env.ok(&["wait", &id, "--status", "working", "--timeout", "60s"]);
    let session = env.json(&["get", &id]);
    assert_eq!(session["status"], "working", "{session}");
    assert_eq!(session["session_state"], "working", "{session}");
    assert_eq!(session["session_reason"], "agent_acknowledged", "{session}");
    assert!(session["activity"].is_null(), "{session}");
    env.ok(&["kill", &id]);
    env.stop_daemon();
}

/// An agent that exits with an error is `errored`, not `stuck`: its launch script's record of
/// the exit code is evidence, the last output shows in `get`, the pane (kept open by a shell)
/// survives a daemon restart, and a kill destroys it.
#[test]
fn an_agent_that_exits_with_an_error_is_errored_with_its_code_and_output() {
    let repo = GitRepo::new();
    let mut env = TestEnv::fast();
    env.start_daemon();
    env.add_project("demo", &repo.path);
    let id = env.spawn_cmd("demo", "sh -c 'echo first line; echo boom >&2; exit 3'");
    let session = env.wait_status(&id, &["errored", "stuck", "detecting", "done"]);
    assert_eq!(session["status"], "errored", "{session}");
    assert_eq!(session["activity"], "exited", "{session}");
    assert_eq!(session["session_reason"], "error_in_process", "{session}");
    assert_eq!(session["exit_code"], 3, "{session}");
    assert!(session["exited_at"].is_string(), "{session}");
    assert_eq!(
        session["termination_detail"], "the agent exited with code 3",
        "{session}"
    );
    let output: Vec<&str> = session["exit_output"]
        .as_array()
        .unwrap_or_else(|| panic!("no exit_output: {session}"))
        .iter()
        .filter_map(|line| line.as_str())
        .collect();
    assert_eq!(output.last(), Some(&"boom"), "{session}");
    assert!(output.contains(&"first line"), "{session}");
    assert!(
        !output.iter().any(|line| line.contains("[ao]")),
        "the exit notice is not the agent's output: {session}"
    );

    let text = env.ok(&["get", &id]);
    assert!(text.contains("exit code") && text.contains('3'), "{text}");
    assert!(
        text.contains("last output:\n") && text.contains("  boom"),
        "{text}"
    );

    // A restarted daemon keeps the open pane of an exited agent.
    env.stop_daemon();
    env.start_daemon();
    assert!(
        env.tmux_sessions().contains(&id),
        "{:?}",
        env.tmux_sessions()
    );
    assert_eq!(
        env.json(&["get", &id])["exit_output"]
            .as_array()
            .map(Vec::len),
        Some(output.len())
    );

    env.ok(&["kill", &id]);
    assert!(!env.tmux_sessions().contains(&id), "kill destroys the pane");
    env.stop_daemon();
}

/// An agent that exits with code 0 is `done`; a restore relaunches it in a fresh pane and the
/// earlier exit no longer describes it.
#[test]
fn an_agent_that_exits_cleanly_is_done_and_can_be_restored() {
    let repo = GitRepo::new();
    let mut env = TestEnv::fast();
    env.start_daemon();
    env.add_project("demo", &repo.path);
    // Exits at once the first time; the relaunch finds the marker and keeps running.
    let id = env.spawn_cmd(
        "demo",
        "sh -c 'if [ -e .again ]; then sleep 600; else touch .again; fi'",
    );
    let session = env.wait_status(&id, &["done", "errored", "stuck", "detecting"]);
    assert_eq!(session["status"], "done", "{session}");
    assert_eq!(session["session_reason"], "agent_exited", "{session}");
    assert_eq!(session["exit_code"], 0, "{session}");
    assert_eq!(session["activity"], "exited", "{session}");

    env.ok(&["restore", &id]);
    let session = env.wait_status(&id, &["working", "done", "errored", "stuck"]);
    assert_eq!(session["status"], "working", "{session}");
    assert!(session["exit_code"].is_null(), "{session}");
    assert!(session["exited_at"].is_null(), "{session}");
    assert!(session["termination_detail"].is_null(), "{session}");
    env.ok(&["kill", &id]);
    env.stop_daemon();
}
