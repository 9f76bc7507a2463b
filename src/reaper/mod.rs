//! The reaper: every tick it fires due escalations, probes every running session with ONE batched
//! runtime call, and reports the facts to the LCM.
//!
//! It only reports facts; the LCM decides. A tick costs one runtime process whatever the number
//! of sessions, one failing session never stops a tick, and the loop stops within one tick of
//! cancellation. A tick whose store work failed stretches the next wait ([`Backoff::ticks`]),
//! and the failures are logged through one throttle ([`TickFailures`]), not once per session per
//! tick.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::backoff::{Backoff, FailureKind, TickFailures};
use crate::domain::{RuntimeFacts, SessionId, Timestamp, meta};
use crate::lifecycle::Lcm;
use crate::ports::{Clock, ProbeTarget, Runtime};

/// The default tick.
pub const REAPER_TICK: Duration = Duration::from_secs(5);

/// What one tick did (for logs and tests).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TickReport {
    pub escalated: usize,
    /// Sessions probed, in the order their facts were reported.
    pub probed: Vec<SessionId>,
    /// Sessions whose observation failed to apply.
    pub failed: Vec<SessionId>,
    /// Store operations of the tick that failed (escalations, the listing, observations).
    pub store_failures: usize,
}

/// The reaper loop.
pub struct Reaper {
    lcm: Arc<Lcm>,
    runtime: Arc<dyn Runtime>,
    clock: Arc<dyn Clock>,
    interval: Duration,
    /// `(session, launch)` pairs already warned about a missing handle.
    warned: Mutex<HashSet<(SessionId, String)>>,
    failures: Mutex<TickFailures>,
}

impl Reaper {
    pub fn new(
        lcm: Arc<Lcm>,
        runtime: Arc<dyn Runtime>,
        clock: Arc<dyn Clock>,
        interval: Duration,
    ) -> Self {
        Self {
            lcm,
            runtime,
            clock,
            interval,
            warned: Mutex::default(),
            failures: Mutex::default(),
        }
    }

    /// Ticks every interval (the first one interval after start: boot reconcile just probed)
    /// until cancelled; consecutive ticks whose store work failed double the wait (up to 30 s).
    pub async fn run(self: Arc<Self>, cancel: CancellationToken) {
        let mut backoff = Backoff::ticks(self.interval);
        let mut wait = self.interval;
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(wait) => {}
            }
            let now = self.clock.now();
            let report = tokio::select! {
                _ = cancel.cancelled() => return,
                report = self.tick(now) => report,
            };
            wait = if report.store_failures > 0 {
                backoff.fail()
            } else {
                backoff.succeed()
            };
        }
    }

    fn lock_failures(&self) -> std::sync::MutexGuard<'_, TickFailures> {
        self.failures.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Logs a failed store operation of the tick through the throttle.
    fn store_failed(&self, what: &str, error: &dyn std::fmt::Display) {
        if let Some(line) = self.lock_failures().failed(FailureKind::Store) {
            warn!(error = %error, "reaper: {what} failed{line}; backing off");
        }
    }

    /// One cycle: escalations, one batched probe, one observation per probed session.
    pub async fn tick(&self, now: Timestamp) -> TickReport {
        let mut report = self.probe_and_report(now).await;
        let end = self.lock_failures().end_tick();
        if let Some(n) = end.recovered {
            info!(failures = n, "reaper: the store works again");
        }
        report.store_failures = end.store_failures;
        report
    }

    async fn probe_and_report(&self, now: Timestamp) -> TickReport {
        let mut report = TickReport::default();
        match self.lcm.tick_escalations(now).await {
            Ok(n) => report.escalated = n,
            Err(e) => self.store_failed("the escalation tick", &e),
        }
        let running = match self.lcm.running_sessions().await {
            Ok(running) => running,
            Err(e) => {
                self.store_failed("listing running sessions", &e);
                return report;
            }
        };
        let mut probe_set = vec![];
        for record in running {
            if record.launch.started_at.is_none() {
                continue; // spawn or restore in progress
            }
            let Some(handle_id) = record.meta(meta::RUNTIME_HANDLE_ID) else {
                let key = (record.id.clone(), record.launch.id.clone());
                if self
                    .warned
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(key)
                {
                    warn!(session = %record.id, "reaper: no runtime handle recorded; not probing");
                }
                continue;
            };
            let runtime_name = record.meta(meta::RUNTIME_NAME).unwrap_or_default();
            if runtime_name != self.runtime.name() {
                warn!(session = %record.id, runtime = runtime_name, "reaper: unsupported runtime; not probing");
                continue;
            }
            let target = ProbeTarget {
                handle_id: handle_id.to_owned(),
                pane_id: record.meta(meta::RUNTIME_PANE_ID).map(str::to_owned),
            };
            probe_set.push((record.clone(), target));
        }
        if probe_set.is_empty() {
            return report;
        }
        probe_set.sort_by(|a, b| a.0.id.cmp(&b.0.id));
        let targets: Vec<ProbeTarget> = probe_set.iter().map(|(_, t)| t.clone()).collect();
        let probes = self.runtime.probe_all(&targets).await;
        for ((record, _), probe) in probe_set.into_iter().zip(probes) {
            let id = record.id.clone();
            let facts = RuntimeFacts {
                observed_at: Some(now),
                launch_id: Some(record.launch.id.clone()),
                runtime: Some(probe.runtime),
                process: Some(probe.process),
                pane_exit_status: probe.pane_exit_status,
                agent_exit: probe.agent_exit,
                server_gone: probe.server_gone,
            };
            // Steady-state facts (the common case) are no-ops on the snapshot just listed:
            // no per-session store read.
            match self
                .lcm
                .apply_runtime_observation_from(&record, &facts)
                .await
            {
                Ok(_) => report.probed.push(id),
                Err(e) => {
                    let what = format!("applying the runtime observation of {id}");
                    self.store_failed(&what, &e);
                    report.failed.push(id);
                }
            }
        }
        report
    }
}

#[cfg(test)]
mod tests;
