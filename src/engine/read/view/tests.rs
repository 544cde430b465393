//! Unit tests of `view.rs` on in-memory bases: a view of (state at k) plus
//! the row changes of events k+1..=n must read exactly like the fold of 1..=n.

use chrono::NaiveDate;

use super::*;
use crate::domain::ReadState;
use crate::domain::generate::{DemoRng, booking_form};
use crate::domain::state::KeyDiff;
use crate::domain::{DomainEvent, StoredEvent, aggregate::decide_submit};
use crate::engine::snapshot_delta;

/// Bookings by 15 people, with cancellations, reschedules and moves of
/// earlier rows, and one change to a booking that never existed.
pub(crate) fn events() -> Vec<StoredEvent> {
    let mut rng = DemoRng::new(11);
    let mut out: Vec<StoredEvent> = Vec::new();
    let mut bookings = Vec::new();
    let mut users = Vec::new();
    for i in 0..160u64 {
        let roll = rng.below(10);
        let event = if roll < 2 && !bookings.is_empty() {
            DomainEvent::BookingCancelled {
                booking_id: *rng.pick(&bookings),
                reason: "x".into(),
            }
        } else if roll < 3 && !bookings.is_empty() {
            DomainEvent::BookingRescheduled {
                booking_id: *rng.pick(&bookings),
                check_in: NaiveDate::from_ymd_opt(2026, 5, 1).unwrap(),
                check_out: NaiveDate::from_ymd_opt(2026, 5, 3).unwrap(),
            }
        } else if roll < 4 && !users.is_empty() {
            DomainEvent::UserAddressChanged {
                user_id: *rng.pick(&users),
                old_address: String::new(),
                new_address: format!("Calle {i}"),
            }
        } else if i == 77 {
            DomainEvent::BookingCancelled {
                booking_id: Uuid::from_u128(7),
                reason: "unknown booking".into(),
            }
        } else {
            let cmd = booking_form(&mut rng, 15).validate(rng.uuid_v4()).unwrap();
            bookings.push(cmd.booking_id);
            users.push(cmd.user.user_id);
            decide_submit(&cmd)
        };
        let mut stored = StoredEvent::wrap(
            &event,
            rng.uuid_v4(),
            1,
            chrono::Utc::now(),
            Default::default(),
        );
        stored.position = i + 1;
        out.push(stored);
    }
    out
}

fn view_of(events: &[StoredEvent], split: usize, to: usize) -> StateView {
    let base = ReadState::fold(&events[..split]);
    let mut changes = Changes::default();
    for event in &events[split..to] {
        let domain = event.decode().unwrap();
        snapshot_delta::add_event(&mut changes, event.position, &domain);
    }
    let base = Arc::new(ViewBase::from_state(None, base));
    StateView::new(base, to as u64, changes)
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

#[test]
fn a_base_plus_an_overlay_reads_like_the_fold() {
    let events = events();
    for (split, to) in [
        (0, 160),
        (40, 41),
        (40, 160),
        (100, 130),
        (160, 160),
        (0, 0),
    ] {
        let view = view_of(&events, split, to);
        let fold = ReadState::fold(&events[..to]);
        assert_eq!(view.counts(), &fold.counts(), "counts {split}..{to}");
        assert_eq!(view.len(Table::Users), fold.users.len());
        let entries: Vec<DirEntry> = view.entries(Table::Bookings).collect();
        let want: Vec<DirEntry> = fold.bookings.values().map(DirEntry::of_booking).collect();
        assert_eq!(entries, want, "directory {split}..{to}");
        block_on(async {
            assert_eq!(view.materialize().await.unwrap().users, fold.users);
            assert_eq!(view.materialize().await.unwrap().bookings, fold.bookings);
            let all: Vec<BookingRow> = fold.bookings.values().cloned().collect();
            for start in 0..all.len() {
                let got = view.booking_rows(start..start + 3).await.unwrap();
                assert_eq!(
                    got,
                    &all[start..(start + 3).min(all.len())],
                    "rows at {start}"
                );
            }
            let user = fold.users.keys().next().copied();
            if let Some(key) = user {
                assert_eq!(
                    view.row::<UserRow>(key).await.unwrap().as_ref(),
                    fold.users.get(&key)
                );
            }
            assert_eq!(view.row::<UserRow>(Uuid::from_u128(7)).await.unwrap(), None);
        });
    }
}

#[test]
fn differences_from_directories_match_row_by_row_differences() {
    let events = events();
    let pairs = [
        ((0, 50), (50, 120)),
        ((30, 90), (30, 150)),
        ((60, 160), (0, 10)),
    ];
    for ((sa, ta), (sb, tb)) in pairs {
        let a = Arc::new(view_of(&events, sa, ta));
        let b = Arc::new(view_of(&events, sb, tb));
        let by_keys = ViewDiff::new(a, b);
        let by_rows = KeyDiff::new(
            Arc::new(ReadState::fold(&events[..ta])),
            Arc::new(ReadState::fold(&events[..tb])),
        );
        assert_eq!(by_keys.keys, by_rows.keys, "{ta} -> {tb}");
        assert!(!by_keys.is_empty());
        for table in Table::ALL {
            assert_eq!(by_keys.counts(table), by_rows.counts(table));
        }
    }
}
