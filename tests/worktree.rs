//! The git worktree adapter against the real git: create, retire into the trash (with pinned
//! detached HEADs, preserved work and nested repositories), restore from the trash, empty it,
//! and repair moves a crash cut short. A bare "origin", a clone with a committed README, and
//! worktrees under a temporary managed root; user and system git configuration are kept out of
//! every call.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;

use ao::domain::{ProjectId, SessionId, Timestamp};
use ao::ports::{
    RetireMode, Retired, TrashState, Workspace, WorkspaceError, WorkspaceInfo, WorkspaceRequest,
};
use ao_adapters::process::{CommandOutput, CommandRunner, CommandSpec, ProcessError, SystemRunner};
use ao_adapters::worktree::{GitWorktree, GitWorktreeOptions};
use ao_testkit::files::{Frozen, tree_digest};

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

/// The real runner with isolated git configuration, recording every argv. On request it fails
/// `commit-tree` or `worktree lock`, or never returns from the first call whose argv holds a
/// given word (a crash at that point, once the caller's future is dropped).
#[derive(Debug, Default)]
struct TestRunner {
    calls: Mutex<Vec<Vec<String>>>,
    fail_commit_tree: bool,
    fail_lock: Mutex<bool>,
    hang_on: Mutex<Option<(String, String)>>,
    /// Notified when a call starts hanging.
    hung: tokio::sync::Notify,
}

impl TestRunner {
    /// The next call holding both `subcommand` and `word` runs, then never returns.
    fn hang_after(&self, subcommand: &str, word: &str) {
        *self.hang_on.lock().unwrap() = Some((subcommand.to_owned(), word.to_owned()));
    }
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
        let has = |word: &str| argv.iter().any(|a| a == word);
        if self.fail_commit_tree && has("commit-tree") {
            return Ok(CommandOutput {
                code: Some(128),
                stdout: vec![],
                stderr: b"fatal: simulated commit-tree failure".to_vec(),
            });
        }
        if has("lock") && *self.fail_lock.lock().unwrap() {
            return Ok(CommandOutput {
                code: Some(128),
                stdout: vec![],
                stderr: b"fatal: simulated lock failure".to_vec(),
            });
        }
        let hang = {
            let mut hang_on = self.hang_on.lock().unwrap();
            let hit = hang_on
                .as_ref()
                .is_some_and(|(sub, word)| has(sub) && has(word));
            if hit {
                hang_on.take();
            }
            hit
        };
        let out = SystemRunner.run(&spec).await;
        if hang {
            self.hung.notify_one();
            std::future::pending::<()>().await;
        }
        out
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

/// A fixed time for retiring, `seconds` after 2026-12-03T00:00:00Z.
fn at(seconds: i64) -> Timestamp {
    Timestamp::from_millis(1_796_256_000_000 + seconds * 1000)
}

impl Env {
    async fn retire(
        &self,
        info: &WorkspaceInfo,
        mode: RetireMode,
    ) -> Result<Retired, WorkspaceError> {
        self.worktree.retire(info, mode, at(0)).await
    }

    /// The lock reason git records for the worktree at `path`, if it is locked.
    fn lock_reason(&self, path: &Path) -> Option<String> {
        let listing = git(&self.repo, &["worktree", "list", "--porcelain"]);
        let mut current = false;
        for line in listing.lines() {
            if let Some(p) = line.strip_prefix("worktree ") {
                current = Path::new(p) == path;
            } else if current && (line == "locked" || line.starts_with("locked ")) {
                return Some(line.trim_start_matches("locked").trim().to_owned());
            }
        }
        None
    }

