//! Decoding a history index: its head (`LSHIST2`, and `LSHIST1` whole),
//! its parts, and the checks on their keys.

use std::sync::Arc;

use super::{HistoryHead, HistoryIndex, IndexPart, PartSpec, pages_for};
use crate::domain::Table;
use crate::engine::snapshot_history::{
    CANCELLED_BIT, DIGEST_BYTES, HistoryKey, KEY_BYTES, MAGIC, MAGIC_V1, MARK_BYTES, PART_TAG,
    page_digest,
};
use crate::engine::snapshot_rows::{FormatError, Reader, format_error};
use crate::store::MalformedEvent;

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
