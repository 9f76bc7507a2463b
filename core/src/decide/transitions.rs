//! The pure "decide" step of every LCM entry point: given the loaded record and an input, the
//! sparse patch to write, or `None` for a no-op.
//!
//! These functions hold the composition rules — which observer owns which axis, when a healthy
//! probe may recover a state, that terminal states are never resurrected except by restore —
//! so the LCM itself is only load → plan → compare-and-swap.

use std::time::Duration;

use super::probe::{ProbeInput, ProcessState, resolve_probe_decision};
use super::{
    Decision, OpenPrInput, detecting_episode, hash_evidence, resolve_open_pr_decision,
    resolve_terminal_pr_decision,
};
use crate::domain::{
    ActivityAxis, ActivitySignal, ActivitySource, ActivityState, AgentExit, Cause, CiSummary,
    EventType, KillKind, KillReason, Launch, LifecyclePatch, Metadata, PrAxis, PrReason, PrState,
    ProbeCause, ProbeResult, ReviewDecision, RuntimeAxis, RuntimeFacts, RuntimeReason,
    RuntimeState, ScmFacts, SessionAxis, SessionReason, SessionRecord, SessionState,
    SignalConfidence, SpawnOutcome, Timestamp, TurnError, meta,
};

/// How recent activity must be to make a vanished runtime ambiguous rather than dead
/// (inclusive).
pub const RECENT_ACTIVITY_WINDOW: Duration = Duration::from_secs(60);

/// `recentActivity`, an input of the probe decision: never after `exited`, always while the
/// activity is sticky, else whether the last activity is at most [`RECENT_ACTIVITY_WINDOW`] old.
pub fn recent_activity(record: &SessionRecord, now: Timestamp) -> bool {
    let activity = record.lifecycle.activity;
    match activity.state {
        Some(ActivityState::Exited) => false,
        Some(state) if state.is_sticky() => true,
        _ => activity
            .last_activity_at
            .is_some_and(|at| now.millis_since(at) <= RECENT_ACTIVITY_WINDOW.as_millis() as i64),
    }
}

/// True when an observation carries a launch id from an older generation.
fn stale_launch(record: &SessionRecord, launch_id: Option<&str>) -> bool {
    match launch_id {
        Some(id) => !record.launch.id.is_empty() && record.launch.id != id,
        None => false,
    }
}

/// The runtime axis a probe result is written as (whenever it differs from the record's).
fn runtime_axis_for(probe: Option<ProbeResult>) -> RuntimeAxis {
    match probe {
        Some(ProbeResult::Alive) => {
            RuntimeAxis::new(RuntimeState::Alive, RuntimeReason::ProcessRunning)
        }
        Some(ProbeResult::Dead) => {
            RuntimeAxis::new(RuntimeState::Exited, RuntimeReason::TmuxMissing)
        }
        Some(ProbeResult::Failed) => {
            RuntimeAxis::new(RuntimeState::ProbeFailed, RuntimeReason::ProbeError)
        }
        Some(ProbeResult::Indeterminate) | None => {
            RuntimeAxis::new(RuntimeState::Unknown, RuntimeReason::Unset)
        }
    }
}

/// `shouldWriteSessionRuntime(decision, cur)`: whether a runtime observation may write the session
/// axis, given who owns it now.
fn should_write_session_runtime(decision: &Decision, cur: &SessionRecord) -> bool {
    if cur.is_terminal() {
        return false;
    }
    match decision.session.map(|s| s.state) {
        Some(SessionState::Working) => cur.is_liveness_owned(),
        Some(SessionState::Detecting | SessionState::Stuck) => !cur.is_liveness_stuck(),
        Some(SessionState::Terminated) => true,
        _ => false,
    }
}

/// Sets `patch.session` (and clears the memory) when `axis` differs from the record.
fn write_session(patch: &mut LifecyclePatch, cur: &SessionRecord, axis: SessionAxis) {
    if cur.lifecycle.session != axis {
        patch.session = Some(axis);
    }
    if cur.lifecycle.detecting.is_some() {
        patch.detecting = Some(None);
    }
}

