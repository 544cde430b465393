//! A row's history ("blame"): every version of one read row, oldest first,
//! with the event that made it and the cells it changed. The versions come
//! from the same projections as every read table, so the last version is the
//! row the ledger implies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::event::StoredEvent;
use super::projection::{Row, RowChange, Table};
use super::state::ReadState;

/// One version of a row: what it was after one event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowVersion {
    /// The event that made this version.
    pub position: u64,
    /// Its type.
    pub event_type: String,
    /// When the ledger accepted it.
    pub recorded_at: DateTime<Utc>,
    /// Who issued its command, when the event says.
    pub actor: Option<String>,
    /// The row's cells after the event, in [`Table::columns`] order.
    pub cells: Vec<String>,
    /// The columns whose value differs from the version before (every
    /// column for the first version).
    pub changed: Vec<String>,
}

/// Every version of one row, oldest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowHistory {
    /// The row's table.
    pub table: Table,
    /// The row's primary key.
    pub key: Uuid,
    /// The table's columns, in the order of each version's cells.
    pub columns: Vec<String>,
    /// The versions, in ledger order.
    pub versions: Vec<RowVersion>,
    /// Positions of events about this row that could not be decoded (they
    /// change nothing, as in every projection).
    pub skipped: Vec<u64>,
}

impl RowHistory {
    /// The cells of the newest version (`None`: the row never existed).
    pub fn current(&self) -> Option<&[String]> {
        self.versions.last().map(|v| v.cells.as_slice())
    }
}

/// The read rows an event's projections can change (none for an
/// undecodable event): a booking wizard makes its booking and maybe its user.
pub fn rows_touched(event: &StoredEvent) -> Vec<(Table, Uuid)> {
    let Ok(domain) = event.decode() else {
        return Vec::new();
    };
    let mut rows: Vec<(Table, Uuid)> = RowChange::of_event(event.position, &domain)
        .map(|change| change.target())
        .collect();
    rows.sort();
    rows.dedup();
    rows
}

fn cells_of(state: &ReadState, table: Table, key: Uuid) -> Option<Vec<String>> {
    match table {
        Table::Users => state.users.get(&key).map(Row::cells),
        Table::Bookings => state.bookings.get(&key).map(Row::cells),
    }
}

/// Folds `events` (any order: they are taken in position order) into the
/// versions of one row. Events about other rows change nothing; events that
/// leave the row as it was (a repeated booking of a known user, a stale
/// update) are not versions.
pub fn row_history<'a>(
    table: Table,
    key: Uuid,
    events: impl IntoIterator<Item = &'a StoredEvent>,
) -> RowHistory {
    let mut events: Vec<&StoredEvent> = events.into_iter().collect();
    events.sort_by_key(|e| e.position);
    events.dedup_by_key(|e| e.position);
    let columns = table.columns();
    let mut state = ReadState::default();
    let mut before: Option<Vec<String>> = None;
    let mut versions = Vec::new();
    let mut skipped = Vec::new();
    for event in events {
        let Ok(domain) = event.decode() else {
            skipped.push(event.position);
            continue;
        };
        for change in table.projector().changes(event.position, &domain) {
            if change.target() == (table, key) {
                state.apply_owned_change(change);
            }
        }
        let after = cells_of(&state, table, key);
        if after == before {
            continue;
        }
        if let Some(cells) = &after {
            let changed = columns
                .iter()
                .enumerate()
                .filter(|(i, _)| before.as_ref().is_none_or(|b| b.get(*i) != cells.get(*i)))
                .map(|(_, c)| c.to_string())
                .collect();
            versions.push(RowVersion {
                position: event.position,
                event_type: event.event_type.clone(),
                recorded_at: event.recorded_at,
                actor: event.metadata.actor.clone(),
                cells: cells.clone(),
                changed,
            });
        }
        before = after;
    }
    RowHistory {
        table,
        key,
        columns: columns.iter().map(|c| c.to_string()).collect(),
        versions,
        skipped,
    }
}

#[cfg(test)]
mod tests;
