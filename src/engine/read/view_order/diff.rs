//! Display orders of a difference's rows: kinds, keys and `last_position`
//! from the two directories, other columns and searches from one pass that
//! reads each differing row by index in the state that shows it.

use std::sync::Arc;

use uuid::Uuid;

use super::{
    CellText, Needle, PASS_CHUNK, PassControl, RowQuery, SortBy, SortKeys, last_position_column,
    sort_keys,
};
use crate::domain::state::DiffKind;
use crate::domain::{BookingRow, RowDiff, Table, UserRow};
use crate::engine::view::{StateView, ViewDiff, ViewRow};
use crate::engine::{EngineError, EngineResult};

/// Where each differing key is among `view`'s rows of `table` (its index in
/// key order; `u32::MAX` where the view does not have it), by one merge of
/// the keys with the view's directory.
fn positions_in(view: &StateView, table: Table, keys: &[(Uuid, DiffKind)]) -> Vec<u32> {
    let mut out = vec![u32::MAX; keys.len()];
    let mut at = 0usize;
    for (i, entry) in view.entries(table).enumerate() {
        while at < keys.len() && keys[at].0 < entry.id() {
            at += 1;
        }
        match keys.get(at) {
            Some((key, _)) if *key == entry.id() => {
                out[at] = i as u32;
                at += 1;
            }
            Some(_) => {}
            None => break,
        }
    }
    out
}

/// The cells a differing row shows: the newer side's, or the older's for
/// a row only there.
pub fn shown_cells(row: &RowDiff) -> &[String] {
    match row {
        RowDiff::Added { after, .. } | RowDiff::Changed { after, .. } => after,
        RowDiff::Removed { before, .. } => before,
    }
}

/// Whether a differing row has a cell (on either side) containing `needle`.
pub fn diff_matches(row: &RowDiff, needle: &Needle) -> bool {
    match row {
        RowDiff::Added { after: cells, .. } | RowDiff::Removed { before: cells, .. } => {
            needle.matches_any(cells.iter().map(String::as_str))
        }
        RowDiff::Changed { before, after, .. } => {
            needle.matches_any(after.iter().chain(before).map(String::as_str))
        }
    }
}

impl ViewDiff {
    /// Rows `indices` (of the differing keys, in key order) of `table`'s
    /// difference, in the order asked (`None` where the rows turned out
    /// equal).
    pub async fn rows_at(
        &self,
        table: Table,
        indices: &[u32],
    ) -> EngineResult<Vec<Option<RowDiff>>> {
        let all = &self.keys[table.slot()];
        let keys: Vec<_> = indices
            .iter()
            .filter_map(|i| all.get(*i as usize).copied())
            .collect();
        let rows = match table {
            Table::Users => self.rows_of::<UserRow>(&keys).await?,
            Table::Bookings => self.rows_of::<BookingRow>(&keys).await?,
        };
        let mut rows = rows.into_iter().peekable();
        Ok(keys
            .iter()
            .map(|(key, _)| rows.next_if(|r| r.key() == *key))
            .collect())
    }

    /// The display order of `table`'s difference for `query` (`None`:
    /// every differing row in key order). Kinds, the key and
    /// `last_position` come from the directories; other columns and
    /// searches read every differing row once, in chunks.
    pub async fn order(
        &self,
        table: Table,
        query: &RowQuery,
        control: &PassControl,
    ) -> EngineResult<Option<Arc<[u32]>>> {
        if query.is_identity() {
            return Ok(None);
        }
        let all = &self.keys[table.slot()];
        let kept: Vec<u32> = (0..all.len() as u32)
            .filter(|i| query.kinds.keeps(all[*i as usize].1))
            .collect();
        let needle = query.needle();
        if needle.is_none() {
            match query.sort {
                None => return Ok(Some(kept.into())),
                Some(SortBy {
                    column: 0,
                    descending,
                }) => {
                    let mut kept = kept;
                    if descending {
                        kept.reverse();
                    }
                    return Ok(Some(kept.into()));
                }
                Some(SortBy { column, descending })
                    if Some(column) == last_position_column(table) =>
                {
                    let positions = self.last_positions(table);
                    let mut keys: Vec<(u64, u32)> =
                        kept.iter().map(|i| (positions[*i as usize], *i)).collect();
                    keys.sort_unstable();
                    let mut out: Vec<u32> = keys.into_iter().map(|k| k.1).collect();
                    if descending {
                        out.reverse();
                    }
                    return Ok(Some(out.into()));
                }
                Some(_) => {}
            }
        }
        let kept = kept.into();
        Ok(Some(match table {
            Table::Users => self.pass::<UserRow>(table, &kept, query, control).await?,
            Table::Bookings => {
                self.pass::<BookingRow>(table, &kept, query, control)
                    .await?
            }
        }))
    }

