//! History snapshots: every change each row went through up to a position,
//! in key order and paged, so that one pass over a ledger serves time travel
//! at every position up to it. Rows are never deleted, so a row exists from
//! its first change on, and its state at a position is its changes up to
//! that position applied in order. A history snapshot at the head of a
//! ledger takes about the bytes of one full snapshot plus those of the later
//! changes (linear in the ledger), where a full snapshot every N events takes
//! the square.
//!
//! Only changes that did something are kept (an insert of a row that
//! exists, or a change to a row that does not exist or of an older
//! position, is left out), so every kept change moves its row's last
//! position: a row's marks (one per change) are strictly increasing.
//!
//! Chunk 0, the index (little endian): [`MAGIC`], position u64, events
//! u64, page_keys u32, n_users u64, n_bookings u64, n_user_marks u64,
//! n_booking_marks u64, each users key (id 16 bytes, mark count u32), each
//! bookings key (same), every users mark then every bookings mark (u64
//! each: the change's position | (cancelled after it as u64) << 63, a key's
//! marks in order), n_digests u64 and the XXH3-128 of every page chunk (16
//! bytes each: the users pages, then the bookings pages), then the entries
//! that could not be applied: a count, and for each its position, reason and
//! raw text.
//!
//! Chunks 1.., the pages: a 4-byte tag ([`USER_PAGE_TAG`] or
//! [`BOOKING_PAGE_TAG`]), key count u32, then each key's changes as
//! [`super::snapshot_delta`] writes them (the keys and how many changes each
//! has are the index's: a page is read with them).
//! Every table is cut into pages of `page_keys` keys in key order.
//!
//! Every decoder returns `Err` on garbage and never allocates more than the
//! input can justify.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::ops::Range;

use uuid::Uuid;

use super::snapshot_delta::{change_position, change_slot, get_change, put_change};
use super::snapshot_pages::{DirEntry, chunk_of_page};
use super::snapshot_rows::{FormatError, Reader, format_error, put_str, put_u64};
use super::view::{ViewRow, from_changes};
use crate::domain::state::{EventFold, StateCounts};
use crate::domain::{BookingRow, BookingStatus, DomainEvent, RowChange, Table, UserRow};
use crate::store::MalformedEvent;

/// First bytes of a history snapshot's index chunk.
pub const MAGIC: &[u8; 8] = b"LSHIST1\n";
/// Keys per page (the last page of a table may hold fewer).
pub const PAGE_KEYS: u32 = 1024;
/// First bytes of a users page chunk.
pub const USER_PAGE_TAG: &[u8; 4] = b"LSHU";
/// First bytes of a bookings page chunk.
pub const BOOKING_PAGE_TAG: &[u8; 4] = b"LSHB";

const KEY_BYTES: usize = 20;
const MARK_BYTES: usize = 8;
const DIGEST_BYTES: usize = 16;
const CANCELLED_BIT: u64 = 1 << 63;

/// One key of a history index: its id and how many changes it went
/// through. 20 bytes, laid out as in the index chunk (alignment 1).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct HistoryKey {
    id: [u8; 16],
    marks: [u8; 4],
}

impl HistoryKey {
    /// The row's key.
    pub fn id(&self) -> Uuid {
        Uuid::from_bytes(self.id)
    }

    /// Changes the row went through (at least 1).
    pub fn marks(&self) -> usize {
        u32::from_le_bytes(self.marks) as usize
    }
}

/// Whether a first chunk is a history index.
pub fn is_history(first_chunk: &[u8]) -> bool {
    first_chunk.starts_with(MAGIC)
}

/// The 128-bit XXH3 of a page (what the index holds for it).
pub fn page_digest(bytes: &[u8]) -> u128 {
    xxhash_rust::xxh3::xxh3_128(bytes)
}

/// A decoded history index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryIndex {
    /// The last ledger position folded in.
    pub position: u64,
    /// Ledger entries read to get there (applied or skipped).
    pub events: u64,
    /// Keys per page.
    pub page_keys: u32,
    bytes: Vec<u8>,
    keys: [Range<usize>; 2],
    marks: [Range<usize>; 2],
    /// XXH3-128 of every page chunk: the users pages, then the bookings pages.
    pub page_xxh3: Vec<u128>,
    /// Entries up to `position` that could not be applied.
    pub skipped: Vec<MalformedEvent>,
}

