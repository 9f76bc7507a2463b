//! The desktop sink: `notify-send --app-name=ao --urgency=<u> <title> <message>`, enabled only
//! when `notify-send` is on PATH at start; 5 s timeout.

use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::{Sink, SinkError};
use crate::process::{CommandRunner, CommandSpec};
use ao_core::domain::{NotifyEvent, Priority};

/// Deadline of one `notify-send`.
pub const DESKTOP_TIMEOUT: Duration = Duration::from_secs(5);

/// The arguments after the program: urgency `critical` for urgent, `normal` for action and
/// warning, `low` for info; title `ao: <session> <type without "reaction.">`.
pub fn desktop_argv(event: &NotifyEvent) -> Vec<String> {
    let urgency = match event.priority {
        Priority::Urgent => "critical",
        Priority::Action | Priority::Warning => "normal",
        Priority::Info => "low",
    };
    let kind = event
        .event_type
        .strip_prefix("reaction.")
        .unwrap_or(&event.event_type);
    vec![
        "--app-name=ao".to_owned(),
        format!("--urgency={urgency}"),
        format!("ao: {} {kind}", event.session_id),
        event.message.clone(),
    ]
}

/// Desktop notifications through `notify-send`.
#[derive(Debug)]
pub struct DesktopSink {
    program: PathBuf,
    runner: Arc<dyn CommandRunner>,
}

impl DesktopSink {
    /// The sink, when an executable `notify-send` is on `path` (a `PATH` value).
    pub fn find(path: Option<&OsStr>, runner: Arc<dyn CommandRunner>) -> Option<Self> {
        let program = std::env::split_paths(path?)
            .map(|dir| dir.join("notify-send"))
            .find(|p| {
                std::fs::metadata(p)
                    .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            })?;
        Some(Self { program, runner })
    }
}

#[async_trait]
impl Sink for DesktopSink {
    fn kind(&self) -> &'static str {
        "desktop"
    }

    async fn deliver(&self, event: &NotifyEvent) -> Result<(), SinkError> {
        let spec = CommandSpec::new(&self.program, DESKTOP_TIMEOUT).args(desktop_argv(event));
        let out = self
            .runner
            .run(&spec)
            .await
            .map_err(|e| SinkError(e.to_string()))?;
        if out.success() {
            Ok(())
        } else {
            Err(SinkError(format!(
                "`{}` exited with {:?}: {}",
                spec.display(),
                out.code,
                out.combined()
            )))
        }
    }
}
