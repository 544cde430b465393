//! The index of a history snapshot ([`super`]): its head, its parts, and
//! the rows that exist at any position up to its own, computed from the
//! index alone.

use std::ops::Range;
use std::sync::Arc;

use uuid::Uuid;

use super::{
    CANCELLED_BIT, DIGEST_BYTES, HistoryKey, KEY_BYTES, MAGIC, MAGIC_V1, MARK_BYTES, PART_TAG,
    page_digest,
};
use crate::domain::Table;
use crate::engine::snapshot_pages::{DirEntry, SnapshotIndex, chunk_of_page};
use crate::engine::snapshot_rows::{FormatError, Reader, format_error};
use crate::store::MalformedEvent;

/// One index part: the keys (and their marks) of a run of whole pages of
/// one table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexPart {
    /// Shared by the two parts of an index of the earlier layout.
    bytes: Arc<Vec<u8>>,
    keys: Range<usize>,
    marks: Range<usize>,
}

impl IndexPart {
    pub(super) fn keys(&self) -> &[HistoryKey] {
        self.bytes
            .get(self.keys.clone())
            .and_then(|b| bytemuck::try_cast_slice(b).ok())
            .unwrap_or(&[])
    }

    pub(super) fn marks(&self) -> &[[u8; MARK_BYTES]] {
        self.bytes
            .get(self.marks.clone())
            .map(|b| b.as_chunks::<MARK_BYTES>().0)
            .unwrap_or(&[])
    }

    fn byte_len(&self) -> usize {
        self.keys.len() + self.marks.len()
    }
}

/// What the head says of one index part, to check the part when it is read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartSpec {
    /// The table whose keys it holds.
    pub table: Table,
    /// Its number among the parts (0 is chunk 1).
    pub number: u32,
    /// Keys in it.
    pub keys: usize,
    /// Marks in it.
    pub marks: u64,
    /// XXH3-128 of its chunk.
    pub xxh3: u128,
    /// The history's position (no mark lies after it).
    pub position: u64,
}

/// A decoded head chunk: everything but the index parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryHead {
    /// The last ledger position folded in.
    pub position: u64,
    /// Ledger entries read to get there (applied or skipped).
    pub events: u64,
    /// Keys per page.
    pub page_keys: u32,
    part_pages: u32,
    n_keys: [usize; 2],
    pub(super) specs: Vec<PartSpec>,
    page_xxh3: Vec<u128>,
    skipped: Vec<MalformedEvent>,
}

impl HistoryHead {
    /// The index parts to read: chunks `1..=specs.len()`.
    pub fn parts(&self) -> &[PartSpec] {
        &self.specs
    }

    /// Total chunks (the head, the parts and every page).
    pub fn chunks(&self) -> u32 {
        let pages = pages_for(self.n_keys[1], self.page_keys);
        layout_chunk(
            self.specs.len() as u32,
            self.n_keys,
            self.page_keys,
            Table::Bookings,
            pages,
        )
    }

