//! [`StateView`]: a base plus the row changes of the events after it.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::sync::Arc;

use uuid::Uuid;

use super::diff::RowCells;
use super::row::ViewRow;
use super::{PAGES_PER_READ, Page, Rows, StateView, Touched, ViewBase};
use crate::domain::state::StateCounts;
use crate::domain::{BookingRow, ReadState, Row, RowChange, Table, UserRow};
use crate::engine::EngineResult;
use crate::engine::snapshot_delta::Changes;
use crate::engine::snapshot_pages::DirEntry;
use crate::engine::snapshots::table_row::resolve;
use crate::engine::timetravel::FoldBase;

/// Where row `i` of a view is.
enum Slot {
    /// Base ordinal.
    Base(usize),
    /// A key the base does not have.
    New(Uuid),
}

impl std::fmt::Debug for StateView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateView")
            .field("position", &self.position)
            .field("counts", &self.counts)
            .finish_non_exhaustive()
    }
}

impl StateView {
    /// A view of `base` plus the row changes of the events after it, up to
    /// `position`.
    pub(crate) fn new(base: Arc<ViewBase>, position: u64, changes: Changes) -> Self {
        let touched = [
            touch::<UserRow>(&base, &changes[0]),
            touch::<BookingRow>(&base, &changes[1]),
        ];
        let new_keys = [0, 1].map(|t| {
            touched[t]
                .iter()
                .filter(|k| k.before.is_none() && k.entry.is_some())
                .map(|k| k.key)
                .collect::<Vec<_>>()
        });
        let mut cancelled = base.cancelled as i64;
        for k in &touched[1] {
            let before = k.before.is_some_and(|e| e.cancelled());
            let after = k.entry.is_some_and(|e| e.cancelled());
            cancelled += i64::from(after) - i64::from(before);
        }
        let users = (base.entries(Table::Users).len() + new_keys[0].len()) as u64;
        let bookings = (base.entries(Table::Bookings).len() + new_keys[1].len()) as u64;
        let counts = StateCounts::of(users, bookings, cancelled.max(0) as u64);
        StateView {
            base,
            position,
            changes,
            touched,
            new_keys,
            counts,
            from: FoldBase::Zero,
            folded_events: 0,
            skipped: Vec::new(),
            base_us: 0,
            fold_us: 0,
        }
    }

    /// Each key the overlay touched, per table (users, bookings): its entry
    /// after the overlay (None: no row).
    pub(crate) fn touched_entries(
        &self,
    ) -> [impl Iterator<Item = (Uuid, Option<DirEntry>)> + '_; 2] {
        [0, 1].map(|t| self.touched[t].iter().map(|k| (k.key, k.entry)))
    }

    /// The overlay's row changes, handed back.
    pub(crate) fn into_changes(self) -> Changes {
        self.changes
    }

    /// A base with no events on top.
    pub fn of_base(base: Arc<ViewBase>) -> Self {
        let position = base.position();
        Self::new(base, position, Default::default())
    }

    /// The position the view reflects.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Row counts.
    pub fn counts(&self) -> &StateCounts {
        &self.counts
    }

    /// Rows in a table.
    pub fn len(&self, table: Table) -> usize {
        self.base.entries(table).len() + self.new_keys[table.slot()].len()
    }