/// `ApplyRuntimeObservation`. `now` is the observation time.
pub fn plan_runtime_observation(
    cur: &SessionRecord,
    facts: &RuntimeFacts,
    now: Timestamp,
) -> Option<LifecyclePatch> {
    if stale_launch(cur, facts.launch_id.as_deref()) {
        return None;
    }
    if let Some(exit) = facts.agent_exit
        && !cur.is_terminal()
    {
        return Some(agent_exit_patch(cur, exit));
    }
    let decision = resolve_probe_decision(&probe_input(cur, facts, now));

    let mut patch = LifecyclePatch::default();
    let runtime_axis = runtime_axis_for(facts.runtime);
    if cur.lifecycle.runtime != runtime_axis {
        patch.runtime = Some(runtime_axis);
    }
    if should_write_session_runtime(&decision, cur) {
        if let Some(axis) = decision.session
            && cur.lifecycle.session != axis
        {
            patch.session = Some(axis);
        }
        if cur.lifecycle.detecting != decision.detecting {
            patch.detecting = Some(decision.detecting);
        }
    } else if launched_and_running(cur, facts) {
        patch.session = Some(SessionAxis::new(
            SessionState::Working,
            SessionReason::AgentAcknowledged,
        ));
    }
    (!patch.is_empty()).then_some(patch)
}

/// The agent's launch script recorded its exit: the session ends, `done` for code 0 and
/// `errored` (`terminated/error_in_process`) otherwise, with activity `exited` at the exit time
/// and the code kept in the metadata. This is the agent's own account, so it needs no
/// quarantine; the pane lives on (its shell tail) until a kill or cleanup destroys it.
fn agent_exit_patch(cur: &SessionRecord, exit: AgentExit) -> LifecyclePatch {
    let session = if exit.code == 0 {
        SessionAxis::new(SessionState::Done, SessionReason::AgentExited)
    } else {
        SessionAxis::new(SessionState::Terminated, SessionReason::ErrorInProcess)
    };
    let metadata = Metadata::from([
        (meta::EXIT_CODE.to_owned(), exit.code.to_string()),
        (meta::EXITED_AT.to_owned(), exit.at.to_rfc3339()),
        (meta::TERMINATION_DETAIL.to_owned(), exit_detail(exit.code)),
    ]);
    LifecyclePatch {
        session: Some(session),
        runtime: Some(RuntimeAxis::new(
            RuntimeState::Exited,
            RuntimeReason::ProcessMissing,
        )),
        activity: Some(ActivityAxis {
            state: Some(ActivityState::Exited),
            last_activity_at: Some(exit.at),
            source: ActivitySource::Runtime,
        }),
        detecting: cur.lifecycle.detecting.is_some().then_some(None),
        metadata,
        ..LifecyclePatch::default()
    }
}

/// Exit statuses above this are `128 + signal` in every POSIX shell.
const SIGNAL_EXIT_BASE: i32 = 128;

/// How an exit status reads to a user: a code, or the signal that ended the agent.
pub fn exit_detail(code: i32) -> String {
    match code - SIGNAL_EXIT_BASE {
        signal @ 1..=64 => format!("the agent was ended by signal {signal} (exit code {code})"),
        _ => format!("the agent exited with code {code}"),
    }
}

/// The probe decision's input for `facts` observed at `now` on the record `cur`.
fn probe_input(cur: &SessionRecord, facts: &RuntimeFacts, now: Timestamp) -> ProbeInput {
    let (runtime, runtime_failed) = match facts.runtime {
        Some(ProbeResult::Alive) => (RuntimeState::Alive, false),
        Some(ProbeResult::Dead) => (RuntimeState::Exited, false),
        Some(ProbeResult::Failed) => (RuntimeState::ProbeFailed, true),
        Some(ProbeResult::Indeterminate) | None => (RuntimeState::Unknown, false),
    };
    let (process, process_failed) = match facts.process {
        Some(ProbeResult::Alive) => (ProcessState::Alive, false),
        Some(ProbeResult::Dead) => (ProcessState::Dead, false),
        Some(ProbeResult::Failed) => (ProcessState::Indeterminate, true),
        Some(ProbeResult::Indeterminate) | None => (ProcessState::Indeterminate, false),
    };
    ProbeInput {
        kill_requested: false,
        server_gone: facts.server_gone,
        runtime,
        runtime_failed,
        process,
        process_failed,
        recent_activity: recent_activity(cur, now),
        prior: cur.lifecycle.detecting.clone(),
        now,
    }
}

