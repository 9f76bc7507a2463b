//! End-to-end smoke test of the runner: a real `aod` on temp directories with a private tmux
//! server, driven only through `aoctl`.

mod support;

use support::{GitRepo, SLOW, TestEnv, wait_for};

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

    env.ok(&["send", "demo-1", "echo", "marker-$((6*7))"]);
    wait_for("the echo in tail", SLOW, || {
        let out = env.ok(&["tail", "demo-1", "-n", "20"]);
        if out.contains("marker-42") {
            Ok(())
        } else {
            Err(out)
        }
    });

    let kill = env.json(&["kill", "demo-1"]);
    assert_eq!(kill["workspace_freed"], true);
    assert!(env.tmux_sessions().is_empty(), "tmux session gone");
    assert_eq!(env.status("demo-1"), "killed");
    env.stop_daemon();
}
