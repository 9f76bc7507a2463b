//! The words of a `why` report: a cause's signal, a probe's findings, and the sentence that
//! says what a status means for one session. Spans are counted back from the report's time, so
//! the text names no clock time and no time zone.

use super::{Axis, Origin};
use crate::decide::transitions::exit_detail;
use crate::decide::{DETECTING_MAX_ATTEMPTS, DETECTING_MAX_DURATION};
use crate::domain::{
    ActivityState, Cause, KillKind, PrCause, ProbeCause, ProbeResult, SessionReason, SessionRecord,
    SignalCause, SignalConfidence, Status, Timestamp, meta,
};

/// A span of milliseconds as people say it: `45s`, `4m 10s`, `2h 5m`, `3d 4h`.
pub fn span(millis: i64) -> String {
    let s = millis.max(0) / 1000;
    let (d, h, m, sec) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    let two = |a: i64, ua: &str, b: i64, ub: &str| match b {
        0 => format!("{a}{ua}"),
        _ => format!("{a}{ua} {b}{ub}"),
    };
    match s {
        ..60 => format!("{sec}s"),
        60..3600 => two(m, "m", sec, "s"),
        3600..86_400 => two(h, "h", m, "m"),
        _ => two(d, "d", h, "h"),
    }
}

/// What a probe found, in words.
pub fn probe_phrase(p: &ProbeCause) -> String {
    use ProbeResult::{Alive, Dead, Failed};
    if let Some(exit) = p.agent_exit {
        return format!("the launch script recorded: {}", exit_detail(exit.code));
    }
    let found = if p.server_gone {
        "the whole tmux server is gone"
    } else {
        match (p.runtime, p.process) {
            (Some(Failed), _) | (_, Some(Failed)) => "the probe itself failed",
            (Some(Alive), Some(Alive)) => "the pane and the agent process are alive",
            (Some(Alive), Some(Dead)) => "the pane is alive but the agent process is gone",
            (Some(Alive), _) => "the pane is alive; the agent process could not be checked",
            (Some(Dead), Some(Dead)) => "the pane and the agent process are gone",
            (Some(Dead), Some(Alive)) => "the pane is gone but the agent process still runs",
            (Some(Dead), _) => "the pane is gone; the agent process could not be checked",
            _ => "the probe could not tell whether the pane exists",
        }
    };
    match p.pane_exit_status {
        Some(status) => format!("{found} (the pane's command exited with status {status})"),
        None => found.to_owned(),
    }
}

/// `hook stop: ready`, `terminal output: active`.
fn signal_phrase(what: &str, s: &SignalCause) -> String {
    let mut text = match s.event {
        Some(event) => format!("{what} {event}"),
        None => what.to_owned(),
    };
    if let Some(tool) = &s.tool {
        text.push_str(&format!(" ({tool})"));
    }
    if let Some(activity) = s.activity {
        text.push_str(&format!(": {activity}"));
    }
    if s.confidence != SignalConfidence::Valid {
        text.push_str(&format!(" [{}]", s.confidence));
    }
    text
}

/// `PR #12` or `the PR`.
fn pr_name(number: Option<u64>) -> String {
    number.map_or("the PR".to_owned(), |n| format!("PR #{n}"))
}

fn pr_phrase(p: &PrCause) -> String {
    let mut text = format!(
        "{} {}: CI {}, review {}",
        pr_name(p.number),
        p.state,
        p.ci,
        p.review
    );
    if p.mergeable {
        text.push_str(", mergeable");
    }
    let comments = p.human_comments + p.bot_comments;
    if comments > 0 {
        text.push_str(&format!(", {comments} open comment(s)"));
    }
    text
}

fn kill_phrase(kind: KillKind) -> &'static str {
    match kind {
        KillKind::Manual => "`aoctl kill`",
        KillKind::Cleanup => "cleanup",
        KillKind::Error => "an error",
    }
}

/// A cause's signal in one line.
pub fn describe_cause(cause: &Cause) -> String {
    match cause {
        Cause::Spawn => "spawn requested".to_owned(),
        Cause::Launch(l) => format!("runtime started (tmux session {})", l.runtime_handle),
        Cause::Restore => "restore requested".to_owned(),
        Cause::Revert => "failed restore undone".to_owned(),
        Cause::Reaper(p) => {
            let mut text = format!("probe: {}", probe_phrase(p));
            if let Some(n) = p.attempts {
                text.push_str(&format!(" (report {n} in a row)"));
            }
            text
        }
        Cause::Hook(s) => signal_phrase("hook", s),
        Cause::Terminal(s) => signal_phrase("terminal output", s),
        Cause::Signal(s) => signal_phrase(&format!("{} signal", s.source), s),
        Cause::Scm(p) => pr_phrase(p),
        Cause::Kill(k) => match &k.detail {
            Some(detail) => format!("{}: {detail}", kill_phrase(k.kind)),
            None => kill_phrase(k.kind).to_owned(),
        },
    }
}

