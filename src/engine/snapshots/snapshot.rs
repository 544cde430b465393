//! Snapshots: periodic photos of the derived state in the ledger store, so
//! that recovery and time travel need not re-read every event. Stored in
//! chunks (no 16 MB document limit) with a checksum, in the binary encoding
//! of [`crate::engine::snapshot_pages`] and [`crate::engine::snapshot_delta`].

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::domain::ReadState;
use crate::domain::state::StateCounts;
use crate::engine::snapshot_delta::{self, Delta};
use crate::engine::timetravel::Nearest;
use crate::engine::view::{StateView, ViewBase, bad_snapshot};
use crate::engine::{Engine, EngineNotice, EngineResult, JobControl, Phase};
use crate::store::{BulkControl, SnapshotMeta, StoreError};

/// What `restore_snapshot` did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreReport {
    /// The snapshot used.
    pub snapshot: SnapshotMeta,
    /// Rows written into the read tables.
    pub rows: u64,
    /// Events after the snapshot the projectors will now apply.
    pub events_to_catch_up: u64,
}

/// Full snapshot intervals from which a ledger with no history snapshot is
/// read in one history pass instead of interval by interval (below it, the
/// few interval snapshots cost less than a pass).
pub const HISTORY_AFTER: u64 = 4;

/// Full snapshot intervals the pieces after a history snapshot span at
/// least before they are merged with it into a new history (and more than
/// an eighth of its position: see [`crate::engine::snapshots::upkeep`]).
/// No full snapshot is taken after a history: one holds the whole state,
/// so one per interval made storage grow with the square of the ledger.
pub const HISTORY_AGAIN: u64 = 2;

impl Engine {
    /// Stores `state` as a paged snapshot: an index chunk (keys, row versions
    /// and page checksums) and one chunk per page of rows, so time travel
    /// reads the index and only the pages it shows.
    pub async fn save_state_snapshot(&self, state: &ReadState) -> EngineResult<SnapshotMeta> {
        self.guard_write("taking a snapshot")?;
        let chunks =
            crate::engine::snapshot_pages::encode(state, self.config.snapshot_page_rows.max(1));
        let index_xxh3 = chunks
            .first()
            .map(|index| crate::engine::snapshot_pages::xxh3_hex(index));
        let counts = state.counts();
        let ledger_id = Some(self.ledger_id().await?);
        let meta = SnapshotMeta {
            id: Uuid::new_v4(),
            position: state.position,
            taken_at: Utc::now(),
            size_bytes: chunks.iter().map(|c| c.len() as u64).sum(),
            chunks: chunks.len() as u32,
            // The index's XXH3 covers it, and it holds every page's SHA-256.
            sha256: String::new(),
            index_xxh3,
            state_digest: state.digest(),
            users: counts.users,
            bookings: counts.bookings,
            base: None,
            ledger_id,
            versions: self.config.model_versions,
        };
        self.stores.snapshots.save_snapshot(&meta, chunks).await?;
        self.bus.notify(EngineNotice::SnapshotTaken(meta.clone()));
        Ok(meta)
    }

    /// Takes a snapshot of the state as of `at` (default: the head): the
    /// newest snapshot at or before it, and the events after that folded on
    /// with progress to `job` (which can cancel it before anything is saved).
    pub async fn take_snapshot(
        &self,
        at: Option<u64>,
        job: &JobControl,
    ) -> EngineResult<SnapshotMeta> {
        self.guard_write("taking a snapshot")?;
        let started = Instant::now();
        let (target, nearest) = self.nearest_snapshot(at.unwrap_or(u64::MAX)).await?;
        let base = match &nearest {
            Some(nearest) => {
                job.step(Phase::Snapshot, 0, 1, started);
                self.snapshot_view(nearest).await?.materialize().await?
            }
            None => ReadState::default(),
        };
        let from = base.position;
        let state = self.fold_until(base, target, job).await?.state;
        if job.is_cancelled() {
            return Err(crate::engine::EngineError::Cancelled);
        }
        job.step(Phase::Saving, 0, 1, started);
        let meta = self.save_state_snapshot(&state).await?;
        tracing::info!(
            snapshot = %meta.id,
            position = meta.position,
            from,
            users = meta.users,
            bookings = meta.bookings,
            bytes = meta.size_bytes,
            ms = started.elapsed().as_millis() as u64,
            "snapshot taken"
        );
        Ok(meta)
    }

