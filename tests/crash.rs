//! End-to-end crash test: `aod` is SIGKILLed while 20 `aoctl spawn`s are in flight. After the
//! restart (boot reconcile) every tmux session and every worktree belongs to a record, spawns
//! the crash interrupted are `errored` with their worktree recorded (and moved to the trash, their
//! unused branches deleted), and no record is lost or duplicated.

use std::collections::BTreeSet;
use std::process::{Child, Stdio};

use ao_testkit::{GitRepo, SLOW, TestEnv, git, wait_for};
use serde_json::Value;

const SPAWNS: usize = 20;

/// The number of `demo-<n>`.
fn number(id: &str) -> u32 {
    id.strip_prefix("demo-")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("unexpected id {id}"))
}

/// Session ids of the worktrees git has registered under the managed root.
fn registered_worktrees(env: &TestEnv, repo: &std::path::Path) -> BTreeSet<String> {
    let root = env.worktree_root().join("demo");
    git(repo, &["worktree", "list", "--porcelain"])
        .lines()
        .filter_map(|l| l.strip_prefix("worktree "))
        .filter_map(|p| std::path::Path::new(p).strip_prefix(&root).ok())
        .map(|p| p.display().to_string())
        .collect()
}

#[test]
fn sigkill_during_twenty_spawns_leaks_and_loses_nothing() {
    let repo = GitRepo::new();
    let mut env = TestEnv::new();
    env.start_daemon();
    // A post-create step of 0–0.9 s spreads the spawns out, so the crash finds them at
    // different steps (worktree, setup, tmux, completion).
    env.add_project_with_post_create("demo", &repo.path, "sh -c 'sleep 0.$(($$ % 10))'");

    let mut spawns: Vec<Child> = (0..SPAWNS)
        .map(|_| {
            env.aoctl()
                .args(["spawn", "-p", "demo", "--cmd", "sleep 100000", "--json"])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start aoctl spawn")
        })
        .collect();
    wait_for("the first spawns to finish", SLOW, || {
        let started = env.tmux_sessions().len();
        if started >= 6 {
            Ok(())
        } else {
            Err(format!("{started} tmux sessions"))
        }
    });
    let orphans = env.crash_daemon();

    // Every client returns: with the session it got, or an error.
    let mut finished: Vec<String> = vec![];
    let mut failed = 0;
    for child in spawns.drain(..) {
        let out = child.wait_with_output().expect("wait for aoctl spawn");
        if out.status.success() {
            let doc: Value = serde_json::from_slice(&out.stdout).expect("spawn --json");
            finished.push(doc["id"].as_str().expect("an id").to_owned());
        } else {
            failed += 1;
        }
    }
    assert!(
        failed > 0,
        "the crash hit no spawn in flight ({} finished)",
        finished.len()
    );

    let offset = env.log_len();
    env.start_daemon();
    let boot = env.log_since(offset);
    assert!(boot.contains("boot reconcile"), "{boot}");

    let all = env.json(&["ls", "--all"]);
    let all = all.as_array().expect("ls --json prints an array");
    // No record lost or duplicated: ids are unique and numbered 1..=n.
    let mut numbers: Vec<u32> = all
        .iter()
        .map(|s| number(s["id"].as_str().unwrap()))
        .collect();
    numbers.sort_unstable();
    let expected: Vec<u32> = (1..=numbers.len() as u32).collect();
    assert_eq!(numbers, expected, "contiguous, unique ids");
    assert!(numbers.len() <= SPAWNS);
    let ids: BTreeSet<String> = all
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect();
    for id in &finished {
        assert!(ids.contains(id), "the finished spawn {id} has its record");
    }

    let tmux: BTreeSet<String> = env.tmux_sessions().into_iter().collect();
    let mut live = BTreeSet::new();
    for session in all {
        let id = session["id"].as_str().unwrap().to_owned();
        let status = session["status"].as_str().unwrap();
        let path = session["workspace_path"].as_str();
        match status {
            // A silent agent shows `spawning` until a probe sees it running, then `working`,
            // and `idle` after 60 s without output.
            "spawning" | "working" | "idle" => {
                assert!(tmux.contains(&id), "live {id} has its pane: {session}");
                assert!(
                    path.is_some_and(|p| std::path::Path::new(p).is_dir()),
                    "live {id} has its worktree: {session}"
                );
                live.insert(id);
            }
            "errored" => {
                assert!(!tmux.contains(&id), "errored {id} has no pane");
                assert_eq!(
                    path.map(std::path::PathBuf::from),
                    Some(env.worktree_root().join("demo").join(&id)),
                    "errored {id} records its worktree path: {session}"
                );
                let detail = session["termination_detail"].as_str().unwrap_or_default();
                assert!(
                    detail.contains("spawn interrupted by daemon restart")
                        || detail.contains("spawn failed"),
                    "{id}: {detail}"
                );
            }
            other => panic!("{id} is {other} after the crash: {session}"),
        }
    }
    for id in &finished {
        assert!(live.contains(id), "a finished spawn is adopted: {id}");
    }
    assert_eq!(tmux, live, "every tmux session belongs to a live record");
    let on_disk: BTreeSet<String> = env.worktree_dirs("demo").into_iter().collect();
    assert!(
        on_disk.is_subset(&ids),
        "every worktree directory belongs to a record: {on_disk:?} vs {ids:?}"
    );
    assert!(
        registered_worktrees(&env, &repo.path).is_subset(&ids),
        "every registered worktree belongs to a record"
    );
    // Interrupted spawns leave no branch behind (nothing was committed on them).
    let branches: BTreeSet<String> = git(
        &repo.path,
        &[
            "for-each-ref",
            "--format=%(refname:short)",
            "refs/heads/ao/",
        ],
    )
    .lines()
    .map(str::to_owned)
    .collect();
    let live_branches: BTreeSet<String> = live.iter().map(|id| format!("ao/{id}")).collect();
    assert_eq!(branches, live_branches, "only live sessions keep a branch");

    // The interrupted spawns' worktrees are found and removed by cleanup.
    env.ok(&["cleanup"]);
    let on_disk: BTreeSet<String> = env.worktree_dirs("demo").into_iter().collect();
    assert_eq!(on_disk, live, "cleanup removed every errored worktree");
    assert_eq!(registered_worktrees(&env, &repo.path), live);
    eprintln!(
        "crash: {} finished, {failed} failed, {} records, {} live, {orphans} orphan processes",
        finished.len(),
        numbers.len(),
        live.len()
    );
    env.stop_daemon();
}