/// The rows that exist at one position: their directory entries (in key
/// order) and, for each, its slot among the history's keys.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RowsAt {
    /// Directory entries per table (users, bookings).
    pub entries: [Vec<DirEntry>; 2],
    /// The history slot of each entry.
    pub slots: [Vec<u32>; 2],
}

fn pages_for(keys: usize, page_keys: u32) -> u32 {
    u32::try_from(keys.div_ceil(page_keys.max(1) as usize)).unwrap_or(u32::MAX)
}

impl HistoryIndex {
    /// The keys of one table, in key order.
    pub fn keys(&self, table: Table) -> &[HistoryKey] {
        self.bytes
            .get(self.keys[table.slot()].clone())
            .and_then(|b| bytemuck::try_cast_slice(b).ok())
            .unwrap_or(&[])
    }

    fn marks(&self, table: Table) -> &[u8] {
        self.bytes
            .get(self.marks[table.slot()].clone())
            .unwrap_or(&[])
    }

    /// Pages of one table.
    pub fn pages(&self, table: Table) -> u32 {
        pages_for(self.keys(table).len(), self.page_keys)
    }

    /// The chunk holding page `page` of `table` (chunk 0 is the index).
    pub fn chunk_of(&self, table: Table, page: u32) -> u32 {
        chunk_of_page(self.pages(Table::Users), table, page)
    }

    /// Total chunks (1 + all pages).
    pub fn chunks(&self) -> u32 {
        chunk_of_page(
            self.pages(Table::Users),
            Table::Bookings,
            self.pages(Table::Bookings),
        )
    }

    /// The keys of page `page` of a table.
    pub fn keys_of_page(&self, table: Table, page: u32) -> &[HistoryKey] {
        let keys = self.keys(table);
        let per = self.page_keys.max(1) as usize;
        let start = (page as usize).saturating_mul(per).min(keys.len());
        &keys[start..(start + per).min(keys.len())]
    }

    /// The page holding history slot `slot`, and where in it.
    pub fn locate(&self, slot: u32) -> (u32, usize) {
        let per = self.page_keys.max(1);
        (slot / per, (slot % per) as usize)
    }

    /// The slot of `key` in a table, if the history has it.
    pub fn slot_of(&self, table: Table, key: Uuid) -> Option<u32> {
        self.keys(table)
            .binary_search_by(|k| k.id().cmp(&key))
            .ok()
            .and_then(|s| u32::try_from(s).ok())
    }

    /// The rows at `position` (at most the index's): each key whose first
    /// change is at or before it, with the last of its changes up to there.
    /// One pass over the index; no page is read.
    pub fn rows_at(&self, position: u64) -> RowsAt {
        // The two tables on two cores.
        let (users, bookings) = std::thread::scope(|scope| {
            let bookings = scope.spawn(|| self.table_at(Table::Bookings, position));
            let users = self.table_at(Table::Users, position);
            (users, bookings.join())
        });
        let bookings = bookings.unwrap_or_else(|_| self.table_at(Table::Bookings, position));
        RowsAt {
            entries: [users.0, bookings.0],
            slots: [users.1, bookings.1],
        }
    }

    fn table_at(&self, table: Table, position: u64) -> (Vec<DirEntry>, Vec<u32>) {
        let keys = self.keys(table);
        let (marks, _) = self.marks(table).as_chunks::<MARK_BYTES>();
        let mut entries = Vec::with_capacity(keys.len());
        let mut slots = Vec::with_capacity(keys.len());
        let mut at = 0usize;
        for (slot, key) in keys.iter().enumerate() {
            let n = key.marks();
            let mine = marks.get(at..at + n).unwrap_or(&[]);
            at += n;
            let mut last = None;
            for mark in mine {
                let mark = u64::from_le_bytes(*mark);
                if mark & !CANCELLED_BIT > position {
                    break;
                }
                last = Some(mark);
            }
            if let Some(mark) = last {
                entries.push(DirEntry::new(
                    key.id(),
                    mark & !CANCELLED_BIT,
                    mark & CANCELLED_BIT != 0,
                ));
                slots.push(slot as u32);
            }
        }
        (entries, slots)
    }
}

