//! The SCM observer against an in-memory provider, the real LCM, reactions and message delivery
//! over the memory store: cadence, conditional requests, batching, attribution, the
//! `fetched = false` guard, rate-limit pauses and the no-token state.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use async_trait::async_trait;
use tracing::Level;

use super::*;
use crate::domain::{
    CheckContext, GITHUB_ACTIONS_APP, OpenPr, PrDetails, PrState, Project, ProjectSettings,
    RuntimeState, SessionReason, SessionState, Status, ThreadComment, derive_status_static,
};
use crate::fixtures::{lc, mins, secs, t0};
use crate::ports::{Conditional, DetailRequest, Pacing, ScmError};
use crate::testing::MemoryStore;
use crate::testing::{Harness, LogCapture};

/// One PR of the fake host.
#[derive(Debug, Clone)]
struct FakePr {
    /// In the open list.
    listed: bool,
    open: OpenPr,
    details: PrDetails,
    checks: Vec<CheckRunDigest>,
}

#[derive(Debug, Default)]
struct Inner {
    no_token: bool,
    remotes: HashMap<(PathBuf, String), RepoRef>,
    prs: BTreeMap<(RepoRef, u64), FakePr>,
    logs: HashMap<u64, Result<String, ScmError>>,
    /// Failures by call kind (`list`, `checks`, `details`, `log`), until cleared.
    fail: HashMap<&'static str, ScmError>,
    /// A failure for the check runs of one PR number only.
    fail_checks_of: Option<(u64, ScmError)>,
    pacing: Pacing,
    /// PRs per page of the open list (one page when unset).
    page_size: Option<usize>,
    calls: Vec<String>,
    /// Sizes of the detail batches, and whether each request asked for threads.
    batches: Vec<Vec<(u64, bool)>>,
    tick: u64,
}

/// An in-memory code host speaking the provider port, ETags included.
#[derive(Debug, Default)]
struct FakeHost(Mutex<Inner>);

fn etag_of<T: Hash>(value: &T) -> String {
    let mut h = DefaultHasher::new();
    value.hash(&mut h);
    format!("\"{:x}\"", h.finish())
}

fn repo() -> RepoRef {
    RepoRef::new("acme", "app")
}

impl FakeHost {
    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.0.lock().unwrap()
    }

    fn calls(&self, prefix: &str) -> Vec<String> {
        self.inner()
            .calls
            .iter()
            .filter(|c| c.starts_with(prefix))
            .cloned()
            .collect()
    }

    fn clear_calls(&self) {
        self.inner().calls.clear();
        self.inner().batches.clear();
    }

    /// Opens PR `number` on `branch`, pushed to `head_repo`.
    fn open_pr(&self, number: u64, branch: &str, head_repo: &RepoRef) {
        let mut inner = self.inner();
        inner.tick += 1;
        let sha = format!("{number:04x}aa");
        let pr = FakePr {
            listed: true,
            open: OpenPr {
                number,
                head_ref: branch.to_owned(),
                head_repo: Some(head_repo.clone()),
                head_sha: sha.clone(),
                updated_at: format!("u{}", inner.tick),
            },
            details: PrDetails {
                number,
                url: format!("https://github.com/acme/app/pull/{number}"),
                state: "OPEN".into(),
                is_draft: false,
                merged: false,
                merged_at: None,
                head_sha: sha,
                base_sha: "base".into(),
                mergeable: "MERGEABLE".into(),
                merge_state_status: "BLOCKED".into(),
                review_decision: Some("REVIEW_REQUIRED".into()),
                contexts: vec![],
                threads: Some(vec![]),
            },
            checks: vec![],
        };
        inner.prs.insert((repo(), number), pr);
    }

    /// Changes a PR; `touch` moves its `updated_at` like GitHub does for reviews and pushes.
    fn change(&self, number: u64, touch: bool, f: impl FnOnce(&mut FakePr)) {
        let mut inner = self.inner();
        inner.tick += 1;
        let tick = inner.tick;
        let pr = inner.prs.get_mut(&(repo(), number)).expect("known PR");
        f(pr);
        if touch {
            pr.open.updated_at = format!("u{tick}");
        }
    }

    fn fail(&self, kind: &'static str, error: Option<ScmError>) {
        match error {
            Some(e) => self.inner().fail.insert(kind, e),
            None => self.inner().fail.remove(kind),
        };
    }
}

