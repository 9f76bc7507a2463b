//! Tables for the pure half of reactions: the default policies, `ReactionKeyFor` over every display
//! status, the enqueue rule, incident ends, the budget rule, nudge signatures, message and
//! notification texts and the session guard.

use sha2::{Digest, Sha256};

use super::*;
use crate::domain::{
    ActivityAxis, ActivitySource, CiSummary, FailedCheck, PrAxis, ProjectId, ReviewDecision,
    RuntimeState as RT, SessionId, SessionReason as R, SessionState as S, derive_status,
};
use crate::fixtures::{detecting_lc, lc, mins, open_pr, secs, stuck_lc, t0};

use ActivityState as A;
use PrReason as PR;
use PrState as PS;
use ReactionKey as K;

// ---------------------------------------------------------------- helpers

const PR_URL: &str = "https://example.com/pr/7";

/// `lc(S, R, alive)`.
fn rec(state: S, reason: R) -> SessionRecord {
    lc(state, reason, RT::Alive)
}

fn working() -> SessionRecord {
    rec(S::Working, R::TaskInProgress)
}

fn idle() -> SessionRecord {
    rec(S::Idle, R::Unset)
}

fn terminated(reason: R) -> SessionRecord {
    lc(S::Terminated, reason, RT::Exited)
}

/// `record` with PR `{state, reason, #7, PR_URL}`.
fn with_pr(mut record: SessionRecord, state: PS, reason: PR) -> SessionRecord {
    record.lifecycle.pr = PrAxis {
        state,
        reason,
        number: Some(7),
        url: Some(PR_URL.to_owned()),
    };
    record
}

/// `record` with PR `{state, reason}`, no number or URL.
fn bare_pr(mut record: SessionRecord, state: PS, reason: PR) -> SessionRecord {
    record.lifecycle.pr = PrAxis::bare(state, reason);
    record
}

fn with_activity(mut record: SessionRecord, state: A, at: Timestamp) -> SessionRecord {
    record.lifecycle.activity = ActivityAxis {
        state: Some(state),
        last_activity_at: Some(at),
        source: ActivitySource::Hook,
    };
    record
}

/// A fetched open PR #12 at `https://x/12` with head `h1`, base `b1`, nothing else.
fn snapshot() -> ScmFacts {
    let mut f = ScmFacts::fetched(t0(), PS::Open);
    f.pr_number = Some(12);
    f.pr_url = Some("https://x/12".to_owned());
    f.head_sha = "h1".to_owned();
    f.base_sha = "b1".to_owned();
    f
}

fn check(name: &str, conclusion: &str) -> FailedCheck {
    FailedCheck {
        name: name.to_owned(),
        conclusion: conclusion.to_owned(),
        url: Some(format!("https://x/checks/{name}")),
    }
}

/// A pending comment `id` on thread `t-<id>` at `src/lib.rs:3`, by `alice` or `lint-bot`.
fn comment(id: &str, is_bot: bool) -> PendingComment {
    PendingComment {
        thread_id: format!("t-{id}"),
        comment_id: id.to_owned(),
        author: if is_bot { "lint-bot" } else { "alice" }.to_owned(),
        body: format!("please fix {id}"),
        is_bot,
        url: format!("https://x/c/{id}"),
        path: Some("src/lib.rs".to_owned()),
        line: Some(3),
    }
}

fn with_comments(mut f: ScmFacts, comments: Vec<PendingComment>) -> ScmFacts {
    f.pending_comments = comments;
    f
}

fn ci_failing(mut f: ScmFacts, checks: Vec<FailedCheck>, tail: Option<&str>) -> ScmFacts {
    f.ci_summary = CiSummary::Failing;
    f.failed_checks = checks;
    f.ci_failure_log_tail = tail.map(str::to_owned);
    f
}

