//! The system clock, truncated to milliseconds.

use ao::ports::Clock;
use ao_core::domain::Timestamp;

/// Reads the wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_datetime(chrono::Utc::now())
    }
}