    /// Every stored snapshot, oldest first (those of other ledgers too).
    pub async fn list_snapshots(&self) -> EngineResult<Vec<SnapshotMeta>> {
        Ok(self.stores.snapshots.list_snapshots().await?)
    }

    /// The snapshots of this ledger in a format this build reads, oldest
    /// first: the only ones ever used. The others (of another ledger, of none,
    /// or in a format of an earlier build) are left alone, said so in
    /// `status` and `snapshot list`, and new ones are taken.
    pub async fn usable_snapshots(&self) -> EngineResult<Vec<SnapshotMeta>> {
        let Some(identity) = self.ledger_identity().await? else {
            return Ok(Vec::new());
        };
        Ok(self
            .list_snapshots()
            .await?
            .into_iter()
            .filter(|s| s.usable_for(identity.id, self.config.model_versions))
            .collect())
    }

    /// Finds a snapshot by id (or unique id prefix).
    pub async fn find_snapshot(&self, id: &str) -> EngineResult<SnapshotMeta> {
        let id = id.trim().to_lowercase();
        let matches: Vec<SnapshotMeta> = self
            .list_snapshots()
            .await?
            .into_iter()
            .filter(|s| s.id.to_string().starts_with(&id) && !id.is_empty())
            .collect();
        match matches.as_slice() {
            [one] => Ok(one.clone()),
            [] => Err(StoreError::NotFound(format!("no snapshot has id '{id}'")).into()),
            many => Err(StoreError::NotFound(format!(
                "'{id}' matches {} snapshots; give more of the id",
                many.len()
            ))
            .into()),
        }
    }

    /// Loads and verifies a snapshot's whole state. Not cached: every caller
    /// folds on from it, so it hands over the only copy (no deep clone of a
    /// state that can hold millions of rows, and no second copy kept in
    /// memory).
    pub async fn load_snapshot_state(&self, meta: &SnapshotMeta) -> EngineResult<ReadState> {
        let nearest = match meta.base {
            _ if meta.is_base() => Nearest {
                full: meta.clone(),
                delta: None,
                links: Vec::new(),
                upto: None,
            },
            _ => Nearest::of_delta(&self.usable_snapshots().await?, meta).ok_or_else(|| {
                bad_snapshot(
                    meta,
                    "the full snapshot (or an earlier delta) it is a delta of is not stored",
                )
            })?,
        };
        self.snapshot_view(&nearest).await?.materialize().await
    }

    /// Restores the read tables to a snapshot's state (swapped in atomically);
    /// the projectors then apply the events after it. Read tables of another
    /// ledger are only replaced when `rebuild_foreign` confirms it.
    pub async fn restore_snapshot(
        &self,
        id: &str,
        rebuild_foreign: bool,
    ) -> EngineResult<RestoreReport> {
        self.guard_write("restoring a snapshot")?;
        let meta = self.find_snapshot(id).await?;
        let ledger = self.ledger_id().await?;
        if meta.ledger_id != Some(ledger) {
            return Err(bad_snapshot(
                &meta,
                format!(
                    "it was taken of {}, not of this ledger ({})",
                    meta.ledger_id.map_or_else(
                        || "a ledger without an id (an earlier build)".to_string(),
                        |id| format!("ledger {}", crate::engine::pairing::short_id(id))
                    ),
                    crate::engine::pairing::short_id(ledger)
                ),
            ));
        }
        if meta.versions != self.config.model_versions {
            return Err(bad_snapshot(
                &meta,
                format!(
                    "it was taken with {}; this build reads {}",
                    crate::engine::pairing::versions_text(
                        &meta.versions,
                        &self.config.model_versions
                    ),
                    crate::engine::pairing::versions_text(
                        &self.config.model_versions,
                        &meta.versions
                    )
                ),
            ));
        }
        self.confirm_rebuild(rebuild_foreign).await?;
        let state = Arc::new(self.load_snapshot_state(&meta).await?);
        let rows = (state.users.len() + state.bookings.len()) as u64;
        self.stores
            .read
            .replace_all(
                ledger,
                self.config.model_versions,
                state,
                BulkControl::none(),
            )
            .await?;
        self.forget_pairing();
        let head = self.stores.ledger.head().await?;
        tracing::info!(
            read = %self.read_info(),
            snapshot = %meta.id,
            position = meta.position,
            rows,
            to_catch_up = head.saturating_sub(meta.position),
            "restored a snapshot into the read tables"
        );
        Ok(RestoreReport {
            events_to_catch_up: head.saturating_sub(meta.position),
            snapshot: meta,
            rows,
        })
    }

