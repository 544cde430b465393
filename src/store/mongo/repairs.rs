//! Repairs in the `repairs` collection, one document per repair:
//! `_id` (the repair's id, a UUID string), `at` (date), `instance`
//! (string), `read_store` (string), `kind` (`replay` or `targeted`) and
//! `entry` (the whole entry as a document: `before` and `after` with their
//! counts and capped findings, `work`, `notes`; numbers as 64-bit integers).

use async_trait::async_trait;
use futures_util::TryStreamExt;
use mongodb::Collection;
use mongodb::bson::{Bson, Document, doc};

use super::MongoLedger;
use super::codec::{bson_to_json, json_to_bson};
use crate::store::{RepairEntry, RepairLog, StoreError, StoreResult};

impl MongoLedger {
    fn repairs(&self) -> Collection<Document> {
        self.db.collection::<Document>("repairs")
    }
}

#[async_trait]
impl RepairLog for MongoLedger {
    async fn record_repair(&self, entry: &RepairEntry) -> StoreResult<()> {
        self.writable("recording a repair")?;
        let json = serde_json::to_value(entry).map_err(|e| StoreError::Failed {
            store: self.label.clone(),
            message: format!("the repair could not be written as JSON: {e}"),
        })?;
        let document = doc! {
            "_id": entry.id.to_string(),
            "at": mongodb::bson::DateTime::from_millis(entry.at.timestamp_millis()),
            "instance": &entry.instance,
            "read_store": &entry.read_store,
            "kind": entry.kind.name(),
            "entry": json_to_bson(&json),
        };
        self.repairs()
            .insert_one(document)
            .await
            .map(|_| ())
            .map_err(|e| self.error(e))
    }

    async fn list_repairs(&self, limit: usize) -> StoreResult<Vec<RepairEntry>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let documents: Vec<Document> = self
            .repairs()
            .find(doc! {})
            .sort(doc! {"at": -1})
            .limit(limit)
            .await
            .map_err(|e| self.error(e))?
            .try_collect()
            .await
            .map_err(|e| self.error(e))?;
        let mut entries = Vec::new();
        for document in documents {
            let id = document.get("_id").cloned().unwrap_or(Bson::Null);
            let json = bson_to_json(document.get("entry").unwrap_or(&Bson::Null));
            match serde_json::from_value::<RepairEntry>(json) {
                Ok(entry) => entries.push(entry),
                Err(error) => {
                    tracing::warn!(repair = %id, %error, "a repair document could not be read; left out")
                }
            }
        }
        Ok(entries)
    }
}
