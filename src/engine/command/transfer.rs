//! Export and import of the ledger as NDJSON (one `StoredEvent` envelope per
//! line), shared by the CLI and the GUI.

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufWriter, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::StoredEvent;
use crate::domain::command::{describe_errors, field_errors_of};
use crate::domain::personal::Pseudonymizer;
use crate::engine::job::{JobControl, Phase};
use crate::engine::{Engine, EngineError, EngineResult};
use crate::store::{AppendOutcome, PageReader};

/// Events per ledger page or append batch.
const PAGE: usize = 2_000;

/// What an export wrote. Every envelope is written, also one whose type is
/// unknown or whose payload does not decode (a fact of the ledger: the
/// import carries it and flags it again); rows that are not envelopes at all
/// are left out and named.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportReport {
    /// Events written.
    pub exported: u64,
    /// Of which not decodable by this build (unknown type, bad payload), by position.
    pub undecodable: Vec<u64>,
    /// Positions of malformed rows that could not be exported.
    pub skipped_malformed: Vec<u64>,
    /// Rows without a usable position, left out (`verify` lists them).
    pub skipped_unpositioned: u64,
    /// The file.
    pub file: String,
    /// Whether every personal value was replaced by a keyed pseudonym.
    #[serde(default)]
    pub pseudonymized: bool,
}

/// A line of an import that is carried but flagged: what `emit` would
/// refuse, or what this build cannot decode.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportFlag {
    /// Line in the file.
    pub line: usize,
    /// The event's id.
    pub event_id: Uuid,
    /// Why.
    pub reason: String,
}

/// What an import did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    /// New events appended.
    pub imported: u64,
    /// Events already in the ledger (same event id).
    pub duplicates: u64,
    /// Head after the import.
    pub head: u64,
    /// Lines imported but flagged: events `emit` would refuse (a field
    /// check fails) or this build cannot decode (shown as such everywhere).
    pub flagged: Vec<ImportFlag>,
}

fn file_error(path: &Path, what: &str, e: impl std::fmt::Display) -> EngineError {
    EngineError::File(format!("cannot {what} {}: {e}", path.display()))
}

/// Reads and checks every line of an NDJSON file: each must be a ledger
/// envelope, with no event id twice, else the first bad line is named and
/// nothing is returned. Envelopes that do not decode, or that `emit` would
/// refuse, are returned with a flag each.
pub fn read_ndjson(path: &Path) -> EngineResult<(Vec<StoredEvent>, Vec<ImportFlag>)> {
    let file = std::fs::File::open(path).map_err(|e| file_error(path, "open", e))?;
    let mut events = Vec::new();
    let mut flags = Vec::new();
    let mut ids = HashSet::new();
    for (index, line) in std::io::BufReader::new(file).lines().enumerate() {
        let number = index + 1;
        let where_ = format!("{} line {number}", path.display());
        let line = line.map_err(|e| EngineError::File(format!("{where_}: cannot read: {e}")))?;
        if line.trim().is_empty() {
            continue;
        }
        let event: StoredEvent = serde_json::from_str(&line).map_err(|e| {
            EngineError::File(format!(
                "{where_} is not a ledger event ({e}); nothing was imported"
            ))
        })?;
        if !ids.insert(event.event_id) {
            return Err(EngineError::File(format!(
                "{where_} repeats event id {}; nothing was imported",
                event.event_id
            )));
        }
        let reason = match event.decode() {
            Err(e) => Some(format!("not decodable by this build: {e}")),
            Ok(domain) => {
                let errors = field_errors_of(&domain);
                (!errors.is_empty())
                    .then(|| format!("emit would refuse it: {}", describe_errors(&errors)))
            }
        };
        if let Some(reason) = reason {
            flags.push(ImportFlag {
                line: number,
                event_id: event.event_id,
                reason,
            });
        }
        events.push(event);
    }
    Ok((events, flags))
}

impl Engine {
    /// Writes every envelope in position order; progress
    /// ([`Phase::Exporting`], positions) goes to `job`. Cancelled: the
    /// partial file is removed.
    pub async fn export_ndjson(&self, path: &Path, job: &JobControl) -> EngineResult<ExportReport> {
        self.export_ndjson_with(path, job, None).await
    }

