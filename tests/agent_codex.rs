//! The real, pinned Codex CLI under ao, in tmux, against a loopback mock of the OpenAI
//! Responses API, configured as a custom model provider through `[agents.codex.config]`.
//! Everything about the session is asserted through `aoctl`; the mock's request log shows what
//! the agent sent.
//!
//! One flow: spawn → working → idle, `send` typed (codex is not confirm-capable, so `injected`),
//! an approval dialog → `needs_input` with sends refused, kill, restore with `codex resume` of
//! the captured conversation.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ao_testkit::http::{HttpServer, Request, Response};
use ao_testkit::model_api::{ResponsesTurn, openai_reply, openai_turn_starts, openai_user_texts};
use ao_testkit::procfs::process_tree;
use ao_testkit::real_agents::agent_binary;
use ao_testkit::{GitRepo, SLOW, TestEnv, wait_for};
use serde_json::{Value, json};

const FIRST: &str = "say hello to the test";
const SECOND: &str = "second message from the test";
const TOOL: &str = "please run the marker command";
const REFUSED: &str = "this must not be typed";
const AFTER: &str = "message after the restore";

/// The scripted model: a slow first answer (so `working` is observable), an escalated command
/// for `TOOL`, text otherwise (including codex's own title requests).
fn model() -> impl Fn(&Request) -> Response + Send + Sync + 'static {
    let turns = AtomicUsize::new(0);
    move |request: &Request| {
        if request.method != "POST" || !request.path.ends_with("/responses") {
            return Response::json(404, &json!({"error": {"message": "not mocked"}}));
        }
        let Some(body) = request.json() else {
            return Response::json(400, &json!({"error": {"message": "bad json"}}));
        };
        let n = turns.fetch_add(1, Ordering::SeqCst);
        let last = openai_user_texts(&body).pop().unwrap_or_default();
        let starts = openai_turn_starts(&body);
        let turn = if starts && last == TOOL {
            ResponsesTurn::EscalatedCommand {
                call_id: format!("call_{n}"),
                command: "touch marker-from-the-test".to_owned(),
            }
        } else {
            ResponsesTurn::Text(format!("Mock answer {n}."))
        };
        let reply = openai_reply(n, &turn);
        if starts && last == FIRST {
            reply.delayed(Duration::from_secs(3))
        } else {
            reply
        }
    }
}

/// Turn requests whose last user text is `text`.
fn turns_with(mock: &HttpServer, text: &str) -> Vec<(Value, Option<String>)> {
    mock.requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/responses"))
        .filter_map(|r| {
            r.json()
                .map(|b| (b, r.header("session-id").map(str::to_owned)))
        })
        .filter(|(b, _)| {
            openai_turn_starts(b) && openai_user_texts(b).last().map(String::as_str) == Some(text)
        })
        .collect()
}

/// Skipping this test is announced on the terminal and refused under CI.
#[test]
fn skipping_is_announced_and_refused_under_ci() {
    ao_testkit::real_agents::check_opt_out("codex_end_to_end", "AO_TEST_CODEX");
}

#[test]
fn codex_end_to_end() {
    let Some(codex) = agent_binary("codex", "AO_TEST_CODEX") else {
        return;
    };
    let mock = HttpServer::start(model());
    let repo = GitRepo::new();
    let mut env = TestEnv::new();
    let home = env.root().join("home");
    std::fs::create_dir_all(&home).unwrap();
    env.env
        .push(("HOME".to_owned(), home.display().to_string()));
    let config = format!(
        r#"
[agents.codex]
binary = {binary:?}
[agents.codex.env]
MOCK_OPENAI_KEY = "sk-mock-key"
[agents.codex.config]
model_provider = "mock"
model_providers.mock = {{ name = "mock", base_url = "{url}/v1", wire_api = "responses", env_key = "MOCK_OPENAI_KEY" }}
analytics.enabled = false
"#,
        binary = codex.display().to_string(),
        url = mock.url(),
    );
    std::fs::write(&env.config, config).unwrap();
    env.start_daemon();
    env.add_project("demo", &repo.path);

    let doctor: Value =
        serde_json::from_slice(&env.run(&["doctor", "--json"]).stdout).expect("doctor --json");
    let check = doctor
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == "agent codex"))
        .cloned()
        .unwrap_or_default();
    assert!(
        check["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("0.169.0"),
        "{check}"
    );

    // Spawn: spawning → working → idle.
    let session = env.json(&[
        "spawn",
        "-p",
        "demo",
        "--agent",
        "codex",
        "--permission-mode",
        "default",
        FIRST,
    ]);
    assert_eq!(session["status"], "spawning");
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
    let first = turns_with(&mock, FIRST);
    assert_eq!(first.len(), 1, "the prompt reached the model once");
    let conversation = first[0].1.clone().expect("codex names its session");

    // A message is typed; codex reports no confirmation beyond its own turn hooks.
    let sent = env.json(&["send", "demo-1", SECOND]);
    assert_eq!(sent["state"], "injected", "{sent}");
    wait_for("the second turn at the model", SLOW, || {
        let n = turns_with(&mock, SECOND).len();
        if n == 1 {
            Ok(())
        } else {
            Err(format!("{n} requests"))
        }
    });
    env.wait_status("demo-1", &["idle"]);

    // An escalated command opens the approval dialog: needs_input, and sends are refused.
    env.json(&["send", "demo-1", TOOL]);
    let session = env.wait_status("demo-1", &["needs_input"]);
    assert_eq!(session["activity"], "blocked");
    let refused = env.run(&["-v", "send", "demo-1", REFUSED]);
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("AwaitingDecision"), "{stderr}");

    // Kill, then restore: `codex resume … <conversation>`.
    let killed = env.json(&["kill", "demo-1"]);
    assert_eq!(env.status("demo-1"), "killed", "{killed}");
    let restored = env.json(&["restore", "demo-1"]);
    assert_eq!(restored["status"], "spawning");
    let handle = restored["runtime_handle"]
        .as_str()
        .unwrap_or("demo-1")
        .to_owned();
    wait_for("codex resume in the pane", SLOW, || {
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
        let resumed = tree.iter().any(|argv| {
            argv.contains(" resume ") && argv.trim_end().ends_with(&format!(" {conversation}"))
        });
        if resumed {
            Ok(())
        } else {
            Err(format!("{tree:?}"))
        }
    });
    // Wait for the resumed codex to be ready (its session-start hook captured the id again).
    wait_for("the resumed composer", SLOW, || {
        let pane = env.capture("demo-1");
        if ao_adapters::agents::codex::terminal_activity(&pane).is_some() {
            Ok(())
        } else {
            Err(pane)
        }
    });
    let sent = env.json(&["send", "demo-1", AFTER]);
    assert_eq!(sent["state"], "injected", "{sent}");
    let (resumed, id) = wait_for("the resumed turn at the model", SLOW, || {
        turns_with(&mock, AFTER)
            .pop()
            .ok_or_else(|| "not yet".to_owned())
    });
    assert_eq!(
        id.as_deref(),
        Some(conversation.as_str()),
        "same conversation"
    );
    let history = openai_user_texts(&resumed);
    for earlier in [FIRST, SECOND, TOOL] {
        assert!(
            history.iter().any(|t| t == earlier),
            "{earlier:?} missing from the resumed history {history:?}"
        );
    }
    assert!(turns_with(&mock, REFUSED).is_empty());

    env.json(&["kill", "demo-1"]);
    env.stop_daemon();
}
