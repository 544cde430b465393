//! Checkpoints, chunked snapshots and leases on MongoDB.
//!
//! Every document of these collections is a typed struct below, serialized
//! to exactly the field names and BSON types the README documents ("The
//! MongoDB schema"). Reading is lenient: a field that is missing or of
//! another type reads as a default (numbers from Int32, Int64 or Double), as
//! it did when these documents were read by hand, so no stored document
//! fails to read.

use chrono::{DateTime, Utc};
use mongodb::bson::{self, Binary, Bson, doc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::codec::{bson_to_json, i64_of};
use super::{MongoLedger, is_duplicate};
use crate::store::{Checkpoint, Hole, Lease, SnapshotMeta, StoreError, StoreResult};

mod checkpoints;
mod locks;
mod snapshots;

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

#[cfg(test)]
mod tests;
