//! The history pass over a cold ledger, time travel during it, and how snapshot storage grows.

use super::*;

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

    // New events: a chain of pieces after the history, one per delta
    // interval (and the merged tiers), no full snapshot.
    engine.emit_bulk(&mixed(90, 43), &job).await.unwrap();
    let later = engine.stores().ledger.head().await.unwrap();
    let taken = engine.take_due_snapshots().await.unwrap();
    let positions: std::collections::BTreeSet<u64> = taken.iter().map(|s| s.position).collect();
    let want: std::collections::BTreeSet<u64> =
        (head / 20 + 1..=later / 20).map(|k| k * 20).collect();
    assert_eq!(positions, want);
    assert_eq!(taken[0].base, Some(history.id), "{:?}", taken[0]);
    for (i, s) in taken.iter().enumerate() {
        assert!(!s.is_base(), "{s:?}");
        assert!(
            s.base == Some(history.id) || taken[..i].iter().any(|t| Some(t.id) == s.base),
            "a link of the chain after the history: {s:?}"
        );
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
    // history snapshots (the pass, then merges) a little over two intervals
    // apart with chains of pieces between, and only the newest two
    // histories kept, with the pieces after the older one.
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
        let of = ledgerscope::engine::timetravel::Nearest::of_delta(&list, s).map(|n| n.full.id);
        assert!(
            of == Some(older.id) || of == Some(newest.id),
            "pieces of the two histories only: {s:?}"
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