    fn trash(&self) -> PathBuf {
        self.root.join(".trash")
    }
}

/// Modified tracked README, untracked notes.txt and an ignored .env.
async fn make_w2_dirty(env: &Env, info: &WorkspaceInfo) {
    env.worktree
        .add_exclude(info, &[".env".to_owned()])
        .await
        .unwrap();
    std::fs::write(info.path.join("README"), "hello\nchanged in the worktree\n").unwrap();
    std::fs::write(info.path.join("notes.txt"), "my notes\n").unwrap();
    std::fs::write(info.path.join(".env"), "SECRET=1\n").unwrap();
}

/// Whether `commit` is reachable from any ref (`git fsck` would call it dangling otherwise).
fn reachable(repo: &Path, commit: &str) -> bool {
    !git(
        repo,
        &["for-each-ref", "--contains", commit, "--format=%(refname)"],
    )
    .is_empty()
}

#[tokio::test]
async fn p23_create_retire_restore_and_empty_round_trip() {
    let env = env();
    let info = env.create("sess", "feature/one").await;
    assert_eq!(info.path, env.root.join("proj/sess"));
    assert_eq!(info.branch, "feature/one");
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

    // Retired: moved into the trash, still registered there, locked with ao's reason.
    let retired = env.retire(&info, RetireMode::KeepDirty).await.unwrap();
    let entry = retired.trash.clone().expect("a trash entry");
    assert_eq!(entry.id, "sess-20261203T000000Z");
    assert_eq!(entry.path, env.trash().join(&entry.id));
    assert_eq!(entry.branch.as_deref(), Some("feature/one"));
    assert!(!info.path.exists());
    assert_eq!(
        std::fs::read_to_string(entry.path.join("README")).unwrap(),
        README
    );
    assert!(env.registered(&entry.path) && !env.registered(&info.path));
    assert_eq!(
        env.lock_reason(&entry.path).as_deref(),
        Some("ao trash sess-20261203T000000Z")
    );
    assert_eq!(
        git(&entry.path, &["branch", "--show-current"]),
        "feature/one"
    );
    assert!(
        ref_exists(&env.repo, "refs/heads/feature/one"),
        "the branch is kept"
    );
    assert_eq!(
        env.worktree.trash_list().await.unwrap(),
        vec![entry.clone()]
    );

    // A session restore brings it back from the trash (not recreated: nothing was lost).
    let (restored, recreated) = env
        .worktree
        .restore(&env.request("sess", "feature/one"))
        .await
        .unwrap();
    assert!(!recreated);
    assert_eq!(restored, info);
    assert!(env.registered(&info.path));
    assert_eq!(env.lock_reason(&info.path), None, "unlocked again");
    assert!(env.worktree.trash_list().await.unwrap().is_empty());

    // Emptying deletes the files and the registration, never the branch.
    let retired = env.retire(&info, RetireMode::KeepDirty).await.unwrap();
    let entry = retired.trash.unwrap();
    let emptied = env.worktree.trash_empty(None).await.unwrap();
    assert_eq!(emptied.removed, vec![entry.clone()]);
    assert!(emptied.failed.is_empty());
    assert!(!entry.path.exists() && !env.registered(&entry.path));
    assert!(ref_exists(&env.repo, "refs/heads/feature/one"));

    // With the trash empty, a restore recreates the worktree from the branch.
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
    assert!(
        env.calls_with("remove").is_empty(),
        "git worktree remove never runs"
    );
    env.no_forced_call();
}

#[tokio::test]
async fn p24_a_worktree_the_user_locked_is_never_moved() {
    let env = env();
    let info = env.create("sess", "feature/one").await;
    git(
        &env.repo,
        &["worktree", "lock", info.path.to_str().unwrap()],
    );
    for mode in [
        RetireMode::KeepDirty,
        RetireMode::Preserve,
        RetireMode::Discard,
    ] {
        assert_eq!(
            env.retire(&info, mode).await,
            Err(WorkspaceError::Locked),
            "{mode:?}"
        );
    }
    assert!(info.path.join("README").exists());
    assert!(env.registered(&info.path));
    git(
        &env.repo,
        &["worktree", "unlock", info.path.to_str().unwrap()],
    );
    env.retire(&info, RetireMode::KeepDirty).await.unwrap();
    assert!(!info.path.exists());
    env.no_forced_call();
}

#[tokio::test]
async fn keep_dirty_never_moves_a_worktree_with_uncommitted_changes() {
    type Dirty = fn(&Path);
    let cases: [(&str, Dirty, &str); 3] = [
        (
            "untracked file",
            |wt| {
                std::fs::write(wt.join("keep.txt"), "keep\n").unwrap();
            },
            "keep.txt",
        ),
        (
            "staged change",
            |wt| {
                std::fs::write(wt.join("staged.txt"), "staged\n").unwrap();
                git(wt, &["add", "staged.txt"]);
            },
            "staged.txt",
        ),
        (
            "modified tracked file",
            |wt| {
                std::fs::write(wt.join("README"), "edited\n").unwrap();
            },
            "README",
        ),
    ];
    for (what, make_dirty, dirty_path) in cases {
        let env = env();
        let info = env.create("sess", "feature/one").await;
        make_dirty(&info.path);
        let before = snapshot(&info.path);
        let err = env.retire(&info, RetireMode::KeepDirty).await.unwrap_err();
        assert_eq!(
            err,
            WorkspaceError::Dirty {
                paths: vec![dirty_path.to_owned()]
            },
            "{what}"
        );
        assert!(err.to_string().ends_with(dirty_path), "{what}: {err}");
        assert!(env.registered(&info.path), "{what}");
        assert_eq!(env.lock_reason(&info.path), None, "{what}");
        assert_eq!(snapshot(&info.path), before, "{what}");
        assert!(env.worktree.trash_list().await.unwrap().is_empty());
    }
}

/// Issue item 3: ignored files (an agent's `.env`, local notes, build outputs) go to the trash
/// with the worktree, byte for byte.
#[tokio::test]
async fn ignored_files_go_to_the_trash_not_away() {
    let env = env();
    let info = env.create("sess", "feature/one").await;
    std::fs::write(info.path.join(".gitignore"), ".env\n*.local\nbuild/\n").unwrap();
    git(&info.path, &["add", ".gitignore"]);
    git(&info.path, &["commit", "--quiet", "-m", "ignore"]);
    std::fs::write(info.path.join(".env"), "SECRET=1\n").unwrap();
    std::fs::write(info.path.join("notes.local"), "remember\n").unwrap();
    std::fs::create_dir_all(info.path.join("build/out")).unwrap();
    std::fs::write(info.path.join("build/out/app"), [0u8, 1, 2, 255]).unwrap();
    assert_eq!(
        git(&info.path, &["status", "--porcelain"]),
        "",
        "tracked files are clean"
    );
    let before = tree_digest(&info.path);
    let retired = env.retire(&info, RetireMode::KeepDirty).await.unwrap();
    let entry = retired.trash.unwrap();
    assert_eq!(tree_digest(&entry.path), before);
    let back = env.worktree.trash_restore(&entry.id).await.unwrap();
    assert_eq!(back.path, info.path);
    assert_eq!(tree_digest(&info.path), before);
    assert_eq!(git(&info.path, &["status", "--porcelain"]), "");
}

/// Issue item 1: a commit made on a detached HEAD stays reachable through
/// `refs/ao/detached/<session>`, even after the trash is emptied; a later one gets `.2`.
#[tokio::test]
async fn commits_on_a_detached_head_stay_reachable() {
    let env = env();
    let info = env.create("sess", "feature/one").await;
    git(&info.path, &["checkout", "--quiet", "--detach"]);
    std::fs::write(info.path.join("work.txt"), "a day of work\n").unwrap();
    git(&info.path, &["add", "work.txt"]);
    git(&info.path, &["commit", "--quiet", "-m", "detached work"]);
    let commit = git(&info.path, &["rev-parse", "HEAD"]);
    assert!(!reachable(&env.repo, &commit), "only HEAD holds it");

    let retired = env.retire(&info, RetireMode::KeepDirty).await.unwrap();
    assert_eq!(
        retired.detached_ref.as_deref(),
        Some("refs/ao/detached/sess")
    );
    assert_eq!(
        git(&env.repo, &["rev-parse", "refs/ao/detached/sess"]),
        commit
    );
    assert_eq!(
        retired.trash.as_ref().unwrap().detached_ref,
        retired.detached_ref
    );
    env.worktree.trash_empty(None).await.unwrap();
    assert!(reachable(&env.repo, &commit), "the pin outlives the trash");
    assert!(
        !git(&env.repo, &["fsck", "--unreachable", "--no-reflogs"]).contains(&commit),
        "not dangling"
    );

    // The same session again, with another detached commit: a second pin, the first kept.
    let info = env.create("sess", "feature/two").await;
    git(&info.path, &["checkout", "--quiet", "--detach"]);
    git(
        &info.path,
        &["commit", "--quiet", "--allow-empty", "-m", "more"],
    );
    let second = git(&info.path, &["rev-parse", "HEAD"]);
    let retired = env.retire(&info, RetireMode::Preserve).await.unwrap();
    assert_eq!(
        retired.detached_ref.as_deref(),
        Some("refs/ao/detached/sess.2")
    );
    assert_eq!(
        git(&env.repo, &["rev-parse", "refs/ao/detached/sess.2"]),
        second
    );
    assert_eq!(
        git(&env.repo, &["rev-parse", "refs/ao/detached/sess"]),
        commit
    );

    // A detached HEAD that a branch already contains needs no pin.
    let info = env.create("plain", "feature/three").await;
    git(&info.path, &["checkout", "--quiet", "--detach"]);
    let retired = env.retire(&info, RetireMode::KeepDirty).await.unwrap();
    assert_eq!(retired.detached_ref, None);
}

/// Issue item 2: `--preserve` cannot put a nested repository into the preserved commit; it
/// reports it, keeps the tree free of a dangling gitlink, and the nested repository's files
/// (committed and not) are in the trash.
#[tokio::test]
async fn preserve_reports_nested_repositories_and_their_files_are_in_the_trash() {
    let env = env();
    let info = env.create("sess", "feature/one").await;
    let lib = info.path.join("vendor/lib");
    std::fs::create_dir_all(&lib).unwrap();
    git(&lib, &["init", "--quiet", "-b", "main"]);
    std::fs::write(lib.join("committed.rs"), "pub fn a() {}\n").unwrap();
    git(&lib, &["add", "committed.rs"]);
    git(&lib, &["commit", "--quiet", "-m", "lib"]);
    let lib_commit = git(&lib, &["rev-parse", "HEAD"]);
    std::fs::write(lib.join("uncommitted.rs"), "pub fn b() {}\n").unwrap();
    std::fs::write(info.path.join("notes.txt"), "mine\n").unwrap();
    let before = tree_digest(&info.path);

    let retired = env.retire(&info, RetireMode::Preserve).await.unwrap();
    assert_eq!(retired.nested_repos, ["vendor/lib"]);
    let reference = retired
        .preserved_ref
        .clone()
        .expect("notes.txt was preserved");
    let tree = git(&env.repo, &["ls-tree", "-r", &reference]);
    assert!(tree.contains("notes.txt"), "{tree}");
    assert!(
        !tree.contains("160000") && !tree.contains("vendor/lib"),
        "{tree}"
    );
    let entry = retired.trash.unwrap();
    assert_eq!(entry.nested_repos, ["vendor/lib"]);
    assert_eq!(tree_digest(&entry.path), before);
    let trashed_lib = entry.path.join("vendor/lib");
    assert_eq!(git(&trashed_lib, &["rev-parse", "HEAD"]), lib_commit);
    assert_eq!(
        std::fs::read_to_string(trashed_lib.join("uncommitted.rs")).unwrap(),
        "pub fn b() {}\n"
    );
}

#[tokio::test]
async fn w3_preserve_stashes_the_work_and_moves_the_worktree_untouched() {
    let env = env();
    let info = env.create("sess", "feature/one").await;
    make_w2_dirty(&env, &info).await;
    let before = snapshot(&info.path);
    let files = tree_digest(&info.path);
    let head = before.head.clone();

    let retired = env.retire(&info, RetireMode::Preserve).await.unwrap();
    assert_eq!(
        retired.preserved_ref.as_deref(),
        Some("refs/ao/preserved/sess")
    );
    let entry = retired.trash.unwrap();
    assert_eq!(
        snapshot(&entry.path),
        before,
        "the stash changed the worktree"
    );
    assert_eq!(tree_digest(&entry.path), files, ".env (ignored) went along");
    assert!(!info.path.exists() && !env.registered(&info.path));

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
        env.worktree.preserved_ref(&info).await,
        Ok(Some(reference.to_owned()))
    );

