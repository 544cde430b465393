//! Unit tests of `history.rs`.

use super::*;
use crate::domain::event::{
    BookingDetails, DomainEvent, EventMetadata, UserDetails, user_id_for_email,
};
use chrono::NaiveDate;

fn stored(position: u64, event: DomainEvent) -> StoredEvent {
    let mut s = StoredEvent::wrap(
        &event,
        Uuid::from_u128(1000 + position as u128),
        1,
        DateTime::<Utc>::from_timestamp(1_700_000_000 + position as i64, 0).unwrap(),
        EventMetadata {
            actor: Some(format!("test:{position}")),
            ..EventMetadata::default()
        },
    );
    s.position = position;
    s
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, d).unwrap()
}

fn wizard(booking: u128, email: &str, address: &str) -> DomainEvent {
    DomainEvent::BookingWizardCompleted {
        booking_id: Uuid::from_u128(booking),
        user: UserDetails {
            user_id: user_id_for_email(email),
            email: email.into(),
            name: "Ana".into(),
            address: address.into(),
        },
        booking: BookingDetails {
            service: "Suite".into(),
            check_in: day(1),
            check_out: day(3),
            guests: 2,
            price_cents: 12_050,
        },
    }
}

fn moved(email: &str, from: &str, to: &str) -> DomainEvent {
    DomainEvent::UserAddressChanged {
        user_id: user_id_for_email(email),
        old_address: from.into(),
        new_address: to.into(),
    }
}

fn column<'a>(history: &'a RowHistory, version: usize, name: &str) -> &'a str {
    let i = history.columns.iter().position(|c| c == name).unwrap();
    &history.versions[version].cells[i]
}

#[test]
fn given_a_user_who_books_twice_and_moves_twice_then_their_history_has_the_first_booking_and_both_moves()
 {
    let user = user_id_for_email("ana@example.com");
    let ledger = [
        stored(1, wizard(10, "ana@example.com", "Calle A")),
        stored(2, wizard(11, "other@example.com", "Calle X")),
        stored(3, moved("ana@example.com", "Calle A", "Calle B")),
        // A second booking of a known user does not change the user row.
        stored(4, wizard(12, "ANA@example.com", "Calle Z")),
        stored(5, moved("ana@example.com", "Calle B", "Calle C")),
    ];
    let history = row_history(Table::Users, user, &ledger);

    let positions: Vec<u64> = history.versions.iter().map(|v| v.position).collect();
    assert_eq!(positions, [1, 3, 5]);
    assert_eq!(history.versions[0].event_type, "BookingWizardCompleted");
    assert_eq!(history.versions[0].changed.len(), history.columns.len());
    assert_eq!(column(&history, 0, "address"), "Calle A");
    assert_eq!(column(&history, 1, "address"), "Calle B");
    assert_eq!(column(&history, 2, "address"), "Calle C");
    assert_eq!(history.versions[1].changed, ["address", "last_position"]);
    assert_eq!(history.versions[2].actor.as_deref(), Some("test:5"));
    assert_eq!(
        history.current(),
        Some(ReadState::fold(&ledger).users[&user].cells().as_slice()),
        "the last version is the row the ledger implies"
    );
}

#[test]
fn given_a_booking_rescheduled_then_cancelled_then_each_version_names_what_changed() {
    let booking = Uuid::from_u128(10);
    let ledger = [
        stored(
            7,
            DomainEvent::BookingCancelled {
                booking_id: booking,
                reason: "late".into(),
            },
        ),
        stored(
            5,
            DomainEvent::BookingRescheduled {
                booking_id: booking,
                check_in: day(4),
                check_out: day(6),
            },
        ),
        stored(2, wizard(10, "ana@example.com", "Calle A")),
    ];
    let history = row_history(Table::Bookings, booking, &ledger);

    let summary: Vec<(u64, Vec<String>)> = history
        .versions
        .iter()
        .map(|v| (v.position, v.changed.clone()))
        .collect();
    assert_eq!(summary[0].0, 2);
    assert_eq!(
        summary[1..],
        [
            (
                5,
                vec![
                    "check_in".into(),
                    "check_out".into(),
                    "last_position".into()
                ]
            ),
            (7, vec!["status".into(), "last_position".into()]),
        ]
    );
    assert_eq!(column(&history, 0, "check_in"), "2026-03-01");
    assert_eq!(column(&history, 2, "status"), "cancelled");
}

#[test]
fn events_before_the_row_exists_and_undecodable_ones_are_not_versions() {
    let user = user_id_for_email("ana@example.com");
    let mut broken = stored(3, moved("ana@example.com", "Calle A", "Calle Q"));
    broken.payload = serde_json::json!({"user_id": "not a uuid"});
    let ledger = [
        // Moving before the first booking changes no row.
        stored(1, moved("ana@example.com", "Calle 0", "Calle A")),
        stored(2, wizard(10, "ana@example.com", "Calle A")),
        broken,
    ];
    let history = row_history(Table::Users, user, &ledger);
    assert_eq!(
        history
            .versions
            .iter()
            .map(|v| v.position)
            .collect::<Vec<_>>(),
        [2]
    );
    assert_eq!(history.skipped, [3]);
    assert!(
        row_history(Table::Bookings, Uuid::from_u128(99), &ledger)
            .versions
            .is_empty()
    );
}

#[test]
fn a_booking_wizard_touches_its_booking_and_its_user_and_a_move_only_the_user() {
    let user = user_id_for_email("ana@example.com");
    assert_eq!(
        rows_touched(&stored(1, wizard(10, "ana@example.com", "Calle A"))),
        [(Table::Users, user), (Table::Bookings, Uuid::from_u128(10))]
    );
    assert_eq!(
        rows_touched(&stored(2, moved("ana@example.com", "A", "B"))),
        [(Table::Users, user)]
    );
    let mut broken = stored(3, moved("ana@example.com", "A", "B"));
    broken.event_type = "Nope".into();
    assert!(rows_touched(&broken).is_empty());
}
