//! The `ModelStore` port: the read models users define, kept in the ledger
//! store so everyone on the same ledger sees them (embedded SQLite: the
//! `read_models` table of `ledger.sqlite3`; MongoDB: the `read_models`
//! collection).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::StoreResult;

/// A model's definition as kept: its name, version and text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredModel {
    /// Unique among the ledger's models.
    pub name: String,
    /// Its schema version (from `-- version: N`).
    pub version: u32,
    /// The text as written.
    pub source: String,
    /// When it was added.
    pub added_at: DateTime<Utc>,
}

/// Read model definitions.
#[async_trait]
pub trait ModelStore: Send + Sync {
    /// Adds `model`; `false` (and nothing written) when one of that name exists.
    async fn add_model(&self, model: &StoredModel) -> StoreResult<bool>;
    /// Every model, by name.
    async fn models(&self) -> StoreResult<Vec<StoredModel>>;
    /// The model named `name`.
    async fn model(&self, name: &str) -> StoreResult<Option<StoredModel>>;
    /// Removes the model named `name`; `false` when there was none.
    async fn remove_model(&self, name: &str) -> StoreResult<bool>;
}
