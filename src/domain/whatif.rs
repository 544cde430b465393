//! What-if: the state as if some events had never happened. Which events to
//! leave out, the fold that skips them, and the later events that become
//! no-ops because of it (a cancel of a booking that no longer exists).
//! Nothing here writes anything: it is a simulation.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::event::{BookingStatus, StoredEvent};
use super::projection::{BookingRow, RowChange, Table, UserRow};
use super::state::{ReadState, StateCounts, StateDiff, TableDiff, row_diff};

/// What to leave out: an event matching any part is left out.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exclusion {
    /// These positions.
    pub positions: BTreeSet<u64>,
    /// Every event of these aggregates.
    pub aggregates: BTreeSet<Uuid>,
    /// Every event of these types.
    pub event_types: BTreeSet<String>,
    /// Every position in these inclusive ranges.
    pub ranges: Vec<(u64, u64)>,
}

impl Exclusion {
    /// Nothing is left out.
    pub fn is_empty(&self) -> bool {
        self.positions.is_empty()
            && self.aggregates.is_empty()
            && self.event_types.is_empty()
            && self.ranges.is_empty()
    }

    /// Whether the event at `position` (of `aggregate` and `event_type`,
    /// when it could be read) is left out.
    pub fn excludes(&self, position: u64, event: Option<&StoredEvent>) -> bool {
        self.positions.contains(&position)
            || self
                .ranges
                .iter()
                .any(|(a, b)| (*a..=*b).contains(&position))
            || event.is_some_and(|e| {
                self.aggregates.contains(&e.aggregate_id)
                    || self.event_types.contains(&e.event_type)
            })
    }

    /// The lowest position a position or range names (aggregates and types
    /// need the ledger to say where they start).
    pub fn first_named_position(&self) -> Option<u64> {
        let ranges = self.ranges.iter().map(|(a, _)| *a);
        self.positions.iter().copied().chain(ranges).min()
    }

    /// Parses `A..B` (inclusive) into a range.
    pub fn parse_range(text: &str) -> Result<(u64, u64), BadRange> {
        let text = text.trim();
        let Some((a, b)) = text.split_once("..") else {
            return Err(BadRange::Shape(text.to_string()));
        };
        let parse = |s: &str| {
            s.trim()
                .trim_start_matches('=')
                .parse::<u64>()
                .map_err(|_| BadRange::NotPositions(text.to_string()))
        };
        let (a, b) = (parse(a)?, parse(b)?);
        if a == 0 || b < a {
            return Err(BadRange::Order(text.to_string()));
        }
        Ok((a, b))
    }
}

/// Why a range of positions to leave out could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BadRange {
    /// No `..` in it.
    #[error("a range is A..B, e.g. 100..200, not '{0}'")]
    Shape(String),
    /// An end is not a whole number.
    #[error("a range is A..B with whole positions, not '{0}'")]
    NotPositions(String),
    /// A is 0 or B is before A.
    #[error("a range A..B needs 1 <= A <= B, not '{0}'")]
    Order(String),
}

/// Sets `key`'s row in `table` to `row` (none: no row).
fn put_back<R: Clone>(table: &mut BTreeMap<Uuid, R>, key: &Uuid, row: Option<&R>) {
    match row {
        Some(row) => table.insert(*key, row.clone()),
        None => table.remove(key),
    };
}

/// A booking's price if it is confirmed (its part of the revenue), else 0.
fn confirmed_cents(row: &BookingRow) -> i64 {
    if row.status == BookingStatus::Confirmed {
        row.price_cents
    } else {
        0
    }
}

/// A state's row counts and the revenue of its confirmed bookings in
/// cents, in one walk over its bookings.
pub fn counts_and_revenue(state: &ReadState) -> (StateCounts, i64) {
    let (mut cancelled, mut cents) = (0, 0);
    for row in state.bookings.values() {
        match row.status {
            BookingStatus::Cancelled => cancelled += 1,
            BookingStatus::Confirmed => cents += row.price_cents,
        }
    }
    let counts = StateCounts::of(
        state.users.len() as u64,
        state.bookings.len() as u64,
        cancelled,
    );
    (counts, cents)
}

/// A later event that changed the real state and changes nothing in the
/// simulation, because what it acts on was made by a left-out event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoOp {
    /// Its position.
    pub position: u64,
    /// Its type.
    pub event_type: String,
    /// The row it would have changed.
    pub table: Table,
    /// That row's key.
    pub key: Uuid,
}

/// The fold that leaves events out, from a state before the first of them.
///
/// It folds the simulated state whole and, beside it, the real state only
/// where the two can differ: the rows a left-out event touched. Every row
/// change acts on one row and reads nothing else, so a row no left-out
/// event touched is the same in both, and the real state, the difference
/// and the real counts come from those few rows instead of a second fold
/// and a walk over both states.
#[derive(Clone, Debug, Default)]
pub struct WhatIfFold {
    /// The simulated state so far.
    pub state: ReadState,
    /// Positions left out.
    pub excluded: Vec<u64>,
    /// Later events that became no-ops.
    pub no_ops: Vec<NoOp>,
    /// Rows a left-out event would have made and no kept event has made yet.
    missing: HashSet<(Table, Uuid)>,
    /// Where the real state can differ from the simulated one.
    pub divergence: Divergence,
}

/// The real state's rows where it can differ from the simulated one: every
/// row a left-out event touched (present or not in the real state).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Divergence {
    /// The real rows under the touched keys (a key without a row here has
    /// no row in the real state).
    real: ReadState,
    /// The touched keys.
    touched: BTreeSet<(Table, Uuid)>,
}

