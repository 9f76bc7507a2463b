//! The writes. Each runs on the write connection inside a `BEGIN IMMEDIATE` transaction and its
//! own savepoint, both opened by the caller (`threads`, which commits a batch of writes at
//! once): it holds the database's write lock (across processes) from its first read to the
//! commit, sees the writes before it in its batch, and an error anywhere rolls back all of it
//! and nothing else (the savepoint is rolled back).

use std::sync::LazyLock;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params, params_from_iter};
use serde::Serialize;

use super::codec::{LifecycleColumns, i64_of, json, path_bytes, to_json, tracker_from_row};
use super::read::{self, TRACKER_COLUMNS};
use super::threads::Fail;
use ao::ports::{Created, NewSession, RecordWrite, StoreError};
use ao_core::domain::{
    Cause, EventType, LIFECYCLE_VERSION, Message, MessageState, Metadata, NewMessage, Project,
    ProjectId, QueuedReaction, ReactionKey, ScmFacts, SessionId, SessionRecord, Timestamp, Tracker,
    TrackerRollback,
};

pub(super) fn seed(tx: &Connection, record: &SessionRecord) -> Result<(), Fail> {
    if session_exists(tx, record.id.as_str())? {
        return Err(StoreError::AlreadyExists(record.id.clone()).into());
    }
    insert_session(tx, record, None)?;
    // The counter holds the next number to allocate; it only ever moves forward.
    tx.prepare_cached(
        "INSERT INTO project_counters (project_id, next_num) VALUES (?1, ?2) \
         ON CONFLICT (project_id) DO UPDATE SET next_num = max(next_num, excluded.next_num)",
    )?
    .execute(params![
        record.project_id.as_str(),
        i64_of(record.num.saturating_add(1), "session number")?
    ])?;
    log(
        tx,
        record,
        EventType::SessionCreated,
        record.updated_at,
        None,
    )?;
    Ok(())
}

pub(super) fn create(tx: &Connection, new: NewSession) -> Result<Created, Fail> {
    if let Some(request) = &new.spawn_request_id {
        let known: Option<String> = tx
            .prepare_cached("SELECT id FROM sessions WHERE spawn_request_id = ?1")?
            .query_row([request], |row| row.get(0))
            .optional()?;
        if let Some(id) = known {
            let record = read::record(tx, &id)?.ok_or_else(|| {
                Fail::Data(format!(
                    "spawn request {request} names missing session {id}"
                ))
            })?;
            return Ok(Created {
                record,
                existing: true,
            });
        }
    }
    let request = new.spawn_request_id.clone();
    let cause = new.cause.clone();
    let num = allocate(tx, &new.project_id)?;
    let record = new.into_record(num);
    insert_session(tx, &record, request.as_deref())?;
    log(
        tx,
        &record,
        EventType::SessionCreated,
        record.created_at,
        cause.as_ref(),
    )?;
    Ok(Created {
        record,
        existing: false,
    })
}

/// Takes the project's next number, skipping numbers a seeded record already uses. Runs inside
/// the inserting transaction, so two processes never get the same number and a number is
/// never handed out twice (a rolled-back insert rolls the counter back with it).
fn allocate(tx: &Connection, project: &ProjectId) -> Result<u64, Fail> {
    loop {
        let num: i64 = tx
            .prepare_cached(
                "INSERT INTO project_counters (project_id, next_num) VALUES (?1, 2) \
                 ON CONFLICT (project_id) DO UPDATE SET next_num = next_num + 1 \
                 RETURNING next_num - 1",
            )?
            .query_row([project.as_str()], |row| row.get(0))?;
        let num = u64::try_from(num)
            .map_err(|_| Fail::Data(format!("project_counters row {project}: negative {num}")))?;
        let taken: bool = tx
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM sessions \
                 WHERE id = ?1 OR (project_id = ?2 AND num = ?3))",
            )?
            .query_row(
                params![
                    SessionId::allocated(project, num).as_str(),
                    project.as_str(),
                    i64_of(num, "session number")?
                ],
                |row| row.get(0),
            )?;
        if !taken {
            return Ok(num);
        }
    }
}

