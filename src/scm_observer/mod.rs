//! The SCM observer: polls the code host for the pull request of every running session and
//! reports what it learns to the LCM.
//!
//! One poll ([`round`]): the sessions with a branch whose project has a GitHub origin; each
//! repository's open-PR list (conditional, paged); attribution by head ref and head repository; one
//! conditional check-runs request per attributed PR; details (GraphQL, 25 PRs per request) only for
//! PRs that changed, are new, went missing from the list, or were not refreshed for 5 minutes; log
//! tails of failed GitHub Actions jobs; normalisation (`decide::scm_poll`); and, only when the
//! facts differ from the stored snapshot (or the previous attempt failed), the snapshot write
//! followed by `Lcm::apply_scm_observation`, in session id order.
//!
//! A failed fetch is never "no PR": the session gets no observation, its snapshot stays, and no
//! cache entry of the failed scope is committed. While the provider is rate limited the observer
//! emits nothing. Without a token it disables itself, says so once, and checks every 5 minutes.
//! Failures are logged through one throttle ([`TickFailures`]); a poll whose store work failed
//! stretches the next wait ([`Backoff::ticks`]).

mod cache;
mod round;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::backoff::{Backoff, FailureKind, TickFailures};
use crate::decide::scm_poll::{PrSeen, ThreadsSeen};
use crate::domain::{
    CheckRunDigest, ProjectId, RepoRef, ReviewThread, SessionId, SessionRecord, Timestamp, meta,
};
use crate::lifecycle::Lcm;
use crate::ports::{Clock, OpenPrPage, ScmProvider, Store};

use cache::Fifo;
use round::{RateLimited, Round};

/// The default poll interval.
pub const SCM_POLL_INTERVAL: Duration = Duration::from_secs(30);
/// The poll interval while less than 5% of a rate-limit window remains.
pub const LOW_QUOTA_INTERVAL: Duration = Duration::from_secs(120);
/// How often a disabled observer (no token) checks again.
pub const NO_TOKEN_RECHECK: Duration = Duration::from_secs(300);
/// Entries per in-memory cache.
pub const CACHE_CAPACITY: usize = 512;
/// Pages of one repository's open-PR list followed per poll.
pub const MAX_PAGES: usize = 10;
/// PRs per GraphQL request.
pub const DETAILS_BATCH: usize = 25;
/// Concurrent check-runs and log requests.
const CONCURRENCY: usize = 8;

/// What one poll did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PollOutcome {
    /// No token: the observer is disabled until one appears.
    Disabled(String),
    /// Rate limited (or the quota share is spent) until then; nothing was emitted.
    Paused(Timestamp),
    Polled(PollReport),
}

/// The sessions a completed poll touched.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollReport {
    /// Sessions with a branch on a GitHub repository.
    pub subjects: Vec<SessionId>,
    /// Sessions whose PR details were fetched.
    pub refreshed: Vec<SessionId>,
    /// Sessions whose new facts were stored and applied.
    pub applied: Vec<SessionId>,
    /// Sessions whose refresh failed (no observation).
    pub failed: Vec<SessionId>,
    /// Store operations of the poll that failed.
    pub store_failures: usize,
}

/// A session the observer looks after.
#[derive(Debug, Clone)]
struct Subject {
    record: SessionRecord,
    branch: String,
    /// Where PRs are opened (the origin repository).
    base: RepoRef,
    /// Where the branch is pushed (origin, or the project's `push_remote`).
    push: RepoRef,
}

/// One page of an open-PR list as cached.
#[derive(Debug, Clone)]
struct CachedPage {
    url: Option<String>,
    etag: Option<String>,
    page: OpenPrPage,
}

/// The check runs of a PR's head as cached.
#[derive(Debug, Clone)]
struct CachedChecks {
    sha: String,
    etag: Option<String>,
    runs: Vec<CheckRunDigest>,
}

/// What the observer remembers of a PR's last successful refresh.
#[derive(Debug, Clone)]
struct PrMemo {
    seen: PrSeen,
    threads: Vec<ReviewThread>,
    threads_seen: ThreadsSeen,
}

