//! The real app driven through egui_kittest, on the embedded store in a temp
//! dir, with a real tokio runtime doing the I/O. Async results are awaited by
//! stepping frames until the state arrives (bounded).

mod bookmarks;
mod charts;
mod common;
mod connect;
mod crash;
mod emit;
mod health;
mod keyboard;
mod mask;
mod models;
mod personal;
mod publish;
mod repair;
mod schema;
mod tables;

use std::path::Path;
use std::time::Duration;

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{By, NodeT, Queryable};
use ledgerscope::domain::Table;
use ledgerscope::engine::bulk::BulkSpec;
use ledgerscope::engine::{EngineConfig, JobControl};
use ledgerscope::store::StoreConfig;
use ledgerscope::ui::app::dialogs::Dialog;
use ledgerscope::ui::command::ShellCommand;
use ledgerscope::ui::jobs::JobKind;
use ledgerscope::ui::panels::PanelKind;
use ledgerscope::ui::panels::compare::{CompareCommand, CompareField};
use ledgerscope::ui::panels::time_travel::TravelView;
use ledgerscope::ui::{GuiOptions, LedgerApp};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn harness(
    dir: &Path,
    rt: &tokio::runtime::Runtime,
    observe_only: bool,
) -> Harness<'static, LedgerApp> {
    harness_with(dir, rt, observe_only, EngineConfig::new("gui:test"))
}

/// [`harness`] with an engine configured by the test.
fn harness_with(
    dir: &Path,
    rt: &tokio::runtime::Runtime,
    observe_only: bool,
    engine: EngineConfig,
) -> Harness<'static, LedgerApp> {
    let options = GuiOptions {
        store: StoreConfig::embedded(dir),
        engine,
        observe_only,
        mask: None,
        runtime: rt.handle().clone(),
    };
    let mut harness = window(LedgerApp::with_prefs_path(options, None));
    wait_until(&mut harness, "connected", LedgerApp::is_connected);
    harness
}

/// The app in a 1280x800 test window, not yet stepped.
fn window(app: LedgerApp) -> Harness<'static, LedgerApp> {
    Harness::builder()
        .with_size([1280.0, 800.0])
        .with_accessibility_check(false)
        .build_ui_state(|ui, app: &mut LedgerApp| app.frame_ui(ui), app)
}

/// Sets `guests` to 19 on the read row of booking `id`, behind the
/// projectors' back (a drifted row).
fn drift_booking_row(dir: &Path, id: &str) {
    let views = rusqlite::Connection::open(dir.join("views.sqlite3")).unwrap();
    views.busy_timeout(Duration::from_secs(5)).unwrap();
    views
        .execute(
            "UPDATE bookings SET guests = 19 WHERE booking_id = ?1",
            [id],
        )
        .unwrap();
}

/// Drifts the read row of the booking at `offset` in key order; its id.
fn drift_booking(dir: &Path, offset: usize) -> String {
    let views = rusqlite::Connection::open(dir.join("views.sqlite3")).unwrap();
    views.busy_timeout(Duration::from_secs(5)).unwrap();
    let id: String = views
        .query_row(
            "SELECT booking_id FROM bookings ORDER BY booking_id LIMIT 1 OFFSET ?1",
            [offset as i64],
            |r| r.get(0),
        )
        .unwrap();
    drift_booking_row(dir, &id);
    id
}

