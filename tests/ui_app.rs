//! The real app driven through egui_kittest, on the embedded store in a temp
//! dir, with a real tokio runtime doing the I/O. Async results are awaited by
//! stepping frames until the state arrives (bounded).

mod common;

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use ledgerscope::engine::EngineConfig;
use ledgerscope::engine::bulk::BulkSpec;
use ledgerscope::store::StoreConfig;
use ledgerscope::ui::commands::{DiffList, DraftField, JobKind, UiCommand};
use ledgerscope::ui::data::Connection;
use ledgerscope::ui::state::{Panel, TableKind};
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
    let options = GuiOptions {
        store: StoreConfig::embedded(dir),
        engine: EngineConfig::new("gui:test"),
        observe_only,
        runtime: rt.handle().clone(),
    };
    let app = LedgerApp::with_prefs_path(options, None);
    let mut harness = Harness::builder()
        .with_size([1280.0, 800.0])
        .with_accessibility_check(false)
        .build_ui_state(|ui, app: &mut LedgerApp| app.frame_ui(ui), app);
    wait_until(&mut harness, "connected", |app| {
        app.data().connection == Connection::Connected
    });
    harness
}

fn wait_until(
    harness: &mut Harness<'static, LedgerApp>,
    what: &str,
    done: impl Fn(&LedgerApp) -> bool,
) {
    for _ in 0..1_500 {
        harness.step();
        if done(harness.state()) {
            harness.step();
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("timed out waiting for {what}");
}

fn seed(harness: &Harness<'static, LedgerApp>, rt: &tokio::runtime::Runtime, count: u64) {
    let engine = harness.state().engine().unwrap().clone();
    let cancel = AtomicBool::new(false);
    rt.block_on(engine.emit_bulk(&BulkSpec::bookings(count, Some(7)), &cancel, |_| {}))
        .unwrap();
}

fn caught_up(app: &LedgerApp, head: u64) -> bool {
    app.data().head == head
        && app.data().statuses.len() == 2
        && app.data().statuses.iter().all(|s| s.checkpoint == head)
}

fn click(harness: &mut Harness<'static, LedgerApp>, label: &str) {
    harness.get_by_label(label).click();
    // One frame sends the command, the next runs it, more let new windows settle.
    for _ in 0..4 {
        harness.step();
    }
}

#[test]
fn generated_event_shows_in_timeline_and_same_uuid_again_is_a_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut h = harness(dir.path(), &rt, false);

    click(&mut h, "Generate New Event");
    wait_until(&mut h, "the command's answer", |app| {
        app.data()
            .last_command
            .as_ref()
            .is_some_and(|c| c.result.is_ok())
            && app.data().head == 1
    });
    assert!(
        !h.state()
            .data()
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
        app.data().timeline.row(0).is_some()
    });
    assert!(
        h.query_by_label("BookingWizardCompleted").is_some(),
        "the event is a row in the timeline"
    );

    click(&mut h, "Emit");
    click(&mut h, "Send again (same UUID)");
    wait_until(&mut h, "the duplicate answer", |app| {
        app.data()
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
    assert_eq!(h.state().data().head, 1);
}

#[test]
fn scrubbing_changes_the_counts() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut h = harness(dir.path(), &rt, false);
    seed(&h, &rt, 30);
    wait_until(&mut h, "head 30", |app| app.data().head == 30);

    click(&mut h, "Time travel");
    click(&mut h, "End >|");
    wait_until(&mut h, "state at the head", |app| {
        app.data().travel.as_ref().is_some_and(|t| t.position == 30)
    });
    assert_eq!(
        h.state().data().travel.as_ref().unwrap().counts.bookings,
        30
    );

    click(&mut h, "|< Start");
    wait_until(&mut h, "state at 0", |app| {
        app.data().travel.as_ref().is_some_and(|t| t.position == 0)
    });
    assert_eq!(h.state().data().travel.as_ref().unwrap().counts.bookings, 0);
    assert!(h.query_by_label_contains("bookings 0").is_some());

    for _ in 0..3 {
        click(&mut h, "Step >");
    }
    wait_until(&mut h, "state at 3", |app| {
        app.data().travel.as_ref().is_some_and(|t| t.position == 3)
    });
    let travel = h.state().data().travel.as_ref().unwrap();
    assert_eq!(travel.counts.bookings, 3);
    let (reference, diff) = travel.diff.as_ref().unwrap();
    assert_eq!(*reference, 30);
    assert_eq!(
        diff.counts[1].1, 27,
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
    wait_until(&mut h, "head 30", |app| app.data().head == 30);
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
        app.data().travel.as_ref().is_some_and(|t| t.position == 30)
    });
    click(&mut h, "users");
    wait_until(&mut h, "the users at the head", |app| {
        app.data().travel.as_ref().is_some_and(|t| t.position == 30)
            && app.data().travel_rows_loaded(TableKind::Users, true, 0..30)
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
        app.data()
            .travel
            .as_ref()
            .is_some_and(|t| t.position == cursor && t.diff.as_ref().is_some_and(|d| d.0 == 30))
            && app.data().travel_rows_loaded(TableKind::Users, true, 0..30)
    });
    assert_eq!(
        h.state()
            .data()
            .travel
            .as_ref()
            .unwrap()
            .len(TableKind::Users) as u64,
        h.state().data().travel.as_ref().unwrap().counts.users
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
        app.data()
            .travel_rows_loaded(TableKind::Users, false, 0..30)
    });
    let (_, diff) = h
        .state()
        .data()
        .travel
        .as_ref()
        .unwrap()
        .diff
        .as_ref()
        .unwrap();
    assert_eq!(
        diff.len(TableKind::Users),
        diff.counts[0].1 + diff.counts[0].2 + diff.counts[0].3
    );
    assert!(diff.len(TableKind::Users) > 0);
    assert!(
        h.query_by_label(&differing).is_some(),
        "the first differing user is a row of the difference"
    );
    assert!(h.query_all_by_label("added by 30").next().is_some());
    assert!(h.state().data().inline_errors.is_empty());
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
    app.push_command(UiCommand::ShowPanel(Panel::Compare));
    app.push_command(UiCommand::SetComparePositions(true));
    app.push_command(UiCommand::SetCompareTable(Some(TableKind::Users)));
    app.push_command(UiCommand::SetDraft(DraftField::CompareA, "5".into()));
    app.push_command(UiCommand::SetDraft(DraftField::CompareB, "30".into()));
    app.push_command(UiCommand::ComparePositions);
    wait_until(&mut h, "the differing users", |app| {
        app.data().positions_diff.as_ref().is_some_and(|(a, b, d)| {
            (*a, *b) == (5, 30)
                && d.len(TableKind::Users) > 0
                && app
                    .data()
                    .diff_rows(DiffList::Positions, TableKind::Users)
                    .has_rows(0..d.len(TableKind::Users).min(30) as u64)
        })
    });
    let (_, _, diff) = h.state().data().positions_diff.as_ref().unwrap();
    assert_eq!(
        diff.counts[0].1,
        diff.len(TableKind::Users),
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

    let views = rusqlite::Connection::open(dir.path().join("views.sqlite3")).unwrap();
    views.busy_timeout(Duration::from_secs(5)).unwrap();
    let drifted: String = views
        .query_row(
            "SELECT booking_id FROM bookings ORDER BY booking_id LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    views
        .execute(
            "UPDATE bookings SET guests = 19 WHERE booking_id = ?1",
            [&drifted],
        )
        .unwrap();

    click(&mut h, "Compare");
    wait_until(&mut h, "the comparison", |app| app.data().verify.is_some());
    let report = h.state().data().verify.clone().unwrap();
    assert_eq!((report.missing, report.extra, report.different), (0, 0, 1));
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
        app.data().job_results.contains_key(&JobKind::Replay)
    });
    assert!(h.state().data().job_results[&JobKind::Replay].is_ok());
    wait_until(&mut h, "the new comparison", |app| {
        app.data().verify.as_ref().is_some_and(|v| v.in_sync)
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
        app.data().job_results.contains_key(&JobKind::Replay)
    });
    let result = h.state().data().job_results[&JobKind::Replay].clone();
    assert!(
        result.as_ref().is_ok_and(|t| t.contains("50 events")),
        "{result:?}"
    );
    assert!(h.query_by_label_contains("Replayed 50 events").is_some());

    click(&mut h, "Take snapshot now");
    wait_until(&mut h, "the snapshot", |app| {
        !app.data().snapshots.is_empty()
    });
    assert_eq!(h.state().data().snapshots[0].position, 50);
    click(&mut h, "Restore…");
    click(&mut h, "Yes, restore");
    wait_until(&mut h, "the restore", |app| {
        app.data().job_results.contains_key(&JobKind::Restore)
    });
    assert!(h.state().data().job_results[&JobKind::Restore].is_ok());
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
        let cancel = AtomicBool::new(false);
        engine
            .emit_bulk(&BulkSpec::bookings(count, Some(seed)), &cancel, |_| {})
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
        app.data()
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
        app.data()
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
            app.data().pairing,
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
        app.data().timeline_total == Some(8) && app.data().timeline.row(7).is_some()
    });
    assert!(
        h.query_by_label_contains("[hole before: positions 6..=504 have no event]")
            .is_some(),
        "the first row after the hole says so"
    );
    assert_eq!(
        h.state()
            .data()
            .timeline
            .row(5)
            .map(ledgerscope::store::entry_position),
        Some(505),
        "rows are the stored events: the hole takes none"
    );
}
