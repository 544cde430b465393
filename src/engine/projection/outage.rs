//! The trainer's "simulate read-store outage" switch: a read-store decorator
//! whose writes fail while the switch is on. Labelled a simulation wherever it
//! shows; reads keep working so the screens can show the lag.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use uuid::Uuid;

use crate::domain::model::ModelVersions;
use crate::domain::{BookingRow, ProjectorId, RowChange, TableRows, UserRow};
use crate::store::{
    BulkControl, PublishedChange, PublishedModel, ReadStamp, ReadStore, StoreError, StoreInfo,
    StoreResult, TableCounts,
};

/// Wraps a read store; writes fail while `on` is set.
pub struct SimulatedOutage {
    inner: Arc<dyn ReadStore>,
    on: Arc<AtomicBool>,
}

impl SimulatedOutage {
    /// Wraps `inner`, controlled by `on`.
    pub fn new(inner: Arc<dyn ReadStore>, on: Arc<AtomicBool>) -> Self {
        SimulatedOutage { inner, on }
    }

    fn check(&self) -> StoreResult<()> {
        if self.on.load(Ordering::SeqCst) {
            Err(StoreError::Unavailable {
                store: self.inner.info().to_string(),
                message: "SIMULATED outage (the training switch in Emit and Operations); writes fail until it is switched off"
                    .into(),
            })
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl ReadStore for SimulatedOutage {
    fn info(&self) -> StoreInfo {
        self.inner.info()
    }
    async fn ping(&self) -> StoreResult<()> {
        self.check()?;
        self.inner.ping().await
    }
    async fn stamp(&self) -> StoreResult<Option<ReadStamp>> {
        self.inner.stamp().await
    }
    async fn set_stamp(
        &self,
        ledger: Uuid,
        expected: Option<Uuid>,
        versions: ModelVersions,
    ) -> StoreResult<bool> {
        self.check()?;
        self.inner.set_stamp(ledger, expected, versions).await
    }
    async fn apply(
        &self,
        ledger: Uuid,
        versions: ModelVersions,
        projector: ProjectorId,
        changes: &[RowChange],
        position: u64,
    ) -> StoreResult<()> {
        self.check()?;
        self.inner
            .apply(ledger, versions, projector, changes, position)
            .await
    }
    async fn projector_position(&self, projector: ProjectorId) -> StoreResult<u64> {
        self.inner.projector_position(projector).await
    }
    async fn users_page(&self, after: Option<Uuid>, limit: usize) -> StoreResult<Vec<UserRow>> {
        self.inner.users_page(after, limit).await
    }
    async fn bookings_page(
        &self,
        after: Option<Uuid>,
        limit: usize,
    ) -> StoreResult<Vec<BookingRow>> {
        self.inner.bookings_page(after, limit).await
    }
    async fn counts(&self) -> StoreResult<TableCounts> {
        self.inner.counts().await
    }
    async fn replace_all(
        &self,
        ledger: Uuid,
        versions: ModelVersions,
        rows: Arc<dyn TableRows>,
        control: BulkControl,
    ) -> StoreResult<()> {
        self.check()?;
        self.inner
            .replace_all(ledger, versions, rows, control)
            .await
    }
    async fn rewrite_rows(
        &self,
        ledger: Uuid,
        versions: ModelVersions,
        rows: &crate::store::RowRewrite,
    ) -> StoreResult<bool> {
        self.check()?;
        self.inner.rewrite_rows(ledger, versions, rows).await
    }
    async fn published(&self) -> StoreResult<Vec<PublishedModel>> {
        self.inner.published().await
    }
    async fn publish_replace(
        &self,
        model: &PublishedModel,
        rows: crate::store::published::RowPages,
    ) -> StoreResult<u64> {
        self.check()?;
        self.inner.publish_replace(model, rows).await
    }
    async fn publish_apply(
        &self,
        model: &PublishedModel,
        from: u64,
        changes: &[PublishedChange],
    ) -> StoreResult<bool> {
        self.check()?;
        self.inner.publish_apply(model, from, changes).await
    }
    async fn unpublish(&self, name: &str) -> StoreResult<bool> {
        self.check()?;
        self.inner.unpublish(name).await
    }
}
