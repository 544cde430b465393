//! Views from a history snapshot ([`crate::engine::snapshot_history`]): the state at
//! any position up to the snapshot's, with no event folded. The base's
//! directory is the history's keys whose first change is at or before the
//! position (computed from the index alone); a row is read from its page and
//! its changes up to the position applied.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use uuid::Uuid;

use super::{
    CACHED_PAGES, PAGES_PER_READ, PageCache, Rows, ViewBase, ViewRow, bad_snapshot, cached_pages,
    chunks_missing,
};
use crate::domain::Table;
use crate::engine::snapshot_history::{
    self, Head, HistoryHead, HistoryIndex, KeyChanges, PartSpec,
};
use crate::engine::snapshot_rows::FormatError;
use crate::engine::snapshots::table_row::from_changes;
use crate::engine::{Engine, EngineResult};
use crate::store::{SnapshotMeta, SnapshotStore};

/// A stored history snapshot: its index and its pages (a few decoded ones
/// cached), shared by the bases of every position read from it.
pub struct HistorySource {
    store: Arc<dyn SnapshotStore>,
    meta: SnapshotMeta,
    index: HistoryIndex,
    cache: Mutex<PageCache<Vec<KeyChanges>>>,
}

/// The rows of a history base: where they come from, the position they are
/// read at, and each row's slot among the history's keys (per table).
pub struct HistoryRows {
    pub(crate) source: Arc<HistorySource>,
    pub(crate) at: u64,
    pub(crate) slots: [Vec<u32>; 2],
}

impl HistorySource {
    /// The snapshot.
    pub fn meta(&self) -> &SnapshotMeta {
        &self.meta
    }

    /// Its index.
    pub fn index(&self) -> &HistoryIndex {
        &self.index
    }

    fn bad(&self, reason: impl Into<String>) -> crate::engine::EngineError {
        bad_snapshot(&self.meta, reason)
    }

    /// Every key of a table with all its changes, in key order (every page
    /// read once, not cached).
    pub(crate) async fn all_changes(&self, table: Table) -> EngineResult<Vec<KeyChanges>> {
        let pages = self.index.pages(table);
        let mut out = Vec::new();
        let mut page = 0;
        while page < pages {
            let count = PAGES_PER_READ.min(pages - page);
            for decoded in self.read_pages(table, page, count).await? {
                out.extend(Arc::try_unwrap(decoded).unwrap_or_else(|shared| (*shared).clone()));
            }
            page += count;
        }
        Ok(out)
    }

    /// Pages `first .. first + count` of a table, from the cache or the store.
    async fn pages(
        &self,
        table: Table,
        first: u32,
        count: u32,
    ) -> EngineResult<Vec<Arc<Vec<KeyChanges>>>> {
        cached_pages(
            &self.cache,
            CACHED_PAGES,
            table,
            first,
            count,
            |page, run| self.read_pages(table, page, run),
        )
        .await
    }

    /// Reads, checks and decodes pages (not cached). Each must match its
    /// checksum and hold the changes of exactly the keys the index lists.
    async fn read_pages(
        &self,
        table: Table,
        page0: u32,
        count: u32,
    ) -> EngineResult<Vec<Arc<Vec<KeyChanges>>>> {
        let chunk0 = self.index.chunk_of(table, page0);
        let chunks = self
            .store
            .load_snapshot_chunk_range(self.meta.id, chunk0, count)
            .await?;
        if chunks.len() != count as usize {
            return Err(self.bad(chunks_missing(chunks.len(), count, chunk0)));
        }
        // The digests are the pages', in the order of their chunks.
        let first_digest = (chunk0 - self.index.chunk_of(Table::Users, 0)) as usize;
        let digests: Vec<u128> = self
            .index
            .page_xxh3
            .get(first_digest..first_digest + chunks.len())
            .map(<[u128]>::to_vec)
            .ok_or_else(|| self.bad(format!("page {page0} is not in the index")))?;
        let keys: Vec<Vec<snapshot_history::HistoryKey>> = (0..chunks.len() as u32)
            .map(|i| self.index.keys_of_page(table, page0 + i).to_vec())
            .collect();
        let pages = tokio::task::spawn_blocking(move || {
            chunks
                .iter()
                .zip(&digests)
                .zip(&keys)
                .enumerate()
                .map(|(i, ((bytes, digest), keys))| {
                    if snapshot_history::page_digest(bytes) != *digest {
                        return Err(FormatError(format!(
                            "page {} does not match its checksum",
                            page0 + i as u32
                        )));
                    }
                    snapshot_history::decode_page(bytes, table, keys)
                        .map_err(|e| FormatError(format!("page {}: {e}", page0 + i as u32)))
                })
                .collect::<Result<Vec<_>, FormatError>>()
        })
        .await
        .map_err(|e| self.bad(format!("decoding stopped: {e}")))?
        .map_err(|e| self.bad(e.to_string()))?;
        Ok(pages.into_iter().map(Arc::new).collect())
    }
}

