//! Published models in PostgreSQL: their tables (`model_<name>_<table>`,
//! typed from the model's column types) and their records in
//! `published_models` (checkpoint, ledger, digest and the definition as
//! published), each write in one transaction.

use deadpool_postgres::{GenericClient, Transaction};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};
use uuid::Uuid;

use super::cells::bad_row;
use super::{PostgresViews, SCHEMA_LOCK, pos};
use crate::domain::model::{ColumnType, ModelDef, TableDef, Value};
use crate::store::published::{
    RowPage, RowPages, column_list, create_table_sql, differs, key_filter, key_list, no_such_table,
    pages_stopped, quote_ident,
};
use crate::store::{
    PublishedChange, PublishedModel, StoreError, StoreResult, published_table_name,
};

const PUBLISHED_SQL: &str = "CREATE TABLE IF NOT EXISTS published_models(
    model text PRIMARY KEY,
    digest text NOT NULL,
    ledger_id uuid NOT NULL,
    position bigint NOT NULL,
    definition jsonb NOT NULL,
    updated_at timestamptz NOT NULL
);";

const SELECT_RECORDS: &str =
    "SELECT model, digest, ledger_id, position, definition FROM published_models";

/// The COPY type of a column type (as [`pg_type`] names it).
fn copy_type(ty: ColumnType) -> Type {
    match ty {
        ColumnType::Uuid => Type::UUID,
        ColumnType::Text => Type::TEXT,
        ColumnType::Integer | ColumnType::Position | ColumnType::Cents => Type::INT8,
        ColumnType::Date => Type::DATE,
        ColumnType::Real => Type::FLOAT8,
        ColumnType::Boolean => Type::BOOL,
    }
}

/// PostgreSQL's type for a column type.
fn pg_type(ty: ColumnType) -> &'static str {
    match ty {
        ColumnType::Uuid => "uuid",
        ColumnType::Text => "text",
        ColumnType::Integer | ColumnType::Position | ColumnType::Cents => "bigint",
        ColumnType::Date => "date",
        ColumnType::Real => "double precision",
        ColumnType::Boolean => "boolean",
    }
}

type Param = Box<dyn ToSql + Sync + Send>;

/// A cell the published column's type cannot hold (the model's SQLite file
/// holds what SQLite allows).
#[derive(Debug, thiserror::Error)]
#[error("'{value}' does not fit a {column_type} column")]
struct Refused {
    value: String,
    column_type: &'static str,
}

