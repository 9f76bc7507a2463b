//! Table tests of the SCM normalisation, PR attribution and the refresh cadence.

use super::*;
use crate::domain::{ThreadComment, Timestamp};
use crate::fixtures::{mins, secs, t0};

fn run(name: &str, status: &str, conclusion: Option<&str>) -> CheckContext {
    CheckContext::Run {
        name: name.to_owned(),
        status: status.to_owned(),
        conclusion: conclusion.map(str::to_owned),
        database_id: None,
        details_url: None,
        app_slug: None,
    }
}

fn done(name: &str, conclusion: &str) -> CheckContext {
    run(name, "COMPLETED", Some(conclusion))
}

fn actions(name: &str, conclusion: &str, job: u64) -> CheckContext {
    CheckContext::Run {
        name: name.to_owned(),
        status: "COMPLETED".to_owned(),
        conclusion: Some(conclusion.to_owned()),
        database_id: Some(job),
        details_url: Some(format!("https://ci.example/job/{job}")),
        app_slug: Some(crate::domain::GITHUB_ACTIONS_APP.to_owned()),
    }
}

fn status(context: &str, state: &str) -> CheckContext {
    CheckContext::Status {
        context: context.to_owned(),
        state: state.to_owned(),
        target_url: Some(format!("https://status.example/{context}")),
    }
}

fn details() -> PrDetails {
    PrDetails {
        number: 7,
        url: "https://github.com/o/r/pull/7".to_owned(),
        state: "OPEN".to_owned(),
        is_draft: false,
        merged: false,
        merged_at: None,
        head_sha: "h1".to_owned(),
        base_sha: "b1".to_owned(),
        mergeable: "MERGEABLE".to_owned(),
        merge_state_status: "CLEAN".to_owned(),
        review_decision: None,
        contexts: vec![],
        threads: None,
    }
}

fn facts(d: &PrDetails) -> ScmFacts {
    normalize(d, &[], &BTreeMap::new(), t0())
}

#[test]
fn pr_state_rows() {
    let cases: &[(&str, bool, bool, Option<&str>, PrState)] = &[
        ("OPEN", false, false, None, PrState::Open),
        ("OPEN", true, false, None, PrState::Draft),
        (
            "MERGED",
            false,
            true,
            Some("2026-05-26T11:00:00Z"),
            PrState::Merged,
        ),
        // `merged` or `mergedAt` alone is enough.
        ("CLOSED", false, true, None, PrState::Merged),
        (
            "CLOSED",
            false,
            false,
            Some("2026-05-26T11:00:00Z"),
            PrState::Merged,
        ),
        ("CLOSED", false, false, None, PrState::Closed),
        ("CLOSED", true, false, None, PrState::Closed),
    ];
    for (state, draft, merged, merged_at, want) in cases {
        let d = PrDetails {
            state: (*state).to_owned(),
            is_draft: *draft,
            merged: *merged,
            merged_at: merged_at.map(str::to_owned),
            ..details()
        };
        let f = facts(&d);
        assert_eq!(f.pr_state, *want, "{state} draft={draft} merged={merged}");
        assert_eq!(f.draft, *draft);
        assert!(f.fetched);
        assert_eq!(f.pr_number, Some(7));
        assert_eq!(f.pr_url.as_deref(), Some("https://github.com/o/r/pull/7"));
        assert_eq!((f.head_sha.as_str(), f.base_sha.as_str()), ("h1", "b1"));
    }
}