    /// Takes every automatic snapshot that is due (one per `snapshot_every`
    /// events since the newest one), folding forward incrementally.
    pub async fn take_due_snapshots(&self) -> EngineResult<Vec<SnapshotMeta>> {
        Ok(self.take_due(&JobControl::default()).await?.0)
    }

    /// [`Engine::take_due_snapshots`], also returning the next position at
    /// which one will be due (so callers need not ask the stores before it).
    ///
    /// A full snapshot is due at every multiple of `snapshot_every`, and a
    /// delta of the newest full one before it at every multiple of
    /// `snapshot_delta_every` less than a full interval after it (before the
    /// first full one, of the empty ledger). Missing
    /// deltas between stored full snapshots are filled in too (a ledger
    /// snapshotted by a build without deltas gets them); full snapshots are
    /// only taken after the newest snapshot.
    ///
    /// With [`crate::engine::EngineConfig::history_pass`] (the default), a ledger of
    /// [`HISTORY_AFTER`] intervals or more with no history snapshot (a cold
    /// one, or one grown by the app) first gets its history pass, with
    /// progress to `job`; positions up to a history snapshot need nothing
    /// more. After it come pieces every delta interval, merged in tiers
    /// and into the next history ([`crate::engine::snapshots::upkeep`]),
    /// which retires what the history before it made redundant (see
    /// [`Engine::take_history_snapshot`]); never a pass from zero again.
    async fn take_due(&self, job: &JobControl) -> EngineResult<(Vec<SnapshotMeta>, u64)> {
        let every = self.config.snapshot_every;
        if every == 0 {
            return Ok((Vec::new(), u64::MAX));
        }
        if self.observe_only() {
            return Ok((Vec::new(), 0));
        }
        let step = match self.config.snapshot_delta_every {
            d if d > 0 && d < every => d,
            _ => every,
        };
        let head = self.stores.ledger.head().await?;
        let mut known = self.usable_snapshots().await?;
        let mut taken = Vec::new();
        let newest_history = known
            .iter()
            .filter(|s| s.is_history())
            .map(|s| s.position)
            .max();
        // After the first one, a history is renewed by merging, never by
        // another pass.
        let pass_due = newest_history.is_none() && head >= every.saturating_mul(HISTORY_AFTER);
        if self.config.history_pass && pass_due {
            match self.take_history_snapshot(job).await? {
                Some(meta) => {
                    known.push(meta.clone());
                    taken.push(meta);
                }
                // Another instance is taking it: look again on the next tick.
                None => return Ok((taken, 0)),
            }
        }
        let covered = known
            .iter()
            .filter(|s| s.is_history())
            .map(|s| s.position)
            .max()
            .unwrap_or(0);
        // Once a history is kept, no full snapshot: pieces after it, merged
        // in tiers and into the next history.
        if self.config.history_pass && covered > 0 {
            let (pieces, next) = self.chain_upkeep(every, step, head).await?;
            taken.extend(pieces);
            return Ok((taken, next));
        }
        let newest = known.iter().map(|s| s.position).max().unwrap_or(0);
        let span = every;
        let mut stored: BTreeSet<u64> = known.iter().map(|s| s.position).collect();
        // Before the first full snapshot, deltas are of the empty ledger.
        let mut fulls: BTreeMap<u64, SnapshotMeta> = std::iter::once(SnapshotMeta::empty_ledger())
            .chain(known.into_iter().filter(SnapshotMeta::is_base))
            .map(|s| (s.position, s))
            .collect();
        let mut carry = None;
        let after = |at: u64| ((at / step + 1) * step).min((at / every + 1) * every);
        let mut at = after(0);
        while at <= head {
            let this = at;
            at = after(at);
            if stored.contains(&this) || this <= covered {
                continue;
            }
            let full = fulls.range(..=this).next_back().map(|(_, s)| s.clone());
            let meta = match full {
                _ if this % every == 0 => {
                    if this <= newest {
                        continue;
                    }
                    let state = self.state_at(this).await?.state;
                    let meta = self.save_state_snapshot(&state).await?;
                    fulls.insert(this, meta.clone());
                    meta
                }
                Some(full) if this - full.position < span => {
                    self.take_delta(&full, this, &mut carry).await?
                }
                _ => continue,
            };
            stored.insert(this);
            taken.push(meta);
        }
        Ok((taken, at))
    }

