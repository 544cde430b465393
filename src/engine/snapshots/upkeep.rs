//! Snapshot upkeep after a history snapshot, with work per appended event
//! that does not grow with the ledger (as an LSM tree keeps its runs).
//!
//! The ledger's one history pass (or a merge, below) leaves a history
//! snapshot: every row's changes up to its position. After it come
//! *pieces*, one per delta interval: a delta snapshot of the events since
//! the piece before it (the first one: since the history), that is a link
//! of a chain that starts at the history ([`Nearest`] reads the chain). A
//! piece reads only its own interval's events.
//!
//! Pieces are merged in tiers: when the newest [`TIER_PIECES`] links of the
//! chain span the same tier (a link of tier k spans about
//! `TIER_PIECES^k` intervals), they are merged into one link of the next
//! tier (their changes appended, no event read). Each change is so
//! rewritten once per tier, and the chain stays a few links per tier long.
//! Once the chain spans more than [`HISTORY_AGAIN`] full intervals and
//! more than an eighth of the history's position, it is merged with the
//! history into a new history at its end (the history's pages read, the
//! chain's changes filed into them, no event read): the ledger has then
//! grown by a fixed fraction since the last one, so that merge too costs a
//! constant amount of work per appended event.
//!
//! Retiring: links merged away are deleted on the next upkeep (a reader
//! that listed them a moment before still finds them); a new history
//! retires what the history before it made redundant (see
//! [`Engine::take_history_snapshot`]), the old history and its chain kept
//! one generation more.
//!
//! The row counts a piece records come from the entries of the keys the
//! chain touched, kept in memory between calls (rebuilt from the history
//! and the chain when another instance moved the chain on).

use std::collections::HashMap;
use std::sync::Arc;

use uuid::Uuid;

use crate::domain::state::StateCounts;
use crate::domain::{BookingRow, UserRow};
use crate::engine::cold::HISTORY_LEASE;
use crate::engine::snapshot::HISTORY_AGAIN;
use crate::engine::snapshot_delta::{self, Changes, Delta};
use crate::engine::snapshot_history::{self, HistoryFold};
use crate::engine::snapshot_pages::DirEntry;
use crate::engine::timetravel::Nearest;
use crate::engine::view::{StateView, ViewBase, bad_snapshot, entry_after};
use crate::engine::{Engine, EngineNotice, EngineResult};
use crate::store::SnapshotMeta;

/// Links of one tier merged into one link of the next.
pub const TIER_PIECES: usize = 4;
/// The chain is merged into a new history once it spans more than this
/// fraction (one in so many) of the history's position.
pub const HISTORY_MERGE_DIVISOR: u64 = 8;
/// How long the upkeep's hold on the history lease lasts unless given up.
const UPKEEP_LEASE_TTL: std::time::Duration = std::time::Duration::from_secs(600);

/// What the chain after a history changed, kept between upkeep calls: the
/// history's directory, each key the chain touched with its entry at the
/// chain's end, and the counts there.
pub(crate) struct Tail {
    /// The chain's newest link (or the history) these are at.
    top: Uuid,
    history: Arc<ViewBase>,
    entries: [HashMap<Uuid, Option<DirEntry>>; 2],
    users: u64,
    bookings: u64,
    cancelled: u64,
}

impl Tail {
    /// Files the changes of the events after `top`, and gives the counts
    /// after them.
    fn advance(&mut self, changes: &Changes) -> StateCounts {
        for (slot, table) in changes.iter().enumerate() {
            let directory = self.history.entries(crate::domain::Table::ALL[slot]);
            for (key, list) in table {
                let before = match self.entries[slot].get(key) {
                    Some(entry) => *entry,
                    None => directory
                        .binary_search_by(|e| e.id().cmp(key))
                        .ok()
                        .map(|i| directory[i]),
                };
                let after = match slot {
                    0 => entry_after::<UserRow>(*key, before, list),
                    _ => entry_after::<BookingRow>(*key, before, list),
                };
                let count = match slot {
                    0 => &mut self.users,
                    _ => &mut self.bookings,
                };
                if before.is_none() && after.is_some() {
                    *count += 1;
                }
                let cancelled = |e: Option<DirEntry>| u64::from(e.is_some_and(|e| e.cancelled()));
                self.cancelled =
                    (self.cancelled + cancelled(after)).saturating_sub(cancelled(before));
                self.entries[slot].insert(*key, after);
            }
        }
        self.counts()
    }

