//! Unit tests of `state.rs`.

use super::*;
use crate::domain::event::{
    BookingDetails, DomainEvent, EventMetadata, UserDetails, user_id_for_email,
};
use chrono::{NaiveDate, Utc};

fn stored(position: u64, event: DomainEvent) -> StoredEvent {
    let mut s = StoredEvent::wrap(
        &event,
        Uuid::from_u128(1000 + position as u128),
        1,
        Utc::now(),
        EventMetadata::default(),
    );
    s.position = position;
    s
}

fn wizard(booking: u128, email: &str, address: &str) -> DomainEvent {
    DomainEvent::BookingWizardCompleted {
        booking_id: Uuid::from_u128(booking),
        user: UserDetails {
            user_id: user_id_for_email(email),
            email: email.into(),
            name: "N".into(),
            address: address.into(),
        },
        booking: BookingDetails {
            service: "Suite".into(),
            check_in: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            check_out: NaiveDate::from_ymd_opt(2026, 1, 2).unwrap(),
            guests: 1,
            price_cents: 100,
        },
    }
}

#[test]
fn given_two_bookings_by_one_user_then_one_user_row_keeps_the_first_details() {
    let state = ReadState::fold(&[
        stored(1, wizard(1, "a@b.co", "Calle A")),
        stored(2, wizard(2, "A@B.co", "Calle Z")),
    ]);
    assert_eq!(state.users.len(), 1);
    assert_eq!(state.bookings.len(), 2);
    let user = state.users.values().next().unwrap();
    assert_eq!(
        (user.address.as_str(), user.created_position),
        ("Calle A", 1)
    );
    assert_eq!(state.position, 2);
}

#[test]
fn given_address_change_then_row_moves_and_redelivery_changes_nothing() {
    let uid = user_id_for_email("a@b.co");
    let change = stored(
        2,
        DomainEvent::UserAddressChanged {
            user_id: uid,
            old_address: "Calle A".into(),
            new_address: "Calle B".into(),
        },
    );
    let mut state = ReadState::fold(&[stored(1, wizard(1, "a@b.co", "Calle A")), change.clone()]);
    assert_eq!(state.users[&uid].address, "Calle B");
    assert_eq!(state.users[&uid].last_position, 2);
    let before = state.clone();
    state.apply_event(&change);
    state.apply_event(&stored(1, wizard(1, "a@b.co", "Calle A")));
    assert_eq!(state, before, "re-delivery must change nothing");
}

#[test]
fn older_update_does_not_overwrite_newer() {
    let mut state = ReadState::fold(&[stored(1, wizard(1, "a@b.co", "A"))]);
    let id = Uuid::from_u128(1);
    state.apply_change(&RowChange::SetBookingStatus {
        booking_id: id,
        status: BookingStatus::Cancelled,
        position: 5,
    });
    state.apply_change(&RowChange::SetBookingStatus {
        booking_id: id,
        status: BookingStatus::Confirmed,
        position: 4,
    });
    assert_eq!(state.bookings[&id].status, BookingStatus::Cancelled);
}

#[test]
fn unknown_events_are_skipped_not_fatal() {
    let mut bad = stored(1, wizard(1, "a@b.co", "A"));
    bad.event_type = "LoyaltyPointsAwarded".into();
    let mut state = ReadState::default();
    assert!(matches!(state.apply_event(&bad), FoldOutcome::Skipped(_)));
    assert!(state.users.is_empty());
    assert_eq!(state.position, 1);
}

#[test]
fn digest_depends_on_rows_only_and_diff_names_columns() {
    let a = ReadState::fold(&[stored(1, wizard(1, "a@b.co", "A"))]);
    let mut b = a.clone();
    b.position = 99;
    assert_eq!(a.digest(), b.digest());
    b.bookings.get_mut(&Uuid::from_u128(1)).unwrap().guests = 3;
    assert_ne!(a.digest(), b.digest());
    let diff = a.diff(&b);
    assert_eq!(diff.tables[1].rows.len(), 1);
    match &diff.tables[1].rows[0] {
        RowDiff::Changed { columns, .. } => assert_eq!(columns, &vec!["guests".to_string()]),
        other => panic!("{other:?}"),
    }
    let c = ReadState::fold(&[
        stored(1, wizard(1, "a@b.co", "A")),
        stored(2, wizard(2, "c@d.co", "A")),
    ]);
    let diff = a.diff(&c);
    assert_eq!(diff.tables[0].counts(), (1, 0, 0));
    assert_eq!(diff.tables[1].counts(), (1, 0, 0));
    assert_eq!(c.diff(&a).tables[1].counts(), (0, 1, 0));
    assert!(a.diff(&a).is_empty());
}

/// A key diff expanded to every cell, as `ReadState::diff` gives it.
fn expand(keys: &KeyDiff) -> StateDiff {
    StateDiff {
        tables: Table::ALL
            .into_iter()
            .map(|t| TableDiff {
                table: t,
                columns: t.columns().iter().map(|c| c.to_string()).collect(),
                rows: (0..keys.len(t)).filter_map(|i| keys.row(t, i)).collect(),
            })
            .collect(),
    }
}

#[test]
fn key_diff_rebuilds_exactly_the_rows_of_the_full_diff() {
    let events: Vec<StoredEvent> = (1..=40u64)
        .map(|i| {
            let email = format!("u{}@x.co", i % 7);
            stored(i, wizard(u128::from(i), &email, &format!("street {i}")))
        })
        .collect();
    let early = ReadState::fold(&events[..15]);
    let mut late = ReadState::fold(&events);
    // A changed user, a changed booking and a row only the early state has.
    let user = *late.users.keys().next().unwrap();
    late.users.get_mut(&user).unwrap().address = "moved".into();
    late.bookings.get_mut(&Uuid::from_u128(3)).unwrap().guests = 9;
    let mut early = early;
    let gone = Uuid::from_u128(999);
    let mut row = early.bookings[&Uuid::from_u128(1)].clone();
    row.booking_id = gone;
    early.bookings.insert(gone, row);

    for (a, b) in [(&early, &late), (&late, &early), (&early, &early)] {
        let full = a.diff(b);
        let keys = KeyDiff::new(
            std::sync::Arc::new(a.clone()),
            std::sync::Arc::new(b.clone()),
        );
        assert_eq!(expand(&keys), full);
        for t in Table::ALL {
            assert_eq!(keys.counts(t), full.tables[t.slot()].counts());
            assert_eq!(keys.len(t), full.tables[t.slot()].rows.len());
        }
    }
    let keys = KeyDiff::new(
        std::sync::Arc::new(early.clone()),
        std::sync::Arc::new(late),
    );
    let bookings = keys.counts(Table::Bookings);
    assert!(bookings.0 > 0 && bookings.1 == 1 && bookings.2 == 1);
    assert_eq!(keys.counts(Table::Users).2, 1);
    assert!(
        keys.row(Table::Bookings, keys.len(Table::Bookings))
            .is_none()
    );
}
