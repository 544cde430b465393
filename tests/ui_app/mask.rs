//! Mask mode in the window: a click masks every e-mail, name and address
//! (tables, the timeline's rows and JSON view); showing them again asks
//! first, and the choice is kept for the ledger.

use super::*;

#[test]
fn masking_hides_every_personal_value_and_showing_them_asks_first() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut h = harness(dir.path(), &rt, false);
    seed(&h, &rt, 12);
    wait_until(&mut h, "projections", |app| caught_up(app, 12));
    wait_until(&mut h, "the ledger's id", |app| {
        app.shell().ledger_id.is_some()
    });
    let (email, _) = first_emails(&h, &rt, 12, 12);
    assert!(
        !h.state().shell().masked,
        "the embedded store shows its data"
    );
    // The toggle stays on screen in the smallest window.
    h.set_size(egui::vec2(900.0, 600.0));
    h.run_steps(2);
    let rect = h.get_by_label("Mask").rect();
    assert!(
        rect.max.x <= 900.0,
        "the mask toggle is inside 900 px: {rect:?}"
    );
    h.set_size(egui::vec2(1280.0, 800.0));
    h.run_steps(2);

    click(&mut h, "Mask");
    assert!(h.state().shell().masked);
    click(&mut h, "Time travel");
    click(&mut h, "End >|");
    show_table(&mut h, Table::Users);
    wait_until(&mut h, "the users at the head", |app| {
        travel(app).is_some_and(|t| t.position == 12 && t.rows_loaded(Table::Users, true, 0..12))
    });
    h.run();
    assert!(
        h.query_by_label(&email).is_none(),
        "{email} is shown masked"
    );
    assert!(
        h.query_all_by_label_contains("@example.invalid")
            .next()
            .is_some(),
        "a pseudonym is shown in its place"
    );

    click(&mut h, "Ledger timeline");
    wait_until(&mut h, "the first timeline page", |app| {
        app.panels().timeline.pages.row(0).is_some()
    });
    h.state_mut()
        .push_command(ledgerscope::ui::panels::timeline::TimelineCommand::JumpToPosition(1));
    wait_until(&mut h, "position 1 selected", |app| {
        app.panels().timeline.selected_position == Some(1)
    });
    h.run();
    assert!(
        h.query_all_by_label_contains("@example.com")
            .next()
            .is_none()
            && h.query_all_by_label_contains("@example.org")
                .next()
                .is_none(),
        "no e-mail in the timeline's rows or its JSON view"
    );
    assert!(
        h.query_all_by_label_contains("@example.invalid")
            .next()
            .is_some()
    );

    // Showing them asks, names what it shows, and is kept for the ledger.
    click(&mut h, "Masked");
    assert!(h.state().shell().masked, "not before the answer");
    assert!(h.query_by_label("Show personal data?").is_some());
    click(&mut h, "Yes, show personal data");
    assert!(!h.state().shell().masked);
    let id = h.state().shell().ledger_id.unwrap().to_string();
    assert_eq!(h.state().shell().mask_choices.get(&id), Some(&false));
    h.run();
    assert!(
        h.query_all_by_label_contains("@example.invalid")
            .next()
            .is_none(),
        "the values as they are"
    );
    let engine = h.state().engine().unwrap().clone();
    let first = rt
        .block_on(engine.events(1, 1, &Default::default()))
        .unwrap();
    let first_email = first[0].as_ref().unwrap().payload["user"]["email"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        h.query_all_by_label_contains(&first_email).next().is_some(),
        "the first event's e-mail is in the timeline again"
    );
}

/// Observe-only (`--observe`) masks by default, `--unmask` at start shows,
/// and a choice kept in prefs for the ledger holds at the next start.
#[test]
fn observe_only_masks_by_default_and_a_kept_choice_holds_at_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let prefs = dir.path().join("prefs.json");
    let rt = runtime();
    {
        let h = harness(dir.path(), &rt, false);
        seed(&h, &rt, 3);
    }
    let start = |observe_only: bool, mask: Option<bool>| {
        let options = GuiOptions {
            store: StoreConfig::embedded(dir.path()),
            engine: EngineConfig::new("gui:test"),
            observe_only,
            mask,
            runtime: rt.handle().clone(),
        };
        let mut h = window(LedgerApp::with_prefs_path(options, Some(prefs.clone())));
        wait_until(&mut h, "connected", LedgerApp::is_connected);
        wait_until(&mut h, "the ledger's id", |app| {
            app.shell().ledger_id.is_some()
        });
        h.run_steps(2);
        h
    };
    let h = start(true, None);
    assert!(h.state().shell().masked, "observe-only masks by default");
    drop(h);
    let h = start(true, Some(false));
    assert!(!h.state().shell().masked, "--unmask shows");
    assert!(h.query_by_label(" PERSONAL DATA SHOWN ").is_some());
    drop(h);
    // Masked by a click on the embedded store: kept for this ledger.
    let mut h = start(false, None);
    assert!(!h.state().shell().masked);
    click(&mut h, "Mask");
    h.run_steps(2);
    drop(h);
    let h = start(false, None);
    assert!(h.state().shell().masked, "the kept choice holds");
}
