//! `why`: the evidence behind a session's status, as one report.
//!
//! [`History`] reads a session's change-log rows (newest first, as the store pages them back)
//! and [`History::report`] turns them and the current session into a [`Why`]: the status with a
//! sentence saying what it means here, each lifecycle axis with the observer that last changed
//! it (when, on what signal), the metadata that explains an ending, and the last transitions.
//! `Why` is the answer every transport serves as-is (`aoctl why --json` prints it), so its
//! fields are plain strings, times and the causes as recorded, like the other wire types.

mod text;

use serde::{Deserialize, Serialize};

use crate::domain::{Cause, ChangeEvent, EventType, Session, SessionRecord, Timestamp, meta};

pub use text::{describe_cause, probe_phrase, span};

/// Transitions a report shows unless asked for another number.
pub const WHY_DEFAULT_TRANSITIONS: u32 = 10;
/// Most transitions a report shows.
pub const WHY_MAX_TRANSITIONS: u32 = 100;
/// Most change-log rows read for one report; older evidence counts as unknown.
pub const WHY_SCAN_MAX: usize = 2048;

/// The metadata keys that explain a status, with the label a report gives each. A key shows
/// when the record holds it.
pub const EVIDENCE_METADATA: &[(&str, &str)] = &[
    (meta::TERMINATION_DETAIL, "ended because"),
    (meta::EXIT_CODE, "agent exit code"),
    (meta::EXITED_AT, "agent exited at"),
    (meta::LAST_TURN_ERROR, "last turn error"),
];

/// The evidence behind one session's status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Why {
    pub id: String,
    /// The derived display status.
    pub status: String,
    /// What the status means for this session, and the evidence behind it, in a sentence or two.
    pub explanation: String,
    /// When the report was made; the spans in `explanation` are counted back from it.
    pub at: Timestamp,
    /// The session, runtime, activity and PR axes, in that order.
    pub axes: Vec<AxisEvidence>,
    /// The metadata that explains the status (why it ended, how the agent exited).
    pub metadata: Vec<MetadataEvidence>,
    /// The last transitions, oldest first.
    pub transitions: Vec<Transition>,
    /// True when the rows read reach back to the session's creation; false when older ones were
    /// pruned or not read, so an axis may show no `changed_by`.
    pub history_complete: bool,
}

/// One lifecycle axis now, and what last changed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AxisEvidence {
    /// `session`, `runtime`, `activity` or `pr`.
    pub axis: String,
    /// Empty when the axis has no value (activity never reported).
    pub state: String,
    pub reason: String,
    /// More about the axis now: the PR's number and URL, the quarantine's count, who reports
    /// the activity and when last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// When the axis took its current value, when the rows read show it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<Timestamp>,
    /// What wrote the current value (absent when unknown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed_by: Option<CauseView>,
}

/// A recorded cause, with its signal in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CauseView {
    /// `spawn`, `launch`, `restore`, `revert`, `reaper`, `hook`, `terminal`, `signal`, `scm` or
    /// `kill`.
    pub observer: String,
    /// The signal in words: `hook stop: ready`, `probe: the pane is alive but …`.
    pub signal: String,
    /// The cause as the change log holds it.
    pub facts: serde_json::Value,
}

/// A metadata value that explains the status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetadataEvidence {
    pub key: String,
    pub label: String,
    pub value: String,
}

/// One committed write that changed something a person would look at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    /// The change-log sequence number (`aoctl events --since` pages from it).
    pub seq: i64,
    pub at: Timestamp,
    /// The change-log event type (`session_state_changed`, …).
    pub event: String,
    /// What changed, main axis first.
    pub changes: Vec<AxisChange>,
    /// Absent on rows written before causes were recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<CauseView>,
}

/// One axis (or `quarantine`, `launch`, a metadata key) before and after a write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AxisChange {
    pub axis: String,
    /// Absent for the session's creation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    pub to: String,
}

/// One change-log row, read back.
#[derive(Debug, Clone)]
struct Step {
    seq: i64,
    at: Timestamp,
    event: EventType,
    record: SessionRecord,
    cause: Option<serde_json::Value>,
}

impl Step {
    /// The row as a step, unless its payload holds no record (a row this version cannot read).
    fn read(row: &ChangeEvent) -> Option<Step> {
        let record = serde_json::from_value(row.payload.get("record")?.clone()).ok()?;
        Some(Step {
            seq: row.seq,
            at: row.created_at,
            event: row.event_type,
            record,
            cause: row.payload.get("cause").cloned(),
        })
    }

    fn cause_view(&self) -> Option<CauseView> {
        let facts = self.cause.clone()?;
        let observer = facts.get("observer")?.as_str()?.to_owned();
        let signal = serde_json::from_value::<Cause>(facts.clone())
            .map(|c| describe_cause(&c))
            .unwrap_or_else(|_| observer.clone());
        Some(CauseView {
            observer,
            signal,
            facts,
        })
    }

