//! [`ViewRow`]: what a view needs of a read table's row type.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use uuid::Uuid;

use super::{Page, Rows};
use crate::domain::{BookingRow, BookingStatus, ReadState, Row, RowChange, UserRow};
use crate::engine::snapshot_pages::DirEntry;

/// A row type of one read table, as a view reads it.
pub trait ViewRow: Row + Sized + Send + Sync + 'static {
    /// A page of the read store's table of this row, after `after` in key order.
    fn stored_page(
        read: &dyn crate::store::ReadStore,
        after: Option<Uuid>,
        limit: usize,
    ) -> impl std::future::Future<Output = crate::store::StoreResult<Vec<Self>>> + Send;
    fn of_page(page: &Page) -> Option<&[Self]>;
    fn into_rows(page: Page) -> Vec<Self>;
    fn of_memory(rows: &Rows) -> &[Self];
    fn map(state: &mut ReadState) -> &mut BTreeMap<Uuid, Self>;
    /// A stand-in row with only what the directory knows (for counting).
    fn skeleton(key: Uuid, entry: DirEntry) -> Self;
    /// The row a change inserts, if it inserts one of this table.
    fn inserted(change: &RowChange) -> Option<&Self>;
    fn entry(&self) -> DirEntry;
}

impl ViewRow for UserRow {
    fn inserted(change: &RowChange) -> Option<&Self> {
        match change {
            RowChange::InsertUserIfAbsent(row) => Some(row),
            _ => None,
        }
    }
    async fn stored_page(
        read: &dyn crate::store::ReadStore,
        after: Option<Uuid>,
        limit: usize,
    ) -> crate::store::StoreResult<Vec<Self>> {
        read.users_page(after, limit).await
    }
    fn of_page(page: &Page) -> Option<&[Self]> {
        match page {
            Page::Users(rows) => Some(rows),
            Page::Bookings(_) => None,
        }
    }
    fn into_rows(page: Page) -> Vec<Self> {
        match page {
            Page::Users(rows) => rows,
            Page::Bookings(_) => Vec::new(),
        }
    }
    fn of_memory(rows: &Rows) -> &[Self] {
        match rows {
            Rows::Memory { users, .. } => users,
            Rows::Stored(_) | Rows::History(_) => &[],
        }
    }
    fn map(state: &mut ReadState) -> &mut BTreeMap<Uuid, Self> {
        &mut state.users
    }
    fn skeleton(key: Uuid, entry: DirEntry) -> Self {
        UserRow {
            user_id: key,
            email: String::new(),
            name: String::new(),
            address: String::new(),
            created_position: 0,
            last_position: entry.last_position(),
        }
    }
    fn entry(&self) -> DirEntry {
        DirEntry::of_user(self)
    }
}

impl ViewRow for BookingRow {
    fn inserted(change: &RowChange) -> Option<&Self> {
        match change {
            RowChange::InsertBookingIfAbsent(row) => Some(row),
            _ => None,
        }
    }
    async fn stored_page(
        read: &dyn crate::store::ReadStore,
        after: Option<Uuid>,
        limit: usize,
    ) -> crate::store::StoreResult<Vec<Self>> {
        read.bookings_page(after, limit).await
    }
    fn of_page(page: &Page) -> Option<&[Self]> {
        match page {
            Page::Bookings(rows) => Some(rows),
            Page::Users(_) => None,
        }
    }
    fn into_rows(page: Page) -> Vec<Self> {
        match page {
            Page::Bookings(rows) => rows,
            Page::Users(_) => Vec::new(),
        }
    }
    fn of_memory(rows: &Rows) -> &[Self] {
        match rows {
            Rows::Memory { bookings, .. } => bookings,
            Rows::Stored(_) | Rows::History(_) => &[],
        }
    }
    fn map(state: &mut ReadState) -> &mut BTreeMap<Uuid, Self> {
        &mut state.bookings
    }
    fn skeleton(key: Uuid, entry: DirEntry) -> Self {
        BookingRow {
            booking_id: key,
            user_id: Uuid::nil(),
            service: String::new(),
            check_in: NaiveDate::default(),
            check_out: NaiveDate::default(),
            guests: 0,
            price_cents: 0,
            status: if entry.cancelled() {
                BookingStatus::Cancelled
            } else {
                BookingStatus::Confirmed
            },
            last_position: entry.last_position(),
        }
    }
    fn entry(&self) -> DirEntry {
        DirEntry::of_booking(self)
    }
}

/// The row one key has after `changes`, starting from `base` (the same
/// rules as the fold: [`ReadState::apply_change`]).
/// A row from its changes alone (a history's): the inserted row itself when
/// that is the only change, as most rows are.
pub(crate) fn from_changes<R: ViewRow>(key: Uuid, changes: &[RowChange]) -> Option<R> {
    match changes {
        [only] => R::inserted(only)
            .cloned()
            .or_else(|| resolve(key, None, changes)),
        _ => resolve(key, None, changes),
    }
}

pub(crate) fn resolve<R: ViewRow>(key: Uuid, base: Option<R>, changes: &[RowChange]) -> Option<R> {
    let mut scratch = ReadState::default();
    if let Some(row) = base {
        R::map(&mut scratch).insert(key, row);
    }
    for change in changes {
        scratch.apply_change(change);
    }
    R::map(&mut scratch).remove(&key)
}