type PrKey = (RepoRef, u64);

/// The in-memory state of the observer (lost on restart, by design).
struct State {
    pages: Fifo<(RepoRef, usize), CachedPage>,
    checks: Fifo<PrKey, CachedChecks>,
    prs: Fifo<PrKey, PrMemo>,
    /// Log tails by (repository, job id).
    logs: Fifo<(RepoRef, u64), Vec<String>>,
    /// Sessions whose previous attempt failed: their next facts are applied even if equal.
    failed_last: HashSet<SessionId>,
    /// The "disabled" line was logged.
    disabled: bool,
}

impl Default for State {
    fn default() -> Self {
        Self {
            pages: Fifo::new(CACHE_CAPACITY),
            checks: Fifo::new(CACHE_CAPACITY),
            prs: Fifo::new(CACHE_CAPACITY),
            logs: Fifo::new(CACHE_CAPACITY),
            failed_last: HashSet::new(),
            disabled: false,
        }
    }
}

/// The SCM observer.
pub struct ScmObserver {
    lcm: Arc<Lcm>,
    store: Arc<dyn Store>,
    provider: Arc<dyn ScmProvider>,
    clock: Arc<dyn Clock>,
    interval: Duration,
    state: tokio::sync::Mutex<State>,
    failures: std::sync::Mutex<TickFailures>,
}

impl ScmObserver {
    pub fn new(
        lcm: Arc<Lcm>,
        store: Arc<dyn Store>,
        provider: Arc<dyn ScmProvider>,
        clock: Arc<dyn Clock>,
        interval: Duration,
    ) -> Self {
        Self {
            lcm,
            store,
            provider,
            clock,
            interval,
            state: tokio::sync::Mutex::new(State::default()),
            failures: std::sync::Mutex::default(),
        }
    }

    fn lock_failures(&self) -> std::sync::MutexGuard<'_, TickFailures> {
        self.failures.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts a failure of the current poll and logs it through the throttle.
    fn failed(&self, kind: FailureKind, what: &str, error: &dyn std::fmt::Display) {
        if let Some(line) = self.lock_failures().failed(kind) {
            warn!(error = %error, "SCM observer: {what} failed{line}");
        }
    }

    /// A failed fetch from the code host: logged through the throttle; the PR state stays.
    fn fetch_failed(&self, what: &str, error: &dyn std::fmt::Display) {
        if let Some(line) = self.lock_failures().failed(FailureKind::Other) {
            warn!(error = %error, "SCM observer: {what} failed{line}; keeping the previous PR state");
        }
    }

