//! The command sink: runs the configured argv (no shell) with the event JSON on stdin (then
//! closed) and `AO_EVENT_TYPE`, `AO_EVENT_PRIORITY`, `AO_SESSION_ID`, `AO_PROJECT_ID` in its
//! environment; killed after 10 s; a non-zero exit is reported with the first 1 KiB of stderr.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::{Sink, SinkError};
use crate::process::{CommandRunner, CommandSpec};
use ao_core::domain::NotifyEvent;

/// Deadline of one run.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);
/// Bytes of stderr reported for a failed run.
pub const STDERR_LOGGED: usize = 1024;

/// Runs a program per event.
#[derive(Debug)]
pub struct CommandSink {
    argv: Vec<String>,
    runner: Arc<dyn CommandRunner>,
}

impl CommandSink {
    /// `argv` is not empty (checked by `SinkSpec::validate`).
    pub fn new(argv: Vec<String>, runner: Arc<dyn CommandRunner>) -> Self {
        Self { argv, runner }
    }
}

#[async_trait]
impl Sink for CommandSink {
    fn kind(&self) -> &'static str {
        "command"
    }

    async fn deliver(&self, event: &NotifyEvent) -> Result<(), SinkError> {
        let Some((program, args)) = self.argv.split_first() else {
            return Err(SinkError("no program configured".to_owned()));
        };
        let json = serde_json::to_vec(event).map_err(|e| SinkError(e.to_string()))?;
        let spec = CommandSpec::new(program, COMMAND_TIMEOUT)
            .args(args)
            .stdin(json)
            .env("AO_EVENT_TYPE", &event.event_type)
            .env("AO_EVENT_PRIORITY", event.priority.as_str())
            .env("AO_SESSION_ID", event.session_id.as_str())
            .env("AO_PROJECT_ID", event.project_id.as_str());
        let out = self
            .runner
            .run(&spec)
            .await
            .map_err(|e| SinkError(e.to_string()))?;
        if out.success() {
            return Ok(());
        }
        let cut = &out.stderr[..out.stderr.len().min(STDERR_LOGGED)];
        Err(SinkError(format!(
            "`{}` exited with {}: {}",
            spec.display(),
            out.code
                .map_or_else(|| "a signal".to_owned(), |c| format!("status {c}")),
            String::from_utf8_lossy(cut).trim_end()
        )))
    }
}
