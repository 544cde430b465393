//! The ledger port: [`EventLedger`].

use async_trait::async_trait;
use uuid::Uuid;

use super::entries::{
    AppendOutcome, EventFilter, FoldEntry, Hole, LedgerCensus, LedgerEntry, LedgerPage,
    MalformedEvent, RawRow,
};
use super::lease::Lease;
use super::{LedgerIdentity, StoreInfo, StoreResult};
use crate::domain::StoredEvent;

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
