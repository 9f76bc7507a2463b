//! M28 (confirmation loop) and drafts: the delivery worker behind the guard, with a recording messenger,
//! the in-memory store and paused time.

use std::sync::Arc;

use tracing::Level;

use super::*;
use crate::domain::{
    ActivitySignal, ActivitySource, NewMessage, RuntimeState, SessionReason, SessionState,
};
use crate::fixtures::{lc, t0, with_handle};
use crate::testing::MemoryStore;
use crate::testing::{Harness, LogCapture, TEST_DRAFT_GRACE};

fn p1() -> SessionId {
    SessionId::parse("proj-1").unwrap()
}

async fn harness(agent: &str) -> Harness {
    let mut h = Harness::new(Arc::new(MemoryStore::new()), t0());
    let mut r = with_handle(lc(
        SessionState::Working,
        SessionReason::TaskInProgress,
        RuntimeState::Alive,
    ));
    r.agent = agent.to_owned();
    h.seed(r).await;
    h.start();
    h
}

async fn deliver(h: &Harness, body: &str) -> i64 {
    let message = h
        .store
        .enqueue_message(NewMessage::deliver(p1(), body), t0())
        .await
        .unwrap();
    h.lcm.wakeups().messages.notify_one();
    message.id
}

/// Once the messenger has seen `writes` writes, applies `state` as a hook would.
fn after_writes(h: &Harness, writes: usize, state: ActivityState) {
    let (messenger, lcm) = (h.messenger.clone(), h.lcm.clone());
    tokio::spawn(async move {
        while messenger.writes().len() < writes {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let signal = ActivitySignal {
            timestamp: Some(t0()),
            ..ActivitySignal::valid(state, ActivitySource::Hook)
        };
        lcm.apply_activity_signal(&p1(), &signal).await.unwrap();
    });
}

async fn state(h: &Harness, message: i64) -> MessageState {
    h.store.message(message).await.unwrap().unwrap().state
}

/// The agent turns `active` after the first re-sent Enter → exactly 2 writes.
#[tokio::test(start_paused = true)]
async fn active_after_the_first_enter_acknowledges() {
    let h = harness("claude-code").await;
    after_writes(&h, 2, ActivityState::Active);
    let id = deliver(&h, "hello").await;
    h.wait_idle().await;
    assert_eq!(h.messenger.texts(), ["hello", ""]);
    assert_eq!(state(&h, id).await, MessageState::Acknowledged);
}

/// Never `active` → 3 writes in all and the budget warning; the row stays `injected`.
#[tokio::test(start_paused = true)]
async fn silent_agent_exhausts_the_budget() {
    let (logs, _guard) = LogCapture::install();
    let h = harness("claude-code").await;
    let id = deliver(&h, "hello").await;
    h.wait_idle().await;
    assert_eq!(h.messenger.texts(), ["hello", "", ""]);
    assert_eq!(state(&h, id).await, MessageState::Injected);
    let warned = logs.matching(
        Level::WARN,
        "activity confirmation budget exhausted session=proj-1 attempts=3",
    );
    assert_eq!(warned.len(), 1, "{:?}", logs.lines());
}

/// `blocked` during the wait → no further Enter.
#[tokio::test(start_paused = true)]
async fn a_dialog_stops_the_loop() {
    let h = harness("claude-code").await;
    after_writes(&h, 1, ActivityState::Blocked);
    let id = deliver(&h, "hello").await;
    h.wait_idle().await;
    assert_eq!(h.messenger.texts(), ["hello"]);
    assert_eq!(state(&h, id).await, MessageState::Injected);
}

/// A `user-prompt-submit` hook carrying the text's hash already acknowledged the row (ingest
/// marks it) → done, no Enter.
#[tokio::test(start_paused = true)]
async fn a_hook_acknowledgement_ends_the_loop() {
    let h = harness("claude-code").await;
    let id = deliver(&h, "hello").await;
    let (store, messenger) = (h.store.clone(), h.messenger.clone());
    tokio::spawn(async move {
        while messenger.writes().is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        store.mark_acknowledged(id, t0()).await.unwrap();
    });
    h.wait_idle().await;
    assert_eq!(h.messenger.texts(), ["hello"]);
    assert_eq!(state(&h, id).await, MessageState::Acknowledged);
}

/// A guard refusal of the Enter (the agent exited meanwhile) stops the loop.
#[tokio::test(start_paused = true)]
async fn a_refused_enter_stops_the_loop() {
    let h = harness("claude-code").await;
    after_writes(&h, 1, ActivityState::Exited);
    deliver(&h, "hello").await;
    h.wait_idle().await;
    assert_eq!(h.messenger.texts(), ["hello"]);
}

/// `codex` and `command` (not confirm-capable), and blank text: 1 write, no loop.
#[tokio::test(start_paused = true)]
async fn no_loop_without_confirmation() {
    for agent in ["codex", "command"] {
        let h = harness(agent).await;
        let id = deliver(&h, "hello").await;
        h.wait_idle().await;
        tokio::time::sleep(Duration::from_secs(10)).await;
        assert_eq!(h.messenger.texts(), ["hello"], "{agent}");
        assert_eq!(state(&h, id).await, MessageState::Injected);
    }
    let h = harness("claude-code").await;
    deliver(&h, "  ").await;
    h.wait_idle().await;
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(h.messenger.texts(), ["  "]);
}

/// Polls (in paused time) until the message leaves `queued`.
async fn until_typed(h: &Harness, message: i64) {
    for _ in 0..600 {
        if state(h, message).await != MessageState::Queued {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "message {message} still queued; actions {:?}",
        h.messenger.actions()
    );
}

/// A draft holds the message back (and says so); once the user sends or clears it, the message
/// is typed, with nothing cleared or typed back.
#[tokio::test(start_paused = true)]
async fn a_draft_holds_the_message_until_it_is_gone() {
    let h = harness("command").await;
    h.messenger.set_draft(&p1(), "half a thought");
    let id = deliver(&h, "hello").await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(state(&h, id).await, MessageState::Queued);
    assert!(
        h.messenger.actions().is_empty(),
        "{:?}",
        h.messenger.actions()
    );
    assert_eq!(h.lcm.wakeups().drafts.get(id), Some(DraftNote::Waiting));
    // The draft changes: still waiting, and the grace starts again.
    h.clock.advance(TEST_DRAFT_GRACE - Duration::from_secs(1));
    h.messenger.set_draft(&p1(), "half a thought, longer");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(state(&h, id).await, MessageState::Queued);
    h.messenger.set_draft(&p1(), "");
    until_typed(&h, id).await;
    assert_eq!(h.messenger.actions(), ["write hello"]);
    assert_eq!(h.lcm.wakeups().drafts.get(id), None);
}

/// A draft unchanged for the grace is set aside: cleared, the message sent, the draft typed back.
#[tokio::test(start_paused = true)]
async fn a_draft_unchanged_for_the_grace_is_set_aside_and_typed_back() {
    let h = harness("command").await;
    h.messenger.set_draft(&p1(), "left alone");
    let id = deliver(&h, "hello").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(state(&h, id).await, MessageState::Queued);
    h.clock.advance(TEST_DRAFT_GRACE);
    until_typed(&h, id).await;
    h.wait_idle().await;
    assert_eq!(
        h.messenger.actions(),
        ["clear", "write hello", "type left alone"]
    );
    assert_eq!(h.lcm.wakeups().drafts.get(id), Some(DraftNote::Restored));
}

/// `force` sets the draft aside at once.
#[tokio::test(start_paused = true)]
async fn force_sets_the_draft_aside_at_once() {
    let h = harness("command").await;
    h.messenger.set_draft(&p1(), "mine");
    let message = h
        .store
        .enqueue_message(NewMessage::deliver(p1(), "now").forced(true), t0())
        .await
        .unwrap();
    h.lcm.wakeups().messages.notify_one();
    until_typed(&h, message.id).await;
    h.wait_idle().await;
    assert_eq!(h.messenger.actions(), ["clear", "write now", "type mine"]);
    assert_eq!(state(&h, message.id).await, MessageState::Injected);
}

/// A message for a busy agent waits for its turn to end without the dispatcher restarting the
/// worker in a loop (paused time would never advance then).
#[tokio::test(start_paused = true)]
async fn a_busy_agent_holds_the_message_without_a_busy_loop() {
    let h = harness("claude-code").await;
    let signal = ActivitySignal {
        timestamp: Some(t0()),
        ..ActivitySignal::valid(ActivityState::Active, ActivitySource::Hook)
    };
    h.lcm.apply_activity_signal(&p1(), &signal).await.unwrap();
    let id = deliver(&h, "hello").await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(state(&h, id).await, MessageState::Queued);
    assert_eq!(h.messenger.attempts(), 0);
}
