//! Each phase of a poll's round on its own, over the fake host and the memory store: what the
//! earlier phases would have found is set by hand (or by running those phases), then the phase
//! under test runs and its own results are checked.

use std::collections::BTreeSet;

use super::*;
use crate::decide::reactions::ReactionPolicies;
use crate::decide::scm_poll::{LOG_TAIL_LINES, PrSeen, ThreadsSeen, log_tail};
use crate::domain::LogTail;
use crate::ports::StoreError;
use crate::scm_observer::round::{RateLimited, Round, Target};
use crate::testing::{ManualClock, ScriptedRecords};

/// Session `proj-<n>` working on `branch`, its PRs opened in `base` (not in the store).
fn subject(n: u64, branch: &str, base: &RepoRef) -> Subject {
    Subject {
        record: working(n),
        branch: branch.to_owned(),
        base: base.clone(),
        push: base.clone(),
    }
}

/// Open PR `number` of `branch` as the list shows it.
fn open(number: u64, branch: &str) -> OpenPr {
    OpenPr {
        number,
        head_ref: branch.to_owned(),
        head_repo: Some(repo()),
        head_sha: format!("{number:04x}aa"),
        updated_at: "u1".to_owned(),
    }
}

fn rate_limit(until: Timestamp) -> ScmError {
    ScmError::RateLimited {
        until,
        detail: "403".into(),
    }
}

#[tokio::test]
async fn attribution_gives_each_subject_its_target() {
    let s = Setup::new().await;
    let other = RepoRef::new("acme", "other");
    let mut shown_open = subject(2, "feat/b", &repo());
    shown_open.record.lifecycle.pr.state = PrState::Open;
    shown_open.record.lifecycle.pr.number = Some(9);
    let mut shown_merged = subject(3, "feat/c", &repo());
    shown_merged.record.lifecycle.pr.state = PrState::Merged;
    shown_merged.record.lifecycle.pr.number = Some(5);
    let subjects = vec![
        subject(1, "feat/a", &repo()),
        shown_open,
        shown_merged,
        subject(4, "feat/a", &repo()),
        subject(5, "feat/a", &other),
    ];
    let mut state = State::default();
    let mut round = Round::new(&s.observer, &mut state, subjects);
    round.lists.insert(repo(), Ok(vec![open(7, "feat/a")]));
    round.lists.insert(other, Err("HTTP 500".into()));
    round.attribute();
    assert_eq!(
        round.targets,
        vec![
            Target::Open(open(7, "feat/a")),
            // Active on the record but not in the list: fetched by number.
            Target::ByNumber(9),
            Target::Nothing,
            // The same branch, later in id order: the PR stays with proj-1.
            Target::Nothing,
            // Its repository's list failed: never "no PR".
            Target::Failed("HTTP 500".into()),
        ]
    );
}

#[tokio::test]
async fn check_runs_reuse_the_etag_of_the_same_head_and_fail_only_their_subject() {
    let s = Setup::new().await;
    for (n, pr) in [(1, 7), (2, 8), (3, 9)] {
        let branch = format!("feat/{n}");
        s.session(n, &branch).await;
        s.host.open_pr(pr, &branch, &repo());
    }
    let mut state = State::default();
    let cached = |sha: &str| CachedChecks {
        sha: sha.to_owned(),
        etag: Some("\"old\"".into()),
        runs: vec![],
    };
    state.checks.insert((repo(), 7), cached("0007aa"));
    state.checks.insert((repo(), 8), cached("an older head"));
    s.host.inner().fail_checks_of = Some((9, transient()));
    let subjects = s.observer.subjects().await;
    let mut round = Round::new(&s.observer, &mut state, subjects.clone());
    round.list_open_prs().await.unwrap();
    round.attribute();
    round.fetch_check_runs().await.unwrap();
    assert_eq!(
        s.host.calls("checks"),
        vec![
            "checks acme/app@0007aa etag=true".to_owned(),
            "checks acme/app@0008aa etag=false".to_owned(),
            "checks acme/app@0009aa etag=false".to_owned(),
        ]
    );
    let fetched: BTreeSet<usize> = round.checks.keys().copied().collect();
    assert_eq!(fetched, BTreeSet::from([0, 1]));
    assert!(matches!(&round.targets[0], Target::Open(pr) if pr.number == 7));
    assert_eq!(
        round.targets[2],
        Target::Failed("transient failure: HTTP 500".into())
    );

    // A rate limit stops the round.
    let until = t0().plus(mins(10));
    s.host.inner().fail_checks_of = Some((9, rate_limit(until)));
    let mut round = Round::new(&s.observer, &mut state, subjects);
    round.list_open_prs().await.unwrap();
    round.attribute();
    assert_eq!(round.fetch_check_runs().await, Err(RateLimited(until)));
}

