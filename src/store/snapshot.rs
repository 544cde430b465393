//! The snapshot port: [`SnapshotMeta`] and [`SnapshotStore`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::StoreResult;
use crate::domain::model::ModelVersions;

/// What is known about a stored snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotMeta {
    /// Snapshot id.
    pub id: Uuid,
    /// Ledger position the state reflects.
    pub position: u64,
    /// When it was taken.
    pub taken_at: DateTime<Utc>,
    /// Encoded size in bytes.
    pub size_bytes: u64,
    /// Number of chunks it is stored in.
    pub chunks: u32,
    /// SHA-256 of a delta's bytes (hex); empty for a full snapshot.
    pub sha256: String,
    /// XXH3-128 of a full snapshot's index chunk (hex): its checksum, checked
    /// on every load. None for deltas (checked by `sha256`), and for full
    /// snapshots in formats of earlier builds, which are not read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_xxh3: Option<String>,
    /// Content digest of the state (see `ReadState::digest`); empty for a
    /// delta, which is never materialized to be taken.
    pub state_digest: String,
    /// Rows in users / bookings.
    pub users: u64,
    /// Rows in bookings.
    pub bookings: u64,
    /// For a delta snapshot, the full snapshot it is a delta of: it stores
    /// only the row changes of the events since that one (see
    /// `engine::snapshot_delta`). None for a full snapshot;
    /// [`SnapshotMeta::HISTORY`] for a history snapshot (every row's changes
    /// up to its position, `engine::snapshot_history`), which builds that do
    /// not read them take for a delta of a snapshot that does not exist, and
    /// so never use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<Uuid>,
    /// The ledger it was taken of. Snapshots of another ledger, or of none
    /// (taken by a build without ledger identities), are never used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ledger_id: Option<Uuid>,
    /// The schema version of each model its rows were folded into
    /// ([`ModelVersions::FIRST`] for snapshots taken before versions
    /// existed). Snapshots of other versions are never used.
    #[serde(default)]
    pub versions: ModelVersions,
}

impl SnapshotMeta {
    /// The `base` of every history snapshot.
    pub const HISTORY: Uuid = Uuid::from_u128(0x4c534849_5354_8000_8000_000000000001);

    /// Whether this is a history snapshot: the state at every position up
    /// to its own.
    pub fn is_history(&self) -> bool {
        self.base == Some(Self::HISTORY)
    }

    /// Whether a state can start from it with no other snapshot: a full or
    /// a history snapshot (deltas are of one of these).
    pub fn is_base(&self) -> bool {
        self.is_full() || self.is_history()
    }

    /// Whether this is a full snapshot (not a delta of one).
    pub fn is_full(&self) -> bool {
        self.base.is_none()
    }

    /// Whether this build reads its format: a delta, or a paged full
    /// snapshot checked by XXH3 (the formats of earlier builds, one blob or
    /// JSON or paged with a SHA-256 index checksum, are not read).
    pub fn readable(&self) -> bool {
        match self.is_history() {
            true => self.index_xxh3.is_some(),
            false => self.base.is_some() || self.index_xxh3.is_some(),
        }
    }

    /// Whether it is of ledger `ledger`, of the models' `versions` and
    /// readable: the only snapshots used.
    pub fn usable_for(&self, ledger: Uuid, versions: ModelVersions) -> bool {
        self.ledger_id == Some(ledger) && self.versions == versions && self.readable()
    }

    /// The empty state at position 0, never stored: the full snapshot that
    /// deltas taken before the first real one are deltas of. Its id is nil.
    pub fn empty_ledger() -> Self {
        SnapshotMeta {
            id: Uuid::nil(),
            position: 0,
            taken_at: DateTime::<Utc>::UNIX_EPOCH,
            size_bytes: 0,
            chunks: 0,
            sha256: String::new(),
            index_xxh3: None,
            state_digest: String::new(),
            users: 0,
            bookings: 0,
            base: None,
            ledger_id: None,
            versions: ModelVersions::FIRST,
        }
    }
}

/// Snapshots of derived state, stored in chunks so size is unbounded.
#[async_trait]
pub trait SnapshotStore: Send + Sync {
    /// Stores the chunks, then the metadata (a snapshot without metadata is
    /// invisible, so a crash mid-save leaves no half snapshot).
    async fn save_snapshot(&self, meta: &SnapshotMeta, chunks: Vec<Vec<u8>>) -> StoreResult<()>;
    /// All snapshots, oldest position first.
    async fn list_snapshots(&self) -> StoreResult<Vec<SnapshotMeta>>;
    /// The chunks of one snapshot, in order.
    async fn load_snapshot_chunks(&self, id: Uuid) -> StoreResult<Vec<Vec<u8>>>;
    /// Chunks `first .. first + count` of one snapshot, in order. Stops at the
    /// first chunk that is not stored (so the result can be shorter than
    /// `count`; the caller reports the short read). `count == 0` returns none.
    async fn load_snapshot_chunk_range(
        &self,
        id: Uuid,
        first: u32,
        count: u32,
    ) -> StoreResult<Vec<Vec<u8>>>;
    /// Deletes a snapshot: its metadata first (it is then invisible, as one
    /// whose save did not finish), then its chunks. Deleting one that is not
    /// stored does nothing.
    async fn delete_snapshot(&self, id: Uuid) -> StoreResult<()>;
}
