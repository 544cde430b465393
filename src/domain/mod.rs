//! The pure domain: events, commands and validation, aggregates' decisions, and
//! projections as pure functions. No async, no I/O, no clock (time is passed in).

pub mod aggregate;
pub mod command;
pub mod compact;
pub mod event;
pub mod generate;
pub mod history;
pub mod mask;
pub mod model;
pub mod personal;
pub mod projection;
pub mod series;
pub mod state;
#[cfg(test)]
pub(crate) mod test_ledger;
pub mod whatif;

pub use aggregate::{BookingAggregate, DomainError};
pub use command::{
    BookingWizardForm, CancelBooking, ChangeUserAddress, FieldError, RescheduleBooking,
    SubmitBookingWizard,
};
pub use compact::{CompactFold, CompactRows, TableRows};
pub use event::{
    BookingDetails, BookingStatus, DecodeError, DomainEvent, EventMetadata, StoredEvent,
    UserDetails, user_id_for_email,
};
pub use history::{RowHistory, RowVersion, row_history, rows_touched};
pub use projection::{
    BookingRef, BookingRow, ProjectorId, Row, RowChange, Table, UserRef, UserRow,
};
pub use series::{BucketValues, Series, SeriesBy, SeriesFold, SeriesPoint};
pub use state::{ReadState, RowDiff, StateDiff, TableDiff};
pub use whatif::{Divergence, Exclusion, NoOp, WhatIfFold};
