//! The git worktree adapter against the real git (scenarios P20, P21, P23, P24 and W2–W8 at
//! the adapter level): a bare "origin", a clone with a committed README, and worktrees under a
//! temporary managed root. User and system git configuration are kept out of every call.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use ao::adapters::process::{
    CommandOutput, CommandRunner, CommandSpec, ProcessError, SystemRunner,
};
use ao::adapters::worktree::{GitWorktree, GitWorktreeOptions};
use ao::domain::{ProjectId, SessionId};
use ao::ports::{Workspace, WorkspaceError, WorkspaceInfo, WorkspaceRequest};

/// What the user would see in a worktree: used to prove the stash touched nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Snapshot {
    index: Vec<u8>,
    head: String,
    stash_list: String,
    status: String,
}

fn snapshot(worktree: &Path) -> Snapshot {
    let index = PathBuf::from(git(
        worktree,
        &["rev-parse", "--path-format=absolute", "--git-path", "index"],
    ));
    Snapshot {
        index: std::fs::read(&index).unwrap_or_default(),
        head: git(worktree, &["rev-parse", "HEAD"]),
        stash_list: git(worktree, &["stash", "list"]),
        status: git(worktree, &["status", "--porcelain"]),
    }
}

/// The real runner with isolated git configuration, recording every argv; it can fail
/// `commit-tree` on demand and snapshots the worktree right before a forced removal.
#[derive(Debug, Default)]
struct TestRunner {
    calls: Mutex<Vec<Vec<String>>>,
    fail_commit_tree: bool,
    before_forced_removal: Mutex<Option<Snapshot>>,
}

#[async_trait]
impl CommandRunner for TestRunner {
    async fn run(&self, spec: &CommandSpec) -> Result<CommandOutput, ProcessError> {
        let spec = spec
            .clone()
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1");
        let argv = spec.argv();
        self.calls.lock().unwrap().push(argv.clone());
        if self.fail_commit_tree && argv.iter().any(|a| a == "commit-tree") {
            return Ok(CommandOutput {
                code: Some(128),
                stdout: vec![],
                stderr: b"fatal: simulated commit-tree failure".to_vec(),
            });
        }
        if argv.iter().any(|a| a == "remove") && argv.iter().any(|a| a == "--force") {
            let path = Path::new(argv.last().unwrap());
            *self.before_forced_removal.lock().unwrap() = Some(snapshot(path));
        }
        SystemRunner.run(&spec).await
    }
}

fn git_output(dir: &Path, args: &[&str]) -> Output {
    Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .env("LC_ALL", "C")
        .output()
        .expect("run git")
}