/// The changes a key went through, as a page holds them.
pub type KeyChanges = (Uuid, Vec<RowChange>);

/// The changes of a key (in order) made at or before `position`: applied
/// to no row, they give the row at that position.
pub fn changes_up_to(changes: &[RowChange], position: u64) -> &[RowChange] {
    &changes[..changes.partition_point(|c| change_position(c) <= position)]
}

/// The rows of both tables, each with its key (users, bookings).
pub type KeyedRows = (Vec<(Uuid, UserRow)>, Vec<(Uuid, BookingRow)>);

/// A fold that keeps every change that did something, per key: what a
/// history snapshot is written from. It holds no rows beyond the changes.
#[derive(Debug, Default)]
pub struct HistoryFold {
    position: u64,
    events: u64,
    tables: [HashMap<Uuid, Vec<RowChange>, foldhash::fast::RandomState>; 2],
}

impl HistoryFold {
    /// Files a change under its row if it changes the row (the rule of
    /// [`crate::domain::ReadState::apply_owned_change`]).
    pub fn add_change(&mut self, change: RowChange) {
        let (slot, key) = change_slot(&change);
        let insert = matches!(
            change,
            RowChange::InsertUserIfAbsent(_) | RowChange::InsertBookingIfAbsent(_)
        );
        match self.tables[slot].entry(key) {
            Entry::Vacant(row) if insert => {
                row.insert(vec![change]);
            }
            Entry::Occupied(mut row)
                if !insert
                    && row
                        .get()
                        .last()
                        .is_some_and(|l| change_position(l) < change_position(&change)) =>
            {
                row.get_mut().push(change)
            }
            _ => {}
        }
    }

    /// A fold with room for about `events` entries' rows (no rehashing on
    /// the way).
    pub fn with_capacity(events: u64) -> Self {
        let rows = usize::try_from(events).unwrap_or(usize::MAX).min(1 << 26);
        let mut fold = HistoryFold::default();
        fold.tables[0].reserve(rows / 2);
        fold.tables[1].reserve(rows);
        fold
    }

    /// Entries folded (applied or skipped).
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Rows that exist (users, bookings).
    pub fn rows(&self) -> (usize, usize) {
        (self.tables[0].len(), self.tables[1].len())
    }

    /// The state at `position` (at most [`EventFold::folded_to`]) as the
    /// rows of each table, unordered: each key's changes up to there applied.
    pub fn rows_at(&self, position: u64) -> KeyedRows {
        fn table<R: ViewRow>(
            rows: &HashMap<Uuid, Vec<RowChange>, foldhash::fast::RandomState>,
            position: u64,
        ) -> Vec<(Uuid, R)> {
            rows.iter()
                .filter_map(|(key, changes)| {
                    let changes = changes_up_to(changes, position);
                    (!changes.is_empty())
                        .then(|| from_changes::<R>(*key, changes).map(|row| (*key, row)))
                        .flatten()
                })
                .collect()
        }
        (
            table(&self.tables[0], position),
            table(&self.tables[1], position),
        )
    }

    /// The changes of each table, in key order.
    pub fn into_sorted(self) -> [Vec<KeyChanges>; 2] {
        let sorted = |table: HashMap<Uuid, Vec<RowChange>, foldhash::fast::RandomState>| {
            let mut keys: Vec<KeyChanges> = table.into_iter().collect();
            keys.sort_unstable_by_key(|(key, _)| *key);
            keys
        };
        // One table per core.
        let [users, bookings] = self.tables;
        std::thread::scope(|scope| {
            let bookings = scope.spawn(|| sorted(bookings));
            let users = sorted(users);
            match bookings.join() {
                Ok(bookings) => [users, bookings],
                Err(panic) => std::panic::resume_unwind(panic),
            }
        })
    }
}

impl EventFold for HistoryFold {
    fn folded_to(&self) -> u64 {
        self.position
    }

    fn fold_decoded(&mut self, position: u64, event: DomainEvent) {
        self.advance(position);
        for change in RowChange::of_event(position, &event) {
            self.add_change(change);
        }
    }

