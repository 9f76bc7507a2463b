//! Notifiers: the `Notifier` port over the log sink (always on) and the configured sinks — desktop,
//! webhook, command — with priority routing.
//!
//! `notify` logs the event and appends it to the bounded FIFO (256 events) of every sink whose
//! `min_priority` it meets, then returns: it never waits for a sink. Each sink has one worker
//! draining its queue in order, so events reach a sink in the order they were produced; on
//! overflow the oldest queued event is dropped with a warning. A sink's failure is logged with
//! its kind and goes no further, so a broken or slow sink never blocks the lifecycle manager or
//! a reaction worker. After a failure the worker waits before its next delivery (100 ms doubling
//! to 30 s, reset by a success), and repeated failures and drops are logged once a minute.

mod command;
mod desktop;
mod webhook;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::process::CommandRunner;
use ao::backoff::{Backoff, RepeatedFailure};
use ao::ports::Notifier;
use ao_core::domain::{NotifyEvent, Priority};

pub use command::{COMMAND_TIMEOUT, CommandSink, STDERR_LOGGED};
pub use desktop::{DESKTOP_TIMEOUT, DesktopSink, desktop_argv};
pub use webhook::{WEBHOOK_RETRY_DELAYS, WEBHOOK_TIMEOUT, WebhookSink};

/// Events queued per sink before the oldest is dropped.
pub const SINK_QUEUE: usize = 256;

/// A sink could not deliver an event (or could not be configured).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SinkError(pub String);

/// A destination for notifications.
#[async_trait]
pub trait Sink: Send + Sync {
    /// `desktop`, `webhook` or `command`, for logs.
    fn kind(&self) -> &'static str;
    async fn deliver(&self, event: &NotifyEvent) -> Result<(), SinkError>;
}

/// A built sink with the least priority it receives.
pub type RoutedSink = (Arc<dyn Sink>, Priority);

/// A configured sink, before it is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SinkSpec {
    Desktop,
    Webhook {
        url: String,
        headers: Vec<(String, String)>,
    },
    Command {
        argv: Vec<String>,
    },
}

impl SinkSpec {
    pub fn kind(&self) -> &'static str {
        match self {
            SinkSpec::Desktop => "desktop",
            SinkSpec::Webhook { .. } => "webhook",
            SinkSpec::Command { .. } => "command",
        }
    }

    /// Checks what can be checked before start (URL, header names and values, argv).
    pub fn validate(&self) -> Result<(), SinkError> {
        match self {
            SinkSpec::Desktop => Ok(()),
            SinkSpec::Webhook { url, headers } => WebhookSink::new(url, headers).map(|_| ()),
            SinkSpec::Command { argv } if argv.is_empty() || argv[0].is_empty() => {
                Err(SinkError("argv must name a program".to_owned()))
            }
            SinkSpec::Command { .. } => Ok(()),
        }
    }
}

/// Builds the configured sinks. A desktop sink without `notify-send` on `path` is left out,
/// with one INFO line.
pub fn build_sinks(
    specs: &[(SinkSpec, Priority)],
    runner: Arc<dyn CommandRunner>,
    path: Option<&std::ffi::OsStr>,
) -> Result<Vec<RoutedSink>, SinkError> {
    let mut sinks: Vec<RoutedSink> = vec![];
    for (spec, min) in specs {
        let sink: Arc<dyn Sink> = match spec {
            SinkSpec::Desktop => match DesktopSink::find(path, runner.clone()) {
                Some(sink) => Arc::new(sink),
                None => {
                    info!("desktop notifications disabled: notify-send is not on PATH");
                    continue;
                }
            },
            SinkSpec::Webhook { url, headers } => Arc::new(WebhookSink::new(url, headers)?),
            SinkSpec::Command { argv } => Arc::new(CommandSink::new(argv.clone(), runner.clone())),
        };
        sinks.push((sink, *min));
    }
    Ok(sinks)
}

/// Writes the log sink's line for an event: `WARN` for urgent, `INFO` otherwise.
pub fn log_event(event: &NotifyEvent) {
    let (kind, priority, session, project) = (
        event.event_type.as_str(),
        event.priority.as_str(),
        event.session_id.as_str(),
        event.project_id.as_str(),
    );
    if event.priority == Priority::Urgent {
        warn!(target: "ao::notify", kind, priority, session, project, "{}", event.message);
    } else {
        info!(target: "ao::notify", kind, priority, session, project, "{}", event.message);
    }
}