fn transient() -> ScmError {
    ScmError::Transient("HTTP 500".into())
}

#[async_trait]
impl ScmProvider for FakeHost {
    async fn credentials(&self) -> Result<String, ScmError> {
        if self.inner().no_token {
            Err(ScmError::NoToken("set AO_GITHUB_TOKEN".into()))
        } else {
            Ok("AO_GITHUB_TOKEN".into())
        }
    }

    async fn remote_repository(
        &self,
        repo_path: &Path,
        remote: &str,
    ) -> Result<Option<RepoRef>, ScmError> {
        Ok(self
            .inner()
            .remotes
            .get(&(repo_path.to_path_buf(), remote.to_owned()))
            .cloned())
    }

    async fn open_prs(
        &self,
        repo: &RepoRef,
        page_url: Option<&str>,
        etag: Option<&str>,
    ) -> Result<Conditional<OpenPrPage>, ScmError> {
        let mut inner = self.inner();
        inner.calls.push(format!(
            "list {repo} page={page_url:?} etag={}",
            etag.is_some()
        ));
        if let Some(e) = inner.fail.get("list") {
            return Err(e.clone());
        }
        let all: Vec<OpenPr> = inner
            .prs
            .iter()
            .filter(|((r, _), pr)| r == repo && pr.listed)
            .map(|(_, pr)| pr.open.clone())
            .collect();
        let size = inner.page_size.unwrap_or(usize::MAX);
        let page: usize = page_url
            .and_then(|u| u.strip_prefix("page-"))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let prs: Vec<OpenPr> = all.iter().skip(page * size).take(size).cloned().collect();
        let next =
            (all.len() > (page + 1).saturating_mul(size)).then(|| format!("page-{}", page + 1));
        let current = etag_of(&format!("{prs:?}{next:?}"));
        if etag == Some(current.as_str()) {
            return Ok(Conditional::NotModified);
        }
        Ok(Conditional::Modified {
            etag: Some(current),
            value: OpenPrPage { prs, next },
        })
    }

    async fn check_runs(
        &self,
        repo: &RepoRef,
        sha: &str,
        etag: Option<&str>,
    ) -> Result<Conditional<Vec<CheckRunDigest>>, ScmError> {
        let mut inner = self.inner();
        inner
            .calls
            .push(format!("checks {repo}@{sha} etag={}", etag.is_some()));
        if let Some(e) = inner.fail.get("checks") {
            return Err(e.clone());
        }
        let pr = inner
            .prs
            .values()
            .find(|p| p.open.head_sha == sha)
            .cloned()
            .ok_or_else(|| ScmError::NotFound(sha.to_owned()))?;
        if let Some((n, e)) = &inner.fail_checks_of
            && *n == pr.open.number
        {
            return Err(e.clone());
        }
        let current = etag_of(&format!("{:?}", pr.checks));
        if etag == Some(current.as_str()) {
            return Ok(Conditional::NotModified);
        }
        Ok(Conditional::Modified {
            etag: Some(current),
            value: pr.checks,
        })
    }

    async fn pr_details(
        &self,
        batch: &[DetailRequest],
    ) -> Result<Vec<Result<PrDetails, ScmError>>, ScmError> {
        let mut inner = self.inner();
        inner.calls.push(format!("details {}", batch.len()));
        inner
            .batches
            .push(batch.iter().map(|r| (r.number, r.with_threads)).collect());
        if let Some(e) = inner.fail.get("details") {
            return Err(e.clone());
        }
        assert!(batch.len() <= DETAILS_BATCH);
        Ok(batch
            .iter()
            .map(|r| {
                let pr = inner
                    .prs
                    .get(&(r.repo.clone(), r.number))
                    .ok_or_else(|| ScmError::NotFound(format!("#{}", r.number)))?;
                let mut d = pr.details.clone();
                if !r.with_threads {
                    d.threads = None;
                }
                Ok(d)
            })
            .collect())
    }

    async fn job_log(&self, _repo: &RepoRef, job_id: u64) -> Result<String, ScmError> {
        let mut inner = self.inner();
        inner.calls.push(format!("log {job_id}"));
        if let Some(e) = inner.fail.get("log") {
            return Err(e.clone());
        }
        inner
            .logs
            .get(&job_id)
            .cloned()
            .unwrap_or_else(|| Err(ScmError::NotFound(format!("job {job_id}"))))
    }

