//! Published models in `views.sqlite3`: their tables (`model_<name>_<table>`)
//! and their records in `published_models` (checkpoint, ledger, digest and
//! the definition as published), each write in one transaction.

use chrono::Utc;
use rusqlite::{Connection, OptionalExtension, Transaction, params, params_from_iter};
use uuid::Uuid;

use crate::domain::model::{ColumnType, ModelDef, TableDef, Value};
use crate::store::published::{
    RowPage, RowPages, column_list, create_table_sql, differs, key_filter, no_such_table,
    pages_stopped, quote_ident,
};
use crate::store::sqlite::ledger::format_time;
use crate::store::sqlite::map_err;
use crate::store::{
    PublishedChange, PublishedModel, StoreError, StoreResult, published_table_name,
};

const PUBLISHED_SQL: &str = "CREATE TABLE IF NOT EXISTS published_models(
    model TEXT PRIMARY KEY,
    digest TEXT NOT NULL,
    ledger_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    definition TEXT NOT NULL,
    updated_at TEXT NOT NULL
);";

/// SQLite's type for a column type.
fn sqlite_type(ty: ColumnType) -> &'static str {
    match ty {
        ColumnType::Uuid | ColumnType::Text | ColumnType::Date => "TEXT",
        ColumnType::Integer | ColumnType::Position | ColumnType::Cents | ColumnType::Boolean => {
            "INTEGER"
        }
        ColumnType::Real => "REAL",
    }
}

/// A cell as SQLite stores it.
fn sql_value(value: &Value) -> rusqlite::types::Value {
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

fn has_records(conn: &Connection, store: &str) -> StoreResult<bool> {
    conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'published_models'",
        [],
        |r| r.get::<_, i64>(0),
    )
    .map(|n| n > 0)
    .map_err(|e| map_err(store, e))
}

fn bad_record(store: &str, model: &str, what: String) -> StoreError {
    StoreError::Failed {
        store: store.to_string(),
        message: format!("published_models row {model}: {what}"),
    }
}

type RawRecord = (String, String, String, i64, String);

fn record_of(store: &str, raw: RawRecord) -> StoreResult<PublishedModel> {
    let (name, digest, ledger, position, definition) = raw;
    Ok(PublishedModel {
        ledger_id: Uuid::parse_str(&ledger)
            .map_err(|_| bad_record(store, &name, format!("'{ledger}' is not a UUID")))?,
        def: serde_json::from_str::<ModelDef>(&definition)
            .map_err(|e| bad_record(store, &name, format!("definition: {e}")))?,
        position: position.max(0) as u64,
        digest,
        name,
    })
}

const SELECT_RECORDS: &str =
    "SELECT model, digest, ledger_id, position, definition FROM published_models";

/// Every published model, by name.
pub(super) fn published(conn: &Connection, store: &str) -> StoreResult<Vec<PublishedModel>> {
    if !has_records(conn, store)? {
        return Ok(Vec::new());
    }
    let mut stmt = conn
        .prepare_cached(&format!("{SELECT_RECORDS} ORDER BY model"))
        .map_err(|e| map_err(store, e))?;
    let raws = stmt
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .map_err(|e| map_err(store, e))?
        .collect::<Result<Vec<RawRecord>, _>>()
        .map_err(|e| map_err(store, e))?;
    raws.into_iter().map(|r| record_of(store, r)).collect()
}