/// Runs git and returns trimmed stdout; panics with the output on failure.
fn git(dir: &Path, args: &[&str]) -> String {
    let out = git_output(dir, args);
    assert!(
        out.status.success(),
        "git -C {} {args:?} failed: {}{}",
        dir.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn ref_exists(repo: &Path, reference: &str) -> bool {
    git_output(repo, &["rev-parse", "--verify", "--quiet", reference])
        .status
        .success()
}

struct Env {
    _tmp: tempfile::TempDir,
    repo: PathBuf,
    root: PathBuf,
    runner: Arc<TestRunner>,
    worktree: GitWorktree,
}

const README: &str = "hello\n";

fn env() -> Env {
    env_with(TestRunner::default())
}

fn env_with(runner: TestRunner) -> Env {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().canonicalize().unwrap();
    let origin = base.join("origin.git");
    let repo = base.join("repo");
    git(
        &base,
        &["init", "--quiet", "--bare", "-b", "main", "origin.git"],
    );
    git(
        &base,
        &["clone", "--quiet", origin.to_str().unwrap(), "repo"],
    );
    git(&repo, &["symbolic-ref", "HEAD", "refs/heads/main"]);
    std::fs::write(repo.join("README"), README).unwrap();
    git(&repo, &["add", "README"]);
    git(&repo, &["commit", "--quiet", "-m", "initial"]);
    git(&repo, &["push", "--quiet", "origin", "main"]);
    git(&repo, &["remote", "set-head", "origin", "main"]);
    let runner = Arc::new(runner);
    let root = base.join("data/worktrees");
    let worktree = GitWorktree::new(
        GitWorktreeOptions::for_data_dir(&base.join("data")),
        runner.clone(),
    )
    .unwrap();
    assert_eq!(worktree.managed_root(), root);
    Env {
        _tmp: tmp,
        repo,
        root,
        runner,
        worktree,
    }
}

impl Env {
    fn request(&self, session: &str, branch: &str) -> WorkspaceRequest {
        WorkspaceRequest {
            repo: self.repo.clone(),
            project_id: ProjectId::parse("proj").unwrap(),
            session_id: SessionId::parse(session).unwrap(),
            branch: branch.to_owned(),
            base_branch: None,
        }
    }

    async fn create(&self, session: &str, branch: &str) -> WorkspaceInfo {
        self.worktree
            .create(&self.request(session, branch))
            .await
            .unwrap()
    }

    fn registered(&self, path: &Path) -> bool {
        git(&self.repo, &["worktree", "list", "--porcelain"])
            .lines()
            .any(|line| line.strip_prefix("worktree ") == Some(&path.display().to_string()))
    }

    fn calls_with(&self, word: &str) -> Vec<Vec<String>> {
        let calls = self.runner.calls.lock().unwrap();
        calls
            .iter()
            .filter(|argv| argv.iter().any(|a| a == word))
            .cloned()
            .collect()
    }

    fn no_forced_call(&self) {
        let calls = self.runner.calls.lock().unwrap();
        for argv in calls.iter() {
            assert!(
                !argv.iter().any(|a| a == "--force" || a == "-f"),
                "forced call {argv:?}"
            );
        }
    }
}

/// Modified tracked README, untracked notes.txt and an ignored .env (scenario W2).
async fn make_w2_dirty(env: &Env, info: &WorkspaceInfo) {
    env.worktree
        .add_exclude(info, &[".env".to_owned()])
        .await
        .unwrap();
    std::fs::write(info.path.join("README"), "hello\nchanged in the worktree\n").unwrap();
    std::fs::write(info.path.join("notes.txt"), "my notes\n").unwrap();
    std::fs::write(info.path.join(".env"), "SECRET=1\n").unwrap();
}

#[tokio::test]
async fn p23_create_list_restore_destroy_round_trip() {
    let env = env();
    let info = env.create("sess", "feature/one").await;
    assert_eq!(info.path, env.root.join("proj/sess"));
    assert_eq!(info.branch, "feature/one");
    assert_eq!(
        std::fs::read_to_string(info.path.join("README")).unwrap(),
        README
    );
    assert_eq!(
        git(&info.path, &["branch", "--show-current"]),
        "feature/one"
    );

    let listed = env
        .worktree
        .list(&env.repo, &ProjectId::parse("proj").unwrap())
        .await
        .unwrap();
    assert_eq!(listed, vec![info.clone()]);

    let (restored, recreated) = env
        .worktree
        .restore(&env.request("sess", "feature/one"))
        .await
        .unwrap();
    assert!(!recreated);
    assert_eq!(restored, info);

    env.worktree.destroy(&info).await.unwrap();
    assert!(!info.path.exists());
    assert!(!env.registered(&info.path));
    assert!(
        ref_exists(&env.repo, "refs/heads/feature/one"),
        "destroy keeps the branch"
    );

    let (restored, recreated) = env
        .worktree
        .restore(&env.request("sess", "feature/one"))
        .await
        .unwrap();
    assert!(recreated);
    assert_eq!(restored, info);
    assert_eq!(
        std::fs::read_to_string(info.path.join("README")).unwrap(),
        README
    );

    env.worktree.destroy(&info).await.unwrap();
    assert!(!info.path.exists());
    env.no_forced_call();
}

#[tokio::test]
async fn p24_locked_worktree_is_refused_until_unlocked() {
    let env = env();
    let info = env.create("sess", "feature/one").await;
    git(
        &env.repo,
        &["worktree", "lock", info.path.to_str().unwrap()],
    );
    assert_eq!(
        env.worktree.destroy(&info).await,
        Err(WorkspaceError::Locked)
    );
    assert!(info.path.join("README").exists());
    assert!(env.registered(&info.path));

    git(
        &env.repo,
        &["worktree", "unlock", info.path.to_str().unwrap()],
    );
    env.worktree.destroy(&info).await.unwrap();
    assert!(!info.path.exists());
    env.no_forced_call();
}

#[tokio::test]
async fn destroy_never_removes_a_dirty_worktree() {
    type Dirty = fn(&Path);
    let cases: [(&str, Dirty); 3] = [
        ("untracked file", |wt| {
            std::fs::write(wt.join("keep.txt"), "keep\n").unwrap();
        }),
        ("staged change", |wt| {
            std::fs::write(wt.join("staged.txt"), "staged\n").unwrap();
            git(wt, &["add", "staged.txt"]);
        }),
        ("modified tracked file", |wt| {
            std::fs::write(wt.join("README"), "edited\n").unwrap();
        }),
    ];
    for (what, make_dirty) in cases {
        let env = env();
        let info = env.create("sess", "feature/one").await;
        make_dirty(&info.path);
        let before = snapshot(&info.path);
        assert_eq!(
            env.worktree.destroy(&info).await,
            Err(WorkspaceError::Dirty),
            "{what}"
        );
        assert!(env.registered(&info.path), "{what}");
        assert_eq!(snapshot(&info.path), before, "{what}");
        env.no_forced_call();
    }
}

#[tokio::test]
async fn destroy_of_a_missing_path_succeeds_and_stale_worktrees_are_recreated() {
    let env = env();
    let info = env.create("sess", "feature/one").await;
    std::fs::remove_dir_all(&info.path).unwrap();

    // Stale registration: create re-registers it in place.
    let again = env.create("sess", "feature/one").await;
    assert_eq!(again, info);
    assert!(info.path.join("README").exists());

    std::fs::remove_dir_all(&info.path).unwrap();
    let (restored, recreated) = env
        .worktree
        .restore(&env.request("sess", "ignored-branch"))
        .await
        .unwrap();
    assert!(recreated);
    assert_eq!(restored.branch, "feature/one");
    assert_eq!(
        git(&info.path, &["branch", "--show-current"]),
        "feature/one"
    );
    for add in env.calls_with("add") {
        assert!(
            add.iter().filter(|a| *a == "--force").count() <= 1,
            "{add:?}"
        );
    }

    std::fs::remove_dir_all(&info.path).unwrap();
    env.worktree.destroy(&info).await.unwrap();
    assert!(!env.registered(&info.path));
    env.worktree.destroy(&info).await.unwrap();
}

#[tokio::test]
async fn w3_preserve_then_remove_keeps_the_work_in_the_preserved_ref() {
    let env = env();
    let info = env.create("sess", "feature/one").await;
    make_w2_dirty(&env, &info).await;
    let before = snapshot(&info.path);
    let head = before.head.clone();

    let reference = env.worktree.preserve_then_remove(&info).await.unwrap();
    assert_eq!(reference.as_deref(), Some("refs/ao/preserved/sess"));
    let at_removal = env.runner.before_forced_removal.lock().unwrap().clone();
    assert_eq!(at_removal, Some(before), "stash changed the worktree");
    assert!(!info.path.exists());
    assert!(!env.registered(&info.path));

    let reference = "refs/ao/preserved/sess";
    assert_eq!(
        git(
            &env.repo,
            &["log", "-1", "--format=%s|%an <%ae>|%cn <%ce>", reference]
        ),
        "ao preserved sess|ao <ao@localhost>|ao <ao@localhost>"
    );
    assert_eq!(
        git(&env.repo, &["rev-parse", &format!("{reference}^")]),
        head
    );
    let files = git(&env.repo, &["ls-tree", "-r", "--name-only", reference]);
    let files: Vec<&str> = files.lines().collect();
    assert_eq!(files, vec!["README", "notes.txt"]);
    assert_eq!(
        git(&env.repo, &["show", &format!("{reference}:README")]),
        "hello\nchanged in the worktree"
    );
    assert_eq!(
        env.worktree.preserved_ref(&info).await,
        Ok(Some(reference.to_owned()))
    );
    assert_eq!(env.calls_with("--force").len(), 1);
}

#[tokio::test]
async fn w4_restore_then_apply_brings_the_work_back_uncommitted() {
    let env = env();
    let info = env.create("sess", "feature/one").await;
    make_w2_dirty(&env, &info).await;
    let head = git(&info.path, &["rev-parse", "HEAD"]);
    let reference = env
        .worktree
        .preserve_then_remove(&info)
        .await
        .unwrap()
        .unwrap();

    let (restored, recreated) = env
        .worktree
        .restore(&env.request("sess", "feature/one"))
        .await
        .unwrap();
    assert!(recreated);
    env.worktree
        .apply_preserved(&restored, &reference)
        .await
        .unwrap();
    assert_eq!(
        std::fs::read_to_string(info.path.join("README")).unwrap(),
        "hello\nchanged in the worktree\n"
    );
    assert_eq!(
        std::fs::read_to_string(info.path.join("notes.txt")).unwrap(),
        "my notes\n"
    );
    assert_eq!(
        git(&info.path, &["rev-parse", "HEAD"]),
        head,
        "nothing committed"
    );
    assert!(!git(&info.path, &["status", "--porcelain"]).is_empty());
    assert!(!ref_exists(&env.repo, &reference));
    assert_eq!(env.worktree.preserved_ref(&info).await, Ok(None));
}

#[tokio::test]
async fn w5_conflicting_apply_keeps_the_ref_and_leaves_markers() {
    let env = env();
    let info = env.create("sess", "feature/one").await;
    make_w2_dirty(&env, &info).await;
    let reference = env
        .worktree
        .preserve_then_remove(&info)
        .await
        .unwrap()
        .unwrap();

    let (restored, _) = env
        .worktree
        .restore(&env.request("sess", "feature/one"))
        .await
        .unwrap();
    std::fs::write(info.path.join("README"), "hello\nchanged on the branch\n").unwrap();
    git(
        &info.path,
        &["commit", "--quiet", "-am", "conflicting change"],
    );

    let err = env
        .worktree
        .apply_preserved(&restored, &reference)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        WorkspaceError::PreservedConflict {
            reference: reference.clone()
        }
    );
    assert!(ref_exists(&env.repo, &reference));
    let readme = std::fs::read_to_string(info.path.join("README")).unwrap();
    assert!(
        readme.contains("<<<<<<<") && readme.contains(">>>>>>>"),
        "{readme}"
    );
}

#[tokio::test]
async fn p20_stash_and_apply_in_place_and_a_clean_worktree_stashes_nothing() {
    let env = env();
    let info = env.create("sess", "feature/one").await;
    assert_eq!(env.worktree.stash_uncommitted(&info).await, Ok(None));

    std::fs::write(info.path.join("README"), "hello\ntracked change\n").unwrap();
    std::fs::write(info.path.join("new.txt"), "untracked\n").unwrap();
    let before = snapshot(&info.path);
    let reference = env
        .worktree
        .stash_uncommitted(&info)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        snapshot(&info.path),
        before,
        "the stash left the worktree as it was"
    );

    // A second stash must not overwrite the unapplied one.
    let err = env.worktree.stash_uncommitted(&info).await.unwrap_err();
    assert!(
        matches!(&err, WorkspaceError::Git { output, .. } if output.contains("apply or delete it first")),
        "{err}"
    );

    git(&info.path, &["checkout", "--", "README"]);
    std::fs::remove_file(info.path.join("new.txt")).unwrap();
    env.worktree
        .apply_preserved(&info, &reference)
        .await
        .unwrap();
    assert_eq!(
        std::fs::read_to_string(info.path.join("README")).unwrap(),
        "hello\ntracked change\n"
    );
    assert_eq!(
        std::fs::read_to_string(info.path.join("new.txt")).unwrap(),
        "untracked\n"
    );
    assert!(!ref_exists(&env.repo, &reference));
}

