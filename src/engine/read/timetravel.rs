//! Time travel: the state as of any position, from the nearest snapshot (or the
//! last folded state) plus a fold of the events after it.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::domain::state::EventFold;
use crate::domain::{ReadState, StateDiff};
use crate::engine::job::{JobControl, Phase};
use crate::engine::{Engine, EngineError, EngineResult};
use crate::store::{
    EventLedger, FoldEntry, Hole, LedgerEntry, LedgerPage, MalformedEvent, SnapshotMeta,
    StoreError, StoreResult, entry_position, holes_between,
};

/// Events read per ledger page while folding.
pub const FOLD_PAGE: usize = 5_000;

/// Where a computed state started from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FoldBase {
    /// An empty state (position 0).
    Zero,
    /// A stored snapshot.
    Snapshot {
        /// Snapshot id.
        id: uuid::Uuid,
        /// Its position.
        position: u64,
    },
    /// A history snapshot at or after the position: its rows as of the
    /// position, no event folded.
    History {
        /// Snapshot id.
        id: uuid::Uuid,
        /// Its position (the state is read as of an earlier one).
        position: u64,
    },
    /// What the history pass running in this process had folded (the
    /// rows at `position`), then events folded after it.
    Pass {
        /// The position read from the pass.
        position: u64,
    },
    /// A state this process folded earlier.
    Cached {
        /// Its position.
        position: u64,
    },
}

/// The state as of a position, and how it was computed.
#[derive(Clone, Debug)]
pub struct StateAt {
    /// The state.
    pub state: Arc<ReadState>,
    /// What it started from.
    pub base: FoldBase,
    /// Events folded on top of the base.
    pub folded_events: u64,
    /// Entries that could not be applied (malformed or unknown), by position.
    pub skipped: Vec<MalformedEvent>,
    /// Microseconds spent getting the base (loading and decoding a snapshot).
    pub base_us: u64,
    /// Microseconds spent folding events onto it.
    pub fold_us: u64,
}

/// The snapshots a state at some position starts from: the newest full (or
/// history) snapshot at or before it, and the newest delta of that one also
/// at or before it. A delta is of its full snapshot (cumulative), or of an
/// earlier delta of it (a piece of a chain: the changes since that one,
/// see [`crate::engine::snapshots::upkeep`]); the state is the full
/// snapshot, then each link of the chain in order. A delta whose chain does
/// not reach a stored full snapshot is never used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Nearest {
    /// The full snapshot.
    pub full: SnapshotMeta,
    /// Its newest delta at or before the position.
    pub delta: Option<SnapshotMeta>,
    /// The links of the chain before `delta`, oldest first (empty for a
    /// cumulative delta).
    pub links: Vec<SnapshotMeta>,
    /// When `delta` is a link that ends past the position (a merged one
    /// spans many delta intervals): the position it is read up to (its
    /// changes after it left out).
    pub upto: Option<u64>,
}

impl Nearest {
    /// The snapshots in `list` a state at `target` starts from.
    /// Before the first full snapshot, deltas are of the empty ledger
    /// ([`SnapshotMeta::empty_ledger`]).
    pub fn find(list: &[SnapshotMeta], target: u64) -> Option<Nearest> {
        let full = list
            .iter()
            .filter(|s| s.is_base() && s.position <= target)
            .max_by_key(|s| s.position)
            .cloned();
        let stored = full.is_some();
        let full = full.unwrap_or_else(SnapshotMeta::empty_ledger);
        let mut links = Self::chain_of(list, &full, target);
        // After a history, the link after the chain's end that covers the
        // target (the shortest; a merged link spans many delta intervals):
        // read up to the target, no event to fold.
        let top = links.last().unwrap_or(&full);
        let (top, short) = (top.id, top.position < target);
        let covering = list
            .iter()
            .filter(|s| short && full.is_history() && s.base == Some(top) && !s.is_base())
            .filter(|s| s.position > target)
            .min_by_key(|s| s.position);
        let (delta, upto) = match covering {
            Some(cover) => (Some(cover.clone()), Some(target)),
            None => (links.pop(), None),
        };
        (stored || delta.is_some()).then_some(Nearest {
            full,
            delta,
            links,
            upto,
        })
    }

