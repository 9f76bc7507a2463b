//! The cost of retiring a worktree into the trash, against the old `git worktree remove` path,
//! with a worktree of 1 GiB in 20,000 files (issue 12: kill's cost must not depend on the
//! worktree's size; under 100 ms of git/filesystem time).
//!
//! Reports, in one run:
//! 1. the floors: `rename(2)` of a 1 GiB / 20,000-file directory in process and `mv` of it as a
//!    process; and the old kill path, `git worktree remove <path>` (not forced: it deletes
//!    ignored files) + `git worktree prune` + `git worktree list --porcelain`, on a clean worktree
//!    whose 1 GiB lies under the git-ignored `build/`, and on a worktree with one such file;
//! 2. the worktree adapter alone: `GitWorktree::retire(KeepDirty)` of a 1 GiB and of a 1-file
//!    worktree (medians, the ratio big/small, and every git process a retire runs, recorded);
//! 3. end to end, with RELEASE builds of `aod` and `aoctl`: `aoctl kill` of a `command` session
//!    whose worktree holds the 1 GiB, against one whose worktree holds one file.
//!
//! The 1 GiB is written once for parts 2 and 3 and renamed into each worktree before it is
//! timed (and renamed back out of the trash entry after): the worktree is then exactly as if it
//! had been filled in place. The old path deletes its files, so each of its rounds writes a fresh
//! 1 GiB. `sync(2)` runs after every fill and before every timed operation, so writeback of the
//! fill does not land inside a measurement. Only wall time is reported, never asserted; what each
//! operation leaves behind is asserted.
//!
//! Run with:
//! `cargo bench --bench trash`
//! (the daemon and the CLI are built in release mode first, next to this bench). Everything goes
//! to temp dirs under `/tmp` (the worktrees, the trash and the fill must share a filesystem) and
//! is removed at the end; it needs about 2.5 GiB free there.

#[path = "support/report.rs"]
mod report;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ao::domain::{ProjectId, SessionId, Timestamp};
use ao::ports::{RetireMode, Workspace, WorkspaceInfo, WorkspaceRequest};
use ao_adapters::process::{CommandOutput, CommandRunner, CommandSpec, ProcessError, SystemRunner};
use ao_adapters::worktree::{GitWorktree, GitWorktreeOptions};
use ao_testkit::{GitRepo, TestEnv, git};
use async_trait::async_trait;
use report::{Columns, Row, median, ms, print_table, timed};

/// The big worktree: 20,000 files of 53,688 bytes (just over 1 GiB) in 100 directories.
const FILES: usize = 20_000;
const DIRS: usize = 100;
const FILE_BYTES: usize = (1 << 30) / FILES + 1;
/// Where the fill goes inside a worktree; the repository's `.gitignore` lists it.
const BUILD: &str = "build";

/// Rounds: the floors; the old path with a fresh 1 GiB each (slow) and on one file; the adapter;
/// end to end (each size).
const FLOOR_ROUNDS: usize = 11;
const OLD_BIG_ROUNDS: usize = 3;
const OLD_SMALL_ROUNDS: usize = 10;
const RETIRE_BIG_ROUNDS: usize = 5;
const RETIRE_SMALL_ROUNDS: usize = 10;
const KILL_ROUNDS: usize = 5;

const CONFIG: &str = r#"
[runtime.tmux]
load_user_config = false
"#;

fn sync() {
    nix::unistd::sync();
}

fn now() -> Timestamp {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970");
    Timestamp::from_millis(i64::try_from(since.as_millis()).expect("millis"))
}

/// Random bytes to cut the files from: each file starts at another offset, so no two files are
/// alike and none is sparse.
fn fill_buffer() -> Vec<u8> {
    let mut buf = vec![0u8; (1 << 20) + FILE_BYTES];
    fastrand::Rng::with_seed(12).fill(&mut buf);
    buf
}

