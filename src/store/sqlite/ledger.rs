//! `ledger.sqlite3`: events (append-only, enforced by triggers), checkpoints,
//! chunked snapshots and leases.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::types::{Value as SqlValue, ValueRef};
use rusqlite::{Connection, MAIN_DB, OptionalExtension, Row, TransactionBehavior, params};
use uuid::Uuid;

use super::{Conn, Durability, file_info, label, map_err, migrations};

mod repairs;
use crate::domain::{DomainEvent, EventMetadata, StoredEvent};
mod models;

use crate::store::{
    AppendOutcome, Checkpoint, CheckpointStore, EventFilter, EventLedger, FoldEntry, Hole, Lease,
    LedgerCensus, LedgerEntry, LedgerIdentity, LedgerPage, LockFactory, MalformedEvent, RawRow,
    SnapshotMeta, SnapshotStore, StoreError, StoreInfo, StoreResult,
};

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS events(
    position INTEGER PRIMARY KEY,
    event_id TEXT,
    aggregate_id TEXT,
    aggregate_type TEXT,
    version INTEGER,
    event_type TEXT,
    schema_version INTEGER,
    recorded_at TEXT,
    payload TEXT,
    metadata TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS events_event_id ON events(event_id);
CREATE UNIQUE INDEX IF NOT EXISTS events_aggregate_version ON events(aggregate_id, version);
CREATE INDEX IF NOT EXISTS events_type_position ON events(event_type, position);
CREATE INDEX IF NOT EXISTS events_recorded_at ON events(recorded_at);
CREATE INDEX IF NOT EXISTS events_wizard_user ON events(
    (CASE WHEN json_valid(payload) THEN json_extract(payload, '$.user.user_id') END), position
) WHERE event_type = 'BookingWizardCompleted';
CREATE TRIGGER IF NOT EXISTS events_append_only_update BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: events are never updated'); END;
CREATE TRIGGER IF NOT EXISTS events_append_only_delete BEFORE DELETE ON events
    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: events are never deleted'); END;
CREATE TABLE IF NOT EXISTS checkpoints(
    projector TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    skipped TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    instance TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS snapshots(
    id TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    meta TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS snapshot_chunks(
    snapshot_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY(snapshot_id, seq)
);
CREATE TABLE IF NOT EXISTS locks(
    name TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    fencing INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    renewed_at_ms INTEGER
);
CREATE TABLE IF NOT EXISTS lock_fencing(id INTEGER PRIMARY KEY CHECK (id = 1), last INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS ledger_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
"#;

/// `ledger_meta` key of the ledger's identity (JSON of `LedgerIdentity`).
const IDENTITY_KEY: &str = "identity";

/// What a checkpoint row keeps beyond its position and skipped list, as
/// JSON in `checkpoints.extra` (a column ledgers made by earlier builds get
/// on their first writable open).
#[derive(Default, serde::Serialize, serde::Deserialize)]
struct CheckpointExtra {
    #[serde(default)]
    holes: Vec<Hole>,
    #[serde(default)]
    last_error: Option<String>,
    #[serde(default)]
    error_since: Option<DateTime<Utc>>,
}

/// Whether `table` has `column` (schema of files made by earlier builds).
fn has_column(conn: &Connection, table: &str, column: &str) -> rusqlite::Result<bool> {
    let mut stmt = conn.prepare(&format!("PRAGMA table_info({table})"))?;
    let names = stmt.query_map([], |r| r.get::<_, String>(1))?;
    for name in names {
        if name? == column {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether the database has `table`.
fn has_table(conn: &Connection, table: &str) -> rusqlite::Result<bool> {
    has_object(conn, "table", table)
}

fn has_index(conn: &Connection, index: &str) -> rusqlite::Result<bool> {
    has_object(conn, "index", index)
}

/// Whether the schema has a `kind` (table, index) named `name`.
fn has_object(conn: &Connection, kind: &str, name: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = ?1 AND name = ?2",
        [kind, name],
        |r| r.get::<_, i64>(0),
    )
    .map(|n| n > 0)
}

const COLUMNS: &str = "position, event_id, aggregate_id, aggregate_type, version, event_type, schema_version, recorded_at, payload, metadata";

/// Timestamps are stored in one fixed-width UTC format so text order is time order.
pub(crate) fn format_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// The embedded ledger store.
pub struct SqliteLedger {
    path: PathBuf,
    writer: Conn,
    reader: Conn,
    /// Snapshot reads have a connection of their own: time travel reads a
    /// snapshot's index while it reads the events after it, and one
    /// connection would make the two take turns. On a writable ledger both
    /// snapshot connections read through a memory map ([`Conn::mapped`]);
    /// a read-only copy is read with system calls, so that an I/O error on
    /// a copy (a backup on a mounted disk) stays an error of the read and
    /// is never a signal that ends the process.
    snapshots: Conn,
    /// A second connection for snapshot chunks: a history's index parts
    /// are read in two runs side by side, one on each.
    snapshot_side: Conn,
    /// Which of the two reads the next run of chunks.
    snapshot_turn: AtomicUsize,
    locks: Conn,
    /// Opened for inspection: every write is refused before it reaches SQLite.
    read_only: bool,
    /// The file has `ledger_meta` (a read-only file made by an earlier build may not).
    has_meta: bool,
    /// `checkpoints` has its `extra` column (likewise).
    has_extra: bool,
    /// `events_wizard_user` exists (likewise).
    has_wizard_user: bool,
    /// `locks` has its `renewed_at_ms` column (likewise).
    has_renewed: bool,
    /// Buffers of pages already decoded, for the next pages read: a scan
    /// copies 600 MB through them at 1M events, and new ones for every
    /// page, freed on another thread, kept a hundred MB in the allocator.
    spare_pages: SparePages,
}

impl SqliteLedger {
    /// Opens `ledger.sqlite3` at `path`: creating it (and bringing a file of
    /// an earlier build up to this schema) unless `read_only`, when the file
    /// must exist and nothing is written.
    pub fn open(path: &Path, read_only: bool) -> StoreResult<Self> {
        let store = label(path);
        if read_only {
            let open = || Conn::open_read_only(path, &store);
            let reader = open()?;
            let (has_meta, has_extra, has_wizard_user, has_renewed) = {
                let guard = reader
                    .inner
                    .lock()
                    .map_err(|_| StoreError::Config("poisoned".into()))?;
                (
                    has_table(&guard, "ledger_meta").map_err(|e| map_err(&store, e))?,
                    has_table(&guard, "checkpoints")
                        .and_then(|t| Ok(t && has_column(&guard, "checkpoints", "extra")?))
                        .map_err(|e| map_err(&store, e))?,
                    has_index(&guard, "events_wizard_user").map_err(|e| map_err(&store, e))?,
                    has_table(&guard, "locks")
                        .and_then(|t| Ok(t && has_column(&guard, "locks", "renewed_at_ms")?))
                        .map_err(|e| map_err(&store, e))?,
                )
            };
            return Ok(SqliteLedger {
                path: path.to_path_buf(),
                writer: open()?,
                snapshots: open()?,
                snapshot_side: open()?,
                snapshot_turn: AtomicUsize::new(0),
                locks: open()?,
                reader,
                read_only,
                has_meta,
                has_extra,
                has_wizard_user,
                has_renewed,
                spare_pages: SparePages::default(),
            });
        }
        // The writer (events, snapshots) and the lease/checkpoint connection
        // write to the same file. Taking turns in-process keeps them from
        // meeting SQLite's busy handler, which sleeps 1, 2, 5, 10... ms: with
        // 8 concurrent commands that sleeping halved ingest.
        let gate = Arc::new(Mutex::new(()));
        let writer = Conn::open(path, &store, Durability::Full)?.gated(gate.clone());
        {
            let mut guard = writer
                .inner
                .lock()
                .map_err(|_| StoreError::Config("poisoned".into()))?;
            guard
                .execute_batch(SCHEMA)
                .and_then(|()| guard.execute_batch(models::SCHEMA))
                .map_err(|e| map_err(&store, e))?;
            if !has_column(&guard, "checkpoints", "extra").map_err(|e| map_err(&store, e))? {
                guard
                    .execute_batch(
                        "ALTER TABLE checkpoints ADD COLUMN extra TEXT NOT NULL DEFAULT '{}'",
                    )
                    .map_err(|e| map_err(&store, e))?;
            }
            if !has_column(&guard, "locks", "renewed_at_ms").map_err(|e| map_err(&store, e))? {
                guard
                    .execute_batch("ALTER TABLE locks ADD COLUMN renewed_at_ms INTEGER")
                    .map_err(|e| map_err(&store, e))?;
            }
            migrations::migrate(&mut guard, migrations::LEDGER_MIGRATIONS)
                .map_err(|e| map_err(&store, e))?;
        }
        Ok(SqliteLedger {
            path: path.to_path_buf(),
            reader: Conn::open(path, &store, Durability::Full)?,
            snapshots: Conn::open(path, &store, Durability::Full)?.mapped(),
            snapshot_side: Conn::open(path, &store, Durability::Full)?.mapped(),
            snapshot_turn: AtomicUsize::new(0),
            locks: Conn::open(path, &store, Durability::Normal)?.gated(gate),
            writer,
            read_only,
            has_meta: true,
            has_extra: true,
            has_wizard_user: true,
            has_renewed: true,
            spare_pages: SparePages::default(),
        })
    }

    fn store(&self) -> String {
        self.writer.store().to_string()
    }

    /// Refuses `what` on a read-only store.
    fn writable(&self, what: &str) -> StoreResult<()> {
        if self.read_only {
            Err(StoreError::ReadOnly {
                store: self.store(),
                what: what.to_string(),
            })
        } else {
            Ok(())
        }
    }
}

/// Reads one `events` row, tolerating anything a foreign writer or a hand edit
/// could have put there. Columns are borrowed, not copied: only the fields the
/// event keeps are allocated (this is the replay and time-travel hot path).
fn read_entry(row: &Row<'_>) -> rusqlite::Result<LedgerEntry> {
    let (position, values) = row_values(row)?;
    Ok(entry_of(position, &values))
}

/// One `events` row for a fold: the well-formed rows (nearly all) have
/// their payload decoded straight from its text; any other row takes
/// [`read_entry`]'s path, so the entry is always what decoding that gives.
fn fold_entry_of(position: u64, values: &[ValueRef<'_>]) -> FoldEntry {
    match fold_event_of(position, values) {
        Some(event) => FoldEntry::Event { position, event },
        None => FoldEntry::from(entry_of(position, values)),
    }
}

/// Rows copied off the connection as they are stored (every cell's bytes
/// in one buffer), to be decoded elsewhere.
#[derive(Default)]
struct CopiedRows {
    bytes: Vec<u8>,
    rows: Vec<(u64, [Cell; 10])>,
}

/// Page buffers to reuse: as many as a scan has pages in flight.
#[derive(Clone, Default)]
struct SparePages(Arc<Mutex<Vec<CopiedRows>>>);

impl SparePages {
    const KEPT: usize = 4;

    fn take(&self) -> CopiedRows {
        self.0
            .lock()
            .ok()
            .and_then(|mut spare| spare.pop())
            .unwrap_or_default()
    }

    fn give_back(&self, mut page: CopiedRows) {
        page.clear();
        if let Ok(mut spare) = self.0.lock()
            && spare.len() < Self::KEPT
        {
            spare.push(page);
        }
    }
}

/// A copied cell: a value, or where its bytes are in the buffer.
#[derive(Clone, Copy)]
enum Cell {
    Null,
    Integer(i64),
    Real(f64),
    Text(usize, usize),
    Blob(usize, usize),
}

impl CopiedRows {
    fn push(&mut self, row: &Row<'_>) -> rusqlite::Result<()> {
        let (position, values) = row_values(row)?;
        let mut cells = [Cell::Null; 10];
        for (cell, value) in cells.iter_mut().zip(values) {
            let start = self.bytes.len();
            *cell = match value {
                ValueRef::Null => Cell::Null,
                ValueRef::Integer(n) => Cell::Integer(n),
                ValueRef::Real(f) => Cell::Real(f),
                ValueRef::Text(t) => {
                    self.bytes.extend_from_slice(t);
                    Cell::Text(start, self.bytes.len())
                }
                ValueRef::Blob(b) => {
                    self.bytes.extend_from_slice(b);
                    Cell::Blob(start, self.bytes.len())
                }
            };
        }
        self.rows.push((position, cells));
        Ok(())
    }

    fn clear(&mut self) {
        self.bytes.clear();
        self.rows.clear();
    }

    /// Every row decoded by [`fold_entry_of`].
    fn fold_entries(&self) -> Vec<FoldEntry> {
        self.rows
            .iter()
            .map(|(position, cells)| {
                let values = cells.map(|cell| match cell {
                    Cell::Null => ValueRef::Null,
                    Cell::Integer(n) => ValueRef::Integer(n),
                    Cell::Real(f) => ValueRef::Real(f),
                    Cell::Text(a, b) => ValueRef::Text(&self.bytes[a..b]),
                    Cell::Blob(a, b) => ValueRef::Blob(&self.bytes[a..b]),
                });
                fold_entry_of(*position, &values)
            })
            .collect()
    }
}

/// A row's columns, borrowed, and its position (0: none that is one).
fn row_values<'a>(row: &'a Row<'_>) -> rusqlite::Result<(u64, [ValueRef<'a>; 10])> {
    let mut values = [ValueRef::Null; 10];
    for (i, value) in values.iter_mut().enumerate() {
        *value = row.get_ref(i)?;
    }
    let position = match values[0] {
        ValueRef::Integer(p) if p > 0 => p as u64,
        _ => 0,
    };
    Ok((position, values))
}

fn entry_of(position: u64, values: &[ValueRef<'_>]) -> LedgerEntry {
    parse_entry(position, values).map_err(|reason| MalformedEvent {
        position,
        reason,
        raw: raw_text(values),
    })
}

/// The event of a row that [`parse_entry`] reads and whose payload decodes,
/// checked as `parse_entry` checks it but keeping only what a fold needs;
/// `None` for every other row.
fn fold_event_of(position: u64, v: &[ValueRef<'_>]) -> Option<DomainEvent> {
    let text = |i: usize| match v[i] {
        ValueRef::Text(t) => std::str::from_utf8(t).ok(),
        _ => None,
    };
    let int = |i: usize| match v[i] {
        ValueRef::Integer(n) if n >= 0 => Some(n as u64),
        _ => None,
    };
    if position == 0 {
        return None;
    }
    DateTime::parse_from_rfc3339(text(7)?).ok()?;
    if !matches!(v[9], ValueRef::Null) {
        serde_json::from_str::<EventMetadata>(text(9)?).ok()?;
    }
    Uuid::parse_str(text(1)?).ok()?;
    let aggregate_id = Uuid::parse_str(text(2)?).ok()?;
    int(4)?;
    let schema_version = u32::try_from(int(6)?).ok()?;
    DomainEvent::decode_envelope_text(text(5)?, schema_version, text(3)?, aggregate_id, text(8)?)
}

fn raw_text(values: &[ValueRef<'_>]) -> String {
    let names = COLUMNS.split(", ");
    let mut map = serde_json::Map::new();
    for (name, value) in names.zip(values) {
        let json = match value {
            ValueRef::Null => serde_json::Value::Null,
            ValueRef::Integer(i) => serde_json::Value::from(*i),
            ValueRef::Real(f) => serde_json::Value::from(*f),
            ValueRef::Text(t) => serde_json::Value::from(String::from_utf8_lossy(t)),
            ValueRef::Blob(b) => serde_json::Value::from(format!("<{} bytes of binary>", b.len())),
        };
        map.insert(name.to_string(), json);
    }
    serde_json::Value::Object(map).to_string()
}

fn parse_entry(position: u64, v: &[ValueRef<'_>]) -> Result<StoredEvent, String> {
    fn text<'a>(v: &ValueRef<'a>, name: &str) -> Result<&'a str, String> {
        match v {
            ValueRef::Text(t) => {
                std::str::from_utf8(t).map_err(|_| format!("{name} is not valid UTF-8"))
            }
            ValueRef::Null => Err(format!("{name} is missing")),
            other => Err(format!("{name} is not text ({:?})", other.data_type())),
        }
    }
    fn int(v: &ValueRef<'_>, name: &str) -> Result<u64, String> {
        match v {
            ValueRef::Integer(i) if *i >= 0 => Ok(*i as u64),
            ValueRef::Null => Err(format!("{name} is missing")),
            other => Err(format!("{name} is not a non-negative integer ({other:?})")),
        }
    }
    fn uuid(v: &ValueRef<'_>, name: &str) -> Result<Uuid, String> {
        let t = text(v, name)?;
        Uuid::parse_str(t).map_err(|_| format!("{name} '{t}' is not a UUID"))
    }
    if position == 0 {
        return Err("position is missing or not a positive integer".into());
    }
    let recorded = text(&v[7], "recorded_at")?;
    let recorded_at = DateTime::parse_from_rfc3339(recorded)
        .map_err(|_| format!("recorded_at '{recorded}' is not an RFC 3339 time"))?
        .with_timezone(&Utc);
    let payload_text = text(&v[8], "payload")?;
    let payload: serde_json::Value = serde_json::from_str(payload_text)
        .map_err(|e| format!("payload is not valid JSON: {e}"))?;
    let metadata = match &v[9] {
        ValueRef::Null => EventMetadata::default(),
        other => {
            let t = text(other, "metadata")?;
            serde_json::from_str(t).map_err(|e| format!("metadata is malformed: {e}"))?
        }
    };
    let schema_version = int(&v[6], "schema_version")?;
    Ok(StoredEvent {
        position,
        event_id: uuid(&v[1], "event_id")?,
        aggregate_id: uuid(&v[2], "aggregate_id")?,
        aggregate_type: text(&v[3], "aggregate_type")?.to_string(),
        version: int(&v[4], "version")?,
        event_type: text(&v[5], "event_type")?.to_string(),
        schema_version: u32::try_from(schema_version)
            .map_err(|_| "schema_version is too large".to_string())?,
        recorded_at,
        payload,
        metadata,
    })
}

fn query_entries(
    conn: &Connection,
    store: &str,
    sql: &str,
    params: &[&dyn rusqlite::ToSql],
) -> StoreResult<Vec<LedgerEntry>> {
    query_rows(conn, store, sql, params, read_entry)
}

/// The rows `sql` selects, each read by `read`.
fn query_rows<T>(
    conn: &Connection,
    store: &str,
    sql: &str,
    params: &[&dyn rusqlite::ToSql],
    read: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
) -> StoreResult<Vec<T>> {
    let mut stmt = conn.prepare_cached(sql).map_err(|e| map_err(store, e))?;
    stmt.query_map(params, read)
        .map_err(|e| map_err(store, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| map_err(store, e))
}

/// The rows from position `from` on, `limit` of them, each read by `read`.
/// Rows at positions below 1 are unpositioned, never in order.
fn range_rows<T>(
    conn: &Connection,
    store: &str,
    from: u64,
    limit: usize,
    read: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
) -> StoreResult<Vec<T>> {
    let sql =
        format!("SELECT {COLUMNS} FROM events WHERE position >= ?1 ORDER BY position LIMIT ?2");
    let params: [&dyn rusqlite::ToSql; 2] = [&(from.max(1) as i64), &(limit as i64)];
    query_rows(conn, store, &sql, &params, read)
}

fn find_by_event_id(conn: &Connection, store: &str, id: Uuid) -> StoreResult<Option<StoredEvent>> {
    let sql = format!("SELECT {COLUMNS} FROM events WHERE event_id = ?1");
    let mut found = query_entries(conn, store, &sql, &[&id.to_string()])?;
    match found.pop() {
        None => Ok(None),
        Some(Ok(event)) => Ok(Some(event)),
        Some(Err(bad)) => Err(StoreError::Failed {
            store: store.to_string(),
            message: format!(
                "event {id} is stored at position {} but malformed: {}",
                bad.position, bad.reason
            ),
        }),
    }
}

/// Inserts one event at `position`; a taken (aggregate, version) is a conflict.
fn insert_event(
    conn: &Connection,
    store: &str,
    position: u64,
    event: &StoredEvent,
) -> StoreResult<()> {
    let metadata = serde_json::to_string(&event.metadata).unwrap_or_else(|_| "{}".into());
    let inserted = conn
        .prepare_cached(&format!(
            "INSERT INTO events({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
        ))
        .and_then(|mut stmt| {
            stmt.execute(params![
                position as i64,
                event.event_id.to_string(),
                event.aggregate_id.to_string(),
                event.aggregate_type,
                event.version as i64,
                event.event_type,
                i64::from(event.schema_version),
                format_time(event.recorded_at),
                event.payload.to_string(),
                metadata,
            ])
        });
    match inserted {
        Ok(_) => Ok(()),
        Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation) => {
            Err(StoreError::VersionConflict {
                aggregate_id: event.aggregate_id,
                version: event.version,
            })
        }
        Err(e) => Err(map_err(store, e)),
    }
}

/// Builds the WHERE clause and parameters of a timeline filter.
fn filter_sql(filter: &EventFilter) -> (String, Vec<SqlValue>) {
    // Rows without a usable position are in no order: never in a listing.
    let mut clauses = vec!["position > 0"];
    let mut params = Vec::new();
    if let Some(t) = &filter.event_type {
        clauses.push("event_type = ?");
        params.push(SqlValue::Text(t.clone()));
    }
    if let Some(a) = filter.aggregate_id {
        clauses.push("aggregate_id = ?");
        params.push(SqlValue::Text(a.to_string()));
    }
    if let Some(t) = filter.from_time {
        clauses.push("recorded_at >= ?");
        params.push(SqlValue::Text(format_time(t)));
    }
    if let Some(t) = filter.to_time {
        clauses.push("recorded_at < ?");
        params.push(SqlValue::Text(format_time(t)));
    }
    if let Some(text) = &filter.text {
        clauses.push("instr(lower(payload), lower(?)) > 0");
        params.push(SqlValue::Text(text.clone()));
    }
    if let Some(before) = filter.before_position {
        clauses.push("position < ?");
        params.push(SqlValue::Integer(i64::try_from(before).unwrap_or(i64::MAX)));
    }
    (format!("WHERE {}", clauses.join(" AND ")), params)
}

impl SqliteLedger {
    /// Appends `events` in one transaction and, when given, deletes `lease`
    /// (if still held as taken) in the same commit: the locks table lives in
    /// this file. On any error nothing is written and the lease stays.
    async fn append_in_one_commit(
        &self,
        events: Vec<StoredEvent>,
        lease: Option<Lease>,
    ) -> StoreResult<Vec<AppendOutcome>> {
        let store = self.store();
        self.writer
            .call(move |conn| {
                let tx = conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .map_err(|e| map_err(&store, e))?;
                let mut head: u64 = tx
                    .query_row("SELECT COALESCE(MAX(position), 0) FROM events", [], |r| {
                        r.get::<_, i64>(0)
                    })
                    .map_err(|e| map_err(&store, e))? as u64;
                let mut outcomes = Vec::with_capacity(events.len());
                for event in events {
                    if let Some(existing) = find_by_event_id(&tx, &store, event.event_id)? {
                        outcomes.push(AppendOutcome::Duplicate(existing));
                        continue;
                    }
                    let position = head + 1;
                    insert_event(&tx, &store, position, &event)?;
                    head = position;
                    outcomes.push(AppendOutcome::Appended(StoredEvent { position, ..event }));
                }
                if let Some(lease) = lease {
                    delete_lease(&tx, &lease).map_err(|e| map_err(&store, e))?;
                }
                tx.commit().map_err(|e| map_err(&store, e))?;
                Ok(outcomes)
            })
            .await
    }

    /// [`Self::append_in_one_commit`] for one event: its outcome.
    async fn append_one(
        &self,
        event: StoredEvent,
        lease: Option<Lease>,
    ) -> StoreResult<AppendOutcome> {
        let mut outcomes = self.append_in_one_commit(vec![event], lease).await?;
        outcomes.pop().ok_or_else(|| StoreError::Failed {
            store: self.store(),
            message: "append returned nothing".into(),
        })
    }
}

/// Deletes `lease` if its holder and fencing token are still the ones taken.
fn delete_lease(conn: &Connection, lease: &Lease) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM locks WHERE name = ?1 AND owner = ?2 AND fencing = ?3")?
        .execute(params![lease.name, lease.owner, lease.fencing as i64])
        .map(|_| ())
}

#[async_trait]
impl EventLedger for SqliteLedger {
    fn info(&self) -> StoreInfo {
        file_info(&self.path)
    }

    async fn ping(&self) -> StoreResult<()> {
        self.reader.ping().await
    }

    async fn identity(&self) -> StoreResult<Option<LedgerIdentity>> {
        if !self.has_meta {
            return Ok(None);
        }
        let store = self.store();
        self.reader.call(move |c| read_identity(c, &store)).await
    }

    async fn ensure_identity(&self) -> StoreResult<LedgerIdentity> {
        self.writable("giving the ledger its identity")?;
        let store = self.store();
        self.locks
            .call(move |c| {
                let fresh = LedgerIdentity {
                    id: Uuid::new_v4(),
                    created_at: Utc::now(),
                };
                let json = serde_json::to_string(&fresh).map_err(|e| StoreError::Failed {
                    store: store.clone(),
                    message: e.to_string(),
                })?;
                // Whoever inserts first made it; everyone reads that one.
                c.execute(
                    "INSERT INTO ledger_meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO NOTHING",
                    params![IDENTITY_KEY, json],
                )
                .map_err(|e| map_err(&store, e))?;
                read_identity(c, &store)?.ok_or_else(|| StoreError::Failed {
                    store: store.clone(),
                    message: "the ledger identity was written but cannot be read back".into(),
                })
            })
            .await
    }

    async fn append(&self, event: StoredEvent) -> StoreResult<AppendOutcome> {
        self.writable("appending an event")?;
        self.append_one(event, None).await
    }

    async fn append_batch(&self, events: Vec<StoredEvent>) -> StoreResult<Vec<AppendOutcome>> {
        self.writable("appending events")?;
        self.append_in_one_commit(events, None).await
    }

    async fn append_releasing(
        &self,
        event: StoredEvent,
        lease: &Lease,
    ) -> StoreResult<(AppendOutcome, bool)> {
        self.writable("appending an event")?;
        Ok((self.append_one(event, Some(lease.clone())).await?, true))
    }

    async fn find_event(&self, event_id: Uuid) -> StoreResult<Option<StoredEvent>> {
        let store = self.store();
        self.reader
            .call(move |c| find_by_event_id(c, &store, event_id))
            .await
    }

    async fn first_of_aggregate(&self, aggregate_id: Uuid) -> StoreResult<Option<StoredEvent>> {
        let store = self.store();
        self.reader
            .call(move |c| {
                let sql = format!(
                    "SELECT {COLUMNS} FROM events WHERE aggregate_id = ?1 ORDER BY version LIMIT 1"
                );
                Ok(
                    query_entries(c, &store, &sql, &[&aggregate_id.to_string()])?
                        .into_iter()
                        .find_map(Result::ok),
                )
            })
            .await
    }

    async fn read_range(&self, from: u64, limit: usize) -> StoreResult<Vec<LedgerEntry>> {
        let store = self.store();
        self.reader
            .call(move |c| range_rows(c, &store, from, limit, read_entry))
            .await
    }

    async fn read_fold_range(&self, from: u64, limit: usize) -> StoreResult<Vec<FoldEntry>> {
        // The one decoding path: a page read and decoded off the connection.
        let page = self.read_fold_page(from, limit).await?;
        tokio::task::spawn_blocking(move || page.decode())
            .await
            .map_err(|e| StoreError::Failed {
                store: self.store(),
                message: format!("decoding a page stopped: {e}"),
            })
    }

    async fn read_fold_page(&self, from: u64, limit: usize) -> StoreResult<LedgerPage<FoldEntry>> {
        // The rows' bytes are copied under the connection; the payloads are
        // decoded by the caller, so the next page is read meanwhile.
        let store = self.store();
        let mut copied = self.spare_pages.take();
        let copied = self
            .reader
            .call(move |c| {
                range_rows(c, &store, from, limit, |row| copied.push(row))?;
                Ok(copied)
            })
            .await?;
        let last = copied.rows.iter().map(|(p, _)| *p).max().unwrap_or(0);
        let spare = self.spare_pages.clone();
        Ok(LedgerPage::deferred(copied.rows.len(), last, move || {
            let entries = copied.fold_entries();
            spare.give_back(copied);
            entries
        }))
    }

    async fn read_raw_range(&self, from: u64, limit: usize) -> StoreResult<Vec<RawRow>> {
        let store = self.store();
        self.reader
            .call(move |c| {
                range_rows(c, &store, from, limit, |row| {
                    let (position, values) = row_values(row)?;
                    let mut bytes = Vec::new();
                    for value in values {
                        match value {
                            ValueRef::Text(b) | ValueRef::Blob(b) => bytes.extend_from_slice(b),
                            ValueRef::Integer(n) => bytes.extend_from_slice(&n.to_le_bytes()),
                            ValueRef::Real(f) => bytes.extend_from_slice(&f.to_le_bytes()),
                            ValueRef::Null => {}
                        }
                    }
                    Ok(RawRow { position, bytes })
                })
            })
            .await
    }

    async fn head(&self) -> StoreResult<u64> {
        let store = self.store();
        self.reader
            .call(move |c| {
                c.query_row("SELECT COALESCE(MAX(position), 0) FROM events", [], |r| {
                    r.get::<_, i64>(0)
                })
                .map(|p| p as u64)
                .map_err(|e| map_err(&store, e))
            })
            .await
    }

    async fn count(&self) -> StoreResult<u64> {
        let store = self.store();
        self.reader
            .call(move |c| {
                c.query_row("SELECT COUNT(*) FROM events", [], |r| r.get::<_, i64>(0))
                    .map(|p| p as u64)
                    .map_err(|e| map_err(&store, e))
            })
            .await
    }

    async fn census(&self) -> StoreResult<LedgerCensus> {
        let store = self.store();
        self.reader
            .call(move |c| {
                c.query_row(
                    "SELECT COALESCE(MAX(position), 0), COUNT(*) FILTER (WHERE position > 0),
                     COUNT(*) FILTER (WHERE position <= 0) FROM events",
                    [],
                    |r| {
                        Ok(LedgerCensus {
                            head: r.get::<_, i64>(0)?.max(0) as u64,
                            positioned: r.get::<_, i64>(1)? as u64,
                            unpositioned: r.get::<_, i64>(2)? as u64,
                        })
                    },
                )
                .map_err(|e| map_err(&store, e))
            })
            .await
    }

    async fn holes(&self, limit: usize) -> StoreResult<Vec<Hole>> {
        let store = self.store();
        self.reader
            .call(move |c| {
                let mut stmt = c
                    .prepare_cached(
                        "SELECT previous + 1, position - 1 FROM (
                           SELECT position, COALESCE(LAG(position) OVER (ORDER BY position), 0) AS previous
                           FROM events WHERE position > 0)
                         WHERE position > previous + 1 ORDER BY position LIMIT ?1",
                    )
                    .map_err(|e| map_err(&store, e))?;
                let rows = stmt
                    .query_map([limit as i64], |r| {
                        Ok(Hole {
                            from: r.get::<_, i64>(0)? as u64,
                            to: r.get::<_, i64>(1)? as u64,
                        })
                    })
                    .map_err(|e| map_err(&store, e))?;
                rows.collect::<Result<_, _>>()
                    .map_err(|e| map_err(&store, e))
            })
            .await
    }

    async fn unpositioned(&self, limit: usize) -> StoreResult<Vec<MalformedEvent>> {
        let store = self.store();
        self.reader
            .call(move |c| {
                let sql = format!(
                    "SELECT {COLUMNS} FROM events WHERE position <= 0 ORDER BY position LIMIT ?1"
                );
                Ok(query_entries(c, &store, &sql, &[&(limit as i64)])?
                    .into_iter()
                    .map(|entry| match entry {
                        Err(bad) => bad,
                        Ok(event) => MalformedEvent {
                            position: 0,
                            reason: "position is missing or not a positive integer".into(),
                            raw: serde_json::to_string(&event).unwrap_or_default(),
                        },
                    })
                    .collect())
            })
            .await
    }

    async fn stream(&self, aggregate_id: Uuid) -> StoreResult<Vec<LedgerEntry>> {
        let store = self.store();
        self.reader
            .call(move |c| {
                let sql = format!("SELECT {COLUMNS} FROM events WHERE aggregate_id = ?1 ORDER BY version, position");
                query_entries(c, &store, &sql, &[&aggregate_id.to_string()])
            })
            .await
    }

    async fn wizards_carrying(&self, user_id: Uuid) -> StoreResult<Option<Vec<LedgerEntry>>> {
        if !self.has_wizard_user {
            return Ok(None);
        }
        let store = self.store();
        self.reader
            .call(move |c| {
                // The index's expression and condition, word for word, so
                // SQLite uses it.
                let sql = format!(
                    "SELECT {COLUMNS} FROM events WHERE event_type = 'BookingWizardCompleted' \
                     AND (CASE WHEN json_valid(payload) THEN json_extract(payload, '$.user.user_id') END) = ?1 \
                     ORDER BY position"
                );
                query_entries(c, &store, &sql, &[&user_id.to_string()]).map(Some)
            })
            .await
    }

    async fn search(
        &self,
        filter: &EventFilter,
        offset: u64,
        limit: usize,
    ) -> StoreResult<Vec<LedgerEntry>> {
        let store = self.store();
        let (where_sql, mut params) = filter_sql(filter);
        params.push(SqlValue::Integer(limit as i64));
        params.push(SqlValue::Integer(offset as i64));
        self.reader
            .call(move |c| {
                let sql = format!(
                    "SELECT {COLUMNS} FROM events {where_sql} ORDER BY position LIMIT ? OFFSET ?"
                );
                let refs: Vec<&dyn rusqlite::ToSql> =
                    params.iter().map(|p| p as &dyn rusqlite::ToSql).collect();
                query_entries(c, &store, &sql, &refs)
            })
            .await
    }

    async fn count_matching(&self, filter: &EventFilter) -> StoreResult<u64> {
        let store = self.store();
        let (where_sql, params) = filter_sql(filter);
        self.reader
            .call(move |c| {
                let sql = format!("SELECT COUNT(*) FROM events {where_sql}");
                let refs: Vec<&dyn rusqlite::ToSql> =
                    params.iter().map(|p| p as &dyn rusqlite::ToSql).collect();
                c.query_row(&sql, refs.as_slice(), |r| r.get::<_, i64>(0))
                    .map(|n| n as u64)
                    .map_err(|e| map_err(&store, e))
            })
            .await
    }
}

#[async_trait]
impl CheckpointStore for SqliteLedger {
    async fn load_checkpoint(&self, projector: &str) -> StoreResult<Option<Checkpoint>> {
        let store = self.store();
        let projector = projector.to_string();
        let extra_column = if self.has_extra { "extra" } else { "'{}'" };
        self.reader
            .call(move |c| {
                let row = c
                    .query_row(
                        &format!(
                            "SELECT position, skipped, updated_at, instance, {extra_column} FROM checkpoints WHERE projector = ?1"
                        ),
                        [&projector],
                        |r| {
                            Ok((
                                r.get::<_, i64>(0)?,
                                r.get::<_, String>(1)?,
                                r.get::<_, String>(2)?,
                                r.get::<_, String>(3)?,
                                r.get::<_, String>(4)?,
                            ))
                        },
                    )
                    .optional()
                    .map_err(|e| map_err(&store, e))?;
                Ok(row.map(|(position, skipped, updated_at, instance, extra)| {
                    let extra: CheckpointExtra = serde_json::from_str(&extra).unwrap_or_default();
                    Checkpoint {
                        projector: projector.clone(),
                        position: position.max(0) as u64,
                        skipped: serde_json::from_str(&skipped).unwrap_or_default(),
                        holes: extra.holes,
                        last_error: extra.last_error,
                        error_since: extra.error_since,
                        updated_at: DateTime::parse_from_rfc3339(&updated_at)
                            .map(|t| t.with_timezone(&Utc))
                            .unwrap_or_default(),
                        instance,
                    }
                }))
            })
            .await
    }

    async fn save_checkpoint(&self, checkpoint: &Checkpoint) -> StoreResult<()> {
        self.writable("saving a checkpoint")?;
        let store = self.store();
        let cp = checkpoint.clone();
        self.locks
            .call(move |c| {
                let extra = serde_json::to_string(&CheckpointExtra {
                    holes: cp.holes.clone(),
                    last_error: cp.last_error.clone(),
                    error_since: cp.error_since,
                })
                .unwrap_or_else(|_| "{}".into());
                c.execute(
                    "INSERT INTO checkpoints(projector, position, skipped, updated_at, instance, extra) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT(projector) DO UPDATE SET position = excluded.position, skipped = excluded.skipped,
                     updated_at = excluded.updated_at, instance = excluded.instance, extra = excluded.extra",
                    params![
                        cp.projector,
                        cp.position as i64,
                        serde_json::to_string(&cp.skipped).unwrap_or_else(|_| "[]".into()),
                        format_time(cp.updated_at),
                        cp.instance,
                        extra
                    ],
                )
                .map(|_| ())
                .map_err(|e| map_err(&store, e))
            })
            .await
    }
}

/// The identity in `ledger_meta`, if one was made.
fn read_identity(conn: &Connection, store: &str) -> StoreResult<Option<LedgerIdentity>> {
    let value: Option<String> = conn
        .query_row(
            "SELECT value FROM ledger_meta WHERE key = ?1",
            [IDENTITY_KEY],
            |r| r.get(0),
        )
        .optional()
        .map_err(|e| map_err(store, e))?;
    value
        .map(|v| {
            serde_json::from_str(&v).map_err(|e| StoreError::Failed {
                store: store.to_string(),
                message: format!("the ledger identity in ledger_meta is unreadable ({e})"),
            })
        })
        .transpose()
}

/// While a large snapshot is copied out of the write-ahead log, commits do
/// not copy it themselves.
const NO_AUTOCHECKPOINT: &str = "PRAGMA wal_autocheckpoint=0";
/// SQLite's default: a commit copies the log into the file past 1,000 pages.
const AUTOCHECKPOINT: &str = "PRAGMA wal_autocheckpoint=1000";
/// A snapshot's commit does not wait for the disk; every other commit on
/// the writer (events) does.
const SNAPSHOT_SYNC: &str = "PRAGMA synchronous=NORMAL";
const EVENT_SYNC: &str = "PRAGMA synchronous=FULL";

/// Runs a pragma on `conn`; a failure costs only speed, so it is logged with
/// `then` (what follows from it) and not returned.
async fn pragma(conn: &Conn, sql: &'static str, then: &str) {
    let ran = conn
        .call(move |c| c.execute_batch(sql).map_err(|e| map_err("ledger", e)))
        .await;
    if let Err(error) = ran {
        tracing::warn!(%error, "{then}");
    }
}

#[async_trait]
impl SnapshotStore for SqliteLedger {
    async fn save_snapshot(&self, meta: &SnapshotMeta, chunks: Vec<Vec<u8>>) -> StoreResult<()> {
        self.writable("saving a snapshot")?;
        let store = self.store();
        let meta = meta.clone();
        // A snapshot can be hundreds of MB: committed to the write-ahead log
        // (durable there), and copied into the database file afterwards by
        // the snapshot connection, not by this commit (the commit would
        // otherwise write it all a second time before returning).
        let big = chunks.iter().map(Vec::len).sum::<usize>() > BIG_SNAPSHOT_BYTES;
        // Its commit does not wait for the disk (`synchronous=NORMAL`, 0.1 s
        // of a 148 MB history's 0.3 s save): a snapshot can be taken again
        // from the ledger, a crash can only lose it whole (the log's frames
        // are checksummed), and the next commit of an event waits for the
        // disk and so makes it durable too (the log is written in order).
        let saved = self
            .writer
            .call(move |c| {
                if big {
                    c.execute_batch(NO_AUTOCHECKPOINT)
                        .map_err(|e| map_err(&store, e))?;
                }
                let result = c
                    .execute_batch(SNAPSHOT_SYNC)
                    .map_err(|e| map_err(&store, e))
                    .and_then(|()| save_chunks(c, &store, &meta, &chunks));
                // Back to waiting for the disk, whatever the save did.
                let restored = c.execute_batch(EVENT_SYNC).map_err(|e| map_err(&store, e));
                if big && result.is_err() {
                    c.execute_batch(AUTOCHECKPOINT)
                        .map_err(|e| map_err(&store, e))?;
                }
                restored?;
                result
            })
            .await;
        if big && saved.is_ok() {
            // Nor do the other writing connection's commits (leases and
            // checkpoints) while the copy below runs: the first one to
            // reach the log would copy it itself, and the history pass's
            // lease release waited 150-560 ms for that at 1M.
            pragma(
                &self.locks,
                NO_AUTOCHECKPOINT,
                "a lease's commit may copy the snapshot out of the write-ahead log",
            )
            .await;
            let (snapshots, writer, locks) = (
                self.snapshots.clone(),
                self.writer.clone(),
                self.locks.clone(),
            );
            tokio::spawn(async move {
                pragma(
                    &snapshots,
                    "PRAGMA wal_checkpoint(PASSIVE)",
                    "the snapshot stays in the write-ahead log until the next checkpoint",
                )
                .await;
                for conn in [writer, locks] {
                    pragma(&conn, AUTOCHECKPOINT, "commits on a ledger connection no longer copy the write-ahead log into the file").await;
                }
            });
        }
        saved
    }

    async fn delete_snapshot(&self, id: Uuid) -> StoreResult<()> {
        self.writable("deleting a snapshot")?;
        let store = self.store();
        self.writer
            .call(move |c| {
                let tx = c.transaction().map_err(|e| map_err(&store, e))?;
                let id = id.to_string();
                tx.execute("DELETE FROM snapshots WHERE id = ?1", [&id])
                    .map_err(|e| map_err(&store, e))?;
                tx.execute("DELETE FROM snapshot_chunks WHERE snapshot_id = ?1", [&id])
                    .map_err(|e| map_err(&store, e))?;
                tx.commit().map_err(|e| map_err(&store, e))
            })
            .await
    }

    async fn list_snapshots(&self) -> StoreResult<Vec<SnapshotMeta>> {
        let store = self.store();
        self.snapshots
            .call(move |c| {
                let mut stmt = c
                    .prepare("SELECT meta FROM snapshots ORDER BY position, id")
                    .map_err(|e| map_err(&store, e))?;
                let metas = stmt
                    .query_map([], |r| r.get::<_, String>(0))
                    .map_err(|e| map_err(&store, e))?
                    .filter_map(Result::ok)
                    .filter_map(|text| serde_json::from_str::<SnapshotMeta>(&text).ok())
                    .collect();
                Ok(metas)
            })
            .await
    }

    async fn load_snapshot_chunks(&self, id: Uuid) -> StoreResult<Vec<Vec<u8>>> {
        let store = self.store();
        self.snapshots
            .call(move |c| {
                let mut stmt = c
                    .prepare("SELECT data FROM snapshot_chunks WHERE snapshot_id = ?1 ORDER BY seq")
                    .map_err(|e| map_err(&store, e))?;
                let chunks = stmt
                    .query_map([id.to_string()], |r| r.get::<_, Vec<u8>>(0))
                    .map_err(|e| map_err(&store, e))?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| map_err(&store, e))?;
                Ok(chunks)
            })
            .await
    }

    async fn load_snapshot_chunk_range(
        &self,
        id: Uuid,
        first: u32,
        count: u32,
    ) -> StoreResult<Vec<Vec<u8>>> {
        if count == 0 {
            return Ok(Vec::new());
        }
        let store = self.store();
        // u32 + u32 fits in i64: no overflow at the end of the range.
        let (start, end) = (i64::from(first), i64::from(first) + i64::from(count));
        let conn = match self.snapshot_turn.fetch_add(1, Ordering::Relaxed) % 2 {
            0 => &self.snapshots,
            _ => &self.snapshot_side,
        };
        conn.call(move |c| {
            // A range scan of the (snapshot_id, seq) primary key, for the
            // row ids only: each chunk is then read straight into its
            // buffer through the incremental blob API. Reading the column
            // would have SQLite assemble the blob in a buffer of its own
            // first (a second copy of a 28 MB index at 1M events).
            let rowids: Vec<(i64, i64)> = {
                let mut stmt = c
                    .prepare(
                        "SELECT seq, rowid FROM snapshot_chunks
                             WHERE snapshot_id = ?1 AND seq >= ?2 AND seq < ?3 ORDER BY seq",
                    )
                    .map_err(|e| map_err(&store, e))?;
                let rows = stmt
                    .query_map(params![id.to_string(), start, end], |r| {
                        Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
                    })
                    .map_err(|e| map_err(&store, e))?;
                rows.collect::<Result<_, _>>()
                    .map_err(|e| map_err(&store, e))?
            };
            // Keep the contiguous prefix from `first`.
            let mut chunks = Vec::new();
            for (expected, (seq, rowid)) in (start..).zip(rowids) {
                if seq != expected {
                    break; // a gap: the caller reports the short read
                }
                let mut blob = c
                    .blob_open(MAIN_DB, c"snapshot_chunks", c"data", rowid, true)
                    .map_err(|e| map_err(&store, e))?;
                let mut data = vec![0u8; blob.len()];
                std::io::Read::read_exact(&mut blob, &mut data).map_err(|e| {
                    StoreError::Failed {
                        store: store.clone(),
                        message: format!("reading snapshot chunk {seq}: {e}"),
                    }
                })?;
                chunks.push(data);
            }
            Ok(chunks)
        })
        .await
    }
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// A row of `locks`: owner, fencing, expiry and renewal (ms since the epoch).
type LockRow = (String, i64, i64, Option<i64>);

fn lease_from(name: String, (owner, fencing, expires_ms, renewed_ms): LockRow) -> Lease {
    Lease {
        name,
        owner,
        fencing: fencing.max(0) as u64,
        expires_at: DateTime::from_timestamp_millis(expires_ms).unwrap_or_default(),
        renewed_at: renewed_ms.and_then(DateTime::from_timestamp_millis),
    }
}

impl SqliteLedger {
    /// The stored row of lease `name`, expired or not.
    async fn lock_row(&self, name: &str) -> StoreResult<Option<LockRow>> {
        let store = self.store();
        let name = name.to_string();
        let renewed = if self.has_renewed {
            "renewed_at_ms"
        } else {
            "NULL"
        };
        let sql =
            format!("SELECT owner, fencing, expires_at_ms, {renewed} FROM locks WHERE name = ?1");
        self.reader
            .call(move |c| {
                c.query_row(&sql, [&name], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })
                .optional()
                .map_err(|e| map_err(&store, e))
            })
            .await
    }
}

#[async_trait]
impl LockFactory for SqliteLedger {
    async fn try_acquire(
        &self,
        name: &str,
        owner: &str,
        ttl: Duration,
    ) -> StoreResult<Option<Lease>> {
        self.writable("taking a lease")?;
        let store = self.store();
        let (name, owner) = (name.to_string(), owner.to_string());
        self.locks
            .call(move |c| {
                let tx = c
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .map_err(|e| map_err(&store, e))?;
                let now = now_ms();
                let expires = now + ttl.as_millis() as i64;
                let current = tx
                    .query_row("SELECT owner, fencing, expires_at_ms FROM locks WHERE name = ?1", [&name], |r| {
                        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
                    })
                    .optional()
                    .map_err(|e| map_err(&store, e))?;
                let fencing = match current {
                    Some((holder, fencing, until)) if holder == owner && until > now => fencing,
                    Some((_, _, until)) if until > now => return Ok(None),
                    _ => {
                        tx.execute(
                            "INSERT INTO lock_fencing(id, last) VALUES (1, 1)
                             ON CONFLICT(id) DO UPDATE SET last = last + 1",
                            [],
                        )
                        .map_err(|e| map_err(&store, e))?;
                        tx.query_row("SELECT last FROM lock_fencing WHERE id = 1", [], |r| r.get::<_, i64>(0))
                            .map_err(|e| map_err(&store, e))?
                    }
                };
                tx.execute(
                    "INSERT INTO locks(name, owner, fencing, expires_at_ms, renewed_at_ms) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT(name) DO UPDATE SET owner = excluded.owner, fencing = excluded.fencing,
                     expires_at_ms = excluded.expires_at_ms, renewed_at_ms = excluded.renewed_at_ms",
                    params![name, owner, fencing, expires, now],
                )
                .map_err(|e| map_err(&store, e))?;
                tx.commit().map_err(|e| map_err(&store, e))?;
                Ok(Some(lease_from(name, (owner, fencing, expires, Some(now)))))
            })
            .await
    }

    async fn release(&self, lease: &Lease) -> StoreResult<()> {
        self.writable("releasing a lease")?;
        let store = self.store();
        let lease = lease.clone();
        self.locks
            .call(move |c| delete_lease(c, &lease).map_err(|e| map_err(&store, e)))
            .await
    }

    async fn holder(&self, name: &str) -> StoreResult<Option<Lease>> {
        Ok(self
            .lock_row(name)
            .await?
            .filter(|row| row.2 > now_ms())
            .map(|row| lease_from(name.to_string(), row)))
    }

    async fn last_lease(&self, name: &str) -> StoreResult<Option<Lease>> {
        Ok(self
            .lock_row(name)
            .await?
            .map(|row| lease_from(name.to_string(), row)))
    }
}

/// Snapshots above this size are checkpointed after their commit, not in it.
const BIG_SNAPSHOT_BYTES: usize = 16 << 20;

/// Stores a snapshot's chunks, then its metadata, in one transaction.
fn save_chunks(
    c: &mut rusqlite::Connection,
    store: &str,
    meta: &SnapshotMeta,
    chunks: &[Vec<u8>],
) -> StoreResult<()> {
    let tx = c.transaction().map_err(|e| map_err(store, e))?;
    {
        let mut stmt = tx
            .prepare("INSERT INTO snapshot_chunks(snapshot_id, seq, data) VALUES (?1, ?2, ?3)")
            .map_err(|e| map_err(store, e))?;
        for (seq, chunk) in chunks.iter().enumerate() {
            stmt.execute(params![meta.id.to_string(), seq as i64, chunk])
                .map_err(|e| map_err(store, e))?;
        }
    }
    let meta_json = serde_json::to_string(meta).map_err(|e| StoreError::Failed {
        store: store.to_string(),
        message: e.to_string(),
    })?;
    tx.execute(
        "INSERT INTO snapshots(id, position, meta) VALUES (?1, ?2, ?3)",
        params![meta.id.to_string(), meta.position as i64, meta_json],
    )
    .map_err(|e| map_err(store, e))?;
    tx.commit().map_err(|e| map_err(store, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::MAPPED;

    fn setting(conn: &Conn, pragma: &str) -> i64 {
        let guard = conn.inner.lock().unwrap();
        guard
            .query_row(&format!("PRAGMA {pragma}"), [], |r| r.get(0))
            .unwrap()
    }

    fn synchronous(conn: &Conn) -> i64 {
        setting(conn, "synchronous")
    }

    /// The snapshot connections of a writable ledger read through a memory
    /// map and give back the chunks saved (one over many pages, one on a
    /// page of its own); a read-only copy reads them with system calls.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn snapshot_chunks_are_read_through_a_map_except_on_a_copy() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.sqlite3");
        let ledger = SqliteLedger::open(&path, false).unwrap();
        for conn in [&ledger.snapshots, &ledger.snapshot_side] {
            assert_eq!(setting(conn, "mmap_size"), MAPPED as i64);
        }
        assert_eq!(setting(&ledger.reader, "mmap_size"), 0);
        let chunks: Vec<Vec<u8>> = vec![
            (0..3_000_000u32).map(|i| (i % 251) as u8).collect(),
            b"tail".to_vec(),
        ];
        let meta = SnapshotMeta {
            id: Uuid::new_v4(),
            position: 1,
            taken_at: Utc::now(),
            size_bytes: 3_000_004,
            chunks: 2,
            ..SnapshotMeta::empty_ledger()
        };
        ledger.save_snapshot(&meta, chunks.clone()).await.unwrap();
        // Out of the write-ahead log and into the file, where the map reads.
        ledger
            .writer
            .call(|c| {
                c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
                    .map_err(|e| map_err("ledger", e))
            })
            .await
            .unwrap();
        for _ in 0..2 {
            let read = ledger
                .load_snapshot_chunk_range(meta.id, 0, 2)
                .await
                .unwrap();
            assert!(
                read == chunks,
                "the chunks read through the map differ from those saved"
            );
        }
        drop(ledger);
        let copy = SqliteLedger::open(&path, true).unwrap();
        for conn in [&copy.snapshots, &copy.snapshot_side] {
            assert_eq!(setting(conn, "mmap_size"), 0);
        }
        assert!(copy.load_snapshot_chunk_range(meta.id, 0, 2).await.unwrap() == chunks);
    }

    /// A snapshot's commit does not wait for the disk; the writer's event
    /// commits after it do again (2 = FULL), after a big save and after a
    /// failed one.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn events_after_a_snapshot_save_wait_for_the_disk_again() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = SqliteLedger::open(&dir.path().join("ledger.sqlite3"), false).unwrap();
        assert_eq!(synchronous(&ledger.writer), 2);
        let big = vec![vec![7u8; 1 << 20]; 20];
        let saved = SnapshotMeta {
            id: Uuid::new_v4(),
            position: 1,
            taken_at: Utc::now(),
            size_bytes: 20 << 20,
            chunks: 20,
            ..SnapshotMeta::empty_ledger()
        };
        ledger.save_snapshot(&saved, big).await.unwrap();
        assert_eq!(synchronous(&ledger.writer), 2);
        // The same id again: the save fails, the setting is restored.
        assert!(ledger.save_snapshot(&saved, vec![vec![1]]).await.is_err());
        assert_eq!(synchronous(&ledger.writer), 2);
        assert_eq!(ledger.list_snapshots().await.unwrap().len(), 1);
    }
}
