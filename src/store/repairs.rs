//! Repairs kept in the ledger store (the embedded ledger's `repairs` table,
//! MongoDB's `repairs` collection): what a compare found before a repair,
//! what was re-projected, and what a compare found after. And the narrow
//! write a targeted repair makes into a read store ([`RowRewrite`]).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Hole, MalformedEvent, StoreResult};
use crate::domain::{BookingRow, Table, UserRow};

/// How a differing row differs from what the ledger implies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FoundKind {
    /// The ledger implies it; the read table lacks it.
    Missing,
    /// The read table has it; the ledger does not imply it.
    Extra,
    /// Both have it, with different cells.
    Different,
}

impl FoundKind {
    /// `missing`, `extra` or `different`.
    pub fn name(self) -> &'static str {
        match self {
            FoundKind::Missing => "missing",
            FoundKind::Extra => "extra",
            FoundKind::Different => "different",
        }
    }
}

/// One differing row with its cells.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoundRow {
    /// Its table.
    pub table: Table,
    /// How it differs.
    pub kind: FoundKind,
    /// Its key.
    pub key: Uuid,
    /// The position that last changed it (on the side that has it).
    pub last_position: u64,
    /// The differing columns (every column for a missing or extra row).
    pub columns: Vec<String>,
    /// Its cells in the read table (`None`: missing there).
    pub stored: Option<Vec<String>>,
    /// Its cells as the ledger implies them (`None`: extra).
    pub ledger: Option<Vec<String>>,
}

/// What a compare found: counts (always complete) and the findings, listed
/// up to a cap (what was left out is counted).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Findings {
    /// No missing, extra or different rows.
    pub in_sync: bool,
    /// The ledger's head then.
    pub head: u64,
    /// Rows compared.
    pub checked_rows: u64,
    /// Rows missing from the read tables.
    pub missing: u64,
    /// Rows the read tables have and the ledger does not imply.
    pub extra: u64,
    /// Rows with different cells.
    pub different: u64,
    /// The differing rows, in table and key order, capped.
    pub rows: Vec<FoundRow>,
    /// Differing rows not listed in `rows`.
    pub rows_left_out: u64,
    /// Ledger entries that cannot be applied, capped.
    pub malformed: Vec<MalformedEvent>,
    /// Malformed entries not listed.
    pub malformed_left_out: u64,
    /// Ledger rows without a usable position.
    pub unpositioned: u64,
    /// Holes in positions below the head, capped.
    pub holes: Vec<Hole>,
    /// Holes not listed.
    pub holes_left_out: u64,
    /// Events each projector was behind the head (compared at its
    /// checkpoint), by projector (an object: FerretDB stores no nested arrays).
    pub lag_events: std::collections::BTreeMap<String, u64>,
}

/// Which repair it was.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RepairKind {
    /// Every read table rebuilt from the ledger.
    Replay,
    /// Only the differing rows re-projected from their aggregates' events.
    Targeted,
}

impl RepairKind {
    /// `replay` or `targeted`.
    pub fn name(self) -> &'static str {
        match self {
            RepairKind::Replay => "replay",
            RepairKind::Targeted => "targeted",
        }
    }
}

/// What a repair re-projected.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepairWork {
    /// Rows written (a replay: every row of the new tables).
    pub rows_written: u64,
    /// Rows deleted (a targeted repair's extra rows).
    pub rows_deleted: u64,
    /// Aggregates whose events were read (a targeted repair).
    pub aggregates: u64,
    /// Events folded.
    pub events: u64,
    /// The position the rewritten rows reflect (the highest projector
    /// position for a targeted repair).
    pub position: u64,
    /// The snapshot a replay started from, if any (its position).
    pub from_snapshot: Option<u64>,
    /// Wall time of the whole repair, compares included.
    pub elapsed_ms: u64,
}

/// One repair, as kept in the ledger store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepairEntry {
    /// Its id.
    pub id: Uuid,
    /// When it finished.
    pub at: DateTime<Utc>,
    /// The app instance that made it.
    pub instance: String,
    /// The read store it repaired (`postgresql at host:port/db`).
    pub read_store: String,
    /// Replay or targeted.
    pub kind: RepairKind,
    /// What a compare found before (`None`: it could not compare; see `notes`).
    pub before: Option<Findings>,
    /// What was re-projected.
    pub work: RepairWork,
    /// What a compare found after.
    pub after: Option<Findings>,
    /// Anything else worth knowing (a compare that failed, a retry).
    #[serde(default)]
    pub notes: Vec<String>,
}

/// Repairs kept in the ledger store.
#[async_trait]
pub trait RepairLog: Send + Sync {
    /// Keeps `entry`.
    async fn record_repair(&self, entry: &RepairEntry) -> StoreResult<()>;
    /// The newest `limit` repairs, newest first (none on a ledger of a build
    /// without repairs).
    async fn list_repairs(&self, limit: usize) -> StoreResult<Vec<RepairEntry>>;
}

/// Rows a targeted repair writes into the read tables: each key with the
/// whole row the ledger implies (`Some`: it replaces the stored row or is
/// inserted) or `None` (the stored row is deleted). Each table's rows were
/// folded at its projector's position (`users_at`, `bookings_at`): if the
/// projector has moved on since, nothing is written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RowRewrite {
    /// `users` projector position the user rows were folded at.
    pub users_at: u64,
    /// `bookings` projector position the booking rows were folded at.
    pub bookings_at: u64,
    /// User rows by key.
    pub users: Vec<(Uuid, Option<UserRow>)>,
    /// Booking rows by key.
    pub bookings: Vec<(Uuid, Option<BookingRow>)>,
}

impl RowRewrite {
    /// Nothing to write.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty() && self.bookings.is_empty()
    }

    /// (rows written, rows deleted).
    pub fn counts(&self) -> (u64, u64) {
        let deleted = self.users.iter().filter(|(_, r)| r.is_none()).count()
            + self.bookings.iter().filter(|(_, r)| r.is_none()).count();
        let all = self.users.len() + self.bookings.len();
        ((all - deleted) as u64, deleted as u64)
    }
}
