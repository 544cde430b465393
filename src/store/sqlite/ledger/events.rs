//! The ledger port ([`EventLedger`]) of `ledger.sqlite3`, and its identity.

use async_trait::async_trait;
use chrono::Utc;
use rusqlite::types::{Value as SqlValue, ValueRef};
use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use super::append::find_by_event_id;
use super::rows::{filter_sql, query_entries, range_rows, read_entry, row_values};
use super::{COLUMNS, IDENTITY_KEY, SqliteLedger};
use crate::domain::StoredEvent;
use crate::store::sqlite::{file_info, map_err};
use crate::store::{
    AppendOutcome, EventFilter, EventLedger, FoldEntry, Hole, Lease, LedgerCensus, LedgerEntry,
    LedgerIdentity, LedgerPage, MalformedEvent, RawRow, StoreError, StoreInfo, StoreResult,
};

#[async_trait]
impl EventLedger for SqliteLedger {
    fn info(&self) -> StoreInfo {
        file_info(&self.path)
    }

    async fn ping(&self) -> StoreResult<()> {
        self.reader.ping().await
    }

    async fn identity(&self) -> StoreResult<Option<LedgerIdentity>> {
        if !self.has_meta {
            return Ok(None);
        }
        let store = self.store();
        self.reader.call(move |c| read_identity(c, &store)).await
    }

    async fn ensure_identity(&self) -> StoreResult<LedgerIdentity> {
        self.writable("giving the ledger its identity")?;
        let store = self.store();
        self.locks
            .call(move |c| {
                let fresh = LedgerIdentity {
                    id: Uuid::new_v4(),
                    created_at: Utc::now(),
                };
                let json = serde_json::to_string(&fresh).map_err(|e| StoreError::Failed {
                    store: store.clone(),
                    message: e.to_string(),
                })?;
                // Whoever inserts first made it; everyone reads that one.
                c.execute(
                    "INSERT INTO ledger_meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO NOTHING",
                    params![IDENTITY_KEY, json],
                )
                .map_err(|e| map_err(&store, e))?;
                read_identity(c, &store)?.ok_or_else(|| StoreError::Failed {
                    store: store.clone(),
                    message: "the ledger identity was written but cannot be read back".into(),
                })
            })
            .await
    }

    async fn append(&self, event: StoredEvent) -> StoreResult<AppendOutcome> {
        self.writable("appending an event")?;
        self.append_one(event, None).await
    }

    async fn append_batch(&self, events: Vec<StoredEvent>) -> StoreResult<Vec<AppendOutcome>> {
        self.writable("appending events")?;
        self.append_in_one_commit(events, None).await
    }

    async fn append_releasing(
        &self,
        event: StoredEvent,
        lease: &Lease,
    ) -> StoreResult<(AppendOutcome, bool)> {
        self.writable("appending an event")?;
        Ok((self.append_one(event, Some(lease.clone())).await?, true))
    }

    async fn find_event(&self, event_id: Uuid) -> StoreResult<Option<StoredEvent>> {
        let store = self.store();
        self.reader
            .call(move |c| find_by_event_id(c, &store, event_id))
            .await
    }

    async fn first_of_aggregate(&self, aggregate_id: Uuid) -> StoreResult<Option<StoredEvent>> {
        let store = self.store();
        self.reader
            .call(move |c| {
                let sql = format!(
                    "SELECT {COLUMNS} FROM events WHERE aggregate_id = ?1 ORDER BY version LIMIT 1"
                );
                Ok(
                    query_entries(c, &store, &sql, &[&aggregate_id.to_string()])?
                        .into_iter()
                        .find_map(Result::ok),
                )
            })
            .await
    }

    async fn read_range(&self, from: u64, limit: usize) -> StoreResult<Vec<LedgerEntry>> {
        let store = self.store();
        self.reader
            .call(move |c| range_rows(c, &store, from, limit, read_entry))
            .await
    }

