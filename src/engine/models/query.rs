//! Reads a built model: its rows at any position (from the row history),
//! the difference between two positions, every version of one row with the
//! position of the event that made it, a numeric column's sum over
//! positions, and the events a block could not apply.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::build::meta;
use super::{HISTORY_SUFFIX, ModelError, quote};
use crate::domain::model::{ColumnType, ModelDef, TableDef, Value};
use crate::domain::state::DiffKind;

/// One version of a row: its cells and the positions it was valid in.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RowVersion {
    /// Its cells, in the table's column order.
    pub cells: Vec<Value>,
    /// The position of the event that made this version.
    pub valid_from: u64,
    /// The position of the event that replaced or removed it (`None`: current).
    pub valid_to: Option<u64>,
}

/// How one row differs between two positions.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RowChange {
    /// The row's key cells.
    pub key: Vec<Value>,
    /// Its cells at the first position (`None`: not there).
    pub before: Option<Vec<Value>>,
    /// Its cells at the second position (`None`: not there).
    pub after: Option<Vec<Value>>,
}

impl RowChange {
    /// Whether the row was added, removed or changed.
    pub fn kind(&self) -> DiffKind {
        match (&self.before, &self.after) {
            (None, _) => DiffKind::Added,
            (_, None) => DiffKind::Removed,
            _ => DiffKind::Changed,
        }
    }

    /// The indexes of the columns whose cells differ (every column of an
    /// added or removed row).
    pub fn changed_columns(&self) -> Vec<usize> {
        match (&self.before, &self.after) {
            (Some(a), Some(b)) => (0..a.len().max(b.len()))
                .filter(|&i| a.get(i) != b.get(i))
                .collect(),
            (Some(cells), None) | (None, Some(cells)) => (0..cells.len()).collect(),
            (None, None) => Vec::new(),
        }
    }
}

/// An event a block could not apply.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ApplyError {
    /// Its position.
    pub position: u64,
    /// Its type (empty for an entry that is not an event).
    pub event_type: String,
    /// The statement of the block that failed (from 1), if one did.
    pub statement: Option<u64>,
    /// The line of that statement in the model's text.
    pub line: Option<u64>,
    /// Why.
    pub reason: String,
}

/// A built model's file, open for reading.
pub struct ModelReader {
    conn: Connection,
    path: PathBuf,
    def: ModelDef,
    position: u64,
}

impl ModelReader {
    /// Opens the file at `path` read-only (`NotBuilt` when there is none).
    pub fn open(path: &Path, name: &str) -> Result<Self, ModelError> {
        if !path.exists() {
            return Err(ModelError::NotBuilt(name.to_string()));
        }
        let err = ModelError::file(path);
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(&err)?;
        let def = meta(&conn, "definition")
            .map_err(&err)?
            .and_then(|d| serde_json::from_str::<ModelDef>(&d).ok())
            .ok_or_else(|| ModelError::NotBuilt(name.to_string()))?;
        let position = meta(&conn, "position")
            .map_err(&err)?
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        Ok(ModelReader {
            conn,
            path: path.to_path_buf(),
            def,
            position,
        })
    }

    /// The model's description as built.
    pub fn def(&self) -> &ModelDef {
        &self.def
    }

    /// The last position folded.
    pub fn position(&self) -> u64 {
        self.position
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> ModelError + '_ {
        ModelError::file(&self.path)
    }

    /// The table named `name`.
    pub fn table(&self, name: &str) -> Result<&TableDef, ModelError> {
        self.def.table(name).ok_or_else(|| {
            ModelError::Unknown(format!("model {} has no table {name}", self.def.name))
        })
    }

    /// The rows of `table` at `at` (clamped to the last position folded),
    /// in key order, at most `limit`.
    pub fn rows_at(
        &self,
        table: &str,
        at: u64,
        limit: Option<usize>,
    ) -> Result<Vec<Vec<Value>>, ModelError> {
        let t = self.table(table)?;
        let mut rows = Vec::new();
        self.each_row_at(t, at, limit, |cells| rows.push(cells))?;
        Ok(rows)
    }

    /// Hands every row of `table` at `at` to `each`, in key order, without
    /// collecting them.
    pub fn for_each_row_at(
        &self,
        table: &str,
        at: u64,
        each: impl FnMut(Vec<Value>),
    ) -> Result<(), ModelError> {
        let t = self.table(table)?;
        self.each_row_at(t, at, None, each)
    }

