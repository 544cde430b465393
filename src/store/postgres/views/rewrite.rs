//! A targeted repair's write into the PostgreSQL read tables: given rows
//! replaced, inserted or deleted in one transaction, fenced by the stamp
//! and by each projector's position (its `projection_state` row locked, so
//! a projector's batch waits for the repair and the repair for the batch).

use uuid::Uuid;

use super::cells::bad_row;
use super::rows::apply_change;
use super::{PostgresViews, pos};
use crate::domain::model::ModelVersions;
use crate::domain::{ProjectorId, RowChange};
use crate::store::{RowRewrite, StoreResult};

impl PostgresViews {
    /// [`crate::store::ReadStore::rewrite_rows`].
    pub(super) async fn rewrite(
        &self,
        ledger: Uuid,
        versions: ModelVersions,
        rows: &RowRewrite,
    ) -> StoreResult<bool> {
        self.writable("repairing rows")?;
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(|e| self.err(e))?;
        self.check_stamp(&tx, ledger, versions).await?;
        let fences = [
            (
                ProjectorId::UserProjection,
                rows.users.is_empty(),
                rows.users_at,
            ),
            (
                ProjectorId::BookingProjection,
                rows.bookings.is_empty(),
                rows.bookings_at,
            ),
        ];
        for (projector, empty, at) in fences {
            if empty {
                continue;
            }
            let now: i64 = tx
                .query_opt(
                    "SELECT position FROM projection_state WHERE projector = $1 FOR UPDATE",
                    &[&projector.name()],
                )
                .await
                .map_err(|e| self.err(e))?
                .map(|r| r.try_get(0))
                .transpose()
                .map_err(|e| bad_row(&self.label, "projection_state", e.to_string()))?
                .unwrap_or(0);
            if now != pos(at) {
                return Ok(false);
            }
        }
        for (key, row) in &rows.users {
            tx.execute("DELETE FROM users WHERE user_id = $1", &[key])
                .await
                .map_err(|e| self.err(e))?;
            if let Some(row) = row {
                apply_change(&tx, &RowChange::InsertUserIfAbsent(row.clone()))
                    .await
                    .map_err(|e| self.err(e))?;
            }
        }
        for (key, row) in &rows.bookings {
            tx.execute("DELETE FROM bookings WHERE booking_id = $1", &[key])
                .await
                .map_err(|e| self.err(e))?;
            if let Some(row) = row {
                apply_change(&tx, &RowChange::InsertBookingIfAbsent(row.clone()))
                    .await
                    .map_err(|e| self.err(e))?;
            }
        }
        tx.commit().await.map_err(|e| self.err(e))?;
        Ok(true)
    }
}
