//! `aoctl doctor`: the configuration file (checked by `aod --check-config`, so it needs no
//! daemon), the data directory and the daemon in use, then the daemon's own checks of tmux, git,
//! the socket, the store and the agent CLIs. Exit code 1 when a check fails; warnings (an agent
//! CLI that is not installed, a daemon running with other settings or an older configuration)
//! do not fail it. An invalid configuration is reported without starting a daemon.

use std::path::Path;

use ao_proto::{Check, ConnectError, Pong};
use clap::Args;

use super::QUICK;
use crate::Global;
use crate::client::{self, CliError, ConfigCheck, Result, ctx, exit};
use crate::render;

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

fn check(name: &str, ok: bool, warning: bool, detail: String) -> Check {
    Check {
        name: name.to_owned(),
        ok,
        warning,
        detail,
    }
}

pub async fn run(global: &Global, args: DoctorArgs) -> Result<u8> {
    let config = client::check_config(global).await;
    let mut checks = vec![config_line(&config)];
    // Only a configuration known to be invalid keeps doctor from starting a daemon (one that
    // could not be checked is reported, and the start says why it fails, if it does).
    let config_invalid = matches!(&config, Ok(c) if !c.ok);
    match reach_daemon(global, config_invalid).await {
        Ok(daemon) => {
            let pong = daemon.client.ping(ctx(QUICK)).await?;
            checks.push(check("data dir", true, false, pong.data_dir.clone()));
            checks.push(daemon_line(global, &pong));
            checks.extend(daemon.client.doctor(ctx(QUICK)).await?);
        }
        Err(e) => {
            if let Ok(ConfigCheck {
                data_dir: Some(dir),
                ..
            }) = &config
            {
                checks.push(check("data dir", true, false, dir.display().to_string()));
            }
            checks.push(check("daemon", false, false, e.message));
        }
    }
    render::json_or(args.json, checks.as_slice(), render::doctor_checks);
    Ok(if checks.iter().all(|c| c.ok) {
        exit::OK
    } else {
        exit::FAILED
    })
}

/// The configuration file as a start would read it.
fn config_line(config: &Result<ConfigCheck>) -> Check {
    match config {
        Ok(c) if c.ok => {
            let file = c.config_file.display();
            let detail = if c.config_file_found == Some(false) {
                format!("{file} (not found: every default applies)")
            } else {
                format!("{file} (valid)")
            };
            check("config", true, false, detail)
        }
        Ok(c) => check(
            "config",
            false,
            false,
            c.error.clone().unwrap_or_else(|| "invalid".into()),
        ),
        Err(e) => check("config", false, false, e.message.clone()),
    }
}

/// The daemon that answers on the socket; started (unless `--no-autostart`) only when the
/// configuration is not invalid: an invalid one would stop it at start anyway.
async fn reach_daemon(global: &Global, config_invalid: bool) -> Result<client::Daemon> {
    let socket = global.socket_path();
    match ao_proto::connect(&socket, QUICK).await {
        Ok(client) => Ok(client::Daemon { client }),
        Err(ConnectError::Untrusted(e)) => Err(client::untrusted(e)),
        Err(e) if global.no_autostart || config_invalid => {
            let why = if config_invalid {
                "(not started: the configuration is invalid)"
            } else {
                "(start it with `aoctl daemon start`)"
            };
            Err(CliError::new(
                exit::UNREACHABLE,
                format!("no daemon answers on {} {why}", socket.display()),
            )
            .because(e))
        }
        Err(_) => client::connect(global).await,
    }
}

/// Who answered: a warning when it runs with another data directory or configuration file
/// than this CLI was given, or when its configuration file changed after it started.
fn daemon_line(global: &Global, pong: &Pong) -> Check {
    let mut detail = format!(
        "aod {} (pid {}) on {}, since {}, read {}",
        pong.version,
        pong.pid,
        pong.socket,
        pong.started_at,
        pong.config_file
            .as_deref()
            .unwrap_or("an unknown configuration file")
    );
    let mut warnings = client::other_settings(global, pong);
    if let Some(file) = &pong.config_file
        && changed_since(Path::new(file), &pong.started_at)
    {
        warnings.push(format!(
            "{file} changed after the daemon started: `aoctl daemon restart` applies it"
        ));
    }
    for warning in &warnings {
        detail.push_str("; ");
        detail.push_str(warning);
    }
    check("daemon", true, !warnings.is_empty(), detail)
}

/// Whether `file` was modified after the RFC 3339 time `since`.
fn changed_since(file: &Path, since: &str) -> bool {
    let Ok(since) = chrono::DateTime::parse_from_rfc3339(since) else {
        return false;
    };
    std::fs::metadata(file)
        .and_then(|m| m.modified())
        .is_ok_and(|modified| chrono::DateTime::<chrono::Utc>::from(modified) > since)
}