/// The cause of a write `plan_runtime_observation(cur, facts, now)` planned: the probe's
/// facts, the decision's evidence and, when the decision quarantines or escalates, where the
/// report stands in its episode.
pub fn runtime_cause(cur: &SessionRecord, facts: &RuntimeFacts, now: Timestamp) -> Cause {
    if let Some(exit) = facts.agent_exit
        && !cur.is_terminal()
    {
        return Cause::Reaper(ProbeCause {
            observed_at: now,
            runtime: facts.runtime,
            process: facts.process,
            server_gone: facts.server_gone,
            pane_exit_status: facts.pane_exit_status,
            agent_exit: Some(exit),
            verdict: exit_detail(exit.code),
            attempts: None,
            since: None,
        });
    }
    let decision = resolve_probe_decision(&probe_input(cur, facts, now));
    let quarantined = matches!(
        decision.session.map(|s| s.state),
        Some(SessionState::Detecting | SessionState::Stuck)
    );
    let episode = quarantined.then(|| {
        detecting_episode(
            &hash_evidence(&decision.evidence),
            cur.lifecycle.detecting.as_ref(),
            now,
        )
    });
    Cause::Reaper(ProbeCause {
        observed_at: now,
        runtime: facts.runtime,
        process: facts.process,
        server_gone: facts.server_gone,
        pane_exit_status: facts.pane_exit_status,
        agent_exit: facts.agent_exit,
        verdict: decision.evidence,
        attempts: episode.map(|e| e.attempts),
        since: episode.map(|e| e.started_at),
    })
}

/// A session whose spawn completed is past `spawning` once a probe sees its pane and its agent
/// process running, even before the agent shows any activity: it is `working`, acknowledged by
/// the probe alone (`agent_acknowledged`), until a hook or its output says more.
fn launched_and_running(cur: &SessionRecord, facts: &RuntimeFacts) -> bool {
    cur.lifecycle.session
        == SessionAxis::new(SessionState::NotStarted, SessionReason::SpawnRequested)
        && cur.launch.started_at.is_some()
        && facts.runtime == Some(ProbeResult::Alive)
        && facts.process == Some(ProbeResult::Alive)
        && !facts.server_gone
}

/// `shouldWriteSessionTerminalPR(cur)`: a merged or closed PR may end a session that is neither
/// terminal nor stuck on liveness.
fn should_write_session_terminal_pr(cur: &SessionRecord) -> bool {
    !cur.is_terminal() && !cur.is_liveness_stuck()
}

/// The open-PR ladder input built from SCM facts.
pub fn open_pr_input(facts: &ScmFacts) -> OpenPrInput {
    let m = &facts.mergeability;
    OpenPrInput {
        draft: facts.pr_state == PrState::Draft || facts.draft,
        ci_failing: facts.ci_summary == CiSummary::Failing,
        changes_requested: facts.review_decision == ReviewDecision::ChangesRequested
            || facts.pending_comments.iter().any(|c| !c.is_bot),
        bot_comments: facts.pending_comments.iter().any(|c| c.is_bot),
        merge_conflicts: !m.mergeable
            && !m.no_conflicts
            && (m.ci_passing || m.approved || !m.blockers.is_empty()),
        approved: facts.review_decision == ReviewDecision::Approved,
        mergeable: m.mergeable,
        review_pending: facts.review_decision == ReviewDecision::Pending,
        idle_beyond: false,
        number: facts.pr_number,
        url: facts.pr_url.clone(),
    }
}

