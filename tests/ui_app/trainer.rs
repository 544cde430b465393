//! The trainer's view on Emit: the outage switch beside the buttons, the
//! activity strip, the anatomy of a refused command, the bulk generator's
//! refusals, and timeline rows not yet projected.

use super::*;

const OUTAGE: &str = "SIMULATE read-store outage (training simulation)";

fn outage_on(h: &mut Harness<'static, LedgerApp>) {
    click_until(h, OUTAGE, "the outage on", |app| {
        app.shell().outage && app.engine().is_some_and(|e| e.simulated_outage())
    });
}

fn outage_off(h: &mut Harness<'static, LedgerApp>) {
    click_until(h, OUTAGE, "the outage off", |app| {
        !app.shell().outage && app.engine().is_some_and(|e| !e.simulated_outage())
    });
}

/// Clicks Generate New Event and waits for the stored event at `head`.
fn generate(h: &mut Harness<'static, LedgerApp>, head: u64) {
    click(h, "Generate New Event");
    wait_until(h, "the new event stored", |app| {
        app.shell().head == head
            && app
                .panels()
                .emit
                .last_command
                .as_ref()
                .is_some_and(|c| c.result.as_ref().is_ok_and(|o| o.event.position == head))
    });
}

#[test]
fn the_outage_switch_beside_emit_stops_projection_and_emit_keeps_succeeding() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut h = harness(dir.path(), &rt, false);
    assert_eq!(h.state().shell().panel, PanelKind::Emit);
    outage_on(&mut h);
    generate(&mut h, 1);
    generate(&mut h, 2);
    h.run_steps(4);
    assert!(
        h.state().shell().statuses.iter().all(|s| s.checkpoint == 0),
        "nothing is projected during the outage"
    );
    outage_off(&mut h);
    wait_until(&mut h, "the catch-up", |app| caught_up(app, 2));
}

#[test]
fn the_activity_strip_shows_the_catch_up_after_the_outage_ends() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut h = harness(dir.path(), &rt, false);
    outage_on(&mut h);
    for head in 1..=3 {
        generate(&mut h, head);
    }
    outage_off(&mut h);
    wait_until(&mut h, "the catch-up", |app| caught_up(app, 3));
    h.run_steps(2);
    for text in [
        "read-store outage SIMULATED",
        "appended",
        "outage over: the projectors catch up",
        "UserProjection caught up 3 events in ",
        "BookingProjection caught up 3 events in ",
    ] {
        assert!(
            h.query_by_label_contains(text).is_some(),
            "the strip shows '{text}'"
        );
    }
    // The strip fits the smallest window.
    h.set_size(egui::vec2(900.0, 600.0));
    h.run_steps(3);
    let rect = h
        .get_by_label_contains("BookingProjection caught up 3 events in ")
        .rect();
    assert!(
        rect.max.x <= 900.0 && rect.max.y <= 600.0,
        "inside the window: {rect:?}"
    );
}

#[test]
fn a_refused_cancel_shows_the_rule_that_refused_it_and_why() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut h = harness(dir.path(), &rt, false);
    generate(&mut h, 1);
    let booking = h.state().panels().emit.drafts.target_booking.clone();
    click(&mut h, "Cancel booking");
    wait_until(&mut h, "the cancel stored", |app| app.shell().head == 2);
    click(&mut h, "Cancel booking");
    wait_until(&mut h, "the second cancel refused", |app| {
        app.panels()
            .emit
            .last_command
            .as_ref()
            .is_some_and(|c| c.result.is_err())
    });
    h.run_steps(2);
    let why = format!("booking {booking} is already cancelled");
    assert!(
        h.query_by_label("rule refused: a cancelled booking cannot change")
            .is_some(),
        "the refused step is named by its rule"
    );
    assert!(
        h.query_by_label(&why).is_some(),
        "the refused step says why: {why}"
    );
    for step in ["lock", "exists?", "unlock"] {
        assert!(h.query_by_label(step).is_some(), "the {step} step is shown");
    }
    assert!(
        h.query_by_label("save").is_none() && h.query_by_label("publish").is_none(),
        "nothing was saved or published"
    );
    assert!(
        h.query_by_label_contains("Cancel booking refused: a cancelled booking cannot change")
            .is_some(),
        "the strip says so too"
    );
    assert_eq!(h.state().shell().head, 2);
}

#[test]
fn the_bulk_generator_lists_which_commands_were_refused_and_why() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut h = harness(dir.path(), &rt, false);
    assert!(h.state().panels().emit.bulk_mix);
    click(&mut h, "Start");
    wait_until(&mut h, "the bulk run's refusals", |app| {
        app.panels().emit.bulk_refusals.is_some() && !app.shell().jobs.running(JobKind::Bulk)
    });
    let refusals = h.state().panels().emit.bulk_refusals.clone().unwrap();
    assert!(
        refusals.count > 0,
        "a mixed run of 1000 has refusals (about 7 expected)"
    );
    let header = format!("{} refused by business rules", refusals.count);
    click(&mut h, &header);
    let first = &refusals.first[0];
    let line = format!(
        "command {} ({}): {}",
        first.command, first.handler, first.rule
    );
    assert!(h.query_by_label(&line).is_some(), "listed: {line}");
    // (A booking refused twice has the same reason twice.)
    assert!(
        h.query_all_by_label(&first.reason).count() >= 1,
        "with why: {}",
        first.reason
    );
}

#[test]
fn a_timeline_row_not_yet_projected_is_shaded_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut h = harness(dir.path(), &rt, false);
    seed(&h, &rt, 3);
    wait_until(&mut h, "three events projected", |app| caught_up(app, 3));
    outage_on(&mut h);
    generate(&mut h, 4);
    click(&mut h, "Ledger timeline");
    wait_until(&mut h, "the timeline's rows", |app| {
        app.panels().timeline.pages.row(3).is_some()
    });
    h.run_steps(2);
    // The row's node carries why (egui names a row by its hover text).
    let marked = |h: &Harness<'static, LedgerApp>, position: u64| {
        h.query_all_by_label_contains(&format!("Not yet projected: position {position} "))
            .count()
    };
    assert_eq!(marked(&h, 3), 0, "a projected row says nothing of the kind");
    assert_eq!(marked(&h, 4), 1, "the row past the checkpoints says why");
    assert!(
        h.query_by_label_contains(
            "Not yet projected: position 4 is past UserProjection (checkpoint 3)"
        )
        .is_some()
    );
    // Hovering it shows the same as a tooltip.
    let at = h.get_by_label("4").rect().center();
    h.hover_at(at);
    h.run_steps(4);
    assert_eq!(marked(&h, 4), 2, "the tooltip is shown");
    h.state().engine().unwrap().set_simulated_outage(false);
    wait_until(&mut h, "the catch-up", |app| caught_up(app, 4));
    h.run_steps(2);
    assert_eq!(
        marked(&h, 4),
        0,
        "once projected, the row is not marked any more"
    );
}
