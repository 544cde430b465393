//! [`ViewRow`]: what a view needs of a read table's row type.

use uuid::Uuid;

use super::{Page, Rows};
use crate::domain::{BookingRow, BookingStatus, UserRow};
use crate::engine::snapshot_pages::DirEntry;
use crate::engine::snapshots::table_row::TableRow;

/// A row type of one read table, as a view reads it.
pub trait ViewRow: TableRow {
    /// A page of the read store's table of this row, after `after` in key order.
    fn stored_page(
        read: &dyn crate::store::ReadStore,
        after: Option<Uuid>,
        limit: usize,
    ) -> impl std::future::Future<Output = crate::store::StoreResult<Vec<Self>>> + Send;
    fn of_page(page: &Page) -> Option<&[Self]>;
    fn into_rows(page: Page) -> Vec<Self>;
    fn of_memory(rows: &Rows) -> &[Self];
    /// A stand-in row with only what the directory knows (for counting).
    fn skeleton(key: Uuid, entry: DirEntry) -> Self;
    fn entry(&self) -> DirEntry;
}

impl ViewRow for UserRow {
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
    fn skeleton(key: Uuid, entry: DirEntry) -> Self {
        UserRow {
            user_id: key,
            last_position: entry.last_position(),
            ..UserRow::default()
        }
    }
    fn entry(&self) -> DirEntry {
        DirEntry::of_user(self)
    }
}

impl ViewRow for BookingRow {
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
    fn skeleton(key: Uuid, entry: DirEntry) -> Self {
        BookingRow {
            booking_id: key,
            status: if entry.cancelled() {
                BookingStatus::Cancelled
            } else {
                BookingStatus::Confirmed
            },
            last_position: entry.last_position(),
            ..BookingRow::default()
        }
    }
    fn entry(&self) -> DirEntry {
        DirEntry::of_booking(self)
    }
}
