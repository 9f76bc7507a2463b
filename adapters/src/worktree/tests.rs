//! Exact-argv tests of the worktree adapter against a scripted fake runner (scenarios P1–P22).
//! The real-git behaviour is covered by `tests/worktree.rs`.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;

use super::*;
use crate::process::{CommandOutput, CommandSpec, ProcessError};
use ao::ports::RetireMode;

/// Answers git calls from a script keyed by the rendered argv (`-C <repo> worktree …`, with the
/// temp paths replaced by `<root>` and `<repo>`); unscripted calls succeed with no output.
/// A key scripted with several outputs answers them in order, repeating the last.
#[derive(Debug, Default)]
struct FakeGit {
    script: Mutex<Vec<(String, VecDeque<CommandOutput>)>>,
    calls: Mutex<Vec<CommandSpec>>,
    placeholders: Vec<(String, &'static str)>,
}

impl FakeGit {
    fn render(&self, spec: &CommandSpec) -> String {
        let mut line = spec.argv()[1..].join(" ");
        for (real, placeholder) in &self.placeholders {
            line = line.replace(real.as_str(), placeholder);
        }
        line
    }

    fn on(&self, key: &str, outputs: Vec<CommandOutput>) {
        self.script
            .lock()
            .unwrap()
            .push((key.to_owned(), outputs.into()));
    }

    fn calls(&self) -> Vec<String> {
        let calls = self.calls.lock().unwrap();
        calls.iter().map(|spec| self.render(spec)).collect()
    }

    fn specs(&self) -> Vec<CommandSpec> {
        self.calls.lock().unwrap().clone()
    }
}

#[async_trait]
impl CommandRunner for FakeGit {
    async fn run(&self, spec: &CommandSpec) -> Result<CommandOutput, ProcessError> {
        self.calls.lock().unwrap().push(spec.clone());
        let key = self.render(spec);
        let mut script = self.script.lock().unwrap();
        let Some((_, outputs)) = script.iter_mut().find(|(k, _)| *k == key) else {
            return Ok(ok(""));
        };
        let out = if outputs.len() > 1 {
            outputs.pop_front()
        } else {
            outputs.front().cloned()
        };
        Ok(out.unwrap_or_default())
    }
}

fn ok(stdout: &str) -> CommandOutput {
    CommandOutput {
        code: Some(0),
        stdout: stdout.as_bytes().to_vec(),
        stderr: vec![],
    }
}

fn fail(code: i32, stderr: &str) -> CommandOutput {
    CommandOutput {
        code: Some(code),
        stdout: vec![],
        stderr: stderr.as_bytes().to_vec(),
    }
}

/// `rev-parse --verify --quiet` of an absent ref.
fn absent() -> CommandOutput {
    fail(1, "")
}

struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
    repo: PathBuf,
    fake: Arc<FakeGit>,
    worktree: GitWorktree,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().canonicalize().unwrap();
    let root = base.join("worktrees");
    let repo = base.join("repo");
    std::fs::create_dir(&repo).unwrap();
    let fake = Arc::new(FakeGit {
        placeholders: vec![
            (root.display().to_string(), "<root>"),
            (repo.display().to_string(), "<repo>"),
        ],
        ..FakeGit::default()
    });
    let options = GitWorktreeOptions {
        git: "git".into(),
        managed_root: root.clone(),
    };
    let worktree = GitWorktree::new(options, fake.clone()).unwrap();
    assert_eq!(worktree.managed_root(), root);
    Fixture {
        _dir: dir,
        root,
        repo,
        fake,
        worktree,
    }
}

impl Fixture {
    fn request(&self, session: &str, branch: &str) -> WorkspaceRequest {
        WorkspaceRequest {
            repo: self.repo.clone(),
            project_id: ProjectId::parse("proj").unwrap(),
            session_id: SessionId::parse(session).unwrap(),
            branch: branch.to_owned(),
            base_branch: None,
        }
    }

    fn info(&self, session: &str) -> WorkspaceInfo {
        WorkspaceInfo {
            repo: self.repo.clone(),
            path: self.root.join("proj").join(session),
            branch: "feat".to_owned(),
            project_id: ProjectId::parse("proj").unwrap(),
            session_id: SessionId::parse(session).unwrap(),
        }
    }

    /// The one `for-each-ref` a new branch's creation reads: these `<refname>\t<symref>` lines.
    fn refs(&self, branch: &str, configured: Option<&str>, lines: &[&str]) {
        self.fake.on(
            &refs_key(branch, configured),
            vec![ok(&lines
                .iter()
                .map(|l| format!("{l}\n"))
                .collect::<String>())],
        );
    }