    /// How many rows `table` has at `at`.
    pub fn count_at(&self, table: &str, at: u64) -> Result<u64, ModelError> {
        let t = self.table(table)?;
        let sql = format!(
            "SELECT count(*) FROM {h} WHERE valid_from <= ?1 AND (valid_to IS NULL OR valid_to > ?1)",
            h = history(t)
        );
        self.conn
            .query_row(&sql, [self.clamp(at) as i64], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
            .map_err(self.err())
    }

    fn clamp(&self, at: u64) -> u64 {
        at.min(self.position)
    }

    fn each_row_at(
        &self,
        t: &TableDef,
        at: u64,
        limit: Option<usize>,
        mut each: impl FnMut(Vec<Value>),
    ) -> Result<(), ModelError> {
        let sql = format!(
            "SELECT {cols} FROM {h} WHERE valid_from <= ?1 AND (valid_to IS NULL OR valid_to > ?1)
             ORDER BY {key} LIMIT ?2",
            cols = columns(t),
            h = history(t),
            key = key(t),
        );
        let mut stmt = self.conn.prepare(&sql).map_err(self.err())?;
        let limit = limit.map_or(-1, |l| l as i64);
        let mut rows = stmt
            .query(rusqlite::params![self.clamp(at) as i64, limit])
            .map_err(self.err())?;
        while let Some(row) = rows.next().map_err(self.err())? {
            each(cells(t, row, 0)?);
        }
        Ok(())
    }

    /// A SHA-256 over every table's rows at `at`, in key order: equal for
    /// equal contents.
    pub fn digest_at(&self, at: u64) -> Result<String, ModelError> {
        let mut hasher = Sha256::new();
        for t in &self.def.tables {
            hasher.update(t.name.as_bytes());
            hasher.update([0u8]);
            self.each_row_at(t, at, None, |cells| {
                for cell in cells {
                    let text = cell_text(&cell);
                    hasher.update((text.len() as u64).to_le_bytes());
                    hasher.update(text.as_bytes());
                }
            })?;
        }
        Ok(hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect())
    }

    /// The rows of `table` that differ between positions `from` and `to`, in key order.
    pub fn diff(&self, table: &str, from: u64, to: u64) -> Result<Vec<RowChange>, ModelError> {
        let t = self.table(table)?;
        let (a, b) = (self.clamp(from.min(to)), self.clamp(from.max(to)));
        let sql = format!(
            "SELECT DISTINCT {key} FROM {h}
             WHERE (valid_from > ?1 AND valid_from <= ?2) OR (valid_to > ?1 AND valid_to <= ?2)
             ORDER BY {key}",
            key = key(t),
            h = history(t)
        );
        let keys = self.keys(t, &sql, rusqlite::params![a as i64, b as i64])?;
        let mut changes = Vec::new();
        for key in keys {
            let before = self.version_at(t, &key, from)?;
            let after = self.version_at(t, &key, to)?;
            if before != after {
                changes.push(RowChange { key, before, after });
            }
        }
        Ok(changes)
    }

    fn version_at(
        &self,
        t: &TableDef,
        key: &[Value],
        at: u64,
    ) -> Result<Option<Vec<Value>>, ModelError> {
        self.row_at("main", t, key, at)
    }

    /// The cells of the row of `t` under `key` at `at` in the database
    /// `schema` of this connection (`main`, or a file attached to it).
    fn row_at(
        &self,
        schema: &str,
        t: &TableDef,
        key: &[Value],
        at: u64,
    ) -> Result<Option<Vec<Value>>, ModelError> {
        let n = key.len();
        let sql = format!(
            "SELECT {cols} FROM {schema}.{h} WHERE {filter}
             AND valid_from <= ?{p} AND (valid_to IS NULL OR valid_to > ?{p}) LIMIT 1",
            cols = columns(t),
            h = history(t),
            filter = key_filter(t),
            p = n + 1,
        );
        let mut stmt = self.conn.prepare_cached(&sql).map_err(self.err())?;
        let mut bound: Vec<rusqlite::types::Value> = key.iter().map(sql_value).collect();
        bound.push(rusqlite::types::Value::Integer(at as i64));
        let mut rows = stmt
            .query(rusqlite::params_from_iter(bound))
            .map_err(self.err())?;
        match rows.next().map_err(self.err())? {
            Some(row) => Ok(Some(cells(t, row, 0)?)),
            None => Ok(None),
        }
    }

    /// The rows of `table` that differ between this file at `at` and the
    /// model's file at `other` (built from the same text, e.g. with events
    /// left out) at `other_at`, in key order.
    pub fn compare_with(
        &self,
        other: &Path,
        table: &str,
        at: u64,
        other_at: u64,
    ) -> Result<Vec<RowChange>, ModelError> {
        let t = self.table(table)?;
        self.conn
            .execute("ATTACH DATABASE ?1 AS other", [other.display().to_string()])
            .map_err(ModelError::file(other))?;
        let changes = self.compare_attached(t, self.clamp(at), other_at);
        self.conn
            .execute_batch("DETACH DATABASE other")
            .map_err(self.err())?;
        changes
    }

    fn compare_attached(
        &self,
        t: &TableDef,
        at: u64,
        other_at: u64,
    ) -> Result<Vec<RowChange>, ModelError> {
        let live = "valid_from <= ?{p} AND (valid_to IS NULL OR valid_to > ?{p})";
        let sql = format!(
            "WITH a AS (SELECT {cols} FROM main.{h} WHERE {a}),
                  b AS (SELECT {cols} FROM other.{h} WHERE {b})
             SELECT DISTINCT {key} FROM (
                 SELECT * FROM (SELECT * FROM a EXCEPT SELECT * FROM b)
                 UNION ALL
                 SELECT * FROM (SELECT * FROM b EXCEPT SELECT * FROM a))
             ORDER BY {key}",
            cols = columns(t),
            h = history(t),
            key = key(t),
            a = live.replace("{p}", "1"),
            b = live.replace("{p}", "2"),
        );
        let keys = self.keys(t, &sql, rusqlite::params![at as i64, other_at as i64])?;
        let mut changes = Vec::with_capacity(keys.len());
        for key in keys {
            let before = self.row_at("main", t, &key, at)?;
            let after = self.row_at("other", t, &key, other_at)?;
            if before != after {
                changes.push(RowChange { key, before, after });
            }
        }
        Ok(changes)
    }

    /// The keys `sql` selects (the key's columns, in key order).
    fn keys(
        &self,
        t: &TableDef,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<Vec<Value>>, ModelError> {
        let mut stmt = self.conn.prepare(sql).map_err(self.err())?;
        let mut keys = Vec::new();
        let mut rows = stmt.query(params).map_err(self.err())?;
        while let Some(row) = rows.next().map_err(self.err())? {
            let mut key = Vec::new();
            for (n, &i) in t.key.iter().enumerate() {
                key.push(cell(t.columns[i].ty, row.get_ref(n).map_err(self.err())?));
            }
            keys.push(key);
        }
        Ok(keys)
    }

    /// The text the file was built from.
    pub fn source(&self) -> Result<Option<String>, ModelError> {
        meta(&self.conn, "source").map_err(self.err())
    }

    /// Every version of the row of `table` under `key`, oldest first.
    pub fn row_history(&self, table: &str, key: &[Value]) -> Result<Vec<RowVersion>, ModelError> {
        let t = self.table(table)?;
        if key.len() != t.key.len() {
            return Err(ModelError::Unknown(format!(
                "table {table}'s key has {} column(s), not {}",
                t.key.len(),
                key.len()
            )));
        }
        let filter = key_filter(t);
        let sql = format!(
            "SELECT {cols}, valid_from, valid_to FROM {h} WHERE {filter} ORDER BY valid_from",
            cols = columns(t),
            h = history(t)
        );
        let mut stmt = self.conn.prepare(&sql).map_err(self.err())?;
        let bound: Vec<rusqlite::types::Value> = key.iter().map(sql_value).collect();
        let mut rows = stmt
            .query(rusqlite::params_from_iter(bound))
            .map_err(self.err())?;
        let mut versions = Vec::new();
        let n = t.columns.len();
        while let Some(row) = rows.next().map_err(self.err())? {
            let valid_from: i64 = row.get(n).map_err(self.err())?;
            let valid_to: Option<i64> = row.get(n + 1).map_err(self.err())?;
            if valid_to == Some(valid_from) {
                continue;
            }
            versions.push(RowVersion {
                cells: cells(t, row, 0)?,
                valid_from: valid_from as u64,
                valid_to: valid_to.map(|p| p as u64),
            });
        }
        Ok(versions)
    }

    /// The sum of `column` over `table`'s rows at each of `positions`.
    pub fn series(
        &self,
        table: &str,
        column: &str,
        positions: &[u64],
    ) -> Result<Vec<(u64, f64)>, ModelError> {
        let t = self.table(table)?;
        let Some(c) = t.column(column) else {
            return Err(ModelError::Unknown(format!(
                "table {table} has no column {column}"
            )));
        };
        let sql = format!(
            "SELECT total({c}) FROM {h} WHERE valid_from <= ?1 AND (valid_to IS NULL OR valid_to > ?1)",
            c = quote(&t.columns[c].name),
            h = history(t)
        );
        let mut stmt = self.conn.prepare(&sql).map_err(self.err())?;
        positions
            .iter()
            .map(|&p| {
                stmt.query_row([self.clamp(p) as i64], |r| r.get::<_, f64>(0))
                    .map(|sum| (p, sum))
                    .map_err(self.err())
            })
            .collect()
    }

    /// The events the build could not apply, by position, at most `limit`.
    pub fn errors(&self, limit: usize) -> Result<Vec<ApplyError>, ModelError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT position, event_type, statement, line, reason FROM errors
                 ORDER BY position LIMIT ?1",
            )
            .map_err(self.err())?;
        let rows = stmt
            .query_map([limit as i64], |r| {
                Ok(ApplyError {
                    position: r.get::<_, i64>(0)? as u64,
                    event_type: r.get(1)?,
                    statement: r.get::<_, Option<i64>>(2)?.map(|s| s as u64),
                    line: r.get::<_, Option<i64>>(3)?.map(|s| s as u64),
                    reason: r.get(4)?,
                })
            })
            .map_err(self.err())?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(self.err())
    }