    /// The index, from the head and its parts checked by [`decode_part`] (in
    /// order). Checks that each table's keys go on increasing from one part
    /// to the next.
    pub fn assemble(self, parts: Vec<IndexPart>) -> Result<HistoryIndex, FormatError> {
        if parts.len() != self.specs.len() {
            return Err(format_error!(
                "{} index parts for the {} the head lists",
                parts.len(),
                self.specs.len()
            ));
        }
        let mut tables: [Vec<IndexPart>; 2] = Default::default();
        for (spec, part) in self.specs.iter().zip(parts) {
            tables[spec.table.slot()].push(part);
        }
        for (slot, table) in tables.iter().enumerate() {
            let ends = table
                .iter()
                .filter_map(|p| Some((p.keys().first()?, p.keys().last()?)));
            let mut previous: Option<&HistoryKey> = None;
            for (first, last) in ends {
                if previous.is_some_and(|p| p.id >= first.id) {
                    return Err(format_error!(
                        "{:?} keys are not strictly increasing from one index part to the next",
                        Table::ALL[slot]
                    ));
                }
                previous = Some(last);
            }
        }
        Ok(HistoryIndex {
            position: self.position,
            events: self.events,
            page_keys: self.page_keys,
            part_pages: self.part_pages,
            parts_before_pages: self.specs.len() as u32,
            n_keys: self.n_keys,
            parts: tables,
            page_xxh3: self.page_xxh3,
            skipped: self.skipped,
        })
    }
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
    /// Pages per index part (`u32::MAX`: one part per table).
    part_pages: u32,
    /// Index part chunks between the head and the pages (0 in the earlier
    /// layout).
    parts_before_pages: u32,
    pub(super) n_keys: [usize; 2],
    /// Each table's index parts, in key order.
    pub(super) parts: [Vec<IndexPart>; 2],
    /// XXH3-128 of every page chunk: the users pages, then the bookings pages.
    pub page_xxh3: Vec<u128>,
    /// Entries up to `position` that could not be applied.
    pub skipped: Vec<MalformedEvent>,
}

/// The directory of the rows at a position, as [`HistoryIndex::directory_at`]
/// writes it.
pub struct Directory {
    /// The rows' entries, in key order per table.
    pub index: SnapshotIndex,
    /// Each entry's history slot, per table.
    pub slots: [Vec<u32>; 2],
    /// Bookings among them that are cancelled (counted while written).
    pub cancelled: u64,
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

/// The chunk of page `page` of `table` in a history whose `parts` index
/// parts (0 in the earlier layout) lie between the head and the pages.
fn layout_chunk(parts: u32, n_keys: [usize; 2], page_keys: u32, table: Table, page: u32) -> u32 {
    parts + chunk_of_page(pages_for(n_keys[0], page_keys), table, page)
}

impl HistoryIndex {
    /// Keys of one table.
    pub fn key_count(&self, table: Table) -> usize {
        self.n_keys[table.slot()]
    }

    /// Keys per index part.
    fn part_keys(&self) -> usize {
        (self.part_pages as usize).saturating_mul(self.page_keys.max(1) as usize)
    }

    /// The key in history slot `slot` of a table.
    pub fn key(&self, table: Table, slot: u32) -> Option<HistoryKey> {
        let per = self.part_keys();
        let part = self.parts[table.slot()].get(slot as usize / per)?;
        part.keys().get(slot as usize % per).copied()
    }

    /// Pages of one table.
    pub fn pages(&self, table: Table) -> u32 {
        pages_for(self.key_count(table), self.page_keys)
    }

    /// The chunk holding page `page` of `table` (after the head and the
    /// index parts).
    pub fn chunk_of(&self, table: Table, page: u32) -> u32 {
        layout_chunk(
            self.parts_before_pages,
            self.n_keys,
            self.page_keys,
            table,
            page,
        )
    }

    /// Total chunks (the head, the parts and every page).
    pub fn chunks(&self) -> u32 {
        self.chunk_of(Table::Bookings, self.pages(Table::Bookings))
    }

    /// The keys of page `page` of a table.
    pub fn keys_of_page(&self, table: Table, page: u32) -> &[HistoryKey] {
        let part_pages = self.part_pages.max(1);
        let Some(part) = self.parts[table.slot()].get((page / part_pages) as usize) else {
            return &[];
        };
        let keys = part.keys();
        let per = self.page_keys.max(1) as usize;
        let start = ((page % part_pages) as usize)
            .saturating_mul(per)
            .min(keys.len());
        &keys[start..(start + per).min(keys.len())]
    }

    /// The page holding history slot `slot`, and where in it.
    pub fn locate(&self, slot: u32) -> (u32, usize) {
        let per = self.page_keys.max(1);
        (slot / per, (slot % per) as usize)
    }

