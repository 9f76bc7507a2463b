//! A `tracing` subscriber that keeps every event as one line, so tests can assert that a
//! warning or an error the spec asks for was logged.

use std::sync::{Arc, Mutex, OnceLock};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::{DefaultGuard, Interest};
use tracing::{Dispatch, Event, Level, Metadata, Subscriber};

/// A dispatcher kept registered for the whole process. While exactly one dispatcher is
/// registered, tracing resolves a newly hit callsite against the current thread's subscriber
/// only, so a callsite first hit on a thread without a capture would stay disabled for the
/// capturing thread too. With a second one alive, every callsite is asked of all of them.
static ANCHOR: OnceLock<Dispatch> = OnceLock::new();

/// Captured log lines, `"<LEVEL> <message> <field>=<value> …"`.
#[derive(Debug, Clone, Default)]
pub struct LogCapture {
    lines: Arc<Mutex<Vec<String>>>,
}

impl LogCapture {
    /// Captures this thread's events until the guard drops. A `#[tokio::test]` runs on a
    /// current-thread runtime, so events of the tasks it spawns are captured too.
    pub fn install() -> (Self, DefaultGuard) {
        ANCHOR.get_or_init(|| Dispatch::new(Self::default()));
        let capture = Self::default();
        let guard = tracing::subscriber::set_default(capture.clone());
        (capture, guard)
    }

    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// Lines of `level` containing `needle`.
    pub fn matching(&self, level: Level, needle: &str) -> Vec<String> {
        let prefix = format!("{level} ");
        self.lines()
            .into_iter()
            .filter(|l| l.starts_with(&prefix) && l.contains(needle))
            .collect()
    }
}

/// Formats an event's fields: the message first, then `name=value` pairs.
#[derive(Default)]
struct Line {
    message: String,
    fields: Vec<String>,
}

impl Visit for Line {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_owned();
        } else {
            self.fields.push(format!("{}={value}", field.name()));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.message = format!("{value:?}");
        } else {
            self.fields.push(format!("{}={value:?}", field.name()));
        }
    }
}

impl Subscriber for LogCapture {
    // "Sometimes" keeps callsites from caching a verdict made for another thread's subscriber.
    fn register_callsite(&self, _: &'static Metadata<'static>) -> Interest {
        Interest::sometimes()
    }

    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut line = Line::default();
        event.record(&mut line);
        let level: &Level = event.metadata().level();
        let mut text = format!("{level} {}", line.message);
        for field in line.fields {
            text.push(' ');
            text.push_str(&field);
        }
        self.lines.lock().unwrap().push(text);
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}