/// A cell as a parameter of a column of type `ty`, or why it does not fit.
fn param(ty: ColumnType, value: &Value) -> Result<Param, Refused> {
    let text = || value.to_string();
    let refused = || Refused {
        value: value.to_string(),
        column_type: pg_type(ty),
    };
    Ok(match (ty, value) {
        (ColumnType::Uuid, Value::Null) => Box::new(None::<Uuid>),
        (ColumnType::Uuid, Value::Uuid(u)) => Box::new(*u),
        (ColumnType::Uuid, other) => match other {
            Value::Text(t) => Box::new(Uuid::parse_str(t).map_err(|_| refused())?),
            _ => return Err(refused()),
        },
        (ColumnType::Text, Value::Null) => Box::new(None::<String>),
        (ColumnType::Text, _) => Box::new(text()),
        (ColumnType::Integer | ColumnType::Position | ColumnType::Cents, v) => match v {
            Value::Null => Box::new(None::<i64>),
            Value::Integer(i) => Box::new(*i),
            Value::Boolean(b) => Box::new(i64::from(*b)),
            Value::Real(f) if f.fract() == 0.0 => Box::new(*f as i64),
            Value::Text(t) => Box::new(t.trim().parse::<i64>().map_err(|_| refused())?),
            _ => return Err(refused()),
        },
        (ColumnType::Date, v) => match v {
            Value::Null => Box::new(None::<chrono::NaiveDate>),
            Value::Date(d) => Box::new(*d),
            Value::Text(t) => {
                Box::new(chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d").map_err(|_| refused())?)
            }
            _ => return Err(refused()),
        },
        (ColumnType::Real, v) => match v {
            Value::Null => Box::new(None::<f64>),
            Value::Real(f) => Box::new(*f),
            Value::Integer(i) => Box::new(*i as f64),
            Value::Text(t) => Box::new(t.trim().parse::<f64>().map_err(|_| refused())?),
            _ => return Err(refused()),
        },
        (ColumnType::Boolean, v) => match v {
            Value::Null => Box::new(None::<bool>),
            Value::Boolean(b) => Box::new(*b),
            Value::Integer(i) => Box::new(*i != 0),
            _ => return Err(refused()),
        },
    })
}

/// `INSERT ... ON CONFLICT (key) DO UPDATE` of a whole row of `table`.
fn upsert_sql(name: &str, table: &TableDef) -> String {
    let marks: Vec<String> = (1..=table.columns.len()).map(|n| format!("${n}")).collect();
    let set: Vec<String> = table
        .columns
        .iter()
        .enumerate()
        .filter(|(i, _)| !table.key.contains(i))
        .map(|(_, c)| format!("{q} = excluded.{q}", q = quote_ident(&c.name)))
        .collect();
    let conflict = if set.is_empty() {
        format!(" ON CONFLICT ({}) DO NOTHING", key_list(table))
    } else {
        format!(
            " ON CONFLICT ({}) DO UPDATE SET {}",
            key_list(table),
            set.join(", ")
        )
    };
    format!(
        "INSERT INTO {}({}) VALUES ({}){conflict}",
        quote_ident(name),
        column_list(table),
        marks.join(", ")
    )
}

impl PostgresViews {
    fn record_of(&self, row: &tokio_postgres::Row) -> StoreResult<PublishedModel> {
        let e =
            |err: tokio_postgres::Error| bad_row(&self.label, "published_models", err.to_string());
        let name: String = row.try_get(0).map_err(e)?;
        let definition: serde_json::Value = row.try_get(4).map_err(e)?;
        Ok(PublishedModel {
            digest: row.try_get(1).map_err(e)?,
            ledger_id: row.try_get(2).map_err(e)?,
            position: row.try_get::<_, i64>(3).map_err(e)?.max(0) as u64,
            def: serde_json::from_value::<ModelDef>(definition).map_err(|err| {
                bad_row(&self.label, "published_models", format!("{name}: {err}"))
            })?,
            name,
        })
    }

    /// Whether `published_models` exists.
    async fn has_records(&self, client: &impl GenericClient) -> StoreResult<bool> {
        let row = client
            .query_one("SELECT to_regclass('published_models') IS NOT NULL", &[])
            .await
            .map_err(|e| self.err(e))?;
        row.try_get::<_, bool>(0)
            .map_err(|e| bad_row(&self.label, "published_models", e.to_string()))
    }

    /// [`crate::store::ReadStore::published`].
    pub(super) async fn published_models(&self) -> StoreResult<Vec<PublishedModel>> {
        let client = self.client().await?;
        if !self.has_records(&client).await? {
            return Ok(Vec::new());
        }
        let rows = client
            .query(&format!("{SELECT_RECORDS} ORDER BY model"), &[])
            .await
            .map_err(|e| self.err(e))?;
        rows.iter().map(|r| self.record_of(r)).collect()
    }

    /// The record of `name`, locked for the transaction.
    async fn locked_record(
        &self,
        tx: &Transaction<'_>,
        name: &str,
    ) -> StoreResult<Option<PublishedModel>> {
        let row = tx
            .query_opt(
                &format!("{SELECT_RECORDS} WHERE model = $1 FOR UPDATE"),
                &[&name],
            )
            .await
            .map_err(|e| self.err(e))?;
        row.map(|r| self.record_of(&r)).transpose()
    }

    /// Schema changes of published tables take the schema lock (as replays do).
    async fn begin_published<'a>(
        &self,
        client: &'a mut deadpool_postgres::Object,
    ) -> StoreResult<Transaction<'a>> {
        let tx = client.transaction().await.map_err(|e| self.err(e))?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])
            .await
            .map_err(|e| self.err(e))?;
        tx.batch_execute(PUBLISHED_SQL)
            .await
            .map_err(|e| self.err(e))?;
        Ok(tx)
    }

    /// A row's cells as parameters of `table`'s columns, or which column
    /// refuses which cell.
    fn row_params(&self, name: &str, table: &TableDef, row: &[Value]) -> StoreResult<Vec<Param>> {
        table
            .columns
            .iter()
            .zip(row)
            .map(|(c, v)| param(c.ty, v).map_err(|why| (c.name.as_str(), why)))
            .collect::<Result<Vec<Param>, _>>()
            .map_err(|(column, why)| StoreError::Failed {
                store: self.label.clone(),
                message: format!("published table {name}: column {column}: {why}"),
            })
    }

    async fn write_rows(
        &self,
        tx: &Transaction<'_>,
        name: &str,
        table: &TableDef,
        sql: &str,
        row: &[Value],
    ) -> StoreResult<()> {
        let params = self.row_params(name, table, row)?;
        let refs: Vec<&(dyn ToSql + Sync)> = params
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect();
        let stmt = tx.prepare_cached(sql).await.map_err(|e| self.err(e))?;
        tx.execute(&stmt, &refs).await.map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Starts a binary COPY into the fresh table `name` (one stream for
    /// the whole table, not one round trip per row).
    async fn start_copy(
        &self,
        tx: &Transaction<'_>,
        name: &str,
        table: &TableDef,
    ) -> StoreResult<std::pin::Pin<Box<BinaryCopyInWriter>>> {
        let sql = format!(
            "COPY {} ({}) FROM STDIN (FORMAT binary)",
            quote_ident(name),
            column_list(table)
        );
        let types: Vec<Type> = table.columns.iter().map(|c| copy_type(c.ty)).collect();
        let sink = tx.copy_in(&sql).await.map_err(|e| self.err(e))?;
        Ok(Box::pin(BinaryCopyInWriter::new(sink, &types)))
    }

    /// Ends an open COPY.
    async fn finish_copy(
        &self,
        mut writer: std::pin::Pin<Box<BinaryCopyInWriter>>,
    ) -> StoreResult<()> {
        writer.as_mut().finish().await.map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Writes `rows` into an open COPY of table `name`; a cell its column
    /// refuses fails it, naming the column (the caller's transaction then
    /// rolls back).
    async fn copy_page(
        &self,
        writer: &mut std::pin::Pin<Box<BinaryCopyInWriter>>,
        name: &str,
        table: &TableDef,
        rows: &[Vec<Value>],
    ) -> StoreResult<()> {
        for row in rows {
            let params = self.row_params(name, table, row)?;
            let refs: Vec<&(dyn ToSql + Sync)> = params
                .iter()
                .map(|p| p.as_ref() as &(dyn ToSql + Sync))
                .collect();
            writer
                .as_mut()
                .write(&refs)
                .await
                .map_err(|e| self.err(e))?;
        }
        Ok(())
    }

    /// [`crate::store::ReadStore::publish_replace`].
    pub(super) async fn replace_published(
        &self,
        model: &PublishedModel,
        mut rows: RowPages,
    ) -> StoreResult<u64> {
        self.writable("publishing a model")?;
        let mut client = self.client().await?;
        let tx = self.begin_published(&mut client).await?;
        if let Some(old) = self.locked_record(&tx, &model.name).await? {
            for name in old.table_names() {
                tx.batch_execute(&format!("DROP TABLE IF EXISTS {}", quote_ident(&name)))
                    .await
                    .map_err(|e| self.err(e))?;
            }
        }
        let names = model.table_names();
        for (table, name) in model.def.tables.iter().zip(&names) {
            tx.batch_execute(&format!(
                "DROP TABLE IF EXISTS {}; {};",
                quote_ident(name),
                create_table_sql(name, table, pg_type)
            ))
            .await
            .map_err(|e| self.err(e))?;
        }
        // One COPY open at a time: the table of the pages arriving.
        let mut open: Option<(usize, std::pin::Pin<Box<BinaryCopyInWriter>>)> = None;
        let mut written = 0u64;
        loop {
            match rows.recv().await {
                Some(RowPage::Rows { table, rows }) => {
                    let (Some(def), Some(name)) = (model.def.tables.get(table), names.get(table))
                    else {
                        return Err(no_such_table(&self.label, &model.name, table));
                    };
                    if open.as_ref().is_none_or(|(at, _)| *at != table) {
                        if let Some((_, writer)) = open.take() {
                            self.finish_copy(writer).await?;
                        }
                        open = Some((table, self.start_copy(&tx, name, def).await?));
                    }
                    if let Some((_, writer)) = open.as_mut() {
                        self.copy_page(writer, name, def, &rows).await?;
                    }
                    written += rows.len() as u64;
                }
                Some(RowPage::End) => break,
                None => return Err(pages_stopped(&self.label, &model.name)),
            }
        }
        if let Some((_, writer)) = open.take() {
            self.finish_copy(writer).await?;
        }
        let definition = serde_json::to_value(&model.def).map_err(|e| StoreError::Failed {
            store: self.label.clone(),
            message: format!("model {}: definition not written: {e}", model.name),
        })?;
        tx.execute(
            "INSERT INTO published_models(model, digest, ledger_id, position, definition, updated_at)
             VALUES ($1, $2, $3, $4, $5, now())
             ON CONFLICT (model) DO UPDATE SET digest = excluded.digest, ledger_id = excluded.ledger_id,
                 position = excluded.position, definition = excluded.definition,
                 updated_at = excluded.updated_at",
            &[
                &model.name,
                &model.digest,
                &model.ledger_id,
                &pos(model.position),
                &definition,
            ],
        )
        .await
        .map_err(|e| self.err(e))?;
        tx.commit().await.map_err(|e| self.err(e))?;
        Ok(written)
    }

    /// [`crate::store::ReadStore::publish_apply`].
    pub(super) async fn apply_published(
        &self,
        model: &PublishedModel,
        from: u64,
        changes: &[PublishedChange],
    ) -> StoreResult<bool> {
        self.writable("projecting a published model")?;
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(|e| self.err(e))?;
        let found = if self.has_records(&tx).await? {
            self.locked_record(&tx, &model.name).await?
        } else {
            None
        };
        let Some(found) = found else {
            return Err(StoreError::NotFound(format!(
                "model {} is not published in {}",
                model.name, self.label
            )));
        };
        if let Some(what) = differs(&found, model) {
            return Err(StoreError::OtherPublished {
                store: self.label.clone(),
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
                Some(row) => {
                    let sql = upsert_sql(&name, table);
                    self.write_rows(&tx, &name, table, &sql, row).await?;
                }
                None => {
                    let key = TableDef {
                        name: table.name.clone(),
                        columns: table
                            .key
                            .iter()
                            .map(|&i| table.columns[i].clone())
                            .collect(),
                        key: (0..table.key.len()).collect(),
                    };
                    let sql = format!(
                        "DELETE FROM {} WHERE {}",
                        quote_ident(&name),
                        key_filter(table, |n| format!("${n}"))
                    );
                    self.write_rows(&tx, &name, &key, &sql, &change.key).await?;
                }
            }
        }
        tx.execute(
            "UPDATE published_models SET position = $2, updated_at = now() WHERE model = $1",
            &[&model.name, &pos(model.position)],
        )
        .await
        .map_err(|e| self.err(e))?;
        tx.commit().await.map_err(|e| self.err(e))?;
        Ok(true)
    }

    /// [`crate::store::ReadStore::unpublish`].
    pub(super) async fn drop_published(&self, name: &str) -> StoreResult<bool> {
        self.writable("unpublishing a model")?;
        let mut client = self.client().await?;
        let tx = self.begin_published(&mut client).await?;
        let Some(found) = self.locked_record(&tx, name).await? else {
            return Ok(false);
        };
        for table in found.table_names() {
            tx.batch_execute(&format!("DROP TABLE IF EXISTS {}", quote_ident(&table)))
                .await
                .map_err(|e| self.err(e))?;
        }
        tx.execute("DELETE FROM published_models WHERE model = $1", &[&name])
            .await
            .map_err(|e| self.err(e))?;
        tx.commit().await.map_err(|e| self.err(e))?;
        Ok(true)
    }
}
