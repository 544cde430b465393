//! Engine invariants on the embedded store (real SQLite files in a temp dir).

use std::sync::Arc;

use ledgerscope::domain::aggregate::decide_submit;
use ledgerscope::domain::generate::{DemoRng, booking_form};
use ledgerscope::domain::state::KeyDiff;
use ledgerscope::domain::{
    CancelBooking, ChangeUserAddress, EventMetadata, ProjectorId, ReadState, RescheduleBooking,
    StoredEvent, SubmitBookingWizard,
};
use ledgerscope::engine::bulk::BulkSpec;
use ledgerscope::engine::handler::aggregate_lock_name;
use ledgerscope::engine::view::ViewDiff;
use ledgerscope::engine::{Engine, EngineConfig, EngineError, JobControl, Phase, ReplayOptions};
use ledgerscope::store::{StoreConfig, load_read_state, open_stores};
use uuid::Uuid;

async fn engine_in(dir: &std::path::Path) -> Arc<Engine> {
    let stores = open_stores(&StoreConfig::embedded(dir)).await.unwrap();
    let mut config = EngineConfig::new("test");
    config.snapshot_every = 0;
    Engine::new(stores, config)
}

fn wizard(rng: &mut DemoRng) -> SubmitBookingWizard {
    let id = rng.uuid_v4();
    booking_form(rng, 20).validate(id).unwrap()
}

async fn project_all(engine: &Engine) {
    for p in ProjectorId::ALL {
        engine.catch_up(p).await.unwrap();
    }
}

/// Appends a row to the SQLite ledger as a foreign writer could, whatever
/// its fields hold.
fn append_raw(
    ledger_db: &rusqlite::Connection,
    event_id: &str,
    event_type: &str,
    recorded_at: &str,
    payload: &str,
) {
    ledger_db
        .execute(
            "INSERT INTO events(position, event_id, aggregate_id, aggregate_type, version, event_type,
             schema_version, recorded_at, payload, metadata)
             VALUES ((SELECT MAX(position) + 1 FROM events), ?1, ?1, 'booking', 1, ?2, 1, ?3, ?4, NULL)",
            rusqlite::params![event_id, event_type, recorded_at, payload],
        )
        .unwrap();
}

/// An engine over the embedded stores in `dir` with `config`.
/// Rows 10..20 of a state's `bookings` (a view's second screen to compare with).
fn bookings_10_to_20(state: &ReadState) -> Vec<ledgerscope::domain::BookingRow> {
    state.bookings.values().skip(10).take(10).cloned().collect()
}

/// `count` commands of the demo mix (cancellations, reschedules and address
/// changes among the bookings), seeded.
fn mixed(count: u64, seed: u64) -> BulkSpec {
    BulkSpec {
        mix: true,
        ..BulkSpec::bookings(count, Some(seed))
    }
}

/// Automatic snapshots every `every` events, deltas every `delta`, pages of
/// 7 rows (many pages per table).
fn interval_config(every: u64, delta: u64) -> EngineConfig {
    let mut config = EngineConfig::new("test");
    config.snapshot_every = every;
    config.snapshot_delta_every = delta;
    config.snapshot_page_rows = 7;
    config
}

async fn engine_with(dir: &std::path::Path, config: &EngineConfig) -> Arc<Engine> {
    let stores = open_stores(&StoreConfig::embedded(dir)).await.unwrap();
    Engine::new(stores, config.clone())
}

