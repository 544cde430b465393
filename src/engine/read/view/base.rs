//! A view's base: a snapshot's directory and index, its rows read a page
//! at a time.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use uuid::Uuid;

use super::row::ViewRow;
use super::{
    CACHED_PAGES, PAGES_PER_READ, Page, PageCache, Rows, ViewBase, bad_snapshot, cached_pages,
    chunks_missing,
};
use crate::domain::{ReadState, Table};
use crate::engine::snapshot_pages::{self, DirEntry, SnapshotIndex};
use crate::engine::snapshot_rows::FormatError;
use crate::engine::{EngineError, EngineResult};
use crate::store::{MalformedEvent, SnapshotMeta, SnapshotStore};

impl ViewBase {
    pub(super) fn new(snapshot: Option<SnapshotMeta>, index: SnapshotIndex, rows: Rows) -> Self {
        let cancelled = index
            .entries(Table::Bookings)
            .iter()
            .filter(|e| e.cancelled())
            .count() as u64;
        Self::with_rows(snapshot, index, rows, cancelled)
    }

    /// A base over `index` whose rows are in `rows`, `cancelled` of its
    /// bookings cancelled (counted by whoever wrote the index: a pass over
    /// a million entries less).
    pub(crate) fn with_rows(
        snapshot: Option<SnapshotMeta>,
        index: SnapshotIndex,
        rows: Rows,
        cancelled: u64,
    ) -> Self {
        ViewBase {
            snapshot,
            index,
            rows,
            cancelled,
            cache: Mutex::new(PageCache::default()),
        }
    }

    /// Its rows, when they come from a history snapshot.
    pub(crate) fn history(&self) -> Option<&super::history::HistoryRows> {
        match &self.rows {
            Rows::History(rows) => Some(rows),
            _ => None,
        }
    }

