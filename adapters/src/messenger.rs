//! The agent messenger over the runtime: types text into a pane with the runtime's chunked, literal
//! send, and reads the input line from the runtime's screen (`ao_core::input_line`).

use std::sync::Arc;

use async_trait::async_trait;

use ao::ports::{AgentMessenger, MessengerError, Runtime, RuntimeError, Submit};
use ao_core::domain::{RuntimeHandle, SessionId};
use ao_core::input_line::{Composer, InputLine, read_input};

/// Writes through `Runtime::send_message`.
pub struct RuntimeMessenger {
    runtime: Arc<dyn Runtime>,
}

impl RuntimeMessenger {
    pub fn new(runtime: Arc<dyn Runtime>) -> Self {
        Self { runtime }
    }
}

fn messenger_error(session: &SessionId, e: RuntimeError) -> MessengerError {
    MessengerError {
        session: session.clone(),
        message: e.to_string(),
    }
}

#[async_trait]
impl AgentMessenger for RuntimeMessenger {
    async fn write(
        &self,
        session: &SessionId,
        handle: &RuntimeHandle,
        text: &str,
        submit: Submit,
    ) -> Result<(), MessengerError> {
        self.runtime
            .submit_message(handle, text, submit)
            .await
            .map_err(|e| messenger_error(session, e))
    }

    async fn input_line(
        &self,
        session: &SessionId,
        handle: &RuntimeHandle,
        composer: Composer,
    ) -> Result<InputLine, MessengerError> {
        let screen = self
            .runtime
            .screen(handle)
            .await
            .map_err(|e| messenger_error(session, e))?;
        Ok(read_input(composer, &screen))
    }

    async fn clear_input(
        &self,
        session: &SessionId,
        handle: &RuntimeHandle,
        composer: Composer,
    ) -> Result<(), MessengerError> {
        self.runtime
            .clear_input(handle, composer)
            .await
            .map_err(|e| messenger_error(session, e))
    }

    async fn type_text(
        &self,
        session: &SessionId,
        handle: &RuntimeHandle,
        text: &str,
    ) -> Result<(), MessengerError> {
        self.runtime
            .type_text(handle, text)
            .await
            .map_err(|e| messenger_error(session, e))
    }
}
