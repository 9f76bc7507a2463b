//! `aoctl hook <agent> <event>`: the callback an agent's hook runner executes.
//!
//! It runs inside the agent's turn, so it must never disturb the agent: it always exits 0 (a
//! panic included), never prints to stdout (some runners feed hook stdout back to the model),
//! never starts a daemon, never retries, and gives the whole exchange with the daemon 250 ms.
//! Like every `aoctl` connection it goes through `ao_proto::connect`, so it sends nothing to a
//! socket another user could own or serve.
//! Failures are one line on stderr plus one line in `$AO_DATA_DIR/hooks.log`.
//!
//! `main` dispatches here before clap parses anything, and no async runtime exists until there
//! is something to send: a callback that has nothing to report, or whose daemon is down, costs
//! little more than the process start.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ao_core::domain::{HookEvent, SessionId};
use ao_proto::{HookRequest, TurnErrorView};
use serde_json::Value;

/// Only the first MiB of the payload is kept; the rest is read and dropped.
const PAYLOAD_LIMIT: usize = 1024 * 1024;
/// How long the payload may take to arrive.
const STDIN_TIMEOUT: Duration = Duration::from_secs(1);
/// Connect, request and reply together (the hook blocks the agent while it runs).
const DAEMON_DEADLINE: Duration = Duration::from_millis(250);
/// A `hooks.log` larger than this is emptied before the next line.
const LOG_LIMIT: u64 = 1024 * 1024;
/// Longest correlation string sent; longer ones are dropped.
const FIELD_MAX: usize = ao_core::decide::hooks::HOOK_FIELD_MAX;
/// Where the conversation id may be, first match wins.
const CONVERSATION_KEYS: [&str; 4] = [
    "session_id",
    "sessionId",
    "conversation_id",
    "conversationId",
];

/// Runs the callback for `args` (`<agent> <event>`); returns only when done, whatever happened.
pub fn run(args: &[std::ffi::OsString]) {
    let agent = args
        .first()
        .map(|a| a.to_string_lossy().into_owned())
        .unwrap_or_default();
    let event = args
        .get(1)
        .map(|a| a.to_string_lossy().into_owned())
        .unwrap_or_default();
    // The default panic message goes to stderr, which is allowed; stdout stays untouched.
    let outcome = std::panic::catch_unwind(|| callback(&agent, &event));
    let failure = match outcome {
        Ok(Ok(())) => return,
        Ok(Err(failure)) => failure,
        Err(_) => Failure {
            session: std::env::var("AO_SESSION_ID").unwrap_or_default(),
            error: "the hook callback panicked".to_owned(),
        },
    };
    report(&failure, &agent, &event);
}

/// Why a callback did not reach the daemon (or the daemon refused it).
struct Failure {
    session: String,
    error: String,
}

fn callback(agent: &str, event: &str) -> Result<(), Failure> {
    let payload = read_stdin();
    let Some(session) = std::env::var("AO_SESSION_ID")
        .ok()
        .filter(|s| SessionId::parse(s).is_ok())
    else {
        return Ok(());
    };
    let fail = |error: String| Failure {
        session: session.clone(),
        error,
    };
    if args_missing(agent, event) {
        return Err(fail("usage: aoctl hook <agent> <event>".to_owned()));
    }
    let payload: Value =
        serde_json::from_slice(&payload).map_err(|e| fail(format!("invalid JSON payload: {e}")))?;
    let state = ao_core::decide::hooks::hook_activity(agent, event, &payload)
        .map_err(|e| fail(e.to_string()))?;
    let agent_session_id = CONVERSATION_KEYS
        .iter()
        .find_map(|key| short_string(&payload, key));
    if state.is_none() && agent_session_id.is_none() {
        return Ok(());
    }
    let prompt_hash = (event == HookEvent::UserPromptSubmit.as_str())
        .then(|| payload.get("prompt").and_then(Value::as_str))
        .flatten()
        .map(ao_core::decide::hooks::prompt_hash);
    let turn_error = event
        .parse::<HookEvent>()
        .ok()
        .and_then(|e| ao_core::decide::hooks::turn_error(agent, e, &payload))
        .map(|e| TurnErrorView {
            kind: e.kind.as_str().to_owned(),
            message: e.message,
        });
    let request = HookRequest {
        session_id: session.clone(),
        agent: agent.to_owned(),
        event: event.to_owned(),
        state: state.map(|s| s.as_str().to_owned()),
        tool_name: short_string(&payload, "tool_name"),
        tool_use_id: short_string(&payload, "tool_use_id"),
        agent_session_id,
        launch_id: std::env::var("AO_RUNTIME_LAUNCH_ID")
            .ok()
            .filter(|l| !l.is_empty()),
        prompt_hash,
        turn_error,
    };
    send(request).map_err(fail)
}

fn args_missing(agent: &str, event: &str) -> bool {
    agent.is_empty() || event.is_empty()
}

/// A string field of at most `FIELD_MAX` characters; longer or blank ones are dropped.
fn short_string(payload: &Value, key: &str) -> Option<String> {
    payload
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty() && s.chars().count() <= FIELD_MAX)
        .map(str::to_owned)
}