fn session_exists(tx: &Connection, id: &str) -> Result<bool, Fail> {
    Ok(tx
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM sessions WHERE id = ?1)")?
        .query_row([id], |row| row.get(0))?)
}

/// The columns a record's `INSERT` binds before its lifecycle columns, in binding order.
const INSERTED_FIRST: [&str; 10] = [
    "id",
    "project_id",
    "num",
    "issue_id",
    "kind",
    "agent",
    "revision",
    "spawn_request_id",
    "created_at",
    "updated_at",
];

/// A record's `INSERT`: [`INSERTED_FIRST`], then [`LifecycleColumns::NAMES`].
static INSERT_SESSION: LazyLock<String> = LazyLock::new(|| {
    let columns: Vec<&str> = INSERTED_FIRST
        .into_iter()
        .chain(LifecycleColumns::NAMES)
        .collect();
    let values = vec!["?"; columns.len()].join(", ");
    format!(
        "INSERT INTO sessions ({}) VALUES ({values})",
        columns.join(", ")
    )
});

/// The compare-and-swap `UPDATE` of a record: [`LifecycleColumns::NAMES`], `updated_at`, then
/// the id and the expected revision.
static UPDATE_SESSION: LazyLock<String> = LazyLock::new(|| {
    let set: Vec<String> = LifecycleColumns::NAMES
        .iter()
        .map(|name| format!("{name} = ?"))
        .collect();
    format!(
        "UPDATE sessions SET {}, updated_at = ?, revision = revision + 1 \
         WHERE id = ? AND revision = ? RETURNING revision",
        set.join(", ")
    )
});

fn insert_session(
    tx: &Connection,
    r: &SessionRecord,
    spawn_request_id: Option<&str>,
) -> Result<(), Fail> {
    let c = LifecycleColumns::of(r)?;
    let first = params![
        r.id.as_str(),
        r.project_id.as_str(),
        i64_of(r.num, "session number")?,
        r.issue_id.as_ref().map(|i| i.as_str()),
        r.kind.as_str(),
        r.agent,
        i64_of(r.revision, "revision")?,
        spawn_request_id,
        r.created_at.as_millis(),
        r.updated_at.as_millis(),
    ];
    tx.prepare_cached(&INSERT_SESSION)?
        .execute(params_from_iter(first.iter().chain(&c.values())))?;
    write_metadata(tx, r.id.as_str(), &Metadata::new(), &r.metadata)
}

/// The revision compare-and-swap: a write lands only on the revision it loaded. The check is
/// the `UPDATE`'s own `WHERE` clause, so it holds whoever else writes the file; the row read
/// before it only supplies the base the patch is applied to (and tells `NotFound` from
/// `Conflict`).
pub(super) fn commit(tx: &Connection, write: RecordWrite) -> Result<SessionRecord, Fail> {
    let Some(current) = read::record(tx, write.id.as_str())? else {
        return Err(StoreError::NotFound(write.id).into());
    };
    let mut next = write.patch.applied(&current);
    next.updated_at = write.updated_at;
    let c = LifecycleColumns::of(&next)?;
    let last = params![
        write.updated_at.as_millis(),
        write.id.as_str(),
        i64_of(write.expected_revision, "expected revision")?,
    ];
    let revision: Option<i64> = tx
        .prepare_cached(&UPDATE_SESSION)?
        .query_row(params_from_iter(c.values().iter().chain(last)), |row| {
            row.get(0)
        })
        .optional()?;
    let Some(revision) = revision else {
        // The error rolls this write's savepoint back; nothing of it remains.
        return Err(StoreError::Conflict {
            id: write.id,
            expected: write.expected_revision,
        }
        .into());
    };
    next.revision = u64::try_from(revision)
        .map_err(|_| Fail::Data(format!("sessions row {}: negative revision", write.id)))?;
    write_metadata(tx, next.id.as_str(), &current.metadata, &next.metadata)?;
    log(
        tx,
        &next,
        write.event,
        write.updated_at,
        write.cause.as_ref(),
    )?;
    delete_trackers(tx, next.id.as_str(), &write.end_incidents)?;
    if let Some(key) = write.enqueue {
        queue_reaction(tx, &QueuedReaction::reaction(&next, key, write.updated_at))?;
    }
    Ok(next)
}

