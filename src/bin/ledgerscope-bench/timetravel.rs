//! Time travel: the state at random positions against a full fold from zero,
//! over a ledger with automatic snapshots.
//!
//! What is timed is what the time-travel panel waits for: `state_view(p)`
//! (the nearest snapshot's index plus the events after it, folded into an
//! overlay) and the first screen of rows of both tables (read from the
//! snapshot's pages). Then, untimed, the view is materialized whole and
//! compared with a reference fold, so every result is checked row by row;
//! the time of that materialization is reported too.
//!
//! Honesty: every query runs on a FRESH [`Engine`] over the same opened
//! stores, so no snapshot index or page is cached in the process: each query
//! lists the snapshots, reads and checks the nearest index, folds the events
//! after it and reads the pages it shows. Each position is queried twice:
//! the first touch (its bytes may have to come from disk: this VM's kernel
//! pages out file pages idle for a minute) is reported apart, and the ratio
//! is taken on the second, with the OS file cache warm as it is for the
//! full fold (the median of back-to-back runs).

use std::time::Instant;

use anyhow::bail;
use serde_json::json;

use super::Record;
use super::record::{median, quantile};
use ledgerscope::domain::generate::DemoRng;
use ledgerscope::engine::timetravel::FoldBase;
use ledgerscope::store::Stores;

/// Rows of each table on the time-travel panel's first screen.
pub const SCREEN_ROWS: usize = 40;

/// How the measurement is sized.
#[derive(Clone, Copy, Debug)]
pub struct TravelSpec {
    /// Random positions to query.
    pub queries: usize,
    /// Full folds timed (the median is the reference).
    pub full_folds: usize,
    /// Automatic snapshot interval.
    pub snapshot_every: u64,
}

