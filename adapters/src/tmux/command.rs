//! Running tmux: ao's own server via socket arguments, `-f <conf>`, a 5 s deadline per call, a
//! stable working directory, no `TMUX`/`TMUX_PANE`, and the "missing" output classification.
//!
//! Every tmux call of the adapter goes through [`Tmux`], so none can forget the socket
//! arguments (ao must never talk to, let alone `kill-server`, the user's own server) and unit
//! tests see the exact argv through a fake [`CommandRunner`].

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::control::{Answer, ControlClient};
use crate::process::{CommandOutput, CommandRunner, CommandSpec, ProcessError};
use ao::ports::RuntimeError;
use ao_core::tmux::TmuxSocket;

/// The oldest tmux this adapter supports.
const MIN_VERSION: (u32, u32) = (3, 2);

/// Substrings (lower case) of tmux output that mean "that session is gone".
const SESSION_MISSING: [&str; 2] = ["can't find session", "session not found"];
/// What tmux's client prints when its socket refuses the connection: the file exists but no
/// server listens on it (the server was killed or crashed; tmux leaves the file behind).
const NO_SERVER: &str = "no server running";
/// What tmux's client prints when it cannot connect for another reason, followed by the reason.
const ERROR_CONNECTING: &str = "error connecting";
/// The one such reason that means "no server": the socket file does not exist.
const NO_SOCKET_FILE: &str = "no such file or directory";

/// What a tmux client prints when the server closed the connection without answering.
const LOST_SERVER: &str = "server exited unexpectedly";
/// How often a query that met an exiting server is tried in all.
const LOST_SERVER_ATTEMPTS: u32 = 5;
/// The pause before trying again.
const LOST_SERVER_PAUSE: Duration = Duration::from_millis(50);

/// What a "missing" output says is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// The target session.
    Session,
    /// The whole server: its socket refuses connections or does not exist.
    Server,
}

/// What tmux's output says is gone, if anything: "gone", not "failed". A connection that
/// failed for any reason but a refused or absent socket (permission denied, …) is a failure.
pub fn missing_output(text: &str) -> Option<Missing> {
    let lower = text.to_lowercase();
    let no_server = lower.contains(NO_SERVER)
        || (lower.contains(ERROR_CONNECTING) && lower.contains(NO_SOCKET_FILE));
    if no_server {
        Some(Missing::Server)
    } else if SESSION_MISSING.iter().any(|m| lower.contains(m)) {
        Some(Missing::Session)
    } else {
        None
    }
}

/// True when tmux's output says the session or the whole server is gone.
pub fn is_missing_output(text: &str) -> bool {
    missing_output(text).is_some()
}

/// The content of `<data dir>/tmux.conf`: the user's configuration first (when wanted), then the
/// indexes ao's exact `=name:0.0` targets rely on.
pub fn tmux_conf_text(load_user_config: bool) -> String {
    let mut text = String::new();
    if load_user_config {
        text.push_str("source-file -q ~/.tmux.conf\n");
        text.push_str("source-file -q ~/.config/tmux/tmux.conf\n");
    }
    text.push_str("set -g base-index 0\n");
    text.push_str("setw -g pane-base-index 0\n");
    text
}

/// Writes `<data_dir>/tmux.conf` and returns its path. tmux reads it only when the server
/// starts, so rewriting it at every daemon start is harmless.
pub fn write_tmux_conf(data_dir: &Path, load_user_config: bool) -> Result<PathBuf, RuntimeError> {
    let path = data_dir.join("tmux.conf");
    let io_error = |e: std::io::Error| RuntimeError::Io(format!("{}: {e}", path.display()));
    std::fs::create_dir_all(data_dir).map_err(io_error)?;
    std::fs::write(&path, tmux_conf_text(load_user_config)).map_err(io_error)?;
    Ok(path)
}