#[test]
fn ci_summary_rows() {
    use CiSummary::*;
    let cases: Vec<(&str, Vec<CheckContext>, CiSummary, Vec<&str>)> = vec![
        ("no contexts", vec![], None, vec![]),
        ("one success", vec![done("a", "SUCCESS")], Passing, vec![]),
        (
            "neutral counts as success",
            vec![done("a", "NEUTRAL")],
            Passing,
            vec![],
        ),
        (
            "success with skipped and cancelled",
            vec![
                done("a", "SUCCESS"),
                done("b", "SKIPPED"),
                done("c", "CANCELLED"),
            ],
            Passing,
            vec![],
        ),
        ("only skipped", vec![done("a", "SKIPPED")], None, vec![]),
        ("only cancelled", vec![done("a", "CANCELLED")], None, vec![]),
        (
            "failure",
            vec![done("a", "SUCCESS"), done("b", "FAILURE")],
            Failing,
            vec!["b"],
        ),
        (
            "timed out",
            vec![done("a", "TIMED_OUT")],
            Failing,
            vec!["a"],
        ),
        (
            "action required",
            vec![done("a", "ACTION_REQUIRED")],
            Failing,
            vec!["a"],
        ),
        (
            "startup failure",
            vec![done("a", "STARTUP_FAILURE")],
            Failing,
            vec!["a"],
        ),
        (
            "lowercase conclusions",
            vec![done("a", "failure")],
            Failing,
            vec!["a"],
        ),
        (
            "failure beats pending",
            vec![run("a", "IN_PROGRESS", Option::None), done("b", "FAILURE")],
            Failing,
            vec!["b"],
        ),
        (
            "queued",
            vec![run("a", "QUEUED", Option::None)],
            Pending,
            vec![],
        ),
        (
            "in progress beside success",
            vec![done("a", "SUCCESS"), run("b", "IN_PROGRESS", Option::None)],
            Pending,
            vec![],
        ),
        (
            "cancelled beside pending",
            vec![done("a", "CANCELLED"), run("b", "QUEUED", Option::None)],
            Pending,
            vec![],
        ),
        (
            "stale keeps CI from passing",
            vec![done("a", "SUCCESS"), done("b", "STALE")],
            None,
            vec![],
        ),
        (
            "status success",
            vec![status("ci/x", "SUCCESS")],
            Passing,
            vec![],
        ),
        (
            "status failure",
            vec![status("ci/x", "FAILURE")],
            Failing,
            vec!["ci/x"],
        ),
        (
            "status error",
            vec![status("ci/x", "ERROR")],
            Failing,
            vec!["ci/x"],
        ),
        (
            "status pending",
            vec![status("ci/x", "PENDING")],
            Pending,
            vec![],
        ),
        (
            "status expected",
            vec![status("ci/x", "EXPECTED")],
            Pending,
            vec![],
        ),
        (
            "mixed, sorted by name",
            vec![
                done("zeta", "FAILURE"),
                status("alpha", "ERROR"),
                done("mid", "SUCCESS"),
            ],
            Failing,
            vec!["alpha", "zeta"],
        ),
    ];
    for (what, contexts, want, failed) in cases {
        let f = facts(&PrDetails {
            contexts,
            ..details()
        });
        assert_eq!(f.ci_summary, want, "{what}");
        let names: Vec<&str> = f.failed_checks.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, failed, "{what}");
        assert_eq!(f.mergeability.ci_passing, want == Passing, "{what}");
        assert_eq!(f.ci_failure_log_tail.is_some(), want == Failing, "{what}");
    }
}

#[test]
fn failed_checks_carry_conclusion_and_url() {
    let f = facts(&PrDetails {
        contexts: vec![actions("build", "TIMED_OUT", 11), status("lint", "ERROR")],
        ..details()
    });
    assert_eq!(
        f.failed_checks,
        vec![
            FailedCheck {
                name: "build".into(),
                conclusion: "timed_out".into(),
                url: Some("https://ci.example/job/11".into()),
            },
            FailedCheck {
                name: "lint".into(),
                conclusion: "error".into(),
                url: Some("https://status.example/lint".into()),
            },
        ]
    );
}

#[test]
fn review_decision_rows() {
    for (raw, want) in [
        (Some("APPROVED"), ReviewDecision::Approved),
        (Some("CHANGES_REQUESTED"), ReviewDecision::ChangesRequested),
        (Some("REVIEW_REQUIRED"), ReviewDecision::Pending),
        (None, ReviewDecision::None),
    ] {
        let f = facts(&PrDetails {
            review_decision: raw.map(str::to_owned),
            ..details()
        });
        assert_eq!(f.review_decision, want, "{raw:?}");
        assert_eq!(f.mergeability.approved, want == ReviewDecision::Approved);
    }
}