/// What a report's sentence is built from.
pub(super) struct Evidence<'a> {
    pub record: &'a SessionRecord,
    pub status: Status,
    pub now: Timestamp,
    pub session: &'a Origin,
    pub activity: &'a Origin,
    pub pr: &'a Origin,
}

impl Evidence<'_> {
    /// ` (4m ago)` for a known time, else nothing.
    fn ago(&self, at: Option<Timestamp>) -> String {
        at.map_or(String::new(), |t| {
            format!(" {} ago", span(self.now.millis_since(t)))
        })
    }

    /// The activity's signal and age: ` (hook stop: ready, 2m ago)`.
    fn activity_note(&self) -> String {
        match &self.activity.parsed {
            Some(cause) => format!(
                " ({},{})",
                describe_cause(cause),
                self.ago(self.activity.since)
            ),
            None => String::new(),
        }
    }

    fn probe(&self) -> Option<&ProbeCause> {
        match &self.session.parsed {
            Some(Cause::Reaper(p)) => Some(p),
            _ => None,
        }
    }

    fn detail(&self) -> Option<&str> {
        self.record.meta(meta::TERMINATION_DETAIL)
    }

    fn pr(&self) -> Option<&PrCause> {
        match &self.pr.parsed {
            Some(Cause::Scm(p)) => Some(p),
            _ => None,
        }
    }
}

/// Where an exited agent's pane and output are, and what brings it back.
const EXITED_PANE: &str = "Its pane stays open with its last output (`aoctl attach`; `aoctl get` \
                           shows the last lines) until `aoctl kill`; `aoctl restore` relaunches \
                           the agent.";

/// What the status means for this session, with its evidence.
pub(super) fn explanation(e: &Evidence<'_>) -> String {
    let r = e.record;
    let launched = e.ago(r.launch.started_at);
    let reason = r.lifecycle.session.reason;
    match e.status {
        Status::Spawning if r.launch.started_at.is_none() => {
            "ao is still setting the session up: its worktree, tmux session or agent launch is \
             not done yet."
                .to_owned()
        }
        Status::Spawning => {
            format!("the agent was launched{launched}; no probe has seen its process running yet.")
        }
        Status::NoSignal => format!(
            "the agent was launched{launched} and no hook callback has reached ao since: its \
             hooks may be missing or unable to reach `aoctl`, so ao cannot tell what it is doing."
        ),
        Status::Working | Status::Idle | Status::NeedsInput => activity_sentence(e),
        Status::Detecting => match e.probe() {
            Some(p) => format!(
                "ao is not sure the agent is alive: {} (report {} in a row, first{}); {} such \
                 reports or {} make it stuck, a healthy probe clears it.",
                probe_phrase(p),
                p.attempts.unwrap_or(1),
                e.ago(p.since.or(e.session.since)),
                DETECTING_MAX_ATTEMPTS,
                span(DETECTING_MAX_DURATION.as_millis() as i64),
            ),
            None => "ao is not sure the agent is alive; the next probes decide.".to_owned(),
        },
        Status::Stuck => match e.probe() {
            Some(p) => format!(
                "{} for {} ({} probes in a row), so ao stopped waiting for it to recover; look \
                 at the pane (`aoctl attach`), then `aoctl kill` or `aoctl restore` it.",
                probe_phrase(p),
                span(
                    e.now
                        .millis_since(p.since.or(e.session.since).unwrap_or(e.now))
                ),
                p.attempts.unwrap_or(DETECTING_MAX_ATTEMPTS),
            ),
            None => {
                "the session is stuck: it needs a person to look at it (`aoctl attach`).".to_owned()
            }
        },
        Status::Terminated => match e.probe() {
            Some(p) => format!(
                "the session ended on its own{}: {}; nobody killed it (`aoctl restore` \
                 relaunches it).",
                e.ago(e.session.since),
                probe_phrase(p)
            ),
            None => format!("the session ended{}.", e.ago(e.session.since)),
        },
        Status::Killed => {
            let by = match &e.session.parsed {
                Some(Cause::Kill(k)) => kill_phrase(k.kind),
                _ => "`aoctl kill`",
            };
            format!("killed by {by}{}.", e.ago(e.session.since))
        }
        Status::Errored if reason == SessionReason::ProbeFailure => match e.probe() {
            Some(p) => format!(
                "probes of its pane kept failing ({}), so ao ended it{}.",
                probe_phrase(p),
                e.ago(e.session.since)
            ),
            None => format!(
                "probes of its pane kept failing, so ao ended it{}.",
                e.ago(e.session.since)
            ),
        },
        Status::Errored if r.meta(meta::EXIT_CODE).is_some() => format!(
            "the session failed{}: {}. {EXITED_PANE}",
            e.ago(e.session.since),
            e.detail().unwrap_or("the agent exited")
        ),
        Status::Errored => match e.detail() {
            Some(detail) => format!("the session failed{}: {detail}.", e.ago(e.session.since)),
            None => format!("the session failed{}.", e.ago(e.session.since)),
        },
        Status::Cleanup => match reason {
            SessionReason::PrMerged => format!(
                "ao ended it{} because {} was merged.",
                e.ago(e.session.since),
                pr_name(r.lifecycle.pr.number)
            ),
            _ => format!("ao ended it{} to clean up.", e.ago(e.session.since)),
        },
        Status::Done if r.meta(meta::EXIT_CODE).is_some() => format!(
            "the session is done{}: {}. {EXITED_PANE}",
            e.ago(e.session.since),
            e.detail().unwrap_or("the agent exited")
        ),
        Status::Done => "the session is done.".to_owned(),
        Status::PrOpen
        | Status::Draft
        | Status::CiFailed
        | Status::ReviewPending
        | Status::ChangesRequested
        | Status::Approved
        | Status::Mergeable
        | Status::Merged => pr_sentence(e),
    }
}

