//! Where the stores stand: the query `status` prints and the window's top
//! bar and Operations panel show.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::projector::projector_lease_name;
use super::{Engine, EngineResult, Pairing};
use crate::domain::ProjectorId;
use crate::store::{Hole, Lease, LedgerCensus, ReadStamp, StoreError, StoreInfo};

/// Holes listed by `status` at most (their total is always given).
const HOLES_LISTED: usize = 100;

/// The read store as `status` sees it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReadStoreStatus {
    /// Which store.
    #[serde(flatten)]
    pub info: StoreInfo,
    /// It answered.
    pub reachable: bool,
    /// It does not exist (a read-only look at a data dir never projected into).
    pub missing: bool,
    /// Why it did not answer.
    pub error: Option<String>,
    /// The ledger its tables were built from.
    pub stamp: Option<ReadStamp>,
}

/// One projector as `status` sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectorReport {
    /// Projector name.
    pub name: String,
    /// Its position as stored with its rows (else its ledger checkpoint).
    pub checkpoint: u64,
    /// Events between it and the head.
    pub lag: u64,
    /// Its checkpoint in the ledger store.
    pub ledger_checkpoint: Option<u64>,
    /// Positions it skipped as malformed or unknown (most recent last).
    pub skipped: Vec<u64>,
    /// Holes it crossed.
    pub holes: Vec<Hole>,
    /// Who holds its lease (not expired).
    pub lease_holder: Option<String>,
    /// Its lease as last taken or renewed, expired or not: who, when it
    /// was renewed and when it lapses (`None`: never taken, or released).
    #[serde(default)]
    pub lease: Option<Lease>,
    /// Its last error, while it lasts (recorded by whichever instance projects).
    pub last_error: Option<String>,
    /// Since when.
    pub error_since: Option<DateTime<Utc>>,
}

/// Everything `status` says.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatusReport {
    /// Highest stored position.
    pub head: u64,
    /// Rows in the ledger (malformed ones included).
    pub events: u64,
    /// How many rows can and cannot be placed.
    pub census: LedgerCensus,
    /// Holes below the head (at most 100 listed).
    pub holes: Vec<Hole>,
    /// The ledger store.
    pub ledger: StoreInfo,
    /// The ledger's id.
    pub ledger_id: Option<Uuid>,
    /// The read store.
    pub read_store: ReadStoreStatus,
    /// Whether the read store belongs to this ledger (`None`: it did not answer).
    pub pairing: Option<Pairing>,
    /// Each projector.
    pub projectors: Vec<ProjectorReport>,
    /// Snapshots stored (of any ledger).
    pub snapshots: usize,
    /// Of which of this ledger (the only ones used).
    pub usable_snapshots: usize,
    /// The newest usable snapshot's position.
    pub latest_snapshot_position: Option<u64>,
    /// Observe-only.
    pub observe_only: bool,
    /// The schema version of each model this build writes (the read
    /// tables' own are in `read_store.stamp`).
    #[serde(default)]
    pub model_versions: crate::domain::model::ModelVersions,
}

impl StatusReport {
    /// The pairing's sentence when the read store is of another ledger.
    pub fn foreign_message(&self) -> Option<String> {
        self.pairing
            .as_ref()
            .and_then(Pairing::foreign)
            .map(ToString::to_string)
    }
}

impl Engine {
    /// Where the stores stand. The ledger must answer; a read store that
    /// does not is reported, not an error.
    pub async fn status(&self) -> EngineResult<StatusReport> {
        let census = self.stores.ledger.census().await?;
        let events = census.positioned + census.unpositioned;
        let holes = if census.missing_positions() > 0 {
            self.stores.ledger.holes(HOLES_LISTED).await?
        } else {
            Vec::new()
        };
        let ledger_id = self.ledger_identity().await?.map(|i| i.id);
        let read = &self.stores.read;
        let (reachable, missing, error) = match read.ping().await {
            Ok(()) => (true, false, None),
            Err(e) => (
                false,
                matches!(e, StoreError::NotFound(_)),
                Some(e.to_string()),
            ),
        };
        let stamp = if reachable {
            read.stamp().await.ok().flatten()
        } else {
            None
        };
        let pairing = if reachable {
            Some(self.check_pairing().await?)
        } else {
            None
        };
        let head = census.head;
        let foreign = pairing.as_ref().is_some_and(|p| p.foreign().is_some());
        let mut projectors = Vec::new();
        for p in ProjectorId::ALL {
            let stored = self.stores.checkpoints.load_checkpoint(p.name()).await?;
            let read_position = if reachable && !foreign {
                read.projector_position(p).await.ok()
            } else {
                None
            };
            let checkpoint = match (foreign, read_position) {
                // None of this ledger's events are in another's tables.
                (true, _) => 0,
                (false, Some(position)) => position,
                (false, None) => stored.as_ref().map_or(0, |c| c.position),
            };
            let lease = self
                .stores
                .locks
                .last_lease(&projector_lease_name(p))
                .await?;
            let now = Utc::now();
            let live = self
                .projector_statuses()
                .into_iter()
                .find(|s| s.projector == p && s.last_error.is_some());
            let (last_error, error_since) = match (&live, &stored) {
                (Some(live), _) => (live.last_error.clone(), live.error_since),
                (None, Some(c)) => (c.last_error.clone(), c.error_since),
                (None, None) => (None, None),
            };
            projectors.push(ProjectorReport {
                name: p.name().to_string(),
                checkpoint,
                lag: head.saturating_sub(checkpoint),
                ledger_checkpoint: stored.as_ref().map(|c| c.position),
                skipped: stored
                    .as_ref()
                    .map(|c| c.skipped.clone())
                    .unwrap_or_default(),
                holes: stored.map(|c| c.holes).unwrap_or_default(),
                lease_holder: lease
                    .as_ref()
                    .filter(|l| !l.expired_at(now))
                    .map(|l| l.owner.clone()),
                lease,
                last_error,
                error_since,
            });
        }
        let snapshots = self.list_snapshots().await?;
        let usable: Vec<_> = snapshots
            .iter()
            .filter(|s| ledger_id.is_some_and(|id| s.usable_for(id, self.config.model_versions)))
            .collect();
        Ok(StatusReport {
            head,
            events,
            census,
            holes,
            ledger: self.ledger_info(),
            ledger_id,
            read_store: ReadStoreStatus {
                info: self.read_info(),
                reachable,
                missing,
                error,
                stamp,
            },
            pairing,
            projectors,
            snapshots: snapshots.len(),
            usable_snapshots: usable.len(),
            latest_snapshot_position: usable.iter().map(|s| s.position).max(),
            observe_only: self.observe_only(),
            model_versions: self.config.model_versions,
        })
    }
}
