//! End-to-end tests of lossless teardown through the real `aod` and `aoctl`: killed and cleaned
//! worktrees go to the trash with everything they hold (a detached-HEAD commit, a nested
//! repository, ignored files, a build directory) and come back byte-identical; commits stay
//! reachable; a kill the daemon did not finish is finished or rolled back at its next start; a
//! failed spawn leaves no branch; and a kill whose runtime left files behind says so.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use ao_testkit::files::{Frozen, tree_digest};
use ao_testkit::procfs::descendants;
use ao_testkit::{GitRepo, SLOW, TestEnv, git, wait_for};
use serde_json::Value;

fn path_of(env: &TestEnv, id: &str) -> PathBuf {
    PathBuf::from(env.json(&["get", id])["workspace_path"].as_str().unwrap())
}

fn string(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

/// Whether any branch, tag or other ref reaches `commit`.
fn reachable(repo: &Path, commit: &str) -> bool {
    !git(
        repo,
        &["for-each-ref", "--contains", commit, "--format=%(refname)"],
    )
    .trim()
    .is_empty()
}

/// A commit on a detached HEAD in `worktree`; returns it.
fn detached_commit(worktree: &Path, file: &str) -> String {
    git(worktree, &["checkout", "--quiet", "--detach"]);
    std::fs::write(worktree.join(file), format!("{file}\n")).unwrap();
    git(worktree, &["add", file]);
    git(worktree, &["commit", "--quiet", "-m", file]);
    git(worktree, &["rev-parse", "HEAD"]).trim().to_owned()
}

/// The done-when test: a worktree holding a detached-HEAD commit, a nested repository (one
/// commit, one uncommitted file), ignored files and a build directory goes through
/// `kill --preserve` and comes back byte-identical from `aoctl trash restore`.
#[test]
fn a_killed_worktree_comes_back_byte_identical_from_the_trash() {
    let repo = GitRepo::new();
    let mut env = TestEnv::new();
    env.start_daemon();
    env.add_project("demo", &repo.path);
    let id = env.spawn_cmd("demo", "sleep 100000");
    let wt = path_of(&env, &id);

    std::fs::write(wt.join(".gitignore"), ".env\n*.local\nbuild/\n").unwrap();
    git(&wt, &["add", ".gitignore"]);
    git(&wt, &["commit", "--quiet", "-m", "ignore"]);
    let commit = detached_commit(&wt, "detached.txt");
    let lib = wt.join("vendor/lib");
    std::fs::create_dir_all(&lib).unwrap();
    git(&lib, &["init", "--quiet", "-b", "main"]);
    std::fs::write(lib.join("committed.rs"), "pub fn a() {}\n").unwrap();
    git(&lib, &["add", "committed.rs"]);
    git(&lib, &["commit", "--quiet", "-m", "lib"]);
    std::fs::write(lib.join("uncommitted.rs"), "pub fn b() {}\n").unwrap();
    std::fs::write(wt.join(".env"), "SECRET=1\n").unwrap();
    std::fs::write(wt.join("notes.local"), "scratch notes\n").unwrap();
    std::fs::create_dir_all(wt.join("build/bin")).unwrap();
    std::fs::write(wt.join("build/bin/app"), [0u8, 159, 146, 150, 255]).unwrap();
    std::fs::set_permissions(
        wt.join("build/bin/app"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let before = tree_digest(&wt);

    let reply = env.json(&["kill", &id, "--preserve"]);
    assert_eq!(reply["workspace_freed"], true, "{reply}");
    assert_eq!(
        reply["detached_ref"],
        format!("refs/ao/detached/{id}"),
        "{reply}"
    );
    assert_eq!(reply["preserved_ref"], Value::Null, "{reply}");
    assert_eq!(
        reply["nested_repos"],
        serde_json::json!(["vendor/lib"]),
        "{reply}"
    );
    let trash_path = PathBuf::from(string(&reply["trash_path"]));
    assert!(
        trash_path.starts_with(env.worktree_root().join(".trash")),
        "{reply}"
    );
    assert!(!wt.exists());
    assert_eq!(
        tree_digest(&trash_path),
        before,
        "the trash holds everything"
    );
    assert!(
        reachable(&repo.path, &commit),
        "the detached commit is pinned"
    );

    let listed = env.json(&["trash", "ls"]);
    let entries = listed.as_array().unwrap();
    assert_eq!(entries.len(), 1, "{listed}");
    assert_eq!(entries[0]["session"], id.as_str());
    assert_eq!(entries[0]["state"], "trashed");
    assert_eq!(entries[0]["original_path"], wt.display().to_string());
    let table = env.ok(&["trash", "ls"]);
    assert!(
        table.contains(&id) && table.contains("refs/ao/detached/"),
        "{table}"
    );

    let restored = env.json(&["trash", "restore", &string(&entries[0]["id"])]);
    assert_eq!(
        restored["original_path"],
        wt.display().to_string(),
        "{restored}"
    );
    assert_eq!(
        tree_digest(&wt),
        before,
        "byte-identical after the round trip"
    );
    assert_eq!(git(&wt, &["rev-parse", "HEAD"]).trim(), commit);
    assert_eq!(env.json(&["trash", "ls"]), serde_json::json!([]));

    // The session relaunches in the restored worktree.
    env.ok(&["restore", &id]);
    env.wait_status(&id, &["spawning", "working", "idle"]);
    assert_eq!(tree_digest(&wt), before, "restore changed nothing");
    env.stop_daemon();
}

/// Issue item 3: ignored files in an otherwise clean worktree survive `aoctl kill`, and
/// `aoctl restore` brings the worktree back with them.
#[test]
fn ignored_files_survive_a_kill_and_come_back_with_restore() {
    let repo = GitRepo::new();
    std::fs::write(repo.path.join(".gitignore"), ".env\nnotes.local\n").unwrap();
    git(&repo.path, &["add", ".gitignore"]);
    git(&repo.path, &["commit", "--quiet", "-m", "ignore"]);
    git(&repo.path, &["push", "--quiet", "origin", "main"]);
    let mut env = TestEnv::new();
    env.start_daemon();
    env.add_project("demo", &repo.path);
    let id = env.spawn_cmd("demo", "sleep 100000");
    let wt = path_of(&env, &id);
    std::fs::write(wt.join(".env"), "API_KEY=abc\n").unwrap();
    std::fs::write(wt.join("notes.local"), "my notes\n").unwrap();

    let said = env.ok(&["kill", &id]);
    assert!(said.contains("moved to the trash"), "{said}");
    assert!(
        said.contains(".trash"),
        "the reply says where the files went: {said}"
    );
    assert!(!wt.exists());

    env.ok(&["restore", &id]);
    assert_eq!(
        std::fs::read_to_string(wt.join(".env")).unwrap(),
        "API_KEY=abc\n"
    );
    assert_eq!(
        std::fs::read_to_string(wt.join("notes.local")).unwrap(),
        "my notes\n"
    );
    env.ok(&["kill", &id]);
    env.stop_daemon();
}

/// Issue item 1: a commit on a detached HEAD stays reachable through kill, kill --preserve,
/// cleanup and cleanup --preserve, and after the trash is emptied.
#[test]
fn detached_head_commits_stay_reachable_on_every_removal_path() {
    let repo = GitRepo::new();
    let mut env = TestEnv::new();
    env.start_daemon();
    env.add_project("demo", &repo.path);
    let ids: Vec<String> = (0..4)
        .map(|_| env.spawn_cmd("demo", "sleep 100000"))
        .collect();
    let commits: Vec<String> = ids
        .iter()
        .map(|id| detached_commit(&path_of(&env, id), &format!("{id}.txt")))
        .collect();
    for commit in &commits {
        assert!(!reachable(&repo.path, commit));
    }

    env.ok(&["kill", &ids[0]]);
    env.ok(&["kill", &ids[1], "--preserve"]);
    // The cleanup paths need terminal sessions whose worktrees are still there: a scratch file
    // keeps them at kill, and is removed before the plain cleanup.
    for id in &ids[2..] {
        std::fs::write(path_of(&env, id).join("scratch.txt"), "x\n").unwrap();
        assert_eq!(env.json(&["kill", id])["workspace_freed"], false);
    }
    std::fs::remove_file(path_of(&env, &ids[2]).join("scratch.txt")).unwrap();
    let cleaned = env.json(&["cleanup"]);
    assert_eq!(cleaned["cleaned"], serde_json::json!([ids[2]]), "{cleaned}");
    assert_eq!(
        cleaned["retired"][0]["detached_ref"],
        format!("refs/ao/detached/{}", ids[2]),
        "{cleaned}"
    );
    let preserved = env.json(&["cleanup", "--preserve"]);
    assert_eq!(
        preserved["cleaned"],
        serde_json::json!([ids[3]]),
        "{preserved}"
    );

    for (id, commit) in ids.iter().zip(&commits) {
        assert_eq!(
            git(
                &repo.path,
                &["rev-parse", &format!("refs/ao/detached/{id}")]
            )
            .trim(),
            commit,
            "{id}"
        );
    }
    let emptied = env.json(&["trash", "empty"]);
    assert_eq!(emptied["removed"].as_array().unwrap().len(), 4, "{emptied}");
    let unreachable = git(&repo.path, &["fsck", "--unreachable", "--no-reflogs"]);
    for commit in &commits {
        assert!(reachable(&repo.path, commit), "{commit}");
        assert!(!unreachable.contains(commit.as_str()), "{unreachable}");
    }
    env.stop_daemon();
}

/// A spawn that fails after its worktree was made leaves no branch behind (its worktree goes
/// to the trash).
#[test]
fn a_failed_spawn_leaves_no_branch() {
    let repo = GitRepo::new();
    let mut env = TestEnv::new();
    env.start_daemon();
    env.add_project_with_post_create("demo", &repo.path, "false");
    let out = env.run(&["spawn", "-p", "demo", "--cmd", "sleep 100000"]);
    assert!(!out.status.success());
    let branches = git(&repo.path, &["for-each-ref", "refs/heads/ao/"]);
    assert_eq!(branches.trim(), "", "no ao/* branch is left");
    let listed = env.json(&["ls", "--all"]);
    assert_eq!(listed[0]["status"], "errored", "{listed}");
    let trash = env.json(&["trash", "ls"]);
    assert_eq!(trash.as_array().unwrap().len(), 1, "{trash}");
    env.stop_daemon();
}

/// Installs a `git` that runs the real one and then, for the first call whose arguments contain
/// the text in `<dir>/hang-at` (when that file exists), never returns: the daemon is "killed
/// between two steps" at that point. Returns the directory to put first on PATH.
fn hanging_git(env: &TestEnv) -> PathBuf {
    let dir = env.root().join("bin");
    std::fs::create_dir_all(&dir).unwrap();
    let real = String::from_utf8(
        std::process::Command::new("sh")
            .args(["-c", "command -v git"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let script = format!(
        "#!/bin/sh\n\
         '{real}' \"$@\"\n\
         status=$?\n\
         at='{dir}/hang-at'\n\
         if [ -e \"$at\" ] && [ ! -e \"$at.hit\" ]; then\n\
           case \" $* \" in *\" $(cat \"$at\")\"*) : > \"$at.hit\"; exec sleep 3600;; esac\n\
         fi\n\
         exit $status\n",
        real = real.trim(),
        dir = dir.display(),
    );
    let git = dir.join("git");
    std::fs::write(&git, script).unwrap();
    std::fs::set_permissions(&git, std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// SIGKILLs the daemon and the git stuck under it.
fn crash_at(env: &mut TestEnv, bin: &Path) {
    wait_for("the daemon to reach the step", SLOW, || {
        if bin.join("hang-at.hit").exists() {
            Ok(())
        } else {
            Err(env.log_tail(5))
        }
    });
    let pid = env.daemon_pid().expect("a daemon");
    let stuck = descendants(pid);
    env.kill_daemon_hard();
    for pid in stuck {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid as i32),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    std::fs::remove_file(bin.join("hang-at")).unwrap();
    std::fs::remove_file(bin.join("hang-at.hit")).unwrap();
}

/// A kill cut short by `kill -9` is finished or rolled back at the next start: after the lock
/// (rolled back: the worktree is where it was, unlocked, and cleanup moves it), after the rename
/// (finished: a complete trash entry), and after the stash (the next `cleanup --preserve`
/// finishes with the same preserved ref).
#[test]
fn a_kill_cut_short_is_finished_or_rolled_back_at_the_next_start() {
    let repo = GitRepo::new();
    let mut env = TestEnv::new();
    let bin = hanging_git(&env);
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    env.env.push(("PATH".to_owned(), path));
    env.start_daemon();
    env.add_project("demo", &repo.path);
    let ids: Vec<String> = (0..3)
        .map(|_| env.spawn_cmd("demo", "sleep 100000"))
        .collect();
    let paths: Vec<PathBuf> = ids.iter().map(|id| path_of(&env, id)).collect();
    let kill = |env: &TestEnv, args: &[&str]| {
        env.aoctl()
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };

    // 1. After the lock, before the rename.
    std::fs::write(bin.join("hang-at"), "worktree lock").unwrap();
    let mut client = kill(&env, &["kill", &ids[0]]);
    crash_at(&mut env, &bin);
    let _ = client.wait();
    let listing = git(&repo.path, &["worktree", "list", "--porcelain"]);
    assert!(listing.contains("locked ao trash"), "{listing}");
    env.start_daemon();
    let listing = git(&repo.path, &["worktree", "list", "--porcelain"]);
    assert!(!listing.contains("locked"), "rolled back: {listing}");
    assert!(paths[0].join("README").exists());
    assert_eq!(env.json(&["trash", "ls"]), serde_json::json!([]));
    assert_eq!(env.status(&ids[0]), "killed");
    let cleaned = env.json(&["cleanup"]);
    assert_eq!(cleaned["cleaned"], serde_json::json!([ids[0]]), "{cleaned}");

    // 2. After the rename, before git learns the new place.
    std::fs::write(bin.join("hang-at"), "worktree repair").unwrap();
    let mut client = kill(&env, &["kill", &ids[1]]);
    crash_at(&mut env, &bin);
    let _ = client.wait();
    env.start_daemon();
    let trash = env.json(&["trash", "ls"]);
    let entry = trash
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["session"] == ids[1].as_str())
        .unwrap_or_else(|| panic!("{trash}"))
        .clone();
    assert_eq!(entry["state"], "trashed", "finished: {trash}");
    let entry_path = PathBuf::from(string(&entry["path"]));
    assert_eq!(git(&entry_path, &["status", "--porcelain"]).trim(), "");

    // 3. After the stash, before the move: the next cleanup --preserve finishes the job.
    std::fs::write(paths[2].join("work.txt"), "unsaved work\n").unwrap();
    std::fs::write(bin.join("hang-at"), "update-ref refs/ao/preserved/").unwrap();
    let mut client = kill(&env, &["kill", &ids[2], "--preserve"]);
    crash_at(&mut env, &bin);
    let _ = client.wait();
    let stashed = git(
        &repo.path,
        &["rev-parse", &format!("refs/ao/preserved/{}", ids[2])],
    );
    env.start_daemon();
    assert!(paths[2].join("work.txt").exists(), "nothing moved yet");
    let cleaned = env.json(&["cleanup", "--preserve"]);
    assert_eq!(cleaned["cleaned"], serde_json::json!([ids[2]]), "{cleaned}");
    assert_eq!(
        cleaned["preserved"][0][1],
        format!("refs/ao/preserved/{}", ids[2]),
        "{cleaned}"
    );
    assert_eq!(
        git(
            &repo.path,
            &["rev-parse", &format!("refs/ao/preserved/{}", ids[2])]
        ),
        stashed,
        "the same preserved commit"
    );
    env.stop_daemon();
}

/// Issue item 11: with the output-log directory read-only, a kill still terminates the session,
/// destroys its pane, moves its worktree, exits 0, and says which files it could not remove.
#[test]
fn a_kill_says_what_its_runtime_left_behind() {
    let repo = GitRepo::new();
    let mut env = TestEnv::new();
    env.start_daemon();
    env.add_project("demo", &repo.path);
    let id = env.spawn_cmd("demo", "sleep 100000");
    let output_dir = env.data_dir.join("output");
    assert!(output_dir.is_dir());
    let Some(frozen) = Frozen::new(&output_dir) else {
        env.stop_daemon();
        return;
    };
    let out = env.run(&["kill", &id]);
    drop(frozen);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("moved to the trash"), "{stdout}");
    assert!(
        stdout.contains("note: the runtime is gone, but its output files could not be removed"),
        "{stdout}"
    );
    assert!(!env.tmux_sessions().contains(&id));
    assert_eq!(env.status(&id), "killed");
    env.stop_daemon();
}

/// A worktree that cannot be moved into the trash stays in place, and the kill says why.
#[test]
fn a_kill_that_cannot_move_the_worktree_keeps_it_and_says_why() {
    let repo = GitRepo::new();
    let mut env = TestEnv::new();
    env.start_daemon();
    env.add_project("demo", &repo.path);
    let id = env.spawn_cmd("demo", "sleep 100000");
    let wt = path_of(&env, &id);
    let Some(frozen) = Frozen::new(&env.worktree_root().join("demo")) else {
        env.stop_daemon();
        return;
    };
    let said = env.ok(&["kill", &id]);
    drop(frozen);
    assert!(said.contains("worktree kept at"), "{said}");
    assert!(said.contains("could not be moved to the trash"), "{said}");
    assert!(wt.join("README").exists());
    let listing = git(&repo.path, &["worktree", "list", "--porcelain"]);
    assert!(!listing.contains("locked"), "{listing}");
    env.stop_daemon();
}

/// The daemon empties trash entries older than `[workspace] trash_ttl`.
#[test]
fn the_daemon_empties_the_trash_after_its_time_to_live() {
    let repo = GitRepo::new();
    let mut env = TestEnv::with_config("[workspace]\ntrash_ttl = \"2s\"\n");
    env.start_daemon();
    env.add_project("demo", &repo.path);
    let id = env.spawn_cmd("demo", "sleep 100000");
    let reply = env.json(&["kill", &id]);
    let trash_path = PathBuf::from(string(&reply["trash_path"]));
    assert!(trash_path.is_dir());
    wait_for("the trash to be emptied", SLOW, || {
        if trash_path.exists() {
            Err(env.ok(&["trash", "ls"]))
        } else {
            Ok(())
        }
    });
    assert_eq!(env.json(&["trash", "ls"]), serde_json::json!([]));
    // The sweep logs the entry once its directory is gone.
    wait_for("the sweep's log line", SLOW, || {
        let log = env.log_tail(200);
        if log.contains("past its time to live") {
            Ok(())
        } else {
            Err(log)
        }
    });
    env.stop_daemon();
}
