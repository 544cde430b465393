//! A ledger the app has never seen: no snapshots. Built fresh every run (the
//! same events as the main ledger), then, side by side in one run:
//!
//! * `cold_fold`: a full fold from zero, and a replay from zero whose fold
//!   time is the reference of the pass (best of the rounds).
//! * `cold_first_query`: the first time-travel query at the head on a fresh
//!   engine that has no snapshot (the view and the first screen of rows), as
//!   a ratio of the full fold (best of the rounds, each on a fresh engine).
//! * `cold_snapshots`: the automatic snapshots due on the cold ledger (one
//!   history pass), as a ratio of the replay's fold.
//! * `snapshot_storage`: the bytes of every snapshot left over the bytes of
//!   the events (the ledger's rows read raw).
//! * `cold_warm_query`: after the pass, random positions on fresh engines
//!   (the second touch timed, the first reported), as a ratio of the full
//!   fold. Every result (its counts and first screen) is checked against a
//!   reference fold from zero carried forward, and at every tenth position
//!   the state is materialized whole (on another fresh engine) and
//!   compared. The checks run after the last query is timed: run between
//!   queries, the reference's growing state and the whole states freed
//!   hundreds of MB that the allocator handed back to the kernel a second
//!   later, and the next queries faulted those pages in again (45-67 ms
//!   instead of 16-25 ms, a few in every run).
//! * `snapshot_storage_grown`: the ledger grows by five more intervals with
//!   the snapshots due after every delta interval taken (pieces, their
//!   tiers and the histories merged from them, each retiring what the
//!   history before it replaced); storage again, and
//!   states before, inside and at the end of the new range checked.

use std::time::Instant;

use anyhow::bail;
use serde_json::json;

use super::Record;
use super::data::{EventGen, StorePair, append_generated, subdir};
use super::record::{median, quantile};
use super::timetravel::SCREEN_ROWS;
use ledgerscope::domain::ReadState;
use ledgerscope::domain::generate::DemoRng;
use ledgerscope::engine::snapshot::HISTORY_AGAIN;
use ledgerscope::engine::timetravel::FoldBase;
use ledgerscope::engine::{Engine, EngineConfig, JobControl, ReplayOptions};
use ledgerscope::store::SnapshotMeta;
use ledgerscope::store::Stores;

/// The app's engine on these stores: automatic snapshots every
/// `snapshot_every` (deltas every tenth), the history pass on.
pub(super) fn app_engine(stores: &Stores, snapshot_every: u64) -> std::sync::Arc<Engine> {
    let mut config = EngineConfig::new("bench");
    config.snapshot_every = snapshot_every;
    config.snapshot_delta_every = snapshot_every / 10;
    config.history_pass = true;
    Engine::new(stores.clone(), config)
}

fn screen_of(
    state: &ReadState,
) -> (
    Vec<ledgerscope::domain::UserRow>,
    Vec<ledgerscope::domain::BookingRow>,
) {
    (
        state.users.values().take(SCREEN_ROWS).cloned().collect(),
        state.bookings.values().take(SCREEN_ROWS).cloned().collect(),
    )
}