    fn pacing(&self, _now: Timestamp) -> Pacing {
        self.inner().pacing
    }
}

const REPO_PATH: &str = "/repos/proj";

struct Setup {
    h: Harness,
    host: Arc<FakeHost>,
    observer: ScmObserver,
}

fn sid(n: u64) -> SessionId {
    SessionId::parse(&format!("proj-{n}")).unwrap()
}

/// The record of session `proj-<n>`, working.
fn working(n: u64) -> SessionRecord {
    let mut r = lc(
        SessionState::Working,
        SessionReason::TaskInProgress,
        RuntimeState::Alive,
    );
    r.id = sid(n);
    r.num = n;
    r
}

impl Setup {
    async fn new() -> Self {
        Self::with_push_remote(None).await
    }

    async fn with_push_remote(push_remote: Option<&str>) -> Self {
        let store: Arc<dyn crate::ports::Backend> = Arc::new(MemoryStore::new());
        Self::over(Harness::new(store, t0()), push_remote).await
    }

    async fn over(h: Harness, push_remote: Option<&str>) -> Self {
        h.store
            .add_project(&Project {
                id: ProjectId::parse("proj").unwrap(),
                repo_path: PathBuf::from(REPO_PATH),
                default_agent: None,
                base_branch: None,
                settings: ProjectSettings {
                    push_remote: push_remote.map(str::to_owned),
                    ..ProjectSettings::default()
                },
                created_at: t0(),
            })
            .await
            .unwrap();
        let host = Arc::new(FakeHost::default());
        host.inner()
            .remotes
            .insert((PathBuf::from(REPO_PATH), "origin".into()), repo());
        let observer = ScmObserver::new(
            h.lcm.clone(),
            h.store.clone(),
            host.clone(),
            h.clock.clone(),
            SCM_POLL_INTERVAL,
        );
        Self { h, host, observer }
    }

    /// Seeds session `proj-<n>` working on `branch`.
    async fn session(&self, n: u64, branch: &str) -> SessionId {
        let mut r = working(n);
        r.metadata.insert(meta::BRANCH.into(), branch.into());
        r.metadata
            .insert(meta::RUNTIME_HANDLE_ID.into(), format!("proj-{n}"));
        r.metadata.insert(meta::RUNTIME_NAME.into(), "tmux".into());
        self.h.seed(r).await;
        sid(n)
    }

    async fn poll(&self) -> PollReport {
        match self.observer.poll_once().await {
            PollOutcome::Polled(report) => report,
            other => panic!("expected a poll, got {other:?}"),
        }
    }

    async fn status(&self, id: &SessionId) -> Status {
        derive_status_static(&self.h.load(id).await.lifecycle)
    }

    fn advance(&self, by: Duration) {
        self.h.clock.advance(by);
    }
}

fn failing_actions_check(job: u64) -> CheckContext {
    CheckContext::Run {
        name: "build".into(),
        status: "COMPLETED".into(),
        conclusion: Some("FAILURE".into()),
        database_id: Some(job),
        details_url: Some(format!(
            "https://github.com/acme/app/actions/runs/1/job/{job}"
        )),
        app_slug: Some(GITHUB_ACTIONS_APP.into()),
    }
}

