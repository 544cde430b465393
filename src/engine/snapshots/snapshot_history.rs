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
//! Chunk 0, the head (little endian): [`MAGIC`], position u64, events u64,
//! page_keys u32, part_pages u32, n_users u64, n_bookings u64,
//! n_user_marks u64, n_booking_marks u64, for each index part (the users
//! parts, then the bookings parts) its mark count u64 and the XXH3-128 of
//! its chunk, n_digests u64 and the XXH3-128 of every page chunk (16 bytes
//! each: the users pages, then the bookings pages), then the entries that
//! could not be applied: a count, and for each its position, reason and raw
//! text.
//!
//! Chunks 1..=parts, the index parts: each table's keys are cut into parts
//! of `part_pages` pages' keys (a table of k keys has
//! ceil(ceil(k / page_keys) / part_pages) parts). A part is [`PART_TAG`],
//! each of its keys (id 16 bytes, mark count u32), then every mark of those
//! keys (u64 each: the change's position | (cancelled after it as u64) <<
//! 63, a key's marks in order). Parts are read side by side, so a query
//! does not wait for one long read of the whole index.
//!
//! The chunks after the parts, the pages: a 4-byte tag ([`USER_PAGE_TAG`] or
//! [`BOOKING_PAGE_TAG`]), key count u32, then each key's changes as
//! [`crate::engine::snapshot_delta`] writes them (the keys and how many changes each
//! has are the index's: a page is read with them).
//! Every table is cut into pages of `page_keys` keys in key order.
//!
//! The earlier layout ([`MAGIC_V1`]) kept the whole index in chunk 0 (the
//! head's fields without part_pages and the parts, then every users key,
//! every bookings key, every users mark, every bookings mark, the digests
//! and the skipped entries) and the pages from chunk 1; it is still read.
//!
//! Every decoder returns `Err` on garbage and never allocates more than the
//! input can justify.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use uuid::Uuid;

use crate::domain::state::{EventFold, StateCounts};
use crate::domain::{BookingRow, BookingStatus, DomainEvent, RowChange, Table, UserRow};
use crate::engine::snapshot_delta::{change_position, change_slot, get_change, put_change};
use crate::engine::snapshot_rows::{FormatError, Reader, format_error, put_str, put_u64};
use crate::engine::snapshots::table_row::{TableRow, from_changes};
use crate::store::MalformedEvent;

/// First bytes of a history snapshot's head chunk.
pub const MAGIC: &[u8; 8] = b"LSHIST2\n";
/// First bytes of the one-chunk index of the earlier layout (still read).
pub const MAGIC_V1: &[u8; 8] = b"LSHIST1\n";
/// Keys per page (the last page of a table may hold fewer).
pub const PAGE_KEYS: u32 = 1024;
/// Pages whose keys one index part holds (the last part of a table may
/// cover fewer).
pub const PART_PAGES: u32 = 64;
/// First bytes of an index part chunk.
pub const PART_TAG: &[u8; 4] = b"LSHK";
/// First bytes of a users page chunk.
pub const USER_PAGE_TAG: &[u8; 4] = b"LSHU";
/// First bytes of a bookings page chunk.
pub const BOOKING_PAGE_TAG: &[u8; 4] = b"LSHB";

const KEY_BYTES: usize = 20;
const MARK_BYTES: usize = 8;
const DIGEST_BYTES: usize = 16;
const CANCELLED_BIT: u64 = 1 << 63;

mod index;
pub use index::{
    Directory, Head, HistoryHead, HistoryIndex, IndexPart, PartSpec, RowsAt, decode_chunks,
    decode_head, decode_part,
};

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
    first_chunk.starts_with(MAGIC) || first_chunk.starts_with(MAGIC_V1)
}