    /// The slot of `key` in a table, if the history has it.
    pub fn slot_of(&self, table: Table, key: Uuid) -> Option<u32> {
        let parts = &self.parts[table.slot()];
        let at = parts.partition_point(|p| p.keys().last().is_some_and(|l| l.id() < key));
        let local = parts
            .get(at)?
            .keys()
            .binary_search_by(|k| k.id().cmp(&key))
            .ok()?;
        u32::try_from(at * self.part_keys() + local).ok()
    }

    /// The rows at `position` (at most the index's): each key whose first
    /// change is at or before it, with the last of its changes up to there.
    pub fn rows_at(&self, position: u64) -> RowsAt {
        let Directory {
            index: directory,
            slots,
            ..
        } = self.directory_at(position);
        RowsAt {
            entries: Table::ALL.map(|table| directory.entries(table).to_vec()),
            slots,
        }
    }

    /// [`Self::rows_at`] as a directory, and each entry's history slot. Two
    /// passes over the index, on two cores (the parts cut where half its
    /// bytes lie): the rows each part has at `position`, then each part
    /// writes its entries and slots straight into their place. No page is
    /// read.
    pub fn directory_at(&self, position: u64) -> Directory {
        let per = self.part_keys();
        let jobs: Vec<(usize, &IndexPart, usize)> = (0..2)
            .flat_map(|slot| {
                self.parts[slot]
                    .iter()
                    .enumerate()
                    .map(move |(i, part)| (slot, part, i.saturating_mul(per)))
            })
            .collect();
        let total: usize = jobs.iter().map(|(_, p, _)| p.byte_len()).sum();
        let mut seen = 0;
        let split = jobs
            .iter()
            .position(|(_, p, _)| {
                seen += p.byte_len();
                seen * 2 > total
            })
            .map_or(jobs.len(), |i| i + 1);
        let counts: Vec<usize> = on_two_cores(
            jobs.iter().map(|(_, part, _)| *part).collect(),
            split,
            |part| rows_in(part, position),
        );
        let rows = |slot: usize| -> usize {
            jobs.iter()
                .zip(&counts)
                .filter(|((s, _, _), _)| *s == slot)
                .map(|(_, n)| n)
                .sum()
        };
        let (user_rows, booking_rows) = (rows(0), rows(1));
        let mut bytes = vec![0u8; (user_rows + booking_rows) * std::mem::size_of::<DirEntry>()];
        let entries: &mut [DirEntry] = bytemuck::cast_slice_mut(&mut bytes);
        let mut slots = [vec![0u32; user_rows], vec![0u32; booking_rows]];
        // Each part's place: the users parts' entries come first, as the
        // parts do.
        let mut places = Vec::with_capacity(jobs.len());
        let cancelled = {
            let mut rest_entries = entries;
            let [users, bookings] = &mut slots;
            let mut rest_slots = [users.as_mut_slice(), bookings.as_mut_slice()];
            for ((slot, part, first_slot), n) in jobs.iter().zip(&counts) {
                let (mine, rest) = std::mem::take(&mut rest_entries).split_at_mut(*n);
                rest_entries = rest;
                let (my_slots, rest) = std::mem::take(&mut rest_slots[*slot]).split_at_mut(*n);
                rest_slots[*slot] = rest;
                places.push((*part, *first_slot, mine, my_slots));
            }
            on_two_cores(places, split, |(part, first_slot, entries, slots)| {
                fill_rows(part, first_slot, position, entries, slots)
            })
        };
        Directory {
            index: SnapshotIndex::from_entry_bytes(position, self.page_keys, bytes, user_rows),
            slots,
            // Users are never cancelled; only the bookings parts count.
            cancelled: (jobs.iter().zip(&cancelled))
                .filter(|((slot, _, _), _)| *slot == Table::Bookings.slot())
                .map(|(_, n)| n)
                .sum(),
        }
    }
}

/// `f` of every item, the first `split` on this thread and the rest on
/// another, in order.
fn on_two_cores<T: Send, R: Send>(
    mut items: Vec<T>,
    split: usize,
    f: impl Fn(T) -> R + Sync,
) -> Vec<R> {
    let second = items.split_off(split.min(items.len()));
    let f = &f;
    std::thread::scope(|scope| {
        let second = scope.spawn(move || second.into_iter().map(f).collect::<Vec<R>>());
        let mut out: Vec<R> = items.into_iter().map(f).collect();
        match second.join() {
            Ok(rest) => out.extend(rest),
            // `f` does not panic on the data it reads; if it did, say so.
            Err(panic) => std::panic::resume_unwind(panic),
        }
        out
    })
}

/// Each key of a part with its marks, in order.
fn keys_and_marks(part: &IndexPart) -> impl Iterator<Item = (&HistoryKey, &[[u8; MARK_BYTES]])> {
    let marks = part.marks();
    let mut at = 0usize;
    part.keys().iter().map(move |key| {
        let n = key.marks();
        let mine = marks.get(at..at + n).unwrap_or(&[]);
        at += n;
        (key, mine)
    })
}

fn mark_position(mark: &[u8; MARK_BYTES]) -> u64 {
    u64::from_le_bytes(*mark) & !CANCELLED_BIT
}

/// Rows of a part that exist at `position` (keys whose first change is at
/// or before it).
fn rows_in(part: &IndexPart, position: u64) -> usize {
    keys_and_marks(part)
        .filter(|(_, marks)| marks.first().is_some_and(|m| mark_position(m) <= position))
        .count()
}

/// Writes the entries and slots of a part's rows at `position` (as many as
/// [`rows_in`] counts; the part's first key is history slot `first_slot`).
/// Returns how many of them are cancelled.
fn fill_rows(
    part: &IndexPart,
    first_slot: usize,
    position: u64,
    entries: &mut [DirEntry],
    slots: &mut [u32],
) -> u64 {
    let mut cancelled = 0;
    let mut out = entries.iter_mut().zip(slots.iter_mut());
    for (i, (key, marks)) in keys_and_marks(part).enumerate() {
        let upto = marks.partition_point(|m| mark_position(m) <= position);
        let Some(last) = upto.checked_sub(1).and_then(|l| marks.get(l)) else {
            continue;
        };
        let Some((entry, slot)) = out.next() else {
            break;
        };
        let mark = u64::from_le_bytes(*last);
        let is_cancelled = mark & CANCELLED_BIT != 0;
        *entry = DirEntry::new(key.id(), mark & !CANCELLED_BIT, is_cancelled);
        *slot = (first_slot + i) as u32;
        cancelled += u64::from(is_cancelled);
    }
    cancelled
}

/// A decoded head chunk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Head {
    /// The earlier layout: the whole index was in the chunk.
    Whole(HistoryIndex),
    /// The index parts are still to be read ([`decode_part`]).
    Parts(HistoryHead),
}