/// Writes the 1 GiB into `<dir>/build/dNN/fNNNNN.bin`; returns how long it took.
fn fill_big(dir: &Path, buf: &[u8]) -> Duration {
    let started = Instant::now();
    let build = dir.join(BUILD);
    for d in 0..DIRS {
        std::fs::create_dir_all(build.join(format!("d{d:02}"))).expect("create a fill dir");
    }
    for f in 0..FILES {
        let at = (f * 4099) % (1 << 20);
        let path = build.join(format!("d{:02}/f{f:05}.bin", f % DIRS));
        std::fs::write(&path, &buf[at..at + FILE_BYTES]).expect("write a fill file");
    }
    started.elapsed()
}

/// The tiny worktree's one ignored file, the size of one of the big one's.
fn fill_one(dir: &Path, buf: &[u8]) {
    let build = dir.join(BUILD);
    std::fs::create_dir_all(&build).expect("create build");
    std::fs::write(build.join("f00000.bin"), &buf[..FILE_BYTES]).expect("write the one file");
}

/// Files and bytes under `dir` (a check that a move kept everything).
fn count(dir: &Path) -> (usize, u64) {
    let mut files = 0;
    let mut bytes = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read a dir") {
            let entry = entry.expect("dir entry");
            let meta = entry.metadata().expect("metadata");
            if meta.is_dir() {
                stack.push(entry.path());
            } else {
                files += 1;
                bytes += meta.len();
            }
        }
    }
    (files, bytes)
}

fn rename(from: &Path, to: &Path) {
    std::fs::rename(from, to)
        .unwrap_or_else(|e| panic!("rename {} -> {}: {e}", from.display(), to.display()));
}

fn device(path: &Path) -> u64 {
    std::fs::metadata(path).expect("metadata").dev()
}

/// A repository (with a bare origin) whose committed `.gitignore` lists `build/`.
fn repo_ignoring_build() -> GitRepo {
    let repo = GitRepo::new();
    std::fs::write(repo.path.join(".gitignore"), format!("{BUILD}/\n")).expect("write .gitignore");
    git(&repo.path, &["add", ".gitignore"]);
    git(&repo.path, &["commit", "--quiet", "-m", "ignore build/"]);
    git(&repo.path, &["push", "--quiet", "origin", "main"]);
    repo
}

/// Every git process the adapter ran: its subcommand and how long it took.
#[derive(Debug, Default)]
struct Recording {
    calls: Mutex<Vec<(String, Duration)>>,
}

#[derive(Debug)]
struct RecordingRunner(Arc<Recording>);

#[async_trait]
impl CommandRunner for RecordingRunner {
    async fn run(&self, spec: &CommandSpec) -> Result<CommandOutput, ProcessError> {
        let started = Instant::now();
        let out = SystemRunner.run(spec).await;
        let argv = spec.argv();
        // `git -C <dir> <sub> <verb>`.
        let sub = argv.get(3..5).map(|s| s.join(" ")).unwrap_or_default();
        self.0.calls.lock().unwrap().push((sub, started.elapsed()));
        out
    }
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}

/// The medians the table is made of.
#[derive(Default)]
struct Medians {
    rename: Duration,
    mv: Duration,
    old_big: Duration,
    old_small: Duration,
    retire_big: Duration,
    retire_small: Duration,
    /// Per retire of the big worktree: git processes and their total time.
    retire_git: (f64, Duration),
    retire_git_kinds: Vec<(String, f64, Duration)>,
    kill_big: Duration,
    kill_small: Duration,
}