/// Steps up to `frames` frames (10 ms apart) until `done` holds, then one
/// more; false if it never did.
fn steps_until(
    harness: &mut Harness<'static, LedgerApp>,
    frames: usize,
    done: &impl Fn(&LedgerApp) -> bool,
) -> bool {
    for _ in 0..frames {
        harness.step();
        if done(harness.state()) {
            harness.step();
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

fn wait_until(
    harness: &mut Harness<'static, LedgerApp>,
    what: &str,
    done: impl Fn(&LedgerApp) -> bool,
) {
    if !steps_until(harness, 1_500, &done) {
        panic!("timed out waiting for {what}");
    }
}

fn seed(harness: &Harness<'static, LedgerApp>, rt: &tokio::runtime::Runtime, count: u64) {
    let engine = harness.state().engine().unwrap().clone();
    rt.block_on(engine.emit_bulk(&BulkSpec::bookings(count, Some(7)), &JobControl::default()))
        .unwrap();
}

/// Bookings mixed with cancels, reschedules and moves; returns the head.
fn seed_mix(
    harness: &Harness<'static, LedgerApp>,
    rt: &tokio::runtime::Runtime,
    count: u64,
    seed: u64,
) -> u64 {
    let engine = harness.state().engine().unwrap().clone();
    let spec = BulkSpec {
        mix: true,
        ..BulkSpec::bookings(count, Some(seed))
    };
    rt.block_on(engine.emit_bulk(&spec, &JobControl::default()))
        .unwrap();
    rt.block_on(engine.head()).unwrap()
}

/// The state time travel shows, once it is computed.
fn travel(app: &LedgerApp) -> Option<&TravelView> {
    app.panels().time_travel.travel.value()
}

fn caught_up(app: &LedgerApp, head: u64) -> bool {
    let shell = app.shell();
    shell.head == head
        && shell.statuses.len() == 2
        && shell.statuses.iter().all(|s| s.checkpoint == head)
}

fn click(harness: &mut Harness<'static, LedgerApp>, label: &str) {
    harness.get_by_label(label).click();
    // One frame sends the command, the next runs it, more let new windows settle.
    for _ in 0..4 {
        harness.step();
    }
}

/// Clicks `label` until `done` holds, at most five times. A click is a
/// pointer press at the widget's place in the last frame: when an answer
/// arriving between two frames moves the widget (under load, 3 in 12 runs
/// of the time-travel table tests), the press lands beside it.
fn click_until(
    harness: &mut Harness<'static, LedgerApp>,
    label: &str,
    what: &str,
    done: impl Fn(&LedgerApp) -> bool,
) {
    for _ in 0..5 {
        harness.get_by_label(label).click();
        if steps_until(harness, 50, &done) {
            return;
        }
    }
    panic!("clicking {label:?} five times did not lead to {what}");
}

fn show_table(harness: &mut Harness<'static, LedgerApp>, table: Table) {
    click_until(
        harness,
        table.name(),
        "the time-travel table shown",
        |app| app.panels().time_travel.table == table,
    );
}

#[test]
fn generated_event_shows_in_timeline_and_same_uuid_again_is_a_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut h = harness(dir.path(), &rt, false);

    click(&mut h, "Generate New Event");
    wait_until(&mut h, "the command's answer", |app| {
        app.panels()
            .emit
            .last_command
            .as_ref()
            .is_some_and(|c| c.result.is_ok())
            && app.shell().head == 1
    });
    assert!(
        !h.state()
            .panels()
            .emit
            .last_command
            .as_ref()
            .unwrap()
            .result
            .as_ref()
            .unwrap()
            .duplicate
    );
    wait_until(&mut h, "projections", |app| caught_up(app, 1));
    assert!(
        h.query_by_label_contains("stored BookingWizardCompleted at position 1")
            .is_some()
    );

    click(&mut h, "Ledger timeline");
    wait_until(&mut h, "the first timeline page", |app| {
        app.panels().timeline.pages.row(0).is_some()
    });
    assert!(
        h.query_by_label("BookingWizardCompleted").is_some(),
        "the event is a row in the timeline"
    );

    click(&mut h, "Emit");
    click(&mut h, "Send again (same UUID)");
    wait_until(&mut h, "the duplicate answer", |app| {
        app.panels()
            .emit
            .last_command
            .as_ref()
            .and_then(|c| c.result.as_ref().ok())
            .is_some_and(|o| o.duplicate)
    });
    assert!(h.query_by_label_contains("Duplicate:").is_some());
    let engine = h.state().engine().unwrap().clone();
    assert_eq!(
        rt.block_on(engine.stores().ledger.count()).unwrap(),
        1,
        "the ledger did not grow"
    );
    assert_eq!(h.state().shell().head, 1);
}

#[test]
fn scrubbing_changes_the_counts() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut h = harness(dir.path(), &rt, false);
    seed(&h, &rt, 30);
    wait_until(&mut h, "head 30", |app| app.shell().head == 30);

    click(&mut h, "Time travel");
    click(&mut h, "End >|");
    wait_until(&mut h, "state at the head", |app| {
        travel(app).is_some_and(|t| t.position == 30)
    });
    assert_eq!(travel(h.state()).unwrap().counts.bookings, 30);

    click(&mut h, "|< Start");
    wait_until(&mut h, "state at 0", |app| {
        travel(app).is_some_and(|t| t.position == 0)
    });
    assert_eq!(travel(h.state()).unwrap().counts.bookings, 0);
    assert!(h.query_by_label_contains("bookings 0").is_some());

    for _ in 0..3 {
        click(&mut h, "Step >");
    }
    wait_until(&mut h, "state at 3", |app| {
        travel(app).is_some_and(|t| t.position == 3)
    });
    let travel = travel(h.state()).unwrap();
    assert_eq!(travel.counts.bookings, 3);
    let (reference, diff) = travel.diff.as_ref().unwrap();
    assert_eq!(*reference, 30);
    assert_eq!(
        diff.counts(Table::Bookings).0,
        27,
        "27 bookings are added between 3 and now"
    );
}

/// The email of a state's first user (in key order) and of the first user
/// that differs between two states, as the engine computes them whole.
fn first_emails(
    harness: &Harness<'static, LedgerApp>,
    rt: &tokio::runtime::Runtime,
    at: u64,
    reference: u64,
) -> (String, Option<String>) {
    let engine = harness.state().engine().unwrap().clone();
    let before = rt.block_on(engine.state_at(at)).unwrap().state;
    let after = rt.block_on(engine.state_at(reference)).unwrap().state;
    let first = before.users.values().next().unwrap().email.clone();
    let mut keys: Vec<_> = before.users.keys().chain(after.users.keys()).collect();
    keys.sort();
    keys.dedup();
    let differing = keys
        .into_iter()
        .find(|k| before.users.get(k) != after.users.get(k))
        .and_then(|k| after.users.get(k).or_else(|| before.users.get(k)))
        .map(|row| row.email.clone());
    (first, differing)
}

#[test]
fn time_travel_tables_show_the_rows_read_a_page_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut h = harness(dir.path(), &rt, false);
    seed(&h, &rt, 30);
    wait_until(&mut h, "head 30", |app| app.shell().head == 30);
    let (first_at_head, _) = first_emails(&h, &rt, 30, 30);
    // The first position whose first user (in key order) is another one
    // than at the head, so a page read for the head would show wrongly.
    let (cursor, first_at_cursor, differing) = (1..30)
        .find_map(|p| {
            let (first, differing) = first_emails(&h, &rt, p, 30);
            (first != first_at_head).then(|| (p, first, differing.unwrap()))
        })
        .unwrap();

    click(&mut h, "Time travel");
    click(&mut h, "End >|");
    wait_until(&mut h, "the state at the head", |app| {
        travel(app).is_some_and(|t| t.position == 30)
    });
    show_table(&mut h, Table::Users);
    wait_until(&mut h, "the users at the head", |app| {
        travel(app).is_some_and(|t| t.position == 30)
            && app
                .panels()
                .time_travel
                .travel
                .value()
                .is_some_and(|t| t.rows_loaded(Table::Users, true, 0..30))
    });
    assert!(
        h.query_by_label(&first_at_head).is_some(),
        "the first user at the head is a row"
    );

    click(&mut h, "|< Start");
    for _ in 0..cursor {
        click(&mut h, "Step >");
    }
    wait_until(&mut h, "the users at the cursor", |app| {
        travel(app)
            .is_some_and(|t| t.position == cursor && t.diff.as_ref().is_some_and(|d| d.0 == 30))
            && app
                .panels()
                .time_travel
                .travel
                .value()
                .is_some_and(|t| t.rows_loaded(Table::Users, true, 0..30))
    });
    assert_eq!(
        travel(h.state()).unwrap().len(Table::Users) as u64,
        travel(h.state()).unwrap().counts.users
    );
    assert!(
        h.query_by_label(&first_at_cursor).is_some(),
        "the first user at the cursor is a row"
    );
    assert!(
        h.query_by_label(&first_at_head).is_none(),
        "rows read for the head are not shown for the cursor"
    );
    assert!(h.query_by_label_contains("reading rows").is_none());

    click(&mut h, "difference");
    wait_until(&mut h, "the differing users", |app| {
        travel(app).is_some_and(|t| t.rows_loaded(Table::Users, false, 0..30))
    });
    let (_, diff) = travel(h.state()).unwrap().diff.as_ref().unwrap();
    let (added, removed, changed) = diff.counts(Table::Users);
    assert_eq!(diff.len(Table::Users), added + removed + changed);
    assert!(diff.len(Table::Users) > 0);
    assert!(
        h.query_by_label(&differing).is_some(),
        "the first differing user is a row of the difference"
    );
    assert!(h.query_all_by_label("added by 30").next().is_some());
    assert!(h.state().errors().is_empty(), "{:?}", h.state().errors());
}

