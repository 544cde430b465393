//! The read tables' SQL in PostgreSQL, derived from their descriptions
//! (`read_table!` in `domain/projection.rs`): the DDL, column lists,
//! insert and update statements, the COPY types, a row's cells as
//! parameters and read back.

use std::error::Error;

use bytes::BytesMut;
use chrono::NaiveDate;
use tokio_postgres::types::{IsNull, ToSql, Type};
use uuid::Uuid;

use super::pos;
use crate::domain::model::{
    CellReader, CellWriter, Column, DescribedRow, SqlType, TableDescription, WriteCells,
};
use crate::domain::{RowChange, Table};
use crate::store::{StoreError, StoreResult};

/// Both tables' `CREATE TABLE`, named `{table}{suffix}`; `IF NOT EXISTS`
/// and with their primary keys as asked.
pub(super) fn tables_sql(suffix: &str, if_not_exists: bool, keys: bool) -> String {
    let ine = if if_not_exists { "IF NOT EXISTS " } else { "" };
    Table::ALL
        .iter()
        .map(|t| {
            let table = t.description();
            let columns: Vec<String> = table
                .columns
                .iter()
                .map(|c| {
                    let pk = if keys && c.name == table.key {
                        " PRIMARY KEY"
                    } else {
                        ""
                    };
                    format!("{} {} NOT NULL{pk}", c.name, c.sql.postgres())
                })
                .collect();
            format!(
                "CREATE TABLE {ine}{}{suffix}(\n    {}\n);\n",
                table.name,
                columns.join(",\n    ")
            )
        })
        .collect()
}

/// `INSERT` of one row of `table`, doing nothing on a key that exists.
pub(super) fn insert_sql(table: &TableDescription) -> String {
    let marks: Vec<String> = (1..=table.columns.len()).map(|i| format!("${i}")).collect();
    format!(
        "INSERT INTO {}({}) VALUES ({}) ON CONFLICT ({}) DO NOTHING",
        table.name,
        table.column_list(),
        marks.join(", "),
        table.key
    )
}

/// `UPDATE` of the columns a change sets (see [`RowChange::sets`]), with
/// the key `$1`, the values, then the position; `None` for inserts.
pub(super) fn update_sql(change: &RowChange) -> Option<String> {
    let (table, _, columns, _) = change.sets()?;
    let table = table.description();
    let last = columns.len() + 2;
    let sets: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{c} = ${}", i + 2))
        .collect();
    Some(format!(
        "UPDATE {} SET {}, last_position = ${last} WHERE {} = $1 AND last_position < ${last}",
        table.name,
        sets.join(", "),
        table.key
    ))
}

/// The COPY types of `table`'s columns, in order.
pub(super) fn copy_types(table: &TableDescription) -> Vec<Type> {
    table
        .columns
        .iter()
        .map(|c| match c.sql {
            SqlType::Uuid => Type::UUID,
            SqlType::Text => Type::TEXT,
            SqlType::Date => Type::DATE,
            SqlType::Int4 => Type::INT4,
            SqlType::Int8 => Type::INT8,
        })
        .collect()
}

/// One parameter.
#[derive(Debug)]
pub(super) enum PgValue {
    Uuid(Uuid),
    Text(String),
    Date(NaiveDate),
    Int4(i32),
    Int8(i64),
}

impl ToSql for PgValue {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        match self {
            PgValue::Uuid(v) => v.to_sql(ty, out),
            PgValue::Text(v) => v.to_sql(ty, out),
            PgValue::Date(v) => v.to_sql(ty, out),
            PgValue::Int4(v) => v.to_sql(ty, out),
            PgValue::Int8(v) => v.to_sql(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        <Uuid as ToSql>::accepts(ty)
            || <String as ToSql>::accepts(ty)
            || <NaiveDate as ToSql>::accepts(ty)
            || <i32 as ToSql>::accepts(ty)
            || <i64 as ToSql>::accepts(ty)
    }