#[tokio::test]
async fn w6_preserving_a_clean_worktree_creates_no_ref() {
    let env = env();
    let info = env.create("sess", "feature/one").await;
    assert_eq!(env.worktree.preserve_then_remove(&info).await, Ok(None));
    assert!(!info.path.exists());
    assert!(!env.registered(&info.path));
    assert!(!ref_exists(&env.repo, "refs/ao/preserved/sess"));
}

#[tokio::test]
async fn w7_a_failed_stash_removes_nothing() {
    let env = env_with(TestRunner {
        fail_commit_tree: true,
        ..TestRunner::default()
    });
    let info = env.create("sess", "feature/one").await;
    make_w2_dirty(&env, &info).await;
    let before = snapshot(&info.path);
    let err = env.worktree.preserve_then_remove(&info).await.unwrap_err();
    assert!(
        matches!(&err, WorkspaceError::Git { argv, output } if argv.contains("commit-tree") && output.contains("simulated")),
        "{err}"
    );
    assert_eq!(snapshot(&info.path), before);
    assert!(info.path.join(".env").exists());
    assert!(env.registered(&info.path));
    assert!(!ref_exists(&env.repo, "refs/ao/preserved/sess"));
    assert!(env.calls_with("remove").is_empty());
}

#[tokio::test]
async fn w8_a_locked_worktree_is_never_forced() {
    let env = env();
    let info = env.create("sess", "feature/one").await;
    make_w2_dirty(&env, &info).await;
    git(
        &env.repo,
        &["worktree", "lock", info.path.to_str().unwrap()],
    );
    let before = snapshot(&info.path);
    assert_eq!(
        env.worktree.preserve_then_remove(&info).await,
        Err(WorkspaceError::Locked)
    );
    assert_eq!(snapshot(&info.path), before);
    assert!(env.registered(&info.path));
    assert!(!ref_exists(&env.repo, "refs/ao/preserved/sess"));
    assert!(env.calls_with("remove").is_empty());
}