/// Builds the cold ledger in `root` and measures; emits records.
pub async fn run(
    pair: &StorePair,
    root: &std::path::Path,
    n: u64,
    queries: usize,
    rounds: usize,
    snapshot_every: u64,
) -> anyhow::Result<()> {
    let label = &pair.label;
    let name = format!("{}-cold-{n}", pair.short());
    // Fresh every run: the measurement leaves snapshots in it.
    let _ = std::fs::remove_dir_all(root.join(&name));
    let dir = subdir(root, &name)?;
    let stores = pair.open(&dir, "cold").await?;
    super::progress(format!("cold[{label}]: building a ledger of {n} events"));
    let mut generator = EventGen::new(42, n);
    append_generated(stores.ledger.as_ref(), &mut generator, n).await?;
    let head = stores.ledger.head().await?;

    // References: a full fold, and replays from zero (their fold phase).
    let plain = app_engine(&stores, 0);
    let mut folds = Vec::new();
    let mut replay_folds = Vec::new();
    let mut reference = ReadState::default();
    for round in 0..rounds.max(1) {
        super::progress(format!(
            "cold[{label}]: fold and replay, round {}",
            round + 1
        ));
        let started = Instant::now();
        reference = plain.fold_from_zero(head).await?;
        folds.push(started.elapsed().as_secs_f64());
        let report = plain
            .replay(
                ReplayOptions {
                    from_snapshot: false,
                    rebuild_foreign: true,
                },
                &JobControl::default(),
            )
            .await?;
        replay_folds.push(report.fold_ms as f64 / 1e3);
    }
    let fold_secs = folds.iter().copied().fold(f64::INFINITY, f64::min);
    let replay_fold = replay_folds.iter().copied().fold(f64::INFINITY, f64::min);
    Record::new("cold_fold", label, head, fold_secs)
        .details(json!({"fold_seconds": folds, "replay_fold_seconds": replay_folds}))
        .emit();
    if !plain.list_snapshots().await?.is_empty() {
        bail!("the cold ledger has snapshots before the pass");
    }

    // The first query on the cold ledger, before any snapshot: each round on
    // a fresh engine (still no snapshot), the best kept as for the folds.
    let (want_users, want_bookings) = screen_of(&reference);
    let (mut firsts, mut first_folds_ms) = (Vec::new(), Vec::new());
    for _ in 0..rounds.max(1) {
        let first = app_engine(&stores, snapshot_every);
        let started = Instant::now();
        let view = first.state_view(head).await?;
        let users = view.user_rows(0..SCREEN_ROWS).await?;
        let bookings = view.booking_rows(0..SCREEN_ROWS).await?;
        firsts.push(started.elapsed().as_secs_f64());
        first_folds_ms.push(view.fold_us as f64 / 1e3);
        if users != want_users || bookings != want_bookings || *view.counts() != reference.counts()
        {
            bail!("the first query at the head shows other rows or counts than the fold");
        }
    }
    let first_secs = firsts.iter().copied().fold(f64::INFINITY, f64::min);
    let ratio = first_secs / fold_secs;
    Record::new("cold_first_query", label, 1, first_secs)
        .ratio(
            ratio,
            "first time-travel query at the head (view + first screen)/full fold",
        )
        .target("<= 1.2 of a full fold", ratio <= 1.2)
        .details(json!({"all_seconds": firsts, "fold_ms": first_folds_ms}))
        .emit();

    // The pass.
    super::progress(format!("cold[{label}]: the automatic snapshots (one pass)"));
    let engine = app_engine(&stores, snapshot_every);
    let started = Instant::now();
    let taken = engine.take_due_snapshots().await?;
    let pass_secs = started.elapsed().as_secs_f64();
    let ratio = pass_secs / replay_fold;
    Record::new("cold_snapshots", label, head, pass_secs)
        .ratio(ratio, "the automatic snapshots of a cold ledger/the replay's fold")
        .target("<= 1.5 of the replay's fold", ratio <= 1.5)
        .details(json!({
            "taken": taken.len(),
            "kinds": taken.iter().map(|s| if s.is_history() { "history" } else if s.is_full() { "full" } else { "delta" }).collect::<Vec<_>>(),
            "bytes": taken.iter().map(|s| s.size_bytes).sum::<u64>(),
        }))
        .emit();

    // Storage: every snapshot over the events' own bytes.
    let snapshots = engine.list_snapshots().await?;
    let snapshot_bytes: u64 = snapshots.iter().map(|s| s.size_bytes).sum();
    let (_, event_bytes, _) = super::replay::read_raw_ledger(&stores).await?;
    let ratio = snapshot_bytes as f64 / event_bytes.max(1) as f64;
    Record::new("snapshot_storage", label, head, 0.0)
        .ratio(ratio, "bytes of all snapshots/bytes of the events")
        .target("<= 1.0", ratio <= 1.0)
        .details(json!({
            "snapshots": snapshots.len(),
            "snapshot_bytes": snapshot_bytes,
            "event_bytes": event_bytes,
        }))
        .emit();

    // Warm queries after the pass, each on fresh engines, every one checked.
    let mut rng = DemoRng::new(2025);
    let mut positions: Vec<u64> = (0..queries).map(|_| 1 + rng.below(head.max(1))).collect();
    positions.sort_unstable();
    let (mut ratios, mut first_touch, mut from_history) = (Vec::new(), Vec::new(), 0usize);
    let mut slowest: Vec<(f64, u64)> = Vec::new();
    let mut shown = Vec::with_capacity(positions.len());
    for &p in &positions {
        let touch = app_engine(&stores, 0);
        let started = Instant::now();
        let view = touch.state_view(p).await?;
        view.user_rows(0..SCREEN_ROWS).await?;
        view.booking_rows(0..SCREEN_ROWS).await?;
        first_touch.push(started.elapsed().as_secs_f64());
        drop((view, touch));
        let fresh = app_engine(&stores, 0);
        let started = Instant::now();
        let view = fresh.state_view(p).await?;
        let users = view.user_rows(0..SCREEN_ROWS).await?;
        let bookings = view.booking_rows(0..SCREEN_ROWS).await?;
        let secs = started.elapsed().as_secs_f64();
        ratios.push(secs / fold_secs);
        slowest.push((secs * 1e3, p));
        if matches!(view.from, FoldBase::History { .. }) {
            from_history += 1;
        }
        shown.push((users, bookings, view.counts().clone()));
    }
    super::progress(format!(
        "cold[{label}]: checking the {} queries against a fold from zero",
        positions.len()
    ));
    let mut carried = ReadState::default();
    for (i, (&p, (users, bookings, counts))) in positions.iter().zip(shown).enumerate() {
        carried = plain
            .fold_until(carried, p, &JobControl::default())
            .await?
            .state;
        let (want_users, want_bookings) = screen_of(&carried);
        if users != want_users || bookings != want_bookings || counts != carried.counts() {
            bail!("the view at {p} shows other rows or counts than the fold of events 1..={p}");
        }
        let whole = || async {
            app_engine(&stores, 0)
                .state_view(p)
                .await?
                .materialize()
                .await
        };
        if i % 10 == 0 && whole().await? != carried {
            bail!("the state at {p} differs from the fold of events 1..={p}");
        }
    }
    slowest.sort_by(|a, b| b.0.total_cmp(&a.0));
    slowest.truncate(5);
    let p99 = quantile(&ratios, 0.99);
    Record::new(
        "cold_warm_query",
        label,
        positions.len() as u64,
        ratios.iter().sum::<f64>() * fold_secs,
    )
    .ratio(
        p99,
        "p99 of (state view + first screen)/full fold, after the pass",
    )
    .target("p99 <= 0.02 of a full fold", p99 <= 0.02)
    .details(json!({
        "median_ratio": median(&ratios),
        "median_ms": median(&ratios) * fold_secs * 1e3,
        "from_history": from_history,
        "first_touch_p99_ms": quantile(&first_touch, 0.99) * 1e3,
        "slowest_ms_at": slowest,
        "checked": positions.len(),
    }))
    .emit();

    // The ledger grows on: the snapshots the app takes after every delta
    // interval of new events, then storage again, and positions before,
    // inside and at the end of the new range checked against the fold.
    // Below four intervals there was no pass to renew (and five intervals
    // of appends would take FerretDB most of an hour).
    if !taken.iter().any(SnapshotMeta::is_history) {
        super::progress(format!(
            "cold[{label}]: no history pass at {n} events (it starts at four intervals): the growth is not measured"
        ));
        return Ok(());
    }
    let grow = snapshot_every * (2 * HISTORY_AGAIN + 1);
    let step = (snapshot_every / 10).max(1);
    super::progress(format!(
        "cold[{label}]: {grow} more events, the snapshots due every {step}"
    ));
    let mut snapshot_secs = 0.0;
    for _ in 0..grow / step {
        append_generated(stores.ledger.as_ref(), &mut generator, step).await?;
        let started = Instant::now();
        engine.take_due_snapshots().await?;
        snapshot_secs += started.elapsed().as_secs_f64();
    }
    let grown_head = stores.ledger.head().await?;
    let snapshots = engine.list_snapshots().await?;
    let snapshot_bytes: u64 = snapshots.iter().map(|s| s.size_bytes).sum();
    let (_, event_bytes, _) = super::replay::read_raw_ledger(&stores).await?;
    let ratio = snapshot_bytes as f64 / event_bytes.max(1) as f64;
    let kinds = |keep: fn(&&SnapshotMeta) -> bool| snapshots.iter().filter(keep).count();
    Record::new("snapshot_storage_grown", label, grown_head, snapshot_secs)
        .ratio(
            ratio,
            "bytes of all snapshots/bytes of the events, after growing by five intervals",
        )
        .target("<= 1.0", ratio <= 1.0)
        .details(json!({
            "grown_by": grow,
            "snapshot_seconds": snapshot_secs,
            "snapshots": snapshots.len(),
            "histories": kinds(|s| s.is_history()),
            "fulls": kinds(|s| s.is_full()),
            "deltas": kinds(|s| !s.is_base()),
            "snapshot_bytes": snapshot_bytes,
            "event_bytes": event_bytes,
        }))
        .emit();
    let fresh = app_engine(&stores, 0);
    for p in [head, head + grow / 2 + 7, grown_head] {
        carried = plain
            .fold_until(carried, p, &JobControl::default())
            .await?
            .state;
        if fresh.state_view(p).await?.materialize().await? != carried {
            bail!("after growing, the state at {p} differs from the fold of events 1..={p}");
        }
    }
    Ok(())
}
