//! Hook ingest (the daemon side of `aoctl hook`): an agent's hook callback becomes an activity
//! signal for the LCM, and a submitted prompt acknowledges the message it proves delivered.

use tracing::debug;

use super::{SessionManager, SmError};
use crate::decide::hooks::{HOOK_FIELD_MAX, prompt_hash};
use crate::domain::{
    ActivitySignal, ActivitySource, ActivityState, HookEvent, MessageState, SessionId,
    SignalConfidence, TurnError, quote,
};
use crate::lifecycle::Applied;

/// A hook callback as received on the socket.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HookCall {
    pub session_id: String,
    pub agent: String,
    pub event: String,
    pub state: Option<String>,
    pub tool_name: Option<String>,
    pub tool_use_id: Option<String>,
    pub agent_session_id: Option<String>,
    pub launch_id: Option<String>,
    pub prompt_hash: Option<String>,
    /// The error that ended the turn (a `stop-failure`); one bounded line by construction.
    pub turn_error: Option<TurnError>,
}

/// Why a hook callback was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HookError {
    #[error("invalid activity state {}", quote(.0))]
    InvalidActivityState(String),
    #[error("a hook must carry an activity state or an agent session id")]
    ActivityOrSessionIdRequired,
    #[error("invalid session id {}", quote(.0))]
    InvalidSessionId(String),
    #[error("session {0} not found")]
    SessionNotFound(SessionId),
}

/// Control characters removed; strings longer than the cap dropped.
fn clean(field: Option<String>) -> Option<String> {
    let text: String = field?.chars().filter(|c| !c.is_control()).collect();
    (!text.is_empty() && text.chars().count() <= HOOK_FIELD_MAX).then_some(text)
}

impl SessionManager {
    /// `ingest_hook`: validates, applies the signal, and acknowledges a delivered message whose
    /// hash the `user-prompt-submit` hook carries. Replies after the commit.
    pub async fn ingest_hook(&self, call: HookCall) -> Result<(), SmError> {
        let id = SessionId::parse(&call.session_id)
            .map_err(|_| hook_error(HookError::InvalidSessionId(call.session_id.clone())))?;
        let state = match call.state.as_deref() {
            Some(s) => Some(
                s.parse::<ActivityState>()
                    .map_err(|_| hook_error(HookError::InvalidActivityState(s.to_owned())))?,
            ),
            None => None,
        };
        let agent_session_id = clean(call.agent_session_id);
        if state.is_none() && agent_session_id.is_none() {
            return Err(hook_error(HookError::ActivityOrSessionIdRequired));
        }
        let signal = ActivitySignal {
            confidence: if state.is_some() {
                SignalConfidence::Valid
            } else {
                SignalConfidence::Null
            },
            activity: state,
            timestamp: Some(self.clock.now()),
            source: ActivitySource::Hook,
            launch_id: clean(call.launch_id),
            agent_session_id,
            hook_event: call.event.parse::<HookEvent>().ok(),
            tool_name: clean(call.tool_name),
            tool_use_id: clean(call.tool_use_id),
            only_if_revision: None,
            turn_error: call.turn_error,
        };
        match self.lcm.apply_activity_signal(&id, &signal).await? {
            Applied::UnknownSession => {
                return Err(hook_error(HookError::SessionNotFound(id)));
            }
            Applied::Changed(_) | Applied::Unchanged => {}
        }
        if let Some(hash) = call.prompt_hash.filter(|h| !h.is_empty())
            && let Some(message) = self.store.oldest_injected_message(&id).await?
            && message.state == MessageState::Injected
            && prompt_hash(&message.body) == hash
        {
            debug!(session = %id, message = message.id, "message acknowledged by the agent");
            self.store
                .mark_acknowledged(message.id, self.clock.now())
                .await?;
        }
        Ok(())
    }
}

fn hook_error(e: HookError) -> SmError {
    SmError::Hook(e)
}
