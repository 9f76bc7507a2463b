//! One poll of the SCM observer as a round of phases over the sessions it looks after: list
//! each repository's open PRs, attribute them, fetch their check runs, choose the PRs to
//! refresh, fetch their details and the log tails of failed jobs, report each session's facts,
//! and keep in the caches what the round learned.
//!
//! Each phase reads what the earlier ones left in the [`Round`] and adds its own. A failure ends
//! only its session's part of the round ([`Round::fail`]): no observation, and its snapshot stays.
//! A rate limit ends the whole round before anything is reported or cached.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Display;

use futures::StreamExt;
use tracing::{debug, warn};

use super::{
    CONCURRENCY, CachedChecks, CachedPage, DETAILS_BATCH, MAX_PAGES, PollReport, PrKey, PrMemo,
    ScmObserver, State, Subject,
};
use crate::backoff::FailureKind;
use crate::decide::scm_poll::{
    Claim, LOG_TAIL_LINES, PrSeen, ThreadsSeen, attribute, failed_jobs, log_tail, needs_refresh,
    normalize, same_facts, threads_due,
};
use crate::domain::{
    LogTail, OpenPr, PrDetails, PrState, RepoRef, ReviewThread, SessionId, Timestamp,
};
use crate::ports::{Conditional, DetailRequest, ScmError};

/// Why a round stopped early: the provider is rate limited until then.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct RateLimited(pub(super) Timestamp);

/// Stops the round when `e` is a rate limit; any other error is the caller's to handle.
fn stop_if_rate_limited(e: &ScmError) -> Result<(), RateLimited> {
    match e {
        ScmError::RateLimited { until, .. } => Err(RateLimited(*until)),
        _ => Ok(()),
    }
}

/// How a subject's PR is found this round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Target {
    /// No open PR and none the record shows as active: nothing to report.
    Nothing,
    /// Its open PR from the list.
    Open(OpenPr),
    /// The record shows an active PR that is not in the open list: fetch it by number.
    ByNumber(u64),
    /// Its repository's list or its PR's check runs could not be fetched.
    Failed(String),
}

/// Why a session's refresh failed this round.
#[derive(Debug)]
enum Failure {
    /// An earlier phase found no target for it (that phase logged the request that failed).
    NoTarget(String),
    /// Its PR's details could not be fetched.
    Details { number: u64, error: String },
    /// The store or the LCM refused its observation (`what` names the step).
    Store { what: String, error: String },
}

impl Failure {
    fn store(what: String, error: impl Display) -> Failure {
        Failure::Store {
            what,
            error: error.to_string(),
        }
    }
}

/// What a round learned, cached only when it completes.
#[derive(Debug, Default)]
pub(super) struct Learned {
    pub(super) pages: Vec<((RepoRef, usize), CachedPage)>,
    pub(super) checks: Vec<(PrKey, CachedChecks)>,
    pub(super) prs: Vec<(PrKey, PrMemo)>,
    /// Log tails by (repository, job id).
    pub(super) logs: Vec<((RepoRef, u64), Vec<String>)>,
}

/// One poll in progress. Per-subject results are keyed by the subject's index in `subjects`.
pub(super) struct Round<'a> {
    pub(super) observer: &'a ScmObserver,
    /// The observer's memory: the caches are read by the phases and written only by `commit`.
    pub(super) state: &'a mut State,
    pub(super) now: Timestamp,
    /// In session id order, which is the order of attribution and of the reports.
    pub(super) subjects: Vec<Subject>,
    /// Each repository's open PRs, or why they could not be listed.
    pub(super) lists: BTreeMap<RepoRef, Result<Vec<OpenPr>, String>>,
    pub(super) targets: Vec<Target>,
    /// The check runs of each subject's open PR.
    pub(super) checks: HashMap<usize, (PrKey, CachedChecks)>,
    /// One request per PR to refresh.
    pub(super) requests: Vec<DetailRequest>,
    /// The PR whose details each refreshed subject waits for.
    pub(super) request_of: HashMap<usize, PrKey>,
    pub(super) details: HashMap<PrKey, Result<PrDetails, String>>,
    /// The log tails of each refreshed PR's failed jobs, by job id.
    pub(super) tails: HashMap<PrKey, BTreeMap<u64, LogTail>>,
    pub(super) learned: Learned,
    pub(super) report: PollReport,
}

impl<'a> Round<'a> {
    pub(super) fn new(
        observer: &'a ScmObserver,
        state: &'a mut State,
        subjects: Vec<Subject>,
    ) -> Self {
        Round {
            now: observer.clock.now(),
            report: PollReport {
                subjects: subjects.iter().map(|s| s.record.id.clone()).collect(),
                ..PollReport::default()
            },
            observer,
            state,
            subjects,
            lists: BTreeMap::new(),
            targets: vec![],
            checks: HashMap::new(),
            requests: vec![],
            request_of: HashMap::new(),
            details: HashMap::new(),
            tails: HashMap::new(),
            learned: Learned::default(),
        }
    }

