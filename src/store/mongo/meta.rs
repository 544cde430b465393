//! Checkpoints, chunked snapshots and leases on MongoDB.
//!
//! Every document of these collections is a typed struct below, serialized
//! to exactly the field names and BSON types the README documents ("The
//! MongoDB schema"). Reading is lenient: a field that is missing or of
//! another type reads as a default (numbers from Int32, Int64 or Double), as
//! it did when these documents were read by hand, so no stored document
//! fails to read.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mongodb::bson::spec::BinarySubtype;
use mongodb::bson::{self, Binary, Bson, doc};
use serde::{Deserialize, Serialize};
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

/// A projector's bookmark in `checkpoints`, one per projector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct CheckpointDoc {
    /// The projector's name.
    #[serde(rename = "_id", default, deserialize_with = "lenient::text")]
    projector: String,
    #[serde(default, deserialize_with = "lenient::number")]
    position: i64,
    #[serde(default, deserialize_with = "lenient::positions")]
    skipped: Vec<i64>,
    #[serde(default, deserialize_with = "lenient::holes")]
    holes: Vec<HoleDoc>,
    /// Millisecond precision, for people and queries; `updated_at_us` is read.
    #[serde(default = "epoch", deserialize_with = "lenient::date")]
    updated_at: bson::DateTime,
    #[serde(default, deserialize_with = "lenient::number")]
    updated_at_us: i64,
    #[serde(default, deserialize_with = "lenient::text")]
    instance: String,
    /// Absent (not null) when the projector is not failing.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_text"
    )]
    last_error: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_date"
    )]
    error_since: Option<bson::DateTime>,
}

/// A hole in a checkpoint's `holes`: `{from, to}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct HoleDoc {
    #[serde(default, deserialize_with = "lenient::number")]
    from: i64,
    #[serde(default, deserialize_with = "lenient::number")]
    to: i64,
}

/// A snapshot's metadata in `snapshots`; without it the chunks are invisible.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct SnapshotDoc {
    /// The snapshot's id (a UUID).
    #[serde(rename = "_id", default, deserialize_with = "lenient::text")]
    id: String,
    #[serde(default, deserialize_with = "lenient::number")]
    position: i64,
    /// [`SnapshotMeta`] as JSON turned into BSON (numbers as Int64): kept
    /// as BSON, because other readers see its JSON shape (UUIDs and times as
    /// strings), not serde's BSON one. Null when missing.
    #[serde(default)]
    meta: Bson,
}

/// One binary part of a snapshot chunk in `snapshot_chunks`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct PartDoc {
    /// `<snapshot id>:<seq, 8 digits>:<part, 4 digits>`.
    #[serde(rename = "_id", default, deserialize_with = "lenient::text")]
    id: String,
    #[serde(default, deserialize_with = "lenient::text")]
    snapshot_id: String,
    #[serde(default, deserialize_with = "lenient::number")]
    seq: i64,
    #[serde(default, deserialize_with = "lenient::number")]
    part: i64,
    /// How many parts the chunk has.
    #[serde(default, deserialize_with = "lenient::number")]
    parts: i64,
    /// The bytes (generic subtype); always written, `None` when a stored
    /// part has none (reported as an error).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::binary"
    )]
    data: Option<Binary>,
}

/// A lease in `locks`, `_id` the lock's name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct LockDoc {
    #[serde(rename = "_id", default, deserialize_with = "lenient::text")]
    name: String,
    #[serde(default, deserialize_with = "lenient::text")]
    owner: String,
    #[serde(default, deserialize_with = "lenient::number")]
    fencing: i64,
    /// What is compared; `expires_at` is the same instant as a date, for people.
    #[serde(default, deserialize_with = "lenient::number")]
    expires_at_ms: i64,
    #[serde(default = "epoch", deserialize_with = "lenient::date")]
    expires_at: bson::DateTime,
    /// When it was last taken or renewed (absent in leases of earlier builds).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_date"
    )]
    renewed_at: Option<bson::DateTime>,
}

/// A claimed fencing number in `lock_fences` (only ever inserted).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(super) struct FenceDoc {
    /// `f:<number, 20 digits>`.
    #[serde(rename = "_id")]
    id: String,
    at: bson::DateTime,
}

/// The fencing hint in `ledger_meta`: `{_id: "fencing", last}`, written by
/// an upserting `$max` (never replaced), read through this.
#[derive(Debug, Clone, PartialEq, Deserialize)]
struct FencingHintDoc {
    #[serde(default, deserialize_with = "lenient::number")]
    last: i64,
}

fn epoch() -> bson::DateTime {
    bson::DateTime::from_millis(0)
}

