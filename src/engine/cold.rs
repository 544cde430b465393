//! One pass for a cold ledger: a ledger with no usable snapshots (not
//! written by Ledgerscope, imported, restored) is folded once, and what every
//! row went through is stored as one history snapshot at the head
//! ([`super::snapshot_history`]). Time travel then reads any earlier
//! position from it with no event folded, and later positions from it plus
//! deltas as after a full snapshot. One instance at a time takes the pass
//! (a lease in the ledger store); the others use its snapshot.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use uuid::Uuid;

use super::snapshot_history::{self, HistoryFold};
use super::timetravel::{FOLD_PAGE, fold_entry};
use super::{Engine, EngineError, EngineNotice, EngineResult, JobControl, Phase};
use crate::domain::ReadState;
use crate::domain::state::EventFold;
use crate::store::{FoldEntry, MalformedEvent, SnapshotMeta};

/// The lease one instance holds while it takes a history pass.
pub const HISTORY_LEASE: &str = "snapshot:history";
/// How long the lease lasts unless given up (a pass that outlives it may be
/// repeated by another instance; nothing is lost, only work).
const HISTORY_LEASE_TTL: Duration = Duration::from_secs(600);

/// What the history pass running in this process has folded so far, shared
/// with time travel: a query reads the rows at its position (or at the
/// pass's, and folds only the events after it) instead of folding the
/// ledger from zero beside the pass.
pub(crate) struct PassShare {
    fold: Mutex<PassFold>,
}

#[derive(Default)]
struct PassFold {
    fold: HistoryFold,
    skipped: Vec<MalformedEvent>,
}

impl PassShare {
    /// The state at `target`, or at the pass's progress if it has not reached
    /// `target`, and the entries up to there that could not be applied.
    /// The pass waits while the rows are taken (not while they are sorted).
    fn state_at(&self, target: u64) -> (ReadState, Vec<MalformedEvent>) {
        let (position, (mut users, mut bookings), skipped) = {
            let pass = super::sync::lock(&self.fold, "history pass");
            let position = target.min(pass.fold.folded_to());
            let skipped = pass
                .skipped
                .iter()
                .take_while(|bad| bad.position <= position)
                .cloned()
                .collect();
            (position, pass.fold.rows_at(position), skipped)
        };
        users.sort_unstable_by_key(|(key, _)| *key);
        bookings.sort_unstable_by_key(|(key, _)| *key);
        let state = ReadState {
            position,
            users: BTreeMap::from_iter(users),
            bookings: BTreeMap::from_iter(bookings),
        };
        (state, skipped)
    }
}

/// Takes the pass's share out of the engine when the fold ends, however it
/// ends.
struct Unshare<'a>(&'a Mutex<Option<Arc<PassShare>>>);

impl Drop for Unshare<'_> {
    fn drop(&mut self) {
        super::sync::lock(self.0, "history pass").take();
    }
}

impl Engine {
    /// When a history pass runs in this process: the state at `target` from
    /// what it has folded (at its progress if that is before `target`), and
    /// the entries up to there that could not be applied.
    pub(crate) async fn pass_state_at(
        &self,
        target: u64,
    ) -> EngineResult<Option<(ReadState, Vec<MalformedEvent>)>> {
        let Some(pass) = super::sync::lock(&self.pass, "history pass").clone() else {
            return Ok(None);
        };
        tokio::task::spawn_blocking(move || Some(pass.state_at(target)))
            .await
            .map_err(super::view::view_stopped)
    }

    /// Folds the ledger from zero to the head once and stores every row's
    /// changes as a history snapshot there. Progress goes to `job`
    /// ([`Phase::Reading`], then [`Phase::Saving`]), which can cancel it before
    /// anything is saved. `Ok(None)` when another instance holds the pass's
    /// lease (it is taking the same snapshot).
    pub async fn take_history_snapshot(
        &self,
        job: &JobControl,
    ) -> EngineResult<Option<SnapshotMeta>> {
        self.guard_write("taking a snapshot")?;
        let lease = self
            .stores
            .locks
            .try_acquire(HISTORY_LEASE, &self.config.instance_id, HISTORY_LEASE_TTL)
            .await?;
        let Some(lease) = lease else {
            return Ok(None);
        };
        let result = self.history_pass(job).await;
        if let Err(error) = self.stores.locks.release(&lease).await {
            tracing::warn!(lease = %lease.name, %error, "lease not released; it expires by itself");
        }
        result.map(Some)
    }

    async fn history_pass(&self, job: &JobControl) -> EngineResult<SnapshotMeta> {
        let started = Instant::now();
        let head = self.stores.ledger.head().await?;
        let share = Arc::new(PassShare {
            fold: Mutex::new(PassFold {
                fold: HistoryFold::with_capacity(head),
                skipped: Vec::new(),
            }),
        });
        let unshare = Unshare(&self.pass);
        *super::sync::lock(&self.pass, "history pass") = Some(share.clone());
        // One uncontended lock per entry: time travel may read the fold
        // between any two.
        self.scan_entries(0, head, FOLD_PAGE, job, |entry: FoldEntry| {
            let mut pass = super::sync::lock(&share.fold, "history pass");
            let PassFold { fold, skipped } = &mut *pass;
            fold_entry(fold, skipped, entry)
        })
        .await?;
        drop(unshare);
        let PassFold {
            fold: state,
            skipped,
        } = std::mem::take(&mut *super::sync::lock(&share.fold, "history pass"));
        if job.is_cancelled() {
            return Err(EngineError::Cancelled);
        }
        job.step(Phase::Saving, 0, 1, started);
        let fold_ms = started.elapsed().as_millis() as u64;
        let position = state.folded_to();
        let events = state.events();
        let page_keys = self.config.snapshot_page_rows.max(1);
        let encoded = tokio::task::spawn_blocking(move || {
            let tables = state.into_sorted();
            let encoded = snapshot_history::encode(position, events, &tables, &skipped, page_keys);
            // Freeing a million rows' changes takes a good part of a second:
            // not on the way to saving them.
            std::thread::spawn(move || drop(tables));
            encoded
        })
        .await
        .map_err(|e| EngineError::BadSnapshot {
            id: "(history)".into(),
            reason: format!("encoding stopped: {e}"),
        })?;
        let chunks = encoded.chunks;
        let meta = SnapshotMeta {
            id: Uuid::new_v4(),
            position,
            taken_at: Utc::now(),
            size_bytes: chunks.iter().map(|c| c.len() as u64).sum(),
            chunks: chunks.len() as u32,
            sha256: String::new(),
            index_xxh3: chunks.first().map(|i| super::snapshot_pages::xxh3_hex(i)),
            state_digest: String::new(),
            users: encoded.counts.users,
            bookings: encoded.counts.bookings,
            base: Some(SnapshotMeta::HISTORY),
            ledger_id: Some(self.ledger_id().await?),
        };
        self.stores.snapshots.save_snapshot(&meta, chunks).await?;
        tracing::info!(
            snapshot = %meta.id,
            position,
            events,
            users = meta.users,
            bookings = meta.bookings,
            bytes = meta.size_bytes,
            fold_ms,
            ms = started.elapsed().as_millis() as u64,
            "history snapshot taken (one pass over the ledger)"
        );
        self.bus.notify(EngineNotice::SnapshotTaken(meta.clone()));
        Ok(meta)
    }
}