    fn advance(&mut self, position: u64) {
        self.position = self.position.max(position);
        self.events += 1;
    }
}

/// What [`encode`] wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Encoded {
    /// The chunks: the index, then the pages.
    pub chunks: Vec<Vec<u8>>,
    /// Row counts at the position.
    pub counts: StateCounts,
}

fn cancelled_after(change: &RowChange, before: bool) -> bool {
    match change {
        RowChange::InsertBookingIfAbsent(row) => row.status == BookingStatus::Cancelled,
        RowChange::SetBookingStatus { status, .. } => *status == BookingStatus::Cancelled,
        _ => before,
    }
}

/// A table cut in two runs of whole pages.
fn halves(table: &[KeyChanges], page_keys: usize) -> (&[KeyChanges], &[KeyChanges]) {
    let split = (table.len().div_ceil(page_keys) / 2) * page_keys;
    table.split_at(split.min(table.len()))
}

/// One run of whole pages of one table, encoded.
struct Part {
    keys: Vec<u8>,
    marks: Vec<u8>,
    marks_n: u64,
    cancelled: u64,
    pages: Vec<Vec<u8>>,
    digests: Vec<u128>,
}

fn encode_part(tag: &[u8; 4], table: &[KeyChanges], page_keys: usize) -> Part {
    let mut part = Part {
        keys: Vec::with_capacity(table.len() * KEY_BYTES),
        marks: Vec::with_capacity(table.len() * MARK_BYTES),
        marks_n: 0,
        cancelled: 0,
        pages: Vec::with_capacity(table.len().div_ceil(page_keys)),
        digests: Vec::with_capacity(table.len().div_ceil(page_keys)),
    };
    for page in table.chunks(page_keys) {
        let mut out = Vec::with_capacity(8 + page.len() * 128);
        out.extend_from_slice(tag);
        out.extend_from_slice(&(page.len() as u32).to_le_bytes());
        for (key, changes) in page {
            part.keys.extend_from_slice(key.as_bytes());
            part.keys
                .extend_from_slice(&(changes.len() as u32).to_le_bytes());
            let mut is_cancelled = false;
            for change in changes {
                is_cancelled = cancelled_after(change, is_cancelled);
                let bit = if is_cancelled { CANCELLED_BIT } else { 0 };
                put_u64(&mut part.marks, change_position(change) | bit);
                put_change(&mut out, change);
            }
            part.marks_n += changes.len() as u64;
            part.cancelled += u64::from(is_cancelled);
        }
        part.digests.push(page_digest(&out));
        part.pages.push(out);
    }
    part
}

