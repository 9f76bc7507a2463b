//! Rate limits: reading GitHub's rate-limit headers, classifying a response, and the daemon's one
//! quota budget.
//!
//! The [`RateBook`] is shared by every request the daemon makes to GitHub. It pauses everything
//! when GitHub says "rate limited" (until `retry-after` or `x-ratelimit-reset`, 60 s when neither
//! is given), pauses when the requests ao made in the current window reach its share of the
//! window's limit, and reports "low quota" while less than 5% of a window remains, so the poller
//! slows down. A request counts against the share from the moment it is admitted, so requests
//! in flight together cannot overrun it. Pure bookkeeping: time comes in as an argument.

use std::collections::BTreeMap;
use std::time::Duration;

use ao::ports::Pacing;
use ao_core::domain::Timestamp;

/// Pause after a rate-limit answer that names no time.
pub const DEFAULT_PAUSE: Duration = Duration::from_secs(60);
/// Below this share of a window's limit the quota is "low".
pub const LOW_QUOTA_SHARE: f64 = 0.05;
/// Two answers whose reset times differ by less than this belong to one window.
const SAME_WINDOW: i64 = 60_000;

/// The rate-limit headers of one response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RateHeaders {
    pub limit: Option<u64>,
    pub remaining: Option<u64>,
    /// `x-ratelimit-reset`, epoch seconds.
    pub reset: Option<i64>,
    /// `x-ratelimit-resource` (`core`, `graphql`, …).
    pub resource: Option<String>,
    /// `retry-after`, seconds.
    pub retry_after: Option<u64>,
}

impl RateHeaders {
    /// Reads the headers; unparsable values count as absent.
    pub fn from_headers(headers: &reqwest::header::HeaderMap) -> Self {
        let text = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
        };
        let number = |name: &str| text(name).and_then(|v| v.parse::<u64>().ok());
        Self {
            limit: number("x-ratelimit-limit"),
            remaining: number("x-ratelimit-remaining"),
            reset: text("x-ratelimit-reset").and_then(|v| v.parse().ok()),
            resource: text("x-ratelimit-resource").map(str::to_owned),
            retry_after: number("retry-after"),
        }
    }
}

/// What a response means: success, not modified, or one class of failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Class {
    Ok,
    NotModified,
    NotFound,
    /// 401, or 403 without rate-limit signals.
    Auth,
    RateLimited {
        until: Timestamp,
    },
    /// 5xx.
    Transient,
    /// Any other status.
    Other,
}

/// Classifies a response by status, rate-limit headers and (for 403) body.
pub fn classify(status: u16, headers: &RateHeaders, body: &str, now: Timestamp) -> Class {
    match status {
        304 => Class::NotModified,
        200..=299 => Class::Ok,
        404 => Class::NotFound,
        401 => Class::Auth,
        403 if headers.remaining == Some(0)
            || body.to_ascii_lowercase().contains("secondary rate limit") =>
        {
            Class::RateLimited {
                until: resume_time(headers, now),
            }
        }
        403 => Class::Auth,
        429 => Class::RateLimited {
            until: resume_time(headers, now),
        },
        500..=599 => Class::Transient,
        _ => Class::Other,
    }
}

/// When a rate-limited client may send again: `retry-after`, else `x-ratelimit-reset`, else
/// 60 s; never earlier than one second from now.
pub fn resume_time(headers: &RateHeaders, now: Timestamp) -> Timestamp {
    let at = match (headers.retry_after, headers.reset) {
        (Some(secs), _) => now.plus(Duration::from_secs(secs)),
        (None, Some(reset)) => Timestamp::from_millis(reset.saturating_mul(1000)),
        (None, None) => now.plus(DEFAULT_PAUSE),
    };
    at.max(now.plus(Duration::from_secs(1)))
}

/// One rate-limit window of one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Window {
    limit: u64,
    remaining: u64,
    reset: Timestamp,
    /// Requests ao made in this window that counted against it.
    ours: u64,
}

/// Why a request may not be sent now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub until: Timestamp,
    /// True the first time this pause is reported (log it once).
    pub newly: bool,
    pub reason: String,
}

/// The daemon's one GitHub budget.
#[derive(Debug, Clone)]
pub struct RateBook {
    share: f64,
    windows: BTreeMap<String, Window>,
    paused_until: Option<Timestamp>,
    /// Requests admitted and not yet answered, by resource.
    in_flight: BTreeMap<String, u64>,
}

impl RateBook {
    /// `share`: the part of each window's limit ao may spend (`scm.github.max_quota_share`).
    pub fn new(share: f64) -> Self {
        Self {
            share,
            windows: BTreeMap::new(),
            paused_until: None,
            in_flight: BTreeMap::new(),
        }
    }

