//! One pass for a cold ledger: a ledger with no history snapshot (not
//! written by Ledgerscope, imported, restored, or grown past four intervals)
//! is folded once, and what every row went through is stored as one history
//! snapshot at the head ([`crate::engine::snapshot_history`]). Time travel then
//! reads any earlier position from it with no event folded, and later
//! positions from it plus its deltas. While the pass runs, time travel reads
//! what it has folded, and waits for it past its progress. One instance at
//! a time takes the pass (a lease in the ledger store); the others use its
//! snapshot. Later histories are merged from it and the pieces after it
//! ([`crate::engine::snapshots::upkeep`]), never folded from zero again;
//! each retires what the history before it made redundant, so snapshot
//! storage grows linearly with the ledger.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::sync::watch;
use uuid::Uuid;

use crate::domain::ReadState;
use crate::domain::state::EventFold;
use crate::engine::snapshot_history::{self, HistoryFold, KeyChanges};
use crate::engine::timetravel::{FOLD_PAGE, fold_entry};
use crate::engine::{Engine, EngineError, EngineNotice, EngineResult, JobControl, Phase};
use crate::store::{FoldEntry, MalformedEvent, SnapshotMeta};

/// The lease one instance holds while it takes a history pass.
pub const HISTORY_LEASE: &str = "snapshot:history";
/// How long the lease lasts unless given up (a pass that outlives it may be
/// repeated by another instance; nothing is lost, only work).
const HISTORY_LEASE_TTL: Duration = Duration::from_secs(600);

/// What the history pass running in this process has folded so far, shared
/// with time travel: a query reads the rows at its position, and a query
/// past the pass's progress waits for the pass to fold it (it folds those
/// events anyway) instead of folding the ledger a second time beside it.
pub(crate) struct PassShare {
    rows: Mutex<PassRows>,
    /// Where the pass is; queries wait on it.
    stage: watch::Sender<Stage>,
    /// The head the pass reads to.
    head: u64,
}

/// The rows of a running pass, and the entries up to its progress that
/// could not be applied.
struct PassRows {
    fold: PassFold,
    skipped: Vec<MalformedEvent>,
}

enum PassFold {
    /// Folding: every row's changes so far.
    Folding(HistoryFold),
    /// Taken out to be sorted: nothing to read until it is.
    Sorting,
    /// Sorted, at the head, while it is encoded and saved.
    Sorted {
        tables: Arc<[Vec<KeyChanges>; 2]>,
        position: u64,
    },
}

/// A pass's progress, as queries wait on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// Folded up to this position.
    Folded(u64),
    /// Folded to the head, being sorted.
    Sorting,
    /// Sorted: every position up to the head can be read.
    Ready,
    /// Stopped before it was sorted (cancelled or failed): what it folded
    /// stays readable.
    Stopped,
}

impl PassShare {
    /// A share for a pass reading to `head`, with nothing folded yet.
    fn new(head: u64) -> Self {
        PassShare {
            rows: Mutex::new(PassRows {
                fold: PassFold::Folding(HistoryFold::with_capacity(head)),
                skipped: Vec::new(),
            }),
            stage: watch::Sender::new(Stage::Folded(0)),
            head,
        }
    }

    /// An empty, stopped share, in place of one let go.
    fn gone() -> Arc<Self> {
        Arc::new(PassShare {
            rows: Mutex::new(PassRows {
                fold: PassFold::Sorting,
                skipped: Vec::new(),
            }),
            stage: watch::Sender::new(Stage::Stopped),
            head: 0,
        })
    }

    /// The state at `target`, or at the pass's progress if it has not reached
    /// `target`, and the entries up to there that could not be applied.
    /// `None` while its rows are being sorted. The pass waits while rows are
    /// taken from its fold (not while they are sorted).
    fn state_at(&self, target: u64) -> Option<(ReadState, Vec<MalformedEvent>)> {
        let (position, (mut users, mut bookings), skipped) = {
            let pass = crate::engine::sync::lock(&self.rows, "history pass");
            let skipped = |position: u64| -> Vec<MalformedEvent> {
                pass.skipped
                    .iter()
                    .take_while(|bad| bad.position <= position)
                    .cloned()
                    .collect()
            };
            match &pass.fold {
                PassFold::Folding(fold) => {
                    let position = target.min(fold.folded_to());
                    (position, fold.rows_at(position), skipped(position))
                }
                PassFold::Sorted { tables, position } => {
                    let position = target.min(*position);
                    let (tables, skipped) = (tables.clone(), skipped(position));
                    drop(pass);
                    (
                        position,
                        snapshot_history::sorted_rows_at(&tables, position),
                        skipped,
                    )
                }
                PassFold::Sorting => return None,
            }
        };
        users.sort_unstable_by_key(|(key, _)| *key);
        bookings.sort_unstable_by_key(|(key, _)| *key);
        let state = ReadState {
            position,
            users: BTreeMap::from_iter(users),
            bookings: BTreeMap::from_iter(bookings),
        };
        Some((state, skipped))
    }
}

