//! Project setup of a new worktree on the local filesystem: symlinks and copies from the
//! repository, then post-create commands run in the worktree (argv, with a timeout).
//!
//! Conservative: a path must be relative without `..`, a missing source is an error rather than
//! a silently missing `.env`, and nothing already in the worktree is overwritten. The file work
//! (which may copy a large directory) runs on the blocking pool, never on an async worker.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::process::{CommandRunner, CommandSpec};
use ao::ports::{ProjectSetup, SetupError, SetupProgress, WorkspaceInfo};
use ao_core::domain::ProjectSettings;

/// Default bound of one post-create command.
pub const POST_CREATE_TIMEOUT: Duration = Duration::from_secs(300);

/// Places files and runs commands for a project's new worktrees.
#[derive(Debug)]
pub struct FsProjectSetup {
    runner: Arc<dyn CommandRunner>,
    timeout: Duration,
}

impl FsProjectSetup {
    pub fn new(runner: Arc<dyn CommandRunner>, timeout: Duration) -> Self {
        Self { runner, timeout }
    }
}

/// Validates a repository-relative setup path.
fn relative_setup_path(path: &str) -> Result<PathBuf, SetupError> {
    ao_core::domain::relative_setup_path(path)
        .ok_or_else(|| SetupError::UnsafePath(path.to_owned()))
}

fn io(e: std::io::Error, what: &Path) -> SetupError {
    SetupError::Io(format!("{}: {e}", what.display()))
}

fn copy_recursively(from: &Path, to: &Path) -> Result<(), SetupError> {
    let meta = std::fs::symlink_metadata(from).map_err(|e| io(e, from))?;
    if meta.is_dir() {
        std::fs::create_dir_all(to).map_err(|e| io(e, to))?;
        for entry in std::fs::read_dir(from).map_err(|e| io(e, from))? {
            let entry = entry.map_err(|e| io(e, from))?;
            copy_recursively(&entry.path(), &to.join(entry.file_name()))?;
        }
        Ok(())
    } else if meta.file_type().is_symlink() {
        let target = std::fs::read_link(from).map_err(|e| io(e, from))?;
        std::os::unix::fs::symlink(target, to).map_err(|e| io(e, to))
    } else {
        std::fs::copy(from, to).map(|_| ()).map_err(|e| io(e, to))
    }
}

/// The source and destination of one placed path, checked.
fn place(info: &WorkspaceInfo, path: &str) -> Result<(PathBuf, PathBuf), SetupError> {
    let relative = relative_setup_path(path)?;
    let source = info.repo.join(&relative);
    let dest = info.path.join(&relative);
    if std::fs::symlink_metadata(&source).is_err() {
        return Err(SetupError::MissingSource {
            path: path.to_owned(),
        });
    }
    if std::fs::symlink_metadata(&dest).is_ok() {
        return Err(SetupError::Exists {
            path: path.to_owned(),
        });
    }
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent).map_err(|e| io(e, parent))?;
    }
    Ok((source, dest))
}

/// The symlinks, then the copies; returns the patterns to exclude. Blocking.
fn place_files(
    info: &WorkspaceInfo,
    symlinks: &[String],
    copies: &[String],
) -> Result<Vec<String>, SetupError> {
    let mut exclude = vec![];
    for path in symlinks {
        let (source, dest) = place(info, path)?;
        std::os::unix::fs::symlink(&source, &dest).map_err(|e| io(e, &dest))?;
        exclude.push(format!("/{}", relative_setup_path(path)?.display()));
    }
    for path in copies {
        let (source, dest) = place(info, path)?;
        copy_recursively(&source, &dest)?;
        exclude.push(format!("/{}", relative_setup_path(path)?.display()));
    }
    Ok(exclude)
}