/// Part 1: `rename(2)` and `mv` of the staged 1 GiB, then the old kill path.
fn floors_and_old_path(base: &Path, stage: &Path, buf: &[u8], m: &mut Medians) {
    let from = stage.join(BUILD);
    let to = base.join("moved");
    let (mut renames, mut mvs) = (vec![], vec![]);
    for _ in 0..FLOOR_ROUNDS {
        sync();
        let started = Instant::now();
        std::fs::rename(&from, &to).expect("rename the fill");
        renames.push(started.elapsed());
        rename(&to, &from);
        sync();
        mvs.push(timed(Command::new("mv").arg(&from).arg(&to)).0);
        rename(&to, &from);
    }
    m.rename = median(renames);
    m.mv = median(mvs);
    eprintln!(
        "floors: rename(2) {:.3} ms, mv {:.2} ms",
        ms(m.rename),
        ms(m.mv)
    );

    // The old path, in its own repository.
    let repo = repo_ignoring_build();
    let old_root = base.join("old");
    std::fs::create_dir_all(&old_root).expect("old root");
    let old_kill = |name: &str, big: bool| -> Duration {
        let dir = old_root.join(name);
        git(
            &repo.path,
            &[
                "worktree",
                "add",
                "--quiet",
                "-b",
                &format!("old/{name}"),
                dir.to_str().unwrap(),
                "origin/main",
            ],
        );
        if big {
            let took = fill_big(&dir, buf);
            eprintln!("  old path: filled {name} in {:.1} s", took.as_secs_f64());
        } else {
            fill_one(&dir, buf);
        }
        sync();
        let git_at = |args: &[&str]| {
            let mut c = Command::new("git");
            c.arg("-C")
                .arg(&repo.path)
                .args(args)
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .stdout(Stdio::null());
            c
        };
        let started = Instant::now();
        timed(&mut git_at(&["worktree", "remove", dir.to_str().unwrap()]));
        timed(&mut git_at(&["worktree", "prune"]));
        timed(&mut git_at(&["worktree", "list", "--porcelain"]));
        let took = started.elapsed();
        assert!(!dir.exists(), "git worktree remove left {}", dir.display());
        took
    };
    let (mut big, mut small) = (vec![], vec![]);
    for n in 0..OLD_SMALL_ROUNDS.max(OLD_BIG_ROUNDS) {
        if n < OLD_SMALL_ROUNDS {
            small.push(old_kill(&format!("small-{n}"), false));
        }
        if n < OLD_BIG_ROUNDS {
            let took = old_kill(&format!("big-{n}"), true);
            eprintln!("  old path: 1 GiB removed in {:.0} ms", ms(took));
            big.push(took);
        }
    }
    m.old_big = median(big);
    m.old_small = median(small);
    eprintln!(
        "old path: 1 GiB {:.0} ms, 1 file {:.1} ms",
        ms(m.old_big),
        ms(m.old_small)
    );
}

