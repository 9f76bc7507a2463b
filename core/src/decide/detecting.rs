//! `CreateDetectingDecision`: the `detecting` quarantine.
//!
//! Ambiguous liveness evidence does not kill a session; it starts an episode that escalates to
//! `stuck` after 3 consecutive reports of the same evidence, or after 5 minutes whatever the
//! evidence (both inclusive).

use std::time::Duration;

use super::Decision;
use super::evidence::hash_evidence;
use crate::domain::{DetectingMemory, SessionAxis, SessionReason, SessionState, Status, Timestamp};

/// Same-evidence reports that escalate an episode (inclusive).
pub const DETECTING_MAX_ATTEMPTS: u32 = 3;
/// Episode length that escalates regardless of evidence (inclusive).
pub const DETECTING_MAX_DURATION: Duration = Duration::from_secs(5 * 60);

/// Where a report stands in its quarantine episode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Episode {
    /// Reports in a row with this evidence (1 for the first).
    pub attempts: u32,
    /// When the episode began (a change of evidence keeps it running).
    pub started_at: Timestamp,
}

/// The episode a report whose evidence hashes to `hash` continues (after `prior`) or starts.
pub fn detecting_episode(hash: &str, prior: Option<&DetectingMemory>, now: Timestamp) -> Episode {
    let (attempts, started_at) = match prior {
        Some(p) if p.evidence_hash == hash => (p.attempts.saturating_add(1), p.started_at),
        Some(p) => (1, p.started_at),
        None => (1, now),
    };
    Episode {
        attempts,
        started_at,
    }
}

/// Runs the quarantine with `proposed` as the liveness reason.
pub fn create_detecting_decision(
    evidence: String,
    proposed: SessionReason,
    prior: Option<&DetectingMemory>,
    now: Timestamp,
) -> Decision {
    let hash = hash_evidence(&evidence);
    let Episode {
        attempts,
        started_at,
    } = detecting_episode(&hash, prior, now);
    let escalate = attempts >= DETECTING_MAX_ATTEMPTS
        || now.at_least_after(started_at, DETECTING_MAX_DURATION);
    if escalate {
        Decision {
            status: Status::Stuck,
            evidence,
            detecting: None,
            session: Some(SessionAxis::new(SessionState::Stuck, proposed)),
            pr_state: None,
            pr_reason: None,
        }
    } else {
        Decision {
            status: Status::Detecting,
            evidence,
            detecting: Some(DetectingMemory {
                attempts,
                started_at,
                evidence_hash: hash,
            }),
            session: Some(SessionAxis::new(SessionState::Detecting, proposed)),
            pr_state: None,
            pr_reason: None,
        }
    }
}