    /// The chain in `list` from `full` to the newest delta up to `target`
    /// that reaches it (the shortest, of two ending at one position), oldest
    /// link first; empty when none does.
    pub fn chain_of(list: &[SnapshotMeta], full: &SnapshotMeta, target: u64) -> Vec<SnapshotMeta> {
        let mut chain = Self::chains(list, full, target);
        let newest = chain
            .iter()
            .max_by_key(|(_, (position, links, _))| (*position, std::cmp::Reverse(*links)))
            .map(|(id, _)| *id);
        let mut path = Vec::new();
        let mut at = newest;
        while let Some(id) = at {
            match chain.remove(&id) {
                Some((_, _, meta)) => {
                    at = meta.base;
                    path.push(meta);
                }
                None => at = None,
            }
        }
        path.reverse();
        path
    }

    /// The ids of the deltas in `list` after `full` up to `target` whose
    /// chain reaches `full`.
    pub fn reachable(list: &[SnapshotMeta], full: &SnapshotMeta, target: u64) -> Vec<uuid::Uuid> {
        Self::chains(list, full, target).into_keys().collect()
    }

    /// The deltas in `list` after `full` up to `target` whose chain reaches
    /// `full`, by id: (position, links before it, the delta).
    fn chains(
        list: &[SnapshotMeta],
        full: &SnapshotMeta,
        target: u64,
    ) -> std::collections::HashMap<uuid::Uuid, (u64, usize, SnapshotMeta)> {
        let mut reach: std::collections::HashMap<uuid::Uuid, (u64, usize, SnapshotMeta)> =
            std::collections::HashMap::new();
        let mut deltas: Vec<&SnapshotMeta> = list
            .iter()
            .filter(|s| !s.is_base() && s.position > full.position && s.position <= target)
            .collect();
        // A link is always after the one it is of.
        deltas.sort_by_key(|s| s.position);
        for delta in deltas {
            let Some(base) = delta.base else { continue };
            let links = match base == full.id {
                true => Some(0),
                false => reach
                    .get(&base)
                    .filter(|(position, _, _)| *position < delta.position)
                    .map(|(_, links, _)| links + 1),
            };
            if let Some(links) = links {
                reach.insert(delta.id, (delta.position, links, delta.clone()));
            }
        }
        reach
    }

    /// The full snapshot and chain that `delta` (one of `list`) is read with,
    /// if its chain reaches a stored full snapshot.
    pub fn of_delta(list: &[SnapshotMeta], delta: &SnapshotMeta) -> Option<Nearest> {
        let mut path = vec![delta.clone()];
        loop {
            let base = path.last().and_then(|s| s.base)?;
            if base.is_nil() {
                let delta = path.remove(0);
                path.reverse();
                return Some(Nearest {
                    full: SnapshotMeta::empty_ledger(),
                    delta: Some(delta),
                    links: path,
                    upto: None,
                });
            }
            let of = list.iter().find(|s| s.id == base)?;
            if of.is_base() {
                let delta = path.remove(0);
                path.reverse();
                return Some(Nearest {
                    full: of.clone(),
                    delta: Some(delta),
                    links: path,
                    upto: None,
                });
            }
            if path.len() > list.len() {
                return None;
            }
            path.push(of.clone());
        }
    }

    /// The history snapshot in `list` that holds the state at `target` with
    /// no event to fold (the oldest one at or after it), when the snapshots
    /// before `target` (`nearest`) leave more than `fold_limit` events to fold.
    pub fn history_for(
        list: &[SnapshotMeta],
        target: u64,
        nearest: Option<&Nearest>,
        fold_limit: u64,
    ) -> Option<SnapshotMeta> {
        let from = nearest.map_or(0, Nearest::end);
        if target.saturating_sub(from) <= fold_limit {
            return None;
        }
        list.iter()
            .filter(|s| s.is_history() && s.position >= target)
            .min_by_key(|s| s.position)
            .cloned()
    }