fn bson_date(t: DateTime<Utc>) -> bson::DateTime {
    bson::DateTime::from_millis(t.timestamp_millis())
}

/// Field readers that never fail: a missing field (`#[serde(default)]`) or
/// one of another type reads as a default, as the hand-written reads did.
mod lenient {
    use mongodb::bson::{Binary, Bson, DateTime};
    use serde::{Deserialize, Deserializer};

    use super::HoleDoc;

    /// Any numeric BSON (older documents may hold Int32, Int64 or Double)
    /// as an i64 (doubles truncated); anything else 0.
    pub(super) fn int_of(value: &Bson) -> i64 {
        match value {
            Bson::Int32(i) => i64::from(*i),
            Bson::Int64(i) => *i,
            Bson::Double(f) => *f as i64,
            _ => 0,
        }
    }

    pub(super) fn number<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        Bson::deserialize(d).map(|b| int_of(&b))
    }

    pub(super) fn opt_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        Ok(match Bson::deserialize(d)? {
            Bson::String(s) => Some(s),
            _ => None,
        })
    }

    pub(super) fn text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        opt_text(d).map(Option::unwrap_or_default)
    }

    pub(super) fn opt_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime>, D::Error> {
        Ok(match Bson::deserialize(d)? {
            Bson::DateTime(t) => Some(t),
            _ => None,
        })
    }

    pub(super) fn date<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime, D::Error> {
        opt_date(d).map(|t| t.unwrap_or_else(super::epoch))
    }

    pub(super) fn binary<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Binary>, D::Error> {
        Ok(match Bson::deserialize(d)? {
            Bson::Binary(b) => Some(b),
            _ => None,
        })
    }

    /// The Int32 and Int64 items of an array that are not negative (others
    /// are dropped); not an array: none.
    pub(super) fn positions<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<i64>, D::Error> {
        Ok(match Bson::deserialize(d)? {
            Bson::Array(items) => items
                .iter()
                .filter_map(|b| match b {
                    Bson::Int32(i) => Some(i64::from(*i)),
                    Bson::Int64(i) => Some(*i),
                    _ => None,
                })
                .filter(|p| *p >= 0)
                .collect(),
            _ => Vec::new(),
        })
    }

    /// The document items of an array, bounds read with [`int_of`] (others
    /// are dropped); not an array: none.
    pub(super) fn holes<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<HoleDoc>, D::Error> {
        Ok(match Bson::deserialize(d)? {
            Bson::Array(items) => items
                .iter()
                .filter_map(|b| match b {
                    Bson::Document(h) => Some(HoleDoc {
                        from: h.get("from").map_or(0, int_of),
                        to: h.get("to").map_or(0, int_of),
                    }),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        })
    }
}

impl CheckpointDoc {
    fn of(checkpoint: &Checkpoint) -> Self {
        CheckpointDoc {
            projector: checkpoint.projector.clone(),
            position: i64_of(checkpoint.position),
            skipped: checkpoint.skipped.iter().map(|p| i64_of(*p)).collect(),
            holes: checkpoint
                .holes
                .iter()
                .map(|h| HoleDoc {
                    from: i64_of(h.from),
                    to: i64_of(h.to),
                })
                .collect(),
            updated_at: bson_date(checkpoint.updated_at),
            updated_at_us: checkpoint.updated_at.timestamp_micros(),
            instance: checkpoint.instance.clone(),
            last_error: checkpoint.last_error.clone(),
            error_since: checkpoint.error_since.map(bson_date),
        }
    }

    /// The checkpoint of `projector` (the name asked for, not the stored `_id`).
    fn into_checkpoint(self, projector: &str) -> Checkpoint {
        Checkpoint {
            projector: projector.to_string(),
            position: self.position.max(0) as u64,
            skipped: self.skipped.into_iter().map(|p| p as u64).collect(),
            holes: self
                .holes
                .into_iter()
                .map(|h| Hole {
                    from: h.from.max(0) as u64,
                    to: h.to.max(0) as u64,
                })
                .collect(),
            last_error: self.last_error,
            error_since: self
                .error_since
                .and_then(|t| DateTime::from_timestamp_millis(t.timestamp_millis())),
            updated_at: DateTime::from_timestamp_micros(self.updated_at_us).unwrap_or_default(),
            instance: self.instance,
        }
    }
}

impl SnapshotDoc {
    /// The metadata, if it is usable (others are skipped or not found).
    fn snapshot_meta(&self) -> Option<SnapshotMeta> {
        serde_json::from_value(bson_to_json(&self.meta)).ok()
    }
}

impl LockDoc {
    /// The lease on `name` (the name asked for, as `_id` is).
    fn lease(&self, name: &str) -> Lease {
        Lease {
            name: name.to_string(),
            owner: self.owner.clone(),
            fencing: self.fencing.max(0) as u64,
            expires_at: DateTime::from_timestamp_millis(self.expires_at_ms).unwrap_or_default(),
            renewed_at: self
                .renewed_at
                .and_then(|t| DateTime::from_timestamp_millis(t.timestamp_millis())),
        }
    }
}

fn part_id(snapshot: Uuid, seq: usize, part: usize) -> String {
    format!("{snapshot}:{seq:08}:{part:04}")
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
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
            .clone_with_type::<FencingHintDoc>()
            .find_one(doc! {"_id": FENCING_HINT})
            .await
            .map_err(|e| self.error(e))?
            .map_or(0, |h| h.last);
        let mut n = hint.max(*last).max(0) + 1;
        let mut step = 1i64;
        loop {
            let fence = FenceDoc {
                id: format!("f:{n:020}"),
                at: bson::DateTime::now(),
            };
            match self.fences.insert_one(&fence).await {
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
            let Some(stored) = self
                .chunks
                .find_one(doc! {"_id": part_id(id, seq, part)})
                .await
                .map_err(|e| self.error(e))?
            else {
                return Ok(None);
            };
            let Some(data) = stored.data else {
                return Err(self.failed(format!("snapshot {id} chunk {seq} has no binary data")));
            };
            chunk.extend_from_slice(&data.bytes);
            part += 1;
            if part as i64 >= stored.parts {
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
                    let lock = LockDoc {
                        name: name.to_string(),
                        owner: owner.to_string(),
                        fencing: i64_of(fencing),
                        expires_at_ms: expires,
                        expires_at: bson::DateTime::from_millis(expires),
                        renewed_at: Some(bson::DateTime::from_millis(now)),
                    };
                    match self.locks.insert_one(&lock).await {
                        Ok(_) => Some(fencing),
                        Err(e) if is_duplicate(&e) => None, // someone was faster: look again
                        Err(e) => return Err(self.error(e)),
                    }
                }
                Some(cur) => {
                    let (holder, fencing, until) =
                        (cur.owner.as_str(), cur.fencing, cur.expires_at_ms);
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
                                "expires_at": bson::DateTime::from_millis(expires),
                                "renewed_at": bson::DateTime::from_millis(now),
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
                        back.filter(|d| d.owner == owner && d.fencing == new_fencing)
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
                    renewed_at: DateTime::from_timestamp_millis(now),
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
            .filter(|d| d.expires_at_ms > now_ms())
            .map(|d| d.lease(name)))
    }

    async fn last_lease(&self, name: &str) -> StoreResult<Option<Lease>> {
        let found = self
            .locks
            .find_one(doc! {"_id": name})
            .await
            .map_err(|e| self.error(e))?;
        Ok(found.map(|d| d.lease(name)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mongodb::bson::{Document, from_slice, to_raw_document_buf};

    /// What the driver stores for `value`, field by field in order.
    fn stored<T: Serialize>(value: &T) -> Vec<(String, Bson)> {
        let raw = to_raw_document_buf(value).unwrap();
        let doc: Document = from_slice(raw.as_bytes()).unwrap();
        doc.into_iter().collect()
    }

    fn fields(doc: Document) -> Vec<(String, Bson)> {
        doc.into_iter().collect()
    }

    /// How the driver reads `doc` into `T`.
    fn read<T: serde::de::DeserializeOwned>(doc: Document) -> T {
        from_slice(bson::to_vec(&doc).unwrap().as_slice()).unwrap()
    }

    fn checkpoint() -> Checkpoint {
        let updated_at = DateTime::from_timestamp_micros(1_700_000_000_123_456).unwrap();
        Checkpoint {
            projector: "BookingProjection".into(),
            position: 42,
            skipped: vec![3, 7],
            holes: vec![Hole { from: 10, to: 12 }],
            last_error: Some("boom".into()),
            error_since: Some(updated_at),
            updated_at,
            instance: "host-1".into(),
        }
    }

    #[test]
    fn checkpoints_are_stored_as_before() {
        let c = checkpoint();
        let at = bson::DateTime::from_millis(c.updated_at.timestamp_millis());
        assert_eq!(
            stored(&CheckpointDoc::of(&c)),
            fields(doc! {
                "_id": "BookingProjection",
                "position": 42i64,
                "skipped": [3i64, 7i64],
                "holes": [{"from": 10i64, "to": 12i64}],
                "updated_at": at,
                "updated_at_us": 1_700_000_000_123_456i64,
                "instance": "host-1",
                "last_error": "boom",
                "error_since": at,
            })
        );
        let quiet = Checkpoint::new("P", 1, "i");
        let keys: Vec<String> = stored(&CheckpointDoc::of(&quiet))
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(
            keys,
            [
                "_id",
                "position",
                "skipped",
                "holes",
                "updated_at",
                "updated_at_us",
                "instance"
            ]
        );
        let back: CheckpointDoc = read(bson::to_document(&CheckpointDoc::of(&c)).unwrap());
        let mut expected = c.clone();
        expected.error_since = DateTime::from_timestamp_millis(c.updated_at.timestamp_millis()); // ms precision
        assert_eq!(back.into_checkpoint("BookingProjection"), expected);
    }

    #[test]
    fn old_and_odd_checkpoints_still_read() {
        let back: CheckpointDoc = read(doc! {
            "_id": "P",
            "position": 5.0,
            "skipped": [1i32, 2i64, -3i32, 4.0, "x"],
            "holes": [{"from": 2i32, "to": 3.0}, "junk", {"from": "a"}],
            "updated_at": "not a date",
            "updated_at_us": 7i32,
            "instance": 3i32,
            "last_error": Bson::Null,
            "error_since": 12i64,
        });
        let c = back.into_checkpoint("P");
        assert_eq!(c.position, 5);
        assert_eq!(c.skipped, vec![1, 2]);
        assert_eq!(
            c.holes,
            vec![Hole { from: 2, to: 3 }, Hole { from: 0, to: 0 }]
        );
        assert_eq!(c.updated_at.timestamp_micros(), 7);
        assert_eq!(
            (c.instance.as_str(), c.last_error, c.error_since),
            ("", None, None)
        );
        let empty: CheckpointDoc = read(doc! {"_id": "P"});
        let c = empty.into_checkpoint("P");
        assert_eq!((c.position, c.skipped.len(), c.holes.len()), (0, 0, 0));
    }

    #[test]
    fn snapshots_parts_locks_and_fences_are_stored_as_before() {
        let meta = doc! {"id": "u", "chunks": 2i64};
        let snapshot = SnapshotDoc {
            id: "u".into(),
            position: 9,
            meta: Bson::Document(meta.clone()),
        };
        assert_eq!(
            stored(&snapshot),
            fields(doc! {"_id": "u", "position": 9i64, "meta": meta})
        );
        assert_eq!(read::<SnapshotDoc>(doc! {"_id": "u"}).meta, Bson::Null);

        let bytes = Binary {
            subtype: BinarySubtype::Generic,
            bytes: vec![1, 2, 3],
        };
        let part = PartDoc {
            id: "u:00000000:0000".into(),
            snapshot_id: "u".into(),
            seq: 0,
            part: 0,
            parts: 1,
            data: Some(bytes.clone()),
        };
        let expected = doc! {
            "_id": "u:00000000:0000", "snapshot_id": "u", "seq": 0i64, "part": 0i64,
            "parts": 1i64, "data": bytes.clone(),
        };
        assert_eq!(stored(&part), fields(expected.clone()));
        assert_eq!(read::<PartDoc>(expected), part);
        let odd: PartDoc = read(doc! {"_id": "x", "parts": 2i32, "data": "text"});
        assert_eq!((odd.parts, odd.data), (2, None));

        let until = bson::DateTime::from_millis(1_000);
        let lock = LockDoc {
            name: "booking:1".into(),
            owner: "me".into(),
            fencing: 4,
            expires_at_ms: 1_000,
            expires_at: until,
            renewed_at: Some(bson::DateTime::from_millis(400)),
        };
        let expected = doc! {
            "_id": "booking:1", "owner": "me", "fencing": 4i64,
            "expires_at_ms": 1_000i64, "expires_at": until,
            "renewed_at": bson::DateTime::from_millis(400),
        };
        assert_eq!(stored(&lock), fields(expected.clone()));
        assert_eq!(read::<LockDoc>(expected), lock);
        let old: LockDoc =
            read(doc! {"_id": "l", "owner": "o", "fencing": 3i32, "expires_at_ms": 5.0});
        assert_eq!(
            old.lease("l"),
            Lease {
                name: "l".into(),
                owner: "o".into(),
                fencing: 3,
                expires_at: DateTime::from_timestamp_millis(5).unwrap(),
                renewed_at: None,
            }
        );

        let fence = FenceDoc {
            id: format!("f:{:020}", 7),
            at: until,
        };
        assert_eq!(
            stored(&fence),
            fields(doc! {"_id": "f:00000000000000000007", "at": until})
        );
        for last in [Bson::Int32(6), Bson::Int64(6), Bson::Double(6.0)] {
            let hint: FencingHintDoc = read(doc! {"_id": FENCING_HINT, "last": last});
            assert_eq!(hint.last, 6);
        }
    }
}