    /// The entries up to its position that could not be applied, when it
    /// knows them (a history base; a full snapshot does not record them).
    pub(crate) fn skipped_before(&self) -> Vec<MalformedEvent> {
        let at = self.position();
        self.history()
            .map(|rows| {
                let skipped = &rows.source.index().skipped;
                skipped
                    .iter()
                    .filter(|b| b.position <= at)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The empty state (position 0).
    pub fn empty() -> Self {
        Self::from_state(None, ReadState::default())
    }

    /// A base over a state already in memory.
    pub fn from_state(snapshot: Option<SnapshotMeta>, state: ReadState) -> Self {
        /// A table's rows moved out in key order, with their directory.
        fn split<R>(
            table: BTreeMap<Uuid, R>,
            entry: fn(&R) -> DirEntry,
        ) -> (Vec<DirEntry>, Vec<R>) {
            let mut entries = Vec::with_capacity(table.len());
            let rows = table
                .into_values()
                .inspect(|row| entries.push(entry(row)))
                .collect();
            (entries, rows)
        }
        let ReadState {
            position,
            users,
            bookings,
        } = state;
        // One table per core: at a million events, 1.2M rows.
        let ((user_entries, users), (booking_entries, bookings)) = std::thread::scope(|scope| {
            let bookings = scope.spawn(move || split(bookings, DirEntry::of_booking));
            let users = split(users, DirEntry::of_user);
            match bookings.join() {
                Ok(bookings) => (users, bookings),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        });
        let index = SnapshotIndex::from_entries(
            position,
            snapshot_pages::PAGE_ROWS,
            &user_entries,
            &booking_entries,
            Vec::new(),
        );
        Self::new(snapshot, index, Rows::Memory { users, bookings })
    }

    /// A stored paged snapshot whose index chunk (checksum already checked)
    /// decodes to `index`.
    pub(crate) fn stored(
        store: Arc<dyn SnapshotStore>,
        meta: SnapshotMeta,
        index: SnapshotIndex,
    ) -> EngineResult<Self> {
        if index.position != meta.position || index.chunks() != meta.chunks {
            return Err(bad_snapshot(
                &meta,
                format!(
                    "the index says position {} in {} chunks; the metadata says {} in {}",
                    index.position,
                    index.chunks(),
                    meta.position,
                    meta.chunks
                ),
            ));
        }
        Ok(Self::new(Some(meta), index, Rows::Stored(store)))
    }

    /// The position the base reflects.
    pub fn position(&self) -> u64 {
        self.index.position
    }

    /// The directory of one table.
    pub fn entries(&self, table: Table) -> &[DirEntry] {
        self.index.entries(table)
    }

    pub(super) fn ordinal(&self, table: Table, key: Uuid) -> Option<usize> {
        self.entries(table)
            .binary_search_by(|e| e.id().cmp(&key))
            .ok()
    }

    pub(super) fn bad(&self, reason: String) -> EngineError {
        match &self.snapshot {
            Some(meta) => bad_snapshot(meta, reason),
            None => EngineError::BadSnapshot {
                id: "(in memory)".into(),
                reason,
            },
        }
    }

    /// Pages `first .. first + count` of a table from the store (not cached).
    async fn read_pages(
        &self,
        table: Table,
        first: u32,
        count: u32,
    ) -> EngineResult<Vec<Arc<Page>>> {
        let (Rows::Stored(store), Some(meta)) = (&self.rows, &self.snapshot) else {
            return Err(self.bad("in-memory rows have no pages".into()));
        };
        let chunk0 = self.index.chunk_of(table, first);
        let chunks = store
            .load_snapshot_chunk_range(meta.id, chunk0, count)
            .await?;
        if chunks.len() != count as usize {
            return Err(self.bad(chunks_missing(chunks.len(), count, chunk0)));
        }
        self.decode_pages(table, first, chunks).await
    }

    /// Every row of a table, in key order, moved out of freshly read pages.
    pub(super) async fn all_rows<R: ViewRow>(&self) -> EngineResult<Vec<R>> {
        match &self.rows {
            Rows::Memory { .. } => return Ok(R::of_memory(&self.rows).to_vec()),
            Rows::History(rows) => return rows.all_rows().await,
            Rows::Stored(_) => {}
        }
        let pages = self.index.pages(R::TABLE);
        let mut out = Vec::with_capacity(self.entries(R::TABLE).len());
        let mut at = 0;
        while at < pages {
            let count = PAGES_PER_READ.min(pages - at);
            for page in self.read_pages(R::TABLE, at, count).await? {
                match Arc::try_unwrap(page) {
                    Ok(page) => out.extend(R::into_rows(page)),
                    Err(shared) => out.extend(R::of_page(&shared).unwrap_or(&[]).iter().cloned()),
                }
            }
            at += count;
        }
        Ok(out)
    }

    /// Pages `first .. first + count` of a table, from the cache or the store.
    pub(super) async fn pages(
        &self,
        table: Table,
        first: u32,
        count: u32,
    ) -> EngineResult<Vec<Arc<Page>>> {
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

    /// Checks and decodes stored page chunks (off the async workers).
    async fn decode_pages(
        &self,
        table: Table,
        page0: u32,
        chunks: Vec<Vec<u8>>,
    ) -> EngineResult<Vec<Arc<Page>>> {
        let chunk0 = self.index.chunk_of(table, page0) as usize;
        let digests: Vec<[u8; 32]> = self
            .index
            .page_sha256
            .get(chunk0.saturating_sub(1)..chunk0.saturating_sub(1) + chunks.len())
            .map(<[[u8; 32]]>::to_vec)
            .unwrap_or_default();
        if digests.len() != chunks.len() || chunk0 == 0 {
            return Err(self.bad(format!("page {page0} is not in the index")));
        }
        let decoded = tokio::task::spawn_blocking(move || {
            chunks
                .iter()
                .zip(&digests)
                .enumerate()
                .map(|(i, (bytes, digest))| {
                    if snapshot_pages::sha256(bytes) != *digest {
                        return Err(FormatError(format!(
                            "page {} does not match its checksum",
                            page0 + i as u32
                        )));
                    }
                    match table {
                        Table::Users => snapshot_pages::decode_user_page(bytes).map(Page::Users),
                        Table::Bookings => {
                            snapshot_pages::decode_booking_page(bytes).map(Page::Bookings)
                        }
                    }
                })
                .collect::<Result<Vec<Page>, FormatError>>()
        })
        .await
        .map_err(|e| self.bad(format!("decoding stopped: {e}")))?
        .map_err(|e| self.bad(e.to_string()))?;
        // Each page must hold exactly the rows the directory says it does.
        let entries = self.entries(table);
        let page_rows = self.index.page_rows as usize;
        let mut pages = Vec::with_capacity(decoded.len());
        for (i, page) in decoded.into_iter().enumerate() {
            let start = (page0 as usize + i) * page_rows;
            let expected = entries.get(start..(start + page_rows).min(entries.len()));
            let ids: Vec<Uuid> = match &page {
                Page::Users(rows) => rows.iter().map(|r| r.user_id).collect(),
                Page::Bookings(rows) => rows.iter().map(|r| r.booking_id).collect(),
            };
            let matches = expected.is_some_and(|want| {
                want.len() == ids.len() && want.iter().zip(&ids).all(|(e, id)| e.id() == *id)
            });
            if !matches {
                return Err(self.bad(format!(
                    "page {} holds other rows than its index lists",
                    page0 as usize + i
                )));
            }
            pages.push(Arc::new(page));
        }
        Ok(pages)
    }
}
