//! The harness registry: every configured agent harness by name.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::ports::{AgentCapabilities, AgentCatalog, AgentHarness};

/// Harnesses by name (`claude-code`, `codex`, `command`, or configured names).
#[derive(Default, Clone)]
pub struct AgentRegistry {
    harnesses: BTreeMap<String, Arc<dyn AgentHarness>>,
}

impl AgentRegistry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a harness under its own name.
    pub fn register(&mut self, harness: Arc<dyn AgentHarness>) {
        self.harnesses.insert(harness.name().to_owned(), harness);
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
            })
            .unwrap_or_default()
    }
}
