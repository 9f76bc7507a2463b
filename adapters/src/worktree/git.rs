//! How the worktree adapter calls git: `git -C <dir> …` through the shared [`CommandRunner`],
//! with the environment scrubbed so that a caller's `GIT_DIR` (set inside git hooks, for one)
//! can never redirect a call to another repository, and with every failure carrying its argv.
//!
//! `git worktree` subcommands on one repository run one at a time: git does not guard its
//! `.git/worktrees/` administration against itself, so concurrent spawns failed (`worktree add`
//! reading another add's half-written `commondir`, `git branch --track` losing the race for
//! `.git/config`, and `prune` could drop an entry an add was still writing).

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::process::{CommandOutput, CommandRunner, CommandSpec, ProcessError};
use ao::ports::WorkspaceError;

/// Deadline for one git call.
pub(super) const CALL_TIMEOUT: Duration = Duration::from_secs(60);
/// Deadline for `worktree add`, which checks out a whole tree.
pub(super) const ADD_TIMEOUT: Duration = Duration::from_secs(300);

/// Variables that would point git somewhere other than `-C <dir>`.
const SCRUBBED: [&str; 3] = ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"];

/// One lock per repository directory, serialising its `git worktree` calls.
type RepoLocks = Mutex<HashMap<PathBuf, Arc<tokio::sync::Mutex<()>>>>;

/// The git binary plus the runner that executes it.
#[derive(Debug, Clone)]
pub(super) struct Git {
    runner: Arc<dyn CommandRunner>,
    program: OsString,
    worktree_locks: Arc<RepoLocks>,
}

impl Git {
    pub(super) fn new(runner: Arc<dyn CommandRunner>, program: OsString) -> Self {
        Self {
            runner,
            program,
            worktree_locks: Arc::default(),
        }
    }

    /// The lock of `spec`'s repository when `spec` is `git -C <repo> worktree …`.
    fn worktree_lock(&self, spec: &CommandSpec) -> Option<Arc<tokio::sync::Mutex<()>>> {
        match spec.args.as_slice() {
            [c, dir, sub, ..] if c == OsStr::new("-C") && sub == OsStr::new("worktree") => {
                let mut locks = self
                    .worktree_locks
                    .lock()
                    .unwrap_or_else(|e| e.into_inner());
                Some(locks.entry(PathBuf::from(dir)).or_default().clone())
            }
            _ => None,
        }
    }

    /// `git -C <dir>` with the hygiene environment; append the subcommand's arguments.
    pub(super) fn at(&self, dir: &Path) -> CommandSpec {
        let mut spec = self.bare(dir);
        for key in SCRUBBED {
            spec = spec.env_remove(key);
        }
        spec
    }

    /// Like [`Git::at`], but with `GIT_INDEX_FILE` pointing at `index` (the stash's temporary
    /// index, so the real one is never written).
    pub(super) fn at_with_index(&self, dir: &Path, index: &Path) -> CommandSpec {
        let mut spec = self.bare(dir);
        for key in SCRUBBED.iter().filter(|k| **k != "GIT_INDEX_FILE") {
            spec = spec.env_remove(*key);
        }
        spec.env("GIT_INDEX_FILE", index)
    }

    fn bare(&self, dir: &Path) -> CommandSpec {
        CommandSpec::new(&self.program, CALL_TIMEOUT)
            .arg("-C")
            .arg(dir)
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("LC_ALL", "C")
    }

    /// Runs the call whatever its exit status; only a failure to run at all is an error.
    pub(super) async fn output(&self, spec: &CommandSpec) -> Result<CommandOutput, WorkspaceError> {
        let lock = self.worktree_lock(spec);
        let _serialised = match &lock {
            Some(lock) => Some(lock.lock().await),
            None => None,
        };
        self.runner.run(spec).await.map_err(|e| match e {
            ProcessError::Spawn { argv, error } | ProcessError::Io { argv, error } => {
                WorkspaceError::Git {
                    argv,
                    output: error,
                }
            }
            timeout @ ProcessError::Timeout { .. } => WorkspaceError::Git {
                argv: spec.display(),
                output: timeout.to_string(),
            },
        })
    }

    /// Runs the call and requires exit 0; returns stdout without its trailing newline.
    pub(super) async fn ok(&self, spec: &CommandSpec) -> Result<String, WorkspaceError> {
        let out = self.output(spec).await?;
        if out.success() {
            Ok(out.stdout_text().trim_end_matches(['\n', '\r']).to_owned())
        } else {
            Err(failure(spec, &out))
        }
    }

    /// `git -C <dir> rev-parse --verify --quiet <rev>`: the object name when it exists,
    /// `None` for exit 1 (absent); any other outcome is an error.
    pub(super) async fn resolve(
        &self,
        dir: &Path,
        rev: &str,
    ) -> Result<Option<String>, WorkspaceError> {
        let spec = self.at(dir).args(["rev-parse", "--verify", "--quiet", rev]);
        let out = self.output(&spec).await?;
        match out.code {
            Some(0) => Ok(Some(out.stdout_text().trim().to_owned())),
            Some(1) => Ok(None),
            _ => Err(failure(&spec, &out)),
        }
    }
}

/// The error for a git call that ran but failed.
pub(super) fn failure(spec: &CommandSpec, out: &CommandOutput) -> WorkspaceError {
    let mut output = out.combined();
    if output.is_empty() {
        output = match out.code {
            Some(code) => format!("exit status {code}"),
            None => "killed by a signal".to_owned(),
        };
    }
    WorkspaceError::Git {
        argv: spec.display(),
        output,
    }
}