    /// Polls until cancelled: the first poll at once, then every interval (2 minutes while the
    /// quota is low, until the pause ends while rate limited, 5 minutes while disabled; after a
    /// run of polls whose store work failed, a wait doubling up to 30 s or the interval).
    pub async fn run(self: Arc<Self>, cancel: CancellationToken) {
        let mut backoff = Backoff::ticks(self.interval);
        loop {
            let outcome = tokio::select! {
                _ = cancel.cancelled() => return,
                outcome = self.poll_once() => outcome,
            };
            let store_failed = matches!(&outcome, PollOutcome::Polled(r) if r.store_failures > 0);
            let wait = if store_failed {
                self.wait_after(&outcome).max(backoff.fail())
            } else {
                backoff.succeed();
                self.wait_after(&outcome)
            };
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    fn wait_after(&self, outcome: &PollOutcome) -> Duration {
        let now = self.clock.now();
        match outcome {
            PollOutcome::Disabled(_) => NO_TOKEN_RECHECK,
            PollOutcome::Paused(until) => {
                Duration::from_millis(u64::try_from(until.millis_since(now)).unwrap_or(0))
            }
            PollOutcome::Polled(_) => match self.provider.pacing(now).low_quota_until {
                Some(_) => self.interval.max(LOW_QUOTA_INTERVAL),
                None => self.interval,
            },
        }
    }

    /// One poll: the token and the pause are checked first, then a [`Round`] over the subjects.
    pub async fn poll_once(&self) -> PollOutcome {
        let mut state = self.state.lock().await;
        match self.provider.credentials().await {
            Err(e) => {
                if !state.disabled {
                    info!(
                        "SCM observer disabled: {e}; checking again every {} minutes",
                        NO_TOKEN_RECHECK.as_secs() / 60
                    );
                    state.disabled = true;
                }
                return PollOutcome::Disabled(e.to_string());
            }
            Ok(source) => {
                if state.disabled {
                    info!(token = %source, "SCM observer enabled: GitHub token found");
                    state.disabled = false;
                }
            }
        }
        if let Some(until) = self.provider.pacing(self.clock.now()).paused_until {
            return PollOutcome::Paused(until);
        }
        let subjects = self.subjects().await;
        let outcome = match Round::new(self, &mut state, subjects).run().await {
            Ok(report) => PollOutcome::Polled(report),
            Err(RateLimited(until)) => PollOutcome::Paused(until),
        };
        let end = self.lock_failures().end_tick();
        if let Some(n) = end.recovered {
            info!(failures = n, "SCM observer works again");
        }
        match outcome {
            PollOutcome::Polled(report) => PollOutcome::Polled(PollReport {
                store_failures: end.store_failures,
                ..report
            }),
            other => other,
        }
    }

    /// Non-terminal sessions with a branch on a GitHub repository, in id order.
    async fn subjects(&self) -> Vec<Subject> {
        let mut running = match self.lcm.running_sessions().await {
            Ok(r) => r,
            Err(e) => {
                self.failed(FailureKind::Store, "listing sessions", &e);
                return vec![];
            }
        };
        running.sort_by(|a, b| (&a.project_id, a.num).cmp(&(&b.project_id, b.num)));
        let mut repos: HashMap<ProjectId, Option<(RepoRef, RepoRef)>> = HashMap::new();
        let mut subjects = vec![];
        for record in running {
            let Some(branch) = record.meta(meta::BRANCH).filter(|b| !b.is_empty()) else {
                continue;
            };
            let branch = branch.to_owned();
            if !repos.contains_key(&record.project_id) {
                let resolved = self.project_repos(&record.project_id).await;
                repos.insert(record.project_id.clone(), resolved);
            }
            if let Some(Some((base, push))) = repos.get(&record.project_id) {
                subjects.push(Subject {
                    base: base.clone(),
                    push: push.clone(),
                    branch,
                    record,
                });
            }
        }
        subjects
    }

    /// The origin and push repositories of a project, when both are on GitHub.
    async fn project_repos(&self, project: &ProjectId) -> Option<(RepoRef, RepoRef)> {
        let project = match self.store.project(project).await {
            Ok(Some(p)) => p,
            Ok(None) => return None,
            Err(e) => {
                self.failed(
                    FailureKind::Store,
                    &format!("reading project {project}"),
                    &e,
                );
                return None;
            }
        };
        let remote = |name: String| {
            let provider = self.provider.clone();
            let path = project.repo_path.clone();
            async move { provider.remote_repository(&path, &name).await }
        };
        let base = match remote("origin".to_owned()).await {
            Ok(Some(base)) => base,
            Ok(None) => return None,
            Err(e) => {
                let what = format!("reading the origin remote of {}", project.id);
                self.failed(FailureKind::Other, &what, &e);
                return None;
            }
        };
        let push = match project.settings.push_remote.clone() {
            None => base.clone(),
            Some(name) => match remote(name.clone()).await {
                Ok(Some(push)) => push,
                Ok(None) => {
                    debug!(project = %project.id, remote = %name, "push remote is not on GitHub");
                    return None;
                }
                Err(e) => {
                    let what = format!("reading the push remote {name} of {}", project.id);
                    self.failed(FailureKind::Other, &what, &e);
                    return None;
                }
            },
        };
        Some((base, push))
    }
}

#[cfg(test)]
mod tests;
