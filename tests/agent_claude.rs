//! The real, pinned Claude Code CLI under ao, in tmux, against a loopback mock of the Anthropic
//! Messages API. Everything about the session is asserted through `aoctl`; the mock's request
//! log shows what the agent sent.
//!
//! One flow, on purpose (a real agent is heavy on a 2-core machine): spawn → working → idle,
//! `send` acknowledged, turns the API fails (429, then 529) ending at once with the error kept
//! and a queued message delivered as soon as the failed turn ends, a draft in the composer (never
//! typed into: `send --force` sets it aside and types it back, a plain `send` waits for it), a
//! permission dialog → `needs_input` with sends refused, kill, restore resuming the same
//! conversation.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ao_testkit::http::{HttpServer, Request, Response};
use ao_testkit::model_api::{
    Turn, anthropic_error, anthropic_has_tool_result, anthropic_history, anthropic_reply,
    anthropic_user_texts,
};
use ao_testkit::procfs::process_tree;
use ao_testkit::real_agents::agent_binary;
use ao_testkit::{GitRepo, SLOW, TestEnv, wait_for};
use serde_json::json;

/// An Anthropic-style key; Claude Code asks once per key suffix unless it was approved.
const API_KEY: &str = "sk-ant-api03-mock-0123456789abcdefghijklmnopqrstuv";
const FIRST: &str = "say hello to the test";
const SECOND: &str = "second message from the test";
const RATE_LIMITED: &str = "this turn meets a rate limit";
const OVERLOADED: &str = "this turn meets an overloaded API";
const TOOL: &str = "please run the marker command";
const REFUSED: &str = "this must not be typed";
const AFTER: &str = "message after the restore";
const DRAFT: &str = "a draft the user is still writing";
const FORCED: &str = "forced past the draft";
const WAITED: &str = "waited for the draft";

/// The scripted model: a slow first answer (so `working` is observable), a 429 for
/// `RATE_LIMITED` (slow too, so a message sent meanwhile finds the agent busy), a 529 for
/// `OVERLOADED`, a Bash call for `TOOL`, text otherwise.
fn model() -> impl Fn(&Request) -> Response + Send + Sync + 'static {
    let turns = AtomicUsize::new(0);
    move |request: &Request| {
        if request.method != "POST" {
            return Response::json(200, &json!({}));
        }
        let Some(body) = request.json() else {
            return Response::json(400, &json!({"type": "error"}));
        };
        if request.path.starts_with("/v1/messages/count_tokens") {
            return Response::json(200, &json!({"input_tokens": 42}));
        }
        if !request.path.starts_with("/v1/messages") {
            return Response::json(
                404,
                &json!({"type": "error", "error": {"type": "not_found_error", "message": "unknown"}}),
            );
        }
        let n = turns.fetch_add(1, Ordering::SeqCst);
        let last = anthropic_user_texts(&body).pop().unwrap_or_default();
        match last.as_str() {
            RATE_LIMITED => {
                return anthropic_error(429, "mock rate limit").delayed(Duration::from_secs(3));
            }
            OVERLOADED => return anthropic_error(529, "mock overloaded"),
            _ => {}
        }
        let turn = if anthropic_has_tool_result(&body) {
            Turn::Text("The command finished.".to_owned())
        } else if last == TOOL {
            Turn::Bash {
                id: "toolu_mock_1".to_owned(),
                command: "touch marker-from-the-test".to_owned(),
            }
        } else {
            Turn::Text(format!("Mock answer {n}."))
        };
        let reply = anthropic_reply(&body, &turn);
        if last == FIRST {
            reply.delayed(Duration::from_secs(3))
        } else {
            reply
        }
    }
}

/// A home directory like a logged-in user's: onboarding done, the API key approved.
fn prepare_home(home: &std::path::Path) {
    std::fs::create_dir_all(home.join(".claude")).unwrap();
    let suffix = &API_KEY[API_KEY.len() - 20..];
    let config = json!({
        "hasCompletedOnboarding": true,
        "theme": "dark",
        "autoUpdates": false,
        "customApiKeyResponses": {"approved": [suffix], "rejected": []},
    });
    std::fs::write(home.join(".claude.json"), config.to_string()).unwrap();
    std::fs::write(
        home.join(".claude/settings.json"),
        json!({"autoUpdates": false}).to_string(),
    )
    .unwrap();
}

