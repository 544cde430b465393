//! The snapshot port ([`SnapshotStore`]) of the MongoDB ledger: snapshots
//! in parts of at most 8 MiB.

use async_trait::async_trait;
use mongodb::bson::spec::BinarySubtype;
use mongodb::bson::{Binary, doc};
use uuid::Uuid;

use super::{MAX_PART_BYTES, PartDoc, SnapshotDoc, part_id};
use crate::store::mongo::codec::{i64_of, json_to_bson};
use crate::store::mongo::{MongoLedger, is_duplicate};
use crate::store::{SnapshotMeta, SnapshotStore, StoreError, StoreResult};

#[async_trait]
impl SnapshotStore for MongoLedger {
    async fn save_snapshot(&self, meta: &SnapshotMeta, chunks: Vec<Vec<u8>>) -> StoreResult<()> {
        self.writable("saving a snapshot")?;
        for (seq, chunk) in chunks.iter().enumerate() {
            let parts: Vec<&[u8]> = if chunk.is_empty() {
                vec![&chunk[..]]
            } else {
                chunk.chunks(MAX_PART_BYTES).collect()
            };
            let count = parts.len();
            for (part, bytes) in parts.into_iter().enumerate() {
                let stored = PartDoc {
                    id: part_id(meta.id, seq, part),
                    snapshot_id: meta.id.to_string(),
                    seq: seq as i64,
                    part: part as i64,
                    parts: count as i64,
                    data: Some(Binary {
                        subtype: BinarySubtype::Generic,
                        bytes: bytes.to_vec(),
                    }),
                };
                match self.chunks.insert_one(&stored).await {
                    Ok(_) => {}
                    Err(e) if is_duplicate(&e) => {} // a retried save: the same bytes are there
                    Err(e) => return Err(self.error(e)),
                }
            }
        }
        // The metadata last: a snapshot without it is invisible.
        let json = serde_json::to_value(meta)
            .map_err(|e| self.failed(format!("cannot encode the snapshot: {e}")))?;
        let stored = SnapshotDoc {
            id: meta.id.to_string(),
            position: i64_of(meta.position),
            meta: json_to_bson(&json),
        };
        self.snapshots
            .insert_one(&stored)
            .await
            .map(|_| ())
            .map_err(|e| self.error(e))
    }

    async fn delete_snapshot(&self, id: Uuid) -> StoreResult<()> {
        self.writable("deleting a snapshot")?;
        // The metadata first: a snapshot without it is invisible, so a crash
        // between the two leaves only chunks no one reads.
        self.snapshots
            .delete_one(doc! {"_id": id.to_string()})
            .await
            .map_err(|e| self.error(e))?;
        self.chunks
            .delete_many(doc! {"snapshot_id": id.to_string()})
            .await
            .map(|_| ())
            .map_err(|e| self.error(e))
    }

    async fn list_snapshots(&self) -> StoreResult<Vec<SnapshotMeta>> {
        use futures_util::TryStreamExt;
        let cursor = self
            .snapshots
            .find(doc! {})
            .sort(doc! {"position": 1, "_id": 1})
            .await
            .map_err(|e| self.error(e))?;
        let stored: Vec<SnapshotDoc> = cursor.try_collect().await.map_err(|e| self.error(e))?;
        let mut metas: Vec<SnapshotMeta> = stored
            .iter()
            .filter_map(SnapshotDoc::snapshot_meta)
            .collect();
        metas.sort_by_key(|m| (m.position, m.id.to_string()));
        Ok(metas)
    }

    async fn load_snapshot_chunks(&self, id: Uuid) -> StoreResult<Vec<Vec<u8>>> {
        let meta = self
            .snapshots
            .find_one(doc! {"_id": id.to_string()})
            .await
            .map_err(|e| self.error(e))?
            .and_then(|d| d.snapshot_meta())
            .ok_or_else(|| StoreError::NotFound(format!("no snapshot has id {id}")))?;
        let mut chunks = Vec::with_capacity(meta.chunks as usize);
        for seq in 0..meta.chunks as usize {
            match self.load_chunk(id, seq).await? {
                Some(chunk) => chunks.push(chunk),
                None => return Ok(chunks), // missing: the engine reports the short count
            }
        }
        Ok(chunks)
    }

    async fn load_snapshot_chunk_range(
        &self,
        id: Uuid,
        first: u32,
        count: u32,
    ) -> StoreResult<Vec<Vec<u8>>> {
        // No meta needed: an unknown snapshot has no chunks, so the result is empty.
        let mut chunks = Vec::new();
        for offset in 0..count {
            let seq = first as usize + offset as usize;
            match self.load_chunk(id, seq).await? {
                Some(chunk) => chunks.push(chunk),
                None => break, // missing: the caller reports the short read
            }
        }
        Ok(chunks)
    }
}
