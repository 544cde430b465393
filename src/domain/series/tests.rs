//! Unit tests of `series.rs`: every point against a fold of the ledger up to it.

use super::*;
use crate::domain::state::ReadState;
use crate::domain::test_ledger::ledger;

/// What a point must say, from the fold of `events` up to `position`.
fn expected(events: &[StoredEvent], position: u64) -> (u64, u64, u64, i64, BTreeMap<String, i64>) {
    let state = ReadState::fold(events.iter().filter(|e| e.position <= position));
    let mut by_service = BTreeMap::new();
    let (mut confirmed, mut cancelled, mut revenue) = (0, 0, 0);
    for row in state.bookings.values() {
        by_service.entry(row.service.clone()).or_insert(0);
        if row.status == BookingStatus::Confirmed {
            confirmed += 1;
            revenue += row.price_cents;
            *by_service.get_mut(&row.service).unwrap() += row.price_cents;
        } else {
            cancelled += 1;
        }
    }
    (
        state.users.len() as u64,
        confirmed,
        cancelled,
        revenue,
        by_service,
    )
}

fn said(point: &SeriesPoint) -> (u64, u64, u64, i64, BTreeMap<String, i64>) {
    (
        point.users,
        point.bookings_confirmed,
        point.bookings_cancelled,
        point.revenue_cents,
        point.revenue_by_service.clone(),
    )
}

fn fold(events: &[StoredEvent]) -> SeriesFold {
    let mut fold = SeriesFold::default();
    for event in events {
        fold.apply(event);
    }
    fold
}

#[test]
fn every_point_by_position_day_and_hour_is_the_fold_up_to_it_and_the_last_is_the_head() {
    let events = ledger(1_234);
    let series_fold = fold(&events);
    for by in SeriesBy::ALL {
        let series = series_fold.series(by);
        assert!(series.points.len() > 2, "{by:?}");
        assert_eq!(series.points.last().unwrap().position, 1_234, "{by:?}");
        for point in &series.points {
            assert_eq!(
                said(point),
                expected(&events, point.position),
                "{by:?} {}",
                point.bucket
            );
        }
        let positions: Vec<u64> = series.points.iter().map(|p| p.position).collect();
        assert!(
            positions.windows(2).all(|w| w[0] < w[1]),
            "{by:?}: {positions:?}"
        );
    }
    let by_position = series_fold.series(SeriesBy::Position);
    assert_eq!(by_position.points[0].bucket, "1..100");
    assert_eq!(by_position.points.last().unwrap().bucket, "1201..1234");
    // An event every ten minutes: six per hour, 144 per day.
    let by_hour = series_fold.series(SeriesBy::Hour);
    assert_eq!(by_hour.points[0].bucket, "2026-01-01T00");
    assert_eq!(
        by_hour.points[0].position, 5,
        "minutes 10..50 of the first hour"
    );
    assert_eq!(by_hour.points[1].position, 11);
    let by_day = series_fold.series(SeriesBy::Day);
    assert_eq!(
        by_day
            .points
            .iter()
            .map(|p| p.bucket.as_str())
            .collect::<Vec<_>>()[..3],
        ["2026-01-01", "2026-01-02", "2026-01-03"]
    );
    assert_eq!(by_day.points[0].position, 143);
}

#[test]
fn a_pass_extended_with_new_events_equals_one_pass_over_all() {
    let events = ledger(777);
    let mut extended = fold(&events[..300]);
    let early = extended.series(SeriesBy::Hour);
    assert_eq!(early.points.last().unwrap().position, 300);
    for event in &events[300..] {
        extended.apply(event);
    }
    let whole = fold(&events);
    for by in SeriesBy::ALL {
        assert_eq!(extended.series(by), whole.series(by), "{by:?}");
    }
    // A repeated or older event changes nothing.
    extended.apply(&events[10]);
    assert_eq!(
        extended.series(SeriesBy::Position),
        whole.series(SeriesBy::Position)
    );
}