#[tokio::test]
async fn a_new_pr_is_observed_and_unchanged_polls_write_nothing() {
    let s = Setup::new().await;
    let id = s.session(1, "feat/a").await;
    s.host.open_pr(7, "feat/a", &repo());

    let report = s.poll().await;
    assert_eq!(report.applied, vec![id.clone()]);
    let record = s.h.load(&id).await;
    assert_eq!(record.lifecycle.pr.state, PrState::Open);
    assert_eq!(record.lifecycle.pr.number, Some(7));
    assert_eq!(s.status(&id).await, Status::ReviewPending);
    let snapshot = s.h.store.scm_snapshot(&id).await.unwrap().unwrap();
    assert_eq!(snapshot.pr_number, Some(7));
    let revision = record.revision;

    // Nothing changed: conditional requests answered 304, no details, no write.
    s.host.clear_calls();
    s.advance(secs(30));
    let report = s.poll().await;
    assert!(
        report.refreshed.is_empty() && report.applied.is_empty(),
        "{report:?}"
    );
    assert_eq!(
        s.host.inner().calls,
        vec![
            "list acme/app page=None etag=true".to_owned(),
            "checks acme/app@0007aa etag=true".to_owned(),
        ]
    );
    assert_eq!(s.h.load(&id).await.revision, revision);

    // Five minutes after the last refresh, the PR is refreshed again; same facts, no write.
    s.host.clear_calls();
    s.advance(mins(5) - secs(30));
    let report = s.poll().await;
    assert_eq!(report.refreshed, vec![id.clone()]);
    assert!(report.applied.is_empty());
    assert_eq!(s.host.calls("details").len(), 1);
    assert_eq!(s.h.load(&id).await.revision, revision);
    assert_eq!(
        s.h.store
            .scm_snapshot(&id)
            .await
            .unwrap()
            .unwrap()
            .observed_at,
        t0(),
        "the snapshot is written only when the facts change"
    );
}

#[tokio::test]
async fn changed_check_runs_and_updates_trigger_a_refresh() {
    let s = Setup::new().await;
    let id = s.session(1, "feat/a").await;
    s.host.open_pr(7, "feat/a", &repo());
    s.poll().await;

    s.host.change(7, false, |pr| {
        pr.checks = vec![CheckRunDigest {
            id: 1,
            status: "completed".into(),
            conclusion: Some("failure".into()),
        }];
        pr.details.contexts = vec![failing_actions_check(42)];
    });
    s.host
        .inner()
        .logs
        .insert(42, Ok("compiling\nerror: boom\n".into()));
    s.advance(secs(30));
    let report = s.poll().await;
    assert_eq!(report.applied, vec![id.clone()]);
    assert_eq!(s.status(&id).await, Status::CiFailed);
    let tail =
        s.h.store
            .scm_snapshot(&id)
            .await
            .unwrap()
            .unwrap()
            .ci_failure_log_tail
            .unwrap();
    assert!(tail.contains("Failed: build (failure)"), "{tail}");
    assert!(tail.ends_with("compiling\nerror: boom"), "{tail}");

    // A review moves updated_at: refreshed with its threads.
    s.host.change(7, true, |pr| {
        pr.details.review_decision = Some("CHANGES_REQUESTED".into());
    });
    s.host.clear_calls();
    s.advance(secs(30));
    s.poll().await;
    assert_eq!(s.host.inner().batches, vec![vec![(7, true)]]);
    assert_eq!(s.host.calls("log").len(), 0, "the log tail is cached");
}

#[tokio::test]
async fn twenty_six_prs_take_two_graphql_requests() {
    let s = Setup::new().await;
    for n in 1..=26 {
        s.session(n, &format!("feat/{n}")).await;
        s.host.open_pr(100 + n, &format!("feat/{n}"), &repo());
    }
    let report = s.poll().await;
    assert_eq!(report.applied.len(), 26);
    let sizes: Vec<usize> = s.host.inner().batches.iter().map(Vec::len).collect();
    assert_eq!(sizes, vec![25, 1]);
    assert_eq!(s.host.calls("list").len(), 1, "one list per repository");
    assert_eq!(
        s.host.calls("checks").len(),
        26,
        "one check-runs request per PR"
    );
    // Applied in session id order (proj-2 before proj-10).
    let expected: Vec<SessionId> = (1..=26).map(sid).collect();
    assert_eq!(report.applied, expected);
}

#[tokio::test]
async fn the_open_list_is_followed_for_at_most_ten_pages_with_an_etag_each() {
    let s = Setup::new().await;
    s.host.inner().page_size = Some(2);
    // 24 PRs: 12 pages of 2; only the first 10 pages are read.
    for n in 1..=24 {
        s.host.open_pr(n, &format!("feat/{n}"), &repo());
    }
    let early = s.session(1, "feat/5").await;
    let late = s.session(2, "feat/23").await;
    s.poll().await;
    assert_eq!(s.host.calls("list").len(), MAX_PAGES);
    assert_eq!(s.h.load(&early).await.lifecycle.pr.number, Some(5));
    assert_eq!(s.h.load(&late).await.lifecycle.pr.number, None);
    s.host.clear_calls();
    s.advance(secs(30));
    s.poll().await;
    let lists = s.host.calls("list");
    assert_eq!(lists.len(), MAX_PAGES);
    assert!(lists.iter().all(|c| c.ends_with("etag=true")), "{lists:?}");
    assert_eq!(lists[3], "list acme/app page=Some(\"page-3\") etag=true");
}

