//! Dynamic shell completion: the shell's registration script calls `aoctl` back with
//! `COMPLETE=<shell>` and the words typed so far, and clap_complete's engine answers from the
//! command definitions plus the candidates below: session ids, project names and agent names
//! asked from the running daemon, statuses from `ao_core`.
//!
//! Asking the daemon never disturbs the shell: it uses the socket the command being typed would
//! use (`--socket` on the line, else `AO_SOCKET`, else the default) through `ao_proto::connect`
//! (the same trust checks as every connection), gives the whole exchange [`DAEMON_DEADLINE`],
//! never starts a daemon, and on any failure offers no candidates and prints nothing.
//! Hidden commands (`hook`) are not part of the tree the engine completes from.

use std::ffi::OsString;
use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use ao_core::domain::Status;
use ao_proto::AoClient;
use clap::CommandFactory;
use clap_complete::engine::CompletionCandidate;
use clap_complete::env::{EnvCompleter, Shells};
use clap_complete::{CompleteEnv, Shell};

use crate::Cli;

/// The variable the registration scripts set to ask for candidates.
const VAR: &str = "COMPLETE";
/// Connect, request and reply together: a completion must feel instant.
const DAEMON_DEADLINE: Duration = Duration::from_millis(300);

/// Answers a completion request and exits when `COMPLETE` is set; returns at once otherwise.
pub fn answer_if_asked() {
    if std::env::var_os(VAR).is_none() {
        return;
    }
    CompleteEnv::with_factory(command).var(VAR).complete();
}

/// The registration script for `shell`: it calls `aoctl` (found on `PATH`) for candidates.
pub fn registration(shell: Shell) -> Vec<u8> {
    let name = shell.to_string();
    let shells = Shells::builtins();
    let completer: &dyn EnvCompleter = shells
        .completer(&name)
        .unwrap_or_else(|| unreachable!("clap_complete registers every `Shell` it defines"));
    let mut script = Vec::new();
    completer
        .write_registration(VAR, "aoctl", "aoctl", "aoctl", &mut script)
        .unwrap_or_else(|e| unreachable!("writing to memory failed: {e}"));
    script
}

/// The command tree completions are offered from: `aoctl`'s, without its hidden subcommands
/// (clap_complete offers a hidden one when it is the only match, as `ho` for `hook`).
pub fn command() -> clap::Command {
    let full = Cli::command();
    let root = clap::Command::new("aoctl")
        .version(env!("CARGO_PKG_VERSION"))
        .propagate_version(full.is_propagate_version_set())
        .subcommand_required(full.is_subcommand_required_set())
        .args(full.get_arguments().cloned());
    root.subcommands(full.get_subcommands().filter(|c| !c.is_hide_set()).cloned())
}

/// Every session the daemon lists, ended ones included, with its status and project.
pub fn sessions() -> Vec<CompletionCandidate> {
    ask_daemon(|client| async move {
        let request = ao_proto::ListRequest {
            project: None,
            all: true,
        };
        let sessions = client.list(context(), request).await.ok()?.ok()?;
        Some(
            sessions
                .into_iter()
                .map(|s| {
                    let help = format!("{} · {}", s.status, s.project);
                    CompletionCandidate::new(s.id).help(Some(help.into()))
                })
                .collect(),
        )
    })
    .unwrap_or_default()
}

/// Every registered project, with its repository.
pub fn projects() -> Vec<CompletionCandidate> {
    ask_daemon(|client| async move {
        let projects = client.project_list(context()).await.ok()?.ok()?;
        Some(
            projects
                .into_iter()
                .map(|p| CompletionCandidate::new(p.id).help(Some(p.repo_path.into())))
                .collect(),
        )
    })
    .unwrap_or_default()
}

/// The agent harnesses the running daemon knows (built-in and configured).
pub fn agents() -> Vec<CompletionCandidate> {
    ask_daemon(|client| async move {
        let pong = client.ping(context()).await.ok()?;
        Some(
            pong.agents
                .into_iter()
                .map(CompletionCandidate::new)
                .collect(),
        )
    })
    .unwrap_or_default()
}

/// Trash entries, with the session and project they held.
pub fn trash_entries() -> Vec<CompletionCandidate> {
    ask_daemon(|client| async move {
        let entries = client.trash_list(context()).await.ok()?.ok()?;
        Some(
            entries
                .into_iter()
                .map(|e| {
                    let help = [e.session, e.project].into_iter().flatten();
                    let help = help.collect::<Vec<_>>().join(" · ");
                    CompletionCandidate::new(e.id).help((!help.is_empty()).then(|| help.into()))
                })
                .collect(),
        )
    })
    .unwrap_or_default()
}

