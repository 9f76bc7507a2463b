//! `Timestamp`: a UTC instant at millisecond precision.
//!
//! The spec truncates every time to milliseconds when it enters the system and compares instants at
//! that precision, so the representation is exactly that: milliseconds since the Unix epoch. It is
//! serialized as RFC 3339 with three fractional digits (`2026-05-26T12:00:00.000Z`). Nothing here
//! reads the clock; callers pass time in.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

/// A UTC instant, milliseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp(i64);

/// The text was not an RFC 3339 time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid RFC 3339 time {0:?}")]
pub struct BadTimestamp(pub String);

impl Timestamp {
    pub const fn from_millis(millis: i64) -> Self {
        Self(millis)
    }

    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// Truncates a chrono time to millisecond precision.
    pub fn from_datetime(t: DateTime<Utc>) -> Self {
        Self(t.timestamp_millis())
    }

    /// Parses RFC 3339 (any offset), truncating to milliseconds.
    pub fn parse_rfc3339(text: &str) -> Result<Self, BadTimestamp> {
        DateTime::parse_from_rfc3339(text)
            .map(|t| Self(t.timestamp_millis()))
            .map_err(|_| BadTimestamp(text.to_owned()))
    }

    /// RFC 3339 in UTC with exactly three fractional digits.
    pub fn to_rfc3339(self) -> String {
        match DateTime::<Utc>::from_timestamp_millis(self.0) {
            Some(t) => t.to_rfc3339_opts(SecondsFormat::Millis, true),
            // Outside chrono's range (±262,000 years): print the raw value rather than panic.
            None => format!("@{}ms", self.0),
        }
    }

    /// `self + d`, saturating.
    pub fn plus(self, d: Duration) -> Self {
        Self(self.0.saturating_add(duration_millis(d)))
    }

    /// `self - d`, saturating.
    pub fn minus(self, d: Duration) -> Self {
        Self(self.0.saturating_sub(duration_millis(d)))
    }

    /// Signed milliseconds from `earlier` to `self` (negative when `earlier` is later).
    pub fn millis_since(self, earlier: Timestamp) -> i64 {
        self.0.saturating_sub(earlier.0)
    }

    /// True when at least `d` has passed from `earlier` to `self` (inclusive).
    pub fn at_least_after(self, earlier: Timestamp, d: Duration) -> bool {
        self.millis_since(earlier) >= duration_millis(d)
    }
}

/// A duration in whole milliseconds, saturating at `i64::MAX`.
pub fn duration_millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Timestamp::parse_rfc3339(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_at_millisecond_precision() {
        let t = Timestamp::parse_rfc3339("2026-05-26T12:00:00.123456Z").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-05-26T12:00:00.123Z");
        let offset = Timestamp::parse_rfc3339("2026-05-26T14:00:00+02:00").unwrap();
        assert_eq!(offset.to_rfc3339(), "2026-05-26T12:00:00.000Z");
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, "\"2026-05-26T12:00:00.123Z\"");
        assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), t);
        assert!(Timestamp::parse_rfc3339("yesterday").is_err());
    }

    #[test]
    fn arithmetic() {
        let t0 = Timestamp::from_millis(1_000_000);
        let t1 = t0.plus(Duration::from_secs(90));
        assert_eq!(t1.millis_since(t0), 90_000);
        assert_eq!(t1.minus(Duration::from_secs(90)), t0);
        assert!(t1.at_least_after(t0, Duration::from_secs(90)));
        assert!(!t1.at_least_after(t0, Duration::from_millis(90_001)));
        assert_eq!(
            Timestamp::from_millis(i64::MAX)
                .plus(Duration::MAX)
                .as_millis(),
            i64::MAX
        );
        assert_eq!(
            Timestamp::from_millis(i64::MAX).to_rfc3339(),
            format!("@{}ms", i64::MAX)
        );
    }
}