#[tokio::test]
async fn w11_restore_reusing_a_worktree_leaves_the_preserved_ref() {
    let env = env();
    let info = env.create("sess", "feature/one").await;
    std::fs::write(info.path.join("notes.txt"), "n\n").unwrap();
    let reference = env
        .worktree
        .stash_uncommitted(&info)
        .await
        .unwrap()
        .unwrap();
    let target = git(&env.repo, &["rev-parse", &reference]);
    let (_, recreated) = env
        .worktree
        .restore(&env.request("sess", "feature/one"))
        .await
        .unwrap();
    assert!(!recreated);
    assert_eq!(git(&env.repo, &["rev-parse", &reference]), target);
    assert!(env.calls_with("cherry-pick").is_empty());
}

#[tokio::test]
async fn p21_excludes_are_shared_idempotent_and_managed_only() {
    let env = env();
    let info = env.create("sess", "feature/one").await;
    let exclude = env.repo.join(".git/info/exclude");
    std::fs::remove_file(&exclude).ok();
    std::fs::remove_dir(env.repo.join(".git/info")).ok();

    let patterns = vec![
        ".claude/settings.local.json".to_owned(),
        "notes.txt".to_owned(),
    ];
    env.worktree.add_exclude(&info, &patterns).await.unwrap();
    let written = std::fs::read_to_string(&exclude).unwrap();
    assert_eq!(written, ".claude/settings.local.json\nnotes.txt\n");

    std::fs::write(info.path.join("notes.txt"), "ignored\n").unwrap();
    assert_eq!(git(&info.path, &["status", "--porcelain"]), "");

    env.worktree.add_exclude(&info, &patterns).await.unwrap();
    env.worktree.add_exclude(&info, &[]).await.unwrap();
    assert_eq!(std::fs::read_to_string(&exclude).unwrap(), written);

    let mut unmanaged = info.clone();
    unmanaged.path = env.repo.clone();
    let err = env
        .worktree
        .add_exclude(&unmanaged, &["x".to_owned()])
        .await
        .unwrap_err();
    assert!(matches!(err, WorkspaceError::UnsafePath(_)), "{err}");
}

