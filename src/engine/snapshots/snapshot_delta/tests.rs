//! Unit tests of `snapshot_delta.rs`: a delta must decode to exactly what
//! was encoded, and garbage must be an error, never a panic.

use super::*;
use crate::domain::ReadState;
use crate::engine::timetravel::Nearest;
use crate::engine::view::tests::events;
use crate::store::SnapshotMeta;

/// The delta of the events after `split` up to `to` on a base at `split`.
fn delta_of(split: usize, to: usize) -> Delta {
    let events = events();
    let mut delta = Delta {
        base_id: Uuid::from_u128(42),
        base_position: split as u64,
        position: to as u64,
        events: (to - split) as u64,
        ..Delta::default()
    };
    for event in &events[split..to] {
        add_event(&mut delta.changes, event.position, &event.decode().unwrap());
    }
    delta.skipped.push(MalformedEvent {
        position: to as u64,
        reason: "unknown event type 'Nope' (\"quoted\")".into(),
        raw: String::new(),
    });
    delta
}

#[test]
fn a_delta_round_trips_with_every_kind_of_change() {
    let delta = delta_of(20, 160);
    let kinds: std::collections::BTreeSet<u8> = delta
        .changes
        .iter()
        .flat_map(|t| t.values().flatten())
        .map(|c| {
            let mut out = Vec::new();
            put_change(&mut out, c);
            out[0]
        })
        .collect();
    assert_eq!(kinds.len(), 5, "every change kind is covered: {kinds:?}");
    let bytes = encode(&delta);
    assert!(is_delta(&bytes));
    assert_eq!(decode(&bytes).unwrap(), delta);
}

#[test]
fn base_plus_changes_folds_like_the_events() {
    let events = events();
    let delta = delta_of(60, 140);
    let decoded = decode(&encode(&delta)).unwrap();
    let mut state = ReadState::fold(&events[..60]);
    for (slot, table) in decoded.changes.iter().enumerate() {
        for (key, changes) in table {
            for change in changes {
                assert_eq!(change_slot(change), (slot, *key));
            }
        }
    }
    // Applying the changes in ledger order gives the fold of 1..=140.
    let mut all: Vec<&RowChange> = decoded
        .changes
        .iter()
        .flat_map(|t| t.values().flatten())
        .collect();
    all.sort_by_key(|c| change_position(c));
    for change in all {
        state.apply_change(change);
    }
    let reference = ReadState::fold(&events[..140]);
    assert_eq!(state.users, reference.users);
    assert_eq!(state.bookings, reference.bookings);
}

