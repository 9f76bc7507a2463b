//! Running external programs: argv only, a deadline per call, errors that carry the argv.
//!
//! Every adapter that shells out (tmux, git, notify-send, …) goes through [`CommandRunner`], so
//! no user text can ever reach a shell, every call is bounded in time, and unit tests can swap
//! in a fake runner that records argv.

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use async_trait::async_trait;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};

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
    /// The child and everything it started are killed, and the call fails with `Timeout`,
    /// after this long.
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

/// How long a timed-out child, already sent KILL, is waited for before tokio is left to reap it.
const REAP_WAIT: Duration = Duration::from_secs(5);

/// Runs real processes with `tokio::process`.
///
/// Each child leads a process group of its own, which everything it starts joins (the workers
/// of a post-create `npm ci`, a `sleep &` in a script). When the deadline passes, or the caller's
/// future is dropped first, the whole group is sent KILL and the child is reaped. KILL at once,
/// without a TERM and a grace first: the caller has given up on the command already, a grace
/// would hold up every timed-out caller, and a dropped future cannot wait for one. What the
/// child leaves running after it exits by itself is not touched.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemRunner;

/// A child that leads its own process group. Dropped before it was reaped, it kills the group.
struct GroupLeader(Child);

impl GroupLeader {
    /// Sends KILL to every process of the child's group. Only while the child is unreaped: its
    /// pid then still names this group and cannot have been reused for another one.
    fn kill_group(&self) {
        let Some(pid) = self.0.id().and_then(|pid| i32::try_from(pid).ok()) else {
            return;
        };
        if let Err(errno) = killpg(Pid::from_raw(pid), Signal::SIGKILL) {
            tracing::debug!(pid, %errno, "killing a command's process group failed");
        }
    }
}

impl Drop for GroupLeader {
    fn drop(&mut self) {
        self.kill_group();
    }
}

/// Everything `pipe` yields until its end; nothing when there is no pipe.
async fn read_all(pipe: Option<impl AsyncRead + Unpin>) -> std::io::Result<Vec<u8>> {
    let mut bytes = vec![];
    if let Some(mut pipe) = pipe {
        pipe.read_to_end(&mut bytes).await?;
    }
    Ok(bytes)
}

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
            .process_group(0)
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
        let mut leader = GroupLeader(cmd.spawn().map_err(|e| ProcessError::Spawn {
            argv: argv.clone(),
            error: e.to_string(),
        })?);
        let io_error = |e: std::io::Error| ProcessError::Io {
            argv: argv.clone(),
            error: e.to_string(),
        };
        let (stdin, stdout, stderr) = (
            leader.0.stdin.take(),
            leader.0.stdout.take(),
            leader.0.stderr.take(),
        );
        let child = &mut leader.0;
        let run = async {
            if let (Some(bytes), Some(mut stdin)) = (&spec.stdin, stdin) {
                // A child that exits without reading its input is not an error of ours.
                match stdin.write_all(bytes).await {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                    Err(e) => return Err(io_error(e)),
                }
                drop(stdin);
            }
            let (stdout, stderr) =
                tokio::try_join!(read_all(stdout), read_all(stderr)).map_err(io_error)?;
            // Reaped only now, after its output ended: until then its group can still be killed.
            let status = child.wait().await.map_err(io_error)?;
            Ok(CommandOutput {
                code: status.code(),
                stdout,
                stderr,
            })
        };
        match tokio::time::timeout(spec.timeout, run).await {
            Ok(done) => done,
            Err(_) => {
                leader.kill_group();
                let _ = tokio::time::timeout(REAP_WAIT, leader.0.wait()).await;
                Err(ProcessError::Timeout {
                    argv,
                    timeout: spec.timeout,
                })
            }
        }
    }
}

