//! A persistent tmux control-mode client (`tmux -C`) for the hot paths: typing a message,
//! pressing Enter, reading a screen. Starting a tmux process costs 4-10 ms per call; a line on
//! the control client's stdin costs a fraction of one.
//!
//! The protocol: each command is one line on stdin. tmux answers every line, in the order they
//! were written, with a block: `%begin T N F`, the output lines, then `%end T N F` (success) or
//! `%error T N F` (failure; the lines are the error). F is 1 for a line this client wrote; the
//! block of the initial attach (F = 0) and the notifications between blocks are skipped, and
//! `%exit` (or end of file) ends the client.
//!
//! Rules:
//! - Every argument is written single-quoted (`'` as `'\''`); tmux takes every character inside
//!   single quotes literally (no `#{}` formats, `$` variables, `~`, `;` or `\`). An argument
//!   with a line break or NUL cannot be written on one line: such a call is not taken
//!   ([`ControlClient::call`] returns `None`) and the caller starts a tmux process instead.
//! - tmux needs a session to attach a client to: the client attaches to the session of the call
//!   that started it, with `-E` (ao's environment never updates the session's) and
//!   `-f no-output,ignore-size` (no pane output is sent to it and it never sizes a window). When
//!   that session ends, tmux detaches the client; the next call starts a new one. The client
//!   never starts a server (`-N`): when none runs, the call is answered as the server missing.
//! - A call with no answer within the deadline kills the client, since the order of the answers
//!   is then unknown; so does a write or read error. Calls waiting then fail as `Lost`.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ao_core::tmux::TmuxSocket;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::sync::oneshot;

/// The answer to one command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// `%end` (true) or `%error` (false).
    pub ok: bool,
    /// The block's lines, each ending in `\n`.
    pub output: Vec<u8>,
}

/// Why a call taken by the control client has no complete answer: the commands may or may not
/// have run, so only a query may be asked again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ControlError {
    #[error("the tmux control client gave no answer within {0:?}")]
    Timeout(Duration),
    #[error("the tmux control client ended after answering part of a call ({0})")]
    Lost(String),
}

/// `args` as one control-mode line, each argument single-quoted; `None` when one of them holds
/// a line break or NUL.
pub fn control_line(args: &[&str]) -> Option<String> {
    let mut line = String::new();
    for (i, arg) in args.iter().enumerate() {
        if arg.contains(['\n', '\r', '\0']) {
            return None;
        }
        if i > 0 {
            line.push(' ');
        }
        line.push('\'');
        line.push_str(&arg.replace('\'', r"'\''"));
        line.push('\'');
    }
    line.push('\n');
    Some(line)
}

/// What one line of the client's output means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The end of the initial attach's block: the client is ready (or, `false`, refused).
    Attached(bool),
    /// The answer to the oldest command still waiting.
    Answer(Answer),
    /// `%exit`: tmux detached the client.
    Exit,
}

/// Reads the client's output line by line (without the `\n`) into [`Event`]s.
#[derive(Debug, Default)]
pub struct Parser {
    /// The open block: its `T N F` guard and the lines so far.
    block: Option<(String, Vec<u8>)>,
}

impl Parser {
    pub fn line(&mut self, line: &[u8]) -> Option<Event> {
        if let Some((guard, output)) = &mut self.block {
            let closing = [("%end ", true), ("%error ", false)]
                .into_iter()
                .find(|(tag, _)| line.strip_prefix(tag.as_bytes()) == Some(guard.as_bytes()));
            let Some((_, ok)) = closing else {
                output.extend_from_slice(line);
                output.push(b'\n');
                return None;
            };
            let (guard, output) = self.block.take().unwrap_or_default();
            return Some(if guard.ends_with(" 1") {
                Event::Answer(Answer { ok, output })
            } else {
                Event::Attached(ok)
            });
        }
        if let Some(guard) = line.strip_prefix(b"%begin ") {
            self.block = Some((String::from_utf8_lossy(guard).into_owned(), Vec::new()));
            None
        } else if line == b"%exit" || line.starts_with(b"%exit ") {
            Some(Event::Exit)
        } else {
            None
        }
    }
}

/// Commands written and not yet answered, oldest first; `closed` once the client is gone.
#[derive(Debug, Default)]
struct Waiting {
    answers: VecDeque<oneshot::Sender<Answer>>,
    closed: Option<String>,
}