/// The display statuses (no daemon needed); terminal ones say so.
pub fn statuses() -> Vec<CompletionCandidate> {
    Status::ALL
        .iter()
        .map(|s| {
            let candidate = CompletionCandidate::new(s.as_str());
            if s.is_terminal() {
                candidate.help(Some("the session has ended".into()))
            } else {
                candidate
            }
        })
        .collect()
}

fn context() -> tarpc::context::Context {
    ao_proto::context_with_timeout(DAEMON_DEADLINE)
}

/// Runs `call` against the daemon within [`DAEMON_DEADLINE`]; `None` when no trusted daemon
/// answers in time or anything fails.
fn ask_daemon<T, F, Fut>(call: F) -> Option<T>
where
    F: FnOnce(AoClient) -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let socket = socket_path(std::env::args_os());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok()?;
    runtime.block_on(async {
        let exchange = async {
            let client = ao_proto::connect(&socket, DAEMON_DEADLINE).await.ok()?;
            call(client).await
        };
        tokio::time::timeout(DAEMON_DEADLINE, exchange)
            .await
            .ok()
            .flatten()
    })
}

/// The socket the command being completed would use: the last `--socket` on its line (the
/// words after `--` in this process's arguments), else `AO_SOCKET`, else the default.
fn socket_path(args: impl IntoIterator<Item = OsString>) -> PathBuf {
    let mut words = args.into_iter().skip_while(|a| a != "--").skip(1);
    let mut socket = None;
    while let Some(word) = words.next() {
        let Some(text) = word.to_str() else { continue };
        if text == "--socket" {
            socket = words.next().filter(|w| !w.is_empty()).or(socket);
        } else if let Some(value) = text.strip_prefix("--socket=") {
            socket = Some(OsString::from(value))
                .filter(|w| !w.is_empty())
                .or(socket);
        }
    }
    socket
        .or_else(|| std::env::var_os("AO_SOCKET").filter(|s| !s.is_empty()))
        .map(PathBuf::from)
        .unwrap_or_else(ao_proto::paths::default_socket)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &[&str]) -> Vec<OsString> {
        line.iter().map(OsString::from).collect()
    }

    #[test]
    fn the_socket_on_the_line_wins() {
        let line = [
            "aoctl",
            "--",
            "aoctl",
            "--socket",
            "/a",
            "--socket=/b",
            "get",
            "",
        ];
        assert_eq!(socket_path(words(&line)), PathBuf::from("/b"));
        let line = ["aoctl", "--", "aoctl", "get", "--socket", "/c", ""];
        assert_eq!(socket_path(words(&line)), PathBuf::from("/c"));
        // Still being typed: not a socket yet.
        let line = ["aoctl", "--", "aoctl", "--socket=/d", "get", "--socket"];
        assert_eq!(socket_path(words(&line)), PathBuf::from("/d"));
    }

    #[test]
    fn the_completion_tree_is_aoctls_without_hidden_commands() {
        let full = Cli::command();
        let tree = command();
        let names = |c: &clap::Command, hidden: bool| {
            c.get_subcommands()
                .filter(|s| hidden || !s.is_hide_set())
                .map(|s| s.get_name().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&tree, true), names(&full, false));
        assert!(names(&full, true).contains(&"hook".to_owned()));
        assert!(!names(&tree, true).contains(&"hook".to_owned()));
        let args = |c: &clap::Command| {
            c.get_arguments()
                .map(|a| a.get_id().to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(args(&tree), args(&full));
        // Only the root's hidden commands are left out: nothing deeper may be hidden.
        for sub in full.get_subcommands().filter(|s| !s.is_hide_set()) {
            assert!(
                sub.get_subcommands().all(|s| !s.is_hide_set()),
                "`{}` has a hidden subcommand the completions would offer",
                sub.get_name()
            );
        }
    }

    #[test]
    fn every_status_is_a_candidate() {
        let values: Vec<String> = statuses()
            .iter()
            .map(|c| c.get_value().to_string_lossy().into_owned())
            .collect();
        assert_eq!(values.len(), Status::ALL.len());
        assert!(values.contains(&"needs_input".to_owned()));
    }
}
