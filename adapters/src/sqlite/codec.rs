//! Conversions between domain values and SQLite columns.
//!
//! Enums are stored in their wire spelling (`as_str` / `parse`), times as integer milliseconds,
//! unsigned counters as checked `INTEGER`s, nested facts as JSON. A stored value that does not
//! decode is reported as data corruption naming the table, row and column, never guessed at.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::str::FromStr;

use rusqlite::{Row, ToSql};

use super::threads::Fail;
use ao_core::domain::{
    ActivityAxis, ChangeEvent, DetectingMemory, Launch, Lifecycle, Message, PrAxis, Project,
    ProjectId, QueuedReaction, RuntimeAxis, SessionAxis, SessionId, SessionRecord, Timestamp,
    Tracker, UnknownValue,
};

/// The columns [`session_from_row`] reads, selected `FROM sessions`: the row and, as a JSON
/// object, its metadata. One statement reads both from one snapshot.
macro_rules! session_columns {
    () => {
        "id, project_id, num, issue_id, kind, agent, revision, \
         session_state, session_reason, pr_state, pr_reason, pr_number, pr_url, \
         runtime_state, runtime_reason, activity_state, activity_last_at, activity_source, \
         detecting_attempts, detecting_started_at, detecting_evidence_hash, \
         launch_id, launch_started_at, first_signal_at, created_at, updated_at, \
         (SELECT json_group_object(key, value) FROM session_metadata \
          WHERE session_id = sessions.id)"
    };
}
pub(super) use session_columns;

pub(super) fn i64_of(value: u64, what: &str) -> Result<i64, Fail> {
    i64::try_from(value).map_err(|_| Fail::Data(format!("{what} {value} does not fit in SQLite")))
}

fn u64_of(value: i64, what: &str) -> Result<u64, Fail> {
    u64::try_from(value).map_err(|_| Fail::Data(format!("stored {what} {value} is negative")))
}

fn u32_of(value: i64, what: &str) -> Result<u32, Fail> {
    u32::try_from(value).map_err(|_| Fail::Data(format!("stored {what} {value} is out of range")))
}

fn time(millis: i64) -> Timestamp {
    Timestamp::from_millis(millis)
}

fn opt_time(millis: Option<i64>) -> Option<Timestamp> {
    millis.map(Timestamp::from_millis)
}

fn wire<T: FromStr<Err = UnknownValue>>(text: &str, column: &str) -> Result<T, Fail> {
    text.parse()
        .map_err(|e: UnknownValue| Fail::Data(format!("column {column}: {e}")))
}

fn session_id(text: &str, column: &str) -> Result<SessionId, Fail> {
    SessionId::parse(text).map_err(|e| Fail::Data(format!("column {column}: {e}")))
}

fn project_id(text: &str, column: &str) -> Result<ProjectId, Fail> {
    ProjectId::parse(text).map_err(|e| Fail::Data(format!("column {column}: {e}")))
}

pub(super) fn json<T: serde::de::DeserializeOwned>(text: &str, column: &str) -> Result<T, Fail> {
    serde_json::from_str(text).map_err(|e| Fail::Data(format!("column {column}: bad JSON: {e}")))
}

pub(super) fn to_json<T: serde::Serialize>(value: &T, what: &str) -> Result<String, Fail> {
    serde_json::to_string(value).map_err(|e| Fail::Data(format!("cannot encode {what}: {e}")))
}

/// Prefixes a decoding failure with the row it happened in.
fn in_row<T>(result: Result<T, Fail>, table: &str, key: &str) -> Result<T, Fail> {
    result.map_err(|e| match e {
        Fail::Data(msg) => Fail::Data(format!("{table} row {key}: {msg}")),
        other => other,
    })
}

/// A record selected with [`session_columns`].
pub(super) fn session_from_row(row: &Row<'_>) -> Result<SessionRecord, Fail> {
    let id: String = row.get(0)?;
    in_row(session_fields(row, &id), "sessions", &id)
}