type SharedWaiting = Arc<Mutex<Waiting>>;

fn lock(waiting: &SharedWaiting) -> std::sync::MutexGuard<'_, Waiting> {
    waiting.lock().unwrap_or_else(|e| e.into_inner())
}

/// One running `tmux -C` process.
#[derive(Debug)]
struct Connection {
    stdin: ChildStdin,
    waiting: SharedWaiting,
    /// Killed when dropped.
    _child: Child,
}

impl Connection {
    fn is_closed(&self) -> bool {
        lock(&self.waiting).closed.is_some()
    }
}

/// The control client of one tmux server; see the module documentation.
#[derive(Debug)]
pub struct ControlClient {
    socket: TmuxSocket,
    config_file: PathBuf,
    cwd: PathBuf,
    timeout: Duration,
    connection: tokio::sync::Mutex<Option<Connection>>,
}

impl ControlClient {
    pub fn new(socket: TmuxSocket, config_file: PathBuf, cwd: PathBuf, timeout: Duration) -> Self {
        Self {
            socket,
            config_file,
            cwd,
            timeout,
            connection: tokio::sync::Mutex::new(None),
        }
    }

    /// Runs `commands` in order and returns their answers. `None` when none of them ran: an
    /// argument cannot be written on a line, no client could attach to `session`, or the client
    /// ended before it answered any (tmux answers every line it ran before a client ends). The
    /// caller then starts a tmux process, which also reports what is wrong.
    pub async fn call(
        &self,
        session: &str,
        commands: &[&[&str]],
    ) -> Option<Result<Vec<Answer>, ControlError>> {
        let lines: String = commands
            .iter()
            .map(|c| control_line(c))
            .collect::<Option<_>>()?;
        let mut receivers = Vec::with_capacity(commands.len());
        let waiting = {
            let mut connection = self.connection.lock().await;
            if connection.as_ref().is_none_or(Connection::is_closed) {
                *connection = None;
                match self.connect(session).await {
                    Ok(started) => *connection = Some(started),
                    Err(why) => {
                        tracing::debug!(session, why, "no tmux control client; a process per call");
                        return None;
                    }
                }
            }
            let open = connection.as_mut()?;
            {
                let mut waiting = lock(&open.waiting);
                for _ in commands {
                    let (tx, rx) = oneshot::channel();
                    waiting.answers.push_back(tx);
                    receivers.push(rx);
                }
            }
            let written = async {
                open.stdin.write_all(lines.as_bytes()).await?;
                open.stdin.flush().await
            };
            if let Err(e) = written.await {
                // The client is gone (a broken pipe): tmux got none of these lines.
                tracing::debug!(session, error = %e, "tmux control client gone; a process instead");
                *connection = None;
                return None;
            }
            open.waiting.clone()
        };
        let answers = async {
            let mut answers = Vec::with_capacity(receivers.len());
            for rx in receivers {
                answers.push(rx.await);
            }
            answers
        };
        match tokio::time::timeout(self.timeout, answers).await {
            Ok(answers) => {
                let answered: Vec<Answer> = answers.into_iter().map_while(Result::ok).collect();
                if answered.len() == commands.len() {
                    return Some(Ok(answered));
                }
                let reason = lock(&waiting).closed.clone();
                let reason = reason.unwrap_or_else(|| "it exited".to_owned());
                if answered.is_empty() {
                    // tmux answers every line it ran before the client ends: none of these ran.
                    tracing::debug!(
                        session,
                        reason,
                        "tmux control client ended; a process instead"
                    );
                    return None;
                }
                Some(Err(ControlError::Lost(reason)))
            }
            Err(_) => {
                let mut connection = self.connection.lock().await;
                if connection
                    .as_ref()
                    .is_some_and(|c| Arc::ptr_eq(&c.waiting, &waiting))
                {
                    *connection = None;
                }
                Some(Err(ControlError::Timeout(self.timeout)))
            }
        }
    }