impl Head {
    /// The position the history is at.
    pub fn position(&self) -> u64 {
        match self {
            Head::Whole(index) => index.position,
            Head::Parts(head) => head.position,
        }
    }

    /// Total chunks the history says it has.
    pub fn chunks(&self) -> u32 {
        match self {
            Head::Whole(index) => index.chunks(),
            Head::Parts(head) => head.chunks(),
        }
    }
}

/// Decodes a head chunk. Rejects: a wrong magic, truncation, trailing
/// bytes, counts that cannot fit, page_keys or part_pages 0, part mark
/// counts that do not add up, a digest count other than the pages', a
/// skipped entry after the position. A head of the earlier layout is the
/// whole index, checked as [`decode_part`] checks a part.
pub fn decode_head(bytes: Vec<u8>) -> Result<Head, FormatError> {
    if bytes.starts_with(MAGIC_V1) {
        return decode_v1(bytes).map(Head::Whole);
    }
    if !bytes.starts_with(MAGIC) {
        return Err("not a history snapshot index (wrong magic)".into());
    }
    let mut r = Reader::at(&bytes, MAGIC.len());
    let position = r.u64()?;
    let events = r.u64()?;
    let page_keys = r.u32()?;
    let part_pages = r.u32()?;
    if page_keys == 0 || part_pages == 0 {
        return Err(format_error!(
            "page_keys {page_keys}, part_pages {part_pages}"
        ));
    }
    let n_keys = [r.u64()?, r.u64()?];
    let n_marks = [r.u64()?, r.u64()?];
    let part_keys = u64::from(part_pages) * u64::from(page_keys);
    let n_parts = n_keys.map(|n| n.div_ceil(part_keys));
    let fits = n_parts[0]
        .checked_add(n_parts[1])
        .and_then(|n| n.checked_mul(8 + DIGEST_BYTES as u64))
        .is_some_and(|need| need <= r.left() as u64);
    if !fits {
        return Err(format_error!(
            "{n_keys:?} keys cannot fit in {} bytes of part descriptions",
            r.left()
        ));
    }
    let mut specs = Vec::with_capacity((n_parts[0] + n_parts[1]) as usize);
    for table in Table::ALL {
        let slot = table.slot();
        let mut marks_sum = 0u64;
        for i in 0..n_parts[slot] {
            let marks = r.u64()?;
            marks_sum = marks_sum.saturating_add(marks);
            specs.push(PartSpec {
                table,
                number: specs.len() as u32,
                keys: (n_keys[slot] - i * part_keys).min(part_keys) as usize,
                marks,
                xxh3: u128::from_le_bytes(r.array::<DIGEST_BYTES>()?),
                position,
            });
        }
        if marks_sum != n_marks[slot] {
            return Err(format_error!(
                "{table:?} index parts hold {marks_sum} changes; the head says {}",
                n_marks[slot]
            ));
        }
    }
    let n_keys = n_keys.map(|n| n as usize);
    let pages =
        u64::from(pages_for(n_keys[0], page_keys)) + u64::from(pages_for(n_keys[1], page_keys));
    let (page_xxh3, skipped) = digests_and_skipped(&mut r, pages, position)?;
    Ok(Head::Parts(HistoryHead {
        position,
        events,
        page_keys,
        part_pages,
        n_keys,
        specs,
        page_xxh3,
        skipped,
    }))
}