/// Writes only the keys that differ between `before` and `after`.
fn write_metadata(
    tx: &Connection,
    id: &str,
    before: &Metadata,
    after: &Metadata,
) -> Result<(), Fail> {
    for (key, value) in after {
        if before.get(key) != Some(value) {
            tx.prepare_cached(
                "INSERT INTO session_metadata (session_id, key, value) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (session_id, key) DO UPDATE SET value = excluded.value",
            )?
            .execute(params![id, key, value])?;
        }
    }
    for key in before.keys().filter(|k| !after.contains_key(*k)) {
        tx.prepare_cached("DELETE FROM session_metadata WHERE session_id = ?1 AND key = ?2")?
            .execute(params![id, key])?;
    }
    Ok(())
}

/// The `change_log` payload: the lifecycle shape version, the record after the write and
/// what caused it.
#[derive(Serialize)]
struct Payload<'a> {
    version: u32,
    record: &'a SessionRecord,
    #[serde(skip_serializing_if = "Option::is_none")]
    cause: Option<&'a Cause>,
}

fn log(
    tx: &Connection,
    record: &SessionRecord,
    event: EventType,
    at: Timestamp,
    cause: Option<&Cause>,
) -> Result<(), Fail> {
    let payload = to_json(
        &Payload {
            version: LIFECYCLE_VERSION,
            record,
            cause,
        },
        "the change_log payload",
    )?;
    tx.prepare_cached(
        "INSERT INTO change_log (session_id, project_id, event_type, payload_json, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        record.id.as_str(),
        record.project_id.as_str(),
        event.as_str(),
        payload,
        at.as_millis()
    ])?;
    Ok(())
}

fn delete_trackers(tx: &Connection, session: &str, keys: &[ReactionKey]) -> Result<(), Fail> {
    for key in keys {
        tx.prepare_cached(
            "DELETE FROM reaction_trackers WHERE session_id = ?1 AND reaction_key = ?2",
        )?
        .execute([session, key.as_str()])?;
    }
    Ok(())
}

fn queue_reaction(tx: &Connection, row: &QueuedReaction) -> Result<(), Fail> {
    tx.prepare_cached(
        "INSERT INTO reaction_queue (session_id, kind, reaction_key, trigger_revision, \
         project_id, enqueued_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        row.session_id.as_str(),
        row.kind.as_str(),
        row.key.as_str(),
        row.trigger_revision
            .map(|r| i64_of(r, "trigger revision"))
            .transpose()?,
        row.project_id.as_str(),
        row.enqueued_at.as_millis(),
    ])?;
    Ok(())
}

pub(super) fn delete_reaction(tx: &Connection, seq: i64) -> Result<(), Fail> {
    tx.prepare_cached("DELETE FROM reaction_queue WHERE seq = ?1")?
        .execute([seq])?;
    Ok(())
}

fn put_tracker(tx: &Connection, t: &Tracker) -> Result<(), Fail> {
    tx.prepare_cached(
        "INSERT OR REPLACE INTO reaction_trackers (session_id, reaction_key, attempts, \
         first_attempt_at, escalated, last_signature, project_id) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        t.session_id.as_str(),
        t.key.as_str(),
        t.attempts,
        t.first_attempt_at.map(Timestamp::as_millis),
        t.escalated,
        t.last_signature,
        t.project_id.as_str(),
    ])?;
    Ok(())
}

pub(super) fn save_tracker(tx: &Connection, tracker: &Tracker) -> Result<(), Fail> {
    put_tracker(tx, tracker)?;
    Ok(())
}

pub(super) fn forget(tx: &Connection, id: &SessionId, expected: u64) -> Result<(), Fail> {
    let revision: Option<i64> = tx
        .prepare_cached("SELECT revision FROM sessions WHERE id = ?1")?
        .query_row([id.as_str()], |row| row.get(0))
        .optional()?;
    let Some(revision) = revision else {
        return Err(StoreError::NotFound(id.clone()).into());
    };
    if revision != i64_of(expected, "expected revision")? {
        return Err(StoreError::Conflict {
            id: id.clone(),
            expected,
        }
        .into());
    }
    // The change log keeps its rows; the project counter keeps its number.
    for table in [
        "reaction_queue",
        "reaction_trackers",
        "scm_snapshots",
        "messages",
        "session_metadata",
    ] {
        tx.execute(
            &format!("DELETE FROM {table} WHERE session_id = ?1"),
            [id.as_str()],
        )?;
    }
    tx.execute("DELETE FROM sessions WHERE id = ?1", [id.as_str()])?;
    Ok(())
}

