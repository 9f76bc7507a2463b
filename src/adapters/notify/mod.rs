//! Notifiers (scm-and-notify.md section 7). The log sink is always on: one structured line per
//! event, `WARN` for urgent events and `INFO` otherwise.

use async_trait::async_trait;
use tracing::{info, warn};

use crate::domain::{NotifyEvent, Priority};
use crate::ports::Notifier;

/// Logs every event.
#[derive(Debug, Default, Clone, Copy)]
pub struct LogNotifier;

#[async_trait]
impl Notifier for LogNotifier {
    async fn notify(&self, event: NotifyEvent) {
        let (kind, priority, session, project) = (
            event.event_type.as_str(),
            event.priority.as_str(),
            event.session_id.as_str(),
            event.project_id.as_str(),
        );
        if event.priority == Priority::Urgent {
            warn!(target: "ao::notify", kind, priority, session, project, "{}", event.message);
        } else {
            info!(target: "ao::notify", kind, priority, session, project, "{}", event.message);
        }
    }
}
