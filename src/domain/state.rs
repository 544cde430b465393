//! The derived state in memory: both read tables as ordered maps, the fold of
//! events into them, a content digest, and row-level differences.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::event::{BookingStatus, DomainEvent, StoredEvent};
use super::projection::{BookingRow, Row, RowChange, Table, UserRow};

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

impl StateCounts {
    /// The counts of `users` users and `bookings` bookings, `cancelled` of
    /// them cancelled (the others confirmed).
    pub fn of(users: u64, bookings: u64, cancelled: u64) -> Self {
        let confirmed = bookings.saturating_sub(cancelled);
        StateCounts {
            users,
            bookings,
            bookings_by_status: [
                (BookingStatus::Confirmed, confirmed),
                (BookingStatus::Cancelled, cancelled),
            ]
            .into_iter()
            .map(|(status, n)| (status.as_str().to_string(), n))
            .collect(),
        }
    }

    /// Cancelled bookings.
    pub fn cancelled(&self) -> u64 {
        self.bookings_by_status
            .get(BookingStatus::Cancelled.as_str())
            .copied()
            .unwrap_or(0)
    }
}

/// What happened when one event was folded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FoldOutcome {
    /// The event was decoded and its changes applied.
    Applied,
    /// The event could not be decoded; nothing changed. Carries the reason.
    Skipped(String),
}

/// A state that ledger entries are folded into, one at a time: the
/// [`ReadState`] itself, or the replay's [`super::compact::CompactFold`].
pub trait EventFold {
    /// The last position folded in.
    fn folded_to(&self) -> u64;
    /// Folds a decoded event, stored at `position`, through every projector.
    fn fold_decoded(&mut self, position: u64, event: DomainEvent);
    /// Moves past an entry that could not be read or decoded.
    fn advance(&mut self, position: u64);
    /// Folds one stored event through every projector (undecodable: nothing
    /// changes, reported as skipped).
    fn fold_event(&mut self, event: &StoredEvent) -> FoldOutcome {
        match event.decode() {
            Ok(domain) => {
                self.fold_decoded(event.position, domain);
                FoldOutcome::Applied
            }
            Err(error) => {
                self.advance(event.position);
                FoldOutcome::Skipped(error.to_string())
            }
        }
    }
}

impl EventFold for ReadState {
    fn folded_to(&self) -> u64 {
        self.position
    }
    fn fold_decoded(&mut self, position: u64, event: DomainEvent) {
        self.advance(position);
        for change in RowChange::of_event(position, &event) {
            self.apply_owned_change(change);
        }
    }
    fn advance(&mut self, position: u64) {
        self.position = self.position.max(position);
    }
}

impl ReadState {
    /// Applies one row change with the idempotent semantics of [`RowChange`].
    pub fn apply_change(&mut self, change: &RowChange) {
        self.apply_owned_change(change.clone());
    }

    /// [`Self::apply_change`] taking the change by value, so an inserted row
    /// is moved in rather than copied (the fold's hot path).
    pub fn apply_owned_change(&mut self, change: RowChange) {
        match change {
            RowChange::InsertUserIfAbsent(row) => {
                self.users.entry(row.user_id).or_insert(row);
            }
            RowChange::SetUserAddress {
                user_id,
                address,
                position,
            } => {
                if let Some(row) = self.users.get_mut(&user_id)
                    && row.last_position < position
                {
                    row.address = address;
                    row.last_position = position;
                }
            }
            RowChange::InsertBookingIfAbsent(row) => {
                self.bookings.entry(row.booking_id).or_insert(row);
            }
            RowChange::SetBookingStatus {
                booking_id,
                status,
                position,
            } => {
                if let Some(row) = self.bookings.get_mut(&booking_id)
                    && row.last_position < position
                {
                    row.status = status;
                    row.last_position = position;
                }
            }
            RowChange::SetBookingDates {
                booking_id,
                check_in,
                check_out,
                position,
            } => {
                if let Some(row) = self.bookings.get_mut(&booking_id)
                    && row.last_position < position
                {
                    row.set_dates(check_in, check_out);
                    row.last_position = position;
                }
            }
        }
    }

