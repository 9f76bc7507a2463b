//! The terminal observer: activity from what a pane prints, for agents whose hooks cannot tell.
//!
//! - Agents without hooks (`command` harnesses): output appeared → `active`; no output for 60 s
//!   → `idle`. "Output appeared" is read from the runtime's output log end offset, which moves
//!   with every byte the pane prints. That costs a `stat`, not a tmux process per session, so
//!   the observer stays cheap with hundreds of sessions (the spec's capture-and-hash gives the
//!   same verdicts at one tmux call per session per tick).
//! - Hook-capable agents with a terminal heuristic (codex): an `active` without any hook for 2
//!   minutes, or a `blocked` for 30 s, is re-checked against pane text; an idle composer gives
//!   `idle`, applied only if the record did not change meanwhile (`only_if_revision`).
//! - Others (claude-code): nothing; their hooks are authoritative.
//!
//! It runs in its own loop (10 s), never inside the reaper's tick. A tick whose store work
//! failed stretches the next wait ([`Backoff::ticks`]); failures are logged through one
//! throttle ([`TickFailures`]), not once per session per tick.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::backoff::{Backoff, FailureKind, TickFailures};
use crate::domain::{
    ActivitySignal, ActivitySource, ActivityState, SessionId, SessionRecord, Timestamp,
};
use crate::lifecycle::Lcm;
use crate::messages::runtime_handle;
use crate::ports::{AgentHarness, Clock, Runtime};
use crate::session::AgentRegistry;

/// The observer's tick.
pub const OBSERVER_TICK: Duration = Duration::from_secs(10);
/// No output this long → `idle`.
pub const QUIET_PERIOD: Duration = Duration::from_secs(60);
/// Re-assert `active` at most this often while output keeps coming.
pub const ACTIVE_REFRESH: Duration = Duration::from_secs(30);
/// A hook-fed `active` this old is re-checked from pane text.
pub const STALE_ACTIVE: Duration = Duration::from_secs(120);
/// A `blocked` this old is re-checked from pane text.
pub const STALE_BLOCKED: Duration = Duration::from_secs(30);
/// One heuristic check per session per this long.
pub const RECHECK_EVERY: Duration = Duration::from_secs(30);
/// Pane lines the heuristic reads.
pub const HEURISTIC_LINES: usize = 40;

/// What the observer remembers per session (in memory; reset per launch).
#[derive(Debug, Clone)]
struct Seen {
    launch_id: String,
    log_end: u64,
    changed_at: Timestamp,
    last_check: Option<Timestamp>,
}

/// The terminal observer.
pub struct TerminalObserver {
    lcm: Arc<Lcm>,
    runtime: Arc<dyn Runtime>,
    agents: Arc<AgentRegistry>,
    clock: Arc<dyn Clock>,
    seen: Mutex<HashMap<SessionId, Seen>>,
    failures: Mutex<TickFailures>,
}