    /// How many events the build could not apply.
    pub fn error_count(&self) -> Result<u64, ModelError> {
        self.conn
            .query_row("SELECT count(*) FROM errors", [], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
            .map_err(self.err())
    }
}

fn history(t: &TableDef) -> String {
    quote(&format!("{}{HISTORY_SUFFIX}", t.name))
}

fn columns(t: &TableDef) -> String {
    t.columns
        .iter()
        .map(|c| quote(&c.name))
        .collect::<Vec<_>>()
        .join(", ")
}

fn key(t: &TableDef) -> String {
    t.key
        .iter()
        .map(|&i| quote(&t.columns[i].name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `"k1" IS ?1 AND "k2" IS ?2 ...` over the key's columns.
fn key_filter(t: &TableDef) -> String {
    t.key
        .iter()
        .enumerate()
        .map(|(n, &i)| format!("{} IS ?{}", quote(&t.columns[i].name), n + 1))
        .collect::<Vec<_>>()
        .join(" AND ")
}

fn cells(t: &TableDef, row: &rusqlite::Row, first: usize) -> Result<Vec<Value>, ModelError> {
    t.columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            row.get_ref(first + i)
                .map(|v| cell(c.ty, v))
                .map_err(|source| ModelError::File {
                    path: t.name.clone(),
                    source,
                })
        })
        .collect()
}

/// A stored value as a cell of a column of type `ty`; a value the type
/// cannot hold is kept as SQLite stored it.
pub fn cell(ty: ColumnType, value: ValueRef) -> Value {
    match value {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => match ty {
            ColumnType::Boolean => Value::Boolean(i != 0),
            ColumnType::Real => Value::Real(i as f64),
            _ => Value::Integer(i),
        },
        ValueRef::Real(f) => Value::Real(f),
        ValueRef::Text(bytes) => {
            let text = String::from_utf8_lossy(bytes);
            match ty {
                ColumnType::Uuid => match Uuid::parse_str(&text) {
                    Ok(u) => Value::Uuid(u),
                    Err(_) => Value::Text(text.into_owned()),
                },
                ColumnType::Date => match NaiveDate::parse_from_str(&text, "%Y-%m-%d") {
                    Ok(d) => Value::Date(d),
                    Err(_) => Value::Text(text.into_owned()),
                },
                _ => Value::Text(text.into_owned()),
            }
        }
        ValueRef::Blob(bytes) => Value::Text(format!("<{} bytes>", bytes.len())),
    }
}

/// A cell as text (for digests and tables): [`Value`]'s `Display`.
pub fn cell_text(value: &Value) -> String {
    value.to_string()
}

/// A cell as SQLite stores it (to look a key up).
pub(crate) fn sql_value(value: &Value) -> rusqlite::types::Value {
    use rusqlite::types::Value as V;
    match value {
        Value::Null => V::Null,
        Value::Uuid(u) => V::Text(u.to_string()),
        Value::Text(t) => V::Text(t.clone()),
        Value::Integer(i) => V::Integer(*i),
        Value::Date(d) => V::Text(d.to_string()),
        Value::Real(f) => V::Real(*f),
        Value::Boolean(b) => V::Integer(i64::from(*b)),
    }
}