    /// The newer of the two.
    pub fn newest(&self) -> &SnapshotMeta {
        self.delta.as_ref().unwrap_or(&self.full)
    }

    /// The position its state is at: where events start to be read.
    pub fn end(&self) -> u64 {
        self.upto.unwrap_or(self.newest().position)
    }
}

/// What a fold did: the state, and what it read to get there.
#[derive(Clone, Debug)]
pub struct Folded<S = ReadState> {
    /// The state after the fold.
    pub state: S,
    /// Entries read.
    pub events: u64,
    /// Entries that could not be applied (malformed or unknown), by position.
    pub skipped: Vec<MalformedEvent>,
    /// Holes crossed (the rule of [`crate::engine::holes`]: at once).
    pub holes: Vec<Hole>,
}

/// What a scan of the ledger read: entries, and the holes between them.
#[derive(Clone, Debug, Default)]
pub(crate) struct Scan {
    /// Entries handed on.
    pub entries: u64,
    /// Holes crossed.
    pub holes: Vec<Hole>,
}

/// An entry of a page a scan reads: its position is all the scan looks at,
/// and how a page of them is read.
pub(crate) trait Paged: Send + Sized + 'static {
    fn position(&self) -> u64;
    /// Reads `limit` entries from `from` (a task of its own runs it); the
    /// page may leave decoding them to [`LedgerPage::decode`].
    fn read(ledger: Arc<dyn EventLedger>, from: u64, limit: usize) -> PageFuture<Self>;
}

pub(crate) type PageFuture<E> =
    std::pin::Pin<Box<dyn Future<Output = StoreResult<LedgerPage<E>>> + Send>>;

impl Paged for LedgerEntry {
    fn position(&self) -> u64 {
        entry_position(self)
    }
    fn read(ledger: Arc<dyn EventLedger>, from: u64, limit: usize) -> PageFuture<Self> {
        Box::pin(async move {
            let entries = ledger.read_range(from, limit).await?;
            Ok(LedgerPage::decoded(entries, entry_position))
        })
    }
}

impl Paged for FoldEntry {
    fn position(&self) -> u64 {
        FoldEntry::position(self)
    }
    fn read(ledger: Arc<dyn EventLedger>, from: u64, limit: usize) -> PageFuture<Self> {
        Box::pin(async move { ledger.read_fold_page(from, limit).await })
    }
}

/// A scan's reader task: aborted when dropped (a scan that stops early
/// stops its reader).
struct Reader(Option<tokio::task::JoinHandle<()>>);

impl Reader {
    /// Waits for it to end: a reader that panicked is an error, never a
    /// ledger that ended early.
    async fn finished(mut self) -> EngineResult<()> {
        match self.0.take() {
            Some(task) => task.await.map_err(|e| {
                EngineError::from(StoreError::Failed {
                    store: "ledger".into(),
                    message: format!("reading the ledger stopped: {e}"),
                })
            }),
            None => Ok(()),
        }
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        if let Some(task) = &self.0 {
            task.abort();
        }
    }
}

/// Pages decoded (or being decoded) ahead of the one handed on.
const PAGES_AHEAD: usize = 2;

impl Engine {
    /// Folds ledger entries after the state's position up to `to` into
    /// `state`. Progress (the events read) goes to `job`, which can also
    /// cancel it.
    pub async fn fold_until<S: EventFold>(
        &self,
        mut state: S,
        to: u64,
        job: &JobControl,
    ) -> EngineResult<Folded<S>> {
        let mut skipped = Vec::new();
        let after = state.folded_to();
        let scan = self
            .scan_entries(after, to, FOLD_PAGE, job, |entry: FoldEntry| {
                fold_entry(&mut state, &mut skipped, entry)
            })
            .await?;
        Ok(Folded {
            state,
            events: scan.entries,
            skipped,
            holes: scan.holes,
        })
    }

