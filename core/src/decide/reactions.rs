//! The pure half of reactions: the reaction table and its configuration, `ReactionKeyFor`, the
//! enqueue rule, when an incident ends, budget arithmetic, nudge signatures, message and
//! notification texts, and the session guard.

use std::collections::BTreeMap;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::domain::{
    ActivityState, MessageMode, NotifyEvent, PendingComment, PrReason, PrState, Priority,
    ReactionKey, ScmFacts, SessionReason, SessionRecord, Status, Timestamp, Tracker,
    derive_status_static, meta,
};

/// What a reaction does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReactionAction {
    /// Type a nudge into the agent's pane (budgeted per incident).
    SendToAgent,
    /// Tell the human.
    Notify,
    /// Reserved: no default uses it and executing it does nothing.
    AutoMerge,
    /// Switched off by configuration.
    Disabled,
}

/// The configured behaviour of one reaction key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReactionPolicy {
    pub action: ReactionAction,
    pub priority: Priority,
    /// Sends per incident before escalating; 0 = unlimited.
    pub retries: u32,
    /// Escalate once the incident is this old; `None` = never by time.
    pub escalate_after: Option<Duration>,
}

const MINUTE: Duration = Duration::from_secs(60);

/// Retries of `agent-idle` when configured as `send-to-agent`.
pub const AGENT_IDLE_NUDGE_RETRIES: u32 = 2;
/// Time budget of `agent-idle` when configured as `send-to-agent`.
pub const AGENT_IDLE_NUDGE_ESCALATE_AFTER: Duration = Duration::from_secs(15 * 60);

/// The reaction table: the default policy of every key plus per-key overrides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReactionPolicies {
    policies: BTreeMap<ReactionKey, ReactionPolicy>,
}

impl Default for ReactionPolicies {
    fn default() -> Self {
        use ReactionAction::{Notify, SendToAgent};
        let policy = |action, priority, retries, escalate_after| ReactionPolicy {
            action,
            priority,
            retries,
            escalate_after,
        };
        let policies = BTreeMap::from([
            (
                ReactionKey::CiFailed,
                policy(SendToAgent, Priority::Action, 2, None),
            ),
            (
                ReactionKey::ChangesRequested,
                policy(SendToAgent, Priority::Action, 0, Some(30 * MINUTE)),
            ),
            (
                ReactionKey::BotComments,
                policy(SendToAgent, Priority::Action, 0, Some(30 * MINUTE)),
            ),
            (
                ReactionKey::MergeConflicts,
                policy(SendToAgent, Priority::Action, 0, Some(15 * MINUTE)),
            ),
            (
                ReactionKey::AgentIdle,
                policy(Notify, Priority::Info, 0, None),
            ),
            (
                ReactionKey::ApprovedAndGreen,
                policy(Notify, Priority::Action, 0, None),
            ),
            (
                ReactionKey::AgentStuck,
                policy(Notify, Priority::Urgent, 0, None),
            ),
            (
                ReactionKey::AgentNeedsInput,
                policy(Notify, Priority::Urgent, 0, None),
            ),
            (
                ReactionKey::AgentExited,
                policy(Notify, Priority::Urgent, 0, None),
            ),
            (
                ReactionKey::PrClosed,
                policy(Notify, Priority::Action, 0, None),
            ),
            (
                ReactionKey::AllComplete,
                policy(Notify, Priority::Info, 0, None),
            ),
        ]);
        Self { policies }
    }
}

impl ReactionPolicies {
    pub fn get(&self, key: ReactionKey) -> ReactionPolicy {
        self.policies[&key]
    }

    /// Changes the action of `key`. Switching `agent-idle` to `send-to-agent` also gives it the
    /// documented budget (retries 2, 15m) unless set explicitly afterwards.
    pub fn set_action(&mut self, key: ReactionKey, action: ReactionAction) {
        let policy = self.policies.get_mut(&key).expect("every key has a policy");
        if key == ReactionKey::AgentIdle
            && action == ReactionAction::SendToAgent
            && policy.action != ReactionAction::SendToAgent
        {
            policy.retries = AGENT_IDLE_NUDGE_RETRIES;
            policy.escalate_after = Some(AGENT_IDLE_NUDGE_ESCALATE_AFTER);
        }
        policy.action = action;
    }

