//! Read queries. They run on a reader connection (and a few on the writer, inside its
//! transaction), each one statement or one read transaction, so what they return is a
//! consistent snapshot: a record and its metadata come from one statement.

use rusqlite::{Connection, OptionalExtension, ToSql, params};

use super::codec::{
    event_from_row, json, message_from_row, project_from_row, reaction_from_row, session_columns,
    session_from_row, tracker_from_row,
};
use super::threads::Fail;
use ao_core::domain::{
    ChangeEvent, Message, MessageState, Project, QueuedReaction, ReactionKey, ReactionRowKind,
    ScmFacts, SessionId, SessionRecord, SessionState, Tracker,
};

/// The states `list_running` leaves out; checked against `SessionState::is_terminal` in tests.
pub(super) const TERMINAL_STATES: [SessionState; 2] =
    [SessionState::Done, SessionState::Terminated];

/// The record with id `id`, metadata included.
pub(super) fn record(conn: &Connection, id: &str) -> Result<Option<SessionRecord>, Fail> {
    let mut stmt = conn.prepare_cached(concat!(
        "SELECT ",
        session_columns!(),
        " FROM sessions WHERE id = ?1"
    ))?;
    let mut rows = stmt.query([id])?;
    rows.next()?.map(session_from_row).transpose()
}

/// The records `sql` selects (with [`session_columns`]).
fn records(
    conn: &Connection,
    sql: &str,
    params: &[&dyn ToSql],
) -> Result<Vec<SessionRecord>, Fail> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(params)?;
    let mut out = vec![];
    while let Some(row) = rows.next()? {
        out.push(session_from_row(row)?);
    }
    Ok(out)
}

pub(super) fn list(conn: &Connection, project: Option<&str>) -> Result<Vec<SessionRecord>, Fail> {
    records(
        conn,
        concat!(
            "SELECT ",
            session_columns!(),
            " FROM sessions WHERE ?1 IS NULL OR project_id = ?1 ORDER BY project_id, num"
        ),
        &[&project],
    )
}

pub(super) fn list_running(conn: &Connection) -> Result<Vec<SessionRecord>, Fail> {
    let [a, b] = TERMINAL_STATES.map(SessionState::as_str);
    records(
        conn,
        concat!(
            "SELECT ",
            session_columns!(),
            " FROM sessions WHERE session_state NOT IN (?1, ?2) ORDER BY id"
        ),
        &[&a, &b],
    )
}

const REACTION_COLUMNS: &str =
    "seq, session_id, kind, reaction_key, trigger_revision, project_id, enqueued_at";

pub(super) fn next_reaction(
    conn: &Connection,
    session: &str,
) -> Result<Option<QueuedReaction>, Fail> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {REACTION_COLUMNS} FROM reaction_queue WHERE session_id = ?1 ORDER BY seq LIMIT 1"
    ))?;
    let mut rows = stmt.query([session])?;
    rows.next()?.map(reaction_from_row).transpose()
}

pub(super) fn has_later_reaction(
    conn: &Connection,
    session: &str,
    seq: i64,
    key: ReactionKey,
) -> Result<bool, Fail> {
    let mut stmt = conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM reaction_queue WHERE session_id = ?1 AND seq > ?2 \
         AND kind = ?3 AND reaction_key = ?4)",
    )?;
    Ok(stmt.query_row(
        params![
            session,
            seq,
            ReactionRowKind::Reaction.as_str(),
            key.as_str()
        ],
        |row| row.get(0),
    )?)
}

fn session_ids(
    conn: &Connection,
    sql: &str,
    params: &[&dyn ToSql],
) -> Result<Vec<SessionId>, Fail> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(params)?;
    let mut out = vec![];
    while let Some(row) = rows.next()? {
        let text: String = row.get(0)?;
        let id = SessionId::parse(&text).map_err(|e| Fail::Data(format!("session_id: {e}")))?;
        out.push(id);
    }
    Ok(out)
}

pub(super) fn sessions_with_reactions(conn: &Connection) -> Result<Vec<SessionId>, Fail> {
    session_ids(
        conn,
        "SELECT DISTINCT session_id FROM reaction_queue ORDER BY session_id",
        &[],
    )
}

pub(super) const TRACKER_COLUMNS: &str =
    "session_id, reaction_key, attempts, first_attempt_at, escalated, last_signature, project_id";

pub(super) fn tracker(
    conn: &Connection,
    session: &str,
    key: ReactionKey,
) -> Result<Option<Tracker>, Fail> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {TRACKER_COLUMNS} FROM reaction_trackers WHERE session_id = ?1 AND reaction_key = ?2"
    ))?;
    let mut rows = stmt.query([session, key.as_str()])?;
    rows.next()?.map(tracker_from_row).transpose()
}

/// A session's trackers in key order (the declaration order of `ReactionKey`, as every
/// backend returns them).
pub(super) fn trackers(conn: &Connection, session: &str) -> Result<Vec<Tracker>, Fail> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {TRACKER_COLUMNS} FROM reaction_trackers WHERE session_id = ?1"
    ))?;
    let mut rows = stmt.query([session])?;
    let mut out = vec![];
    while let Some(row) = rows.next()? {
        out.push(tracker_from_row(row)?);
    }
    out.sort_by_key(|t| t.key);
    Ok(out)
}