/// Part 2: the worktree adapter's retire, 1 GiB (the staged fill, renamed in) and 1 file.
fn adapter(base: &Path, stage: &Path, buf: &[u8], m: &mut Medians) {
    let repo = repo_ignoring_build();
    let recording = Arc::new(Recording::default());
    let runner: Arc<dyn CommandRunner> = Arc::new(RecordingRunner(recording.clone()));
    let worktree = GitWorktree::new(
        GitWorktreeOptions::for_data_dir(&base.join("adapter")),
        runner,
    )
    .expect("worktree adapter");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio");
    let create = |name: &str| -> WorkspaceInfo {
        let request = WorkspaceRequest {
            repo: repo.path.clone(),
            project_id: ProjectId::parse("bench").expect("project"),
            session_id: SessionId::parse(name).expect("id"),
            branch: format!("ao/{name}"),
            base_branch: None,
        };
        rt.block_on(worktree.create(&request))
            .expect("worktree create")
    };
    // Times one retire and checks the worktree is whole in its trash entry; returns the entry.
    let retire = |info: &WorkspaceInfo, expect: (usize, u64)| -> (Duration, PathBuf) {
        sync();
        let started = Instant::now();
        let retired = rt
            .block_on(worktree.retire(info, RetireMode::KeepDirty, now()))
            .expect("retire");
        let took = started.elapsed();
        let entry = retired.trash.expect("a trash entry").path;
        assert!(
            !info.path.exists(),
            "{} is still there",
            info.path.display()
        );
        assert!(
            entry.starts_with(worktree.managed_root().join(".trash")),
            "{} is not in the trash",
            entry.display()
        );
        assert_eq!(
            count(&entry.join(BUILD)),
            expect,
            "the fill in {}",
            entry.display()
        );
        (took, entry)
    };
    let big_fill = (FILES, (FILES * FILE_BYTES) as u64);
    let (mut big, mut small) = (vec![], vec![]);
    let mut git_calls = vec![];
    // Warm-up (first git runs, the trash directory).
    let info = create("warm-0");
    fill_one(&info.path, buf);
    retire(&info, (1, FILE_BYTES as u64));
    for n in 0..RETIRE_SMALL_ROUNDS.max(RETIRE_BIG_ROUNDS) {
        if n < RETIRE_SMALL_ROUNDS {
            let info = create(&format!("small-{n}"));
            fill_one(&info.path, buf);
            small.push(retire(&info, (1, FILE_BYTES as u64)).0);
        }
        if n < RETIRE_BIG_ROUNDS {
            let info = create(&format!("big-{n}"));
            rename(&stage.join(BUILD), &info.path.join(BUILD));
            recording.calls.lock().unwrap().clear();
            let (took, entry) = retire(&info, big_fill);
            git_calls.extend(recording.calls.lock().unwrap().drain(..));
            eprintln!("  retire: 1 GiB in {:.1} ms", ms(took));
            big.push(took);
            rename(&entry.join(BUILD), &stage.join(BUILD));
        }
    }
    m.retire_big = median(big);
    m.retire_small = median(small);
    let per = RETIRE_BIG_ROUNDS as f64;
    let total: Duration = git_calls.iter().map(|(_, d)| *d).sum();
    m.retire_git = (git_calls.len() as f64 / per, total.div_f64(per));
    let mut kinds: Vec<(String, f64, Duration)> = vec![];
    for (what, took) in git_calls {
        match kinds.iter_mut().find(|k| k.0 == what) {
            Some(k) => {
                k.1 += 1.0 / per;
                k.2 += took.div_f64(per);
            }
            None => kinds.push((what, 1.0 / per, took.div_f64(per))),
        }
    }
    m.retire_git_kinds = kinds;
    eprintln!(
        "adapter retire: 1 GiB {:.1} ms, 1 file {:.1} ms",
        ms(m.retire_big),
        ms(m.retire_small)
    );
}

/// Part 3: `aoctl kill` of a `command` session, 1 GiB worktree (the staged fill, renamed in)
/// against a 1-file worktree.
fn end_to_end(stage: &Path, buf: &[u8], m: &mut Medians) {
    let repo = repo_ignoring_build();
    let mut env = TestEnv::with_config(CONFIG);
    env.env.push(("AO_LOG".into(), "info".into()));
    env.start_daemon();
    env.add_project("bench", &repo.path);
    assert_eq!(
        device(env.root()),
        device(stage),
        "the fill and the daemon's worktrees must share a filesystem"
    );
    // Spawns a session; returns its id and worktree.
    let spawn = || -> (String, PathBuf) {
        let session = env.json(&["spawn", "-p", "bench", "--cmd", "sleep 3600"]);
        let id = session["id"].as_str().expect("spawn id").to_owned();
        let path = session["workspace_path"]
            .as_str()
            .map(PathBuf::from)
            .expect("spawn workspace_path");
        assert!(path.is_dir(), "no worktree at {}", path.display());
        // Let the daemon's work after a spawn settle, as it has for any session a user kills.
        std::thread::sleep(Duration::from_millis(300));
        (id, path)
    };
    let kill = |id: &str, path: &Path, expect: (usize, u64)| -> (Duration, PathBuf) {
        sync();
        let (took, out) = timed(env.aoctl().args(["kill", id, "--json"]));
        let reply: serde_json::Value = serde_json::from_slice(&out.stdout).expect("kill reply");
        assert_eq!(reply["workspace_freed"], true, "kill reply: {reply}");
        let entry = PathBuf::from(reply["trash_path"].as_str().expect("trash_path"));
        assert!(!path.exists(), "{} is still there", path.display());
        assert_eq!(
            count(&entry.join(BUILD)),
            expect,
            "the fill in {}",
            entry.display()
        );
        (took, entry)
    };
    // Warm-up.
    let (id, path) = spawn();
    fill_one(&path, buf);
    kill(&id, &path, (1, FILE_BYTES as u64));
    let (mut big, mut small) = (vec![], vec![]);
    let mut kill_small = || {
        let (id, path) = spawn();
        fill_one(&path, buf);
        let (took, _) = kill(&id, &path, (1, FILE_BYTES as u64));
        eprintln!("  aoctl kill: 1 file in {:.1} ms", ms(took));
        small.push(took);
    };
    let mut kill_big = || {
        let (id, path) = spawn();
        rename(&stage.join(BUILD), &path.join(BUILD));
        let (took, entry) = kill(&id, &path, (FILES, (FILES * FILE_BYTES) as u64));
        eprintln!("  aoctl kill: 1 GiB in {:.1} ms", ms(took));
        big.push(took);
        rename(&entry.join(BUILD), &stage.join(BUILD));
    };
    // Alternating which size goes first, so neither always follows the other.
    for n in 0..KILL_ROUNDS {
        if n % 2 == 0 {
            kill_small();
            kill_big();
        } else {
            kill_big();
            kill_small();
        }
    }
    m.kill_big = median(big);
    m.kill_small = median(small);
    eprintln!(
        "aoctl kill: 1 GiB {:.1} ms, 1 file {:.1} ms",
        ms(m.kill_big),
        ms(m.kill_small)
    );
    env.stop_daemon();
}

