//! End-to-end tests of `aoctl why`: a real `aod` on temp directories with a private tmux server,
//! driven only through `aoctl`. The report names, for each axis, the observer whose write gave
//! it its value (from the cause each commit keeps in its change-log row), and lists the last
//! transitions with their causes.

use ao_testkit::{GitRepo, TestEnv, assert_error};
use serde_json::Value;

/// The axis named `name` of a report.
fn axis<'a>(why: &'a Value, name: &str) -> &'a Value {
    why["axes"]
        .as_array()
        .and_then(|axes| axes.iter().find(|a| a["axis"] == name))
        .unwrap_or_else(|| panic!("no {name} axis in {why}"))
}

/// The transitions of a report as `(event, observer)`.
fn transitions(why: &Value) -> Vec<(String, String)> {
    why["transitions"]
        .as_array()
        .unwrap_or_else(|| panic!("no transitions in {why}"))
        .iter()
        .map(|t| {
            (
                t["event"].as_str().unwrap_or_default().to_owned(),
                t["cause"]["observer"].as_str().unwrap_or("-").to_owned(),
            )
        })
        .collect()
}

#[test]
fn why_names_the_causes_of_a_spawn_a_probe_and_a_kill() {
    let repo = GitRepo::new();
    let mut env = TestEnv::new();
    env.start_daemon();
    env.add_project("demo", &repo.path);
    let id = env.spawn_cmd("demo", "sh");
    env.wait_status(&id, &["working"]);

    let why = env.json(&["why", &id]);
    assert_eq!(why["id"], id.as_str());
    assert_eq!(why["status"], "working");
    assert_eq!(why["history_complete"], true);
    let session = axis(&why, "session");
    assert_eq!(session["state"], "working");
    assert_eq!(session["reason"], "agent_acknowledged");
    assert_eq!(session["changed_by"]["observer"], "reaper", "{why}");
    assert_eq!(session["changed_by"]["facts"]["runtime"], "alive");
    assert_eq!(session["changed_by"]["facts"]["process"], "alive");
    let runtime = axis(&why, "runtime");
    assert_eq!(runtime["changed_by"]["observer"], "launch", "{why}");
    assert_eq!(
        runtime["changed_by"]["facts"]["runtime_handle"],
        id.as_str()
    );
    assert_eq!(axis(&why, "pr")["changed_by"]["observer"], "spawn");
    let seen = transitions(&why);
    assert_eq!(
        seen[..2],
        [
            ("session_created".to_owned(), "spawn".to_owned()),
            ("session_runtime_updated".to_owned(), "launch".to_owned()),
        ],
        "{why}"
    );
    assert!(
        seen.contains(&("session_state_changed".to_owned(), "reaper".to_owned())),
        "{why}"
    );

    env.json(&["kill", &id]);
    let why = env.json(&["why", &id]);
    assert_eq!(why["status"], "killed");
    let explanation = why["explanation"].as_str().unwrap_or_default();
    assert!(
        explanation.starts_with("killed by `aoctl kill`"),
        "{explanation}"
    );
    let last = why["transitions"].as_array().unwrap().last().unwrap();
    assert_eq!(last["event"], "session_terminated");
    assert_eq!(
        last["cause"]["facts"],
        serde_json::json!({"observer": "kill", "kind": "manual"})
    );
    let changed: Vec<&str> = last["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["axis"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(changed[..2], ["session", "runtime"], "{last}");

    // The change log keeps the same cause for `aoctl events`.
    let events = env.json(&["events", "--session", &id]);
    let terminated = events
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "session_terminated")
        .expect("a session_terminated row");
    assert_eq!(terminated["payload"]["cause"], last["cause"]["facts"]);

    let screen = env.ok(&["why", &id]);
    for needle in [
        format!("{id}: killed\nkilled by `aoctl kill`"),
        "session   terminated/manually_killed\n".to_owned(),
        ", by kill: `aoctl kill`\n".to_owned(),
        "session_terminated".to_owned(),
        "(spawn: spawn requested)".to_owned(),
        "times UTC:".to_owned(),
    ] {
        assert!(screen.contains(&needle), "{needle:?} in:\n{screen}");
    }

    let one = env.json(&["why", &id, "--limit", "1"]);
    assert_eq!(transitions(&one).len(), 1);
    assert_eq!(one["transitions"][0]["event"], "session_terminated");
    assert_eq!(
        env.run(&["why", &id, "--limit", "0"]).status.code(),
        Some(2)
    );
    env.stop_daemon();
}

#[test]
fn why_of_an_unknown_session_fails_like_get() {
    let mut env = TestEnv::new();
    env.start_daemon();
    let get = assert_error(&env.run(&["get", "demo-9"]), 4);
    let why = assert_error(&env.run(&["why", "demo-9"]), 4);
    assert_eq!(why, get);
    assert_error(&env.run(&["why", "not a valid id"]), 2);
    env.stop_daemon();
}

#[test]
fn why_explains_an_agent_that_exited() {
    let repo = GitRepo::new();
    let mut env = TestEnv::fast();
    env.start_daemon();
    env.add_project("demo", &repo.path);
    // The agent exits with an error; its pane stays open on the shell that follows it.
    let id = env.spawn_cmd("demo", "sh -c 'echo bye; exit 2'");
    env.wait_status(&id, &["errored"]);

    let why = env.json(&["why", &id]);
    assert_eq!(why["status"], "errored");
    let explanation = why["explanation"].as_str().unwrap_or_default();
    assert!(
        explanation.starts_with("the session failed")
            && explanation.contains("the agent exited with code 2")
            && explanation.contains("aoctl restore"),
        "{explanation}"
    );
    let session = axis(&why, "session");
    assert_eq!(session["reason"], "error_in_process");
    let probe = &session["changed_by"]["facts"];
    assert_eq!(probe["observer"], "reaper", "{why}");
    assert_eq!(probe["agent_exit"]["code"], 2, "{why}");
    assert_eq!(probe["verdict"], "the agent exited with code 2", "{why}");
    let metadata = why["metadata"].as_array().unwrap();
    assert!(
        metadata
            .iter()
            .any(|m| m["key"] == "exitCode" && m["value"] == "2"),
        "{why}"
    );
    let ended = why["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["changes"][0]["to"] == "terminated/error_in_process")
        .unwrap_or_else(|| panic!("the exit ended the session: {why}"));
    assert_eq!(ended["cause"]["observer"], "reaper");

    let screen = env.ok(&["why", &id]);
    assert!(
        screen.contains(&format!("{id}: errored\nthe session failed")),
        "{screen}"
    );
    assert!(
        screen.contains("the launch script recorded: the agent exited with code 2"),
        "{screen}"
    );
    env.stop_daemon();
}