    fn counts(&self) -> StateCounts {
        StateCounts::of(self.users, self.bookings, self.cancelled)
    }
}

/// The tier of a link spanning `span` positions, pieces being `step` apart.
fn tier(span: u64, step: u64) -> u32 {
    (span / step.max(1)).max(1).ilog(TIER_PIECES as u64)
}

impl Engine {
    /// The upkeep after the newest history snapshot up to `head`, under the
    /// history lease: the pieces due every `step` events, the tiers merged,
    /// and the history merged when due. Returns what it took and the next
    /// position at which a piece is due (0: look again, another instance
    /// holds the lease).
    pub(crate) async fn chain_upkeep(
        &self,
        every: u64,
        step: u64,
        head: u64,
    ) -> EngineResult<(Vec<SnapshotMeta>, u64)> {
        self.guard_write("taking a snapshot")?;
        let lease = self
            .stores
            .locks
            .try_acquire(HISTORY_LEASE, &self.config.instance_id, UPKEEP_LEASE_TTL)
            .await?;
        let Some(lease) = lease else {
            return Ok((Vec::new(), 0));
        };
        let result = self.chain_upkeep_leased(every, step, head).await;
        if let Err(error) = self.stores.locks.release(&lease).await {
            tracing::warn!(lease = %lease.name, %error, "lease not released; it expires by itself");
        }
        if result.is_err() {
            // What it had filed may be ahead of what was saved.
            *self.chain_tail.lock().await = None;
        }
        result
    }

    async fn chain_upkeep_leased(
        &self,
        every: u64,
        step: u64,
        head: u64,
    ) -> EngineResult<(Vec<SnapshotMeta>, u64)> {
        let step = step.max(1);
        let list = self.usable_snapshots().await?;
        let Some(history) = list
            .iter()
            .filter(|s| s.is_history())
            .max_by_key(|s| s.position)
            .cloned()
        else {
            return Ok((Vec::new(), 0));
        };
        let mut chain = Nearest::chain_of(&list, &history, u64::MAX);
        self.delete_unchained(&list, &history, &chain).await;
        let mut taken = Vec::new();
        let mut tail = self.chain_tail.lock().await;
        let mut at = (chain.last().unwrap_or(&history).position / step + 1) * step;
        while at <= head {
            let piece = self.take_piece(&history, &chain, at, &mut tail).await?;
            chain.push(piece.clone());
            taken.push(piece);
            while let Some(merged) = self.merge_tier(&history, &mut chain, step).await? {
                if let Some(tail) = tail.as_mut() {
                    tail.top = merged.id;
                }
                taken.push(merged);
            }
            at += step;
        }
        let end = chain.last().map_or(history.position, |s| s.position);
        let span = end - history.position;
        if span > every.saturating_mul(HISTORY_AGAIN)
            && span > history.position / HISTORY_MERGE_DIVISOR
        {
            *tail = None;
            taken.push(self.merge_history(&history, &chain, &list).await?);
        }
        Ok((taken, at))
    }