    /// `worktree list --porcelain` answers: the main worktree plus `extra` records.
    fn registered(&self, extra: &str) {
        self.registered_seq(vec![extra]);
    }

    fn registered_seq(&self, extras: Vec<&str>) {
        let outputs = extras
            .into_iter()
            .map(|extra| {
                ok(&format!(
                    "worktree {}\nHEAD {}\nbranch refs/heads/main\n\n{extra}",
                    self.repo.display(),
                    "a".repeat(40)
                ))
            })
            .collect();
        self.fake.on("-C <repo> worktree list --porcelain", outputs);
    }

    fn record(&self, path: &Path, branch: &str, extra: &str) -> String {
        format!(
            "worktree {}\nHEAD {}\nbranch refs/heads/{branch}\n{extra}\n",
            path.display(),
            "b".repeat(40)
        )
    }

    fn sess_path(&self) -> PathBuf {
        self.root.join("proj/sess")
    }

    fn make_dir_with_file(&self) -> PathBuf {
        let path = self.sess_path();
        std::fs::create_dir_all(&path).unwrap();
        std::fs::write(path.join("keep.txt"), "keep").unwrap();
        path
    }
}

/// The rendered argv of the ref listing for `branch`.
fn refs_key(branch: &str, configured: Option<&str>) -> String {
    format!(
        "-C <repo> for-each-ref {} {}",
        refs::FORMAT,
        refs::patterns(branch, configured).join(" ")
    )
}

/// origin's HEAD on `main`, which exists.
const ORIGIN_MAIN: [&str; 2] = [
    "refs/remotes/origin/HEAD\trefs/remotes/origin/main",
    "refs/remotes/origin/main\t",
];

fn strings(lines: &[&str]) -> Vec<String> {
    lines.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn p1_new_branch_create_runs_the_documented_argv() {
    let f = fixture();
    f.registered("");
    f.refs("feat", None, &ORIGIN_MAIN);
    let info = f.worktree.create(&f.request("sess", "feat")).await.unwrap();
    assert_eq!(info.path, f.sess_path());
    assert_eq!(info.branch, "feat");
    assert_eq!(
        f.fake.calls(),
        [
            "-C <repo> worktree list --porcelain".to_owned(),
            refs_key("feat", None),
            "-C <repo> worktree add -b feat <root>/proj/sess origin/main".to_owned(),
        ]
    );
}

#[tokio::test]
async fn p1_every_call_has_the_hygiene_environment_and_its_deadline() {
    let f = fixture();
    f.registered("");
    f.refs("feat", None, &["refs/heads/feat\t"]);
    f.worktree.create(&f.request("sess", "feat")).await.unwrap();
    let specs = f.fake.specs();
    assert!(!specs.is_empty());
    for spec in specs {
        assert_eq!(spec.program, "git");
        for key in ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"] {
            assert!(
                spec.env_remove.iter().any(|k| k == key),
                "{key} kept in {spec:?}"
            );
        }
        for (key, value) in [("GIT_TERMINAL_PROMPT", "0"), ("LC_ALL", "C")] {
            assert!(
                spec.env_set.iter().any(|(k, v)| k == key && v == value),
                "{key} missing in {spec:?}"
            );
        }
        let expected =
            if spec.argv().get(3..5) == Some(&["worktree".to_owned(), "add".to_owned()][..]) {
                Duration::from_secs(300)
            } else {
                Duration::from_secs(60)
            };
        assert_eq!(spec.timeout, expected, "{}", spec.display());
    }
}

/// The time every retire of these tests runs at, and the entry id it gives `sess`.
const EPOCH: Timestamp = Timestamp::from_millis(0);
const SESS_ENTRY: &str = "sess-19700101T000000Z";

