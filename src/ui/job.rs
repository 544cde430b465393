//! `Job`: one running piece of long work (replay, snapshot, bulk, import,
//! export) with its latest progress and a cancel flag.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use crate::ui::message::JobProgress;

/// A running job.
#[derive(Clone, Debug)]
pub struct Job {
    /// When it started.
    pub started: Instant,
    /// Latest progress.
    pub progress: JobProgress,
    /// Set to stop it.
    pub cancel: Arc<AtomicBool>,
    /// Whether it can be cancelled at all.
    pub cancellable: bool,
}

impl Job {
    /// A job that just started.
    pub fn new(cancellable: bool) -> Self {
        Job {
            started: Instant::now(),
            progress: JobProgress::default(),
            cancel: Arc::new(AtomicBool::new(false)),
            cancellable,
        }
    }

    /// Whether cancel was asked.
    pub fn cancel_requested(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}
