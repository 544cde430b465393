//! `views.sqlite3`: the read tables and each projector's position, written in
//! the same transaction as its rows.

use std::path::{Path, PathBuf};

use chrono::{NaiveDate, Utc};
use rusqlite::{Connection, Transaction, params};
use uuid::Uuid;

use super::ledger::format_time;
use super::{Conn, Durability, label, map_err};
use crate::domain::model::DescribedRow;
use crate::domain::model::ModelVersions;
use crate::domain::{BookingRow, ProjectorId, RowChange, Table, TableRows, UserRow};
use crate::store::{BulkControl, StoreError, StoreResult};

mod cells;
mod port;
mod published;
mod rewrite;
mod stamp;

use cells::{create_sql, insert_row, insert_sql, insert_with, page_sql, read_rows, update_row};
use stamp::{check_stamp, write_stamp};

/// Both read tables' `CREATE TABLE IF NOT EXISTS`, named `{table}{suffix}`.
fn table_sql(suffix: &str) -> String {
    Table::ALL
        .iter()
        .map(|t| create_sql(t.description(), suffix))
        .collect()
}

const STATE_SQL: &str = "CREATE TABLE IF NOT EXISTS projection_state(
    projector TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    updated_at TEXT NOT NULL
);";

const INDEXES_SQL: &str = "CREATE INDEX IF NOT EXISTS bookings_user ON bookings(user_id);";

/// Which ledger the tables were built from: one row, written with the rows
/// it vouches for (replay's swap) or by the identity check (adoption); and
/// beside it, the schema version of each model they were built with (no
/// row: version 1, tables stamped before versions existed).
const IDENTITY_SQL: &str = "CREATE TABLE IF NOT EXISTS ledger_identity(
    id INTEGER PRIMARY KEY CHECK (id = 1),
    ledger_id TEXT NOT NULL,
    stamped_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS read_schema(
    model TEXT PRIMARY KEY,
    version INTEGER NOT NULL
);";

/// The embedded read store.
pub struct SqliteViews {
    path: PathBuf,
    writer: Conn,
    reader: Conn,
    /// Opened for inspection: every write is refused.
    read_only: bool,
}

impl SqliteViews {
    /// Opens `views.sqlite3` at `path`: creating it unless `read_only`,
    /// when the file must exist and nothing is written.
    pub fn open(path: &Path, read_only: bool) -> StoreResult<Self> {
        let store = label(path);
        if read_only {
            return Ok(SqliteViews {
                path: path.to_path_buf(),
                reader: Conn::open_read_only(path, &store)?,
                writer: Conn::open_read_only(path, &store)?,
                read_only,
            });
        }
        let writer = Conn::open(path, &store, Durability::Normal)?;
        {
            let guard = writer
                .inner
                .lock()
                .map_err(|_| StoreError::Config("poisoned".into()))?;
            guard
                .execute_batch(&format!(
                    "{}{STATE_SQL}{INDEXES_SQL}{IDENTITY_SQL}",
                    table_sql("")
                ))
                .map_err(|e| map_err(&store, e))?;
        }
        Ok(SqliteViews {
            path: path.to_path_buf(),
            reader: Conn::open(path, &store, Durability::Normal)?,
            writer,
            read_only,
        })
    }

    fn store(&self) -> String {
        self.writer.store().to_string()
    }

