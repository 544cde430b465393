//! Over time and What if: per-bucket values, the tooltip at the cursor, the
//! legend that hides lines; a long list of no-ops laid out only where it is
//! in view, and the revenue real against simulated.

use super::*;

use ledgerscope::domain::{BookingStatus, ReadState, SeriesBy};
use ledgerscope::ui::i18n::format::{count_in, money_cents_in, money_change_cents_in};
use ledgerscope::ui::panels::over_time::Values;
use ledgerscope::ui::panels::what_if::{WhatIfCommand, WhatIfField};
use ledgerscope::ui::prefs::Language::En;

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
fn what_if_lays_out_only_the_no_ops_in_view_and_shows_revenue_real_against_simulated() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut h = harness(dir.path(), &rt, false);
    let engine = h.state().engine().unwrap().clone();
    let head = seed_mix(&h, &rt, 600, 5);
    wait_until(&mut h, "the head", |app| app.shell().head == head);

    click(&mut h, "What if");
    h.state_mut().push_command(WhatIfCommand::SetDraft(
        WhatIfField::Range,
        format!("1..{}", head / 2),
    ));
    h.state_mut().push_command(WhatIfCommand::Run);
    wait_until(&mut h, "the simulation", |app| {
        app.panels().what_if.report.value().is_some()
    });
    let report = h.state().panels().what_if.report.value().unwrap().clone();
    assert!(report.no_ops.len() >= 12, "{} no-ops", report.no_ops.len());

    // Each no-op's text, and the last one whose text no other no-op has.
    let text =
        |n: &ledgerscope::domain::NoOp| format!("{} of {} {}", n.event_type, n.table.name(), n.key);
    let texts: Vec<String> = report.no_ops.iter().map(text).collect();
    let last = texts
        .iter()
        .rev()
        .find(|t| texts.iter().filter(|u| u == t).count() == 1)
        .unwrap()
        .clone();
    assert!(
        h.query_by_label(&texts[0]).is_some(),
        "the first row is shown"
    );
    assert!(
        h.query_by_label(&last).is_none(),
        "a row far down is not laid out until it is scrolled to"
    );
    let mut scrolled = 0;
    while h.query_by_label(&last).is_none() {
        assert!(scrolled < 60, "scrolling never reached the last no-op");
        let shown = texts
            .iter()
            .find(|t| h.query_by_label(t).is_some())
            .unwrap()
            .clone();
        h.get_by_label(&shown).scroll_down();
        h.step();
        h.step();
        scrolled += 1;
    }
    assert!(
        h.query_by_label(&texts[0]).is_none(),
        "scrolled out of view: no longer laid out"
    );

    // The revenue, real and simulated, as the whole states have it.
    let real = rt.block_on(engine.state_at(head)).unwrap().state;
    let (real_cents, simulated_cents) = (revenue(&real), revenue(&report.simulated));
    assert_eq!(revenue(&report.real_state()), real_cents);
    assert_eq!(
        (report.real_revenue_cents, report.simulated_revenue_cents),
        (real_cents, simulated_cents)
    );
    assert!(simulated_cents < real_cents, "half the bookings left out");
    assert!(h.query_by_label("revenue of confirmed bookings").is_some());
    for amount in [
        money_cents_in(En, real_cents),
        money_cents_in(En, simulated_cents),
        money_change_cents_in(En, simulated_cents - real_cents),
    ] {
        assert!(h.query_by_label(&amount).is_some(), "{amount} is shown");
    }
    assert!(h.state().errors().is_empty(), "{:?}", h.state().errors());
}

#[test]
fn over_time_shows_per_bucket_values_a_tooltip_at_the_cursor_and_hides_lines() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut h = harness(dir.path(), &rt, false);
    let engine = h.state().engine().unwrap().clone();
    let head = seed_mix(&h, &rt, 420, 9);
    wait_until(&mut h, "the head", |app| app.shell().head == head);
    click(&mut h, "Over time");
    wait_until(&mut h, "the series", |app| {
        app.panels()
            .over_time
            .series
            .value()
            .is_some_and(|s| s.points.last().is_some_and(|p| p.position == head))
    });
    let series = h.state().panels().over_time.series.value().unwrap().clone();
    assert_eq!(series.by, SeriesBy::Position);

    // Per bucket: what the last bucket added, as the states at its two ends say.
    click(&mut h, "per bucket");
    assert_eq!(h.state().panels().over_time.values, Values::PerBucket);
    let n = series.points.len();
    let (last, before) = (&series.points[n - 1], &series.points[n - 2]);
    let at = |p: u64| rt.block_on(engine.state_at(p)).unwrap().state;
    let (end, start) = (at(last.position), at(before.position));
    let b = &last.in_bucket;
    assert_eq!(
        (b.users as usize, b.bookings_made as usize, b.revenue_cents),
        (
            end.users.len() - start.users.len(),
            end.bookings.len() - start.bookings.len(),
            revenue(&end) - revenue(&start)
        )
    );
    let line = format!(
        "Now: {} (up to position {}), in the bucket: {} new users, {} bookings made, {} cancelled, revenue {}",
        last.bucket,
        count_in(En, head as i64),
        b.users,
        b.bookings_made,
        b.bookings_cancelled,
        money_change_cents_in(En, b.revenue_cents)
    );
    assert!(h.query_by_label_contains(&line).is_some(), "{line}");
    assert!(
        h.query_by_label("bookings made").is_some(),
        "its legend entry"
    );

    // The legend beside the plot hides a line and shows it again.
    click(&mut h, "bookings made");
    assert!(h.state().panels().over_time.hidden.contains("bookings"));
    click(&mut h, "bookings made");
    assert!(h.state().panels().over_time.hidden.is_empty());

    // The hovered bucket's values at the cursor.
    click(&mut h, "cumulative");
    let below = h.get_by_label("Rows").rect();
    let pointer = egui::pos2(below.left() + 300.0, below.bottom() + 60.0);
    h.hover_at(pointer);
    let mut frames = 0;
    while h.query_by_label("in the bucket").is_none() {
        assert!(frames < 100, "no tooltip at the cursor");
        h.step();
        std::thread::sleep(Duration::from_millis(10));
        frames += 1;
    }
    let hovered = series
        .points
        .iter()
        .find(|p| h.query_by_label(&p.bucket).is_some())
        .expect("the tooltip names the hovered bucket");
    assert!(
        h.query_by_label(&format!("up to position {}", hovered.position))
            .is_some()
    );
    assert!(
        h.query_by_label(&money_cents_in(En, hovered.revenue_cents))
            .is_some()
    );
    assert!(h.state().errors().is_empty(), "{:?}", h.state().errors());
}
