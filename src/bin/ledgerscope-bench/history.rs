//! Row history: every version of 200 random rows (half users, half
//! bookings) of the main ledger, each on a fresh engine, beside a full fold
//! (what finding a row's versions without the per-aggregate index costs:
//! reading and folding the whole ledger). Every history is checked: its
//! last version must be the row in the state at the head.

use std::time::Instant;

use anyhow::bail;
use serde_json::json;

use super::Record;
use super::record::{median, quantile};
use ledgerscope::domain::generate::DemoRng;
use ledgerscope::domain::{Row, Table};
use ledgerscope::store::Stores;

/// Measures `rows` histories; emits one record.
pub async fn run(
    stores: &Stores,
    label: &str,
    rows: usize,
    snapshot_every: u64,
) -> anyhow::Result<()> {
    let engine = super::data::engine(stores.clone(), snapshot_every);
    let head = stores.ledger.head().await?;
    engine.take_due_snapshots().await?;
    super::progress(format!("history[{label}]: a full fold of {head} events"));
    let started = Instant::now();
    let state = engine.fold_from_zero(head).await?;
    let fold_secs = started.elapsed().as_secs_f64();

    let users: Vec<_> = state.users.keys().copied().collect();
    let bookings: Vec<_> = state.bookings.keys().copied().collect();
    if users.is_empty() || bookings.is_empty() {
        bail!("history: the ledger has no rows to ask about");
    }
    let mut rng = DemoRng::new(77);
    let mut times = Vec::with_capacity(rows);
    let mut versions = Vec::with_capacity(rows);
    let mut slowest: Vec<(f64, String)> = Vec::with_capacity(rows);
    for i in 0..rows.max(1) {
        let (table, key) = if i % 2 == 0 {
            (Table::Users, users[rng.below(users.len() as u64) as usize])
        } else {
            (
                Table::Bookings,
                bookings[rng.below(bookings.len() as u64) as usize],
            )
        };
        let fresh = super::data::engine(stores.clone(), snapshot_every);
        let started = Instant::now();
        let history = fresh.row_history(table, key).await?;
        let secs = started.elapsed().as_secs_f64();
        times.push(secs);
        slowest.push((secs * 1e3, format!("{table} {key}")));
        versions.push(history.versions.len() as f64);
        let expected = match table {
            Table::Users => state.users[&key].cells(),
            Table::Bookings => state.bookings[&key].cells(),
        };
        if history.current() != Some(expected.as_slice()) {
            bail!("the history of {table} {key} does not end at its row in the state at the head");
        }
    }
    slowest.sort_by(|a, b| b.0.total_cmp(&a.0));
    slowest.truncate(5);
    let p99 = quantile(&times, 0.99);
    Record::new("history", label, times.len() as u64, times.iter().sum())
        .ratio(p99 / fold_secs, "p99 of one row's history / a full fold")
        .target("p99 <= 100 ms", p99 <= 0.1)
        .details(json!({
            "ledger_events": head,
            "median_seconds": median(&times),
            "p99_seconds": p99,
            "full_fold_seconds": fold_secs,
            "versions_median_max": [median(&versions), versions.iter().copied().fold(0.0, f64::max)],
            "slowest_ms_row": slowest,
            "checked_against_the_head_state": times.len(),
            "engine": "fresh Engine per row (no in-process caches); snapshots taken",
        }))
        .emit();
    Ok(())
}
