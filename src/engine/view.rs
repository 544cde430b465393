//! Time travel without loading the whole state. A [`StateView`] is the state
//! at a position as three parts:
//! - a snapshot's directory: every key with the position that last changed
//!   its row (and whether a booking is cancelled), 24 bytes a row;
//! - the snapshot's rows, read a page at a time when someone looks at them;
//! - the events after the snapshot, kept per key as the row changes they make
//!   (an overlay of a few thousand keys).
//!
//! Counts, the list of keys and the difference between two views come from
//! the directory and the overlay alone. Within one ledger, a row's last
//! position names its content (every change to a row moves it), so two
//! states hold equal rows exactly where the keys and last positions agree.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::ops::Range;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::NaiveDate;
use uuid::Uuid;

use super::snapshot_delta::{self, Changes, Delta};
use super::snapshot_pages::{self, DirEntry, SnapshotIndex};
use super::snapshot_rows::FormatError;
use super::timetravel::{FoldBase, Nearest};
use super::{Engine, EngineError, EngineResult};
use crate::domain::state::{DiffKind, RowDiff, StateCounts, kind_counts, row_diff};
use crate::domain::{BookingRow, BookingStatus, ReadState, Row, RowChange, Table, UserRow};
use crate::store::{MalformedEvent, SnapshotMeta, SnapshotStore};

/// Decoded pages kept per snapshot (about 200 KB each). Few: the panels read
/// 100 rows at a time, and long scans (verify, materialize) read each page once.
pub(super) const CACHED_PAGES: usize = 16;
/// Ledger entries read per call while folding the events after a snapshot:
/// small, so that reading the next batch overlaps folding this one.
const VIEW_PAGE: usize = 1_000;
/// Pages read per store call when every row is wanted.
pub(super) const PAGES_PER_READ: u32 = 32;
/// With no snapshot to start from, a view of a position past this many
/// events (or two snapshot intervals, if fewer) folds them into a state (the fold's compact path) and reads that,
/// instead of keeping every row's changes in an overlay (about twice the time
/// and memory on a ledger of a million events).
const FAR_FOLD: u64 = 20_000;

/// A decoded page of one table.
pub enum Page {
    /// Users rows.
    Users(Vec<UserRow>),
    /// Bookings rows.
    Bookings(Vec<BookingRow>),
}

/// Where a base's rows are.
pub enum Rows {
    /// In a stored paged snapshot, read a page at a time.
    Stored(Arc<dyn SnapshotStore>),
    /// In memory: the empty base, or a state built in memory.
    Memory {
        users: Vec<UserRow>,
        bookings: Vec<BookingRow>,
    },
    /// In a stored history snapshot, read at a position up to its own.
    History(super::view_history::HistoryRows),
}

/// Decoded pages by (table, page), the oldest dropped past a bound.
pub(super) struct PageCache<T = Page> {
    pages: HashMap<(usize, u32), Arc<T>>,
    order: VecDeque<(usize, u32)>,
}

impl<T> Default for PageCache<T> {
    fn default() -> Self {
        PageCache {
            pages: HashMap::new(),
            order: VecDeque::new(),
        }
    }
}

