//! The PR deciders: the open-PR ladder and the terminal-PR verdict.

use super::Decision;
use crate::domain::{PrReason, PrState, SessionAxis, SessionReason, SessionState, Status};

/// Input flags of the open-PR ladder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenPrInput {
    pub draft: bool,
    pub ci_failing: bool,
    pub changes_requested: bool,
    pub bot_comments: bool,
    pub merge_conflicts: bool,
    pub approved: bool,
    pub mergeable: bool,
    pub review_pending: bool,
    /// Never set by the LCM (it has no idle clock); kept so the ladder is total.
    pub idle_beyond: bool,
    pub number: Option<u64>,
    pub url: Option<String>,
}

/// `ResolveOpenPRDecision`: first matching row wins. `mergeable` is checked before `approved`
/// on purpose: a repository without required review can be mergeable without an approval.
///
/// The session fields of the result describe what the PR implies; the LCM never writes them (an SCM
/// observation writes only the PR axis); they exist for the derivation-consistency invariant.
pub fn resolve_open_pr_decision(input: &OpenPrInput) -> Decision {
    use PrReason as R;
    use SessionReason as SR;
    use SessionState as S;
    let (status, reason, session, condition) = if input.ci_failing {
        (
            Status::CiFailed,
            R::CiFailing,
            (S::Working, SR::FixingCi),
            "ci_failing",
        )
    } else if input.draft {
        (
            Status::Draft,
            R::InProgress,
            (S::Working, SR::PrCreated),
            "draft",
        )
    } else if input.changes_requested {
        let session = (S::Working, SR::ResolvingReviewComments);
        (
            Status::ChangesRequested,
            R::ChangesRequested,
            session,
            "changes_requested",
        )
    } else if input.bot_comments {
        let session = (S::Working, SR::ResolvingReviewComments);
        (
            Status::ChangesRequested,
            R::BotComments,
            session,
            "bot_comments",
        )
    } else if input.merge_conflicts {
        let session = (S::Working, SR::PrCreated);
        (
            Status::PrOpen,
            R::MergeConflicts,
            session,
            "merge_conflicts",
        )
    } else if input.mergeable {
        let session = (S::Idle, SR::AwaitingExternalReview);
        (Status::Mergeable, R::MergeReady, session, "merge_ready")
    } else if input.approved {
        let session = (S::Idle, SR::AwaitingExternalReview);
        (Status::Approved, R::Approved, session, "approved")
    } else if input.review_pending {
        let session = (S::Idle, SR::AwaitingExternalReview);
        (
            Status::ReviewPending,
            R::ReviewPending,
            session,
            "review_pending",
        )
    } else if input.idle_beyond {
        (
            Status::Stuck,
            R::InProgress,
            (S::Stuck, SR::AwaitingUserInput),
            "idle_beyond",
        )
    } else {
        (
            Status::PrOpen,
            R::InProgress,
            (S::Working, SR::PrCreated),
            "pr_open",
        )
    };

    let mut evidence = condition.to_owned();
    if let Some(n) = input.number.filter(|&n| n > 0) {
        evidence.push_str(&format!(" #{n}"));
    }
    if let Some(url) = input.url.as_deref().filter(|u| !u.is_empty()) {
        evidence.push(' ');
        evidence.push_str(url);
    }
    Decision {
        status,
        evidence,
        detecting: None,
        session: Some(SessionAxis::new(session.0, session.1)),
        pr_state: Some(if input.draft {
            PrState::Draft
        } else {
            PrState::Open
        }),
        pr_reason: Some(reason),
    }
}

/// `ResolveTerminalPRDecision`: merged and closed PRs park the session at `idle`. Any other
/// state is a misuse; the function stays total and answers `working`.
pub fn resolve_terminal_pr_decision(state: PrState) -> Decision {
    let (status, session, pr_reason, evidence) = match state {
        PrState::Merged => (
            Status::Merged,
            SessionAxis::new(SessionState::Idle, SessionReason::MergedWaitingDecision),
            Some(PrReason::Merged),
            "pr merged".to_owned(),
        ),
        PrState::Closed => (
            Status::Idle,
            SessionAxis::new(SessionState::Idle, SessionReason::AwaitingUserInput),
            Some(PrReason::ClosedUnmerged),
            "pr closed unmerged".to_owned(),
        ),
        other => (
            Status::Working,
            SessionAxis::new(SessionState::Working, SessionReason::TaskInProgress),
            None,
            format!("non-terminal pr state={other}"),
        ),
    };
    Decision {
        status,
        evidence,
        detecting: None,
        session: Some(session),
        pr_state: Some(state),
        pr_reason,
    }
}
