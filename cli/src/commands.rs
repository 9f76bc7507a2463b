//! One function per command: build the request, call the daemon, print the reply.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use ao_proto::{
    CleanupRequest, EventsRequest, KillReply, KillRequest, ListRequest, ProjectAddRequest,
    SendRequest, SessionView, SpawnRequest, TailRequest, WaitRequest,
};

use crate::client::{self, CliError, Daemon, Result, ctx, exit};
use crate::render;
use crate::{Cli, Command, DaemonCommand, Global, ProjectCommand};

/// Deadline of quick calls.
const QUICK: Duration = Duration::from_secs(30);
/// Deadline of a spawn, restore or cleanup (worktree creation and post-create commands can be
/// slow on big repositories).
const SLOW: Duration = Duration::from_secs(15 * 60);
/// Server-side wait of one long-poll call.
const POLL_WAIT: Duration = Duration::from_secs(25);
/// How long `send` waits for delivery by default.
const SEND_WAIT: Duration = Duration::from_secs(60);

pub async fn run(cli: Cli) -> Result<u8> {
    let global = cli.global;
    match cli.command {
        Command::Spawn {
            project,
            agent,
            command,
            branch,
            issue,
            model,
            permission_mode,
            json,
            prompt,
        } => {
            let command = command
                .map(|text| {
                    shell_words::split(&text)
                        .map_err(|e| CliError::usage(format!("--cmd: {e}")))
                        .and_then(|argv| {
                            if argv.is_empty() {
                                Err(CliError::usage("--cmd is empty"))
                            } else {
                                Ok(argv)
                            }
                        })
                })
                .transpose()?;
            let agent = agent.or_else(|| command.as_ref().map(|_| "command".to_owned()));
            let daemon = client::connect(&global).await?;
            let project = match project {
                Some(p) => p,
                None => project_for_cwd(&daemon, agent.as_deref()).await?,
            };
            let prompt = (!prompt.is_empty()).then(|| prompt.join(" "));
            let request = SpawnRequest {
                project,
                agent,
                command,
                branch,
                issue,
                prompt,
                model,
                permission_mode: permission_mode.map(|m| m.as_str().to_owned()),
                request_id: Some(uuid::Uuid::new_v4().to_string()),
            };
            let session = spawn_with_retry(&daemon, request).await?;
            if json {
                render::json(&session);
            } else {
                render::sessions(std::slice::from_ref(&session));
            }
            Ok(exit::OK)
        }
        Command::Ls {
            project,
            all,
            json,
            watch,
        } => {
            let daemon = client::connect(&global).await?;
            let request = ListRequest { project, all };
            loop {
                let sessions = daemon.client.list(ctx(QUICK), request.clone()).await??;
                if json {
                    render::json(&sessions);
                } else {
                    if watch && std::io::stdout().is_terminal() {
                        print!("\u{1b}[2J\u{1b}[H");
                    }
                    if sessions.is_empty() {
                        println!(
                            "no sessions{}",
                            if all { "" } else { " (--all shows ended ones)" }
                        );
                    } else {
                        render::sessions(&sessions);
                    }
                }
                if !watch {
                    return Ok(exit::OK);
                }
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
        Command::Get { id, json } => {
            let daemon = client::connect(&global).await?;
            let session = daemon.client.get(ctx(QUICK), id).await??;
            if json {
                render::json(&session);
            } else {
                render::session_detail(&session);
            }
            Ok(exit::OK)
        }
        Command::Kill { id, preserve, json } => {
            let daemon = client::connect(&global).await?;
            let reply = daemon
                .client
                .kill(ctx(SLOW), KillRequest { id, preserve })
                .await??;
            if json {
                render::json(&reply);
                return Ok(exit::OK);
            }
            print_kill(&reply);
            Ok(exit::OK)
        }
        Command::Send {
            id,
            message,
            file,
            no_wait,
            json,
        } => {
            let mut text = match file {
                Some(path) => read_message_file(&path)?,
                None if message.is_empty() => {
                    return Err(CliError::usage("give a message or --file"));
                }
                None => message.join(" "),
            };
            if let Ok(from) = std::env::var("AO_SESSION_ID")
                && !from.is_empty()
            {
                text = format!("[from {from}] {text}");
            }
            if text.len() > ao_proto::MAX_MESSAGE_BYTES {
                return Err(CliError::usage(format!(
                    "the message is {} bytes; the limit is {}",
                    text.len(),
                    ao_proto::MAX_MESSAGE_BYTES
                )));
            }
            let daemon = client::connect(&global).await?;
            let wait = (!no_wait).then_some(SEND_WAIT);
            let reply = daemon
                .client
                .send(
                    ctx(wait.unwrap_or(Duration::ZERO) + QUICK),
                    SendRequest {
                        id,
                        message: text,
                        wait_ms: wait.map(|w| w.as_millis() as u64),
                    },
                )
                .await??;
            if json {
                render::json(&reply);
            } else {
                match reply.state.as_str() {
                    "acknowledged" => {
                        println!("delivered to {} (the agent confirmed it)", reply.id)
                    }
                    "injected" => println!("typed into {}", reply.id),
                    _ => println!(
                        "queued for {} (it will be typed once the agent is not busy)",
                        reply.id
                    ),
                }
            }
            Ok(exit::OK)
        }
        Command::Tail { id, lines, follow } => {
            let daemon = client::connect(&global).await?;
            tail(&daemon, id, lines, follow).await
        }
        Command::Restore { id, json } => {
            let daemon = client::connect(&global).await?;
            let session = daemon.client.restore(ctx(SLOW), id).await??;
            if json {
                render::json(&session);
            } else {
                render::sessions(std::slice::from_ref(&session));
            }
            Ok(exit::OK)
        }
        Command::Cleanup {
            project,
            dry_run,
            preserve,
            json,
        } => {
            let daemon = client::connect(&global).await?;
            let reply = daemon
                .client
                .cleanup(
                    ctx(SLOW),
                    CleanupRequest {
                        project,
                        preserve,
                        dry_run,
                    },
                )
                .await??;
            if json {
                render::json(&reply);
                return Ok(exit::OK);
            }
            let verb = if dry_run {
                "would move to trash"
            } else {
                "moved to trash"
            };
            let mut rows: Vec<Vec<String>> = reply
                .cleaned
                .iter()
                .map(|id| {
                    let detail = reply
                        .retired
                        .iter()
                        .find(|r| &r.id == id)
                        .map(retired_detail)
                        .unwrap_or_default();
                    vec![id.clone(), verb.to_owned(), detail]
                })
                .collect();
            rows.extend(
                reply
                    .skipped
                    .iter()
                    .map(|s| vec![s.id.clone(), "skipped".to_owned(), s.reason.clone()]),
            );
            if rows.is_empty() {
                println!("nothing to clean up");
            } else {
                render::table(&["ID", "RESULT", "DETAIL"], rows);
            }
            Ok(exit::OK)
        }
        Command::Trash { command } => crate::trash::run(&global, command).await,
        Command::Attach { id } => {
            let daemon = client::connect(&global).await?;
            let reply = daemon.client.attach(ctx(QUICK), id).await??;
            crate::attach::exec(&global, &reply)
        }
        Command::Events {
            follow,
            since,
            session,
            json,
        } => {
            let daemon = client::connect(&global).await?;
            events(&daemon, since, session, follow, json).await
        }
        Command::Wait {
            ids,
            status,
            any,
            timeout,
            json,
        } => {
            let daemon = client::connect(&global).await?;
            wait(&daemon, ids, status, any, timeout.map(Into::into), json).await
        }
        Command::Project { command } => project(&global, command).await,
        Command::Daemon { command } => daemon_command(&global, command).await,
        Command::Doctor { json } => doctor(&global, json).await,
        Command::Completions { .. } | Command::Hook { .. } => {
            unreachable!("handled before the runtime starts")
        }
    }
}

/// A spawn whose call timed out is retried once with the same request id: the daemon returns
/// the session the first call made, never a second one.
/// What a kill did, in sentences: where the worktree went and what keeps the work.
fn print_kill(reply: &KillReply) {
    let id = &reply.id;
    match (
        &reply.trash_path,
        reply.workspace_freed,
        &reply.workspace_error,
    ) {
        (Some(trash), true, _) => {
            println!("killed {id}; worktree moved to the trash: {trash}");
            println!(
                "  `aoctl trash restore {id}` puts it back; `aoctl restore {id}` relaunches the agent there"
            );
        }
        (None, true, _) => println!("killed {id}; its worktree was already gone"),
        (_, false, Some(why)) => {
            println!(
                "killed {id}; worktree kept at {}: {}",
                reply.workspace_path.as_deref().unwrap_or("(unknown path)"),
                why.message
            );
            if why.kind == "Dirty" {
                println!(
                    "  `aoctl kill {id} --preserve` stashes tracked and untracked changes into \
                     refs/ao/preserved/{id} and moves the worktree to the trash"
                );
            }
        }
        (_, false, None) => println!("{id} was not found; nothing to do"),
    }
    if let Some(reference) = &reply.preserved_ref {
        println!("  uncommitted work saved in {reference}");
    }
    if let Some(reference) = &reply.detached_ref {
        println!("  commits on its detached HEAD kept in {reference}");
    }
    if !reply.nested_repos.is_empty() {
        println!(
            "  nested repositories (not in the preserved ref; their files are in the trash): {}",
            reply.nested_repos.join(", ")
        );
    }
    for leftover in &reply.leftovers {
        println!("  note: {leftover}");
    }
}

/// The DETAIL cell of a cleaned session: where its worktree went and what keeps its work.
fn retired_detail(retired: &ao_proto::RetiredView) -> String {
    let mut parts = vec![];
    if let Some(path) = &retired.trash_path {
        parts.push(path.clone());
    }
    if let Some(reference) = &retired.preserved_ref {
        parts.push(format!("work saved in {reference}"));
    }
    if let Some(reference) = &retired.detached_ref {
        parts.push(format!("commits kept in {reference}"));
    }
    if !retired.nested_repos.is_empty() {
        parts.push(format!("nested repos: {}", retired.nested_repos.join(",")));
    }
    parts.join("; ")
}

async fn spawn_with_retry(daemon: &Daemon, request: SpawnRequest) -> Result<SessionView> {
    match daemon.client.spawn(ctx(SLOW), request.clone()).await {
        Err(tarpc::client::RpcError::DeadlineExceeded) => {
            Ok(daemon.client.spawn(ctx(SLOW), request).await??)
        }
        other => Ok(other??),
    }
}

fn read_message_file(path: &Path) -> Result<String> {
    let mut text = String::new();
    let read = if path == Path::new("-") {
        std::io::stdin().read_to_string(&mut text).map(|_| ())
    } else {
        std::fs::read_to_string(path).map(|t| text = t)
    };
    read.map_err(|e| CliError::usage(format!("reading {}", path.display())).because(e))?;
    Ok(text)
}

/// The project of the git repository around the current directory, registered on first use.
async fn project_for_cwd(daemon: &Daemon, agent: Option<&str>) -> Result<String> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "--show-toplevel"])
        .stderr(std::process::Stdio::null())
        .output()
        .map_err(|e| CliError::usage("no -p given and git could not be run").because(e))?;
    if !out.status.success() {
        return Err(CliError::usage(
            "no -p given and the current directory is not inside a git repository",
        ));
    }
    let top = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
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
    };
    let project = daemon.client.project_add(ctx(QUICK), request).await??;
    eprintln!(
        "registered project {} for {}",
        project.id, project.repo_path
    );
    Ok(project.id)
}