#[tokio::test]
async fn p1_existing_branch_create_and_clean_retire_into_the_trash() {
    let f = fixture();
    let record = f.record(&f.sess_path(), "feat", "");
    f.registered_seq(vec!["", &record]);
    f.refs("feat", None, &["refs/heads/feat\t"]);
    let info = f.worktree.create(&f.request("sess", "feat")).await.unwrap();
    let path = f.make_dir_with_file();
    let retired = f
        .worktree
        .retire(&info, RetireMode::KeepDirty, EPOCH)
        .await
        .unwrap();
    let entry = retired.trash.expect("moved to the trash");
    assert_eq!(entry.id, SESS_ENTRY);
    assert_eq!(entry.path, f.root.join(".trash").join(SESS_ENTRY));
    assert_eq!(
        std::fs::read_to_string(entry.path.join("keep.txt")).unwrap(),
        "keep"
    );
    assert!(!path.exists());
    let entry_path = format!("<root>/.trash/{SESS_ENTRY}");
    assert_eq!(
        f.fake.calls(),
        [
            "-C <repo> worktree list --porcelain".to_owned(),
            refs_key("feat", None),
            "-C <repo> worktree add <root>/proj/sess feat".to_owned(),
            "-C <repo> worktree list --porcelain".to_owned(),
            "-C <root>/proj/sess status --porcelain".to_owned(),
            format!("-C <repo> worktree lock --reason ao trash {SESS_ENTRY} <root>/proj/sess"),
            format!("-C <repo> worktree repair {entry_path}"),
        ]
    );
    for spec in f.fake.specs() {
        assert!(
            !spec
                .argv()
                .iter()
                .any(|a| a == "--force" || a == "-f" || a == "remove"),
            "{}",
            spec.display()
        );
    }
    let listed = f.worktree.trash_list().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].state, ao::ports::TrashState::Trashed);
    assert_eq!(listed[0].original_path.as_deref(), Some(path.as_path()));
}

#[tokio::test]
async fn retire_moves_an_unregistered_leftover_whole_into_the_trash() {
    let f = fixture();
    f.registered("");
    let path = f.make_dir_with_file();
    std::fs::write(path.join(".git"), "gitdir: /somewhere/else\n").unwrap();
    let retired = f
        .worktree
        .retire(&f.info("sess"), RetireMode::KeepDirty, EPOCH)
        .await
        .unwrap();
    let entry = retired.trash.unwrap();
    assert!(!entry.registered);
    assert!(!path.exists());
    assert!(entry.path.join("keep.txt").exists() && entry.path.join(".git").exists());
    assert_eq!(
        f.fake.calls(),
        strings(&["-C <repo> worktree list --porcelain"])
    );
}

#[tokio::test]
async fn retire_of_nothing_is_an_empty_success() {
    let f = fixture();
    f.registered("");
    assert_eq!(
        f.worktree
            .retire(&f.info("sess"), RetireMode::Preserve, EPOCH)
            .await,
        Ok(Retired::default())
    );
    assert!(!f.root.join(".trash").exists());
}

#[test]
fn p2_base_candidates() {
    assert_eq!(
        base_candidates("feature/test", "main"),
        strings(&[
            "origin/feature/test",
            "origin/main",
            "refs/heads/main",
            "feature/test",
            "refs/tags/feature/test",
        ])
    );
    assert_eq!(
        base_candidates("feature/test", "mirror/main"),
        strings(&[
            "origin/feature/test",
            "mirror/main",
            "feature/test",
            "refs/tags/feature/test",
        ])
    );
}

#[tokio::test]
async fn p2_configured_base_branch_with_a_slash_is_used_as_is() {
    let f = fixture();
    f.registered("");
    // origin/feature/test is absent; the configured `mirror/main` exists and is used as is.
    f.refs(
        "feature/test",
        Some("mirror/main"),
        &["refs/remotes/mirror/main\t", "refs/remotes/origin/main\t"],
    );
    let mut request = f.request("sess", "feature/test");
    request.base_branch = Some("mirror/main".to_owned());
    f.worktree.create(&request).await.unwrap();
    let calls = f.fake.calls();
    assert_eq!(
        calls[1..],
        [
            refs_key("feature/test", Some("mirror/main")),
            "-C <repo> worktree add -b feature/test <root>/proj/sess mirror/main".to_owned(),
        ]
    );
}

#[tokio::test]
async fn p3_remote_less_repository_bases_on_the_local_default() {
    // No origin HEAD: the current branch is the default. An origin HEAD whose branch was never
    // fetched: its name is the default, and the local branch of that name is the base.
    let cases: [(&[&str], Option<&str>, &str); 2] = [
        (&["refs/heads/trunk\t"], Some("trunk\n"), "trunk"),
        (
            &[
                "refs/remotes/origin/HEAD\trefs/remotes/origin/develop",
                "refs/heads/develop\t",
            ],
            None,
            "develop",
        ),
    ];
    for (listing, current, default) in cases {
        let f = fixture();
        f.registered("");
        f.refs("feat", None, listing);
        if let Some(current) = current {
            f.fake
                .on("-C <repo> branch --show-current", vec![ok(current)]);
        }
        f.worktree.create(&f.request("sess", "feat")).await.unwrap();
        let calls = f.fake.calls();
        assert_eq!(
            calls.last().unwrap(),
            &format!("-C <repo> worktree add -b feat <root>/proj/sess refs/heads/{default}"),
            "{calls:#?}"
        );
        assert_eq!(
            calls.iter().any(|c| c.contains("branch --show-current")),
            current.is_some(),
            "the current branch is read only without an origin HEAD: {calls:#?}"
        );
    }
}

