//! Every enumeration of the session lifecycle, spelled exactly as on the wire.
//!
//! The empty string is a real value of several enums ("never observed", "no reason"); it is the
//! `Unset` variant, never `Option::None`, so a stored empty value round-trips unchanged.

use super::wire_enum::wire_enum;

wire_enum! {
    /// `worker` or `orchestrator`; both follow the same lifecycle.
    pub enum SessionKind {
        Worker => "worker",
        Orchestrator => "orchestrator",
    }
}

wire_enum! {
    /// The session sub-state.
    pub enum SessionState {
        NotStarted => "not_started",
        Working => "working",
        Idle => "idle",
        NeedsInput => "needs_input",
        Stuck => "stuck",
        Detecting => "detecting",
        /// Terminal; reserved: no entry point writes it, every rule treats it as terminal.
        Done => "done",
        Terminated => "terminated",
    }
}

impl SessionState {
    /// `done` or `terminated`.
    pub const fn is_terminal(self) -> bool {
        matches!(self, SessionState::Done | SessionState::Terminated)
    }
}

wire_enum! {
    /// The session reason (18 values plus the empty string).
    pub enum SessionReason {
        SpawnRequested => "spawn_requested",
        AgentAcknowledged => "agent_acknowledged",
        TaskInProgress => "task_in_progress",
        PrCreated => "pr_created",
        FixingCi => "fixing_ci",
        ResolvingReviewComments => "resolving_review_comments",
        AwaitingExternalReview => "awaiting_external_review",
        AwaitingUserInput => "awaiting_user_input",
        ResearchComplete => "research_complete",
        MergedWaitingDecision => "merged_waiting_decision",
        ManuallyKilled => "manually_killed",
        PrMerged => "pr_merged",
        AutoCleanup => "auto_cleanup",
        RuntimeLost => "runtime_lost",
        AgentProcessExited => "agent_process_exited",
        ProbeFailure => "probe_failure",
        ErrorInProcess => "error_in_process",
        AgentExited => "agent_exited",
        Unset => "",
    }
}

impl SessionReason {
    /// `runtime_lost`, `agent_process_exited` or `probe_failure`: reasons owned by the probe
    /// pipeline (`livenessReason` in the spec).
    pub const fn is_liveness(self) -> bool {
        matches!(
            self,
            SessionReason::RuntimeLost
                | SessionReason::AgentProcessExited
                | SessionReason::ProbeFailure
        )
    }
}

wire_enum! {
    /// The PR sub-state; `Unset` (`""`) means "never observed".
    pub enum PrState {
        None => "none",
        Open => "open",
        Draft => "draft",
        Merged => "merged",
        Closed => "closed",
        Unset => "",
    }
}

impl PrState {
    /// `open` or `draft`.
    pub const fn is_active(self) -> bool {
        matches!(self, PrState::Open | PrState::Draft)
    }
}

wire_enum! {
    /// The PR reason (12 values plus the empty string).
    pub enum PrReason {
        NotCreated => "not_created",
        InProgress => "in_progress",
        CiFailing => "ci_failing",
        ReviewPending => "review_pending",
        ChangesRequested => "changes_requested",
        Approved => "approved",
        MergeReady => "merge_ready",
        Merged => "merged",
        ClosedUnmerged => "closed_unmerged",
        ClearedOnRestore => "cleared_on_restore",
        BotComments => "bot_comments",
        MergeConflicts => "merge_conflicts",
        Unset => "",
    }
}

wire_enum! {
    /// The runtime sub-state. `missing` is reserved: accepted as decider input, never written.
    pub enum RuntimeState {
        Unknown => "unknown",
        Alive => "alive",
        Exited => "exited",
        Missing => "missing",
        ProbeFailed => "probe_failed",
    }
}

wire_enum! {
    /// The runtime reason (8 values plus the empty string). `process_missing` and
    /// `pr_merged_cleanup` are reserved.
    pub enum RuntimeReason {
        SpawnIncomplete => "spawn_incomplete",
        ProcessRunning => "process_running",
        ProcessMissing => "process_missing",
        TmuxMissing => "tmux_missing",
        ManualKillRequested => "manual_kill_requested",
        PrMergedCleanup => "pr_merged_cleanup",
        AutoCleanup => "auto_cleanup",
        ProbeError => "probe_error",
        Unset => "",
    }
}

wire_enum! {
    /// What the agent is doing.
    pub enum ActivityState {
        Active => "active",
        Ready => "ready",
        Idle => "idle",
        /// Sticky: the agent asked for an instruction; user messages welcome, nudges not.
        WaitingInput => "waiting_input",
        /// Sticky: a permission dialog is open; nothing may be typed into the pane.
        Blocked => "blocked",
        /// The agent reported its own exit; never concludes death on its own.
        Exited => "exited",
    }
}

impl ActivityState {
    /// Sticky states are never aged or demoted by wall-clock time.
    pub const fn is_sticky(self) -> bool {
        matches!(self, ActivityState::WaitingInput | ActivityState::Blocked)
    }
}

