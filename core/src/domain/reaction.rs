//! Reaction vocabulary: reaction keys, notification priorities and events, incident trackers,
//! queued reaction rows, pane messages and the change-log event types.

use serde::{Deserialize, Serialize};

use super::ids::{ProjectId, SessionId};
use super::record::SessionRecord;
use super::time::Timestamp;
use super::wire_enum::wire_enum;

wire_enum! {
    /// The configured response to a session entering a status.
    pub enum ReactionKey {
        CiFailed => "ci-failed",
        ChangesRequested => "changes-requested",
        BotComments => "bot-comments",
        MergeConflicts => "merge-conflicts",
        AgentIdle => "agent-idle",
        ApprovedAndGreen => "approved-and-green",
        AgentStuck => "agent-stuck",
        AgentNeedsInput => "agent-needs-input",
        AgentExited => "agent-exited",
        PrClosed => "pr-closed",
        AllComplete => "all-complete",
    }
}

wire_enum! {
    /// Notification priority, most urgent first.
    pub enum Priority {
        Urgent => "urgent",
        Action => "action",
        Warning => "warning",
        Info => "info",
    }
}

impl Priority {
    /// Higher is more urgent.
    pub const fn rank(self) -> u8 {
        match self {
            Priority::Urgent => 3,
            Priority::Action => 2,
            Priority::Warning => 1,
            Priority::Info => 0,
        }
    }

    /// True when `self` is at least as urgent as `min`.
    pub const fn at_least(self, min: Priority) -> bool {
        self.rank() >= min.rank()
    }
}

/// A notification for the human.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifyEvent {
    /// `reaction.<key>`, `reaction.escalated` or `workspace.preserved-conflict`.
    #[serde(rename = "type")]
    pub event_type: String,
    pub priority: Priority,
    pub session_id: SessionId,
    pub project_id: ProjectId,
    pub message: String,
    pub data: serde_json::Value,
    pub created_at: Timestamp,
}

/// The budget of one incident of a send-to-agent reaction: attempts so far, the first attempt's
/// time, whether it escalated, and the last nudge's signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tracker {
    pub session_id: SessionId,
    pub key: ReactionKey,
    pub project_id: ProjectId,
    pub attempts: u32,
    pub first_attempt_at: Option<Timestamp>,
    pub escalated: bool,
    pub last_signature: Option<String>,
}

wire_enum! {
    /// A row of the durable per-session reaction queue.
    pub enum ReactionRowKind {
        Reaction => "reaction",
        Escalation => "escalation",
    }
}

/// One queued reaction or escalation, in `seq` order per session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedReaction {
    pub seq: i64,
    pub session_id: SessionId,
    pub kind: ReactionRowKind,
    pub key: ReactionKey,
    /// The revision whose commit enqueued a `reaction` row.
    pub trigger_revision: Option<u64>,
    pub project_id: ProjectId,
    pub enqueued_at: Timestamp,
}

impl QueuedReaction {
    /// The `reaction` row a commit of `next` (the record as committed) queues for `key`; the
    /// store assigns `seq`.
    pub fn reaction(next: &SessionRecord, key: ReactionKey, at: Timestamp) -> Self {
        Self {
            seq: 0,
            session_id: next.id.clone(),
            kind: ReactionRowKind::Reaction,
            key,
            trigger_revision: Some(next.revision),
            project_id: next.project_id.clone(),
            enqueued_at: at,
        }
    }

    /// The `escalation` row for a tracker whose budget ran out; the store assigns `seq`.
    pub fn escalation(tracker: &Tracker, at: Timestamp) -> Self {
        Self {
            seq: 0,
            session_id: tracker.session_id.clone(),
            kind: ReactionRowKind::Escalation,
            key: tracker.key,
            trigger_revision: None,
            project_id: tracker.project_id.clone(),
            enqueued_at: at,
        }
    }
}

wire_enum! {
    /// How a pane write is guarded: `deliver` for user messages, `nudge` for reactions.
    pub enum MessageMode {
        Deliver => "deliver",
        Nudge => "nudge",
    }
}

wire_enum! {
    /// Delivery state of a queued pane message.
    pub enum MessageState {
        Queued => "queued",
        Injected => "injected",
        Acknowledged => "acknowledged",
        Refused => "refused",
    }
}

impl MessageState {
    /// `acknowledged` and `refused` are final; `injected` is final unless a hook acknowledges.
    pub const fn is_final(self) -> bool {
        matches!(self, MessageState::Acknowledged | MessageState::Refused)
    }
}

/// What a nudge changed on its tracker, so a refused nudge can give its attempt back (a nudge that
/// never reached the pane does not count).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackerRollback {
    pub key: ReactionKey,
    /// True when this nudge set `first_attempt_at`.
    pub set_first_attempt: bool,
    pub previous_signature: Option<String>,
    pub signature: String,
}

