//! The read tables' SQL in `views.sqlite3`, derived from their
//! descriptions (`read_table!` in `domain/projection.rs`): the DDL, the
//! insert and update statements, binding a row's cells and reading them
//! back.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use chrono::NaiveDate;
use rusqlite::{Connection, Statement};
use uuid::Uuid;

use super::{DateText, bad_row, iso_date};
use crate::domain::RowChange;
use crate::domain::model::{
    CellReader, CellWriter, Column, DescribedRow, TableDescription, WriteCells,
};
use crate::store::sqlite::map_err;
use crate::store::{StoreError, StoreResult};

/// `CREATE TABLE IF NOT EXISTS` for `table` named `{name}{suffix}`, the key
/// its primary key.
pub(super) fn create_sql(table: &TableDescription, suffix: &str) -> String {
    let columns: Vec<String> = table
        .columns
        .iter()
        .map(|c| {
            let key = if c.name == table.key {
                " PRIMARY KEY"
            } else {
                " NOT NULL"
            };
            format!("    {} {}{key}", c.name, c.sql.sqlite())
        })
        .collect();
    format!(
        "CREATE TABLE IF NOT EXISTS {}{suffix}(\n{}\n);\n",
        table.name,
        columns.join(",\n")
    )
}

/// `INSERT INTO {into}(columns) VALUES (?1, ...)`, doing nothing on a key
/// that exists when `if_absent`.
pub(super) fn insert_sql(table: &TableDescription, into: &str, if_absent: bool) -> String {
    let marks: Vec<String> = (1..=table.columns.len()).map(|i| format!("?{i}")).collect();
    let conflict = if if_absent {
        format!(" ON CONFLICT({}) DO NOTHING", table.key)
    } else {
        String::new()
    };
    format!(
        "INSERT INTO {into}({}) VALUES ({}){conflict}",
        table.column_list(),
        marks.join(", ")
    )
}

/// `SELECT` a page of `table` after a key (`?1`), `?2` rows, in key order.
pub(super) fn page_sql(table: &TableDescription) -> String {
    format!(
        "SELECT {} FROM {} WHERE {key} > ?1 ORDER BY {key} LIMIT ?2",
        table.column_list(),
        table.name,
        key = table.key
    )
}

/// Binds cells to a statement's parameters from `?{first}` on; the first
/// failure is kept.
pub(super) struct Binds<'s, 'c> {
    stmt: &'s mut Statement<'c>,
    at: usize,
    error: Option<rusqlite::Error>,
}

impl<'s, 'c> Binds<'s, 'c> {
    pub(super) fn new(stmt: &'s mut Statement<'c>, first: usize) -> Self {
        Binds {
            stmt,
            at: first,
            error: None,
        }
    }

    fn bind(&mut self, value: impl rusqlite::ToSql) {
        if self.error.is_none()
            && let Err(e) = self.stmt.raw_bind_parameter(self.at, value)
        {
            self.error = Some(e);
        }
        self.at += 1;
    }

    /// Runs the statement with what was bound.
    pub(super) fn execute(self) -> rusqlite::Result<usize> {
        match self.error {
            Some(e) => Err(e),
            None => self.stmt.raw_execute(),
        }
    }
}

impl CellWriter for Binds<'_, '_> {
    fn uuid(&mut self, value: Uuid) {
        self.bind(&*value.hyphenated().encode_lower(&mut Uuid::encode_buffer()));
    }
    fn text(&mut self, value: &str) {
        self.bind(value);
    }
    fn date(&mut self, value: NaiveDate) {
        let mut buf = [0u8; 10];
        self.bind(DateText::new(value, &mut buf).as_str());
    }
    fn count(&mut self, value: u32) {
        self.bind(i64::from(value));
    }
    fn int(&mut self, value: i64) {
        self.bind(value);
    }
    fn position(&mut self, value: u64) {
        self.bind(value as i64);
    }
}

/// Runs `stmt` (an [`insert_sql`]) with `row`'s cells.
pub(super) fn insert_with(
    stmt: &mut Statement<'_>,
    row: &impl WriteCells,
) -> rusqlite::Result<usize> {
    let mut binds = Binds::new(stmt, 1);
    row.write_cells(&mut binds);
    binds.execute()
}

/// Inserts `row` into `into` (a table of `R`'s shape).
pub(super) fn insert_row<R: DescribedRow>(
    conn: &Connection,
    into: &'static str,
    row: &R,
    if_absent: bool,
) -> rusqlite::Result<usize> {
    let sql = cached((into, usize::from(if_absent)), || {
        insert_sql(&R::DESCRIPTION, into, if_absent)
    });
    let mut stmt = conn.prepare_cached(&sql)?;
    insert_with(&mut stmt, row)
}

