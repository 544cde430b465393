//! Checkpoints, chunked snapshots and leases on MongoDB.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mongodb::bson::spec::BinarySubtype;
use mongodb::bson::{Binary, Bson, Document, doc};
use uuid::Uuid;

use super::codec::{bson_to_json, i64_of, json_to_bson};
use super::{MongoLedger, is_duplicate};
use crate::store::{
    Checkpoint, CheckpointStore, Hole, Lease, LockFactory, SnapshotMeta, SnapshotStore, StoreError,
    StoreResult,
};

/// Largest binary part stored in one document (MongoDB's limit is 16 MB per document).
const MAX_PART_BYTES: usize = 8 * 1024 * 1024;
/// `_id` of the fencing hint in `ledger_meta`.
const FENCING_HINT: &str = "fencing";

fn int_of(doc: &Document, name: &str) -> i64 {
    match doc.get(name) {
        Some(Bson::Int32(i)) => i64::from(*i),
        Some(Bson::Int64(i)) => *i,
        Some(Bson::Double(f)) => *f as i64,
        _ => 0,
    }
}

fn part_id(snapshot: Uuid, seq: usize, part: usize) -> String {
    format!("{snapshot}:{seq:08}:{part:04}")
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

fn lease_of(name: &str, doc: &Document) -> Lease {
    Lease {
        name: name.to_string(),
        owner: doc.get_str("owner").unwrap_or_default().to_string(),
        fencing: int_of(doc, "fencing").max(0) as u64,
        expires_at: DateTime::from_timestamp_millis(int_of(doc, "expires_at_ms"))
            .unwrap_or_default(),
    }
}

impl MongoLedger {
    fn failed(&self, message: String) -> StoreError {
        StoreError::Failed {
            store: self.label.clone(),
            message,
        }
    }

    /// Claims a fencing number nobody else has, by inserting a unique id
    /// (never a `$inc`, which FerretDB runs as read-then-write). Numbers only
    /// grow; gaps are fine.
    async fn next_fence(&self) -> StoreResult<u64> {
        let mut last = self.fence_lock.lock().await;
        let hint = self
            .meta
            .find_one(doc! {"_id": FENCING_HINT})
            .await
            .map_err(|e| self.error(e))?
            .map_or(0, |d| int_of(&d, "last"));
        let mut n = hint.max(*last).max(0) + 1;
        let mut step = 1i64;
        loop {
            match self
                .fences
                .insert_one(
                    doc! {"_id": format!("f:{n:020}"), "at": mongodb::bson::DateTime::now()},
                )
                .await
            {
                Ok(_) => break,
                Err(e) if is_duplicate(&e) => {
                    n += step;
                    step = (step * 2).min(1 << 20);
                }
                Err(e) => return Err(self.error(e)),
            }
        }
        *last = n;
        let _ = self
            .meta
            .update_one(doc! {"_id": FENCING_HINT}, doc! {"$max": {"last": n}})
            .upsert(true)
            .await;
        Ok(n as u64)
    }

    /// One chunk of a snapshot, its parts joined; `None` when a part is not
    /// stored (the first one for a chunk that was never saved). One `_id`
    /// lookup per part: FerretDB pushes these down.
    async fn load_chunk(&self, id: Uuid, seq: usize) -> StoreResult<Option<Vec<u8>>> {
        let mut chunk = Vec::new();
        let mut part = 0usize;
        loop {
            let Some(doc) = self
                .chunks
                .find_one(doc! {"_id": part_id(id, seq, part)})
                .await
                .map_err(|e| self.error(e))?
            else {
                return Ok(None);
            };
            match doc.get("data") {
                Some(Bson::Binary(b)) => chunk.extend_from_slice(&b.bytes),
                _ => {
                    return Err(
                        self.failed(format!("snapshot {id} chunk {seq} has no binary data"))
                    );
                }
            }
            part += 1;
            if part as i64 >= int_of(&doc, "parts") {
                return Ok(Some(chunk));
            }
        }
    }
}

#[async_trait]
impl CheckpointStore for MongoLedger {
    async fn load_checkpoint(&self, projector: &str) -> StoreResult<Option<Checkpoint>> {
        let found = self
            .checkpoints
            .find_one(doc! {"_id": projector})
            .await
            .map_err(|e| self.error(e))?;
        Ok(found.map(|d| Checkpoint {
            projector: projector.to_string(),
            position: int_of(&d, "position").max(0) as u64,
            skipped: match d.get("skipped") {
                Some(Bson::Array(items)) => items
                    .iter()
                    .filter_map(|b| match b {
                        Bson::Int32(i) => u64::try_from(*i).ok(),
                        Bson::Int64(i) => u64::try_from(*i).ok(),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            },
            holes: match d.get("holes") {
                Some(Bson::Array(items)) => items
                    .iter()
                    .filter_map(|b| match b {
                        Bson::Document(h) => Some(Hole {
                            from: int_of(h, "from").max(0) as u64,
                            to: int_of(h, "to").max(0) as u64,
                        }),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            },
            last_error: d.get_str("last_error").ok().map(str::to_string),
            error_since: match d.get("error_since") {
                Some(Bson::DateTime(t)) => DateTime::from_timestamp_millis(t.timestamp_millis()),
                _ => None,
            },
            updated_at: DateTime::from_timestamp_micros(int_of(&d, "updated_at_us"))
                .unwrap_or_default(),
            instance: d.get_str("instance").unwrap_or_default().to_string(),
        }))
    }

    async fn save_checkpoint(&self, checkpoint: &Checkpoint) -> StoreResult<()> {
        self.writable("saving a checkpoint")?;
        let mut doc = doc! {
            "_id": &checkpoint.projector,
            "position": i64_of(checkpoint.position),
            "skipped": checkpoint.skipped.iter().map(|p| Bson::Int64(i64_of(*p))).collect::<Vec<_>>(),
            "holes": checkpoint.holes.iter().map(|h| Bson::Document(doc! {"from": i64_of(h.from), "to": i64_of(h.to)})).collect::<Vec<_>>(),
            "updated_at": mongodb::bson::DateTime::from_millis(checkpoint.updated_at.timestamp_millis()),
            "updated_at_us": checkpoint.updated_at.timestamp_micros(),
            "instance": &checkpoint.instance,
        };
        if let Some(error) = &checkpoint.last_error {
            doc.insert("last_error", error.as_str());
        }
        if let Some(since) = checkpoint.error_since {
            doc.insert(
                "error_since",
                mongodb::bson::DateTime::from_millis(since.timestamp_millis()),
            );
        }
        let filter = doc! {"_id": &checkpoint.projector};
        match self
            .checkpoints
            .replace_one(filter.clone(), doc.clone())
            .upsert(true)
            .await
        {
            Ok(_) => Ok(()),
            // Two first saves raced on the upsert: the document exists now.
            Err(e) if is_duplicate(&e) => self
                .checkpoints
                .replace_one(filter, doc)
                .await
                .map(|_| ())
                .map_err(|e| self.error(e)),
            Err(e) => Err(self.error(e)),
        }
    }
}

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
                let doc = doc! {
                    "_id": part_id(meta.id, seq, part),
                    "snapshot_id": meta.id.to_string(),
                    "seq": seq as i64,
                    "part": part as i64,
                    "parts": count as i64,
                    "data": Binary { subtype: BinarySubtype::Generic, bytes: bytes.to_vec() },
                };
                match self.chunks.insert_one(doc).await {
                    Ok(_) => {}
                    Err(e) if is_duplicate(&e) => {} // a retried save: the same bytes are there
                    Err(e) => return Err(self.error(e)),
                }
            }
        }
        // The metadata last: a snapshot without it is invisible.
        let json = serde_json::to_value(meta)
            .map_err(|e| self.failed(format!("cannot encode the snapshot: {e}")))?;
        let doc = doc! {
            "_id": meta.id.to_string(),
            "position": i64_of(meta.position),
            "meta": json_to_bson(&json),
        };
        self.snapshots
            .insert_one(doc)
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
        let docs: Vec<Document> = cursor.try_collect().await.map_err(|e| self.error(e))?;
        let mut metas: Vec<SnapshotMeta> = docs
            .iter()
            .filter_map(|d| d.get("meta"))
            .filter_map(|m| serde_json::from_value::<SnapshotMeta>(bson_to_json(m)).ok())
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
            .and_then(|d| d.get("meta").map(bson_to_json))
            .and_then(|m| serde_json::from_value::<SnapshotMeta>(m).ok())
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

#[async_trait]
impl LockFactory for MongoLedger {
    async fn try_acquire(
        &self,
        name: &str,
        owner: &str,
        ttl: Duration,
    ) -> StoreResult<Option<Lease>> {
        self.writable("taking a lease")?;
        let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX / 2);
        for _ in 0..3 {
            let now = now_ms();
            let expires = now + ttl_ms;
            let current = self
                .locks
                .find_one(doc! {"_id": name})
                .await
                .map_err(|e| self.error(e))?;
            let taken = match current {
                None => {
                    let fencing = self.next_fence().await?;
                    let doc = doc! {
                        "_id": name,
                        "owner": owner,
                        "fencing": i64_of(fencing),
                        "expires_at_ms": expires,
                        "expires_at": mongodb::bson::DateTime::from_millis(expires),
                    };
                    match self.locks.insert_one(doc).await {
                        Ok(_) => Some(fencing),
                        Err(e) if is_duplicate(&e) => None, // someone was faster: look again
                        Err(e) => return Err(self.error(e)),
                    }
                }
                Some(cur) => {
                    let (holder, fencing, until) = (
                        cur.get_str("owner").unwrap_or_default(),
                        int_of(&cur, "fencing"),
                        int_of(&cur, "expires_at_ms"),
                    );
                    if until > now && holder != owner {
                        return Ok(None);
                    }
                    // Compare-and-set on what we read; the new holder reads it back,
                    // because FerretDB runs updates as read-then-write.
                    let (new_fencing, renew) = if until > now {
                        (fencing, true)
                    } else {
                        (i64_of(self.next_fence().await?), false)
                    };
                    let result = self
                        .locks
                        .update_one(
                            doc! {"_id": name, "owner": holder, "fencing": fencing, "expires_at_ms": until},
                            doc! {"$set": {
                                "owner": owner,
                                "fencing": new_fencing,
                                "expires_at_ms": expires,
                                "expires_at": mongodb::bson::DateTime::from_millis(expires),
                            }},
                        )
                        .await
                        .map_err(|e| self.error(e))?;
                    if result.matched_count == 1 && !renew {
                        let back = self
                            .locks
                            .find_one(doc! {"_id": name})
                            .await
                            .map_err(|e| self.error(e))?;
                        back.filter(|d| {
                            d.get_str("owner") == Ok(owner) && int_of(d, "fencing") == new_fencing
                        })
                        .map(|_| new_fencing as u64)
                    } else if result.matched_count == 1 {
                        Some(new_fencing as u64)
                    } else {
                        None
                    }
                }
            };
            if let Some(fencing) = taken {
                return Ok(Some(Lease {
                    name: name.to_string(),
                    owner: owner.to_string(),
                    fencing,
                    expires_at: DateTime::from_timestamp_millis(expires).unwrap_or_default(),
                }));
            }
        }
        Ok(None)
    }

    async fn release(&self, lease: &Lease) -> StoreResult<()> {
        self.writable("releasing a lease")?;
        self.locks
            .delete_one(
                doc! {"_id": &lease.name, "owner": &lease.owner, "fencing": i64_of(lease.fencing)},
            )
            .await
            .map(|_| ())
            .map_err(|e| self.error(e))
    }

    async fn holder(&self, name: &str) -> StoreResult<Option<Lease>> {
        let found = self
            .locks
            .find_one(doc! {"_id": name})
            .await
            .map_err(|e| self.error(e))?;
        Ok(found
            .filter(|d| int_of(d, "expires_at_ms") > now_ms())
            .map(|d| lease_of(name, &d)))
    }
}
