//! The index of a history snapshot ([`super`]): its head, its parts, and
//! the rows that exist at any position up to its own, computed from the
//! index alone.

use std::ops::Range;
use std::sync::Arc;

use uuid::Uuid;

use super::{CANCELLED_BIT, HistoryKey, MARK_BYTES};
use crate::domain::Table;
use crate::engine::snapshot_pages::{DirEntry, SnapshotIndex, chunk_of_page};
use crate::engine::snapshot_rows::{FormatError, format_error};
use crate::store::MalformedEvent;

mod decode;

pub use decode::{Head, decode_chunks, decode_head, decode_part};

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