    fn parsed_cause(&self) -> Option<Cause> {
        serde_json::from_value(self.cause.clone()?).ok()
    }
}

/// The four axes a report explains, and what counts as a change of each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Axis {
    Session,
    Runtime,
    Activity,
    Pr,
}

impl Axis {
    const ALL: [Axis; 4] = [Axis::Session, Axis::Runtime, Axis::Activity, Axis::Pr];

    const fn name(self) -> &'static str {
        match self {
            Axis::Session => "session",
            Axis::Runtime => "runtime",
            Axis::Activity => "activity",
            Axis::Pr => "pr",
        }
    }

    /// The axis as `state/reason` (`#n` for a PR): equal values are no change. The activity's
    /// time is not part of it, so a report of the same activity is no transition.
    fn value(self, r: &SessionRecord) -> String {
        let lc = &r.lifecycle;
        match self {
            Axis::Session => pair(lc.session.state.as_str(), lc.session.reason.as_str()),
            Axis::Runtime => pair(lc.runtime.state.as_str(), lc.runtime.reason.as_str()),
            Axis::Activity => lc.activity.state.map_or("-", |a| a.as_str()).to_owned(),
            Axis::Pr => {
                let base = pair(lc.pr.state.as_str(), lc.pr.reason.as_str());
                match lc.pr.number {
                    Some(n) => format!("{base} #{n}"),
                    None => base,
                }
            }
        }
    }
}

/// `state/reason`, or `state` alone when the reason is empty (`-` when both are).
fn pair(state: &str, reason: &str) -> String {
    match (state, reason) {
        ("", "") => "-".to_owned(),
        (s, "") => s.to_owned(),
        (s, r) => format!("{s}/{r}"),
    }
}

/// The quarantine's count, as a transition shows it.
fn quarantine(r: &SessionRecord) -> String {
    r.lifecycle
        .detecting
        .as_ref()
        .map_or("-".to_owned(), |d| format!("report {}", d.attempts))
}

/// Longest metadata value a transition repeats (the report's metadata list has it whole).
const CHANGE_VALUE_MAX: usize = 80;

fn clip(value: &str) -> String {
    match value.char_indices().nth(CHANGE_VALUE_MAX) {
        Some((end, _)) => format!("{}…", &value[..end]),
        None => value.to_owned(),
    }
}

/// What a write changed, from the record before to the record after, main axis first; empty
/// when only times or bookkeeping moved.
fn changes(before: &SessionRecord, after: &SessionRecord) -> Vec<AxisChange> {
    let mut out = vec![];
    let mut push = |axis: &str, from: String, to: String| {
        if from != to {
            out.push(AxisChange {
                axis: axis.to_owned(),
                from: Some(from),
                to,
            });
        }
    };
    for axis in Axis::ALL {
        push(axis.name(), axis.value(before), axis.value(after));
    }
    if before.lifecycle.session == after.lifecycle.session {
        push("quarantine", quarantine(before), quarantine(after));
    }
    let (b, a) = (&before.launch, &after.launch);
    if b.id == a.id {
        let stamp = |t: Option<Timestamp>, what: &str| t.map_or("-", |_| what).to_owned();
        push(
            "launch",
            stamp(b.started_at, "runtime started"),
            stamp(a.started_at, "runtime started"),
        );
        push(
            "first hook",
            stamp(b.first_signal_at, "received"),
            stamp(a.first_signal_at, "received"),
        );
    }
    for (key, _) in EVIDENCE_METADATA {
        let value = |r: &SessionRecord| r.meta(key).map_or("-".to_owned(), clip);
        push(key, value(before), value(after));
    }
    out
}

/// What a report knows about one axis's current value.
#[derive(Debug, Clone, Default)]
struct Origin {
    since: Option<Timestamp>,
    cause: Option<CauseView>,
    parsed: Option<Cause>,
}

/// A session's change-log rows, read back newest first, page by page.
#[derive(Debug, Clone)]
pub struct History {
    session: Session,
    /// Newest first; rows newer than the session as loaded are left out.
    steps: Vec<Step>,
    /// Rows read, and the oldest one's `seq`.
    rows_read: usize,
    oldest_seq: Option<i64>,
    /// The store has nothing older than the rows read.
    exhausted: bool,
}

impl History {
    /// No rows read yet for `session`, as loaded.
    pub fn new(session: Session) -> Self {
        Self {
            session,
            steps: vec![],
            rows_read: 0,
            oldest_seq: None,
            exhausted: false,
        }
    }

    /// The `seq` to read the next (older) page before; `None` before the first page.
    pub fn oldest_seq(&self) -> Option<i64> {
        self.oldest_seq
    }

    /// Rows read so far (readable or not).
    pub fn rows_read(&self) -> usize {
        self.rows_read
    }

