//! A targeted repair's write into `views.sqlite3`: given rows replaced,
//! inserted or deleted in one transaction, fenced by the stamp and by each
//! projector's position.

use rusqlite::{OptionalExtension, Transaction, params};
use uuid::Uuid;

use super::{SqliteViews, check_stamp, insert_row};
use crate::domain::ProjectorId;
use crate::domain::model::ModelVersions;
use crate::store::sqlite::map_err;
use crate::store::{RowRewrite, StoreResult};

fn position(tx: &Transaction<'_>, projector: ProjectorId) -> rusqlite::Result<u64> {
    Ok(tx
        .query_row(
            "SELECT position FROM projection_state WHERE projector = ?1",
            [projector.name()],
            |r| r.get::<_, i64>(0),
        )
        .optional()?
        .unwrap_or(0)
        .max(0) as u64)
}

fn delete(tx: &Transaction<'_>, table: &str, column: &str, key: Uuid) -> rusqlite::Result<usize> {
    tx.prepare_cached(&format!("DELETE FROM {table} WHERE {column} = ?1"))?
        .execute(params![key.to_string()])
}

impl SqliteViews {
    /// [`crate::store::ReadStore::rewrite_rows`].
    pub(super) async fn rewrite(
        &self,
        ledger: Uuid,
        versions: ModelVersions,
        rows: &RowRewrite,
    ) -> StoreResult<bool> {
        self.writable("repairing rows")?;
        let store = self.store();
        let rows = rows.clone();
        self.writer
            .call(move |c| {
                let tx = c
                    .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                    .map_err(|e| map_err(&store, e))?;
                check_stamp(&tx, &store, ledger, versions)?;
                let write = |tx: &Transaction<'_>| -> rusqlite::Result<bool> {
                    if (!rows.users.is_empty()
                        && position(tx, ProjectorId::UserProjection)? != rows.users_at)
                        || (!rows.bookings.is_empty()
                            && position(tx, ProjectorId::BookingProjection)? != rows.bookings_at)
                    {
                        return Ok(false);
                    }
                    for (key, row) in &rows.users {
                        delete(tx, "users", "user_id", *key)?;
                        if let Some(row) = row {
                            insert_row(tx, "users", row, false)?;
                        }
                    }
                    for (key, row) in &rows.bookings {
                        delete(tx, "bookings", "booking_id", *key)?;
                        if let Some(row) = row {
                            insert_row(tx, "bookings", row, false)?;
                        }
                    }
                    Ok(true)
                };
                let written = write(&tx).map_err(|e| map_err(&store, e))?;
                if written {
                    tx.commit().map_err(|e| map_err(&store, e))?;
                }
                Ok(written)
            })
            .await
    }
}