#[tokio::test]
async fn a_failed_fetch_is_never_no_pr() {
    let s = Setup::new().await;
    let id = s.session(1, "feat/a").await;
    s.host.open_pr(7, "feat/a", &repo());
    s.poll().await;
    let before = s.h.load(&id).await;
    let snapshot = s.h.store.scm_snapshot(&id).await.unwrap();

    // The PR turns red while every kind of request fails in turn.
    s.host.change(7, true, |pr| {
        pr.details.contexts = vec![failing_actions_check(42)];
    });
    for kind in ["list", "checks", "details"] {
        s.host.fail(kind, Some(transient()));
        s.advance(secs(30));
        let report = s.poll().await;
        assert_eq!(report.failed, vec![id.clone()], "{kind}");
        assert!(report.applied.is_empty(), "{kind}");
        assert_eq!(s.h.load(&id).await.revision, before.revision, "{kind}");
        assert_eq!(
            s.h.store.scm_snapshot(&id).await.unwrap(),
            snapshot,
            "{kind}"
        );
        s.host.fail(kind, None);
    }
    // A single PR's failure inside a good batch fails only that PR.
    s.host.inner().prs.remove(&(repo(), 7));
    s.advance(secs(30));
    s.poll().await;
    assert_eq!(s.h.load(&id).await.lifecycle.pr.state, PrState::Open);

    s.host.open_pr(7, "feat/a", &repo());
    s.host.change(7, true, |pr| {
        pr.details.contexts = vec![failing_actions_check(42)];
    });
    s.advance(secs(30));
    let report = s.poll().await;
    assert_eq!(report.applied, vec![id.clone()]);
    assert_eq!(s.status(&id).await, Status::CiFailed);
    let tail =
        s.h.store
            .scm_snapshot(&id)
            .await
            .unwrap()
            .unwrap()
            .ci_failure_log_tail
            .unwrap();
    assert!(
        tail.contains("<log fetch failed: not found: job 42>"),
        "{tail}"
    );
}

#[tokio::test]
async fn after_a_failure_equal_facts_are_applied_again() {
    let s = Setup::new().await;
    let id = s.session(1, "feat/a").await;
    s.host.open_pr(7, "feat/a", &repo());
    s.poll().await;
    // Only updated_at moves; the details fail once.
    s.host.change(7, true, |_| {});
    s.host.fail("details", Some(transient()));
    s.advance(secs(30));
    assert_eq!(s.poll().await.failed, vec![id.clone()]);
    s.host.fail("details", None);
    s.advance(secs(30));
    let report = s.poll().await;
    assert_eq!(report.applied, vec![id.clone()], "the previous call failed");
    let snapshot = s.h.store.scm_snapshot(&id).await.unwrap().unwrap();
    assert_eq!(snapshot.observed_at, t0().plus(secs(60)));
    // And then no more.
    s.host.change(7, true, |_| {});
    s.advance(secs(30));
    let report = s.poll().await;
    assert_eq!(report.refreshed, vec![id.clone()]);
    assert!(report.applied.is_empty());
}

#[tokio::test]
async fn a_pr_missing_from_the_open_list_is_fetched_by_number() {
    let s = Setup::new().await;
    let id = s.session(1, "feat/a").await;
    s.host.open_pr(7, "feat/a", &repo());
    s.poll().await;
    s.host.change(7, true, |pr| {
        pr.listed = false;
        pr.details.state = "MERGED".into();
        pr.details.merged = true;
        pr.details.merged_at = Some("2026-05-26T12:01:00Z".into());
    });
    s.host.clear_calls();
    s.advance(secs(30));
    let report = s.poll().await;
    assert_eq!(report.applied, vec![id.clone()]);
    assert!(s.host.calls("checks").is_empty());
    let record = s.h.load(&id).await;
    assert_eq!(record.lifecycle.pr.state, PrState::Merged);
    assert_eq!(
        (
            record.lifecycle.session.state,
            record.lifecycle.session.reason
        ),
        (SessionState::Idle, SessionReason::MergedWaitingDecision)
    );
    assert_eq!(s.status(&id).await, Status::Merged);
    // A merged PR is no longer fetched.
    s.host.clear_calls();
    s.advance(mins(10));
    s.poll().await;
    assert!(s.host.calls("details").is_empty());
}

