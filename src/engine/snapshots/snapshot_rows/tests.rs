//! Unit tests of `snapshot_rows.rs`.

use super::*;
use crate::domain::generate::{DemoRng, booking_form};
use crate::domain::{ReadState, StoredEvent, aggregate::decide_submit};

#[test]
fn rows_round_trip_and_every_truncation_is_an_error() {
    let mut rng = DemoRng::new(5);
    let mut events = Vec::new();
    for i in 0..50u64 {
        let cmd = booking_form(&mut rng, 20).validate(rng.uuid_v4()).unwrap();
        let mut e = StoredEvent::wrap(
            &decide_submit(&cmd),
            cmd.booking_id,
            1,
            chrono::Utc::now(),
            Default::default(),
        );
        e.position = i + 1;
        events.push(e);
    }
    let state = ReadState::fold(&events);
    let mut bytes = Vec::new();
    for u in state.users.values() {
        put_user(&mut bytes, u);
    }
    for b in state.bookings.values() {
        put_booking(&mut bytes, b);
    }
    let mut r = Reader::at(&bytes, 0);
    for u in state.users.values() {
        assert_eq!(&r.user().unwrap(), u);
    }
    for b in state.bookings.values() {
        assert_eq!(&r.booking().unwrap(), b);
    }
    r.finish().unwrap();
    for cut in [1, 7, bytes.len() / 2] {
        let short = &bytes[..bytes.len() - cut];
        let mut r = Reader::at(short, 0);
        let read_all = (0..state.users.len()).all(|_| r.user().is_ok())
            && (0..state.bookings.len()).all(|_| r.booking().is_ok());
        assert!(!read_all, "{cut} bytes short still read");
    }
}

/// Writes down the SQL type of each cell written, in order.
#[derive(Default)]
struct Kinds(Vec<crate::domain::model::SqlType>);

impl CellWriter for Kinds {
    fn uuid(&mut self, _: Uuid) {
        self.0.push(SqlType::Uuid);
    }
    fn text(&mut self, _: &str) {
        self.0.push(SqlType::Text);
    }
    fn date(&mut self, _: NaiveDate) {
        self.0.push(SqlType::Date);
    }
    fn count(&mut self, _: u32) {
        self.0.push(SqlType::Int4);
    }
    fn int(&mut self, _: i64) {
        self.0.push(SqlType::Int8);
    }
    fn position(&mut self, _: u64) {
        self.0.push(SqlType::Int8);
    }
}

/// A row's cells are written in its description's order and types, its
/// shown cells match the described columns, the snapshot form reads back
/// the same row, and a row with empty texts is as small as
/// [`min_row_bytes`] says.
fn follows_its_description<R: DescribedRow + crate::domain::Row + std::fmt::Debug>(row: &R) {
    let d = R::DESCRIPTION;
    let mut kinds = Kinds::default();
    row.write_cells(&mut kinds);
    let want: Vec<SqlType> = d.columns.iter().map(|c| c.sql).collect();
    assert_eq!(kinds.0, want, "{} cells in column order", d.name);
    assert_eq!(row.cells().len(), d.columns.len(), "{} cells", d.name);
    assert_eq!(R::TABLE.columns(), d.labels().collect::<Vec<_>>());
    assert_eq!(d.columns[0].name, d.key, "{}: the key comes first", d.name);
    assert!(d.columns.iter().any(|c| c.name == "last_position"));

    let mut bytes = Vec::new();
    put_row(&mut bytes, row);
    let mut r = Reader::at(&bytes, 0);
    assert_eq!(&r.row::<R>().unwrap(), row, "{} round trip", d.name);
    r.finish().unwrap();
}

#[test]
fn each_table_follows_its_description() {
    let state = ReadState::fold(&crate::domain::test_ledger::ledger(80));
    assert!(
        state
            .bookings
            .values()
            .any(|b| b.status == BookingStatus::Cancelled)
    );
    for user in state.users.values() {
        follows_its_description(user);
    }
    for booking in state.bookings.values() {
        follows_its_description(booking);
    }

    let mut bytes = Vec::new();
    put_row(&mut bytes, &UserRow::default());
    assert_eq!(bytes.len(), min_row_bytes::<UserRow>());
    let mut bytes = Vec::new();
    put_row(&mut bytes, &BookingRow::default());
    assert_eq!(
        bytes.len(),
        min_row_bytes::<BookingRow>() + BookingStatus::default().as_str().len(),
        "only the status text is longer than empty"
    );
}
