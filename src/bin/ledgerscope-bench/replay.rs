//! Replay against its two baselines, on the same ledger in the same run.
//!
//! * `replay`: [`Engine::replay`] from zero (read pages, fold with the pure
//!   projections, bulk-load fresh tables, swap).
//! * `replay_naive`: the design note's algorithm done one event at a time on
//!   a prefix: for every event, for every projector, one
//!   [`ledgerscope::store::ReadStore::apply`] call with that event's row changes
//!   (one transaction each: a conditional upsert per row, i.e. the lookup and
//!   the INSERT, plus the projector's position), then the projector's
//!   checkpoint written to the ledger's `checkpoints`, as the note's step 4
//!   does after every event. Events are read in pages of [`FOLD_PAGE`], as
//!   replay reads them, so only the projection side is naive.
//! * `verify`: [`Engine::verify`] of the replayed tables, as a ratio of
//!   the replay.
//! * `replay_floor`: what no replay can beat: reading the same pages of the
//!   ledger as raw bytes (no JSON or BSON decoding) plus one bulk load
//!   ([`ledgerscope::store::ReadStore::replace_all`]) of the precomputed final
//!   rows, with no projection logic.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use serde_json::json;

use super::Record;
use ledgerscope::domain::{ProjectorId, ReadState};
use ledgerscope::engine::timetravel::FOLD_PAGE;
use ledgerscope::engine::{Engine, ReplayReport};
use ledgerscope::store::{BulkControl, Checkpoint, entry_position};

/// Events of the naive baseline's prefix.
pub const NAIVE_PREFIX: u64 = 20_000;

async fn time_replay(engine: &Engine) -> anyhow::Result<(f64, ReplayReport)> {
    let started = Instant::now();
    let report = engine
        .replay(
            ledgerscope::engine::ReplayOptions {
                from_snapshot: false,
                rebuild_foreign: true,
            },
            &ledgerscope::engine::JobControl::default(),
        )
        .await?;
    Ok((started.elapsed().as_secs_f64(), report))
}

/// The ledger's id (the read tables are stamped with it).
async fn ledger_id(engine: &Engine) -> anyhow::Result<uuid::Uuid> {
    engine
        .ledger_identity()
        .await?
        .map(|i| i.id)
        .context("the benchmark ledger has no identity")
}

/// Reads every ledger row as raw bytes (no decoding), in the replay's pages:
/// (rows, bytes, the last position).
pub async fn read_raw_ledger(
    stores: &ledgerscope::store::Stores,
) -> anyhow::Result<(u64, u64, u64)> {
    let (mut position, mut rows, mut bytes) = (0, 0u64, 0u64);
    loop {
        let page = stores
            .ledger
            .read_raw_range(position + 1, FOLD_PAGE)
            .await?;
        let Some(last) = page.last() else { break };
        position = last.position;
        rows += page.len() as u64;
        bytes += page.iter().map(|row| row.bytes.len() as u64).sum::<u64>();
    }
    Ok((rows, bytes, position))
}

/// Seconds: (total, of which reading the ledger), and the bytes read.
async fn time_floor(
    engine: &Engine,
    final_state: &Arc<ReadState>,
) -> anyhow::Result<(f64, f64, u64)> {
    let stores = engine.stores();
    let started = Instant::now();
    let (read, bytes, position) = read_raw_ledger(stores).await?;
    let read_secs = started.elapsed().as_secs_f64();
    stores
        .read
        .replace_all(
            ledger_id(engine).await?,
            engine.config().model_versions,
            final_state.clone(),
            BulkControl::none(),
        )
        .await?;
    let secs = started.elapsed().as_secs_f64();
    if position != final_state.position {
        bail!(
            "floor read {read} events up to {position}, expected {}",
            final_state.position
        );
    }
    Ok((secs, read_secs, bytes))
}

async fn time_naive(engine: &Engine, prefix: u64) -> anyhow::Result<f64> {
    let stores = engine.stores();
    // Step 1 of the note: empty the tables (not timed).
    let ledger = ledger_id(engine).await?;
    stores
        .read
        .replace_all(
            ledger,
            engine.config().model_versions,
            Arc::new(ReadState::default()),
            BulkControl::none(),
        )
        .await?;
    let started = Instant::now();
    let mut position = 0;
    while position < prefix {
        let want = ((prefix - position) as usize).min(FOLD_PAGE);
        let page = stores.ledger.read_range(position + 1, want).await?;
        if page.is_empty() {
            break;
        }
        for entry in page {
            position = entry_position(&entry);
            let Ok(event) = entry else { continue };
            let Ok(domain) = event.decode() else { continue };
            for projector in ProjectorId::ALL {
                let changes = projector.changes(event.position, &domain);
                stores
                    .read
                    .apply(
                        ledger,
                        engine.config().model_versions,
                        projector,
                        &changes,
                        event.position,
                    )
                    .await?;
                stores
                    .checkpoints
                    .save_checkpoint(&Checkpoint::new(
                        projector.name(),
                        event.position,
                        "bench-naive",
                    ))
                    .await?;
            }
        }
    }
    Ok(started.elapsed().as_secs_f64())
}

