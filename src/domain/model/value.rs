//! The vocabulary of a read model's description: column types, cell
//! values, tables and models.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What a column holds. Every store maps each type to one of its own
/// (PostgreSQL `uuid`, `text`, `bigint`, `date`, `double precision`,
/// `boolean`; SQLite `TEXT`, `INTEGER`, `REAL`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnType {
    /// A UUID (keys, references to other rows).
    Uuid,
    /// Text.
    Text,
    /// A whole number (64 bits).
    Integer,
    /// A ledger position (a whole number from 0).
    Position,
    /// An amount of money in cents (shown with two decimals).
    Cents,
    /// A calendar day.
    Date,
    /// A number with a fraction.
    Real,
    /// True or false.
    Boolean,
}

/// One cell.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    /// No value.
    Null,
    /// A UUID.
    Uuid(Uuid),
    /// Text.
    Text(String),
    /// A whole number (also positions and cents).
    Integer(i64),
    /// A calendar day.
    Date(NaiveDate),
    /// A number with a fraction.
    Real(f64),
    /// True or false.
    Boolean(bool),
}

/// A cell as text (digests, tables, messages): UUIDs hyphenated, days as
/// `YYYY-MM-DD`, nothing as an empty string.
impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Null => Ok(()),
            Value::Uuid(u) => u.fmt(f),
            Value::Text(t) => f.write_str(t),
            Value::Integer(i) => i.fmt(f),
            Value::Date(d) => d.fmt(f),
            Value::Real(x) => x.fmt(f),
            Value::Boolean(b) => b.fmt(f),
        }
    }
}

/// A column of a table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnDef {
    /// Its name in every store.
    pub name: String,
    /// What it holds.
    pub ty: ColumnType,
    /// Whether it may be empty.
    pub nullable: bool,
}

/// A table of a model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableDef {
    /// Its name in every store.
    pub name: String,
    /// Its columns, in order.
    pub columns: Vec<ColumnDef>,
    /// The columns of its key (indexes into `columns`, in key order).
    pub key: Vec<usize>,
}

/// A read model: what it keeps and what it listens to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelDef {
    /// Its name (unique among the models of a ledger).
    pub name: String,
    /// Its schema version: tables built with another version are named and
    /// rebuilt by replay, never written into.
    pub version: u32,
    /// The tables it keeps.
    pub tables: Vec<TableDef>,
    /// The event types it listens to (others change nothing).
    pub events: Vec<String>,
}

impl TableDef {
    /// The index of the column named `name`.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }
}

impl ModelDef {
    /// The table named `name`.
    pub fn table(&self, name: &str) -> Option<&TableDef> {
        self.tables.iter().find(|t| t.name == name)
    }
}
