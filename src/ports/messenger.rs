//! The agent-messenger port: the last step of every pane write.
//!
//! Everything before it — the durable message queue, the session guard, tracker budgets — is
//! orchestration (`crate::messages`). The messenger only types text into an agent's pane.

use async_trait::async_trait;

use crate::domain::{RuntimeHandle, SessionId};

/// A pane write failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("writing to session {session}: {message}")]
pub struct MessengerError {
    pub session: SessionId,
    pub message: String,
}

/// Types text into a session's agent pane.
#[async_trait]
pub trait AgentMessenger: Send + Sync {
    /// Types `text` literally, then Enter; an empty text sends only Enter.
    async fn write(
        &self,
        session: &SessionId,
        handle: &RuntimeHandle,
        text: &str,
    ) -> Result<(), MessengerError>;
}
