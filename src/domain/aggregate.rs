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

impl DomainError {
    /// The business rule that refused, in a few words (the error's text is
    /// the reason: which booking or user, and what it found).
    pub fn rule(&self) -> &'static str {
        match self {
            DomainError::UnknownBooking(_) => "the booking must exist",
            DomainError::UnknownUser(_) => "the user must exist",
            DomainError::AlreadyCancelled(_) => "a cancelled booking cannot change",
            DomainError::NoChange(_) => "a command must change something",
        }
    }
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
mod tests;