#[tokio::test]
async fn refreshes_are_planned_once_per_pr_and_only_when_due() {
    let s = Setup::new().await;
    s.advance(mins(5));
    let now = t0().plus(mins(5));
    let recently = now.minus(secs(30));
    let memo = |pr: &OpenPr, at: Timestamp| PrMemo {
        seen: PrSeen {
            updated_at: pr.updated_at.clone(),
            head_sha: pr.head_sha.clone(),
            checks: vec![],
            refreshed_at: at,
        },
        threads: vec![],
        threads_seen: ThreadsSeen {
            fetched_at: at,
            updated_at: pr.updated_at.clone(),
        },
    };
    let mut state = State::default();
    // Unchanged since a recent refresh.
    state.prs.insert((repo(), 7), memo(&open(7, "a"), recently));
    // Refreshed five minutes ago: forced, threads due too.
    state.prs.insert((repo(), 8), memo(&open(8, "b"), t0()));
    // Recently refreshed, but its check runs changed since: details without threads.
    state
        .prs
        .insert((repo(), 10), memo(&open(10, "e"), recently));
    let subjects = ["a", "b", "c", "d", "e", "f", "g"]
        .iter()
        .zip(1..)
        .map(|(branch, n)| subject(n, branch, &repo()))
        .collect();
    let mut round = Round::new(&s.observer, &mut state, subjects);
    round.targets = vec![
        Target::Open(open(7, "a")),
        Target::Open(open(8, "b")),
        Target::ByNumber(9),
        Target::ByNumber(9),
        Target::Open(open(10, "e")),
        Target::Nothing,
        Target::Failed("HTTP 500".into()),
    ];
    let runs = CachedChecks {
        sha: open(10, "e").head_sha,
        etag: None,
        runs: vec![CheckRunDigest {
            id: 1,
            status: "in_progress".into(),
            conclusion: None,
        }],
    };
    round.checks.insert(4, ((repo(), 10), runs));
    round.plan_refreshes();
    let request = |number, with_threads| DetailRequest {
        repo: repo(),
        number,
        with_threads,
    };
    assert_eq!(
        round.requests,
        vec![request(8, true), request(9, true), request(10, false)]
    );
    let waiting: BTreeMap<usize, u64> = round.request_of.iter().map(|(i, k)| (*i, k.1)).collect();
    assert_eq!(waiting, BTreeMap::from([(1, 8), (2, 9), (3, 9), (4, 10)]));
}

#[tokio::test]
async fn details_come_in_batches_and_a_failed_batch_fails_every_pr_in_it() {
    let s = Setup::new().await;
    for n in 1..=26 {
        s.host.open_pr(n, &format!("feat/{n}"), &repo());
    }
    let mut state = State::default();
    let mut round = Round::new(&s.observer, &mut state, vec![]);
    // PR 27 does not exist: it fails alone.
    round.requests = (1..=27)
        .map(|number| DetailRequest {
            repo: repo(),
            number,
            with_threads: false,
        })
        .collect();
    round.fetch_details().await.unwrap();
    let sizes: Vec<usize> = s.host.inner().batches.iter().map(Vec::len).collect();
    assert_eq!(sizes, vec![25, 2]);
    let failed: Vec<u64> = (1..=27)
        .filter(|n| round.details[&(repo(), *n)].is_err())
        .collect();
    assert_eq!(failed, vec![27]);

    s.host.fail("details", Some(transient()));
    round.details.clear();
    round.fetch_details().await.unwrap();
    assert_eq!(round.details.len(), 27);
    assert!(round.details.values().all(Result::is_err));

    let until = t0().plus(mins(10));
    s.host.fail("details", Some(rate_limit(until)));
    assert_eq!(round.fetch_details().await, Err(RateLimited(until)));
}