/// Pages `first .. first + count` of `table`: those in `cache`, and the
/// others read by `read(page, count)` (one call per run of missing pages),
/// kept in the cache up to `bound` pages.
pub(super) async fn cached_pages<T, F, Fut>(
    cache: &Mutex<PageCache<T>>,
    bound: usize,
    table: Table,
    first: u32,
    count: u32,
    read: F,
) -> EngineResult<Vec<Arc<T>>>
where
    F: Fn(u32, u32) -> Fut,
    Fut: std::future::Future<Output = EngineResult<Vec<Arc<T>>>>,
{
    let mut out: Vec<Option<Arc<T>>> = {
        let cache = super::sync::lock(cache, "snapshot page cache");
        (first..first + count)
            .map(|page| cache.pages.get(&(table.slot(), page)).cloned())
            .collect()
    };
    // Contiguous runs of missing pages are read in one call each.
    let mut at = 0usize;
    while at < out.len() {
        if out[at].is_some() {
            at += 1;
            continue;
        }
        let run = out[at..].iter().take_while(|p| p.is_none()).count();
        let page0 = first + at as u32;
        let decoded = read(page0, run as u32).await?;
        {
            let mut cache = super::sync::lock(cache, "snapshot page cache");
            for (i, page) in decoded.iter().enumerate() {
                let key = (table.slot(), page0 + i as u32);
                if cache.pages.insert(key, page.clone()).is_none() {
                    cache.order.push_back(key);
                }
            }
            while cache.order.len() > bound {
                if let Some(old) = cache.order.pop_front() {
                    cache.pages.remove(&old);
                }
            }
        }
        for (i, page) in decoded.into_iter().enumerate() {
            if let Some(slot) = out.get_mut(at + i) {
                *slot = Some(page);
            }
        }
        at += run;
    }
    Ok(out.into_iter().flatten().collect())
}

/// A snapshot's directory and a way to its rows; shared by every view
/// folded on from it.
pub struct ViewBase {
    snapshot: Option<SnapshotMeta>,
    index: SnapshotIndex,
    rows: Rows,
    cancelled: u64,
    cache: Mutex<PageCache>,
}

/// The error for a view whose building thread stopped.
pub(super) fn view_stopped(error: tokio::task::JoinError) -> EngineError {
    EngineError::BadSnapshot {
        id: "(view)".into(),
        reason: format!("building the view stopped: {error}"),
    }
}

/// Why a read of `count` chunks from `first` found only `stored`: a snapshot
/// a view was opened on can be deleted under it by the retention rule.
pub(crate) fn chunks_missing(stored: usize, count: u32, first: u32) -> String {
    format!(
        "{stored} of the {count} chunks from {first} are stored (deleted since the view was opened, when a newer history snapshot replaced it, or lost); ask again to read from the snapshots stored now"
    )
}

/// The error for a snapshot that cannot be used, naming it.
pub(crate) fn bad_snapshot(meta: &SnapshotMeta, reason: impl Into<String>) -> EngineError {
    EngineError::BadSnapshot {
        id: meta.id.to_string(),
        reason: reason.into(),
    }
}

