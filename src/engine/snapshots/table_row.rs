//! A read table's row type as the snapshot formats and the views fold it
//! ([`TableRow`]), and a row from its changes. Below both: the history
//! format and the views import it, and it imports neither.

use std::collections::BTreeMap;

use uuid::Uuid;

use crate::domain::{BookingRow, ReadState, Row, RowChange, UserRow};

/// A row type of one read table, as a fold of row changes sees it.
pub trait TableRow: Row + Sized + Send + Sync + 'static {
    /// This table's rows in a state.
    fn map(state: &mut ReadState) -> &mut BTreeMap<Uuid, Self>;
    /// The row a change inserts, if it inserts one of this table.
    fn inserted(change: &RowChange) -> Option<&Self>;
}

impl TableRow for UserRow {
    fn map(state: &mut ReadState) -> &mut BTreeMap<Uuid, Self> {
        &mut state.users
    }
    fn inserted(change: &RowChange) -> Option<&Self> {
        match change {
            RowChange::InsertUserIfAbsent(row) => Some(row),
            _ => None,
        }
    }
}

impl TableRow for BookingRow {
    fn map(state: &mut ReadState) -> &mut BTreeMap<Uuid, Self> {
        &mut state.bookings
    }
    fn inserted(change: &RowChange) -> Option<&Self> {
        match change {
            RowChange::InsertBookingIfAbsent(row) => Some(row),
            _ => None,
        }
    }
}

/// The row one key has after `changes`, starting from `base` (the same
/// rules as the fold: [`ReadState::apply_change`]).
/// A row from its changes alone (a history's): the inserted row itself when
/// that is the only change, as most rows are.
pub(crate) fn from_changes<R: TableRow>(key: Uuid, changes: &[RowChange]) -> Option<R> {
    match changes {
        [only] => R::inserted(only)
            .cloned()
            .or_else(|| resolve(key, None, changes)),
        _ => resolve(key, None, changes),
    }
}

/// A row from `base` and its changes after it.
pub(crate) fn resolve<R: TableRow>(key: Uuid, base: Option<R>, changes: &[RowChange]) -> Option<R> {
    let mut scratch = ReadState::default();
    if let Some(row) = base {
        R::map(&mut scratch).insert(key, row);
    }
    for change in changes {
        scratch.apply_change(change);
    }
    R::map(&mut scratch).remove(&key)
}
