//! `aoctl spawn`: a new session. Without `-p`, the project is the git repository around the
//! current directory, registered on first use. `--cmd` is split like a shell would, but no
//! shell runs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ao_proto::{ProjectAddRequest, SessionView, SpawnRequest};
use clap::{Args, ValueEnum};
use clap_complete::engine::ArgValueCandidates;

use super::{QUICK, SLOW};
use crate::Global;
use crate::client::{self, CliError, Daemon, Result, ctx, exit};
use crate::complete;
use crate::render;

#[derive(Debug, Args)]
pub struct SpawnArgs {
    /// The project (default: the git repository you are in, registered on first use).
    #[arg(short, long, add = ArgValueCandidates::new(complete::projects))]
    project: Option<String>,
    /// The agent harness (`command`, `claude-code`, `codex`, or a configured name).
    #[arg(long, add = ArgValueCandidates::new(complete::agents))]
    agent: Option<String>,
    /// For the `command` agent: the program and its arguments, split like a shell would
    /// (no shell runs).
    #[arg(long = "cmd", value_name = "PROGRAM ARGS…")]
    command: Option<String>,
    /// The branch to work on (default `ao/<session id>`).
    #[arg(long)]
    branch: Option<String>,
    /// An issue reference, exported as AO_ISSUE_ID.
    #[arg(long)]
    issue: Option<String>,
    /// The agent's model.
    #[arg(long)]
    model: Option<String>,
    /// The agent's permission mode.
    #[arg(long, value_enum)]
    permission_mode: Option<PermissionMode>,
    /// A variable for the agent, KEY=VALUE (repeatable; wins over --env-file and the project's
    /// env). The agent gets no other variable of yours but PATH.
    #[arg(long = "env", value_name = "KEY=VALUE")]
    env: Vec<String>,
    /// Variables for the agent from a dotenv file (KEY=VALUE lines, # comments, quotes).
    #[arg(long, value_name = "FILE")]
    env_file: Option<PathBuf>,
    /// Print the session as JSON.
    #[arg(long)]
    json: bool,
    /// The task for the agent.
    prompt: Vec<String>,
}

/// The permission modes a spawn may ask for; the daemon takes clap's spelling of each
/// (`accept-edits`).
#[derive(Debug, Clone, Copy, ValueEnum)]
enum PermissionMode {
    Default,
    AcceptEdits,
    Auto,
    BypassPermissions,
}

pub async fn run(global: &Global, args: SpawnArgs) -> Result<u8> {
    let command = args.command.as_deref().map(split_command).transpose()?;
    let agent = args
        .agent
        .or_else(|| command.as_ref().map(|_| "command".to_owned()));
    let daemon = client::connect(global).await?;
    let project = match args.project {
        Some(p) => p,
        None => project_for_cwd(&daemon, agent.as_deref()).await?,
    };
    let env = agent_env(args.env_file.as_deref(), &args.env)?;
    let prompt = (!args.prompt.is_empty()).then(|| args.prompt.join(" "));
    let request = SpawnRequest {
        project,
        agent,
        command,
        branch: args.branch,
        issue: args.issue,
        prompt,
        model: args.model,
        permission_mode: args
            .permission_mode
            .and_then(|m| m.to_possible_value())
            .map(|v| v.get_name().to_owned()),
        request_id: Some(uuid::Uuid::new_v4().to_string()),
        parent: std::env::var("AO_SESSION_ID")
            .ok()
            .filter(|id| !id.is_empty()),
        env,
        path: std::env::var("PATH").ok(),
    };
    let (session, cancel_too_late) = spawn_watched(&daemon, request).await?;
    render::json_or(args.json, &session, render::session);
    if cancel_too_late {
        eprintln!(
            "aoctl: the cancel came too late: {id} had already started; `aoctl kill {id}` stops it",
            id = session.id
        );
        return Ok(exit::INTERRUPTED);
    }
    Ok(exit::OK)
}

/// How often the spinner asks the daemon where the spawn is.
const PROGRESS_POLL: std::time::Duration = std::time::Duration::from_millis(200);