pub(super) fn commit_nudge(
    tx: &Connection,
    tracker: &Tracker,
    nudge: NewMessage,
    now: Timestamp,
) -> Result<Message, Fail> {
    put_tracker(tx, tracker)?;
    let message = insert_message(tx, nudge, now)?;
    Ok(message)
}

pub(super) fn escalate_due(
    tx: &Connection,
    now: Timestamp,
    budgets: &[(ReactionKey, Duration)],
) -> Result<Vec<Tracker>, Fail> {
    let mut due = vec![];
    {
        let mut stmt = tx.prepare_cached(&format!(
            "SELECT {TRACKER_COLUMNS} FROM reaction_trackers \
             WHERE escalated = 0 AND first_attempt_at IS NOT NULL"
        ))?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let tracker = tracker_from_row(row)?;
            let Some(&(_, budget)) = budgets.iter().find(|(k, _)| *k == tracker.key) else {
                continue;
            };
            let expired = tracker
                .first_attempt_at
                .is_some_and(|first| now.at_least_after(first, budget));
            if !budget.is_zero() && expired {
                due.push(tracker);
            }
        }
    }
    due.sort_by(|a, b| (&a.session_id, a.key).cmp(&(&b.session_id, b.key)));
    for tracker in &mut due {
        tracker.escalated = true;
        tx.prepare_cached(
            "UPDATE reaction_trackers SET escalated = 1 WHERE session_id = ?1 AND reaction_key = ?2",
        )?
        .execute([tracker.session_id.as_str(), tracker.key.as_str()])?;
        queue_reaction(tx, &QueuedReaction::escalation(tracker, now))?;
    }
    Ok(due)
}

fn insert_message(tx: &Connection, new: NewMessage, now: Timestamp) -> Result<Message, Fail> {
    let rollback_json = new
        .rollback
        .as_ref()
        .map(|r| to_json(r, "a tracker rollback"))
        .transpose()?;
    let id: i64 = tx
        .prepare_cached(
            "INSERT INTO messages (session_id, mode, body, state, reason, attempts, \
             reaction_key, tracker_before_json, created_at, updated_at, force) \
             VALUES (?1, ?2, ?3, ?4, NULL, 0, ?5, ?6, ?7, ?7, ?8) RETURNING id",
        )?
        .query_row(
            params![
                new.session_id.as_str(),
                new.mode.as_str(),
                new.body,
                MessageState::Queued.as_str(),
                new.rollback.as_ref().map(|r| r.key.as_str()),
                rollback_json,
                now.as_millis(),
                new.force,
            ],
            |row| row.get(0),
        )?;
    Ok(Message::queued(id, new, now))
}

pub(super) fn enqueue_message(
    tx: &Connection,
    new: NewMessage,
    now: Timestamp,
) -> Result<Message, Fail> {
    let message = insert_message(tx, new, now)?;
    Ok(message)
}

fn missing_message(id: i64) -> Fail {
    Fail::Data(format!("message {id} not found"))
}

pub(super) fn mark_injected(
    tx: &Connection,
    id: i64,
    now: Timestamp,
    end_incidents: &[ReactionKey],
) -> Result<(), Fail> {
    let session: Option<String> = tx
        .prepare_cached(
            "UPDATE messages SET state = ?2, attempts = attempts + 1, updated_at = ?3 \
             WHERE id = ?1 RETURNING session_id",
        )?
        .query_row(
            params![id, MessageState::Injected.as_str(), now.as_millis()],
            |row| row.get(0),
        )
        .optional()?;
    let session = session.ok_or_else(|| missing_message(id))?;
    delete_trackers(tx, &session, end_incidents)?;
    Ok(())
}

