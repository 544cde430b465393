//! `TravelView`: the state as of the cursor (a lazy view whose rows are
//! read a page at a time, in the order asked for) and its difference to the
//! reference, from the older of the two positions to the newer.

use std::sync::Arc;

use crate::domain::Table;
use crate::domain::state::StateCounts;
use crate::engine::view::StateView;
use crate::ui::paged_diff::PagedViewDiff;
use crate::ui::widgets::table::paged::PagedTable;

/// The state as of the cursor and its difference to the reference.
pub struct TravelView {
    /// Position of the state.
    pub position: u64,
    /// The state: a snapshot's directory plus the events after it.
    pub view: Arc<StateView>,
    /// Its counts.
    pub counts: StateCounts,
    /// The reference's position and the difference between the two states
    /// (older -> newer, or the other way when swapped).
    pub diff: Option<(u64, PagedViewDiff)>,
    /// How the state was computed (for the status line).
    pub base: String,
    /// Time to compute it.
    pub elapsed_ms: u64,
    /// The state's rows per table ([`Table::slot`]).
    state: [PagedTable; 2],
    /// The state one position earlier, when the cursor came from there (a
    /// step reads its rows in it instead of computing it again).
    pub(super) previous: Option<Arc<StateView>>,
}

impl std::fmt::Debug for TravelView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TravelView")
            .field("position", &self.position)
            .field("counts", &self.counts)
            .field("diff", &self.diff)
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl TravelView {
    /// A view just computed for the cursor at `position`, its tables in
    /// the order of `state`; no rows read yet.
    pub fn new(
        position: u64,
        view: Arc<StateView>,
        state: [PagedTable; 2],
        diff: Option<(u64, PagedViewDiff)>,
        base: String,
        elapsed_ms: u64,
    ) -> Self {
        TravelView {
            position,
            counts: view.counts().clone(),
            view,
            diff,
            base,
            elapsed_ms,
            state,
            previous: None,
        }
    }

    /// Rows in a table of the state.
    pub fn len(&self, table: Table) -> usize {
        self.view.len(table)
    }

    /// A table of the state: its order and the pages read.
    pub fn state(&self, table: Table) -> &PagedTable {
        &self.state[table.slot()]
    }

    /// A table of the state (`diff` false) or of the difference.
    pub fn table(&self, diff: bool, table: Table) -> Option<&PagedTable> {
        if diff {
            self.diff.as_ref().map(|(_, d)| d.table(table))
        } else {
            Some(&self.state[table.slot()])
        }
    }

    /// The same, to change.
    pub(super) fn table_mut(&mut self, diff: bool, table: Table) -> Option<&mut PagedTable> {
        if diff {
            self.diff.as_mut().map(|(_, d)| d.table_mut(table))
        } else {
            Some(&mut self.state[table.slot()])
        }
    }

    /// True when the table shows real rows for display rows `rows`
    /// (clipped to the rows shown): the state's rows when `show_state`, else
    /// the difference's.
    pub fn rows_loaded(&self, table: Table, show_state: bool, rows: std::ops::Range<u64>) -> bool {
        self.table(!show_state, table)
            .is_some_and(|t| t.has_rows(rows))
    }
}