    /// Every row's directory entry, in key order.
    pub fn entries(&self, table: Table) -> impl Iterator<Item = DirEntry> + '_ {
        let base = self.base.entries(table);
        let touched = &self.touched[table.slot()];
        let (mut b, mut t) = (0usize, 0usize);
        std::iter::from_fn(move || {
            loop {
                match (base.get(b), touched.get(t)) {
                    (None, None) => return None,
                    (Some(e), Some(k)) if e.id() == k.key => {
                        b += 1;
                        t += 1;
                        if let Some(entry) = k.entry {
                            return Some(entry);
                        }
                    }
                    (Some(e), Some(k)) if e.id() < k.key => {
                        b += 1;
                        return Some(*e);
                    }
                    (Some(e), None) => {
                        b += 1;
                        return Some(*e);
                    }
                    (_, Some(k)) => {
                        t += 1;
                        if let Some(entry) = k.entry {
                            return Some(entry);
                        }
                    }
                }
            }
        })
    }

    /// Where row `i` (in key order) is.
    fn slot_of(&self, table: Table, i: usize) -> Option<Slot> {
        let base = self.base.entries(table);
        let new = &self.new_keys[table.slot()];
        if i >= base.len() + new.len() {
            return None;
        }
        // The rank of new key j among all rows: j plus the base keys before it.
        let rank = |j: usize| j + base.partition_point(|e| e.id() < new[j]);
        let before = {
            let (mut lo, mut hi) = (0usize, new.len());
            while lo < hi {
                let mid = (lo + hi) / 2;
                if rank(mid) < i {
                    lo = mid + 1
                } else {
                    hi = mid
                }
            }
            lo
        };
        if before < new.len() && rank(before) == i {
            Some(Slot::New(new[before]))
        } else {
            Some(Slot::Base(i - before))
        }
    }

    fn changes_of(&self, table: Table, key: Uuid) -> Option<&[RowChange]> {
        self.changes[table.slot()].get(&key).map(Vec::as_slice)
    }

    /// Base rows by ordinal (from the cache, memory or the store).
    async fn base_rows<R: ViewRow>(&self, ordinals: &[usize]) -> EngineResult<Vec<R>> {
        let base = &self.base;
        match &base.rows {
            Rows::Memory { .. } => {
                let rows = R::of_memory(&base.rows);
                return Ok(ordinals
                    .iter()
                    .filter_map(|o| rows.get(*o).cloned())
                    .collect());
            }
            Rows::History(rows) => return rows.rows(ordinals).await,
            Rows::Stored(_) => {}
        }
        let mut out = Vec::with_capacity(ordinals.len());
        let mut loaded: HashMap<u32, Arc<Page>> = HashMap::new();
        for &ordinal in ordinals {
            let (page, at) = base.index.locate(ordinal);
            if !loaded.contains_key(&page) {
                // Runs of neighbouring pages come in one read.
                let run = ordinals
                    .iter()
                    .map(|o| base.index.locate(*o).0)
                    .filter(|p| *p >= page)
                    .max()
                    .map_or(1, |last| (last - page + 1).min(PAGES_PER_READ));
                let dense = run as usize <= ordinals.len();
                let count = if dense { run } else { 1 };
                for (i, p) in base
                    .pages(R::TABLE, page, count)
                    .await?
                    .into_iter()
                    .enumerate()
                {
                    loaded.insert(page + i as u32, p);
                }
            }
            let row = loaded
                .get(&page)
                .and_then(|p| R::of_page(p))
                .and_then(|rows| rows.get(at))
                .cloned()
                .ok_or_else(|| base.bad(format!("row {ordinal} is not in its page")))?;
            out.push(row);
        }
        Ok(out)
    }

    /// The row under `key`, if the view has one.
    pub(super) async fn row_by_key<R: ViewRow>(&self, key: Uuid) -> EngineResult<Option<R>> {
        let base_row = match self.base.ordinal(R::TABLE, key) {
            Some(o) => self.base_rows::<R>(&[o]).await?.into_iter().next(),
            None => None,
        };
        Ok(match self.changes_of(R::TABLE, key) {
            Some(changes) => resolve(key, base_row, changes),
            None => base_row,
        })
    }

    /// Rows `indices` (positions in key order; any order, each read once
    /// per mention), skipping indices past the end.
    pub(crate) async fn rows_in<R: ViewRow>(
        &self,
        indices: impl IntoIterator<Item = usize>,
    ) -> EngineResult<Vec<R>> {
        let slots: Vec<Slot> = indices
            .into_iter()
            .filter_map(|i| self.slot_of(R::TABLE, i))
            .collect();
        let ordinals: Vec<usize> = slots
            .iter()
            .filter_map(|s| match s {
                Slot::Base(o) => Some(*o),
                Slot::New(_) => None,
            })
            .collect();
        let mut base_rows = self.base_rows::<R>(&ordinals).await?.into_iter();
        let mut out = Vec::with_capacity(slots.len());
        for s in slots {
            let (key, base_row) = match s {
                Slot::Base(_) => {
                    let row = base_rows
                        .next()
                        .ok_or_else(|| self.base.bad("a base row went missing".into()))?;
                    (row.key(), Some(row))
                }
                Slot::New(key) => (key, None),
            };
            let row = match self.changes_of(R::TABLE, key) {
                Some(changes) => resolve(key, base_row, changes),
                None => base_row,
            };
            out.extend(row);
        }
        Ok(out)
    }

    /// Users rows `range` (in key order).
    pub async fn user_rows(&self, range: Range<usize>) -> EngineResult<Vec<UserRow>> {
        self.rows_in(range).await
    }

    /// Bookings rows `range` (in key order).
    pub async fn booking_rows(&self, range: Range<usize>) -> EngineResult<Vec<BookingRow>> {
        self.rows_in(range).await
    }

    /// Rows `range` (in key order) of the table of `R`.
    pub async fn rows<R: ViewRow>(&self, range: Range<usize>) -> EngineResult<Vec<R>> {
        self.rows_in(range).await
    }

    /// Rows `range` (in key order) of `table`, as display text.
    pub async fn row_cells(
        &self,
        table: Table,
        range: Range<usize>,
    ) -> EngineResult<Vec<RowCells>> {
        fn cells<R: Row>(rows: Vec<R>) -> Vec<RowCells> {
            rows.iter()
                .map(|r| RowCells {
                    key: r.key(),
                    cells: r.cells(),
                    last_position: r.last_position(),
                })
                .collect()
        }
        Ok(match table {
            Table::Users => cells(self.rows_in::<UserRow>(range).await?),
            Table::Bookings => cells(self.rows_in::<BookingRow>(range).await?),
        })
    }

    /// The row under `key` in the table of `R`, if the view has one.
    pub async fn row<R: ViewRow>(&self, key: Uuid) -> EngineResult<Option<R>> {
        self.row_by_key(key).await
    }

    pub(super) async fn all_rows<R: ViewRow>(&self) -> EngineResult<BTreeMap<Uuid, R>> {
        // Base rows come in key order, so this build is linear.
        let mut rows: BTreeMap<Uuid, R> = self
            .base
            .all_rows::<R>()
            .await?
            .into_iter()
            .map(|r| (r.key(), r))
            .collect();
        for (key, changes) in &self.changes[R::TABLE.slot()] {
            let base = rows.remove(key);
            if let Some(row) = resolve(*key, base, changes) {
                rows.insert(*key, row);
            }
        }
        Ok(rows)
    }

    /// Every row: the whole state (what a full fold to this position gives).
    pub async fn materialize(&self) -> EngineResult<ReadState> {
        Ok(ReadState {
            position: self.position,
            users: self.all_rows().await?,
            bookings: self.all_rows().await?,
        })
    }
}

