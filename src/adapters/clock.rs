//! The system clock, truncated to milliseconds.

use crate::domain::Timestamp;
use crate::ports::Clock;

/// Reads the wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_datetime(chrono::Utc::now())
    }
}
