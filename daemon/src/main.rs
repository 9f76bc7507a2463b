//! `aod`, the ao daemon: hosts the lifecycle manager, the session manager and the reaper, and
//! serves `aoctl` over a Unix socket.
//!
//! This file is the start and shutdown order; everything it starts is built in `app` and served
//! by `server` through `rpc`, the tarpc face of `ao::service`. Start: 1. configuration (invalid
//! values fail fast); 2. logging; 3. the data directory and the single-instance lock; 4. the
//! socket path (a live socket means another daemon, a stale one is removed); 5. the tmux check;
//! 6. the store; 7. the adapters, LCM, SM, notifier and service; 8. boot reconcile; 9. the
//! background loops; 10. only then the socket. Shutdown: stop accepting, cancel every loop
//! before waiting for any (waiting first would deadlock), wait for the loops and the service's
//! mutations within the shutdown budget, close the store.
//!
//! Started in the background (`--log-file`), the daemon writes its start-up errors to stderr
//! as well as to the log, so the `aoctl` that started it can show them; once it serves, stderr
//! goes to the log file too (that `aoctl` stops reading). Exit codes: 0 stopped, 1 failed,
//! 2 invalid configuration, 3 another daemon already runs on this data directory or socket.
//! `--check-config` only resolves the configuration, prints it as JSON and exits 0 or 2.

mod app;
mod config;
mod convert;
mod rpc;
mod server;

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Parser;
use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{info, warn};

use crate::app::App;
use crate::config::{Config, Flags};
use crate::server::AlreadyRunning;

/// How long shutdown waits, after the drain, for clients to hang up, so replies in flight (the
/// answer to `shutdown` itself, a mutation that just finished) are written before the exit.
const REPLY_GRACE: Duration = Duration::from_secs(2);
/// A background log larger than this is rotated to `aod.log.1` at start.
const LOG_ROTATE_BYTES: u64 = 16 * 1024 * 1024;

fn main() -> ExitCode {
    // Everything the daemon creates (database, logs, worktrees, sockets) is private to its user.
    let user_umask = nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o077)).bits();
    return_large_allocations_to_the_system();
    let flags = Flags::parse();
    if flags.check_config {
        return check_config(flags);
    }
    let log_file = flags.log_file.clone();
    let config = match config::resolve(flags) {
        // Agents get the user's own mask back (their files are the user's work, not ao's data).
        Ok(config) => Config {
            pane_umask: user_umask,
            ..config
        },
        Err(e) => {
            eprintln!("aod: {e:#}");
            if let Some(path) = log_file {
                append_start_failure(&path, &e);
            }
            return ExitCode::from(2);
        }
    };
    if let Err(e) = init_logging(&config) {
        eprintln!("aod: {e:#}");
        return ExitCode::from(1);
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("aod: starting the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("aod: {e:#}");
            if e.chain().any(|cause| cause.is::<AlreadyRunning>()) {
                ExitCode::from(AlreadyRunning::EXIT_CODE)
            } else {
                ExitCode::from(1)
            }
        }
    }
}

/// `--check-config`: the configuration resolved exactly as a start resolves it, as one JSON
/// object on stdout; exit 0 when valid, 2 when not.
fn check_config(flags: Flags) -> ExitCode {
    let explicit = flags.config.clone();
    let report = match config::resolve(flags) {
        Ok(config) => serde_json::json!({
            "ok": true,
            "error": null,
            "config_file": config.config_file,
            "config_file_found": config.config_file_found,
            "data_dir": config.data_dir,
            "socket": config.socket,
        }),
        Err(e) => serde_json::json!({
            "ok": false,
            "error": format!("{e:#}"),
            "config_file": explicit.unwrap_or_else(ao_proto::paths::default_config_file),
            "config_file_found": null,
            "data_dir": null,
            "socket": null,
        }),
    };
    println!("{report}");
    if report["ok"] == true {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    }
}

/// A configuration that stops the start is recorded in the log file too (before logging is
/// set up, so by hand, in the same shape), for whoever reads the log instead of stderr.
fn append_start_failure(path: &Path, e: &anyhow::Error) {
    use std::io::Write;
    if let Some(dir) = path.parent()
        && server::private_dir(dir).is_err()
    {
        return;
    }
    let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    else {
        return;
    };
    let now = humantime::format_rfc3339_micros(std::time::SystemTime::now());
    let _ = writeln!(file, "{now} ERROR aod: not started: {e:#}");
}

/// From the moment the daemon serves, what reaches stderr (a panic, a program it runs that
/// inherits it) goes to the log file: the `aoctl` that read stderr during the start has let go.
fn stderr_to_log_file(path: &Path) -> Result<()> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening log file {}", path.display()))?;
    nix::unistd::dup2_stderr(&file)
        .with_context(|| format!("pointing stderr at {}", path.display()))?;
    Ok(())
}

