//! Running external programs: argv only, a deadline per call, errors that carry the argv.
//!
//! Every adapter that shells out (tmux, git, notify-send, …) goes through [`CommandRunner`], so
//! no user text can ever reach a shell, every call is bounded in time, and unit tests can swap
//! in a fake runner that records argv.

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use async_trait::async_trait;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

/// One program invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandSpec {
    pub program: OsString,
    pub args: Vec<OsString>,
    pub cwd: Option<PathBuf>,
    /// Variables to set for the child (on top of the inherited environment).
    pub env_set: Vec<(OsString, OsString)>,
    /// Variables removed from the inherited environment.
    pub env_remove: Vec<OsString>,
    /// Bytes written to stdin, which is then closed; stdin is null when `None`.
    pub stdin: Option<Vec<u8>>,
    /// The child is killed and the call fails with `Timeout` after this long.
    pub timeout: Duration,
}

impl CommandSpec {
    pub fn new(program: impl Into<OsString>, timeout: Duration) -> Self {
        Self {
            program: program.into(),
            args: vec![],
            cwd: None,
            env_set: vec![],
            env_remove: vec![],
            stdin: None,
            timeout,
        }
    }

    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub fn cwd(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cwd = Some(dir.into());
        self
    }

    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env_set.push((key.into(), value.into()));
        self
    }

    pub fn env_remove(mut self, key: impl Into<OsString>) -> Self {
        self.env_remove.push(key.into());
        self
    }

    pub fn stdin(mut self, bytes: Vec<u8>) -> Self {
        self.stdin = Some(bytes);
        self
    }

    /// The argv as one readable line (for errors and logs only; never executed).
    pub fn display(&self) -> String {
        let mut line = shell_quote_for_display(&self.program.to_string_lossy());
        for arg in &self.args {
            line.push(' ');
            line.push_str(&shell_quote_for_display(&arg.to_string_lossy()));
        }
        line
    }

    /// The argv as strings (lossy), convenient for assertions in tests.
    pub fn argv(&self) -> Vec<String> {
        std::iter::once(&self.program)
            .chain(&self.args)
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }
}

fn shell_quote_for_display(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:@%+,#{}|".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// What a finished program left behind.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CommandOutput {
    /// The exit code; `None` when killed by a signal.
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl CommandOutput {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// stdout and stderr together, trimmed, for error messages.
    pub fn combined(&self) -> String {
        let mut text = String::from_utf8_lossy(&self.stdout).trim().to_owned();
        let err = String::from_utf8_lossy(&self.stderr);
        let err = err.trim();
        if !err.is_empty() {
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(err);
        }
        text
    }
}

/// The program could not be run to completion.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProcessError {
    #[error("`{argv}` could not start: {error}")]
    Spawn { argv: String, error: String },
    #[error("`{argv}` timed out after {}ms", timeout.as_millis())]
    Timeout { argv: String, timeout: Duration },
    #[error("`{argv}`: {error}")]
    Io { argv: String, error: String },
}

impl ProcessError {
    /// True when the program does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, ProcessError::Spawn { error, .. } if error.contains("No such file"))
    }
}

/// Runs programs. The system implementation is [`SystemRunner`]; tests use fakes.
#[async_trait]
pub trait CommandRunner: Send + Sync + fmt::Debug {
    async fn run(&self, spec: &CommandSpec) -> Result<CommandOutput, ProcessError>;
}

/// Runs real processes with `tokio::process`. The child is killed if the deadline passes or
/// the caller's future is dropped.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemRunner;

#[async_trait]
impl CommandRunner for SystemRunner {
    async fn run(&self, spec: &CommandSpec) -> Result<CommandOutput, ProcessError> {
        let argv = spec.display();
        let mut cmd = Command::new(&spec.program);
        cmd.args(&spec.args)
            .stdin(if spec.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(dir) = &spec.cwd {
            cmd.current_dir(dir);
        }
        for key in &spec.env_remove {
            cmd.env_remove(key);
        }
        for (key, value) in &spec.env_set {
            cmd.env(key, value);
        }
        let mut child = cmd.spawn().map_err(|e| ProcessError::Spawn {
            argv: argv.clone(),
            error: e.to_string(),
        })?;
        let io_error = |e: std::io::Error| ProcessError::Io {
            argv: argv.clone(),
            error: e.to_string(),
        };
        let run = async {
            if let (Some(bytes), Some(mut stdin)) = (&spec.stdin, child.stdin.take()) {
                // A child that exits without reading its input is not an error of ours.
                match stdin.write_all(bytes).await {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                    Err(e) => return Err(io_error(e)),
                }
                drop(stdin);
            }
            child.wait_with_output().await.map_err(io_error)
        };
        match tokio::time::timeout(spec.timeout, run).await {
            Ok(Ok(out)) => Ok(CommandOutput {
                code: out.status.code(),
                stdout: out.stdout,
                stderr: out.stderr,
            }),
            Ok(Err(e)) => Err(e),
            // Dropping the future drops the child, which kills it (kill_on_drop).
            Err(_) => Err(ProcessError::Timeout {
                argv,
                timeout: spec.timeout,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_with_argv_stdin_env_and_cwd() {
        let dir = tempfile::tempdir().unwrap();
        let spec = CommandSpec::new("sh", Duration::from_secs(10))
            .args([
                "-c",
                r#"printf '%s|%s|' "$1" "$AO_X"; pwd; cat; echo oops >&2; exit 3"#,
            ])
            .arg("sh")
            .arg("a 'quoted' $word")
            .env("AO_X", "x")
            .cwd(dir.path())
            .stdin(b"from stdin".to_vec());
        let out = SystemRunner.run(&spec).await.unwrap();
        assert_eq!(out.code, Some(3));
        let text = out.stdout_text();
        let cwd = dir.path().canonicalize().unwrap();
        assert_eq!(
            text,
            format!("a 'quoted' $word|x|{}\nfrom stdin", cwd.display())
        );
        assert!(out.combined().ends_with("oops"));
        assert!(!out.success());
    }

    #[tokio::test]
    async fn times_out_and_reports_argv() {
        let spec = CommandSpec::new("sleep", Duration::from_millis(100)).arg("30");
        let started = std::time::Instant::now();
        let err = SystemRunner.run(&spec).await.unwrap_err();
        assert!(matches!(&err, ProcessError::Timeout { argv, .. } if argv == "sleep 30"));
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[tokio::test]
    async fn missing_program_is_a_spawn_error() {
        let spec = CommandSpec::new("/nonexistent/ao-no-such-binary", Duration::from_secs(1));
        let err = SystemRunner.run(&spec).await.unwrap_err();
        assert!(err.is_not_found(), "{err}");
    }

    #[test]
    fn display_quotes_only_when_needed() {
        let spec = CommandSpec::new("tmux", Duration::from_secs(1)).args([
            "-L",
            "ao",
            "send-keys",
            "-l",
            "--",
            "it's $HOME",
        ]);
        assert_eq!(
            spec.display(),
            r"tmux -L ao send-keys -l -- 'it'\''s $HOME'"
        );
    }
}