/// The page digests (as many as `pages`) and the skipped entries that end a
/// head, and nothing after them.
fn digests_and_skipped(
    r: &mut Reader<'_>,
    pages: u64,
    position: u64,
) -> Result<(Vec<u128>, Vec<MalformedEvent>), FormatError> {
    let n_digests = r.u64()?;
    if n_digests != pages {
        return Err(format_error!("{n_digests} page digests for {pages} pages"));
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
    if skipped.iter().any(|bad| bad.position > position) {
        return Err("an entry that could not be applied lies after the position".into());
    }
    Ok((page_xxh3, skipped))
}

/// Decodes and checks index part chunk `spec.number`: its checksum first
/// (changed bytes are reported as such), then its length, keys strictly
/// increasing, each with changes, mark counts that add up, marks that
/// increase within a key and lie at or before the position, no user marked
/// cancelled.
pub fn decode_part(spec: &PartSpec, bytes: Vec<u8>) -> Result<IndexPart, FormatError> {
    let number = spec.number;
    if page_digest(&bytes) != spec.xxh3 {
        return Err(format_error!(
            "index part {number} does not match its checksum"
        ));
    }
    if !bytes.starts_with(PART_TAG) {
        return Err(format_error!("chunk {} is not an index part", number + 1));
    }
    let keys_end = spec
        .keys
        .checked_mul(KEY_BYTES)
        .and_then(|k| k.checked_add(PART_TAG.len()));
    let end = keys_end.and_then(|k| {
        usize::try_from(spec.marks)
            .ok()?
            .checked_mul(MARK_BYTES)?
            .checked_add(k)
    });
    let (Some(keys_end), Some(end)) = (keys_end, end) else {
        return Err(format_error!("index part {number} cannot hold its counts"));
    };
    if end != bytes.len() {
        return Err(format_error!(
            "index part {number} is {} bytes; its {} keys and {} changes take {end}",
            bytes.len(),
            spec.keys,
            spec.marks
        ));
    }
    let part = IndexPart {
        bytes: Arc::new(bytes),
        keys: PART_TAG.len()..keys_end,
        marks: keys_end..end,
    };
    check_keys(
        spec.table,
        part.keys(),
        part.marks(),
        spec.marks,
        spec.position,
    )?;
    Ok(part)
}

/// A head and its index parts (as stored, in order), decoded and checked.
pub fn decode_chunks(head: Vec<u8>, parts: &[Vec<u8>]) -> Result<HistoryIndex, FormatError> {
    match decode_head(head)? {
        Head::Whole(index) => Ok(index),
        Head::Parts(head) => {
            let decoded = head
                .parts()
                .iter()
                .zip(parts)
                .map(|(spec, bytes)| decode_part(spec, bytes.clone()))
                .collect::<Result<Vec<_>, _>>()?;
            head.assemble(decoded)
        }
    }
}

/// Decodes an index chunk of the earlier layout, keeping its bytes.
fn decode_v1(bytes: Vec<u8>) -> Result<HistoryIndex, FormatError> {
    let mut r = Reader::at(&bytes, MAGIC_V1.len());
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
    let n_keys = n_keys.map(|n| n as usize);
    let pages =
        u64::from(pages_for(n_keys[0], page_keys)) + u64::from(pages_for(n_keys[1], page_keys));
    let (page_xxh3, skipped) = digests_and_skipped(&mut r, pages, position)?;
    let bytes = Arc::new(bytes);
    let mut parts: [Vec<IndexPart>; 2] = Default::default();
    for table in Table::ALL {
        let slot = table.slot();
        let part = IndexPart {
            bytes: bytes.clone(),
            keys: keys[slot].clone(),
            marks: marks[slot].clone(),
        };
        check_keys(table, part.keys(), part.marks(), n_marks[slot], position)?;
        if n_keys[slot] > 0 {
            parts[slot].push(part);
        }
    }
    Ok(HistoryIndex {
        position,
        events,
        page_keys,
        part_pages: u32::MAX,
        parts_before_pages: 0,
        n_keys,
        parts,
        page_xxh3,
        skipped,
    })
}

/// Checks a run of one table's keys and their marks (see [`decode_part`]),
/// in one pass (it runs on every read of a history's index).
fn check_keys(
    table: Table,
    keys: &[HistoryKey],
    marks: &[[u8; MARK_BYTES]],
    n_marks: u64,
    position: u64,
) -> Result<(), FormatError> {
    let mismatch =
        || format_error!("{table:?} keys do not have the {n_marks} changes the index holds");
    if marks.len() as u64 != n_marks {
        return Err(mismatch());
    }
    let mut previous_id: Option<u128> = None;
    let mut at = 0usize;
    for (i, key) in keys.iter().enumerate() {
        // Big-endian, the order of the ids' bytes (and of Uuid).
        let id = u128::from_be_bytes(key.id);
        if previous_id.is_some_and(|p| p >= id) {
            return Err(format_error!(
                "{table:?} keys are not strictly increasing at key {i}"
            ));
        }
        previous_id = Some(id);
        let n = key.marks();
        if n == 0 {
            return Err(format_error!("{table:?} key {} has no changes", key.id()));
        }
        let mine = marks.get(at..at + n).ok_or_else(mismatch)?;
        at += n;
        let mut previous = 0u64;
        for mark in mine {
            let mark = u64::from_le_bytes(*mark);
            let at_position = mark & !CANCELLED_BIT;
            if at_position <= previous || at_position > position {
                return Err(format_error!(
                    "{table:?} key {} has a change at {at_position} after {previous} (the history is up to {position})",
                    key.id()
                ));
            }
            if table == Table::Users && mark & CANCELLED_BIT != 0 {
                return Err(format_error!("user {} is marked cancelled", key.id()));
            }
            previous = at_position;
        }
    }
    if at != marks.len() {
        return Err(mismatch());
    }
    Ok(())
}