fn pr_axis(state: PrState, reason: Option<PrReason>, facts: &ScmFacts) -> PrAxis {
    PrAxis {
        state,
        reason: reason.unwrap_or(PrReason::Unset),
        number: facts.pr_number.filter(|&n| n > 0),
        url: facts.pr_url.clone().filter(|u| !u.is_empty()),
    }
}

/// `ApplySCMObservation`: unfetched facts are a no-op.
pub fn plan_scm_observation(cur: &SessionRecord, facts: &ScmFacts) -> Option<LifecyclePatch> {
    if !facts.fetched {
        return None;
    }
    let mut patch = LifecyclePatch::default();
    match facts.pr_state {
        PrState::Open | PrState::Draft => {
            let decision = resolve_open_pr_decision(&open_pr_input(facts));
            let state = decision.pr_state.unwrap_or(facts.pr_state);
            let axis = pr_axis(state, decision.pr_reason, facts);
            if cur.lifecycle.pr != axis {
                patch.pr = Some(axis);
            }
        }
        PrState::Merged | PrState::Closed => {
            let decision = resolve_terminal_pr_decision(facts.pr_state);
            let axis = pr_axis(facts.pr_state, decision.pr_reason, facts);
            if cur.lifecycle.pr != axis {
                patch.pr = Some(axis);
            }
            if should_write_session_terminal_pr(cur)
                && let Some(session) = decision.session
            {
                write_session(&mut patch, cur, session);
            }
        }
        PrState::None | PrState::Unset => return None,
    }
    (!patch.is_empty()).then_some(patch)
}

/// The session axis an activity maps to; `None` for `exited` (an exit report never concludes
/// death).
pub fn session_for_activity(activity: ActivityState) -> Option<SessionAxis> {
    let (state, reason) = match activity {
        ActivityState::Active => (SessionState::Working, SessionReason::TaskInProgress),
        ActivityState::Ready => (SessionState::Idle, SessionReason::ResearchComplete),
        ActivityState::Idle => (SessionState::Idle, SessionReason::Unset),
        ActivityState::WaitingInput | ActivityState::Blocked => {
            (SessionState::NeedsInput, SessionReason::AwaitingUserInput)
        }
        ActivityState::Exited => return None,
    };
    Some(SessionAxis::new(state, reason))
}

/// Why an activity signal changed nothing at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignalSkip {
    StaleLaunch,
    RevisionMoved,
}

/// `ApplyActivitySignal` after the hook gate ran: `gate_allows` is false when the gate suppressed
/// the activity change (bookkeeping still applies). `now` is the receipt time.
pub fn plan_activity_signal(
    cur: &SessionRecord,
    signal: &ActivitySignal,
    gate_allows: bool,
    now: Timestamp,
) -> Result<Option<LifecyclePatch>, SignalSkip> {
    if stale_launch(cur, signal.launch_id.as_deref()) {
        return Err(SignalSkip::StaleLaunch);
    }
    if signal.only_if_revision.is_some_and(|r| r != cur.revision) {
        return Err(SignalSkip::RevisionMoved);
    }
    let mut patch = LifecyclePatch::default();
    let agent_session_id = signal
        .agent_session_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    // A hook callback that carries neither an activity nor a conversation id is not an
    // accepted callback (ingest rejects it), so it stamps nothing.
    let carries_something = signal.activity.is_some() || agent_session_id.is_some();
    if signal.source == crate::domain::ActivitySource::Hook && carries_something {
        if cur.launch.first_signal_at.is_none() {
            patch.launch = Some(Launch {
                first_signal_at: Some(now),
                ..cur.launch.clone()
            });
        }
        if let Some(agent_id) = agent_session_id
            && cur.meta(meta::AGENT_SESSION_ID) != Some(agent_id)
        {
            patch
                .metadata
                .insert(meta::AGENT_SESSION_ID.to_owned(), agent_id.to_owned());
        }
    }
    let activity = match signal.activity {
        Some(a) if signal.confidence == SignalConfidence::Valid && gate_allows => a,
        _ => return Ok((!patch.is_empty()).then_some(patch)),
    };
    let axis = ActivityAxis {
        state: Some(activity),
        last_activity_at: Some(signal.timestamp.unwrap_or(now)),
        source: signal.source,
    };
    if cur.lifecycle.activity != axis {
        patch.activity = Some(axis);
    }
    note_turn_error(&mut patch, cur, activity, signal.turn_error.as_ref());
    if let Some(session) = session_for_activity(activity)
        && !cur.is_terminal()
        && cur.lifecycle.session != session
    {
        write_session(&mut patch, cur, session);
    }
    Ok((!patch.is_empty()).then_some(patch))
}