impl ViewBase {
    fn new(snapshot: Option<SnapshotMeta>, index: SnapshotIndex, rows: Rows) -> Self {
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
    pub(super) fn with_rows(
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
    pub(super) fn history(&self) -> Option<&super::view_history::HistoryRows> {
        match &self.rows {
            Rows::History(rows) => Some(rows),
            _ => None,
        }
    }

    /// The entries up to its position that could not be applied, when it
    /// knows them (a history base; a full snapshot does not record them).
    pub(super) fn skipped_before(&self) -> Vec<MalformedEvent> {
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

    fn ordinal(&self, table: Table, key: Uuid) -> Option<usize> {
        self.entries(table)
            .binary_search_by(|e| e.id().cmp(&key))
            .ok()
    }

    fn bad(&self, reason: String) -> EngineError {
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
    async fn all_rows<R: ViewRow>(&self) -> EngineResult<Vec<R>> {
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
    async fn pages(&self, table: Table, first: u32, count: u32) -> EngineResult<Vec<Arc<Page>>> {
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

/// A row type of one read table, as a view reads it.
pub trait ViewRow: Row + Sized + Send + Sync + 'static {
    /// A page of the read store's table of this row, after `after` in key order.
    fn stored_page(
        read: &dyn crate::store::ReadStore,
        after: Option<Uuid>,
        limit: usize,
    ) -> impl std::future::Future<Output = crate::store::StoreResult<Vec<Self>>> + Send;
    fn of_page(page: &Page) -> Option<&[Self]>;
    fn into_rows(page: Page) -> Vec<Self>;
    fn of_memory(rows: &Rows) -> &[Self];
    fn map(state: &mut ReadState) -> &mut BTreeMap<Uuid, Self>;
    /// A stand-in row with only what the directory knows (for counting).
    fn skeleton(key: Uuid, entry: DirEntry) -> Self;
    /// The row a change inserts, if it inserts one of this table.
    fn inserted(change: &RowChange) -> Option<&Self>;
    fn entry(&self) -> DirEntry;
}

impl ViewRow for UserRow {
    fn inserted(change: &RowChange) -> Option<&Self> {
        match change {
            RowChange::InsertUserIfAbsent(row) => Some(row),
            _ => None,
        }
    }
    async fn stored_page(
        read: &dyn crate::store::ReadStore,
        after: Option<Uuid>,
        limit: usize,
    ) -> crate::store::StoreResult<Vec<Self>> {
        read.users_page(after, limit).await
    }
    fn of_page(page: &Page) -> Option<&[Self]> {
        match page {
            Page::Users(rows) => Some(rows),
            Page::Bookings(_) => None,
        }
    }
    fn into_rows(page: Page) -> Vec<Self> {
        match page {
            Page::Users(rows) => rows,
            Page::Bookings(_) => Vec::new(),
        }
    }
    fn of_memory(rows: &Rows) -> &[Self] {
        match rows {
            Rows::Memory { users, .. } => users,
            Rows::Stored(_) | Rows::History(_) => &[],
        }
    }
    fn map(state: &mut ReadState) -> &mut BTreeMap<Uuid, Self> {
        &mut state.users
    }
    fn skeleton(key: Uuid, entry: DirEntry) -> Self {
        UserRow {
            user_id: key,
            email: String::new(),
            name: String::new(),
            address: String::new(),
            created_position: 0,
            last_position: entry.last_position(),
        }
    }
    fn entry(&self) -> DirEntry {
        DirEntry::of_user(self)
    }
}

impl ViewRow for BookingRow {
    fn inserted(change: &RowChange) -> Option<&Self> {
        match change {
            RowChange::InsertBookingIfAbsent(row) => Some(row),
            _ => None,
        }
    }
    async fn stored_page(
        read: &dyn crate::store::ReadStore,
        after: Option<Uuid>,
        limit: usize,
    ) -> crate::store::StoreResult<Vec<Self>> {
        read.bookings_page(after, limit).await
    }
    fn of_page(page: &Page) -> Option<&[Self]> {
        match page {
            Page::Bookings(rows) => Some(rows),
            Page::Users(_) => None,
        }
    }
    fn into_rows(page: Page) -> Vec<Self> {
        match page {
            Page::Bookings(rows) => rows,
            Page::Users(_) => Vec::new(),
        }
    }
    fn of_memory(rows: &Rows) -> &[Self] {
        match rows {
            Rows::Memory { bookings, .. } => bookings,
            Rows::Stored(_) | Rows::History(_) => &[],
        }
    }
    fn map(state: &mut ReadState) -> &mut BTreeMap<Uuid, Self> {
        &mut state.bookings
    }
    fn skeleton(key: Uuid, entry: DirEntry) -> Self {
        BookingRow {
            booking_id: key,
            user_id: Uuid::nil(),
            service: String::new(),
            check_in: NaiveDate::default(),
            check_out: NaiveDate::default(),
            guests: 0,
            price_cents: 0,
            status: if entry.cancelled() {
                BookingStatus::Cancelled
            } else {
                BookingStatus::Confirmed
            },
            last_position: entry.last_position(),
        }
    }
    fn entry(&self) -> DirEntry {
        DirEntry::of_booking(self)
    }
}

/// The row one key has after `changes`, starting from `base` (the same
/// rules as the fold: [`ReadState::apply_change`]).
/// A row from its changes alone (a history's): the inserted row itself when
/// that is the only change, as most rows are.
pub(super) fn from_changes<R: ViewRow>(key: Uuid, changes: &[RowChange]) -> Option<R> {
    match changes {
        [only] => R::inserted(only)
            .cloned()
            .or_else(|| resolve(key, None, changes)),
        _ => resolve(key, None, changes),
    }
}

pub(super) fn resolve<R: ViewRow>(key: Uuid, base: Option<R>, changes: &[RowChange]) -> Option<R> {
    let mut scratch = ReadState::default();
    if let Some(row) = base {
        R::map(&mut scratch).insert(key, row);
    }
    for change in changes {
        scratch.apply_change(change);
    }
    R::map(&mut scratch).remove(&key)
}

/// A key the events after the base touched, and what it became.
#[derive(Clone, Copy, Debug)]
struct Touched {
    key: Uuid,
    /// Its entry after the events (None: the row does not exist).
    entry: Option<DirEntry>,
    /// Its entry in the base (None: the base does not have it).
    before: Option<DirEntry>,
}

/// Where row `i` of a view is.
enum Slot {
    /// Base ordinal.
    Base(usize),
    /// A key the base does not have.
    New(Uuid),
}

/// The state as of a position, read lazily (see the module doc).
pub struct StateView {
    base: Arc<ViewBase>,
    position: u64,
    changes: Changes,
    touched: [Vec<Touched>; 2],
    new_keys: [Vec<Uuid>; 2],
    counts: StateCounts,
    /// What the view started from.
    pub from: FoldBase,
    /// Events folded on top of the base.
    pub folded_events: u64,
    /// Entries that could not be applied (malformed or unknown).
    pub skipped: Vec<MalformedEvent>,
    /// Microseconds spent reading and checking the snapshot's index (while
    /// the events were read: the two overlap).
    pub base_us: u64,
    /// Microseconds spent reading the events after the snapshot and folding
    /// them into the overlay (while the index was read: the two overlap).
    pub fold_us: u64,
}

impl std::fmt::Debug for StateView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateView")
            .field("position", &self.position)
            .field("counts", &self.counts)
            .finish_non_exhaustive()
    }
}

impl StateView {
    /// A view of `base` plus the row changes of the events after it, up to
    /// `position`.
    pub(crate) fn new(base: Arc<ViewBase>, position: u64, changes: Changes) -> Self {
        let touched = [
            touch::<UserRow>(&base, &changes[0]),
            touch::<BookingRow>(&base, &changes[1]),
        ];
        let new_keys = [0, 1].map(|t| {
            touched[t]
                .iter()
                .filter(|k| k.before.is_none() && k.entry.is_some())
                .map(|k| k.key)
                .collect::<Vec<_>>()
        });
        let mut cancelled = base.cancelled as i64;
        for k in &touched[1] {
            let before = k.before.is_some_and(|e| e.cancelled());
            let after = k.entry.is_some_and(|e| e.cancelled());
            cancelled += i64::from(after) - i64::from(before);
        }
        let users = (base.entries(Table::Users).len() + new_keys[0].len()) as u64;
        let bookings = (base.entries(Table::Bookings).len() + new_keys[1].len()) as u64;
        let counts = StateCounts::of(users, bookings, cancelled.max(0) as u64);
        StateView {
            base,
            position,
            changes,
            touched,
            new_keys,
            counts,
            from: FoldBase::Zero,
            folded_events: 0,
            skipped: Vec::new(),
            base_us: 0,
            fold_us: 0,
        }
    }

    /// The overlay's row changes, handed back.
    pub(crate) fn into_changes(self) -> Changes {
        self.changes
    }

    /// A base with no events on top.
    pub fn of_base(base: Arc<ViewBase>) -> Self {
        let position = base.position();
        Self::new(base, position, Default::default())
    }

    /// The position the view reflects.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Row counts.
    pub fn counts(&self) -> &StateCounts {
        &self.counts
    }

    /// Rows in a table.
    pub fn len(&self, table: Table) -> usize {
        self.base.entries(table).len() + self.new_keys[table.slot()].len()
    }

    /// Every row's directory entry, in key order.
    pub fn entries(&self, table: Table) -> impl Iterator<Item = DirEntry> + '_ {
        let base = self.base.entries(table);
        let touched = &self.touched[table.slot()];
        let (mut b, mut t) = (0usize, 0usize);
        std::iter::from_fn(move || {
            loop {
                match (base.get(b), touched.get(t)) {
                    (None, None) => return None,
                    (Some(e), Some(k)) if e.id() == k.key => {
                        b += 1;
                        t += 1;
                        if let Some(entry) = k.entry {
                            return Some(entry);
                        }
                    }
                    (Some(e), Some(k)) if e.id() < k.key => {
                        b += 1;
                        return Some(*e);
                    }
                    (Some(e), None) => {
                        b += 1;
                        return Some(*e);
                    }
                    (_, Some(k)) => {
                        t += 1;
                        if let Some(entry) = k.entry {
                            return Some(entry);
                        }
                    }
                }
            }
        })
    }

    /// Where row `i` (in key order) is.
    fn slot_of(&self, table: Table, i: usize) -> Option<Slot> {
        let base = self.base.entries(table);
        let new = &self.new_keys[table.slot()];
        if i >= base.len() + new.len() {
            return None;
        }
        // The rank of new key j among all rows: j plus the base keys before it.
        let rank = |j: usize| j + base.partition_point(|e| e.id() < new[j]);
        let before = {
            let (mut lo, mut hi) = (0usize, new.len());
            while lo < hi {
                let mid = (lo + hi) / 2;
                if rank(mid) < i {
                    lo = mid + 1
                } else {
                    hi = mid
                }
            }
            lo
        };
        if before < new.len() && rank(before) == i {
            Some(Slot::New(new[before]))
        } else {
            Some(Slot::Base(i - before))
        }
    }

    fn changes_of(&self, table: Table, key: Uuid) -> Option<&[RowChange]> {
        self.changes[table.slot()].get(&key).map(Vec::as_slice)
    }

    /// Base rows by ordinal (from the cache, memory or the store).
    async fn base_rows<R: ViewRow>(&self, ordinals: &[usize]) -> EngineResult<Vec<R>> {
        let base = &self.base;
        match &base.rows {
            Rows::Memory { .. } => {
                let rows = R::of_memory(&base.rows);
                return Ok(ordinals
                    .iter()
                    .filter_map(|o| rows.get(*o).cloned())
                    .collect());
            }
            Rows::History(rows) => return rows.rows(ordinals).await,
            Rows::Stored(_) => {}
        }
        let mut out = Vec::with_capacity(ordinals.len());
        let mut loaded: HashMap<u32, Arc<Page>> = HashMap::new();
        for &ordinal in ordinals {
            let (page, at) = base.index.locate(ordinal);
            if !loaded.contains_key(&page) {
                // Runs of neighbouring pages come in one read.
                let run = ordinals
                    .iter()
                    .map(|o| base.index.locate(*o).0)
                    .filter(|p| *p >= page)
                    .max()
                    .map_or(1, |last| (last - page + 1).min(PAGES_PER_READ));
                let dense = run as usize <= ordinals.len();
                let count = if dense { run } else { 1 };
                for (i, p) in base
                    .pages(R::TABLE, page, count)
                    .await?
                    .into_iter()
                    .enumerate()
                {
                    loaded.insert(page + i as u32, p);
                }
            }
            let row = loaded
                .get(&page)
                .and_then(|p| R::of_page(p))
                .and_then(|rows| rows.get(at))
                .cloned()
                .ok_or_else(|| base.bad(format!("row {ordinal} is not in its page")))?;
            out.push(row);
        }
        Ok(out)
    }

    /// The row under `key`, if the view has one.
    async fn row_by_key<R: ViewRow>(&self, key: Uuid) -> EngineResult<Option<R>> {
        let base_row = match self.base.ordinal(R::TABLE, key) {
            Some(o) => self.base_rows::<R>(&[o]).await?.into_iter().next(),
            None => None,
        };
        Ok(match self.changes_of(R::TABLE, key) {
            Some(changes) => resolve(key, base_row, changes),
            None => base_row,
        })
    }

    /// Rows `indices` (positions in key order; any order, each read once
    /// per mention), skipping indices past the end.
    pub(super) async fn rows_in<R: ViewRow>(
        &self,
        indices: impl IntoIterator<Item = usize>,
    ) -> EngineResult<Vec<R>> {
        let slots: Vec<Slot> = indices
            .into_iter()
            .filter_map(|i| self.slot_of(R::TABLE, i))
            .collect();
        let ordinals: Vec<usize> = slots
            .iter()
            .filter_map(|s| match s {
                Slot::Base(o) => Some(*o),
                Slot::New(_) => None,
            })
            .collect();
        let mut base_rows = self.base_rows::<R>(&ordinals).await?.into_iter();
        let mut out = Vec::with_capacity(slots.len());
        for s in slots {
            let (key, base_row) = match s {
                Slot::Base(_) => {
                    let row = base_rows
                        .next()
                        .ok_or_else(|| self.base.bad("a base row went missing".into()))?;
                    (row.key(), Some(row))
                }
                Slot::New(key) => (key, None),
            };
            let row = match self.changes_of(R::TABLE, key) {
                Some(changes) => resolve(key, base_row, changes),
                None => base_row,
            };
            out.extend(row);
        }
        Ok(out)
    }

    /// Users rows `range` (in key order).
    pub async fn user_rows(&self, range: Range<usize>) -> EngineResult<Vec<UserRow>> {
        self.rows_in(range).await
    }

    /// Bookings rows `range` (in key order).
    pub async fn booking_rows(&self, range: Range<usize>) -> EngineResult<Vec<BookingRow>> {
        self.rows_in(range).await
    }

    /// Rows `range` (in key order) of the table of `R`.
    pub async fn rows<R: ViewRow>(&self, range: Range<usize>) -> EngineResult<Vec<R>> {
        self.rows_in(range).await
    }

    /// Rows `range` (in key order) of `table`, as display text.
    pub async fn row_cells(
        &self,
        table: Table,
        range: Range<usize>,
    ) -> EngineResult<Vec<RowCells>> {
        fn cells<R: Row>(rows: Vec<R>) -> Vec<RowCells> {
            rows.iter()
                .map(|r| RowCells {
                    key: r.key(),
                    cells: r.cells(),
                    last_position: r.last_position(),
                })
                .collect()
        }
        Ok(match table {
            Table::Users => cells(self.rows_in::<UserRow>(range).await?),
            Table::Bookings => cells(self.rows_in::<BookingRow>(range).await?),
        })
    }

    /// The row under `key` in the table of `R`, if the view has one.
    pub async fn row<R: ViewRow>(&self, key: Uuid) -> EngineResult<Option<R>> {
        self.row_by_key(key).await
    }

    async fn all_rows<R: ViewRow>(&self) -> EngineResult<BTreeMap<Uuid, R>> {
        // Base rows come in key order, so this build is linear.
        let mut rows: BTreeMap<Uuid, R> = self
            .base
            .all_rows::<R>()
            .await?
            .into_iter()
            .map(|r| (r.key(), r))
            .collect();
        for (key, changes) in &self.changes[R::TABLE.slot()] {
            let base = rows.remove(key);
            if let Some(row) = resolve(*key, base, changes) {
                rows.insert(*key, row);
            }
        }
        Ok(rows)
    }

    /// Every row: the whole state (what a full fold to this position gives).
    pub async fn materialize(&self) -> EngineResult<ReadState> {
        Ok(ReadState {
            position: self.position,
            users: self.all_rows().await?,
            bookings: self.all_rows().await?,
        })
    }
}

/// Resolves every key the overlay touched, in key order.
fn touch<R: ViewRow>(base: &ViewBase, changes: &BTreeMap<Uuid, Vec<RowChange>>) -> Vec<Touched> {
    let entries = base.entries(R::TABLE);
    // The keys come in ascending order, so each is looked for after the
    // previous one, galloping: a few thousand keys in a directory of a
    // million cost a few nearby probes each instead of a full binary search
    // of cold memory each.
    let mut from = 0usize;
    changes
        .iter()
        .map(|(key, list)| {
            let at = from + gallop(&entries[from.min(entries.len())..], *key);
            from = at;
            let base_entry = entries.get(at).filter(|e| e.id() == *key).copied();
            // Most keys are new rows inserted once: the row as inserted, as
            // `apply_change` would leave it, without a scratch state.
            let entry = match (base_entry, list.as_slice()) {
                (None, [RowChange::InsertUserIfAbsent(row)]) => Some(DirEntry::of_user(row)),
                (None, [RowChange::InsertBookingIfAbsent(row)]) => Some(DirEntry::of_booking(row)),
                _ => {
                    let skeleton = base_entry.map(|e| R::skeleton(*key, e));
                    resolve(*key, skeleton, list).map(|r| r.entry())
                }
            };
            Touched {
                key: *key,
                entry,
                before: base_entry,
            }
        })
        .collect()
}

/// The number of entries before `key` in `entries` (sorted by id), found by
/// doubling steps from the start and then a binary search of the last step.
fn gallop(entries: &[DirEntry], key: Uuid) -> usize {
    let mut step = 1usize;
    let mut lo = 0usize;
    while lo + step <= entries.len() && entries[lo + step - 1].id() < key {
        lo += step;
        step *= 2;
    }
    let hi = (lo + step).min(entries.len());
    lo + entries[lo..hi].partition_point(|e| e.id() < key)
}

/// A row of a state as display text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowCells {
    /// Primary key.
    pub key: Uuid,
    /// Cells, in [`Table::columns`] order (the last one is `last_position`).
    pub cells: Vec<String>,
    /// The position that last changed the row.
    pub last_position: u64,
}

/// The keys that differ between two views of one ledger, without reading a
/// row: a key differs where it is in one view only, or where its last
/// position does.
pub struct ViewDiff {
    /// The first view ("before").
    pub before: Arc<StateView>,
    /// The second view ("after").
    pub after: Arc<StateView>,
    /// Per table ([`Table::slot`]): differing keys in key order.
    pub keys: [Vec<(Uuid, DiffKind)>; 2],
}

fn diff_entries(
    mut left: impl Iterator<Item = DirEntry>,
    mut right: impl Iterator<Item = DirEntry>,
) -> Vec<(Uuid, DiffKind)> {
    let mut out = Vec::new();
    let (mut l, mut r) = (left.next(), right.next());
    loop {
        match (l, r) {
            (None, None) => return out,
            (Some(a), Some(b)) if a.id() == b.id() => {
                if a != b {
                    out.push((a.id(), DiffKind::Changed));
                }
                l = left.next();
                r = right.next();
            }
            (Some(a), Some(b)) if a.id() < b.id() => {
                out.push((a.id(), DiffKind::Removed));
                l = left.next();
            }
            (Some(a), None) => {
                out.push((a.id(), DiffKind::Removed));
                l = left.next();
            }
            (_, Some(b)) => {
                out.push((b.id(), DiffKind::Added));
                r = right.next();
            }
        }
    }
}

impl ViewDiff {
    /// Compares two views of the same ledger.
    pub fn new(before: Arc<StateView>, after: Arc<StateView>) -> Self {
        let keys = Table::ALL.map(|t| diff_entries(before.entries(t), after.entries(t)));
        ViewDiff {
            before,
            after,
            keys,
        }
    }

    /// Differing rows in a table.
    pub fn len(&self, table: Table) -> usize {
        self.keys[table.slot()].len()
    }

    /// True when the views hold the same rows.
    pub fn is_empty(&self) -> bool {
        self.keys.iter().all(Vec::is_empty)
    }

    /// (added, removed, changed) in a table.
    pub fn counts(&self, table: Table) -> (usize, usize, usize) {
        kind_counts(&self.keys[table.slot()])
    }

    pub(super) async fn rows_of<R: ViewRow>(
        &self,
        keys: &[(Uuid, DiffKind)],
    ) -> EngineResult<Vec<RowDiff>> {
        let mut out = Vec::with_capacity(keys.len());
        for (key, _) in keys {
            let before = self.before.row_by_key::<R>(*key).await?;
            let after = self.after.row_by_key::<R>(*key).await?;
            out.extend(row_diff(*key, before.as_ref(), after.as_ref()));
        }
        Ok(out)
    }

    /// Rows `range` of a table's difference, one entry per differing key in
    /// key order (`None` where the two rows turned out equal).
    pub async fn page(
        &self,
        table: Table,
        range: Range<usize>,
    ) -> EngineResult<Vec<Option<RowDiff>>> {
        let keys: Vec<Uuid> = self.keys[table.slot()]
            .get(range.clone())
            .map(|k| k.iter().map(|(key, _)| *key).collect())
            .unwrap_or_default();
        let mut by_key: HashMap<Uuid, RowDiff> = self
            .rows(table, range)
            .await?
            .into_iter()
            .map(|r| (r.key(), r))
            .collect();
        Ok(keys.iter().map(|k| by_key.remove(k)).collect())
    }

    /// Rows `range` of a table's difference, cells and all.
    pub async fn rows(&self, table: Table, range: Range<usize>) -> EngineResult<Vec<RowDiff>> {
        let keys = &self.keys[table.slot()];
        let keys = &keys[range.start.min(keys.len())..range.end.min(keys.len())];
        match table {
            Table::Users => self.rows_of::<UserRow>(keys).await,
            Table::Bookings => self.rows_of::<BookingRow>(keys).await,
        }
    }
}

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
    pub(super) fn live_base(&self, id: Uuid, at: u64) -> Option<Arc<ViewBase>> {
        super::sync::lock(&self.view_bases, "snapshot bases")
            .iter()
            .find(|(have, position, _)| *have == id && *position == at)
            .and_then(|(_, _, weak)| weak.upgrade())
    }

    pub(super) fn keep_base(&self, id: Uuid, at: u64, base: &Arc<ViewBase>) {
        let mut bases = super::sync::lock(&self.view_bases, "snapshot bases");
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
        let delta = nearest.as_ref().and_then(|n| n.delta.clone());
        let full_position = full.as_ref().map_or(0, |meta| meta.position);
        let after = delta.as_ref().map_or(full_position, |meta| meta.position);
        let from = match nearest.as_ref().map(Nearest::newest) {
            Some(meta) => FoldBase::Snapshot {
                id: meta.id,
                position: meta.position,
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
            match (&full, &delta) {
                (Some(full), Some(delta)) => self.load_delta(full, delta).await.map(Some),
                _ => Ok(None),
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
            .fold_until(start, target, &super::job::JobControl::default())
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
        let load_delta = async {
            match &nearest.delta {
                Some(delta) => self.load_delta(&nearest.full, delta).await.map(Some),
                None => Ok(None),
            }
        };
        let (base, delta) = tokio::join!(self.view_base(&nearest.full), load_delta);
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
                &super::job::JobControl::default(),
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

    /// Loads a delta snapshot of `full` and checks it: its checksum, and that
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
            if super::snapshot::sha256_hex(&bytes) != expected {
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

#[cfg(test)]
#[path = "view_tests.rs"]
pub(crate) mod tests;
