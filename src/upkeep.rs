//! The daemon's periodic upkeep: emptying trash entries past their time to live, and pruning
//! change-log rows past their retention. Each loop runs until cancelled, never spins on a
//! failure, and logs a repeating one as every background loop does.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::backoff::{Backoff, RepeatedFailure};
use crate::ports::{Clock, Store};
use crate::session::SessionManager;

/// How often old change-log rows are pruned; a failed prune waits as long.
pub const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// How often the trash is swept for a time to live: a quarter of it, between a second and an
/// hour, so an entry outlives its TTL by at most a quarter of it.
pub fn sweep_interval(ttl: Duration) -> Duration {
    (ttl / 4).clamp(Duration::from_secs(1), Duration::from_secs(3600))
}

/// Empties trash entries older than `ttl`, at once and then every [`sweep_interval`]; an entry
/// that cannot go is named once per sweep.
pub async fn sweep_trash(sm: Arc<SessionManager>, ttl: Duration, cancel: CancellationToken) {
    let every = sweep_interval(ttl);
    let mut failures = RepeatedFailure::default();
    loop {
        match sm.trash_empty(Some(ttl)).await {
            Ok(emptied) => {
                if let Some(n) = failures.succeeded() {
                    info!(failures = n, "emptying the trash works again");
                }
                for entry in &emptied.removed {
                    info!(entry = %entry.id, "emptied a trash entry past its time to live");
                }
                for (entry, why) in &emptied.failed {
                    warn!(entry = %entry.id, reason = %why, "a trash entry past its time to live was kept");
                }
            }
            Err(e) => {
                if let Some(line) = failures.failed() {
                    warn!(error = %e, "emptying the trash failed{line}");
                }
            }
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
    }
}

/// Prunes change-log rows older than `retention`, at once and then every [`PRUNE_EVERY`].
pub async fn prune_change_log(
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    retention: Duration,
    cancel: CancellationToken,
) {
    let mut backoff = Backoff::ticks(PRUNE_EVERY);
    let mut failures = RepeatedFailure::default();
    loop {
        let cutoff = clock.now().minus(retention);
        let wait = match store.prune_events(cutoff).await {
            Ok(n) => {
                if n > 0 {
                    info!(rows = n, "pruned old change-log rows");
                }
                if let Some(n) = failures.succeeded() {
                    info!(failures = n, "pruning the change log works again");
                }
                backoff.succeed()
            }
            Err(e) => {
                if let Some(line) = failures.failed() {
                    warn!(error = %e, "pruning the change log failed{line}");
                }
                backoff.fail()
            }
        };
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trash_is_swept_four_times_per_ttl_within_a_second_and_an_hour() {
        let s = Duration::from_secs;
        for (ttl, every) in [
            (s(1), s(1)),
            (s(4), s(1)),
            (s(8), s(2)),
            (s(3600), s(900)),
            (s(4 * 3600), s(3600)),
            (s(7 * 24 * 3600), s(3600)),
        ] {
            assert_eq!(sweep_interval(ttl), every, "{ttl:?}");
        }
    }
}