/// The evidence of a failed turn (`meta::LAST_TURN_ERROR`): written by the signal that reports
/// it (superseding an older one), removed once a turn starts again (an accepted `active`), kept
/// by anything else (a later idle notification of the same failed turn).
fn note_turn_error(
    patch: &mut LifecyclePatch,
    cur: &SessionRecord,
    activity: ActivityState,
    turn_error: Option<&TurnError>,
) {
    let stored = cur.meta(meta::LAST_TURN_ERROR);
    match turn_error {
        Some(error) => {
            let value = error.to_meta();
            if stored != Some(value.as_str()) {
                patch
                    .metadata
                    .insert(meta::LAST_TURN_ERROR.to_owned(), value);
            }
        }
        None if activity == ActivityState::Active && stored.is_some() => {
            patch
                .remove_metadata
                .insert(meta::LAST_TURN_ERROR.to_owned());
        }
        None => {}
    }
}

/// `OnSpawnCompleted`: the runtime exists.
pub fn plan_spawn_completed(
    cur: &SessionRecord,
    outcome: &SpawnOutcome,
    now: Timestamp,
) -> LifecyclePatch {
    let mut patch = LifecyclePatch::default();
    let alive = RuntimeAxis::new(RuntimeState::Alive, RuntimeReason::ProcessRunning);
    if cur.lifecycle.runtime != alive {
        patch.runtime = Some(alive);
    }
    patch.launch = Some(Launch {
        started_at: Some(now),
        ..cur.launch.clone()
    });
    let handle = &outcome.runtime_handle;
    let entries = [
        (meta::BRANCH, Some(outcome.branch.as_str())),
        (meta::WORKSPACE_PATH, Some(outcome.workspace_path.as_str())),
        (meta::RUNTIME_HANDLE_ID, Some(handle.id.as_str())),
        (meta::RUNTIME_NAME, Some(handle.runtime_name.as_str())),
        (meta::RUNTIME_PANE_ID, handle.pane_id.as_deref()),
        (meta::AGENT_SESSION_ID, outcome.agent_session_id.as_deref()),
        (meta::PROMPT, outcome.prompt.as_deref()),
    ];
    for (key, value) in entries {
        if let Some(value) = value.filter(|v| !v.is_empty())
            && cur.meta(key) != Some(value)
        {
            patch.metadata.insert(key.to_owned(), value.to_owned());
        }
    }
    patch
}

/// `OnKillRequested`: `None` when already terminal (the first terminal reason is kept).
pub fn plan_kill(cur: &SessionRecord, reason: &KillReason) -> Option<LifecyclePatch> {
    if cur.is_terminal() {
        return None;
    }
    let (session_reason, runtime_reason) = match reason.kind {
        KillKind::Manual => (
            SessionReason::ManuallyKilled,
            RuntimeReason::ManualKillRequested,
        ),
        KillKind::Cleanup => (SessionReason::AutoCleanup, RuntimeReason::AutoCleanup),
        KillKind::Error => (SessionReason::ErrorInProcess, RuntimeReason::ProbeError),
    };
    let mut patch = LifecyclePatch {
        session: Some(SessionAxis::new(SessionState::Terminated, session_reason)),
        runtime: Some(RuntimeAxis::new(RuntimeState::Exited, runtime_reason)),
        detecting: Some(None),
        metadata: reason.metadata.clone(),
        ..LifecyclePatch::default()
    };
    if let Some(detail) = reason.detail.as_deref().filter(|d| !d.is_empty()) {
        patch
            .metadata
            .insert(meta::TERMINATION_DETAIL.to_owned(), detail.to_owned());
    }
    Some(patch)
}

