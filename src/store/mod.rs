//! Ports (traits) the engine talks to, and their adapters: `sqlite` (the
//! embedded default), `mongo` (ledger) and `postgres` (read models).
//!
//! Every adapter passes the same contract suite (`tests/contract.rs`).

pub mod connect;
pub mod credentials;
pub mod error;
pub mod mask_key;
pub mod missing;
pub mod models;
pub mod mongo;
pub mod pages;
pub mod pgpass;
pub mod postgres;
pub mod repairs;
pub mod sqlite;
pub mod tls;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::model::ModelVersions;
use crate::domain::{
    BookingRow, DomainEvent, ProjectorId, ReadState, RowChange, StoredEvent, TableRows, UserRow,
};

pub use connect::{StoreConfig, open_stores};
pub use credentials::{PgTarget, Secret};
pub use error::{StoreError, redact};
pub use models::{ModelStore, StoredModel};
pub use pages::PageReader;
pub use repairs::{
    Findings, FoundKind, FoundRow, RepairEntry, RepairKind, RepairLog, RepairWork, RowRewrite,
};

/// Result of every port call.
pub type StoreResult<T> = Result<T, StoreError>;

/// Which server or file a store is, for the top bar and for messages. Never
/// holds a password.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreInfo {
    /// `sqlite`, `mongodb` or `postgresql`.
    pub kind: String,
    /// Where it is: a file path or `host:port/db` (credentials removed).
    pub location: String,
    /// True when the store is on another machine (shown like a "production" banner).
    pub remote: bool,
}

impl std::fmt::Display for StoreInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at {}", self.kind, self.location)
    }
}

/// Who a ledger is: an id made when the ledger is created and kept in the
/// ledger store. Read stores and snapshots record the id of the ledger they
/// were built from, so stores that do not belong together are never mixed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerIdentity {
    /// The ledger's id.
    pub id: Uuid,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

/// Positions with no event below a stored one: `from..=to`. Positions this
/// app writes are gap-free; holes come from other writers, restores or hand
/// edits, and are crossed by the rule in `engine::holes`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Hole {
    /// First missing position.
    pub from: u64,
    /// Last missing position.
    pub to: u64,
}

impl Hole {
    /// How many positions are missing.
    pub fn positions(&self) -> u64 {
        self.to + 1 - self.from
    }

    /// Whether `position` is in the hole.
    pub fn contains(&self, position: u64) -> bool {
        (self.from..=self.to).contains(&position)
    }

    /// `position 321 has no event`, `positions 5..=9 have no event`.
    pub fn no_event(&self) -> String {
        let verb = if self.from == self.to { "has" } else { "have" };
        format!("{self} {verb} no event")
    }
}

impl std::fmt::Display for Hole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.from == self.to {
            write!(f, "position {}", self.from)
        } else {
            write!(f, "positions {}..={}", self.from, self.to)
        }
    }
}

/// The holes between consecutive stored positions of `positions` (in
/// order), after `after`.
pub fn holes_between(after: u64, positions: impl IntoIterator<Item = u64>) -> Vec<Hole> {
    let mut last = after;
    let mut holes = Vec::new();
    for p in positions {
        if p > last + 1 {
            holes.push(Hole {
                from: last + 1,
                to: p - 1,
            });
        }
        last = last.max(p);
    }
    holes
}

/// How many documents a ledger holds and how many of them can be placed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerCensus {
    /// Highest stored position (0 when empty).
    pub head: u64,
    /// Rows with a usable position (a positive integer), malformed or not.
    pub positioned: u64,
    /// Rows without a usable position: counted and shown as malformed,
    /// never placed in the ledger's order.
    pub unpositioned: u64,
}

impl LedgerCensus {
    /// Positions up to the head with no row: the total size of the holes.
    pub fn missing_positions(&self) -> u64 {
        self.head.saturating_sub(self.positioned)
    }
}