    /// Adds the next page (older than every row so far, newest first); `exhausted` when the
    /// store has nothing older.
    pub fn extend(&mut self, rows: &[ChangeEvent], exhausted: bool) {
        let revision = self.session.record.revision;
        self.rows_read += rows.len();
        if let Some(last) = rows.last() {
            self.oldest_seq = Some(last.seq);
        }
        self.steps.extend(
            rows.iter()
                .filter_map(Step::read)
                .filter(|s| s.record.revision <= revision),
        );
        self.exhausted |= exhausted;
    }

    /// The rows read reach back to the session's creation.
    fn complete(&self) -> bool {
        self.steps
            .last()
            .is_some_and(|s| s.event == EventType::SessionCreated)
    }

    /// True when reading older rows would add nothing to a report of `limit` transitions:
    /// the store has nothing older, the creation was read, or every axis's origin and `limit`
    /// transitions are known.
    pub fn is_enough(&self, limit: usize) -> bool {
        self.exhausted
            || self.complete()
            || (Axis::ALL.iter().all(|&a| self.origin(a).since.is_some())
                && self.transitions(limit).len() >= limit)
    }

    /// Where the current value of `axis` came from: the oldest of the newest run of rows
    /// holding it, when the row before that run (or the session's creation) was read.
    fn origin(&self, axis: Axis) -> Origin {
        let current = axis.value(&self.session.record);
        let run = self
            .steps
            .iter()
            .take_while(|s| axis.value(&s.record) == current)
            .count();
        let Some(first) = run.checked_sub(1).map(|i| &self.steps[i]) else {
            return Origin::default();
        };
        let known = run < self.steps.len() || first.event == EventType::SessionCreated;
        if !known {
            return Origin::default();
        }
        Origin {
            since: Some(first.at),
            cause: first.cause_view(),
            parsed: first.parsed_cause(),
        }
    }

    /// The newest `limit` transitions, oldest first. A row shows when the row before it was
    /// read (or it is the creation) and it changed something a person would look at.
    fn transitions(&self, limit: usize) -> Vec<Transition> {
        let mut out: Vec<Transition> = vec![];
        for (i, step) in self.steps.iter().enumerate() {
            if out.len() >= limit {
                break;
            }
            let changes = match self.steps.get(i + 1) {
                Some(before) => changes(&before.record, &step.record),
                None if step.event == EventType::SessionCreated => vec![AxisChange {
                    axis: Axis::Session.name().to_owned(),
                    from: None,
                    to: Axis::Session.value(&step.record),
                }],
                None => vec![],
            };
            if !changes.is_empty() {
                out.push(Transition {
                    seq: step.seq,
                    at: step.at,
                    event: step.event.as_str().to_owned(),
                    changes,
                    cause: step.cause_view(),
                });
            }
        }
        out.reverse();
        out
    }

    /// The report at `now`, with the newest `limit` transitions.
    pub fn report(&self, now: Timestamp, limit: usize) -> Why {
        let record = &self.session.record;
        let origins = Axis::ALL.map(|a| self.origin(a));
        let [session, _, activity, pr] = &origins;
        let evidence = text::Evidence {
            record,
            status: self.session.status,
            now,
            session,
            activity,
            pr,
        };
        Why {
            id: record.id.to_string(),
            status: self.session.status.as_str().to_owned(),
            explanation: text::explanation(&evidence),
            at: now,
            axes: Axis::ALL
                .into_iter()
                .zip(origins.clone())
                .map(|(axis, origin)| AxisEvidence {
                    axis: axis.name().to_owned(),
                    state: axis_state(axis, record),
                    reason: axis_reason(axis, record),
                    detail: text::axis_detail(axis, record, now),
                    since: origin.since,
                    changed_by: origin.cause,
                })
                .collect(),
            metadata: EVIDENCE_METADATA
                .iter()
                .filter_map(|(key, label)| {
                    record.meta(key).map(|value| MetadataEvidence {
                        key: (*key).to_owned(),
                        label: (*label).to_owned(),
                        value: value.to_owned(),
                    })
                })
                .collect(),
            transitions: self.transitions(limit),
            history_complete: self.complete(),
        }
    }
}

fn axis_state(axis: Axis, r: &SessionRecord) -> String {
    let lc = &r.lifecycle;
    match axis {
        Axis::Session => lc.session.state.as_str(),
        Axis::Runtime => lc.runtime.state.as_str(),
        Axis::Activity => lc.activity.state.map_or("", |a| a.as_str()),
        Axis::Pr => lc.pr.state.as_str(),
    }
    .to_owned()
}

fn axis_reason(axis: Axis, r: &SessionRecord) -> String {
    let lc = &r.lifecycle;
    match axis {
        Axis::Session => lc.session.reason.as_str(),
        Axis::Runtime => lc.runtime.reason.as_str(),
        Axis::Activity => "",
        Axis::Pr => lc.pr.reason.as_str(),
    }
    .to_owned()
}

#[cfg(test)]
mod tests;