#[tokio::test]
async fn p5_list_keeps_only_the_projects_worktrees() {
    let f = fixture();
    let records = [
        f.record(&f.root.join("proj/s1"), "feature/one", ""),
        format!(
            "worktree {}\nHEAD {}\ndetached\n",
            f.root.join("proj/s2").display(),
            "c".repeat(40)
        ),
        f.record(&f.root.join("other/s3"), "b3", ""),
        f.record(&f.root.join("proj/deep/s4"), "b4", ""),
        f.record(Path::new("/elsewhere/proj/s5"), "b5", ""),
    ]
    .join("\n");
    f.registered(&records);
    let list = f
        .worktree
        .list(&f.repo, &ProjectId::parse("proj").unwrap())
        .await
        .unwrap();
    let seen: Vec<_> = list
        .iter()
        .map(|i| (i.session_id.as_str(), i.branch.as_str(), i.path.clone()))
        .collect();
    assert_eq!(
        seen,
        vec![
            ("s1", "feature/one", f.root.join("proj/s1")),
            ("s2", "", f.root.join("proj/s2")),
        ]
    );
}

#[tokio::test]
async fn p6_path_for_and_unsafe_paths() {
    let f = fixture();
    let path = f
        .worktree
        .path_for(
            &ProjectId::parse("proj").unwrap(),
            &SessionId::parse("sess").unwrap(),
        )
        .unwrap();
    assert_eq!(path, f.root.join("proj/sess"));
    for bad in [f.root.join("../outside"), PathBuf::from("relative/path")] {
        let mut info = f.info("sess");
        info.path = bad.clone();
        for err in [
            f.worktree
                .retire(&info, RetireMode::Preserve, EPOCH)
                .await
                .unwrap_err(),
            f.worktree
                .add_exclude(&info, &["x".to_owned()])
                .await
                .unwrap_err(),
        ] {
            assert!(
                matches!(err, WorkspaceError::UnsafePath(_)),
                "{}: {err}",
                bad.display()
            );
        }
    }
    assert!(f.fake.calls().is_empty(), "{:?}", f.fake.calls());
}

#[tokio::test]
async fn p7_accepted_ids_build_the_path() {
    let f = fixture();
    f.registered("");
    f.refs("feat", None, &["refs/heads/feat\t"]);
    let mut request = f.request("sess_2", "feat");
    request.project_id = ProjectId::parse("proj-1").unwrap();
    let info = f.worktree.create(&request).await.unwrap();
    assert_eq!(info.path, f.root.join("proj-1/sess_2"));
}

#[tokio::test]
async fn p8_p10_stale_registration_is_re_added_with_one_force() {
    for (branch_exists, expected) in [
        (true, "-C <repo> worktree add --force <root>/proj/sess feat"),
        (
            false,
            "-C <repo> worktree add --force -b feat <root>/proj/sess origin/feat",
        ),
    ] {
        let f = fixture();
        f.registered(&f.record(
            &f.sess_path(),
            "feat",
            "prunable gitdir file points to non-existent location",
        ));
        if branch_exists {
            f.refs("feat", None, &["refs/heads/feat\t"]);
        } else {
            f.refs(
                "feat",
                None,
                &[ORIGIN_MAIN[0], ORIGIN_MAIN[1], "refs/remotes/origin/feat\t"],
            );
        }
        let info = f.worktree.create(&f.request("sess", "feat")).await.unwrap();
        assert_eq!(info.branch, "feat");
        let calls = f.fake.calls();
        assert_eq!(calls.last().unwrap(), expected, "{calls:#?}");
        let adds: Vec<_> = calls
            .iter()
            .filter(|c| c.contains("worktree add"))
            .collect();
        assert_eq!(adds.len(), 1, "{calls:#?}");
        assert_eq!(adds[0].matches("--force").count(), 1);
        assert!(
            !calls
                .iter()
                .any(|c| c.contains("worktree prune") || c.contains("worktree remove")),
            "{calls:#?}"
        );
    }
}

#[tokio::test]
async fn p9_registered_existing_worktree_is_reused() {
    let f = fixture();
    f.registered(&f.record(&f.sess_path(), "feat", ""));
    f.make_dir_with_file();
    let info = f.worktree.create(&f.request("sess", "feat")).await.unwrap();
    assert_eq!(info.path, f.sess_path());
    assert_eq!(
        f.fake.calls(),
        [
            "-C <repo> worktree list --porcelain".to_owned(),
            refs_key("feat", None)
        ],
        "only the two read-only queries ran"
    );
}