/// The 128-bit XXH3 of a page (what the index holds for it).
pub fn page_digest(bytes: &[u8]) -> u128 {
    xxhash_rust::xxh3::xxh3_128(bytes)
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

    /// The fold a history holds: each table's changes (as
    /// [`HistoryFold::into_sorted`] gives them), folded to `position` from
    /// `events` entries. Changes added after it are filed by the same rule.
    pub fn from_sorted(position: u64, events: u64, tables: [Vec<KeyChanges>; 2]) -> Self {
        let mut fold = HistoryFold {
            position,
            events,
            ..HistoryFold::default()
        };
        for (into, table) in fold.tables.iter_mut().zip(tables) {
            into.reserve(table.len());
            into.extend(table);
        }
        fold
    }

    /// Files the changes of `events` more entries up to `position` (each
    /// key's in order; keys in any order).
    pub fn extend(&mut self, position: u64, events: u64, changes: super::snapshot_delta::Changes) {
        for table in changes {
            for change in table.into_values().flatten() {
                self.add_change(change);
            }
        }
        self.position = self.position.max(position);
        self.events += events;
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
        (
            rows_of(self.tables[0].iter(), position),
            rows_of(self.tables[1].iter(), position),
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

/// The state at `position` of tables sorted by [`HistoryFold::into_sorted`]
/// (at most the position they were folded to), in key order.
pub fn sorted_rows_at(tables: &[Vec<KeyChanges>; 2], position: u64) -> KeyedRows {
    (
        rows_of(
            tables[0].iter().map(|(key, changes)| (key, changes)),
            position,
        ),
        rows_of(
            tables[1].iter().map(|(key, changes)| (key, changes)),
            position,
        ),
    )
}

/// Each key's row with its changes up to `position` applied (keys with none
/// left out), in the order of `keys`.
fn rows_of<'a, R: TableRow>(
    keys: impl Iterator<Item = (&'a Uuid, &'a Vec<RowChange>)>,
    position: u64,
) -> Vec<(Uuid, R)> {
    keys.filter_map(|(key, changes)| {
        let changes = changes_up_to(changes, position);
        (!changes.is_empty())
            .then(|| from_changes::<R>(*key, changes).map(|row| (*key, row)))
            .flatten()
    })
    .collect()
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

/// A table cut in two runs of whole index parts (`part_keys` keys each).
fn halves(table: &[KeyChanges], part_keys: usize) -> (&[KeyChanges], &[KeyChanges]) {
    let split = (table.len().div_ceil(part_keys) / 2) * part_keys;
    table.split_at(split.min(table.len()))
}

/// One run of whole pages of one table, encoded.
struct PageRun {
    keys: Vec<u8>,
    marks: Vec<u8>,
    marks_n: u64,
    cancelled: u64,
    pages: Vec<Vec<u8>>,
    digests: Vec<u128>,
}

fn encode_run(tag: &[u8; 4], table: &[KeyChanges], page_keys: usize) -> PageRun {
    let mut part = PageRun {
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
/// them) from each table's changes in key order ([`HistoryFold::into_sorted`]),
/// with [`PART_PAGES`] pages per index part.
pub fn encode(
    position: u64,
    events: u64,
    tables: &[Vec<KeyChanges>; 2],
    skipped: &[MalformedEvent],
    page_keys: u32,
) -> Encoded {
    encode_with(position, events, tables, skipped, page_keys, PART_PAGES)
}

/// [`encode`] with `part_pages` pages per index part.
pub fn encode_with(
    position: u64,
    events: u64,
    tables: &[Vec<KeyChanges>; 2],
    skipped: &[MalformedEvent],
    page_keys: u32,
    part_pages: u32,
) -> Encoded {
    let page_keys = page_keys.max(1) as usize;
    let part_pages = part_pages.max(1);
    // Each table in two runs of whole pages, one per core; the parts are
    // joined in order.
    let part_keys = part_pages as usize * page_keys;
    let (u0, u1) = halves(&tables[0], part_keys);
    let (b0, b1) = halves(&tables[1], part_keys);
    let (first, second) = std::thread::scope(|scope| {
        let second = scope.spawn(|| {
            [
                encode_run(USER_PAGE_TAG, u1, page_keys),
                encode_run(BOOKING_PAGE_TAG, b1, page_keys),
            ]
        });
        let first = [
            encode_run(USER_PAGE_TAG, u0, page_keys),
            encode_run(BOOKING_PAGE_TAG, b0, page_keys),
        ];
        (first, second.join())
    });
    let second = second.unwrap_or_else(|_| {
        // The thread cannot panic on data it encodes; if it did, encode here.
        [
            encode_run(USER_PAGE_TAG, u1, page_keys),
            encode_run(BOOKING_PAGE_TAG, b1, page_keys),
        ]
    });
    let [fu, fb] = first;
    let [su, sb] = second;
    let cancelled = [&fu, &su, &fb, &sb]
        .iter()
        .map(|p| p.cancelled)
        .sum::<u64>();
    let n_marks = [fu.marks_n + su.marks_n, fb.marks_n + sb.marks_n];
    // Each run starts a part: its keys and marks are cut into index parts
    // as they are.
    let mut index_parts: Vec<(Vec<u8>, u64)> = Vec::new();
    for run in [&fu, &su, &fb, &sb] {
        let keys: &[HistoryKey] = bytemuck::try_cast_slice(&run.keys).unwrap_or(&[]);
        let mut mark_at = 0usize;
        for part in keys.chunks(part_keys) {
            let n: usize = part.iter().map(HistoryKey::marks).sum();
            let marks = run
                .marks
                .get(mark_at * MARK_BYTES..(mark_at + n) * MARK_BYTES)
                .unwrap_or(&[]);
            mark_at += n;
            let mut chunk =
                Vec::with_capacity(PART_TAG.len() + part.len() * KEY_BYTES + marks.len());
            chunk.extend_from_slice(PART_TAG);
            chunk.extend_from_slice(bytemuck::cast_slice(part));
            chunk.extend_from_slice(marks);
            index_parts.push((chunk, n as u64));
        }
    }
    let digests: Vec<u128> = [&fu, &su, &fb, &sb]
        .iter()
        .flat_map(|p| p.digests.iter().copied())
        .collect();
    let mut head = Vec::with_capacity(64 + index_parts.len() * 24 + digests.len() * 16);
    head.extend_from_slice(MAGIC);
    put_u64(&mut head, position);
    put_u64(&mut head, events);
    head.extend_from_slice(&(page_keys as u32).to_le_bytes());
    head.extend_from_slice(&part_pages.to_le_bytes());
    put_u64(&mut head, tables[0].len() as u64);
    put_u64(&mut head, tables[1].len() as u64);
    put_u64(&mut head, n_marks[0]);
    put_u64(&mut head, n_marks[1]);
    for (chunk, marks) in &index_parts {
        put_u64(&mut head, *marks);
        head.extend_from_slice(&page_digest(chunk).to_le_bytes());
    }
    put_u64(&mut head, digests.len() as u64);
    for digest in &digests {
        head.extend_from_slice(&digest.to_le_bytes());
    }
    put_u64(&mut head, skipped.len() as u64);
    for bad in skipped {
        put_u64(&mut head, bad.position);
        put_str(&mut head, &bad.reason);
        put_str(&mut head, &bad.raw);
    }
    let counts = StateCounts::of(tables[0].len() as u64, tables[1].len() as u64, cancelled);
    let mut chunks = Vec::with_capacity(1 + index_parts.len() + digests.len());
    chunks.push(head);
    chunks.extend(index_parts.into_iter().map(|(chunk, _)| chunk));
    chunks.extend([fu, su, fb, sb].into_iter().flat_map(|p| p.pages));
    Encoded { chunks, counts }
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
mod tests;