    /// Folds one event through every projector. Undecodable events (unknown type,
    /// bad payload) change nothing and are reported as skipped.
    pub fn apply_event(&mut self, event: &StoredEvent) -> FoldOutcome {
        self.fold_event(event)
    }

    /// Whether the table holds a row under `key`.
    pub fn contains(&self, table: Table, key: Uuid) -> bool {
        match table {
            Table::Users => self.users.contains_key(&key),
            Table::Bookings => self.bookings.contains_key(&key),
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
        let cancelled = self
            .bookings
            .values()
            .filter(|row| row.status == BookingStatus::Cancelled)
            .count();
        StateCounts::of(
            self.users.len() as u64,
            self.bookings.len() as u64,
            cancelled as u64,
        )
    }

    /// A SHA-256 over every row in key order (not over `position`): equal for
    /// equal table contents, whatever produced them.
    pub fn digest(&self) -> String {
        // Row by row: the cells of a million-row state are never all in
        // memory at once.
        fn hash_row(hasher: &mut Sha256, cells: Vec<String>) {
            for cell in cells {
                hasher.update((cell.len() as u64).to_le_bytes());
                hasher.update(cell.as_bytes());
            }
        }
        let mut hasher = Sha256::new();
        hasher.update(Table::Users.name().as_bytes());
        hasher.update([0u8]);
        for row in self.users.values() {
            hash_row(&mut hasher, row.cells());
        }
        hasher.update(Table::Bookings.name().as_bytes());
        hasher.update([0u8]);
        for row in self.bookings.values() {
            hash_row(&mut hasher, row.cells());
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
                diff_table(&self.users, &other.users),
                diff_table(&self.bookings, &other.bookings),
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableDiff {
    /// The table.
    pub table: Table,
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

fn diff_table<R: Row>(left: &BTreeMap<Uuid, R>, right: &BTreeMap<Uuid, R>) -> TableDiff {
    let mut rows = Vec::new();
    diff_sorted(left.iter(), right.iter(), &mut rows);
    TableDiff::of::<R>(rows)
}

impl TableDiff {
    /// The differing `rows` of `R`'s table.
    pub fn of<R: Row>(rows: Vec<RowDiff>) -> Self {
        TableDiff {
            table: R::TABLE,
            columns: R::TABLE.columns().iter().map(|c| c.to_string()).collect(),
            rows,
        }
    }
}

/// The difference for one key: `None` when the rows are equal (or both absent).
pub fn row_diff<R: Row>(key: Uuid, before: Option<&R>, after: Option<&R>) -> Option<RowDiff> {
    let columns = R::TABLE.columns();
    match (before, after) {
        (Some(b), Some(a)) if b == a => None,
        (Some(b), Some(a)) => {
            let before = b.cells();
            let after = a.cells();
            let changed = columns
                .iter()
                .zip(before.iter().zip(&after))
                .filter(|(_, (b, a))| b != a)
                .map(|(c, _)| c.to_string())
                .collect();
            Some(RowDiff::Changed {
                key,
                before,
                after,
                columns: changed,
                last_position: a.last_position(),
            })
        }
        (Some(b), None) => Some(RowDiff::Removed {
            key,
            before: b.cells(),
            last_position: b.last_position(),
        }),
        (None, Some(a)) => Some(RowDiff::Added {
            key,
            after: a.cells(),
            last_position: a.last_position(),
        }),
        (None, None) => None,
    }
}

/// Walks two key-ordered row sequences together, calling `each` with every
/// key and the row on each side (absent on a side = `None`).
fn merge_sorted<'a, R: 'a>(
    left: impl Iterator<Item = (&'a Uuid, &'a R)>,
    right: impl Iterator<Item = (&'a Uuid, &'a R)>,
    mut each: impl FnMut(Uuid, Option<&'a R>, Option<&'a R>),
) {
    let mut l = left.peekable();
    let mut r = right.peekable();
    loop {
        match (l.peek().copied(), r.peek().copied()) {
            (None, None) => break,
            (Some((lk, lv)), Some((rk, rv))) if lk == rk => {
                each(*lk, Some(lv), Some(rv));
                l.next();
                r.next();
            }
            (Some((lk, lv)), Some((rk, _))) if lk < rk => {
                each(*lk, Some(lv), None);
                l.next();
            }
            (Some((lk, lv)), None) => {
                each(*lk, Some(lv), None);
                l.next();
            }
            (_, Some((rk, rv))) => {
                each(*rk, None, Some(rv));
                r.next();
            }
        }
    }
}

/// Merges two key-ordered row sequences, pushing a [`RowDiff`] for every key
/// whose rows differ (`left` is "before"). Returns how many distinct keys it
/// saw. Works on slices of tables too, so callers can compare page by page.
pub fn diff_sorted<'a, R: Row + 'a>(
    left: impl Iterator<Item = (&'a Uuid, &'a R)>,
    right: impl Iterator<Item = (&'a Uuid, &'a R)>,
    rows: &mut Vec<RowDiff>,
) -> u64 {
    let mut keys = 0;
    merge_sorted(left, right, |key, before, after| {
        keys += 1;
        rows.extend(row_diff(key, before, after));
    });
    keys
}

/// (added, removed, changed) among differing keys.
pub fn kind_counts(keys: &[(Uuid, DiffKind)]) -> (usize, usize, usize) {
    let mut counts = (0, 0, 0);
    for (_, kind) in keys {
        match kind {
            DiffKind::Added => counts.0 += 1,
            DiffKind::Removed => counts.1 += 1,
            DiffKind::Changed => counts.2 += 1,
        }
    }
    counts
}

/// How a key differs between two states.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiffKind {
    /// Only in the second state.
    Added,
    /// Only in the first state.
    Removed,
    /// In both, with different cells.
    Changed,
}

fn diff_keys<R: PartialEq>(
    left: &BTreeMap<Uuid, R>,
    right: &BTreeMap<Uuid, R>,
) -> Vec<(Uuid, DiffKind)> {
    let mut keys = Vec::new();
    merge_sorted(left.iter(), right.iter(), |key, before, after| {
        let kind = match (before, after) {
            (Some(b), Some(a)) if b == a => return,
            (Some(_), Some(_)) => DiffKind::Changed,
            (Some(_), None) => DiffKind::Removed,
            _ => DiffKind::Added,
        };
        keys.push((key, kind));
    });
    keys
}

/// The difference between two shared states that keeps only the differing
/// keys (17 bytes each) and rebuilds a row's cells when asked: a view shows a
/// few dozen rows of a difference that can span a million, and [`StateDiff`]
/// would hold every cell of every one of them as text.
#[derive(Clone, Debug)]
pub struct KeyDiff {
    /// The first state ("before").
    pub before: std::sync::Arc<ReadState>,
    /// The second state ("after").
    pub after: std::sync::Arc<ReadState>,
    /// Per table ([`Table::slot`]): differing keys in key order.
    pub keys: [Vec<(Uuid, DiffKind)>; 2],
}

impl KeyDiff {
    /// Compares two states.
    pub fn new(before: std::sync::Arc<ReadState>, after: std::sync::Arc<ReadState>) -> Self {
        let keys = [
            diff_keys(&before.users, &after.users),
            diff_keys(&before.bookings, &after.bookings),
        ];
        KeyDiff {
            before,
            after,
            keys,
        }
    }

    /// Differing rows in a table.
    pub fn len(&self, table: Table) -> usize {
        self.keys[table.slot()].len()
    }

    /// (added, removed, changed) in a table.
    pub fn counts(&self, table: Table) -> (usize, usize, usize) {
        kind_counts(&self.keys[table.slot()])
    }

    /// Row `index` of a table's difference, cells and all.
    pub fn row(&self, table: Table, index: usize) -> Option<RowDiff> {
        let (key, _) = *self.keys[table.slot()].get(index)?;
        match table {
            Table::Users => row_diff(key, self.before.users.get(&key), self.after.users.get(&key)),
            Table::Bookings => row_diff(
                key,
                self.before.bookings.get(&key),
                self.after.bookings.get(&key),
            ),
        }
    }
}

#[cfg(test)]
mod tests;