    async fn read_fold_range(&self, from: u64, limit: usize) -> StoreResult<Vec<FoldEntry>> {
        // The one decoding path: a page read and decoded off the connection.
        let page = self.read_fold_page(from, limit).await?;
        tokio::task::spawn_blocking(move || page.decode())
            .await
            .map_err(|e| StoreError::Failed {
                store: self.store(),
                message: format!("decoding a page stopped: {e}"),
            })
    }

    async fn read_fold_page(&self, from: u64, limit: usize) -> StoreResult<LedgerPage<FoldEntry>> {
        // The rows' bytes are copied under the connection; the payloads are
        // decoded by the caller, so the next page is read meanwhile.
        let store = self.store();
        let mut copied = self.spare_pages.take();
        let copied = self
            .reader
            .call(move |c| {
                range_rows(c, &store, from, limit, |row| copied.push(row))?;
                Ok(copied)
            })
            .await?;
        let last = copied.rows.iter().map(|(p, _)| *p).max().unwrap_or(0);
        let spare = self.spare_pages.clone();
        Ok(LedgerPage::deferred(copied.rows.len(), last, move || {
            let entries = copied.fold_entries();
            spare.give_back(copied);
            entries
        }))
    }

    async fn read_raw_range(&self, from: u64, limit: usize) -> StoreResult<Vec<RawRow>> {
        let store = self.store();
        self.reader
            .call(move |c| {
                range_rows(c, &store, from, limit, |row| {
                    let (position, values) = row_values(row)?;
                    let mut bytes = Vec::new();
                    for value in values {
                        match value {
                            ValueRef::Text(b) | ValueRef::Blob(b) => bytes.extend_from_slice(b),
                            ValueRef::Integer(n) => bytes.extend_from_slice(&n.to_le_bytes()),
                            ValueRef::Real(f) => bytes.extend_from_slice(&f.to_le_bytes()),
                            ValueRef::Null => {}
                        }
                    }
                    Ok(RawRow { position, bytes })
                })
            })
            .await
    }

    async fn head(&self) -> StoreResult<u64> {
        let store = self.store();
        self.reader
            .call(move |c| {
                c.query_row("SELECT COALESCE(MAX(position), 0) FROM events", [], |r| {
                    r.get::<_, i64>(0)
                })
                .map(|p| p as u64)
                .map_err(|e| map_err(&store, e))
            })
            .await
    }

    async fn count(&self) -> StoreResult<u64> {
        let store = self.store();
        self.reader
            .call(move |c| {
                c.query_row("SELECT COUNT(*) FROM events", [], |r| r.get::<_, i64>(0))
                    .map(|p| p as u64)
                    .map_err(|e| map_err(&store, e))
            })
            .await
    }

    async fn census(&self) -> StoreResult<LedgerCensus> {
        let store = self.store();
        self.reader
            .call(move |c| {
                c.query_row(
                    "SELECT COALESCE(MAX(position), 0), COUNT(*) FILTER (WHERE position > 0),
                     COUNT(*) FILTER (WHERE position <= 0) FROM events",
                    [],
                    |r| {
                        Ok(LedgerCensus {
                            head: r.get::<_, i64>(0)?.max(0) as u64,
                            positioned: r.get::<_, i64>(1)? as u64,
                            unpositioned: r.get::<_, i64>(2)? as u64,
                        })
                    },
                )
                .map_err(|e| map_err(&store, e))
            })
            .await
    }