    /// Before sending a request that counts against `resource`. An admitted request counts as
    /// spent until it is [`record`](Self::record)ed or [`release`](Self::release)d.
    pub fn admit(&mut self, resource: &str, now: Timestamp) -> Result<(), Refusal> {
        if let Some(until) = self.paused_until.filter(|u| *u > now) {
            return Err(Refusal {
                until,
                newly: false,
                reason: "rate limited".to_owned(),
            });
        }
        self.windows.retain(|_, w| w.reset > now);
        let in_flight = self.in_flight.get(resource).copied().unwrap_or(0);
        if let Some(w) = self.windows.get(resource)
            && (w.ours + in_flight) as f64 >= self.share * w.limit as f64
        {
            let (until, spent, limit) = (w.reset, w.ours + in_flight, w.limit);
            return Err(Refusal {
                until,
                newly: self.pause(until),
                reason: format!(
                    "ao's share of the {resource} quota is spent ({spent} of {limit} requests, share {})",
                    self.share
                ),
            });
        }
        *self.in_flight.entry(resource.to_owned()).or_default() += 1;
        Ok(())
    }

    /// A request admitted for `resource` ended without an answer: it no longer counts.
    pub fn release(&mut self, resource: &str) {
        if let Some(n) = self.in_flight.get_mut(resource) {
            *n -= 1;
            if *n == 0 {
                self.in_flight.remove(resource);
            }
        }
    }

    /// After the response to a request admitted for `resource`: tracks the window and counts
    /// the request when it was `charged` (a `304` is free on GitHub).
    pub fn record(&mut self, resource: &str, headers: &RateHeaders, charged: bool, now: Timestamp) {
        self.release(resource);
        let charge = u64::from(charged);
        let resource = headers.resource.as_deref().unwrap_or(resource);
        match (headers.limit, headers.remaining, headers.reset) {
            (Some(limit), Some(remaining), Some(reset)) => {
                let reset = Timestamp::from_millis(reset.saturating_mul(1000));
                let w = self.windows.entry(resource.to_owned()).or_insert(Window {
                    limit,
                    remaining,
                    reset,
                    ours: 0,
                });
                if (w.reset.millis_since(reset)).abs() >= SAME_WINDOW {
                    w.ours = 0;
                }
                w.limit = limit;
                w.remaining = remaining;
                w.reset = reset;
                w.ours += charge;
            }
            _ => {
                if let Some(w) = self.windows.get_mut(resource).filter(|w| w.reset > now) {
                    w.ours += charge;
                }
            }
        }
    }

    /// Pauses every request until `until`; true when this starts (or extends) a pause.
    pub fn pause(&mut self, until: Timestamp) -> bool {
        if self.paused_until.is_some_and(|p| p >= until) {
            return false;
        }
        self.paused_until = Some(until);
        true
    }

    pub fn pacing(&self, now: Timestamp) -> Pacing {
        Pacing {
            paused_until: self.paused_until.filter(|u| *u > now),
            low_quota_until: self
                .windows
                .values()
                .filter(|w| w.reset > now)
                .filter(|w| (w.remaining as f64) < LOW_QUOTA_SHARE * w.limit as f64)
                .map(|w| w.reset)
                .min(),
        }
    }

