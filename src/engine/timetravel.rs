//! Time travel: the state as of any position, from the nearest snapshot (or the
//! last folded state) plus a fold of the events after it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::{Deserialize, Serialize};

use super::{Engine, EngineError, EngineResult};
use crate::domain::state::FoldOutcome;
use crate::domain::{ReadState, StateDiff};
use crate::store::{LedgerEntry, MalformedEvent, entry_position};

/// Events read per ledger page while folding.
pub const FOLD_PAGE: usize = 5_000;

/// Where a computed state started from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FoldBase {
    /// An empty state (position 0).
    Zero,
    /// A stored snapshot.
    Snapshot {
        /// Snapshot id.
        id: uuid::Uuid,
        /// Its position.
        position: u64,
    },
    /// A state this process folded earlier.
    Cached {
        /// Its position.
        position: u64,
    },
}

/// The state as of a position, and how it was computed.
#[derive(Clone, Debug)]
pub struct StateAt {
    /// The state.
    pub state: Arc<ReadState>,
    /// What it started from.
    pub base: FoldBase,
    /// Events folded on top of the base.
    pub folded_events: u64,
    /// Entries that could not be applied (malformed or unknown), by position.
    pub skipped: Vec<MalformedEvent>,
}

impl Engine {
    /// Folds ledger entries after `state.position` up to `to` into `state`.
    pub async fn fold_until(
        &self,
        mut state: ReadState,
        to: u64,
        cancel: Option<&AtomicBool>,
        mut on_event: impl FnMut(u64),
    ) -> EngineResult<(ReadState, u64, Vec<MalformedEvent>)> {
        let mut folded = 0;
        let mut skipped = Vec::new();
        while state.position < to {
            if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                return Err(EngineError::Cancelled);
            }
            let want = ((to - state.position) as usize).min(FOLD_PAGE);
            let entries = self
                .stores
                .ledger
                .read_range(state.position + 1, want)
                .await?;
            if entries.is_empty() {
                break;
            }
            for entry in entries {
                let position = entry_position(&entry);
                if position > to {
                    break;
                }
                folded += 1;
                match entry {
                    Ok(event) => {
                        if let FoldOutcome::Skipped(reason) = state.apply_event(&event) {
                            skipped.push(MalformedEvent {
                                position,
                                reason,
                                raw: String::new(),
                            });
                        }
                    }
                    Err(bad) => {
                        state.position = state.position.max(position);
                        skipped.push(bad);
                    }
                }
            }
            on_event(folded);
        }
        Ok((state, folded, skipped))
    }

    /// The state as of `position` (clamped to the head).
    pub async fn state_at(&self, position: u64) -> EngineResult<StateAt> {
        let head = self.stores.ledger.head().await?;
        let target = position.min(head);
        let snapshot = self
            .stores
            .snapshots
            .list_snapshots()
            .await?
            .into_iter()
            .filter(|s| s.position <= target)
            .max_by_key(|s| s.position);
        let cached = self.cached_fold().filter(|c| c.position <= target);
        let (base_state, base) = match (cached, snapshot) {
            (Some(c), s) if s.as_ref().is_none_or(|s| s.position <= c.position) => {
                let position = c.position;
                (c, FoldBase::Cached { position })
            }
            (_, Some(meta)) => {
                let state = self.load_snapshot_state(&meta).await?;
                (
                    state,
                    FoldBase::Snapshot {
                        id: meta.id,
                        position: meta.position,
                    },
                )
            }
            (_, None) => (Arc::new(ReadState::default()), FoldBase::Zero),
        };
        if base_state.position == target {
            return Ok(StateAt {
                state: base_state,
                base,
                folded_events: 0,
                skipped: Vec::new(),
            });
        }
        let (state, folded_events, skipped) = self
            .fold_until((*base_state).clone(), target, None, |_| {})
            .await?;
        let state = Arc::new(state);
        self.remember_fold(state.clone());
        Ok(StateAt {
            state,
            base,
            folded_events,
            skipped,
        })
    }

    /// Folds from zero with no snapshot or cache: the reference for checks.
    pub async fn fold_from_zero(&self, position: u64) -> EngineResult<ReadState> {
        Ok(self
            .fold_until(ReadState::default(), position, None, |_| {})
            .await?
            .0)
    }

    /// Row-level difference between the states at two positions.
    pub async fn diff_positions(&self, from: u64, to: u64) -> EngineResult<StateDiff> {
        let a = self.state_at(from).await?.state;
        let b = self.state_at(to).await?.state;
        Ok(a.diff(&b))
    }

    /// Reads one ledger page for the timeline.
    pub async fn ledger_page(&self, from: u64, limit: usize) -> EngineResult<Vec<LedgerEntry>> {
        Ok(self.stores.ledger.read_range(from, limit).await?)
    }
}
