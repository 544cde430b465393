//! Unit tests of `snapshot_codec.rs`.

use super::*;
use crate::domain::generate::{DemoRng, booking_form};
use crate::domain::{StoredEvent, aggregate::decide_submit};

#[test]
fn binary_round_trip_and_json_still_reads() {
    let mut rng = DemoRng::new(5);
    let mut events = Vec::new();
    for i in 0..200u64 {
        let cmd = booking_form(&mut rng, 50).validate(rng.uuid_v4()).unwrap();
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
    let bytes = encode(&state);
    assert_eq!(decode(&bytes).unwrap(), state);
    let json = serde_json::to_vec(&state).unwrap();
    assert_eq!(decode(&json).unwrap(), state);
    assert!(decode(&bytes[..bytes.len() - 3]).is_err());
    assert!(bytes.len() < json.len());
}