fn session_fields(row: &Row<'_>, id: &str) -> Result<SessionRecord, Fail> {
    let detecting = match (
        row.get::<_, Option<i64>>(18)?,
        row.get::<_, Option<i64>>(19)?,
        row.get::<_, Option<String>>(20)?,
    ) {
        (Some(attempts), Some(started_at), Some(evidence_hash)) => Some(DetectingMemory {
            attempts: u32_of(attempts, "detecting_attempts")?,
            started_at: time(started_at),
            evidence_hash,
        }),
        (None, None, None) => None,
        _ => {
            return Err(Fail::Data(
                "detecting_* columns are only partly set".to_owned(),
            ));
        }
    };
    Ok(SessionRecord {
        id: session_id(id, "id")?,
        project_id: project_id(&row.get::<_, String>(1)?, "project_id")?,
        num: u64_of(row.get(2)?, "num")?,
        issue_id: match row.get::<_, Option<String>>(3)? {
            Some(text) => Some(
                ao_core::domain::IssueId::parse(&text)
                    .map_err(|e| Fail::Data(format!("column issue_id: {e}")))?,
            ),
            None => None,
        },
        kind: wire(&row.get::<_, String>(4)?, "kind")?,
        agent: row.get(5)?,
        revision: u64_of(row.get(6)?, "revision")?,
        lifecycle: Lifecycle {
            session: SessionAxis::new(
                wire(&row.get::<_, String>(7)?, "session_state")?,
                wire(&row.get::<_, String>(8)?, "session_reason")?,
            ),
            pr: PrAxis {
                state: wire(&row.get::<_, String>(9)?, "pr_state")?,
                reason: wire(&row.get::<_, String>(10)?, "pr_reason")?,
                number: row
                    .get::<_, Option<i64>>(11)?
                    .map(|n| u64_of(n, "pr_number"))
                    .transpose()?,
                url: row.get(12)?,
            },
            runtime: RuntimeAxis::new(
                wire(&row.get::<_, String>(13)?, "runtime_state")?,
                wire(&row.get::<_, String>(14)?, "runtime_reason")?,
            ),
            activity: ActivityAxis {
                state: row
                    .get::<_, Option<String>>(15)?
                    .map(|s| wire(&s, "activity_state"))
                    .transpose()?,
                last_activity_at: opt_time(row.get(16)?),
                source: wire(&row.get::<_, String>(17)?, "activity_source")?,
            },
            detecting,
        },
        launch: Launch {
            id: row.get(21)?,
            started_at: opt_time(row.get(22)?),
            first_signal_at: opt_time(row.get(23)?),
        },
        metadata: json(&row.get::<_, String>(26)?, "metadata")?,
        created_at: time(row.get(24)?),
        updated_at: time(row.get(25)?),
    })
}

/// Declares [`LifecycleColumns`] from one list of columns: its fields, [`LifecycleColumns::NAMES`]
/// and [`LifecycleColumns::values`] all follow that list, so the `INSERT` and the `UPDATE` of a
/// record name and bind the same columns in the same order.
macro_rules! lifecycle_columns {
    ($($column:ident: $ty:ty,)*) => {
        /// The lifecycle and launch columns of a record, ready to bind.
        pub(super) struct LifecycleColumns<'a> {
            $($column: $ty,)*
        }

        const LIFECYCLE_COLUMNS: usize = [$(stringify!($column)),*].len();

        impl LifecycleColumns<'_> {
            /// The column names, in the order of [`Self::values`].
            pub(super) const NAMES: [&'static str; LIFECYCLE_COLUMNS] =
                [$(stringify!($column)),*];

            /// The values to bind, in the order of [`Self::NAMES`].
            pub(super) fn values(&self) -> [&dyn ToSql; LIFECYCLE_COLUMNS] {
                [$(&self.$column),*]
            }
        }
    };
}

lifecycle_columns! {
    session_state: &'static str,
    session_reason: &'static str,
    pr_state: &'static str,
    pr_reason: &'static str,
    pr_number: Option<i64>,
    pr_url: Option<&'a str>,
    runtime_state: &'static str,
    runtime_reason: &'static str,
    activity_state: Option<&'static str>,
    activity_last_at: Option<i64>,
    activity_source: &'static str,
    detecting_attempts: Option<i64>,
    detecting_started_at: Option<i64>,
    detecting_evidence_hash: Option<&'a str>,
    launch_id: &'a str,
    launch_started_at: Option<i64>,
    first_signal_at: Option<i64>,
}

impl<'a> LifecycleColumns<'a> {
    pub(super) fn of(record: &'a SessionRecord) -> Result<Self, Fail> {
        let lc = &record.lifecycle;
        let detecting = lc.detecting.as_ref();
        Ok(LifecycleColumns {
            session_state: lc.session.state.as_str(),
            session_reason: lc.session.reason.as_str(),
            pr_state: lc.pr.state.as_str(),
            pr_reason: lc.pr.reason.as_str(),
            pr_number: lc.pr.number.map(|n| i64_of(n, "PR number")).transpose()?,
            pr_url: lc.pr.url.as_deref(),
            runtime_state: lc.runtime.state.as_str(),
            runtime_reason: lc.runtime.reason.as_str(),
            activity_state: lc.activity.state.map(|s| s.as_str()),
            activity_last_at: lc.activity.last_activity_at.map(Timestamp::as_millis),
            activity_source: lc.activity.source.as_str(),
            detecting_attempts: detecting.map(|d| i64::from(d.attempts)),
            detecting_started_at: detecting.map(|d| d.started_at.as_millis()),
            detecting_evidence_hash: detecting.map(|d| d.evidence_hash.as_str()),
            launch_id: &record.launch.id,
            launch_started_at: record.launch.started_at.map(Timestamp::as_millis),
            first_signal_at: record.launch.first_signal_at.map(Timestamp::as_millis),
        })
    }
}