/// A ledger row that could not be read as a [`StoredEvent`] (foreign writer,
/// hand edit, corruption). Shown and skipped, never fatal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MalformedEvent {
    /// Its position (0 when the row has none at all).
    pub position: u64,
    /// What is wrong with it.
    pub reason: String,
    /// The raw document or row, as text (for display).
    pub raw: String,
}

/// One ledger row as read: an envelope, or why it is not one.
pub type LedgerEntry = Result<StoredEvent, MalformedEvent>;

/// Position of a ledger entry, well-formed or not.
pub fn entry_position(entry: &LedgerEntry) -> u64 {
    match entry {
        Ok(event) => event.position,
        Err(bad) => bad.position,
    }
}

/// Where a reader that asked for the entries from `from` on goes next: past
/// the highest position in `page`, or `None` when the page holds nothing at
/// or after `from` (nothing more to read, or a store that answered out of
/// order). A read loop that goes on only through this never reads a
/// position twice.
pub fn next_from(from: u64, page: &[LedgerEntry]) -> Option<u64> {
    page.iter()
        .map(entry_position)
        .max()
        .filter(|last| *last >= from)
        .map(|last| last + 1)
}

/// A page of ledger entries read from the store whose decoding is left to
/// the caller: a scan reads the next page on the store's connection while
/// this one decodes on another core.
pub struct LedgerPage<E> {
    /// Entries read.
    pub count: usize,
    /// The highest position among them (0 when none).
    pub last: u64,
    decode: Box<dyn FnOnce() -> Vec<E> + Send>,
}

impl<E: Send + 'static> LedgerPage<E> {
    /// A page already decoded.
    pub fn decoded(entries: Vec<E>, position: impl Fn(&E) -> u64) -> Self {
        let last = entries.iter().map(position).max().unwrap_or(0);
        LedgerPage {
            count: entries.len(),
            last,
            decode: Box::new(move || entries),
        }
    }

    /// A page of `count` entries up to `last`, decoded by `decode`.
    pub fn deferred(
        count: usize,
        last: u64,
        decode: impl FnOnce() -> Vec<E> + Send + 'static,
    ) -> Self {
        LedgerPage {
            count,
            last,
            decode: Box::new(decode),
        }
    }

    /// Its entries (decoding them, when that was left for now).
    pub fn decode(self) -> Vec<E> {
        (self.decode)()
    }
}

/// One ledger row as stored, not decoded at all: what reading the ledger
/// costs with no decoding (the floor replay is measured against).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawRow {
    /// Its position (0 when it has none that reads as one).
    pub position: u64,
    /// Its columns' bytes (embedded) or its BSON document (MongoDB).
    pub bytes: Vec<u8>,
}

/// One ledger row as a fold needs it: its position and its event, decoded,
/// or why it has none. Equal to decoding the [`LedgerEntry`] read at the
/// same position.
#[derive(Clone, Debug, PartialEq)]
pub enum FoldEntry {
    /// An envelope whose payload decoded.
    Event {
        /// Its position.
        position: u64,
        /// The decoded event.
        event: DomainEvent,
    },
    /// An envelope whose payload does not decode (unknown type, bad payload):
    /// skipped, with the reason [`StoredEvent::decode`] gives.
    Undecodable {
        /// Its position.
        position: u64,
        /// Why it does not decode.
        reason: String,
    },
    /// A row that is not an envelope.
    Malformed(MalformedEvent),
}

impl FoldEntry {
    /// Its position, whatever it holds.
    pub fn position(&self) -> u64 {
        match self {
            FoldEntry::Event { position, .. } | FoldEntry::Undecodable { position, .. } => {
                *position
            }
            FoldEntry::Malformed(bad) => bad.position,
        }
    }
}

impl From<LedgerEntry> for FoldEntry {
    fn from(entry: LedgerEntry) -> Self {
        match entry {
            Ok(stored) => match stored.decode() {
                Ok(event) => FoldEntry::Event {
                    position: stored.position,
                    event,
                },
                Err(error) => FoldEntry::Undecodable {
                    position: stored.position,
                    reason: error.to_string(),
                },
            },
            Err(bad) => FoldEntry::Malformed(bad),
        }
    }
}

