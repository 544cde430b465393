//! Snapshot upkeep after the history pass: pieces of the new events only,
//! merged in tiers and into the next history, never a pass from zero.

use super::*;
use ledgerscope::store::SnapshotMeta;

/// Emits commands in small batches, the snapshots due taken after each,
/// until the head reaches `until`; returns what was taken.
async fn grow_to(engine: &Engine, until: u64, seed: &mut u64) -> Vec<SnapshotMeta> {
    let job = JobControl::default();
    let mut taken = Vec::new();
    while engine.stores().ledger.head().await.unwrap() < until {
        engine.emit_bulk(&mixed(3, *seed), &job).await.unwrap();
        *seed += 1;
        taken.extend(engine.take_due_snapshots().await.unwrap());
    }
    taken
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_pass_each_piece_holds_only_its_own_events_and_every_position_reads_the_fold() {
    let dir = tempfile::tempdir().unwrap();
    let config = interval_config(50, 10);
    let engine = engine_with(dir.path(), &config).await;
    let mut seed = 100;
    grow_to(&engine, 200, &mut seed).await;
    let passed = engine.list_snapshots().await.unwrap();
    let history = passed
        .iter()
        .find(|s| s.is_history())
        .cloned()
        .expect("the pass at four intervals");
    let start = history.position;

    // Nine delta intervals more: short of two full intervals, so no new
    // history; only pieces and their tiers.
    let taken = grow_to(&engine, start + 90, &mut seed).await;
    let head = engine.stores().ledger.head().await.unwrap();
    assert!(!taken.iter().any(SnapshotMeta::is_base), "{taken:#?}");
    let list = engine.list_snapshots().await.unwrap();
    let position_of = |id: Option<Uuid>| {
        list.iter()
            .chain(taken.iter())
            .chain([&history])
            .find(|s| Some(s.id) == id)
            .map(|s| s.position)
            .expect("the snapshot a piece is of")
    };
    // A piece of one interval is the size of that interval's changes; all
    // that was written is a few of those per interval (the tiers), where
    // deltas cumulative since the history wrote the square.
    let one: u64 = taken
        .iter()
        .filter(|s| s.position - position_of(s.base) <= 10)
        .map(|s| s.size_bytes)
        .max()
        .unwrap();
    let steps = (head - start) / 10;
    let written: u64 = taken.iter().map(|s| s.size_bytes).sum();
    assert!(
        written <= 3 * steps * one,
        "{written} bytes for {steps} intervals of at most {one}: {taken:#?}"
    );

    // Each piece's counts are those of the state at its position.
    let fresh = engine_with(dir.path(), &config).await;
    for s in &taken {
        let counts = fresh.fold_from_zero(s.position).await.unwrap().counts();
        assert_eq!(
            (s.users, s.bookings),
            (counts.users, counts.bookings),
            "{s:?}"
        );
    }
    // Every position reads the fold, from the history and its chain, with
    // at most one delta interval of events folded.
    for position in (start - 30..=head).step_by(7).chain([head]) {
        let reference = fresh.fold_from_zero(position).await.unwrap();
        let view = fresh.state_view(position).await.unwrap();
        assert!(view.folded_events <= 10, "at {position}: {:?}", view.from);
        assert_eq!(view.counts(), &reference.counts(), "counts at {position}");
        assert_eq!(
            view.materialize().await.unwrap(),
            reference,
            "at {position}"
        );
        let at = fresh.state_at(position).await.unwrap();
        assert_eq!(*at.state, reference, "state_at {position}");
    }

    // Another engine (nothing kept in memory) goes on with the same chain.
    let taken = grow_to(&fresh, head + 25, &mut seed).await;
    for s in &taken {
        let counts = fresh.fold_from_zero(s.position).await.unwrap().counts();
        assert_eq!((s.users, s.bookings), (counts.users, counts.bookings));
    }
    let head = fresh.stores().ledger.head().await.unwrap();
    let reference = fresh.fold_from_zero(head).await.unwrap();
    let last = engine_with(dir.path(), &config).await;
    assert_eq!(
        last.state_view(head)
            .await
            .unwrap()
            .materialize()
            .await
            .unwrap(),
        reference
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_history_is_merged_from_the_last_one_and_its_pieces_without_reading_events() {
    let dir = tempfile::tempdir().unwrap();
    let config = interval_config(50, 10);
    let engine = engine_with(dir.path(), &config).await;
    let mut seed = 300;
    grow_to(&engine, 200, &mut seed).await;
    let first = engine.list_snapshots().await.unwrap();
    assert!(first.iter().any(SnapshotMeta::is_history));
    // An event the pass read is changed under it: a pass from zero would
    // read it again (and skip it), a merge keeps what the pass filed.
    let kept = engine.fold_from_zero(60).await.unwrap();
    let db = rusqlite::Connection::open(dir.path().join("ledger.sqlite3")).unwrap();
    let guards: Vec<String> = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'events'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for guard in guards {
        db.execute(&format!("DROP TRIGGER \"{guard}\""), [])
            .unwrap();
    }
    db.execute(
        "UPDATE events SET payload = '{not json' WHERE position = 60",
        [],
    )
    .unwrap();
    let taken = grow_to(&engine, 330, &mut seed).await;
    let merged: Vec<&SnapshotMeta> = taken.iter().filter(|s| s.is_history()).collect();
    assert_eq!(merged.len(), 1, "{taken:#?}");
    let merged = merged[0].clone();
    let fresh = engine_with(dir.path(), &config).await;
    let at_60 = fresh.state_view(60).await.unwrap();
    assert_eq!(at_60.materialize().await.unwrap(), kept);
    assert!(at_60.skipped.is_empty(), "{:?}", at_60.skipped);

    // The merged history is the fold of the ledger as it was: the events
    // after 60 on top of the state the pass filed there.
    let reference = fresh
        .fold_until(kept, merged.position, &JobControl::default())
        .await
        .unwrap()
        .state;
    assert_eq!(fresh.load_snapshot_state(&merged).await.unwrap(), reference);
    // Past it, pieces of the new history.
    let now = fresh.stores().ledger.head().await.unwrap();
    let taken = grow_to(&fresh, now + 25, &mut seed).await;
    assert!(!taken.is_empty());
    assert!(taken.iter().all(|s| !s.is_base()), "{taken:#?}");
    let head = fresh.stores().ledger.head().await.unwrap();
    let view = fresh.state_view(head).await.unwrap();
    assert!(view.folded_events <= 10);
    let reference = fresh
        .fold_until(reference, head, &JobControl::default())
        .await
        .unwrap()
        .state;
    assert_eq!(view.materialize().await.unwrap(), reference);
}
