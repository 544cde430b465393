//! Unit tests of `snapshot_pages.rs`.

use super::*;
use crate::domain::event::DomainEvent;
use crate::domain::generate::{DemoRng, booking_form};
use crate::domain::{StoredEvent, aggregate::decide_submit};
use chrono::Datelike;
use uuid::Uuid;

use crate::domain::model::WriteCells;

/// Writes a row in the snapshot row form, its status text and its first
/// date replaced (so a test can break them without spelling every column).
struct Tampered<'a> {
    out: &'a mut Vec<u8>,
    status: &'a str,
    check_in: Option<i32>,
}

impl crate::domain::model::CellWriter for Tampered<'_> {
    fn uuid(&mut self, value: Uuid) {
        self.out.extend_from_slice(value.as_bytes());
    }
    fn text(&mut self, value: &str) {
        let text = match crate::domain::BookingStatus::parse(value) {
            Some(_) => self.status,
            None => value,
        };
        crate::engine::snapshot_rows::put_str(self.out, text);
    }
    fn date(&mut self, value: chrono::NaiveDate) {
        let days = self.check_in.take().unwrap_or(value.num_days_from_ce());
        self.out.extend_from_slice(&days.to_le_bytes());
    }
    fn count(&mut self, value: u32) {
        self.out.extend_from_slice(&value.to_le_bytes());
    }
    fn int(&mut self, value: i64) {
        self.out.extend_from_slice(&value.to_le_bytes());
    }
    fn position(&mut self, value: u64) {
        self.out.extend_from_slice(&value.to_le_bytes());
    }
}

/// Asserts that decoding failed for the expected reason.
#[track_caller]
fn assert_err<T: std::fmt::Debug>(result: Result<T, FormatError>, reason: &str) {
    match result {
        Err(e) => assert!(
            e.0.contains(reason),
            "error {e:?} does not mention {reason:?}"
        ),
        Ok(v) => panic!("decoded garbage as {v:?}"),
    }
}

/// A state folded from `bookings` generated bookings (over `customers`
/// people), with every third booking cancelled and some users moved.
fn state_of(seed: u64, bookings: u64, customers: u64) -> ReadState {
    let mut rng = DemoRng::new(seed);
    let mut events = Vec::new();
    let push = |event: &DomainEvent, version: u64, events: &mut Vec<StoredEvent>| {
        let mut e = StoredEvent::wrap(
            event,
            uuid::Uuid::new_v4(),
            version,
            chrono::Utc::now(),
            Default::default(),
        );
        e.position = events.len() as u64 + 1;
        events.push(e);
    };
    for i in 0..bookings {
        let cmd = booking_form(&mut rng, customers)
            .validate(rng.uuid_v4())
            .unwrap();
        push(&decide_submit(&cmd), 1, &mut events);
        if i % 3 == 0 {
            let cancel = DomainEvent::BookingCancelled {
                booking_id: cmd.booking_id,
                reason: "changed plans".into(),
            };
            push(&cancel, 2, &mut events);
        }
        if i % 5 == 0 {
            let moved = DomainEvent::UserAddressChanged {
                user_id: cmd.user.user_id,
                old_address: cmd.user.address.clone(),
                new_address: format!("Calle Nueva {i}"),
            };
            push(&moved, 1, &mut events);
        }
    }
    ReadState::fold(&events)
}

/// Drops rows from the end of both tables until each count is a multiple of `k`.
fn trim_to_multiple(state: &mut ReadState, k: usize) {
    while !state.users.len().is_multiple_of(k) {
        state.users.pop_last();
    }
    while !state.bookings.len().is_multiple_of(k) {
        state.bookings.pop_last();
    }
}

