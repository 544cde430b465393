//! Projections as pure functions: `changes(&StoredEvent) -> Vec<RowChange>`.
//! The SQL read stores and the in-memory [`super::ReadState`] apply the same
//! row changes, so there is one definition of "what the ledger implies".

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::event::{BookingStatus, DomainEvent, format_cents};

/// The read tables: one name for each, used alike by the projections, the
/// snapshot format, the engine, the CLI and the screens.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Table {
    /// `users`, kept by [`ProjectorId::UserProjection`].
    #[default]
    #[serde(alias = "Users")]
    Users,
    /// `bookings`, kept by [`ProjectorId::BookingProjection`].
    #[serde(alias = "Bookings")]
    Bookings,
}

impl Table {
    /// Both tables, in the order of per-table arrays ([`Table::slot`]).
    pub const ALL: [Table; 2] = [Table::Users, Table::Bookings];

    /// The table's name in every store.
    pub fn name(self) -> &'static str {
        match self {
            Table::Users => "users",
            Table::Bookings => "bookings",
        }
    }

    /// Its columns, in the order of [`Row::cells`].
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Table::Users => &UserRow::COLUMNS,
            Table::Bookings => &BookingRow::COLUMNS,
        }
    }

    /// Its index in per-table arrays (0 users, 1 bookings).
    pub fn slot(self) -> usize {
        match self {
            Table::Users => 0,
            Table::Bookings => 1,
        }
    }

    /// The projector that keeps it.
    pub fn projector(self) -> ProjectorId {
        match self {
            Table::Users => ProjectorId::UserProjection,
            Table::Bookings => ProjectorId::BookingProjection,
        }
    }

    /// Parses [`Table::name`].
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name() == name)
    }
}

impl std::fmt::Display for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A row of a read table: what comparing, hashing and showing rows needs.
pub trait Row: Clone + PartialEq {
    /// Its table.
    const TABLE: Table;
    /// Its primary key.
    fn key(&self) -> Uuid;
    /// Position of the event that last changed it.
    fn last_position(&self) -> u64;
    /// Its cells as display text, in [`Table::columns`] order.
    fn cells(&self) -> Vec<String>;
}

/// The projectors this system runs; each owns one read table and one checkpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ProjectorId {
    /// Maintains `users`.
    UserProjection,
    /// Maintains `bookings`.
    BookingProjection,
}

impl ProjectorId {
    /// Every projector, in a fixed order.
    pub const ALL: [ProjectorId; 2] = [ProjectorId::UserProjection, ProjectorId::BookingProjection];

    /// The name used for checkpoints, leases and messages.
    pub fn name(self) -> &'static str {
        match self {
            ProjectorId::UserProjection => "UserProjection",
            ProjectorId::BookingProjection => "BookingProjection",
        }
    }

    /// Parses [`ProjectorId::name`].
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The read table this projector maintains.
    pub fn table(self) -> Table {
        match self {
            ProjectorId::UserProjection => Table::Users,
            ProjectorId::BookingProjection => Table::Bookings,
        }
    }

    /// The row changes this projector makes for one decoded event.
    pub fn changes(self, position: u64, event: &DomainEvent) -> Vec<RowChange> {
        match self {
            ProjectorId::UserProjection => user_changes(position, event),
            ProjectorId::BookingProjection => booking_changes(position, event),
        }
    }
}

/// A row of the `users` read table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRow {
    /// Primary key.
    pub user_id: Uuid,
    /// E-mail at first booking.
    pub email: String,
    /// Name at first booking.
    pub name: String,
    /// Current address.
    pub address: String,
    /// Position of the event that created the row.
    pub created_position: u64,
    /// Position of the event that last changed the row.
    pub last_position: u64,
}

/// A row of the `bookings` read table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingRow {
    /// Primary key.
    pub booking_id: Uuid,
    /// Who booked.
    pub user_id: Uuid,
    /// Booked service.
    pub service: String,
    /// Current first night.
    pub check_in: NaiveDate,
    /// Current departure day.
    pub check_out: NaiveDate,
    /// Guests.
    pub guests: u32,
    /// Price in cents.
    pub price_cents: i64,
    /// Confirmed or cancelled.
    pub status: BookingStatus,
    /// Position of the event that last changed the row.
    pub last_position: u64,
}

impl UserRow {
    /// Column names, in [`Row::cells`] order.
    pub const COLUMNS: [&'static str; 6] = [
        "user_id",
        "email",
        "name",
        "address",
        "created_position",
        "last_position",
    ];
}

impl Row for UserRow {
    const TABLE: Table = Table::Users;
    fn key(&self) -> Uuid {
        self.user_id
    }
    fn last_position(&self) -> u64 {
        self.last_position
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.user_id.to_string(),
            self.email.clone(),
            self.name.clone(),
            self.address.clone(),
            self.created_position.to_string(),
            self.last_position.to_string(),
        ]
    }
}

