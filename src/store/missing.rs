//! The read store of a data dir opened read-only that has a ledger but no
//! `views.sqlite3`: reported as missing on every call, never created.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use uuid::Uuid;

use super::sqlite::file_info;
use super::{
    BulkControl, PublishedChange, PublishedModel, ReadStamp, ReadStore, RowRewrite, StoreError,
    StoreInfo, StoreResult, TableCounts,
};
use crate::domain::model::ModelVersions;
use crate::domain::{BookingRow, ProjectorId, RowChange, TableRows, UserRow};

/// A read store that is not there.
pub struct MissingReadStore {
    path: PathBuf,
}

impl MissingReadStore {
    /// The missing file at `path`.
    pub fn new(path: &Path) -> Self {
        MissingReadStore {
            path: path.to_path_buf(),
        }
    }

    fn missing<T>(&self) -> StoreResult<T> {
        Err(StoreError::NotFound(format!(
            "there are no read tables at {}: nothing was ever projected in this data dir",
            self.path.display()
        )))
    }
}

#[async_trait]
impl ReadStore for MissingReadStore {
    fn info(&self) -> StoreInfo {
        file_info(&self.path)
    }
    async fn ping(&self) -> StoreResult<()> {
        self.missing()
    }
    async fn stamp(&self) -> StoreResult<Option<ReadStamp>> {
        self.missing()
    }
    async fn set_stamp(&self, _: Uuid, _: Option<Uuid>, _: ModelVersions) -> StoreResult<bool> {
        self.missing()
    }
    async fn apply(
        &self,
        _: Uuid,
        _: ModelVersions,
        _: ProjectorId,
        _: &[RowChange],
        _: u64,
    ) -> StoreResult<()> {
        self.missing()
    }
    async fn projector_position(&self, _: ProjectorId) -> StoreResult<u64> {
        self.missing()
    }
    async fn users_page(&self, _: Option<Uuid>, _: usize) -> StoreResult<Vec<UserRow>> {
        self.missing()
    }
    async fn bookings_page(&self, _: Option<Uuid>, _: usize) -> StoreResult<Vec<BookingRow>> {
        self.missing()
    }
    async fn counts(&self) -> StoreResult<TableCounts> {
        self.missing()
    }
    async fn replace_all(
        &self,
        _: Uuid,
        _: ModelVersions,
        _: Arc<dyn TableRows>,
        _: BulkControl,
    ) -> StoreResult<()> {
        self.missing()
    }
    async fn rewrite_rows(&self, _: Uuid, _: ModelVersions, _: &RowRewrite) -> StoreResult<bool> {
        self.missing()
    }
    async fn published(&self) -> StoreResult<Vec<PublishedModel>> {
        self.missing()
    }
    async fn publish_replace(
        &self,
        _: &PublishedModel,
        _: crate::store::published::RowPages,
    ) -> StoreResult<u64> {
        self.missing()
    }
    async fn publish_apply(
        &self,
        _: &PublishedModel,
        _: u64,
        _: &[PublishedChange],
    ) -> StoreResult<bool> {
        self.missing()
    }
    async fn unpublish(&self, _: &str) -> StoreResult<bool> {
        self.missing()
    }
}