    /// Every phase in order.
    pub(super) async fn run(mut self) -> Result<PollReport, RateLimited> {
        self.list_open_prs().await?;
        self.attribute();
        self.fetch_check_runs().await?;
        self.plan_refreshes();
        self.fetch_details().await?;
        self.fetch_log_tails().await?;
        self.report_facts().await;
        Ok(self.commit())
    }

    /// Ends subject `id`'s part of the round: logged by cause, reported as failed, and its next
    /// facts are applied even if they equal the snapshot.
    fn fail(&mut self, id: &SessionId, why: Failure) {
        match why {
            Failure::NoTarget(reason) => {
                debug!(session = %id, reason = %reason, "SCM refresh failed")
            }
            Failure::Details { number, error } => {
                let what = format!("refreshing PR #{number} of {id}");
                self.observer.fetch_failed(&what, &error);
            }
            Failure::Store { what, error } => {
                self.observer.failed(FailureKind::Store, &what, &error);
            }
        }
        self.state.failed_last.insert(id.clone());
        self.report.failed.push(id.clone());
    }

    /// The open-PR list of every subject's repository, one per repository.
    pub(super) async fn list_open_prs(&mut self) -> Result<(), RateLimited> {
        let repos: BTreeSet<RepoRef> = self.subjects.iter().map(|s| s.base.clone()).collect();
        for repo in repos {
            let list = match self.list_pages(&repo).await {
                Ok((prs, fresh)) => {
                    let fresh = fresh.into_iter().map(|(i, p)| ((repo.clone(), i), p));
                    self.learned.pages.extend(fresh);
                    Ok(prs)
                }
                Err(e) => {
                    stop_if_rate_limited(&e)?;
                    let what = format!("listing the open PRs of {repo}");
                    self.observer.fetch_failed(&what, &e);
                    Err(e.to_string())
                }
            };
            self.lists.insert(repo, list);
        }
        Ok(())
    }

