//! Aggregates decide: given the events of one stream and a command, which event
//! (if any) happens. Pure functions, in the esrs `handle_command` style.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::command::{CancelBooking, ChangeUserAddress, RescheduleBooking, SubmitBookingWizard};
use super::event::{BookingStatus, DomainEvent};

/// A business rule said no. Distinct from infrastructure errors.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum DomainError {
    /// The booking does not exist in the ledger.
    #[error("booking {0} does not exist")]
    UnknownBooking(Uuid),
    /// The user does not exist in the ledger.
    #[error("user {0} does not exist (no booking was ever made with that e-mail)")]
    UnknownUser(Uuid),
    /// The booking is cancelled; it cannot change any more.
    #[error("booking {0} is already cancelled")]
    AlreadyCancelled(Uuid),
    /// The command would not change anything.
    #[error("nothing to change: {0}")]
    NoChange(String),
}

/// A booking's state as folded from its own stream.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingAggregate {
    /// The booking.
    pub booking_id: Uuid,
    /// Who booked it.
    pub user_id: Uuid,
    /// Confirmed or cancelled.
    pub status: BookingStatus,
    /// Current first night.
    pub check_in: NaiveDate,
    /// Current departure day.
    pub check_out: NaiveDate,
    /// Version of the last event in the stream.
    pub version: u64,
}

impl BookingAggregate {
    /// Folds a booking's stream (in version order). `None` if it was never created.
    pub fn fold<'a>(events: impl IntoIterator<Item = (u64, &'a DomainEvent)>) -> Option<Self> {
        let mut state: Option<BookingAggregate> = None;
        for (version, event) in events {
            match (event, state.as_mut()) {
                (
                    DomainEvent::BookingWizardCompleted {
                        booking_id,
                        user,
                        booking,
                    },
                    None,
                ) => {
                    state = Some(BookingAggregate {
                        booking_id: *booking_id,
                        user_id: user.user_id,
                        status: BookingStatus::Confirmed,
                        check_in: booking.check_in,
                        check_out: booking.check_out,
                        version,
                    });
                }
                (DomainEvent::BookingCancelled { .. }, Some(s)) => {
                    s.status = BookingStatus::Cancelled;
                    s.version = version;
                }
                (
                    DomainEvent::BookingRescheduled {
                        check_in,
                        check_out,
                        ..
                    },
                    Some(s),
                ) => {
                    s.check_in = *check_in;
                    s.check_out = *check_out;
                    s.version = version;
                }
                (_, Some(s)) => s.version = version,
                (_, None) => {}
            }
        }
        state
    }
}

/// Submitting the wizard always yields `BookingWizardCompleted` (existence is
/// checked by the handler against the ledger, before this is called).
pub fn decide_submit(cmd: &SubmitBookingWizard) -> DomainEvent {
    DomainEvent::BookingWizardCompleted {
        booking_id: cmd.booking_id,
        user: cmd.user.clone(),
        booking: cmd.booking.clone(),
    }
}

/// Cancelling: only an existing, not yet cancelled booking.
pub fn decide_cancel(
    state: Option<&BookingAggregate>,
    cmd: &CancelBooking,
) -> Result<DomainEvent, DomainError> {
    let booking = state.ok_or(DomainError::UnknownBooking(cmd.booking_id))?;
    if booking.status == BookingStatus::Cancelled {
        return Err(DomainError::AlreadyCancelled(cmd.booking_id));
    }
    Ok(DomainEvent::BookingCancelled {
        booking_id: cmd.booking_id,
        reason: cmd.reason.clone(),
    })
}

/// Rescheduling: only an existing, confirmed booking, to different dates.
pub fn decide_reschedule(
    state: Option<&BookingAggregate>,
    cmd: &RescheduleBooking,
) -> Result<DomainEvent, DomainError> {
    let booking = state.ok_or(DomainError::UnknownBooking(cmd.booking_id))?;
    if booking.status == BookingStatus::Cancelled {
        return Err(DomainError::AlreadyCancelled(cmd.booking_id));
    }
    if booking.check_in == cmd.check_in && booking.check_out == cmd.check_out {
        return Err(DomainError::NoChange(format!(
            "booking {} is already {} -> {}",
            cmd.booking_id, cmd.check_in, cmd.check_out
        )));
    }
    Ok(DomainEvent::BookingRescheduled {
        booking_id: cmd.booking_id,
        check_in: cmd.check_in,
        check_out: cmd.check_out,
    })
}

/// Changing an address: the user must exist (`current_address` is their address
/// now, as the ledger says) and the address must differ.
pub fn decide_address_change(
    current_address: Option<&str>,
    cmd: &ChangeUserAddress,
) -> Result<DomainEvent, DomainError> {
    let old = current_address.ok_or(DomainError::UnknownUser(cmd.user_id))?;
    if old == cmd.new_address {
        return Err(DomainError::NoChange(format!(
            "the address is already '{old}'"
        )));
    }
    Ok(DomainEvent::UserAddressChanged {
        user_id: cmd.user_id,
        old_address: old.to_string(),
        new_address: cmd.new_address.clone(),
    })
}

#[cfg(test)]
mod tests {
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
        let cancelled =
            decide_cancel(given(std::slice::from_ref(&created)).as_ref(), &cmd).unwrap();
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
        let event =
            decide_reschedule(given(std::slice::from_ref(&created)).as_ref(), &moved).unwrap();
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
        let cmd =
            ChangeUserAddress::new(Uuid::from_u128(5), Uuid::from_u128(2), "Calle B").unwrap();
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
}
