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
mod history;
mod keyboard;
mod language;
mod mask;
mod models;
mod operations;
mod personal;
mod publish;
mod repair;
mod scenarios;
mod schema;
mod spoken;
mod tables;
mod trainer;
mod travel;

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

use history::shown_history;
use travel::first_emails;

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
/// The window's options over the embedded stores in `dir`: a `gui:test`
/// engine, writable, nothing masked.
fn gui_options(dir: &Path, rt: &tokio::runtime::Runtime) -> GuiOptions {
    GuiOptions {
        store: StoreConfig::embedded(dir),
        engine: EngineConfig::new("gui:test"),
        observe_only: false,
        mask: None,
        runtime: rt.handle().clone(),
    }
}

fn harness_with(
    dir: &Path,
    rt: &tokio::runtime::Runtime,
    observe_only: bool,
    engine: EngineConfig,
) -> Harness<'static, LedgerApp> {
    let options = GuiOptions {
        engine,
        observe_only,
        ..gui_options(dir, rt)
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
