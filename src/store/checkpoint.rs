//! The checkpoint port: [`Checkpoint`] and [`CheckpointStore`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::StoreResult;
use super::entries::Hole;

/// A projector's bookmark in the ledger store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Projector name.
    pub projector: String,
    /// Last position processed (every position up to it is done).
    pub position: u64,
    /// Positions skipped as malformed (most recent last, capped).
    pub skipped: Vec<u64>,
    /// Holes crossed (most recent last, capped).
    #[serde(default)]
    pub holes: Vec<Hole>,
    /// The projector's last error, while it lasts (cleared on success).
    #[serde(default)]
    pub last_error: Option<String>,
    /// Since when it has been failing.
    #[serde(default)]
    pub error_since: Option<DateTime<Utc>>,
    /// When it was written.
    pub updated_at: DateTime<Utc>,
    /// Which instance wrote it.
    pub instance: String,
}

impl Checkpoint {
    /// A checkpoint at `position` with nothing skipped, crossed or failing.
    pub fn new(projector: &str, position: u64, instance: &str) -> Self {
        Checkpoint {
            projector: projector.to_string(),
            position,
            skipped: Vec::new(),
            holes: Vec::new(),
            last_error: None,
            error_since: None,
            updated_at: Utc::now(),
            instance: instance.to_string(),
        }
    }
}

/// Projector checkpoints (the ledger's `checkpoints` collection).
#[async_trait]
pub trait CheckpointStore: Send + Sync {
    /// The projector's checkpoint, if any.
    async fn load_checkpoint(&self, projector: &str) -> StoreResult<Option<Checkpoint>>;
    /// Writes (replaces) the checkpoint.
    async fn save_checkpoint(&self, checkpoint: &Checkpoint) -> StoreResult<()>;
}