#[async_trait]
impl ao::ports::ToolProbe for SystemRunner {
    async fn version(&self, program: &Path, timeout: Duration) -> Result<String, String> {
        let spec = CommandSpec::new(program, timeout).arg("--version");
        match self.run(&spec).await {
            Ok(out) if out.success() => Ok(out
                .stdout_text()
                .lines()
                .next()
                .unwrap_or_default()
                .trim()
                .to_owned()),
            Ok(out) => Err(out.combined()),
            Err(e) => Err(e.to_string()),
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

    /// The variable that marks every process a test command starts (children inherit it).
    const MARK: &str = "AO_TEST_PROCESS_MARK";

    /// The running processes (zombies are not) whose environment holds `MARK=<mark>`.
    fn marked_processes(mark: &str) -> Vec<u32> {
        let wanted = format!("{MARK}={mark}");
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return vec![];
        };
        entries
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
            .filter(|pid| {
                let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
                // `pid (comm) state …`: the state follows the last parenthesis.
                let state = stat
                    .rfind(')')
                    .and_then(|i| stat[i + 1..].trim_start().chars().next());
                let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
                state.is_some_and(|s| s != 'Z' && s != 'X')
                    && environ.split(|b| *b == 0).any(|v| v == wanted.as_bytes())
            })
            .collect()
    }

    /// Polls until no process carries `mark`; on the deadline, kills them and fails.
    async fn assert_all_gone(mark: &str) {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let left = marked_processes(mark);
            if left.is_empty() {
                return;
            }
            if std::time::Instant::now() >= deadline {
                for pid in &left {
                    let _ = nix::sys::signal::kill(Pid::from_raw(*pid as i32), Signal::SIGKILL);
                }
                panic!("processes the command started survive it: {left:?}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// A command that starts a grandchild, writes `ready` once it has, and waits.
    fn forking_command(ready: &std::path::Path, mark: &str, timeout: Duration) -> CommandSpec {
        CommandSpec::new("sh", timeout)
            .args(["-c", "sleep 1000 & echo > \"$1\"; wait", "sh"])
            .arg(ready)
            .env(MARK, mark)
    }

    #[tokio::test]
    async fn a_timeout_kills_everything_the_command_started() {
        if !std::path::Path::new("/proc/self/environ").exists() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let ready = dir.path().join("ready");
        let mark = format!("timeout-{}", std::process::id());
        // The deadline must pass once the grandchild exists: doubled until it does.
        let mut timeout = Duration::from_millis(200);
        loop {
            let spec = forking_command(&ready, &mark, timeout);
            let err = SystemRunner.run(&spec).await.unwrap_err();
            assert!(matches!(err, ProcessError::Timeout { .. }), "{err}");
            if ready.exists() {
                break;
            }
            assert!(
                timeout < Duration::from_secs(30),
                "the command never started"
            );
            timeout *= 2;
        }
        assert_all_gone(&mark).await;
    }

    #[tokio::test]
    async fn a_dropped_call_kills_everything_the_command_started() {
        if !std::path::Path::new("/proc/self/environ").exists() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let ready = dir.path().join("ready");
        let mark = format!("dropped-{}", std::process::id());
        let spec = forking_command(&ready, &mark, Duration::from_secs(3600));
        let call = tokio::spawn(async move { SystemRunner.run(&spec).await });
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !ready.exists() {
            assert!(
                std::time::Instant::now() < deadline,
                "the command never started"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        call.abort();
        assert!(call.await.unwrap_err().is_cancelled());
        assert_all_gone(&mark).await;
    }

    /// What a command leaves running after it exits by itself is its business.
    #[tokio::test]
    async fn a_finished_command_leaves_its_background_processes_alone() {
        if !std::path::Path::new("/proc/self/environ").exists() {
            return;
        }
        let mark = format!("finished-{}", std::process::id());
        let spec = CommandSpec::new("sh", Duration::from_secs(10))
            .args(["-c", "sleep 1000 >/dev/null 2>&1 &"])
            .env(MARK, &mark);
        assert!(SystemRunner.run(&spec).await.unwrap().success());
        let left = marked_processes(&mark);
        assert_eq!(left.len(), 1, "the background sleep runs on: {left:?}");
        for pid in left {
            nix::sys::signal::kill(Pid::from_raw(pid as i32), Signal::SIGKILL).unwrap();
        }
        assert_all_gone(&mark).await;
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
