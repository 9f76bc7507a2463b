//! Opening the database file: the read-only safety probe, connection settings and the embedded,
//! numbered migrations.
//!
//! An existing file is first examined through a read-only connection, so a corrupt or foreign
//! file, or one written by a newer `ao`, is refused before anything could write to it: the
//! error names the path and the file is left exactly as it was, never replaced.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use super::threads::backend;
use ao::ports::StoreError;

/// How long a connection waits for another connection's lock before `SQLITE_BUSY`.
pub(super) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Settings of the write connection, in the order they are applied. `synchronous=FULL`: see
/// the module documentation of `adapters::sqlite` for why not `NORMAL`.
pub const PRAGMAS: &[(&str, &str)] = &[
    ("busy_timeout", "5000"),
    ("journal_mode", "WAL"),
    ("synchronous", "FULL"),
    ("foreign_keys", "ON"),
];

/// Prepared statements kept per connection: more than the distinct statements a connection
/// runs, so none is ever evicted and prepared again.
const STATEMENT_CACHE: usize = 64;

/// The table recording which migrations were applied.
const VERSION_TABLE: &str = "schema_version";

/// Migration `i` brings the schema from version `i` to `i + 1`. Append only; never edit one
/// that has shipped.
const MIGRATIONS: &[&str] = &[V1, V2];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// `send --force`: the message sets a draft in the input line aside at once.
const V2: &str = "ALTER TABLE messages ADD COLUMN force INTEGER NOT NULL DEFAULT 0;";

const V1: &str = r#"
CREATE TABLE projects (
    id            TEXT PRIMARY KEY,
    repo_path     BLOB NOT NULL,
    default_agent TEXT,
    base_branch   TEXT,
    settings_json TEXT NOT NULL,
    created_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE sessions (
    id                      TEXT PRIMARY KEY,
    project_id              TEXT NOT NULL,
    num                     INTEGER NOT NULL,
    issue_id                TEXT,
    kind                    TEXT NOT NULL,
    agent                   TEXT NOT NULL,
    revision                INTEGER NOT NULL,
    session_state           TEXT NOT NULL,
    session_reason          TEXT NOT NULL,
    pr_state                TEXT NOT NULL,
    pr_reason               TEXT NOT NULL,
    pr_number               INTEGER,
    pr_url                  TEXT,
    runtime_state           TEXT NOT NULL,
    runtime_reason          TEXT NOT NULL,
    activity_state          TEXT,
    activity_last_at        INTEGER,
    activity_source         TEXT NOT NULL,
    detecting_attempts      INTEGER,
    detecting_started_at    INTEGER,
    detecting_evidence_hash TEXT,
    launch_id               TEXT NOT NULL,
    launch_started_at       INTEGER,
    first_signal_at         INTEGER,
    spawn_request_id        TEXT UNIQUE,
    created_at              INTEGER NOT NULL,
    updated_at              INTEGER NOT NULL,
    UNIQUE (project_id, num)
) STRICT;

CREATE INDEX sessions_by_state ON sessions (session_state);

CREATE TABLE session_metadata (
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    PRIMARY KEY (session_id, key)
) STRICT, WITHOUT ROWID;

CREATE TABLE project_counters (
    project_id TEXT PRIMARY KEY,
    next_num   INTEGER NOT NULL
) STRICT;

CREATE TABLE change_log (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id   TEXT NOT NULL,
    project_id   TEXT NOT NULL,
    event_type   TEXT NOT NULL,
    payload_json TEXT NOT NULL,
    created_at   INTEGER NOT NULL
) STRICT;

CREATE INDEX change_log_by_session ON change_log (session_id, seq);
CREATE INDEX change_log_by_time ON change_log (created_at);

CREATE TABLE reaction_queue (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id       TEXT NOT NULL,
    kind             TEXT NOT NULL,
    reaction_key     TEXT NOT NULL,
    trigger_revision INTEGER,
    project_id       TEXT NOT NULL,
    enqueued_at      INTEGER NOT NULL
) STRICT;

CREATE INDEX reaction_queue_by_session ON reaction_queue (session_id, seq);

CREATE TABLE reaction_trackers (
    session_id       TEXT NOT NULL,
    reaction_key     TEXT NOT NULL,
    attempts         INTEGER NOT NULL,
    first_attempt_at INTEGER,
    escalated        INTEGER NOT NULL,
    last_signature   TEXT,
    project_id       TEXT NOT NULL,
    PRIMARY KEY (session_id, reaction_key)
) STRICT, WITHOUT ROWID;

CREATE TABLE scm_snapshots (
    session_id  TEXT PRIMARY KEY,
    observed_at INTEGER NOT NULL,
    facts_json  TEXT NOT NULL
) STRICT;

CREATE TABLE messages (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id          TEXT NOT NULL,
    mode                TEXT NOT NULL,
    body                TEXT NOT NULL,
    state               TEXT NOT NULL,
    reason              TEXT,
    attempts            INTEGER NOT NULL,
    reaction_key        TEXT,
    tracker_before_json TEXT,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
) STRICT;

CREATE INDEX messages_by_session ON messages (session_id, state, id);
CREATE INDEX messages_by_state ON messages (state, session_id);

-- Store-wide values; `change_log_pruned_through` is the highest seq removed by pruning.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) STRICT;