/// Checks `tmux -V` output (`tmux 3.3a`, `tmux next-3.4`, `tmux master`) against 3.2.
pub fn check_version(text: &str) -> Result<(), RuntimeError> {
    let version = text.trim();
    let word = version.strip_prefix("tmux ").unwrap_or(version).trim();
    if word == "master" {
        return Ok(());
    }
    let numeric = word.trim_start_matches(|c: char| !c.is_ascii_digit());
    let mut parts = numeric.splitn(2, '.');
    let number = |part: Option<&str>| -> Option<u32> {
        let digits: String = part?.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    };
    match (number(parts.next()), number(parts.next())) {
        (Some(major), Some(minor)) if (major, minor) >= MIN_VERSION => Ok(()),
        (Some(major), Some(minor)) => Err(RuntimeError::Prerequisite(format!(
            "tmux {major}.{minor} is too old: 3.2 or newer is required ({version:?})"
        ))),
        _ => Err(RuntimeError::Prerequisite(format!(
            "cannot read the tmux version from {version:?}"
        ))),
    }
}

/// tmux's client splits its argv into commands at an argument ending in `;` (and turns a final
/// `\;` into `;`), so such an argument would lose its `;` or end the command early. Writing
/// the final `;` as `\;` makes tmux pass the argument through unchanged.
pub fn escape_trailing_semicolon(arg: &OsStr) -> OsString {
    let bytes = arg.as_bytes();
    match bytes.split_last() {
        Some((b';', head)) => {
            let mut out = head.to_vec();
            out.extend_from_slice(b"\\;");
            OsString::from_vec(out)
        }
        _ => arg.to_owned(),
    }
}

/// tmux expands formats (`#{…}`, and `#(…)` which runs a shell command) in some arguments
/// (`new-session -c`, the `pipe-pane` command); `##` is a literal `#`.
pub fn escape_format(text: &str) -> String {
    text.replace('#', "##")
}

/// A directory that always exists, so a server started by one of our calls never inherits a working
/// directory that can be deleted later (such a server ignores `-c`, so new panes would not start
/// where asked).
pub fn stable_cwd() -> PathBuf {
    let temp = std::env::temp_dir();
    if temp.is_dir() {
        return temp;
    }
    match std::env::var_os("HOME").map(PathBuf::from) {
        Some(home) if home.is_dir() => home,
        _ => PathBuf::from("/"),
    }
}

/// The tmux client of one server.
#[derive(Debug, Clone)]
pub struct Tmux {
    runner: Arc<dyn CommandRunner>,
    socket: TmuxSocket,
    config_file: PathBuf,
    timeout: Duration,
    cwd: PathBuf,
    /// The control-mode client [`Tmux::run_commands`] uses, when enabled.
    control: Option<Arc<ControlClient>>,
}

/// Whether a command may run again after its first try got no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repeat {
    /// A query: asked again through a tmux process.
    Safe,
    /// It may already have run (typing): the call fails.
    Unsafe,
}

impl Tmux {
    pub fn new(
        runner: Arc<dyn CommandRunner>,
        socket: TmuxSocket,
        config_file: PathBuf,
        timeout: Duration,
    ) -> Self {
        Self {
            runner,
            socket,
            config_file,
            timeout,
            cwd: stable_cwd(),
            control: None,
        }
    }

    /// Sends [`Tmux::run_commands`] through a persistent control-mode client (see `control`).
    pub fn with_control(mut self) -> Self {
        self.control = Some(Arc::new(ControlClient::new(
            self.socket.clone(),
            self.config_file.clone(),
            self.cwd.clone(),
            self.timeout,
        )));
        self
    }

    /// The size in bytes tmux's client allows for a command's packed argv; see
    /// [`Tmux::packed_size`].
    pub const COMMAND_MAX: usize = 16384 - 16 - 4;