/// Takes the due snapshots (timed, emitted), then measures; emits records.
pub async fn run(stores: &Stores, label: &str, spec: TravelSpec) -> anyhow::Result<()> {
    let engine = super::data::engine(stores.clone(), spec.snapshot_every);
    let head = stores.ledger.head().await?;
    super::progress(format!(
        "timetravel[{label}]: automatic snapshots every {} over {head} events",
        spec.snapshot_every
    ));
    let started = Instant::now();
    let taken = engine.take_due_snapshots().await?;
    let snap_secs = started.elapsed().as_secs_f64();
    let snapshots = engine.list_snapshots().await?;
    Record::new("snapshots_take_due", label, head, snap_secs)
        .details(json!({
            "snapshot_every": spec.snapshot_every,
            "taken_now": taken.len(),
            "stored": snapshots.len(),
            "largest_bytes": snapshots.iter().map(|s| s.size_bytes).max().unwrap_or(0),
        }))
        .emit();

    let mut folds = Vec::new();
    let mut full_digest = String::new();
    for i in 0..spec.full_folds.max(1) {
        super::progress(format!(
            "timetravel[{label}]: full fold {} of {}",
            i + 1,
            spec.full_folds
        ));
        let fresh = super::data::engine(stores.clone(), spec.snapshot_every);
        let started = Instant::now();
        let state = fresh.fold_from_zero(head).await?;
        folds.push(started.elapsed().as_secs_f64());
        full_digest = state.digest();
    }
    let fold_secs = median(&folds);
    Record::new("timetravel_full_fold", label, head, fold_secs)
        .details(json!({"all_seconds": folds}))
        .emit();

    let mut rng = DemoRng::new(2024);
    let mut positions: Vec<u64> = (0..spec.queries)
        .map(|_| 1 + rng.below(head.max(1)))
        .collect();
    // Queried in ascending order so that one reference fold from zero, carried
    // forward between queries (untimed), checks EVERY result. Each query runs
    // on a fresh engine, so the order gives it nothing to reuse.
    positions.sort_unstable();
    let checker = super::data::engine(stores.clone(), spec.snapshot_every);
    let mut reference = ledgerscope::domain::ReadState::default();
    let mut ratios = Vec::with_capacity(positions.len());
    let mut times = Vec::with_capacity(positions.len());
    let mut folded_max = 0;
    let mut checked = 0;
    let mut from_snapshot = 0;
    let mut base_ms = Vec::with_capacity(positions.len());
    let mut fold_ms = Vec::with_capacity(positions.len());
    let mut materialize_ms = Vec::with_capacity(positions.len());
    // (query ms, position, index ms, fold ms), to say what the tail is made of.
    let mut slowest: Vec<(f64, u64, f64, f64)> = Vec::with_capacity(positions.len());
    let mut first_touch = Vec::with_capacity(positions.len());
    for (i, &p) in positions.iter().enumerate() {
        // First touch, timed apart: on this VM the kernel pages out file
        // pages idle for a minute (DAMON), so a snapshot not read lately
        // comes from disk. The full fold it is compared with is the median
        // of back-to-back runs (warm), so the ratio is taken on the second,
        // warm query, on another fresh engine; both are reported.
        let cold = super::data::engine(stores.clone(), spec.snapshot_every);
        let started = Instant::now();
        let view = cold.state_view(p).await?;
        view.user_rows(0..SCREEN_ROWS).await?;
        view.booking_rows(0..SCREEN_ROWS).await?;
        first_touch.push(started.elapsed().as_secs_f64());
        drop((view, cold));
        let fresh = super::data::engine(stores.clone(), spec.snapshot_every);
        let started = Instant::now();
        let view = fresh.state_view(p).await?;
        let users = view.user_rows(0..SCREEN_ROWS).await?;
        let bookings = view.booking_rows(0..SCREEN_ROWS).await?;
        let secs = started.elapsed().as_secs_f64();
        slowest.push((
            secs * 1e3,
            p,
            view.base_us as f64 / 1e3,
            view.fold_us as f64 / 1e3,
        ));
        times.push(secs);
        ratios.push(secs / fold_secs);
        folded_max = folded_max.max(view.folded_events);
        base_ms.push(view.base_us as f64 / 1e3);
        fold_ms.push(view.fold_us as f64 / 1e3);
        if matches!(view.from, FoldBase::Snapshot { .. }) {
            from_snapshot += 1;
        }
        reference = checker
            .fold_until(reference, p, &ledgerscope::engine::JobControl::default())
            .await?
            .state;
        let screen_users: Vec<_> = reference
            .users
            .values()
            .take(SCREEN_ROWS)
            .cloned()
            .collect();
        let screen_bookings: Vec<_> = reference
            .bookings
            .values()
            .take(SCREEN_ROWS)
            .cloned()
            .collect();
        if users != screen_users
            || bookings != screen_bookings
            || *view.counts() != reference.counts()
        {
            bail!("the view at {p} shows other rows or counts than the fold of events 1..={p}");
        }
        let started = Instant::now();
        let whole = view.materialize().await?;
        materialize_ms.push(started.elapsed().as_secs_f64() * 1e3);
        if whole != reference {
            bail!("the state at {p} differs from the fold of events 1..={p}");
        }
        drop(whole);
        checked += 1;
        if (i + 1) % 50 == 0 {
            super::progress(format!(
                "timetravel[{label}]: {} of {} queries (all checked)",
                i + 1,
                positions.len()
            ));
        }
    }
    // The head state must also match the full fold.
    let head_state = super::data::engine(stores.clone(), spec.snapshot_every)
        .state_view(head)
        .await?
        .materialize()
        .await?;
    if head_state.digest() != full_digest {
        bail!("the state at the head differs from the full fold");
    }
    slowest.sort_by(|a, b| b.0.total_cmp(&a.0));
    slowest.truncate(5);
    let p50 = median(&ratios);
    let p99 = quantile(&ratios, 0.99);
    Record::new(
        "timetravel_state_at",
        label,
        positions.len() as u64,
        times.iter().sum(),
    )
    .ratio(p99, "p99 of (state view + first screen)/full fold")
    .target("p99 <= 1/50 (0.02) of a full fold", p99 <= 0.02)
    .details(json!({
        "ledger_events": head,
        "median_ratio": p50,
        "p99_ratio": p99,
        "median_seconds": median(&times),
        "first_touch_median_p99_seconds": [median(&first_touch), quantile(&first_touch, 0.99)],
        "first_touch_p99_ratio": quantile(&first_touch, 0.99) / fold_secs,
        "p99_seconds": quantile(&times, 0.99),
        "full_fold_seconds": fold_secs,
        "from_snapshot": from_snapshot,
        "max_events_folded_after_base": folded_max,
        "snapshot_index_ms_median_p99": [median(&base_ms), quantile(&base_ms, 0.99)],
        "fold_ms_median_p99": [median(&fold_ms), quantile(&fold_ms, 0.99)],
        "screen_rows_per_table": SCREEN_ROWS,
        "materialize_whole_state_ms_median_p99": [median(&materialize_ms), quantile(&materialize_ms, 0.99)],
        "checked_against_fold_from_zero": checked,
        "slowest_ms_position_index_fold": slowest,
        "engine": "fresh Engine per query (no in-process caches); warm OS and SQLite caches",
    }))
    .emit();
    Ok(())
}