/// Checks everything a reader relies on for one encoding.
fn assert_round_trip(state: &ReadState, page_rows: u32) {
    let chunks = encode(state, page_rows);
    assert!(is_paged(&chunks[0]));
    let index = decode_index(&chunks[0]).unwrap();
    assert_eq!(index.position, state.position);
    assert_eq!(index.page_rows, page_rows);

    // The directory is the state's keys, versions and cancelled flags in order.
    let users: Vec<DirEntry> = state
        .users
        .iter()
        .map(|(k, r)| DirEntry::new(*k, r.last_position, false))
        .collect();
    let bookings: Vec<DirEntry> = state
        .bookings
        .iter()
        .map(|(k, r)| DirEntry::new(*k, r.last_position, r.status == BookingStatus::Cancelled))
        .collect();
    assert_eq!(index.entries(Table::Users), users.as_slice());
    assert_eq!(index.entries(Table::Bookings), bookings.as_slice());

    // Page and chunk counts.
    let pr = page_rows as usize;
    assert_eq!(
        index.pages(Table::Users) as usize,
        state.users.len().div_ceil(pr)
    );
    assert_eq!(
        index.pages(Table::Bookings) as usize,
        state.bookings.len().div_ceil(pr)
    );
    assert_eq!(index.chunks() as usize, chunks.len());
    assert_eq!(index.page_sha256.len(), chunks.len() - 1);

    // Every page's digest matches.
    for (i, chunk) in chunks.iter().enumerate().skip(1) {
        assert_eq!(sha256(chunk), index.page_sha256[i - 1], "chunk {i}");
    }

    // Decoding every page and concatenating gives exactly the state's rows;
    // every page but the last of a table is full.
    let mut got_users = Vec::new();
    for page in 0..index.pages(Table::Users) {
        let chunk = index.chunk_of(Table::Users, page) as usize;
        let rows = decode_user_page(&chunks[chunk]).unwrap();
        if page + 1 < index.pages(Table::Users) {
            assert_eq!(rows.len(), pr);
        }
        assert!(!rows.is_empty() && rows.len() <= pr);
        got_users.extend(rows);
    }
    let want_users: Vec<UserRow> = state.users.values().cloned().collect();
    assert_eq!(got_users, want_users);

    let mut got_bookings = Vec::new();
    for page in 0..index.pages(Table::Bookings) {
        let chunk = index.chunk_of(Table::Bookings, page) as usize;
        let rows = decode_booking_page(&chunks[chunk]).unwrap();
        if page + 1 < index.pages(Table::Bookings) {
            assert_eq!(rows.len(), pr);
        }
        assert!(!rows.is_empty() && rows.len() <= pr);
        got_bookings.extend(rows);
    }
    let want_bookings: Vec<BookingRow> = state.bookings.values().cloned().collect();
    assert_eq!(got_bookings, want_bookings);

    // chunk_of + locate find each row where it really is.
    for (ordinal, entry) in index.entries(Table::Users).iter().enumerate() {
        let (page, at) = index.locate(ordinal);
        let rows = decode_user_page(&chunks[index.chunk_of(Table::Users, page) as usize]).unwrap();
        assert_eq!(rows[at].user_id, entry.id());
        assert_eq!(rows[at].last_position, entry.last_position());
    }
    for (ordinal, entry) in index.entries(Table::Bookings).iter().enumerate() {
        let (page, at) = index.locate(ordinal);
        let chunk = &chunks[index.chunk_of(Table::Bookings, page) as usize];
        let rows = decode_booking_page(chunk).unwrap();
        assert_eq!(rows[at].booking_id, entry.id());
        assert_eq!(rows[at].last_position, entry.last_position());
        assert_eq!(
            rows[at].status == BookingStatus::Cancelled,
            entry.cancelled()
        );
    }
}