    /// How many bytes `args` take in tmux's client-to-server message (each argument plus its
    /// NUL, after escaping). tmux 3.3 rejects a command above [`Tmux::COMMAND_MAX`] with
    /// "command too long".
    pub fn packed_size<I, S>(args: I) -> usize
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        args.into_iter()
            .map(|a| escape_trailing_semicolon(a.as_ref()).len() + 1)
            .sum()
    }

    /// `tmux <sock> -f <conf> <args…>` with the deadline, working directory and environment
    /// every call needs.
    pub fn spec<I, S>(&self, args: I) -> CommandSpec
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        CommandSpec::new("tmux", self.timeout)
            .args(self.socket.args())
            .arg("-f")
            .arg(&self.config_file)
            .args(
                args.into_iter()
                    .map(|a| escape_trailing_semicolon(a.as_ref())),
            )
            .cwd(&self.cwd)
            .env_remove("TMUX")
            .env_remove("TMUX_PANE")
    }

    /// `tmux <sock> -f <conf> cmd1 ; cmd2 ; …`: several commands in ONE client process. tmux
    /// runs them in order and stops at the first that fails. The `;` separators are the only
    /// unescaped `;` arguments.
    pub fn chain_spec(&self, commands: &[&[&str]]) -> CommandSpec {
        let mut spec = self.spec(commands.first().copied().unwrap_or(&[]));
        for command in commands.iter().skip(1) {
            spec = spec.arg(";").args(
                command
                    .iter()
                    .map(|a| escape_trailing_semicolon(OsStr::new(a))),
            );
        }
        spec
    }

    /// How many bytes a command chain takes in tmux's client-to-server message.
    pub fn chain_packed_size(commands: &[&[&str]]) -> usize {
        commands
            .iter()
            .map(|c| Self::packed_size(*c))
            .sum::<usize>()
            + 2 * commands.len().saturating_sub(1)
    }

    /// `tmux -V`, which needs no server.
    pub fn version_spec(&self) -> CommandSpec {
        CommandSpec::new("tmux", self.timeout)
            .arg("-V")
            .cwd(&self.cwd)
            .env_remove("TMUX")
            .env_remove("TMUX_PANE")
    }

    /// Runs `spec`; any exit status is returned. The deadline is also enforced here, so a
    /// runner that does not honour `spec.timeout` still cannot hang the adapter.
    pub async fn run_spec(&self, spec: &CommandSpec) -> Result<CommandOutput, RuntimeError> {
        match tokio::time::timeout(spec.timeout, self.runner.run(spec)).await {
            Ok(Ok(out)) => Ok(out),
            Ok(Err(err)) => Err(process_error(err)),
            Err(_) => Err(RuntimeError::Timeout {
                argv: spec.display(),
                seconds: spec.timeout.as_secs(),
            }),
        }
    }

    /// Runs tmux; a non-zero exit is a `Command` error carrying argv and output.
    pub async fn run_ok<I, S>(&self, args: I) -> Result<CommandOutput, RuntimeError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let spec = self.spec(args);
        let out = self.run_spec(&spec).await?;
        if out.success() {
            Ok(out)
        } else {
            Err(command_error(&spec, &out))
        }
    }

    /// Runs `commands`, which target `session`, in order: through the control client when there
    /// is one and it takes the call, else as one chained tmux process. The output is the one a
    /// chained process gives: every command's stdout, success when all succeeded, the first
    /// failure's message. Unlike a chained process, the control client runs the commands after a
    /// failed one too, so only chain commands that do not depend on each other.
    pub async fn run_commands(
        &self,
        session: &str,
        commands: &[&[&str]],
        repeat: Repeat,
    ) -> Result<CommandOutput, RuntimeError> {
        if let Some(control) = &self.control
            && let Some(answered) = control.call(session, commands).await
        {
            match answered {
                Ok(answers) => return Ok(chained_output(answers)),
                Err(e) if repeat == Repeat::Safe => {
                    tracing::debug!(error = %e, "asking again through a tmux process");
                }
                Err(e) => {
                    return Err(RuntimeError::Command {
                        argv: self.chain_spec(commands).display(),
                        output: e.to_string(),
                    });
                }
            }
        }
        self.run_spec(&self.chain_spec(commands)).await
    }

    /// Runs a query or an idempotent command; `Ok(None)` when the output says the session or
    /// server is gone.
    ///
    /// A client that reaches a server in the middle of exiting (right after its last session
    /// was killed) is told "server exited unexpectedly". That is neither "gone" nor a real
    /// failure yet, so the call is repeated, briefly, until tmux gives a real answer
    /// (usually "no server running"). Only commands that are safe to repeat come here.
    pub async fn run_unless_missing<I, S>(
        &self,
        args: I,
    ) -> Result<Option<CommandOutput>, RuntimeError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let spec = self.spec(args);
        let mut attempt = 1;
        loop {
            let out = self.run_spec(&spec).await?;
            let text = out.combined();
            if out.success() {
                return Ok(Some(out));
            } else if is_missing_output(&text) {
                return Ok(None);
            } else if attempt < LOST_SERVER_ATTEMPTS && text.contains(LOST_SERVER) {
                attempt += 1;
                tokio::time::sleep(LOST_SERVER_PAUSE).await;
            } else {
                return Err(command_error(&spec, &out));
            }
        }
    }
}

