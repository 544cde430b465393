//! The asynchronous `EventBus`: committed events go out after the ledger write
//! returns, together with engine notices (projections applied, snapshots,
//! errors) for the GUI. Both channels are bounded broadcasts: a slow listener
//! lags and catches up from the ledger, it never holds up a command.

use std::sync::Arc;

use tokio::sync::broadcast;

use crate::domain::{ProjectorId, StoredEvent};
use crate::store::{Hole, SnapshotMeta};

/// Something the engine did that a screen may want to show.
#[derive(Clone, Debug, PartialEq)]
pub enum EngineNotice {
    /// A projector applied events up to `position` and saved its checkpoint.
    ProjectionApplied {
        /// Which projector.
        projector: ProjectorId,
        /// First position of the batch.
        from: u64,
        /// Last position of the batch (its new checkpoint).
        position: u64,
        /// Time to write the rows and position to the read store.
        apply_micros: u64,
        /// Time to record the checkpoint in the ledger store.
        checkpoint_micros: u64,
    },
    /// A projector failed and will retry.
    ProjectorFailed {
        /// Which projector.
        projector: ProjectorId,
        /// The error.
        message: String,
    },
    /// A projector's settings or state changed (pause, lease).
    ProjectorChanged(ProjectorId),
    /// A projector recorded a hole in positions and moved past it.
    HoleCrossed {
        /// Which projector.
        projector: ProjectorId,
        /// The missing positions.
        hole: Hole,
    },
    /// A snapshot was stored.
    SnapshotTaken(SnapshotMeta),
    /// Snapshots a newer history snapshot made redundant were deleted
    /// ([`crate::engine::cold`]: the retention rule).
    SnapshotsRetired(Vec<uuid::Uuid>),
    /// The automatic history pass over a cold ledger read this far
    /// ([`crate::engine::cold`]); its snapshot comes as `SnapshotTaken`, a failure as
    /// `SnapshotFailed`.
    HistoryPass(crate::engine::Progress),
    /// An automatic snapshot failed (it is retried after the next events).
    SnapshotFailed(String),
    /// The simulated read-store outage was switched on or off.
    OutageSimulation(bool),
}

/// The bus: one channel for events, one for notices.
#[derive(Clone)]
pub struct EventBus {
    events: broadcast::Sender<Arc<StoredEvent>>,
    notices: broadcast::Sender<EngineNotice>,
}

impl EventBus {
    /// A bus whose channels hold `capacity` messages per slow listener.
    pub fn new(capacity: usize) -> Self {
        EventBus {
            events: broadcast::channel(capacity).0,
            notices: broadcast::channel(capacity).0,
        }
    }

    /// Publishes a committed event (no listeners is fine).
    pub fn publish(&self, event: Arc<StoredEvent>) -> usize {
        self.events.send(event).unwrap_or(0)
    }

    /// Sends a notice (no listeners is fine).
    pub fn notify(&self, notice: EngineNotice) {
        let _ = self.notices.send(notice);
    }

    /// Listens for committed events.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<StoredEvent>> {
        self.events.subscribe()
    }

    /// Listens for notices.
    pub fn subscribe_notices(&self) -> broadcast::Receiver<EngineNotice> {
        self.notices.subscribe()
    }
}