#[test]
fn round_trip_with_partial_last_pages() {
    let state = state_of(11, 120, 40);
    assert!(!state.users.len().is_multiple_of(7) || !state.bookings.len().is_multiple_of(7));
    let cancelled = state
        .bookings
        .values()
        .filter(|b| b.status == BookingStatus::Cancelled)
        .count();
    assert!(cancelled > 0 && cancelled < state.bookings.len());
    assert!(
        state
            .users
            .values()
            .any(|u| u.last_position != u.created_position)
    );
    assert_round_trip(&state, 7);
    assert_round_trip(&state, 1);
    assert_round_trip(&state, PAGE_ROWS);
}

#[test]
fn round_trip_with_full_last_pages() {
    let mut state = state_of(12, 150, 60);
    trim_to_multiple(&mut state, 7);
    assert!(!state.users.is_empty() && !state.bookings.is_empty());
    assert_eq!(state.users.len() % 7, 0);
    assert_eq!(state.bookings.len() % 7, 0);
    assert_round_trip(&state, 7);
}

#[test]
fn empty_state_is_the_index_only() {
    let state = ReadState::default();
    let chunks = encode(&state, 7);
    assert_eq!(chunks.len(), 1);
    let index = decode_index(&chunks[0]).unwrap();
    assert_eq!(index.chunks(), 1);
    assert_eq!(index.pages(Table::Users), 0);
    assert_eq!(index.pages(Table::Bookings), 0);
    assert!(
        index.entries(Table::Users).is_empty()
            && index.entries(Table::Bookings).is_empty()
            && index.page_sha256.is_empty()
    );
    assert_round_trip(&state, 7);
}

#[test]
fn bookings_pages_follow_users_pages() {
    let state = state_of(13, 30, 10);
    let chunks = encode(&state, 4);
    let index = decode_index(&chunks[0]).unwrap();
    assert_eq!(index.chunk_of(Table::Users, 0), 1);
    assert_eq!(
        index.chunk_of(Table::Bookings, 0),
        1 + index.pages(Table::Users)
    );
    assert!(chunks[1].starts_with(USER_PAGE_TAG));
    assert!(chunks[index.chunk_of(Table::Bookings, 0) as usize].starts_with(BOOKING_PAGE_TAG));
    assert!(decode_booking_page(&chunks[1]).is_err());
    assert!(decode_user_page(&chunks[index.chunk_of(Table::Bookings, 0) as usize]).is_err());
}

#[test]
fn is_paged_tells_formats_apart() {
    let state = state_of(14, 5, 5);
    assert!(is_paged(&encode(&state, 7)[0]));
    // The one-blob format of earlier builds started with this; JSON with `{`.
    let blob = b"LSSNAP1\n\0\0\0\0\0\0\0\0";
    assert!(!is_paged(blob));
    assert!(!is_paged(&serde_json::to_vec(&state).unwrap()));
    assert!(!is_paged(b""));
    assert!(decode_index(blob).is_err());
}

#[test]
fn every_truncation_is_an_error() {
    let state = state_of(15, 12, 6);
    let chunks = encode(&state, 5);
    assert!(chunks.len() >= 4);
    for len in 0..chunks[0].len() {
        assert!(
            decode_index(&chunks[0][..len]).is_err(),
            "index prefix {len}"
        );
    }
    let index = decode_index(&chunks[0]).unwrap();
    for page in 0..index.pages(Table::Users) {
        let chunk = &chunks[index.chunk_of(Table::Users, page) as usize];
        for len in 0..chunk.len() {
            assert!(
                decode_user_page(&chunk[..len]).is_err(),
                "users page prefix {len}"
            );
        }
    }
    for page in 0..index.pages(Table::Bookings) {
        let chunk = &chunks[index.chunk_of(Table::Bookings, page) as usize];
        for len in 0..chunk.len() {
            assert!(
                decode_booking_page(&chunk[..len]).is_err(),
                "bookings page prefix {len}"
            );
        }
    }
}