/// What `append` did.
#[derive(Clone, Debug, PartialEq)]
pub enum AppendOutcome {
    /// Stored at a new position (the returned event carries it).
    Appended(StoredEvent),
    /// An event with the same `event_id` was already stored: this is it.
    Duplicate(StoredEvent),
}

impl AppendOutcome {
    /// The stored event either way.
    pub fn event(&self) -> &StoredEvent {
        match self {
            AppendOutcome::Appended(e) | AppendOutcome::Duplicate(e) => e,
        }
    }
}

/// Timeline filters. Empty fields match everything.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventFilter {
    /// Exact event type.
    pub event_type: Option<String>,
    /// Exact aggregate id.
    pub aggregate_id: Option<Uuid>,
    /// Recorded at or after.
    pub from_time: Option<DateTime<Utc>>,
    /// Recorded before.
    pub to_time: Option<DateTime<Utc>>,
    /// Case-insensitive substring of the payload's JSON text.
    pub text: Option<String>,
    /// Positions below this one only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before_position: Option<u64>,
}

impl EventFilter {
    /// True when nothing is filtered (the timeline can page by position).
    pub fn is_empty(&self) -> bool {
        self == &EventFilter::default()
    }

    /// Whether an entry matches (malformed entries match only an empty filter,
    /// or a text filter found in their raw text).
    pub fn matches(&self, entry: &LedgerEntry) -> bool {
        match entry {
            Ok(e) => {
                self.event_type.as_ref().is_none_or(|t| &e.event_type == t)
                    && self.aggregate_id.is_none_or(|a| e.aggregate_id == a)
                    && self.from_time.is_none_or(|t| e.recorded_at >= t)
                    && self.to_time.is_none_or(|t| e.recorded_at < t)
                    && self.before_position.is_none_or(|p| e.position < p)
                    && self.text.as_ref().is_none_or(|t| {
                        e.payload
                            .to_string()
                            .to_lowercase()
                            .contains(&t.to_lowercase())
                    })
            }
            Err(bad) => {
                self.event_type.is_none()
                    && self.aggregate_id.is_none()
                    && self.before_position.is_none_or(|p| bad.position < p)
                    && self.from_time.is_none()
                    && self.to_time.is_none()
                    && self
                        .text
                        .as_ref()
                        .is_none_or(|t| bad.raw.to_lowercase().contains(&t.to_lowercase()))
            }
        }
    }
}

