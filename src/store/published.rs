//! Published models: a model users write, kept as real tables in the read
//! store (`model_<name>_<table>`) beside the built-in ones. Each has a row
//! in `published_models` with its own checkpoint (the position its rows
//! reflect), the ledger it was built from and its version (the digest of
//! its definition); rows of another ledger or definition are never written
//! into, and a replay rebuilds them.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::model::{ColumnType, ModelDef, TableDef, Value};

/// The longest table name published (PostgreSQL cuts names at 63 bytes).
pub const MAX_TABLE_NAME: usize = 63;

/// Prefix of every published table's name: no built-in table starts so.
pub const PUBLISHED_PREFIX: &str = "model_";

/// A published model as the read store records it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PublishedModel {
    /// The model's name.
    pub name: String,
    /// The SHA-256 of the definition its tables were built with.
    pub digest: String,
    /// The ledger its tables were built from.
    pub ledger_id: Uuid,
    /// The position its rows reflect (its checkpoint).
    pub position: u64,
    /// Its tables (columns, types, key) as published.
    pub def: ModelDef,
}

impl PublishedModel {
    /// The read-store names of its tables, in the definition's order.
    pub fn table_names(&self) -> Vec<String> {
        self.def
            .tables
            .iter()
            .map(|t| published_table_name(&self.name, &t.name))
            .collect()
    }
}

/// One row of a published table changed: upserted (`row`) or deleted (`None`).
#[derive(Clone, Debug, PartialEq)]
pub struct PublishedChange {
    /// Index of the table in the model's definition.
    pub table: usize,
    /// The row's key cells (in key order).
    pub key: Vec<Value>,
    /// Its cells now, in column order (`None`: the row is gone).
    pub row: Option<Vec<Value>>,
}

/// The read-store name of `table` of the model `model`.
pub fn published_table_name(model: &str, table: &str) -> String {
    format!("{PUBLISHED_PREFIX}{model}_{table}")
}

/// SQL text of an identifier, quoted (both SQLite and PostgreSQL).
pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `CREATE TABLE` of a published table, each column typed by `ty`.
pub(crate) fn create_table_sql(
    name: &str,
    table: &TableDef,
    ty: impl Fn(ColumnType) -> &'static str,
) -> String {
    let mut columns: Vec<String> = table
        .columns
        .iter()
        .map(|c| {
            format!(
                "{} {}{}",
                quote_ident(&c.name),
                ty(c.ty),
                if c.nullable { "" } else { " NOT NULL" }
            )
        })
        .collect();
    let key: Vec<String> = table
        .key
        .iter()
        .map(|&i| quote_ident(&table.columns[i].name))
        .collect();
    columns.push(format!("PRIMARY KEY ({})", key.join(", ")));
    format!("CREATE TABLE {}({})", quote_ident(name), columns.join(", "))
}

/// The quoted column list of `table`.
pub(crate) fn column_list(table: &TableDef) -> String {
    table
        .columns
        .iter()
        .map(|c| quote_ident(&c.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `"k1" = <p(1)> AND "k2" = <p(2)>` over the key's columns.
pub(crate) fn key_filter(table: &TableDef, placeholder: impl Fn(usize) -> String) -> String {
    table
        .key
        .iter()
        .enumerate()
        .map(|(n, &i)| {
            format!(
                "{} = {}",
                quote_ident(&table.columns[i].name),
                placeholder(n + 1)
            )
        })
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// The quoted key columns of `table`, in key order.
pub(crate) fn key_list(table: &TableDef) -> String {
    table
        .key
        .iter()
        .map(|&i| quote_ident(&table.columns[i].name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Why a record is not the one `model` writes into (`None`: it is).
pub(crate) fn differs(found: &PublishedModel, model: &PublishedModel) -> Option<String> {
    if found.ledger_id != model.ledger_id {
        Some(format!("ledger {}", found.ledger_id))
    } else if found.digest != model.digest || found.def != model.def {
        Some("another definition of the model".to_string())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::ColumnDef;

    #[test]
    fn a_table_is_created_with_its_types_and_key() {
        let table = TableDef {
            name: "t".into(),
            columns: vec![
                ColumnDef {
                    name: "id".into(),
                    ty: ColumnType::Text,
                    nullable: false,
                },
                ColumnDef {
                    name: "n".into(),
                    ty: ColumnType::Integer,
                    nullable: true,
                },
            ],
            key: vec![0],
        };
        let name = published_table_name("m", &table.name);
        assert_eq!(name, "model_m_t");
        assert_eq!(
            create_table_sql(&name, &table, |t| match t {
                ColumnType::Integer => "INTEGER",
                _ => "TEXT",
            }),
            "CREATE TABLE \"model_m_t\"(\"id\" TEXT NOT NULL, \"n\" INTEGER, PRIMARY KEY (\"id\"))"
        );
        assert_eq!(key_filter(&table, |n| format!("${n}")), "\"id\" = $1");
    }
}
