//! Retrying without spinning: the one mechanism every background loop uses when its work fails.
//!
//! - [`Backoff`]: the wait before the next attempt doubles with each consecutive failure, up to
//!   a cap, and goes back to the first wait after a success. Retries of one item start at
//!   100 ms ([`Backoff::retry`]); a ticking loop's failed tick stretches its own tick
//!   ([`Backoff::ticks`]).
//! - [`RepeatedFailure`]: a failure is logged at once, then at most one summary per minute
//!   ("failed N more times in the last 60 s"), and one line when the work succeeds again, so a
//!   failure that lasts hours writes a few lines an hour, not one per attempt.
//! - [`TickFailures`]: the same for a ticking loop with many items per tick (the reaper, the
//!   observers): one throttle for the whole loop, and a tick's store failures decide its
//!   backoff.
//!
//! Both read tokio's clock, so tests drive them with a paused clock.

use std::fmt;
use std::time::Duration;

use tokio::time::Instant;

/// The first wait of a retried item.
pub const RETRY_FIRST: Duration = Duration::from_millis(100);
/// The longest wait between two attempts (unless a loop's own tick is longer).
pub const RETRY_CAP: Duration = Duration::from_secs(30);
/// At most one summary line per failing operation per this long.
pub const LOG_EVERY: Duration = Duration::from_secs(60);

/// Exponential backoff with a cap, reset by a success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backoff {
    first: Duration,
    cap: Duration,
    next: Duration,
}

impl Backoff {
    /// Waits `first`, then twice as long after each further failure, never more than `cap`
    /// (a cap below `first` is raised to it).
    pub fn new(first: Duration, cap: Duration) -> Self {
        Self {
            first,
            cap: cap.max(first),
            next: first,
        }
    }

    /// Retrying one item: 100 ms doubling to 30 s.
    pub fn retry() -> Self {
        Self::new(RETRY_FIRST, RETRY_CAP)
    }

    /// A ticking loop: after a failed tick it waits `tick`, then twice as long after each
    /// further failed tick, up to 30 s or `tick` when that is longer.
    pub fn ticks(tick: Duration) -> Self {
        Self::new(tick, RETRY_CAP)
    }

    /// Records a failure; returns how long to wait before the next attempt.
    pub fn fail(&mut self) -> Duration {
        let wait = self.next;
        self.next = self.next.saturating_mul(2).min(self.cap);
        wait
    }

    /// Records a success; returns the wait before the next regular attempt (the first wait).
    pub fn succeed(&mut self) -> Duration {
        self.next = self.first;
        self.first
    }
}

/// What [`RepeatedFailure::failed`] asks the caller to log. Its `Display` completes a
/// sentence like "delivery failed{line}": nothing for the first failure, " 12 more times in
/// the last 60 s" for a summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureLine {
    /// The first failure of a streak.
    First,
    /// A summary of the failures since the previous line.
    Repeated { times: u64, over: Duration },
}

impl fmt::Display for FailureLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailureLine::First => Ok(()),
            FailureLine::Repeated { times, over } => {
                let plural = if *times == 1 { "" } else { "s" };
                write!(
                    f,
                    " {times} more time{plural} in the last {} s",
                    over.as_secs()
                )
            }
        }
    }
}

/// A log throttle for one repeatedly failing operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepeatedFailure {
    every: Duration,
    /// Failures since the last success.
    streak: u64,
    /// Failures since the last line.
    unlogged: u64,
    /// When the last line was logged; `None` outside a streak.
    logged_at: Option<Instant>,
}

impl Default for RepeatedFailure {
    fn default() -> Self {
        Self::new(LOG_EVERY)
    }
}

impl RepeatedFailure {
    /// At most one summary per `every`.
    pub fn new(every: Duration) -> Self {
        Self {
            every,
            streak: 0,
            unlogged: 0,
            logged_at: None,
        }
    }

