//! The state over time and what-if replays, each beside the fold it is
//! held to, measured side by side in one run; every result is checked
//! against a fold.

use std::path::Path;
use std::time::Instant;

use anyhow::bail;
use serde_json::json;

use super::Record;
use super::data::{EventGen, StorePair};
use super::record::{median, quantile};
use ledgerscope::domain::generate::DemoRng;
use ledgerscope::domain::{Exclusion, ReadState, SeriesBy};
use ledgerscope::engine::JobControl;
use ledgerscope::store::Stores;

/// The first series over a fresh ledger of `n` events beside a full fold of
/// it, then the series again after `n / 100` new events beside the first
/// (per event). Its own ledger in `dir`, built fresh.
pub async fn series(pair: &StorePair, dir: &Path, n: u64) -> anyhow::Result<()> {
    let stores = pair.open(dir, "series").await?;
    if stores.ledger.head().await? != 0 {
        bail!("series: {} is not empty", dir.display());
    }
    let mut generator = EventGen::new(99, n);
    for chunk in (0..n).step_by(super::data::BUILD_BATCH) {
        let take = (n - chunk).min(super::data::BUILD_BATCH as u64) as usize;
        stores
            .ledger
            .append_batch(generator.next_batch(take))
            .await?;
    }
    let job = JobControl::default();
    let mut folds = Vec::new();
    let mut state = ReadState::default();
    for _ in 0..2 {
        let fresh = super::data::engine(stores.clone(), 0);
        let started = Instant::now();
        state = fresh.fold_from_zero(n).await?;
        folds.push(started.elapsed().as_secs_f64());
    }
    let fold_secs = median(&folds);
    let engine = super::data::engine(stores.clone(), 0);
    let started = Instant::now();
    let first = engine.series(SeriesBy::Position, &job).await?;
    let first_secs = started.elapsed().as_secs_f64();
    check(&first, &state)?;
    Record::new("series_first", &pair.label, n, first_secs)
        .ratio(first_secs / fold_secs, "first series / full fold")
        .target("<= 1.5", first_secs / fold_secs <= 1.5)
        .details(json!({"full_fold_seconds": folds, "points": first.points.len()}))
        .emit();

    let more = (n / 100).max(1);
    stores
        .ledger
        .append_batch(generator.next_batch(more as usize))
        .await?;
    let started = Instant::now();
    let later = engine.series(SeriesBy::Hour, &job).await?;
    let later_secs = started.elapsed().as_secs_f64();
    let head_state = super::data::engine(stores.clone(), 0)
        .fold_from_zero(n + more)
        .await?;
    check(&later, &head_state)?;
    let per_event = (later_secs / more as f64) / (first_secs / n as f64);
    Record::new("series_after_new_events", &pair.label, more, later_secs)
        .ratio(
            per_event,
            "seconds per new event / seconds per event of the first series",
        )
        .target(
            "<= 2 (time proportional to the new events)",
            per_event <= 2.0,
        )
        .details(json!({"ledger_events": n + more, "points": later.points.len()}))
        .emit();
    Ok(())
}

fn check(series: &ledgerscope::domain::Series, state: &ReadState) -> anyhow::Result<()> {
    let counts = state.counts();
    let last = series.points.last();
    let confirmed = counts
        .bookings_by_status
        .get("confirmed")
        .copied()
        .unwrap_or(0);
    if last.map(|p| (p.position, p.users, p.bookings_confirmed))
        != Some((state.position, counts.users, confirmed))
    {
        bail!("the series' last point is not the state at the head");
    }
    Ok(())
}

/// What-ifs leaving out one random event each, on a fresh engine, beside
/// what each is held to: the real state just before that event (from the
/// nearest snapshot) folded on to the head.
pub async fn whatif(
    stores: &Stores,
    label: &str,
    queries: usize,
    snapshot_every: u64,
) -> anyhow::Result<()> {
    let engine = super::data::engine(stores.clone(), snapshot_every);
    engine.take_due_snapshots().await?;
    let head = stores.ledger.head().await?;
    let job = JobControl::default();
    let mut rng = DemoRng::new(31);
    let (mut ratios, mut times, mut baselines) = (Vec::new(), Vec::new(), Vec::new());
    let mut no_ops = 0;
    let mut worst = Vec::new();
    // Each side three times, in the order baseline, what-if, what-if,
    // baseline, baseline, what-if, keeping each side's fastest run: the
    // machine is shared (one run of either side varies by 15% here), and a
    // drift over the six runs falls on both sides alike.
    let baseline_once = |position: u64| {
        let job = &job;
        async move {
            let fresh = super::data::engine(stores.clone(), snapshot_every);
            let started = Instant::now();
            let before = fresh.state_at(position - 1).await?;
            let folded = fresh
                .fold_until(std::sync::Arc::unwrap_or_clone(before.state), head, job)
                .await?;
            anyhow::Ok((started.elapsed().as_secs_f64(), folded.state))
        }
    };
    let whatif_once = |exclusion: Exclusion| {
        let job = &job;
        async move {
            let fresh = super::data::engine(stores.clone(), snapshot_every);
            let started = Instant::now();
            let report = fresh.what_if(&exclusion, head, job).await?;
            anyhow::Ok((started.elapsed().as_secs_f64(), report))
        }
    };
    for _ in 0..queries.max(1) {
        let position = 1 + rng.below(head);
        let exclusion = Exclusion {
            positions: [position].into(),
            ..Exclusion::default()
        };
        let (mut baseline, folded) = baseline_once(position).await?;
        let (mut secs, report) = whatif_once(exclusion.clone()).await?;
        secs = secs.min(whatif_once(exclusion.clone()).await?.0);
        baseline = baseline.min(baseline_once(position).await?.0);
        baseline = baseline.min(baseline_once(position).await?.0);
        secs = secs.min(whatif_once(exclusion).await?.0);
        let real = report.real_state();
        if real != folded || report.excluded != [position] {
            bail!("the what-if without {position} does not start from the real state");
        }
        if report.difference != real.diff(&report.simulated) || report.real_counts != real.counts()
        {
            bail!("the what-if without {position} differs from the real state elsewhere");
        }
        no_ops += report.no_ops.len();
        worst.push((secs / baseline, position, secs * 1e3, baseline * 1e3));
        ratios.push(secs / baseline);
        times.push(secs);
        baselines.push(baseline);
    }
    let p99 = quantile(&ratios, 0.99);
    worst.sort_by(|a, b| b.0.total_cmp(&a.0));
    worst.truncate(3);
    Record::new("whatif", label, times.len() as u64, times.iter().sum())
        .ratio(
            p99,
            "p99 of what-if / (snapshot before the left-out event + fold to the head)",
        )
        .target("p99 <= 1.2", p99 <= 1.2)
        .details(json!({
            "ledger_events": head,
            "median_ratio": median(&ratios),
            "median_seconds": median(&times),
            "baseline_median_seconds": median(&baselines),
            "no_ops_found": no_ops,
            "worst_ratio_position_ms_baseline_ms": worst,
        }))
        .emit();
    Ok(())
}