    /// Hands every ledger entry after `after` up to `to` to `visit`, in
    /// order (as `E`: stored entries, or decoded by the ledger's fastest
    /// decoding), reading `page` entries at a time; returns how many, and the
    /// holes crossed between them. `job` hears the running count after each
    /// page ([`Phase::Reading`]) and can cancel between pages.
    pub(crate) async fn scan_entries<E: Paged>(
        &self,
        after: u64,
        to: u64,
        page: usize,
        job: &JobControl,
        mut visit: impl FnMut(E),
    ) -> EngineResult<Scan> {
        let started = std::time::Instant::now();
        let total = to.saturating_sub(after);
        let mut folded = 0;
        let mut holes = Vec::new();
        let mut previous = after;
        // A reader task reads page after page on the store's connection and
        // hands each on while it decodes on a thread of its own: reading,
        // decoding and what `visit` does run at once, on both cores. At most
        // `PAGES_AHEAD` pages wait to be handed on.
        let (pages, mut decoded) = tokio::sync::mpsc::channel(PAGES_AHEAD);
        let ledger = self.stores.ledger.clone();
        let reader = Reader(Some(tokio::spawn(async move {
            let mut from = after + 1;
            while from <= to {
                let want = ((to - (from - 1)) as usize).min(page.max(1));
                let read = match E::read(ledger.clone(), from, want).await {
                    Ok(read) => read,
                    Err(e) => {
                        let _ = pages.send(Err(e)).await;
                        return;
                    }
                };
                let (count, last) = (read.count, read.last.max(from - 1));
                let decoding = tokio::task::spawn_blocking(move || read.decode());
                if pages.send(Ok(decoding)).await.is_err() || count < want || count == 0 {
                    return;
                }
                from = last + 1;
            }
        })));
        while let Some(next) = decoded.recv().await {
            if job.is_cancelled() {
                return Err(EngineError::Cancelled);
            }
            let entries = next?.await.map_err(|e| StoreError::Failed {
                store: "ledger".into(),
                message: format!("reading a page stopped: {e}"),
            })?;
            if entries.is_empty() {
                break;
            }
            for entry in entries {
                let at = entry.position();
                if at > to {
                    break;
                }
                holes.extend(holes_between(previous, [at]));
                previous = previous.max(at);
                folded += 1;
                visit(entry);
            }
            job.step(Phase::Reading, folded, total, started);
        }
        reader.finished().await?;
        Ok(Scan {
            entries: folded,
            holes,
        })
    }

    /// `position` clamped to the head, and the snapshots a state there
    /// starts from.
    pub(crate) async fn nearest_snapshot(
        &self,
        position: u64,
    ) -> EngineResult<(u64, Option<Nearest>)> {
        let (target, nearest, _) = self.start_of(position).await?;
        Ok((target, nearest))
    }

    /// [`Engine::nearest_snapshot`], and the history snapshot to read the
    /// state from instead when one holds it and the snapshots before it
    /// leave more than a delta interval of events to fold.
    pub(crate) async fn start_of(
        &self,
        position: u64,
    ) -> EngineResult<(u64, Option<Nearest>, Option<SnapshotMeta>)> {
        let head = self.stores.ledger.head().await?;
        let target = position.min(head);
        let list = self.usable_snapshots().await?;
        let nearest = Nearest::find(&list, target);
        let limit = match self.config.snapshot_delta_every {
            0 => self.config.snapshot_every.max(1),
            every => every,
        };
        let history = Nearest::history_for(&list, target, nearest.as_ref(), limit);
        Ok((target, nearest, history))
    }