/// Resolves every key the overlay touched, in key order.
fn touch<R: ViewRow>(base: &ViewBase, changes: &BTreeMap<Uuid, Vec<RowChange>>) -> Vec<Touched> {
    let entries = base.entries(R::TABLE);
    // The keys come in ascending order, so each is looked for after the
    // previous one, galloping: a few thousand keys in a directory of a
    // million cost a few nearby probes each instead of a full binary search
    // of cold memory each.
    let mut from = 0usize;
    changes
        .iter()
        .map(|(key, list)| {
            let at = from + gallop(&entries[from.min(entries.len())..], *key);
            from = at;
            let base_entry = entries.get(at).filter(|e| e.id() == *key).copied();
            Touched {
                key: *key,
                entry: entry_after::<R>(*key, base_entry, list),
                before: base_entry,
            }
        })
        .collect()
}

/// The directory entry of row `key` after `changes` (in order), from its
/// entry `before` them (None: no row).
pub(crate) fn entry_after<R: ViewRow>(
    key: Uuid,
    before: Option<DirEntry>,
    changes: &[RowChange],
) -> Option<DirEntry> {
    // Most keys are new rows inserted once: the row as inserted, as
    // `apply_change` would leave it, without a scratch state.
    match (before, changes) {
        (None, [RowChange::InsertUserIfAbsent(row)]) => Some(DirEntry::of_user(row)),
        (None, [RowChange::InsertBookingIfAbsent(row)]) => Some(DirEntry::of_booking(row)),
        _ => {
            let skeleton = before.map(|e| R::skeleton(key, e));
            resolve(key, skeleton, changes).map(|r| r.entry())
        }
    }
}

/// The number of entries before `key` in `entries` (sorted by id), found by
/// doubling steps from the start and then a binary search of the last step.
fn gallop(entries: &[DirEntry], key: Uuid) -> usize {
    let mut step = 1usize;
    let mut lo = 0usize;
    while lo + step <= entries.len() && entries[lo + step - 1].id() < key {
        lo += step;
        step *= 2;
    }
    let hi = (lo + step).min(entries.len());
    lo + entries[lo..hi].partition_point(|e| e.id() < key)
}
