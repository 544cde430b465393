//! Holes in positions: the one rule projection, replay and verify share.
//!
//! Positions this app writes are gap-free (a unique index and
//! insert-and-retry on MongoDB, one writer transaction on SQLite). A hole,
//! a position with no event below a stored one, comes from elsewhere:
//! another writer, a restore, a hand edit. The rule, after Marten's
//! high-water-mark detection:
//!
//! - A projector that finds the next position missing while later ones are
//!   stored waits for it up to the hole timeout (5 s by default,
//!   `--hole-timeout-secs`), counted from when it first saw it missing, in
//!   case a writer is still committing it. Then it records the hole in its
//!   checkpoint, tells the log and the screens, and moves past it.
//! - Replay and verify read the ledger as it is stored and cross every hole
//!   at once, recording them the same way (the fold they compute is what
//!   the projectors reach once their timeout has passed).
//! - An event written into a hole after it was crossed is not projected by
//!   the running projectors: `verify` then reports the rows it changes as
//!   drift, and a replay folds it in.

use std::time::{Duration, Instant};

use crate::domain::ProjectorId;
use crate::engine::Engine;
use crate::store::Hole;

/// How long a projector waits for a missing position by default.
pub const DEFAULT_HOLE_TIMEOUT: Duration = Duration::from_secs(5);
/// How many crossed holes a checkpoint remembers.
pub const MAX_RECORDED_HOLES: usize = 100;

/// Whether a projector may cross a hole now, or must wait for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HoleVerdict {
    /// Waited long enough: record it and move on.
    Cross,
    /// Still within the timeout: look again after this long.
    Wait(Duration),
}

impl Engine {
    /// The rule for `projector` meeting `hole`: the first time it is seen
    /// the timeout starts; once it has passed the hole is crossed.
    pub(crate) fn hole_verdict(&self, projector: ProjectorId, hole: Hole) -> HoleVerdict {
        let timeout = self.config.hole_timeout;
        if timeout.is_zero() {
            return HoleVerdict::Cross;
        }
        let mut pending = crate::engine::sync::lock(&self.pending_holes, "pending holes");
        let seen = match pending.get(&projector) {
            Some((from, seen)) if *from == hole.from => *seen,
            _ => {
                let now = Instant::now();
                pending.insert(projector, (hole.from, now));
                now
            }
        };
        match timeout.checked_sub(seen.elapsed()) {
            Some(left) if !left.is_zero() => HoleVerdict::Wait(left),
            _ => {
                pending.remove(&projector);
                HoleVerdict::Cross
            }
        }
    }
}

/// Appends `new` to `recorded`, keeping the most recent [`MAX_RECORDED_HOLES`].
pub fn record_holes(recorded: &mut Vec<Hole>, new: &[Hole]) {
    for hole in new {
        if !recorded.contains(hole) {
            recorded.push(*hole);
        }
    }
    if recorded.len() > MAX_RECORDED_HOLES {
        recorded.drain(..recorded.len() - MAX_RECORDED_HOLES);
    }
}
