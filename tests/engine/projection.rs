//! Projection: outages and catch-up, the projectors' lease, replay, verify, malformed rows.

use super::*;

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

/// A projector that keeps projecting renews its lease when a third of its
/// time has passed, not on every round (each renewal was a commit of the
/// ledger for every command), and its record in the ledger store, written
/// at most once a second while it is busy, reaches the head once it idles.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_projector_writes_its_lease_and_ledger_checkpoint_sparingly() {
    use ledgerscope::engine::projector::projector_lease_name;
    use std::time::Duration;
    let dir = tempfile::tempdir().unwrap();
    let mut config = EngineConfig::new("test");
    config.snapshot_every = 0;
    config.projector_lease_ttl = Duration::from_secs(300);
    let engine = engine_with(dir.path(), &config).await;
    let shutdown = tokio_util::sync::CancellationToken::new();
    let tasks = engine.spawn_projectors(shutdown.clone());
    let mut rng = DemoRng::new(31);
    let caught_up = |head: u64| {
        let engine = engine.clone();
        async move {
            let started = std::time::Instant::now();
            while !engine
                .projector_statuses()
                .iter()
                .all(|s| s.checkpoint == head)
            {
                assert!(started.elapsed() < Duration::from_secs(30), "not caught up");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    };
    let renewals = || {
        let engine = engine.clone();
        async move {
            let mut renewed = Vec::new();
            for p in ProjectorId::ALL {
                let lease = engine
                    .stores()
                    .locks
                    .last_lease(&projector_lease_name(p))
                    .await
                    .unwrap()
                    .expect("the projector holds its lease");
                renewed.push((lease.fencing, lease.renewed_at));
            }
            renewed
        }
    };
    engine
        .submit_booking_wizard(wizard(&mut rng))
        .await
        .unwrap();
    caught_up(1).await;
    let first = renewals().await;
    for head in 2..=6 {
        engine
            .submit_booking_wizard(wizard(&mut rng))
            .await
            .unwrap();
        caught_up(head).await;
    }
    // Idle rounds come every half second.
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    assert_eq!(renewals().await, first, "the leases were written again");
    let started = std::time::Instant::now();
    loop {
        let status = engine.status().await.unwrap();
        if status
            .projectors
            .iter()
            .all(|p| p.ledger_checkpoint == Some(6))
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the ledger store's checkpoints stay behind: {:?}",
            status.projectors
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    shutdown.cancel();
    for task in tasks {
        task.await.unwrap();
    }
}