fn table(m: &Medians) -> Vec<Row> {
    let f = |d: Duration| {
        if d < Duration::from_millis(1) {
            format!("{:.3} ms", ms(d))
        } else {
            format!("{:.1} ms", ms(d))
        }
    };
    let x = |r: f64| {
        if r >= 100.0 {
            format!("{r:.0}x")
        } else {
            format!("{r:.2}x")
        }
    };
    let mv = format!("mv {}", f(m.mv));
    let mut rows = vec![
        Row::info(
            "rename(2) of 1 GiB / 20,000 files, in process",
            f(m.rename),
            String::new(),
            String::new(),
        ),
        Row::info(
            "mv of 1 GiB / 20,000 files (the floor)",
            f(m.mv),
            format!("rename(2) {}", f(m.rename)),
            x(ratio(m.mv, m.rename)),
        ),
        Row::info(
            "old kill: git worktree remove+prune+list, 1 GiB",
            f(m.old_big),
            mv.clone(),
            x(ratio(m.old_big, m.mv)),
        ),
        Row::info(
            "old kill: the same, 1-file worktree",
            f(m.old_small),
            mv.clone(),
            x(ratio(m.old_small, m.mv)),
        ),
        Row::info(
            "  old kill size dependence (1 GiB / 1 file)",
            f(m.old_big),
            format!("1 file {}", f(m.old_small)),
            x(ratio(m.old_big, m.old_small)),
        ),
        Row {
            what: "retire (KeepDirty) into the trash, 1 GiB".into(),
            ours: f(m.retire_big),
            baseline: mv.clone(),
            ratio: x(ratio(m.retire_big, m.mv)),
            goal: "< 100 ms",
            met: Some(m.retire_big < Duration::from_millis(100)),
        },
        Row::info(
            "retire (KeepDirty) into the trash, 1 file",
            f(m.retire_small),
            mv.clone(),
            x(ratio(m.retire_small, m.mv)),
        ),
        Row {
            what: "  retire size dependence (1 GiB / 1 file)".into(),
            ours: f(m.retire_big),
            baseline: format!("1 file {}", f(m.retire_small)),
            ratio: x(ratio(m.retire_big, m.retire_small)),
            goal: "<= 1.5x",
            met: Some(ratio(m.retire_big, m.retire_small) <= 1.5),
        },
        Row::info(
            "  retire 1 GiB vs old kill 1 GiB",
            f(m.retire_big),
            format!("old {}", f(m.old_big)),
            x(ratio(m.retire_big, m.old_big)),
        ),
        Row {
            what: format!(
                "  git per 1 GiB retire: {:.0} processes (mean)",
                m.retire_git.0
            ),
            ours: f(m.retire_git.1),
            baseline: String::new(),
            ratio: String::new(),
            goal: "< 100 ms",
            met: Some(m.retire_git.1 < Duration::from_millis(100)),
        },
    ];
    for (what, n, took) in &m.retire_git_kinds {
        rows.push(Row::info(
            format!("    git {what} ({n:.0}x)"),
            f(*took),
            String::new(),
            String::new(),
        ));
    }
    rows.push(Row::info(
        "aoctl kill (release, end to end), 1-file worktree",
        f(m.kill_small),
        mv.clone(),
        x(ratio(m.kill_small, m.mv)),
    ));
    rows.push(Row {
        what: "aoctl kill (release, end to end), 1 GiB worktree".into(),
        ours: f(m.kill_big),
        baseline: format!("1 file {}", f(m.kill_small)),
        ratio: x(ratio(m.kill_big, m.kill_small)),
        goal: "<= 1.5x",
        met: Some(ratio(m.kill_big, m.kill_small) <= 1.5),
    });
    // Signed: on a loaded machine the 1-file median can be the slower one.
    let extra = ms(m.kill_big) - ms(m.kill_small);
    rows.push(Row {
        what: "  size-dependent part of kill (1 GiB - 1 file)".into(),
        ours: format!("{extra:.1} ms"),
        baseline: String::new(),
        ratio: String::new(),
        goal: "< 100 ms",
        met: Some(extra < 100.0),
    });
    rows.push(Row::info(
        "  aoctl kill 1 GiB vs old kill 1 GiB (git only)",
        f(m.kill_big),
        format!("old {}", f(m.old_big)),
        x(ratio(m.kill_big, m.old_big)),
    ));
    rows
}