#[test]
fn every_truncation_and_corruption_is_an_error_not_a_panic() {
    let bytes = encode(&delta_of(0, 80));
    for cut in 0..bytes.len() {
        assert!(decode(&bytes[..cut]).is_err(), "truncated at {cut}");
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(decode(&longer).is_err(), "trailing bytes");
    // Flipping any single byte never panics (it may still decode: a flipped
    // letter of a name is a valid name; the stored checksum catches those).
    for at in 0..bytes.len() {
        let mut bad = bytes.clone();
        bad[at] ^= 0x5a;
        let _ = decode(&bad);
    }
    // A change filed under another key, and a change outside the delta's
    // positions, are refused.
    let mut moved = delta_of(0, 80);
    let (key, list) = moved.changes[1].pop_first().unwrap();
    moved.changes[1].insert(Uuid::from_u128(key.as_u128() ^ 1), list);
    assert!(
        decode(&encode(&moved))
            .unwrap_err()
            .0
            .contains("another row")
    );
    let mut early = delta_of(30, 80);
    early.base_position = 50;
    assert!(decode(&encode(&early)).unwrap_err().0.contains("outside"));
}

fn meta(position: u64, base: Option<Uuid>) -> SnapshotMeta {
    SnapshotMeta {
        id: Uuid::new_v4(),
        position,
        taken_at: chrono::Utc::now(),
        size_bytes: 0,
        chunks: 1,
        sha256: String::new(),
        index_xxh3: None,
        state_digest: String::new(),
        users: 0,
        bookings: 0,
        base,
        ledger_id: None,
        versions: crate::domain::model::ModelVersions::FIRST,
    }
}

#[test]
fn the_nearest_snapshots_are_the_newest_full_and_its_newest_delta() {
    let full_a = meta(100, None);
    let full_b = meta(200, None);
    let a_120 = meta(120, Some(full_a.id));
    let a_150 = meta(150, Some(full_a.id));
    let orphan = meta(180, Some(Uuid::from_u128(9)));
    let b_230 = meta(230, Some(full_b.id));
    let list = vec![
        full_a.clone(),
        a_120.clone(),
        a_150.clone(),
        orphan,
        full_b.clone(),
        b_230.clone(),
    ];
    let find = |t| Nearest::find(&list, t).map(|n| (n.full.id, n.delta.map(|d| d.id)));
    assert_eq!(find(99), None);
    assert_eq!(find(100), Some((full_a.id, None)));
    assert_eq!(find(149), Some((full_a.id, Some(a_120.id))));
    assert_eq!(
        find(190),
        Some((full_a.id, Some(a_150.id))),
        "the orphan is never used"
    );
    assert_eq!(
        find(229),
        Some((full_b.id, None)),
        "a delta of an older full is not used"
    );
    assert_eq!(find(1000), Some((full_b.id, Some(b_230.id))));
}

#[test]
fn before_the_first_full_snapshot_deltas_are_of_the_empty_ledger() {
    let early = meta(30, Some(Uuid::nil()));
    let full = meta(100, None);
    let list = vec![early.clone(), full.clone()];
    let found = Nearest::find(&list, 50).unwrap();
    assert_eq!((found.full.id, found.full.position), (Uuid::nil(), 0));
    assert_eq!(found.delta.map(|d| d.id), Some(early.id));
    assert!(
        Nearest::find(&list, 29).is_none(),
        "nothing stored before 30"
    );
    assert_eq!(Nearest::find(&list, 100).unwrap().full.id, full.id);
}

#[test]
fn a_chain_of_pieces_is_read_link_by_link_and_a_merged_link_is_preferred() {
    let full = meta(100, Some(SnapshotMeta::HISTORY));
    let p110 = meta(110, Some(full.id));
    let p120 = meta(120, Some(p110.id));
    let p130 = meta(130, Some(p120.id));
    // The three merged into one link (the old ones not yet deleted).
    let m130 = meta(130, Some(full.id));
    let p140 = meta(140, Some(m130.id));
    // A piece whose link before it is gone is never used.
    let lost = meta(150, Some(Uuid::from_u128(9)));
    let list = vec![
        full.clone(),
        p110.clone(),
        p120.clone(),
        p130.clone(),
        m130.clone(),
        p140.clone(),
        lost.clone(),
    ];
    let find = |t| {
        Nearest::find(&list, t).map(|n| {
            (
                n.links.iter().map(|s| s.id).collect::<Vec<_>>(),
                n.delta.map(|d| d.id),
                n.upto,
            )
        })
    };
    assert_eq!(find(120), Some((vec![p110.id], Some(p120.id), None)));
    assert_eq!(
        find(125),
        Some((vec![p110.id, p120.id], Some(p130.id), Some(125))),
        "the link that covers it, read up to it"
    );
    assert_eq!(
        find(130),
        Some((vec![], Some(m130.id), None)),
        "the merged link"
    );
    assert_eq!(find(1000), Some((vec![m130.id], Some(p140.id), None)));
    let of = Nearest::of_delta(&list, &p130).unwrap();
    assert_eq!(of.full.id, full.id);
    assert_eq!(
        of.links.iter().map(|s| s.id).collect::<Vec<_>>(),
        [p110.id, p120.id]
    );
    assert!(Nearest::of_delta(&list, &lost).is_none());
    let mut reachable = Nearest::reachable(&list, &full, u64::MAX);
    reachable.sort();
    let mut want = vec![p110.id, p120.id, p130.id, m130.id, p140.id];
    want.sort();
    assert_eq!(reachable, want);
}