wire_enum! {
    /// Where an activity reading came from.
    pub enum ActivitySource {
        Native => "native",
        Terminal => "terminal",
        Hook => "hook",
        Runtime => "runtime",
        None => "none",
    }
}

wire_enum! {
    /// The result of a runtime or process probe. `failed` = the probe itself errored or timed
    /// out; `indeterminate` = it ran but could not tell. Neither is ever read as death.
    pub enum ProbeResult {
        Alive => "alive",
        Dead => "dead",
        Indeterminate => "indeterminate",
        Failed => "failed",
    }
}

wire_enum! {
    /// How far a signal may be trusted; only `valid` is authoritative.
    pub enum SignalConfidence {
        Valid => "valid",
        Stale => "stale",
        Null => "null",
        Unavailable => "unavailable",
        ProbeFailure => "probe_failure",
    }
}

wire_enum! {
    /// Summary of a PR's checks.
    pub enum CiSummary {
        Pending => "pending",
        Passing => "passing",
        Failing => "failing",
        None => "none",
    }
}

wire_enum! {
    /// A PR's review decision.
    pub enum ReviewDecision {
        Approved => "approved",
        ChangesRequested => "changes_requested",
        Pending => "pending",
        None => "none",
    }
}

wire_enum! {
    /// Why a session is being killed; selects the terminal reasons written by `OnKillRequested`.
    pub enum KillKind {
        Manual => "manual",
        Cleanup => "cleanup",
        Error => "error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every enum round-trips through its spelling, in text and JSON, and spellings are unique.
    fn check_round_trip<T>(all: &[T], as_str: fn(T) -> &'static str)
    where
        T: Copy
            + std::fmt::Debug
            + PartialEq
            + std::str::FromStr
            + serde::Serialize
            + serde::de::DeserializeOwned,
        <T as std::str::FromStr>::Err: std::fmt::Debug,
    {
        let mut seen = std::collections::HashSet::new();
        for &v in all {
            let text = as_str(v);
            assert!(seen.insert(text), "duplicate spelling {text:?}");
            assert_eq!(text.parse::<T>().unwrap(), v);
            let json = serde_json::to_string(&v).unwrap();
            assert_eq!(json, format!("\"{text}\""));
            assert_eq!(serde_json::from_str::<T>(&json).unwrap(), v);
        }
        assert!("definitely-not-a-value".parse::<T>().is_err());
    }

    #[test]
    fn spellings_round_trip() {
        check_round_trip(SessionKind::ALL, SessionKind::as_str);
        check_round_trip(SessionState::ALL, SessionState::as_str);
        check_round_trip(SessionReason::ALL, SessionReason::as_str);
        check_round_trip(PrState::ALL, PrState::as_str);
        check_round_trip(PrReason::ALL, PrReason::as_str);
        check_round_trip(RuntimeState::ALL, RuntimeState::as_str);
        check_round_trip(RuntimeReason::ALL, RuntimeReason::as_str);
        check_round_trip(ActivityState::ALL, ActivityState::as_str);
        check_round_trip(ActivitySource::ALL, ActivitySource::as_str);
        check_round_trip(ProbeResult::ALL, ProbeResult::as_str);
        check_round_trip(SignalConfidence::ALL, SignalConfidence::as_str);
        check_round_trip(CiSummary::ALL, CiSummary::as_str);
        check_round_trip(ReviewDecision::ALL, ReviewDecision::as_str);
        check_round_trip(KillKind::ALL, KillKind::as_str);
    }

    #[test]
    fn counts_match_the_spec() {
        assert_eq!(SessionState::ALL.len(), 8);
        // The spec's 17 reasons, `agent_exited`, and the empty string.
        assert_eq!(SessionReason::ALL.len(), 19);
        assert_eq!(PrReason::ALL.len(), 13);
        assert_eq!(RuntimeState::ALL.len(), 5);
        assert_eq!(RuntimeReason::ALL.len(), 9);
        assert_eq!(ActivityState::ALL.len(), 6);
    }

    #[test]
    fn predicates() {
        let terminal: Vec<_> = SessionState::ALL
            .iter()
            .filter(|s| s.is_terminal())
            .collect();
        assert_eq!(terminal, [&SessionState::Done, &SessionState::Terminated]);
        let liveness: Vec<_> = SessionReason::ALL
            .iter()
            .filter(|r| r.is_liveness())
            .collect();
        assert_eq!(liveness.len(), 3);
        let sticky: Vec<_> = ActivityState::ALL
            .iter()
            .filter(|a| a.is_sticky())
            .collect();
        assert_eq!(
            sticky,
            [&ActivityState::WaitingInput, &ActivityState::Blocked]
        );
        assert!(PrState::Open.is_active() && PrState::Draft.is_active());
        assert!(!PrState::Merged.is_active() && !PrState::Unset.is_active());
    }
}
