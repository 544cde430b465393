//! Repairs in the embedded ledger's `repairs` table (migration 1): one row
//! per repair, the entry as JSON beside the columns it is listed by.

use async_trait::async_trait;
use rusqlite::params;

use super::{SqliteLedger, has_table};
use crate::store::sqlite::map_err;
use crate::store::{RepairEntry, RepairLog, StoreError, StoreResult};

#[async_trait]
impl RepairLog for SqliteLedger {
    async fn record_repair(&self, entry: &RepairEntry) -> StoreResult<()> {
        self.writable("recording a repair")?;
        let store = self.store();
        let json = serde_json::to_string(entry).map_err(|e| StoreError::Failed {
            store: store.clone(),
            message: format!("the repair could not be written as JSON: {e}"),
        })?;
        let entry = entry.clone();
        self.locks
            .call(move |c| {
                c.execute(
                    "INSERT INTO repairs(id, at_ms, instance, read_store, kind, entry)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![
                        entry.id.to_string(),
                        entry.at.timestamp_millis(),
                        entry.instance,
                        entry.read_store,
                        entry.kind.name(),
                        json
                    ],
                )
                .map(|_| ())
                .map_err(|e| map_err(&store, e))
            })
            .await
    }

    async fn list_repairs(&self, limit: usize) -> StoreResult<Vec<RepairEntry>> {
        let store = self.store();
        self.reader
            .call(move |c| {
                // A read-only copy made by a build without repairs has none.
                if !has_table(c, "repairs").map_err(|e| map_err(&store, e))? {
                    return Ok(Vec::new());
                }
                let mut stmt = c
                    .prepare("SELECT id, entry FROM repairs ORDER BY at_ms DESC, rowid DESC LIMIT ?1")
                    .map_err(|e| map_err(&store, e))?;
                let rows = stmt
                    .query_map([limit.min(i64::MAX as usize) as i64], |r| {
                        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                    })
                    .map_err(|e| map_err(&store, e))?;
                let mut entries = Vec::new();
                for row in rows {
                    let (id, json) = row.map_err(|e| map_err(&store, e))?;
                    match serde_json::from_str::<RepairEntry>(&json) {
                        Ok(entry) => entries.push(entry),
                        Err(error) => {
                            tracing::warn!(repair = %id, %error, "a repair entry could not be read; left out")
                        }
                    }
                }
                Ok(entries)
            })
            .await
    }
}
