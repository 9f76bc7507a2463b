//! End-to-end tests of forgetting ended sessions and pruning `ao/*` branches through the real
//! `aod` and `aoctl`, and of the repository checks of `project add` (base branch, no commits,
//! deleted path): `forget` drops an ended record but keeps its change-log history and never
//! gives its id out again, refuses live sessions; `cleanup --forget-ended [--older-than]` cleans
//! then forgets; `cleanup --branches` deletes only `ao/*` branches checked out nowhere whose
//! every commit is on the base.

use ao_testkit::{GitRepo, TestEnv, assert_error, git};
use serde_json::Value;

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect()
}

fn strings(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

/// The done-when test of `forget`: a failed spawn's errored record goes, its history stays, its
/// id is not reused; a live session and an unknown id are kept with why (exit 1).
#[test]
fn forget_drops_an_ended_record_and_keeps_its_history() {
    let repo = GitRepo::new();
    let mut env = TestEnv::new();
    env.start_daemon();
    env.add_project_with_post_create("demo", &repo.path, "false");
    assert!(
        !env.run(&["spawn", "-p", "demo", "--cmd", "sleep 100000"])
            .status
            .success()
    );
    let listed = env.json(&["ls", "--all"]);
    assert_eq!(ids(&listed), ["demo-1"], "{listed}");
    assert_eq!(listed[0]["status"], "errored", "{listed}");
    let history = env.json(&["events", "--session", "demo-1"]);
    assert!(!history.as_array().unwrap().is_empty(), "{history}");

    let dry = env.json(&["forget", "demo-1", "--dry-run"]);
    assert_eq!(strings(&dry["forgotten"]), ["demo-1"], "{dry}");
    assert_eq!(
        ids(&env.json(&["ls", "--all"])),
        ["demo-1"],
        "a dry run keeps it"
    );

    let human = env.ok(&["forget", "demo-1"]);
    assert!(
        human.contains("demo-1") && human.contains("forgotten"),
        "{human}"
    );
    assert_eq!(ids(&env.json(&["ls", "--all"])), Vec::<String>::new());
    assert_eq!(
        env.json(&["events", "--session", "demo-1"]),
        history,
        "the change log keeps the forgotten session's history"
    );
    let cleanup = env.ok(&["cleanup"]);
    assert!(!cleanup.contains("demo-1"), "{cleanup}");

    env.ok(&["project", "rm", "demo"]);
    env.add_project("demo", &repo.path);
    let live = env.spawn_cmd("demo", "sleep 100000");
    assert_eq!(live, "demo-2", "a forgotten id is never handed out again");
    let out = env.run(&["forget", &live, "demo-77", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let reply: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        strings(&reply["forgotten"]),
        Vec::<String>::new(),
        "{reply}"
    );
    let reasons: Vec<&str> = reply["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["reason"].as_str().unwrap())
        .collect();
    assert!(reasons[0].contains("still live"), "{reply}");
    assert!(reasons[1].contains("no such session"), "{reply}");
    assert_eq!(
        ids(&env.json(&["ls"])),
        [live.as_str()],
        "a live session stays"
    );
    env.ok(&["kill", &live]);
    env.stop_daemon();
}

/// `cleanup --forget-ended` moves ended worktrees to the trash, then forgets those sessions;
/// `--older-than` spares recent ones, `--dry-run` changes nothing, live sessions stay.
#[test]
fn cleanup_forget_ended_cleans_then_forgets() {
    let repo = GitRepo::new();
    let mut env = TestEnv::new();
    env.start_daemon();
    env.add_project("demo", &repo.path);
    let ended = env.spawn_cmd("demo", "sleep 100000");
    let live = env.spawn_cmd("demo", "sleep 100000");
    env.ok(&["kill", &ended]);

    let recent = env.json(&["cleanup", "--forget-ended", "--older-than", "1h"]);
    assert_eq!(
        strings(&recent["forgotten"]["forgotten"]),
        Vec::<String>::new(),
        "{recent}"
    );
    let dry = env.json(&["cleanup", "--forget-ended", "--dry-run"]);
    assert_eq!(
        strings(&dry["forgotten"]["forgotten"]),
        [ended.as_str()],
        "{dry}"
    );
    assert_eq!(
        ids(&env.json(&["ls", "--all"])),
        [ended.clone(), live.clone()]
    );

    let done = env.json(&["cleanup", "--forget-ended"]);
    assert_eq!(
        strings(&done["forgotten"]["forgotten"]),
        [ended.as_str()],
        "{done}"
    );
    assert_eq!(ids(&env.json(&["ls", "--all"])), [live.as_str()]);
    let usage = env.run(&["cleanup", "--older-than", "1h"]);
    assert_eq!(
        usage.status.code(),
        Some(2),
        "--older-than needs --forget-ended"
    );
    env.ok(&["kill", &live]);
    env.stop_daemon();
}

/// `cleanup --branches` deletes exactly the `ao/*` branches checked out nowhere whose every
/// commit is on the base (never moved, or merged); `--dry-run` only says so.
#[test]
fn cleanup_branches_deletes_only_merged_unused_ao_branches() {
    let repo = GitRepo::new();
    let mut env = TestEnv::new();
    env.start_daemon();
    env.add_project("demo", &repo.path);
    let live = env.spawn_cmd("demo", "sleep 100000");
    let r = &repo.path;
    git(r, &["branch", "ao/untouched", "main"]);
    git(r, &["branch", "feature/not-ao", "main"]);
    // `ao/ahead` has a commit main lacks; `ao/landed`'s commit was merged into main.
    for (branch, file) in [("ao/ahead", "ahead.txt"), ("ao/landed", "landed.txt")] {
        git(r, &["checkout", "--quiet", "-b", branch, "main"]);
        std::fs::write(r.join(file), "work\n").unwrap();
        git(r, &["add", file]);
        git(r, &["commit", "--quiet", "-m", file]);
    }
    git(r, &["checkout", "--quiet", "main"]);
    git(
        r,
        &["merge", "--quiet", "--no-ff", "-m", "land", "ao/landed"],
    );
    let before = git(r, &["for-each-ref", "--format=%(refname) %(objectname)"]);

    let dry = env.json(&["cleanup", "--branches", "--dry-run"]);
    let project = &dry["branches"][0];
    assert_eq!(project["base"], "main", "{dry}");
    assert_eq!(
        strings(&project["deleted"]),
        ["ao/landed", "ao/untouched"],
        "{dry}"
    );
    let kept: Vec<(String, String)> = project["kept"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["id"].as_str().unwrap().to_owned(),
                k["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(kept.len(), 2, "{dry}");
    assert_eq!(kept[0].0, "ao/ahead");
    assert!(kept[0].1.contains("not on main"), "{dry}");
    assert_eq!(kept[1].0, format!("ao/{live}"));
    assert!(kept[1].1.contains("checked out"), "{dry}");
    assert_eq!(
        git(r, &["for-each-ref", "--format=%(refname) %(objectname)"]),
        before,
        "a dry run deletes nothing"
    );

    let human = env.ok(&["cleanup", "--branches"]);
    assert!(
        human.contains("ao/landed") && human.contains("deleted"),
        "{human}"
    );
    let left = git(r, &["for-each-ref", "--format=%(refname)", "refs/heads/"]);
    let left: Vec<&str> = left.lines().collect();
    assert_eq!(
        left,
        [
            "refs/heads/ao/ahead".to_owned(),
            format!("refs/heads/ao/{live}"),
            "refs/heads/feature/not-ao".to_owned(),
            "refs/heads/main".to_owned(),
        ]
    );
    env.ok(&["kill", &live]);
    env.stop_daemon();
}

/// `project add` refuses a base branch that does not exist (naming it), a repository without
/// commits and a path that does not exist; a registered project whose repository was deleted
/// says so at spawn.
#[test]
fn project_add_checks_the_base_branch_and_the_repository() {
    let repo = GitRepo::new();
    let mut env = TestEnv::new();
    env.start_daemon();
    let path = repo.path.to_str().unwrap();

    let line = assert_error(
        &env.run(&["project", "add", "demo", path, "--base", "nope"]),
        2,
    );
    assert!(
        line.contains("\"nope\"") && line.contains("does not exist"),
        "{line}"
    );
    env.ok(&["project", "add", "demo", path, "--base", "main"]);

    let empty = env.root().join("empty");
    std::fs::create_dir(&empty).unwrap();
    git(&empty, &["init", "--quiet", "-b", "main"]);
    let line = assert_error(
        &env.run(&["project", "add", "empty", empty.to_str().unwrap()]),
        2,
    );
    assert!(line.contains("has no commits"), "{line}");

    let gone = env.root().join("gone");
    let line = assert_error(
        &env.run(&["project", "add", "gone", gone.to_str().unwrap()]),
        2,
    );
    assert!(line.contains("does not exist"), "{line}");

    let doomed = GitRepo::new();
    env.add_project("doomed", &doomed.path);
    std::fs::remove_dir_all(&doomed.path).unwrap();
    for branch in [None, Some("feat/x")] {
        let mut args = vec!["spawn", "-p", "doomed", "--cmd", "sleep 1"];
        if let Some(branch) = branch {
            args.extend(["--branch", branch]);
        }
        let out = env.run(&args);
        assert!(!out.status.success(), "{out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("does not exist") && !stderr.contains("invalid branch name"),
            "{stderr}"
        );
    }
    env.stop_daemon();
}
