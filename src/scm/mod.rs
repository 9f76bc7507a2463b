//! The SCM observer (scm-and-notify.md sections 2–5): polls the code host for the pull request
//! of every running session and reports what it learns to the LCM.
//!
//! One poll: the sessions with a branch whose project has a GitHub origin; each repository's
//! open-PR list (conditional, paged); attribution by head ref and head repository; one
//! conditional check-runs request per attributed PR; details (GraphQL, 25 PRs per request) only
//! for PRs that changed, are new, went missing from the list, or were not refreshed for 5
//! minutes; log tails of failed GitHub Actions jobs; normalisation (`decide::scm`); and, only
//! when the facts differ from the stored snapshot (or the previous attempt failed), the snapshot
//! write followed by `Lcm::apply_scm_observation`, in session id order.
//!
//! A failed fetch is never "no PR": the session gets no observation, its snapshot stays, and no
//! cache entry of the failed scope is committed. While the provider is rate limited the observer
//! emits nothing. Without a token it disables itself, says so once, and checks every 5 minutes.
//! Failures are logged through one throttle ([`TickFailures`]); a poll whose store work failed
//! stretches the next wait ([`Backoff::ticks`]).

mod cache;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::backoff::{Backoff, FailureKind, TickFailures};
use crate::decide::scm::{
    Claim, LOG_TAIL_LINES, PrSeen, ThreadsSeen, attribute, failed_jobs, log_tail, needs_refresh,
    normalize, same_facts, threads_due,
};
use crate::domain::{
    CheckRunDigest, LogTail, OpenPr, PrDetails, PrState, ProjectId, RepoRef, ReviewThread,
    SessionId, SessionRecord, Timestamp, meta,
};
use crate::lifecycle::Lcm;
use crate::ports::{Clock, Conditional, DetailRequest, OpenPrPage, ScmError, ScmProvider, Store};

use cache::Fifo;

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

/// How a subject's PR is found this poll.
#[derive(Debug, Clone)]
enum Target {
    /// No open PR and none the record shows as active: nothing to report.
    Nothing,
    /// Its open PR from the list.
    Open(OpenPr),
    /// The record shows an active PR that is not in the open list: fetch it by number.
    ByNumber(u64),
    Failed(String),
}

/// Why a poll stopped early.
struct RateLimited(Timestamp);

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