/// Runs replay, floor (`reps` times each, interleaved, best taken) and the
/// naive baseline; emits their records. Leaves the read tables equal to the
/// fold of the whole ledger.
pub async fn run(engine: &Engine, stores_label: &str, reps: usize) -> anyhow::Result<()> {
    let head = engine.stores().ledger.head().await?;
    super::progress(format!(
        "replay[{stores_label}]: folding the reference state"
    ));
    let final_state = Arc::new(engine.fold_from_zero(head).await?);
    let rows = (final_state.users.len() + final_state.bookings.len()) as u64;

    let prefix = NAIVE_PREFIX.min(head);
    super::progress(format!(
        "replay[{stores_label}]: naive baseline on {prefix} events"
    ));
    let naive_secs = time_naive(engine, prefix).await?;
    let naive_per_event = naive_secs / prefix.max(1) as f64;
    Record::new("replay_naive", stores_label, prefix, naive_secs)
        .details(json!({
            "method": "per event, per projector: ReadStore::apply with that event's row changes (own transaction: conditional upsert per row + projector position), then the projector checkpoint saved in the ledger store as the note does per event; events read in pages of 5000",
            "prefix_events": prefix,
            "scaled_seconds_for_n": naive_per_event * head as f64,
        }))
        .emit();

    let mut replay_best = f64::INFINITY;
    let mut floor_best = f64::INFINITY;
    let mut replay_all = Vec::new();
    let mut floor_all = Vec::new();
    let mut replay_phases = Vec::new();
    let mut floor_read = Vec::new();
    let mut floor_bytes = 0;
    for rep in 0..reps.max(1) {
        super::progress(format!(
            "replay[{stores_label}]: replay + floor, round {} of {reps}",
            rep + 1
        ));
        let (secs, report) = time_replay(engine).await?;
        if report.rows != rows {
            bail!("replay wrote {} rows, the fold has {rows}", report.rows);
        }
        replay_best = replay_best.min(secs);
        replay_all.push(secs);
        replay_phases.push(json!({"fold_ms": report.fold_ms, "load_ms": report.load_ms}));
        let (secs, read_secs, bytes) = time_floor(engine, &final_state).await?;
        floor_bytes = bytes;
        floor_best = floor_best.min(secs);
        floor_all.push(secs);
        floor_read.push(read_secs);
    }
    // Leave the tables as replay builds them.
    time_replay(engine).await?;
    let counts = engine.stores().read.counts().await?;
    let in_sync = counts.users == final_state.users.len() as u64
        && counts.bookings == final_state.bookings.len() as u64;
    let verify = time_verify(engine, stores_label, reps, rows).await?;

    Record::new("replay_floor", stores_label, head, floor_best)
        .details(json!({
            "method": "read_raw_range pages of 5000 over the whole ledger (the rows' bytes, not decoded) + one replace_all of the precomputed final rows",
            "rows": rows, "all_seconds": floor_all, "read_seconds": floor_read,
            "bytes_read": floor_bytes,
        }))
        .emit();
    let speedup = naive_per_event / (replay_best / head.max(1) as f64);
    let vs_floor = replay_best / floor_best;
    Record::new("replay", stores_label, head, replay_best)
        .ratio(speedup, "replay/naive speedup (per event)")
        .target(">= 30x naive", speedup >= 30.0)
        .details(json!({
            "rows": rows, "all_seconds": replay_all, "phases": replay_phases,
            "tables_match_fold_counts": in_sync,
        }))
        .emit();
    Record::new("replay_vs_floor", stores_label, head, replay_best)
        .ratio(vs_floor, "replay/floor time")
        .target("<= 1.5x floor", vs_floor <= 1.5)
        .emit();
    let vs_replay = verify.secs / replay_best;
    Record::new("verify", stores_label, head, verify.secs)
        .ratio(vs_replay, "verify/replay time")
        .target("<= 0.5x replay", vs_replay <= 0.5)
        .details(json!({
            "method": "Engine::verify of the replayed tables: each table in key order beside the ledger-implied view (nearest snapshot + the events after it), and every ledger entry checked on the other core",
            "rows_compared": verify.rows, "all_seconds": verify.all, "usable_snapshots": verify.snapshots,
            "view_from_snapshot_at": verify.snapshot_at,
        }))
        .emit();
    if !in_sync {
        bail!("after replay the tables do not match the fold: {counts:?}");
    }
    Ok(())
}

/// What the `verify` rounds measured.
struct Verified {
    secs: f64,
    all: Vec<f64>,
    rows: u64,
    snapshots: usize,
    snapshot_at: Option<u64>,
}

/// Verifies the freshly replayed tables `reps` times (best of them): each
/// must be in sync and compare the fold's `rows`.
async fn time_verify(
    engine: &Engine,
    stores_label: &str,
    reps: usize,
    rows: u64,
) -> anyhow::Result<Verified> {
    let mut snapshots = engine.usable_snapshots().await?;
    if snapshots.is_empty() {
        // Verify runs with the snapshots the app would have taken: on a ledger
        // it has never seen, the one history pass (untimed here; `cold`
        // measures it).
        super::progress(format!(
            "replay[{stores_label}]: no snapshots yet: the app's automatic ones first"
        ));
        let mut config = ledgerscope::engine::EngineConfig::new("bench");
        config.snapshot_every = 10_000;
        config.snapshot_delta_every = 1_000;
        config.history_pass = true;
        Engine::new(engine.stores().clone(), config)
            .take_due_snapshots()
            .await?;
        snapshots = engine.usable_snapshots().await?;
    }
    super::progress(format!(
        "replay[{stores_label}]: verify, with {} usable snapshots",
        snapshots.len()
    ));
    let mut all = Vec::new();
    for _ in 0..reps.max(1) {
        let started = Instant::now();
        let report = engine.verify().await?;
        all.push(started.elapsed().as_secs_f64());
        if !report.in_sync || report.checked_rows != rows {
            bail!(
                "verify after replay: in sync {}, {} rows compared, the fold has {rows}",
                report.in_sync,
                report.checked_rows
            );
        }
    }
    Ok(Verified {
        secs: all.iter().copied().fold(f64::INFINITY, f64::min),
        all,
        rows,
        snapshots: snapshots.len(),
        snapshot_at: snapshots.iter().map(|s| s.position).max(),
    })
}