    /// A page of `R`'s table after `after` in key order.
    async fn page<R: DescribedRow + Send + 'static>(
        &self,
        after: Option<Uuid>,
        limit: usize,
    ) -> StoreResult<Vec<R>> {
        let store = self.store();
        self.reader
            .call(move |c| {
                let mut stmt = c
                    .prepare_cached(&page_sql(&R::DESCRIPTION))
                    .map_err(|e| map_err(&store, e))?;
                let after = after.map(|u| u.to_string()).unwrap_or_default();
                read_rows(&mut stmt, &store, params![after, limit as i64])
            })
            .await
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

fn bad_row(store: &str, table: &str, key: &str, what: String) -> StoreError {
    StoreError::Failed {
        store: store.to_string(),
        message: format!("{table} row {key}: {what}"),
    }
}

/// `YYYY-MM-DD` exactly, as the views write dates: read without chrono's
/// format parser (a tenth of a `verify` went there). Any other text is left
/// to `parse_from_str`, which reads it as before.
fn iso_date(text: &str) -> Option<NaiveDate> {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        b.get(range)?.iter().try_fold(0u32, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = i32::try_from(digits(0..4)?).ok()?;
    NaiveDate::from_ymd_opt(year, digits(5..7)?, digits(8..10)?)
}

fn apply_change(tx: &Transaction<'_>, change: &RowChange) -> rusqlite::Result<usize> {
    match change {
        RowChange::InsertUserIfAbsent(u) => insert_row(tx, "users", u, true),
        RowChange::InsertBookingIfAbsent(b) => insert_row(tx, "bookings", b, true),
        _ => update_row(tx, change),
    }
}

fn set_position(
    tx: &Transaction<'_>,
    projector: ProjectorId,
    position: u64,
) -> rusqlite::Result<usize> {
    tx.prepare_cached(
        "INSERT INTO projection_state(projector, position, updated_at) VALUES (?1, ?2, ?3)
         ON CONFLICT(projector) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at",
    )?
    .execute(params![projector.name(), position as i64, format_time(Utc::now())])
}

/// A date as `YYYY-MM-DD` without a heap allocation when the year has four
/// digits (the bulk load writes two per booking); `NaiveDate`'s own text
/// otherwise, so both paths store the same text.
enum DateText<'a> {
    Short(&'a str),
    Long(String),
}

impl<'a> DateText<'a> {
    fn new(date: NaiveDate, buf: &'a mut [u8; 10]) -> Self {
        use chrono::Datelike;
        let (year, month, day) = (date.year(), date.month(), date.day());
        if !(0..=9999).contains(&year) {
            return DateText::Long(date.to_string());
        }
        let year = year as u32;
        let digits = [
            year / 1000,
            year / 100 % 10,
            year / 10 % 10,
            year % 10,
            month / 10,
            month % 10,
            day / 10,
            day % 10,
        ];
        let at = [0, 1, 2, 3, 5, 6, 8, 9];
        buf[4] = b'-';
        buf[7] = b'-';
        for (i, d) in at.iter().zip(digits) {
            buf[*i] = b'0' + d as u8;
        }
        match std::str::from_utf8(buf) {
            Ok(text) => DateText::Short(text),
            Err(_) => DateText::Long(date.to_string()),
        }
    }

    fn as_str(&self) -> &str {
        match self {
            DateText::Short(text) => text,
            DateText::Long(text) => text,
        }
    }
}

/// Rows per bulk-load transaction step (cancellation is checked between steps).
const BULK_STEP_ROWS: usize = 20_000;

/// Inserts `rows` with `insert`, one transaction per [`BULK_STEP_ROWS`],
/// checking for a cancel and reporting `written` between them.
#[allow(clippy::too_many_arguments)]
fn load_steps<R>(
    conn: &mut Connection,
    store: &str,
    control: &BulkControl,
    written: &mut u64,
    sql: &str,
    rows: impl Iterator<Item = R>,
    mut insert: impl FnMut(&mut rusqlite::Statement<'_>, R) -> rusqlite::Result<usize>,
) -> StoreResult<()> {
    let e = |err| map_err(store, err);
    let mut rows = rows.peekable();
    while rows.peek().is_some() {
        if control.cancelled() {
            return Err(StoreError::Cancelled);
        }
        let tx = conn.transaction().map_err(e)?;
        {
            let mut stmt = tx.prepare_cached(sql).map_err(e)?;
            for row in rows.by_ref().take(BULK_STEP_ROWS) {
                insert(&mut stmt, row).map_err(e)?;
                *written += 1;
            }
        }
        tx.commit().map_err(e)?;
        (control.on_rows)(*written);
    }
    Ok(())
}

fn bulk_load(
    conn: &mut Connection,
    store: &str,
    ledger: Uuid,
    versions: ModelVersions,
    rows: &dyn TableRows,
    control: &BulkControl,
) -> StoreResult<()> {
    let e = |err| map_err(store, err);
    conn.execute_batch("DROP TABLE IF EXISTS users_next; DROP TABLE IF EXISTS bookings_next;")
        .map_err(e)?;
    conn.execute_batch(&table_sql("_next")).map_err(e)?;
    let mut written = 0u64;
    load_steps(
        conn,
        store,
        control,
        &mut written,
        &insert_sql(&UserRow::DESCRIPTION, "users_next", false),
        rows.users(),
        |stmt, u| insert_with(stmt, &u),
    )?;
    load_steps(
        conn,
        store,
        control,
        &mut written,
        &insert_sql(&BookingRow::DESCRIPTION, "bookings_next", false),
        rows.bookings(),
        |stmt, b| insert_with(stmt, &b),
    )?;
    if control.cancelled() {
        return Err(StoreError::Cancelled);
    }
    // The swap: readers see the old tables or the new ones, never a mix.
    let tx = conn.transaction().map_err(e)?;
    tx.execute_batch(
        "DROP TABLE users; DROP TABLE bookings;
         ALTER TABLE users_next RENAME TO users; ALTER TABLE bookings_next RENAME TO bookings;",
    )
    .map_err(e)?;
    tx.execute_batch(INDEXES_SQL).map_err(e)?;
    for projector in ProjectorId::ALL {
        set_position(&tx, projector, rows.position()).map_err(e)?;
    }
    tx.execute_batch(IDENTITY_SQL).map_err(e)?;
    write_stamp(&tx, ledger, versions).map_err(e)?;
    tx.commit().map_err(e)
}

#[cfg(test)]
mod tests;
