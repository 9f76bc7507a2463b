//! The harness registry: every configured agent harness by name.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::ports::{AgentCapabilities, AgentCatalog, AgentHarness, Submit};

/// Harnesses by name (`claude-code`, `codex`, `command`, or configured names).
#[derive(Default, Clone)]
pub struct AgentRegistry {
    harnesses: BTreeMap<String, Arc<dyn AgentHarness>>,
    /// Configured `enter_delay`s, winning over the harnesses' own.
    enter_delays: BTreeMap<String, Duration>,
}

impl AgentRegistry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a harness under its own name.
    pub fn register(&mut self, harness: Arc<dyn AgentHarness>) {
        self.harnesses.insert(harness.name().to_owned(), harness);
    }

    /// Sets the `enter_delay` of the harness named `name` (configuration wins over the harness).
    pub fn set_enter_delay(&mut self, name: &str, delay: Duration) {
        self.enter_delays.insert(name.to_owned(), delay);
    }

    pub fn get(&self, name: &str) -> Option<Arc<dyn AgentHarness>> {
        self.harnesses.get(name).cloned()
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.harnesses.keys().map(String::as_str)
    }
}

impl AgentCatalog for AgentRegistry {
    fn capabilities(&self, agent: &str) -> AgentCapabilities {
        self.harnesses
            .get(agent)
            .map(|h| AgentCapabilities {
                hook_capable: h.hook_capable(),
                confirm_capable: h.confirm_capable(),
                submit: Submit {
                    composer: h.composer(),
                    enter_delay: self
                        .enter_delays
                        .get(agent)
                        .copied()
                        .unwrap_or_else(|| h.enter_delay()),
                },
            })
            .unwrap_or_default()
    }
}