#[async_trait]
impl ProjectSetup for FsProjectSetup {
    async fn prepare(
        &self,
        info: &WorkspaceInfo,
        settings: &ProjectSettings,
        progress: &(dyn for<'a> Fn(SetupProgress<'a>) + Send + Sync),
    ) -> Result<Vec<String>, SetupError> {
        progress(SetupProgress::PlacingFiles);
        let (files, symlinks, copies) = (
            info.clone(),
            settings.symlinks.clone(),
            settings.copies.clone(),
        );
        let exclude = tokio::task::spawn_blocking(move || place_files(&files, &symlinks, &copies))
            .await
            .map_err(|e| SetupError::Io(format!("placing files in the worktree stopped: {e}")))??;
        let total = settings.post_create.len();
        for (index, argv) in settings.post_create.iter().enumerate() {
            let Some((program, args)) = argv.split_first() else {
                continue;
            };
            progress(SetupProgress::PostCreate {
                index: index + 1,
                total,
                argv,
            });
            let spec = CommandSpec::new(program, self.timeout)
                .args(args)
                .cwd(&info.path)
                .env("AO_SESSION_ID", info.session_id.as_str())
                .env("AO_PROJECT_ID", info.project_id.as_str());
            let failed = |output: String| SetupError::PostCreate {
                argv: spec.display(),
                output,
            };
            match self.runner.run(&spec).await {
                Ok(out) if out.success() => {}
                Ok(out) => {
                    let text = out.combined();
                    let tail: String = text
                        .chars()
                        .rev()
                        .take(2000)
                        .collect::<Vec<_>>()
                        .into_iter()
                        .rev()
                        .collect();
                    let status = match out.code {
                        Some(code) => format!("exited with code {code}"),
                        None => "was ended by a signal".to_owned(),
                    };
                    return Err(failed(format!("{status}: {tail}")));
                }
                Err(e) => return Err(failed(e.to_string())),
            }
        }
        Ok(exclude)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::SystemRunner;
    use ao_core::domain::{ProjectId, SessionId};

    fn info(dir: &Path) -> WorkspaceInfo {
        let repo = dir.join("repo");
        let wt = dir.join("wt");
        std::fs::create_dir_all(&repo).unwrap();
        std::fs::create_dir_all(&wt).unwrap();
        WorkspaceInfo {
            repo,
            path: wt,
            branch: "b".into(),
            project_id: ProjectId::parse("proj").unwrap(),
            session_id: SessionId::parse("proj-1").unwrap(),
        }
    }

    fn setup() -> FsProjectSetup {
        FsProjectSetup::new(Arc::new(SystemRunner), Duration::from_secs(10))
    }

    #[tokio::test]
    async fn places_files_and_runs_commands() {
        let dir = tempfile::tempdir().unwrap();
        let info = info(dir.path());
        std::fs::write(info.repo.join(".env"), "SECRET=1").unwrap();
        std::fs::create_dir_all(info.repo.join("cfg/sub")).unwrap();
        std::fs::write(info.repo.join("cfg/sub/a.toml"), "a").unwrap();
        let settings = ProjectSettings {
            symlinks: vec![".env".into()],
            copies: vec!["cfg".into()],
            post_create: vec![vec![
                "sh".into(),
                "-c".into(),
                "echo \"$AO_SESSION_ID\" > made.txt".into(),
            ]],
            ..ProjectSettings::default()
        };
        let steps = std::sync::Mutex::new(vec![]);
        let exclude = setup()
            .prepare(&info, &settings, &|step| {
                steps.lock().unwrap().push(format!("{step:?}"));
            })
            .await
            .unwrap();
        assert_eq!(exclude, ["/.env", "/cfg"]);
        assert_eq!(
            steps.into_inner().unwrap(),
            [
                "PlacingFiles".to_owned(),
                format!(
                    "PostCreate {{ index: 1, total: 1, argv: {:?} }}",
                    settings.post_create[0]
                )
            ]
        );
        assert_eq!(
            std::fs::read_link(info.path.join(".env")).unwrap(),
            info.repo.join(".env")
        );
        assert_eq!(
            std::fs::read_to_string(info.path.join("cfg/sub/a.toml")).unwrap(),
            "a"
        );
        assert_eq!(
            std::fs::read_to_string(info.path.join("made.txt")).unwrap(),
            "proj-1\n"
        );
    }

    #[tokio::test]
    async fn refuses_unsafe_missing_and_existing_paths() {
        let dir = tempfile::tempdir().unwrap();
        let info = info(dir.path());
        for bad in ["../x", "/etc/passwd", "a/../../b", ""] {
            let s = ProjectSettings {
                symlinks: vec![bad.into()],
                ..ProjectSettings::default()
            };
            assert!(
                matches!(
                    setup().prepare(&info, &s, &|_| {}).await,
                    Err(SetupError::UnsafePath(_))
                ),
                "{bad}"
            );
        }
        let s = ProjectSettings {
            copies: vec![".env".into()],
            ..ProjectSettings::default()
        };
        assert!(matches!(
            setup().prepare(&info, &s, &|_| {}).await,
            Err(SetupError::MissingSource { .. })
        ));
        std::fs::write(info.repo.join("x"), "repo").unwrap();
        std::fs::write(info.path.join("x"), "mine").unwrap();
        let s = ProjectSettings {
            copies: vec!["x".into()],
            ..ProjectSettings::default()
        };
        assert!(matches!(
            setup().prepare(&info, &s, &|_| {}).await,
            Err(SetupError::Exists { .. })
        ));
        assert_eq!(
            std::fs::read_to_string(info.path.join("x")).unwrap(),
            "mine",
            "never overwritten"
        );
    }

    /// A copy that blocks (its source is a FIFO no one writes to) leaves the runtime's only
    /// thread free: the test's own task opens the FIFO's writing end while the copy waits on
    /// the reading end. Were the copy run on that thread, nothing would open the writing end
    /// until the watchdog does, after its deadline.
    #[tokio::test(flavor = "current_thread")]
    async fn file_work_leaves_the_async_thread_free() {
        use std::os::unix::fs::OpenOptionsExt;

        let dir = tempfile::tempdir().unwrap();
        let info = info(dir.path());
        let fifo = info.repo.join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
        let (cancel_watchdog, cancelled) = std::sync::mpsc::channel::<()>();
        let watchdog = {
            let fifo = fifo.clone();
            std::thread::spawn(move || {
                let timed_out = cancelled.recv_timeout(Duration::from_secs(10)).is_err();
                if timed_out {
                    // Unblocks the copy so the test can fail rather than hang.
                    drop(std::fs::OpenOptions::new().write(true).open(&fifo));
                }
                timed_out
            })
        };
        let settings = ProjectSettings {
            copies: vec!["fifo".into()],
            ..ProjectSettings::default()
        };
        let prepare = tokio::spawn({
            let info = info.clone();
            async move { setup().prepare(&info, &settings, &|_| {}).await }
        });
        let writer = loop {
            // Opening a FIFO's writing end without blocking succeeds once a reader waits on it.
            match std::fs::OpenOptions::new()
                .write(true)
                .custom_flags(nix::fcntl::OFlag::O_NONBLOCK.bits())
                .open(&fifo)
            {
                Ok(writer) => break Some(writer),
                Err(_) if watchdog.is_finished() => break None,
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        };
        let _ = cancel_watchdog.send(());
        let watchdog_fired = watchdog.join().unwrap();
        drop(writer);
        let placed = prepare.await.unwrap();
        assert!(
            !watchdog_fired,
            "the copy held the runtime's thread until the watchdog unblocked it"
        );
        // A FIFO is not a file to copy: the error names it.
        assert!(
            matches!(&placed, Err(SetupError::Io(e)) if e.contains("fifo")),
            "{placed:?}"
        );
    }

    #[tokio::test]
    async fn a_failing_post_create_names_the_command() {
        let dir = tempfile::tempdir().unwrap();
        let info = info(dir.path());
        let s = ProjectSettings {
            post_create: vec![vec![
                "sh".into(),
                "-c".into(),
                "echo broken >&2; exit 3".into(),
            ]],
            ..ProjectSettings::default()
        };
        let err = setup()
            .prepare(&info, &s, &|_| {})
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("sh -c") && err.contains("broken") && err.contains("3"),
            "{err}"
        );
    }
}