pub(super) fn mark_acknowledged(tx: &Connection, id: i64, now: Timestamp) -> Result<(), Fail> {
    let changed = tx
        .prepare_cached("UPDATE messages SET state = ?2, updated_at = ?3 WHERE id = ?1")?
        .execute(params![
            id,
            MessageState::Acknowledged.as_str(),
            now.as_millis()
        ])?;
    if changed == 0 {
        return Err(missing_message(id));
    }
    Ok(())
}

/// Marks the message refused and gives a nudge's attempt back to its tracker, if the tracker still
/// exists, in one transaction: a nudge that never reached the pane does not count.
pub(super) fn refuse_message(
    tx: &Connection,
    id: i64,
    reason: &str,
    now: Timestamp,
) -> Result<(), Fail> {
    let row: Option<(String, Option<String>)> = tx
        .prepare_cached(
            "UPDATE messages SET state = ?2, reason = ?3, updated_at = ?4 WHERE id = ?1 \
             RETURNING session_id, tracker_before_json",
        )?
        .query_row(
            params![id, MessageState::Refused.as_str(), reason, now.as_millis()],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    let (session, rollback) = row.ok_or_else(|| missing_message(id))?;
    if let Some(text) = rollback {
        let rollback: TrackerRollback = json(&text, "messages.tracker_before_json")?;
        if let Some(mut tracker) = read::tracker(tx, &session, rollback.key)? {
            tracker.attempts = tracker.attempts.saturating_sub(1);
            if rollback.set_first_attempt {
                tracker.first_attempt_at = None;
            }
            if tracker.last_signature.as_deref() == Some(rollback.signature.as_str()) {
                tracker.last_signature = rollback.previous_signature;
            }
            put_tracker(tx, &tracker)?;
        }
    }
    Ok(())
}

pub(super) fn put_scm_snapshot(
    tx: &Connection,
    session: &SessionId,
    facts: &ScmFacts,
) -> Result<(), Fail> {
    let facts_json = to_json(facts, "SCM facts")?;
    tx.prepare_cached(
        "INSERT OR REPLACE INTO scm_snapshots (session_id, observed_at, facts_json) \
         VALUES (?1, ?2, ?3)",
    )?
    .execute(params![
        session.as_str(),
        facts.observed_at.as_millis(),
        facts_json
    ])?;
    Ok(())
}

/// Deletes change-log rows older than `before` and raises the pruned high-water mark that
/// `events_after` reports as `truncated`.
pub(super) fn prune_events(tx: &Connection, before: Timestamp) -> Result<u64, Fail> {
    let (count, max_seq): (i64, Option<i64>) = tx
        .prepare_cached("SELECT count(*), max(seq) FROM change_log WHERE created_at < ?1")?
        .query_row([before.as_millis()], |row| Ok((row.get(0)?, row.get(1)?)))?;
    if let Some(max_seq) = max_seq {
        tx.prepare_cached("DELETE FROM change_log WHERE created_at < ?1")?
            .execute([before.as_millis()])?;
        tx.prepare_cached(
            "UPDATE meta SET value = max(value, ?1) WHERE key = 'change_log_pruned_through'",
        )?
        .execute([max_seq])?;
    }
    Ok(u64::try_from(count).unwrap_or(0))
}

pub(super) fn add_project(tx: &Connection, project: &Project) -> Result<(), Fail> {
    if read::project(tx, project.id.as_str())?.is_some() {
        return Err(StoreError::ProjectExists(project.id.clone()).into());
    }
    let settings = to_json(&project.settings, "project settings")?;
    tx.prepare_cached(
        "INSERT INTO projects (id, repo_path, default_agent, base_branch, settings_json, \
         created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        project.id.as_str(),
        path_bytes(&project.repo_path),
        project.default_agent,
        project.base_branch,
        settings,
        project.created_at.as_millis(),
    ])?;
    Ok(())
}

pub(super) fn remove_project(tx: &Connection, id: &ProjectId) -> Result<bool, Fail> {
    let changed = tx
        .prepare_cached("DELETE FROM projects WHERE id = ?1")?
        .execute([id.as_str()])?;
    Ok(changed > 0)
}
