//! Replay: read every event in order, fold it with the same pure projections,
//! bulk-load fresh tables and swap them in at once. Readers never see a half
//! built table; a crash or cancel leaves the previous tables intact.

use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::domain::{CompactFold, ProjectorId, ReadState, TableRows};
use crate::engine::holes::record_holes;
use crate::engine::job::{JobControl, Phase};
use crate::engine::timetravel::Folded;
use crate::engine::{Engine, EngineError, EngineResult, Pairing};
use crate::store::{BulkControl, Checkpoint, Hole, SnapshotMeta, StoreError};

/// What to rebuild the read tables from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayOptions {
    /// Start from the newest usable snapshot instead of from zero.
    pub from_snapshot: bool,
    /// The user confirmed replacing read tables built from another ledger,
    /// or with other schema versions of the models (`--rebuild-foreign`).
    pub rebuild_foreign: bool,
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
    /// The published models rebuilt after the built-in tables.
    #[serde(default)]
    pub published: Vec<String>,
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
    /// are only replaced when `options.rebuild_foreign` confirms it.
    /// Progress goes to `job`, from this task; cancelled, the old tables stay.
    pub async fn replay(
        &self,
        options: ReplayOptions,
        job: &JobControl,
    ) -> EngineResult<ReplayReport> {
        self.guard_write("replay")?;
        let ledger = self.ledger_id().await?;
        self.confirm_rebuild(options.rebuild_foreign).await?;
        let started = Instant::now();
        let head = self.stores.ledger.head().await?;
        let (base, snapshot) = if options.from_snapshot {
            job.step(Phase::Snapshot, 0, 1, started);
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
        let Folded {
            state: fold,
            events,
            skipped,
            holes,
        } = self
            .fold_until(CompactFold::from_state(base), head, job)
            .await?;
        // The keys sorted for the load; the fold's hash maps are dropped.
        let state = tokio::task::spawn_blocking(move || Arc::new(fold.finish()))
            .await
            .map_err(|e| StoreError::Failed {
                store: "replay".into(),
                message: format!("sorting the folded rows stopped: {e}"),
            })?;
        let rows = (state.user_count() + state.booking_count()) as u64;
        let load_started = Instant::now();
        let reporter = job.clone();
        let control = BulkControl {
            cancel: job.token().clone(),
            on_rows: Arc::new(move |done| reporter.step(Phase::Loading, done, rows, load_started)),
        };
        self.stores
            .read
            .replace_all(ledger, self.config.model_versions, state.clone(), control)
            .await
            .map_err(|e| match e {
                StoreError::Cancelled => EngineError::Cancelled,
                other => other.into(),
            })?;
        self.forget_pairing();
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
                Checkpoint::new(projector.name(), state.position(), &self.config.instance_id);
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
        // The published models are rebuilt from their definitions too.
        let published = self
            .rebuild_published()
            .await
            .map_err(|e| match e {
                crate::engine::models::ModelError::Store(s) => EngineError::Store(s),
                other => EngineError::Input(format!(
                    "the built-in tables are replayed, but the published models are not: {other}"
                )),
            })?
            .into_iter()
            .map(|r| r.model)
            .collect();
        job.step(Phase::Done, rows, rows, load_started);
        let report = ReplayReport {
            events,
            rows,
            position: state.position(),
            elapsed_ms: started.elapsed().as_millis() as u64,
            fold_ms: (load_started - started).as_millis() as u64,
            load_ms: load_started.elapsed().as_millis() as u64,
            from_snapshot: snapshot,
            skipped: skipped.len() as u64,
            holes,
            published,
        };
        tracing::info!(
            read = %self.read_info(),
            position = report.position,
            from_snapshot = report.from_snapshot.as_ref().map_or(0, |s| s.position),
            events = report.events,
            rows = report.rows,
            skipped = report.skipped,
            holes = report.holes.len(),
            fold_ms = report.fold_ms,
            load_ms = report.load_ms,
            "replayed the read tables"
        );
        Ok(report)
    }
}
