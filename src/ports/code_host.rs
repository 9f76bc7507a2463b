//! The code-host port (`ScmProvider`): what the SCM observer asks of a code host. One
//! implementation talks to GitHub over HTTP (`adapters::github`); tests use fakes.
//!
//! Conditional requests are explicit: the caller passes the ETag it holds and gets either
//! `NotModified` (reuse what you cached) or a new value with its ETag, so the observer decides
//! when a cache entry is committed (only after the whole refresh succeeded). Rate limits are the
//! provider's business: it keeps one budget for the whole daemon, refuses requests while paused,
//! and reports its pacing.

use std::path::Path;

use async_trait::async_trait;

use crate::domain::{CheckRunDigest, OpenPr, PrDetails, RepoRef, Timestamp};

/// Errors of the SCM provider, one variant per class of failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScmError {
    /// No credentials: the observer disables itself until some appear.
    #[error("no GitHub token: {0}")]
    NoToken(String),
    /// 404.
    #[error("not found: {0}")]
    NotFound(String),
    /// 401, or 403 without rate-limit signals; the memoised token was dropped.
    #[error("authentication failed: {0}")]
    Auth(String),
    /// Rate limited (or the daemon's quota share is spent): nothing is sent until `until`.
    #[error("rate limited until {until}: {detail}")]
    RateLimited { until: Timestamp, detail: String },
    /// 5xx or a transport error: try again next poll.
    #[error("transient failure: {0}")]
    Transient(String),
    /// Any other refusal, or an answer that could not be read.
    #[error("{0}")]
    Failed(String),
}

/// A conditional GET's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conditional<T> {
    /// `304`: the ETag the caller sent is still current; reuse its cached value.
    NotModified,
    Modified {
        etag: Option<String>,
        value: T,
    },
}

/// One page of a repository's open-PR list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenPrPage {
    pub prs: Vec<OpenPr>,
    /// The next page (`Link: rel="next"`), if any.
    pub next: Option<String>,
}

/// One PR to fetch details for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetailRequest {
    pub repo: RepoRef,
    pub number: u64,
    /// Also read the review threads.
    pub with_threads: bool,
}

/// How the poller should pace itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pacing {
    /// Rate limited or the quota share is spent: no request until then.
    pub paused_until: Option<Timestamp>,
    /// Less than 5% of a quota remains: poll slowly until this reset time.
    pub low_quota_until: Option<Timestamp>,
}

/// A code host.
#[async_trait]
pub trait ScmProvider: Send + Sync {
    /// Where a token comes from (`AO_GITHUB_TOKEN`, …), or `NoToken`.
    async fn credentials(&self) -> Result<String, ScmError>;

    /// The repository `remote` of the git repository at `repo_path` points to, when it is on
    /// this provider's host; `None` for other hosts, unparsable URLs and missing remotes.
    async fn remote_repository(
        &self,
        repo_path: &Path,
        remote: &str,
    ) -> Result<Option<RepoRef>, ScmError>;

    /// One page of the open PRs of `repo`: the first page when `page_url` is `None`.
    async fn open_prs(
        &self,
        repo: &RepoRef,
        page_url: Option<&str>,
        etag: Option<&str>,
    ) -> Result<Conditional<OpenPrPage>, ScmError>;

    /// The check runs of a commit, sorted by id.
    async fn check_runs(
        &self,
        repo: &RepoRef,
        sha: &str,
        etag: Option<&str>,
    ) -> Result<Conditional<Vec<CheckRunDigest>>, ScmError>;

    /// Details of at most 25 PRs in one request, one result per request in order. The outer
    /// error fails the whole batch.
    async fn pr_details(
        &self,
        batch: &[DetailRequest],
    ) -> Result<Vec<Result<PrDetails, ScmError>>, ScmError>;

    /// The whole log of a GitHub Actions job (bounded by the provider).
    async fn job_log(&self, repo: &RepoRef, job_id: u64) -> Result<String, ScmError>;

    /// The current pacing (one budget for the whole daemon).
    fn pacing(&self, now: Timestamp) -> Pacing;
}
