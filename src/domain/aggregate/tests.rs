//! Unit tests of `aggregate.rs`.

use super::*;
use crate::domain::command::BookingWizardForm;

fn submit() -> SubmitBookingWizard {
    BookingWizardForm {
        email: "ana@example.com".into(),
        name: "Ana".into(),
        address: "Calle A".into(),
        service: "Suite".into(),
        check_in: "2026-07-01".into(),
        check_out: "2026-07-04".into(),
        guests: "2".into(),
        price: "100".into(),
    }
    .validate(Uuid::from_u128(1))
    .unwrap()
}

/// given(events) -> when(decision) -> then(result)
fn given(events: &[DomainEvent]) -> Option<BookingAggregate> {
    BookingAggregate::fold(events.iter().enumerate().map(|(i, e)| (i as u64 + 1, e)))
}

#[test]
fn given_nothing_when_submitting_then_wizard_completed() {
    let cmd = submit();
    let event = decide_submit(&cmd);
    assert_eq!(event.event_type(), "BookingWizardCompleted");
    assert_eq!(event.aggregate().1, cmd.booking_id);
}

#[test]
fn given_no_booking_when_cancelling_then_unknown_booking() {
    let cmd = CancelBooking::new(Uuid::from_u128(9), Uuid::from_u128(1), "").unwrap();
    assert_eq!(
        decide_cancel(given(&[]).as_ref(), &cmd),
        Err(DomainError::UnknownBooking(cmd.booking_id))
    );
}

#[test]
fn given_a_booking_when_cancelling_twice_then_the_second_is_refused() {
    let created = decide_submit(&submit());
    let cmd = CancelBooking::new(Uuid::from_u128(9), Uuid::from_u128(1), "ill").unwrap();
    let cancelled = decide_cancel(given(std::slice::from_ref(&created)).as_ref(), &cmd).unwrap();
    assert_eq!(
        cancelled,
        DomainEvent::BookingCancelled {
            booking_id: Uuid::from_u128(1),
            reason: "ill".into()
        }
    );
    let state = given(&[created, cancelled]);
    assert_eq!(state.as_ref().unwrap().version, 2);
    assert_eq!(
        decide_cancel(state.as_ref(), &cmd),
        Err(DomainError::AlreadyCancelled(Uuid::from_u128(1)))
    );
}

#[test]
fn given_a_booking_when_rescheduling_then_dates_move_unless_unchanged_or_cancelled() {
    let created = decide_submit(&submit());
    let same = RescheduleBooking::new(
        Uuid::from_u128(5),
        Uuid::from_u128(1),
        "2026-07-01",
        "2026-07-04",
    )
    .unwrap();
    assert!(matches!(
        decide_reschedule(given(std::slice::from_ref(&created)).as_ref(), &same),
        Err(DomainError::NoChange(_))
    ));
    let moved = RescheduleBooking::new(
        Uuid::from_u128(5),
        Uuid::from_u128(1),
        "2026-08-01",
        "2026-08-02",
    )
    .unwrap();
    let event = decide_reschedule(given(std::slice::from_ref(&created)).as_ref(), &moved).unwrap();
    let state = given(&[created.clone(), event]).unwrap();
    assert_eq!(state.check_in.to_string(), "2026-08-01");
    let cancel = DomainEvent::BookingCancelled {
        booking_id: Uuid::from_u128(1),
        reason: String::new(),
    };
    assert_eq!(
        decide_reschedule(given(&[created, cancel]).as_ref(), &moved),
        Err(DomainError::AlreadyCancelled(Uuid::from_u128(1)))
    );
}

#[test]
fn given_a_user_when_changing_address_then_old_value_is_kept_in_the_event() {
    let cmd = ChangeUserAddress::new(Uuid::from_u128(5), Uuid::from_u128(2), "Calle B").unwrap();
    assert_eq!(
        decide_address_change(None, &cmd),
        Err(DomainError::UnknownUser(Uuid::from_u128(2)))
    );
    assert!(matches!(
        decide_address_change(Some("Calle B"), &cmd),
        Err(DomainError::NoChange(_))
    ));
    assert_eq!(
        decide_address_change(Some("Calle A"), &cmd).unwrap(),
        DomainEvent::UserAddressChanged {
            user_id: Uuid::from_u128(2),
            old_address: "Calle A".into(),
            new_address: "Calle B".into()
        }
    );
}

#[test]
fn each_refusal_names_its_rule() {
    let id = Uuid::from_u128(1);
    let rules = [
        DomainError::UnknownBooking(id).rule(),
        DomainError::UnknownUser(id).rule(),
        DomainError::AlreadyCancelled(id).rule(),
        DomainError::NoChange("the address is already 'Calle A'".into()).rule(),
    ];
    let distinct: std::collections::HashSet<_> = rules.iter().collect();
    assert_eq!(
        distinct.len(),
        rules.len(),
        "one rule per refusal: {rules:?}"
    );
    assert_eq!(
        DomainError::AlreadyCancelled(id).rule(),
        "a cancelled booking cannot change"
    );
}
