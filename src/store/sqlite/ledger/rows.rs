//! Reading `events` rows: decoding them (borrowed, tolerant of anything a
//! foreign writer left) and the queries that select them.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use rusqlite::types::{Value as SqlValue, ValueRef};
use rusqlite::{Connection, Row};
use uuid::Uuid;

use super::{COLUMNS, format_time};
use crate::domain::{DomainEvent, EventMetadata, StoredEvent};
use crate::store::sqlite::map_err;
use crate::store::{EntryError, EventFilter, FoldEntry, LedgerEntry, MalformedEvent, StoreResult};

/// Reads one `events` row, tolerating anything a foreign writer or a hand edit
/// could have put there. Columns are borrowed, not copied: only the fields the
/// event keeps are allocated (this is the replay and time-travel hot path).
pub(super) fn read_entry(row: &Row<'_>) -> rusqlite::Result<LedgerEntry> {
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
pub(super) struct CopiedRows {
    bytes: Vec<u8>,
    pub(super) rows: Vec<(u64, [Cell; 10])>,
}

/// Page buffers to reuse: as many as a scan has pages in flight.
#[derive(Clone, Default)]
pub(super) struct SparePages(Arc<Mutex<Vec<CopiedRows>>>);

impl SparePages {
    const KEPT: usize = 4;

    pub(super) fn take(&self) -> CopiedRows {
        self.0
            .lock()
            .ok()
            .and_then(|mut spare| spare.pop())
            .unwrap_or_default()
    }

    pub(super) fn give_back(&self, mut page: CopiedRows) {
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
pub(super) enum Cell {
    Null,
    Integer(i64),
    Real(f64),
    Text(usize, usize),
    Blob(usize, usize),
}

impl CopiedRows {
    pub(super) fn push(&mut self, row: &Row<'_>) -> rusqlite::Result<()> {
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
    pub(super) fn fold_entries(&self) -> Vec<FoldEntry> {
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
pub(super) fn row_values<'a>(row: &'a Row<'_>) -> rusqlite::Result<(u64, [ValueRef<'a>; 10])> {
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
    parse_entry(position, values).map_err(|error| MalformedEvent {
        position,
        reason: error.to_string(),
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

fn parse_entry(position: u64, v: &[ValueRef<'_>]) -> Result<StoredEvent, EntryError> {
    fn text<'a>(v: &ValueRef<'a>, name: &'static str) -> Result<&'a str, EntryError> {
        match v {
            ValueRef::Text(t) => std::str::from_utf8(t).map_err(|_| EntryError::NotUtf8(name)),
            ValueRef::Null => Err(EntryError::Missing(name)),
            other => Err(EntryError::WrongType {
                field: name,
                expected: "text",
                found: format!("{:?}", other.data_type()),
            }),
        }
    }
    fn int(v: &ValueRef<'_>, name: &'static str) -> Result<u64, EntryError> {
        match v {
            ValueRef::Integer(i) if *i >= 0 => Ok(*i as u64),
            ValueRef::Null => Err(EntryError::Missing(name)),
            other => Err(EntryError::WrongType {
                field: name,
                expected: "a non-negative integer",
                found: format!("{other:?}"),
            }),
        }
    }
    fn uuid(v: &ValueRef<'_>, name: &'static str) -> Result<Uuid, EntryError> {
        let t = text(v, name)?;
        Uuid::parse_str(t).map_err(|source| EntryError::NotUuid {
            field: name,
            text: t.to_string(),
            source,
        })
    }
    if position == 0 {
        return Err(EntryError::NoPosition);
    }
    let recorded = text(&v[7], "recorded_at")?;
    let recorded_at = DateTime::parse_from_rfc3339(recorded)
        .map_err(|source| EntryError::NotRfc3339 {
            text: recorded.to_string(),
            source,
        })?
        .with_timezone(&Utc);
    let payload_text = text(&v[8], "payload")?;
    let payload: serde_json::Value =
        serde_json::from_str(payload_text).map_err(EntryError::PayloadJson)?;
    let metadata = match &v[9] {
        ValueRef::Null => EventMetadata::default(),
        other => {
            let t = text(other, "metadata")?;
            serde_json::from_str(t).map_err(EntryError::Metadata)?
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
            .map_err(|_| EntryError::SchemaVersionTooLarge)?,
        recorded_at,
        payload,
        metadata,
    })
}

pub(super) fn query_entries(
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
pub(super) fn range_rows<T>(
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

/// Builds the WHERE clause and parameters of a timeline filter.
pub(super) fn filter_sql(filter: &EventFilter) -> (String, Vec<SqlValue>) {
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