INSERT INTO meta (key, value) VALUES ('change_log_pruned_through', 0);
"#;

/// Refuses an existing file that is unreadable, corrupt, foreign or of a newer schema, using
/// only a read-only connection. A missing or empty file passes (it becomes a new database).
pub fn probe_existing(path: &Path) -> Result<(), StoreError> {
    let refuse = |why: String| {
        StoreError::Backend(format!(
            "sqlite store {}: {why}; refusing to open it (the file was not modified)",
            path.display()
        ))
    };
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(refuse(format!("cannot read the file: {e}"))),
        Ok(m) if !m.is_file() => return Err(refuse("not a regular file".to_owned())),
        Ok(m) if m.len() == 0 => return Ok(()),
        Ok(_) => {}
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)
        .map_err(|e| refuse(format!("cannot open it as SQLite: {e}")))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| refuse(format!("cannot configure the connection: {e}")))?;
    let problems =
        quick_check(&conn).map_err(|e| refuse(format!("not a readable SQLite database: {e}")))?;
    if problems != ["ok"] {
        return Err(refuse(format!(
            "the database is corrupt (quick_check: {})",
            problems.join("; ")
        )));
    }
    match stored_version(&conn).map_err(|e| refuse(format!("cannot read its schema: {e}")))? {
        Some(version) if version > SCHEMA_VERSION => Err(refuse(format!(
            "its schema version {version} is newer than this ao supports ({SCHEMA_VERSION}); \
             upgrade ao"
        ))),
        Some(_) => Ok(()),
        None if has_tables(&conn).map_err(|e| refuse(e.to_string()))? => Err(refuse(
            "it holds tables but no ao schema version: not an ao database".to_owned(),
        )),
        None => Ok(()),
    }
}

/// `PRAGMA quick_check`: `["ok"]` or the problems found.
fn quick_check(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare("PRAGMA quick_check")?;
    let rows = stmt.query_map([], |row| row.get::<_, String>(0))?;
    rows.collect()
}

fn has_tables(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' \
         AND name NOT LIKE 'sqlite_%')",
        [],
        |row| row.get(0),
    )
}

/// The applied schema version, or `None` without a version table.
fn stored_version(conn: &Connection) -> rusqlite::Result<Option<i64>> {
    let exists: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1)",
        [VERSION_TABLE],
        |row| row.get(0),
    )?;
    if !exists {
        return Ok(None);
    }
    conn.query_row(
        &format!("SELECT max(version) FROM {VERSION_TABLE}"),
        [],
        |row| row.get::<_, Option<i64>>(0),
    )
    .map(|v| Some(v.unwrap_or(0)))
}

/// Opens (creating if needed) the write connection, applies [`PRAGMAS`] and migrates.
pub fn open_writer(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn =
        Connection::open_with_flags(path, flags).map_err(|e| backend(path, "open", e))?;
    configure(&conn, path)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    migrate(&mut conn, path)?;
    Ok(conn)
}

/// Applies [`PRAGMAS`] to a write connection and checks that WAL mode took effect.
fn configure(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    for (name, value) in PRAGMAS {
        let what = format!("set {name}={value}");
        if *name == "journal_mode" {
            let mode: String = conn
                .pragma_update_and_check(None, name, value, |r| r.get(0))
                .map_err(|e| backend(path, &what, e))?;
            if !mode.eq_ignore_ascii_case(value) {
                return Err(backend(path, &what, format!("journal_mode stayed {mode}")));
            }
        } else {
            conn.pragma_update(None, name, value)
                .map_err(|e| backend(path, &what, e))?;
        }
    }
    Ok(())
}

/// Applies the missing migrations in one `BEGIN IMMEDIATE` transaction, so two processes
/// opening a new file at once cannot both migrate it.
fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| backend(path, "begin the migration", e))?;
    tx.execute_batch(&format!(
        "CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (version INTEGER PRIMARY KEY) STRICT"
    ))
    .map_err(|e| backend(path, "create the schema version table", e))?;
    let current = stored_version(&tx)
        .map_err(|e| backend(path, "read the schema version", e))?
        .unwrap_or(0);
    if current > SCHEMA_VERSION {
        // Another process upgraded the file after the probe; dropping `tx` rolls back.
        return Err(backend(
            path,
            "migrate",
            format!("schema version {current} is newer than this ao supports ({SCHEMA_VERSION})"),
        ));
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let version = index as i64 + 1;
        tx.execute_batch(sql)
            .map_err(|e| backend(path, &format!("apply migration {version}"), e))?;
        tx.execute(
            &format!("INSERT INTO {VERSION_TABLE} (version) VALUES (?1)"),
            [version],
        )
        .map_err(|e| backend(path, &format!("record migration {version}"), e))?;
    }
    tx.commit()
        .map_err(|e| backend(path, "commit the migration", e))
}

/// Opens a read-only connection to an already migrated file.
pub fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)
        .map_err(|e| backend(path, "open a reader connection", e))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| backend(path, "configure a reader connection", e))?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}