/// `working`, `idle` and `needs_input`: what the agent last said, or the probe that saw it.
fn activity_sentence(e: &Evidence<'_>) -> String {
    let r = e.record;
    let note = e.activity_note();
    match (e.status, r.lifecycle.activity.state) {
        (Status::NeedsInput, Some(ActivityState::Blocked)) => format!(
            "the agent is waiting for you: a permission prompt is open in its pane{note}; answer \
             it there (`aoctl attach`)."
        ),
        (Status::NeedsInput, _) => {
            format!("the agent asked for input{note}; answer with `aoctl send`.")
        }
        (Status::Idle, Some(ActivityState::Ready)) => {
            format!("the agent finished its turn and waits for your next message{note}.")
        }
        (Status::Idle, _) => format!("the agent is idle{note}."),
        _ if r.lifecycle.session.reason == SessionReason::AgentAcknowledged => format!(
            "a probe saw the agent process running in its pane{}; the agent has reported no \
             activity yet.",
            e.ago(e.session.since)
        ),
        _ => match e.probe() {
            Some(p) => format!(
                "a probe found the session healthy again{}: {}.",
                e.ago(e.session.since),
                probe_phrase(p)
            ),
            None => format!("the agent is working{note}."),
        },
    }
}

/// The PR statuses: what the last SCM poll said.
fn pr_sentence(e: &Evidence<'_>) -> String {
    let pr = &e.record.lifecycle.pr;
    let name = pr_name(pr.number);
    let facts = e.pr();
    let list = |items: &[String]| match items {
        [] => String::new(),
        items => format!(": {}", items.join(", ")),
    };
    let mut text = match e.status {
        Status::Draft => format!("{name} is a draft"),
        Status::CiFailed => format!(
            "CI is failing on {name}{}",
            list(facts.map_or(&[][..], |p| &p.failed_checks))
        ),
        Status::ReviewPending => format!("{name} waits for review"),
        Status::ChangesRequested if pr.reason == crate::domain::PrReason::BotComments => {
            format!(
                "bots left unresolved comments on {name}{}",
                facts.map_or(String::new(), |p| format!(" ({})", p.bot_comments))
            )
        }
        Status::ChangesRequested => format!(
            "changes were requested on {name}{}",
            facts
                .filter(|p| p.human_comments > 0)
                .map_or(String::new(), |p| format!(
                    " ({} unresolved comment(s))",
                    p.human_comments
                ))
        ),
        Status::Approved => format!(
            "{name} is approved but not mergeable yet{}",
            list(facts.map_or(&[][..], |p| &p.blockers))
        ),
        Status::Mergeable => format!("{name} is approved and green: ready to merge"),
        Status::Merged => format!("{name} was merged"),
        _ => format!("{name} is open"),
    };
    if facts.is_some() {
        text.push_str(&format!(" (SCM poll{})", e.ago(e.pr.since)));
    }
    text.push('.');
    text
}

/// More about an axis now.
pub(super) fn axis_detail(axis: Axis, r: &SessionRecord, now: Timestamp) -> Option<String> {
    let lc = &r.lifecycle;
    match axis {
        Axis::Session => lc.detecting.as_ref().map(|d| {
            format!(
                "quarantine: report {} of {} in a row, began {} ago",
                d.attempts,
                DETECTING_MAX_ATTEMPTS,
                span(now.millis_since(d.started_at))
            )
        }),
        Axis::Runtime => r
            .meta(meta::RUNTIME_HANDLE_ID)
            .map(|name| format!("tmux session {name}")),
        Axis::Activity => lc.activity.last_activity_at.map(|at| {
            format!(
                "reported by {}, last {} ago",
                lc.activity.source,
                span(now.millis_since(at))
            )
        }),
        Axis::Pr => match (lc.pr.number, &lc.pr.url) {
            (Some(n), Some(url)) => Some(format!("#{n} {url}")),
            (Some(n), None) => Some(format!("#{n}")),
            (None, Some(url)) => Some(url.clone()),
            (None, None) => None,
        },
    }
}