    /// [`Self::export_ndjson`], with every personal value
    /// ([`crate::domain::personal::PERSONAL_FIELDS`]) replaced by its
    /// pseudonym when `pseudonyms` is given: a training copy that imports to
    /// the same counts, histories and what-if answers.
    pub async fn export_ndjson_with(
        &self,
        path: &Path,
        job: &JobControl,
        pseudonyms: Option<&Pseudonymizer>,
    ) -> EngineResult<ExportReport> {
        let started = Instant::now();
        let head = self.stores.ledger.head().await?;
        let file = std::fs::File::create(path).map_err(|e| file_error(path, "create", e))?;
        let mut writer = BufWriter::new(file);
        let mut report = ExportReport {
            exported: 0,
            undecodable: Vec::new(),
            skipped_malformed: Vec::new(),
            skipped_unpositioned: self.stores.ledger.census().await?.unpositioned,
            file: path.display().to_string(),
            pseudonymized: pseudonyms.is_some(),
        };
        let mut pages = PageReader::new(1, PAGE);
        while pages.read_up_to() < head {
            if job.is_cancelled() {
                drop(writer);
                if let Err(e) = std::fs::remove_file(path) {
                    tracing::warn!(file = %path.display(), error = %e, "cannot remove a cancelled export");
                }
                return Err(EngineError::Cancelled);
            }
            let Some(page) = pages.next(self.stores.ledger.as_ref()).await? else {
                break;
            };
            for entry in &page {
                match entry {
                    Ok(event) => {
                        if event.decode().is_err() {
                            report.undecodable.push(event.position);
                        }
                        match pseudonyms {
                            None => serde_json::to_writer(&mut writer, event),
                            Some(pseudonyms) => {
                                let mut envelope = serde_json::to_value(event)
                                    .map_err(|e| file_error(path, "write", e))?;
                                pseudonyms.envelope(&mut envelope);
                                serde_json::to_writer(&mut writer, &envelope)
                            }
                        }
                        .map_err(|e| file_error(path, "write", e))?;
                        writer
                            .write_all(b"\n")
                            .map_err(|e| file_error(path, "write", e))?;
                        report.exported += 1;
                    }
                    Err(bad) => report.skipped_malformed.push(bad.position),
                }
            }
            job.step(Phase::Exporting, pages.read_up_to(), head, started);
        }
        writer.flush().map_err(|e| file_error(path, "write", e))?;
        Ok(report)
    }

    /// Imports a file read with [`read_ndjson`]: events already stored (same id)
    /// are skipped, versions are checked against the ledger before anything is
    /// written, then the rest is appended in file order and published.
    /// Cancelling between batches keeps what was appended (a re-import skips it).
    /// Progress ([`Phase::Importing`], events) goes to `job`.
    pub async fn import_ndjson(&self, path: &Path, job: &JobControl) -> EngineResult<ImportReport> {
        let started = Instant::now();
        self.guard_write("importing")?;
        let read_path = path.to_path_buf();
        let (events, flagged) = tokio::task::spawn_blocking(move || read_ndjson(&read_path))
            .await
            .map_err(|e| EngineError::File(format!("reading {} failed: {e}", path.display())))??;
        let total = events.len() as u64;
        let ledger = &self.stores.ledger;
        let mut taken: BTreeMap<Uuid, BTreeMap<u64, Uuid>> = BTreeMap::new();
        let mut fresh = Vec::new();
        for event in events {
            if ledger.find_event(event.event_id).await?.is_some() {
                continue;
            }
            if let std::collections::btree_map::Entry::Vacant(slot) =
                taken.entry(event.aggregate_id)
            {
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
                return Err(EngineError::File(format!(
                    "{}: event {} would be version {} of {}, which event {other} already is; nothing was imported",
                    path.display(),
                    event.event_id,
                    event.version,
                    event.aggregate_id
                )));
            }
            versions.insert(event.version, event.event_id);
            fresh.push(event);
        }
        let mut report = ImportReport {
            imported: 0,
            duplicates: total - fresh.len() as u64,
            head: 0,
            flagged,
        };
        let mut fresh = fresh.into_iter().peekable();
        while fresh.peek().is_some() {
            if job.is_cancelled() {
                return Err(EngineError::Cancelled);
            }
            let batch: Vec<StoredEvent> = fresh.by_ref().take(PAGE).collect();
            for outcome in ledger.append_batch(batch).await? {
                match outcome {
                    AppendOutcome::Appended(stored) => {
                        report.imported += 1;
                        self.bus.publish(Arc::new(stored));
                    }
                    AppendOutcome::Duplicate(_) => report.duplicates += 1,
                }
            }
            job.step(
                Phase::Importing,
                report.imported + report.duplicates,
                total,
                started,
            );
        }
        report.head = ledger.head().await?;
        Ok(report)
    }
}