    /// The entries of the keys the chain touched, at its newest link: those
    /// kept in `slot` if they are at it, else read from the history and the
    /// chain.
    async fn tail_at<'a>(
        &self,
        history: &SnapshotMeta,
        chain: &[SnapshotMeta],
        slot: &'a mut Option<Tail>,
    ) -> EngineResult<&'a mut Tail> {
        let top = chain.last().unwrap_or(history);
        if let Some(tail) = slot.take().filter(|t| t.top == top.id) {
            return Ok(slot.insert(tail));
        }
        let base = self.view_base(history).await?;
        let nearest = Nearest {
            full: history.clone(),
            delta: chain.last().cloned(),
            links: chain[..chain.len().saturating_sub(1)].to_vec(),
            upto: None,
        };
        let changes = self
            .load_chain(&nearest)
            .await?
            .map(|d| d.changes)
            .unwrap_or_default();
        let position = top.position;
        let tail = tokio::task::spawn_blocking({
            let (base, top) = (base.clone(), top.id);
            move || {
                let view = StateView::new(base.clone(), position, changes);
                let entries = view.touched_entries().map(|keys| keys.collect());
                let counts = view.counts();
                Tail {
                    top,
                    history: base,
                    entries,
                    users: counts.users,
                    bookings: counts.bookings,
                    cancelled: counts
                        .bookings_by_status
                        .get(crate::domain::BookingStatus::Cancelled.as_str())
                        .copied()
                        .unwrap_or(0),
                }
            }
        })
        .await
        .map_err(crate::engine::view::view_stopped)?;
        Ok(slot.insert(tail))
    }

    /// Takes the piece at `at`: the row changes of the events after the
    /// chain's newest link (or the history).
    async fn take_piece(
        &self,
        history: &SnapshotMeta,
        chain: &[SnapshotMeta],
        at: u64,
        slot: &mut Option<Tail>,
    ) -> EngineResult<SnapshotMeta> {
        let top = chain.last().unwrap_or(history).clone();
        let tail = self.tail_at(history, chain, slot).await?;
        let mut delta = Delta {
            base_id: top.id,
            base_position: top.position,
            position: top.position,
            ..Delta::default()
        };
        let (read, _) = self
            .scan_changes(top.position, at, &mut delta.changes, &mut delta.skipped)
            .await?;
        delta.events = read;
        delta.position = at;
        let counts = tail.advance(&delta.changes);
        let meta = self.save_delta(&top, &delta, &counts).await?;
        tail.top = meta.id;
        Ok(meta)
    }

    /// Stores `delta` (of `of`) with the row counts at its end.
    async fn save_delta(
        &self,
        of: &SnapshotMeta,
        delta: &Delta,
        counts: &StateCounts,
    ) -> EngineResult<SnapshotMeta> {
        let bytes = snapshot_delta::encode(delta);
        self.store_delta(of, delta.position, bytes, counts).await
    }

    /// Merges the newest [`TIER_PIECES`] links of `chain` into one when they
    /// are of one tier; the merged link replaces them in `chain` (they are
    /// deleted on the next upkeep).
    async fn merge_tier(
        &self,
        history: &SnapshotMeta,
        chain: &mut Vec<SnapshotMeta>,
        step: u64,
    ) -> EngineResult<Option<SnapshotMeta>> {
        if chain.len() < TIER_PIECES {
            return Ok(None);
        }
        let first = chain.len() - TIER_PIECES;
        let of_position = |i: usize| match i {
            0 => history.position,
            i => chain[i - 1].position,
        };
        let tiers: Vec<u32> = (first..chain.len())
            .map(|i| tier(chain[i].position - of_position(i), step))
            .collect();
        if tiers.iter().any(|t| *t != tiers[0]) {
            return Ok(None);
        }
        let of = match first {
            0 => history.clone(),
            i => chain[i - 1].clone(),
        };
        let links = chain[first..].to_vec();
        let nearest = Nearest {
            full: of.clone(),
            delta: links.last().cloned(),
            links: links[..links.len() - 1].to_vec(),
            upto: None,
        };
        let Some(merged) = self.load_chain(&nearest).await? else {
            return Ok(None);
        };
        let last = &links[links.len() - 1];
        // The counts at its end are the last link's (only the rows are kept).
        let counts = StateCounts::of(last.users, last.bookings, 0);
        let meta = self.save_delta(&of, &merged, &counts).await?;
        chain.truncate(first);
        chain.push(meta.clone());
        tracing::debug!(
            snapshot = %meta.id,
            from = of.position,
            position = meta.position,
            links = TIER_PIECES,
            "snapshot pieces merged into one"
        );
        Ok(Some(meta))
    }

    /// Deletes the deltas whose chain reaches `history` but that are not
    /// links of `chain` (merged away by an earlier upkeep). A failure is
    /// logged: the next upkeep tries again.
    async fn delete_unchained(
        &self,
        list: &[SnapshotMeta],
        history: &SnapshotMeta,
        chain: &[SnapshotMeta],
    ) {
        let off: Vec<&SnapshotMeta> = Nearest::reachable(list, history, u64::MAX)
            .into_iter()
            .filter(|id| !chain.iter().any(|s| s.id == *id))
            .filter_map(|id| list.iter().find(|s| s.id == id))
            .collect();
        let mut done = Vec::new();
        for meta in off {
            match self.stores.snapshots.delete_snapshot(meta.id).await {
                Ok(()) => done.push(meta.id),
                Err(error) => {
                    tracing::warn!(snapshot = %meta.id, %error, "a merged snapshot piece stays stored; the next upkeep tries again");
                }
            }
        }
        if !done.is_empty() {
            self.bus.notify(EngineNotice::SnapshotsRetired(done));
        }
    }

    /// Merges `history` and its `chain` into a new history at the chain's
    /// end: the history's changes read page by page, the chain's filed
    /// into them, no event read. Then retires what the history before the
    /// new one made redundant.
    async fn merge_history(
        &self,
        history: &SnapshotMeta,
        chain: &[SnapshotMeta],
        list: &[SnapshotMeta],
    ) -> EngineResult<SnapshotMeta> {
        let started = std::time::Instant::now();
        let base = self.view_base(history).await?;
        let source = base
            .history()
            .map(|rows| rows.source.clone())
            .ok_or_else(|| bad_snapshot(history, "it is not read as a history"))?;
        let (users, bookings) = tokio::try_join!(
            source.all_changes(crate::domain::Table::Users),
            source.all_changes(crate::domain::Table::Bookings)
        )?;
        let (events, mut skipped) = (source.index().events, source.index().skipped.clone());
        drop((source, base));
        let nearest = Nearest {
            full: history.clone(),
            delta: chain.last().cloned(),
            links: chain[..chain.len().saturating_sub(1)].to_vec(),
            upto: None,
        };
        let Some(delta) = self.load_chain(&nearest).await? else {
            return Err(bad_snapshot(history, "no chain to merge into it"));
        };
        skipped.extend(delta.skipped.iter().cloned());
        let page_keys = self.config.snapshot_page_rows.max(1);
        let from = history.position;
        let encoded = tokio::task::spawn_blocking(move || {
            let mut fold = HistoryFold::from_sorted(from, events, [users, bookings]);
            fold.extend(delta.position, delta.events, delta.changes);
            let (position, events) = (delta.position, fold.events());
            let tables = fold.into_sorted();
            (
                position,
                events,
                snapshot_history::encode(position, events, &tables, &skipped, page_keys),
            )
        })
        .await
        .map_err(|e| bad_snapshot(history, format!("merging stopped: {e}")))?;
        let (position, events, encoded) = encoded;
        let meta = self
            .save_history(position, events, encoded.chunks, &encoded.counts, started)
            .await?;
        tracing::info!(
            snapshot = %meta.id,
            from,
            position,
            links = chain.len(),
            ms = started.elapsed().as_millis() as u64,
            "history merged with the pieces after it (no event read)"
        );
        self.retire_after(&meta, list).await;
        Ok(meta)
    }
}
