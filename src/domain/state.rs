//! The derived state in memory: both read tables as ordered maps, the fold of
//! events into them, a content digest, and row-level differences.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::event::{BookingStatus, StoredEvent};
use super::projection::{BookingRow, ProjectorId, RowChange, UserRow};

/// Both read tables, keyed and ordered by primary key, plus the position they
/// reflect. What "the ledger implies" at `position`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadState {
    /// Last ledger position folded in (0 = empty ledger).
    pub position: u64,
    /// The `users` table.
    pub users: BTreeMap<Uuid, UserRow>,
    /// The `bookings` table.
    pub bookings: BTreeMap<Uuid, BookingRow>,
}

/// Row counts of a state, for status lines and the CLI's `state`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateCounts {
    /// Rows in `users`.
    pub users: u64,
    /// Rows in `bookings`.
    pub bookings: u64,
    /// Bookings per status.
    pub bookings_by_status: BTreeMap<String, u64>,
}

/// What happened when one event was folded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FoldOutcome {
    /// The event was decoded and its changes applied.
    Applied,
    /// The event could not be decoded; nothing changed. Carries the reason.
    Skipped(String),
}

impl ReadState {
    /// Applies one row change with the idempotent semantics of [`RowChange`].
    pub fn apply_change(&mut self, change: &RowChange) {
        match change {
            RowChange::InsertUserIfAbsent(row) => {
                self.users.entry(row.user_id).or_insert_with(|| row.clone());
            }
            RowChange::SetUserAddress {
                user_id,
                address,
                position,
            } => {
                if let Some(row) = self.users.get_mut(user_id)
                    && row.last_position < *position
                {
                    row.address.clone_from(address);
                    row.last_position = *position;
                }
            }
            RowChange::InsertBookingIfAbsent(row) => {
                self.bookings
                    .entry(row.booking_id)
                    .or_insert_with(|| row.clone());
            }
            RowChange::SetBookingStatus {
                booking_id,
                status,
                position,
            } => {
                if let Some(row) = self.bookings.get_mut(booking_id)
                    && row.last_position < *position
                {
                    row.status = *status;
                    row.last_position = *position;
                }
            }
            RowChange::SetBookingDates {
                booking_id,
                check_in,
                check_out,
                position,
            } => {
                if let Some(row) = self.bookings.get_mut(booking_id)
                    && row.last_position < *position
                {
                    row.check_in = *check_in;
                    row.check_out = *check_out;
                    row.last_position = *position;
                }
            }
        }
    }

    /// Folds one event through every projector. Undecodable events (unknown type,
    /// bad payload) change nothing and are reported as skipped.
    pub fn apply_event(&mut self, event: &StoredEvent) -> FoldOutcome {
        self.position = self.position.max(event.position);
        match event.decode() {
            Ok(domain) => {
                for projector in ProjectorId::ALL {
                    for change in projector.changes(event.position, &domain) {
                        self.apply_change(&change);
                    }
                }
                FoldOutcome::Applied
            }
            Err(error) => FoldOutcome::Skipped(error.to_string()),
        }
    }

    /// Folds events from an empty state.
    pub fn fold<'a>(events: impl IntoIterator<Item = &'a StoredEvent>) -> Self {
        let mut state = ReadState::default();
        for event in events {
            state.apply_event(event);
        }
        state
    }

    /// Row counts.
    pub fn counts(&self) -> StateCounts {
        let mut by_status: BTreeMap<String, u64> = BTreeMap::new();
        for status in [BookingStatus::Confirmed, BookingStatus::Cancelled] {
            by_status.insert(status.as_str().to_string(), 0);
        }
        for row in self.bookings.values() {
            *by_status
                .entry(row.status.as_str().to_string())
                .or_default() += 1;
        }
        StateCounts {
            users: self.users.len() as u64,
            bookings: self.bookings.len() as u64,
            bookings_by_status: by_status,
        }
    }

    /// A SHA-256 over every row in key order (not over `position`): equal for
    /// equal table contents, whatever produced them.
    pub fn digest(&self) -> String {
        let mut hasher = Sha256::new();
        for (table, rows) in [
            (
                UserRow::TABLE,
                self.users.values().map(UserRow::cells).collect::<Vec<_>>(),
            ),
            (
                BookingRow::TABLE,
                self.bookings.values().map(BookingRow::cells).collect(),
            ),
        ] {
            hasher.update(table.as_bytes());
            hasher.update([0u8]);
            for cells in rows {
                for cell in cells {
                    hasher.update((cell.len() as u64).to_le_bytes());
                    hasher.update(cell.as_bytes());
                }
            }
        }
        hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Row-level difference from `self` to `other` for both tables.
    pub fn diff(&self, other: &ReadState) -> StateDiff {
        StateDiff {
            tables: vec![
                diff_table(
                    UserRow::TABLE,
                    &UserRow::COLUMNS,
                    &self.users,
                    &other.users,
                    UserRow::cells,
                    |r| r.last_position,
                ),
                diff_table(
                    BookingRow::TABLE,
                    &BookingRow::COLUMNS,
                    &self.bookings,
                    &other.bookings,
                    BookingRow::cells,
                    |r| r.last_position,
                ),
            ],
        }
    }
}

