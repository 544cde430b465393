//! The `read_models` collection: the definitions of the models users write,
//! one document per model under its name.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use mongodb::Collection;
use mongodb::bson::doc;
use serde::{Deserialize, Serialize};

use super::{MongoLedger, is_duplicate};
use crate::store::{ModelStore, StoreResult, StoredModel};

/// A model as stored.
#[derive(Serialize, Deserialize)]
struct ModelDoc {
    #[serde(rename = "_id")]
    name: String,
    version: i64,
    source: String,
    /// RFC 3339.
    added_at: String,
}

impl ModelDoc {
    fn into_model(self) -> StoredModel {
        StoredModel {
            name: self.name,
            version: self.version.clamp(0, u32::MAX as i64) as u32,
            source: self.source,
            added_at: DateTime::parse_from_rfc3339(&self.added_at)
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_default(),
        }
    }
}

impl MongoLedger {
    fn read_models(&self) -> Collection<ModelDoc> {
        self.db.collection("read_models")
    }
}

#[async_trait]
impl ModelStore for MongoLedger {
    async fn add_model(&self, model: &StoredModel) -> StoreResult<bool> {
        self.writable("adding a model")?;
        let stored = ModelDoc {
            name: model.name.clone(),
            version: i64::from(model.version),
            source: model.source.clone(),
            added_at: model.added_at.to_rfc3339(),
        };
        match self.read_models().insert_one(&stored).await {
            Ok(_) => Ok(true),
            Err(e) if is_duplicate(&e) => Ok(false),
            Err(e) => Err(self.error(e)),
        }
    }

    async fn models(&self) -> StoreResult<Vec<StoredModel>> {
        let cursor = self
            .read_models()
            .find(doc! {})
            .sort(doc! { "_id": 1 })
            .await
            .map_err(|e| self.error(e))?;
        let docs: Vec<ModelDoc> = cursor.try_collect().await.map_err(|e| self.error(e))?;
        Ok(docs.into_iter().map(ModelDoc::into_model).collect())
    }

    async fn model(&self, name: &str) -> StoreResult<Option<StoredModel>> {
        self.read_models()
            .find_one(doc! { "_id": name })
            .await
            .map(|found| found.map(ModelDoc::into_model))
            .map_err(|e| self.error(e))
    }

    async fn remove_model(&self, name: &str) -> StoreResult<bool> {
        self.writable("removing a model")?;
        self.read_models()
            .delete_one(doc! { "_id": name })
            .await
            .map(|r| r.deleted_count > 0)
            .map_err(|e| self.error(e))
    }
}