#[test]
fn mergeability_rows() {
    struct Row {
        mergeable: &'static str,
        state: &'static str,
        review: Option<&'static str>,
        ci: Vec<CheckContext>,
        want_mergeable: bool,
        want_no_conflicts: bool,
        blockers: &'static [&'static str],
    }
    let green = || vec![done("ci", "SUCCESS")];
    let rows = vec![
        Row {
            mergeable: "MERGEABLE",
            state: "CLEAN",
            review: Some("APPROVED"),
            ci: green(),
            want_mergeable: true,
            want_no_conflicts: true,
            blockers: &[],
        },
        // Mergeable without a formal approval (no required review).
        Row {
            mergeable: "MERGEABLE",
            state: "CLEAN",
            review: None,
            ci: vec![],
            want_mergeable: true,
            want_no_conflicts: true,
            blockers: &[],
        },
        // MERGEABLE with other states: not mergeable, never a conflict.
        Row {
            mergeable: "MERGEABLE",
            state: "BLOCKED",
            review: Some("REVIEW_REQUIRED"),
            ci: green(),
            want_mergeable: false,
            want_no_conflicts: true,
            blockers: &["blocked"],
        },
        Row {
            mergeable: "MERGEABLE",
            state: "UNSTABLE",
            review: None,
            ci: green(),
            want_mergeable: false,
            want_no_conflicts: true,
            blockers: &["unstable"],
        },
        Row {
            mergeable: "MERGEABLE",
            state: "BEHIND",
            review: None,
            ci: green(),
            want_mergeable: false,
            want_no_conflicts: true,
            blockers: &["behind"],
        },
        Row {
            mergeable: "MERGEABLE",
            state: "HAS_HOOKS",
            review: None,
            ci: green(),
            want_mergeable: false,
            want_no_conflicts: true,
            blockers: &[],
        },
        // UNKNOWN mergeability: not mergeable, no conflicts.
        Row {
            mergeable: "UNKNOWN",
            state: "UNKNOWN",
            review: None,
            ci: green(),
            want_mergeable: false,
            want_no_conflicts: true,
            blockers: &[],
        },
        Row {
            mergeable: "UNKNOWN",
            state: "CLEAN",
            review: None,
            ci: green(),
            want_mergeable: false,
            want_no_conflicts: true,
            blockers: &[],
        },
        Row {
            mergeable: "CONFLICTING",
            state: "DIRTY",
            review: Some("APPROVED"),
            ci: green(),
            want_mergeable: false,
            want_no_conflicts: false,
            blockers: &["merge conflicts"],
        },
        // Either signal alone is a conflict.
        Row {
            mergeable: "CONFLICTING",
            state: "UNKNOWN",
            review: None,
            ci: green(),
            want_mergeable: false,
            want_no_conflicts: false,
            blockers: &["merge conflicts"],
        },
        Row {
            mergeable: "UNKNOWN",
            state: "DIRTY",
            review: None,
            ci: green(),
            want_mergeable: false,
            want_no_conflicts: false,
            blockers: &["merge conflicts"],
        },
        // Changes requested and failing CI block even a clean merge state.
        Row {
            mergeable: "MERGEABLE",
            state: "CLEAN",
            review: Some("CHANGES_REQUESTED"),
            ci: green(),
            want_mergeable: false,
            want_no_conflicts: true,
            blockers: &["changes requested"],
        },
        Row {
            mergeable: "MERGEABLE",
            state: "CLEAN",
            review: None,
            ci: vec![done("ci", "FAILURE")],
            want_mergeable: false,
            want_no_conflicts: true,
            blockers: &["ci failing"],
        },
        Row {
            mergeable: "CONFLICTING",
            state: "DIRTY",
            review: Some("CHANGES_REQUESTED"),
            ci: vec![done("ci", "FAILURE")],
            want_mergeable: false,
            want_no_conflicts: false,
            blockers: &["merge conflicts", "changes requested", "ci failing"],
        },
    ];
    for row in rows {
        let f = facts(&PrDetails {
            mergeable: row.mergeable.into(),
            merge_state_status: row.state.into(),
            review_decision: row.review.map(str::to_owned),
            contexts: row.ci,
            ..details()
        });
        let what = format!("{} {} {:?}", row.mergeable, row.state, row.review);
        assert_eq!(f.mergeability.mergeable, row.want_mergeable, "{what}");
        assert_eq!(f.mergeability.no_conflicts, row.want_no_conflicts, "{what}");
        assert_eq!(f.mergeability.blockers, row.blockers, "{what}");
    }
}

fn thread(id: &str, resolved: bool, bot: bool, latest: Option<&str>) -> ReviewThread {
    ReviewThread {
        id: id.to_owned(),
        is_resolved: resolved,
        first_author_is_bot: bot,
        latest: latest.map(|c| ThreadComment {
            id: c.to_owned(),
            author: "someone".to_owned(),
            body: format!("body of {c}"),
            url: format!("https://github.com/o/r/pull/7#{c}"),
            path: Some("src/lib.rs".to_owned()),
            line: Some(3),
        }),
    }
}

