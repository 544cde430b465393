use super::*;

#[test]
fn compare_names_a_drifted_row_and_repair_by_replay_fixes_it() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut h = harness(dir.path(), &rt, false);
    seed(&h, &rt, 20);
    wait_until(&mut h, "projections", |app| caught_up(app, 20));

    let drifted = drift_booking(dir.path(), 0);

    click(&mut h, "Compare");
    wait_until(&mut h, "the comparison", |app| {
        app.panels().compare.verify.value().is_some()
    });
    let report = h.state().panels().compare.verify.value().cloned().unwrap();
    assert_eq!((report.missing, report.extra, report.different), (0, 0, 1));
    wait_until(&mut h, "the comparison's job", |app| {
        app.shell().jobs.result(JobKind::Verify).is_some()
    });
    let done = h
        .state()
        .shell()
        .jobs
        .result(JobKind::Verify)
        .map(|r| r.map_err(Clone::clone));
    let said = format!("Compared {} rows", report.checked_rows);
    assert!(
        matches!(&done, Some(Ok(text)) if text.starts_with(&said)),
        "{done:?}"
    );
    assert_eq!(report.rows().next().unwrap().1.key().to_string(), drifted);
    assert!(
        h.query_by_label_contains(&drifted[..8]).is_some(),
        "the drifted row is listed"
    );
    assert!(h.query_by_label("differs").is_some());

    click(&mut h, "Repair by replay…");
    assert!(
        h.query_by_label_contains("views.sqlite3 with a rebuild from the ledger")
            .is_some(),
        "the confirmation names the database"
    );
    click(&mut h, "Yes, replay");
    wait_until(&mut h, "the replay", |app| {
        app.shell().jobs.result(JobKind::Replay).is_some()
    });
    assert!(
        h.state()
            .shell()
            .jobs
            .result(JobKind::Replay)
            .unwrap()
            .is_ok()
    );
    wait_until(&mut h, "the new comparison", |app| {
        app.panels()
            .compare
            .verify
            .value()
            .is_some_and(|v| v.in_sync)
    });
    assert!(h.query_by_label_contains("In sync").is_some());
}

#[test]
fn replay_from_operations_runs_to_completion_and_snapshots_restore() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut h = harness(dir.path(), &rt, false);
    seed(&h, &rt, 50);
    wait_until(&mut h, "projections", |app| caught_up(app, 50));

    click(&mut h, "Operations");
    click(&mut h, "Replay from zero…");
    click(&mut h, "Yes, replay");
    wait_until(&mut h, "the replay", |app| {
        app.shell().jobs.result(JobKind::Replay).is_some()
    });
    let result = h
        .state()
        .shell()
        .jobs
        .result(JobKind::Replay)
        .map(|r| r.map_err(Clone::clone))
        .unwrap();
    assert!(
        result.as_ref().is_ok_and(|t| t.contains("50 events")),
        "{result:?}"
    );
    assert!(h.query_by_label_contains("Replayed 50 events").is_some());

    click(&mut h, "Take snapshot now");
    wait_until(&mut h, "the snapshot", |app| {
        app.panels()
            .operations
            .snapshots
            .value()
            .is_some_and(|s| !s.is_empty())
    });
    assert_eq!(
        h.state().panels().operations.snapshots.value().unwrap()[0].position,
        50
    );
    click(&mut h, "Restore…");
    click(&mut h, "Yes, restore");
    wait_until(&mut h, "the restore", |app| {
        app.shell().jobs.result(JobKind::Restore).is_some()
    });
    assert!(
        h.state()
            .shell()
            .jobs
            .result(JobKind::Restore)
            .unwrap()
            .is_ok()
    );
}

#[test]
fn observe_only_disables_every_write_control() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut h = harness(dir.path(), &rt, true);
    h.step();
    for label in [
        "Generate New Event",
        "Send again (same UUID)",
        "Cancel booking",
        "Reschedule",
        "Change address",
        "Start",
    ] {
        assert!(
            h.get_by_label(label).accesskit_node().is_disabled(),
            "{label} must be disabled"
        );
    }
    click(&mut h, "Operations");
    for label in ["Replay from zero…", "Take snapshot now"] {
        assert!(
            h.get_by_label(label).accesskit_node().is_disabled(),
            "{label} must be disabled"
        );
    }
    click(&mut h, "Compare");
    assert!(
        h.get_by_label("Repair by replay…")
            .accesskit_node()
            .is_disabled()
    );
    let engine = h.state().engine().unwrap().clone();
    assert!(engine.observe_only());
    assert_eq!(rt.block_on(engine.stores().ledger.count()).unwrap(), 0);
}