#[tokio::test]
async fn branch_checked_out_in_the_main_worktree_is_refused() {
    let env = env();
    let err = env
        .worktree
        .create(&env.request("sess", "main"))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        WorkspaceError::BranchCheckedOutElsewhere {
            branch: "main".into(),
            path: env.repo.display().to_string()
        }
    );
    assert!(!env.root.join("proj/sess").exists());
}

#[tokio::test]
async fn invalid_branches_are_refused_by_git() {
    let env = env();
    for bad in ["a..b", "-oops", "@{-1}", "with space"] {
        let err = env.worktree.check_branch(&env.repo, bad).await.unwrap_err();
        assert!(
            matches!(err, WorkspaceError::BranchInvalid { .. }),
            "{bad}: {err}"
        );
    }
    env.worktree
        .check_branch(&env.repo, "feature/ok")
        .await
        .unwrap();
}

/// Prints the latency of the adapter's main operations on this machine (not asserted).
/// Run with `cargo test -p ao --test worktree -- --ignored --nocapture`.
#[tokio::test]
#[ignore]
async fn measure_operation_latency() {
    const ROUNDS: usize = 20;
    let env = env();
    let mut timings: Vec<(&str, Vec<std::time::Duration>)> = vec![
        ("create", vec![]),
        ("destroy", vec![]),
        ("preserve_then_remove (dirty)", vec![]),
        ("restore + apply_preserved", vec![]),
    ];
    for round in 0..ROUNDS {
        let session = format!("s{round}");
        let branch = format!("feature/{round}");
        let started = std::time::Instant::now();
        let info = env.create(&session, &branch).await;
        timings[0].1.push(started.elapsed());
        let started = std::time::Instant::now();
        env.worktree.destroy(&info).await.unwrap();
        timings[1].1.push(started.elapsed());

        let info = env.create(&session, &branch).await;
        std::fs::write(info.path.join("README"), "changed\n").unwrap();
        std::fs::write(info.path.join("notes.txt"), "notes\n").unwrap();
        let started = std::time::Instant::now();
        let reference = env
            .worktree
            .preserve_then_remove(&info)
            .await
            .unwrap()
            .unwrap();
        timings[2].1.push(started.elapsed());
        let started = std::time::Instant::now();
        let (info, _) = env
            .worktree
            .restore(&env.request(&session, &branch))
            .await
            .unwrap();
        env.worktree
            .apply_preserved(&info, &reference)
            .await
            .unwrap();
        timings[3].1.push(started.elapsed());
    }
    for (name, samples) in timings {
        let total: std::time::Duration = samples.iter().sum();
        let max = samples.iter().max().copied().unwrap_or_default();
        println!(
            "{name}: mean {:.1} ms, max {:.1} ms over {} rounds",
            total.as_secs_f64() * 1000.0 / samples.len() as f64,
            max.as_secs_f64() * 1000.0,
            samples.len()
        );
    }
}

