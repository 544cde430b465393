//! `PageCache`: the timeline's window onto the ledger. Rows are fetched a page
//! at a time, only for the rows in view, and at most [`MAX_PAGES`] pages are
//! kept, so a million-event ledger costs a few hundred rows of memory.

use std::collections::{BTreeMap, BTreeSet};

use crate::store::LedgerEntry;

/// Rows per page.
pub const PAGE_ROWS: u64 = 100;
/// Pages kept in memory.
pub const MAX_PAGES: usize = 40;

/// Cached pages for one filter generation.
#[derive(Default)]
pub struct PageCache {
    /// Filter generation the pages belong to.
    pub generation: u64,
    pages: BTreeMap<u64, Vec<LedgerEntry>>,
    pending: BTreeSet<u64>,
    last_wanted: u64,
}

impl PageCache {
    /// The page a row is on.
    pub fn page_of(row: u64) -> u64 {
        row / PAGE_ROWS
    }

    /// The entry at a row, if its page is loaded.
    pub fn row(&self, row: u64) -> Option<&LedgerEntry> {
        self.pages
            .get(&Self::page_of(row))
            .and_then(|p| p.get((row % PAGE_ROWS) as usize))
    }

    /// True when the page is loaded or being fetched.
    pub fn has_or_pending(&self, page: u64) -> bool {
        self.pages.contains_key(&page) || self.pending.contains(&page)
    }

    /// Marks a page as being fetched.
    pub fn mark_pending(&mut self, page: u64) {
        self.last_wanted = page;
        self.pending.insert(page);
    }

    /// Stores a fetched page, evicting the pages farthest from the last wanted one.
    pub fn insert(&mut self, page: u64, rows: Vec<LedgerEntry>) {
        self.pending.remove(&page);
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

    /// A fetch failed: allow it again later.
    pub fn failed(&mut self, page: u64) {
        self.pending.remove(&page);
    }

    /// Drops everything (new filter).
    pub fn reset(&mut self, generation: u64) {
        self.generation = generation;
        self.pages.clear();
        self.pending.clear();
    }

    /// Drops the page holding `row` and every later one (new events arrived).
    pub fn invalidate_from(&mut self, row: u64) {
        let first = Self::page_of(row);
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
}
