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