/// `change_log` columns `seq, session_id, project_id, event_type, payload_json, created_at`.
pub(super) fn event_from_row(row: &Row<'_>) -> Result<ChangeEvent, Fail> {
    let seq: i64 = row.get(0)?;
    let decode = || -> Result<ChangeEvent, Fail> {
        Ok(ChangeEvent {
            seq,
            session_id: session_id(&row.get::<_, String>(1)?, "session_id")?,
            project_id: project_id(&row.get::<_, String>(2)?, "project_id")?,
            event_type: wire(&row.get::<_, String>(3)?, "event_type")?,
            payload: json(&row.get::<_, String>(4)?, "payload_json")?,
            created_at: time(row.get(5)?),
        })
    };
    in_row(decode(), "change_log", &seq.to_string())
}

/// `reaction_queue` columns `seq, session_id, kind, reaction_key, trigger_revision,
/// project_id, enqueued_at`.
pub(super) fn reaction_from_row(row: &Row<'_>) -> Result<QueuedReaction, Fail> {
    let seq: i64 = row.get(0)?;
    let decode = || -> Result<QueuedReaction, Fail> {
        Ok(QueuedReaction {
            seq,
            session_id: session_id(&row.get::<_, String>(1)?, "session_id")?,
            kind: wire(&row.get::<_, String>(2)?, "kind")?,
            key: wire(&row.get::<_, String>(3)?, "reaction_key")?,
            trigger_revision: row
                .get::<_, Option<i64>>(4)?
                .map(|r| u64_of(r, "trigger_revision"))
                .transpose()?,
            project_id: project_id(&row.get::<_, String>(5)?, "project_id")?,
            enqueued_at: time(row.get(6)?),
        })
    };
    in_row(decode(), "reaction_queue", &seq.to_string())
}

/// `reaction_trackers` columns `session_id, reaction_key, attempts, first_attempt_at,
/// escalated, last_signature, project_id`.
pub(super) fn tracker_from_row(row: &Row<'_>) -> Result<Tracker, Fail> {
    let session: String = row.get(0)?;
    let key: String = row.get(1)?;
    let decode = || -> Result<Tracker, Fail> {
        Ok(Tracker {
            session_id: session_id(&session, "session_id")?,
            key: wire(&key, "reaction_key")?,
            attempts: u32_of(row.get(2)?, "attempts")?,
            first_attempt_at: opt_time(row.get(3)?),
            escalated: row.get(4)?,
            last_signature: row.get(5)?,
            project_id: project_id(&row.get::<_, String>(6)?, "project_id")?,
        })
    };
    in_row(decode(), "reaction_trackers", &format!("{session}/{key}"))
}

/// `messages` columns `id, session_id, mode, body, state, reason, attempts,
/// tracker_before_json, created_at, updated_at, force`.
pub(super) fn message_from_row(row: &Row<'_>) -> Result<Message, Fail> {
    let id: i64 = row.get(0)?;
    let decode = || -> Result<Message, Fail> {
        Ok(Message {
            id,
            session_id: session_id(&row.get::<_, String>(1)?, "session_id")?,
            mode: wire(&row.get::<_, String>(2)?, "mode")?,
            body: row.get(3)?,
            state: wire(&row.get::<_, String>(4)?, "state")?,
            reason: row.get(5)?,
            attempts: u32_of(row.get(6)?, "attempts")?,
            rollback: row
                .get::<_, Option<String>>(7)?
                .map(|text| json(&text, "tracker_before_json"))
                .transpose()?,
            force: row.get(10)?,
            created_at: time(row.get(8)?),
            updated_at: time(row.get(9)?),
        })
    };
    in_row(decode(), "messages", &id.to_string())
}

/// `projects` columns `id, repo_path, default_agent, base_branch, settings_json, created_at`.
pub(super) fn project_from_row(row: &Row<'_>) -> Result<Project, Fail> {
    let id: String = row.get(0)?;
    let decode = || -> Result<Project, Fail> {
        Ok(Project {
            id: project_id(&id, "id")?,
            repo_path: PathBuf::from(OsStr::from_bytes(&row.get::<_, Vec<u8>>(1)?)),
            default_agent: row.get(2)?,
            base_branch: row.get(3)?,
            settings: json(&row.get::<_, String>(4)?, "settings_json")?,
            created_at: time(row.get(5)?),
        })
    };
    in_row(decode(), "projects", &id)
}

/// The bytes a path is stored as (paths need not be UTF-8).
pub(super) fn path_bytes(path: &std::path::Path) -> &[u8] {
    path.as_os_str().as_bytes()
}
