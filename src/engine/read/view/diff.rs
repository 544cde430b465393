//! The difference between two views ([`ViewDiff`]) and rows as text.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use uuid::Uuid;

use super::StateView;
use super::row::ViewRow;
use crate::domain::state::{DiffKind, RowDiff, kind_counts, row_diff};
use crate::domain::{BookingRow, Table, UserRow};
use crate::engine::EngineResult;
use crate::engine::snapshot_pages::DirEntry;

/// A row of a state as display text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowCells {
    /// Primary key.
    pub key: Uuid,
    /// Cells, in [`Table::columns`] order (the last one is `last_position`).
    pub cells: Vec<String>,
    /// The position that last changed the row.
    pub last_position: u64,
}

/// The keys that differ between two views of one ledger, without reading a
/// row: a key differs where it is in one view only, or where its last
/// position does.
pub struct ViewDiff {
    /// The first view ("before").
    pub before: Arc<StateView>,
    /// The second view ("after").
    pub after: Arc<StateView>,
    /// Per table ([`Table::slot`]): differing keys in key order.
    pub keys: [Vec<(Uuid, DiffKind)>; 2],
}

fn diff_entries(
    mut left: impl Iterator<Item = DirEntry>,
    mut right: impl Iterator<Item = DirEntry>,
) -> Vec<(Uuid, DiffKind)> {
    let mut out = Vec::new();
    let (mut l, mut r) = (left.next(), right.next());
    loop {
        match (l, r) {
            (None, None) => return out,
            (Some(a), Some(b)) if a.id() == b.id() => {
                if a != b {
                    out.push((a.id(), DiffKind::Changed));
                }
                l = left.next();
                r = right.next();
            }
            (Some(a), Some(b)) if a.id() < b.id() => {
                out.push((a.id(), DiffKind::Removed));
                l = left.next();
            }
            (Some(a), None) => {
                out.push((a.id(), DiffKind::Removed));
                l = left.next();
            }
            (_, Some(b)) => {
                out.push((b.id(), DiffKind::Added));
                r = right.next();
            }
        }
    }
}

impl ViewDiff {
    /// Compares two views of the same ledger.
    pub fn new(before: Arc<StateView>, after: Arc<StateView>) -> Self {
        let keys = Table::ALL.map(|t| diff_entries(before.entries(t), after.entries(t)));
        ViewDiff {
            before,
            after,
            keys,
        }
    }

    /// Differing rows in a table.
    pub fn len(&self, table: Table) -> usize {
        self.keys[table.slot()].len()
    }

    /// True when the views hold the same rows.
    pub fn is_empty(&self) -> bool {
        self.keys.iter().all(Vec::is_empty)
    }

    /// (added, removed, changed) in a table.
    pub fn counts(&self, table: Table) -> (usize, usize, usize) {
        kind_counts(&self.keys[table.slot()])
    }

    pub(crate) async fn rows_of<R: ViewRow>(
        &self,
        keys: &[(Uuid, DiffKind)],
    ) -> EngineResult<Vec<RowDiff>> {
        let mut out = Vec::with_capacity(keys.len());
        for (key, _) in keys {
            let before = self.before.row_by_key::<R>(*key).await?;
            let after = self.after.row_by_key::<R>(*key).await?;
            out.extend(row_diff(*key, before.as_ref(), after.as_ref()));
        }
        Ok(out)
    }

    /// Rows `range` of a table's difference, one entry per differing key in
    /// key order (`None` where the two rows turned out equal).
    pub async fn page(
        &self,
        table: Table,
        range: Range<usize>,
    ) -> EngineResult<Vec<Option<RowDiff>>> {
        let keys: Vec<Uuid> = self.keys[table.slot()]
            .get(range.clone())
            .map(|k| k.iter().map(|(key, _)| *key).collect())
            .unwrap_or_default();
        let mut by_key: HashMap<Uuid, RowDiff> = self
            .rows(table, range)
            .await?
            .into_iter()
            .map(|r| (r.key(), r))
            .collect();
        Ok(keys.iter().map(|k| by_key.remove(k)).collect())
    }

    /// Rows `range` of a table's difference, cells and all.
    pub async fn rows(&self, table: Table, range: Range<usize>) -> EngineResult<Vec<RowDiff>> {
        let keys = &self.keys[table.slot()];
        let keys = &keys[range.start.min(keys.len())..range.end.min(keys.len())];
        match table {
            Table::Users => self.rows_of::<UserRow>(keys).await,
            Table::Bookings => self.rows_of::<BookingRow>(keys).await,
        }
    }
}