/// One row that differs between two states.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RowDiff {
    /// Present only in the second state.
    Added {
        /// Primary key.
        key: Uuid,
        /// The row's cells.
        after: Vec<String>,
        /// Position that last changed it.
        last_position: u64,
    },
    /// Present only in the first state.
    Removed {
        /// Primary key.
        key: Uuid,
        /// The row's cells.
        before: Vec<String>,
        /// Position that last changed it.
        last_position: u64,
    },
    /// Present in both with different cells.
    Changed {
        /// Primary key.
        key: Uuid,
        /// Cells in the first state.
        before: Vec<String>,
        /// Cells in the second state.
        after: Vec<String>,
        /// Names of the differing columns.
        columns: Vec<String>,
        /// Position that last changed the row in the second state.
        last_position: u64,
    },
}

impl RowDiff {
    /// The row's primary key.
    pub fn key(&self) -> Uuid {
        match self {
            RowDiff::Added { key, .. }
            | RowDiff::Removed { key, .. }
            | RowDiff::Changed { key, .. } => *key,
        }
    }

    /// The position that last changed the row (in the state that has it).
    pub fn last_position(&self) -> u64 {
        match self {
            RowDiff::Added { last_position, .. }
            | RowDiff::Removed { last_position, .. }
            | RowDiff::Changed { last_position, .. } => *last_position,
        }
    }
}

/// Differences in one table.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableDiff {
    /// Table name.
    pub table: String,
    /// Column names, for reading `before`/`after`.
    pub columns: Vec<String>,
    /// Differing rows in key order.
    pub rows: Vec<RowDiff>,
}

impl TableDiff {
    /// (added, removed, changed) counts.
    pub fn counts(&self) -> (usize, usize, usize) {
        let mut counts = (0, 0, 0);
        for row in &self.rows {
            match row {
                RowDiff::Added { .. } => counts.0 += 1,
                RowDiff::Removed { .. } => counts.1 += 1,
                RowDiff::Changed { .. } => counts.2 += 1,
            }
        }
        counts
    }
}

/// Differences in every table.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateDiff {
    /// One entry per table, even when it has no differences.
    pub tables: Vec<TableDiff>,
}

impl StateDiff {
    /// True when no table differs.
    pub fn is_empty(&self) -> bool {
        self.tables.iter().all(|t| t.rows.is_empty())
    }
}

fn diff_table<R: PartialEq>(
    table: &str,
    columns: &[&str],
    left: &BTreeMap<Uuid, R>,
    right: &BTreeMap<Uuid, R>,
    cells: impl Fn(&R) -> Vec<String>,
    last_position: impl Fn(&R) -> u64,
) -> TableDiff {
    let mut rows = Vec::new();
    let mut l = left.iter().peekable();
    let mut r = right.iter().peekable();
    loop {
        match (l.peek(), r.peek()) {
            (None, None) => break,
            (Some((lk, lv)), Some((rk, rv))) if lk == rk => {
                if lv != rv {
                    let before = cells(lv);
                    let after = cells(rv);
                    let changed = columns
                        .iter()
                        .zip(before.iter().zip(&after))
                        .filter(|(_, (b, a))| b != a)
                        .map(|(c, _)| c.to_string())
                        .collect();
                    rows.push(RowDiff::Changed {
                        key: **lk,
                        before,
                        after,
                        columns: changed,
                        last_position: last_position(rv),
                    });
                }
                l.next();
                r.next();
            }
            (Some((lk, lv)), Some((rk, _))) if lk < rk => {
                rows.push(RowDiff::Removed {
                    key: **lk,
                    before: cells(lv),
                    last_position: last_position(lv),
                });
                l.next();
            }
            (Some((lk, lv)), None) => {
                rows.push(RowDiff::Removed {
                    key: **lk,
                    before: cells(lv),
                    last_position: last_position(lv),
                });
                l.next();
            }
            (_, Some((rk, rv))) => {
                rows.push(RowDiff::Added {
                    key: **rk,
                    after: cells(rv),
                    last_position: last_position(rv),
                });
                r.next();
            }
        }
    }
    TableDiff {
        table: table.to_string(),
        columns: columns.iter().map(|c| c.to_string()).collect(),
        rows,
    }
}

#[cfg(test)]
#[path = "state_tests.rs"]
mod tests;