/// The append-only ledger.
#[async_trait]
pub trait EventLedger: Send + Sync {
    /// Which store this is.
    fn info(&self) -> StoreInfo;
    /// Cheap reachability check.
    async fn ping(&self) -> StoreResult<()>;
    /// The ledger's identity; `None` for a ledger made by a build without
    /// identities and opened read-only (nothing can be written to it).
    async fn identity(&self) -> StoreResult<Option<LedgerIdentity>>;
    /// The ledger's identity, made now if it has none (a new ledger, or one
    /// made by an earlier build). Two instances making it at once agree on
    /// one. Refused on a read-only store.
    async fn ensure_identity(&self) -> StoreResult<LedgerIdentity>;
    /// Appends at the next position. Idempotent on `event_id` (returns the
    /// stored event as a duplicate); a taken `(aggregate_id, version)` is
    /// [`StoreError::VersionConflict`]. The input's `position` is ignored.
    async fn append(&self, event: StoredEvent) -> StoreResult<AppendOutcome>;
    /// Appends events in order with the semantics of [`EventLedger::append`]
    /// for each; adapters may do it in one transaction or round trip. Used by
    /// import and by the benchmarks to build large ledgers.
    async fn append_batch(&self, events: Vec<StoredEvent>) -> StoreResult<Vec<AppendOutcome>> {
        let mut outcomes = Vec::with_capacity(events.len());
        for event in events {
            outcomes.push(self.append(event).await?);
        }
        Ok(outcomes)
    }
    /// Appends `event` as [`EventLedger::append`] does and gives up `lease`
    /// (held in this store's [`LockFactory`]) in the same commit, for stores
    /// that keep leases beside the events. The flag says whether the lease
    /// was released; if not (the default, and after an error) the caller
    /// releases it. One commit instead of two takes a write off every command.
    async fn append_releasing(
        &self,
        event: StoredEvent,
        lease: &Lease,
    ) -> StoreResult<(AppendOutcome, bool)> {
        let _ = lease;
        Ok((self.append(event).await?, false))
    }
    /// The event with this id, if stored.
    async fn find_event(&self, event_id: Uuid) -> StoreResult<Option<StoredEvent>>;
    /// The first event of an aggregate (version 1), if it exists.
    async fn first_of_aggregate(&self, aggregate_id: Uuid) -> StoreResult<Option<StoredEvent>>;
    /// The next `limit` stored entries with position >= `from`, in
    /// position order: a hole is skipped over, so nothing after it is lost.
    async fn read_range(&self, from: u64, limit: usize) -> StoreResult<Vec<LedgerEntry>>;
    /// [`Self::read_range`]'s rows as stored, undecoded.
    async fn read_raw_range(&self, from: u64, limit: usize) -> StoreResult<Vec<RawRow>>;
    /// [`Self::read_range`] as a fold needs it: every entry decoded (each
    /// equal to `FoldEntry::from` the entry read there). A store may decode
    /// the payloads straight from what it holds, on its own thread.
    async fn read_fold_range(&self, from: u64, limit: usize) -> StoreResult<Vec<FoldEntry>> {
        Ok(self
            .read_range(from, limit)
            .await?
            .into_iter()
            .map(FoldEntry::from)
            .collect())
    }
    /// [`Self::read_fold_range`], read now and decoded when the page's
    /// [`LedgerPage::decode`] is called: a store that decodes what it holds
    /// leaves that for the caller, off its connection.
    async fn read_fold_page(&self, from: u64, limit: usize) -> StoreResult<LedgerPage<FoldEntry>> {
        Ok(LedgerPage::decoded(
            self.read_fold_range(from, limit).await?,
            FoldEntry::position,
        ))
    }
    /// Highest stored position (0 when empty), whoever wrote it.
    async fn head(&self) -> StoreResult<u64>;
    /// Number of rows (malformed ones included).
    async fn count(&self) -> StoreResult<u64>;
    /// The head and how many rows can and cannot be placed by position.
    async fn census(&self) -> StoreResult<LedgerCensus>;
    /// Up to `limit` rows without a usable position, as malformed entries
    /// (position 0): they are in the ledger but in no order.
    async fn unpositioned(&self, limit: usize) -> StoreResult<Vec<MalformedEvent>>;
    /// The first `limit` holes below the head (positions only are read).
    async fn holes(&self, limit: usize) -> StoreResult<Vec<Hole>>;
    /// Every event of one aggregate, in version order.
    async fn stream(&self, aggregate_id: Uuid) -> StoreResult<Vec<LedgerEntry>>;
    /// Every booking wizard that carries this user (`payload.user.user_id`),
    /// in position order, found through the ledger's index on that field:
    /// the events of other aggregates that can make the user's row. `None`
    /// when the ledger has no such index (a read-only copy made by an
    /// earlier build): the caller finds the row's maker another way.
    async fn wizards_carrying(&self, user_id: Uuid) -> StoreResult<Option<Vec<LedgerEntry>>>;
    /// Entries matching `filter`, skipping `offset` matches, in position order.
    async fn search(
        &self,
        filter: &EventFilter,
        offset: u64,
        limit: usize,
    ) -> StoreResult<Vec<LedgerEntry>>;
    /// Number of entries matching `filter`.
    async fn count_matching(&self, filter: &EventFilter) -> StoreResult<u64>;
}

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

/// A held lease.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// What is locked (`booking:<uuid>`, `projector:UserProjection`).
    pub name: String,
    /// Who holds it.
    pub owner: String,
    /// Increases with every new holder: a fencing token.
    pub fencing: u64,
    /// When it lapses unless renewed.
    pub expires_at: DateTime<Utc>,
    /// When it was last taken or renewed (`None`: written by an earlier
    /// build, which did not record it).
    #[serde(default)]
    pub renewed_at: Option<DateTime<Utc>>,
}