    pub fn set_retries(&mut self, key: ReactionKey, retries: u32) {
        self.policies
            .get_mut(&key)
            .expect("every key has a policy")
            .retries = retries;
    }

    /// `None` or zero disables escalation by time.
    pub fn set_escalate_after(&mut self, key: ReactionKey, after: Option<Duration>) {
        self.policies
            .get_mut(&key)
            .expect("every key has a policy")
            .escalate_after = after.filter(|d| !d.is_zero());
    }

    /// Keys whose incidents escalate by time: send-to-agent with a time budget.
    pub fn time_budgets(&self) -> Vec<(ReactionKey, Duration)> {
        self.policies
            .iter()
            .filter(|(_, p)| p.action == ReactionAction::SendToAgent)
            .filter_map(|(k, p)| p.escalate_after.map(|d| (*k, d)))
            .collect()
    }
}

/// `ReactionKeyFor(record)`: the reaction a record's display status (and PR facts) calls for, if
/// any.
pub fn reaction_key_for(record: &SessionRecord) -> Option<ReactionKey> {
    let lc = &record.lifecycle;
    let status = derive_status_static(lc);
    if status == Status::Idle && lc.pr.state == PrState::Closed {
        return Some(ReactionKey::PrClosed);
    }
    if status == Status::ChangesRequested && lc.pr.reason == PrReason::BotComments {
        return Some(ReactionKey::BotComments);
    }
    if status == Status::PrOpen && lc.pr.reason == PrReason::MergeConflicts {
        return Some(ReactionKey::MergeConflicts);
    }
    Some(match status {
        Status::CiFailed => ReactionKey::CiFailed,
        Status::ChangesRequested => ReactionKey::ChangesRequested,
        Status::Approved | Status::Mergeable => ReactionKey::ApprovedAndGreen,
        Status::Idle => ReactionKey::AgentIdle,
        Status::Stuck => ReactionKey::AgentStuck,
        Status::NeedsInput => ReactionKey::AgentNeedsInput,
        Status::Killed => ReactionKey::AgentExited,
        // The agent's launch script recorded its exit, whatever the code.
        Status::Done | Status::Errored if record.meta(meta::EXIT_CODE).is_some() => {
            ReactionKey::AgentExited
        }
        // An inferred death: the agent went away without anyone asking.
        Status::Terminated if lc.session.reason.is_liveness() => ReactionKey::AgentExited,
        Status::Merged => ReactionKey::AllComplete,
        _ => return None,
    })
}

/// The enqueue rule: a reaction row when the key changes to a present one.
pub fn reaction_to_enqueue(before: &SessionRecord, after: &SessionRecord) -> Option<ReactionKey> {
    let after_key = reaction_key_for(after)?;
    (reaction_key_for(before) != Some(after_key)).then_some(after_key)
}

/// Whether the incident of a `key` tracker ended, judged on the record after a write.
pub fn incident_ended(key: ReactionKey, after: &SessionRecord) -> bool {
    let pr = &after.lifecycle.pr;
    let recovered =
        pr.state == PrState::Open && matches!(pr.reason, PrReason::Approved | PrReason::MergeReady);
    if after.is_terminal() || matches!(pr.state, PrState::Merged | PrState::Closed) || recovered {
        return true;
    }
    match key {
        ReactionKey::CiFailed => false,
        ReactionKey::AgentIdle => !matches!(pr.state, PrState::None | PrState::Unset),
        _ => reaction_key_for(after).is_none(),
    }
}

/// Every tracker key whose incident ended with this write.
pub fn ended_incidents(after: &SessionRecord) -> Vec<ReactionKey> {
    ReactionKey::ALL
        .iter()
        .copied()
        .filter(|&k| incident_ended(k, after))
        .collect()
}