    /// Counts a failure; `Some` when a line is due now: the first failure of a streak, or a
    /// summary once `every` has passed since the previous line.
    pub fn failed(&mut self) -> Option<FailureLine> {
        let now = Instant::now();
        self.streak += 1;
        let Some(logged_at) = self.logged_at else {
            self.logged_at = Some(now);
            return Some(FailureLine::First);
        };
        self.unlogged += 1;
        let over = now.duration_since(logged_at);
        if over < self.every {
            return None;
        }
        let times = std::mem::take(&mut self.unlogged);
        self.logged_at = Some(now);
        Some(FailureLine::Repeated { times, over })
    }

    /// Ends a streak; `Some(failures)` when there was one (worth an "it works again" line).
    pub fn succeeded(&mut self) -> Option<u64> {
        self.logged_at = None;
        self.unlogged = 0;
        let streak = std::mem::take(&mut self.streak);
        (streak > 0).then_some(streak)
    }

    /// True while failing (no success since the last failure).
    pub fn is_failing(&self) -> bool {
        self.streak > 0
    }
}

/// Where a failure of a ticking loop came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The store: the loop backs off, since its next tick would fail the same way.
    Store,
    /// Anything else (one session's pane, the code host): logged, but no reason to slow the
    /// loop for every other session.
    Other,
}

/// The failures of a ticking loop: counted per tick, logged through one throttle.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TickFailures {
    log: RepeatedFailure,
    this_tick: usize,
    store_this_tick: usize,
}

/// How a tick ended, per [`TickFailures::end_tick`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TickEnd {
    /// The tick's store failures: the loop backs off when there were any.
    pub store_failures: usize,
    /// `Some(failures of the streak)` when this tick, without any failure, ended a streak.
    pub recovered: Option<u64>,
}

impl TickFailures {
    /// Counts a failure of the current tick; `Some` when it is to be logged now.
    pub fn failed(&mut self, kind: FailureKind) -> Option<FailureLine> {
        self.this_tick += 1;
        if kind == FailureKind::Store {
            self.store_this_tick += 1;
        }
        self.log.failed()
    }