#[test]
fn trailing_bytes_are_an_error() {
    let state = state_of(16, 12, 6);
    let chunks = encode(&state, 5);
    let index = decode_index(&chunks[0]).unwrap();
    for extra in [&[0u8][..], &[0; 32][..]] {
        let mut bytes = chunks[0].clone();
        bytes.extend_from_slice(extra);
        assert_err(decode_index(&bytes), "trailing");
        let mut bytes = chunks[1].clone();
        bytes.extend_from_slice(extra);
        assert_err(decode_user_page(&bytes), "trailing");
        let mut bytes = chunks[index.chunk_of(Table::Bookings, 0) as usize].clone();
        bytes.extend_from_slice(extra);
        assert_err(decode_booking_page(&bytes), "trailing");
    }
}

/// Byte offset of entry `i` of the users directory in an index chunk.
fn user_entry_at(i: usize) -> usize {
    MAGIC.len() + 8 + 4 + 8 + 8 + i * 24
}

#[test]
fn unsorted_or_duplicate_keys_are_an_error() {
    let state = state_of(17, 12, 6);
    let chunks = encode(&state, 5);
    let index = decode_index(&chunks[0]).unwrap();
    assert!(index.entries(Table::Users).len() >= 2 && index.entries(Table::Bookings).len() >= 2);

    // Swap the first two users.
    let mut bytes = chunks[0].clone();
    let (a, b) = (user_entry_at(0), user_entry_at(1));
    let first: Vec<u8> = bytes[a..a + 24].to_vec();
    bytes.copy_within(b..b + 24, a);
    bytes[b..b + 24].copy_from_slice(&first);
    assert_err(decode_index(&bytes), "strictly increasing");

    // Swap the last two bookings.
    let mut bytes = chunks[0].clone();
    let last = index.entries(Table::Users).len() + index.entries(Table::Bookings).len() - 1;
    let (a, b) = (user_entry_at(last - 1), user_entry_at(last));
    let first: Vec<u8> = bytes[a..a + 24].to_vec();
    bytes.copy_within(b..b + 24, a);
    bytes[b..b + 24].copy_from_slice(&first);
    assert_err(decode_index(&bytes), "strictly increasing");

    // A duplicated key.
    let mut bytes = chunks[0].clone();
    bytes.copy_within(user_entry_at(0)..user_entry_at(0) + 16, user_entry_at(1));
    assert_err(decode_index(&bytes), "strictly increasing");
}

#[test]
fn bad_index_fields_are_an_error() {
    let state = state_of(18, 12, 6);
    let chunks = encode(&state, 5);
    let good = &chunks[0];
    assert!(decode_index(good).is_ok());
    let page_rows_at = MAGIC.len() + 8;
    let n_users_at = page_rows_at + 4;
    let n_bookings_at = n_users_at + 8;

    let mut bytes = good.clone();
    bytes[0] = b'X';
    assert_err(decode_index(&bytes), "magic");

    let mut bytes = good.clone();
    bytes[page_rows_at..page_rows_at + 4].copy_from_slice(&0u32.to_le_bytes());
    assert_err(decode_index(&bytes), "page_rows is 0");

    // A different page_rows implies a different page count than the digests.
    let mut bytes = good.clone();
    bytes[page_rows_at..page_rows_at + 4].copy_from_slice(&1u32.to_le_bytes());
    assert_err(decode_index(&bytes), "page digests for");

    // Huge counts: refused up front, without trying to allocate.
    for at in [n_users_at, n_bookings_at] {
        for huge in [u64::MAX, u64::MAX / 24, 1 << 40] {
            let mut bytes = good.clone();
            bytes[at..at + 8].copy_from_slice(&huge.to_le_bytes());
            assert_err(decode_index(&bytes), "cannot fit");
        }
    }
    let digests_at = good.len() - index_digest_bytes(good) - 8;
    let mut bytes = good.clone();
    bytes[digests_at..digests_at + 8].copy_from_slice(&u64::MAX.to_le_bytes());
    assert_err(decode_index(&bytes), "page digests for");

    // A user flagged cancelled.
    let mut bytes = good.clone();
    bytes[user_entry_at(0) + 23] |= 0x80;
    assert_err(decode_index(&bytes), "flagged cancelled");
}

