//! The pure half of the SCM observer's poll: PR attribution, which PRs a poll refreshes, when
//! review threads are re-read, and the normalisation of a PR's raw details into the `ScmFacts` the
//! lifecycle consumes.
//!
//! No I/O and no clock: the poller (`ao::scm_observer`) passes the provider's answers and `now` in.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::domain::{
    CheckContext, CheckRunDigest, CiSummary, FailedCheck, LogTail, Mergeability, OpenPr,
    PendingComment, PrDetails, PrState, RepoRef, ReviewDecision, ReviewThread, ScmFacts, SessionId,
    Timestamp,
};

/// Lines kept from the end of each failed job's log.
pub const LOG_TAIL_LINES: usize = 20;
/// The combined failure output of one PR is cut to its last this many lines.
pub const FAILURE_OUTPUT_MAX_LINES: usize = 120;
/// Review threads are re-read at most this often per PR, unless the PR changed.
pub const REVIEW_REFRESH: Duration = Duration::from_secs(120);
/// A PR the record shows as active is refreshed at least this often.
pub const FORCED_REFRESH: Duration = Duration::from_secs(300);

/// A session asking which open PR is its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub session: SessionId,
    pub branch: String,
    /// The repository the session's branch is pushed to (`origin`, or the project's
    /// `push_remote`).
    pub push_repo: RepoRef,
}

/// The outcome of [`attribute`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attribution {
    /// Session → the number of its open PR, for every claim that found one.
    pub assigned: BTreeMap<SessionId, u64>,
    /// `(loser, pr, keeper)`: a later session claimed a PR an earlier one already holds.
    pub contested: Vec<(SessionId, u64, SessionId)>,
}

/// Attribution: an open PR belongs to the session whose branch is its head ref and whose push
/// repository is its head repository. `claims` must be in session id order; the first claimant
/// keeps a PR claimed twice. Among several open PRs of one head (different bases), the newest wins.
pub fn attribute(claims: &[Claim], prs: &[OpenPr]) -> Attribution {
    let mut out = Attribution::default();
    let mut holders: BTreeMap<u64, SessionId> = BTreeMap::new();
    for claim in claims {
        let newest = prs
            .iter()
            .filter(|pr| {
                pr.head_ref == claim.branch
                    && pr
                        .head_repo
                        .as_ref()
                        .is_some_and(|r| r.same_as(&claim.push_repo))
            })
            .map(|pr| pr.number)
            .max();
        let Some(number) = newest else { continue };
        match holders.get(&number) {
            Some(keeper) => out
                .contested
                .push((claim.session.clone(), number, keeper.clone())),
            None => {
                holders.insert(number, claim.session.clone());
                out.assigned.insert(claim.session.clone(), number);
            }
        }
    }
    out
}

/// What the poller remembers of a PR's last successful refresh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrSeen {
    pub updated_at: String,
    pub head_sha: String,
    pub checks: Vec<CheckRunDigest>,
    pub refreshed_at: Timestamp,
}

/// Whether an open PR is a refresh candidate: new to the cache, `updated_at` or head moved, its
/// check runs changed, or not refreshed for [`FORCED_REFRESH`]. `checks` is sorted.
pub fn needs_refresh(
    seen: Option<&PrSeen>,
    pr: &OpenPr,
    checks: &[CheckRunDigest],
    now: Timestamp,
) -> bool {
    match seen {
        None => true,
        Some(s) => {
            s.updated_at != pr.updated_at
                || s.head_sha != pr.head_sha
                || s.checks != checks
                || now.at_least_after(s.refreshed_at, FORCED_REFRESH)
        }
    }
}

/// When a PR's review threads were last read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadsSeen {
    pub fetched_at: Timestamp,
    /// The PR's `updated_at` at that read.
    pub updated_at: String,
}

/// Whether a refresh also reads the review threads: never read, the 2-minute cadence is due,
/// or the PR's `updated_at` moved since the last read (a review or comment landed; check runs
/// do not move it). Without the last rule a review could switch the PR to "changes requested"
/// while the comments stay unread, and the nudge — sent once per incident — would carry none.
pub fn threads_due(seen: Option<&ThreadsSeen>, updated_at: Option<&str>, now: Timestamp) -> bool {
    match seen {
        None => true,
        Some(s) => {
            now.at_least_after(s.fetched_at, REVIEW_REFRESH)
                || updated_at.is_some_and(|u| u != s.updated_at)
        }
    }
}

/// Equal facts, ignoring `observed_at`.
pub fn same_facts(a: &ScmFacts, b: &ScmFacts) -> bool {
    ScmFacts {
        observed_at: b.observed_at,
        ..a.clone()
    } == *b
}

