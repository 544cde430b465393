//! The lease port ([`LockFactory`]) of the MongoDB ledger.

use std::time::Duration;

use async_trait::async_trait;
use chrono::DateTime;
use mongodb::bson::{self, doc};

use super::{LockDoc, now_ms};
use crate::store::mongo::codec::i64_of;
use crate::store::mongo::{MongoLedger, is_duplicate};
use crate::store::{Lease, LockFactory, StoreResult};

#[async_trait]
impl LockFactory for MongoLedger {
    async fn try_acquire(
        &self,
        name: &str,
        owner: &str,
        ttl: Duration,
    ) -> StoreResult<Option<Lease>> {
        self.writable("taking a lease")?;
        let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX / 2);
        for _ in 0..3 {
            let now = now_ms();
            let expires = now + ttl_ms;
            let current = self
                .locks
                .find_one(doc! {"_id": name})
                .await
                .map_err(|e| self.error(e))?;
            let taken = match current {
                None => {
                    let fencing = self.next_fence().await?;
                    let lock = LockDoc {
                        name: name.to_string(),
                        owner: owner.to_string(),
                        fencing: i64_of(fencing),
                        expires_at_ms: expires,
                        expires_at: bson::DateTime::from_millis(expires),
                        renewed_at: Some(bson::DateTime::from_millis(now)),
                    };
                    match self.locks.insert_one(&lock).await {
                        Ok(_) => Some(fencing),
                        Err(e) if is_duplicate(&e) => None, // someone was faster: look again
                        Err(e) => return Err(self.error(e)),
                    }
                }
                Some(cur) => {
                    let (holder, fencing, until) =
                        (cur.owner.as_str(), cur.fencing, cur.expires_at_ms);
                    if until > now && holder != owner {
                        return Ok(None);
                    }
                    // Compare-and-set on what we read; the new holder reads it back,
                    // because FerretDB runs updates as read-then-write.
                    let (new_fencing, renew) = if until > now {
                        (fencing, true)
                    } else {
                        (i64_of(self.next_fence().await?), false)
                    };
                    let result = self
                        .locks
                        .update_one(
                            doc! {"_id": name, "owner": holder, "fencing": fencing, "expires_at_ms": until},
                            doc! {"$set": {
                                "owner": owner,
                                "fencing": new_fencing,
                                "expires_at_ms": expires,
                                "expires_at": bson::DateTime::from_millis(expires),
                                "renewed_at": bson::DateTime::from_millis(now),
                            }},
                        )
                        .await
                        .map_err(|e| self.error(e))?;
                    if result.matched_count == 1 && !renew {
                        let back = self
                            .locks
                            .find_one(doc! {"_id": name})
                            .await
                            .map_err(|e| self.error(e))?;
                        back.filter(|d| d.owner == owner && d.fencing == new_fencing)
                            .map(|_| new_fencing as u64)
                    } else if result.matched_count == 1 {
                        Some(new_fencing as u64)
                    } else {
                        None
                    }
                }
            };
            if let Some(fencing) = taken {
                return Ok(Some(Lease {
                    name: name.to_string(),
                    owner: owner.to_string(),
                    fencing,
                    expires_at: DateTime::from_timestamp_millis(expires).unwrap_or_default(),
                    renewed_at: DateTime::from_timestamp_millis(now),
                }));
            }
        }
        Ok(None)
    }

    async fn release(&self, lease: &Lease) -> StoreResult<()> {
        self.writable("releasing a lease")?;
        self.locks
            .delete_one(
                doc! {"_id": &lease.name, "owner": &lease.owner, "fencing": i64_of(lease.fencing)},
            )
            .await
            .map(|_| ())
            .map_err(|e| self.error(e))
    }

    async fn holder(&self, name: &str) -> StoreResult<Option<Lease>> {
        let found = self
            .locks
            .find_one(doc! {"_id": name})
            .await
            .map_err(|e| self.error(e))?;
        Ok(found
            .filter(|d| d.expires_at_ms > now_ms())
            .map(|d| d.lease(name)))
    }

    async fn last_lease(&self, name: &str) -> StoreResult<Option<Lease>> {
        let found = self
            .locks
            .find_one(doc! {"_id": name})
            .await
            .map_err(|e| self.error(e))?;
        Ok(found.map(|d| d.lease(name)))
    }
}