    /// Every page of `repo`'s open PRs (at most [`MAX_PAGES`], each conditional on its cached
    /// ETag), with the pages that changed.
    async fn list_pages(
        &self,
        repo: &RepoRef,
    ) -> Result<(Vec<OpenPr>, Vec<(usize, CachedPage)>), ScmError> {
        let mut prs = vec![];
        let mut fresh = vec![];
        let mut url: Option<String> = None;
        for page in 0..MAX_PAGES {
            let cached = self
                .state
                .pages
                .get(&(repo.clone(), page))
                .filter(|c| c.url == url);
            let etag = cached.and_then(|c| c.etag.as_deref());
            let provider = &self.observer.provider;
            let got = match provider.open_prs(repo, url.as_deref(), etag).await? {
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

    /// Each subject's target: its repository's list failed, its open PR (attributed per
    /// repository, in session id order, the first claimant keeping a PR claimed twice), the
    /// active PR its record shows when the list does not have it, or nothing.
    pub(super) fn attribute(&mut self) {
        let mut assigned: HashMap<SessionId, OpenPr> = HashMap::new();
        for (repo, list) in &self.lists {
            let Ok(prs) = list else { continue };
            let claims: Vec<Claim> = self
                .subjects
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
        self.targets = self
            .subjects
            .iter()
            .map(|s| {
                let pr = &s.record.lifecycle.pr;
                match (&self.lists[&s.base], assigned.remove(&s.record.id)) {
                    (Err(e), _) => Target::Failed(e.clone()),
                    (Ok(_), Some(open)) => Target::Open(open),
                    (Ok(_), None) => match (pr.state, pr.number) {
                        (PrState::Open | PrState::Draft, Some(n)) => Target::ByNumber(n),
                        _ => Target::Nothing,
                    },
                }
            })
            .collect();
    }

    /// The check runs of every open target, conditional on the cached ETag of the same head; a
    /// failed request (or a 304 for runs not cached) fails only its subject.
    pub(super) async fn fetch_check_runs(&mut self) -> Result<(), RateLimited> {
        let wanted: Vec<(usize, PrKey, String, Option<String>)> = self
            .targets
            .iter()
            .enumerate()
            .filter_map(|(i, t)| match t {
                Target::Open(pr) => {
                    let key = (self.subjects[i].base.clone(), pr.number);
                    let etag = self
                        .state
                        .checks
                        .get(&key)
                        .filter(|c| c.sha == pr.head_sha)
                        .and_then(|c| c.etag.clone());
                    Some((i, key, pr.head_sha.clone(), etag))
                }
                _ => None,
            })
            .collect();
        let provider = &self.observer.provider;
        let answers: Vec<_> = futures::stream::iter(wanted)
            .map(|(i, key, sha, etag)| async move {
                let answer = provider.check_runs(&key.0, &sha, etag.as_deref()).await;
                (i, key, sha, answer)
            })
            .buffered(CONCURRENCY)
            .collect()
            .await;
        for (i, key, sha, answer) in answers {
            let runs = match answer {
                Ok(Conditional::NotModified) => match self.state.checks.get(&key) {
                    Some(c) => c.clone(),
                    None => {
                        self.targets[i] = Target::Failed("304 for uncached check runs".to_owned());
                        continue;
                    }
                },
                Ok(Conditional::Modified { etag, value }) => CachedChecks {
                    sha,
                    etag,
                    runs: value,
                },
                Err(e) => {
                    stop_if_rate_limited(&e)?;
                    self.targets[i] = Target::Failed(e.to_string());
                    continue;
                }
            };
            self.checks.insert(i, (key, runs));
        }
        Ok(())
    }

    /// The PRs to refresh and one detail request each: an open PR that is new, moved, has
    /// other check runs or is due its forced refresh, and every PR fetched by number. A
    /// request reads the review threads when any of its subjects has them due.
    pub(super) fn plan_refreshes(&mut self) {
        for (i, target) in self.targets.iter().enumerate() {
            let base = &self.subjects[i].base;
            let (number, updated_at) = match target {
                Target::Open(pr) => {
                    let key = (base.clone(), pr.number);
                    let runs = self
                        .checks
                        .get(&i)
                        .map(|(_, c)| c.runs.as_slice())
                        .unwrap_or(&[]);
                    let seen = self.state.prs.get(&key).map(|m| &m.seen);
                    if !needs_refresh(seen, pr, runs, self.now) {
                        continue;
                    }
                    (pr.number, Some(pr.updated_at.as_str()))
                }
                Target::ByNumber(n) => (*n, None),
                Target::Nothing | Target::Failed(_) => continue,
            };
            let key = (base.clone(), number);
            let memo = self.state.prs.get(&key);
            let with_threads = threads_due(memo.map(|m| &m.threads_seen), updated_at, self.now);
            if let Some(existing) = self
                .requests
                .iter_mut()
                .find(|r| r.repo == key.0 && r.number == key.1)
            {
                existing.with_threads |= with_threads;
            } else {
                self.requests.push(DetailRequest {
                    repo: key.0.clone(),
                    number,
                    with_threads,
                });
            }
            self.request_of.insert(i, key);
        }
    }

    /// The details of every requested PR, [`DETAILS_BATCH`] per request; a failed request fails
    /// every PR in it, a PR the answer reports as failed fails alone.
    pub(super) async fn fetch_details(&mut self) -> Result<(), RateLimited> {
        for batch in self.requests.chunks(DETAILS_BATCH) {
            match self.observer.provider.pr_details(batch).await {
                Ok(results) => {
                    for (req, result) in batch.iter().zip(results) {
                        let key = (req.repo.clone(), req.number);
                        self.details.insert(key, result.map_err(|e| e.to_string()));
                    }
                }
                Err(e) => {
                    stop_if_rate_limited(&e)?;
                    let what = format!("fetching the details of {} PRs", batch.len());
                    self.observer.fetch_failed(&what, &e);
                    for req in batch {
                        let key = (req.repo.clone(), req.number);
                        self.details.insert(key, Err(e.to_string()));
                    }
                }
            }
        }
        Ok(())
    }

    /// The log tail of every failed GitHub Actions job of the fetched PRs: cached tails are
    /// reused, each other job's log is fetched once, and a failed fetch becomes a tail saying
    /// so (and is not cached).
    pub(super) async fn fetch_log_tails(&mut self) -> Result<(), RateLimited> {
        let mut fetches: Vec<(RepoRef, u64)> = vec![];
        for (key, d) in &self.details {
            let Ok(d) = d else { continue };
            let entry = self.tails.entry(key.clone()).or_default();
            for job in failed_jobs(&d.contexts) {
                match self.state.logs.get(&(key.0.clone(), job)) {
                    Some(lines) => {
                        entry.insert(job, LogTail::Lines(lines.clone()));
                    }
                    None => fetches.push((key.0.clone(), job)),
                }
            }
        }
        fetches.sort();
        fetches.dedup();
        let provider = &self.observer.provider;
        let logs: Vec<_> = futures::stream::iter(fetches)
            .map(|(repo, job)| async move {
                let log = provider.job_log(&repo, job).await;
                (repo, job, log)
            })
            .buffered(CONCURRENCY)
            .collect()
            .await;
        let mut fetched: HashMap<(RepoRef, u64), LogTail> = HashMap::new();
        for (repo, job, log) in logs {
            let tail = match log {
                Ok(text) => {
                    let lines = log_tail(&text, LOG_TAIL_LINES);
                    self.learned.logs.push(((repo.clone(), job), lines.clone()));
                    LogTail::Lines(lines)
                }
                Err(e) => {
                    stop_if_rate_limited(&e)?;
                    LogTail::Failed(e.to_string())
                }
            };
            fetched.insert((repo, job), tail);
        }
        for (key, d) in &self.details {
            let Ok(d) = d else { continue };
            let entry = self.tails.entry(key.clone()).or_default();
            for job in failed_jobs(&d.contexts) {
                if let Some(tail) = fetched.get(&(key.0.clone(), job)) {
                    entry.insert(job, tail.clone());
                }
            }
        }
        Ok(())
    }

    /// Reports every subject's facts, in session id order.
    pub(super) async fn report_facts(&mut self) {
        for i in 0..self.subjects.len() {
            if let Err(why) = self.report_subject(i).await {
                let id = self.subjects[i].record.id.clone();
                self.fail(&id, why);
            }
        }
    }

    /// Subject `i`'s refreshed PR, normalised: stored and applied only when the facts differ
    /// from the snapshot or its previous attempt failed. A subject with nothing to refresh
    /// keeps its check runs current in the cache.
    async fn report_subject(&mut self, i: usize) -> Result<(), Failure> {
        let id = &self.subjects[i].record.id;
        if let Target::Failed(why) = &self.targets[i] {
            return Err(Failure::NoTarget(why.clone()));
        }
        let Some(key) = self.request_of.get(&i) else {
            // Nothing to report, or unchanged: the cached check runs are still current.
            self.learned.checks.extend(self.checks.remove(&i));
            return Ok(());
        };
        let d = match self.details.get(key) {
            Some(Ok(d)) => d,
            Some(Err(e)) => {
                return Err(Failure::Details {
                    number: key.1,
                    error: e.clone(),
                });
            }
            None => return Ok(()),
        };
        self.report.refreshed.push(id.clone());
        let memo = self.state.prs.get(key);
        let threads: Vec<ReviewThread> = match &d.threads {
            Some(t) => t.clone(),
            None => memo.map(|m| m.threads.clone()).unwrap_or_default(),
        };
        let empty = BTreeMap::new();
        let facts = normalize(d, &threads, self.tails.get(key).unwrap_or(&empty), self.now);
        let retry = self.state.failed_last.contains(id);
        let store = &self.observer.store;
        let changed = match store.scm_snapshot(id).await {
            Ok(Some(previous)) => retry || !same_facts(&previous, &facts),
            Ok(None) => true,
            Err(e) => return Err(Failure::store(format!("reading the snapshot of {id}"), e)),
        };
        if changed {
            store
                .put_scm_snapshot(id, &facts)
                .await
                .map_err(|e| Failure::store(format!("storing the snapshot of {id}"), e))?;
            self.observer
                .lcm
                .apply_scm_observation(id, &facts)
                .await
                .map_err(|e| Failure::store(format!("applying the PR observation of {id}"), e))?;
            self.report.applied.push(id.clone());
        }
        self.state.failed_last.remove(id);
        let (updated_at, head_sha) = match &self.targets[i] {
            Target::Open(pr) => (pr.updated_at.clone(), pr.head_sha.clone()),
            _ => (String::new(), d.head_sha.clone()),
        };
        let threads_seen = match (&d.threads, memo) {
            (None, Some(m)) => m.threads_seen.clone(),
            _ => ThreadsSeen {
                fetched_at: self.now,
                updated_at: updated_at.clone(),
            },
        };
        let runs = self.checks.remove(&i);
        let memo = PrMemo {
            seen: PrSeen {
                updated_at,
                head_sha,
                checks: runs
                    .as_ref()
                    .map(|(_, c)| c.runs.clone())
                    .unwrap_or_default(),
                refreshed_at: self.now,
            },
            threads,
            threads_seen,
        };
        self.learned.prs.push((key.clone(), memo));
        self.learned.checks.extend(runs);
        Ok(())
    }

    /// Keeps what the round learned in the caches (reached only when no rate limit stopped
    /// it) and hands back the report.
    pub(super) fn commit(self) -> PollReport {
        let Learned {
            pages,
            checks,
            prs,
            logs,
        } = self.learned;
        for (key, page) in pages {
            self.state.pages.insert(key, page);
        }
        for (key, runs) in checks {
            self.state.checks.insert(key, runs);
        }
        for (key, memo) in prs {
            self.state.prs.insert(key, memo);
        }
        for (key, lines) in logs {
            self.state.logs.insert(key, lines);
        }
        self.report
    }
}
