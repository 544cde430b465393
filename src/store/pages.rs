//! Reading a ledger page by page in position order, each entry once.

use super::{EventLedger, LedgerEntry, StoreResult, entry_position, next_from};

/// A reader of a ledger's pages from a position on: every page holds only
/// entries at or after where the reader stood, and the reader never asks
/// for a position twice (a store that answers out of order ends it).
#[derive(Debug)]
pub struct PageReader {
    from: u64,
    size: usize,
    done: bool,
}

impl PageReader {
    /// A reader from position `from`, `size` entries a page.
    pub fn new(from: u64, size: usize) -> Self {
        Self {
            from,
            size,
            done: false,
        }
    }

    /// The next page, or `None` when nothing more is stored.
    pub async fn next(
        &mut self,
        ledger: &dyn EventLedger,
    ) -> StoreResult<Option<Vec<LedgerEntry>>> {
        if self.done {
            return Ok(None);
        }
        let mut page = ledger.read_range(self.from, self.size).await?;
        let Some(next) = next_from(self.from, &page) else {
            self.done = true;
            return Ok(None);
        };
        let asked = std::mem::replace(&mut self.from, next);
        page.retain(|e| entry_position(e) >= asked);
        Ok(Some(page))
    }

    /// The highest position read so far (0 before the first page).
    pub fn read_up_to(&self) -> u64 {
        self.from.saturating_sub(1)
    }
}
