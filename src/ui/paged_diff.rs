//! `PagedViewDiff`: a difference between two lazy state views (time
//! travel's cursor and its reference, Compare's two positions) whose rows
//! are shown a page at a time, per table, in the order asked for.
//!
//! A difference reads from its first state to its second: older -> newer
//! unless it was swapped, whichever position was typed or pinned first.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::domain::Table;
use crate::engine::view::{StateView, ViewDiff};
use crate::engine::view_order::RowQuery;
use crate::engine::{EngineError, EngineResult};
use crate::ui::page_cache::PageCache;
use crate::ui::widgets::table::paged::{LazyRow, LazyRows, PagedTable, order_now};

static GENERATION: AtomicU64 = AtomicU64::new(1);

/// A number no earlier view or difference had: pages carry it, so a page of
/// an old one is never shown for a new one.
pub fn next_generation() -> u64 {
    GENERATION.fetch_add(1, Ordering::Relaxed)
}

/// A difference and, per table, its display order and the pages read.
pub struct PagedViewDiff {
    /// The difference (keys only).
    pub diff: Arc<ViewDiff>,
    /// Per table ([`Table::slot`]).
    tables: [PagedTable; 2],
    /// (added, removed, changed) per table, counted once: a frame must not
    /// walk every differing key.
    counts: [(usize, usize, usize); 2],
}

impl std::fmt::Debug for PagedViewDiff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PagedViewDiff")
            .field("from", &self.from())
            .field("to", &self.to())
            .field("counts", &self.counts)
            .finish_non_exhaustive()
    }
}

impl PagedViewDiff {
    /// Wraps a difference and its two tables (made by
    /// [`crate::ui::widgets::table::paged::order_now`]); counts every
    /// differing key: make it off the window's thread.
    pub fn new(diff: Arc<ViewDiff>, tables: [PagedTable; 2]) -> Self {
        let counts = Table::ALL.map(|t| diff.counts(t));
        PagedViewDiff {
            diff,
            tables,
            counts,
        }
    }

    /// The first state's position.
    pub fn from(&self) -> u64 {
        self.diff.before.position()
    }

    /// The second state's position.
    pub fn to(&self) -> u64 {
        self.diff.after.position()
    }

    /// It reads from the newer state to the older.
    pub fn is_backwards(&self) -> bool {
        self.from() > self.to()
    }

    /// What its rows are: (added, removed, changed), e.g. `added by 1200`.
    pub fn label_texts(&self) -> [String; 3] {
        let (from, to) = (self.from(), self.to());
        if self.is_backwards() {
            [
                format!("only at {to}"),
                format!("only at {from}"),
                "changed".into(),
            ]
        } else {
            [
                format!("added by {to}"),
                format!("gone by {to}"),
                "changed".into(),
            ]
        }
    }

    /// `from 1000 to 1200 (older -> newer)`.
    pub fn direction_text(&self) -> String {
        let way = if self.is_backwards() {
            "newer -> older"
        } else {
            "older -> newer"
        };
        format!("from {} to {} ({way})", self.from(), self.to())
    }

    /// Differing rows in a table.
    pub fn len(&self, table: Table) -> usize {
        self.diff.len(table)
    }

    /// (added, removed, changed) in a table.
    pub fn counts(&self, table: Table) -> (usize, usize, usize) {
        self.counts[table.slot()]
    }

    /// `users: +1 −0 ~2   bookings: +3 −0 ~0`.
    pub fn counts_text(&self) -> String {
        Table::ALL
            .iter()
            .map(|t| {
                let (a, r, c) = self.counts(*t);
                format!("{}: +{a} −{r} ~{c}", t.name())
            })
            .collect::<Vec<_>>()
            .join("   ")
    }

    /// One table's order and pages.
    pub fn table(&self, table: Table) -> &PagedTable {
        &self.tables[table.slot()]
    }

    /// One table's order and pages, to change.
    pub fn table_mut(&mut self, table: Table) -> &mut PagedTable {
        &mut self.tables[table.slot()]
    }

    /// The pages of a table read so far.
    pub fn pages(&self, table: Table) -> &PageCache<LazyRow> {
        self.table(table).pages()
    }
}

/// Compares two views off the async workers (a merge over every key of both
/// directories: about a million at a million events).
pub async fn view_diff(
    before: Arc<StateView>,
    after: Arc<StateView>,
) -> EngineResult<Arc<ViewDiff>> {
    tokio::task::spawn_blocking(move || Arc::new(ViewDiff::new(before, after)))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "comparing two states panicked");
            EngineError::Crashed("comparing the states".into())
        })
}

/// A difference ready to show: computed from `first` to `second`, each
/// table ordered for its query in `queries` when that is cheap, counted,
/// off the window's thread.
pub async fn paged_view_diff(
    first: Arc<StateView>,
    second: Arc<StateView>,
    queries: &[RowQuery; 2],
) -> EngineResult<PagedViewDiff> {
    let diff = view_diff(first, second).await?;
    let rows = |table| LazyRows::Diff {
        diff: diff.clone(),
        table,
    };
    let users = order_now(rows(Table::Users), &queries[0]).await?;
    let bookings = order_now(rows(Table::Bookings), &queries[1]).await?;
    tokio::task::spawn_blocking(move || PagedViewDiff::new(diff, [users, bookings]))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "counting a difference panicked");
            EngineError::Crashed("counting the difference".into())
        })
}
