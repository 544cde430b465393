//! `ledger.sqlite3`: events (append-only, enforced by triggers), checkpoints,
//! chunked snapshots and leases.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use rusqlite::Connection;

use super::{Conn, Durability, label, map_err, migrations};
use crate::store::{Hole, StoreError, StoreResult};
use rows::SparePages;

mod append;
mod checkpoints;
mod events;
mod locks;
mod models;
mod repairs;
mod rows;
mod snapshots;

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

#[cfg(test)]
mod tests;