impl Divergence {
    /// Starts following `key`, as the simulated state has it now.
    fn touch(&mut self, simulated: &ReadState, table: Table, key: Uuid) {
        if !self.touched.insert((table, key)) {
            return;
        }
        match table {
            Table::Users => {
                if let Some(row) = simulated.users.get(&key) {
                    self.real.users.insert(key, row.clone());
                }
            }
            Table::Bookings => {
                if let Some(row) = simulated.bookings.get(&key) {
                    self.real.bookings.insert(key, row.clone());
                }
            }
        }
    }

    /// Whether `target` is followed.
    fn follows(&self, target: &(Table, Uuid)) -> bool {
        self.touched.contains(target)
    }

    /// From the real state to `simulated`, over the touched rows only (the
    /// others are equal), in key order.
    pub fn difference(&self, simulated: &ReadState) -> StateDiff {
        let mut users = Vec::new();
        let mut bookings = Vec::new();
        for (table, key) in &self.touched {
            match table {
                Table::Users => users.extend(row_diff(
                    *key,
                    self.real.users.get(key),
                    simulated.users.get(key),
                )),
                Table::Bookings => bookings.extend(row_diff(
                    *key,
                    self.real.bookings.get(key),
                    simulated.bookings.get(key),
                )),
            }
        }
        StateDiff {
            tables: vec![
                TableDiff::of::<UserRow>(users),
                TableDiff::of::<BookingRow>(bookings),
            ],
        }
    }

    /// The real state's counts, from the simulated state's.
    pub fn real_counts(&self, simulated: &ReadState, counts: &StateCounts) -> StateCounts {
        let (mut users, mut bookings, mut cancelled) = (
            counts.users as i64,
            counts.bookings as i64,
            counts.cancelled() as i64,
        );
        let is_cancelled = |row: &BookingRow| i64::from(row.status == BookingStatus::Cancelled);
        for (table, key) in &self.touched {
            match table {
                Table::Users => {
                    users += i64::from(self.real.users.contains_key(key))
                        - i64::from(simulated.users.contains_key(key));
                }
                Table::Bookings => {
                    let (real, sim) = (self.real.bookings.get(key), simulated.bookings.get(key));
                    bookings += i64::from(real.is_some()) - i64::from(sim.is_some());
                    cancelled += real.map_or(0, is_cancelled) - sim.map_or(0, is_cancelled);
                }
            }
        }
        let whole = |n: i64| n.max(0) as u64;
        StateCounts::of(whole(users), whole(bookings), whole(cancelled))
    }

    /// The real state's revenue of confirmed bookings in cents, from the
    /// simulated state's `simulated_cents`: only the touched bookings can
    /// differ.
    pub fn real_revenue_cents(&self, simulated: &ReadState, simulated_cents: i64) -> i64 {
        let mut cents = simulated_cents;
        for (table, key) in &self.touched {
            if *table == Table::Bookings {
                cents += self.real.bookings.get(key).map_or(0, confirmed_cents)
                    - simulated.bookings.get(key).map_or(0, confirmed_cents);
            }
        }
        cents
    }

    /// The whole real state: `simulated` with the touched rows put back.
    pub fn real_state(&self, simulated: &ReadState) -> ReadState {
        let mut real = simulated.clone();
        for (table, key) in &self.touched {
            match table {
                Table::Users => put_back(&mut real.users, key, self.real.users.get(key)),
                Table::Bookings => put_back(&mut real.bookings, key, self.real.bookings.get(key)),
            }
        }
        real
    }
}

impl WhatIfFold {
    /// Starts from `state` (the real state just before the first left-out event).
    pub fn new(state: ReadState) -> Self {
        WhatIfFold {
            state,
            ..WhatIfFold::default()
        }
    }

    /// Takes in the next ledger event, in position order.
    pub fn apply(&mut self, event: &StoredEvent, exclusion: &Exclusion) {
        let position = event.position;
        if exclusion.excludes(position, Some(event)) {
            self.excluded.push(position);
            self.state.position = self.state.position.max(position);
            // Rows it would have made, and the simulation does not have.
            if let Ok(domain) = event.decode() {
                for change in RowChange::of_event(position, &domain) {
                    let (table, key) = change.target();
                    if change.inserts() && !self.state.contains(table, key) {
                        self.missing.insert((table, key));
                    }
                    self.divergence.touch(&self.state, table, key);
                    self.divergence.real.apply_owned_change(change);
                }
            }
            return;
        }
        self.state.position = self.state.position.max(position);
        let Ok(domain) = event.decode() else {
            return;
        };
        for change in RowChange::of_event(position, &domain) {
            let target = change.target();
            // Only a followed row can be missing (a left-out event touched
            // it): the common row costs one lookup in a small set.
            if !self.divergence.follows(&target) {
                self.state.apply_owned_change(change);
                continue;
            }
            self.divergence.real.apply_owned_change(change.clone());
            if self.missing.contains(&target) {
                if !change.inserts() {
                    self.no_ops.push(NoOp {
                        position,
                        event_type: event.event_type.clone(),
                        table: target.0,
                        key: target.1,
                    });
                    continue;
                }
                self.missing.remove(&target);
            }
            self.state.apply_owned_change(change);
        }
    }

    /// Takes in a ledger entry that could not be read (no projection reads it either).
    pub fn skip(&mut self, position: u64, exclusion: &Exclusion) {
        if exclusion.excludes(position, None) {
            self.excluded.push(position);
        }
        self.state.position = self.state.position.max(position);
    }
}

#[cfg(test)]
mod tests;
