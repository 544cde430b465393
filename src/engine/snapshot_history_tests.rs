//! Unit tests of `snapshot_history.rs`: the rows a history gives at every
//! position must be the rows a fold to that position gives, and garbage must
//! be an error, never a panic.

use super::*;
use crate::domain::ReadState;
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
    (encode(position, events, &tables, &skipped, 7), tables)
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
                index.page_xxh3[index.chunk_of(table, page) as usize - 1]
            );
            let keys = decode_page(bytes, table, index.keys_of_page(table, page)).unwrap();
            let (key, changes) = &keys[i];
            assert_eq!(*key, index.keys(table)[*slot as usize].id());
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
    let index = decode_index(encoded.chunks[0].clone()).unwrap();
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
    for position in 0..=all.len() as u64 {
        let want = ReadState::fold(&all[..position as usize]);
        let got = state_from(&index, &encoded.chunks, position);
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
    let index = decode_index(encoded.chunks[0].clone()).unwrap();
    assert_eq!(index.rows_at(10), RowsAt::default());
    assert_eq!(index.chunks(), 1);
}

#[test]
fn garbage_is_an_error_never_a_panic() {
    let (encoded, _) = history(120);
    let index = &encoded.chunks[0];
    assert!(decode_index(index[..index.len() - 1].to_vec()).is_err());
    let mut longer = index.clone();
    longer.push(0);
    assert!(decode_index(longer).is_err());
    assert!(decode_index(b"LSSNAP2\nxxxxxxxx".to_vec()).is_err());
    // Every single flipped byte is caught or decodes to something checked.
    for at in 0..index.len().min(4_000) {
        let mut bad = index.clone();
        bad[at] ^= 0x5a;
        let _ = decode_index(bad);
    }
    // Keys out of order: swap the first two users keys.
    let mut swapped = index.clone();
    let keys = 8 + 8 + 8 + 4 + 32;
    let (a, b) = (keys, keys + KEY_BYTES);
    let first: Vec<u8> = swapped[a..b].to_vec();
    swapped.copy_within(b..b + KEY_BYTES, a);
    swapped[b..b + KEY_BYTES].copy_from_slice(&first);
    let error = decode_index(swapped).unwrap_err().to_string();
    assert!(
        error.contains("not strictly increasing") || error.contains("changes"),
        "{error}"
    );
    let page = &encoded.chunks[1];
    let decoded = decode_index(index.clone()).unwrap();
    let keys = decoded.keys_of_page(Table::Users, 0);
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
}