#[tokio::test]
async fn p11_restore_of_a_stale_registration_uses_the_registered_branch() {
    let f = fixture();
    f.registered(&f.record(&f.sess_path(), "registered", ""));
    f.refs("registered", None, &["refs/heads/registered\t"]);
    let (info, recreated) = f
        .worktree
        .restore(&f.request("sess", "requested"))
        .await
        .unwrap();
    assert!(recreated);
    assert_eq!(info.branch, "registered");
    assert_eq!(
        f.fake.calls(),
        [
            "-C <repo> worktree list --porcelain".to_owned(),
            refs_key("registered", None),
            "-C <repo> worktree add --force <root>/proj/sess registered".to_owned(),
        ]
    );
}

#[tokio::test]
async fn w11_restore_reusing_a_worktree_touches_no_ref() {
    let f = fixture();
    f.registered(&f.record(&f.sess_path(), "feat", ""));
    f.make_dir_with_file();
    let (info, recreated) = f
        .worktree
        .restore(&f.request("sess", "feat"))
        .await
        .unwrap();
    assert!(!recreated);
    assert_eq!(info.branch, "feat");
    assert_eq!(
        f.fake.calls(),
        strings(&["-C <repo> worktree list --porcelain"])
    );
}

#[tokio::test]
async fn p12_branch_checked_out_elsewhere_names_the_other_path() {
    let f = fixture();
    f.registered(&f.record(Path::new("/elsewhere/wt"), "feat", ""));
    let err = f
        .worktree
        .create(&f.request("sess", "feat"))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        WorkspaceError::BranchCheckedOutElsewhere {
            branch: "feat".into(),
            path: "/elsewhere/wt".into()
        }
    );
    assert!(!f.fake.calls().iter().any(|c| c.contains("worktree add")));
}

#[tokio::test]
async fn p13_an_invalid_branch_stops_before_any_git_runs() {
    let f = fixture();
    for branch in ["bad..name", "@{-1}", "-x", "HEAD", "a b", "x.lock"] {
        let err = f
            .worktree
            .create(&f.request("sess", branch))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, WorkspaceError::BranchInvalid { branch: b, .. } if b == branch),
            "{branch}: {err}"
        );
        assert!(
            matches!(
                f.worktree.check_branch(&f.repo, branch).await,
                Err(WorkspaceError::BranchInvalid { .. })
            ),
            "{branch}"
        );
    }
    assert!(f.fake.calls().is_empty(), "{:?}", f.fake.calls());
}

/// The in-process check agrees with `git check-ref-format --branch` (real git) on every name
/// of a table of the rules' edge cases: git takes exactly the names it takes, as they are.
#[test]
fn branch_names_are_judged_as_git_judges_them() {
    let dir = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(dir.path())
            .args(args)
            .env("LC_ALL", "C")
            .output()
            .expect("git")
    };
    assert!(git(&["init", "-q"]).status.success());
    let names = [
        "feat",
        "feat/42",
        "a/b/c",
        "ao/web-1",
        "é-ünïcode",
        "x.lock.y",
        "a@b",
        "a.b",
        "a-",
        "_",
        "bad..name",
        "..",
        ".",
        ".a",
        "a/.b",
        "a.",
        "a/",
        "/a",
        "a//b",
        "a/./b",
        "a/../b",
        "a.lock",
        "a.lock/b",
        "@",
        "@{",
        "a@{b",
        "@{-1}",
        "-a",
        "HEAD",
        "a/HEAD",
        "refs/heads/x",
        "a~b",
        "a^b",
        "a:b",
        "a?b",
        "a*b",
        "a[b",
        "a\\b",
        "a b",
        "a\tb",
        "a\u{7f}",
        "a\u{1}b",
        "",
    ];
    for name in names {
        let out = git(&["check-ref-format", "--branch", name]);
        let git_takes =
            out.status.success() && String::from_utf8_lossy(&out.stdout).trim_end() == name;
        let ours = branch_name_error(name);
        assert_eq!(
            ours.is_none(),
            git_takes,
            "{name:?}: git {out:?}, ours {ours:?}"
        );
    }
}

