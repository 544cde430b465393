//! Reads of the ledger that the window and the command line share.

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
}