/// Requests to the Messages endpoint whose last typed text is `text`.
fn turns_with(mock: &HttpServer, text: &str) -> Vec<serde_json::Value> {
    mock.requests()
        .iter()
        .filter(|r| {
            r.method == "POST" && (r.path == "/v1/messages" || r.path.starts_with("/v1/messages?"))
        })
        .filter_map(|r| r.json())
        .filter(|b| anthropic_user_texts(b).last().map(String::as_str) == Some(text))
        .collect()
}

/// Skipping this test is announced on the terminal and refused under CI.
#[test]
fn skipping_is_announced_and_refused_under_ci() {
    ao_testkit::real_agents::check_opt_out("claude_code_end_to_end", "AO_TEST_CLAUDE");
}

#[test]
fn claude_code_end_to_end() {
    let Some(claude) = agent_binary("claude", "AO_TEST_CLAUDE") else {
        return;
    };
    let mock = HttpServer::start(model());
    let repo = GitRepo::new();
    let mut env = TestEnv::new();
    let home = env.root().join("home");
    prepare_home(&home);
    env.env
        .push(("HOME".to_owned(), home.display().to_string()));
    let config = format!(
        r#"
[agents.claude-code]
binary = {binary:?}
[agents.claude-code.env]
ANTHROPIC_BASE_URL = {url:?}
ANTHROPIC_API_KEY = {API_KEY:?}
CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC = "1"
DISABLE_AUTOUPDATER = "1"
DISABLE_TELEMETRY = "1"
DISABLE_ERROR_REPORTING = "1"
"#,
        binary = claude.display().to_string(),
        url = mock.url(),
    );
    std::fs::write(&env.config, config).unwrap();
    env.start_daemon();
    env.add_project("demo", &repo.path);

    // doctor shows the resolved CLI and its version.
    let doctor: serde_json::Value =
        serde_json::from_slice(&env.run(&["doctor", "--json"]).stdout).expect("doctor --json");
    let check = doctor
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == "agent claude-code"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(check["ok"], true, "{doctor}");
    assert!(
        check["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("2.1.330"),
        "{check}"
    );

    // Spawn: spawning → working → idle.
    let session = env.json(&[
        "spawn",
        "-p",
        "demo",
        "--agent",
        "claude-code",
        "--permission-mode",
        "default",
        FIRST,
    ]);
    assert_eq!(session["status"], "spawning");
    assert_eq!(session["agent"], "claude-code");
    let mut seen: Vec<String> = vec!["spawning".to_owned()];
    wait_for("demo-1 to work, then go idle", SLOW, || {
        let status = env.status("demo-1");
        if seen.last() != Some(&status) {
            seen.push(status.clone());
        }
        if status == "idle" {
            Ok(())
        } else {
            Err(format!(
                "statuses {seen:?}; pane:\n{}",
                env.capture("demo-1")
            ))
        }
    });
    assert_eq!(seen, ["spawning", "working", "idle"], "status sequence");
    assert_eq!(
        turns_with(&mock, FIRST).len(),
        1,
        "the prompt reached the model once"
    );

    // A message is typed, submitted and acknowledged by the agent's own hook.
    let sent = env.json(&["send", "demo-1", SECOND]);
    assert_eq!(sent["state"], "acknowledged", "{sent}");
    wait_for("the second turn at the model", SLOW, || {
        let n = turns_with(&mock, SECOND).len();
        if n == 1 {
            Ok(())
        } else {
            Err(format!("{n} requests"))
        }
    });
    env.wait_status("demo-1", &["idle"]);
    failed_turns_end_at_once(&env, &mock);

    // A draft in the composer: `send --force` clears it, sends alone, and types it back.
    env.tmux(&["send-keys", "-t", "=demo-1:0.0", "-l", DRAFT]);
    let composer_shows = |what: &str| {
        wait_for(&format!("the composer to show {what:?}"), SLOW, || {
            let pane = env.capture("demo-1");
            if pane.contains(what) {
                Ok(())
            } else {
                Err(pane)
            }
        })
    };
    composer_shows(DRAFT);
    let sent = env.json(&["send", "demo-1", "--force", FORCED]);
    assert_eq!(sent["state"], "acknowledged", "{sent}");
    assert_eq!(sent["draft"], "restored", "{sent}");
    wait_for("the forced turn at the model", SLOW, || {
        let n = turns_with(&mock, FORCED).len();
        if n == 1 {
            Ok(())
        } else {
            Err(format!("{n} requests"))
        }
    });
    composer_shows(DRAFT);
    env.wait_status("demo-1", &["idle"]);

    // A plain send waits behind the draft and says so; once the user clears it, it goes.
    let out = env.ok(&["send", "demo-1", WAITED, "--timeout", "2s"]);
    assert!(
        out.contains("a draft is in the agent's input line"),
        "{out}"
    );
    assert!(turns_with(&mock, WAITED).is_empty(), "not typed yet");
    env.tmux(&["send-keys", "-t", "=demo-1:0.0", "Escape", "Escape"]);
    wait_for("the waited turn at the model", SLOW, || {
        let n = turns_with(&mock, WAITED).len();
        if n == 1 {
            Ok(())
        } else {
            Err(format!("{n} requests; pane:\n{}", env.capture("demo-1")))
        }
    });
    let typed: Vec<String> = mock
        .requests()
        .iter()
        .filter_map(|r| r.json())
        .flat_map(|b| anthropic_user_texts(&b))
        .collect();
    assert!(
        !typed.iter().any(|t| t.contains(DRAFT)),
        "the draft never reached the model: {typed:?}"
    );
    env.wait_status("demo-1", &["idle"]);

    // A tool call opens a permission dialog: needs_input, and sends are refused. The turns
    // started since the failed ones removed the last turn's error.
    let sent = env.json(&["send", "demo-1", TOOL]);
    assert_eq!(sent["state"], "acknowledged", "{sent}");
    let session = env.wait_status("demo-1", &["needs_input"]);
    assert_eq!(session["activity"], "blocked");
    assert_eq!(
        session["last_turn_error"],
        serde_json::Value::Null,
        "{session}"
    );
    let refused = env.run(&["-v", "send", "demo-1", REFUSED]);
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("AwaitingDecision"), "{stderr}");
    assert!(
        !env.capture("demo-1").contains(REFUSED),
        "nothing typed into the dialog"
    );

    // Kill, then restore: the same conversation is resumed.
    let killed = env.json(&["kill", "demo-1"]);
    assert_eq!(killed["workspace_freed"], true, "{killed}");
    assert_eq!(env.status("demo-1"), "killed");
    let restored = env.json(&["restore", "demo-1"]);
    assert_eq!(restored["status"], "spawning");
    let conversation =
        ao_adapters::agents::claude::session_uuid(&ao::domain::SessionId::parse("demo-1").unwrap());
    let handle = restored["runtime_handle"]
        .as_str()
        .unwrap_or("demo-1")
        .to_owned();
    wait_for("claude --resume in the pane", SLOW, || {
        let out = env.tmux(&[
            "list-panes",
            "-t",
            &format!("={handle}:"),
            "-F",
            "#{pane_pid}",
        ]);
        let pid: u32 = String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .map_err(|_| "no pane yet".to_owned())?;
        let tree = process_tree(pid);
        if tree
            .iter()
            .any(|argv| argv.contains(&format!("--resume {conversation}")))
        {
            Ok(())
        } else {
            Err(format!("{tree:?}"))
        }
    });
    let sent = env.json(&["send", "demo-1", AFTER]);
    assert_eq!(sent["state"], "acknowledged", "{sent}");
    let resumed = wait_for("the resumed turn at the model", SLOW, || {
        turns_with(&mock, AFTER)
            .pop()
            .ok_or_else(|| "not yet".to_owned())
    });
    let history = anthropic_history(&resumed);
    for earlier in [FIRST, SECOND, TOOL] {
        assert!(
            history.iter().any(|t| t == earlier),
            "{earlier:?} missing from the resumed history {history:?}"
        );
    }
    let header_ids: Vec<String> = mock
        .requests()
        .iter()
        .filter_map(|r| r.header("x-claude-code-session-id").map(str::to_owned))
        .collect();
    assert!(
        !header_ids.is_empty() && header_ids.iter().all(|id| *id == conversation),
        "one conversation id throughout: {header_ids:?}"
    );
    assert!(turns_with(&mock, REFUSED).is_empty());

    env.json(&["kill", "demo-1"]);
    env.stop_daemon();
}