    /// Checked by the value's own type, not by any the enum can hold.
    fn to_sql_checked(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        match self {
            PgValue::Uuid(v) => v.to_sql_checked(ty, out),
            PgValue::Text(v) => v.to_sql_checked(ty, out),
            PgValue::Date(v) => v.to_sql_checked(ty, out),
            PgValue::Int4(v) => v.to_sql_checked(ty, out),
            PgValue::Int8(v) => v.to_sql_checked(ty, out),
        }
    }
}

/// A row's cells as parameters, reused from row to row (the text buffers
/// keep their capacity).
#[derive(Debug, Default)]
pub(super) struct PgCells {
    values: Vec<PgValue>,
    at: usize,
}

impl PgCells {
    /// Fills the parameters with `row`'s cells.
    pub(super) fn of(&mut self, row: &impl WriteCells) -> &[PgValue] {
        self.at = 0;
        row.write_cells(self);
        self.done()
    }

    /// Fills them with a change's key, the values it sets and its position.
    pub(super) fn of_update(&mut self, change: &RowChange) -> &[PgValue] {
        self.at = 0;
        if let Some((_, key, _, position)) = change.sets() {
            self.uuid(key);
            change.write_set(self);
            self.position(position);
        }
        self.done()
    }

    fn done(&mut self) -> &[PgValue] {
        self.values.truncate(self.at);
        &self.values
    }

    fn put(&mut self, value: PgValue) {
        match self.values.get_mut(self.at) {
            Some(slot) => *slot = value,
            None => self.values.push(value),
        }
        self.at += 1;
    }
}

impl CellWriter for PgCells {
    fn uuid(&mut self, value: Uuid) {
        self.put(PgValue::Uuid(value));
    }
    fn text(&mut self, value: &str) {
        if let Some(PgValue::Text(buf)) = self.values.get_mut(self.at) {
            buf.clear();
            buf.push_str(value);
            self.at += 1;
        } else {
            self.put(PgValue::Text(value.to_string()));
        }
    }
    fn date(&mut self, value: NaiveDate) {
        self.put(PgValue::Date(value));
    }
    fn count(&mut self, value: u32) {
        self.put(PgValue::Int4(i32::try_from(value).unwrap_or(i32::MAX)));
    }
    fn int(&mut self, value: i64) {
        self.put(PgValue::Int8(value));
    }
    fn position(&mut self, value: u64) {
        self.put(PgValue::Int8(pos(value)));
    }
}

/// `values` as the driver takes parameters.
pub(super) fn params(values: &[PgValue]) -> Vec<&(dyn ToSql + Sync)> {
    values.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
}

/// Reads one row's cells from a query's row, in column order.
struct RowCells<'r> {
    row: &'r tokio_postgres::Row,
    at: usize,
    store: &'r str,
    table: &'static str,
    columns: &'static [Column],
}

impl RowCells<'_> {
    /// The name of the column just read.
    fn name(&self) -> &'static str {
        self.columns
            .get(self.at.wrapping_sub(1))
            .map_or("", |c| c.name)
    }

    fn get<'a, T: tokio_postgres::types::FromSql<'a>>(&'a mut self) -> StoreResult<T> {
        let at = self.at;
        self.at += 1;
        self.row
            .try_get(at)
            .map_err(|e| bad_row(self.store, self.table, e.to_string()))
    }

    fn bad(&self, what: String) -> StoreError {
        let key = self.row.try_get::<_, Uuid>(0).unwrap_or_default();
        bad_row(self.store, self.table, format!("row {key}: {what}"))
    }
}

impl CellReader for RowCells<'_> {
    type Error = StoreError;
    fn uuid(&mut self) -> StoreResult<Uuid> {
        self.get()
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
        self.get()
    }
    fn count(&mut self) -> StoreResult<u32> {
        let n: i32 = self.get()?;
        u32::try_from(n).map_err(|_| self.bad(format!("{} {n}", self.name())))
    }
    fn int(&mut self) -> StoreResult<i64> {
        self.get()
    }
    fn position(&mut self) -> StoreResult<u64> {
        Ok(self.get::<i64>()?.max(0) as u64)
    }
}

/// A row of `R` from a query of its columns in order.
pub(super) fn row_of<R: DescribedRow>(store: &str, row: &tokio_postgres::Row) -> StoreResult<R> {
    R::read_cells(&mut RowCells {
        row,
        at: 0,
        store,
        table: R::DESCRIPTION.name,
        columns: R::DESCRIPTION.columns,
    })
}

/// A read-store row that does not hold what its table says.
pub(super) fn bad_row(store: &str, table: &str, what: String) -> StoreError {
    StoreError::Failed {
        store: store.to_string(),
        message: format!("{table}: {what}"),
    }
}