#[tokio::test]
async fn p14_no_base_ref_anywhere_is_branch_not_fetched() {
    let f = fixture();
    f.registered("");
    for rev in [
        "refs/heads/feat",
        "origin/feat",
        "origin/main",
        "refs/heads/main",
        "feat",
        "refs/tags/feat",
    ] {
        f.fake.on(
            &format!("-C <repo> rev-parse --verify --quiet {rev}"),
            vec![absent()],
        );
    }
    f.fake.on(
        "-C <repo> symbolic-ref --quiet --short refs/remotes/origin/HEAD",
        vec![fail(1, "")],
    );
    f.fake.on("-C <repo> branch --show-current", vec![ok("")]);
    f.fake.on(
        "-C <repo> rev-parse --verify --quiet HEAD^{commit}",
        vec![ok("abc\n")],
    );
    let err = f
        .worktree
        .create(&f.request("sess", "feat"))
        .await
        .unwrap_err();
    assert_eq!(err, WorkspaceError::BranchNotFetched("feat".into()));
    assert!(!f.fake.calls().iter().any(|c| c.contains("worktree add")));
}

#[tokio::test]
async fn ref_listing_errors_are_reported() {
    let f = fixture();
    f.registered("");
    f.fake.on(
        &refs_key("feat", None),
        vec![fail(128, "fatal: bad object")],
    );
    let err = f
        .worktree
        .create(&f.request("sess", "feat"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, WorkspaceError::Git { argv, output } if argv.contains("for-each-ref") && output.contains("bad object")),
        "{err}"
    );
}

#[tokio::test]
async fn p15_locked_missing_registration_is_locked() {
    let f = fixture();
    f.registered(&f.record(&f.sess_path(), "feat", "locked on a removable disk"));
    for result in [
        f.worktree.create(&f.request("sess", "feat")).await.err(),
        f.worktree.restore(&f.request("sess", "feat")).await.err(),
    ] {
        assert_eq!(result, Some(WorkspaceError::Locked));
    }
    assert!(!f.fake.calls().iter().any(|c| c.contains("worktree add")));
}

#[tokio::test]
async fn p16_restore_refuses_an_occupied_unregistered_path() {
    let f = fixture();
    f.registered("");
    std::fs::create_dir_all(f.root.join("proj")).unwrap();
    std::fs::write(f.sess_path(), "a file").unwrap();
    let err = f
        .worktree
        .restore(&f.request("sess", "feat"))
        .await
        .unwrap_err();
    assert!(matches!(err, WorkspaceError::NotAWorktree(_)), "{err}");
    assert!(
        err.to_string()
            .contains("path exists and is not a registered worktree")
    );
    assert_eq!(
        f.fake.calls(),
        strings(&["-C <repo> worktree list --porcelain"])
    );
    assert_eq!(std::fs::read_to_string(f.sess_path()).unwrap(), "a file");
}

#[tokio::test]
async fn p18_retire_keeps_a_dirty_or_locked_worktree_in_place() {
    let f = fixture();
    let path = f.make_dir_with_file();
    f.registered(&f.record(&path, "feat", ""));
    f.fake.on(
        "-C <root>/proj/sess status --porcelain",
        vec![ok("?? keep.txt\n")],
    );
    assert_eq!(
        f.worktree
            .retire(&f.info("sess"), RetireMode::KeepDirty, EPOCH)
            .await,
        Err(WorkspaceError::Dirty {
            paths: vec!["keep.txt".to_owned()]
        })
    );
    assert!(path.join("keep.txt").exists());
    assert!(!f.fake.calls().iter().any(|c| c.contains("lock")));

    for mode in [
        RetireMode::KeepDirty,
        RetireMode::Preserve,
        RetireMode::Discard,
    ] {
        let f = fixture();
        let path = f.make_dir_with_file();
        f.registered(&f.record(&path, "feat", "locked usb"));
        assert_eq!(
            f.worktree.retire(&f.info("sess"), mode, EPOCH).await,
            Err(WorkspaceError::Locked),
            "{mode:?}"
        );
        assert!(path.join("keep.txt").exists());
        assert_eq!(
            f.fake.calls(),
            strings(&["-C <repo> worktree list --porcelain"])
        );
    }
}

#[tokio::test]
async fn a_failed_lock_moves_nothing_and_leaves_no_manifest() {
    let f = fixture();
    let path = f.make_dir_with_file();
    f.registered(&f.record(&path, "feat", ""));
    f.fake.on(
        &format!("-C <repo> worktree lock --reason ao trash {SESS_ENTRY} <root>/proj/sess"),
        vec![fail(128, "fatal: disk on fire")],
    );
    let err = f
        .worktree
        .retire(&f.info("sess"), RetireMode::KeepDirty, EPOCH)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, WorkspaceError::Git { output, .. } if output.contains("disk on fire")),
        "{err}"
    );
    assert!(path.join("keep.txt").exists());
    assert_eq!(f.worktree.trash_list().await.unwrap(), vec![]);
}