    /// The state as of `position` (clamped to the head).
    pub async fn state_at(&self, position: u64) -> EngineResult<StateAt> {
        let started = std::time::Instant::now();
        let (target, snapshot, history) = self.start_of(position).await?;
        // Taken out of the cache (and put back unless folded on), so that a
        // state no one else holds is folded on in place instead of copied.
        let cached = self.take_cached_fold();
        let usable = cached.as_ref().is_some_and(|c| {
            // A cached fold at or after the full snapshot folds at most one
            // interval of events: cheaper than reading every row of the
            // snapshot, even with a delta nearer the target.
            c.position <= target
                && (history.is_none() || c.position == target)
                && snapshot
                    .as_ref()
                    .is_none_or(|s| s.full.position <= c.position)
        });
        let cached = match cached {
            Some(c) if usable => Some(c),
            other => {
                if let Some(c) = other {
                    self.remember_fold(c);
                }
                None
            }
        };
        // Entries a delta base could not apply (those after a full snapshot
        // are reported, as when the events are folded).
        let mut skipped_before = Vec::new();
        let (base_state, base) = match (cached, snapshot) {
            (Some(c), _) if c.position == target => {
                self.remember_fold(c.clone());
                let position = c.position;
                return Ok(StateAt {
                    state: c,
                    base: FoldBase::Cached { position },
                    folded_events: 0,
                    skipped: Vec::new(),
                    base_us: 0,
                    fold_us: 0,
                });
            }
            (Some(c), _) => {
                let position = c.position;
                let owned = Arc::try_unwrap(c).unwrap_or_else(|shared| (*shared).clone());
                (owned, FoldBase::Cached { position })
            }
            (None, _) if let Some(history) = history => {
                let view = self.history_view(&history, target).await?;
                skipped_before = view.skipped.clone();
                (view.materialize().await?, view.from.clone())
            }
            (None, Some(nearest)) => {
                let (id, position) = (nearest.newest().id, nearest.end());
                // The same base a state view starts from, materialized.
                let view = self.snapshot_view(&nearest).await?;
                skipped_before = view.skipped.clone();
                let state = view.materialize().await?;
                (state, FoldBase::Snapshot { id, position })
            }
            (None, None) => match self.pass_state_at(target).await? {
                Some((state, skipped)) => {
                    skipped_before = skipped;
                    let position = state.position;
                    (state, FoldBase::Pass { position })
                }
                None => (ReadState::default(), FoldBase::Zero),
            },
        };
        let base_us = started.elapsed().as_micros() as u64;
        if base_state.position == target {
            let state = Arc::new(base_state);
            return Ok(StateAt {
                state,
                base,
                folded_events: 0,
                skipped: skipped_before,
                base_us,
                fold_us: 0,
            });
        }
        let Folded {
            state,
            events: folded_events,
            skipped,
            ..
        } = self
            .fold_until(base_state, target, &JobControl::default())
            .await?;
        skipped_before.extend(skipped);
        let skipped = skipped_before;
        let state = Arc::new(state);
        self.remember_fold(state.clone());
        Ok(StateAt {
            state,
            base,
            folded_events,
            skipped,
            base_us,
            fold_us: (started.elapsed().as_micros() as u64).saturating_sub(base_us),
        })
    }

    /// Folds from zero with no snapshot or cache: the reference for checks.
    pub async fn fold_from_zero(&self, position: u64) -> EngineResult<ReadState> {
        Ok(self
            .fold_until(ReadState::default(), position, &JobControl::default())
            .await?
            .state)
    }

    /// Row-level difference between the states at two positions.
    pub async fn diff_positions(&self, from: u64, to: u64) -> EngineResult<StateDiff> {
        let a = self.state_at(from).await?.state;
        let b = self.state_at(to).await?.state;
        Ok(a.diff(&b))
    }

    /// Reads one ledger page for the timeline.
    pub async fn ledger_page(&self, from: u64, limit: usize) -> EngineResult<Vec<LedgerEntry>> {
        Ok(self.stores.ledger.read_range(from, limit).await?)
    }
}

/// Folds one ledger entry into `state`; one that could not be decoded or
/// read is moved past and kept in `skipped`.
pub(crate) fn fold_entry<S: EventFold>(
    state: &mut S,
    skipped: &mut Vec<MalformedEvent>,
    entry: FoldEntry,
) {
    match entry {
        FoldEntry::Event { position, event } => state.fold_decoded(position, event),
        FoldEntry::Undecodable { position, reason } => {
            state.advance(position);
            skipped.push(MalformedEvent {
                position,
                reason,
                raw: String::new(),
            });
        }
        FoldEntry::Malformed(bad) => {
            state.advance(bad.position);
            skipped.push(bad);
        }
    }
}
