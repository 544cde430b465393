//! Reads of the ledger that the window and the command line share.

use std::sync::atomic::Ordering;

use super::{Engine, EngineResult};
use crate::store::{EventFilter, LedgerEntry, entry_position};

/// Matches read per page while listing a filtered ledger.
const LIST_PAGE: usize = 1_000;

impl Engine {
    /// The highest stored position.
    pub async fn head(&self) -> EngineResult<u64> {
        Ok(self.stores.ledger.head().await?)
    }

    /// Up to `limit` entries at or after position `from` matching `filter`,
    /// in position order (holes are skipped over, nothing after one is lost).
    pub async fn events(
        &self,
        from: u64,
        limit: usize,
        filter: &EventFilter,
    ) -> EngineResult<Vec<LedgerEntry>> {
        let ledger = &self.stores.ledger;
        if filter.is_empty() {
            return Ok(ledger.read_range(from.max(1), limit).await?);
        }
        // Page through the matches from the start, keeping positions >= from.
        let mut found = Vec::new();
        let mut offset = 0;
        loop {
            let page = ledger.search(filter, offset, LIST_PAGE).await?;
            let len = page.len();
            offset += len as u64;
            found.extend(page.into_iter().filter(|e| entry_position(e) >= from));
            if len < LIST_PAGE || found.len() >= limit {
                break;
            }
        }
        found.truncate(limit);
        Ok(found)
    }

    /// Whether positions 1..=head are all stored (then the unfiltered
    /// timeline's row `r` is position `r + 1`). Positions below a head once
    /// found gap-free stay so (the ledger is append-only), so only the
    /// positions past it are counted again.
    async fn gap_free_to(&self, head: u64) -> EngineResult<bool> {
        let known = self.gap_free_head.load(Ordering::Relaxed);
        if head <= known {
            return Ok(true);
        }
        let census = self.stores.ledger.census().await?;
        let gap_free = census.missing_positions() == 0;
        if gap_free {
            self.gap_free_head.fetch_max(census.head, Ordering::Relaxed);
        }
        Ok(gap_free && census.head >= head)
    }

    /// Rows of the timeline for `filter`: the stored events that match (a
    /// hole takes no rows; rows without a usable position are in none).
    pub async fn timeline_rows(&self, filter: &EventFilter) -> EngineResult<u64> {
        if !filter.is_empty() {
            return Ok(self.stores.ledger.count_matching(filter).await?);
        }
        let head = self.head().await?;
        if self.gap_free_to(head).await? {
            return Ok(head);
        }
        Ok(self.stores.ledger.census().await?.positioned)
    }

    /// Rows `offset .. offset + limit` of the timeline for `filter`.
    pub async fn timeline_page(
        &self,
        filter: &EventFilter,
        offset: u64,
        limit: usize,
    ) -> EngineResult<Vec<LedgerEntry>> {
        if filter.is_empty() && self.gap_free_to(offset + 1).await? {
            // Gap-free: a page by position, which every store reads by its index.
            return Ok(self.stores.ledger.read_range(offset + 1, limit).await?);
        }
        Ok(self.stores.ledger.search(filter, offset, limit).await?)
    }

    /// The unfiltered timeline's row of the event at `position`.
    pub async fn timeline_row_of(&self, position: u64) -> EngineResult<u64> {
        if self.gap_free_to(position).await? {
            return Ok(position.saturating_sub(1));
        }
        let before = EventFilter {
            before_position: Some(position),
            ..EventFilter::default()
        };
        Ok(self.stores.ledger.count_matching(&before).await?)
    }
}