impl HistoryRows {
    /// The rows with these ordinals (in the base at `at`).
    pub(crate) async fn rows<R: ViewRow>(&self, ordinals: &[usize]) -> EngineResult<Vec<R>> {
        let source = &self.source;
        let slots = &self.slots[R::TABLE.slot()];
        let mut loaded: HashMap<u32, Arc<Vec<KeyChanges>>> = HashMap::new();
        let mut out = Vec::with_capacity(ordinals.len());
        for &ordinal in ordinals {
            let slot = *slots
                .get(ordinal)
                .ok_or_else(|| source.bad(format!("row {ordinal} is not in the history")))?;
            let (page, i) = source.index.locate(slot);
            if !loaded.contains_key(&page) {
                // The pages up to the last one wanted come in one read.
                let last = ordinals
                    .iter()
                    .filter_map(|o| slots.get(*o))
                    .map(|s| source.index.locate(*s).0)
                    .max()
                    .unwrap_or(page);
                let count = (last.saturating_sub(page) + 1).min(PAGES_PER_READ);
                let count = if count as usize <= ordinals.len() {
                    count
                } else {
                    1
                };
                for (j, p) in source
                    .pages(R::TABLE, page, count)
                    .await?
                    .into_iter()
                    .enumerate()
                {
                    loaded.insert(page + j as u32, p);
                }
            }
            let (key, changes) = loaded
                .get(&page)
                .and_then(|p| p.get(i))
                .ok_or_else(|| source.bad(format!("row {ordinal} is not in its page")))?;
            let row = from_changes::<R>(*key, snapshot_history::changes_up_to(changes, self.at))
                .ok_or_else(|| source.bad(format!("row {key} does not exist at {}", self.at)))?;
            out.push(row);
        }
        Ok(out)
    }

    /// Every row of a table at `at`, in key order.
    pub(crate) async fn all_rows<R: ViewRow>(&self) -> EngineResult<Vec<R>> {
        let source = &self.source;
        let pages = source.index.pages(R::TABLE);
        let slots = &self.slots[R::TABLE.slot()];
        let mut out = Vec::with_capacity(slots.len());
        let mut page = 0;
        while page < pages {
            let count = PAGES_PER_READ.min(pages - page);
            for page in source.read_pages(R::TABLE, page, count).await? {
                for (key, changes) in page.iter() {
                    let changes = snapshot_history::changes_up_to(changes, self.at);
                    if !changes.is_empty() {
                        out.extend(from_changes::<R>(*key, changes));
                    }
                }
            }
            page += count;
        }
        if out.len() != slots.len() {
            return Err(source.bad(format!(
                "its pages hold {} rows at {}; its index {}",
                out.len(),
                self.at,
                slots.len()
            )));
        }
        Ok(out)
    }
}

impl Engine {
    /// The base at `at` (at most the snapshot's position) of a history
    /// snapshot: its directory there, its rows read a page at a time.
    pub(crate) async fn history_base(
        &self,
        meta: &SnapshotMeta,
        at: u64,
    ) -> EngineResult<Arc<ViewBase>> {
        let at = at.min(meta.position);
        if let Some(live) = self.live_base(meta.id, at) {
            return Ok(live);
        }
        let source = match self.live_history(meta.id) {
            Some(source) => source,
            None => self.load_history(meta).await?,
        };
        let base = tokio::task::spawn_blocking({
            let source = source.clone();
            move || {
                let directory = source.index.directory_at(at);
                let rows = Rows::History(HistoryRows {
                    source: source.clone(),
                    at,
                    slots: directory.slots,
                });
                ViewBase::with_rows(
                    Some(source.meta.clone()),
                    directory.index,
                    rows,
                    directory.cancelled,
                )
            }
        })
        .await
        .map_err(|e| bad_snapshot(meta, format!("reading the history stopped: {e}")))?;
        let base = Arc::new(base);
        self.keep_base(meta.id, at, &base);
        Ok(base)
    }

