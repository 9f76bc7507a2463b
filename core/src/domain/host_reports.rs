//! What the code host reports before normalisation: repositories, the open-PR list, check-run
//! digests, and a pull request's raw details as GitHub's GraphQL API spells them.
//!
//! Plain data, so the pure normalisation (`decide::scm_poll`) can turn it into `ScmFacts` and be
//! table-tested without HTTP. GitHub's enumeration values (`MERGEABLE`, `COMPLETED`, …) are kept as
//! the provider's strings; the normaliser compares them case-insensitively.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A repository on the provider: `owner/name`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RepoRef {
    pub owner: String,
    pub name: String,
}

impl RepoRef {
    pub fn new(owner: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            owner: owner.into(),
            name: name.into(),
        }
    }

    /// Parses `owner/name` (GitHub's `full_name`).
    pub fn from_full_name(full_name: &str) -> Option<Self> {
        let (owner, name) = full_name.split_once('/')?;
        (!owner.is_empty() && !name.is_empty() && !name.contains('/'))
            .then(|| Self::new(owner, name))
    }

    /// GitHub owner and repository names are case-insensitive.
    pub fn same_as(&self, other: &RepoRef) -> bool {
        self.owner.eq_ignore_ascii_case(&other.owner) && self.name.eq_ignore_ascii_case(&other.name)
    }
}

impl fmt::Display for RepoRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

/// One entry of a repository's open-PR list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenPr {
    pub number: u64,
    /// The head branch name.
    pub head_ref: String,
    /// The head repository; `None` when the fork was deleted.
    pub head_repo: Option<RepoRef>,
    pub head_sha: String,
    /// GitHub's `updated_at`, compared as an opaque string.
    pub updated_at: String,
}

/// The part of one check run that tells whether the runs of a commit changed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CheckRunDigest {
    pub id: u64,
    pub status: String,
    pub conclusion: Option<String>,
}

/// One context of a PR's status-check rollup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CheckContext {
    /// A check run (GitHub Checks API).
    Run {
        name: String,
        /// `QUEUED`, `IN_PROGRESS`, `COMPLETED`, `WAITING`, `PENDING`, `REQUESTED`.
        status: String,
        /// `SUCCESS`, `FAILURE`, `NEUTRAL`, `CANCELLED`, `SKIPPED`, `TIMED_OUT`,
        /// `ACTION_REQUIRED`, `STARTUP_FAILURE`, `STALE`; absent until completed.
        conclusion: Option<String>,
        /// For GitHub Actions, the job id.
        database_id: Option<u64>,
        details_url: Option<String>,
        /// The app that produced it (`github-actions` for GitHub Actions).
        app_slug: Option<String>,
    },
    /// A commit status (the older Statuses API).
    Status {
        context: String,
        /// `EXPECTED`, `ERROR`, `FAILURE`, `PENDING`, `SUCCESS`.
        state: String,
        target_url: Option<String>,
    },
}

/// The app slug of GitHub Actions; only its check runs have job logs.
pub const GITHUB_ACTIONS_APP: &str = "github-actions";

impl CheckContext {
    /// The GitHub Actions job id of a check run, when it is one.
    pub fn actions_job_id(&self) -> Option<u64> {
        match self {
            CheckContext::Run {
                database_id: Some(id),
                app_slug: Some(app),
                ..
            } if app == GITHUB_ACTIONS_APP => Some(*id),
            _ => None,
        }
    }
}

/// The latest comment of a review thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadComment {
    pub id: String,
    pub author: String,
    pub body: String,
    pub url: String,
    pub path: Option<String>,
    pub line: Option<u64>,
}

/// One review thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewThread {
    pub id: String,
    pub is_resolved: bool,
    /// The thread's first comment was written by an account of GraphQL type `Bot`.
    pub first_author_is_bot: bool,
    pub latest: Option<ThreadComment>,
}

/// A pull request's details as fetched with GraphQL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrDetails {
    pub number: u64,
    pub url: String,
    /// `OPEN`, `CLOSED` or `MERGED`.
    pub state: String,
    pub is_draft: bool,
    pub merged: bool,
    pub merged_at: Option<String>,
    pub head_sha: String,
    pub base_sha: String,
    /// `MERGEABLE`, `CONFLICTING` or `UNKNOWN`.
    pub mergeable: String,
    /// `CLEAN`, `DIRTY`, `BLOCKED`, `UNSTABLE`, `BEHIND`, `HAS_HOOKS`, `DRAFT`, `UNKNOWN`.
    pub merge_state_status: String,
    /// `APPROVED`, `CHANGES_REQUESTED`, `REVIEW_REQUIRED`, or absent.
    pub review_decision: Option<String>,
    pub contexts: Vec<CheckContext>,
    /// `None` when this fetch did not ask for review threads (the cached ones apply).
    pub threads: Option<Vec<ReviewThread>>,
}

/// The tail of one failed GitHub Actions job's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum LogTail {
    Lines(Vec<String>),
    /// The fetch failed; the reason is shown instead of the log.
    Failed(String),
}
