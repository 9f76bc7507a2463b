//! The decide core: pure, total, deterministic decision functions.
//!
//! They read no clock (the caller passes `now`), touch no I/O and hold no state, so the same
//! input always gives the same [`Decision`] and the LCM may re-run them after a lost
//! compare-and-swap.

mod detecting;
mod evidence;
mod gate;
pub mod hooks;
mod pr;
mod probe;
pub mod reactions;
pub mod scm_poll;
pub mod transitions;

use serde::Serialize;

use crate::domain::{DetectingMemory, PrReason, PrState, SessionAxis, Status};

pub use detecting::{
    DETECTING_MAX_ATTEMPTS, DETECTING_MAX_DURATION, Episode, create_detecting_decision,
    detecting_episode,
};
pub use evidence::hash_evidence;
pub use gate::{FlightState, INFLIGHT_MAX, gate_signal};
pub use pr::{OpenPrInput, resolve_open_pr_decision, resolve_terminal_pr_decision};
pub use probe::{ProbeInput, ProcessState, resolve_probe_decision};

/// The output of every decider.
///
/// Zero-value rule: an absent `session`, `pr_state` or `pr_reason` means "this decision does not
/// address that axis; leave it untouched", never "write empty". An absent `detecting` means "no
/// quarantine memory".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub status: Status,
    /// Short text describing the observation behind the verdict.
    pub evidence: String,
    pub detecting: Option<DetectingMemory>,
    pub session: Option<SessionAxis>,
    pub pr_state: Option<PrState>,
    pub pr_reason: Option<PrReason>,
}

#[cfg(test)]
mod tests;