impl Lease {
    /// Whether it has lapsed at `now`.
    pub fn expired_at(&self, now: DateTime<Utc>) -> bool {
        self.expires_at <= now
    }
}

/// Leases kept in the ledger store. Never a process mutex, and never the only
/// guard of correctness (the ledger's unique indexes are).
#[async_trait]
pub trait LockFactory: Send + Sync {
    /// Takes or renews the lease if it is free, expired, or already ours.
    async fn try_acquire(
        &self,
        name: &str,
        owner: &str,
        ttl: Duration,
    ) -> StoreResult<Option<Lease>>;
    /// Gives it up (only if still ours).
    async fn release(&self, lease: &Lease) -> StoreResult<()>;
    /// The current holder, if the lease is held and not expired.
    async fn holder(&self, name: &str) -> StoreResult<Option<Lease>>;
    /// The lease as last taken or renewed, expired or not: who held it last
    /// and when it lapsed (`None`: never taken, or released).
    async fn last_lease(&self, name: &str) -> StoreResult<Option<Lease>>;
}

/// Cancellation and progress for long bulk work inside an adapter.
#[derive(Clone)]
pub struct BulkControl {
    /// Cancelled: stop early; the adapter then leaves the old tables untouched.
    pub cancel: tokio_util::sync::CancellationToken,
    /// Called with the number of rows written so far.
    pub on_rows: Arc<dyn Fn(u64) + Send + Sync>,
}

impl BulkControl {
    /// A control that never cancels and reports nowhere.
    pub fn none() -> Self {
        BulkControl {
            cancel: tokio_util::sync::CancellationToken::new(),
            on_rows: Arc::new(|_| {}),
        }
    }

    /// Whether the work was cancelled.
    pub fn cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }
}

/// Read-store row counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableCounts {
    /// Rows in `users`.
    pub users: u64,
    /// Rows in `bookings`.
    pub bookings: u64,
}

/// Which ledger a read store's tables were built from (`ledger_identity`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadStamp {
    /// The ledger's id.
    pub ledger_id: Uuid,
    /// When the tables were stamped with it.
    pub stamped_at: DateTime<Utc>,
    /// The schema version of each model the tables were built with
    /// ([`ModelVersions::FIRST`] for tables stamped before versions existed).
    #[serde(default)]
    pub versions: ModelVersions,
}

/// The read models (`users`, `bookings`, `projection_state`, `ledger_identity`).
#[async_trait]
pub trait ReadStore: Send + Sync {
    /// Which store this is.
    fn info(&self) -> StoreInfo;
    /// Cheap reachability check.
    async fn ping(&self) -> StoreResult<()>;
    /// The ledger the tables were built from; `None` when never stamped (new
    /// tables, or tables made by a build without ledger identities).
    async fn stamp(&self) -> StoreResult<Option<ReadStamp>>;
    /// Stamps the tables with `ledger`, built with `versions`, if their
    /// stamp is still `expected` (compare-and-set); false when another
    /// stamp got there first.
    async fn set_stamp(
        &self,
        ledger: Uuid,
        expected: Option<Uuid>,
        versions: ModelVersions,
    ) -> StoreResult<bool>;
    /// Applies row changes and sets the projector's position, in one
    /// transaction, if the tables are stamped with `ledger` and `versions`;
    /// otherwise nothing is written and the answer is
    /// [`StoreError::ForeignReadStore`] or [`StoreError::OtherSchema`].
    async fn apply(
        &self,
        ledger: Uuid,
        versions: ModelVersions,
        projector: ProjectorId,
        changes: &[RowChange],
        position: u64,
    ) -> StoreResult<()>;
    /// The projector's position as stored with its rows (0 if none).
    async fn projector_position(&self, projector: ProjectorId) -> StoreResult<u64>;
    /// Users with key > `after`, in key order.
    async fn users_page(&self, after: Option<Uuid>, limit: usize) -> StoreResult<Vec<UserRow>>;
    /// Bookings with key > `after`, in key order.
    async fn bookings_page(
        &self,
        after: Option<Uuid>,
        limit: usize,
    ) -> StoreResult<Vec<BookingRow>>;
    /// Row counts.
    async fn counts(&self) -> StoreResult<TableCounts>;
    /// Loads `rows` into fresh tables, then swaps them in (with every
    /// projector's position set to `rows.position()` and the tables stamped
    /// with `ledger` and `versions`) in one transaction. Cancelled or
    /// failed: the previous tables stay as they were.
    async fn replace_all(
        &self,
        ledger: Uuid,
        versions: ModelVersions,
        rows: Arc<dyn TableRows>,
        control: BulkControl,
    ) -> StoreResult<()>;
    /// Writes a targeted repair's rows (whole rows replaced, inserted or
    /// deleted; projector positions untouched) in one transaction, if the
    /// tables are stamped with `ledger` and `versions` (else
    /// [`StoreError::ForeignReadStore`] or [`StoreError::OtherSchema`]) and
    /// each projector is still at the position its rows were folded at;
    /// false (nothing written) when one has moved on.
    async fn rewrite_rows(
        &self,
        ledger: Uuid,
        versions: ModelVersions,
        rows: &RowRewrite,
    ) -> StoreResult<bool>;
}

