//! The checkpoint port ([`CheckpointStore`]) of `ledger.sqlite3`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::{CheckpointExtra, SqliteLedger, format_time};
use crate::store::sqlite::map_err;
use crate::store::{Checkpoint, CheckpointStore, StoreResult};

#[async_trait]
impl CheckpointStore for SqliteLedger {
    async fn load_checkpoint(&self, projector: &str) -> StoreResult<Option<Checkpoint>> {
        let store = self.store();
        let projector = projector.to_string();
        let extra_column = if self.has_extra { "extra" } else { "'{}'" };
        self.reader
            .call(move |c| {
                let row = c
                    .query_row(
                        &format!(
                            "SELECT position, skipped, updated_at, instance, {extra_column} FROM checkpoints WHERE projector = ?1"
                        ),
                        [&projector],
                        |r| {
                            Ok((
                                r.get::<_, i64>(0)?,
                                r.get::<_, String>(1)?,
                                r.get::<_, String>(2)?,
                                r.get::<_, String>(3)?,
                                r.get::<_, String>(4)?,
                            ))
                        },
                    )
                    .optional()
                    .map_err(|e| map_err(&store, e))?;
                Ok(row.map(|(position, skipped, updated_at, instance, extra)| {
                    let extra: CheckpointExtra = serde_json::from_str(&extra).unwrap_or_default();
                    Checkpoint {
                        projector: projector.clone(),
                        position: position.max(0) as u64,
                        skipped: serde_json::from_str(&skipped).unwrap_or_default(),
                        holes: extra.holes,
                        last_error: extra.last_error,
                        error_since: extra.error_since,
                        updated_at: DateTime::parse_from_rfc3339(&updated_at)
                            .map(|t| t.with_timezone(&Utc))
                            .unwrap_or_default(),
                        instance,
                    }
                }))
            })
            .await
    }

    async fn save_checkpoint(&self, checkpoint: &Checkpoint) -> StoreResult<()> {
        self.writable("saving a checkpoint")?;
        let store = self.store();
        let cp = checkpoint.clone();
        self.locks
            .call(move |c| {
                let extra = serde_json::to_string(&CheckpointExtra {
                    holes: cp.holes.clone(),
                    last_error: cp.last_error.clone(),
                    error_since: cp.error_since,
                })
                .unwrap_or_else(|_| "{}".into());
                c.execute(
                    "INSERT INTO checkpoints(projector, position, skipped, updated_at, instance, extra) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT(projector) DO UPDATE SET position = excluded.position, skipped = excluded.skipped,
                     updated_at = excluded.updated_at, instance = excluded.instance, extra = excluded.extra",
                    params![
                        cp.projector,
                        cp.position as i64,
                        serde_json::to_string(&cp.skipped).unwrap_or_else(|_| "[]".into()),
                        format_time(cp.updated_at),
                        cp.instance,
                        extra
                    ],
                )
                .map(|_| ())
                .map_err(|e| map_err(&store, e))
            })
            .await
    }
}