    /// Requests ao made in the current window of `resource` (for tests and logs).
    pub fn ours(&self, resource: &str) -> u64 {
        self.windows.get(resource).map_or(0, |w| w.ours)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ao_testkit::fixtures::{secs, t0};

    fn headers(limit: u64, remaining: u64, reset_in: u64) -> RateHeaders {
        RateHeaders {
            limit: Some(limit),
            remaining: Some(remaining),
            reset: Some(t0().plus(secs(reset_in)).as_millis() / 1000),
            resource: None,
            retry_after: None,
        }
    }

    #[test]
    fn classification() {
        let now = t0();
        let plain = RateHeaders::default();
        let exhausted = headers(5000, 0, 600);
        let reset_at = t0().plus(secs(600));
        let cases: Vec<(u16, &RateHeaders, &str, Class)> = vec![
            (200, &plain, "", Class::Ok),
            (304, &plain, "", Class::NotModified),
            (404, &plain, "", Class::NotFound),
            (401, &plain, "", Class::Auth),
            (
                403,
                &plain,
                "Resource not accessible by integration",
                Class::Auth,
            ),
            (
                403,
                &exhausted,
                "API rate limit exceeded",
                Class::RateLimited { until: reset_at },
            ),
            (
                403,
                &plain,
                "You have exceeded a secondary rate limit",
                Class::RateLimited {
                    until: now.plus(DEFAULT_PAUSE),
                },
            ),
            (
                429,
                &plain,
                "",
                Class::RateLimited {
                    until: now.plus(DEFAULT_PAUSE),
                },
            ),
            (500, &plain, "", Class::Transient),
            (502, &plain, "", Class::Transient),
            (422, &plain, "", Class::Other),
        ];
        for (status, h, body, want) in cases {
            assert_eq!(classify(status, h, body, now), want, "{status} {body}");
        }
    }

    #[test]
    fn resume_prefers_retry_after_then_reset_then_a_minute() {
        let now = t0();
        let retry = RateHeaders {
            retry_after: Some(30),
            ..headers(5000, 0, 600)
        };
        assert_eq!(resume_time(&retry, now), now.plus(secs(30)));
        assert_eq!(
            resume_time(&headers(5000, 0, 600), now),
            now.plus(secs(600))
        );
        assert_eq!(
            resume_time(&RateHeaders::default(), now),
            now.plus(secs(60))
        );
        // A reset already in the past still waits a moment.
        let past = RateHeaders {
            reset: Some(now.as_millis() / 1000 - 5),
            ..RateHeaders::default()
        };
        assert_eq!(resume_time(&past, now), now.plus(secs(1)));
    }

    #[test]
    fn a_pause_refuses_everything_until_it_ends_and_is_reported_once() {
        let mut book = RateBook::new(0.5);
        assert!(book.pause(t0().plus(secs(60))));
        assert!(
            !book.pause(t0().plus(secs(30))),
            "an earlier end does not shorten it"
        );
        let refusal = book.admit("core", t0().plus(secs(59))).unwrap_err();
        assert_eq!(refusal.until, t0().plus(secs(60)));
        assert!(!refusal.newly);
        assert_eq!(book.pacing(t0()).paused_until, Some(t0().plus(secs(60))));
        assert!(book.admit("core", t0().plus(secs(60))).is_ok());
        assert_eq!(book.pacing(t0().plus(secs(60))).paused_until, None);
    }

    #[test]
    fn the_quota_share_is_one_budget_per_window() {
        let mut book = RateBook::new(0.5);
        let now = t0();
        // A window of 10 requests: ao may spend 5.
        for i in 0..5 {
            assert!(book.admit("core", now).is_ok(), "request {i}");
            book.record("core", &headers(10, 9 - i, 3600), true, now);
        }
        let refusal = book.admit("core", now).unwrap_err();
        assert!(refusal.newly);
        assert_eq!(refusal.until, t0().plus(secs(3600)));
        assert!(refusal.reason.contains("5 of 10"), "{}", refusal.reason);
        // The pause covers every resource, and is reported once.
        assert!(!book.admit("graphql", now).unwrap_err().newly);
        // A new window starts a new budget.
        let later = t0().plus(secs(3600));
        assert!(book.admit("core", later).is_ok());
        let next_window = RateHeaders {
            reset: Some(t0().plus(secs(7200)).as_millis() / 1000),
            ..headers(10, 9, 0)
        };
        book.record("core", &next_window, true, later);
        assert_eq!(book.ours("core"), 1);
    }

    #[test]
    fn requests_in_flight_count_against_the_share() {
        let mut book = RateBook::new(0.5);
        let now = t0();
        // A window of 10 requests is known; 3 are spent.
        for _ in 0..3 {
            book.admit("core", now).unwrap();
            book.record("core", &headers(10, 7, 3600), true, now);
        }
        // Two sent together: both admitted, and a third would overrun the share of 5.
        book.admit("core", now).unwrap();
        book.admit("core", now).unwrap();
        let refusal = book.admit("core", now).unwrap_err();
        assert!(refusal.reason.contains("5 of 10"), "{}", refusal.reason);
        // One was free (304) and one failed unanswered: neither counts any more.
        let mut book = RateBook::new(0.5);
        book.admit("core", now).unwrap();
        book.record("core", &headers(10, 9, 3600), true, now);
        for _ in 0..4 {
            book.admit("core", now).unwrap();
        }
        book.record("core", &headers(10, 9, 3600), false, now);
        book.release("core");
        book.admit("core", now).unwrap();
        book.admit("core", now).unwrap();
        assert!(book.admit("core", now).is_err(), "1 spent and 4 in flight");
    }

    #[test]
    fn not_modified_answers_are_free() {
        let mut book = RateBook::new(0.5);
        for _ in 0..100 {
            book.record("core", &headers(10, 10, 3600), false, t0());
        }
        assert_eq!(book.ours("core"), 0);
        assert!(book.admit("core", t0()).is_ok());
    }

    #[test]
    fn resources_have_their_own_windows() {
        let mut book = RateBook::new(0.5);
        let graphql = RateHeaders {
            resource: Some("graphql".to_owned()),
            ..headers(2, 1, 3600)
        };
        book.record("core", &graphql, true, t0());
        assert_eq!(book.ours("graphql"), 1);
        assert_eq!(book.ours("core"), 0);
        assert!(book.admit("core", t0()).is_ok());
        assert!(book.admit("graphql", t0()).is_err());
    }

    #[test]
    fn low_quota_below_five_percent_until_the_reset() {
        let mut book = RateBook::new(1.0);
        book.record("core", &headers(5000, 250, 600), true, t0());
        assert_eq!(
            book.pacing(t0()).low_quota_until,
            None,
            "exactly 5% is not low"
        );
        book.record("core", &headers(5000, 249, 600), true, t0());
        assert_eq!(
            book.pacing(t0()).low_quota_until,
            Some(t0().plus(secs(600)))
        );
        assert_eq!(book.pacing(t0().plus(secs(600))).low_quota_until, None);
    }
}