    /// Takes a delta snapshot of `full` at `at`: the row changes of the
    /// events after it. `carry` holds the previous delta taken in this run
    /// and the full snapshot's index; when it is of the same full snapshot
    /// and not after `at`, only the events after it are read.
    async fn take_delta(
        &self,
        full: &SnapshotMeta,
        at: u64,
        carry: &mut Option<(Delta, Arc<ViewBase>)>,
    ) -> EngineResult<SnapshotMeta> {
        self.guard_write("taking a snapshot")?;
        let (mut delta, base) = match carry.take() {
            Some((d, base)) if d.base_id == full.id && d.position <= at => (d, base),
            _ => {
                let fresh = Delta {
                    base_id: full.id,
                    base_position: full.position,
                    position: full.position,
                    ..Delta::default()
                };
                (fresh, self.view_base(full).await?)
            }
        };
        let (read, _) = self
            .scan_changes(delta.position, at, &mut delta.changes, &mut delta.skipped)
            .await?;
        delta.events += read;
        delta.position = at;
        // The bytes, and the row counts at `at` from the full snapshot's
        // index and the changes (no rows are read), off the async workers.
        let (delta, bytes, counts) = tokio::task::spawn_blocking({
            let base = base.clone();
            move || {
                let bytes = snapshot_delta::encode(&delta);
                let changes = std::mem::take(&mut delta.changes);
                let view = StateView::new(base, at, changes);
                let counts = view.counts().clone();
                delta.changes = view.into_changes();
                (delta, bytes, counts)
            }
        })
        .await
        .map_err(|e| bad_snapshot(full, format!("taking a delta stopped: {e}")))?;
        let meta = self.store_delta(full, at, bytes, &counts).await?;
        *carry = Some((delta, base));
        Ok(meta)
    }

    /// Stores an encoded delta of `base` at `position` with the row counts
    /// there, and says so on the bus.
    pub(crate) async fn store_delta(
        &self,
        base: &SnapshotMeta,
        position: u64,
        bytes: Vec<u8>,
        counts: &StateCounts,
    ) -> EngineResult<SnapshotMeta> {
        let meta = SnapshotMeta {
            id: Uuid::new_v4(),
            position,
            taken_at: Utc::now(),
            size_bytes: bytes.len() as u64,
            chunks: 1,
            sha256: crate::engine::snapshot_pages::sha256_hex(&bytes),
            index_xxh3: None,
            state_digest: String::new(),
            users: counts.users,
            bookings: counts.bookings,
            base: Some(base.id),
            ledger_id: Some(self.ledger_id().await?),
            versions: self.config.model_versions,
        };
        self.stores
            .snapshots
            .save_snapshot(&meta, vec![bytes])
            .await?;
        self.bus.notify(EngineNotice::SnapshotTaken(meta.clone()));
        Ok(meta)
    }

    /// Background task: takes due snapshots after events arrive, until `shutdown`.
    pub fn spawn_auto_snapshots(
        self: &Arc<Self>,
        shutdown: CancellationToken,
    ) -> tokio::task::JoinHandle<()> {
        let engine = self.clone();
        tokio::spawn(async move {
            let mut events = engine.bus.subscribe();
            // Events before this position need no look at the stores; the
            // periodic tick still catches snapshots due from other instances.
            let mut next_due = 0;
            // A first look at once: a cold ledger's pass starts with the
            // app, before the first time-travel query would fold beside it.
            let mut due = true;
            loop {
                if !due {
                    due = tokio::select! {
                        _ = shutdown.cancelled() => break,
                        received = events.recv() => match received {
                            Ok(event) => event.position >= next_due,
                            Err(_) => true,
                        },
                        _ = tokio::time::sleep(Duration::from_secs(5)) => true,
                    };
                    continue;
                }
                due = false;
                let bus = engine.bus.clone();
                let job = JobControl::new(move |progress| {
                    bus.notify(EngineNotice::HistoryPass(progress.clone()))
                })
                .with_cancel(shutdown.child_token());
                match engine.take_due(&job).await {
                    Ok((_, next)) => next_due = next,
                    Err(error) => engine
                        .bus
                        .notify(EngineNotice::SnapshotFailed(error.to_string())),
                }
            }
        })
    }
}