/// Whether a tracker's budget is exhausted after counting this attempt: more attempts than a
/// non-zero `retries`, or a non-zero `escalate_after` passed since the first attempt.
pub fn budget_exhausted(policy: &ReactionPolicy, tracker: &Tracker, now: Timestamp) -> bool {
    let by_count = policy.retries > 0 && tracker.attempts > policy.retries;
    let by_time = match (policy.escalate_after, tracker.first_attempt_at) {
        (Some(after), Some(first)) => !after.is_zero() && now.at_least_after(first, after),
        _ => false,
    };
    by_count || by_time
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn sorted_comment_ids(comments: &[PendingComment], bots: bool) -> Vec<String> {
    let mut ids: Vec<String> = comments
        .iter()
        .filter(|c| c.is_bot == bots)
        .map(|c| format!("{}:{}", c.thread_id, c.comment_id))
        .collect();
    ids.sort();
    ids
}

/// The nudge signature of `key`: lowercase hex SHA-256 of a canonical string of raw facts.
/// Identical content always signs the same, so it is never typed twice per incident.
pub fn nudge_signature(
    key: ReactionKey,
    record: &SessionRecord,
    snapshot: Option<&ScmFacts>,
) -> String {
    let mut parts: Vec<String> = vec![];
    match (key, snapshot) {
        (ReactionKey::AgentIdle, _) => {
            parts.push("idle".into());
            let at = record.lifecycle.activity.last_activity_at;
            parts.push(at.map(|t| t.to_rfc3339()).unwrap_or_default());
        }
        (ReactionKey::CiFailed, Some(f)) => {
            parts.push("ci".into());
            parts.push(f.head_sha.clone());
            // Sorted by name; checks sharing a name (matrix jobs, re-runs) are ordered by
            // conclusion so the string never depends on the order the provider listed them in.
            let mut checks: Vec<_> = f.failed_checks.iter().collect();
            checks.sort_by(|a, b| (&a.name, &a.conclusion).cmp(&(&b.name, &b.conclusion)));
            parts.extend(
                checks
                    .iter()
                    .map(|c| format!("{}:{}", c.name, c.conclusion)),
            );
            parts.push(f.ci_failure_log_tail.clone().unwrap_or_default());
        }
        (ReactionKey::ChangesRequested, Some(f)) => {
            parts.push("review".into());
            let ids = sorted_comment_ids(&f.pending_comments, false);
            if ids.is_empty() {
                parts.push(f.review_decision.as_str().into());
                parts.push(f.head_sha.clone());
            } else {
                parts.extend(ids);
            }
        }
        (ReactionKey::BotComments, Some(f)) => {
            parts.push("bot".into());
            parts.extend(sorted_comment_ids(&f.pending_comments, true));
        }
        (ReactionKey::MergeConflicts, Some(f)) => {
            parts.extend(["conflict".into(), f.head_sha.clone(), f.base_sha.clone()]);
        }
        _ => {
            let pr = &record.lifecycle.pr;
            parts.push(key.as_str().into());
            parts.push(format!("#{}", pr.number.unwrap_or(0)));
            parts.push(pr.reason.as_str().into());
        }
    }
    sha256_hex(&parts.join(";"))
}

/// Removes control characters other than newline and tab from provider-controlled text.
pub fn sanitize_provider_text(text: &str) -> String {
    text.chars()
        .filter(|&c| c == '\n' || c == '\t' || !c.is_control())
        .collect()
}

/// A fenced code block whose backtick run is one longer than the longest run inside (min 3).
pub fn fence(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let ticks = "`".repeat((longest + 1).max(3));
    format!("{ticks}\n{}\n{ticks}", text.trim_end_matches('\n'))
}

/// Longest comment body included in a nudge.
pub const COMMENT_BODY_MAX: usize = 2000;
/// Most comments listed in a nudge.
pub const COMMENTS_MAX: usize = 20;

fn comment_list(comments: &[&PendingComment]) -> String {
    let mut out = String::new();
    for (i, c) in comments.iter().take(COMMENTS_MAX).enumerate() {
        // A file path is provider-controlled too (git allows control characters in names).
        let place = match (c.path.as_deref().map(sanitize_provider_text), c.line) {
            (Some(path), Some(line)) => format!("{path}:{line}"),
            (Some(path), None) => path,
            _ => "(general)".to_owned(),
        };
        let body: String = sanitize_provider_text(&c.body)
            .chars()
            .take(COMMENT_BODY_MAX)
            .collect();
        let author = sanitize_provider_text(&c.author);
        out.push_str(&format!("{}. {place} (@{author}): {body}\n", i + 1));
        if !c.url.is_empty() {
            out.push_str(&sanitize_provider_text(&c.url));
            out.push('\n');
        }
    }
    if comments.len() > COMMENTS_MAX {
        out.push_str(&format!("…and {} more\n", comments.len() - COMMENTS_MAX));
    }
    out.trim_end().to_owned()
}

fn pr_number(record: &SessionRecord, snapshot: Option<&ScmFacts>) -> String {
    snapshot
        .and_then(|f| f.pr_number)
        .or(record.lifecycle.pr.number)
        .map_or_else(|| "?".to_owned(), |n| n.to_string())
}

fn pr_url(record: &SessionRecord, snapshot: Option<&ScmFacts>) -> Option<String> {
    snapshot
        .and_then(|f| f.pr_url.clone())
        .or_else(|| record.lifecycle.pr.url.clone())
        .filter(|u| !u.is_empty())
}

/// Whether a reaction can be `send-to-agent`: only those with a message for the agent
/// ([`nudge_message`] writes one for each); the others concern only the human.
pub fn can_send_to_agent(key: ReactionKey) -> bool {
    matches!(
        key,
        ReactionKey::CiFailed
            | ReactionKey::ChangesRequested
            | ReactionKey::BotComments
            | ReactionKey::MergeConflicts
            | ReactionKey::AgentIdle
    )
}

/// The text typed into the agent's pane for a send-to-agent reaction.
pub fn nudge_message(
    key: ReactionKey,
    record: &SessionRecord,
    snapshot: Option<&ScmFacts>,
) -> String {
    let n = pr_number(record, snapshot);
    let comments = |bots: bool| -> Vec<&PendingComment> {
        snapshot
            .map(|f| {
                f.pending_comments
                    .iter()
                    .filter(|c| c.is_bot == bots)
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut text = match key {
        ReactionKey::CiFailed => {
            let mut text = format!(
                "CI is failing on PR #{n}. Read the failing output below, fix the cause, and push."
            );
            let tail = snapshot.and_then(|f| f.ci_failure_log_tail.as_deref());
            if let Some(tail) = tail.filter(|t| !t.trim().is_empty()) {
                text.push_str("\n\nFailing output:\n");
                text.push_str(&fence(&sanitize_provider_text(tail)));
            }
            text
        }
        ReactionKey::ChangesRequested => {
            let list = comment_list(&comments(false));
            let mut text = format!(
                "A reviewer requested changes on PR #{n}. Address every comment below, push, and reply on each thread."
            );
            if !list.is_empty() {
                text.push_str("\n\n");
                text.push_str(&list);
            }
            text
        }
        ReactionKey::BotComments => format!(
            "An automated reviewer left comments on PR #{n}. Address the valid ones below and push.\n\n{}",
            comment_list(&comments(true))
        ),
        ReactionKey::MergeConflicts => format!(
            "PR #{n} has merge conflicts with its base branch. Rebase onto the base branch, resolve the conflicts, run the tests, and push."
        ),
        ReactionKey::AgentIdle => {
            "You appear to be idle. Continue with your task, or say what is blocking you."
                .to_owned()
        }
        other => format!("ao reaction {other}"),
    };
    if key != ReactionKey::AgentIdle
        && let Some(url) = pr_url(record, snapshot)
    {
        text.push_str(&format!("\n\nPR: {}", sanitize_provider_text(&url)));
    }
    text
}

/// The notification of a `notify` reaction, its message carrying the words each key's notification
/// must contain.
pub fn reaction_event(
    key: ReactionKey,
    record: &SessionRecord,
    priority: Priority,
    now: Timestamp,
) -> NotifyEvent {
    let id = &record.id;
    let pr = &record.lifecycle.pr;
    let pr_ref = pr
        .number
        .map(|n| format!("PR #{n}"))
        .unwrap_or_else(|| "The PR".to_owned());
    let message = match key {
        ReactionKey::AgentIdle => format!("Session {id} finished its turn and is idle."),
        ReactionKey::ApprovedAndGreen => format!(
            "{pr_ref} of session {id} is approved and green: ready for a human to merge (ao never merges)."
        ),
        ReactionKey::AgentStuck => format!("Session {id} is stuck and needs attention."),
        ReactionKey::AgentNeedsInput
            if record.lifecycle.activity.state == Some(ActivityState::Blocked) =>
        {
            format!("Session {id} is waiting for input: a permission decision is pending.")
        }
        ReactionKey::AgentNeedsInput => format!("Session {id} is waiting for your input."),
        ReactionKey::AgentExited => match record.meta(meta::TERMINATION_DETAIL) {
            Some(detail) if record.meta(meta::EXIT_CODE).is_some() => {
                format!("Session {id} ended: {detail}.")
            }
            _ => format!("The agent of session {id} exited unexpectedly."),
        },
        ReactionKey::PrClosed => format!(
            "{pr_ref} of session {id} was closed without merging; human decides what happens next."
        ),
        ReactionKey::AllComplete => format!("{pr_ref} of session {id} merged; work complete."),
        other => format!("Session {id}: {other}."),
    };
    let mut data = serde_json::Map::new();
    if let Some(n) = pr.number {
        data.insert("pr_number".into(), n.into());
    }
    if let Some(url) = &pr.url {
        data.insert("pr_url".into(), url.clone().into());
    }
    NotifyEvent {
        event_type: format!("reaction.{key}"),
        priority,
        session_id: record.id.clone(),
        project_id: record.project_id.clone(),
        message,
        data: data.into(),
        created_at: now,
    }
}

/// The urgent notification handing an exhausted incident to a human.
pub fn escalation_event(tracker: &Tracker, now: Timestamp) -> NotifyEvent {
    NotifyEvent {
        event_type: "reaction.escalated".to_owned(),
        priority: Priority::Urgent,
        session_id: tracker.session_id.clone(),
        project_id: tracker.project_id.clone(),
        message: format!(
            "automatic handling of `{}` for session `{}` is exhausted; a human is needed",
            tracker.key, tracker.session_id
        ),
        data: serde_json::json!({ "reaction": tracker.key.as_str() }),
        created_at: now,
    }
}

/// The verdict of the session guard, checked before every write into a pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuardOutcome {
    Sent,
    SuppressedUnknown,
    SuppressedNotFound,
    SuppressedTerminated,
    SuppressedExited,
    SuppressedAwaitingUser,
}

impl GuardOutcome {
    pub const fn as_str(self) -> &'static str {
        match self {
            GuardOutcome::Sent => "sent",
            GuardOutcome::SuppressedUnknown => "suppressed_unknown",
            GuardOutcome::SuppressedNotFound => "suppressed_not_found",
            GuardOutcome::SuppressedTerminated => "suppressed_terminated",
            GuardOutcome::SuppressedExited => "suppressed_exited",
            GuardOutcome::SuppressedAwaitingUser => "suppressed_awaiting_user",
        }
    }
}

/// Whether keystrokes may be written, judged on the record re-read right before the write.
/// `read` is `Err(())` when the store read failed.
pub fn guard(read: Result<Option<&SessionRecord>, ()>, mode: MessageMode) -> GuardOutcome {
    let record = match read {
        Err(()) => return GuardOutcome::SuppressedUnknown,
        Ok(None) => return GuardOutcome::SuppressedNotFound,
        Ok(Some(r)) => r,
    };
    let activity = record.lifecycle.activity.state;
    if record.is_terminal() {
        GuardOutcome::SuppressedTerminated
    } else if activity == Some(ActivityState::Exited)
        || record.lifecycle.session.reason == SessionReason::AgentProcessExited
    {
        GuardOutcome::SuppressedExited
    } else if activity == Some(ActivityState::Blocked)
        || (mode == MessageMode::Nudge && activity == Some(ActivityState::WaitingInput))
    {
        GuardOutcome::SuppressedAwaitingUser
    } else {
        GuardOutcome::Sent
    }
}

#[cfg(test)]
#[path = "reactions_tests.rs"]
mod tests;