async fn views(engine: &Engine) -> ReadState {
    load_read_state(engine.stores().read.as_ref(), 1000)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_with_the_same_uuid_is_one_event_even_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let cmd = wizard(&mut DemoRng::new(1));
    let first = {
        let engine = engine_in(dir.path()).await;
        let first = engine.submit_booking_wizard(cmd.clone()).await.unwrap();
        assert!(!first.duplicate);
        let steps: Vec<(&str, &str)> = first
            .trace
            .steps
            .iter()
            .map(|s| (s.name.as_str(), s.detail.as_str()))
            .collect();
        assert_eq!(
            steps.iter().map(|s| s.0).collect::<Vec<_>>(),
            ["lock", "exists?", "build", "save", "unlock", "publish"]
        );
        assert_eq!(
            steps[4].1, "released in the save's commit",
            "embedded: one commit"
        );
        let lock = aggregate_lock_name(cmd.booking_id);
        assert_eq!(engine.stores().locks.holder(&lock).await.unwrap(), None);
        let again = engine.submit_booking_wizard(cmd.clone()).await.unwrap();
        assert!(again.duplicate);
        assert_eq!(again.event, first.event, "same answer as the first time");
        let names: Vec<&str> = again.trace.steps.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["lock", "exists?", "unlock", "publish"]);
        first
    };
    // A new process on the same files.
    let engine = engine_in(dir.path()).await;
    let again = engine.submit_booking_wizard(cmd).await.unwrap();
    assert!(again.duplicate);
    assert_eq!(again.event, first.event);
    assert_eq!(engine.stores().ledger.count().await.unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_instances_retrying_one_command_store_one_event() {
    let dir = tempfile::tempdir().unwrap();
    let a = engine_in(dir.path()).await;
    let b = engine_in(dir.path()).await;
    let mut rng = DemoRng::new(2);
    let cmds: Vec<SubmitBookingWizard> = (0..40).map(|_| wizard(&mut rng)).collect();
    let run = |engine: Arc<Engine>, cmds: Vec<SubmitBookingWizard>| {
        tokio::spawn(async move {
            let mut stored = Vec::new();
            for cmd in cmds {
                stored.push(
                    engine
                        .submit_booking_wizard(cmd)
                        .await
                        .unwrap()
                        .event
                        .position,
                );
            }
            stored
        })
    };
    let (x, y) = tokio::join!(run(a.clone(), cmds.clone()), run(b, cmds));
    assert_eq!(
        x.unwrap(),
        y.unwrap(),
        "both instances got the same answers"
    );
    assert_eq!(a.stores().ledger.count().await.unwrap(), 40);
    assert_eq!(
        a.stores().ledger.head().await.unwrap(),
        40,
        "positions are gap-free"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_on_bookings_and_users_follow_the_rules_and_are_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_in(dir.path()).await;
    let booking = wizard(&mut DemoRng::new(3));
    engine.submit_booking_wizard(booking.clone()).await.unwrap();
    let cancel = CancelBooking::new(Uuid::new_v4(), booking.booking_id, "flu").unwrap();
    let first = engine.cancel_booking(cancel.clone()).await.unwrap();
    assert_eq!(first.event.version, 2);
    let retry = engine.cancel_booking(cancel).await.unwrap();
    assert!(retry.duplicate);
    let again = CancelBooking::new(Uuid::new_v4(), booking.booking_id, "").unwrap();
    assert!(matches!(
        engine.cancel_booking(again).await,
        Err(EngineError::Domain(_))
    ));
    let move_it = RescheduleBooking::new(
        Uuid::new_v4(),
        booking.booking_id,
        "2027-01-01",
        "2027-01-02",
    )
    .unwrap();
    assert!(matches!(
        engine.reschedule_booking(move_it).await,
        Err(EngineError::Domain(_))
    ));
    let unknown = CancelBooking::new(Uuid::new_v4(), Uuid::new_v4(), "").unwrap();
    assert!(matches!(
        engine.cancel_booking(unknown).await,
        Err(EngineError::Domain(_))
    ));

    let user = booking.user.user_id;
    let moved = ChangeUserAddress::new(Uuid::new_v4(), user, "Calle B 2").unwrap();
    let event = engine.change_user_address(moved).await.unwrap().event;
    assert_eq!(event.payload["old_address"], booking.user.address.as_str());
    assert_eq!(event.version, 1);
    let moved_again = ChangeUserAddress::new(Uuid::new_v4(), user, "Calle C 3").unwrap();
    let event = engine.change_user_address(moved_again).await.unwrap().event;
    assert_eq!(
        (event.payload["old_address"].as_str(), event.version),
        (Some("Calle B 2"), 2)
    );

    project_all(&engine).await;
    let state = views(&engine).await;
    assert_eq!(state.users[&user].address, "Calle C 3");
    assert_eq!(
        state.bookings[&booking.booking_id].status.as_str(),
        "cancelled"
    );
    assert!(engine.verify().await.unwrap().in_sync);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn observe_only_refuses_every_write() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_in(dir.path()).await;
    engine.set_observe_only(true);
    let result = engine
        .submit_booking_wizard(wizard(&mut DemoRng::new(4)))
        .await;
    assert!(
        matches!(result, Err(EngineError::ObserveOnly(_))),
        "{result:?}"
    );
    assert!(matches!(
        engine.take_snapshot(None, &JobControl::default()).await,
        Err(EngineError::ObserveOnly(_))
    ));
    let replay = engine
        .replay(
            ReplayOptions {
                from_snapshot: false,
                rebuild_foreign: false,
            },
            &JobControl::default(),
        )
        .await;
    assert!(matches!(replay, Err(EngineError::ObserveOnly(_))));
    assert_eq!(engine.stores().ledger.count().await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_store_outage_lags_the_views_and_they_catch_up_from_their_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_in(dir.path()).await;
    engine
        .emit_bulk(&BulkSpec::bookings(50, Some(5)), &JobControl::default())
        .await
        .unwrap();
    project_all(&engine).await;
    engine.set_simulated_outage(true);
    let report = engine
        .emit_bulk(&BulkSpec::bookings(30, Some(6)), &JobControl::default())
        .await
        .unwrap();
    assert_eq!(report.emitted, 30, "the ledger keeps accepting commands");
    let failed = engine.catch_up(ProjectorId::BookingProjection).await;
    assert!(failed.unwrap_err().to_string().contains("SIMULATED"));
    let status = engine
        .refresh_status(ProjectorId::BookingProjection)
        .await
        .unwrap();
    assert_eq!((status.checkpoint, status.lag_events), (50, 30));
    engine.set_simulated_outage(false);
    let caught = engine
        .catch_up(ProjectorId::BookingProjection)
        .await
        .unwrap();
    assert_eq!((caught.events, caught.position), (30, 80));
    engine.catch_up(ProjectorId::UserProjection).await.unwrap();
    assert!(engine.verify().await.unwrap().in_sync);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn background_projectors_follow_the_bus_and_hold_the_lease_alone() {
    let dir = tempfile::tempdir().unwrap();
    let a = engine_in(dir.path()).await;
    let b = engine_in(dir.path()).await;
    let shutdown = tokio_util::sync::CancellationToken::new();
    let mut tasks = a.spawn_projectors(shutdown.clone());
    a.emit_bulk(&BulkSpec::bookings(100, Some(7)), &JobControl::default())
        .await
        .unwrap();
    let mut synced = false;
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let statuses = a.projector_statuses();
        if statuses.iter().all(|s| s.checkpoint == 100) {
            synced = true;
            break;
        }
    }
    assert!(synced, "projectors caught up: {:?}", a.projector_statuses());
    // The other instance only watches while a holds the lease.
    assert_eq!(
        b.project_with_lease(ProjectorId::UserProjection, false)
            .await
            .unwrap(),
        None
    );
    tasks.extend(b.spawn_projectors(shutdown.clone()));
    shutdown.cancel();
    for task in tasks {
        task.await.unwrap();
    }
    assert!(a.verify().await.unwrap().in_sync);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_rebuilds_drifted_tables_and_a_cancelled_replay_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_in(dir.path()).await;
    let spec = mixed(400, 8);
    engine
        .emit_bulk(&spec, &JobControl::default())
        .await
        .unwrap();
    project_all(&engine).await;
    // Drift: a row deleted and a row edited by hand.
    let views_db = rusqlite::Connection::open(dir.path().join("views.sqlite3")).unwrap();
    views_db
        .execute(
            "DELETE FROM bookings WHERE booking_id = (SELECT MIN(booking_id) FROM bookings)",
            [],
        )
        .unwrap();
    views_db
        .execute(
            "UPDATE users SET name = 'Mallory' WHERE user_id = (SELECT MAX(user_id) FROM users)",
            [],
        )
        .unwrap();
    let report = engine.verify().await.unwrap();
    assert!(!report.in_sync);
    assert_eq!((report.missing, report.extra, report.different), (1, 0, 1));
    let drifted = views(&engine).await;

    // Cancel during the load phase: the drifted tables stay as they were.
    let job = Arc::new(std::sync::OnceLock::<JobControl>::new());
    let seen = job.clone();
    let control = JobControl::new(move |p| {
        if p.phase == Phase::Loading
            && let Some(job) = seen.get()
        {
            job.cancel();
        }
    });
    job.set(control.clone()).unwrap();
    let result = engine
        .replay(
            ReplayOptions {
                from_snapshot: false,
                rebuild_foreign: false,
            },
            &control,
        )
        .await;
    assert!(matches!(result, Err(EngineError::Cancelled)), "{result:?}");
    assert_eq!(
        views(&engine).await,
        drifted,
        "a cancelled replay leaves the old tables"
    );

    let report = engine
        .replay(
            ReplayOptions {
                from_snapshot: false,
                rebuild_foreign: false,
            },
            &JobControl::default(),
        )
        .await
        .unwrap();
    let head = engine.stores().ledger.head().await.unwrap();
    assert_eq!(report.events, head);
    let expected = engine.fold_from_zero(head).await.unwrap();
    let mut rebuilt = views(&engine).await;
    rebuilt.position = expected.position;
    assert_eq!(rebuilt, expected, "replay == fold(ledger)");
    assert!(engine.verify().await.unwrap().in_sync);
    for p in ProjectorId::ALL {
        assert_eq!(
            engine.stores().read.projector_position(p).await.unwrap(),
            head
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_hands_on_differences_as_it_finds_them_with_progress_and_cancel() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_in(dir.path()).await;
    // More bookings than one page of the comparison (5,000 rows), so the
    // first drifted row is found with pages still to compare.
    let mut rng = DemoRng::new(3);
    let batch: Vec<StoredEvent> = (0..6_000)
        .map(|_| {
            let cmd = wizard(&mut rng);
            let id = cmd.booking_id;
            StoredEvent::wrap(
                &decide_submit(&cmd),
                id,
                1,
                chrono::Utc::now(),
                EventMetadata::default(),
            )
        })
        .collect();
    engine.stores().ledger.append_batch(batch).await.unwrap();
    let replay = ReplayOptions {
        from_snapshot: false,
        rebuild_foreign: false,
    };
    engine.replay(replay, &JobControl::default()).await.unwrap();
    let views_db = rusqlite::Connection::open(dir.path().join("views.sqlite3")).unwrap();
    views_db
        .execute(
            "UPDATE bookings SET guests = 19 WHERE booking_id = (SELECT MIN(booking_id) FROM bookings)",
            [],
        )
        .unwrap();
    views_db
        .execute(
            "DELETE FROM users WHERE user_id = (SELECT MAX(user_id) FROM users)",
            [],
        )
        .unwrap();

    let progress = Arc::new(std::sync::Mutex::new(Vec::<(u64, u64)>::new()));
    let seen = progress.clone();
    let job = JobControl::new(move |p| {
        assert_eq!(p.phase, Phase::Comparing);
        seen.lock().unwrap().push((p.done, p.total));
    });
    let found = std::sync::Mutex::new(Vec::new());
    let on_found = |table, rows: &[ledgerscope::domain::RowDiff]| {
        let done = progress.lock().unwrap().last().map_or(0, |p| p.0);
        let mut found = found.lock().unwrap();
        found.extend(rows.iter().map(|r| (table, r.clone(), done)));
    };
    let report = engine.verify_with(&job, &on_found).await.unwrap();
    assert_eq!((report.missing, report.extra, report.different), (1, 0, 1));
    let found = found.into_inner().unwrap();
    for table in ledgerscope::domain::Table::ALL {
        let listed: Vec<_> = report.rows().filter(|(t, _)| *t == table).collect();
        let handed: Vec<_> = found.iter().filter(|(t, _, _)| *t == table).collect();
        assert_eq!(
            handed.len(),
            listed.len(),
            "{table:?}: each row handed on once"
        );
        for ((_, handed, _), (_, listed)) in handed.iter().zip(&listed) {
            assert_eq!(
                handed, *listed,
                "{table:?}: the report's rows, in its order"
            );
        }
    }
    let progress = progress.lock().unwrap().clone();
    let &(done, total) = progress.last().unwrap();
    let head = engine.stores().ledger.head().await.unwrap();
    assert_eq!(total, report.checked_rows + head, "rows and entries");
    assert_eq!(done, total, "the last report is the whole comparison");
    let booking_found_at = found
        .iter()
        .find(|(t, _, _)| *t == ledgerscope::domain::Table::Bookings)
        .map(|(_, _, done)| *done)
        .unwrap();
    assert!(
        booking_found_at < total,
        "the first booking's drift is handed on before the comparison ends ({booking_found_at} of {total})"
    );

    // Cancelled at its first report: an error, not a report.
    let cancel = Arc::new(std::sync::OnceLock::<JobControl>::new());
    let seen = cancel.clone();
    let job = JobControl::new(move |_| {
        if let Some(job) = seen.get() {
            job.cancel();
        }
    });
    cancel.set(job.clone()).unwrap();
    let result = engine.verify_with(&job, &|_, _| {}).await;
    assert!(matches!(result, Err(EngineError::Cancelled)), "{result:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunked_snapshots_give_the_same_state_as_folding_from_zero() {
    let dir = tempfile::tempdir().unwrap();
    let stores = open_stores(&StoreConfig::embedded(dir.path()))
        .await
        .unwrap();
    let mut config = EngineConfig::new("test");
    config.snapshot_every = 100;
    config.history_pass = false; // one snapshot per interval
    config.snapshot_page_rows = 7; // many pages per snapshot
    let engine = Engine::new(stores, config);
    let spec = mixed(450, 9);
    engine
        .emit_bulk(&spec, &JobControl::default())
        .await
        .unwrap();
    let taken = engine.take_due_snapshots().await.unwrap();
    assert_eq!(
        taken.iter().map(|s| s.position).collect::<Vec<_>>(),
        [100, 200, 300, 400]
    );
    assert!(
        taken.iter().all(|s| s.chunks > 5),
        "{:?}",
        taken.iter().map(|s| s.chunks).collect::<Vec<_>>()
    );
    // A fresh engine has no cached fold: it must start from the snapshots.
    let fresh = engine_in(dir.path()).await;
    let head = engine.stores().ledger.head().await.unwrap();
    assert!(head > 400, "{head}");
    for position in [0, 1, 99, 100, 101, 250, 399, 400, head - 1, head] {
        let via = fresh.state_at(position).await.unwrap();
        let reference = fresh.fold_from_zero(position).await.unwrap();
        assert_eq!(
            via.state.digest(),
            reference.digest(),
            "position {position} via {:?}",
            via.base
        );
        assert_eq!(*via.state, reference);
    }
    // Replay from the newest snapshot matches a replay from zero.
    let report = fresh
        .replay(
            ReplayOptions {
                from_snapshot: true,
                rebuild_foreign: false,
            },
            &JobControl::default(),
        )
        .await
        .unwrap();
    assert_eq!(report.from_snapshot.map(|s| s.position), Some(400));
    let head = fresh.stores().ledger.head().await.unwrap();
    assert_eq!(report.events, head - 400);
    assert!(fresh.verify().await.unwrap().in_sync);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn views_read_pages_and_agree_with_the_fold_rows_counts_and_differences() {
    let dir = tempfile::tempdir().unwrap();
    let stores = open_stores(&StoreConfig::embedded(dir.path()))
        .await
        .unwrap();
    let mut config = EngineConfig::new("test");
    config.snapshot_every = 120;
    config.history_pass = false; // one snapshot per interval
    config.snapshot_page_rows = 5;
    let engine = Engine::new(stores, config);
    let spec = mixed(500, 21);
    engine
        .emit_bulk(&spec, &JobControl::default())
        .await
        .unwrap();
    assert_eq!(engine.take_due_snapshots().await.unwrap().len(), 4);
    let fresh = engine_in(dir.path()).await;
    let head = fresh.stores().ledger.head().await.unwrap();
    let mut views = Vec::new();
    for position in [0, 7, 119, 120, 121, 300, 479, 480, head] {
        let view = fresh.state_view(position).await.unwrap();
        let reference = fresh.fold_from_zero(position).await.unwrap();
        assert_eq!(view.position(), reference.position, "position {position}");
        assert_eq!(*view.counts(), reference.counts(), "counts at {position}");
        // Pages straddled at odd offsets, and the last rows.
        let users: Vec<_> = reference.users.values().cloned().collect();
        for range in [0..3, 3..11, users.len().saturating_sub(4)..users.len() + 2] {
            let want = &users[range.start.min(users.len())..range.end.min(users.len())];
            assert_eq!(
                view.user_rows(range.clone()).await.unwrap(),
                want,
                "users {range:?} at {position}"
            );
        }
        let bookings: Vec<_> = reference.bookings.values().cloned().collect();
        for range in [
            0..1,
            4..17,
            bookings.len().saturating_sub(6)..bookings.len(),
        ] {
            let want = &bookings[range.start.min(bookings.len())..range.end.min(bookings.len())];
            assert_eq!(
                view.booking_rows(range.clone()).await.unwrap(),
                want,
                "bookings {range:?} at {position}"
            );
        }
        assert_eq!(
            view.materialize().await.unwrap(),
            reference,
            "state at {position}"
        );
        views.push((Arc::new(view), Arc::new(reference)));
    }
    // Differences from the directories alone equal the row-by-row ones, on
    // one base and across bases.
    for (a, b) in [(1, 2), (3, 4), (2, 6), (0, 8), (8, 0), (5, 5)] {
        let (view_a, state_a) = &views[a];
        let (view_b, state_b) = &views[b];
        let by_keys = ViewDiff::new(view_a.clone(), view_b.clone());
        let by_rows = KeyDiff::new(state_a.clone(), state_b.clone());
        assert_eq!(by_keys.keys, by_rows.keys, "diff {a} -> {b}");
        for table in ledgerscope::domain::Table::ALL {
            let n = by_rows.len(table);
            let rows: Vec<_> = (0..n).filter_map(|i| by_rows.row(table, i)).collect();
            assert_eq!(
                by_keys.rows(table, 0..n).await.unwrap(),
                rows,
                "diff rows {a} -> {b}"
            );
        }
    }
    assert!(!ViewDiff::new(views[0].0.clone(), views[8].0.clone()).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delta_snapshots_between_full_ones_give_the_fold_and_fill_gaps() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = EngineConfig::new("test");
    config.snapshot_every = 100;
    config.history_pass = false; // one snapshot per interval
    config.snapshot_delta_every = 30;
    config.snapshot_page_rows = 7;
    let engine = engine_with(dir.path(), &config).await;
    let spec = mixed(215, 31);
    engine
        .emit_bulk(&spec, &JobControl::default())
        .await
        .unwrap();
    // Two malformed rows inside a delta's span: reported, never fatal.
    let before_bad = engine.stores().ledger.head().await.unwrap();
    assert!(before_bad > 150, "{before_bad}");
    let bad = [before_bad + 1, before_bad + 2];
    let ledger_db = rusqlite::Connection::open(dir.path().join("ledger.sqlite3")).unwrap();
    for (event_id, event_type, payload) in [
        (
            "00000000-0000-4000-8000-00000000000a",
            "BookingCancelled",
            "{not json",
        ),
        (
            "00000000-0000-4000-8000-00000000000b",
            "LoyaltyPointsAwarded",
            "{}",
        ),
    ] {
        append_raw(
            &ledger_db,
            event_id,
            event_type,
            "2026-01-01T00:00:00Z",
            payload,
        );
    }
    let spec = mixed(235, 32);
    engine
        .emit_bulk(&spec, &JobControl::default())
        .await
        .unwrap();
    let head = engine.stores().ledger.head().await.unwrap();
    assert!(head > 430, "{head}");
    let taken = engine.take_due_snapshots().await.unwrap();
    let kinds: Vec<(u64, bool)> = taken.iter().map(|s| (s.position, s.is_full())).collect();
    let mut want = Vec::new();
    for at in (30..=head).filter(|p| p % 30 == 0 || p % 100 == 0) {
        want.push((at, at % 100 == 0));
    }
    assert_eq!(
        kinds, want,
        "fulls at multiples of 100, deltas of them every 30"
    );
    for delta in taken.iter().filter(|s| !s.is_full()) {
        match taken.iter().find(|s| Some(s.id) == delta.base) {
            Some(full) => {
                assert_eq!(full.position, delta.position / 100 * 100);
                assert!(delta.size_bytes < full.size_bytes, "{delta:?}");
            }
            // Before the first full snapshot: deltas of the empty ledger.
            None => assert_eq!(
                (delta.base, delta.position < 100),
                (Some(Uuid::nil()), true)
            ),
        }
    }

    // A fresh engine (no cached fold) reads a full snapshot plus its delta.
    let fresh = engine_with(dir.path(), &config).await;
    let mut positions = vec![0, 99, 100, 119, 120, 121, 239, 299, 330, 399, 400, head];
    positions.extend([bad[0], bad[1], bad[1] + 1, bad[1] / 30 * 30 + 30]);
    for position in positions {
        let reference = fresh.fold_from_zero(position).await.unwrap();
        let view = fresh.state_view(position).await.unwrap();
        assert!(
            view.folded_events < 30,
            "{position}: {}",
            view.folded_events
        );
        assert_eq!(*view.counts(), reference.counts(), "counts at {position}");
        assert_eq!(
            view.materialize().await.unwrap(),
            reference,
            "view at {position}"
        );
        let at = fresh.state_at(position).await.unwrap();
        assert_eq!(
            *at.state, reference,
            "state_at {position} via {:?}",
            at.base
        );
        // The malformed rows are reported by every view after them that
        // starts from the full snapshot before them (through a delta or not).
        if position >= bad[1] && position / 100 == bad[0] / 100 {
            let skipped: Vec<u64> = view.skipped.iter().map(|m| m.position).collect();
            assert_eq!(skipped, bad, "at {position}");
        }
    }
    let fresh = engine_with(dir.path(), &config).await;
    let delta_after_bad = bad[1] / 30 * 30 + 30;
    let at = fresh.state_at(delta_after_bad + 5).await.unwrap();
    assert_eq!(
        at.folded_events, 5,
        "from the delta at {delta_after_bad}: {:?}",
        at.base
    );
    assert_eq!(
        delta_after_bad / 100,
        bad[0] / 100,
        "a delta follows the bad rows"
    );
    assert_eq!(
        at.skipped.iter().map(|m| m.position).collect::<Vec<_>>(),
        bad
    );

    // Restoring a delta restores the state at its position.
    let delta_330 = taken.iter().find(|s| s.position == 330).unwrap();
    let report = fresh
        .restore_snapshot(&delta_330.id.to_string(), false)
        .await
        .unwrap();
    assert_eq!(report.events_to_catch_up, head - 330);
    let restored = views(&fresh).await;
    let reference = fresh.fold_from_zero(330).await.unwrap();
    assert_eq!(
        (restored.users, restored.bookings),
        (reference.users, reference.bookings)
    );

    // A finer delta interval fills the gaps between the stored fulls with
    // deltas only (no full snapshot is taken again).
    let mut finer = config.clone();
    finer.snapshot_delta_every = 10;
    let finer = engine_with(dir.path(), &finer).await;
    let filled = finer.take_due_snapshots().await.unwrap();
    assert!(filled.iter().all(|s| !s.is_full() && s.position % 10 == 0));
    assert_eq!(
        filled.len(),
        (10..=head)
            .filter(|p| p % 10 == 0 && p % 30 != 0 && p % 100 != 0)
            .count()
    );
    assert!(finer.take_due_snapshots().await.unwrap().is_empty());
    for position in [115, 212, 377] {
        let view = finer.state_view(position).await.unwrap();
        assert!(view.folded_events < 10, "{position}");
        assert_eq!(
            view.materialize().await.unwrap(),
            finer.fold_from_zero(position).await.unwrap()
        );
    }

    // A delta whose stored bytes changed is refused with its id, never used.
    let delta_240 = taken.iter().find(|s| s.position == 240).unwrap();
    ledger_db
        .execute(
            "UPDATE snapshot_chunks SET data = zeroblob(length(data)) WHERE snapshot_id = ?1",
            rusqlite::params![delta_240.id.to_string()],
        )
        .unwrap();
    let err = fresh.state_view(245).await.err().unwrap();
    let message = err.to_string();
    assert!(matches!(err, EngineError::BadSnapshot { .. }), "{message}");
    assert!(message.contains("checksum"), "{message}");

    // Full snapshots carry a fast checksum of their index; one byte changed
    // in a directory entry is caught by it. A snapshot of an earlier build
    // (no fast checksum) is still checked with its SHA-256.
    let full_300 = taken.iter().find(|s| s.position == 300).unwrap();
    let full_400 = taken.iter().find(|s| s.position == 400).unwrap();
    assert!(full_300.index_xxh3.is_some() && full_400.index_xxh3.is_some());
    ledger_db
        .execute(
            "UPDATE snapshots SET meta = json_remove(meta, '$.index_xxh3') WHERE id = ?1",
            rusqlite::params![full_400.id.to_string()],
        )
        .unwrap();
    let old_build = engine_with(dir.path(), &config).await;
    assert_eq!(
        old_build
            .state_view(400)
            .await
            .unwrap()
            .materialize()
            .await
            .unwrap(),
        old_build.fold_from_zero(400).await.unwrap()
    );
    for meta in [full_300, full_400] {
        let index: Vec<u8> = ledger_db
            .query_row(
                "SELECT data FROM snapshot_chunks WHERE snapshot_id = ?1 AND seq = 0",
                rusqlite::params![meta.id.to_string()],
                |r| r.get(0),
            )
            .unwrap();
        let mut changed = index.clone();
        let at = changed.len() / 2;
        changed[at] ^= 0x01;
        ledger_db
            .execute(
                "UPDATE snapshot_chunks SET data = ?2 WHERE snapshot_id = ?1 AND seq = 0",
                rusqlite::params![meta.id.to_string(), changed],
            )
            .unwrap();
        let err = old_build.state_view(meta.position).await.err().unwrap();
        assert!(err.to_string().contains("checksum mismatch"), "{err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_ledger_rows_are_shown_skipped_and_recorded_never_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_in(dir.path()).await;
    engine
        .emit_bulk(&BulkSpec::bookings(5, Some(10)), &JobControl::default())
        .await
        .unwrap();
    let ledger_db = rusqlite::Connection::open(dir.path().join("ledger.sqlite3")).unwrap();
    let good = "{\"booking_id\":\"not-a-uuid\"}";
    for (event_id, event_type, payload, recorded_at) in [
        (
            "00000000-0000-4000-8000-000000000001",
            "BookingCancelled",
            "{not json",
            "2026-01-01T00:00:00Z",
        ),
        (
            "00000000-0000-4000-8000-000000000002",
            "LoyaltyPointsAwarded",
            "{}",
            "2026-01-01T00:00:00Z",
        ),
        (
            "00000000-0000-4000-8000-000000000003",
            "BookingCancelled",
            good,
            "2026-01-01T00:00:00Z",
        ),
        ("not-a-uuid", "BookingCancelled", "{}", "yesterday"),
    ] {
        append_raw(&ledger_db, event_id, event_type, recorded_at, payload);
    }
    engine
        .emit_bulk(&BulkSpec::bookings(5, Some(11)), &JobControl::default())
        .await
        .unwrap();
    let entries = engine.stores().ledger.read_range(1, 100).await.unwrap();
    assert_eq!(entries.len(), 14);
    let bad: Vec<u64> = entries
        .iter()
        .filter_map(|e| e.as_ref().err())
        .map(|b| b.position)
        .collect();
    assert_eq!(
        bad,
        [6, 9],
        "envelope-level problems (bad JSON, bad id and time)"
    );
    let report = engine
        .catch_up(ProjectorId::BookingProjection)
        .await
        .unwrap();
    assert_eq!(report.position, 14, "projectors skip and go on");
    assert_eq!(report.skipped, [6, 7, 8, 9]);
    engine.catch_up(ProjectorId::UserProjection).await.unwrap();
    let checkpoint = engine
        .stores()
        .checkpoints
        .load_checkpoint("BookingProjection")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        checkpoint.skipped,
        [6, 7, 8, 9],
        "skipped positions are recorded"
    );
    let verify = engine.verify().await.unwrap();
    assert!(verify.in_sync);
    assert_eq!(
        verify
            .malformed
            .iter()
            .map(|m| m.position)
            .collect::<Vec<_>>(),
        [6, 7, 8, 9]
    );
    // The ledger refuses edits, even by hand.
    let edit = ledger_db.execute("UPDATE events SET event_type = 'X' WHERE position = 1", []);
    assert!(edit.unwrap_err().to_string().contains("append-only"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restoring_a_snapshot_rewinds_the_views_and_projectors_bring_them_back() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_in(dir.path()).await;
    engine
        .emit_bulk(&BulkSpec::bookings(60, Some(12)), &JobControl::default())
        .await
        .unwrap();
    let snapshot = engine
        .take_snapshot(Some(40), &JobControl::default())
        .await
        .unwrap();
    project_all(&engine).await;
    let report = engine
        .restore_snapshot(&snapshot.id.to_string()[..8], false)
        .await
        .unwrap();
    assert_eq!(
        (report.snapshot.position, report.events_to_catch_up),
        (40, 20)
    );
    assert_eq!(views(&engine).await.bookings.len(), 40);
    project_all(&engine).await;
    assert_eq!(views(&engine).await.bookings.len(), 60);
    assert!(engine.verify().await.unwrap().in_sync);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_background_task_takes_automatic_snapshots_as_events_arrive() {
    let dir = tempfile::tempdir().unwrap();
    let stores = open_stores(&StoreConfig::embedded(dir.path()))
        .await
        .unwrap();
    let mut config = EngineConfig::new("test");
    config.snapshot_every = 50;
    let engine = Engine::new(stores, config);
    let shutdown = tokio_util::sync::CancellationToken::new();
    let task = engine.spawn_auto_snapshots(shutdown.clone());
    engine
        .emit_bulk(&BulkSpec::bookings(120, Some(13)), &JobControl::default())
        .await
        .unwrap();
    let mut positions = Vec::new();
    for _ in 0..100 {
        positions = engine
            .list_snapshots()
            .await
            .unwrap()
            .iter()
            .map(|s| s.position)
            .collect();
        if positions.len() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(positions, [50, 100]);
    shutdown.cancel();
    task.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switching_the_outage_off_wakes_projectors_sleeping_out_their_backoff() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_in(dir.path()).await;
    let shutdown = tokio_util::sync::CancellationToken::new();
    engine.spawn_projectors(shutdown.clone());
    engine.set_simulated_outage(true);
    engine
        .emit_bulk(&BulkSpec::bookings(5, Some(21)), &JobControl::default())
        .await
        .unwrap();
    // Failing from the first event on: 0.1 s, 0.2, 0.4, 0.8, 1.6, then a
    // 3.2 s sleep from about 3.1 s to 6.3 s.
    let failing = std::time::Instant::now();
    loop {
        let retrying = engine
            .projector_statuses()
            .iter()
            .all(|s| s.last_error.is_some());
        if retrying && failing.elapsed() > std::time::Duration::from_millis(3_600) {
            break;
        }
        assert!(failing.elapsed() < std::time::Duration::from_secs(30));
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    engine.set_simulated_outage(false);
    let off = std::time::Instant::now();
    while !engine
        .projector_statuses()
        .iter()
        .all(|s| s.checkpoint == 5)
    {
        assert!(
            off.elapsed() < std::time::Duration::from_millis(1_500),
            "the projectors still sleep out their backoff: {:?}",
            engine.projector_statuses()
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    shutdown.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_series_pass_extends_with_new_events_and_folds_again_when_a_hole_is_filled() {
    use ledgerscope::domain::SeriesBy;
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_in(dir.path()).await;
    let spec = mixed(250, 5);
    engine
        .emit_bulk(&spec, &JobControl::default())
        .await
        .unwrap();
    let job = JobControl::default();
    let fresh_series = |by| {
        let dir = dir.path().to_path_buf();
        async move {
            engine_in(&dir)
                .await
                .series(by, &JobControl::default())
                .await
                .unwrap()
        }
    };

    // A hand edit takes position 1 (a booking wizard) out: a hole.
    let ledger_db = rusqlite::Connection::open(dir.path().join("ledger.sqlite3")).unwrap();
    ledger_db
        .busy_timeout(std::time::Duration::from_secs(5))
        .unwrap();
    ledger_db
        .execute_batch(
            "CREATE TABLE saved AS SELECT * FROM events WHERE position = 1;
             DROP TRIGGER events_append_only_delete;
             DELETE FROM events WHERE position = 1;",
        )
        .unwrap();
    let with_hole = engine.series(SeriesBy::Position, &job).await.unwrap();
    assert_eq!(with_hole, fresh_series(SeriesBy::Position).await);

    // More events: the pass goes on from where it was.
    engine.emit_bulk(&mixed(120, 6), &job).await.unwrap();
    for by in SeriesBy::ALL {
        let series = engine.series(by, &job).await.unwrap();
        assert_eq!(series, fresh_series(by).await, "{by:?}");
    }

    // The missing event comes back: the pass had crossed it, so it folds again.
    ledger_db
        .execute_batch("INSERT INTO events SELECT * FROM saved;")
        .unwrap();
    let filled = engine.series(SeriesBy::Position, &job).await.unwrap();
    assert_eq!(filled, fresh_series(SeriesBy::Position).await);
    let head = engine.head().await.unwrap();
    let state = engine.state_at(head).await.unwrap().state;
    assert_eq!(
        filled.points.last().unwrap().users,
        state.users.len() as u64
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_what_if_from_snapshots_is_the_fold_of_the_ledger_without_the_left_out_events() {
    use ledgerscope::domain::Exclusion;
    let dir = tempfile::tempdir().unwrap();
    let mut config = EngineConfig::new("test");
    config.snapshot_every = 50;
    config.snapshot_delta_every = 20;
    let engine = engine_with(dir.path(), &config).await;
    let spec = mixed(260, 11);
    let job = JobControl::default();
    engine.emit_bulk(&spec, &job).await.unwrap();
    engine.take_due_snapshots().await.unwrap();
    let head = engine.head().await.unwrap();
    let events: Vec<_> = engine
        .ledger_page(1, head as usize)
        .await
        .unwrap()
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let projected_before = views(&engine).await;
    let snapshots_before = engine.list_snapshots().await.unwrap().len();
    let mut rng = DemoRng::new(4);
    for round in 0..6 {
        let mut exclusion = Exclusion::default();
        for _ in 0..=round {
            exclusion.positions.insert(1 + rng.below(head));
        }
        if round % 2 == 1 {
            let a = 1 + rng.below(head);
            exclusion.ranges.push((a, (a + 15).min(head)));
        }
        let at = head - rng.below(head / 4);
        let report = engine.what_if(&exclusion, at, &job).await.unwrap();
        let kept = events
            .iter()
            .filter(|e| e.position <= at && !exclusion.excludes(e.position, Some(e)));
        let expected = ReadState::fold(kept);
        assert_eq!(
            (&report.simulated.users, &report.simulated.bookings),
            (&expected.users, &expected.bookings),
            "round {round}: {exclusion:?} at {at}"
        );
        assert!(
            matches!(
                report.base,
                ledgerscope::engine::timetravel::FoldBase::Snapshot { .. }
                    | ledgerscope::engine::timetravel::FoldBase::History { .. }
            ) || report.first_excluded.is_some_and(|p| p <= 50),
            "started from a snapshot: {:?}",
            report.base
        );
        let real = report.real_state();
        assert_eq!(real, engine.fold_from_zero(at).await.unwrap());
        assert_eq!(report.difference, real.diff(&report.simulated));
        assert_eq!(report.real_counts, real.counts());
        assert_eq!(report.simulated_counts, report.simulated.counts());
    }
    assert_eq!(views(&engine).await, projected_before, "nothing written");
    assert_eq!(
        engine.list_snapshots().await.unwrap().len(),
        snapshots_before
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cold_ledger_is_read_once_into_a_history_that_serves_every_earlier_position() {
    use ledgerscope::engine::timetravel::FoldBase;
    let dir = tempfile::tempdir().unwrap();
    let config = interval_config(100, 20);
    let engine = engine_with(dir.path(), &config).await;
    let spec = mixed(300, 41);
    let job = JobControl::default();
    engine.emit_bulk(&spec, &job).await.unwrap();
    // Two entries that cannot be applied, recorded in the history.
    let ledger_db = rusqlite::Connection::open(dir.path().join("ledger.sqlite3")).unwrap();
    let bad = engine.stores().ledger.head().await.unwrap() + 1;
    append_raw(
        &ledger_db,
        "00000000-0000-4000-8000-0000000000c1",
        "BookingCancelled",
        "2026-01-01T00:00:00Z",
        "{not json",
    );
    append_raw(
        &ledger_db,
        "00000000-0000-4000-8000-0000000000c2",
        "LoyaltyPointsAwarded",
        "2026-01-01T00:00:00Z",
        "{}",
    );
    engine.emit_bulk(&mixed(150, 42), &job).await.unwrap();
    let head = engine.stores().ledger.head().await.unwrap();
    assert!(head > 400, "{head}");

    // Before any snapshot, a far position is folded into a state and read
    // from memory.
    let first = engine_with(dir.path(), &config).await;
    let view = first.state_view(head).await.unwrap();
    assert_eq!(
        (view.from.clone(), view.folded_events),
        (FoldBase::Zero, head)
    );
    let reference = first.fold_from_zero(head).await.unwrap();
    assert_eq!(view.materialize().await.unwrap(), reference);
    assert_eq!(
        view.skipped.iter().map(|s| s.position).collect::<Vec<_>>(),
        [bad, bad + 1]
    );
    assert_eq!(
        view.booking_rows(10..20).await.unwrap(),
        bookings_10_to_20(&reference)
    );

    // Another instance holding the pass's lease: this one leaves it alone.
    let other = engine
        .stores()
        .locks
        .try_acquire(
            ledgerscope::engine::cold::HISTORY_LEASE,
            "other",
            std::time::Duration::from_secs(60),
        )
        .await
        .unwrap()
        .unwrap();
    assert!(engine.take_due_snapshots().await.unwrap().is_empty());
    assert!(engine.list_snapshots().await.unwrap().is_empty());
    engine.stores().locks.release(&other).await.unwrap();

    // A cancelled pass saves nothing.
    let cancelled = JobControl::default();
    cancelled.cancel();
    assert!(matches!(
        engine.take_history_snapshot(&cancelled).await,
        Err(EngineError::Cancelled)
    ));
    assert!(engine.list_snapshots().await.unwrap().is_empty());

    // One pass: one history snapshot at the head, nothing before it.
    let progress = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = progress.clone();
    let watched = JobControl::new(move |p| seen.lock().unwrap().push(p.clone()));
    let history = engine
        .take_history_snapshot(&watched)
        .await
        .unwrap()
        .unwrap();
    assert!(history.is_history() && !history.is_full(), "{history:?}");
    assert_eq!(history.position, head);
    let reading = progress
        .lock()
        .unwrap()
        .iter()
        .filter(|p| p.phase == Phase::Reading)
        .map(|p| p.done)
        .max();
    assert_eq!(reading, Some(head), "the pass reports the entries it read");
    assert!(
        engine.take_due_snapshots().await.unwrap().is_empty(),
        "the history covers every position up to the head"
    );
    let full_state = engine.fold_from_zero(head).await.unwrap();
    assert_eq!(
        (history.users, history.bookings),
        (
            full_state.users.len() as u64,
            full_state.bookings.len() as u64
        )
    );

    // A fresh engine reads every position from it, no event folded.
    let fresh = engine_with(dir.path(), &config).await;
    let mut positions: Vec<u64> = (21..=head).step_by(13).collect();
    positions.extend([bad - 1, bad, bad + 1, head - 1, head]);
    for position in positions {
        let reference = fresh.fold_from_zero(position).await.unwrap();
        let view = fresh.state_view(position).await.unwrap();
        let from = match position == head {
            // At its own position it is a base like a full snapshot.
            true => FoldBase::Snapshot {
                id: history.id,
                position: head,
            },
            false => FoldBase::History {
                id: history.id,
                position: head,
            },
        };
        assert_eq!(view.from, from, "at {position}");
        assert_eq!(view.folded_events, 0);
        assert_eq!(view.counts(), &reference.counts(), "counts at {position}");
        let state = view.materialize().await.unwrap();
        assert_eq!(
            (&state.users, &state.bookings),
            (&reference.users, &reference.bookings),
            "rows at {position}"
        );
        let page: Vec<_> = view.booking_rows(3..40).await.unwrap();
        let want: Vec<_> = reference
            .bookings
            .values()
            .skip(3)
            .take(37)
            .cloned()
            .collect();
        assert_eq!(page, want, "a page of bookings at {position}");
        if let Some(user) = reference.users.values().nth(5) {
            assert_eq!(
                view.row::<ledgerscope::domain::UserRow>(user.user_id)
                    .await
                    .unwrap()
                    .as_ref(),
                Some(user)
            );
        }
        let skipped: Vec<u64> = view.skipped.iter().map(|s| s.position).collect();
        let want: Vec<u64> = [bad, bad + 1]
            .into_iter()
            .filter(|p| *p <= position)
            .collect();
        assert_eq!(
            skipped, want,
            "entries that could not be applied up to {position}"
        );
        // state_at (materialized, as what-if and snapshot take use it) agrees.
        let at = fresh.state_at(position).await.unwrap();
        assert_eq!(at.state.digest(), reference.digest(), "state_at {position}");
    }
    // Near the start, a few events folded from zero are cheaper.
    assert_eq!(fresh.state_view(15).await.unwrap().from, FoldBase::Zero);

    // New events: deltas of the history (no full snapshot: the next pass
    // comes two intervals after it).
    engine.emit_bulk(&mixed(90, 43), &job).await.unwrap();
    let later = engine.stores().ledger.head().await.unwrap();
    let taken = engine.take_due_snapshots().await.unwrap();
    let positions: Vec<u64> = taken.iter().map(|s| s.position).collect();
    let want: Vec<u64> = (head / 20 + 1..=later / 20).map(|k| k * 20).collect();
    assert_eq!(positions, want);
    for s in &taken {
        assert_eq!(s.base, Some(history.id), "a delta of the history: {s:?}");
    }
    let fresh = engine_with(dir.path(), &config).await;
    for position in [head + 1, head + 25, later] {
        let reference = fresh.fold_from_zero(position).await.unwrap();
        let state = fresh
            .state_view(position)
            .await
            .unwrap()
            .materialize()
            .await
            .unwrap();
        assert_eq!(
            state.digest(),
            reference.digest(),
            "after the history, at {position}"
        );
    }

    // The index is a head and its parts (chunks 1..), each checked when it
    // is read: one byte changed in a part is refused with its number.
    let part: Vec<u8> = ledger_db
        .query_row(
            "SELECT data FROM snapshot_chunks WHERE snapshot_id = ?1 AND seq = 1",
            rusqlite::params![history.id.to_string()],
            |r| r.get(0),
        )
        .unwrap();
    assert!(part.starts_with(b"LSHK"), "chunk 1 is an index part");
    let mut changed = part.clone();
    let at = changed.len() / 2;
    changed[at] ^= 0x01;
    ledger_db
        .execute(
            "UPDATE snapshot_chunks SET data = ?2 WHERE snapshot_id = ?1 AND seq = 1",
            rusqlite::params![history.id.to_string(), changed],
        )
        .unwrap();
    let err = engine_with(dir.path(), &config)
        .await
        .state_view(head - 1)
        .await
        .err()
        .unwrap();
    let message = err.to_string();
    assert!(matches!(err, EngineError::BadSnapshot { .. }), "{message}");
    assert!(
        message.contains("index part 0 does not match its checksum"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_takes_entries_up_to_a_history_from_it_unless_a_hole_was_filled_since() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = EngineConfig::new("test");
    config.snapshot_every = 50;
    config.snapshot_delta_every = 20;
    let engine = engine_with(dir.path(), &config).await;
    let job = JobControl::default();
    let spec = mixed(250, 51);
    engine.emit_bulk(&spec, &job).await.unwrap();
    let ledger_db = rusqlite::Connection::open(dir.path().join("ledger.sqlite3")).unwrap();
    let bad = engine.stores().ledger.head().await.unwrap() + 1;
    append_raw(
        &ledger_db,
        "00000000-0000-4000-8000-0000000000d1",
        "LoyaltyPointsAwarded",
        "2026-01-01T00:00:00Z",
        "{}",
    );
    // A row one position past the next: the position between is a hole.
    let hole = bad + 1;
    ledger_db
        .execute(
            "INSERT INTO events(position, event_id, aggregate_id, aggregate_type, version, event_type,
             schema_version, recorded_at, payload, metadata)
             VALUES (?1, '00000000-0000-4000-8000-0000000000d2', '00000000-0000-4000-8000-0000000000d2',
             'booking', 1, 'LoyaltyPointsAwarded', 1, '2026-01-01T00:00:00Z', '{}', NULL)",
            rusqlite::params![(hole + 1) as i64],
        )
        .unwrap();
    let head = engine.stores().ledger.head().await.unwrap();
    assert_eq!(head, hole + 1);
    let taken = engine.take_due_snapshots().await.unwrap();
    assert!(
        taken[0].is_history() && taken[0].position == head,
        "{taken:?}"
    );
    let options = ReplayOptions {
        from_snapshot: false,
        rebuild_foreign: false,
    };
    engine.replay(options, &job).await.unwrap();
    let report = engine.verify().await.unwrap();
    assert!(report.in_sync, "{report:?}");
    let malformed: Vec<u64> = report.malformed.iter().map(|m| m.position).collect();
    assert_eq!(malformed, [bad, hole + 1], "from the history's record");
    assert_eq!(
        report
            .holes
            .iter()
            .map(|h| (h.from, h.to))
            .collect::<Vec<_>>(),
        [(hole, hole)]
    );

    // Another writer fills the hole after the pass: the record no longer
    // stands, and every entry is read again.
    ledger_db
        .execute(
            "INSERT INTO events(position, event_id, aggregate_id, aggregate_type, version, event_type,
             schema_version, recorded_at, payload, metadata)
             VALUES (?1, '00000000-0000-4000-8000-0000000000d3', '00000000-0000-4000-8000-0000000000d3',
             'booking', 1, 'BookingCancelled', 1, '2026-01-01T00:00:00Z', '{not json', NULL)",
            rusqlite::params![hole as i64],
        )
        .unwrap();
    let report = engine.verify().await.unwrap();
    let malformed: Vec<u64> = report.malformed.iter().map(|m| m.position).collect();
    assert_eq!(malformed, [bad, hole, hole + 1], "the late entry is read");
    assert!(report.holes.is_empty(), "{:?}", report.holes);
}

/// A view and a state at `position` read whole from a running history
/// pass (no event folded), equal to the fold from zero, with the entry at
/// `bad` skipped.
async fn read_from_the_pass(
    engine: &Engine,
    position: u64,
    view: ledgerscope::engine::view::StateView,
    state: ledgerscope::engine::timetravel::StateAt,
    bad: u64,
) {
    use ledgerscope::engine::timetravel::FoldBase;
    let reference = engine.fold_from_zero(position).await.unwrap();
    assert_eq!(
        (view.from.clone(), view.folded_events),
        (FoldBase::Pass { position }, 0),
        "at {position}"
    );
    assert_eq!(
        view.materialize().await.unwrap(),
        reference,
        "at {position}"
    );
    assert_eq!(
        view.booking_rows(10..20).await.unwrap(),
        bookings_10_to_20(&reference),
        "at {position}"
    );
    assert_eq!(
        view.skipped.iter().map(|s| s.position).collect::<Vec<_>>(),
        [bad],
        "at {position}"
    );
    assert_eq!(*state.state, reference, "at {position}");
    assert_eq!(state.folded_events, 0, "at {position}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_travel_during_a_history_pass_reads_what_the_pass_has_folded() {
    use ledgerscope::engine::timetravel::FoldBase;
    let dir = tempfile::tempdir().unwrap();
    let mut config = EngineConfig::new("test");
    config.snapshot_every = 1000; // a far view: past 2,000 events
    let engine = engine_with(dir.path(), &config).await;
    let job = JobControl::default();
    engine.emit_bulk(&mixed(100, 51), &job).await.unwrap();
    let ledger_db = rusqlite::Connection::open(dir.path().join("ledger.sqlite3")).unwrap();
    let bad = engine.stores().ledger.head().await.unwrap() + 1;
    append_raw(
        &ledger_db,
        "00000000-0000-4000-8000-0000000000d1",
        "BookingCancelled",
        "2026-01-01T00:00:00Z",
        "{not json",
    );
    engine.emit_bulk(&mixed(6_600, 52), &job).await.unwrap();
    let head = engine.stores().ledger.head().await.unwrap();
    // More than one page of the pass's reading (5,000 entries).
    assert!(head > 6_000, "{head}");

    // The pass stops after its first page of entries until the test lets it go.
    let (reached_tx, reached_rx) = std::sync::mpsc::channel();
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let waits = std::sync::Mutex::new((reached_tx, go_rx));
    let paused = JobControl::new(move |p| {
        if p.phase == Phase::Reading && p.done < p.total {
            let waits = waits.lock().unwrap();
            let _ = waits.0.send(p.done);
            let _ = waits.1.recv(); // returns at once once the test dropped go_tx
        }
    });
    let pass = tokio::spawn({
        let engine = engine.clone();
        async move { engine.take_history_snapshot(&paused).await }
    });
    let done = tokio::task::spawn_blocking(move || reached_rx.recv().unwrap())
        .await
        .unwrap();
    assert!(done > 2_500 && done + 700 < head, "{done}");

    // Past the pass's progress a query waits for the pass to fold it
    // instead of folding the ledger a second time beside it.
    let later: Vec<_> = [done + 700, head]
        .into_iter()
        .map(|position| {
            let engine = engine.clone();
            let view = tokio::spawn({
                let engine = engine.clone();
                async move { engine.state_view(position).await }
            });
            let state = tokio::spawn(async move { engine.state_at(position).await });
            (position, view, state)
        })
        .collect();
    // Up to its progress a query reads what it has folded, at once.
    for position in [2_500, done] {
        let view = engine.state_view(position).await.unwrap();
        let state = engine.state_at(position).await.unwrap();
        read_from_the_pass(&engine, position, view, state, bad).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    for (position, view, state) in &later {
        assert!(
            !view.is_finished() && !state.is_finished(),
            "at {position}: the query waits while the pass is held"
        );
    }

    drop(go_tx);
    for (position, view, state) in later {
        let (view, state) = (view.await.unwrap().unwrap(), state.await.unwrap().unwrap());
        read_from_the_pass(&engine, position, view, state, bad).await;
    }
    let history = pass.await.unwrap().unwrap().unwrap();
    assert!(history.is_history() && history.position == head);
    // Once the pass has ended, positions come from its snapshot.
    let view = engine.state_view(done + 700).await.unwrap();
    assert!(
        matches!(view.from, FoldBase::History { .. }),
        "{:?}",
        view.from
    );
    assert_eq!(
        view.materialize().await.unwrap(),
        engine.fold_from_zero(done + 700).await.unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshots_grow_linearly_a_new_history_retires_what_the_one_before_replaced() {
    use ledgerscope::engine::EngineNotice;
    let dir = tempfile::tempdir().unwrap();
    let config = interval_config(50, 10);
    let engine = engine_with(dir.path(), &config).await;
    let mut notices = engine.bus().subscribe_notices();
    let job = JobControl::default();
    // The app: the snapshots due after every ten commands, up to 500 events.
    let (mut head, mut seed, mut old_view) = (0, 70, None);
    while head < 500 {
        let spec = mixed(10, seed);
        seed += 1;
        engine.emit_bulk(&spec, &job).await.unwrap();
        engine.take_due_snapshots().await.unwrap();
        head = engine.stores().ledger.head().await.unwrap();
        let list = engine.list_snapshots().await.unwrap();
        if old_view.is_none() && list.iter().any(|s| s.is_history()) && head >= 230 {
            // A view opened on the first history generation, read from later.
            let view = engine.state_view(head - 5).await.unwrap();
            view.booking_rows(0..5).await.unwrap();
            old_view = Some(view);
        }
    }

    // Full snapshots until the ledger is four intervals long; from then on
    // history snapshots two intervals apart with deltas between, and only
    // the newest two histories kept, with the deltas after the older one.
    let list = engine.list_snapshots().await.unwrap();
    let histories: Vec<_> = list.iter().filter(|s| s.is_history()).collect();
    assert_eq!(histories.len(), 2, "{list:#?}");
    let (older, newest) = (histories[0], histories[1]);
    assert!(
        newest.position + 100 > head,
        "{} at head {head}",
        newest.position
    );
    assert!(
        (100..120).contains(&(newest.position - older.position)),
        "two intervals apart: {older:?} {newest:?}"
    );
    assert!(
        !list.iter().any(|s| s.is_full()),
        "no full snapshot is left: {list:#?}"
    );
    for s in list.iter().filter(|s| !s.is_base()) {
        assert!(s.position > older.position, "{s:?}");
        assert!(
            s.base == Some(older.id) || s.base == Some(newest.id),
            "deltas of the two histories only: {s:?}"
        );
    }
    let deleted: Vec<Uuid> = std::iter::from_fn(|| notices.try_recv().ok())
        .filter_map(|n| match n {
            EngineNotice::SnapshotsRetired(ids) => Some(ids),
            _ => None,
        })
        .flatten()
        .collect();
    assert!(
        deleted.len() > 10,
        "the retired snapshots are announced: {deleted:?}"
    );
    assert!(deleted.iter().all(|id| !list.iter().any(|s| s.id == *id)));
    let stored: i64 = rusqlite::Connection::open(dir.path().join("ledger.sqlite3"))
        .unwrap()
        .query_row(
            "SELECT COUNT(DISTINCT snapshot_id) FROM snapshot_chunks",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        stored as usize,
        list.len(),
        "a deleted snapshot leaves no chunk"
    );

    // Every position still reads the fold, with at most one delta interval
    // of events folded.
    let fresh = engine_with(dir.path(), &config).await;
    for position in (1..=head)
        .step_by(23)
        .chain([older.position, newest.position, head])
    {
        let reference = fresh.fold_from_zero(position).await.unwrap();
        let view = fresh.state_view(position).await.unwrap();
        assert!(view.folded_events <= 10, "at {position}: {:?}", view.from);
        assert_eq!(
            view.materialize().await.unwrap().digest(),
            reference.digest(),
            "at {position}"
        );
    }

    // A view opened on a retired generation says so when it reads a page
    // it had not read.
    let old_view = old_view.expect("a view on the first history");
    let err = old_view.booking_rows(100..110).await.err();
    let message = err.map(|e| e.to_string()).unwrap_or_default();
    assert!(
        message.contains("deleted since the view was opened"),
        "{message}"
    );
}
