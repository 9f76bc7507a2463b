//! `Cause`: what made the lifecycle manager write a record, as the observer reported it.
//!
//! Every LCM commit names its cause, and the store keeps it in the change-log row of that
//! commit (`payload.cause`), so `why` can say which observer moved which axis, when and on what
//! signal. Rows written before causes were recorded have none. A cause holds the facts the
//! entry point was given (probe results, the hook event, PR facts, the kill's kind), never a
//! derived status.

use serde::{Deserialize, Serialize};

use super::facts::{ActivitySignal, AgentExit, HookEvent, KillReason, ScmFacts, SpawnOutcome};
use super::states::{
    ActivitySource, ActivityState, CiSummary, KillKind, PrState, ProbeResult, ReviewDecision,
    SignalConfidence,
};
use super::time::Timestamp;

/// Most failed-check names a PR cause keeps.
pub const CAUSE_MAX_CHECKS: usize = 10;

/// The observer behind a write and the facts it reported; `observer` is the JSON tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "observer", rename_all = "snake_case")]
pub enum Cause {
    /// A spawn created the record.
    Spawn,
    /// A spawn or restore started the runtime (`OnSpawnCompleted`).
    Launch(LaunchCause),
    /// A restore reopened the ended record for a new launch.
    Restore,
    /// A failed restore was undone: the record is back to what it was before.
    Revert,
    /// A reaper probe of the pane and the agent process.
    Reaper(ProbeCause),
    /// An agent hook callback.
    Hook(SignalCause),
    /// The terminal observer: output growth, the codex screen heuristic.
    Terminal(SignalCause),
    /// An activity signal from any other source.
    Signal(SignalCause),
    /// The SCM observer's facts about the session's pull request.
    Scm(PrCause),
    /// A kill: `aoctl kill`, a cleanup, or a spawn that failed.
    Kill(KillCause),
}

/// The runtime a spawn or restore started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LaunchCause {
    /// The tmux session name.
    pub runtime_handle: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pane_id: Option<String>,
}

/// One probe of a session's pane (`runtime`) and agent process (`process`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeCause {
    /// When the probe ran.
    pub observed_at: Timestamp,
    /// Does the pane exist? Absent: the probe could not tell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<ProbeResult>,
    /// Is the agent process alive under the pane? Absent: the probe could not tell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<ProbeResult>,
    /// The whole tmux server was gone.
    #[serde(default, skip_serializing_if = "is_false")]
    pub server_gone: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pane_exit_status: Option<i32>,
    /// The agent's exit as its launch script recorded it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_exit: Option<AgentExit>,
    /// The probe decision's own evidence text (`disagree runtime=alive process=dead …`).
    pub verdict: String,
    /// In a quarantine: how many reports in a row carried this evidence, and since when the
    /// episode runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<Timestamp>,
}

/// An activity report: a hook callback or an observer's reading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignalCause {
    pub source: ActivitySource,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<HookEvent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity: Option<ActivityState>,
    pub confidence: SignalConfidence,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    /// When the activity happened, as the signal says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<Timestamp>,
}

/// The facts of a PR poll that decided its axis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrCause {
    pub observed_at: Timestamp,
    pub state: PrState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<u64>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub draft: bool,
    pub ci: CiSummary,
    /// The first [`CAUSE_MAX_CHECKS`] failed checks' names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed_checks: Vec<String>,
    pub review: ReviewDecision,
    pub mergeable: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blockers: Vec<String>,
    /// Unresolved review threads by people, and by bots.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub human_comments: usize,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub bot_comments: usize,
}

/// Why a session was killed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KillCause {
    pub kind: KillKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

