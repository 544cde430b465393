//! Unit tests of `whatif.rs`: the simulation against a fold of the ledger
//! without the left-out events.

use proptest::prelude::*;

use super::*;
use crate::domain::test_ledger::ledger;

fn simulate(events: &[StoredEvent], exclusion: &Exclusion) -> WhatIfFold {
    let mut fold = WhatIfFold::new(ReadState::default());
    for event in events {
        fold.apply(event, exclusion);
    }
    fold
}

fn tables(
    state: &ReadState,
) -> (
    &std::collections::BTreeMap<Uuid, super::super::UserRow>,
    &std::collections::BTreeMap<Uuid, super::super::BookingRow>,
) {
    (&state.users, &state.bookings)
}

#[test]
fn leaving_out_a_booking_makes_its_later_cancel_a_no_op_and_nothing_else() {
    let events = ledger(60);
    // Position 4 books booking 4; position 7 cancels it (7 - 3).
    let exclusion = Exclusion {
        positions: [4].into(),
        ..Exclusion::default()
    };
    let fold = simulate(&events, &exclusion);
    assert_eq!(fold.excluded, [4]);
    assert_eq!(
        fold.no_ops,
        [NoOp {
            position: 7,
            event_type: "BookingCancelled".into(),
            table: Table::Bookings,
            key: Uuid::from_u128(4),
        }]
    );
    assert!(!fold.state.bookings.contains_key(&Uuid::from_u128(4)));
    assert_eq!(fold.state.position, 60);
}

/// The revenue of confirmed bookings, row by row.
fn revenue(state: &ReadState) -> i64 {
    state
        .bookings
        .values()
        .filter(|b| b.status == BookingStatus::Confirmed)
        .map(|b| b.price_cents)
        .sum()
}

#[test]
fn nobody_having_cancelled_is_the_cancelled_bookings_revenue_more() {
    let events = ledger(200);
    let exclusion = Exclusion {
        event_types: ["BookingCancelled".to_string()].into(),
        ..Exclusion::default()
    };
    let fold = simulate(&events, &exclusion);
    let real = ReadState::fold(&events);
    let cancelled: i64 = real
        .bookings
        .values()
        .filter(|b| b.status == BookingStatus::Cancelled)
        .map(|b| b.price_cents)
        .sum();
    assert!(cancelled > 0);
    let (_, simulated_cents) = counts_and_revenue(&fold.state);
    let real_cents = fold
        .divergence
        .real_revenue_cents(&fold.state, simulated_cents);
    assert_eq!(real_cents, revenue(&real));
    assert_eq!(simulated_cents - real_cents, cancelled);
}

#[test]
fn ranges_parse_inclusively_and_bad_ones_say_why() {
    assert_eq!(Exclusion::parse_range("100..200"), Ok((100, 200)));
    assert_eq!(Exclusion::parse_range(" 7..=7 "), Ok((7, 7)));
    for bad in ["100", "5..2", "0..3", "a..b"] {
        let error = Exclusion::parse_range(bad).unwrap_err().to_string();
        assert!(error.contains("A..B"), "{bad}: {error}");
    }
}

proptest! {
    /// Leaving nothing out is the real state; leaving events out is the
    /// fold of a ledger without them, from zero or from the real state
    /// just before the first of them; and every no-op acts on a row the
    /// real state had and the simulation did not.
    #[test]
    fn a_what_if_is_the_fold_of_the_ledger_without_the_left_out_events(
        n in 20u64..260,
        positions in prop::collection::btree_set(1u64..260, 0..6),
        aggregate in prop::option::of(1u64..260),
        cancels in any::<bool>(),
        range in prop::option::of((1u64..260, 0u64..30)),
    ) {
        let events = ledger(n);
        let nothing = simulate(&events, &Exclusion::default());
        prop_assert_eq!(&nothing.state, &ReadState::fold(&events));
        prop_assert!(nothing.no_ops.is_empty() && nothing.excluded.is_empty());

        let exclusion = Exclusion {
            positions,
            aggregates: aggregate
                .and_then(|p| events.get(p as usize - 1))
                .map(|e| e.aggregate_id)
                .into_iter()
                .collect(),
            event_types: if cancels { ["BookingCancelled".to_string()].into() } else { Default::default() },
            ranges: range.map(|(a, len)| (a, a + len)).into_iter().collect(),
        };
        let kept: Vec<&StoredEvent> = events
            .iter()
            .filter(|e| !exclusion.excludes(e.position, Some(e)))
            .collect();
        let fold = simulate(&events, &exclusion);
        let expected = ReadState::fold(kept.iter().copied());
        prop_assert_eq!(tables(&fold.state), tables(&expected));
        prop_assert_eq!(fold.excluded.len(), events.len() - kept.len());

        // The real state, its counts and the difference, from the rows the
        // left-out events touched, are those of the whole fold.
        let real = ReadState::fold(&events);
        let from_touched = fold.divergence.real_state(&fold.state);
        prop_assert_eq!(tables(&from_touched), tables(&real));
        prop_assert_eq!(fold.divergence.difference(&fold.state), real.diff(&fold.state));
        prop_assert_eq!(
            fold.divergence.real_counts(&fold.state, &fold.state.counts()),
            real.counts()
        );
        // So is the revenue, from the simulated state's and those rows.
        let (counts, simulated_cents) = counts_and_revenue(&fold.state);
        prop_assert_eq!(counts, fold.state.counts());
        prop_assert_eq!(simulated_cents, revenue(&fold.state));
        prop_assert_eq!(
            fold.divergence.real_revenue_cents(&fold.state, simulated_cents),
            revenue(&real)
        );

        if let Some(first) = fold.excluded.first().copied() {
            let before: Vec<&StoredEvent> = events.iter().filter(|e| e.position < first).collect();
            let mut from_base = WhatIfFold::new(ReadState::fold(before.iter().copied()));
            for event in events.iter().filter(|e| e.position >= first) {
                from_base.apply(event, &exclusion);
            }
            prop_assert_eq!(&from_base.state, &fold.state);
            prop_assert_eq!(&from_base.no_ops, &fold.no_ops);
        }
        for no_op in &fold.no_ops {
            let real = ReadState::fold(events.iter().filter(|e| e.position <= no_op.position));
            let simulated = ReadState::fold(kept.iter().copied().filter(|e| e.position <= no_op.position));
            let has = |s: &ReadState| match no_op.table {
                Table::Users => s.users.contains_key(&no_op.key),
                Table::Bookings => s.bookings.contains_key(&no_op.key),
            };
            prop_assert!(has(&real) && !has(&simulated), "{:?}", no_op);
        }
    }
}
