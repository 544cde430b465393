//! Long work (replay, verify, bulk generation, export, import, snapshot passes):
//! one progress type and one way to cancel, for the window's progress bars,
//! the CLI's progress lines and the log.

use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

/// Which part of a long job is running.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Loading the snapshot to start from.
    Snapshot,
    /// Reading and folding events.
    Reading,
    /// Writing rows into fresh tables.
    Loading,
    /// Running commands (bulk generation).
    Commands,
    /// Writing the ledger to a file.
    Exporting,
    /// Appending a file's events.
    Importing,
    /// Saving snapshots.
    Saving,
    /// Comparing the read tables with the ledger (rows compared plus
    /// ledger entries checked).
    Comparing,
    /// Finished.
    Done,
}

impl Phase {
    /// How the phase reads in a progress line.
    pub fn label(self) -> &'static str {
        match self {
            Phase::Snapshot => "loading the snapshot",
            Phase::Reading => "reading and folding events",
            Phase::Loading => "writing rows",
            Phase::Commands => "running commands",
            Phase::Exporting => "exporting",
            Phase::Importing => "importing",
            Phase::Saving => "saving snapshots",
            Phase::Comparing => "comparing the read tables with the ledger",
            Phase::Done => "done",
        }
    }
}

/// How far a long job is, for bars with rate and ETA.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// Current phase.
    pub phase: Phase,
    /// Units done in this phase (events, rows, commands).
    pub done: u64,
    /// Units in this phase.
    pub total: u64,
    /// Units per second so far in this phase.
    pub rate_per_sec: f64,
    /// Seconds left in this phase at that rate.
    pub eta_secs: Option<f64>,
}

impl Progress {
    /// `done` of `total` in `phase`, which started at `started`.
    pub fn of(phase: Phase, done: u64, total: u64, started: Instant) -> Self {
        let rate = done as f64 / started.elapsed().as_secs_f64().max(1e-6);
        Progress {
            phase,
            done,
            total,
            rate_per_sec: rate,
            eta_secs: (rate > 0.0 && total > 0).then(|| total.saturating_sub(done) as f64 / rate),
        }
    }
}

/// What a long job is given: a token to cancel it (it stops between steps;
/// what it had not finished is left as it was) and where its progress goes.
#[derive(Clone)]
pub struct JobControl {
    cancel: CancellationToken,
    on_progress: Arc<dyn Fn(&Progress) + Send + Sync>,
}

impl Default for JobControl {
    fn default() -> Self {
        JobControl::new(|_| {})
    }
}

impl std::fmt::Debug for JobControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobControl")
            .field("cancelled", &self.is_cancelled())
            .finish_non_exhaustive()
    }
}

impl JobControl {
    /// A job reporting to `on_progress`, not cancelled.
    pub fn new(on_progress: impl Fn(&Progress) + Send + Sync + 'static) -> Self {
        JobControl {
            cancel: CancellationToken::new(),
            on_progress: Arc::new(on_progress),
        }
    }

    /// The same, stopped by `cancel` (e.g. a shutdown token's child).
    pub fn with_cancel(mut self, cancel: CancellationToken) -> Self {
        self.cancel = cancel;
        self
    }

    /// Asks the job to stop.
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    /// Whether it was asked to stop.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// The token (for store calls that check it between steps).
    pub fn token(&self) -> &CancellationToken {
        &self.cancel
    }

    /// Reports progress.
    pub fn report(&self, progress: &Progress) {
        (self.on_progress)(progress);
    }

    /// Reports `done` of `total` in `phase`, started at `started`.
    pub fn step(&self, phase: Phase, done: u64, total: u64, started: Instant) {
        self.report(&Progress::of(phase, done, total, started));
    }
}