#[tokio::test]
async fn log_tails_are_fetched_once_per_job_and_a_failed_fetch_is_not_cached() {
    let s = Setup::new().await;
    s.host.open_pr(7, "feat/a", &repo());
    s.host.open_pr(8, "feat/b", &repo());
    s.host
        .inner()
        .logs
        .insert(42, Ok("compiling\nerror: boom\n".into()));
    let details_with = |number, jobs: &[u64]| {
        let mut d = s.host.inner().prs[&(repo(), number)].details.clone();
        d.contexts = jobs.iter().map(|j| failing_actions_check(*j)).collect();
        d
    };
    let mut state = State::default();
    state.logs.insert((repo(), 44), vec!["cached".into()]);
    let mut round = Round::new(&s.observer, &mut state, vec![]);
    round
        .details
        .insert((repo(), 7), Ok(details_with(7, &[42, 44])));
    round
        .details
        .insert((repo(), 8), Ok(details_with(8, &[42, 43])));
    round.details.insert((repo(), 9), Err("HTTP 500".into()));
    round.fetch_log_tails().await.unwrap();

    assert_eq!(
        s.host.calls("log"),
        vec!["log 42".to_owned(), "log 43".to_owned()]
    );
    let boom = log_tail("compiling\nerror: boom\n", LOG_TAIL_LINES);
    assert_eq!(
        round.tails[&(repo(), 7)],
        BTreeMap::from([
            (42, LogTail::Lines(boom.clone())),
            (44, LogTail::Lines(vec!["cached".into()])),
        ])
    );
    assert_eq!(
        round.tails[&(repo(), 8)],
        BTreeMap::from([
            (42, LogTail::Lines(boom.clone())),
            (43, LogTail::Failed("not found: job 43".into())),
        ])
    );
    assert!(!round.tails.contains_key(&(repo(), 9)));
    assert_eq!(round.learned.logs, vec![((repo(), 42), boom)]);

    // Nothing was cached yet, so both logs are asked for again.
    s.host.fail("log", Some(rate_limit(t0())));
    assert_eq!(round.fetch_log_tails().await, Err(RateLimited(t0())));
}

#[tokio::test]
async fn a_failure_ends_only_its_subjects_part_of_the_round() {
    let store: Arc<dyn crate::ports::Backend> = Arc::new(MemoryStore::new());
    let records = ScriptedRecords::new(store.clone());
    let h = Harness::assemble(
        records.clone(),
        store,
        ManualClock::new(t0()),
        ReactionPolicies::default(),
    );
    let s = Setup::over(h, None).await;
    for (n, pr) in [(1, 7), (2, 8), (3, 9), (4, 10)] {
        let branch = format!("feat/{n}");
        s.session(n, &branch).await;
        s.host.open_pr(pr, &branch, &repo());
    }
    records.fail_next_commit_where(
        |write| write.id == sid(4),
        StoreError::Backend("disk full".into()),
    );
    let subjects = s.observer.subjects().await;
    let mut state = State::default();
    let mut round = Round::new(&s.observer, &mut state, subjects);
    round.list_open_prs().await.unwrap();
    round.attribute();
    round.fetch_check_runs().await.unwrap();
    round.plan_refreshes();
    round.fetch_details().await.unwrap();
    round.fetch_log_tails().await.unwrap();
    round.targets[0] = Target::Failed("listing failed".into());
    round.details.insert((repo(), 8), Err("HTTP 502".into()));
    round.report_facts().await;

    assert_eq!(round.report.failed, vec![sid(1), sid(2), sid(4)]);
    assert_eq!(round.report.refreshed, vec![sid(3), sid(4)]);
    assert_eq!(round.report.applied, vec![sid(3)]);
    let learned = |keys: Vec<&PrKey>| keys.into_iter().map(|k| k.1).collect::<Vec<u64>>();
    assert_eq!(
        learned(round.learned.prs.iter().map(|(k, _)| k).collect()),
        [9]
    );
    assert_eq!(
        learned(round.learned.checks.iter().map(|(k, _)| k).collect()),
        [9],
        "no cache entry of a failed subject"
    );
    assert_eq!(
        state.failed_last,
        HashSet::from([sid(1), sid(2), sid(4)]),
        "their next facts are applied even if equal"
    );
    assert_eq!(
        s.observer.lock_failures().end_tick().store_failures,
        1,
        "only the refused observation is a store failure"
    );
    assert_eq!(s.h.store.scm_snapshot(&sid(1)).await.unwrap(), None);
}

#[tokio::test]
async fn a_round_stopped_by_a_rate_limit_caches_nothing() {
    let s = Setup::new().await;
    for (n, pr) in [(1, 7), (2, 8)] {
        let branch = format!("feat/{n}");
        s.session(n, &branch).await;
        s.host.open_pr(pr, &branch, &repo());
    }
    let until = t0().plus(mins(10));
    s.host.inner().fail_checks_of = Some((8, rate_limit(until)));
    let subjects = s.observer.subjects().await;
    let mut state = State::default();
    let stopped = Round::new(&s.observer, &mut state, subjects.clone())
        .run()
        .await;
    assert_eq!(stopped, Err(RateLimited(until)));
    assert!(state.pages.get(&(repo(), 0)).is_none());
    assert!(state.checks.get(&(repo(), 7)).is_none());

    s.host.inner().fail_checks_of = None;
    let report = Round::new(&s.observer, &mut state, subjects)
        .run()
        .await
        .unwrap();
    assert_eq!(report.applied, vec![sid(1), sid(2)]);
    assert!(state.pages.get(&(repo(), 0)).is_some());
    assert!(state.checks.get(&(repo(), 7)).is_some());
    assert!(state.prs.get(&(repo(), 8)).is_some());
}
