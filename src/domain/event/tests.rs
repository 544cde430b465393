//! Unit tests of `event.rs`.

use super::*;

fn wizard() -> DomainEvent {
    DomainEvent::BookingWizardCompleted {
        booking_id: Uuid::from_u128(7),
        user: UserDetails {
            user_id: user_id_for_email("a@b.co"),
            email: "a@b.co".into(),
            name: "Ana".into(),
            address: "Calle A".into(),
        },
        booking: BookingDetails {
            service: "Suite".into(),
            check_in: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            check_out: NaiveDate::from_ymd_opt(2026, 1, 3).unwrap(),
            guests: 2,
            price_cents: 12_345,
        },
    }
}

#[test]
fn payload_round_trips_through_the_envelope() {
    let event = wizard();
    let stored = StoredEvent::wrap(
        &event,
        Uuid::from_u128(9),
        1,
        Utc::now(),
        EventMetadata::default(),
    );
    assert_eq!(stored.decode().unwrap(), event);
    assert_eq!(stored.event_type, "BookingWizardCompleted");
    assert_eq!(stored.aggregate_id, Uuid::from_u128(7));
}

#[test]
fn unknown_type_and_bad_payload_are_errors_not_panics() {
    let err = DomainEvent::decode("Nope", 1, &Value::Null).unwrap_err();
    assert_eq!(err, DecodeError::UnknownType("Nope".into()));
    let err = DomainEvent::decode("BookingCancelled", 1, &serde_json::json!({"booking_id": 5}))
        .unwrap_err();
    assert!(matches!(err, DecodeError::BadPayload { .. }), "{err}");
    let err = DomainEvent::decode("BookingCancelled", 9, &Value::Null).unwrap_err();
    assert!(matches!(
        err,
        DecodeError::UnsupportedSchema { found: 9, .. }
    ));
}

#[test]
fn envelope_and_payload_must_agree() {
    let mut stored = StoredEvent::wrap(
        &wizard(),
        Uuid::from_u128(9),
        1,
        Utc::now(),
        EventMetadata::default(),
    );
    stored.aggregate_id = Uuid::from_u128(8);
    assert!(matches!(stored.decode(), Err(DecodeError::Inconsistent(_))));
    assert!(stored.summary().starts_with("(undecodable)"));
}

#[test]
fn user_id_ignores_case_and_spaces() {
    assert_eq!(
        user_id_for_email(" Ana@X.org "),
        user_id_for_email("ana@x.org")
    );
    assert_ne!(
        user_id_for_email("ana@x.org"),
        user_id_for_email("ana@y.org")
    );
}

#[test]
fn cents_format() {
    assert_eq!(format_cents(12_345), "123.45");
    assert_eq!(format_cents(5), "0.05");
    assert_eq!(format_cents(-150), "-1.50");
}
