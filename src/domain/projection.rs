//! Projections as pure functions: `changes(&StoredEvent) -> Vec<RowChange>`.
//! The SQL read stores and the in-memory [`super::ReadState`] apply the same
//! row changes, so there is one definition of "what the ledger implies".

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::event::{BookingStatus, DomainEvent};
use super::model::{CellOut, CellWriter, DescribedRow};

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

    /// Its columns' shown names, in the order of [`Row::cells`].
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Table::Users => UserRow::COLUMNS,
            Table::Bookings => BookingRow::COLUMNS,
        }
    }

    /// Its description: columns, key, version and events.
    pub fn description(self) -> &'static super::model::TableDescription {
        match self {
            Table::Users => &UserRow::DESCRIPTION,
            Table::Bookings => &BookingRow::DESCRIPTION,
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

// The built-in read tables, each described once: its columns (the stores'
// DDL, inserts, updates, COPY and page reads, the snapshot row form, the
// cells every screen and the CLI show all follow this list), key, schema
// version and events. Adding a column: one line in the list and a bump of
// `version` here, its value where the row is made (`booking_changes`) and,
// if an event changes it, in `RowChange::sets`/`write_set` and the row's
// setter below; then the replay's compact record (`domain/compact.rs`).
crate::read_table! {
    /// A row of the `users` read table.
    pub struct UserRow;
    /// A `users` row borrowed from where it is kept (the cells a load writes).
    pub struct UserRef;
    table: "users",
    version: 1,
    events: ["BookingWizardCompleted", "UserAddressChanged"],
    key: user_id,
    columns: {
        /// Primary key.
        user_id: Uuid => "user_id" as Uuid,
        /// E-mail at first booking.
        email: String => "email" as Text,
        /// Name at first booking.
        name: String => "name" as Text,
        /// Current address.
        address: String => "address" as Text,
        /// Position of the event that created the row.
        created_position: u64 => "created_position" as Position,
        /// Position of the event that last changed the row.
        last_position: u64 => "last_position" as Position,
    }
}

crate::read_table! {
    /// A row of the `bookings` read table.
    pub struct BookingRow;
    /// A `bookings` row borrowed from where it is kept.
    pub struct BookingRef;
    table: "bookings",
    version: 1,
    events: ["BookingWizardCompleted", "BookingCancelled", "BookingRescheduled"],
    key: booking_id,
    columns: {
        /// Primary key.
        booking_id: Uuid => "booking_id" as Uuid,
        /// Who booked.
        user_id: Uuid => "user_id" as Uuid,
        /// Booked service.
        service: String => "service" as Text,
        /// Current first night.
        check_in: NaiveDate => "check_in" as Date,
        /// Current departure day.
        check_out: NaiveDate => "check_out" as Date,
        /// Guests.
        guests: u32 => "guests" as Integer,
        /// Price in cents.
        price_cents: i64 => "price" as Cents,
        /// Confirmed or cancelled.
        status: BookingStatus => "status" as Text,
        /// Position of the event that last changed the row.
        last_position: u64 => "last_position" as Position,
    }
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
        self.cell_strings()
    }
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
        self.cell_strings()
    }
}

impl BookingRow {
    /// Moves the booking to new dates (what [`RowChange::SetBookingDates`]
    /// does to a row; [`RowChange::write_set`] writes the same columns).
    pub fn set_dates(&mut self, check_in: NaiveDate, check_out: NaiveDate) {
        self.check_in = check_in;
        self.check_out = check_out;
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

    /// For a change of a row that exists: its table, key, the columns it
    /// sets besides `last_position` (values by [`RowChange::write_set`]) and
    /// its position. `None` for inserts.
    pub fn sets(&self) -> Option<(Table, Uuid, &'static [&'static str], u64)> {
        match self {
            RowChange::InsertUserIfAbsent(_) | RowChange::InsertBookingIfAbsent(_) => None,
            RowChange::SetUserAddress {
                user_id, position, ..
            } => Some((Table::Users, *user_id, &["address"], *position)),
            RowChange::SetBookingStatus {
                booking_id,
                position,
                ..
            } => Some((Table::Bookings, *booking_id, &["status"], *position)),
            RowChange::SetBookingDates {
                booking_id,
                position,
                ..
            } => Some((
                Table::Bookings,
                *booking_id,
                &["check_in", "check_out"],
                *position,
            )),
        }
    }

    /// The values of the columns [`RowChange::sets`] names, in its order.
    pub fn write_set<W: CellWriter>(&self, w: &mut W) {
        match self {
            RowChange::InsertUserIfAbsent(_) | RowChange::InsertBookingIfAbsent(_) => {}
            RowChange::SetUserAddress { address, .. } => address.write(w),
            RowChange::SetBookingStatus { status, .. } => status.write(w),
            RowChange::SetBookingDates {
                check_in,
                check_out,
                ..
            } => {
                check_in.write(w);
                check_out.write(w);
            }
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