thread_local! {
    /// The statements a projector runs, built from the descriptions once
    /// per thread instead of once per change.
    static STATEMENTS: RefCell<HashMap<(&'static str, usize), Rc<str>>> = RefCell::default();
}

/// The statement under `key`, made by `make` the first time.
fn cached(key: (&'static str, usize), make: impl FnOnce() -> String) -> Rc<str> {
    STATEMENTS.with(|s| {
        s.borrow_mut()
            .entry(key)
            .or_insert_with(|| make().into())
            .clone()
    })
}

/// Applies a change of a row that exists: the columns [`RowChange::sets`]
/// names, if the row is older than the change.
pub(super) fn update_row(conn: &Connection, change: &RowChange) -> rusqlite::Result<usize> {
    let Some((table, key, columns, position)) = change.sets() else {
        return Ok(0);
    };
    let table = table.description();
    // Keyed by the change's static column list: one statement per kind.
    let sql = cached((table.name, columns.as_ptr() as usize), || {
        let last = columns.len() + 2;
        let sets: Vec<String> = columns
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c} = ?{}", i + 2))
            .collect();
        format!(
            "UPDATE {} SET {}, last_position = ?{last} WHERE {} = ?1 AND last_position < ?{last}",
            table.name,
            sets.join(", "),
            table.key
        )
    });
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut binds = Binds::new(&mut stmt, 1);
    binds.uuid(key);
    change.write_set(&mut binds);
    binds.position(position);
    binds.execute()
}

/// Reads one row's cells from a query's row, in column order.
pub(super) struct RowCells<'r, 's> {
    row: &'r rusqlite::Row<'s>,
    at: usize,
    store: &'r str,
    table: &'static str,
    columns: &'static [Column],
}

impl<'r, 's> RowCells<'r, 's> {
    fn get<T: rusqlite::types::FromSql>(&mut self) -> StoreResult<T> {
        let at = self.at;
        self.at += 1;
        self.row.get(at).map_err(|e| map_err(self.store, e))
    }

    /// The row's key as stored (for errors).
    fn key(&self) -> String {
        self.row.get::<_, String>(0).unwrap_or_default()
    }

    fn bad(&self, what: String) -> StoreError {
        bad_row(self.store, self.table, &self.key(), what)
    }
}

impl CellReader for RowCells<'_, '_> {
    type Error = StoreError;
    fn uuid(&mut self) -> StoreResult<Uuid> {
        let text: String = self.get()?;
        Uuid::parse_str(&text).map_err(|_| self.bad(format!("'{text}' is not a UUID")))
    }
    fn text(&mut self) -> StoreResult<String> {
        self.get()
    }
    fn parse_text<T, E: std::fmt::Display>(
        &mut self,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> StoreResult<T> {
        let text: String = self.get()?;
        parse(&text).map_err(|why| self.bad(why.to_string()))
    }
    fn date(&mut self) -> StoreResult<NaiveDate> {
        let text: String = self.get()?;
        iso_date(&text)
            .or_else(|| NaiveDate::parse_from_str(&text, "%Y-%m-%d").ok())
            .ok_or_else(|| self.bad(format!("'{text}' is not a date")))
    }
    fn count(&mut self) -> StoreResult<u32> {
        let n: i64 = self.get()?;
        let name = self.name();
        u32::try_from(n).map_err(|_| self.bad(format!("{name} {n}")))
    }
    fn int(&mut self) -> StoreResult<i64> {
        self.get()
    }
    fn position(&mut self) -> StoreResult<u64> {
        Ok(self.get::<i64>()?.max(0) as u64)
    }
}

impl RowCells<'_, '_> {
    /// The name of the column just read.
    fn name(&self) -> &'static str {
        self.columns
            .get(self.at.wrapping_sub(1))
            .map_or("", |c| c.name)
    }
}

/// Reads every row of a query of `R`'s columns in order.
pub(super) fn read_rows<R: DescribedRow>(
    stmt: &mut Statement<'_>,
    store: &str,
    params: impl rusqlite::Params,
) -> StoreResult<Vec<R>> {
    let mut rows = stmt.query(params).map_err(|e| map_err(store, e))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(|e| map_err(store, e))? {
        let mut cells = RowCells {
            row,
            at: 0,
            store,
            table: R::DESCRIPTION.name,
            columns: R::DESCRIPTION.columns,
        };
        out.push(R::read_cells(&mut cells)?);
    }
    Ok(out)
}