/// Bytes taken by the page digests of a valid index.
fn index_digest_bytes(index: &[u8]) -> usize {
    decode_index(index).unwrap().page_sha256.len() * 32
}

#[test]
fn bad_pages_are_an_error() {
    let state = state_of(19, 12, 6);
    let chunks = encode(&state, 100);
    assert_eq!(chunks.len(), 3);
    let (users, bookings) = (&chunks[1], &chunks[2]);
    assert!(decode_user_page(users).is_ok() && decode_booking_page(bookings).is_ok());

    // Wrong tag.
    let mut bytes = users.clone();
    bytes[..4].copy_from_slice(b"LSPX");
    assert_err(decode_user_page(&bytes), "wrong tag");

    // Huge row counts.
    for page in [users, bookings] {
        for huge in [u32::MAX, 1 << 20] {
            let mut bytes = page.clone();
            bytes[4..8].copy_from_slice(&huge.to_le_bytes());
            if bytes.starts_with(USER_PAGE_TAG) {
                assert_err(decode_user_page(&bytes), "cannot fit");
            } else {
                assert_err(decode_booking_page(&bytes), "cannot fit");
            }
        }
    }

    // Bad UTF-8 in the first user's e-mail (after tag, count, id, length).
    let mut bytes = users.clone();
    bytes[8 + 16 + 4] = 0xFF;
    assert_err(decode_user_page(&bytes), "UTF-8");

    // One hand-made booking row, then broken field by field.
    let row = state.bookings.values().next().unwrap();
    let one = |status: &str, check_in: i32| {
        let mut b = BOOKING_PAGE_TAG.to_vec();
        b.extend_from_slice(&1u32.to_le_bytes());
        row.write_cells(&mut Tampered {
            out: &mut b,
            status,
            check_in: Some(check_in),
        });
        b
    };
    let good = one(row.status.as_str(), row.check_in.num_days_from_ce());
    assert_eq!(decode_booking_page(&good).unwrap(), vec![row.clone()]);
    assert_err(
        decode_booking_page(&one("pending", row.check_in.num_days_from_ce())),
        "unknown status",
    );
    assert_err(
        decode_booking_page(&one(row.status.as_str(), i32::MAX)),
        "bad date",
    );
}

#[test]
fn dir_entry_round_trips_position_and_flag() {
    let id = uuid::Uuid::from_u128(0x1234_5678_9abc_def0_1122_3344_5566_7788);
    for position in [0, 1, 42, u32::MAX as u64, (1 << 63) - 1] {
        for cancelled in [false, true] {
            let e = DirEntry::new(id, position, cancelled);
            assert_eq!(e.id(), id);
            assert_eq!(e.last_position(), position);
            assert_eq!(e.cancelled(), cancelled);
        }
    }
    // The top bit of a position is masked away, never mistaken for the flag.
    let e = DirEntry::new(id, u64::MAX, false);
    assert_eq!(e.last_position(), (1 << 63) - 1);
    assert!(!e.cancelled());
    assert_ne!(DirEntry::new(id, 5, true), DirEntry::new(id, 5, false));

    // Through an index chunk too.
    let mut state = ReadState::default();
    let booking = state_of(20, 1, 1).bookings.into_values().next().unwrap();
    state.bookings.insert(
        booking.booking_id,
        BookingRow {
            last_position: (1 << 63) - 1,
            status: BookingStatus::Cancelled,
            ..booking
        },
    );
    let index = decode_index(&encode(&state, 7)[0]).unwrap();
    assert_eq!(
        index.entries(Table::Bookings)[0].last_position(),
        (1 << 63) - 1
    );
    assert!(index.entries(Table::Bookings)[0].cancelled());
}