/// Reads stdin to EOF (for at most `STDIN_TIMEOUT`) and keeps the first `PAYLOAD_LIMIT`
/// bytes. A reader thread drains the rest so the writer never blocks; when the timeout hits,
/// whatever arrived so far is the payload.
fn read_stdin() -> Vec<u8> {
    let kept = Arc::new(Mutex::new(Vec::new()));
    let (done_tx, done_rx) = mpsc::channel();
    let reader_kept = kept.clone();
    let spawned = std::thread::Builder::new()
        .name("hook-stdin".to_owned())
        .spawn(move || {
            let mut stdin = std::io::stdin().lock();
            let mut chunk = vec![0u8; 64 * 1024];
            loop {
                match stdin.read(&mut chunk) {
                    Ok(0) => break,
                    Ok(n) => {
                        let mut kept = reader_kept.lock().unwrap_or_else(|e| e.into_inner());
                        let room = PAYLOAD_LIMIT.saturating_sub(kept.len());
                        kept.extend_from_slice(&chunk[..n.min(room)]);
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
            let _ = done_tx.send(());
        });
    if spawned.is_ok() {
        let _ = done_rx.recv_timeout(STDIN_TIMEOUT);
    }
    std::mem::take(&mut *kept.lock().unwrap_or_else(|e| e.into_inner()))
}

/// One `ingest_hook` call within `DAEMON_DEADLINE`, on a single-threaded runtime.
fn send(request: HookRequest) -> Result<(), String> {
    let socket = std::env::var_os("AO_SOCKET")
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(ao_proto::paths::default_socket);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("starting the async runtime: {e}"))?;
    runtime.block_on(async {
        let exchange = async {
            let client =
                ao_proto::connect(&socket, DAEMON_DEADLINE)
                    .await
                    .map_err(|e| match e {
                        ao_proto::ConnectError::Untrusted(e) => {
                            format!("not using the daemon socket: {e}")
                        }
                        e => format!("daemon unreachable at {}: {e}", socket.display()),
                    })?;
            let reply = client
                .ingest_hook(ao_proto::context_with_timeout(DAEMON_DEADLINE), request)
                .await
                .map_err(|e| format!("daemon call failed: {e}"))?;
            reply.map_err(|e| format!("daemon refused the hook ({}): {}", e.kind, e.message))
        };
        match tokio::time::timeout(DAEMON_DEADLINE, exchange).await {
            Ok(result) => result,
            Err(_) => Err(format!(
                "no reply from the daemon within the {}ms deadline ({})",
                DAEMON_DEADLINE.as_millis(),
                socket.display()
            )),
        }
    })
}

/// One stderr line and one `hooks.log` line; errors writing the log are ignored (there is
/// nowhere left to report them without disturbing the agent).
fn report(failure: &Failure, agent: &str, event: &str) {
    let one_line = |text: &str| text.replace(['\n', '\r'], " ");
    let error = one_line(&failure.error);
    let session = if failure.session.is_empty() {
        "-".to_owned()
    } else {
        one_line(&failure.session)
    };
    let (agent, event) = (or_dash(&one_line(agent)), or_dash(&one_line(event)));
    eprintln!("aoctl hook: {session} {agent} {event}: {error}");
    let data_dir = std::env::var_os("AO_DATA_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(ao_proto::paths::default_data_dir);
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let line = format!("{now} {session} {agent} {event} {error}\n");
    let _ = append_log(&data_dir.join("hooks.log"), &line);
}

fn or_dash(text: &str) -> String {
    if text.is_empty() {
        "-".to_owned()
    } else {
        text.to_owned()
    }
}

fn append_log(path: &std::path::Path, line: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let oversized = std::fs::metadata(path).is_ok_and(|m| m.len() > LOG_LIMIT);
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    if oversized {
        file.set_len(0)?;
    }
    file.write_all(line.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_and_fields() {
        // The hook takes the session ids the daemon takes.
        assert!(SessionId::parse("proj-1").is_ok());
        assert!(SessionId::parse("A_b-9").is_ok());
        for bad in ["", "../x", "a b", "p/1", "é"] {
            assert!(SessionId::parse(bad).is_err(), "{bad:?}");
        }
        let payload = serde_json::json!({
            "session_id": "x".repeat(257),
            "sessionId": "",
            "conversation_id": "c-1",
            "tool_name": 5,
        });
        let first = CONVERSATION_KEYS
            .iter()
            .find_map(|key| short_string(&payload, key));
        assert_eq!(first.as_deref(), Some("c-1"));
        assert_eq!(short_string(&payload, "tool_name"), None);
    }

    #[test]
    fn log_is_emptied_when_oversized() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("sub/hooks.log");
        append_log(&log, "one\n").unwrap();
        append_log(&log, "two\n").unwrap();
        assert_eq!(std::fs::read_to_string(&log).unwrap(), "one\ntwo\n");
        std::fs::write(&log, vec![b'x'; (LOG_LIMIT + 1) as usize]).unwrap();
        append_log(&log, "fresh\n").unwrap();
        assert_eq!(std::fs::read_to_string(&log).unwrap(), "fresh\n");
    }
}