#[tokio::test]
async fn a_detached_head_on_no_branch_is_pinned_before_the_move() {
    let f = fixture();
    let path = f.make_dir_with_file();
    let head = "c".repeat(40);
    f.registered(&format!(
        "worktree {}\nHEAD {head}\ndetached\n",
        path.display()
    ));
    f.fake.on(
        "-C <repo> rev-parse --verify --quiet refs/ao/detached/sess",
        vec![absent()],
    );
    let retired = f
        .worktree
        .retire(&f.info("sess"), RetireMode::KeepDirty, EPOCH)
        .await
        .unwrap();
    assert_eq!(
        retired.detached_ref.as_deref(),
        Some("refs/ao/detached/sess")
    );
    let calls = f.fake.calls();
    assert_eq!(
        calls[1..4],
        strings(&[
            &format!(
                "-C <repo> for-each-ref --count=1 --format=%(refname) --contains {head} refs/heads/ refs/tags/"
            ),
            "-C <repo> rev-parse --verify --quiet refs/ao/detached/sess",
            &format!("-C <repo> update-ref refs/ao/detached/sess {head} "),
        ])
    );
    assert!(calls[4].contains("status --porcelain"), "{calls:?}");
}

#[tokio::test]
async fn p19_preserving_a_worktree_git_cannot_read_is_stale_and_moves_nothing() {
    let f = fixture();
    let path = f.make_dir_with_file();
    f.registered(&f.record(&path, "feat", ""));
    f.fake.on(
        "-C <root>/proj/sess rev-parse --git-path index",
        vec![fail(
            128,
            "fatal: not a git repository (or any of the parent directories): .git",
        )],
    );
    let err = f
        .worktree
        .retire(&f.info("sess"), RetireMode::Preserve, EPOCH)
        .await
        .unwrap_err();
    assert!(matches!(err, WorkspaceError::Stale(_)), "{err}");
    assert!(path.join("keep.txt").exists());
    for spec in f.fake.specs() {
        assert!(
            !spec.argv().iter().any(|a| a == "add" || a == "lock"),
            "{}",
            spec.display()
        );
    }
}

#[tokio::test]
async fn stash_uses_a_temporary_index_and_the_ao_identity() {
    let f = fixture();
    let path = f.make_dir_with_file();
    f.registered(&f.record(&path, "feat", ""));
    f.fake.on(
        "-C <root>/proj/sess rev-parse --git-path index",
        vec![ok(&format!(
            "{}\n",
            f.repo.join(".git/worktrees/sess/index").display()
        ))],
    );
    f.fake
        .on("-C <root>/proj/sess write-tree", vec![ok("1111\n")]);
    f.fake.on(
        "-C <root>/proj/sess rev-parse --verify --quiet HEAD^{tree}",
        vec![ok("2222\n")],
    );
    f.fake.on(
        "-C <root>/proj/sess rev-parse --verify --quiet HEAD",
        vec![ok("5555\n")],
    );
    f.fake.on(
        "-C <root>/proj/sess rev-parse --verify --quiet refs/ao/preserved/sess",
        vec![absent()],
    );
    f.fake.on(
        "-C <root>/proj/sess commit-tree 1111 -p 5555 -m ao preserved sess",
        vec![ok("3333\n")],
    );
    let retired = f
        .worktree
        .retire(&f.info("sess"), RetireMode::Preserve, EPOCH)
        .await
        .unwrap();
    assert_eq!(
        retired.preserved_ref.as_deref(),
        Some("refs/ao/preserved/sess")
    );
    assert!(retired.trash.is_some());
    let calls = f.fake.calls();
    assert_eq!(
        calls[1..10],
        strings(&[
            "-C <root>/proj/sess rev-parse --git-path index",
            "-C <root>/proj/sess add -A",
            "-C <root>/proj/sess rev-parse --verify --quiet HEAD^{tree}",
            "-C <root>/proj/sess diff-index --cached --no-renames -z 2222",
            "-C <root>/proj/sess write-tree",
            "-C <root>/proj/sess rev-parse --verify --quiet HEAD",
            "-C <root>/proj/sess rev-parse --verify --quiet refs/ao/preserved/sess",
            "-C <root>/proj/sess commit-tree 1111 -p 5555 -m ao preserved sess",
            "-C <root>/proj/sess update-ref refs/ao/preserved/sess 3333 ",
        ])
    );
    let specs = f.fake.specs();
    for spec in [&specs[2], &specs[4], &specs[5]] {
        let index = spec
            .env_set
            .iter()
            .find(|(k, _)| k == "GIT_INDEX_FILE")
            .map(|(_, v)| PathBuf::from(v));
        let index = index.unwrap_or_else(|| panic!("no temp index in {}", spec.display()));
        assert!(!index.starts_with(&f.repo), "{}", index.display());
        assert!(!spec.env_remove.iter().any(|k| k == "GIT_INDEX_FILE"));
    }
    let commit = &specs[8];
    for (key, value) in [
        ("GIT_AUTHOR_NAME", "ao"),
        ("GIT_COMMITTER_NAME", "ao"),
        ("GIT_AUTHOR_EMAIL", "ao@localhost"),
        ("GIT_COMMITTER_EMAIL", "ao@localhost"),
    ] {
        assert!(
            commit.env_set.iter().any(|(k, v)| k == key && v == value),
            "{key}"
        );
    }
}

