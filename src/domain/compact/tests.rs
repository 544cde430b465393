//! The compact fold against the reference fold, row by row.

use proptest::prelude::*;

use super::*;
use crate::domain::state::EventFold;
use crate::domain::test_ledger::ledger;
use crate::domain::{BookingRow, StoredEvent, UserRow};

fn compact_fold<'a>(
    base: ReadState,
    events: impl IntoIterator<Item = &'a StoredEvent>,
) -> CompactRows {
    let mut fold = CompactFold::from_state(base);
    for event in events {
        fold.fold_event(event);
    }
    fold.finish()
}

fn fold_onto<'a>(
    mut base: ReadState,
    events: impl IntoIterator<Item = &'a StoredEvent>,
) -> ReadState {
    for event in events {
        base.apply_event(event);
    }
    base
}

#[test]
fn rows_come_out_in_key_order_with_their_cells() {
    let events = ledger(120);
    let rows = compact_fold(ReadState::default(), &events);
    let expected = ReadState::fold(&events);
    assert_eq!(rows.user_count(), expected.users.len());
    assert_eq!(rows.booking_count(), expected.bookings.len());
    let users: Vec<UserRow> = rows.users().map(|r| r.to_row()).collect();
    let bookings: Vec<BookingRow> = rows.bookings().map(|r| r.to_row()).collect();
    assert_eq!(users, expected.users.values().cloned().collect::<Vec<_>>());
    assert_eq!(
        bookings,
        expected.bookings.values().cloned().collect::<Vec<_>>()
    );
    // The ledger moves addresses and cancels bookings: those cells changed.
    assert!(users.iter().any(|u| u.address.starts_with('B')));
    assert!(
        bookings
            .iter()
            .any(|b| b.status == BookingStatus::Cancelled)
    );
    assert_eq!(TableRows::position(&rows), 120);
}

#[test]
fn a_read_state_lends_its_rows_in_key_order() {
    let state = ReadState::fold(&ledger(60));
    let users: Vec<UserRow> = TableRows::users(&state).map(|r| r.to_row()).collect();
    assert_eq!(users, state.users.values().cloned().collect::<Vec<_>>());
    assert_eq!(TableRows::booking_count(&state), state.bookings.len());
}

proptest! {
    /// Whatever the order of the events (a stale change must not win), with
    /// some left out, from a base state or from zero, the compact fold's
    /// rows are the reference fold's.
    #[test]
    fn the_compact_fold_is_the_reference_fold(
        n in 10u64..200,
        split in 0usize..200,
        swaps in prop::collection::vec((0usize..200, 0usize..200), 0..40),
        dropped in prop::collection::btree_set(0usize..200, 0..10),
    ) {
        let mut events = ledger(n);
        let len = events.len();
        for (a, b) in swaps {
            events.swap(a % len, b % len);
        }
        let events: Vec<StoredEvent> = events
            .into_iter()
            .enumerate()
            .filter(|(i, _)| !dropped.contains(i))
            .map(|(_, e)| e)
            .collect();
        let split = split.min(events.len());
        let (before, after) = events.split_at(split);
        let base = ReadState::fold(before);
        let expected = fold_onto(base.clone(), after);
        let rows = compact_fold(base, after);
        prop_assert_eq!(rows.to_state(), expected);
    }
}