impl BookingRow {
    /// Column names, in [`Row::cells`] order.
    pub const COLUMNS: [&'static str; 9] = [
        "booking_id",
        "user_id",
        "service",
        "check_in",
        "check_out",
        "guests",
        "price",
        "status",
        "last_position",
    ];
}

impl Row for BookingRow {
    const TABLE: Table = Table::Bookings;
    fn key(&self) -> Uuid {
        self.booking_id
    }
    fn last_position(&self) -> u64 {
        self.last_position
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.booking_id.to_string(),
            self.user_id.to_string(),
            self.service.clone(),
            self.check_in.to_string(),
            self.check_out.to_string(),
            self.guests.to_string(),
            format_cents(self.price_cents),
            self.status.as_str().to_string(),
            self.last_position.to_string(),
        ]
    }
}

/// One change to one read row. Every variant is idempotent: inserts happen only
/// if the row is absent, updates only if `position` is newer than the row's
/// `last_position`, so re-delivering an event changes nothing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RowChange {
    /// Insert the user if no row has this `user_id`.
    InsertUserIfAbsent(UserRow),
    /// Set a user's address (if the row exists and is older).
    SetUserAddress {
        /// Row key.
        user_id: Uuid,
        /// New value.
        address: String,
        /// The event's position.
        position: u64,
    },
    /// Insert the booking if no row has this `booking_id`.
    InsertBookingIfAbsent(BookingRow),
    /// Set a booking's status (if the row exists and is older).
    SetBookingStatus {
        /// Row key.
        booking_id: Uuid,
        /// New value.
        status: BookingStatus,
        /// The event's position.
        position: u64,
    },
    /// Set a booking's dates (if the row exists and is older).
    SetBookingDates {
        /// Row key.
        booking_id: Uuid,
        /// New first night.
        check_in: NaiveDate,
        /// New departure day.
        check_out: NaiveDate,
        /// The event's position.
        position: u64,
    },
}

impl RowChange {
    /// The row changes every projector makes for one decoded event, in
    /// [`ProjectorId::ALL`] order.
    pub fn of_event(position: u64, event: &DomainEvent) -> impl Iterator<Item = RowChange> + '_ {
        ProjectorId::ALL
            .into_iter()
            .flat_map(move |projector| projector.changes(position, event))
    }

    /// The row this change is about: its table and key.
    pub fn target(&self) -> (Table, Uuid) {
        match self {
            RowChange::InsertUserIfAbsent(row) => (Table::Users, row.user_id),
            RowChange::SetUserAddress { user_id, .. } => (Table::Users, *user_id),
            RowChange::InsertBookingIfAbsent(row) => (Table::Bookings, row.booking_id),
            RowChange::SetBookingStatus { booking_id, .. }
            | RowChange::SetBookingDates { booking_id, .. } => (Table::Bookings, *booking_id),
        }
    }

    /// Whether it makes a row (the others change one that exists).
    pub fn inserts(&self) -> bool {
        matches!(
            self,
            RowChange::InsertUserIfAbsent(_) | RowChange::InsertBookingIfAbsent(_)
        )
    }
}

/// `UserProjection`: a user appears with their first booking; address changes
/// update them.
fn user_changes(position: u64, event: &DomainEvent) -> Vec<RowChange> {
    match event {
        DomainEvent::BookingWizardCompleted { user, .. } => {
            vec![RowChange::InsertUserIfAbsent(UserRow {
                user_id: user.user_id,
                email: user.email.clone(),
                name: user.name.clone(),
                address: user.address.clone(),
                created_position: position,
                last_position: position,
            })]
        }
        DomainEvent::UserAddressChanged {
            user_id,
            new_address,
            ..
        } => vec![RowChange::SetUserAddress {
            user_id: *user_id,
            address: new_address.clone(),
            position,
        }],
        DomainEvent::BookingCancelled { .. } | DomainEvent::BookingRescheduled { .. } => Vec::new(),
    }
}

/// `BookingProjection`: bookings appear with the wizard and follow cancel and
/// reschedule.
fn booking_changes(position: u64, event: &DomainEvent) -> Vec<RowChange> {
    match event {
        DomainEvent::BookingWizardCompleted {
            booking_id,
            user,
            booking,
        } => vec![RowChange::InsertBookingIfAbsent(BookingRow {
            booking_id: *booking_id,
            user_id: user.user_id,
            service: booking.service.clone(),
            check_in: booking.check_in,
            check_out: booking.check_out,
            guests: booking.guests,
            price_cents: booking.price_cents,
            status: BookingStatus::Confirmed,
            last_position: position,
        })],
        DomainEvent::BookingCancelled { booking_id, .. } => vec![RowChange::SetBookingStatus {
            booking_id: *booking_id,
            status: BookingStatus::Cancelled,
            position,
        }],
        DomainEvent::BookingRescheduled {
            booking_id,
            check_in,
            check_out,
        } => vec![RowChange::SetBookingDates {
            booking_id: *booking_id,
            check_in: *check_in,
            check_out: *check_out,
            position,
        }],
        DomainEvent::UserAddressChanged { .. } => Vec::new(),
    }
}
