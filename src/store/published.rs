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

/// Rows of a published model on their way into the read store, a page at
/// a time (tables in the definition's order), so that publishing holds one
/// page in memory, not the whole model.
#[derive(Clone, Debug, PartialEq)]
pub enum RowPage {
    /// Rows of the table at `table` in the definition, in column order.
    Rows {
        /// Index of the table in the model's definition.
        table: usize,
        /// The rows.
        rows: Vec<Vec<Value>>,
    },
    /// Every row was sent: the store may commit. Pages that stop without
    /// it (the sender failed) publish nothing.
    End,
}

/// The receiving end of a publish's pages.
pub type RowPages = tokio::sync::mpsc::Receiver<RowPage>;

/// `rows` (per table, in the definition's order) as pages ending in
/// [`RowPage::End`], for a caller that holds them all.
pub fn pages_of(rows: Vec<Vec<Vec<Value>>>) -> RowPages {
    let (tx, rx) = tokio::sync::mpsc::channel(rows.len() + 1);
    for (table, rows) in rows.into_iter().enumerate() {
        // The channel holds every page: nothing waits and nothing fails.
        let _sent = tx.try_send(RowPage::Rows { table, rows });
    }
    let _sent = tx.try_send(RowPage::End);
    rx
}

/// The error of pages that stopped before [`RowPage::End`].
pub(crate) fn pages_stopped(store: &str, model: &str) -> crate::store::StoreError {
    crate::store::StoreError::Failed {
        store: store.to_string(),
        message: format!(
            "the rows of model {model} stopped before the last one: nothing was published"
        ),
    }
}

/// A page naming a table the definition does not have.
pub(crate) fn no_such_table(store: &str, model: &str, table: usize) -> crate::store::StoreError {
    crate::store::StoreError::Failed {
        store: store.to_string(),
        message: format!("model {model} has no table number {table}: nothing was published"),
    }
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