/// Encodes a history at `position` (`events` entries read, `skipped` among
/// them) from each table's changes in key order ([`HistoryFold::into_sorted`]).
pub fn encode(
    position: u64,
    events: u64,
    tables: &[Vec<KeyChanges>; 2],
    skipped: &[MalformedEvent],
    page_keys: u32,
) -> Encoded {
    let page_keys = page_keys.max(1) as usize;
    // Each table in two runs of whole pages, one per core; the parts are
    // joined in order.
    let (u0, u1) = halves(&tables[0], page_keys);
    let (b0, b1) = halves(&tables[1], page_keys);
    let (first, second) = std::thread::scope(|scope| {
        let second = scope.spawn(|| {
            [
                encode_part(USER_PAGE_TAG, u1, page_keys),
                encode_part(BOOKING_PAGE_TAG, b1, page_keys),
            ]
        });
        let first = [
            encode_part(USER_PAGE_TAG, u0, page_keys),
            encode_part(BOOKING_PAGE_TAG, b0, page_keys),
        ];
        (first, second.join())
    });
    let second = second.unwrap_or_else(|_| {
        // The thread cannot panic on data it encodes; if it did, encode here.
        [
            encode_part(USER_PAGE_TAG, u1, page_keys),
            encode_part(BOOKING_PAGE_TAG, b1, page_keys),
        ]
    });
    let [fu, fb] = first;
    let [su, sb] = second;
    let parts = [fu, su, fb, sb];
    let n_marks = [
        parts[0].marks_n + parts[1].marks_n,
        parts[2].marks_n + parts[3].marks_n,
    ];
    let cancelled = parts.iter().map(|p| p.cancelled).sum::<u64>();
    let mut keys = Vec::with_capacity(parts.iter().map(|p| p.keys.len()).sum());
    let mut marks = Vec::with_capacity(parts.iter().map(|p| p.marks.len()).sum());
    for part in &parts {
        keys.extend_from_slice(&part.keys);
        marks.extend_from_slice(&part.marks);
    }
    let digests: Vec<u128> = parts
        .iter()
        .flat_map(|p| p.digests.iter().copied())
        .collect();
    let pages: Vec<Vec<u8>> = parts.into_iter().flat_map(|p| p.pages).collect();
    let mut index = Vec::with_capacity(64 + keys.len() + marks.len() + pages.len() * 16);
    index.extend_from_slice(MAGIC);
    put_u64(&mut index, position);
    put_u64(&mut index, events);
    index.extend_from_slice(&(page_keys as u32).to_le_bytes());
    put_u64(&mut index, tables[0].len() as u64);
    put_u64(&mut index, tables[1].len() as u64);
    put_u64(&mut index, n_marks[0]);
    put_u64(&mut index, n_marks[1]);
    index.extend_from_slice(&keys);
    index.extend_from_slice(&marks);
    put_u64(&mut index, pages.len() as u64);
    for digest in &digests {
        index.extend_from_slice(&digest.to_le_bytes());
    }
    put_u64(&mut index, skipped.len() as u64);
    for bad in skipped {
        put_u64(&mut index, bad.position);
        put_str(&mut index, &bad.reason);
        put_str(&mut index, &bad.raw);
    }
    let counts = StateCounts::of(tables[0].len() as u64, tables[1].len() as u64, cancelled);
    let mut chunks = Vec::with_capacity(1 + pages.len());
    chunks.push(index);
    chunks.extend(pages);
    Encoded { chunks, counts }
}

/// Decodes an index chunk, keeping its bytes. Rejects: a wrong magic,
/// truncation, trailing bytes, counts that cannot fit, page_keys 0, keys
/// not strictly increasing, a key without changes, mark counts that do not
/// add up, marks that do not increase within a key or lie after the
/// position, a user marked cancelled, a digest count other than the pages'.
pub fn decode_index(bytes: Vec<u8>) -> Result<HistoryIndex, FormatError> {
    if !is_history(&bytes) {
        return Err("not a history snapshot index (wrong magic)".into());
    }
    let mut r = Reader::at(&bytes, MAGIC.len());
    let position = r.u64()?;
    let events = r.u64()?;
    let page_keys = r.u32()?;
    if page_keys == 0 {
        return Err("page_keys is 0".into());
    }
    let n_keys = [r.u64()?, r.u64()?];
    let n_marks = [r.u64()?, r.u64()?];
    let left = r.left() as u64;
    let fits = n_keys
        .iter()
        .map(|n| n.checked_mul(KEY_BYTES as u64))
        .chain(n_marks.iter().map(|n| n.checked_mul(MARK_BYTES as u64)))
        .try_fold(16u64, |sum, bytes| sum.checked_add(bytes?))
        .is_some_and(|need| need <= left);
    if !fits {
        return Err(format_error!(
            "{n_keys:?} keys and {n_marks:?} changes cannot fit in {left} bytes"
        ));
    }
    let mut keys = [0..0, 0..0];
    for (slot, n) in n_keys.iter().enumerate() {
        let at = r.offset();
        r.take(*n as usize * KEY_BYTES)?;
        keys[slot] = at..r.offset();
    }
    let mut marks = [0..0, 0..0];
    for (slot, n) in n_marks.iter().enumerate() {
        let at = r.offset();
        r.take(*n as usize * MARK_BYTES)?;
        marks[slot] = at..r.offset();
    }
    let n_digests = r.u64()?;
    let expected = u64::from(pages_for(n_keys[0] as usize, page_keys))
        + u64::from(pages_for(n_keys[1] as usize, page_keys));
    if n_digests != expected {
        return Err(format_error!(
            "{n_digests} page digests for {expected} pages"
        ));
    }
    let digest_bytes = n_digests.saturating_mul(DIGEST_BYTES as u64);
    if digest_bytes > r.left() as u64 {
        return Err(format_error!(
            "{n_digests} page digests cannot fit in {} bytes",
            r.left()
        ));
    }
    let (digests, _) = r.take(digest_bytes as usize)?.as_chunks::<DIGEST_BYTES>();
    let page_xxh3 = digests.iter().map(|d| u128::from_le_bytes(*d)).collect();
    let bad = r.count(16)?;
    let mut skipped = Vec::with_capacity(bad);
    for _ in 0..bad {
        skipped.push(MalformedEvent {
            position: r.u64()?,
            reason: r.string()?,
            raw: r.string()?,
        });
    }
    r.finish()?;
    let index = HistoryIndex {
        position,
        events,
        page_keys,
        bytes,
        keys,
        marks,
        page_xxh3,
        skipped,
    };
    check_index(&index, n_marks)?;
    Ok(index)
}