    /// Starts `tmux -C attach-session` on `session` and waits for its attach to be answered.
    async fn connect(&self, session: &str) -> Result<Connection, String> {
        let mut child = Command::new("tmux")
            .args(self.socket.args())
            .arg("-f")
            .arg(&self.config_file)
            // `-N`: attach-session would otherwise start a server when none runs (an empty one,
            // which then answers "no current target" to calls meant for a server that is gone).
            .args(["-N", "-C"])
            .args(["attach-session", "-E", "-f", "no-output,ignore-size", "-t"])
            .arg(format!("={session}"))
            .current_dir(&self.cwd)
            .env_remove("TMUX")
            .env_remove("TMUX_PANE")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("could not start tmux -C: {e}"))?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err("tmux -C has no pipes".to_owned());
        };
        let waiting = SharedWaiting::default();
        let (attached_tx, attached_rx) = oneshot::channel();
        tokio::spawn(read_answers(stdout, waiting.clone(), attached_tx));
        match tokio::time::timeout(self.timeout, attached_rx).await {
            Ok(Ok(true)) => Ok(Connection {
                stdin,
                waiting,
                _child: child,
            }),
            Ok(Ok(false)) => Err(format!("tmux refused to attach to {session}")),
            Ok(Err(_)) => Err("tmux -C exited before it attached".to_owned()),
            Err(_) => Err(format!("tmux -C did not attach within {:?}", self.timeout)),
        }
    }
}

/// The reader of one client: hands each answer to the oldest waiting call; at the end (exit,
/// end of file, a read error, an answer nobody waits for) closes `waiting`, which fails the
/// calls still in it.
async fn read_answers(
    stdout: ChildStdout,
    waiting: SharedWaiting,
    attached: oneshot::Sender<bool>,
) {
    let mut attached = Some(attached);
    let mut parser = Parser::default();
    let mut lines = BufReader::new(stdout).split(b'\n');
    let reason = loop {
        let line = match lines.next_segment().await {
            Ok(Some(line)) => line,
            Ok(None) => break "end of output".to_owned(),
            Err(e) => break format!("read: {e}"),
        };
        match parser.line(&line) {
            None => {}
            Some(Event::Attached(ok)) => {
                if let Some(tx) = attached.take() {
                    let _ = tx.send(ok);
                }
            }
            Some(Event::Answer(answer)) => {
                let Some(tx) = lock(&waiting).answers.pop_front() else {
                    break "an answer to no command".to_owned();
                };
                let _ = tx.send(answer);
            }
            Some(Event::Exit) => break "tmux detached it".to_owned(),
        }
    };
    let mut waiting = lock(&waiting);
    waiting.closed = Some(reason);
    waiting.answers.clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_single_quoted() {
        assert_eq!(
            control_line(&[
                "send-keys",
                "-t",
                "=a:0.0",
                "-l",
                "--",
                "it's #{x} $HOME; \\"
            ]),
            Some(r"'send-keys' '-t' '=a:0.0' '-l' '--' 'it'\''s #{x} $HOME; \'".to_owned() + "\n")
        );
        assert_eq!(control_line(&["x", ""]), Some("'x' ''\n".to_owned()));
        for bad in ["a\nb", "a\rb", "a\0b"] {
            assert_eq!(control_line(&["send-keys", bad]), None, "{bad:?}");
        }
    }

    fn feed(lines: &[&str]) -> Vec<Event> {
        let mut parser = Parser::default();
        lines
            .iter()
            .filter_map(|l| parser.line(l.as_bytes()))
            .collect()
    }

    #[test]
    fn blocks_become_answers() {
        let events = feed(&[
            "%begin 1796317653 269 0",
            "%end 1796317653 269 0",
            "%session-changed $1 b",
            "%begin 1796317654 274 1",
            "0,0,100",
            "%output %0 ignored",
            "%end 1796317654 274 1",
            "%begin 1796317654 275 1",
            "can't find session: nope",
            "%error 1796317654 275 1",
            "%begin 1796317654 276 1",
            // A pane line that looks like an end, but of another block, is output.
            "%end 1796317654 999 1",
            "",
            "%end 1796317654 276 1",
            "%exit",
        ]);
        assert_eq!(
            events,
            [
                Event::Attached(true),
                Event::Answer(Answer {
                    ok: true,
                    output: b"0,0,100\n%output %0 ignored\n".to_vec()
                }),
                Event::Answer(Answer {
                    ok: false,
                    output: b"can't find session: nope\n".to_vec()
                }),
                Event::Answer(Answer {
                    ok: true,
                    output: b"%end 1796317654 999 1\n\n".to_vec()
                }),
                Event::Exit,
            ]
        );
        assert_eq!(
            feed(&["%begin 1 2 0", "no sessions", "%error 1 2 0"]),
            [Event::Attached(false)]
        );
    }
}
