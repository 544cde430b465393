//! Unit tests of `snapshot_history.rs`: the rows a history gives at every
//! position must be the rows a fold to that position gives, and garbage must
//! be an error, never a panic.

use super::*;
use crate::domain::ReadState;
use crate::engine::snapshot_pages::DirEntry;
use crate::engine::view::tests::events;

/// The history of the test ledger's first `to` events, encoded with small
/// pages (several per table).
fn history(to: usize) -> (Encoded, [Vec<KeyChanges>; 2]) {
    let events = events();
    let mut fold = HistoryFold::default();
    let mut skipped = Vec::new();
    for event in &events[..to] {
        if fold.fold_event(event) != crate::domain::state::FoldOutcome::Applied {
            skipped.push(MalformedEvent {
                position: event.position,
                reason: "skipped".into(),
                raw: String::new(),
            });
        }
    }
    let position = fold.folded_to();
    let events = fold.events();
    let tables = fold.into_sorted();
    skipped.push(MalformedEvent {
        position: 3,
        reason: "unknown event type 'Nope' (\"quoted\")".into(),
        raw: String::new(),
    });
    (
        encode_with(position, events, &tables, &skipped, 7, 2),
        tables,
    )
}

/// The index of encoded chunks (the head and its parts).
fn decode(chunks: &[Vec<u8>]) -> Result<HistoryIndex, FormatError> {
    decode_chunks(chunks[0].clone(), &chunks[1..])
}

/// The head of encoded chunks, with its parts still to read.
fn head_of(chunks: &[Vec<u8>]) -> HistoryHead {
    match decode_head(chunks[0].clone()).unwrap() {
        Head::Parts(head) => head,
        Head::Whole(_) => panic!("a head of the earlier layout"),
    }
}

/// The chunks of `encoded` in the earlier layout: the whole index in chunk
/// 0, then the pages.
fn earlier_layout(chunks: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let index = decode(chunks).unwrap();
    let mut v1 = MAGIC_V1.to_vec();
    put_u64(&mut v1, index.position);
    put_u64(&mut v1, index.events);
    v1.extend_from_slice(&index.page_keys.to_le_bytes());
    for slot in 0..2 {
        put_u64(&mut v1, index.n_keys[slot] as u64);
    }
    for slot in 0..2 {
        put_u64(
            &mut v1,
            index.parts[slot]
                .iter()
                .map(|p| p.marks().len() as u64)
                .sum(),
        );
    }
    for slot in 0..2 {
        for part in &index.parts[slot] {
            v1.extend_from_slice(bytemuck::cast_slice(part.keys()));
        }
    }
    for slot in 0..2 {
        for part in &index.parts[slot] {
            v1.extend_from_slice(part.marks().as_flattened());
        }
    }
    put_u64(&mut v1, index.page_xxh3.len() as u64);
    for digest in &index.page_xxh3 {
        v1.extend_from_slice(&digest.to_le_bytes());
    }
    put_u64(&mut v1, index.skipped.len() as u64);
    for bad in &index.skipped {
        put_u64(&mut v1, bad.position);
        put_str(&mut v1, &bad.reason);
        put_str(&mut v1, &bad.raw);
    }
    let parts = index.parts.iter().map(Vec::len).sum::<usize>();
    let mut out = vec![v1];
    out.extend(chunks[1 + parts..].iter().cloned());
    out
}

/// The state at `position` from the decoded index and pages.
fn state_from(index: &HistoryIndex, chunks: &[Vec<u8>], position: u64) -> ReadState {
    let at = index.rows_at(position);
    let mut state = ReadState {
        position,
        ..ReadState::default()
    };
    for table in [Table::Users, Table::Bookings] {
        for slot in &at.slots[table.slot()] {
            let (page, i) = index.locate(*slot);
            let bytes = &chunks[index.chunk_of(table, page) as usize];
            assert_eq!(
                page_digest(bytes),
                index.page_xxh3
                    [(index.chunk_of(table, page) - index.chunk_of(Table::Users, 0)) as usize]
            );
            let keys = decode_page(bytes, table, index.keys_of_page(table, page)).unwrap();
            let (key, changes) = &keys[i];
            assert_eq!(*key, index.key(table, *slot).unwrap().id());
            for change in changes_up_to(changes, position) {
                state.apply_change(change);
            }
        }
    }
    state
}