#[test]
fn pending_comments_skip_resolved_threads_and_take_bot_from_the_first_author() {
    let threads = [
        thread("t1", false, false, Some("c1")),
        thread("t2", true, false, Some("c2")),
        thread("t3", false, true, Some("c3")),
        thread("t4", false, false, None),
    ];
    let f = normalize(&details(), &threads, &BTreeMap::new(), t0());
    let got: Vec<(&str, &str, bool)> = f
        .pending_comments
        .iter()
        .map(|c| (c.thread_id.as_str(), c.comment_id.as_str(), c.is_bot))
        .collect();
    assert_eq!(got, vec![("t1", "c1", false), ("t3", "c3", true)]);
    let c = &f.pending_comments[0];
    assert_eq!(c.body, "body of c1");
    assert_eq!((c.path.as_deref(), c.line), (Some("src/lib.rs"), Some(3)));
}

#[test]
fn failure_output_per_check_in_name_order() {
    let d = PrDetails {
        contexts: vec![
            actions("unit", "FAILURE", 2),
            actions("build", "FAILURE", 1),
            status("external", "ERROR"),
            done("ok", "SUCCESS"),
        ],
        ..details()
    };
    let tails = BTreeMap::from([
        (
            1,
            LogTail::Lines(vec!["error: boom".into(), "exit 1".into()]),
        ),
        (2, LogTail::Failed("HTTP 500".into())),
    ]);
    let f = normalize(&d, &[], &tails, t0());
    assert_eq!(
        f.ci_failure_log_tail.as_deref(),
        Some(
            "Failed: build (failure)\nFailure URL: https://ci.example/job/1\nerror: boom\nexit 1\n\
             Failed: external (error)\nFailure URL: https://status.example/external\n\
             Failed: unit (failure)\nFailure URL: https://ci.example/job/2\n<log fetch failed: HTTP 500>"
        )
    );
    assert_eq!(failed_jobs(&d.contexts), vec![1, 2]);
}

#[test]
fn failure_output_is_cut_to_the_last_120_lines() {
    let d = PrDetails {
        contexts: vec![actions("a", "FAILURE", 1), actions("b", "FAILURE", 2)],
        ..details()
    };
    let lines = |tag: &str| (0..100).map(|i| format!("{tag}{i}")).collect::<Vec<_>>();
    let tails = BTreeMap::from([
        (1, LogTail::Lines(lines("a"))),
        (2, LogTail::Lines(lines("b"))),
    ]);
    let tail = normalize(&d, &[], &tails, t0())
        .ci_failure_log_tail
        .unwrap();
    let got: Vec<&str> = tail.lines().collect();
    assert_eq!(got.len(), FAILURE_OUTPUT_MAX_LINES);
    assert_eq!(*got.last().unwrap(), "b99");
    assert!(got.contains(&"Failed: b (failure)"));
    assert!(!got.contains(&"Failed: a (failure)"));
}

#[test]
fn log_tail_keeps_the_last_lines_without_timestamps() {
    let log =
        "2026-05-26T11:59:58.1234567Z first\r\n2026-05-26T11:59:59.0000000Z second\nplain third\n";
    assert_eq!(log_tail(log, 2), vec!["second", "plain third"]);
    assert_eq!(log_tail(log, 20).len(), 3);
    assert_eq!(log_tail("", 20), Vec::<String>::new());
    assert_eq!(log_tail("no-time here", 20), vec!["no-time here"]);
}

fn session(n: u32) -> SessionId {
    SessionId::parse(&format!("proj-{n}")).unwrap()
}

fn open_pr(number: u64, head: &str, repo: Option<&str>) -> OpenPr {
    OpenPr {
        number,
        head_ref: head.to_owned(),
        head_repo: repo.and_then(RepoRef::from_full_name),
        head_sha: format!("sha{number}"),
        updated_at: "2026-05-26T11:00:00Z".to_owned(),
    }
}

fn claim(n: u32, branch: &str, repo: &str) -> Claim {
    Claim {
        session: session(n),
        branch: branch.to_owned(),
        push_repo: RepoRef::from_full_name(repo).unwrap(),
    }
}