fn main() {
    let aod = ao_testkit::bin("aod");
    let release = aod
        .parent()
        .is_some_and(|dir| dir.file_name().is_some_and(|n| n == "release"));
    assert!(
        release,
        "run with `cargo bench --bench trash` ({} is not a release build)",
        aod.display()
    );
    println!(
        "trash bench: {FILES} files x {FILE_BYTES} B = {:.3} GiB per big worktree; {} cores",
        (FILES * FILE_BYTES) as f64 / f64::from(1u32 << 30),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let started = Instant::now();
    let work = tempfile::Builder::new()
        .prefix("ao-trash-bench")
        .tempdir_in("/tmp")
        .expect("temp dir");
    let base = work.path().canonicalize().expect("canonical temp dir");
    let buf = fill_buffer();

    // The 1 GiB that parts 1 (floors), 2 and 3 move around.
    let stage = base.join("stage");
    std::fs::create_dir_all(&stage).expect("stage");
    let took = fill_big(&stage, &buf);
    let synced = Instant::now();
    sync();
    eprintln!(
        "filled 1 GiB in {:.1} s, sync {:.1} s",
        took.as_secs_f64(),
        synced.elapsed().as_secs_f64()
    );
    assert_eq!(
        count(&stage.join(BUILD)),
        (FILES, (FILES * FILE_BYTES) as u64)
    );

    let mut m = Medians::default();
    floors_and_old_path(&base, &stage, &buf, &mut m);
    adapter(&base, &stage, &buf, &mut m);
    end_to_end(&stage, &buf, &mut m);

    print_table(
        &Columns {
            titles: ["measure", "median", "vs (floor)", "ratio", "goal"],
            widths: [52, 12, 24, 9, 10],
        },
        &table(&m),
    );
    println!(
        "\nThe old kill deletes every file (its cost grows with the worktree); retire renames the \
         directory into the trash and runs a fixed set of git calls, so the 1 GiB and the 1-file \
         worktree cost the same. Medians; wall time on a shared 2-core machine (other builds may \
         run); sync(2) before every timed operation."
    );
    eprintln!("cleaning up (deleting the temp dirs)");
    let cleanup = Instant::now();
    drop(work);
    eprintln!(
        "done: cleanup {:.1} s, whole run {:.0} s",
        cleanup.elapsed().as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
}