/// How one check context counts towards the CI summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Failed,
    Pending,
    Succeeded,
    /// Skipped or cancelled: never fails CI, never passes it alone.
    Ignored,
    /// Anything else (`stale`, an unknown value): keeps CI from `passing`.
    Other,
}

fn run_verdict(status: &str, conclusion: Option<&str>) -> Verdict {
    if !status.eq_ignore_ascii_case("COMPLETED") {
        return Verdict::Pending;
    }
    match conclusion.map(str::to_ascii_lowercase).as_deref() {
        Some("failure" | "timed_out" | "action_required" | "startup_failure") => Verdict::Failed,
        Some("success" | "neutral") => Verdict::Succeeded,
        Some("skipped" | "cancelled") => Verdict::Ignored,
        _ => Verdict::Other,
    }
}

fn status_verdict(state: &str) -> Verdict {
    match state.to_ascii_uppercase().as_str() {
        "FAILURE" | "ERROR" => Verdict::Failed,
        "PENDING" | "EXPECTED" => Verdict::Pending,
        "SUCCESS" => Verdict::Succeeded,
        _ => Verdict::Other,
    }
}

/// A failed context with the job whose log explains it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Failure {
    check: FailedCheck,
    job_id: Option<u64>,
}

/// The CI summary of a rollup and its failed contexts, sorted by name.
fn ci(contexts: &[CheckContext]) -> (CiSummary, Vec<Failure>) {
    let mut failures = vec![];
    let mut verdicts = vec![];
    for context in contexts {
        let verdict = match context {
            CheckContext::Run {
                name,
                status,
                conclusion,
                details_url,
                ..
            } => {
                let v = run_verdict(status, conclusion.as_deref());
                if v == Verdict::Failed {
                    failures.push(Failure {
                        check: FailedCheck {
                            name: name.clone(),
                            conclusion: conclusion.clone().unwrap_or_default().to_lowercase(),
                            url: details_url.clone().filter(|u| !u.is_empty()),
                        },
                        job_id: context.actions_job_id(),
                    });
                }
                v
            }
            CheckContext::Status {
                context: name,
                state,
                target_url,
            } => {
                let v = status_verdict(state);
                if v == Verdict::Failed {
                    failures.push(Failure {
                        check: FailedCheck {
                            name: name.clone(),
                            conclusion: state.to_lowercase(),
                            url: target_url.clone().filter(|u| !u.is_empty()),
                        },
                        job_id: None,
                    });
                }
                v
            }
        };
        verdicts.push(verdict);
    }
    failures.sort_by(|a, b| {
        (&a.check.name, &a.check.conclusion, &a.check.url).cmp(&(
            &b.check.name,
            &b.check.conclusion,
            &b.check.url,
        ))
    });
    let summary = if verdicts.contains(&Verdict::Failed) {
        CiSummary::Failing
    } else if verdicts.contains(&Verdict::Pending) {
        CiSummary::Pending
    } else if verdicts.contains(&Verdict::Succeeded)
        && verdicts
            .iter()
            .all(|v| matches!(v, Verdict::Succeeded | Verdict::Ignored))
    {
        CiSummary::Passing
    } else {
        CiSummary::None
    };
    (summary, failures)
}

fn pr_state(d: &PrDetails) -> PrState {
    let state = d.state.to_ascii_uppercase();
    if d.merged || d.merged_at.is_some() || state == "MERGED" {
        PrState::Merged
    } else if state == "CLOSED" {
        PrState::Closed
    } else if d.is_draft {
        PrState::Draft
    } else {
        PrState::Open
    }
}

fn review_decision(raw: Option<&str>) -> ReviewDecision {
    match raw.map(str::to_ascii_uppercase).as_deref() {
        Some("APPROVED") => ReviewDecision::Approved,
        Some("CHANGES_REQUESTED") => ReviewDecision::ChangesRequested,
        Some("REVIEW_REQUIRED") => ReviewDecision::Pending,
        _ => ReviewDecision::None,
    }
}

fn mergeability(d: &PrDetails, ci: CiSummary, review: ReviewDecision) -> Mergeability {
    let mergeable = d.mergeable.to_ascii_uppercase();
    let state = d.merge_state_status.to_ascii_uppercase();
    let no_conflicts = !(mergeable == "CONFLICTING" || state == "DIRTY");
    let mut blockers = vec![];
    let mut block = |cond: bool, label: &str| {
        if cond {
            blockers.push(label.to_owned());
        }
    };
    block(!no_conflicts, "merge conflicts");
    block(state == "BLOCKED", "blocked");
    block(state == "UNSTABLE", "unstable");
    block(state == "BEHIND", "behind");
    block(
        review == ReviewDecision::ChangesRequested,
        "changes requested",
    );
    block(ci == CiSummary::Failing, "ci failing");
    Mergeability {
        mergeable: mergeable == "MERGEABLE"
            && state == "CLEAN"
            && review != ReviewDecision::ChangesRequested
            && ci != CiSummary::Failing,
        ci_passing: ci == CiSummary::Passing,
        approved: review == ReviewDecision::Approved,
        no_conflicts,
        blockers,
    }
}

