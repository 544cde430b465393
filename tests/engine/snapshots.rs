//! Snapshots (full, delta, restored, automatic) and the folds that read them: views, series, what if.

use super::*;

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
