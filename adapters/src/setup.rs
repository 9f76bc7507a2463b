//! Project setup of a new worktree on the local filesystem: symlinks and copies from the
//! repository, then post-create commands run in the worktree (argv, with a timeout).
//!
//! Conservative: a path must be relative without `..`, a missing source is an error rather than
//! a silently missing `.env`, and nothing already in the worktree is overwritten.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::process::{CommandRunner, CommandSpec};
use ao::ports::{ProjectSetup, SetupError, WorkspaceInfo};
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

#[async_trait]
impl ProjectSetup for FsProjectSetup {
    async fn prepare(
        &self,
        info: &WorkspaceInfo,
        settings: &ProjectSettings,
    ) -> Result<Vec<String>, SetupError> {
        let mut exclude = vec![];
        for path in &settings.symlinks {
            let (source, dest) = place(info, path)?;
            std::os::unix::fs::symlink(&source, &dest).map_err(|e| io(e, &dest))?;
            exclude.push(format!("/{}", relative_setup_path(path)?.display()));
        }
        for path in &settings.copies {
            let (source, dest) = place(info, path)?;
            copy_recursively(&source, &dest)?;
            exclude.push(format!("/{}", relative_setup_path(path)?.display()));
        }
        for argv in &settings.post_create {
            let Some((program, args)) = argv.split_first() else {
                continue;
            };
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
                    return Err(failed(format!("exit {:?}: {tail}", out.code)));
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
        let exclude = setup().prepare(&info, &settings).await.unwrap();
        assert_eq!(exclude, ["/.env", "/cfg"]);
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
                    setup().prepare(&info, &s).await,
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
            setup().prepare(&info, &s).await,
            Err(SetupError::MissingSource { .. })
        ));
        std::fs::write(info.repo.join("x"), "repo").unwrap();
        std::fs::write(info.path.join("x"), "mine").unwrap();
        let s = ProjectSettings {
            copies: vec!["x".into()],
            ..ProjectSettings::default()
        };
        assert!(matches!(
            setup().prepare(&info, &s).await,
            Err(SetupError::Exists { .. })
        ));
        assert_eq!(
            std::fs::read_to_string(info.path.join("x")).unwrap(),
            "mine",
            "never overwritten"
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
        let err = setup().prepare(&info, &s).await.unwrap_err().to_string();
        assert!(
            err.contains("sh -c") && err.contains("broken") && err.contains("3"),
            "{err}"
        );
    }
}