#[test]
fn attribution_by_head_ref_and_head_repository() {
    let prs = [
        open_pr(1, "feat/a", Some("acme/app")),
        open_pr(2, "feat/b", Some("fork/app")),
        open_pr(3, "feat/c", Some("acme/app")),
        open_pr(4, "feat/d", None),
        open_pr(5, "feat/e", Some("Acme/App")),
        open_pr(6, "feat/f", Some("acme/app")),
        open_pr(9, "feat/f", Some("acme/app")),
    ];
    let claims = [
        claim(1, "feat/a", "acme/app"),
        // Same branch name, but pushed to a fork: only the fork's PR counts.
        claim(2, "feat/b", "acme/app"),
        claim(3, "feat/b", "fork/app"),
        // A deleted head repository matches nobody.
        claim(4, "feat/d", "acme/app"),
        // Repository names compare case-insensitively.
        claim(5, "feat/e", "acme/app"),
        // Two open PRs of one head: the newest.
        claim(6, "feat/f", "acme/app"),
        claim(7, "feat/none", "acme/app"),
    ];
    let a = attribute(&claims, &prs);
    let want: BTreeMap<SessionId, u64> = [(1, 1), (3, 2), (5, 5), (6, 9)]
        .map(|(s, n)| (session(s), n))
        .into();
    assert_eq!(a.assigned, want);
    assert!(a.contested.is_empty());
}

#[test]
fn a_pr_claimed_twice_stays_with_the_first_session_in_id_order() {
    let prs = [open_pr(4, "feat/x", Some("acme/app"))];
    let claims = [
        claim(2, "feat/x", "acme/app"),
        claim(3, "feat/x", "acme/app"),
    ];
    let a = attribute(&claims, &prs);
    assert_eq!(a.assigned, BTreeMap::from([(session(2), 4)]));
    assert_eq!(a.contested, vec![(session(3), 4, session(2))]);
}

#[test]
fn refresh_candidates() {
    let pr = open_pr(1, "feat/a", Some("acme/app"));
    let checks = vec![CheckRunDigest {
        id: 1,
        status: "completed".into(),
        conclusion: Some("success".into()),
    }];
    let seen = PrSeen {
        updated_at: pr.updated_at.clone(),
        head_sha: pr.head_sha.clone(),
        checks: checks.clone(),
        refreshed_at: t0(),
    };
    let now = t0().plus(secs(30));
    assert!(needs_refresh(None, &pr, &checks, now), "new to the cache");
    assert!(!needs_refresh(Some(&seen), &pr, &checks, now), "unchanged");
    let moved = OpenPr {
        updated_at: "2026-05-26T11:30:00Z".into(),
        ..pr.clone()
    };
    assert!(
        needs_refresh(Some(&seen), &moved, &checks, now),
        "updated_at"
    );
    let pushed = OpenPr {
        head_sha: "other".into(),
        ..pr.clone()
    };
    assert!(needs_refresh(Some(&seen), &pushed, &checks, now), "head");
    let rerun = vec![CheckRunDigest {
        id: 2,
        status: "in_progress".into(),
        conclusion: None,
    }];
    assert!(needs_refresh(Some(&seen), &pr, &rerun, now), "check runs");
    assert!(
        !needs_refresh(Some(&seen), &pr, &checks, t0().plus(mins(5) - secs(1))),
        "forced refresh not yet due"
    );
    assert!(
        needs_refresh(Some(&seen), &pr, &checks, t0().plus(mins(5))),
        "forced refresh at 5m (inclusive)"
    );
}

#[test]
fn review_threads_cadence() {
    let seen = ThreadsSeen {
        fetched_at: t0(),
        updated_at: "u1".into(),
    };
    assert!(threads_due(None, Some("u1"), t0()), "never read");
    assert!(!threads_due(Some(&seen), Some("u1"), t0().plus(secs(119))));
    assert!(
        threads_due(Some(&seen), Some("u1"), t0().plus(mins(2))),
        "2m (inclusive)"
    );
    assert!(
        threads_due(Some(&seen), Some("u2"), t0().plus(secs(30))),
        "the PR moved"
    );
    assert!(
        !threads_due(Some(&seen), None, t0().plus(secs(30))),
        "fetched by number"
    );
}

#[test]
fn same_facts_ignores_only_the_observation_time() {
    let a = facts(&details());
    let later = ScmFacts {
        observed_at: Timestamp::from_millis(a.observed_at.as_millis() + 30_000),
        ..a.clone()
    };
    assert!(same_facts(&a, &later));
    let other = ScmFacts {
        head_sha: "h2".into(),
        ..later.clone()
    };
    assert!(!same_facts(&a, &other));
    let unfetched = ScmFacts {
        fetched: false,
        ..a.clone()
    };
    assert!(!same_facts(&a, &unfetched));
}
