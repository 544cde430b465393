//! The read-store port: [`ReadStore`], its counts and stamp, and the
//! [`Stores`] an engine runs on.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::checkpoint::CheckpointStore;
use super::lease::LockFactory;
use super::ledger::EventLedger;
use super::snapshot::SnapshotStore;
use super::{
    ModelStore, PublishedChange, PublishedModel, RepairLog, RowRewrite, StoreInfo, StoreResult,
};
use crate::domain::model::ModelVersions;
use crate::domain::{BookingRow, ProjectorId, ReadState, RowChange, TableRows, UserRow};

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
    /// The published models (none when nothing was ever published).
    async fn published(&self) -> StoreResult<Vec<PublishedModel>>;
    /// Publishes `model` (or publishes it again): drops the tables it had,
    /// creates them anew from `model.def`, loads the rows `rows` brings a
    /// page at a time and records `model` with its position, ledger and
    /// digest, in one transaction, once [`RowPage::End`] arrives (pages
    /// that stop before it publish nothing). Returns the rows written.
    ///
    /// [`RowPage::End`]: crate::store::published::RowPage::End
    async fn publish_replace(
        &self,
        model: &PublishedModel,
        rows: crate::store::published::RowPages,
    ) -> StoreResult<u64>;
    /// Applies `changes` to a published model's tables and moves its
    /// checkpoint from `from` to `model.position`, in one transaction, if it
    /// is recorded with `model`'s ledger and digest (else
    /// [`StoreError::OtherPublished`]); false (nothing written) when its
    /// checkpoint is no longer `from`.
    async fn publish_apply(
        &self,
        model: &PublishedModel,
        from: u64,
        changes: &[PublishedChange],
    ) -> StoreResult<bool>;
    /// Drops a published model's tables and record; false when it was not published.
    async fn unpublish(&self, name: &str) -> StoreResult<bool>;
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