/// `status` inspects without changing anything: missing, clean, dirty, locked, leftover.
#[tokio::test]
async fn status_reports_without_touching() {
    use ao::ports::WorktreeStatus;
    let env = env();
    let info = env.create("s-status", "feature/status").await;
    let status = || env.worktree.status(&info);
    assert_eq!(status().await.unwrap(), WorktreeStatus::Clean);
    std::fs::write(info.path.join("scratch.txt"), "x").unwrap();
    assert_eq!(status().await.unwrap(), WorktreeStatus::Dirty);
    assert!(
        info.path.join("scratch.txt").exists(),
        "status changed nothing"
    );
    std::fs::remove_file(info.path.join("scratch.txt")).unwrap();
    git(
        &env.repo,
        &["worktree", "lock", info.path.to_str().unwrap()],
    );
    assert_eq!(status().await.unwrap(), WorktreeStatus::Locked);
    git(
        &env.repo,
        &["worktree", "unlock", info.path.to_str().unwrap()],
    );
    env.worktree.destroy(&info).await.unwrap();
    assert_eq!(status().await.unwrap(), WorktreeStatus::Missing);
    std::fs::create_dir_all(info.path.join("sub")).unwrap();
    assert_eq!(status().await.unwrap(), WorktreeStatus::Unregistered);
}

/// Many creates and destroys on one repository at once all succeed: the adapter runs its `git
/// worktree` calls on a repository one at a time (git's own administration is not safe
/// against concurrent `worktree add`/`prune`).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_and_destroys_on_one_repository_all_succeed() {
    let env = Arc::new(env());
    let first = env.create("keep", "ao/keep").await;
    let tasks: Vec<_> = (0..16)
        .map(|n| {
            let env = env.clone();
            tokio::spawn(async move {
                let request = env.request(&format!("s{n}"), &format!("ao/s{n}"));
                let info = env.worktree.create(&request).await?;
                if n % 2 == 0 {
                    env.worktree.destroy(&info).await?;
                }
                Ok::<_, WorkspaceError>(info)
            })
        })
        .collect();
    for (n, task) in tasks.into_iter().enumerate() {
        let info = task.await.unwrap().unwrap_or_else(|e| panic!("s{n}: {e}"));
        assert_eq!(env.registered(&info.path), n % 2 == 1, "s{n}");
    }
    assert!(env.registered(&first.path));
}