    /// Reads and checks a history snapshot's index.
    async fn load_history(&self, meta: &SnapshotMeta) -> EngineResult<Arc<HistorySource>> {
        let first = self
            .stores
            .snapshots
            .load_snapshot_chunk_range(meta.id, 0, 1)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| bad_snapshot(meta, "no chunk is stored"))?;
        if !snapshot_history::is_history(&first) {
            return Err(bad_snapshot(meta, crate::engine::view::UNREADABLE_FORMAT));
        }
        let Some(expected) = meta.index_xxh3.clone() else {
            return Err(bad_snapshot(meta, crate::engine::view::UNREADABLE_FORMAT));
        };
        // The checksum first: changed bytes are reported as such, whatever
        // they did to the layout.
        let head = tokio::task::spawn_blocking(move || {
            (crate::engine::snapshot_pages::xxh3_hex(&first) == expected)
                .then(|| snapshot_history::decode_head(first))
        })
        .await
        .map_err(|e| bad_snapshot(meta, format!("decoding stopped: {e}")))?
        .ok_or_else(|| bad_snapshot(meta, "checksum mismatch (the stored index changed)"))?;
        let head = head.map_err(|e| bad_snapshot(meta, format!("bad index: {e}")))?;
        // Before any part is read.
        if head.position() != meta.position || head.chunks() != meta.chunks {
            return Err(bad_snapshot(
                meta,
                format!(
                    "the index says position {} in {} chunks; the metadata says {} in {}",
                    head.position(),
                    head.chunks(),
                    meta.position,
                    meta.chunks
                ),
            ));
        }
        let index = match head {
            Head::Whole(index) => index,
            Head::Parts(head) => self.read_index_parts(meta, head).await?,
        };
        Ok(Arc::new(HistorySource {
            store: self.stores.snapshots.clone(),
            meta: meta.clone(),
            index,
            cache: Mutex::new(Default::default()),
        }))
    }

    /// Reads and checks the index parts a head lists, in two runs side by
    /// side (each read, then checked on a core of its own), and puts the
    /// index together.
    async fn read_index_parts(
        &self,
        meta: &SnapshotMeta,
        head: HistoryHead,
    ) -> EngineResult<HistoryIndex> {
        let read = |specs: Vec<PartSpec>| async move {
            let Some(first) = specs.first().map(|s| s.number + 1) else {
                return Ok(Vec::new());
            };
            let want = specs.len();
            let chunks = self
                .stores
                .snapshots
                .load_snapshot_chunk_range(meta.id, first, want as u32)
                .await?;
            if chunks.len() != want {
                return Err(bad_snapshot(
                    meta,
                    format!(
                        "{} of the {want} index parts from chunk {first} are stored",
                        chunks.len()
                    ),
                ));
            }
            tokio::task::spawn_blocking(move || {
                specs
                    .iter()
                    .zip(chunks)
                    .map(|(spec, bytes)| snapshot_history::decode_part(spec, bytes))
                    .collect::<Result<Vec<_>, FormatError>>()
            })
            .await
            .map_err(|e| bad_snapshot(meta, format!("decoding stopped: {e}")))?
            .map_err(|e| bad_snapshot(meta, format!("bad index: {e}")))
        };
        let mut specs = head.parts().to_vec();
        let second = specs.split_off(specs.len().div_ceil(2));
        let (first, second) = tokio::try_join!(read(specs), read(second))?;
        head.assemble(first.into_iter().chain(second).collect())
            .map_err(|e| bad_snapshot(meta, format!("bad index: {e}")))
    }

    /// The source of a live base on history snapshot `id`, if one is live.
    fn live_history(&self, id: Uuid) -> Option<Arc<HistorySource>> {
        crate::engine::sync::lock(&self.view_bases, "snapshot bases")
            .iter()
            .filter(|(have, _, _)| *have == id)
            .filter_map(|(_, _, weak)| weak.upgrade())
            .find_map(|base| base.history().map(|rows| rows.source.clone()))
    }
}
