//! `PageCache`: a window onto a long list of rows (the timeline's ledger, a
//! time-travel state, a difference). Rows are fetched a page at a time, only
//! for the rows in view, and at most [`MAX_PAGES`] pages are kept, so a
//! million-row list costs a few thousand rows of memory.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use crate::store::LedgerEntry;

/// Rows per page.
pub const PAGE_ROWS: u64 = 100;
/// Pages kept in memory.
pub const MAX_PAGES: usize = 40;
/// A page whose fetch failed is not asked for again before this long.
pub const RETRY_AFTER: Duration = Duration::from_secs(3);

/// The page a row is on.
pub fn page_of(row: u64) -> u64 {
    row / PAGE_ROWS
}

/// The rows of a page, `first .. end`, clipped to a list of `len` rows.
pub fn page_range(page: u64, len: usize) -> std::ops::Range<usize> {
    let start = usize::try_from(page.saturating_mul(PAGE_ROWS)).unwrap_or(usize::MAX);
    let end = start.saturating_add(PAGE_ROWS as usize);
    start.min(len)..end.min(len)
}

/// Cached pages of one list, for one generation of it (a filter, a view).
pub struct PageCache<T = LedgerEntry> {
    /// Generation the pages belong to; answers for another one are dropped.
    pub generation: u64,
    pages: BTreeMap<u64, Vec<T>>,
    pending: BTreeSet<u64>,
    failed: BTreeMap<u64, Instant>,
    last_wanted: u64,
}

impl<T> Default for PageCache<T> {
    fn default() -> Self {
        PageCache {
            generation: 0,
            pages: BTreeMap::new(),
            pending: BTreeSet::new(),
            failed: BTreeMap::new(),
            last_wanted: 0,
        }
    }
}

impl<T> PageCache<T> {
    /// The entry at a row, if its page is loaded.
    pub fn row(&self, row: u64) -> Option<&T> {
        self.pages
            .get(&page_of(row))
            .and_then(|p| p.get((row % PAGE_ROWS) as usize))
    }

    /// True when the page is loaded, being fetched, or failed a moment ago
    /// (so a failing fetch is not repeated every frame).
    pub fn has_or_pending(&self, page: u64) -> bool {
        self.pages.contains_key(&page)
            || self.pending.contains(&page)
            || self
                .failed
                .get(&page)
                .is_some_and(|at| at.elapsed() < RETRY_AFTER)
    }

    /// True while any page is being fetched.
    pub fn any_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Marks a page as being fetched.
    pub fn mark_pending(&mut self, page: u64) {
        self.last_wanted = page;
        self.pending.insert(page);
    }

    /// Stores a fetched page, evicting the pages farthest from the last wanted one.
    pub fn insert(&mut self, page: u64, rows: Vec<T>) {
        self.pending.remove(&page);
        self.failed.remove(&page);
        self.pages.insert(page, rows);
        while self.pages.len() > MAX_PAGES {
            let center = self.last_wanted;
            let far = self
                .pages
                .keys()
                .copied()
                .max_by_key(|p| p.abs_diff(center));
            match far {
                Some(p) => {
                    self.pages.remove(&p);
                }
                None => break,
            }
        }
    }

    /// A fetch failed: allow it again after [`RETRY_AFTER`].
    pub fn failed(&mut self, page: u64) {
        self.pending.remove(&page);
        self.failed.insert(page, Instant::now());
    }

    /// Drops everything (new filter, new view).
    pub fn reset(&mut self, generation: u64) {
        self.generation = generation;
        self.pages.clear();
        self.pending.clear();
        self.failed.clear();
    }

    /// Drops the page holding `row` and every later one (new events arrived).
    pub fn invalidate_from(&mut self, row: u64) {
        let first = page_of(row);
        self.pages.retain(|p, _| *p < first);
    }

    /// Number of pages held.
    pub fn len(&self) -> usize {
        self.pages.len()
    }

    /// True when no page is held.
    pub fn is_empty(&self) -> bool {
        self.pages.is_empty()
    }

    /// True when every row of `rows` is loaded.
    pub fn has_rows(&self, rows: std::ops::Range<u64>) -> bool {
        let (first, last) = (page_of(rows.start), page_of(rows.end.saturating_sub(1)));
        rows.is_empty() || (first..=last).all(|p| self.pages.contains_key(&p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MalformedEvent;

    fn bad(position: u64) -> LedgerEntry {
        Err(MalformedEvent {
            position,
            reason: "x".into(),
            raw: String::new(),
        })
    }

    #[test]
    fn keeps_a_bounded_window_near_the_view() {
        let mut cache = PageCache::default();
        for page in 0..(MAX_PAGES as u64 + 20) {
            cache.mark_pending(page);
            cache.insert(
                page,
                (0..PAGE_ROWS)
                    .map(|i| bad(page * PAGE_ROWS + i + 1))
                    .collect(),
            );
        }
        assert_eq!(cache.len(), MAX_PAGES);
        assert!(cache.row(0).is_none(), "far pages are evicted");
        let last = (MAX_PAGES as u64 + 19) * PAGE_ROWS;
        assert!(cache.row(last).is_some());
        cache.invalidate_from(last);
        assert!(cache.row(last).is_none());
    }

    #[test]
    fn a_failed_page_is_not_asked_for_again_at_once() {
        let mut cache: PageCache<u32> = PageCache::default();
        cache.mark_pending(3);
        assert!(cache.any_pending());
        cache.failed(3);
        assert!(!cache.any_pending());
        assert!(cache.has_or_pending(3), "held off after a failure");
        cache.reset(1);
        assert!(!cache.has_or_pending(3), "a new generation starts clean");
        cache.mark_pending(0);
        cache.insert(0, vec![1, 2, 3]);
        assert!(cache.has_rows(0..3));
        assert!(!cache.has_rows(0..101));
        assert_eq!(page_range(0, 3), 0..3);
        assert_eq!(page_range(1, 150), 100..150);
        assert_eq!(page_range(2, 150), 150..150);
    }
}