/// The pass's hold on its share: when the pass ends, however it ends, takes
/// the share out of the engine, marks it stopped unless it got as far as
/// sorted rows, and lets it go on a thread of its own (freeing a million
/// rows' changes takes a good part of a second).
struct Unshare<'a> {
    slot: &'a Mutex<Option<Arc<PassShare>>>,
    share: Arc<PassShare>,
}

impl Drop for Unshare<'_> {
    fn drop(&mut self) {
        crate::engine::sync::lock(self.slot, "history pass").take();
        self.share.stage.send_if_modified(|stage| {
            let stop = *stage != Stage::Ready;
            if stop {
                *stage = Stage::Stopped;
            }
            stop
        });
        let share = std::mem::replace(&mut self.share, PassShare::gone());
        std::thread::spawn(move || drop(share));
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
        let Some(mut pass) = crate::engine::sync::lock(&self.pass, "history pass").clone() else {
            return Ok(None);
        };
        let want = target.min(pass.head);
        let mut stage = pass.stage.subscribe();
        loop {
            // Past the pass's progress: wait for it to fold the target.
            let stopped = match stage
                .wait_for(|stage| match stage {
                    Stage::Folded(at) => *at >= want,
                    Stage::Sorting => false,
                    Stage::Ready | Stage::Stopped => true,
                })
                .await
            {
                Ok(stage) => *stage == Stage::Stopped,
                // (the sender lives in the share this holds)
                Err(_) => true,
            };
            // The rows are taken, and the share let go, off the async workers.
            let (found, share) = tokio::task::spawn_blocking(move || (pass.state_at(target), pass))
                .await
                .map_err(crate::engine::view::view_stopped)?;
            match found {
                // Taken out to be sorted between the wait and the read.
                None if !stopped => pass = share,
                // (None: stopped while sorting, nothing to read from it)
                found => {
                    tokio::task::spawn_blocking(move || drop(share));
                    return Ok(found);
                }
            }
        }
    }

    /// Folds the ledger from zero to the head once and stores every row's
    /// changes as a history snapshot there. Progress goes to `job`
    /// ([`Phase::Reading`], then [`Phase::Saving`]), which can cancel it before
    /// anything is saved. `Ok(None)` when another instance holds the pass's
    /// lease (it is taking the same snapshot). Once it is saved, the
    /// snapshots the history before it made redundant are deleted (the
    /// retention rule of `retire_superseded`), still under the lease.
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
        // What the retention rule may delete once the history is saved, read
        // now: after the save, the snapshot connection is busy copying the
        // new history out of the write-ahead log.
        let before = self.usable_snapshots().await?;
        let head = self.stores.ledger.head().await?;
        let unshare = Unshare {
            slot: &self.pass,
            share: Arc::new(PassShare::new(head)),
        };
        let share = &unshare.share;
        *crate::engine::sync::lock(&self.pass, "history pass") = Some(share.clone());
        // After each page: the queries waiting for it may read it.
        let reading = {
            let (outer, share) = (job.clone(), share.clone());
            JobControl::new(move |progress| {
                let folded = match &crate::engine::sync::lock(&share.rows, "history pass").fold {
                    PassFold::Folding(fold) => fold.folded_to(),
                    _ => 0,
                };
                share.stage.send_replace(Stage::Folded(folded));
                outer.report(progress);
            })
            .with_cancel(job.token().clone())
        };
        // One uncontended lock per entry: time travel may read the fold
        // between any two.
        self.scan_entries(0, head, FOLD_PAGE, &reading, |entry: FoldEntry| {
            let mut pass = crate::engine::sync::lock(&share.rows, "history pass");
            let PassRows { fold, skipped } = &mut *pass;
            if let PassFold::Folding(fold) = fold {
                fold_entry(fold, skipped, entry);
            }
        })
        .await?;
        // (its hold on the share goes before the pass lets the share go)
        drop(reading);
        if job.is_cancelled() {
            return Err(EngineError::Cancelled);
        }
        share.stage.send_replace(Stage::Sorting);
        let (state, skipped) = {
            let mut pass = crate::engine::sync::lock(&share.rows, "history pass");
            let fold = std::mem::replace(&mut pass.fold, PassFold::Sorting);
            (fold, pass.skipped.clone())
        };
        let PassFold::Folding(state) = state else {
            return Err(EngineError::Crashed(
                "the history pass's fold was taken before it was sorted".into(),
            ));
        };
        job.step(Phase::Saving, 0, 1, started);
        let fold_ms = started.elapsed().as_millis() as u64;
        let position = state.folded_to();
        let events = state.events();
        let page_keys = self.config.snapshot_page_rows.max(1);
        let sorted = share.clone();
        let encoded = tokio::task::spawn_blocking(move || {
            let (share, tables) = (sorted, Arc::new(state.into_sorted()));
            // Every position can be read from the sorted rows while they
            // are encoded and saved.
            crate::engine::sync::lock(&share.rows, "history pass").fold = PassFold::Sorted {
                tables: tables.clone(),
                position,
            };
            share.stage.send_replace(Stage::Ready);
            snapshot_history::encode(position, events, &tables, &skipped, page_keys)
        })
        .await
        .map_err(|e| EngineError::BadSnapshot {
            id: "(history)".into(),
            reason: format!("encoding stopped: {e}"),
        })?;
        let meta = self
            .save_history(position, events, encoded.chunks, &encoded.counts, started)
            .await?;
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
        self.retire_after(&meta, &before).await;
        drop(unshare);
        Ok(meta)
    }

    /// Stores a history snapshot at `position` of `events` entries from
    /// its encoded `chunks` and announces it.
    pub(crate) async fn save_history(
        &self,
        position: u64,
        events: u64,
        chunks: Vec<Vec<u8>>,
        counts: &crate::domain::state::StateCounts,
        started: Instant,
    ) -> EngineResult<SnapshotMeta> {
        let meta = SnapshotMeta {
            id: Uuid::new_v4(),
            position,
            taken_at: Utc::now(),
            size_bytes: chunks.iter().map(|c| c.len() as u64).sum(),
            chunks: chunks.len() as u32,
            sha256: String::new(),
            index_xxh3: chunks
                .first()
                .map(|i| crate::engine::snapshot_pages::xxh3_hex(i)),
            state_digest: String::new(),
            users: counts.users,
            bookings: counts.bookings,
            base: Some(SnapshotMeta::HISTORY),
            ledger_id: Some(self.ledger_id().await?),
            versions: self.config.model_versions,
        };
        self.stores.snapshots.save_snapshot(&meta, chunks).await?;
        tracing::debug!(
            snapshot = %meta.id,
            events,
            ms = started.elapsed().as_millis() as u64,
            "history snapshot saved"
        );
        self.bus.notify(EngineNotice::SnapshotTaken(meta.clone()));
        Ok(meta)
    }

    /// [`Engine::retire_superseded`] after history `new` was saved, its
    /// outcome announced; a failure leaves the snapshots stored (the next
    /// history tries again).
    pub(crate) async fn retire_after(&self, new: &SnapshotMeta, before: &[SnapshotMeta]) {
        match self.retire_superseded(new, before).await {
            Ok(retired) if retired.is_empty() => {}
            Ok(retired) => self.bus.notify(EngineNotice::SnapshotsRetired(retired)),
            Err(error) => {
                tracing::warn!(%error, "the snapshots the history before this one replaced stay stored");
                self.bus.notify(EngineNotice::SnapshotFailed(format!(
                    "deleting the snapshots an older history snapshot replaced: {error} (they stay stored; the next history tries again)"
                )));
            }
        }
    }

    /// The retention rule: of `list` (this ledger's snapshots before `new`
    /// was taken), deletes what the history snapshot before `new` made
    /// redundant, that is every snapshot older than it (it holds the state
    /// at each of their positions), and the deltas of a deleted one (and
    /// the chains of pieces after those). That
    /// history and its deltas stay one generation more, so views opened on
    /// them keep reading their pages. Storage then holds at most two history
    /// snapshots and the deltas after the older one.
    async fn retire_superseded(
        &self,
        new: &SnapshotMeta,
        list: &[SnapshotMeta],
    ) -> EngineResult<Vec<Uuid>> {
        let Some(previous) = list
            .iter()
            .filter(|s| s.is_history() && s.position < new.position)
            .map(|s| s.position)
            .max()
        else {
            return Ok(Vec::new());
        };
        let mut retired: HashSet<Uuid> = list
            .iter()
            .filter(|s| s.position < previous)
            .map(|s| s.id)
            .collect();
        // The deltas of a deleted one, and the links of a chain after them.
        loop {
            let orphans: Vec<Uuid> = list
                .iter()
                .filter(|s| !retired.contains(&s.id))
                .filter(|s| s.base.is_some_and(|base| retired.contains(&base)))
                .map(|s| s.id)
                .collect();
            if orphans.is_empty() {
                break;
            }
            retired.extend(orphans);
        }
        let mut done = Vec::with_capacity(retired.len());
        let mut bytes = 0;
        for meta in list.iter().filter(|s| retired.contains(&s.id)) {
            self.stores.snapshots.delete_snapshot(meta.id).await?;
            bytes += meta.size_bytes;
            done.push(meta.id);
        }
        tracing::info!(
            history = %new.id,
            kept_from = previous,
            deleted = done.len(),
            bytes,
            "snapshots older than the history before this one deleted (it serves their positions)"
        );
        Ok(done)
    }
}