    async fn holes(&self, limit: usize) -> StoreResult<Vec<Hole>> {
        let store = self.store();
        self.reader
            .call(move |c| {
                let mut stmt = c
                    .prepare_cached(
                        "SELECT previous + 1, position - 1 FROM (
                           SELECT position, COALESCE(LAG(position) OVER (ORDER BY position), 0) AS previous
                           FROM events WHERE position > 0)
                         WHERE position > previous + 1 ORDER BY position LIMIT ?1",
                    )
                    .map_err(|e| map_err(&store, e))?;
                let rows = stmt
                    .query_map([limit as i64], |r| {
                        Ok(Hole {
                            from: r.get::<_, i64>(0)? as u64,
                            to: r.get::<_, i64>(1)? as u64,
                        })
                    })
                    .map_err(|e| map_err(&store, e))?;
                rows.collect::<Result<_, _>>()
                    .map_err(|e| map_err(&store, e))
            })
            .await
    }

    async fn unpositioned(&self, limit: usize) -> StoreResult<Vec<MalformedEvent>> {
        let store = self.store();
        self.reader
            .call(move |c| {
                let sql = format!(
                    "SELECT {COLUMNS} FROM events WHERE position <= 0 ORDER BY position LIMIT ?1"
                );
                Ok(query_entries(c, &store, &sql, &[&(limit as i64)])?
                    .into_iter()
                    .map(|entry| match entry {
                        Err(bad) => bad,
                        Ok(event) => MalformedEvent {
                            position: 0,
                            reason: "position is missing or not a positive integer".into(),
                            raw: serde_json::to_string(&event).unwrap_or_default(),
                        },
                    })
                    .collect())
            })
            .await
    }

    async fn stream(&self, aggregate_id: Uuid) -> StoreResult<Vec<LedgerEntry>> {
        let store = self.store();
        self.reader
            .call(move |c| {
                let sql = format!("SELECT {COLUMNS} FROM events WHERE aggregate_id = ?1 ORDER BY version, position");
                query_entries(c, &store, &sql, &[&aggregate_id.to_string()])
            })
            .await
    }

    async fn wizards_carrying(&self, user_id: Uuid) -> StoreResult<Option<Vec<LedgerEntry>>> {
        if !self.has_wizard_user {
            return Ok(None);
        }
        let store = self.store();
        self.reader
            .call(move |c| {
                // The index's expression and condition, word for word, so
                // SQLite uses it.
                let sql = format!(
                    "SELECT {COLUMNS} FROM events WHERE event_type = 'BookingWizardCompleted' \
                     AND (CASE WHEN json_valid(payload) THEN json_extract(payload, '$.user.user_id') END) = ?1 \
                     ORDER BY position"
                );
                query_entries(c, &store, &sql, &[&user_id.to_string()]).map(Some)
            })
            .await
    }

    async fn search(
        &self,
        filter: &EventFilter,
        offset: u64,
        limit: usize,
    ) -> StoreResult<Vec<LedgerEntry>> {
        let store = self.store();
        let (where_sql, mut params) = filter_sql(filter);
        params.push(SqlValue::Integer(limit as i64));
        params.push(SqlValue::Integer(offset as i64));
        self.reader
            .call(move |c| {
                let sql = format!(
                    "SELECT {COLUMNS} FROM events {where_sql} ORDER BY position LIMIT ? OFFSET ?"
                );
                let refs: Vec<&dyn rusqlite::ToSql> =
                    params.iter().map(|p| p as &dyn rusqlite::ToSql).collect();
                query_entries(c, &store, &sql, &refs)
            })
            .await
    }

    async fn count_matching(&self, filter: &EventFilter) -> StoreResult<u64> {
        let store = self.store();
        let (where_sql, params) = filter_sql(filter);
        self.reader
            .call(move |c| {
                let sql = format!("SELECT COUNT(*) FROM events {where_sql}");
                let refs: Vec<&dyn rusqlite::ToSql> =
                    params.iter().map(|p| p as &dyn rusqlite::ToSql).collect();
                c.query_row(&sql, refs.as_slice(), |r| r.get::<_, i64>(0))
                    .map(|n| n as u64)
                    .map_err(|e| map_err(&store, e))
            })
            .await
    }
}

/// The identity in `ledger_meta`, if one was made.
fn read_identity(conn: &Connection, store: &str) -> StoreResult<Option<LedgerIdentity>> {
    let value: Option<String> = conn
        .query_row(
            "SELECT value FROM ledger_meta WHERE key = ?1",
            [IDENTITY_KEY],
            |r| r.get(0),
        )
        .optional()
        .map_err(|e| map_err(store, e))?;
    value
        .map(|v| {
            serde_json::from_str(&v).map_err(|e| StoreError::Failed {
                store: store.to_string(),
                message: format!("the ledger identity in ledger_meta is unreadable ({e})"),
            })
        })
        .transpose()
}