/// What a signature is: lowercase hex SHA-256 of the canonical string.
fn sha(canonical: &str) -> String {
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

fn tracker(key: ReactionKey, attempts: u32, first: Option<Timestamp>) -> Tracker {
    Tracker {
        session_id: SessionId::parse("acme-3").unwrap(),
        key,
        project_id: ProjectId::parse("acme").unwrap(),
        attempts,
        first_attempt_at: first,
        escalated: false,
        last_signature: None,
    }
}

/// Asserts `text` contains every `needle` of `contains` and none of `lacks`.
fn assert_text(name: &str, text: &str, contains: &[&str], lacks: &[&str]) {
    for needle in contains {
        assert!(
            text.contains(needle),
            "{name}: missing {needle:?} in\n{text}"
        );
    }
    for needle in lacks {
        assert!(
            !text.contains(needle),
            "{name}: unexpected {needle:?} in\n{text}"
        );
    }
}

// ---------------------------------------------------------------- default policies

/// `r` after its launch script recorded an exit with `code`.
fn exited(mut r: SessionRecord, code: i32) -> SessionRecord {
    r.metadata.insert("exitCode".into(), code.to_string());
    r.metadata.insert(
        "terminationDetail".into(),
        crate::decide::transitions::exit_detail(code),
    );
    r
}

#[test]
fn default_policies_match_the_reaction_table() {
    use ReactionAction::{Notify, SendToAgent};
    let p = |action, priority, retries, escalate_after| ReactionPolicy {
        action,
        priority,
        retries,
        escalate_after,
    };
    #[rustfmt::skip]
    let table = [
        (K::CiFailed,         p(SendToAgent, Priority::Action, 2, None)),
        (K::ChangesRequested, p(SendToAgent, Priority::Action, 0, Some(mins(30)))),
        (K::BotComments,      p(SendToAgent, Priority::Action, 0, Some(mins(30)))),
        (K::MergeConflicts,   p(SendToAgent, Priority::Action, 0, Some(mins(15)))),
        (K::AgentIdle,        p(Notify, Priority::Info, 0, None)),
        (K::ApprovedAndGreen, p(Notify, Priority::Action, 0, None)),
        (K::AgentStuck,       p(Notify, Priority::Urgent, 0, None)),
        (K::AgentNeedsInput,  p(Notify, Priority::Urgent, 0, None)),
        (K::AgentExited,      p(Notify, Priority::Urgent, 0, None)),
        (K::PrClosed,         p(Notify, Priority::Action, 0, None)),
        (K::AllComplete,      p(Notify, Priority::Info, 0, None)),
    ];
    assert_eq!(table.len(), K::ALL.len(), "every key has a row");
    let defaults = ReactionPolicies::default();
    for (key, want) in table {
        assert_eq!(defaults.get(key), want, "{key}");
    }
    // Only send-to-agent keys with escalateAfter escalate by time (never ci-failed).
    assert_eq!(
        defaults.time_budgets(),
        vec![
            (K::ChangesRequested, mins(30)),
            (K::BotComments, mins(30)),
            (K::MergeConflicts, mins(15)),
        ]
    );
}

#[test]
fn exactly_the_reactions_with_an_agent_message_can_send_to_agent() {
    let record = with_pr(working(), PS::Open, PR::InProgress);
    for &key in K::ALL {
        let message = nudge_message(key, &record, Some(&snapshot()));
        let has_message = !message.starts_with("ao reaction");
        assert_eq!(can_send_to_agent(key), has_message, "{key}: {message}");
        // Every default send-to-agent reaction is one that can.
        if ReactionPolicies::default().get(key).action == ReactionAction::SendToAgent {
            assert!(can_send_to_agent(key), "{key}");
        }
    }
}

#[test]
fn policy_overrides() {
    use ReactionAction::{Disabled, Notify, SendToAgent};
    type Row = (
        &'static str,
        fn(&mut ReactionPolicies),
        ReactionKey,
        ReactionAction,
        u32,
        Option<Duration>,
    );
    #[rustfmt::skip]
    let cases: Vec<Row> = vec![
        ("agent-idle as send-to-agent gets the defaults retries 2 and 15m",
            |p| p.set_action(K::AgentIdle, SendToAgent), K::AgentIdle, SendToAgent, 2, Some(mins(15))),
        ("explicit retries after switching agent-idle survive a repeated switch",
            |p| {
                p.set_action(K::AgentIdle, SendToAgent);
                p.set_retries(K::AgentIdle, 5);
                p.set_action(K::AgentIdle, SendToAgent);
            }, K::AgentIdle, SendToAgent, 5, Some(mins(15))),
        ("switching another key keeps its budget",
            |p| p.set_action(K::AgentStuck, SendToAgent), K::AgentStuck, SendToAgent, 0, None),
        ("agent-idle switched back to notify keeps the budget it was given",
            |p| {
                p.set_action(K::AgentIdle, SendToAgent);
                p.set_action(K::AgentIdle, Notify);
            }, K::AgentIdle, Notify, 2, Some(mins(15))),
        ("a key can be disabled",
            |p| p.set_action(K::CiFailed, Disabled), K::CiFailed, Disabled, 2, None),
        ("retries override",
            |p| p.set_retries(K::CiFailed, 7), K::CiFailed, SendToAgent, 7, None),
        ("escalateAfter override",
            |p| p.set_escalate_after(K::CiFailed, Some(mins(10))), K::CiFailed, SendToAgent, 2, Some(mins(10))),
        ("escalateAfter 0 disables escalation by time",
            |p| p.set_escalate_after(K::ChangesRequested, Some(Duration::ZERO)), K::ChangesRequested, SendToAgent, 0, None),
        ("escalateAfter none disables escalation by time",
            |p| p.set_escalate_after(K::MergeConflicts, None), K::MergeConflicts, SendToAgent, 0, None),
    ];
    for (name, configure, key, action, retries, escalate_after) in cases {
        let mut policies = ReactionPolicies::default();
        configure(&mut policies);
        let want = ReactionPolicy {
            action,
            retries,
            escalate_after,
            // Priority is never overridden.
            priority: ReactionPolicies::default().get(key).priority,
        };
        assert_eq!(policies.get(key), want, "{name}");
    }
}

#[test]
fn time_budgets_follow_the_configuration() {
    let mut p = ReactionPolicies::default();
    p.set_action(K::AgentIdle, ReactionAction::SendToAgent);
    p.set_action(K::BotComments, ReactionAction::Disabled);
    p.set_escalate_after(K::MergeConflicts, None);
    p.set_escalate_after(K::CiFailed, Some(mins(45)));
    assert_eq!(
        p.time_budgets(),
        vec![
            (K::CiFailed, mins(45)),
            (K::ChangesRequested, mins(30)),
            (K::AgentIdle, mins(15)),
        ]
    );
}

// ---------------------------------------------------------------- ReactionKeyFor

/// At least one record per display status; the status column is asserted first, so each input
/// really is what its row says.
#[test]
fn reaction_key_for_every_display_status() {
    type Row = (&'static str, SessionRecord, Status, Option<ReactionKey>);
    let (open, draft, closed) = (PS::Open, PS::Draft, PS::Closed);
    #[rustfmt::skip]
    let cases: Vec<Row> = vec![
        ("spawning", rec(S::NotStarted, R::SpawnRequested), Status::Spawning, None),
        ("working", working(), Status::Working, None),
        ("a closed PR never shows: working", with_pr(working(), closed, PR::ClosedUnmerged), Status::Working, None),
        ("detecting", detecting_lc(), Status::Detecting, None),
        ("pr_open", open_pr(PR::InProgress), Status::PrOpen, None),
        ("9.2 rule 3: pr_open + merge_conflicts", open_pr(PR::MergeConflicts), Status::PrOpen, Some(K::MergeConflicts)),
        ("draft", with_pr(working(), draft, PR::InProgress), Status::Draft, None),
        ("draft ignores bot_comments", with_pr(working(), draft, PR::BotComments), Status::Draft, None),
        ("draft ignores merge_conflicts", with_pr(working(), draft, PR::MergeConflicts), Status::Draft, None),
        ("ci_failed", open_pr(PR::CiFailing), Status::CiFailed, Some(K::CiFailed)),
        ("ci_failed (draft)", with_pr(working(), draft, PR::CiFailing), Status::CiFailed, Some(K::CiFailed)),
        ("review_pending", open_pr(PR::ReviewPending), Status::ReviewPending, None),
        ("changes_requested", open_pr(PR::ChangesRequested), Status::ChangesRequested, Some(K::ChangesRequested)),
        ("9.2 rule 2: changes_requested + bot_comments", open_pr(PR::BotComments), Status::ChangesRequested, Some(K::BotComments)),
        ("approved", open_pr(PR::Approved), Status::Approved, Some(K::ApprovedAndGreen)),
        ("mergeable", open_pr(PR::MergeReady), Status::Mergeable, Some(K::ApprovedAndGreen)),
        ("merged", with_pr(idle(), PS::Merged, PR::Merged), Status::Merged, Some(K::AllComplete)),
        ("cleanup", terminated(R::AutoCleanup), Status::Cleanup, None),
        ("cleanup (pr_merged)", terminated(R::PrMerged), Status::Cleanup, None),
        ("needs_input", rec(S::NeedsInput, R::AwaitingUserInput), Status::NeedsInput, Some(K::AgentNeedsInput)),
        ("needs_input outranks a bot-comments PR",
            with_pr(rec(S::NeedsInput, R::AwaitingUserInput), open, PR::BotComments), Status::NeedsInput, Some(K::AgentNeedsInput)),
        ("stuck", stuck_lc(R::ProbeFailure), Status::Stuck, Some(K::AgentStuck)),
        ("stuck outranks a closed PR", with_pr(stuck_lc(R::RuntimeLost), closed, PR::ClosedUnmerged), Status::Stuck, Some(K::AgentStuck)),
        ("errored", terminated(R::ErrorInProcess), Status::Errored, None),
        ("errored (probe_failure)", terminated(R::ProbeFailure), Status::Errored, None),
        ("terminated (runtime_lost)", terminated(R::RuntimeLost), Status::Terminated, Some(K::AgentExited)),
        ("terminated (agent_process_exited)", terminated(R::AgentProcessExited), Status::Terminated, Some(K::AgentExited)),
        ("killed (manually_killed)", terminated(R::ManuallyKilled), Status::Killed, Some(K::AgentExited)),
        ("an inferred death outranks a merge-conflicts PR",
            with_pr(terminated(R::AgentProcessExited), open, PR::MergeConflicts), Status::Terminated, Some(K::AgentExited)),
        ("idle", idle(), Status::Idle, Some(K::AgentIdle)),
        ("idle + PR none", bare_pr(idle(), PS::None, PR::NotCreated), Status::Idle, Some(K::AgentIdle)),
        ("9.2 rule 1: idle + closed PR", with_pr(idle(), closed, PR::ClosedUnmerged), Status::Idle, Some(K::PrClosed)),
        ("done", rec(S::Done, R::Unset), Status::Done, None),
        ("done: the agent exited with code 0", exited(rec(S::Done, R::AgentExited), 0), Status::Done, Some(K::AgentExited)),
        ("errored: the agent exited with code 1", exited(terminated(R::ErrorInProcess), 1), Status::Errored, Some(K::AgentExited)),
        ("terminated", terminated(R::Unset), Status::Terminated, None),
    ];
    let mut covered = std::collections::BTreeSet::new();
    for (name, record, status, key) in cases {
        assert_eq!(
            derive_status_static(&record.lifecycle),
            status,
            "{name}: input"
        );
        assert_eq!(reaction_key_for(&record), key, "{name}");
        covered.insert(status);
    }
    // no_signal is never a static status (A23): a record that reads as no_signal at t0
    // (hook-capable, started 10m ago, no hook yet) reacts as spawning, with no key.
    let silent = rec(S::NotStarted, R::SpawnRequested);
    assert_eq!(derive_status(&silent, t0(), true), Status::NoSignal);
    assert_eq!(reaction_key_for(&silent), None);
    covered.insert(Status::NoSignal);
    assert_eq!(
        covered.len(),
        Status::ALL.len(),
        "one row for every display status"
    );
}

// ---------------------------------------------------------------- enqueue rule

#[test]
fn enqueue_rule() {
    type Row = (
        &'static str,
        SessionRecord,
        SessionRecord,
        Option<ReactionKey>,
    );
    #[rustfmt::skip]
    let cases: Vec<Row> = vec![
        ("none → key enqueues it", working(), open_pr(PR::CiFailing), Some(K::CiFailed)),
        ("key → other key enqueues the new one", open_pr(PR::ChangesRequested), open_pr(PR::CiFailing), Some(K::CiFailed)),
        ("approved → mergeable stays approved-and-green", open_pr(PR::Approved), open_pr(PR::MergeReady), None),
        ("same key re-persisted never enqueues", open_pr(PR::CiFailing), with_pr(idle(), PS::Open, PR::CiFailing), None),
        ("key → none enqueues nothing", open_pr(PR::CiFailing), open_pr(PR::ReviewPending), None),
        ("none → none", working(), detecting_lc(), None),
        ("idle → closed PR enqueues pr-closed", idle(), with_pr(idle(), PS::Closed, PR::ClosedUnmerged), Some(K::PrClosed)),
        ("L6 inferred death enqueues agent-exited", detecting_lc(), terminated(R::RuntimeLost), Some(K::AgentExited)),
    ];
    for (name, before, after, want) in cases {
        assert_eq!(reaction_to_enqueue(&before, &after), want, "{name}");
    }
}

// ---------------------------------------------------------------- incident ends

fn all_keys() -> Vec<ReactionKey> {
    K::ALL.to_vec()
}

fn all_but(keep: &[ReactionKey]) -> Vec<ReactionKey> {
    K::ALL
        .iter()
        .copied()
        .filter(|k| !keep.contains(k))
        .collect()
}

/// For every tracker key, whether its incident ended on the record after a write: each row
/// lists the keys whose incident ended.
#[test]
fn incident_end_rules_for_every_key() {
    // ci-failed is persistent; agent-idle spans the task: neither ends by the key rule.
    let by_key_rule = all_but(&[K::CiFailed, K::AgentIdle]);
    let needs_input = || rec(S::NeedsInput, R::AwaitingUserInput);
    #[rustfmt::skip]
    let cases: Vec<(&str, SessionRecord, Vec<ReactionKey>)> = vec![
        // "any | the session is terminal"
        ("T5 terminated", terminated(R::RuntimeLost), all_keys()),
        ("terminated with a failing PR", with_pr(terminated(R::ManuallyKilled), PS::Open, PR::CiFailing), all_keys()),
        ("done", rec(S::Done, R::Unset), all_keys()),
        // "any | PR state merged or closed"
        ("L17 merged", with_pr(idle(), PS::Merged, PR::Merged), all_keys()),
        ("S9 merged while liveness-stuck", with_pr(stuck_lc(R::ProbeFailure), PS::Merged, PR::Merged), all_keys()),
        ("closed", with_pr(idle(), PS::Closed, PR::ClosedUnmerged), all_keys()),
        ("closed while working", with_pr(working(), PS::Closed, PR::ClosedUnmerged), all_keys()),
        // "any | CI genuinely recovered": open (not draft), approved or merge_ready.
        ("open/approved", open_pr(PR::Approved), all_keys()),
        ("L16 open/merge_ready", open_pr(PR::MergeReady), all_keys()),
        ("recovered behind needs_input", with_pr(needs_input(), PS::Open, PR::MergeReady), all_keys()),
        // review_pending is ambiguous: no recovery, so ci-failed persists (L9); the others left
        // for a non-incident status (T3); agent-idle ended because a PR appeared.
        ("T3 open/review_pending", open_pr(PR::ReviewPending), all_but(&[K::CiFailed])),
        ("open/in_progress", open_pr(PR::InProgress), all_but(&[K::CiFailed])),
        ("L11 draft/in_progress", with_pr(working(), PS::Draft, PR::InProgress), all_but(&[K::CiFailed])),
        // Moving to another incident key leaves trackers alone; a PR appearing ends agent-idle.
        ("T2/T4 open/ci_failing", open_pr(PR::CiFailing), vec![K::AgentIdle]),
        ("draft/ci_failing", with_pr(working(), PS::Draft, PR::CiFailing), vec![K::AgentIdle]),
        ("open/changes_requested", open_pr(PR::ChangesRequested), vec![K::AgentIdle]),
        ("open/bot_comments", open_pr(PR::BotComments), vec![K::AgentIdle]),
        ("open/merge_conflicts", open_pr(PR::MergeConflicts), vec![K::AgentIdle]),
        // No PR (none or unset) ends nothing by itself; the key rule still applies.
        ("idle, no PR (agent-idle key)", idle(), vec![]),
        ("idle, PR none (agent-idle key)", bare_pr(idle(), PS::None, PR::NotCreated), vec![]),
        ("needs_input (agent-needs-input key)", needs_input(), vec![]),
        ("stuck (agent-stuck key)", stuck_lc(R::ProbeFailure), vec![]),
        ("T1 working, no PR (no key)", working(), by_key_rule.clone()),
        ("working, PR none (no key)", bare_pr(working(), PS::None, PR::NotCreated), by_key_rule.clone()),
        ("T4 detecting (no key)", detecting_lc(), by_key_rule.clone()),
        ("spawning (no key)", rec(S::NotStarted, R::SpawnRequested), by_key_rule.clone()),
    ];
    for (name, after, ended) in cases {
        for &key in K::ALL {
            let want = ended.contains(&key);
            assert_eq!(incident_ended(key, &after), want, "{name}: tracker {key}");
        }
        assert_eq!(ended_incidents(&after), ended, "{name}: ended_incidents");
    }
}

// ---------------------------------------------------------------- budget

#[test]
fn budget_rule() {
    let policy = |retries, escalate_after| ReactionPolicy {
        action: ReactionAction::SendToAgent,
        priority: Priority::Action,
        retries,
        escalate_after,
    };
    let at = |d: Duration| t0().plus(d);
    let just_before = |d: Duration| t0().plus(d).minus(Duration::from_millis(1));
    let zero = Some(Duration::ZERO);
    // (name, policy, attempts counted including this one, firstAttemptAt, now, exhausted)
    #[rustfmt::skip]
    let cases = [
        ("count: 1 of 2", policy(2, None), 1, Some(t0()), t0(), false),
        ("count: 2 of 2", policy(2, None), 2, Some(t0()), t0(), false),
        ("count: 3 > 2 escalates (9.5 worked example)", policy(2, None), 3, Some(t0()), t0(), true),
        ("count: retries 1, attempt 2", policy(1, None), 2, Some(t0()), t0(), true),
        ("count: retries 0 is unlimited", policy(0, None), 1000, Some(t0()), at(mins(600)), false),
        ("time: 1ms before 30m", policy(0, Some(mins(30))), 5, Some(t0()), just_before(mins(30)), false),
        ("time: exactly 30m (inclusive, L12)", policy(0, Some(mins(30))), 5, Some(t0()), at(mins(30)), true),
        ("time: past 30m", policy(0, Some(mins(30))), 1, Some(t0()), at(mins(31)), true),
        ("time: firstAttemptAt unset", policy(0, Some(mins(30))), 1, None, at(mins(600)), false),
        ("time: no escalateAfter", policy(0, None), 1, Some(t0()), at(mins(600)), false),
        ("time: zero escalateAfter", policy(0, zero), 1, Some(t0()), at(mins(600)), false),
        ("both: time runs out first", policy(2, Some(mins(15))), 1, Some(t0()), at(mins(15)), true),
        ("both: count runs out first", policy(2, Some(mins(15))), 3, Some(t0()), at(secs(1)), true),
        ("both: neither", policy(2, Some(mins(15))), 2, Some(t0()), at(mins(14)), false),
    ];
    for (name, policy, attempts, first, now, want) in cases {
        let t = tracker(K::ChangesRequested, attempts, first);
        assert_eq!(budget_exhausted(&policy, &t, now), want, "{name}");
    }
}

// ---------------------------------------------------------------- signatures

#[test]
fn nudge_signature_canonical_strings() {
    type Row = (
        &'static str,
        ReactionKey,
        SessionRecord,
        Option<ScmFacts>,
        &'static str,
    );
    let idle_at = with_activity(idle(), A::Idle, t0().plus(Duration::from_millis(1500)));
    let two_checks = vec![check("lint", "failure"), check("build", "timed_out")];
    let review_only_bots = ScmFacts {
        review_decision: ReviewDecision::ChangesRequested,
        ..with_comments(snapshot(), vec![comment("b1", true)])
    };
    let mixed = vec![
        comment("h2", false),
        comment("b2", true),
        comment("h1", false),
        comment("b1", true),
    ];
    let unnumbered = bare_pr(working(), PS::Open, PR::CiFailing);
    #[rustfmt::skip]
    let cases: Vec<Row> = vec![
        ("ci-failed: head, checks sorted by name, tail", K::CiFailed, open_pr(PR::CiFailing),
            Some(ci_failing(snapshot(), two_checks, Some("boom\nline 2"))), "ci;h1;build:timed_out;lint:failure;boom\nline 2"),
        ("ci-failed: no checks, no tail", K::CiFailed, open_pr(PR::CiFailing),
            Some(ci_failing(snapshot(), vec![], None)), "ci;h1;"),
        ("changes-requested: human comment ids, sorted", K::ChangesRequested, open_pr(PR::ChangesRequested),
            Some(with_comments(snapshot(), mixed.clone())), "review;t-h1:h1;t-h2:h2"),
        ("changes-requested: no human comment → decision, head", K::ChangesRequested, open_pr(PR::ChangesRequested),
            Some(review_only_bots), "review;changes_requested;h1"),
        ("bot-comments: bot comment ids, sorted", K::BotComments, open_pr(PR::BotComments),
            Some(with_comments(snapshot(), mixed)), "bot;t-b1:b1;t-b2:b2"),
        ("merge-conflicts: head, base", K::MergeConflicts, open_pr(PR::MergeConflicts), Some(snapshot()), "conflict;h1;b1"),
        ("agent-idle: last activity, RFC 3339", K::AgentIdle, idle_at.clone(), None, "idle;2026-05-26T12:00:01.500Z"),
        ("agent-idle reads the record, not a snapshot", K::AgentIdle, idle_at, Some(snapshot()), "idle;2026-05-26T12:00:01.500Z"),
        ("agent-idle: no activity time", K::AgentIdle, idle(), None, "idle;"),
        // No snapshot: `<key>;#<prNumber>;<prReason>`.
        ("fallback: ci-failed", K::CiFailed, open_pr(PR::CiFailing), None, "ci-failed;#7;ci_failing"),
        ("fallback: changes-requested", K::ChangesRequested, open_pr(PR::ChangesRequested), None, "changes-requested;#7;changes_requested"),
        ("fallback: bot-comments", K::BotComments, open_pr(PR::BotComments), None, "bot-comments;#7;bot_comments"),
        ("fallback: merge-conflicts", K::MergeConflicts, open_pr(PR::MergeConflicts), None, "merge-conflicts;#7;merge_conflicts"),
        ("fallback: no PR number", K::CiFailed, unnumbered, None, "ci-failed;#0;ci_failing"),
    ];
    for (name, key, record, facts, canonical) in cases {
        let got = nudge_signature(key, &record, facts.as_ref());
        assert_eq!(got, sha(canonical), "{name}: canonical {canonical:?}");
        let lower_hex = got.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f'));
        assert!(
            got.len() == 64 && lower_hex,
            "{name}: lowercase hex SHA-256, got {got}"
        );
    }
}

/// The same facts in another order sign the same ("identical content always signs the same"),
/// including failed checks that share a name (matrix jobs, re-runs).
#[test]
fn nudge_signature_ignores_ordering() {
    let checks = vec![
        check("test", "failure"),
        check("build", "failure"),
        check("build", "cancelled"),
        check("lint", "timed_out"),
        check("build-arm", "failure"),
    ];
    let comments = vec![
        comment("h3", false),
        comment("b2", true),
        comment("h1", false),
        comment("b1", true),
        comment("h2", false),
    ];
    type Reorder = fn(&mut [FailedCheck], &mut [PendingComment]);
    let orders: [Reorder; 3] = [
        |c, p| {
            c.reverse();
            p.reverse();
        },
        |c, p| {
            c.rotate_left(2);
            p.rotate_left(3);
        },
        |c, p| {
            c.swap(1, 2);
            p.swap(0, 4);
        },
    ];
    let base = with_comments(ci_failing(snapshot(), checks, Some("tail")), comments);
    let record = open_pr(PR::CiFailing);
    for key in [K::CiFailed, K::ChangesRequested, K::BotComments] {
        let want = nudge_signature(key, &record, Some(&base));
        for (i, reorder) in orders.iter().enumerate() {
            let mut shuffled = base.clone();
            reorder(&mut shuffled.failed_checks, &mut shuffled.pending_comments);
            let got = nudge_signature(key, &record, Some(&shuffled));
            assert_eq!(got, want, "{key}: order #{i}");
        }
    }
    // Sorted by name: `build:…` before `build-arm:…` although `-` sorts before `:`.
    assert_eq!(
        nudge_signature(K::CiFailed, &record, Some(&base)),
        sha(
            "ci;h1;build:cancelled;build:failure;build-arm:failure;lint:timed_out;test:failure;tail"
        )
    );
}

/// Every field of a canonical string matters; fields outside it do not.
#[test]
fn nudge_signature_field_sensitivity() {
    type Row = (&'static str, ReactionKey, ScmFacts, fn(&mut ScmFacts), bool);
    let ci = ci_failing(snapshot(), vec![check("build", "failure")], Some("tail A"));
    let human = with_comments(snapshot(), vec![comment("h1", false), comment("b1", true)]);
    let no_human = ScmFacts {
        review_decision: ReviewDecision::ChangesRequested,
        ..with_comments(snapshot(), vec![comment("b1", true)])
    };
    // (name, key, facts, edit, signature changes)
    #[rustfmt::skip]
    let cases: Vec<Row> = vec![
        ("ci: head sha", K::CiFailed, ci.clone(), |f| f.head_sha = "h2".into(), true),
        ("ci: log tail (U2)", K::CiFailed, ci.clone(), |f| f.ci_failure_log_tail = Some("tail B".into()), true),
        ("ci: tail dropped", K::CiFailed, ci.clone(), |f| f.ci_failure_log_tail = None, true),
        ("ci: check conclusion", K::CiFailed, ci.clone(), |f| f.failed_checks[0].conclusion = "cancelled".into(), true),
        ("ci: check name", K::CiFailed, ci.clone(), |f| f.failed_checks[0].name = "test".into(), true),
        ("ci: another check", K::CiFailed, ci.clone(), |f| f.failed_checks.push(check("lint", "failure")), true),
        ("ci: raw bytes, not sanitised", K::CiFailed, ci.clone(), |f| f.ci_failure_log_tail = Some("tail\u{1b} A".into()), true),
        ("ci: base sha is not in it", K::CiFailed, ci.clone(), |f| f.base_sha = "b2".into(), false),
        ("ci: check url is not in it", K::CiFailed, ci.clone(), |f| f.failed_checks[0].url = None, false),
        ("ci: comments are not in it", K::CiFailed, ci.clone(), |f| f.pending_comments.push(comment("h9", false)), false),
        ("review: new human comment", K::ChangesRequested, human.clone(), |f| f.pending_comments.push(comment("h2", false)), true),
        ("review: comment id", K::ChangesRequested, human.clone(), |f| f.pending_comments[0].comment_id = "h1b".into(), true),
        ("review: thread id", K::ChangesRequested, human.clone(), |f| f.pending_comments[0].thread_id = "t-x".into(), true),
        ("review: an edited body is the same comment", K::ChangesRequested, human.clone(), |f| f.pending_comments[0].body = "edited".into(), false),
        ("review: head sha ignored while comments exist", K::ChangesRequested, human.clone(), |f| f.head_sha = "h2".into(), false),
        ("review: a new bot comment is not in it", K::ChangesRequested, human.clone(), |f| f.pending_comments.push(comment("b2", true)), false),
        ("review fallback: head sha", K::ChangesRequested, no_human.clone(), |f| f.head_sha = "h2".into(), true),
        ("review fallback: decision", K::ChangesRequested, no_human.clone(), |f| f.review_decision = ReviewDecision::Pending, true),
        ("bot: new bot comment", K::BotComments, human.clone(), |f| f.pending_comments.push(comment("b2", true)), true),
        ("bot: a new human comment is not in it", K::BotComments, human.clone(), |f| f.pending_comments.push(comment("h2", false)), false),
        ("conflict: head sha", K::MergeConflicts, snapshot(), |f| f.head_sha = "h2".into(), true),
        ("conflict: base sha", K::MergeConflicts, snapshot(), |f| f.base_sha = "b2".into(), true),
        ("conflict: PR number is not in it", K::MergeConflicts, snapshot(), |f| f.pr_number = Some(99), false),
    ];
    let record = open_pr(PR::CiFailing);
    for (name, key, base, edit, changes) in cases {
        let mut edited = base.clone();
        edit(&mut edited);
        let before = nudge_signature(key, &record, Some(&base));
        let after = nudge_signature(key, &record, Some(&edited));
        assert_eq!(before != after, changes, "{name}");
    }

    // Fields read from the record: agent-idle's activity time, and the no-snapshot fallback.
    let idle_at = |ms| with_activity(idle(), A::Idle, t0().plus(Duration::from_millis(ms)));
    let signed = |key, record: &SessionRecord| nudge_signature(key, record, None);
    assert_ne!(
        signed(K::AgentIdle, &idle_at(0)),
        signed(K::AgentIdle, &idle_at(1)),
        "agent-idle: a new turn is a new nudge"
    );
    let mut renumbered = open_pr(PR::CiFailing);
    renumbered.lifecycle.pr.number = Some(8);
    assert_ne!(
        signed(K::CiFailed, &record),
        signed(K::CiFailed, &renumbered),
        "fallback: PR number"
    );
    assert_ne!(
        signed(K::CiFailed, &record),
        signed(K::ChangesRequested, &record),
        "fallback: key"
    );
}

// ---------------------------------------------------------------- sanitising and fences

#[test]
fn sanitize_provider_text_table() {
    let cases = [
        ("plain text", "plain text"),
        ("keeps\nnewline\tand tab", "keeps\nnewline\tand tab"),
        ("\u{1b}[31mred\u{1b}[0m", "[31mred[0m"),
        ("bell\u{7}", "bell"),
        ("carriage\r\nreturn", "carriage\nreturn"),
        ("nul\0byte", "nulbyte"),
        ("del\u{7f}ete", "delete"),
        ("c1\u{9b}31m", "c131m"),
        ("unicode é 世界 ✓", "unicode é 世界 ✓"),
        ("", ""),
    ];
    for (input, want) in cases {
        assert_eq!(sanitize_provider_text(input), want, "{input:?}");
    }
}

#[test]
fn fence_table() {
    // (text, backticks in the fence, body inside the fence)
    let cases = [
        ("", 3, ""),
        ("plain", 3, "plain"),
        ("one ` tick", 3, "one ` tick"),
        ("x`y``z", 3, "x`y``z"),
        ("a ``` b", 4, "a ``` b"),
        ("`````", 6, "`````"), // L22: a run of five → six
        ("``` then ```````` (8)", 9, "``` then ```````` (8)"),
        ("ends with ````", 5, "ends with ````"),
        ("trailing newlines\n\n", 3, "trailing newlines"),
    ];
    for (text, ticks, body) in cases {
        let run = "`".repeat(ticks);
        assert_eq!(fence(text), format!("{run}\n{body}\n{run}"), "{text:?}");
    }
}

// ---------------------------------------------------------------- nudge messages

/// Each row: the message must contain every string of the first list and none of the second.
#[test]
fn nudge_message_table() {
    type Row = (
        &'static str,
        ReactionKey,
        SessionRecord,
        Option<ScmFacts>,
        Vec<&'static str>,
        Vec<&'static str>,
    );
    let l1 = ci_failing(
        snapshot(),
        vec![check("build", "failure")],
        Some("build failed\nundefined: foo"),
    );
    let l22 = ci_failing(
        snapshot(),
        vec![],
        Some("build failed\n`````\n\u{1b}[31mundefined: foo\u{7}"),
    );
    let blank_tail = ci_failing(snapshot(), vec![], Some(" \n "));
    let both_kinds = with_comments(snapshot(), vec![comment("h1", false), comment("b1", true)]);
    let no_url = {
        let mut r = open_pr(PR::MergeConflicts);
        r.lifecycle.pr.url = Some(String::new());
        r
    };
    #[rustfmt::skip]
    let cases: Vec<Row> = vec![
        ("L1 ci-failed", K::CiFailed, open_pr(PR::CiFailing), Some(l1),
            vec!["CI is failing", "CI is failing on PR #12.",
                 "\n\nFailing output:\n```\nbuild failed\nundefined: foo\n```", "\n\nPR: https://x/12"],
            vec![]),
        ("L22 ci-failed: tail sanitised, the fence outgrows it", K::CiFailed, open_pr(PR::CiFailing), Some(l22),
            vec!["``````\nbuild failed\n`````\n[31mundefined: foo\n``````"],
            vec!["\u{1b}", "\u{7}"]),
        ("ci-failed: a blank tail has no output section", K::CiFailed, open_pr(PR::CiFailing), Some(blank_tail),
            vec!["CI is failing on PR #12.", "PR: https://x/12"],
            vec!["Failing output", "```"]),
        ("ci-failed: no snapshot → the record's PR", K::CiFailed, open_pr(PR::CiFailing), None,
            vec!["CI is failing on PR #7.", "\n\nPR: https://example.com/pr/7"],
            vec!["Failing output"]),
        ("L2 changes-requested: human comments only", K::ChangesRequested, open_pr(PR::ChangesRequested), Some(both_kinds.clone()),
            vec!["reviewer requested changes", "A reviewer requested changes on PR #12.",
                 "\n\n1. src/lib.rs:3 (@alice): please fix h1\nhttps://x/c/h1\n\nPR: https://x/12"],
            vec!["please fix b1", "lint-bot", "\n2. "]),
        ("changes-requested without comments", K::ChangesRequested, open_pr(PR::ChangesRequested), Some(snapshot()),
            vec!["reply on each thread.\n\nPR: https://x/12"],
            vec!["\n1. "]),
        ("L2 bot-comments: bot comments only", K::BotComments, open_pr(PR::BotComments), Some(both_kinds),
            vec!["automated reviewer", "An automated reviewer left comments on PR #12.",
                 "\n\n1. src/lib.rs:3 (@lint-bot): please fix b1\nhttps://x/c/b1", "\n\nPR: https://x/12"],
            vec!["please fix h1", "@alice"]),
        ("L3 merge-conflicts", K::MergeConflicts, open_pr(PR::MergeConflicts), Some(snapshot()),
            vec!["merge conflicts", "PR #12 has merge conflicts with its base branch.", "\n\nPR: https://x/12"],
            vec![]),
        ("agent-idle", K::AgentIdle, idle(), None,
            vec!["You appear to be idle. Continue with your task, or say what is blocking you."],
            vec!["PR:"]),
        ("no PR number or URL anywhere", K::MergeConflicts, bare_pr(idle(), PS::Open, PR::MergeConflicts), None,
            vec!["PR #? has merge conflicts"],
            vec!["PR:"]),
        ("an empty URL is no URL", K::MergeConflicts, no_url, None,
            vec!["PR #7 has merge conflicts"],
            vec!["PR:"]),
        ("a notify key has no nudge wording: the text names the key", K::AgentStuck, stuck_lc(R::ProbeFailure), None,
            vec!["agent-stuck"],
            vec![]),
    ];
    for (name, key, record, facts, contains, lacks) in cases {
        let text = nudge_message(key, &record, facts.as_ref());
        assert_text(name, &text, &contains, &lacks);
    }
}

/// The comment list of a nudge: place, author, body cut at 2000 characters, at most 20 comments,
/// provider text sanitised.
#[test]
fn nudge_comment_list_table() {
    type Row = (&'static str, Vec<PendingComment>, Vec<String>, Vec<String>);
    let at = |path: Option<&str>, line| PendingComment {
        path: path.map(str::to_owned),
        line,
        ..comment("h1", false)
    };
    let humans = |n: usize| {
        (1..=n)
            .map(|i| comment(&format!("h{i:02}"), false))
            .collect::<Vec<_>>()
    };
    let body = |body: String| PendingComment {
        body,
        ..comment("h1", false)
    };
    let hostile = PendingComment {
        author: "ev\u{1b}il".into(),
        body: "bo\u{7}dy\nline 2".into(),
        url: "https://x/\u{1b}c".into(),
        path: Some("src/\u{1b}[2Jx.rs".into()),
        ..comment("h1", false)
    };
    let no_url = PendingComment {
        url: String::new(),
        ..comment("h1", false)
    };
    let (e2000, e2001) = ("é".repeat(2000), "é".repeat(2001));
    let s = |text: &str| text.to_owned();
    #[rustfmt::skip]
    let cases: Vec<Row> = vec![
        ("path and line", vec![at(Some("src/a.rs"), Some(42))],
            vec![s("1. src/a.rs:42 (@alice): please fix h1\nhttps://x/c/h1")], vec![]),
        ("path without line", vec![at(Some("README.md"), None)],
            vec![s("1. README.md (@alice): please fix h1")], vec![]),
        ("no path: (general)", vec![at(None, None)],
            vec![s("1. (general) (@alice): please fix h1")], vec![]),
        ("a line without a path is still (general)", vec![at(None, Some(9))],
            vec![s("1. (general) (@alice): please fix h1")], vec![s(":9")]),
        ("numbered in snapshot order", vec![comment("h2", false), comment("h1", false)],
            vec![s("1. src/lib.rs:3 (@alice): please fix h2\nhttps://x/c/h2\n2. src/lib.rs:3 (@alice): please fix h1")], vec![]),
        ("a body is cut at 2000 characters, not bytes", vec![body("é".repeat(2500))],
            vec![format!("(@alice): {e2000}\nhttps://x/c/h1")], vec![e2001]),
        ("a body of exactly 2000 characters is kept whole", vec![body("x".repeat(2000))],
            vec![format!("(@alice): {}\nhttps://x/c/h1", "x".repeat(2000))], vec![]),
        ("20 comments: all listed, no tail line", humans(20),
            vec![s("20. src/lib.rs:3 (@alice): please fix h20")], vec![s("21. "), s("more")]),
        ("21 comments: 20 listed, then …and 1 more", humans(21),
            vec![s("20. "), s("https://x/c/h20\n…and 1 more")], vec![s("21. "), s("please fix h21")]),
        ("25 comments: …and 5 more", humans(25),
            vec![s("…and 5 more")], vec![s("21. ")]),
        ("bot comments do not count against the human list", [humans(20), vec![comment("b1", true)]].concat(),
            vec![s("20. ")], vec![s("more")]),
        ("control characters removed from author, body, URL and path", vec![hostile],
            vec![s("1. src/[2Jx.rs:3 (@evil): body\nline 2\nhttps://x/c\n")], vec![s("\u{1b}"), s("\u{7}")]),
        ("a comment without URL has no URL line", vec![no_url],
            vec![s("1. src/lib.rs:3 (@alice): please fix h1\n\nPR: https://x/12")], vec![]),
    ];
    let record = open_pr(PR::ChangesRequested);
    for (name, comments, contains, lacks) in cases {
        let facts = with_comments(snapshot(), comments);
        let text = nudge_message(K::ChangesRequested, &record, Some(&facts));
        let contains: Vec<&str> = contains.iter().map(String::as_str).collect();
        let lacks: Vec<&str> = lacks.iter().map(String::as_str).collect();
        assert_text(name, &text, &contains, &lacks);
    }
}

// ---------------------------------------------------------------- notifications

#[test]
fn reaction_event_table() {
    type Row = (ReactionKey, SessionRecord, &'static str, serde_json::Value);
    let input = || rec(S::NeedsInput, R::AwaitingUserInput);
    let blocked = with_activity(input(), A::Blocked, t0());
    let waiting = with_activity(input(), A::WaitingInput, t0());
    let pr7 = serde_json::json!({"pr_number": 7, "pr_url": PR_URL});
    let none = serde_json::json!({});
    #[rustfmt::skip]
    let cases: Vec<Row> = vec![
        (K::AgentIdle, idle(), "Session proj-1 finished its turn and is idle.", none.clone()),
        (K::ApprovedAndGreen, open_pr(PR::MergeReady),
            "PR #7 of session proj-1 is approved and green: ready for a human to merge (ao never merges).", pr7.clone()),
        (K::AgentStuck, stuck_lc(R::ProbeFailure), "Session proj-1 is stuck and needs attention.", none.clone()),
        // The spec's example wording for a prompt; L5's "a permission decision is pending" for a
        // dialog.
        (K::AgentNeedsInput, waiting, "Session proj-1 is waiting for your input.", none.clone()),
        (K::AgentNeedsInput, blocked, "Session proj-1 is waiting for input: a permission decision is pending.", none.clone()),
        (K::AgentExited, terminated(R::RuntimeLost), "The agent of session proj-1 exited unexpectedly.", none.clone()),
        (K::AgentExited, exited(terminated(R::ErrorInProcess), 2),
            "Session proj-1 ended: the agent exited with code 2.", none.clone()),
        (K::PrClosed, with_pr(idle(), PS::Closed, PR::ClosedUnmerged),
            "PR #7 of session proj-1 was closed without merging; human decides what happens next.", pr7.clone()),
        (K::AllComplete, with_pr(idle(), PS::Merged, PR::Merged), "PR #7 of session proj-1 merged; work complete.", pr7.clone()),
        (K::AllComplete, bare_pr(idle(), PS::Merged, PR::Merged), "The PR of session proj-1 merged; work complete.", none.clone()),
        // A send-to-agent key configured as notify names the session and the key.
        (K::CiFailed, open_pr(PR::CiFailing), "Session proj-1: ci-failed.", pr7.clone()),
    ];
    let now = t0().plus(secs(5));
    for (key, record, message, data) in cases {
        let ev = reaction_event(key, &record, Priority::Warning, now);
        assert_eq!(ev.event_type, format!("reaction.{key}"), "{key}");
        assert_eq!(ev.message, message, "{key}");
        assert_eq!(ev.data, data, "{key}");
        assert_eq!(
            ev.priority,
            Priority::Warning,
            "{key}: the policy's priority"
        );
        assert_eq!(
            (&ev.session_id, &ev.project_id),
            (&record.id, &record.project_id),
            "{key}"
        );
        assert_eq!(ev.created_at, now, "{key}");
    }
}

#[test]
fn escalation_event_names_key_session_and_project() {
    let now = t0().plus(mins(30));
    let ev = escalation_event(&tracker(K::ChangesRequested, 1, Some(t0())), now);
    assert_eq!(ev.event_type, "reaction.escalated");
    assert_eq!(ev.priority, Priority::Urgent);
    assert_eq!(
        ev.message,
        "automatic handling of `changes-requested` for session `acme-3` is exhausted; a human is needed"
    );
    assert_eq!(
        ev.data,
        serde_json::json!({"reaction": "changes-requested"})
    );
    assert_eq!(ev.session_id.as_str(), "acme-3");
    assert_eq!(ev.project_id.as_str(), "acme", "L19: the tracker's project");
    assert_eq!(ev.created_at, now);
}

// ---------------------------------------------------------------- 11 session guard

#[test]
fn guard_table_in_both_modes() {
    use GuardOutcome as G;
    type Row = (
        &'static str,
        Result<Option<SessionRecord>, ()>,
        GuardOutcome,
        GuardOutcome,
    );
    let act = |state| Ok(Some(with_activity(working(), state, t0())));
    let found = |record| Ok(Some(record));
    let exited_reason = || stuck_lc(R::AgentProcessExited);
    // (row of the guard table, re-read, deliver mode, nudge mode)
    #[rustfmt::skip]
    let cases: Vec<Row> = vec![
        ("1 store read failed", Err(()), G::SuppressedUnknown, G::SuppressedUnknown),
        ("2 record missing", Ok(None), G::SuppressedNotFound, G::SuppressedNotFound),
        ("3 terminated", found(terminated(R::ManuallyKilled)), G::SuppressedTerminated, G::SuppressedTerminated),
        ("3 done", found(rec(S::Done, R::Unset)), G::SuppressedTerminated, G::SuppressedTerminated),
        ("3 terminal outranks blocked",
            found(with_activity(terminated(R::RuntimeLost), A::Blocked, t0())), G::SuppressedTerminated, G::SuppressedTerminated),
        ("4 activity exited", act(A::Exited), G::SuppressedExited, G::SuppressedExited),
        ("4 reason agent_process_exited (S11)", found(exited_reason()), G::SuppressedExited, G::SuppressedExited),
        ("4 agent_process_exited while detecting",
            found(lc(S::Detecting, R::AgentProcessExited, RT::Alive)), G::SuppressedExited, G::SuppressedExited),
        ("4 exited outranks blocked",
            found(with_activity(exited_reason(), A::Blocked, t0())), G::SuppressedExited, G::SuppressedExited),
        ("5 blocked", act(A::Blocked), G::SuppressedAwaitingUser, G::SuppressedAwaitingUser),
        ("6 waiting_input: users welcome, nudges not", act(A::WaitingInput), G::Sent, G::SuppressedAwaitingUser),
        ("7 active", act(A::Active), G::Sent, G::Sent),
        ("7 idle", act(A::Idle), G::Sent, G::Sent),
        ("7 ready", act(A::Ready), G::Sent, G::Sent),
        ("7 no activity yet", found(rec(S::NotStarted, R::SpawnRequested)), G::Sent, G::Sent),
        ("7 stuck for another liveness reason", found(stuck_lc(R::ProbeFailure)), G::Sent, G::Sent),
        ("7 detecting (runtime_lost)", found(detecting_lc()), G::Sent, G::Sent),
    ];
    for (name, read, deliver, nudge) in cases {
        let reread = || read.as_ref().map(Option::as_ref).map_err(|_| ());
        assert_eq!(
            guard(reread(), MessageMode::Deliver),
            deliver,
            "{name}: deliver"
        );
        assert_eq!(guard(reread(), MessageMode::Nudge), nudge, "{name}: nudge");
    }
}

#[test]
fn guard_outcome_spellings() {
    use GuardOutcome as G;
    let cases = [
        (G::Sent, "sent"),
        (G::SuppressedUnknown, "suppressed_unknown"),
        (G::SuppressedNotFound, "suppressed_not_found"),
        (G::SuppressedTerminated, "suppressed_terminated"),
        (G::SuppressedExited, "suppressed_exited"),
        (G::SuppressedAwaitingUser, "suppressed_awaiting_user"),
    ];
    for (outcome, text) in cases {
        assert_eq!(outcome.as_str(), text);
    }
}