#[test]
fn compare_two_positions_lists_the_differing_rows() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut h = harness(dir.path(), &rt, false);
    seed(&h, &rt, 30);
    wait_until(&mut h, "projections", |app| caught_up(app, 30));
    let differing = first_emails(&h, &rt, 5, 30).1.unwrap();

    let app = h.state_mut();
    app.push_command(ShellCommand::ShowPanel(PanelKind::Compare));
    app.push_command(CompareCommand::SetPositions(true));
    app.push_command(CompareCommand::SetTable(Some(Table::Users)));
    app.push_command(CompareCommand::SetDraft(CompareField::From, "5".into()));
    app.push_command(CompareCommand::SetDraft(CompareField::To, "30".into()));
    app.push_command(CompareCommand::ComparePositions);
    wait_until(&mut h, "the differing users", |app| {
        app.panels().compare.diff.value().is_some_and(|d| {
            let users = d.diff.len(Table::Users);
            (d.from, d.to) == (5, 30)
                && users > 0
                && d.diff.pages(Table::Users).has_rows(0..users.min(30) as u64)
        })
    });
    let diff = &h.state().panels().compare.diff.value().unwrap().diff;
    assert_eq!(
        diff.counts(Table::Users).0,
        diff.len(Table::Users),
        "users are only added"
    );
    assert!(h.query_by_label_contains("From 5 to 30").is_some());
    assert!(
        h.query_by_label(&differing).is_some(),
        "the first differing user is a row"
    );
}

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
    let done = h.state().shell().jobs.result(JobKind::Verify).cloned();
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
        .cloned()
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