const MESSAGE_COLUMNS: &str = "id, session_id, mode, body, state, reason, attempts, \
     tracker_before_json, created_at, updated_at, force";

pub(super) fn message(conn: &Connection, id: i64) -> Result<Option<Message>, Fail> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?1"
    ))?;
    let mut rows = stmt.query([id])?;
    rows.next()?.map(message_from_row).transpose()
}

/// The oldest message of a session in `state`.
pub(super) fn oldest_message(
    conn: &Connection,
    session: &str,
    state: MessageState,
) -> Result<Option<Message>, Fail> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages WHERE session_id = ?1 AND state = ?2 \
         ORDER BY id LIMIT 1"
    ))?;
    let mut rows = stmt.query([session, state.as_str()])?;
    rows.next()?.map(message_from_row).transpose()
}

pub(super) fn sessions_with_queued_messages(conn: &Connection) -> Result<Vec<SessionId>, Fail> {
    session_ids(
        conn,
        "SELECT DISTINCT session_id FROM messages WHERE state = ?1 ORDER BY session_id",
        &[&MessageState::Queued.as_str()],
    )
}

pub(super) fn scm_snapshot(conn: &Connection, session: &str) -> Result<Option<ScmFacts>, Fail> {
    let mut stmt =
        conn.prepare_cached("SELECT facts_json FROM scm_snapshots WHERE session_id = ?1")?;
    let text: Option<String> = stmt.query_row([session], |row| row.get(0)).optional()?;
    text.map(|t| json(&t, "scm_snapshots.facts_json"))
        .transpose()
}

/// Rows with `seq > after` (of one session), at most `limit`, and the highest pruned seq, read
/// in one transaction.
pub(super) fn events(
    conn: &mut Connection,
    after: i64,
    limit: usize,
    session: Option<&str>,
) -> Result<(Vec<ChangeEvent>, i64), Fail> {
    let tx = conn.transaction()?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut out = vec![];
    {
        // Two statements rather than `?3 IS NULL OR …` so each uses its index.
        let mut stmt = match session {
            None => tx.prepare_cached(
                "SELECT seq, session_id, project_id, event_type, payload_json, created_at \
                 FROM change_log WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            )?,
            Some(_) => tx.prepare_cached(
                "SELECT seq, session_id, project_id, event_type, payload_json, created_at \
                 FROM change_log WHERE session_id = ?3 AND seq > ?1 ORDER BY seq LIMIT ?2",
            )?,
        };
        let mut rows = match session {
            None => stmt.query(params![after, limit])?,
            Some(s) => stmt.query(params![after, limit, s])?,
        };
        while let Some(row) = rows.next()? {
            out.push(event_from_row(row)?);
        }
    }
    let pruned = pruned_through(&tx)?;
    Ok((out, pruned))
}

/// One session's rows with `seq < before`, newest first, at most `limit` (the
/// `change_log_by_session` index walked backwards).
pub(super) fn session_events(
    conn: &Connection,
    session: &str,
    before: i64,
    limit: usize,
) -> Result<Vec<ChangeEvent>, Fail> {
    let mut stmt = conn.prepare_cached(SESSION_EVENTS)?;
    let mut rows = stmt.query(params![
        session,
        before,
        i64::try_from(limit).unwrap_or(i64::MAX)
    ])?;
    let mut out = vec![];
    while let Some(row) = rows.next()? {
        out.push(event_from_row(row)?);
    }
    Ok(out)
}

/// The statement of [`session_events`].
pub(super) const SESSION_EVENTS: &str = "SELECT seq, session_id, project_id, event_type, payload_json, created_at \
     FROM change_log WHERE session_id = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3";

/// The highest `change_log` seq removed by pruning (0 when none was).
pub(super) fn pruned_through(conn: &Connection) -> Result<i64, Fail> {
    let mut stmt =
        conn.prepare_cached("SELECT value FROM meta WHERE key = 'change_log_pruned_through'")?;
    Ok(stmt
        .query_row([], |row| row.get::<_, i64>(0))
        .optional()?
        .unwrap_or(0))
}

const PROJECT_COLUMNS: &str =
    "id, repo_path, default_agent, base_branch, settings_json, created_at";

pub(super) fn project(conn: &Connection, id: &str) -> Result<Option<Project>, Fail> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {PROJECT_COLUMNS} FROM projects WHERE id = ?1"
    ))?;
    let mut rows = stmt.query([id])?;
    rows.next()?.map(project_from_row).transpose()
}

pub(super) fn projects(conn: &Connection) -> Result<Vec<Project>, Fail> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {PROJECT_COLUMNS} FROM projects ORDER BY id"
    ))?;
    let mut rows = stmt.query([])?;
    let mut out = vec![];
    while let Some(row) = rows.next()? {
        out.push(project_from_row(row)?);
    }
    Ok(out)
}