/// A turn the API rejects ends at once through Claude Code's `StopFailure` hook: the session is
/// idle with the error kept (`aoctl get`, text and JSON), and a message queued while the
/// failing turn was in flight is typed as soon as it ends, not held as busy until a staleness
/// rule gives up on the turn.
fn failed_turns_end_at_once(env: &TestEnv, mock: &HttpServer) {
    let seen_before = env
        .json(&["events", "--session", "demo-1"])
        .as_array()
        .map_or(0, Vec::len);
    let sent = env.json(&["send", "demo-1", RATE_LIMITED]);
    assert_eq!(sent["state"], "acknowledged", "{sent}");
    // The 429 is held back 3 s: the agent is in its turn, so this message waits in the queue.
    let queued = env.json(&["send", "--no-wait", "demo-1", OVERLOADED]);
    assert_eq!(queued["state"], "queued", "{queued}");
    let session = wait_for("the 529 turn to fail too", SLOW, || {
        let session = env.json(&["get", "demo-1"]);
        if session["status"] == "idle" && session["last_turn_error"]["kind"] == "server_error" {
            Ok(session)
        } else {
            Err(format!("{session}\npane:\n{}", env.capture("demo-1")))
        }
    });
    assert_eq!(session["activity"], "idle");
    let message = session["last_turn_error"]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(message.starts_with("API Error: 529"), "{session}");
    let text = env.ok(&["get", "demo-1"]);
    assert!(
        text.lines()
            .any(|l| l.starts_with("last turn error") && l.contains("server_error: API Error: 529")),
        "{text}"
    );
    // `x-should-retry: false`: each failed turn cost one request, no retries.
    assert_eq!(turns_with(mock, RATE_LIMITED).len(), 1, "{}", mock.dump());
    assert_eq!(turns_with(mock, OVERLOADED).len(), 1, "{}", mock.dump());

    // The change log: the 429 turn ended as idle by the hook with the error, and the next
    // activity is the queued message's turn starting (a staleness repair would come from the
    // terminal, without the error).
    let events = env.json(&["events", "--session", "demo-1"]);
    let records: Vec<&serde_json::Value> = events
        .as_array()
        .expect("events --json is an array")
        .iter()
        .skip(seen_before)
        .map(|e| &e["payload"]["record"])
        .collect();
    let activity = |r: &serde_json::Value| {
        let a = &r["lifecycle"]["activity"];
        (
            a["state"].as_str().unwrap_or_default().to_owned(),
            a["source"].as_str().unwrap_or_default().to_owned(),
        )
    };
    let failed = records
        .iter()
        .position(|r| {
            r["metadata"]["lastTurnError"]
                .as_str()
                .is_some_and(|e| e.starts_with("rate_limit: API Error: Request rejected (429)"))
        })
        .unwrap_or_else(|| panic!("no record with the 429 error: {records:#?}"));
    assert_eq!(
        activity(records[failed]),
        ("idle".to_owned(), "hook".to_owned()),
        "{:#?}",
        records[failed]
    );
    let next = records[failed + 1..]
        .iter()
        .find(|r| activity(r) != activity(records[failed]))
        .unwrap_or_else(|| panic!("nothing after the failed turn: {records:#?}"));
    assert_eq!(
        activity(next),
        ("active".to_owned(), "hook".to_owned()),
        "the queued message's turn starts next: {records:#?}"
    );
    assert_eq!(
        next["metadata"]["lastTurnError"],
        serde_json::Value::Null,
        "{next:#}"
    );
}