/// Builds a projected embedded ledger of `count` bookings in `dir`.
fn projected_ledger(dir: &Path, rt: &tokio::runtime::Runtime, count: u64, seed: u64) {
    rt.block_on(async {
        let stores = ledgerscope::store::open_stores(&StoreConfig::embedded(dir))
            .await
            .unwrap();
        let engine = ledgerscope::engine::Engine::new(stores, EngineConfig::new("test"));
        engine
            .emit_bulk(
                &BulkSpec::bookings(count, Some(seed)),
                &JobControl::default(),
            )
            .await
            .unwrap();
        for p in ledgerscope::domain::ProjectorId::ALL {
            engine.catch_up(p).await.unwrap();
        }
    });
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

/// The row the history window shows, once read.
fn shown_history(app: &LedgerApp) -> Option<&ledgerscope::domain::RowHistory> {
    app.panels().history.history.value()
}

#[test]
fn row_history_opens_from_time_travel_compare_and_the_timeline() {
    use ledgerscope::domain::ChangeUserAddress;
    use ledgerscope::ui::panels::history::HistoryCommand;

    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut h = harness(dir.path(), &rt, false);
    seed(&h, &rt, 20);
    let engine = h.state().engine().unwrap().clone();
    // The first user in key order moves: two versions, the second made by
    // an event of the user's stream, the first by a booking's.
    let state = rt.block_on(engine.state_at(20)).unwrap().state;
    let (&user, row) = state.users.iter().next().unwrap();
    let made_at = row.created_position;
    let cmd = ChangeUserAddress::new(uuid::Uuid::new_v4(), user, "Calle Nueva 7").unwrap();
    rt.block_on(engine.change_user_address(cmd)).unwrap();
    wait_until(&mut h, "projections", |app| caught_up(app, 21));

    // From a row in Time travel: the row's key.
    click(&mut h, "Time travel");
    click(&mut h, "End >|");
    wait_until(&mut h, "the state at the head", |app| {
        travel(app).is_some_and(|t| t.position == 21)
    });
    show_table(&mut h, Table::Users);
    wait_until(&mut h, "the users at the head", |app| {
        travel(app).is_some_and(|t| t.position == 21 && t.rows_loaded(Table::Users, true, 0..1))
    });
    click(&mut h, &format!("{}…", &user.to_string()[..8]));
    wait_until(&mut h, "the user's history", |app| {
        shown_history(app).is_some_and(|h| h.key == user)
    });
    let history = shown_history(h.state()).unwrap();
    assert_eq!(
        history
            .versions
            .iter()
            .map(|v| (v.position, v.event_type.as_str()))
            .collect::<Vec<_>>(),
        [
            (made_at, "BookingWizardCompleted"),
            (21, "UserAddressChanged")
        ]
    );
    assert!(
        h.query_by_label(&format!("History of user {user}"))
            .is_some()
    );
    assert!(h.query_by_label("UserAddressChanged").is_some());
    assert!(
        h.query_by_label_contains("2 version(s); now:").is_some()
            && h.query_by_label_contains("address Calle Nueva 7").is_some(),
        "the window says what the row is now"
    );

    // The window stays over every panel; each version links to its event
    // in the timeline.
    h.state_mut()
        .push_command(ShellCommand::ShowPanel(PanelKind::Emit));
    h.step();
    h.step();
    let position = made_at.to_string();
    h.get(By::new().label(&position).role(Role::Link)).click();
    for _ in 0..4 {
        h.step();
    }
    wait_until(&mut h, "the version's event selected", |app| {
        app.shell().panel == PanelKind::Timeline
            && app
                .panels()
                .timeline
                .selected
                .as_ref()
                .is_some_and(|e| ledgerscope::store::entry_position(e) == made_at)
    });
    h.state_mut().push_command(HistoryCommand::Close);
    h.step();
    assert!(h.state().panels().history.target.is_none());

    // From the selected event in the timeline: a wizard makes a booking and
    // its user, so both open from it.
    let booking = h
        .state()
        .panels()
        .timeline
        .selected
        .as_ref()
        .and_then(|e| e.as_ref().ok())
        .map(|e| e.aggregate_id)
        .unwrap();
    click(&mut h, "History of this booking");
    wait_until(&mut h, "the booking's history", |app| {
        shown_history(app).is_some_and(|h| h.key == booking && h.table == Table::Bookings)
    });
    assert_eq!(shown_history(h.state()).unwrap().versions.len(), 1);
    click(&mut h, "History of this user");
    wait_until(&mut h, "the user's history again", |app| {
        shown_history(app).is_some_and(|h| h.key == user)
    });

    // From a row in Compare: a drifted booking shows which event set it.
    drift_booking_row(dir.path(), &booking.to_string());
    h.state_mut().push_command(HistoryCommand::Close);
    click(&mut h, "Compare");
    wait_until(&mut h, "the comparison", |app| {
        app.panels()
            .compare
            .verify
            .value()
            .is_some_and(|v| v.different == 1)
    });
    click(&mut h, &format!("{}…", &booking.to_string()[..8]));
    wait_until(&mut h, "the drifted booking's history", |app| {
        shown_history(app).is_some_and(|h| h.key == booking && h.table == Table::Bookings)
    });
    let made_it = &shown_history(h.state()).unwrap().versions[0];
    assert_eq!(made_it.event_type, "BookingWizardCompleted");
    let guests = Table::Bookings
        .columns()
        .iter()
        .position(|c| *c == "guests")
        .unwrap();
    assert_ne!(
        made_it.cells[guests], "19",
        "the ledger never set 19 guests"
    );
    assert!(h.state().errors().is_empty(), "{:?}", h.state().errors());
}

#[test]
fn over_time_draws_the_state_across_the_ledger_and_a_click_travels_there() {
    use ledgerscope::domain::SeriesBy;

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
    assert_eq!(series.points.len() as u64, head.div_ceil(100));
    let state = rt.block_on(engine.state_at(head)).unwrap().state;
    let counts = state.counts();
    let last = series.points.last().unwrap();
    assert_eq!(
        (last.users, last.bookings_confirmed, last.bookings_cancelled),
        (
            counts.users,
            counts.bookings_by_status["confirmed"],
            counts.bookings_by_status["cancelled"]
        )
    );
    assert!(h.query_by_label("Rows").is_some());
    assert!(h.query_by_label("Revenue of confirmed bookings").is_some());
    assert!(
        h.query_by_label_contains(&format!("Now: {} (up to position {head})", last.bucket))
            .is_some()
    );

    // Hovering the rows plot names the bucket under the pointer; a click
    // shows that state in Time travel.
    let below = h.get_by_label("Rows").rect();
    let at = egui::pos2(below.left() + 300.0, below.bottom() + 60.0);
    h.hover_at(at);
    h.step();
    h.step();
    assert!(
        h.query_by_label_contains("(up to position").is_some()
            && h.query_by_label_contains("Now: ").is_none(),
        "the hovered bucket's values are shown"
    );
    for pressed in [true, false] {
        h.event(egui::Event::PointerButton {
            pos: at,
            button: egui::PointerButton::Primary,
            pressed,
            modifiers: egui::Modifiers::NONE,
        });
    }
    wait_until(&mut h, "time travel at the clicked bucket", |app| {
        app.shell().panel == PanelKind::TimeTravel && travel(app).is_some_and(|t| t.position < head)
    });
    let position = travel(h.state()).unwrap().position;
    assert!(
        series.points.iter().any(|p| p.position == position),
        "{position} is a bucket's position"
    );

    // By day: one bucket (every event is from today), the head's state.
    click(&mut h, "Over time");
    click(&mut h, "day");
    wait_until(&mut h, "the series by day", |app| {
        app.panels()
            .over_time
            .series
            .value()
            .is_some_and(|s| s.by == SeriesBy::Day)
    });
    let by_day = h.state().panels().over_time.series.value().unwrap();
    assert_eq!(by_day.points.last().unwrap().position, head);
    assert!(h.state().errors().is_empty(), "{:?}", h.state().errors());
}

#[test]
fn what_if_from_the_timeline_simulates_without_the_event_and_names_the_no_ops() {
    use ledgerscope::store::EventFilter;
    use ledgerscope::ui::panels::timeline::TimelineCommand;
    use ledgerscope::ui::panels::what_if::{WhatIfCommand, WhatIfField};

    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut h = harness(dir.path(), &rt, false);
    let engine = h.state().engine().unwrap().clone();
    let head = seed_mix(&h, &rt, 300, 3);
    wait_until(&mut h, "projections", |app| caught_up(app, head));
    let cancels = EventFilter {
        event_type: Some("BookingCancelled".into()),
        ..EventFilter::default()
    };
    let cancel = rt.block_on(engine.events(1, 1, &cancels)).unwrap()[0]
        .clone()
        .unwrap();
    let made_at = ledgerscope::store::entry_position(
        &rt.block_on(engine.stream(cancel.aggregate_id)).unwrap()[0],
    );
    let views_before = std::fs::read(dir.path().join("views.sqlite3")).unwrap();

    h.state_mut()
        .push_command(TimelineCommand::JumpToPosition(made_at));
    wait_until(&mut h, "the wizard selected", |app| {
        app.panels()
            .timeline
            .selected
            .as_ref()
            .is_some_and(|e| ledgerscope::store::entry_position(e) == made_at)
    });
    click(&mut h, "What if this had not happened?");
    wait_until(&mut h, "the simulation", |app| {
        app.panels()
            .what_if
            .report
            .value()
            .is_some_and(|r| r.excluded == [made_at])
    });
    assert_eq!(h.state().shell().panel, PanelKind::WhatIf);
    let report = h.state().panels().what_if.report.value().unwrap();
    assert_eq!(
        report.simulated.bookings.len() + 1,
        report.real_state().bookings.len()
    );
    assert!(
        report
            .no_ops
            .iter()
            .any(|n| n.position == cancel.position && n.key == cancel.aggregate_id)
    );
    assert!(h.query_all_by_label_contains("SIMULATION").count() >= 2);
    assert!(h.query_by_label("bookings: +0 -1 ~0").is_some());
    assert!(
        h.query_by_label_contains("BookingCancelled of bookings")
            .is_some()
    );
    assert!(
        h.query_by_label("only real").is_some(),
        "the removed row is listed"
    );

    // Typed input that cannot be used is named in place.
    h.state_mut()
        .push_command(WhatIfCommand::SetDraft(WhatIfField::Range, "9..3".into()));
    h.step();
    click(&mut h, "Simulate");
    assert!(
        h.query_by_label_contains("1 <= A <= B").is_some(),
        "{:?}",
        h.state().errors()
    );
    assert_eq!(
        std::fs::read(dir.path().join("views.sqlite3")).unwrap(),
        views_before,
        "nothing written"
    );
}
