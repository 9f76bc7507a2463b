//! The agent-messenger port: the last step of every pane write.
//!
//! Everything before it — the durable message queue, the session guard, tracker budgets — is
//! orchestration (`crate::messages`). The messenger types text into an agent's pane, reads its
//! input line, and sets a draft aside and puts it back.

use async_trait::async_trait;

use ao_core::input_line::{Composer, InputLine};

use crate::domain::{RuntimeHandle, SessionId};
use crate::ports::Submit;

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
    /// Types `text` literally, then Enter once it shows (see `Submit`); an empty text sends
    /// only Enter.
    async fn write(
        &self,
        session: &SessionId,
        handle: &RuntimeHandle,
        text: &str,
        submit: Submit,
    ) -> Result<(), MessengerError>;

    /// What the agent's input line holds now.
    async fn input_line(
        &self,
        session: &SessionId,
        handle: &RuntimeHandle,
        composer: Composer,
    ) -> Result<InputLine, MessengerError>;

    /// Empties the input line (a draft set aside).
    async fn clear_input(
        &self,
        session: &SessionId,
        handle: &RuntimeHandle,
        composer: Composer,
    ) -> Result<(), MessengerError>;

    /// Types `text` without Enter (a draft put back).
    async fn type_text(
        &self,
        session: &SessionId,
        handle: &RuntimeHandle,
        text: &str,
    ) -> Result<(), MessengerError>;
}