#[test]
fn holes_and_times_out_of_order_keep_the_head_last() {
    let mut events = ledger(400);
    // Positions 151..=349 missing; the last event recorded a day early.
    events.retain(|e| e.position <= 150 || e.position >= 350);
    events.last_mut().unwrap().recorded_at -= chrono::Duration::days(1);
    let series_fold = fold(&events);
    let by_position = series_fold.series(SeriesBy::Position);
    let marks: Vec<u64> = by_position.points.iter().map(|p| p.position).collect();
    assert_eq!(marks, [100, 150, 150, 400], "{:?}", by_position.points);
    let by_hour = series_fold.series(SeriesBy::Hour);
    assert_eq!(by_hour.out_of_order_times, 1);
    let last = by_hour.points.last().unwrap();
    assert_eq!((last.bucket.as_str(), last.position), ("head 400", 400));
    assert_eq!(said(last), expected(&events, 400));
}

/// What happened in `(after, upto]`, event by event on a fold: users and
/// bookings that appeared, bookings that went from confirmed to cancelled,
/// and the revenue gained.
fn happened(events: &[StoredEvent], after: u64, upto: u64) -> (u64, u64, u64, i64) {
    let mut state = ReadState::fold(events.iter().filter(|e| e.position <= after));
    let (users, bookings) = (state.users.len() as u64, state.bookings.len() as u64);
    let revenue = |state: &ReadState| -> i64 {
        state
            .bookings
            .values()
            .filter(|b| b.status == BookingStatus::Confirmed)
            .map(|b| b.price_cents)
            .sum()
    };
    let start_revenue = revenue(&state);
    let mut cancelled = 0;
    for event in events
        .iter()
        .filter(|e| e.position > after && e.position <= upto)
    {
        let confirmed_before: HashSet<Uuid> = state
            .bookings
            .iter()
            .filter(|(_, b)| b.status == BookingStatus::Confirmed)
            .map(|(k, _)| *k)
            .collect();
        state.apply_event(event);
        cancelled += state
            .bookings
            .iter()
            .filter(|(k, b)| b.status == BookingStatus::Cancelled && confirmed_before.contains(k))
            .count() as u64;
    }
    (
        state.users.len() as u64 - users,
        state.bookings.len() as u64 - bookings,
        cancelled,
        revenue(&state) - start_revenue,
    )
}

#[test]
fn each_point_says_what_happened_within_its_bucket() {
    let events = ledger(1_234);
    let series_fold = fold(&events);
    for by in SeriesBy::ALL {
        let series = series_fold.series(by);
        let mut after = 0;
        let mut by_service: BTreeMap<String, i64> = BTreeMap::new();
        for point in &series.points {
            let b = &point.in_bucket;
            assert_eq!(
                (
                    b.users,
                    b.bookings_made,
                    b.bookings_cancelled,
                    b.revenue_cents
                ),
                happened(&events, after, point.position),
                "{by:?} {}",
                point.bucket
            );
            assert!(b.bookings_made > 0, "{by:?} {}", point.bucket);
            for (service, cents) in &b.revenue_by_service {
                *by_service.entry(service.clone()).or_default() += cents;
            }
            after = point.position;
        }
        // The buckets add up to the last point's totals.
        let last = series.points.last().unwrap();
        assert_eq!(by_service, last.revenue_by_service, "{by:?}");
        let sum = |f: fn(&BucketValues) -> i64| -> i64 {
            series.points.iter().map(|p| f(&p.in_bucket)).sum()
        };
        assert_eq!(sum(|b| b.revenue_cents), last.revenue_cents, "{by:?}");
        assert_eq!(sum(|b| b.users as i64), last.users as i64, "{by:?}");
        assert_eq!(
            sum(|b| b.bookings_made as i64),
            (last.bookings_confirmed + last.bookings_cancelled) as i64,
            "{by:?}"
        );
    }
    let first = &series_fold.series(SeriesBy::Position).points[0];
    assert!(first.in_bucket.bookings_cancelled > 0);
}
