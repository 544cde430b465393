//! The read-store port ([`ReadStore`]) of PostgreSQL.

use std::sync::Arc;

use async_trait::async_trait;
use uuid::Uuid;

use super::cells::bad_row;
use super::rows::{LoadError, apply_change};
use super::{PostgresViews, SET_POSITION, pos};
use crate::domain::model::ModelVersions;
use crate::domain::{BookingRow, ProjectorId, RowChange, TableRows, UserRow};
use crate::store::{
    BulkControl, PublishedChange, PublishedModel, ReadStamp, ReadStore, RowRewrite, StoreError,
    StoreInfo, StoreResult, TableCounts,
};

#[async_trait]
impl ReadStore for PostgresViews {
    fn info(&self) -> StoreInfo {
        StoreInfo {
            kind: "postgresql".into(),
            location: self.location.clone(),
            remote: self.remote,
        }
    }

    async fn ping(&self) -> StoreResult<()> {
        let client = self.client().await?;
        // A database without read tables answers, but is reported missing
        // (as a data dir without views.sqlite3 is).
        client
            .simple_query("SELECT 1 FROM users LIMIT 0")
            .await
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    async fn stamp(&self) -> StoreResult<Option<ReadStamp>> {
        self.read_stamp().await
    }

    async fn set_stamp(
        &self,
        ledger: Uuid,
        expected: Option<Uuid>,
        versions: ModelVersions,
    ) -> StoreResult<bool> {
        self.compare_and_stamp(ledger, expected, versions).await
    }

    async fn apply(
        &self,
        ledger: Uuid,
        versions: ModelVersions,
        projector: ProjectorId,
        changes: &[RowChange],
        position: u64,
    ) -> StoreResult<()> {
        self.writable("projecting")?;
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(|e| self.err(e))?;
        self.check_stamp(&tx, ledger, versions).await?;
        for change in changes {
            apply_change(&tx, change).await.map_err(|e| self.err(e))?;
        }
        let stmt = tx
            .prepare_cached(SET_POSITION)
            .await
            .map_err(|e| self.err(e))?;
        tx.execute(&stmt, &[&projector.name(), &pos(position)])
            .await
            .map_err(|e| self.err(e))?;
        tx.commit().await.map_err(|e| self.err(e))
    }

    async fn projector_position(&self, projector: ProjectorId) -> StoreResult<u64> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT position FROM projection_state WHERE projector = $1",
                &[&projector.name()],
            )
            .await
            .map_err(|e| self.err(e))?;
        match row {
            None => Ok(0),
            Some(r) => Ok(r
                .try_get::<_, i64>(0)
                .map_err(|e| bad_row(&self.label, "projection_state", e.to_string()))?
                .max(0) as u64),
        }
    }

    async fn users_page(&self, after: Option<Uuid>, limit: usize) -> StoreResult<Vec<UserRow>> {
        self.page(after, limit).await
    }

    async fn bookings_page(
        &self,
        after: Option<Uuid>,
        limit: usize,
    ) -> StoreResult<Vec<BookingRow>> {
        self.page(after, limit).await
    }

    async fn counts(&self) -> StoreResult<TableCounts> {
        let client = self.client().await?;
        let row = client
            .query_one(
                "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM bookings)",
                &[],
            )
            .await
            .map_err(|e| self.err(e))?;
        let get = |i: usize| {
            row.try_get::<_, i64>(i)
                .map(|n| n.max(0) as u64)
                .map_err(|e| bad_row(&self.label, "counts", e.to_string()))
        };
        Ok(TableCounts {
            users: get(0)?,
            bookings: get(1)?,
        })
    }

    async fn rewrite_rows(
        &self,
        ledger: Uuid,
        versions: ModelVersions,
        rows: &RowRewrite,
    ) -> StoreResult<bool> {
        self.rewrite(ledger, versions, rows).await
    }

    async fn replace_all(
        &self,
        ledger: Uuid,
        versions: ModelVersions,
        rows: Arc<dyn TableRows>,
        control: BulkControl,
    ) -> StoreResult<()> {
        self.writable("replacing the read tables")?;
        match self
            .bulk_load(ledger, versions, rows.as_ref(), &control)
            .await
        {
            Ok(()) => Ok(()),
            Err(LoadError::Cancelled) => Err(StoreError::Cancelled),
            Err(LoadError::Store(e)) => Err(e),
            Err(LoadError::Pg(e)) => Err(self.err(e)),
        }
    }

    async fn published(&self) -> StoreResult<Vec<PublishedModel>> {
        self.published_models().await
    }

    async fn publish_replace(
        &self,
        model: &PublishedModel,
        rows: crate::store::published::RowPages,
    ) -> StoreResult<u64> {
        self.replace_published(model, rows).await
    }

    async fn publish_apply(
        &self,
        model: &PublishedModel,
        from: u64,
        changes: &[PublishedChange],
    ) -> StoreResult<bool> {
        self.apply_published(model, from, changes).await
    }

    async fn unpublish(&self, name: &str) -> StoreResult<bool> {
        self.drop_published(name).await
    }
}
