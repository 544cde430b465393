//! The state over time, from one pass over the ledger that later calls
//! extend with the events written since.

use std::time::Instant;

use crate::domain::{Series, SeriesBy, SeriesFold};
use crate::engine::{Engine, EngineResult, JobControl, Phase};

/// Ledger entries read per page by the pass.
const SERIES_PAGE: usize = 5_000;

impl Engine {
    /// The derived state's totals per bucket, up to the head. The first call
    /// folds the ledger once; later calls fold only the entries after the
    /// last one folded, and fold again from zero when the ledger holds
    /// other entries than those (one was written below it, into a hole).
    /// The fold reports its progress to `job` (entries of this fold).
    pub async fn series(&self, by: SeriesBy, job: &JobControl) -> EngineResult<Series> {
        let mut pass = self.series.lock().await;
        for attempt in 0..2 {
            // A pass that crossed no hole folded every position up to its
            // own: nothing can have been written below it, and the head is
            // all there is to ask. Otherwise the ledger's count says.
            let gap_free = pass.entries == pass.position();
            let (head, stored) = if gap_free {
                (self.head().await?, None)
            } else {
                let census = self.stores.ledger.census().await?;
                (census.head, Some(census.positioned))
            };
            if head < pass.position() {
                *pass = SeriesFold::default();
            }
            if head > pass.position() {
                // In place: a failed or cancelled read leaves a pass over a
                // prefix of the ledger, which the next call goes on from.
                let after = pass.position();
                // Progress (of this fold: the new events only when the pass
                // goes on) from the start, then after every page.
                job.step(Phase::Reading, 0, head - after, Instant::now());
                self.scan_entries(after, head, SERIES_PAGE, job, |entry| match entry {
                    Ok(event) => pass.apply(&event),
                    Err(bad) => pass.skip(bad.position),
                })
                .await?;
            }
            // Entries committed into a hole after the count make the pass
            // hold more; one written into a hole the pass had crossed makes
            // the ledger hold more: fold again from zero, once.
            let Some(stored) = stored else { break };
            if pass.entries == stored || attempt == 1 {
                break;
            }
            tracing::info!(
                folded = pass.entries,
                stored,
                "the ledger holds other entries than the series pass folded: folding it again"
            );
            *pass = SeriesFold::default();
        }
        Ok(pass.series(by))
    }
}