#[test]
fn a_history_gives_the_folded_state_at_every_position_up_to_its_own() {
    let all = events();
    let (encoded, tables) = history(all.len());
    let index = decode(&encoded.chunks).unwrap();
    assert!(
        index.parts.iter().all(|parts| parts.len() > 1),
        "several index parts per table"
    );
    assert_eq!(index.position, all.len() as u64);
    assert_eq!(index.events, all.len() as u64);
    assert_eq!(index.chunks() as usize, encoded.chunks.len());
    assert!(index.pages(Table::Bookings) > 2, "several pages per table");
    let head = ReadState::fold(&all);
    assert_eq!(encoded.counts, head.counts());
    // Only changes that did something are kept: the booking that never
    // existed (event 77) and repeated user inserts are left out.
    assert!(index.slot_of(Table::Bookings, Uuid::from_u128(7)).is_none());
    let kept: usize = tables.iter().flatten().map(|(_, c)| c.len()).sum();
    let raw: usize = all
        .iter()
        .map(|e| RowChange::of_event(e.position, &e.decode().unwrap()).count())
        .sum();
    assert!(kept < raw, "{kept} changes kept of {raw}");
    // The same history in the earlier layout (the index in one chunk).
    let v1_chunks = earlier_layout(&encoded.chunks);
    let v1 = decode(&v1_chunks).unwrap();
    assert_eq!(v1.chunks() as usize, v1_chunks.len());
    for position in 0..=all.len() as u64 {
        let want = ReadState::fold(&all[..position as usize]);
        let got = state_from(&index, &encoded.chunks, position);
        assert_eq!(
            state_from(&v1, &v1_chunks, position),
            got,
            "the earlier layout at {position}"
        );
        let directory = index.directory_at(position);
        let at = index.rows_at(position);
        for table in Table::ALL {
            assert_eq!(
                directory.index.entries(table),
                at.entries[table.slot()].as_slice()
            );
        }
        assert_eq!(directory.slots, at.slots);
        let cancelled = (want.bookings.values())
            .filter(|b| b.status == crate::domain::BookingStatus::Cancelled)
            .count();
        assert_eq!(
            directory.cancelled, cancelled as u64,
            "cancelled at {position}"
        );
        assert_eq!(got.users, want.users, "users at {position}");
        assert_eq!(got.bookings, want.bookings, "bookings at {position}");
        let at = index.rows_at(position);
        let entries: Vec<DirEntry> = want.bookings.values().map(DirEntry::of_booking).collect();
        assert_eq!(at.entries[1], entries, "booking entries at {position}");
        let entries: Vec<DirEntry> = want.users.values().map(DirEntry::of_user).collect();
        assert_eq!(at.entries[0], entries, "user entries at {position}");
    }
    assert_eq!(index.skipped.len(), 1);
    assert_eq!(
        index.skipped[0].reason,
        "unknown event type 'Nope' (\"quoted\")"
    );
}

#[test]
fn an_empty_history_decodes_to_no_rows() {
    let encoded = encode(0, 0, &Default::default(), &[], PAGE_KEYS);
    assert_eq!(encoded.chunks.len(), 1);
    let index = decode(&encoded.chunks).unwrap();
    assert_eq!(index.rows_at(10), RowsAt::default());
    assert_eq!(index.chunks(), 1);
}

