//! Replay: read every event in order, fold it with the same pure projections,
//! bulk-load fresh tables and swap them in at once. Readers never see a half
//! built table; a crash or cancel leaves the previous tables intact.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::holes::record_holes;
use super::timetravel::Folded;
use super::{Engine, EngineError, EngineResult, Pairing};
use crate::domain::{ProjectorId, ReadState};
use crate::store::{BulkControl, Checkpoint, Hole, SnapshotMeta, StoreError};

/// Which part of a replay is running.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplayPhase {
    /// Loading the snapshot to start from.
    Snapshot,
    /// Reading and folding events.
    Reading,
    /// Writing fresh tables.
    Loading,
    /// Finished and swapped.
    Done,
}

/// Progress of a replay, for bars with rate and ETA.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReplayProgress {
    /// Current phase.
    pub phase: ReplayPhase,
    /// Units done in this phase (events while reading, rows while loading).
    pub done: u64,
    /// Units in this phase.
    pub total: u64,
    /// Units per second so far in this phase.
    pub rate_per_sec: f64,
    /// Seconds left in this phase at that rate.
    pub eta_secs: Option<f64>,
}

/// What a replay did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayReport {
    /// Events folded (after the snapshot, if one was used).
    pub events: u64,
    /// Rows written.
    pub rows: u64,
    /// Position the new tables reflect.
    pub position: u64,
    /// Wall time.
    pub elapsed_ms: u64,
    /// Of which: reading and folding the events (snapshot load included).
    #[serde(default)]
    pub fold_ms: u64,
    /// Of which: writing the rows into the read store.
    #[serde(default)]
    pub load_ms: u64,
    /// Snapshot started from, if any.
    pub from_snapshot: Option<SnapshotMeta>,
    /// Entries skipped as malformed or unknown.
    pub skipped: u64,
    /// Holes crossed (positions with no event below the head).
    #[serde(default)]
    pub holes: Vec<Hole>,
}

fn progress(phase: ReplayPhase, done: u64, total: u64, started: Instant) -> ReplayProgress {
    let secs = started.elapsed().as_secs_f64().max(1e-6);
    let rate = done as f64 / secs;
    ReplayProgress {
        phase,
        done,
        total,
        rate_per_sec: rate,
        eta_secs: (rate > 0.0).then(|| total.saturating_sub(done) as f64 / rate),
    }
}

impl Engine {
    /// Refuses to write over read tables of another ledger unless
    /// `rebuild_foreign` confirms it (the user was shown both ledgers).
    pub(crate) async fn confirm_rebuild(&self, rebuild_foreign: bool) -> EngineResult<()> {
        match self.check_pairing().await? {
            Pairing::Foreign(foreign) if !rebuild_foreign => {
                Err(EngineError::Foreign(Box::new(foreign)))
            }
            _ => Ok(()),
        }
    }

    /// Rebuilds the read tables from the ledger (optionally starting at the
    /// newest snapshot), stamped with this ledger. Tables of another ledger
    /// are only replaced when `rebuild_foreign` confirms it. `on_progress`
    /// is called from this task.
    pub async fn replay(
        &self,
        from_snapshot: bool,
        rebuild_foreign: bool,
        cancel: Arc<AtomicBool>,
        on_progress: Arc<dyn Fn(ReplayProgress) + Send + Sync>,
    ) -> EngineResult<ReplayReport> {
        self.guard_write("replay")?;
        let ledger = self.ledger_id().await?;
        self.confirm_rebuild(rebuild_foreign).await?;
        let started = Instant::now();
        let head = self.stores.ledger.head().await?;
        let (base, snapshot) = if from_snapshot {
            on_progress(progress(ReplayPhase::Snapshot, 0, 1, started));
            let newest = self
                .usable_snapshots()
                .await?
                .into_iter()
                .filter(|s| s.position <= head)
                .max_by_key(|s| s.position);
            match newest {
                Some(meta) => (self.load_snapshot_state(&meta).await?, Some(meta)),
                None => (ReadState::default(), None),
            }
        } else {
            (ReadState::default(), None)
        };
        let base_position = base.position;
        let total = head.saturating_sub(base_position);
        let phase_started = Instant::now();
        let progress_fn = on_progress.clone();
        let Folded {
            state,
            events,
            skipped,
            holes,
        } = self
            .fold_until(base, head, Some(&cancel), |done| {
                progress_fn(progress(ReplayPhase::Reading, done, total, phase_started));
            })
            .await?;
        let state = Arc::new(state);
        let rows = (state.users.len() + state.bookings.len()) as u64;
        let load_started = Instant::now();
        let progress_fn = on_progress.clone();
        let control = BulkControl {
            cancel: cancel.clone(),
            on_rows: Arc::new(move |done| {
                progress_fn(progress(ReplayPhase::Loading, done, rows, load_started))
            }),
        };
        self.stores
            .read
            .replace_all(ledger, state.clone(), control)
            .await
            .map_err(|e| match e {
                StoreError::Cancelled => EngineError::Cancelled,
                other => other.into(),
            })?;
        self.forget_pairing();
        self.remember_fold(state.clone());
        // The projectors' checkpoints say what the replay skipped and
        // crossed, as theirs would have.
        let skipped_positions: Vec<u64> = skipped.iter().map(|s| s.position).collect();
        for projector in ProjectorId::ALL {
            let mut recorded = self
                .stores
                .checkpoints
                .load_checkpoint(projector.name())
                .await?
                .map(|c| c.holes)
                .unwrap_or_default();
            record_holes(&mut recorded, &holes);
            let mut checkpoint =
                Checkpoint::new(projector.name(), state.position, &self.config.instance_id);
            checkpoint.skipped = skipped_positions
                .iter()
                .rev()
                .take(200)
                .rev()
                .copied()
                .collect();
            checkpoint.holes = recorded;
            self.stores.checkpoints.save_checkpoint(&checkpoint).await?;
        }
        on_progress(progress(ReplayPhase::Done, rows, rows, load_started));
        Ok(ReplayReport {
            events,
            rows,
            position: state.position,
            elapsed_ms: started.elapsed().as_millis() as u64,
            fold_ms: (load_started - started).as_millis() as u64,
            load_ms: load_started.elapsed().as_millis() as u64,
            from_snapshot: snapshot,
            skipped: skipped.len() as u64,
            holes,
        })
    }
}