/// The control client's answers as the output of one chained process: all the output, and the
/// first failure's message as stderr with exit status 1.
fn chained_output(answers: Vec<Answer>) -> CommandOutput {
    let mut out = CommandOutput {
        code: Some(0),
        stdout: Vec::new(),
        stderr: Vec::new(),
    };
    for answer in answers {
        if answer.ok {
            out.stdout.extend_from_slice(&answer.output);
        } else if out.success() {
            out.code = Some(1);
            out.stderr = answer.output;
        }
    }
    out
}

/// A failed tmux call: its argv and everything it printed (or its exit status).
pub fn command_error(spec: &CommandSpec, out: &CommandOutput) -> RuntimeError {
    let mut output = out.combined();
    if output.is_empty() {
        output = match out.code {
            Some(code) => format!("exit status {code}"),
            None => "killed by a signal".to_owned(),
        };
    }
    RuntimeError::Command {
        argv: spec.display(),
        output,
    }
}

fn process_error(err: ProcessError) -> RuntimeError {
    match err {
        ProcessError::Timeout { argv, timeout } => RuntimeError::Timeout {
            argv,
            seconds: timeout.as_secs(),
        },
        ProcessError::Spawn { argv, error } => RuntimeError::Command {
            argv,
            output: format!("could not start: {error}"),
        },
        ProcessError::Io { argv, error } => RuntimeError::Command {
            argv,
            output: error,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_outputs() {
        use Missing::{Server, Session};
        for (text, missing) in [
            ("can't find session: sess-1", Some(Session)),
            ("Session not found", Some(Session)),
            ("no server running on /tmp/tmux-1000/ao", Some(Server)),
            (
                "error connecting to /tmp/x.sock (No such file or directory)",
                Some(Server),
            ),
            ("error connecting to /tmp/x.sock (Permission denied)", None),
            (
                "error connecting to /tmp/x.sock (Connection reset by peer)",
                None,
            ),
            ("permission denied", None),
            ("", None),
            ("command too long", None),
            ("server exited unexpectedly", None),
        ] {
            assert_eq!(missing_output(text), missing, "{text}");
            assert_eq!(is_missing_output(text), missing.is_some(), "{text}");
        }
    }

    #[test]
    fn conf_text() {
        assert_eq!(
            tmux_conf_text(true),
            "source-file -q ~/.tmux.conf\nsource-file -q ~/.config/tmux/tmux.conf\n\
             set -g base-index 0\nsetw -g pane-base-index 0\n"
        );
        assert_eq!(
            tmux_conf_text(false),
            "set -g base-index 0\nsetw -g pane-base-index 0\n"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = write_tmux_conf(&dir.path().join("data"), false).unwrap();
        assert_eq!(path, dir.path().join("data/tmux.conf"));
        assert_eq!(
            std::fs::read_to_string(path).unwrap(),
            tmux_conf_text(false)
        );
    }

    #[test]
    fn versions() {
        for ok in [
            "tmux 3.2",
            "tmux 3.3a",
            "tmux next-3.4",
            "tmux master",
            "tmux 3.10",
            "tmux 4.0\n",
            "tmux 3.2-rc2",
        ] {
            assert_eq!(check_version(ok), Ok(()), "{ok}");
        }
        for bad in ["tmux 3.1c", "tmux 2.9a", "tmux 1.8", "tmux", "garbage", ""] {
            assert!(
                matches!(check_version(bad), Err(RuntimeError::Prerequisite(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn trailing_semicolons_are_escaped() {
        let esc = |s: &str| escape_trailing_semicolon(OsStr::new(s));
        assert_eq!(esc("abc;"), "abc\\;");
        assert_eq!(esc("X\\;"), "X\\\\;");
        assert_eq!(esc(";"), "\\;");
        assert_eq!(esc("a;b"), "a;b");
        assert_eq!(esc(""), "");
        assert_eq!(Tmux::packed_size(["ab", "c;"]), 3 + 4);
    }

    #[test]
    fn format_escaping() {
        assert_eq!(escape_format("/a#{b}#(c)"), "/a##{b}##(c)");
    }
}