/// Runs the spawn while showing its step on a spinner (when stderr is a terminal). The first
/// Ctrl-C asks the daemon to cancel it: the spawn then rolls back and fails with exit 130. A
/// second Ctrl-C stops waiting (the daemon finishes the rollback on its own). Returns the
/// session and whether a cancel was asked for that came too late (the spawn had finished).
async fn spawn_watched(daemon: &Daemon, request: SpawnRequest) -> Result<(SessionView, bool)> {
    let request_id = request.request_id.clone().unwrap_or_default();
    // One listener for the whole wait: a Ctrl-C that comes while a progress call is out is
    // seen at the next turn, not lost.
    let mut interrupts = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .map_err(|e| CliError::failed("cannot listen for Ctrl-C").because(e))?;
    let spinner = render::Spinner::on_terminal("spawning");
    let spawn = spawn_with_retry(daemon, request);
    tokio::pin!(spawn);
    let mut poll = tokio::time::interval(PROGRESS_POLL);
    let mut cancel_asked = false;
    loop {
        tokio::select! {
            done = &mut spawn => {
                spinner.finish();
                return match done {
                    Ok(session) => Ok((session, cancel_asked)),
                    Err(e) if e.kind.as_deref() == Some("SpawnCancelled") => {
                        Err(CliError::new(exit::INTERRUPTED, e.message))
                    }
                    Err(e) => Err(e),
                };
            }
            _ = poll.tick(), if spinner.is_shown() => {
                spinner.tick();
                if !cancel_asked
                    && let Ok(Ok(Some(progress))) =
                        daemon.client.spawn_progress(ctx(QUICK), request_id.clone()).await
                {
                    let who = progress.session.unwrap_or_else(|| "spawn".to_owned());
                    spinner.set(&format!("{who}: {}", progress.step));
                }
            }
            _ = interrupts.recv() => {
                if cancel_asked {
                    spinner.finish();
                    return Err(CliError::new(
                        exit::INTERRUPTED,
                        "stopped waiting; the daemon finishes rolling the spawn back \
                         (`aoctl ls --all` shows it)",
                    ));
                }
                cancel_asked = true;
                spinner.set("cancelling: rolling the spawn back (Ctrl-C again to stop waiting)");
                if !spinner.is_shown() {
                    eprintln!("aoctl: cancelling the spawn: rolling it back…");
                }
                let asked = daemon.client.spawn_cancel(ctx(QUICK), request_id.clone()).await;
                if !matches!(asked, Ok(Ok(_))) {
                    eprintln!("aoctl: could not reach the daemon to cancel the spawn; waiting for it");
                }
            }
        }
    }
}

/// The agent's variables: `--env-file`'s, then each `--env KEY=VALUE` over them.
fn agent_env(file: Option<&Path>, pairs: &[String]) -> Result<BTreeMap<String, String>> {
    let mut env = BTreeMap::new();
    if let Some(file) = file {
        let entries = dotenvy::from_path_iter(file)
            .map_err(|e| CliError::usage(format!("--env-file {}: {e}", file.display())))?;
        for entry in entries {
            let (key, value) = entry
                .map_err(|e| CliError::usage(format!("--env-file {}: {e}", file.display())))?;
            env.insert(key, value);
        }
    }
    for pair in pairs {
        let Some((key, value)) = pair.split_once('=').filter(|(k, _)| !k.is_empty()) else {
            return Err(CliError::usage(format!(
                "--env {pair:?}: expected KEY=VALUE"
            )));
        };
        env.insert(key.to_owned(), value.to_owned());
    }
    Ok(env)
}

/// `--cmd`'s text as argv.
fn split_command(text: &str) -> Result<Vec<String>> {
    let argv = shell_words::split(text).map_err(|e| CliError::usage(format!("--cmd: {e}")))?;
    if argv.is_empty() {
        return Err(CliError::usage("--cmd is empty"));
    }
    Ok(argv)
}

/// A spawn whose call timed out is retried once with the same request id: the daemon returns
/// the session the first call made, never a second one.
async fn spawn_with_retry(daemon: &Daemon, request: SpawnRequest) -> Result<SessionView> {
    match daemon.client.spawn(ctx(SLOW), request.clone()).await {
        Err(tarpc::client::RpcError::DeadlineExceeded) => {
            Ok(daemon.client.spawn(ctx(SLOW), request).await??)
        }
        other => Ok(other??),
    }
}

/// The project of the git repository around the current directory, registered on first use.
/// Inside a linked worktree (an agent's own session) that is its main repository's project.
async fn project_for_cwd(daemon: &Daemon, agent: Option<&str>) -> Result<String> {
    let out = std::process::Command::new("git")
        .args([
            "rev-parse",
            "--path-format=absolute",
            "--show-toplevel",
            "--git-common-dir",
        ])
        .stderr(std::process::Stdio::null())
        .output()
        .map_err(|e| CliError::usage("no -p given and git could not be run").because(e))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines().map(str::trim);
    let (Some(top), Some(common_dir), true) = (lines.next(), lines.next(), out.status.success())
    else {
        return Err(CliError::usage(
            "no -p given and the current directory is not inside a git repository",
        ));
    };
    let top = ao_core::domain::main_worktree(Path::new(top), Path::new(common_dir));
    let top = top.canonicalize().unwrap_or(top);
    let projects = daemon.client.project_list(ctx(QUICK)).await??;
    if let Some(p) = projects.iter().find(|p| {
        let repo = PathBuf::from(&p.repo_path);
        repo.canonicalize().unwrap_or(repo) == top
    }) {
        return Ok(p.id.clone());
    }
    let base = top
        .file_name()
        .and_then(|n| ao_core::domain::ProjectId::sanitize(&n.to_string_lossy()))
        .ok_or_else(|| {
            CliError::usage("cannot derive a project name from this repository; use -p")
        })?;
    let taken: Vec<&str> = projects.iter().map(|p| p.id.as_str()).collect();
    let name = std::iter::once(base.to_string())
        .chain((2..).map(|n| format!("{base}-{n}")))
        .find(|candidate| !taken.contains(&candidate.as_str()))
        .expect("an unbounded sequence has a free name");
    let request = ProjectAddRequest {
        name,
        repo_path: top.display().to_string(),
        base_branch: None,
        default_agent: agent.map(str::to_owned),
        symlinks: vec![],
        copies: vec![],
        post_create: vec![],
        env: vec![],
        exclude: vec![],
    };
    let project = daemon.client.project_add(ctx(QUICK), request).await??;
    render::project_registered(&project);
    Ok(project.id)
}
