//! The read-store port ([`ReadStore`]) of `views.sqlite3`.

use std::sync::Arc;

use async_trait::async_trait;
use uuid::Uuid;

use super::published;
use super::stamp::{check_stamp, read_stamp, write_stamp};
use super::{SqliteViews, apply_change, bulk_load, set_position};
use crate::domain::model::ModelVersions;
use crate::domain::{BookingRow, ProjectorId, RowChange, TableRows, UserRow};
use crate::store::sqlite::{file_info, map_err};
use crate::store::{
    BulkControl, PublishedChange, PublishedModel, ReadStamp, ReadStore, RowRewrite, StoreInfo,
    StoreResult, TableCounts,
};

#[async_trait]
impl ReadStore for SqliteViews {
    fn info(&self) -> StoreInfo {
        file_info(&self.path)
    }

    async fn ping(&self) -> StoreResult<()> {
        self.reader.ping().await
    }

    async fn stamp(&self) -> StoreResult<Option<ReadStamp>> {
        let store = self.store();
        self.reader.call(move |c| read_stamp(c, &store)).await
    }

    async fn set_stamp(
        &self,
        ledger: Uuid,
        expected: Option<Uuid>,
        versions: ModelVersions,
    ) -> StoreResult<bool> {
        self.writable("stamping the read tables")?;
        let store = self.store();
        self.writer
            .call(move |c| {
                let tx = c
                    .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                    .map_err(|e| map_err(&store, e))?;
                let current = read_stamp(&tx, &store)?.map(|s| s.ledger_id);
                if current != expected {
                    return Ok(false);
                }
                write_stamp(&tx, ledger, versions).map_err(|e| map_err(&store, e))?;
                tx.commit().map_err(|e| map_err(&store, e))?;
                Ok(true)
            })
            .await
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
        let store = self.store();
        let changes = changes.to_vec();
        self.writer
            .call(move |c| {
                // Immediate: the stamp is read under the write lock, so a
                // replay of another ledger cannot swap tables in between.
                let tx = c
                    .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                    .map_err(|e| map_err(&store, e))?;
                check_stamp(&tx, &store, ledger, versions)?;
                for change in &changes {
                    apply_change(&tx, change).map_err(|e| map_err(&store, e))?;
                }
                set_position(&tx, projector, position).map_err(|e| map_err(&store, e))?;
                tx.commit().map_err(|e| map_err(&store, e))
            })
            .await
    }

    async fn projector_position(&self, projector: ProjectorId) -> StoreResult<u64> {
        let store = self.store();
        self.reader
            .call(move |c| {
                use rusqlite::OptionalExtension;
                c.query_row(
                    "SELECT position FROM projection_state WHERE projector = ?1",
                    [projector.name()],
                    |r| r.get::<_, i64>(0),
                )
                .optional()
                .map(|p| p.unwrap_or(0).max(0) as u64)
                .map_err(|e| map_err(&store, e))
            })
            .await
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
        let store = self.store();
        self.reader
            .call(move |c| {
                c.query_row(
                    "SELECT (SELECT COUNT(*) FROM users), (SELECT COUNT(*) FROM bookings)",
                    [],
                    |r| {
                        Ok(TableCounts {
                            users: r.get::<_, i64>(0)? as u64,
                            bookings: r.get::<_, i64>(1)? as u64,
                        })
                    },
                )
                .map_err(|e| map_err(&store, e))
            })
            .await
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
        let store = self.store();
        self.writer
            .call(move |conn| {
                // One checkpoint at the end instead of one every 1000 pages:
                // the load writes each page of the new tables once, not once
                // per automatic checkpoint it would otherwise cross.
                // The index on `bookings(user_id)` is built by sorting every
                // booking: in a temporary file, not in memory (at a million
                // rows the sort would otherwise add about 65 MB to the peak).
                conn.execute_batch("PRAGMA wal_autocheckpoint=0; PRAGMA temp_store=FILE;")
                    .map_err(|e| map_err(&store, e))?;
                let result = bulk_load(conn, &store, ledger, versions, rows.as_ref(), &control);
                if result.is_err()
                    && let Err(error) = conn.execute_batch(
                        "DROP TABLE IF EXISTS users_next; DROP TABLE IF EXISTS bookings_next;",
                    )
                {
                    // The next replay drops them before it loads.
                    tracing::warn!(%error, "the half-loaded tables of a failed replay were left");
                }
                let restored = conn
                    .execute_batch(
                        "PRAGMA temp_store=MEMORY; PRAGMA wal_autocheckpoint=1000;
                         PRAGMA wal_checkpoint(PASSIVE);",
                    )
                    .map_err(|e| map_err(&store, e));
                result.and(restored)
            })
            .await
    }

    async fn published(&self) -> StoreResult<Vec<PublishedModel>> {
        let store = self.store();
        self.reader
            .call(move |c| published::published(c, &store))
            .await
    }

    async fn publish_replace(
        &self,
        model: &PublishedModel,
        rows: crate::store::published::RowPages,
    ) -> StoreResult<u64> {
        self.writable("publishing a model")?;
        let (store, model) = (self.store(), model.clone());
        self.writer
            .call(move |c| published::replace(c, &store, &model, rows))
            .await
    }

    async fn publish_apply(
        &self,
        model: &PublishedModel,
        from: u64,
        changes: &[PublishedChange],
    ) -> StoreResult<bool> {
        self.writable("projecting a published model")?;
        let (store, model, changes) = (self.store(), model.clone(), changes.to_vec());
        self.writer
            .call(move |c| published::apply(c, &store, &model, from, &changes))
            .await
    }

    async fn unpublish(&self, name: &str) -> StoreResult<bool> {
        self.writable("unpublishing a model")?;
        let (store, name) = (self.store(), name.to_string());
        self.writer
            .call(move |c| published::unpublish(c, &store, &name))
            .await
    }
}
