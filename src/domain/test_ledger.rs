//! A mixed ledger for unit tests of pure logic (series, what-if).

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::event::{
    BookingDetails, DomainEvent, EventMetadata, StoredEvent, UserDetails, user_id_for_email,
};

const SERVICES: [&str; 3] = ["Suite", "Tour", "Bed"];

/// A mixed ledger: bookings by 13 repeating users, cancels (one of an
/// unknown booking, one repeated), reschedules and moves; an event every
/// ten minutes.
pub fn ledger(n: u64) -> Vec<StoredEvent> {
    let start = DateTime::<Utc>::from_timestamp(1_767_225_600, 0).unwrap(); // 2026-01-01
    let mut events = Vec::new();
    for i in 1..=n {
        let booking = |k: u64| Uuid::from_u128(k as u128);
        let email = format!("u{}@example.com", i % 13);
        let event = if i % 7 == 0 {
            // Cancel an earlier wizard's booking (i - 3 is not a multiple of 7
            // or 11 for most i); i = 49 cancels the unknown booking 10_049.
            let target = if i == 49 { 10_049 } else { i - 3 };
            DomainEvent::BookingCancelled {
                booking_id: booking(target),
                reason: String::new(),
            }
        } else if i % 11 == 0 {
            DomainEvent::UserAddressChanged {
                user_id: user_id_for_email(&email),
                old_address: "A".into(),
                new_address: format!("B{i}"),
            }
        } else if i % 17 == 0 {
            DomainEvent::BookingRescheduled {
                booking_id: booking(i - 1),
                check_in: NaiveDate::from_ymd_opt(2026, 4, 1).unwrap(),
                check_out: NaiveDate::from_ymd_opt(2026, 4, 2).unwrap(),
            }
        } else {
            DomainEvent::BookingWizardCompleted {
                booking_id: booking(i),
                user: UserDetails {
                    user_id: user_id_for_email(&email),
                    email,
                    name: "N".into(),
                    address: "A".into(),
                },
                booking: BookingDetails {
                    service: SERVICES[(i % 3) as usize].into(),
                    check_in: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
                    check_out: NaiveDate::from_ymd_opt(2026, 3, 3).unwrap(),
                    guests: 1,
                    price_cents: 1_000 + i as i64,
                },
            }
        };
        let mut stored = StoredEvent::wrap(
            &event,
            Uuid::from_u128(1_000_000 + i as u128),
            1,
            start + chrono::Duration::minutes(10 * i as i64),
            EventMetadata::default(),
        );
        stored.position = i;
        events.push(stored);
    }
    events
}