/// A message for a pane, before it is queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    pub session_id: SessionId,
    pub mode: MessageMode,
    pub body: String,
    pub rollback: Option<TrackerRollback>,
    /// Set aside a draft in the input line at once instead of waiting for it.
    pub force: bool,
}

impl NewMessage {
    /// A message the user (or the spawn's prompt) asks to deliver to `session_id`'s pane.
    pub fn deliver(session_id: SessionId, body: impl Into<String>) -> Self {
        Self {
            session_id,
            mode: MessageMode::Deliver,
            body: body.into(),
            rollback: None,
            force: false,
        }
    }

    /// Sets a draft in the input line aside at once (`send --force`).
    pub fn forced(mut self, force: bool) -> Self {
        self.force = force;
        self
    }

    /// A reaction's nudge, carrying what it changed on its tracker.
    pub fn nudge(
        session_id: SessionId,
        body: impl Into<String>,
        rollback: TrackerRollback,
    ) -> Self {
        Self {
            session_id,
            mode: MessageMode::Nudge,
            body: body.into(),
            rollback: Some(rollback),
            force: false,
        }
    }
}

/// A row of the durable per-session message queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub id: i64,
    pub session_id: SessionId,
    pub mode: MessageMode,
    pub body: String,
    pub state: MessageState,
    /// Why it was refused.
    pub reason: Option<String>,
    pub attempts: u32,
    pub rollback: Option<TrackerRollback>,
    /// Set aside a draft in the input line at once instead of waiting for it.
    pub force: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Message {
    /// The row `new` becomes when it is queued as message `id` at `now`: `queued`, no attempts.
    pub fn queued(id: i64, new: NewMessage, now: Timestamp) -> Self {
        Message {
            id,
            session_id: new.session_id,
            mode: new.mode,
            body: new.body,
            state: MessageState::Queued,
            reason: None,
            attempts: 0,
            rollback: new.rollback,
            force: new.force,
            created_at: now,
            updated_at: now,
        }
    }

    /// The reaction key of a nudge.
    pub fn reaction_key(&self) -> Option<ReactionKey> {
        self.rollback.as_ref().map(|r| r.key)
    }
}

wire_enum! {
    /// The change-log classification of a committed write.
    pub enum EventType {
        SessionCreated => "session_created",
        SessionTerminated => "session_terminated",
        SessionStateChanged => "session_state_changed",
        SessionPrUpdated => "session_pr_updated",
        SessionRuntimeUpdated => "session_runtime_updated",
        SessionActivityUpdated => "session_activity_updated",
        SessionUpdated => "session_updated",
    }
}

/// One row of the change log as read back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeEvent {
    pub seq: i64,
    pub session_id: SessionId,
    pub project_id: ProjectId,
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// `{"version": 1, "record": <record after the write>}`.
    pub payload: serde_json::Value,
    pub created_at: Timestamp,
}

#[cfg(test)]
mod message_tests {
    use super::*;

    #[test]
    fn new_messages_and_their_queued_rows() {
        let id = SessionId::parse("proj-1").unwrap();
        let now = Timestamp::from_millis(1_000);
        let deliver = NewMessage::deliver(id.clone(), "hello");
        assert_eq!(
            deliver,
            NewMessage {
                session_id: id.clone(),
                mode: MessageMode::Deliver,
                body: "hello".to_owned(),
                rollback: None,
                force: false,
            }
        );
        assert_eq!(
            Message::queued(7, deliver, now),
            Message {
                id: 7,
                session_id: id.clone(),
                mode: MessageMode::Deliver,
                body: "hello".to_owned(),
                state: MessageState::Queued,
                reason: None,
                attempts: 0,
                rollback: None,
                force: false,
                created_at: now,
                updated_at: now,
            }
        );
        let rollback = TrackerRollback {
            key: ReactionKey::CiFailed,
            set_first_attempt: true,
            previous_signature: None,
            signature: "sig".to_owned(),
        };
        let nudge = NewMessage::nudge(id.clone(), "CI is failing", rollback.clone());
        assert_eq!(
            nudge,
            NewMessage {
                session_id: id.clone(),
                mode: MessageMode::Nudge,
                body: "CI is failing".to_owned(),
                rollback: Some(rollback.clone()),
                force: false,
            }
        );
        let queued = Message::queued(8, nudge, now);
        assert_eq!(queued.rollback, Some(rollback));
        assert_eq!(queued.reaction_key(), Some(ReactionKey::CiFailed));
        assert_eq!(queued.mode, MessageMode::Nudge);
    }
}