#[tokio::test]
async fn stash_of_an_unborn_head_compares_with_the_empty_tree() {
    let f = fixture();
    let path = f.make_dir_with_file();
    f.registered(&f.record(&path, "feat", ""));
    f.fake.on(
        "-C <root>/proj/sess rev-parse --git-path index",
        vec![ok(".git/index\n")],
    );
    f.fake.on(
        "-C <root>/proj/sess write-tree",
        vec![ok("4b825dc642cb6eb9a060e54bf8d69288fbee4904\n")],
    );
    f.fake.on(
        "-C <root>/proj/sess rev-parse --verify --quiet HEAD^{tree}",
        vec![absent()],
    );
    let retired = f
        .worktree
        .retire(&f.info("sess"), RetireMode::Preserve, EPOCH)
        .await
        .unwrap();
    assert_eq!(retired.preserved_ref, None);
    let calls = f.fake.calls();
    assert!(
        !calls.iter().any(|c| c.contains("commit-tree")),
        "{calls:?}"
    );
    assert!(
        calls.contains(&"-C <root>/proj/sess diff-index --cached --no-renames -z 4b825dc642cb6eb9a060e54bf8d69288fbee4904".to_owned()),
        "{calls:?}"
    );
}

#[tokio::test]
async fn p22_missing_but_registered_add_is_retried_once_with_force() {
    let missing = "fatal: '<root>/proj/sess' is a missing but already registered worktree;\nuse 'add -f' to override, or 'prune' or 'remove' to clear";
    for retry_fails in [false, true] {
        let f = fixture();
        f.registered("");
        // Absent before the first attempt (origin/feat is the base); the failed attempt
        // created it.
        f.refs("feat", None, &["refs/remotes/origin/feat\t"]);
        f.fake.on(
            "-C <repo> rev-parse --verify --quiet refs/heads/feat",
            vec![ok("abcd\n")],
        );
        f.fake.on(
            "-C <repo> worktree add -b feat <root>/proj/sess origin/feat",
            vec![fail(128, missing)],
        );
        if retry_fails {
            f.fake.on(
                "-C <repo> worktree add --force <root>/proj/sess feat",
                vec![fail(128, "fatal: second failure")],
            );
        }
        let result = f.worktree.create(&f.request("sess", "feat")).await;
        let calls = f.fake.calls();
        assert_eq!(
            calls[calls.len() - 3..],
            strings(&[
                "-C <repo> worktree add -b feat <root>/proj/sess origin/feat",
                "-C <repo> rev-parse --verify --quiet refs/heads/feat",
                "-C <repo> worktree add --force <root>/proj/sess feat",
            ]),
            "{calls:#?}"
        );
        assert!(
            !calls.iter().any(|c| c.contains("branch -D")
                || c.contains("branch -d")
                || c.contains("update-ref -d")),
            "{calls:#?}"
        );
        if retry_fails {
            let err = result.unwrap_err();
            let WorkspaceError::Git { output, .. } = &err else {
                panic!("{err}");
            };
            assert!(output.contains("second failure"), "{output}");
            assert!(output.contains(MISSING_BUT_REGISTERED), "{output}");
        } else {
            result.unwrap();
        }
    }
}

#[tokio::test]
async fn apply_refuses_refs_outside_the_preserved_namespace() {
    let f = fixture();
    f.make_dir_with_file();
    let err = f
        .worktree
        .apply_preserved(&f.info("sess"), "refs/heads/main")
        .await
        .unwrap_err();
    assert!(matches!(err, WorkspaceError::UnsafePath(_)), "{err}");
    assert!(f.fake.calls().is_empty());
}

#[tokio::test]
async fn add_exclude_without_patterns_runs_nothing() {
    let f = fixture();
    f.make_dir_with_file();
    f.worktree.add_exclude(&f.info("sess"), &[]).await.unwrap();
    assert!(f.fake.calls().is_empty());
    let err = f
        .worktree
        .add_exclude(&f.info("sess"), &["a\nb".to_owned()])
        .await
        .unwrap_err();
    assert!(matches!(err, WorkspaceError::Io(_)), "{err}");
}