    /// Closes the current tick.
    pub fn end_tick(&mut self) -> TickEnd {
        let failures = std::mem::take(&mut self.this_tick);
        TickEnd {
            store_failures: std::mem::take(&mut self.store_this_tick),
            recovered: if failures == 0 {
                self.log.succeeded()
            } else {
                None
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn retry_doubles_to_the_cap_and_resets_on_success() {
        let mut b = Backoff::retry();
        let waits: Vec<Duration> = (0..12).map(|_| b.fail()).collect();
        let expected: Vec<Duration> = [
            100, 200, 400, 800, 1_600, 3_200, 6_400, 12_800, 25_600, 30_000, 30_000, 30_000,
        ]
        .map(ms)
        .to_vec();
        assert_eq!(waits, expected);
        assert_eq!(b.succeed(), ms(100));
        assert_eq!(b.fail(), ms(100), "a success starts over");
        assert_eq!(b.fail(), ms(200));
    }

    #[test]
    fn ticks_stretch_the_tick() {
        let table = [
            (
                ms(1_000),
                vec![1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000],
            ),
            (ms(5_000), vec![5_000, 10_000, 20_000, 30_000, 30_000]),
            (ms(30_000), vec![30_000, 30_000]),
            (ms(3_600_000), vec![3_600_000, 3_600_000]),
        ];
        for (tick, expected) in table {
            let mut b = Backoff::ticks(tick);
            let waits: Vec<Duration> = expected.iter().map(|_| b.fail()).collect();
            assert_eq!(
                waits,
                expected.into_iter().map(ms).collect::<Vec<_>>(),
                "{tick:?}"
            );
            assert_eq!(b.succeed(), tick);
        }
    }

    #[test]
    fn a_cap_below_the_first_wait_is_raised() {
        let mut b = Backoff::new(ms(500), ms(100));
        assert_eq!((b.fail(), b.fail()), (ms(500), ms(500)));
    }

    #[test]
    fn failure_lines_read_as_sentences() {
        assert_eq!(FailureLine::First.to_string(), "");
        let one = FailureLine::Repeated {
            times: 1,
            over: ms(61_000),
        };
        assert_eq!(one.to_string(), " 1 more time in the last 61 s");
        let many = FailureLine::Repeated {
            times: 1_349,
            over: ms(60_000),
        };
        assert_eq!(
            format!("delivery failed{many}"),
            "delivery failed 1349 more times in the last 60 s"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_failure_is_logged_once_then_summarised_per_interval() {
        let mut f = RepeatedFailure::default();
        assert!(!f.is_failing());
        assert_eq!(f.failed(), Some(FailureLine::First));
        // A spin: 100 failures in the first minute write nothing more.
        for _ in 0..100 {
            tokio::time::advance(ms(500)).await;
            assert_eq!(f.failed(), None);
        }
        // 50 s have passed; the line is due at 60 s.
        tokio::time::advance(ms(9_999)).await;
        assert_eq!(f.failed(), None);
        tokio::time::advance(ms(1)).await;
        assert_eq!(
            f.failed(),
            Some(FailureLine::Repeated {
                times: 102,
                over: ms(60_000)
            })
        );
        tokio::time::advance(ms(59_000)).await;
        assert_eq!(f.failed(), None);
        tokio::time::advance(ms(5_000)).await;
        assert_eq!(
            f.failed(),
            Some(FailureLine::Repeated {
                times: 2,
                over: ms(64_000)
            })
        );
        assert!(f.is_failing());
        assert_eq!(f.succeeded(), Some(105));
        assert!(!f.is_failing());
        assert_eq!(
            f.succeeded(),
            None,
            "a success outside a streak says nothing"
        );
        assert_eq!(f.failed(), Some(FailureLine::First), "a new streak");
    }

    #[tokio::test(start_paused = true)]
    async fn tick_failures_count_per_tick_and_log_per_interval() {
        let mut f = TickFailures::default();
        let clean = TickEnd {
            store_failures: 0,
            recovered: None,
        };
        assert_eq!(f.end_tick(), clean, "a clean tick outside a streak");
        // A tick with three failures: one line.
        assert_eq!(f.failed(FailureKind::Other), Some(FailureLine::First));
        assert_eq!(f.failed(FailureKind::Store), None);
        assert_eq!(f.failed(FailureKind::Store), None);
        assert_eq!(
            f.end_tick(),
            TickEnd {
                store_failures: 2,
                recovered: None
            }
        );
        // A tick with only a runtime failure does not back off, and does not end the streak;
        // a minute on, its line sums up the failures since the first one.
        tokio::time::advance(Duration::from_secs(60)).await;
        assert!(matches!(
            f.failed(FailureKind::Other),
            Some(FailureLine::Repeated { times: 3, .. })
        ));
        assert_eq!(
            f.end_tick(),
            TickEnd {
                store_failures: 0,
                recovered: None
            }
        );
        assert_eq!(
            f.end_tick(),
            TickEnd {
                store_failures: 0,
                recovered: Some(4)
            },
            "a tick without failures ends the streak"
        );
        assert_eq!(f.end_tick(), clean);
    }

    #[tokio::test(start_paused = true)]
    async fn backoff_and_throttle_bound_a_failing_loop() {
        // A loop that fails for ten minutes attempts a few dozen times and logs a dozen lines.
        let mut backoff = Backoff::retry();
        let mut failures = RepeatedFailure::default();
        let end = Instant::now() + Duration::from_secs(600);
        let (mut attempts, mut lines) = (0, 0);
        while Instant::now() < end {
            attempts += 1;
            lines += usize::from(failures.failed().is_some());
            tokio::time::sleep(backoff.fail()).await;
        }
        assert!((25..=30).contains(&attempts), "{attempts} attempts");
        assert!((10..=11).contains(&lines), "{lines} lines");
    }
}
