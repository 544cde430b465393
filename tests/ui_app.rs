//! The real app driven through egui_kittest, on the embedded store in a temp
//! dir, with a real tokio runtime doing the I/O. Async results are awaited by
//! stepping frames until the state arrives (bounded).

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use ledgerscope::engine::EngineConfig;
use ledgerscope::engine::bulk::BulkSpec;
use ledgerscope::store::StoreConfig;
use ledgerscope::ui::commands::JobKind;
use ledgerscope::ui::data::Connection;
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
