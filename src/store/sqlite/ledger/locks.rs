//! The lease port ([`LockFactory`]) of `ledger.sqlite3`.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, TransactionBehavior, params};

use super::SqliteLedger;
use super::append::delete_lease;
use crate::store::sqlite::map_err;
use crate::store::{Lease, LockFactory, StoreError, StoreResult};

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// A row of `locks`: owner, fencing, expiry and renewal (ms since the epoch).
type LockRow = (String, i64, i64, Option<i64>);

fn lease_from(name: String, (owner, fencing, expires_ms, renewed_ms): LockRow) -> Lease {
    Lease {
        name,
        owner,
        fencing: fencing.max(0) as u64,
        expires_at: DateTime::from_timestamp_millis(expires_ms).unwrap_or_default(),
        renewed_at: renewed_ms.and_then(DateTime::from_timestamp_millis),
    }
}

impl SqliteLedger {
    /// The stored row of lease `name`, expired or not.
    async fn lock_row(&self, name: &str) -> StoreResult<Option<LockRow>> {
        let store = self.store();
        let name = name.to_string();
        let renewed = if self.has_renewed {
            "renewed_at_ms"
        } else {
            "NULL"
        };
        let sql =
            format!("SELECT owner, fencing, expires_at_ms, {renewed} FROM locks WHERE name = ?1");
        self.reader
            .call(move |c| {
                c.query_row(&sql, [&name], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })
                .optional()
                .map_err(|e| map_err(&store, e))
            })
            .await
    }
}

#[async_trait]
impl LockFactory for SqliteLedger {
    async fn try_acquire(
        &self,
        name: &str,
        owner: &str,
        ttl: Duration,
    ) -> StoreResult<Option<Lease>> {
        self.writable("taking a lease")?;
        let store = self.store();
        if name.is_empty() {
            return Err(StoreError::Failed {
                store,
                message: "a lease needs a name (the row named '' is the fencing counter)".into(),
            });
        }
        let (name, owner) = (name.to_string(), owner.to_string());
        self.locks
            .call(move |c| {
                let tx = c
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .map_err(|e| map_err(&store, e))?;
                let now = now_ms();
                let expires = now + ttl.as_millis() as i64;
                let current = tx
                    .query_row("SELECT owner, fencing, expires_at_ms FROM locks WHERE name = ?1", [&name], |r| {
                        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
                    })
                    .optional()
                    .map_err(|e| map_err(&store, e))?;
                let fencing = match current {
                    Some((holder, fencing, until)) if holder == owner && until > now => fencing,
                    Some((_, _, until)) if until > now => return Ok(None),
                    _ => {
                        // The counter is the row named '' of `locks` (see
                        // migration 2): its page is the one the lease writes.
                        tx.execute(
                            "INSERT INTO locks(name, owner, fencing, expires_at_ms) VALUES ('', '', 1, 0)
                             ON CONFLICT(name) DO UPDATE SET fencing = fencing + 1",
                            [],
                        )
                        .map_err(|e| map_err(&store, e))?;
                        tx.query_row("SELECT fencing FROM locks WHERE name = ''", [], |r| r.get::<_, i64>(0))
                            .map_err(|e| map_err(&store, e))?
                    }
                };
                tx.execute(
                    "INSERT INTO locks(name, owner, fencing, expires_at_ms, renewed_at_ms) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT(name) DO UPDATE SET owner = excluded.owner, fencing = excluded.fencing,
                     expires_at_ms = excluded.expires_at_ms, renewed_at_ms = excluded.renewed_at_ms",
                    params![name, owner, fencing, expires, now],
                )
                .map_err(|e| map_err(&store, e))?;
                tx.commit().map_err(|e| map_err(&store, e))?;
                Ok(Some(lease_from(name, (owner, fencing, expires, Some(now)))))
            })
            .await
    }

    async fn release(&self, lease: &Lease) -> StoreResult<()> {
        self.writable("releasing a lease")?;
        let store = self.store();
        let lease = lease.clone();
        self.locks
            .call(move |c| delete_lease(c, &lease).map_err(|e| map_err(&store, e)))
            .await
    }

    async fn holder(&self, name: &str) -> StoreResult<Option<Lease>> {
        Ok(self
            .lock_row(name)
            .await?
            .filter(|row| row.2 > now_ms())
            .map(|row| lease_from(name.to_string(), row)))
    }

    async fn last_lease(&self, name: &str) -> StoreResult<Option<Lease>> {
        Ok(self
            .lock_row(name)
            .await?
            .map(|row| lease_from(name.to_string(), row)))
    }
}
