//! The clock port: the only way orchestration code learns the time.

use crate::domain::Timestamp;

/// A source of the current time, truncated to milliseconds.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}