/// The lifecycle of a freshly created or reopened record.
pub fn initial_lifecycle(pr_reason: PrReason) -> crate::domain::Lifecycle {
    crate::domain::Lifecycle {
        session: SessionAxis::new(SessionState::NotStarted, SessionReason::SpawnRequested),
        pr: PrAxis::bare(PrState::None, pr_reason),
        runtime: RuntimeAxis::new(RuntimeState::Unknown, RuntimeReason::SpawnIncomplete),
        activity: ActivityAxis::UNSET,
        detecting: None,
    }
}

/// A reopen over a record that is not terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActiveSession;

/// `OnSpawnInitiated(reopen)`: only over a terminal record.
pub fn plan_reopen(
    cur: &SessionRecord,
    launch_id: String,
) -> Result<LifecyclePatch, ActiveSession> {
    if !cur.is_terminal() {
        return Err(ActiveSession);
    }
    let lc = initial_lifecycle(PrReason::ClearedOnRestore);
    // How the last launch ended does not describe the new one.
    let remove_metadata = [
        meta::EXIT_CODE,
        meta::EXITED_AT,
        meta::TERMINATION_DETAIL,
        meta::ENDED_AT,
    ]
    .into_iter()
    .filter(|key| cur.metadata.contains_key(*key))
    .map(str::to_owned)
    .collect();
    Ok(LifecyclePatch {
        session: Some(lc.session),
        pr: Some(lc.pr),
        runtime: Some(lc.runtime),
        activity: Some(lc.activity),
        detecting: Some(None),
        launch: Some(Launch {
            id: launch_id,
            started_at: None,
            first_signal_at: None,
        }),
        remove_metadata,
        ..LifecyclePatch::default()
    })
}

/// `OnSpawnInitiated(revert)`: back to the lifecycle, launch and metadata of `earlier`.
pub fn plan_revert(earlier: &SessionRecord) -> LifecyclePatch {
    let lc = &earlier.lifecycle;
    LifecyclePatch {
        session: Some(lc.session),
        pr: Some(lc.pr.clone()),
        runtime: Some(lc.runtime),
        activity: Some(lc.activity),
        detecting: Some(lc.detecting.clone()),
        launch: Some(earlier.launch.clone()),
        replace_metadata: Some(earlier.metadata.clone()),
        metadata: Metadata::new(),
        remove_metadata: Default::default(),
    }
}

/// `patch` as it will be written: a write that ends the session also stamps when
/// (`meta::ENDED_AT`).
pub fn stamp_end(cur: &SessionRecord, mut patch: LifecyclePatch, now: Timestamp) -> LifecyclePatch {
    let ends = patch.session.is_some_and(|axis| axis.state.is_terminal()) && !cur.is_terminal();
    if ends {
        patch
            .metadata
            .insert(meta::ENDED_AT.to_owned(), now.to_rfc3339());
    }
    patch
}

/// The change-log event type of a committed write, for an update.
pub fn classify_write(cur: &SessionRecord, next: &SessionRecord) -> EventType {
    let (a, b) = (&cur.lifecycle, &next.lifecycle);
    if b.session.state.is_terminal() && a.session.state != b.session.state {
        EventType::SessionTerminated
    } else if a.session != b.session {
        EventType::SessionStateChanged
    } else if a.pr != b.pr {
        EventType::SessionPrUpdated
    } else if a.runtime != b.runtime {
        EventType::SessionRuntimeUpdated
    } else if a.activity != b.activity {
        EventType::SessionActivityUpdated
    } else {
        EventType::SessionUpdated
    }
}

#[cfg(test)]
#[path = "transitions_tests.rs"]
mod tests;
