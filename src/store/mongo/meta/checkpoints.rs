//! The checkpoint port ([`CheckpointStore`]) of the MongoDB ledger.

use async_trait::async_trait;
use mongodb::bson::doc;

use super::CheckpointDoc;
use crate::store::mongo::{MongoLedger, is_duplicate};
use crate::store::{Checkpoint, CheckpointStore, StoreResult};

#[async_trait]
impl CheckpointStore for MongoLedger {
    async fn load_checkpoint(&self, projector: &str) -> StoreResult<Option<Checkpoint>> {
        let found = self
            .checkpoints
            .find_one(doc! {"_id": projector})
            .await
            .map_err(|e| self.error(e))?;
        Ok(found.map(|d| d.into_checkpoint(projector)))
    }

    async fn save_checkpoint(&self, checkpoint: &Checkpoint) -> StoreResult<()> {
        self.writable("saving a checkpoint")?;
        let stored = CheckpointDoc::of(checkpoint);
        let filter = doc! {"_id": &checkpoint.projector};
        match self
            .checkpoints
            .replace_one(filter.clone(), &stored)
            .upsert(true)
            .await
        {
            Ok(_) => Ok(()),
            // Two first saves raced on the upsert: the document exists now.
            Err(e) if is_duplicate(&e) => self
                .checkpoints
                .replace_one(filter, &stored)
                .await
                .map(|_| ())
                .map_err(|e| self.error(e)),
            Err(e) => Err(self.error(e)),
        }
    }
}