/// Only the log sink.
#[derive(Debug, Default, Clone, Copy)]
pub struct LogNotifier;

#[async_trait]
impl Notifier for LogNotifier {
    async fn notify(&self, event: NotifyEvent) {
        log_event(&event);
    }
}

/// One sink's queue.
struct Route {
    sink: Arc<dyn Sink>,
    min_priority: Priority,
    queue: Mutex<VecDeque<NotifyEvent>>,
    wake: Notify,
    /// Throttles the "dropped its oldest queued event" line.
    drops: Mutex<RepeatedFailure>,
}

impl Route {
    fn queue(&self) -> std::sync::MutexGuard<'_, VecDeque<NotifyEvent>> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn push(&self, event: NotifyEvent) {
        let dropped = {
            let mut queue = self.queue();
            let dropped = (queue.len() >= SINK_QUEUE)
                .then(|| queue.pop_front())
                .flatten();
            queue.push_back(event);
            dropped
        };
        let mut drops = self.drops.lock().unwrap_or_else(|e| e.into_inner());
        match dropped {
            Some(old) => {
                if let Some(line) = drops.failed() {
                    warn!(
                        sink = self.sink.kind(),
                        dropped = %old.event_type,
                        session = %old.session_id,
                        "notification sink is behind: dropped its oldest queued event{line}"
                    );
                }
            }
            None => {
                drops.succeeded();
            }
        }
        drop(drops);
        self.wake.notify_one();
    }

    /// Delivers queued events in order until the queue is empty and `cancel` is cancelled;
    /// after a failed delivery, waits out the backoff first (not once cancelled: the events
    /// still held are delivered at once).
    async fn drain(&self, cancel: CancellationToken) {
        let mut backoff = Backoff::retry();
        let mut failures = RepeatedFailure::default();
        loop {
            loop {
                // Take the event first: the queue's lock must not be held while delivering.
                let next = self.queue().pop_front();
                let Some(event) = next else { break };
                match self.sink.deliver(&event).await {
                    Ok(()) => {
                        backoff.succeed();
                        if let Some(n) = failures.succeeded() {
                            info!(
                                sink = self.sink.kind(),
                                failures = n,
                                "notification sink works again"
                            );
                        }
                    }
                    Err(e) => {
                        if let Some(line) = failures.failed() {
                            warn!(
                                sink = self.sink.kind(),
                                event = %event.event_type,
                                session = %event.session_id,
                                error = %e,
                                "notification sink failed{line}; backing off"
                            );
                        }
                        let wait = backoff.fail();
                        tokio::select! {
                            _ = cancel.cancelled() => {}
                            _ = tokio::time::sleep(wait) => {}
                        }
                    }
                }
            }
            if cancel.is_cancelled() {
                return;
            }
            tokio::select! {
                _ = cancel.cancelled() => {}
                _ = self.wake.notified() => {}
            }
        }
    }
}

/// The notifier: the log sink plus the configured sinks, each behind its own queue.
pub struct Notifiers {
    routes: Vec<Arc<Route>>,
}

impl Notifiers {
    pub fn new(sinks: Vec<RoutedSink>) -> Arc<Self> {
        Arc::new(Self {
            routes: sinks
                .into_iter()
                .map(|(sink, min_priority)| {
                    Arc::new(Route {
                        sink,
                        min_priority,
                        queue: Mutex::new(VecDeque::new()),
                        wake: Notify::new(),
                        drops: Mutex::default(),
                    })
                })
                .collect(),
        })
    }

    /// The active sinks as `kind (min <priority>)`, the log sink first.
    pub fn describe(&self) -> Vec<String> {
        std::iter::once("log".to_owned())
            .chain(
                self.routes
                    .iter()
                    .map(|r| format!("{} (min {})", r.sink.kind(), r.min_priority)),
            )
            .collect()
    }

    /// Runs one worker per sink until cancelled; then each delivers what it still holds.
    pub async fn run(self: Arc<Self>, cancel: CancellationToken) {
        let mut workers = tokio::task::JoinSet::new();
        for route in &self.routes {
            let (route, cancel) = (route.clone(), cancel.clone());
            workers.spawn(async move { route.drain(cancel).await });
        }
        while workers.join_next().await.is_some() {}
    }
}

#[async_trait]
impl Notifier for Notifiers {
    async fn notify(&self, event: NotifyEvent) {
        log_event(&event);
        for route in &self.routes {
            if event.priority.at_least(route.min_priority) {
                route.push(event.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests;
