//! `read_models` in `ledger.sqlite3`: the definitions of the models users write.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};

use super::{SqliteLedger, format_time, has_table};
use crate::store::sqlite::map_err;
use crate::store::{ModelStore, StoreResult, StoredModel};

/// The table, made on every writable open (a file of an earlier build gets it then).
pub(super) const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS read_models(
    name TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    source TEXT NOT NULL,
    added_at TEXT NOT NULL
);";

fn read_all(c: &Connection, name: Option<&str>) -> rusqlite::Result<Vec<StoredModel>> {
    // A read-only ledger of an earlier build has no such table: no models.
    if !has_table(c, "read_models")? {
        return Ok(Vec::new());
    }
    let mut stmt = c.prepare(
        "SELECT name, version, source, added_at FROM read_models
         WHERE ?1 IS NULL OR name = ?1 ORDER BY name",
    )?;
    let rows = stmt.query_map([name], |r| {
        let added: String = r.get(3)?;
        Ok(StoredModel {
            name: r.get(0)?,
            version: r.get::<_, i64>(1)?.clamp(0, u32::MAX as i64) as u32,
            source: r.get(2)?,
            added_at: DateTime::parse_from_rfc3339(&added)
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_default(),
        })
    })?;
    rows.collect()
}

#[async_trait]
impl ModelStore for SqliteLedger {
    async fn add_model(&self, model: &StoredModel) -> StoreResult<bool> {
        self.writable("adding a model")?;
        let store = self.store();
        let model = model.clone();
        self.writer
            .call(move |c| {
                c.execute(
                    "INSERT INTO read_models(name, version, source, added_at) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT(name) DO NOTHING",
                    params![
                        model.name,
                        i64::from(model.version),
                        model.source,
                        format_time(model.added_at)
                    ],
                )
                .map(|n| n == 1)
                .map_err(|e| map_err(&store, e))
            })
            .await
    }

    async fn models(&self) -> StoreResult<Vec<StoredModel>> {
        let store = self.store();
        self.reader
            .call(move |c| read_all(c, None).map_err(|e| map_err(&store, e)))
            .await
    }

    async fn model(&self, name: &str) -> StoreResult<Option<StoredModel>> {
        let store = self.store();
        let name = name.to_string();
        self.reader
            .call(move |c| {
                read_all(c, Some(&name))
                    .map(|mut found| found.pop())
                    .map_err(|e| map_err(&store, e))
            })
            .await
    }

    async fn remove_model(&self, name: &str) -> StoreResult<bool> {
        self.writable("removing a model")?;
        let store = self.store();
        let name = name.to_string();
        self.writer
            .call(move |c| {
                c.execute("DELETE FROM read_models WHERE name = ?1", [&name])
                    .map(|n| n > 0)
                    .map_err(|e| map_err(&store, e))
            })
            .await
    }
}