/// Everything the engine needs, as shared trait objects.
#[derive(Clone)]
pub struct Stores {
    /// The ledger.
    pub ledger: Arc<dyn EventLedger>,
    /// Checkpoints (in the ledger store).
    pub checkpoints: Arc<dyn CheckpointStore>,
    /// Snapshots (in the ledger store).
    pub snapshots: Arc<dyn SnapshotStore>,
    /// Leases (in the ledger store).
    pub locks: Arc<dyn LockFactory>,
    /// Read model definitions (in the ledger store).
    pub models: Arc<dyn ModelStore>,
    /// Read models.
    pub read: Arc<dyn ReadStore>,
    /// Repairs (in the ledger store).
    pub repairs: Arc<dyn RepairLog>,
}

/// Reads the whole read store into memory, page by page.
pub async fn load_read_state(read: &dyn ReadStore, page: usize) -> StoreResult<ReadState> {
    let mut state = ReadState::default();
    let mut after = None;
    loop {
        let rows = read.users_page(after, page).await?;
        let Some(last) = rows.last() else { break };
        after = Some(last.user_id);
        let done = rows.len() < page;
        state.users.extend(rows.into_iter().map(|r| (r.user_id, r)));
        if done {
            break;
        }
    }
    let mut after = None;
    loop {
        let rows = read.bookings_page(after, page).await?;
        let Some(last) = rows.last() else { break };
        after = Some(last.booking_id);
        let done = rows.len() < page;
        state
            .bookings
            .extend(rows.into_iter().map(|r| (r.booking_id, r)));
        if done {
            break;
        }
    }
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bad(position: u64) -> LedgerEntry {
        Err(MalformedEvent {
            position,
            reason: String::new(),
            raw: String::new(),
        })
    }

    #[test]
    fn a_reader_goes_on_past_the_highest_position_never_back() {
        assert_eq!(next_from(1, &[bad(1), bad(2), bad(5)]), Some(6));
        // An unpositioned entry last (a document at 6.5 read as 0) does
        // not send the reader back to 1.
        assert_eq!(next_from(1, &[bad(3), bad(0)]), Some(4));
        assert_eq!(next_from(7, &[bad(0)]), None);
        assert_eq!(next_from(7, &[bad(2), bad(3)]), None, "out of order");
        assert_eq!(next_from(1, &[]), None);
    }

    #[test]
    fn a_hole_says_has_or_have() {
        let one = Hole { from: 321, to: 321 };
        assert_eq!(one.no_event(), "position 321 has no event");
        let many = Hole { from: 5, to: 9 };
        assert_eq!(many.no_event(), "positions 5..=9 have no event");
    }
}
