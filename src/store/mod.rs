//! Ports (traits) the engine talks to, and their adapters: `sqlite` (the
//! embedded default), `mongo` (ledger) and `postgres` (read models).
//!
//! Every adapter passes the same contract suite (`tests/contract/`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

mod checkpoint;
pub mod connect;
pub mod credentials;
mod entries;
pub mod error;
mod lease;
mod ledger;
pub mod mask_key;
pub mod missing;
pub mod models;
pub mod mongo;
pub mod pages;
pub mod pgpass;
pub mod postgres;
pub mod published;
mod read;
pub mod repairs;
mod snapshot;
pub mod sqlite;
pub mod tls;
pub mod training;

pub use checkpoint::{Checkpoint, CheckpointStore};
pub use connect::{StoreConfig, open_stores};
pub use credentials::{PgTarget, Secret};
pub use entries::{
    AppendOutcome, EntryError, EventFilter, FoldEntry, Hole, LedgerCensus, LedgerEntry, LedgerPage,
    MalformedEvent, RawRow, entry_position, holes_between, next_from,
};
pub use error::{StoreError, redact};
pub use lease::{Lease, LockFactory};
pub use ledger::EventLedger;
pub use models::{ModelStore, StoredModel};
pub use pages::PageReader;
pub use published::{PublishedChange, PublishedModel, published_table_name};
pub use read::{BulkControl, ReadStamp, ReadStore, Stores, TableCounts, load_read_state};
pub use repairs::{
    Findings, FoundKind, FoundRow, RepairEntry, RepairKind, RepairLog, RepairWork, RowRewrite,
};
pub use snapshot::{SnapshotMeta, SnapshotStore};

/// Result of every port call.
pub type StoreResult<T> = Result<T, StoreError>;

/// Which server or file a store is, for the top bar and for messages. Never
/// holds a password.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreInfo {
    /// `sqlite`, `mongodb` or `postgresql`.
    pub kind: String,
    /// Where it is: a file path or `host:port/db` (credentials removed).
    pub location: String,
    /// True when the store is on another machine (shown like a "production" banner).
    pub remote: bool,
}

impl std::fmt::Display for StoreInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at {}", self.kind, self.location)
    }
}

/// Who a ledger is: an id made when the ledger is created and kept in the
/// ledger store. Read stores and snapshots record the id of the ledger they
/// were built from, so stores that do not belong together are never mixed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerIdentity {
    /// The ledger's id.
    pub id: Uuid,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bad(position: u64) -> LedgerEntry {
        Err(MalformedEvent {
            position,
            reason: String::new(),
            raw: String::new(),
        })
    }

    #[test]
    fn a_reader_goes_on_past_the_highest_position_never_back() {
        assert_eq!(next_from(1, &[bad(1), bad(2), bad(5)]), Some(6));
        // An unpositioned entry last (a document at 6.5 read as 0) does
        // not send the reader back to 1.
        assert_eq!(next_from(1, &[bad(3), bad(0)]), Some(4));
        assert_eq!(next_from(7, &[bad(0)]), None);
        assert_eq!(next_from(7, &[bad(2), bad(3)]), None, "out of order");
        assert_eq!(next_from(1, &[]), None);
    }

    #[test]
    fn a_hole_says_has_or_have() {
        let one = Hole { from: 321, to: 321 };
        assert_eq!(one.no_event(), "position 321 has no event");
        let many = Hole { from: 5, to: 9 };
        assert_eq!(many.no_event(), "positions 5..=9 have no event");
    }
}