impl TerminalObserver {
    pub fn new(
        lcm: Arc<Lcm>,
        runtime: Arc<dyn Runtime>,
        agents: Arc<AgentRegistry>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            lcm,
            runtime,
            agents,
            clock,
            seen: Mutex::default(),
            failures: Mutex::default(),
        }
    }

    /// Ticks until cancelled; consecutive ticks whose store work failed double the wait (up to
    /// 30 s).
    pub async fn run(self: Arc<Self>, cancel: CancellationToken, tick: Duration) {
        let mut backoff = Backoff::ticks(tick);
        let mut wait = tick;
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(wait) => {}
            }
            let store_failures = tokio::select! {
                _ = cancel.cancelled() => return,
                failed = self.tick() => failed,
            };
            wait = if store_failures > 0 {
                backoff.fail()
            } else {
                backoff.succeed()
            };
        }
    }

    /// One pass over the running sessions; returns how many store operations failed.
    pub async fn tick(&self) -> usize {
        self.observe_running().await;
        let end = self.lock_failures().end_tick();
        if let Some(n) = end.recovered {
            info!(failures = n, "terminal observer works again");
        }
        end.store_failures
    }

    fn lock_failures(&self) -> std::sync::MutexGuard<'_, TickFailures> {
        self.failures.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts a failure of the current tick and logs it through the throttle.
    fn failed(&self, kind: FailureKind, what: &str, error: &dyn std::fmt::Display) {
        if let Some(line) = self.lock_failures().failed(kind) {
            warn!(error = %error, "terminal observer: {what} failed{line}");
        }
    }

    async fn observe_running(&self) {
        let running = match self.lcm.running_sessions().await {
            Ok(r) => r,
            Err(e) => {
                self.failed(FailureKind::Store, "listing sessions", &e);
                return;
            }
        };
        let live: std::collections::HashSet<SessionId> =
            running.iter().map(|r| r.id.clone()).collect();
        self.lock().retain(|id, _| live.contains(id));
        for record in running {
            if record.launch.started_at.is_none() {
                continue;
            }
            let Some(harness) = self.agents.get(&record.agent) else {
                continue;
            };
            if !harness.hook_capable() {
                self.observe_output(&record).await;
            } else if harness.has_terminal_heuristic() {
                self.repair_stale(&record, harness.as_ref()).await;
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SessionId, Seen>> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Output change → `active`; quiet for the quiet period → `idle`.
    async fn observe_output(&self, record: &SessionRecord) {
        let Some(handle) = runtime_handle(record) else {
            return;
        };
        let end = match self.runtime.read_output(&handle, u64::MAX, 0).await {
            Ok(chunk) => chunk.next,
            Err(e) => {
                let what = format!("reading the output of {}", record.id);
                self.failed(FailureKind::Other, &what, &e);
                return;
            }
        };
        let now = self.clock.now();
        let previous = {
            let mut seen = self.lock();
            let entry = seen
                .get(&record.id)
                .filter(|s| s.launch_id == record.launch.id)
                .cloned();
            let changed = entry.as_ref().is_none_or(|s| s.log_end != end);
            let changed_at = match (&entry, changed) {
                (Some(s), false) => s.changed_at,
                _ => now,
            };
            seen.insert(
                record.id.clone(),
                Seen {
                    launch_id: record.launch.id.clone(),
                    log_end: end,
                    changed_at,
                    last_check: None,
                },
            );
            entry
        };
        // The first sample of a launch only records where the output is.
        let Some(previous) = previous else {
            return;
        };
        let activity = record.lifecycle.activity;
        let signal = if previous.log_end != end {
            let refresh_due = activity
                .last_activity_at
                .is_none_or(|at| now.at_least_after(at, ACTIVE_REFRESH));
            (activity.state != Some(ActivityState::Active) || refresh_due)
                .then_some(ActivityState::Active)
        } else {
            (now.at_least_after(previous.changed_at, QUIET_PERIOD)
                && activity.state != Some(ActivityState::Idle))
            .then_some(ActivityState::Idle)
        };
        if let Some(state) = signal {
            self.emit(record, state, now, None).await;
        }
    }

    /// A hook-capable agent that missed its turn-end hook, or whose dialog was answered
    /// without a hook: the heuristic reads the pane and may say `idle`.
    async fn repair_stale(&self, record: &SessionRecord, harness: &dyn AgentHarness) {
        let now = self.clock.now();
        let activity = record.lifecycle.activity;
        let stale_after = match activity.state {
            Some(ActivityState::Active) => STALE_ACTIVE,
            Some(ActivityState::Blocked) => STALE_BLOCKED,
            _ => return,
        };
        if activity
            .last_activity_at
            .is_some_and(|at| !now.at_least_after(at, stale_after))
        {
            return;
        }
        {
            let mut seen = self.lock();
            let entry = seen.entry(record.id.clone()).or_insert_with(|| Seen {
                launch_id: record.launch.id.clone(),
                log_end: 0,
                changed_at: now,
                last_check: None,
            });
            if entry
                .last_check
                .is_some_and(|at| !now.at_least_after(at, RECHECK_EVERY))
            {
                return;
            }
            entry.last_check = Some(now);
        }
        let Some(handle) = runtime_handle(record) else {
            return;
        };
        match self.runtime.output(&handle, HEURISTIC_LINES).await {
            Ok(text) if harness.terminal_activity(&text) == Some(ActivityState::Idle) => {
                self.emit(record, ActivityState::Idle, now, Some(record.revision))
                    .await;
            }
            Ok(_) => {}
            Err(e) => {
                let what = format!("capturing the pane of {}", record.id);
                self.failed(FailureKind::Other, &what, &e);
            }
        }
    }

    async fn emit(
        &self,
        record: &SessionRecord,
        state: ActivityState,
        now: Timestamp,
        only_if_revision: Option<u64>,
    ) {
        let signal = ActivitySignal {
            timestamp: Some(now),
            launch_id: Some(record.launch.id.clone()),
            only_if_revision,
            ..ActivitySignal::valid(state, ActivitySource::Terminal)
        };
        if let Err(e) = self.lcm.apply_activity_signal(&record.id, &signal).await {
            let what = format!("applying the activity of {}", record.id);
            self.failed(FailureKind::Store, &what, &e);
        }
    }
}
