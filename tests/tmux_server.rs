//! End-to-end tests of ao's private tmux server going away under a running daemon.
//!
//! - Killed (`kill-server`; tmux leaves its socket file behind, and nothing listens on it any
//!   more), or killed with its socket file removed too: every session's runtime is lost at
//!   once. Within a reaper tick or two each shows `terminated` / `runtime_lost` — never
//!   `detecting`, `stuck` or `killed` on the way — and `aoctl restore` brings it back on a
//!   fresh server.
//! - Alive, but its socket file deleted (what a `/tmp` cleaner does): the panes live on, so a
//!   failed probe is all ao has; the sessions go to quarantine, never to a terminal state, and
//!   recover once the server recreates its socket.

use std::collections::BTreeSet;

use ao_testkit::{GitRepo, SLOW, TestEnv, wait_for};

/// `(status, session_reason)` of a session.
fn status(env: &TestEnv, id: &str) -> (String, String) {
    let session = env.json(&["get", id]);
    let text = |field: &str| session[field].as_str().unwrap_or_default().to_owned();
    (text("status"), text("session_reason"))
}

/// Waits until every session in `ids` shows `wanted`; returns every status seen on the way.
fn wait_all(env: &TestEnv, ids: &[&str], wanted: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    wait_for(&format!("{ids:?} to be {wanted}"), SLOW, || {
        let now: Vec<(String, String)> = ids.iter().map(|id| status(env, id)).collect();
        seen.extend(now.iter().map(|(s, _)| s.clone()));
        if now.iter().all(|(s, _)| s == wanted) {
            Ok(())
        } else {
            Err(format!("{now:?}"))
        }
    });
    seen
}

/// Kills the private tmux server, then waits for both sessions to end as runtime-lost and
/// restores them.
fn kill_server_then_restore(env: &TestEnv, ids: &[&str], remove_socket: bool) {
    let out = env.tmux(&["kill-server"]);
    assert!(out.status.success(), "kill-server: {out:?}");
    if remove_socket {
        std::fs::remove_file(&env.tmux_socket).expect("remove the stale socket file");
    }
    let seen = wait_all(env, ids, "terminated");
    let allowed: BTreeSet<String> = ["working", "terminated"].map(String::from).into();
    assert!(
        seen.is_subset(&allowed),
        "statuses on the way (socket removed: {remove_socket}): {seen:?}"
    );
    for id in ids {
        assert_eq!(status(env, id).1, "runtime_lost", "{id}");
    }
    for id in ids {
        env.ok(&["restore", id]);
    }
    wait_all(env, ids, "working");
    let sessions = env.tmux_sessions();
    for id in ids {
        assert!(
            sessions.iter().any(|s| s == id),
            "{id} runs on a new server: {sessions:?}"
        );
    }
}

#[test]
fn a_killed_tmux_server_ends_every_session_at_once_and_restore_brings_them_back() {
    let repo = GitRepo::new();
    let mut env = TestEnv::fast();
    env.start_daemon();
    env.add_project("demo", &repo.path);
    // Agents that keep printing: their activity is always recent, which is what used to send
    // a vanished runtime into quarantine (`detecting`, `stuck`) before `killed`.
    let ticker = "sh -c 'while true; do echo tick; sleep 0.3; done'";
    let a = env.spawn_cmd("demo", ticker);
    let b = env.spawn_cmd("demo", ticker);
    let ids = [a.as_str(), b.as_str()];
    wait_all(&env, &ids, "working");

    // tmux 3.3 leaves its socket file behind: a stale socket nothing listens on.
    kill_server_then_restore(&env, &ids, false);
    // The server killed and its socket file gone as well.
    kill_server_then_restore(&env, &ids, true);

    // The change log agrees: no quarantine was ever written, nor a kill.
    for id in ids {
        let events = env.json(&["events", "--session", id]);
        let states: BTreeSet<String> = events
            .as_array()
            .expect("events --json prints an array")
            .iter()
            .filter_map(|e| {
                let session = &e["payload"]["record"]["lifecycle"]["session"];
                Some(format!(
                    "{}/{}",
                    session["state"].as_str()?,
                    session["reason"].as_str()?
                ))
            })
            .collect();
        assert!(
            states.contains("terminated/runtime_lost"),
            "{id}: {states:?}"
        );
        assert!(
            states.iter().all(|s| !s.starts_with("detecting")
                && !s.starts_with("stuck")
                && !s.contains("killed")),
            "{id}: {states:?}"
        );
    }
    env.stop_daemon();
}

/// Ends a tmux server by pid when the test ends: with its socket file deleted, the harness's
/// `kill-server` cannot reach it.
struct ServerGuard(nix::unistd::Pid);

impl Drop for ServerGuard {
    fn drop(&mut self) {
        let _ = nix::sys::signal::kill(self.0, nix::sys::signal::Signal::SIGTERM);
    }
}

#[test]
fn a_live_server_whose_socket_file_was_deleted_is_not_dead() {
    let repo = GitRepo::new();
    let mut env = TestEnv::fast();
    env.start_daemon();
    env.add_project("demo", &repo.path);
    // No output, so no recent activity: a vanished runtime would read as dead at once.
    let id = env.spawn_cmd("demo", "sleep 100000");
    wait_for("the agent's pane", SLOW, || {
        if env.tmux_sessions().contains(&id) {
            Ok(())
        } else {
            Err(format!("{:?}", env.tmux_sessions()))
        }
    });
    let out = env.tmux(&["display-message", "-p", "#{pid}"]);
    let server: i32 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("the tmux server's pid");
    let server = nix::unistd::Pid::from_raw(server);
    let _guard = ServerGuard(server);

    std::fs::remove_file(&env.tmux_socket).expect("delete the live server's socket file");
    // Three failed probes in a row: quarantine, then `stuck`; never a terminal state.
    let seen = wait_all(&env, &[&id], "stuck");
    assert!(
        !seen.contains("terminated") && !seen.contains("killed"),
        "a live server's sessions were ended: {seen:?}"
    );
    assert_eq!(status(&env, &id).1, "probe_failure");

    // tmux recreates its socket on SIGUSR1; the session is healthy again.
    nix::sys::signal::kill(server, nix::sys::signal::Signal::SIGUSR1).expect("SIGUSR1");
    wait_for("the socket to come back", SLOW, || {
        if env.tmux_socket.exists() {
            Ok(())
        } else {
            Err("no socket file".to_owned())
        }
    });
    let seen = wait_all(&env, &[&id], "working");
    assert!(!seen.contains("terminated"), "{seen:?}");
    env.stop_daemon();
}