#[test]
fn garbage_is_an_error_never_a_panic() {
    let (encoded, _) = history(120);
    let chunks = &encoded.chunks;
    let head = &chunks[0];
    assert!(decode_head(head[..head.len() - 1].to_vec()).is_err());
    let mut longer = head.clone();
    longer.push(0);
    assert!(decode_head(longer).is_err());
    assert!(decode_head(b"LSSNAP2\nxxxxxxxx".to_vec()).is_err());
    // Every single flipped byte of the head is caught or decodes to
    // something checked.
    for at in 0..head.len().min(4_000) {
        let mut bad = head.clone();
        bad[at] ^= 0x5a;
        let _ = decode_head(bad);
    }
    let specs = head_of(chunks).parts().to_vec();
    assert!(specs.len() >= 3, "{} index parts", specs.len());
    // A part: its checksum catches any change; a short or long part, or one
    // in another's place, is an error.
    let part = &chunks[1];
    decode_part(&specs[0], part.clone()).unwrap();
    for at in 0..part.len() {
        let mut bad = part.clone();
        bad[at] ^= 0xa5;
        let error = decode_part(&specs[0], bad).unwrap_err().to_string();
        assert!(error.contains("checksum"), "{error}");
    }
    assert!(decode_part(&specs[0], chunks[2].clone()).is_err());
    assert!(decode_part(&specs[0], part[..part.len() - 8].to_vec()).is_err());
    // With checksums that match (a head written to fit): keys out of order
    // within a part, a part too short for its keys, parts out of order.
    let with_digest = |mut spec: PartSpec, bytes: &[u8]| {
        spec.xxh3 = page_digest(bytes);
        decode_part(&spec, bytes.to_vec())
    };
    let mut swapped = part.clone();
    let a = PART_TAG.len();
    let b = a + KEY_BYTES;
    let first: Vec<u8> = swapped[a..b].to_vec();
    swapped.copy_within(b..b + KEY_BYTES, a);
    swapped[b..b + KEY_BYTES].copy_from_slice(&first);
    let error = with_digest(specs[0].clone(), &swapped)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("not strictly increasing") || error.contains("changes"),
        "{error}"
    );
    let error = with_digest(specs[0].clone(), &part[..part.len() - 8])
        .unwrap_err()
        .to_string();
    assert!(error.contains("bytes"), "{error}");
    let users: Vec<&PartSpec> = specs.iter().filter(|s| s.table == Table::Users).collect();
    assert!(users.len() >= 2, "two users parts");
    let mut head = head_of(chunks);
    let parts: Vec<IndexPart> = specs
        .iter()
        .map(|s| decode_part(s, chunks[1 + s.number as usize].clone()).unwrap())
        .collect();
    let mut reordered = parts.clone();
    reordered.swap(0, 1);
    let error = head.clone().assemble(reordered).unwrap_err().to_string();
    assert!(error.contains("from one index part to the next"), "{error}");
    assert!(
        head.clone().assemble(parts[1..].to_vec()).is_err(),
        "a part missing"
    );
    head.specs.pop();
    assert!(head.assemble(parts).is_err(), "a part too many");
    // Pages.
    let index = decode(chunks).unwrap();
    let page = &chunks[index.chunk_of(Table::Users, 0) as usize];
    let keys = index.keys_of_page(Table::Users, 0);
    assert_eq!(
        decode_page(page, Table::Users, keys).unwrap().len(),
        keys.len()
    );
    assert!(
        decode_page(page, Table::Users, &keys[1..]).is_err(),
        "fewer keys than the page"
    );
    assert!(
        decode_page(page, Table::Bookings, keys).is_err(),
        "a users page is not a bookings page"
    );
    assert!(decode_page(&page[..page.len() - 3], Table::Users, keys).is_err());
    for at in 0..page.len() {
        let mut bad = page.clone();
        bad[at] ^= 0xa5;
        let _ = decode_page(&bad, Table::Users, keys);
    }
    // The earlier layout: a flipped byte or a cut is caught too.
    let v1 = earlier_layout(chunks).swap_remove(0);
    assert!(decode_head(v1[..v1.len() - 1].to_vec()).is_err());
    for at in 0..v1.len().min(4_000) {
        let mut bad = v1.clone();
        bad[at] ^= 0x5a;
        let _ = decode_head(bad);
    }
}