#[tokio::test]
async fn ci_failure_reaches_the_agent_once_per_failure() {
    let mut s = Setup::new().await;
    s.h.start();
    let id = s.session(1, "feat/a").await;
    s.host.open_pr(7, "feat/a", &repo());
    s.host.change(7, true, |pr| {
        pr.details.contexts = vec![failing_actions_check(42)];
        pr.checks = vec![CheckRunDigest {
            id: 42,
            status: "completed".into(),
            conclusion: Some("failure".into()),
        }];
    });
    s.host.inner().logs.insert(
        42,
        Ok("2026-05-26T11:59:00.0000000Z error: undefined: foo\n".into()),
    );
    s.poll().await;
    s.h.wait_idle().await;
    let texts = s.h.messenger.texts();
    assert_eq!(texts.len(), 1, "{texts:?}");
    assert!(texts[0].contains("CI is failing on PR #7"), "{}", texts[0]);
    assert!(texts[0].contains("error: undefined: foo"), "{}", texts[0]);
    // The same facts polled again, and refreshed again: no second send.
    for _ in 0..3 {
        s.advance(mins(5));
        s.poll().await;
        s.h.wait_idle().await;
    }
    assert_eq!(s.h.messenger.texts().len(), 1);
    assert_eq!(s.host.calls("log").len(), 1);
    assert_eq!(s.status(&id).await, Status::CiFailed);
}

#[tokio::test]
async fn a_rate_limit_in_the_middle_of_a_poll_emits_nothing() {
    let s = Setup::new().await;
    let first = s.session(1, "feat/a").await;
    let second = s.session(2, "feat/b").await;
    s.host.open_pr(7, "feat/a", &repo());
    s.host.open_pr(8, "feat/b", &repo());
    let until = t0().plus(mins(10));
    s.host.inner().fail_checks_of = Some((
        8,
        ScmError::RateLimited {
            until,
            detail: "403".into(),
        },
    ));
    assert_eq!(s.observer.poll_once().await, PollOutcome::Paused(until));
    for id in [&first, &second] {
        assert_eq!(s.h.store.scm_snapshot(id).await.unwrap(), None);
        assert_eq!(s.h.load(id).await.revision, 1);
    }
    // While the provider reports a pause, nothing is asked at all.
    s.host.inner().fail_checks_of = None;
    s.host.inner().pacing.paused_until = Some(until);
    s.host.clear_calls();
    assert_eq!(s.observer.poll_once().await, PollOutcome::Paused(until));
    assert!(s.host.inner().calls.is_empty());
    assert_eq!(s.observer.wait_after(&PollOutcome::Paused(until)), mins(10));
    s.host.inner().pacing = Pacing::default();
    assert_eq!(s.poll().await.applied, vec![first, second]);
}

#[tokio::test]
async fn low_quota_slows_polling_to_two_minutes() {
    let s = Setup::new().await;
    let polled = PollOutcome::Polled(PollReport::default());
    assert_eq!(s.observer.wait_after(&polled), SCM_POLL_INTERVAL);
    s.host.inner().pacing.low_quota_until = Some(t0().plus(mins(30)));
    assert_eq!(s.observer.wait_after(&polled), LOW_QUOTA_INTERVAL);
    assert_eq!(
        s.observer.wait_after(&PollOutcome::Disabled(String::new())),
        NO_TOKEN_RECHECK
    );
}

#[tokio::test]
async fn without_a_token_the_observer_says_so_once() {
    let (logs, _guard) = LogCapture::install();
    let s = Setup::new().await;
    s.session(1, "feat/a").await;
    s.host.inner().no_token = true;
    for _ in 0..3 {
        assert!(matches!(
            s.observer.poll_once().await,
            PollOutcome::Disabled(m) if m.contains("AO_GITHUB_TOKEN")
        ));
    }
    assert_eq!(logs.matching(Level::INFO, "SCM observer disabled").len(), 1);
    assert!(s.host.inner().calls.is_empty());
    s.host.inner().no_token = false;
    s.poll().await;
    assert_eq!(logs.matching(Level::INFO, "SCM observer enabled").len(), 1);
}

