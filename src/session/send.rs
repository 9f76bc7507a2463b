//! Send: a user message goes through the session's durable message queue and its guarded delivery
//! worker; the caller may wait for the outcome.

use std::fmt;
use std::time::Duration;

use super::{SessionManager, SmError};
use crate::domain::{Message, MessageState, NewMessage, SessionId};
use crate::lifecycle::{DraftNote, DraftNotes};

/// How often a waiting send looks at its message when nothing woke it: the delivery worker wakes
/// it when a flight ends or it refuses a row, but other paths (a kill refusing what is queued)
/// do not.
const SEND_POLL: Duration = Duration::from_millis(25);

/// Why a message was refused, in the spec's error vocabulary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendRefusal {
    NotFound,
    Terminated,
    AgentExited,
    /// A permission dialog is open; typing could answer it.
    AwaitingDecision,
    UnknownState,
    /// The pane write itself failed, or no runtime handle is recorded.
    Failed(String),
}

impl SendRefusal {
    /// Maps a stored refusal reason (a guard outcome or an error text).
    pub fn from_reason(reason: &str) -> Self {
        match reason {
            "suppressed_not_found" => SendRefusal::NotFound,
            "suppressed_terminated" => SendRefusal::Terminated,
            "suppressed_exited" => SendRefusal::AgentExited,
            "suppressed_awaiting_user" => SendRefusal::AwaitingDecision,
            "suppressed_unknown" => SendRefusal::UnknownState,
            other => SendRefusal::Failed(other.to_owned()),
        }
    }
}

impl fmt::Display for SendRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendRefusal::NotFound => f.write_str("the session does not exist"),
            SendRefusal::Terminated => f.write_str("the session is terminated"),
            SendRefusal::AgentExited => {
                f.write_str("the agent has exited (text would run in the leftover shell)")
            }
            SendRefusal::AwaitingDecision => {
                f.write_str("a permission dialog is open; answer it in the pane first")
            }
            SendRefusal::UnknownState => f.write_str("the session's state could not be read"),
            SendRefusal::Failed(why) => write!(f, "delivery failed: {why}"),
        }
    }
}

/// Where a sent message got to, and what happened to a draft in the input line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// Committed to the queue; not waited for, or still waiting (`draft`: behind a draft).
    Queued {
        message_id: i64,
        draft: Option<DraftNote>,
    },
    /// Typed into the pane (no confirmation available or it did not come).
    Injected {
        message_id: i64,
        draft: Option<DraftNote>,
    },
    /// The agent confirmed it received the message.
    Acknowledged {
        message_id: i64,
        draft: Option<DraftNote>,
    },
}

impl SessionManager {
    /// `Send(id, message, wait)`: queue a user message; with `wait`, return its final state, or
    /// `Queued` if it is still waiting (for a busy agent or a draft) when the wait runs out.
    /// `force` sets a draft in the input line aside at once.
    pub async fn send(
        &self,
        id: &SessionId,
        body: String,
        wait: Option<Duration>,
        force: bool,
    ) -> Result<SendOutcome, SmError> {
        if self.store.load(id).await?.is_none() {
            return Err(SmError::NotFound(id.clone()));
        }
        let message = NewMessage::deliver(id.clone(), body).forced(force);
        self.send_message(message, wait).await
    }

    /// Queues a message and, for up to `wait`, waits until it leaves `queued` and the delivery
    /// worker is done with it.
    pub(super) async fn send_message(
        &self,
        message: NewMessage,
        wait: Option<Duration>,
    ) -> Result<SendOutcome, SmError> {
        let id = message.session_id.clone();
        let queued = self
            .store
            .enqueue_message(message, self.clock.now())
            .await?;
        self.lcm.wakeups().messages.notify_one();
        let Some(wait) = wait else {
            return Ok(SendOutcome::Queued {
                message_id: queued.id,
                draft: None,
            });
        };
        let wakeups = self.lcm.wakeups();
        let notes = &wakeups.drafts;
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            // Registered before the read, so a flight that ends in between still wakes us.
            let ended = wakeups.in_flight.ended.notified();
            tokio::pin!(ended);
            ended.as_mut().enable();
            let current = self
                .store
                .message(queued.id)
                .await?
                .ok_or_else(|| SmError::NotFound(id.clone()))?;
            let in_flight = wakeups.in_flight.contains(current.id);
            if let Some(outcome) = settled(&current, in_flight, notes)? {
                return Ok(outcome);
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Ok(SendOutcome::Queued {
                    message_id: queued.id,
                    draft: notes.get(queued.id),
                });
            }
            let _ = tokio::time::timeout(SEND_POLL.min(deadline - now), ended).await;
        }
    }
}

/// What happened to a draft, once the message is typed (a leftover `Waiting` says nothing).
fn settled_note(notes: &DraftNotes, message_id: i64) -> Option<DraftNote> {
    notes
        .take(message_id)
        .filter(|note| *note != DraftNote::Waiting)
}

/// The outcome once a message left `queued` and its flight ended (typed, Enter pressed, the
/// confirmation loop over, a draft set aside typed back); refusals become errors.
fn settled(
    message: &Message,
    in_flight: bool,
    notes: &DraftNotes,
) -> Result<Option<SendOutcome>, SmError> {
    let message_id = message.id;
    let draft_pending = notes.get(message_id) == Some(DraftNote::SetAside);
    match message.state {
        MessageState::Queued => Ok(None),
        MessageState::Injected | MessageState::Acknowledged if draft_pending => Ok(None),
        MessageState::Injected if in_flight => Ok(None),
        MessageState::Injected => Ok(Some(SendOutcome::Injected {
            message_id,
            draft: settled_note(notes, message_id),
        })),
        MessageState::Acknowledged => Ok(Some(SendOutcome::Acknowledged {
            message_id,
            draft: settled_note(notes, message_id),
        })),
        MessageState::Refused => Err(SmError::Refused {
            id: message.session_id.clone(),
            reason: SendRefusal::from_reason(message.reason.as_deref().unwrap_or_default()),
        }),
    }
}
