//! The lease port: [`Lease`] and [`LockFactory`].

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::StoreResult;

/// A held lease.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// What is locked (`booking:<uuid>`, `projector:UserProjection`).
    pub name: String,
    /// Who holds it.
    pub owner: String,
    /// Increases with every new holder: a fencing token.
    pub fencing: u64,
    /// When it lapses unless renewed.
    pub expires_at: DateTime<Utc>,
    /// When it was last taken or renewed (`None`: written by an earlier
    /// build, which did not record it).
    #[serde(default)]
    pub renewed_at: Option<DateTime<Utc>>,
}

impl Lease {
    /// Whether it has lapsed at `now`.
    pub fn expired_at(&self, now: DateTime<Utc>) -> bool {
        self.expires_at <= now
    }
}

/// Leases kept in the ledger store. Never a process mutex, and never the only
/// guard of correctness (the ledger's unique indexes are).
#[async_trait]
pub trait LockFactory: Send + Sync {
    /// Takes or renews the lease if it is free, expired, or already ours.
    async fn try_acquire(
        &self,
        name: &str,
        owner: &str,
        ttl: Duration,
    ) -> StoreResult<Option<Lease>>;
    /// Gives it up (only if still ours).
    async fn release(&self, lease: &Lease) -> StoreResult<()>;
    /// The current holder, if the lease is held and not expired.
    async fn holder(&self, name: &str) -> StoreResult<Option<Lease>>;
    /// The lease as last taken or renewed, expired or not: who held it last
    /// and when it lapsed (`None`: never taken, or released).
    async fn last_lease(&self, name: &str) -> StoreResult<Option<Lease>>;
}
