//! Git as a test uses it: `git` run with a fixed identity and no system configuration, and a
//! repository with a bare `origin` to register as a project.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::text;

/// Runs `git -C <dir> args…`, asserts success and returns stdout.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// A git repository with a bare `origin`, one commit (`README`) on `main`, pushed.
pub struct GitRepo {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
    pub origin: PathBuf,
}

impl GitRepo {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let base = dir.path().canonicalize().expect("canonical temp dir");
        let origin = base.join("origin.git");
        let path = base.join("repo");
        git(
            &base,
            &["init", "--quiet", "--bare", "-b", "main", "origin.git"],
        );
        git(
            &base,
            &["clone", "--quiet", origin.to_str().unwrap(), "repo"],
        );
        git(&path, &["symbolic-ref", "HEAD", "refs/heads/main"]);
        std::fs::write(path.join("README"), "hello\n").expect("write README");
        git(&path, &["add", "README"]);
        git(&path, &["commit", "--quiet", "-m", "initial"]);
        git(&path, &["push", "--quiet", "origin", "main"]);
        git(&path, &["remote", "set-head", "origin", "main"]);
        Self {
            _dir: dir,
            path,
            origin,
        }
    }
}

impl Default for GitRepo {
    fn default() -> Self {
        Self::new()
    }
}