fn check_index(index: &HistoryIndex, n_marks: [u64; 2]) -> Result<(), FormatError> {
    for table in [Table::Users, Table::Bookings] {
        let keys = index.keys(table);
        if let Some(i) = keys.windows(2).position(|pair| pair[0].id >= pair[1].id) {
            return Err(format_error!(
                "{table:?} keys are not strictly increasing at key {}",
                i + 1
            ));
        }
        let total: u64 = keys.iter().map(|k| k.marks() as u64).sum();
        if total != n_marks[table.slot()] {
            return Err(format_error!(
                "{table:?} keys have {total} changes; the index holds {}",
                n_marks[table.slot()]
            ));
        }
        let (marks, _) = index.marks(table).as_chunks::<MARK_BYTES>();
        let mut at = 0usize;
        for key in keys {
            let n = key.marks();
            if n == 0 {
                return Err(format_error!("{table:?} key {} has no changes", key.id()));
            }
            let mut previous = 0u64;
            for mark in &marks[at..at + n] {
                let mark = u64::from_le_bytes(*mark);
                let position = mark & !CANCELLED_BIT;
                if position <= previous || position > index.position {
                    return Err(format_error!(
                        "{table:?} key {} has a change at {position} after {previous} (the history is up to {})",
                        key.id(),
                        index.position
                    ));
                }
                if table == Table::Users && mark & CANCELLED_BIT != 0 {
                    return Err(format_error!("user {} is marked cancelled", key.id()));
                }
                previous = position;
            }
            at += n;
        }
    }
    if index
        .skipped
        .iter()
        .any(|bad| bad.position > index.position)
    {
        return Err("an entry that could not be applied lies after the position".into());
    }
    Ok(())
}

/// Decodes a page of `table` whose keys (from the index) are `keys`: each
/// key and its changes. Checks that each change is of its own table and key.
pub fn decode_page(
    bytes: &[u8],
    table: Table,
    keys: &[HistoryKey],
) -> Result<Vec<KeyChanges>, FormatError> {
    let tag = match table {
        Table::Users => USER_PAGE_TAG,
        Table::Bookings => BOOKING_PAGE_TAG,
    };
    if !bytes.starts_with(tag) {
        return Err(format_error!("not a {table:?} history page (wrong tag)"));
    }
    let mut r = Reader::at(bytes, tag.len());
    let n = r.u32()? as usize;
    if n != keys.len() {
        return Err(format_error!(
            "the page holds {n} keys; the index lists {}",
            keys.len()
        ));
    }
    let mut out = Vec::with_capacity(n);
    for key in keys {
        let (id, count) = (key.id(), key.marks());
        if count.saturating_mul(17) > r.left() {
            return Err(format_error!(
                "{count} changes cannot fit in {} bytes",
                r.left()
            ));
        }
        let mut changes = Vec::with_capacity(count);
        for _ in 0..count {
            let change = get_change(&mut r)?;
            if change_slot(&change) != (table.slot(), id) {
                return Err(format_error!("a change on the page is not of key {id}"));
            }
            changes.push(change);
        }
        out.push((id, changes));
    }
    r.finish()?;
    Ok(out)
}

#[cfg(test)]
#[path = "snapshot_history_tests.rs"]
mod tests;