#[test]
fn read_tables_of_another_ledger_are_named_in_the_top_bar_and_rebuilt_on_confirmation() {
    let (theirs, ours) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let rt = runtime();
    projected_ledger(theirs.path(), &rt, 12, 1);
    projected_ledger(ours.path(), &rt, 7, 2);
    for suffix in ["", "-wal", "-shm"] {
        let name = format!("views.sqlite3{suffix}");
        let _ = std::fs::remove_file(ours.path().join(&name));
        if theirs.path().join(&name).exists() {
            std::fs::copy(theirs.path().join(&name), ours.path().join(&name)).unwrap();
        }
    }
    let mut h = harness(ours.path(), &rt, false);
    wait_until(&mut h, "the pairing check", |app| {
        app.shell()
            .pairing
            .as_ref()
            .is_some_and(|p| p.foreign().is_some())
    });
    assert!(
        h.query_by_label_contains("NOT THIS LEDGER'S READ TABLES")
            .is_some()
    );
    assert!(
        h.query_by_label_contains("were built from ledger")
            .is_some(),
        "the sentence names both ledgers"
    );
    wait_until(&mut h, "the projectors to refuse", |app| {
        app.shell()
            .statuses
            .iter()
            .all(|s| s.state == ledgerscope::engine::ProjectorState::Refused)
    });
    click(&mut h, "Rebuild them for this ledger…");
    assert!(
        h.query_by_label_contains("They are NOT this ledger's")
            .is_some(),
        "the confirmation names both ledgers"
    );
    click(&mut h, "Yes, replay");
    wait_until(&mut h, "the rebuilt tables", |app| {
        matches!(
            app.shell().pairing,
            Some(ledgerscope::engine::Pairing::Paired { .. })
        ) && caught_up(app, 7)
    });
    assert!(
        h.query_by_label_contains("NOT THIS LEDGER'S READ TABLES")
            .is_none()
    );
}

#[test]
fn a_hole_another_writer_left_is_marked_in_the_timeline() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    projected_ledger(dir.path(), &rt, 5, 3);
    let foreign = common::wizard_events(79, 1).remove(0);
    common::insert_raw(dir.path(), 505, &foreign);
    let mut h = harness(dir.path(), &rt, false);
    seed(&h, &rt, 2);
    click(&mut h, "Ledger timeline");
    wait_until(&mut h, "the rows after the hole", |app| {
        let timeline = &app.panels().timeline;
        timeline.total.value() == Some(&8) && timeline.pages.row(7).is_some()
    });
    assert!(
        h.query_by_label_contains("[hole before: positions 6..=504 have no event]")
            .is_some(),
        "the first row after the hole says so"
    );
    assert_eq!(
        h.state()
            .panels()
            .timeline
            .pages
            .row(5)
            .map(ledgerscope::store::entry_position),
        Some(505),
        "rows are the stored events: the hole takes none"
    );
}

#[test]
fn browse_without_a_file_dialog_says_to_type_the_path() {
    let bus = std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some()
        || std::env::var_os("XDG_RUNTIME_DIR").is_some_and(|d| Path::new(&d).join("bus").exists());
    let zenity = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("zenity").is_file()));
    if bus || zenity {
        eprintln!("skipped: this machine can open a file dialog");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut h = harness(dir.path(), &rt, false);
    h.state_mut()
        .push_command(ShellCommand::OpenDialog(Dialog::Export));
    for _ in 0..4 {
        h.step();
    }
    click(&mut h, "Browse…");
    wait_until(&mut h, "the dialog's answer", |app| {
        app.shell().file_error.is_some()
    });
    assert!(
        h.query_by_label_contains("No file dialog could open here")
            .is_some(),
        "the export dialog says why and what to do"
    );
    assert!(
        h.state()
            .shell()
            .file_path
            .ends_with("ledger-export.ndjson"),
        "the typed path is kept"
    );
}

#[test]
fn a_preferences_file_that_cannot_be_saved_is_shown_not_swallowed() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    // Its parent is a file: neither the directory nor the file can be made.
    let blocker = dir.path().join("not-a-dir");
    std::fs::write(&blocker, "x").unwrap();
    let options = GuiOptions {
        store: StoreConfig::embedded(dir.path()),
        engine: EngineConfig::new("gui:test"),
        observe_only: false,
        mask: None,
        runtime: rt.handle().clone(),
    };
    let app = LedgerApp::with_prefs_path(options, Some(blocker.join("prefs.json")));
    let mut h = window(app);
    wait_until(&mut h, "connected", LedgerApp::is_connected);
    click(&mut h, "Operations");
    wait_until(&mut h, "the error", |app| {
        app.shell()
            .last_error
            .as_ref()
            .is_some_and(|e| e.contains("cannot save the window's preferences"))
    });
    assert!(
        h.query_by_label_contains("cannot save the window's preferences")
            .is_some()
    );
}