fn record(tx: &Transaction<'_>, store: &str, name: &str) -> StoreResult<Option<PublishedModel>> {
    let raw: Option<RawRecord> = tx
        .query_row(&format!("{SELECT_RECORDS} WHERE model = ?1"), [name], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .optional()
        .map_err(|e| map_err(store, e))?;
    raw.map(|r| record_of(store, r)).transpose()
}

fn drop_tables(tx: &Transaction<'_>, model: &PublishedModel) -> rusqlite::Result<()> {
    for name in model.table_names() {
        tx.execute_batch(&format!("DROP TABLE IF EXISTS {}", quote_ident(&name)))?;
    }
    Ok(())
}

fn insert_sql(name: &str, table: &TableDef, upsert: bool) -> String {
    let marks: Vec<String> = (1..=table.columns.len()).map(|n| format!("?{n}")).collect();
    format!(
        "INSERT {}INTO {}({}) VALUES ({})",
        if upsert { "OR REPLACE " } else { "" },
        quote_ident(name),
        column_list(table),
        marks.join(", ")
    )
}

/// Drops what `model` had, creates its tables, loads the pages of `rows`
/// (waiting for each on this blocking thread) and records it; the rows
/// written.
pub(super) fn replace(
    conn: &mut Connection,
    store: &str,
    model: &PublishedModel,
    mut rows: RowPages,
) -> StoreResult<u64> {
    let e = |err| map_err(store, err);
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(e)?;
    tx.execute_batch(PUBLISHED_SQL).map_err(e)?;
    if let Some(old) = record(&tx, store, &model.name)? {
        drop_tables(&tx, &old).map_err(e)?;
    }
    let mut inserts = Vec::new();
    for table in &model.def.tables {
        let name = published_table_name(&model.name, &table.name);
        tx.execute_batch(&format!(
            "DROP TABLE IF EXISTS {}; {};",
            quote_ident(&name),
            create_table_sql(&name, table, sqlite_type)
        ))
        .map_err(e)?;
        inserts.push(insert_sql(&name, table, false));
    }
    let mut written = 0u64;
    loop {
        match rows.blocking_recv() {
            Some(RowPage::Rows { table, rows }) => {
                let sql = inserts
                    .get(table)
                    .ok_or_else(|| no_such_table(store, &model.name, table))?;
                let mut stmt = tx.prepare_cached(sql).map_err(e)?;
                for row in &rows {
                    stmt.execute(params_from_iter(row.iter().map(sql_value)))
                        .map_err(e)?;
                }
                written += rows.len() as u64;
            }
            Some(RowPage::End) => break,
            None => return Err(pages_stopped(store, &model.name)),
        }
    }
    let definition = serde_json::to_string(&model.def).map_err(|err| StoreError::Failed {
        store: store.to_string(),
        message: format!("model {}: definition not written: {err}", model.name),
    })?;
    tx.execute(
        "INSERT INTO published_models(model, digest, ledger_id, position, definition, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(model) DO UPDATE SET digest = excluded.digest, ledger_id = excluded.ledger_id,
             position = excluded.position, definition = excluded.definition,
             updated_at = excluded.updated_at",
        params![
            model.name,
            model.digest,
            model.ledger_id.to_string(),
            model.position as i64,
            definition,
            format_time(Utc::now())
        ],
    )
    .map_err(e)?;
    tx.commit().map_err(e)?;
    Ok(written)
}

/// Applies `changes` and moves the checkpoint from `from`, if the record
/// matches `model`'s ledger and digest; false when it is not at `from`.
pub(super) fn apply(
    conn: &mut Connection,
    store: &str,
    model: &PublishedModel,
    from: u64,
    changes: &[PublishedChange],
) -> StoreResult<bool> {
    let e = |err| map_err(store, err);
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(e)?;
    let found = if has_records(&tx, store)? {
        record(&tx, store, &model.name)?
    } else {
        None
    };
    let Some(found) = found else {
        return Err(StoreError::NotFound(format!(
            "model {} is not published in {store}",
            model.name
        )));
    };
    if let Some(what) = differs(&found, model) {
        return Err(StoreError::OtherPublished {
            store: store.to_string(),
            model: model.name.clone(),
            what,
        });
    }
    if found.position != from {
        return Ok(false);
    }
    for change in changes {
        let Some(table) = found.def.tables.get(change.table) else {
            continue;
        };
        let name = published_table_name(&found.name, &table.name);
        match &change.row {
            Some(row) => tx
                .prepare_cached(&insert_sql(&name, table, true))
                .and_then(|mut s| s.execute(params_from_iter(row.iter().map(sql_value)))),
            None => tx
                .prepare_cached(&format!(
                    "DELETE FROM {} WHERE {}",
                    quote_ident(&name),
                    key_filter(table, |n| format!("?{n}"))
                ))
                .and_then(|mut s| s.execute(params_from_iter(change.key.iter().map(sql_value)))),
        }
        .map_err(e)?;
    }
    tx.execute(
        "UPDATE published_models SET position = ?2, updated_at = ?3 WHERE model = ?1",
        params![model.name, model.position as i64, format_time(Utc::now())],
    )
    .map_err(e)?;
    tx.commit().map_err(e)?;
    Ok(true)
}

/// Drops the tables and the record of the model `name`.
pub(super) fn unpublish(conn: &mut Connection, store: &str, name: &str) -> StoreResult<bool> {
    let e = |err| map_err(store, err);
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(e)?;
    if !has_records(&tx, store)? {
        return Ok(false);
    }
    let Some(found) = record(&tx, store, name)? else {
        return Ok(false);
    };
    drop_tables(&tx, &found).map_err(e)?;
    tx.execute("DELETE FROM published_models WHERE model = ?1", [name])
        .map_err(e)?;
    tx.commit().map_err(e)?;
    Ok(true)
}