    // Restoring the entry brings the same work back, so the preserved ref holding exactly it
    // goes.
    env.worktree.trash_restore(&entry.id).await.unwrap();
    assert_eq!(snapshot(&info.path), before);
    assert!(!ref_exists(&env.repo, reference));
    env.no_forced_call();
}

#[tokio::test]
async fn w4_after_the_trash_is_emptied_restore_recreates_and_apply_brings_the_work_back() {
    let env = env();
    let info = env.create("sess", "feature/one").await;
    make_w2_dirty(&env, &info).await;
    let head = git(&info.path, &["rev-parse", "HEAD"]);
    let reference = env
        .retire(&info, RetireMode::Preserve)
        .await
        .unwrap()
        .preserved_ref
        .unwrap();
    env.worktree.trash_empty(None).await.unwrap();

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
    assert!(!ref_exists(&env.repo, &reference));
}

#[tokio::test]
async fn w5_conflicting_apply_keeps_the_ref_and_leaves_markers() {
    let env = env();
    let info = env.create("sess", "feature/one").await;
    make_w2_dirty(&env, &info).await;
    let reference = env
        .retire(&info, RetireMode::Preserve)
        .await
        .unwrap()
        .preserved_ref
        .unwrap();
    env.worktree.trash_empty(None).await.unwrap();
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

/// A removal cut short after its stash is finished by the next attempt, which reuses the
/// preserved ref holding the same work; a ref holding other work is never overwritten, and the
/// error says what to do.
#[tokio::test]
async fn an_interrupted_preserve_is_finished_and_other_work_is_never_overwritten() {
    let env = env();
    let info = env.create("sess", "feature/one").await;
    make_w2_dirty(&env, &info).await;
    *env.runner.fail_lock.lock().unwrap() = true;
    let err = env.retire(&info, RetireMode::Preserve).await.unwrap_err();
    assert!(
        matches!(&err, WorkspaceError::Git { output, .. } if output.contains("simulated")),
        "{err}"
    );
    let stashed = git(&env.repo, &["rev-parse", "refs/ao/preserved/sess"]);
    assert!(info.path.join(".env").exists(), "nothing moved");

    // w11: a restore reusing the worktree leaves the ref alone.
    let (_, recreated) = env
        .worktree
        .restore(&env.request("sess", "feature/one"))
        .await
        .unwrap();
    assert!(!recreated);
    assert!(env.calls_with("cherry-pick").is_empty());

    *env.runner.fail_lock.lock().unwrap() = false;
    let retired = env.retire(&info, RetireMode::Preserve).await.unwrap();
    assert_eq!(
        retired.preserved_ref.as_deref(),
        Some("refs/ao/preserved/sess")
    );
    assert_eq!(
        git(&env.repo, &["rev-parse", "refs/ao/preserved/sess"]),
        stashed,
        "reused"
    );

    // Back, more work, and the old ref still there: refused, the worktree stays.
    let entry = retired.trash.unwrap();
    git(&env.repo, &["update-ref", "refs/ao/keep", &stashed]);
    env.worktree.trash_restore(&entry.id).await.unwrap();
    git(
        &env.repo,
        &["update-ref", "refs/ao/preserved/sess", &stashed],
    );
    std::fs::write(info.path.join("more.txt"), "more\n").unwrap();
    let err = env.retire(&info, RetireMode::Preserve).await.unwrap_err();
    assert_eq!(
        err,
        WorkspaceError::PreservedExists {
            reference: "refs/ao/preserved/sess".to_owned()
        }
    );
    assert!(
        err.to_string().contains("git cherry-pick --no-commit"),
        "{err}"
    );
    assert_eq!(
        git(&env.repo, &["rev-parse", "refs/ao/preserved/sess"]),
        stashed
    );
    assert!(info.path.join("more.txt").exists());
}

#[tokio::test]
async fn w6_preserving_a_clean_worktree_creates_no_ref() {
    let env = env();
    let info = env.create("sess", "feature/one").await;
    let retired = env.retire(&info, RetireMode::Preserve).await.unwrap();
    assert_eq!(retired.preserved_ref, None);
    assert!(retired.trash.is_some());
    assert!(!ref_exists(&env.repo, "refs/ao/preserved/sess"));
}

#[tokio::test]
async fn w7_a_failed_stash_moves_nothing() {
    let env = env_with(TestRunner {
        fail_commit_tree: true,
        ..TestRunner::default()
    });
    let info = env.create("sess", "feature/one").await;
    make_w2_dirty(&env, &info).await;
    let before = snapshot(&info.path);
    let err = env.retire(&info, RetireMode::Preserve).await.unwrap_err();
    assert!(
        matches!(&err, WorkspaceError::Git { argv, output } if argv.contains("commit-tree") && output.contains("simulated")),
        "{err}"
    );
    assert_eq!(snapshot(&info.path), before);
    assert!(info.path.join(".env").exists());
    assert!(env.registered(&info.path));
    assert!(!ref_exists(&env.repo, "refs/ao/preserved/sess"));
    assert!(env.calls_with("lock").is_empty());
}

/// Issue: a worktree that cannot be renamed into the trash stays where it was, unlocked, and
/// the error says why.
#[tokio::test]
async fn a_trash_that_cannot_take_the_worktree_keeps_it_in_place() {
    let env = env();
    let info = env.create("sess", "feature/one").await;
    let before = tree_digest(&info.path);
    // Nothing can leave the project's directory: the rename fails after the lock.
    let Some(frozen) = Frozen::new(&env.root.join("proj")) else {
        return;
    };
    let err = env.retire(&info, RetireMode::KeepDirty).await.unwrap_err();
    assert!(matches!(err, WorkspaceError::TrashUnavailable(_)), "{err}");
    assert!(err.to_string().contains("kept in place"), "{err}");
    assert_eq!(tree_digest(&info.path), before);
    assert!(env.registered(&info.path));
    assert_eq!(env.lock_reason(&info.path), None, "the lock was taken back");
    assert!(env.worktree.trash_list().await.unwrap().is_empty());

    // Nor can anything enter the trash: the manifest cannot be written.
    drop(frozen);
    std::fs::create_dir_all(env.trash()).unwrap();
    let Some(_frozen) = Frozen::new(&env.trash()) else {
        return;
    };
    let err = env.retire(&info, RetireMode::KeepDirty).await.unwrap_err();
    assert!(matches!(err, WorkspaceError::TrashUnavailable(_)), "{err}");
    assert_eq!(tree_digest(&info.path), before);
}

/// A failed spawn's worktree goes to the trash, and its `ao/<session>` branch goes too when it
/// holds no commit of its own; a branch with a commit, or one ao did not name, stays.
#[tokio::test]
async fn discard_deletes_only_an_unused_branch_ao_created() {
    let env = env();
    let unused = env.create("s1", "ao/s1").await;
    let retired = env.retire(&unused, RetireMode::Discard).await.unwrap();
    assert_eq!(retired.deleted_branch.as_deref(), Some("ao/s1"));
    assert!(!ref_exists(&env.repo, "refs/heads/ao/s1"));
    let entry = retired.trash.unwrap();
    assert_eq!(
        entry.branch, None,
        "the trash worktree is detached at the same commit"
    );
    assert_eq!(
        git(&entry.path, &["rev-parse", "HEAD"]),
        git(&env.repo, &["rev-parse", "main"])
    );

    let used = env.create("s2", "ao/s2").await;
    git(
        &used.path,
        &["commit", "--quiet", "--allow-empty", "-m", "work"],
    );
    let retired = env.retire(&used, RetireMode::Discard).await.unwrap();
    assert_eq!(retired.deleted_branch, None);
    assert!(ref_exists(&env.repo, "refs/heads/ao/s2"));

    git(&env.repo, &["branch", "mine", "main"]);
    let users = env.create("s3", "mine").await;
    let retired = env.retire(&users, RetireMode::Discard).await.unwrap();
    assert_eq!(retired.deleted_branch, None);
    assert!(ref_exists(&env.repo, "refs/heads/mine"));

    let kept = env.create("s4", "ao/s4").await;
    let retired = env.retire(&kept, RetireMode::KeepDirty).await.unwrap();
    assert_eq!(retired.deleted_branch, None, "kill never deletes a branch");
    assert!(ref_exists(&env.repo, "refs/heads/ao/s4"));

    // A spawn cut short inside `git worktree add`: its new branch and no worktree.
    git(&env.repo, &["branch", "ao/s6", "main"]);
    let orphan = WorkspaceInfo {
        branch: "ao/s6".to_owned(),
        path: env.root.join("proj/s6"),
        session_id: SessionId::parse("s6").unwrap(),
        ..unused.clone()
    };
    let retired = env.retire(&orphan, RetireMode::Discard).await.unwrap();
    assert_eq!(retired.deleted_branch.as_deref(), Some("ao/s6"));
    assert!(!ref_exists(&env.repo, "refs/heads/ao/s6"));
    git(&env.repo, &["branch", "ao/s6", "main"]);
    let retired = env.retire(&orphan, RetireMode::KeepDirty).await.unwrap();
    assert_eq!(retired.deleted_branch, None, "only a failed spawn's");

    // The branch stays checked out in the trash, and a new spawn on it is told where.
    let err = env
        .worktree
        .create(&env.request("s5", "ao/s4"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, WorkspaceError::BranchCheckedOutElsewhere { path, .. } if path.contains(".trash") && path.contains("aoctl trash")),
        "{err}"
    );
}

#[tokio::test]
async fn emptying_by_age_keeps_newer_entries() {
    let env = env();
    let old = env.create("old", "ao/old").await;
    env.worktree
        .retire(&old, RetireMode::KeepDirty, at(0))
        .await
        .unwrap();
    let new = env.create("new", "ao/new").await;
    env.worktree
        .retire(&new, RetireMode::KeepDirty, at(3600))
        .await
        .unwrap();
    let emptied = env.worktree.trash_empty(Some(at(1800))).await.unwrap();
    let removed: Vec<&str> = emptied.removed.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(removed, ["old-20261203T000000Z"]);
    let left: Vec<String> = env
        .worktree
        .trash_list()
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(left, ["new-20261203T010000Z"]);
    assert!(ref_exists(&env.repo, "refs/heads/ao/old"));
    let listing = git(&env.repo, &["worktree", "list", "--porcelain"]);
    assert!(!listing.contains("old-2026"), "{listing}");
}

/// Restoring an entry whose original path is taken again is refused, and the entry stays.
#[tokio::test]
async fn restore_from_the_trash_never_overwrites() {
    let env = env();
    let info = env.create("sess", "feature/one").await;
    let entry = env
        .retire(&info, RetireMode::KeepDirty)
        .await
        .unwrap()
        .trash
        .unwrap();
    std::fs::create_dir_all(&info.path).unwrap();
    std::fs::write(info.path.join("new.txt"), "new\n").unwrap();
    let err = env.worktree.trash_restore(&entry.id).await.unwrap_err();
    assert!(
        matches!(err, WorkspaceError::RestoreBlocked { .. }),
        "{err}"
    );
    assert!(entry.path.join("README").exists());
    assert_eq!(
        std::fs::read_to_string(info.path.join("new.txt")).unwrap(),
        "new\n"
    );
    assert!(matches!(
        env.worktree.trash_restore("no-such-entry").await,
        Err(WorkspaceError::NotInTrash(_))
    ));
}

/// Moves a crash cut short are finished or rolled back by the repair the daemon runs at start:
/// before the rename (rolled back: unlocked, in place), after the rename but before git learnt
/// the new place (finished), and half-way through a restore and an emptying (finished).
#[tokio::test]
async fn the_start_up_repair_finishes_or_rolls_back_every_interrupted_step() {
    let env = env();
    // Runs `work` until the runner hangs in it, then drops it: a crash at that point.
    async fn crash<F: std::future::Future>(runner: &TestRunner, work: F) {
        tokio::select! {
            _ = work => panic!("the step should have hung"),
            _ = runner.hung.notified() => {}
        }
    }

    // 1. Locked, not yet moved.
    let a = env.create("a", "ao/a").await;
    let before = tree_digest(&a.path);
    env.runner.hang_after("worktree", "lock");
    crash(&env.runner, env.retire(&a, RetireMode::KeepDirty)).await;
    assert!(
        env.lock_reason(&a.path)
            .is_some_and(|r| r.starts_with("ao trash"))
    );
    let listed = env.worktree.trash_list().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].state, TrashState::Interrupted);
    let repair = env.worktree.trash_repair().await.unwrap();
    assert_eq!(repair.rolled_back.len(), 1, "{repair:?}");
    assert_eq!(env.lock_reason(&a.path), None);
    assert_eq!(tree_digest(&a.path), before);
    assert!(env.worktree.trash_list().await.unwrap().is_empty());

    // 2. Moved, git not yet told.
    env.runner.hang_after("worktree", "repair");
    crash(&env.runner, env.retire(&a, RetireMode::KeepDirty)).await;
    assert!(!a.path.exists());
    let repair = env.worktree.trash_repair().await.unwrap();
    assert_eq!(repair.finished.len(), 1, "{repair:?}");
    let entry = env.worktree.trash_list().await.unwrap().remove(0);
    assert_eq!(entry.state, TrashState::Trashed);
    assert!(env.registered(&entry.path));
    assert_eq!(git(&entry.path, &["status", "--porcelain"]), "");

    // 3. Restored on disk, git not yet told.
    env.runner.hang_after("worktree", "repair");
    crash(&env.runner, env.worktree.trash_restore(&entry.id)).await;
    assert!(a.path.exists());
    let repair = env.worktree.trash_repair().await.unwrap();
    assert_eq!(repair.finished.len(), 1, "{repair:?}");
    assert!(env.registered(&a.path));
    assert_eq!(env.lock_reason(&a.path), None);
    assert_eq!(tree_digest(&a.path), before);

    // 4. Emptying cut short after the unlock.
    let entry = env
        .retire(&a, RetireMode::KeepDirty)
        .await
        .unwrap()
        .trash
        .unwrap();
    env.runner.hang_after("worktree", "unlock");
    crash(&env.runner, env.worktree.trash_empty(None)).await;
    let repair = env.worktree.trash_repair().await.unwrap();
    assert_eq!(repair.finished.len(), 1, "{repair:?}");
    assert!(!entry.path.exists() && !env.registered(&entry.path));
    assert!(env.worktree.trash_list().await.unwrap().is_empty());
    assert!(repair.failed.is_empty());
}

