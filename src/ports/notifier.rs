//! The notifier port: telling the human.

use async_trait::async_trait;

use crate::domain::NotifyEvent;

/// Hands an event to the notification sinks.
#[async_trait]
pub trait Notifier: Send + Sync {
    /// Returns as soon as the event is logged and queued to the sinks; delivery is
    /// asynchronous, and a broken sink never reaches the caller.
    async fn notify(&self, event: NotifyEvent);
}