fn is_false(b: &bool) -> bool {
    !b
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Cause {
    /// The observer's name, as the JSON tag spells it.
    pub const fn observer(&self) -> &'static str {
        match self {
            Cause::Spawn => "spawn",
            Cause::Launch(_) => "launch",
            Cause::Restore => "restore",
            Cause::Revert => "revert",
            Cause::Reaper(_) => "reaper",
            Cause::Hook(_) => "hook",
            Cause::Terminal(_) => "terminal",
            Cause::Signal(_) => "signal",
            Cause::Scm(_) => "scm",
            Cause::Kill(_) => "kill",
        }
    }

    /// The runtime a spawn or restore started.
    pub fn launch(outcome: &SpawnOutcome) -> Self {
        Cause::Launch(LaunchCause {
            runtime_handle: outcome.runtime_handle.id.clone(),
            pane_id: outcome.runtime_handle.pane_id.clone(),
        })
    }

    /// An activity signal, under the observer its source names.
    pub fn signal(signal: &ActivitySignal) -> Self {
        let facts = SignalCause {
            source: signal.source,
            event: signal.hook_event,
            activity: signal.activity,
            confidence: signal.confidence,
            tool: signal.tool_name.clone().filter(|t| !t.is_empty()),
            at: signal.timestamp,
        };
        match signal.source {
            ActivitySource::Hook => Cause::Hook(facts),
            ActivitySource::Terminal => Cause::Terminal(facts),
            ActivitySource::Native | ActivitySource::Runtime | ActivitySource::None => {
                Cause::Signal(facts)
            }
        }
    }

    /// A PR poll's facts.
    pub fn scm(facts: &ScmFacts) -> Self {
        let (bots, people): (Vec<_>, Vec<_>) =
            facts.pending_comments.iter().partition(|c| c.is_bot);
        Cause::Scm(PrCause {
            observed_at: facts.observed_at,
            state: facts.pr_state,
            number: facts.pr_number,
            draft: facts.draft,
            ci: facts.ci_summary,
            failed_checks: facts
                .failed_checks
                .iter()
                .take(CAUSE_MAX_CHECKS)
                .map(|c| c.name.clone())
                .collect(),
            review: facts.review_decision,
            mergeable: facts.mergeability.mergeable,
            blockers: facts.mergeability.blockers.clone(),
            human_comments: people.len(),
            bot_comments: bots.len(),
        })
    }

    /// A kill and its reason.
    pub fn kill(reason: &KillReason) -> Self {
        Cause::Kill(KillCause {
            kind: reason.kind,
            detail: reason.detail.clone().filter(|d| !d.is_empty()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{FailedCheck, PendingComment, RuntimeHandle};
    use serde_json::json;

    fn ts(ms: i64) -> Timestamp {
        Timestamp::from_millis(ms)
    }

    #[test]
    fn causes_are_tagged_by_observer() {
        let cases = [
            (Cause::Spawn, json!({"observer": "spawn"})),
            (Cause::Restore, json!({"observer": "restore"})),
            (Cause::Revert, json!({"observer": "revert"})),
            (
                Cause::launch(&SpawnOutcome {
                    branch: "ao/p-1".into(),
                    workspace_path: "/w".into(),
                    runtime_handle: RuntimeHandle {
                        id: "ao-p-1".into(),
                        runtime_name: "tmux".into(),
                        pane_id: Some("%3".into()),
                    },
                    agent_session_id: None,
                    prompt: None,
                }),
                json!({"observer": "launch", "runtime_handle": "ao-p-1", "pane_id": "%3"}),
            ),
            (
                Cause::kill(&KillReason {
                    kind: KillKind::Error,
                    detail: Some("spawn failed: worktree: exists".into()),
                    metadata: Default::default(),
                }),
                json!({"observer": "kill", "kind": "error", "detail": "spawn failed: worktree: exists"}),
            ),
            (
                Cause::kill(&KillReason::new(KillKind::Manual)),
                json!({"observer": "kill", "kind": "manual"}),
            ),
            (
                Cause::Reaper(ProbeCause {
                    observed_at: ts(0),
                    runtime: Some(ProbeResult::Alive),
                    process: Some(ProbeResult::Dead),
                    server_gone: false,
                    pane_exit_status: None,
                    agent_exit: None,
                    verdict: "disagree".into(),
                    attempts: Some(2),
                    since: Some(ts(0)),
                }),
                json!({"observer": "reaper", "observed_at": "1970-01-01T00:00:00.000Z",
                       "runtime": "alive", "process": "dead", "verdict": "disagree",
                       "attempts": 2, "since": "1970-01-01T00:00:00.000Z"}),
            ),
        ];
        for (cause, expected) in cases {
            let value = serde_json::to_value(&cause).unwrap();
            assert_eq!(value, expected);
            assert_eq!(value["observer"], cause.observer());
            assert_eq!(serde_json::from_value::<Cause>(value).unwrap(), cause);
        }
    }

    #[test]
    fn a_signal_is_filed_under_its_source() {
        let mut signal = ActivitySignal::valid(ActivityState::Idle, ActivitySource::Hook);
        signal.hook_event = Some(HookEvent::Stop);
        signal.tool_name = Some(String::new());
        let hook = Cause::signal(&signal);
        assert_eq!(
            serde_json::to_value(&hook).unwrap(),
            json!({"observer": "hook", "source": "hook", "event": "stop",
                   "activity": "idle", "confidence": "valid"})
        );
        for (source, observer) in [
            (ActivitySource::Terminal, "terminal"),
            (ActivitySource::Native, "signal"),
            (ActivitySource::Runtime, "signal"),
            (ActivitySource::None, "signal"),
        ] {
            signal.source = source;
            assert_eq!(Cause::signal(&signal).observer(), observer);
        }
    }

    #[test]
    fn a_pr_cause_keeps_counts_and_the_first_checks() {
        let mut facts = ScmFacts::fetched(ts(5), PrState::Open);
        facts.pr_number = Some(12);
        facts.ci_summary = CiSummary::Failing;
        facts.failed_checks = (0..15)
            .map(|i| FailedCheck {
                name: format!("check-{i}"),
                conclusion: "failure".into(),
                url: None,
            })
            .collect();
        let comment = |is_bot| PendingComment {
            thread_id: "t".into(),
            comment_id: "c".into(),
            author: "a".into(),
            body: "b".into(),
            is_bot,
            url: "u".into(),
            path: None,
            line: None,
        };
        facts.pending_comments = vec![comment(true), comment(false), comment(false)];
        let Cause::Scm(pr) = Cause::scm(&facts) else {
            panic!("an scm cause")
        };
        assert_eq!(pr.failed_checks.len(), CAUSE_MAX_CHECKS);
        assert_eq!(pr.failed_checks[0], "check-0");
        assert_eq!((pr.human_comments, pr.bot_comments), (2, 1));
        assert_eq!((pr.number, pr.ci), (Some(12), CiSummary::Failing));
    }
}
