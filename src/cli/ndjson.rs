//! Export and import of the ledger as NDJSON (one envelope per line).

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufWriter, Write};
use std::path::Path;

use serde::Serialize;
use uuid::Uuid;

use super::{CliError, CliResult};
use crate::domain::StoredEvent;
use crate::engine::Engine;
use crate::store::{AppendOutcome, LedgerEntry};

const PAGE: usize = 5_000;

/// What an export wrote.
#[derive(Debug, Serialize)]
pub struct ExportReport {
    /// Events written.
    pub exported: u64,
    /// Positions of malformed rows that could not be exported.
    pub skipped_malformed: Vec<u64>,
    /// The file.
    pub file: String,
}

/// What an import did.
#[derive(Debug, Serialize)]
pub struct ImportReport {
    /// New events appended.
    pub imported: u64,
    /// Events already in the ledger (same event id).
    pub duplicates: u64,
    /// Head after the import.
    pub head: u64,
}

/// Writes every well-formed event, in position order.
pub async fn export(engine: &Engine, out: &Path) -> CliResult<ExportReport> {
    let file = std::fs::File::create(out)
        .map_err(|e| CliError::input(format!("cannot create {}: {e}", out.display())))?;
    let mut writer = BufWriter::new(file);
    let mut report = ExportReport {
        exported: 0,
        skipped_malformed: Vec::new(),
        file: out.display().to_string(),
    };
    let mut from = 1;
    loop {
        let page: Vec<LedgerEntry> = engine.stores().ledger.read_range(from, PAGE).await?;
        let Some(last) = page.last() else { break };
        from = crate::store::entry_position(last) + 1;
        for entry in &page {
            match entry {
                Ok(event) => {
                    let line = serde_json::to_string(event).map_err(|e| {
                        CliError::input(format!("cannot encode event {}: {e}", event.position))
                    })?;
                    writeln!(writer, "{line}").map_err(|e| {
                        CliError::input(format!("cannot write {}: {e}", out.display()))
                    })?;
                    report.exported += 1;
                }
                Err(bad) => report.skipped_malformed.push(bad.position),
            }
        }
    }
    writer
        .flush()
        .map_err(|e| CliError::input(format!("cannot write {}: {e}", out.display())))?;
    Ok(report)
}

/// Parses every line first; one bad line rejects the whole file (nothing is
/// imported). Then appends in file order, idempotently on event ids.
pub async fn import(engine: &Engine, file: &Path) -> CliResult<ImportReport> {
    engine.guard_write("importing")?;
    let handle = std::fs::File::open(file)
        .map_err(|e| CliError::input(format!("cannot open {}: {e}", file.display())))?;
    let mut events: Vec<StoredEvent> = Vec::new();
    let mut seen_ids = HashSet::new();
    for (index, line) in std::io::BufReader::new(handle).lines().enumerate() {
        let number = index + 1;
        let line = line.map_err(|e| {
            CliError::input(format!(
                "{} line {number}: cannot read: {e}",
                file.display()
            ))
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let event: StoredEvent = serde_json::from_str(&line).map_err(|e| {
            CliError::input(format!(
                "{} line {number} is not a ledger event ({e}); nothing was imported",
                file.display()
            ))
        })?;
        if let Err(e) = event.decode() {
            return Err(CliError::input(format!(
                "{} line {number}: {e}; nothing was imported",
                file.display()
            )));
        }
        if !seen_ids.insert(event.event_id) {
            return Err(CliError::input(format!(
                "{} line {number} repeats event id {}; nothing was imported",
                file.display(),
                event.event_id
            )));
        }
        events.push(event);
    }
    // Check versions against the ledger before writing anything.
    let ledger = &engine.stores().ledger;
    let mut taken: BTreeMap<Uuid, BTreeMap<u64, Uuid>> = BTreeMap::new();
    let mut fresh = Vec::new();
    for event in events {
        if ledger.find_event(event.event_id).await?.is_some() {
            continue;
        }
        if let std::collections::btree_map::Entry::Vacant(slot) = taken.entry(event.aggregate_id) {
            let stream = ledger.stream(event.aggregate_id).await?;
            slot.insert(
                stream
                    .into_iter()
                    .filter_map(Result::ok)
                    .map(|e| (e.version, e.event_id))
                    .collect(),
            );
        }
        let versions = taken.entry(event.aggregate_id).or_default();
        if let Some(other) = versions.get(&event.version) {
            return Err(CliError::input(format!(
                "event {} would be version {} of {}, which event {other} already is; nothing was imported",
                event.event_id, event.version, event.aggregate_id
            )));
        }
        versions.insert(event.version, event.event_id);
        fresh.push(event);
    }
    let mut report = ImportReport {
        imported: 0,
        duplicates: 0,
        head: 0,
    };
    for event in fresh {
        match ledger.append(event).await? {
            AppendOutcome::Appended(_) => report.imported += 1,
            AppendOutcome::Duplicate(_) => report.duplicates += 1,
        }
    }
    report.head = ledger.head().await?;
    let total = report.imported + report.duplicates;
    report.duplicates += seen_ids.len() as u64 - total;
    Ok(report)
}
