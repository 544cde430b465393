//! `PagedViewDiff`: a difference between two lazy state views (time travel's
//! cursor against its reference, Compare's two positions) whose rows are
//! read a page at a time for the rows in view.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::domain::{RowDiff, Table};
use crate::engine::view::{StateView, ViewDiff};
use crate::engine::{EngineError, EngineResult};
use crate::ui::page_cache::{PageCache, page_range};
use crate::ui::widgets::diff_table::PagedDiff;

static GENERATION: AtomicU64 = AtomicU64::new(1);

/// A number no earlier view or difference had: pages carry it, so a page of
/// an old one is never shown for a new one.
pub fn next_generation() -> u64 {
    GENERATION.fetch_add(1, Ordering::Relaxed)
}

/// A difference and the pages of its rows read so far.
pub struct PagedViewDiff {
    /// The difference (keys only).
    pub diff: Arc<ViewDiff>,
    /// Pages per table ([`Table::slot`]).
    pages: [PageCache<Option<RowDiff>>; 2],
    /// (added, removed, changed) per table, counted once: a frame must not
    /// walk every differing key.
    counts: [(usize, usize, usize); 2],
}

impl std::fmt::Debug for PagedViewDiff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PagedViewDiff")
            .field("counts", &self.counts)
            .finish_non_exhaustive()
    }
}

impl PagedViewDiff {
    /// Wraps a difference; no rows read yet.
    pub fn new(diff: Arc<ViewDiff>) -> Self {
        let generation = next_generation();
        let mut pages = [PageCache::default(), PageCache::default()];
        for cache in &mut pages {
            cache.reset(generation);
        }
        let counts = Table::ALL.map(|t| diff.counts(t));
        PagedViewDiff {
            diff,
            pages,
            counts,
        }
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

    /// The pages of a table.
    pub fn pages(&self, table: Table) -> &PageCache<Option<RowDiff>> {
        &self.pages[table.slot()]
    }

    /// One table, for [`crate::ui::widgets::diff_table::paged_diff_ui`].
    pub fn source(&self, table: Table) -> PagedDiff<'_> {
        PagedDiff {
            table: table.name(),
            columns: table.columns(),
            len: self.len(table),
            pages: self.pages(table),
        }
    }

    /// Marks a page as asked for and hands back what reading it needs, or
    /// `None` when it is held, being read, or failed a moment ago.
    pub fn want(&mut self, table: Table, page: u64) -> Option<(Arc<ViewDiff>, u64)> {
        let cache = &mut self.pages[table.slot()];
        if cache.has_or_pending(page) {
            return None;
        }
        cache.mark_pending(page);
        Some((self.diff.clone(), cache.generation))
    }

    /// A page arrived: `None` when it is for another difference (dropped),
    /// else whether it was read.
    pub fn arrive(
        &mut self,
        generation: u64,
        table: Table,
        page: u64,
        result: EngineResult<Vec<Option<RowDiff>>>,
    ) -> Option<EngineResult<()>> {
        let cache = &mut self.pages[table.slot()];
        if cache.generation != generation {
            return None;
        }
        Some(match result {
            Ok(rows) => {
                cache.insert(page, rows);
                Ok(())
            }
            Err(error) => {
                cache.failed(page);
                Err(error)
            }
        })
    }
}

/// Reads one page of a difference's rows.
pub async fn read_page(
    diff: Arc<ViewDiff>,
    table: Table,
    page: u64,
) -> EngineResult<Vec<Option<RowDiff>>> {
    diff.page(table, page_range(page, diff.len(table))).await
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
