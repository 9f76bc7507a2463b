//! `HashEvidence`: tells "the same evidence again" from "new evidence".
//!
//! Timestamps and epoch numbers are stripped and whitespace is collapsed before hashing, so an
//! observation that differs only in when it was made hashes the same.

use std::sync::LazyLock;

use regex::Regex;
use sha2::{Digest, Sha256};

/// The patterns, in the order they must be applied: the full datetime first so its time-of-day
/// part is not half-removed by the second pattern.
static VOLATILE: LazyLock<[Regex; 3]> = LazyLock::new(|| {
    [
        r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:?[0-9]{2})?",
        r"[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?",
        r"\b[0-9]{10,13}\b",
    ]
    .map(|pattern| Regex::new(pattern).expect("static evidence pattern is valid"))
});

/// Lowercase hex SHA-256 of the evidence with timestamps removed and whitespace collapsed.
pub fn hash_evidence(evidence: &str) -> String {
    let mut text = evidence.to_owned();
    for pattern in VOLATILE.iter() {
        text = pattern.replace_all(&text, "").into_owned();
    }
    let normalized = text.split_whitespace().collect::<Vec<_>>().join(" ");
    hex::encode(Sha256::digest(normalized.as_bytes()))
}