#[tokio::test]
async fn sessions_without_a_github_origin_are_left_alone() {
    let s = Setup::new().await;
    s.host.inner().remotes.clear();
    s.session(1, "feat/a").await;
    s.host.open_pr(7, "feat/a", &repo());
    let report = s.poll().await;
    assert!(report.subjects.is_empty());
    assert!(s.host.inner().calls.is_empty());
}

#[tokio::test]
async fn a_fork_push_remote_attributes_by_head_repository() {
    let s = Setup::with_push_remote(Some("fork")).await;
    let fork = RepoRef::new("me", "app");
    s.host
        .inner()
        .remotes
        .insert((PathBuf::from(REPO_PATH), "fork".into()), fork.clone());
    let id = s.session(1, "feat/a").await;
    // Same branch name in the upstream repository: not ours.
    s.host.open_pr(7, "feat/a", &repo());
    s.poll().await;
    assert_eq!(s.h.load(&id).await.lifecycle.pr.number, None);
    s.host.open_pr(9, "feat/a", &fork);
    s.advance(secs(30));
    s.poll().await;
    assert_eq!(s.h.load(&id).await.lifecycle.pr.number, Some(9));
}

#[tokio::test]
async fn review_threads_are_reused_until_due_or_the_pr_moves() {
    let s = Setup::new().await;
    let id = s.session(1, "feat/a").await;
    s.host.open_pr(7, "feat/a", &repo());
    s.host.change(7, true, |pr| {
        pr.details.review_decision = Some("CHANGES_REQUESTED".into());
        pr.details.threads = Some(vec![ReviewThread {
            id: "T1".into(),
            is_resolved: false,
            first_author_is_bot: false,
            latest: Some(ThreadComment {
                id: "C1".into(),
                author: "ann".into(),
                body: "please rename".into(),
                url: "https://github.com/acme/app/pull/7#c1".into(),
                path: Some("src/a.rs".into()),
                line: Some(3),
            }),
        }]);
    });
    s.poll().await;
    assert_eq!(s.status(&id).await, Status::ChangesRequested);
    // CI changes (updated_at does not move): details without threads; comments kept.
    s.host.change(7, false, |pr| {
        pr.checks = vec![CheckRunDigest {
            id: 1,
            status: "in_progress".into(),
            conclusion: None,
        }];
    });
    s.advance(secs(30));
    s.poll().await;
    let snapshot = s.h.store.scm_snapshot(&id).await.unwrap().unwrap();
    assert_eq!(snapshot.pending_comments.len(), 1);
    // Two minutes after the last read they are read again.
    s.host.change(7, false, |pr| pr.checks.clear());
    s.advance(secs(90));
    s.poll().await;
    assert_eq!(
        s.host.inner().batches,
        vec![vec![(7, true)], vec![(7, false)], vec![(7, true)]]
    );
}

#[tokio::test]
async fn two_sessions_claiming_one_pr_leave_it_with_the_first() {
    let (logs, _guard) = LogCapture::install();
    let s = Setup::new().await;
    let first = s.session(1, "feat/a").await;
    let second = s.session(2, "feat/a").await;
    s.host.open_pr(7, "feat/a", &repo());
    let report = s.poll().await;
    assert_eq!(report.applied, vec![first.clone()]);
    assert_eq!(s.h.load(&second).await.lifecycle.pr.number, None);
    assert_eq!(
        logs.matching(Level::WARN, "two sessions claim one PR")
            .len(),
        1
    );
}

#[tokio::test]
async fn the_loop_polls_at_once_and_stops_when_cancelled() {
    let s = Setup::new().await;
    s.session(1, "feat/a").await;
    s.host.open_pr(7, "feat/a", &repo());
    let host = s.host.clone();
    let observer = Arc::new(s.observer);
    let cancel = CancellationToken::new();
    let task = tokio::spawn(observer.clone().run(cancel.clone()));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while host.calls("details").is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "no first poll");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    cancel.cancel();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("the loop stops")
        .unwrap();
}

mod round;