/// Prints output, stripped of terminal control sequences (a TUI's redraws would scramble the
/// reader's terminal).
fn print_output(text: &str) {
    let clean = render::strip_terminal_codes(text);
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(clean.as_bytes());
    let _ = out.flush();
}

async fn tail(daemon: &Daemon, id: String, lines: u32, follow: bool) -> Result<u8> {
    let first = daemon
        .client
        .tail(
            ctx(QUICK),
            TailRequest {
                id: id.clone(),
                cursor: None,
                lines: Some(lines),
                wait_ms: 0,
            },
        )
        .await??;
    print_output(&first.text);
    if !first.text.is_empty() && !first.text.ends_with('\n') {
        println!();
    }
    let mut cursor = first.next;
    let mut live = first.live;
    while follow && live {
        let reply = daemon
            .client
            .tail(
                ctx(POLL_WAIT + QUICK),
                TailRequest {
                    id: id.clone(),
                    cursor: Some(cursor),
                    lines: None,
                    wait_ms: POLL_WAIT.as_millis() as u64,
                },
            )
            .await??;
        if reply.start > cursor {
            eprintln!(
                "aoctl: [{} bytes of older output were trimmed]",
                reply.start - cursor
            );
        }
        print_output(&reply.text);
        cursor = reply.next;
        live = reply.live || !reply.text.is_empty();
    }
    Ok(exit::OK)
}

