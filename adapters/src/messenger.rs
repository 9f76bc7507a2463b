//! The agent messenger over the runtime: types text into a pane with the runtime's chunked, literal
//! send.

use std::sync::Arc;

use async_trait::async_trait;

use ao::ports::{AgentMessenger, MessengerError, Runtime};
use ao_core::domain::{RuntimeHandle, SessionId};

/// Writes through `Runtime::send_message`.
pub struct RuntimeMessenger {
    runtime: Arc<dyn Runtime>,
}

impl RuntimeMessenger {
    pub fn new(runtime: Arc<dyn Runtime>) -> Self {
        Self { runtime }
    }
}

#[async_trait]
impl AgentMessenger for RuntimeMessenger {
    async fn write(
        &self,
        session: &SessionId,
        handle: &RuntimeHandle,
        text: &str,
    ) -> Result<(), MessengerError> {
        self.runtime
            .send_message(handle, text)
            .await
            .map_err(|e| MessengerError {
                session: session.clone(),
                message: e.to_string(),
            })
    }
}
