//! `[[notify.sink]]`: where notifications go besides the log, which is always on. Each sink has a
//! `kind` that decides the keys it takes, and the lowest priority it receives.

use std::collections::BTreeMap;

use anyhow::{Result, anyhow};
use ao::domain::Priority;
use ao_adapters::notify::SinkSpec;
use serde::Deserialize;

/// `[notify]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifySection {
    #[serde(default)]
    pub sink: Vec<SinkSection>,
}

/// `[[notify.sink]]`: one sink.
#[derive(Debug, Clone, Deserialize)]
pub struct SinkSection {
    /// The lowest priority the sink receives (default: everything).
    #[serde(default = "every_priority")]
    min_priority: Priority,
    #[serde(flatten)]
    kind: SinkKind,
}

fn every_priority() -> Priority {
    Priority::Info
}

/// What a sink is, by its `kind`, with the keys that kind takes.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum SinkKind {
    /// `notify-send`, when it is on PATH at start.
    Desktop {},
    /// A POST of the event JSON.
    Webhook {
        url: String,
        #[serde(default)]
        headers: BTreeMap<String, String>,
    },
    /// A program run from argv with the event JSON on stdin.
    Command {
        #[serde(default)]
        argv: Vec<String>,
    },
}

impl NotifySection {
    /// The sinks with their minimum priority, each checked as far as it can be before start;
    /// errors name the sink by its place in the file and its kind.
    pub fn resolve(self) -> Result<Vec<(SinkSpec, Priority)>> {
        self.sink
            .into_iter()
            .enumerate()
            .map(|(i, sink)| {
                let spec = match sink.kind {
                    SinkKind::Desktop {} => SinkSpec::Desktop,
                    SinkKind::Webhook { url, headers } => SinkSpec::Webhook {
                        url,
                        headers: headers.into_iter().collect(),
                    },
                    SinkKind::Command { argv } => SinkSpec::Command { argv },
                };
                spec.validate()
                    .map_err(|e| anyhow!("notify.sink[{i}] ({}): {e}", spec.kind()))?;
                Ok((spec, sink.min_priority))
            })
            .collect()
    }
}
