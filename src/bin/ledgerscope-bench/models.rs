//! Read models users write: the re-expressed `bookings` model
//! (`examples/models/bookings.sql`) built from the whole main ledger, beside
//! the built-in fold of the same ledger in the same run; then the model's
//! time travel (its rows at random positions: the count and the first
//! screen), each on a freshly opened model file, against the build. The
//! model's rows at the head are checked against the fold's bookings.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, bail};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::Record;
use super::record::{median, quantile};
use ledgerscope::domain::generate::DemoRng;
use ledgerscope::engine::models::{ModelReader, model_path};
use ledgerscope::store::Stores;

/// The model measured, and the file it comes from.
const MODEL: &str = "bookings";
const SOURCE: &str = include_str!("../../../examples/models/bookings.sql");
/// Rows read per time-travel query (one screen).
const SCREEN: usize = 40;

/// Measures the build and `queries` time-travel reads; emits two records.
pub async fn run(
    stores: &Stores,
    label: &str,
    dir: &Path,
    queries: usize,
    snapshot_every: u64,
) -> anyhow::Result<()> {
    let engine = super::data::engine(stores.clone(), snapshot_every);
    let head = stores.ledger.head().await?;
    super::progress(format!("models[{label}]: a full fold of {head} events"));
    let started = Instant::now();
    let state = engine.fold_from_zero(head).await?;
    let fold_secs = started.elapsed().as_secs_f64();

    if engine.models().await?.iter().any(|m| m.name == MODEL) {
        engine.remove_model(MODEL, dir).await?;
    }
    engine.add_model(SOURCE).await?;
    super::progress(format!(
        "models[{label}]: building '{MODEL}' from {head} events"
    ));
    let started = Instant::now();
    let report = engine
        .build_model(MODEL, dir, &CancellationToken::new(), &mut |_| {})
        .await?;
    let build_secs = started.elapsed().as_secs_f64();
    let path = model_path(dir, MODEL);
    let expected = state.bookings.len() as u64;
    let reader = {
        let path = path.clone();
        tokio::task::spawn_blocking(move || ModelReader::open(&path, MODEL)).await??
    };
    let built = reader.count_at(MODEL, head)?;
    if built != expected || report.position != head {
        bail!(
            "the model has {built} bookings at {}; the fold {expected} at {head}",
            report.position
        );
    }
    Record::new("models_build", label, head, build_secs)
        .ratio(
            build_secs / fold_secs,
            "building the bookings model / the built-in fold",
        )
        .target("<= 5", build_secs / fold_secs <= 5.0)
        .details(json!({
            "ledger_events": head,
            "build_seconds": build_secs,
            "fold_seconds": fold_secs,
            "rows": built,
            "errors": report.errors,
        }))
        .emit();

    let mut rng = DemoRng::new(91);
    let mut times = Vec::with_capacity(queries);
    for _ in 0..queries.max(1) {
        let at = 1 + rng.below(head.max(1));
        let path = path.clone();
        let secs = tokio::task::spawn_blocking(move || -> anyhow::Result<f64> {
            let started = Instant::now();
            let reader = ModelReader::open(&path, MODEL)?;
            let count = reader.count_at(MODEL, at)?;
            let screen = reader.rows_at(MODEL, at, Some(SCREEN))?;
            let secs = started.elapsed().as_secs_f64();
            if (screen.len() as u64) != count.min(SCREEN as u64) {
                bail!(
                    "{} rows on the first screen at {at}, {count} in all",
                    screen.len()
                );
            }
            Ok(secs)
        })
        .await
        .context("a time-travel query on the model")??;
        times.push(secs);
    }
    let p99 = quantile(&times, 0.99);
    Record::new(
        "models_timetravel",
        label,
        times.len() as u64,
        times.iter().sum(),
    )
    .ratio(
        p99 / build_secs,
        "p99 of the model's rows at a position / its build",
    )
    .target("p99 <= 0.05", p99 / build_secs <= 0.05)
    .details(json!({
        "median_seconds": median(&times),
        "p99_seconds": p99,
        "build_seconds": build_secs,
        "screen_rows": SCREEN,
        "engine": "the model's file opened afresh per query",
    }))
    .emit();
    Ok(())
}
