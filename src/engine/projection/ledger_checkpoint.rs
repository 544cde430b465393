//! The projectors' checkpoints in the ledger store, written sparingly.
//!
//! A projector's position lives in the read store, moved in the same
//! transaction as the rows it wrote. The ledger store keeps a second record
//! per projector: the entries it skipped, the holes it crossed, its last
//! error, and its position for `status` while the read store is down.
//! Writing that record after every batch cost a commit per projector per
//! command (two whole pages of the ledger's write-ahead log for each
//! acknowledged command). Now it is written at once when the skipped
//! entries or the holes change, otherwise at most once a second, and when
//! the projector goes idle or stops: a position shown by `status` during an
//! outage is at most a second older than the read store's.

use std::time::{Duration, Instant};

use crate::domain::ProjectorId;
use crate::engine::{Engine, EngineResult, sync};
use crate::store::Checkpoint;

/// How long a projector's newer position may wait before it is written.
pub(crate) const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// What the ledger store has of one projector, and what it has not yet.
#[derive(Debug, Default)]
pub(crate) struct LedgerCheckpoint {
    /// When the record was last written by this process.
    saved_at: Option<Instant>,
    /// A newer record not written yet.
    pending: Option<Checkpoint>,
}

impl Engine {
    /// Records `checkpoint` in the ledger store now when `changed` (its
    /// skipped entries or holes differ from the last record) or when the
    /// last write is a second old; otherwise keeps it for
    /// [`Engine::flush_ledger_checkpoint`].
    pub(crate) async fn record_ledger_checkpoint(
        &self,
        projector: ProjectorId,
        checkpoint: Checkpoint,
        changed: bool,
    ) -> EngineResult<()> {
        {
            let mut all = sync::lock(&self.ledger_checkpoints, "ledger checkpoints");
            let entry = all.entry(projector).or_default();
            let due = entry
                .saved_at
                .is_none_or(|at| at.elapsed() >= CHECKPOINT_EVERY);
            if !changed && !due {
                entry.pending = Some(checkpoint);
                return Ok(());
            }
            entry.pending = None;
            entry.saved_at = Some(Instant::now());
        }
        self.stores.checkpoints.save_checkpoint(&checkpoint).await?;
        Ok(())
    }

    /// Writes the projector's record kept by
    /// [`Engine::record_ledger_checkpoint`], if there is one; a failed write
    /// keeps it for the next time.
    pub(crate) async fn flush_ledger_checkpoint(&self, projector: ProjectorId) -> EngineResult<()> {
        let pending = {
            let mut all = sync::lock(&self.ledger_checkpoints, "ledger checkpoints");
            all.get_mut(&projector).and_then(|e| e.pending.take())
        };
        let Some(checkpoint) = pending else {
            return Ok(());
        };
        match self.stores.checkpoints.save_checkpoint(&checkpoint).await {
            Ok(()) => {
                let mut all = sync::lock(&self.ledger_checkpoints, "ledger checkpoints");
                all.entry(projector).or_default().saved_at = Some(Instant::now());
                Ok(())
            }
            Err(error) => {
                let mut all = sync::lock(&self.ledger_checkpoints, "ledger checkpoints");
                let entry = all.entry(projector).or_default();
                if entry.pending.is_none() {
                    entry.pending = Some(checkpoint);
                }
                Err(error.into())
            }
        }
    }

    /// [`Engine::flush_ledger_checkpoint`] for a caller with no one to tell:
    /// a failure is logged.
    pub(crate) async fn flush_ledger_checkpoint_logged(&self, projector: ProjectorId) {
        if let Err(error) = self.flush_ledger_checkpoint(projector).await {
            tracing::warn!(
                projector = projector.name(),
                %error,
                "the projector's checkpoint was not written to the ledger store; it is tried again"
            );
        }
    }

    /// Drops the records not written yet: the read tables were replaced
    /// and whoever replaced them wrote the checkpoints that hold now.
    pub(crate) fn forget_ledger_checkpoints(&self) {
        sync::lock(&self.ledger_checkpoints, "ledger checkpoints").clear();
    }
}
