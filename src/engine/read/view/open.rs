//! Opening views on the engine: the base of a snapshot, the view at a
//! position (from a snapshot, a history or a fold) and the deltas between.

use std::sync::Arc;
use std::time::Instant;

use uuid::Uuid;

use super::StateView;
use super::{FAR_FOLD, VIEW_PAGE, ViewBase, bad_snapshot, view_stopped};
use crate::domain::ReadState;
use crate::engine::snapshot_delta::{self, Changes, Delta};
use crate::engine::snapshot_pages::{self};
use crate::engine::snapshot_rows::FormatError;
use crate::engine::timetravel::{FoldBase, Nearest};
use crate::engine::{Engine, EngineError, EngineResult};
use crate::store::{MalformedEvent, SnapshotMeta};

/// What a snapshot in a format this build does not read says.
pub(crate) const UNREADABLE_FORMAT: &str = "it is in a format this build does not read (taken by an earlier build); new snapshots are taken instead";

impl Engine {
    /// The base of a full snapshot: its index (shared with any live view on
    /// the same snapshot).
    pub async fn view_base(&self, meta: &SnapshotMeta) -> EngineResult<Arc<ViewBase>> {
        if meta.is_history() {
            return self.history_base(meta, meta.position).await;
        }
        if !meta.is_full() {
            return Err(bad_snapshot(
                meta,
                "is a delta: its view starts from its full snapshot",
            ));
        }
        if meta.id.is_nil() {
            return Ok(Arc::new(ViewBase::empty()));
        }
        if let Some(live) = self.live_base(meta.id, meta.position) {
            return Ok(live);
        }
        let first = self
            .stores
            .snapshots
            .load_snapshot_chunk_range(meta.id, 0, 1)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| bad_snapshot(meta, "no chunk is stored"))?;
        if !snapshot_pages::is_paged(&first) {
            return Err(bad_snapshot(meta, UNREADABLE_FORMAT));
        }
        self.paged_base(meta, first).await
    }

    /// The base of a paged snapshot whose first chunk (the index) is read.
    pub(crate) async fn paged_base(
        &self,
        meta: &SnapshotMeta,
        first: Vec<u8>,
    ) -> EngineResult<Arc<ViewBase>> {
        if let Some(live) = self.live_base(meta.id, meta.position) {
            return Ok(live);
        }
        // The checksum runs on a second thread while the directory is
        // checked; the chunk's bytes become the directory (no copy).
        let Some(expected) = meta.index_xxh3.clone() else {
            return Err(bad_snapshot(meta, UNREADABLE_FORMAT));
        };
        let (index, digest) =
            tokio::task::spawn_blocking(move || snapshot_pages::decode_index_owned(first))
                .await
                .map_err(|e| bad_snapshot(meta, format!("decoding stopped: {e}")))?
                .map_err(|e| bad_snapshot(meta, e.to_string()))?;
        // The checksum first: changed bytes are reported as such, whatever
        // they did to the layout.
        if digest != expected {
            return Err(bad_snapshot(
                meta,
                "checksum mismatch (the stored index changed)",
            ));
        }
        let index = index.map_err(|e| bad_snapshot(meta, format!("bad index: {e}")))?;
        let store = self.stores.snapshots.clone();
        let base = Arc::new(ViewBase::stored(store, meta.clone(), index)?);
        self.keep_base(meta.id, meta.position, &base);
        Ok(base)
    }

    /// A live base on snapshot `id` at position `at`.
    pub(crate) fn live_base(&self, id: Uuid, at: u64) -> Option<Arc<ViewBase>> {
        crate::engine::sync::lock(&self.view_bases, "snapshot bases")
            .iter()
            .find(|(have, position, _)| *have == id && *position == at)
            .and_then(|(_, _, weak)| weak.upgrade())
    }

    pub(crate) fn keep_base(&self, id: Uuid, at: u64, base: &Arc<ViewBase>) {
        let mut bases = crate::engine::sync::lock(&self.view_bases, "snapshot bases");
        bases.retain(|(_, _, weak)| weak.strong_count() > 0);
        bases.push((id, at, Arc::downgrade(base)));
    }

    /// The state as of `position` (clamped to the head) as a view: the
    /// nearest full snapshot's index, the newest delta of it (if any) and the
    /// events after those. Reads no snapshot rows until they are asked for.
    pub async fn state_view(&self, position: u64) -> EngineResult<StateView> {
        let (target, nearest, history) = self.start_of(position).await?;
        if let Some(history) = history {
            return self.history_view(&history, target).await;
        }
        let far = match self.config.snapshot_every {
            0 => FAR_FOLD,
            every => every.saturating_mul(2).min(FAR_FOLD),
        };
        if nearest.is_none() && target > far {
            return self.folded_view(target).await;
        }
        let full = nearest.as_ref().map(|n| n.full.clone());
        let full_position = full.as_ref().map_or(0, |meta| meta.position);
        let after = nearest.as_ref().map_or(full_position, Nearest::end);
        let from = match &nearest {
            Some(n) => FoldBase::Snapshot {
                id: n.newest().id,
                position: n.end(),
            },
            None => FoldBase::Zero,
        };
        // The snapshot's index, its delta and the events after them are read
        // at the same time: the index decodes on another core meanwhile.
        let load_base = async {
            let started = Instant::now();
            let base = match &full {
                Some(meta) => self.view_base(meta).await?,
                None => Arc::new(ViewBase::empty()),
            };
            Ok::<_, EngineError>((base, started.elapsed().as_micros() as u64))
        };
        let load_delta = async {
            match &nearest {
                Some(nearest) => self.load_chain(nearest).await,
                None => Ok(None),
            }
        };
        let scan = async {
            let started = Instant::now();
            let mut changes = Changes::default();
            let mut skipped = Vec::new();
            let (folded, reached) = self
                .scan_changes(after, target, &mut changes, &mut skipped)
                .await?;
            let fold_us = started.elapsed().as_micros() as u64;
            Ok::<_, EngineError>((folded, changes, skipped, reached, fold_us))
        };
        // The small delta first: it then decodes while the index is read.
        let (delta, loaded, scanned) = tokio::join!(load_delta, load_base, scan);
        let (base, base_us) = loaded?;
        let (folded, later, later_skipped, reached, fold_us) = scanned?;
        if base.position() != full_position {
            return Err(base.bad(format!(
                "the snapshot's rows are at position {}, its metadata says {full_position}",
                base.position()
            )));
        }
        // A history base knows the entries before it that could not be applied.
        let mut skipped = base.skipped_before();
        let changes = match delta? {
            Some(mut delta) => {
                snapshot_delta::append(&mut delta.changes, later);
                skipped.extend(delta.skipped);
                delta.changes
            }
            None => later,
        };
        skipped.extend(later_skipped);
        let view = tokio::task::spawn_blocking(move || StateView::new(base, reached, changes))
            .await
            .map_err(view_stopped)?;
        Ok(StateView {
            from,
            folded_events: folded,
            skipped,
            base_us,
            fold_us,
            ..view
        })
    }

    /// The state at `target` folded into memory, as a view: from what the
    /// history pass running in this process has folded, if one runs, else
    /// from zero.
    async fn folded_view(&self, target: u64) -> EngineResult<StateView> {
        let started = Instant::now();
        let (start, mut skipped, from) = match self.pass_state_at(target).await? {
            Some((state, skipped)) => {
                let position = state.position;
                (state, skipped, FoldBase::Pass { position })
            }
            None => (ReadState::default(), Vec::new(), FoldBase::Zero),
        };
        let folded = self
            .fold_until(start, target, &crate::engine::job::JobControl::default())
            .await?;
        let fold_us = started.elapsed().as_micros() as u64;
        skipped.extend(folded.skipped);
        let state = folded.state;
        let base = tokio::task::spawn_blocking(move || ViewBase::from_state(None, state))
            .await
            .map_err(view_stopped)?;
        Ok(StateView {
            from,
            folded_events: folded.events,
            skipped,
            fold_us,
            ..StateView::of_base(Arc::new(base))
        })
    }

    /// The state at `at` (at most its position) a history snapshot holds, as
    /// a view (no events read).
    pub(crate) async fn history_view(
        &self,
        meta: &SnapshotMeta,
        at: u64,
    ) -> EngineResult<StateView> {
        let started = Instant::now();
        let base = self.history_base(meta, at).await?;
        let skipped = base.skipped_before();
        let view = StateView::of_base(base);
        Ok(StateView {
            from: FoldBase::History {
                id: meta.id,
                position: meta.position,
            },
            skipped,
            base_us: started.elapsed().as_micros() as u64,
            ..view
        })
    }

    /// The state a full snapshot and (optionally) a delta of it hold, as a
    /// view (no events read).
    pub(crate) async fn snapshot_view(&self, nearest: &Nearest) -> EngineResult<StateView> {
        let (base, delta) = tokio::join!(self.view_base(&nearest.full), self.load_chain(nearest));
        let base = base?;
        let mut skipped = base.skipped_before();
        Ok(match delta? {
            Some(delta) => {
                skipped.extend(delta.skipped);
                let view = StateView::new(base, delta.position, delta.changes);
                StateView { skipped, ..view }
            }
            None => StateView {
                skipped,
                ..StateView::of_base(base)
            },
        })
    }

    /// Reads the ledger entries after `after` up to `to` as row changes,
    /// appended per key to `changes`; entries that cannot be applied go to
    /// `skipped`. Returns (entries read, the last position read).
    pub(crate) async fn scan_changes(
        &self,
        after: u64,
        to: u64,
        changes: &mut Changes,
        skipped: &mut Vec<MalformedEvent>,
    ) -> EngineResult<(u64, u64)> {
        let mut reached = after;
        let scan = self
            .scan_entries(
                after,
                to,
                VIEW_PAGE,
                &crate::engine::job::JobControl::default(),
                |entry| match entry {
                    Ok(event) => {
                        reached = reached.max(event.position);
                        match event.decode() {
                            Ok(domain) => {
                                snapshot_delta::add_event(changes, event.position, &domain)
                            }
                            Err(error) => skipped.push(MalformedEvent {
                                position: event.position,
                                reason: error.to_string(),
                                raw: String::new(),
                            }),
                        }
                    }
                    Err(bad) => {
                        reached = reached.max(bad.position);
                        skipped.push(bad);
                    }
                },
            )
            .await?;
        Ok((scan.entries, reached))
    }

    /// The changes since `nearest.full` up to its delta, as one delta of
    /// it: the delta alone, or each link of its chain loaded (side by side),
    /// checked and appended in order. `None` without a delta.
    pub(crate) async fn load_chain(&self, nearest: &Nearest) -> EngineResult<Option<Delta>> {
        let Some(last) = &nearest.delta else {
            return Ok(None);
        };
        let chain: Vec<&SnapshotMeta> = nearest.links.iter().chain([last]).collect();
        let ofs = std::iter::once(&nearest.full).chain(nearest.links.iter());
        let loads = chain
            .iter()
            .zip(ofs)
            .map(|(link, of)| self.load_delta(of, link));
        let mut links = futures_util::future::try_join_all(loads).await?.into_iter();
        let Some(mut whole) = links.next() else {
            return Ok(None);
        };
        for link in links {
            snapshot_delta::append(&mut whole.changes, link.changes);
            whole.skipped.extend(link.skipped);
            whole.events += link.events;
            whole.position = link.position;
        }
        if let Some(upto) = nearest.upto.filter(|upto| *upto < whole.position) {
            // (the entries after it are not counted: `events` is not read
            // from a delta that is cut)
            for table in &mut whole.changes {
                table.retain(|_, list| {
                    list.truncate(crate::engine::snapshot_history::changes_up_to(list, upto).len());
                    !list.is_empty()
                });
            }
            whole.skipped.retain(|bad| bad.position <= upto);
            whole.position = upto;
        }
        Ok(Some(whole))
    }

    /// Loads a delta snapshot of `full` (or of the delta before it in a
    /// chain) and checks it: its checksum, and that
    /// its bytes name the same base and position as its metadata.
    pub(crate) async fn load_delta(
        &self,
        full: &SnapshotMeta,
        delta: &SnapshotMeta,
    ) -> EngineResult<Delta> {
        let chunks = self.stores.snapshots.load_snapshot_chunks(delta.id).await?;
        if chunks.len() != delta.chunks as usize {
            return Err(bad_snapshot(
                delta,
                format!("{} of {} chunks are stored", chunks.len(), delta.chunks),
            ));
        }
        let expected = delta.sha256.clone();
        let decoded = tokio::task::spawn_blocking(move || {
            let bytes = chunks.concat();
            if crate::engine::snapshot_pages::sha256_hex(&bytes) != expected {
                return Err(FormatError::from(
                    "checksum mismatch (the stored bytes changed)",
                ));
            }
            snapshot_delta::decode(&bytes)
        })
        .await
        .map_err(|e| bad_snapshot(delta, format!("decoding stopped: {e}")))?
        .map_err(|e| bad_snapshot(delta, e.to_string()))?;
        if decoded.base_id != full.id
            || decoded.base_position != full.position
            || decoded.position != delta.position
        {
            return Err(bad_snapshot(
                delta,
                format!(
                    "its bytes are a delta of {} at {} up to {}; its metadata says of {} at {} up to {}",
                    decoded.base_id,
                    decoded.base_position,
                    decoded.position,
                    full.id,
                    full.position,
                    delta.position
                ),
            ));
        }
        Ok(decoded)
    }
}
