//! Writing `events`: one transaction per append, the lease released in it.

use rusqlite::{Connection, TransactionBehavior, params};
use uuid::Uuid;

use super::rows::query_entries;
use super::{COLUMNS, SqliteLedger, format_time};
use crate::domain::StoredEvent;
use crate::store::sqlite::map_err;
use crate::store::{AppendOutcome, Lease, StoreError, StoreResult};

pub(super) fn find_by_event_id(
    conn: &Connection,
    store: &str,
    id: Uuid,
) -> StoreResult<Option<StoredEvent>> {
    let sql = format!("SELECT {COLUMNS} FROM events WHERE event_id = ?1");
    let mut found = query_entries(conn, store, &sql, &[&id.to_string()])?;
    match found.pop() {
        None => Ok(None),
        Some(Ok(event)) => Ok(Some(event)),
        Some(Err(bad)) => Err(StoreError::Failed {
            store: store.to_string(),
            message: format!(
                "event {id} is stored at position {} but malformed: {}",
                bad.position, bad.reason
            ),
        }),
    }
}

/// Inserts one event at `position`; a taken (aggregate, version) is a conflict.
fn insert_event(
    conn: &Connection,
    store: &str,
    position: u64,
    event: &StoredEvent,
) -> StoreResult<()> {
    let metadata = serde_json::to_string(&event.metadata).unwrap_or_else(|_| "{}".into());
    let inserted = conn
        .prepare_cached(&format!(
            "INSERT INTO events({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
        ))
        .and_then(|mut stmt| {
            stmt.execute(params![
                position as i64,
                event.event_id.to_string(),
                event.aggregate_id.to_string(),
                event.aggregate_type,
                event.version as i64,
                event.event_type,
                i64::from(event.schema_version),
                format_time(event.recorded_at),
                event.payload.to_string(),
                metadata,
            ])
        });
    match inserted {
        Ok(_) => Ok(()),
        Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation) => {
            Err(StoreError::VersionConflict {
                aggregate_id: event.aggregate_id,
                version: event.version,
            })
        }
        Err(e) => Err(map_err(store, e)),
    }
}

impl SqliteLedger {
    /// Appends `events` in one transaction and, when given, deletes `lease`
    /// (if still held as taken) in the same commit: the locks table lives in
    /// this file. On any error nothing is written and the lease stays.
    pub(super) async fn append_in_one_commit(
        &self,
        events: Vec<StoredEvent>,
        lease: Option<Lease>,
    ) -> StoreResult<Vec<AppendOutcome>> {
        let store = self.store();
        self.writer
            .call(move |conn| {
                let tx = conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .map_err(|e| map_err(&store, e))?;
                let mut head: u64 = tx
                    .query_row("SELECT COALESCE(MAX(position), 0) FROM events", [], |r| {
                        r.get::<_, i64>(0)
                    })
                    .map_err(|e| map_err(&store, e))? as u64;
                let mut outcomes = Vec::with_capacity(events.len());
                for event in events {
                    if let Some(existing) = find_by_event_id(&tx, &store, event.event_id)? {
                        outcomes.push(AppendOutcome::Duplicate(existing));
                        continue;
                    }
                    let position = head + 1;
                    insert_event(&tx, &store, position, &event)?;
                    head = position;
                    outcomes.push(AppendOutcome::Appended(StoredEvent { position, ..event }));
                }
                if let Some(lease) = lease {
                    delete_lease(&tx, &lease).map_err(|e| map_err(&store, e))?;
                }
                tx.commit().map_err(|e| map_err(&store, e))?;
                Ok(outcomes)
            })
            .await
    }

    /// [`Self::append_in_one_commit`] for one event: its outcome.
    pub(super) async fn append_one(
        &self,
        event: StoredEvent,
        lease: Option<Lease>,
    ) -> StoreResult<AppendOutcome> {
        let mut outcomes = self.append_in_one_commit(vec![event], lease).await?;
        outcomes.pop().ok_or_else(|| StoreError::Failed {
            store: self.store(),
            message: "append returned nothing".into(),
        })
    }
}

/// Deletes `lease` if its holder and fencing token are still the ones taken.
pub(super) fn delete_lease(conn: &Connection, lease: &Lease) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM locks WHERE name = ?1 AND owner = ?2 AND fencing = ?3")?
        .execute(params![lease.name, lease.owner, lease.fencing as i64])
        .map(|_| ())
}
