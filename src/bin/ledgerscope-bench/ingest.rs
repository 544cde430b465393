//! Ingest: commands per second through the full handler
//! ([`Engine::submit_booking_wizard`]: lease, "exists?", save, publish,
//! unlock) against raw single-event [`ledgerscope::store::EventLedger::append`]
//! calls, each into a fresh ledger of the same kind, with 1 and 8 concurrent
//! submitters (tokio tasks sharing one engine / one ledger). Projectors do not
//! run (they are asynchronous side effects, not part of a command).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, bail};
use chrono::Utc;
use serde_json::json;

use super::Record;
use super::data::{StorePair, engine, subdir};
use ledgerscope::domain::aggregate::decide_submit;
use ledgerscope::domain::generate::{DemoRng, booking_form};
use ledgerscope::domain::{EventMetadata, StoredEvent, SubmitBookingWizard};
use ledgerscope::store::AppendOutcome;

/// `count` valid generated booking commands (the same for the same seed).
pub fn commands(count: u64, seed: u64) -> Vec<SubmitBookingWizard> {
    let mut rng = DemoRng::new(seed);
    let mut out = Vec::with_capacity(count as usize);
    while (out.len() as u64) < count {
        let form = booking_form(&mut rng, (count / 3).max(10));
        if let Ok(cmd) = form.validate(rng.uuid_v4()) {
            out.push(cmd);
        }
    }
    out
}

/// An empty subdirectory (a fresh ledger per run).
fn fresh_dir(dir: &Path, name: &str) -> anyhow::Result<std::path::PathBuf> {
    let _ = std::fs::remove_dir_all(dir.join(name));
    subdir(dir, name)
}

fn split<T>(items: Vec<T>, parts: usize) -> Vec<Vec<T>> {
    let mut out: Vec<Vec<T>> = (0..parts.max(1)).map(|_| Vec::new()).collect();
    let len = out.len();
    for (i, item) in items.into_iter().enumerate() {
        out[i % len].push(item);
    }
    out
}

/// Runs `count` commands with `submitters` tasks through the handler; seconds
/// and the mean duration of each traced step in microseconds.
async fn handler_run(
    pair: &StorePair,
    dir: &Path,
    count: u64,
    submitters: usize,
) -> anyhow::Result<(f64, BTreeMap<String, f64>)> {
    let tag = format!("ingest_handler_{submitters}");
    let stores = pair.open(&fresh_dir(dir, &tag)?, &tag).await?;
    let engine = engine(stores, 0);
    let parts = split(commands(count, 11), submitters);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for part in parts {
        let engine = engine.clone();
        tasks.push(tokio::spawn(async move {
            let mut steps: BTreeMap<String, u64> = BTreeMap::new();
            for cmd in part {
                let outcome = engine.submit_booking_wizard(cmd).await?;
                if outcome.duplicate {
                    bail!("a fresh command was answered as a duplicate");
                }
                for step in outcome.trace.steps {
                    *steps.entry(step.name).or_default() += step.micros;
                }
            }
            anyhow::Ok(steps)
        }));
    }
    let mut steps: BTreeMap<String, u64> = BTreeMap::new();
    for task in tasks {
        for (name, micros) in task.await.context("a submitter panicked")?? {
            *steps.entry(name).or_default() += micros;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let head = engine.stores().ledger.head().await?;
    if head != count {
        bail!("handler ingest stored {head} events for {count} commands");
    }
    let means = steps
        .into_iter()
        .map(|(name, micros)| (name, micros as f64 / count as f64))
        .collect();
    Ok((secs, means))
}

/// Runs `count` raw appends with `submitters` tasks; seconds.
async fn raw_run(
    pair: &StorePair,
    dir: &Path,
    count: u64,
    submitters: usize,
) -> anyhow::Result<f64> {
    let tag = format!("ingest_raw_{submitters}");
    let stores = pair.open(&fresh_dir(dir, &tag)?, &tag).await?;
    let ledger = stores.ledger.clone();
    let parts = split(commands(count, 11), submitters);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for part in parts {
        let ledger = ledger.clone();
        tasks.push(tokio::spawn(async move {
            for cmd in part {
                let event = StoredEvent::wrap(
                    &decide_submit(&cmd),
                    cmd.booking_id,
                    1,
                    Utc::now(),
                    EventMetadata {
                        command_id: Some(cmd.booking_id),
                        ..EventMetadata::default()
                    },
                );
                if !matches!(ledger.append(event).await?, AppendOutcome::Appended(_)) {
                    bail!("a fresh event was answered as a duplicate");
                }
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await.context("a submitter panicked")??;
    }
    let secs = started.elapsed().as_secs_f64();
    let head = ledger.head().await?;
    if head != count {
        bail!("raw ingest stored {head} events for {count} appends");
    }
    Ok(secs)
}

/// Measures handler and raw ingest with 1 and 8 submitters; emits records.
pub async fn run(pair: &StorePair, dir: &Path, count: u64) -> anyhow::Result<()> {
    for submitters in [1usize, 8] {
        super::progress(format!(
            "ingest[{}]: {count} commands, {submitters} submitter(s), raw then handler",
            pair.label
        ));
        // Two interleaved rounds, best of each: the disk's fsync time drifts.
        let (mut raw, mut handler) = (f64::INFINITY, f64::INFINITY);
        let mut step_micros = BTreeMap::new();
        for _ in 0..2 {
            raw = raw.min(raw_run(pair, dir, count, submitters).await?);
            let (secs, steps) = handler_run(pair, dir, count, submitters).await?;
            if secs < handler {
                handler = secs;
                step_micros = steps;
            }
        }
        let raw_rate = count as f64 / raw;
        let handler_rate = count as f64 / handler;
        let ratio = handler_rate / raw_rate;
        Record::new(
            &format!("ingest_raw_{submitters}"),
            &pair.label,
            count,
            raw,
        )
        .details(json!({"submitters": submitters, "method": "EventLedger::append, one event per call, fresh ledger"}))
        .emit();
        let mut record = Record::new(
            &format!("ingest_handler_{submitters}"),
            &pair.label,
            count,
            handler,
        )
        .ratio(ratio, "handler/raw commands per second")
        .details(json!({
            "submitters": submitters,
            "method": "Engine::submit_booking_wizard (lease, exists?, build, save, unlock, publish), fresh ledger",
            "mean_step_micros": step_micros,
        }));
        if submitters == 8 {
            record = record.target(">= 0.5x raw with 8 submitters", ratio >= 0.5);
        }
        record.emit();
    }
    Ok(())
}