fn print_event(e: &ao_proto::EventView, json: bool) {
    if json {
        println!("{}", serde_json::to_string(e).unwrap_or_default());
        return;
    }
    let state = |axis: &str| {
        e.payload["record"]["lifecycle"][axis]["state"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    };
    println!(
        "{:>6}  {}  {:<12} {:<26} session={} pr={} runtime={}",
        e.seq,
        e.created_at,
        e.session_id,
        e.event_type,
        state("session"),
        state("pr"),
        state("runtime")
    );
}

async fn events(
    daemon: &Daemon,
    since: i64,
    session: Option<String>,
    follow: bool,
    json: bool,
) -> Result<u8> {
    let mut after = since;
    let mut collected = vec![];
    loop {
        let wait = if follow { POLL_WAIT } else { Duration::ZERO };
        let page = daemon
            .client
            .events(
                ctx(wait + QUICK),
                EventsRequest {
                    after,
                    limit: 512,
                    session: session.clone(),
                    wait_ms: wait.as_millis() as u64,
                },
            )
            .await??;
        if page.truncated && after == since && since > 0 {
            eprintln!("aoctl: events before the oldest kept one were pruned");
        }
        let empty = page.events.is_empty();
        after = page.next;
        if follow {
            for e in &page.events {
                print_event(e, json);
            }
            continue;
        }
        collected.extend(page.events);
        if empty {
            break;
        }
    }
    if json {
        render::json(&collected);
    } else {
        for e in &collected {
            print_event(e, false);
        }
    }
    Ok(exit::OK)
}

async fn wait(
    daemon: &Daemon,
    ids: Vec<String>,
    statuses: Vec<String>,
    any: bool,
    timeout: Option<Duration>,
    json: bool,
) -> Result<u8> {
    let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
    loop {
        let remaining = deadline.map_or(POLL_WAIT, |d| {
            d.saturating_duration_since(tokio::time::Instant::now())
                .min(POLL_WAIT)
        });
        let reply = daemon
            .client
            .wait_for_status(
                ctx(remaining + QUICK),
                WaitRequest {
                    ids: ids.clone(),
                    statuses: statuses.clone(),
                    any,
                    wait_ms: remaining.as_millis() as u64,
                },
            )
            .await??;
        let timed_out = deadline.is_some_and(|d| tokio::time::Instant::now() >= d);
        if reply.reached || timed_out {
            if json {
                render::json(&reply);
            } else {
                render::sessions(&reply.sessions);
            }
            if reply.reached {
                return Ok(exit::OK);
            }
            return Err(CliError::failed(format!(
                "timed out waiting for {}",
                statuses.join(",")
            )));
        }
    }
}

async fn project(global: &Global, command: ProjectCommand) -> Result<u8> {
    let daemon = client::connect(global).await?;
    match command {
        ProjectCommand::Add {
            name,
            repo_path,
            base,
            agent,
            symlink,
            copy,
            post_create,
            json,
        } => {
            let post_create = post_create
                .iter()
                .map(|c| {
                    shell_words::split(c).map_err(|e| {
                        CliError::usage(format!("--post-create {}: {e}", ao_core::domain::quote(c)))
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            let repo = std::path::absolute(&repo_path).unwrap_or(repo_path);
            let project = daemon
                .client
                .project_add(
                    ctx(QUICK),
                    ProjectAddRequest {
                        name,
                        repo_path: repo.display().to_string(),
                        base_branch: base,
                        default_agent: agent,
                        symlinks: symlink,
                        copies: copy,
                        post_create,
                        env: vec![],
                    },
                )
                .await??;
            if json {
                render::json(&project);
            } else {
                println!("added project {} ({})", project.id, project.repo_path);
            }
        }
        ProjectCommand::Ls { json } => {
            let projects = daemon.client.project_list(ctx(QUICK)).await??;
            if json {
                render::json(&projects);
            } else if projects.is_empty() {
                println!("no projects (add one with `aoctl project add NAME REPO_PATH`)");
            } else {
                let rows = projects
                    .iter()
                    .map(|p| {
                        vec![
                            p.id.clone(),
                            p.repo_path.clone(),
                            p.default_agent.clone().unwrap_or_else(|| "-".into()),
                            p.base_branch.clone().unwrap_or_else(|| "-".into()),
                        ]
                    })
                    .collect();
                render::table(&["NAME", "REPOSITORY", "AGENT", "BASE"], rows);
            }
        }
        ProjectCommand::Rm { name } => {
            if daemon
                .client
                .project_remove(ctx(QUICK), name.clone())
                .await??
            {
                println!("removed project {name}");
            } else {
                return Err(CliError::new(
                    exit::NOT_FOUND,
                    format!("project {name} not found"),
                ));
            }
        }
    }
    Ok(exit::OK)
}

async fn daemon_command(global: &Global, command: DaemonCommand) -> Result<u8> {
    let socket = global.socket_path();
    let running = match ao_proto::connect(&socket, Duration::from_secs(2)).await {
        Ok(c) => c.ping(ctx(Duration::from_secs(5))).await.ok(),
        Err(ao_proto::ConnectError::Untrusted(e)) => return Err(client::untrusted(e)),
        Err(ao_proto::ConnectError::Unreachable { .. }) => None,
    };
    match command {
        DaemonCommand::Start => match running {
            Some(pong) => println!("aod already running (pid {}) on {}", pong.pid, pong.socket),
            None => {
                let pid = client::start_daemon(global).await?;
                println!("aod started (pid {pid}) on {}", socket.display());
            }
        },
        DaemonCommand::Stop => {
            let Some(pong) = running else {
                println!("aod is not running");
                return Ok(exit::OK);
            };
            let client = ao_proto::connect(&socket, Duration::from_secs(2))
                .await
                .map_err(|e| match e {
                    ao_proto::ConnectError::Untrusted(e) => client::untrusted(e),
                    e => CliError::new(exit::UNREACHABLE, "lost the daemon").because(e),
                })?;
            match client.shutdown(ctx(QUICK)).await {
                Ok(reply) => reply?,
                // A daemon may exit before its reply is written; the socket's removal below is
                // the proof that it stopped.
                Err(tarpc::client::RpcError::Shutdown) => {}
                Err(e) => return Err(e.into()),
            }
            // Hang up so the daemon is not left waiting for this connection to close.
            drop(client);
            let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
            while socket.exists() && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            if socket.exists() {
                return Err(CliError::failed(format!(
                    "aod (pid {}) did not stop within 20s",
                    pong.pid
                )));
            }
            println!("aod stopped (pid {}); sessions keep running", pong.pid);
        }
        DaemonCommand::Status { json } => match running {
            Some(pong) if json => render::json(&pong),
            Some(pong) => render::pairs(&[
                ("status", "running".into()),
                ("pid", pong.pid.to_string()),
                ("version", pong.version),
                ("socket", pong.socket),
                ("data dir", pong.data_dir),
                ("since", pong.started_at),
            ]),
            None => {
                return Err(CliError::new(
                    exit::UNREACHABLE,
                    format!("aod is not running (socket {})", socket.display()),
                ));
            }
        },
    }
    Ok(exit::OK)
}

async fn doctor(global: &Global, json: bool) -> Result<u8> {
    let daemon = client::connect(global).await?;
    let checks = daemon.client.doctor(ctx(QUICK)).await?;
    let all_ok = checks.iter().all(|c| c.ok);
    if json {
        render::json(&checks);
    } else {
        let rows = checks
            .iter()
            .map(|c| {
                vec![
                    if c.ok { "ok" } else { "FAIL" }.to_owned(),
                    c.name.clone(),
                    c.detail.clone(),
                ]
            })
            .collect();
        render::table(&["", "CHECK", "DETAIL"], rows);
    }
    Ok(if all_ok { exit::OK } else { exit::FAILED })
}