#[tokio::test]
async fn a_registered_worktree_missing_from_disk_is_an_empty_retire_and_is_recreated() {
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
    for add in env.calls_with("add") {
        assert!(
            add.iter().filter(|a| *a == "--force").count() <= 1,
            "{add:?}"
        );
    }

    std::fs::remove_dir_all(&info.path).unwrap();
    assert_eq!(
        env.retire(&info, RetireMode::KeepDirty).await,
        Ok(Retired::default())
    );
    assert!(env.worktree.trash_list().await.unwrap().is_empty());
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
    let mut timings: Vec<(&str, Vec<Duration>)> = vec![
        ("create", vec![]),
        ("retire (clean)", vec![]),
        ("retire --preserve (dirty)", vec![]),
        ("restore from the trash", vec![]),
    ];
    for round in 0..ROUNDS {
        let session = format!("s{round}");
        let branch = format!("feature/{round}");
        let started = std::time::Instant::now();
        let info = env.create(&session, &branch).await;
        timings[0].1.push(started.elapsed());
        let started = std::time::Instant::now();
        let now = at(round as i64 * 10);
        env.worktree
            .retire(&info, RetireMode::KeepDirty, now)
            .await
            .unwrap();
        timings[1].1.push(started.elapsed());
        env.worktree.trash_empty(None).await.unwrap();

        let info = env.create(&session, &branch).await;
        std::fs::write(info.path.join("README"), "changed\n").unwrap();
        std::fs::write(info.path.join("notes.txt"), "notes\n").unwrap();
        let started = std::time::Instant::now();
        let entry = env
            .worktree
            .retire(&info, RetireMode::Preserve, now)
            .await
            .unwrap()
            .trash
            .unwrap();
        timings[2].1.push(started.elapsed());
        let started = std::time::Instant::now();
        env.worktree.trash_restore(&entry.id).await.unwrap();
        timings[3].1.push(started.elapsed());
        env.worktree
            .retire(&info, RetireMode::Preserve, now)
            .await
            .unwrap();
        env.worktree.trash_empty(None).await.unwrap();
    }
    for (name, samples) in timings {
        let total: Duration = samples.iter().sum();
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
    env.retire(&info, RetireMode::KeepDirty).await.unwrap();
    assert_eq!(status().await.unwrap(), WorktreeStatus::Missing);
    std::fs::create_dir_all(info.path.join("sub")).unwrap();
    assert_eq!(status().await.unwrap(), WorktreeStatus::Unregistered);
}

/// Many creates and retires on one repository at once all succeed: the adapter runs its `git
/// worktree` calls on a repository one at a time (git's own administration is not safe
/// against concurrent `worktree add`/`lock`/`repair`).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_and_retires_on_one_repository_all_succeed() {
    let env = Arc::new(env());
    let first = env.create("keep", "ao/keep").await;
    let tasks: Vec<_> = (0..16)
        .map(|n| {
            let env = env.clone();
            tokio::spawn(async move {
                let request = env.request(&format!("s{n}"), &format!("ao/s{n}"));
                let info = env.worktree.create(&request).await?;
                if n % 2 == 0 {
                    env.retire(&info, RetireMode::KeepDirty).await?;
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
    assert_eq!(env.worktree.trash_list().await.unwrap().len(), 8);
}