fn pending_comments(threads: &[ReviewThread]) -> Vec<PendingComment> {
    threads
        .iter()
        .filter(|t| !t.is_resolved)
        .filter_map(|t| {
            let c = t.latest.as_ref()?;
            Some(PendingComment {
                thread_id: t.id.clone(),
                comment_id: c.id.clone(),
                author: c.author.clone(),
                body: c.body.clone(),
                is_bot: t.first_author_is_bot,
                url: c.url.clone(),
                path: c.path.clone(),
                line: c.line,
            })
        })
        .collect()
}

/// The combined failure output: per failed check (name order) a `Failed:` line, its
/// `Failure URL:` when known, and its job's log tail; cut to the last 120 lines.
fn failure_output(failures: &[Failure], tails: &BTreeMap<u64, LogTail>) -> String {
    let mut lines: Vec<String> = vec![];
    for f in failures {
        lines.push(format!("Failed: {} ({})", f.check.name, f.check.conclusion));
        if let Some(url) = &f.check.url {
            lines.push(format!("Failure URL: {url}"));
        }
        match f.job_id.and_then(|id| tails.get(&id)) {
            Some(LogTail::Lines(tail)) => lines.extend(tail.iter().cloned()),
            Some(LogTail::Failed(reason)) => lines.push(format!("<log fetch failed: {reason}>")),
            None => {}
        }
    }
    let skip = lines.len().saturating_sub(FAILURE_OUTPUT_MAX_LINES);
    lines[skip..].join("\n")
}

/// The GitHub Actions jobs whose logs the failure output of `contexts` needs.
pub fn failed_jobs(contexts: &[CheckContext]) -> Vec<u64> {
    let (_, failures) = ci(contexts);
    let mut jobs: Vec<u64> = failures.iter().filter_map(|f| f.job_id).collect();
    jobs.sort_unstable();
    jobs.dedup();
    jobs
}

/// Normalisation: one PR's details, its review threads (fresh or cached) and the log tails of its
/// failed jobs, as the facts the lifecycle consumes. Always `fetched`.
pub fn normalize(
    details: &PrDetails,
    threads: &[ReviewThread],
    tails: &BTreeMap<u64, LogTail>,
    observed_at: Timestamp,
) -> ScmFacts {
    let (ci_summary, failures) = ci(&details.contexts);
    let review = review_decision(details.review_decision.as_deref());
    let failing = ci_summary == CiSummary::Failing;
    ScmFacts {
        fetched: true,
        observed_at,
        pr_state: pr_state(details),
        draft: details.is_draft,
        pr_number: Some(details.number),
        pr_url: Some(details.url.clone()).filter(|u| !u.is_empty()),
        head_sha: details.head_sha.clone(),
        base_sha: details.base_sha.clone(),
        ci_summary,
        mergeability: mergeability(details, ci_summary, review),
        review_decision: review,
        pending_comments: pending_comments(threads),
        ci_failure_log_tail: failing.then(|| failure_output(&failures, tails)),
        failed_checks: failures.into_iter().map(|f| f.check).collect(),
    }
}

/// The last `n` lines of a log, without GitHub Actions' timestamp prefixes and carriage
/// returns.
pub fn log_tail(log: &str, n: usize) -> Vec<String> {
    let lines: Vec<&str> = log.lines().collect();
    let trimmed = if lines.last().is_some_and(|l| l.trim().is_empty()) {
        &lines[..lines.len() - 1]
    } else {
        &lines[..]
    };
    trimmed[trimmed.len().saturating_sub(n)..]
        .iter()
        .map(|l| strip_timestamp(l.trim_end_matches('\r')).to_owned())
        .collect()
}

/// GitHub Actions prefixes each log line with an RFC 3339 time and a space.
fn strip_timestamp(line: &str) -> &str {
    let Some((first, rest)) = line.split_once(' ') else {
        return line;
    };
    let looks_like_time = first.len() >= 20
        && first.ends_with('Z')
        && first.as_bytes().get(4) == Some(&b'-')
        && first.as_bytes().get(10) == Some(&b'T');
    if looks_like_time { rest } else { line }
}

#[cfg(test)]
#[path = "scm_poll_tests.rs"]
mod tests;