/// Large allocations (request frames, replies) go straight to the system and back when freed.
/// glibc otherwise raises its mmap threshold to the largest block freed so far, and serves the
/// next ones from heaps it keeps: memory a burst of large requests took would never come back.
fn return_large_allocations_to_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters; called before any other thread runs.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

/// Logs go to stderr, or to `--log-file`; the level comes from `AO_LOG`, else `RUST_LOG`.
fn init_logging(config: &Config) -> Result<()> {
    let filter = std::env::var("AO_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info".to_owned());
    let filter = tracing_subscriber::EnvFilter::try_new(&filter)
        .with_context(|| format!("invalid log filter {}", ao::domain::quote(&filter)))?;
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match &config.log_file {
        Some(path) => {
            if let Some(dir) = path.parent() {
                server::private_dir(dir)?;
            }
            if std::fs::metadata(path).is_ok_and(|m| m.len() > LOG_ROTATE_BYTES) {
                let _ = std::fs::rename(path, path.with_extension("log.1"));
            }
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("opening log file {}", path.display()))?;
            builder
                .with_ansi(false)
                .with_writer(std::sync::Mutex::new(file))
                .init();
        }
        None => builder.with_writer(std::io::stderr).init(),
    }
    Ok(())
}

async fn run(config: Config) -> Result<()> {
    // 3. Data directory (private) and the single-instance lock.
    if let Some(mode) = server::secure_data_dir(&config.data_dir)? {
        warn!(
            data_dir = %config.data_dir.display(),
            was = format!("{mode:04o}"),
            "the data directory was open to other users; made it private (0700)"
        );
    }
    let _lock = server::lock_data_dir(&config.lock_path())?;
    // 4. A private socket directory; a live socket means another daemon, a stale one is
    //    replaced.
    server::secure_socket_dir(&config.socket)?;
    server::claim_socket_path(&config.socket).await?;
    // 5–8. tmux, store, adapters, boot reconcile.
    let socket = config.socket.clone();
    let shutdown_budget = config.shutdown_timeout;
    let log_file = config.log_file.clone();
    let limits = server::ServeLimits {
        max_connections: server::connection_cap(config.max_connections),
        idle_timeout: config.idle_timeout,
        frame_budget: ao_proto::FrameBudget::new(server::FRAME_BUDGET_BYTES),
    };
    let app = App::build(config).await?;
    // 9. Background loops.
    let loops_cancel = CancellationToken::new();
    let mut loops = app.start_loops(&loops_cancel);
    // 10. Serve.
    let listener = server::bind(&socket)?;
    if let Some(path) = &log_file
        && let Err(e) = stderr_to_log_file(path)
    {
        warn!("{e:#}; stderr stays where it was");
    }
    info!(socket = %socket.display(), pid = std::process::id(), "aod serving");
    let rpc = rpc::Rpc::new(app.clone());
    tokio::spawn(watch_signals(app.shutdown.clone()));
    let connections = TaskTracker::new();
    server::serve(listener, rpc, app.shutdown.clone(), &connections, limits).await;

    // Shutdown: stop accepting (done), cancel before waiting, then wait within the budget.
    info!("shutting down; sessions keep running");
    loops_cancel.cancel();
    let drained = tokio::time::timeout(shutdown_budget, async {
        while loops.join_next().await.is_some() {}
        app.service.finish_mutations().await;
    })
    .await;
    if drained.is_err() {
        warn!(budget = ?shutdown_budget, "shutdown budget spent; abandoning in-flight work (the next start repairs it)");
        loops.abort_all();
    }
    connections.close();
    if tokio::time::timeout(REPLY_GRACE, connections.wait())
        .await
        .is_err()
    {
        info!("clients still connected; closing their connections");
    }
    drop(app);
    remove_socket(&socket);
    info!("aod stopped");
    Ok(())
}

/// SIGINT and SIGTERM shut down; SIGHUP is ignored (the terminal that started us may close).
async fn watch_signals(shutdown: CancellationToken) {
    let (Ok(mut int), Ok(mut term), Ok(mut hup)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) else {
        warn!("installing signal handlers failed; stop the daemon with `aoctl daemon stop`");
        return;
    };
    loop {
        tokio::select! {
            _ = int.recv() => break,
            _ = term.recv() => break,
            _ = hup.recv() => continue,
        }
    }
    shutdown.cancel();
    // A second signal while draining means "now".
    tokio::select! {
        _ = int.recv() => {}
        _ = term.recv() => {}
    }
    warn!("second signal: exiting without waiting");
    tokio::time::sleep(Duration::from_millis(10)).await;
    std::process::exit(130);
}

fn remove_socket(path: &Path) {
    if let Err(e) = std::fs::remove_file(path)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        warn!(socket = %path.display(), error = %e, "removing the socket failed");
    }
}