    /// One pass over the differing rows `kept` (indices of the differing
    /// keys, ascending), in chunks: each row read by index in the state
    /// that shows it (the second, or the first for a row only there; both
    /// for a changed row, whose old cells are searched too), keeping the
    /// rows `query` searches for and their sort keys.
    async fn pass<R: ViewRow + CellText>(
        &self,
        table: Table,
        kept: &Arc<[u32]>,
        query: &RowQuery,
        control: &PassControl,
    ) -> EngineResult<Arc<[u32]>> {
        let keys = &self.keys[table.slot()];
        let needle = query.needle();
        let searched: Vec<usize> = (0..R::WIDTH)
            .filter(|c| {
                needle
                    .as_ref()
                    .is_none_or(|n| R::SPELLING[*c].may_hold(n.text()))
            })
            .collect();
        let (after_at, before_at) = (
            positions_in(&self.after, table, keys),
            positions_in(&self.before, table, keys),
        );
        let mut sort_keys_kept = match (&needle, query.sort) {
            (None, Some(_)) => SortKeys::with_capacity(kept.len()),
            _ => SortKeys::default(),
        };
        let mut found: Vec<u32> = Vec::new();
        let (mut buf, mut old) = (String::new(), String::new());
        let total = kept.len();
        let mut done = 0usize;
        for chunk in kept.chunks(PASS_CHUNK) {
            control.check()?;
            let index_in = |side: &[u32], kinds: &[DiffKind]| -> Vec<usize> {
                chunk
                    .iter()
                    .filter(|i| kinds.contains(&keys[**i as usize].1))
                    .map(|i| side[*i as usize] as usize)
                    .collect()
            };
            let after_rows = self
                .after
                .rows_in::<R>(index_in(&after_at, &[DiffKind::Added, DiffKind::Changed]))
                .await?;
            let before_rows = self
                .before
                .rows_in::<R>(index_in(
                    &before_at,
                    &[DiffKind::Removed, DiffKind::Changed],
                ))
                .await?;
            let (mut after_rows, mut before_rows) = (after_rows.iter(), before_rows.iter());
            for index in chunk {
                let kind = keys[*index as usize].1;
                let after = match kind {
                    DiffKind::Added | DiffKind::Changed => after_rows.next(),
                    DiffKind::Removed => None,
                };
                let before = match kind {
                    DiffKind::Removed | DiffKind::Changed => before_rows.next(),
                    DiffKind::Added => None,
                };
                let Some(shown) = after.or(before) else {
                    return Err(EngineError::Crashed(format!(
                        "a differing row of {table} was not read"
                    )));
                };
                // Rows the directories flagged that turned out equal show nothing.
                if kind == DiffKind::Changed && after == before {
                    continue;
                }
                if let Some(n) = &needle {
                    let hit = searched
                        .iter()
                        .any(|c| n.matches(shown.cell_text(*c, &mut buf)))
                        || (kind == DiffKind::Changed
                            && before.is_some_and(|b| {
                                searched
                                    .iter()
                                    .any(|c| n.matches(b.cell_text(*c, &mut old)))
                            }));
                    if !hit {
                        continue;
                    }
                }
                match query.sort {
                    Some(s) => sort_keys_kept.push(*index, shown.cell_text(s.column, &mut buf)),
                    None => found.push(*index),
                }
            }
            done += chunk.len();
            (control.progress)(done as u64, total as u64);
        }
        Ok(match query.sort {
            Some(s) => sort_keys(sort_keys_kept, s.descending).await?.into(),
            None => found.into(),
        })
    }

    /// Each differing key's `last_position` on the side that shows it (the
    /// second state's, or the first's for a row only there), from the
    /// directories.
    fn last_positions(&self, table: Table) -> Vec<u64> {
        let keys = &self.keys[table.slot()];
        let mut out = vec![0u64; keys.len()];
        for (side, kinds) in [
            (&self.after, [DiffKind::Added, DiffKind::Changed]),
            (&self.before, [DiffKind::Removed, DiffKind::Removed]),
        ] {
            let mut at = 0usize;
            for entry in side.entries(table) {
                while at < keys.len() && keys[at].0 < entry.id() {
                    at += 1;
                }
                match keys.get(at) {
                    Some((key, kind)) if *key == entry.id() => {
                        if kinds.contains(kind) {
                            out[at] = entry.last_position();
                        }
                        at += 1;
                    }
                    Some(_) => {}
                    None => break,
                }
            }
        }
        out
    }
}
