//! What-if replays: the state as of a position as if some events had never
//! happened, beside the real one. A simulation: nothing is written to the
//! ledger, the read tables or the snapshots.

use std::sync::Arc;

use crate::domain::state::StateCounts;
use crate::domain::whatif::counts_and_revenue;
use crate::domain::{Divergence, Exclusion, NoOp, ReadState, StateDiff, WhatIfFold};
use crate::engine::timetravel::FoldBase;
use crate::engine::{Engine, EngineError, EngineResult, JobControl};
use crate::store::{EventFilter, entry_position};

/// Ledger entries read per page by the simulation.
const WHATIF_PAGE: usize = 5_000;

/// A simulation's answer.
#[derive(Clone, Debug)]
pub struct WhatIfReport {
    /// The position both states are as of.
    pub at: u64,
    /// The first position left out (`None`: nothing up to `at` matched).
    pub first_excluded: Option<u64>,
    /// The state as if the left-out events had never happened.
    pub simulated: Arc<ReadState>,
    /// The real state's rows where it can differ from the simulated one
    /// (the rest of it is the simulated state).
    pub divergence: Arc<Divergence>,
    /// The real state's row counts (counted once, not per frame).
    pub real_counts: StateCounts,
    /// The simulated state's row counts.
    pub simulated_counts: StateCounts,
    /// The real state's revenue of confirmed bookings, in cents.
    pub real_revenue_cents: i64,
    /// The simulated state's revenue of confirmed bookings, in cents.
    pub simulated_revenue_cents: i64,
    /// Positions left out.
    pub excluded: Vec<u64>,
    /// Later events that became no-ops because of it.
    pub no_ops: Vec<NoOp>,
    /// From the real state to the simulated one.
    pub difference: StateDiff,
    /// What the simulation started from (the real state just before the
    /// first left-out event).
    pub base: FoldBase,
    /// Events the simulation folded.
    pub folded_events: u64,
}

impl WhatIfReport {
    /// The whole real state (a copy of the simulated one with the rows
    /// that differ put back: for a digest, not for every frame).
    pub fn real_state(&self) -> ReadState {
        self.divergence.real_state(&self.simulated)
    }
}

impl Engine {
    /// The first position `exclusion` leaves out, looked up in the ledger
    /// for aggregates and types.
    async fn first_excluded(&self, exclusion: &Exclusion) -> EngineResult<Option<u64>> {
        let mut first = exclusion.first_named_position();
        for aggregate in &exclusion.aggregates {
            let stream = self.stores.ledger.stream(*aggregate).await?;
            first = first
                .into_iter()
                .chain(stream.iter().map(entry_position).min())
                .min();
        }
        for event_type in &exclusion.event_types {
            let filter = EventFilter {
                event_type: Some(event_type.clone()),
                ..EventFilter::default()
            };
            let found = self.stores.ledger.search(&filter, 0, 1).await?;
            first = first
                .into_iter()
                .chain(found.iter().map(entry_position))
                .min();
        }
        Ok(first)
    }

    /// The state as of `at` (at most the head) as if the events
    /// `exclusion` names had never happened: the real state just before the
    /// first of them (from the nearest snapshot) with the events after it
    /// folded once, leaving those out; the real state as of `at` is the
    /// rows those events touched, folded beside it (see [`WhatIfFold`]).
    pub async fn what_if(
        &self,
        exclusion: &Exclusion,
        at: u64,
        job: &JobControl,
    ) -> EngineResult<WhatIfReport> {
        let head = self.head().await?;
        if at > head {
            return Err(EngineError::Input(format!(
                "position {at} is past the head of the ledger ({head})"
            )));
        }
        let first = self.first_excluded(exclusion).await?.filter(|p| *p <= at);
        let Some(first) = first else {
            let real = self.state_at(at).await?;
            let (counts, revenue_cents) = counts_and_revenue(&real.state);
            let divergence = Divergence::default();
            return Ok(WhatIfReport {
                at,
                first_excluded: None,
                difference: divergence.difference(&real.state),
                divergence: Arc::new(divergence),
                simulated: real.state,
                real_counts: counts.clone(),
                simulated_counts: counts,
                real_revenue_cents: revenue_cents,
                simulated_revenue_cents: revenue_cents,
                excluded: Vec::new(),
                no_ops: Vec::new(),
                base: real.base,
                folded_events: 0,
            });
        };
        let before = self.state_at(first - 1).await?;
        let mut fold = WhatIfFold::new(Arc::unwrap_or_clone(before.state));
        let scan = self
            .scan_entries(first - 1, at, WHATIF_PAGE, job, |entry| match entry {
                Ok(event) => fold.apply(&event, exclusion),
                Err(bad) => fold.skip(bad.position, exclusion),
            })
            .await?;
        fold.state.position = at;
        let (simulated_counts, simulated_revenue_cents) = counts_and_revenue(&fold.state);
        Ok(WhatIfReport {
            at,
            first_excluded: Some(first),
            real_counts: fold.divergence.real_counts(&fold.state, &simulated_counts),
            simulated_counts,
            real_revenue_cents: fold
                .divergence
                .real_revenue_cents(&fold.state, simulated_revenue_cents),
            simulated_revenue_cents,
            difference: fold.divergence.difference(&fold.state),
            divergence: Arc::new(fold.divergence),
            simulated: Arc::new(fold.state),
            excluded: fold.excluded,
            no_ops: fold.no_ops,
            base: before.base,
            folded_events: scan.entries,
        })
    }
}