fn abort_on_rate_limit(e: &ScmError) -> Option<RateLimited> {
    match e {
        ScmError::RateLimited { until, .. } => Some(RateLimited(*until)),
        _ => None,
    }
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

    /// One poll (section 3).
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
        let outcome = match self.poll(&mut state, subjects).await {
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

    /// Every page of `repo`'s open PRs, with the pages that changed (to cache on success).
    async fn list_open(
        &self,
        state: &State,
        repo: &RepoRef,
    ) -> Result<(Vec<OpenPr>, Vec<(usize, CachedPage)>), ScmError> {
        let mut prs = vec![];
        let mut fresh = vec![];
        let mut url: Option<String> = None;
        for page in 0..MAX_PAGES {
            let cached = state
                .pages
                .get(&(repo.clone(), page))
                .filter(|c| c.url == url);
            let etag = cached.and_then(|c| c.etag.as_deref());
            let got = match self.provider.open_prs(repo, url.as_deref(), etag).await? {
                Conditional::NotModified => match cached {
                    Some(c) => c.page.clone(),
                    None => {
                        return Err(ScmError::Failed(format!(
                            "open PRs of {repo}: 304 for a page ao has not cached"
                        )));
                    }
                },
                Conditional::Modified { etag, value } => {
                    fresh.push((
                        page,
                        CachedPage {
                            url: url.clone(),
                            etag,
                            page: value.clone(),
                        },
                    ));
                    value
                }
            };
            prs.extend(got.prs);
            match got.next {
                Some(next) => url = Some(next),
                None => break,
            }
        }
        Ok((prs, fresh))
    }

    async fn poll(
        &self,
        state: &mut State,
        subjects: Vec<Subject>,
    ) -> Result<PollReport, RateLimited> {
        let now = self.clock.now();
        let mut report = PollReport {
            subjects: subjects.iter().map(|s| s.record.id.clone()).collect(),
            ..PollReport::default()
        };

        // Open-PR lists, one per repository.
        let repos: BTreeSet<RepoRef> = subjects.iter().map(|s| s.base.clone()).collect();
        let mut lists: BTreeMap<RepoRef, Result<Vec<OpenPr>, String>> = BTreeMap::new();
        let mut page_commits = vec![];
        for repo in repos {
            match self.list_open(state, &repo).await {
                Ok((prs, fresh)) => {
                    page_commits.extend(fresh.into_iter().map(|(i, p)| ((repo.clone(), i), p)));
                    lists.insert(repo, Ok(prs));
                }
                Err(e) => {
                    if let Some(stop) = abort_on_rate_limit(&e) {
                        return Err(stop);
                    }
                    self.fetch_failed(&format!("listing the open PRs of {repo}"), &e);
                    lists.insert(repo, Err(e.to_string()));
                }
            }
        }

        // Attribution, per repository, in session id order.
        let mut targets: Vec<Target> = vec![];
        let mut assigned: HashMap<SessionId, OpenPr> = HashMap::new();
        for (repo, list) in &lists {
            let Ok(prs) = list else { continue };
            let claims: Vec<Claim> = subjects
                .iter()
                .filter(|s| &s.base == repo)
                .map(|s| Claim {
                    session: s.record.id.clone(),
                    branch: s.branch.clone(),
                    push_repo: s.push.clone(),
                })
                .collect();
            let attribution = attribute(&claims, prs);
            for (loser, number, keeper) in &attribution.contested {
                warn!(session = %loser, pr = number, kept_by = %keeper, repo = %repo, "two sessions claim one PR; the first in id order keeps it");
            }
            for (session, number) in attribution.assigned {
                if let Some(pr) = prs.iter().find(|p| p.number == number) {
                    assigned.insert(session, pr.clone());
                }
            }
        }
        for s in &subjects {
            let pr = &s.record.lifecycle.pr;
            targets.push(match (&lists[&s.base], assigned.get(&s.record.id)) {
                (Err(e), _) => Target::Failed(e.clone()),
                (Ok(_), Some(open)) => Target::Open(open.clone()),
                (Ok(_), None) => match (pr.state, pr.number) {
                    (PrState::Open | PrState::Draft, Some(n)) => Target::ByNumber(n),
                    _ => Target::Nothing,
                },
            });
        }

        // Check runs of every attributed PR, conditional on the cached ETag.
        let wanted: Vec<(usize, PrKey, String, Option<String>)> = targets
            .iter()
            .enumerate()
            .filter_map(|(i, t)| match t {
                Target::Open(pr) => {
                    let key = (subjects[i].base.clone(), pr.number);
                    let etag = state
                        .checks
                        .get(&key)
                        .filter(|c| c.sha == pr.head_sha)
                        .and_then(|c| c.etag.clone());
                    Some((i, key, pr.head_sha.clone(), etag))
                }
                _ => None,
            })
            .collect();
        let provider = &self.provider;
        let answers: Vec<_> = futures::stream::iter(wanted)
            .map(|(i, key, sha, etag)| async move {
                let answer = provider.check_runs(&key.0, &sha, etag.as_deref()).await;
                (i, key, sha, answer)
            })
            .buffered(CONCURRENCY)
            .collect()
            .await;
        let mut checks: HashMap<usize, (PrKey, CachedChecks)> = HashMap::new();
        for (i, key, sha, answer) in answers {
            let runs = match answer {
                Ok(Conditional::NotModified) => match state.checks.get(&key) {
                    Some(c) => c.clone(),
                    None => {
                        targets[i] = Target::Failed("304 for uncached check runs".to_owned());
                        continue;
                    }
                },
                Ok(Conditional::Modified { etag, value }) => CachedChecks {
                    sha,
                    etag,
                    runs: value,
                },
                Err(e) => {
                    if let Some(stop) = abort_on_rate_limit(&e) {
                        return Err(stop);
                    }
                    targets[i] = Target::Failed(e.to_string());
                    continue;
                }
            };
            checks.insert(i, (key, runs));
        }

        // Refresh candidates and the detail requests for them.
        let mut requests: Vec<DetailRequest> = vec![];
        let mut request_of: HashMap<usize, PrKey> = HashMap::new();
        for (i, target) in targets.iter().enumerate() {
            let base = &subjects[i].base;
            let (number, updated_at) = match target {
                Target::Open(pr) => {
                    let key = (base.clone(), pr.number);
                    let runs = checks
                        .get(&i)
                        .map(|(_, c)| c.runs.as_slice())
                        .unwrap_or(&[]);
                    let seen = state.prs.get(&key).map(|m| &m.seen);
                    if !needs_refresh(seen, pr, runs, now) {
                        continue;
                    }
                    (pr.number, Some(pr.updated_at.as_str()))
                }
                Target::ByNumber(n) => (*n, None),
                Target::Nothing | Target::Failed(_) => continue,
            };
            let key = (base.clone(), number);
            let memo = state.prs.get(&key);
            let with_threads = threads_due(memo.map(|m| &m.threads_seen), updated_at, now);
            if let Some(existing) = requests
                .iter_mut()
                .find(|r| r.repo == key.0 && r.number == key.1)
            {
                existing.with_threads |= with_threads;
            } else {
                requests.push(DetailRequest {
                    repo: key.0.clone(),
                    number,
                    with_threads,
                });
            }
            request_of.insert(i, key);
        }

        // Details, 25 PRs per GraphQL request.
        let mut details: HashMap<PrKey, Result<PrDetails, String>> = HashMap::new();
        for batch in requests.chunks(DETAILS_BATCH) {
            match self.provider.pr_details(batch).await {
                Ok(results) => {
                    for (req, result) in batch.iter().zip(results) {
                        let key = (req.repo.clone(), req.number);
                        details.insert(key, result.map_err(|e| e.to_string()));
                    }
                }
                Err(e) => {
                    if let Some(stop) = abort_on_rate_limit(&e) {
                        return Err(stop);
                    }
                    let what = format!("fetching the details of {} PRs", batch.len());
                    self.fetch_failed(&what, &e);
                    for req in batch {
                        details.insert((req.repo.clone(), req.number), Err(e.to_string()));
                    }
                }
            }
        }

        // Log tails of failed GitHub Actions jobs.
        let mut tails: HashMap<PrKey, BTreeMap<u64, LogTail>> = HashMap::new();
        let mut log_fetches: Vec<(RepoRef, u64)> = vec![];
        for (key, d) in &details {
            let Ok(d) = d else { continue };
            let entry = tails.entry(key.clone()).or_default();
            for job in failed_jobs(&d.contexts) {
                match state.logs.get(&(key.0.clone(), job)) {
                    Some(lines) => {
                        entry.insert(job, LogTail::Lines(lines.clone()));
                    }
                    None => log_fetches.push((key.0.clone(), job)),
                }
            }
        }
        log_fetches.sort();
        log_fetches.dedup();
        let logs: Vec<_> = futures::stream::iter(log_fetches)
            .map(|(repo, job)| async move {
                let log = provider.job_log(&repo, job).await;
                (repo, job, log)
            })
            .buffered(CONCURRENCY)
            .collect()
            .await;
        let mut log_commits = vec![];
        let mut fetched_logs: HashMap<(RepoRef, u64), LogTail> = HashMap::new();
        for (repo, job, log) in logs {
            let tail = match log {
                Ok(text) => {
                    let lines = log_tail(&text, LOG_TAIL_LINES);
                    log_commits.push(((repo.clone(), job), lines.clone()));
                    LogTail::Lines(lines)
                }
                Err(e) => {
                    if let Some(stop) = abort_on_rate_limit(&e) {
                        return Err(stop);
                    }
                    LogTail::Failed(e.to_string())
                }
            };
            fetched_logs.insert((repo, job), tail);
        }
        for (key, d) in &details {
            let Ok(d) = d else { continue };
            let entry = tails.entry(key.clone()).or_default();
            for job in failed_jobs(&d.contexts) {
                if let Some(tail) = fetched_logs.get(&(key.0.clone(), job)) {
                    entry.insert(job, tail.clone());
                }
            }
        }

        // Normalise and emit, in session id order.
        let mut pr_commits: Vec<(PrKey, PrMemo)> = vec![];
        let mut check_commits: Vec<(PrKey, CachedChecks)> = vec![];
        for (i, subject) in subjects.iter().enumerate() {
            let id = &subject.record.id;
            if let Target::Failed(why) = &targets[i] {
                debug!(session = %id, reason = %why, "SCM refresh failed");
                state.failed_last.insert(id.clone());
                report.failed.push(id.clone());
                continue;
            }
            let Some(key) = request_of.get(&i) else {
                // Nothing to report, or unchanged: the cached check runs are still current.
                if let Some(c) = checks.remove(&i) {
                    check_commits.push(c);
                }
                continue;
            };
            let d = match details.get(key) {
                Some(Ok(d)) => d,
                Some(Err(e)) => {
                    self.fetch_failed(&format!("refreshing PR #{} of {id}", key.1), e);
                    state.failed_last.insert(id.clone());
                    report.failed.push(id.clone());
                    continue;
                }
                None => continue,
            };
            report.refreshed.push(id.clone());
            let memo = state.prs.get(key);
            let threads: Vec<ReviewThread> = match &d.threads {
                Some(t) => t.clone(),
                None => memo.map(|m| m.threads.clone()).unwrap_or_default(),
            };
            let empty = BTreeMap::new();
            let facts = normalize(d, &threads, tails.get(key).unwrap_or(&empty), now);
            let retry = state.failed_last.contains(id);
            let changed = match self.store.scm_snapshot(id).await {
                Ok(Some(previous)) => retry || !same_facts(&previous, &facts),
                Ok(None) => true,
                Err(e) => {
                    self.failed(
                        FailureKind::Store,
                        &format!("reading the snapshot of {id}"),
                        &e,
                    );
                    state.failed_last.insert(id.clone());
                    report.failed.push(id.clone());
                    continue;
                }
            };
            if changed {
                if let Err(e) = self.store.put_scm_snapshot(id, &facts).await {
                    self.failed(
                        FailureKind::Store,
                        &format!("storing the snapshot of {id}"),
                        &e,
                    );
                    state.failed_last.insert(id.clone());
                    report.failed.push(id.clone());
                    continue;
                }
                if let Err(e) = self.lcm.apply_scm_observation(id, &facts).await {
                    let what = format!("applying the PR observation of {id}");
                    self.failed(FailureKind::Store, &what, &e);
                    state.failed_last.insert(id.clone());
                    report.failed.push(id.clone());
                    continue;
                }
                report.applied.push(id.clone());
            }
            state.failed_last.remove(id);
            let (updated_at, head_sha) = match &targets[i] {
                Target::Open(pr) => (pr.updated_at.clone(), pr.head_sha.clone()),
                _ => (String::new(), d.head_sha.clone()),
            };
            let threads_seen = match (&d.threads, memo) {
                (None, Some(m)) => m.threads_seen.clone(),
                _ => ThreadsSeen {
                    fetched_at: now,
                    updated_at: updated_at.clone(),
                },
            };
            let runs = checks.remove(&i);
            pr_commits.push((
                key.clone(),
                PrMemo {
                    seen: PrSeen {
                        updated_at,
                        head_sha,
                        checks: runs
                            .as_ref()
                            .map(|(_, c)| c.runs.clone())
                            .unwrap_or_default(),
                        refreshed_at: now,
                    },
                    threads,
                    threads_seen,
                },
            ));
            check_commits.extend(runs);
        }

        // Commit what succeeded.
        for (key, page) in page_commits {
            state.pages.insert(key, page);
        }
        for (key, checks) in check_commits {
            state.checks.insert(key, checks);
        }
        for (key, memo) in pr_commits {
            state.prs.insert(key, memo);
        }
        for (key, lines) in log_commits {
            state.logs.insert(key, lines);
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests;
