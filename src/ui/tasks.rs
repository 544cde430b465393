//! Background work the app spawns on tokio. Each function does its I/O through
//! the engine and reports through the [`Outbox`]; none runs on the UI thread.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::domain::{BookingRow, ReadState, RowDiff, UserRow};
use crate::engine::bulk::BulkSpec;
use crate::engine::timetravel::FoldBase;
use crate::engine::view::{StateView, ViewDiff, ViewRow};
use crate::engine::{Engine, EngineConfig, EngineError, ReplayPhase, ReplayProgress};
use crate::store::{EventFilter, StoreConfig, open_stores};
use crate::ui::commands::{DiffList, JobKind};
use crate::ui::data::{Density, StateRow, TravelView, ViewDiffRows, engine_table, table_slot};
use crate::ui::message::{JobProgress, Message, StatusSnapshot};
use crate::ui::outbox::Outbox;
use crate::ui::page_cache::{PAGE_ROWS, page_range};
use crate::ui::state::TableKind;

/// Buckets in the density plot.
pub const DENSITY_BUCKETS: u32 = 60;

fn rate_eta(done: u64, total: u64, started: Instant) -> (f64, Option<f64>) {
    let rate = done as f64 / started.elapsed().as_secs_f64().max(1e-6);
    let eta = (rate > 0.0 && total > 0).then(|| total.saturating_sub(done) as f64 / rate);
    (rate, eta)
}

/// Progress for a phase.
pub fn progress(phase: &str, done: u64, total: u64, started: Instant) -> JobProgress {
    let (rate_per_sec, eta_secs) = rate_eta(done, total, started);
    JobProgress {
        phase: phase.to_string(),
        done,
        total,
        rate_per_sec,
        eta_secs,
    }
}

/// Opens the stores (bounded by the connect timeout) and builds the engine.
pub async fn connect(store: StoreConfig, config: EngineConfig, observe_only: bool, outbox: Outbox) {
    let limit = store.connect_timeout + Duration::from_secs(2);
    let where_ = match (&store.mongo_uri, &store.postgres_url) {
        (None, None) => format!("the embedded store in {}", store.data_dir.display()),
        _ => "the configured servers".to_string(),
    };
    let opening = tokio::spawn(async move { open_stores(&store).await });
    let message = match tokio::time::timeout(limit, opening).await {
        Ok(Ok(Ok(stores))) => {
            let engine = Engine::new(stores, config);
            engine.set_observe_only(observe_only);
            Message::Connected {
                engine,
                shutdown: CancellationToken::new(),
            }
        }
        Ok(Ok(Err(error))) => Message::ConnectFailed(error.to_string()),
        Ok(Err(join)) => Message::ConnectFailed(format!("opening {where_} crashed: {join}")),
        Err(_) => Message::ConnectFailed(format!(
            "opening {where_} did not finish within {} s; is the server reachable?",
            limit.as_secs()
        )),
    };
    outbox.send(message).await;
}

fn comparable(mut s: StatusSnapshot) -> StatusSnapshot {
    for status in &mut s.statuses {
        status.updated_at = None;
    }
    s
}

/// Forwards engine notices and polls head and projector status until `shutdown`.
pub async fn watch_status(engine: Arc<Engine>, outbox: Outbox, shutdown: CancellationToken) {
    use tokio::sync::broadcast::error::RecvError;
    let mut notices = engine.bus().subscribe_notices();
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut last: Option<StatusSnapshot> = None;
    let mut last_error: Option<String> = None;
    // The pairing needs a few reads of both stores: every 20 ticks (5 s).
    let mut pairing = None;
    let mut ticks = 0u64;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            notice = notices.recv() => match notice {
                Ok(notice) => outbox.send(Message::Notice(notice)).await,
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => break,
            },
            _ = tick.tick() => {
                if ticks.is_multiple_of(20) {
                    // A read store that does not answer keeps the last answer.
                    if let Ok(p) = engine.check_pairing().await {
                        pairing = Some(p);
                    }
                }
                ticks += 1;
                match engine.head().await {
                    Ok(head) => {
                        last_error = None;
                        let snapshot = comparable(StatusSnapshot {
                            head,
                            statuses: engine.projector_statuses(),
                            outage: engine.simulated_outage(),
                            pairing: pairing.clone(),
                        });
                        if last.as_ref() != Some(&snapshot) {
                            last = Some(snapshot.clone());
                            outbox.send(Message::Status(snapshot)).await;
                        }
                    }
                    Err(error) => {
                        let text = format!("ledger unreachable: {error}");
                        if last_error.as_ref() != Some(&text) {
                            last_error = Some(text.clone());
                            outbox.send(Message::Error(text)).await;
                        }
                    }
                }
            }
        }
    }
}

/// Fetches one timeline page.
pub async fn fetch_page(
    engine: Arc<Engine>,
    filter: EventFilter,
    generation: u64,
    page: u64,
    outbox: Outbox,
) {
    let result = engine
        .timeline_page(&filter, page * PAGE_ROWS, PAGE_ROWS as usize)
        .await
        .map_err(|e| e.to_string());
    outbox
        .send(Message::TimelinePage {
            generation,
            page,
            result,
        })
        .await;
}

/// Counts the rows matching the timeline filter.
pub async fn count_rows(engine: Arc<Engine>, filter: EventFilter, generation: u64, outbox: Outbox) {
    let result = engine
        .timeline_rows(&filter)
        .await
        .map_err(|e| e.to_string());
    outbox
        .send(Message::TimelineTotal { generation, result })
        .await;
}

/// The unfiltered timeline's row of the event at `position` (rows are the
/// stored events: a hole takes no rows).
pub async fn row_of_position(engine: Arc<Engine>, position: u64, outbox: Outbox) {
    match engine.timeline_row_of(position).await {
        Ok(row) => outbox.send(Message::TimelineScrollTo(row)).await,
        Err(error) => outbox.send(Message::Error(error.to_string())).await,
    }
}

async fn recorded_at(engine: &Engine, position: u64) -> Result<Option<DateTime<Utc>>, String> {
    let entries = engine
        .ledger_page(position, 1)
        .await
        .map_err(|e| e.to_string())?;
    Ok(entries
        .into_iter()
        .find_map(|e| e.ok())
        .map(|e| e.recorded_at))
}

/// Events over time, in [`DENSITY_BUCKETS`] buckets between the first and last
/// event. Uses the type, aggregate and time filters (the time index), not the
/// text filter, so it stays cheap at a million events.
pub async fn density(engine: Arc<Engine>, filter: EventFilter, generation: u64, outbox: Outbox) {
    let result = async {
        let head = engine
            .stores()
            .ledger
            .head()
            .await
            .map_err(|e| e.to_string())?;
        if head == 0 {
            return Ok(Density::default());
        }
        let (Some(first), Some(last)) = (
            recorded_at(&engine, 1).await?,
            recorded_at(&engine, head).await?,
        ) else {
            return Ok(Density::default());
        };
        let start = filter.from_time.map_or(first, |t| t.max(first));
        let end = filter.to_time.map_or(last, |t| t.min(last)) + chrono::Duration::milliseconds(1);
        let span_ms = (end - start).num_milliseconds().max(DENSITY_BUCKETS as i64);
        let bucket_ms = span_ms / DENSITY_BUCKETS as i64 + 1;
        let mut counts = Vec::with_capacity(DENSITY_BUCKETS as usize);
        for i in 0..DENSITY_BUCKETS as i64 {
            let bucket = EventFilter {
                from_time: Some(start + chrono::Duration::milliseconds(i * bucket_ms)),
                to_time: Some(start + chrono::Duration::milliseconds((i + 1) * bucket_ms)),
                text: None,
                ..filter.clone()
            };
            counts.push(
                engine
                    .stores()
                    .ledger
                    .count_matching(&bucket)
                    .await
                    .map_err(|e| e.to_string())?,
            );
        }
        Ok(Density {
            start: Some(start),
            bucket_secs: bucket_ms as f64 / 1000.0,
            counts,
        })
    }
    .await;
    outbox.send(Message::Density { generation, result }).await;
}

/// The timeline row of the first matching event at or after `time`.
pub async fn row_at_time(
    engine: Arc<Engine>,
    filter: EventFilter,
    time: DateTime<Utc>,
    outbox: Outbox,
) {
    let before = EventFilter {
        to_time: Some(filter.to_time.map_or(time, |t| t.min(time))),
        ..filter
    };
    match engine.stores().ledger.count_matching(&before).await {
        Ok(row) => outbox.send(Message::TimelineScrollTo(row)).await,
        Err(error) => outbox.send(Message::Error(error.to_string())).await,
    }
}

/// Loads one event (for the detail view after a jump).
pub async fn load_event(engine: Arc<Engine>, position: u64, outbox: Outbox) {
    let result = engine
        .ledger_page(position, 1)
        .await
        .map(|entries| entries.into_iter().next().map(Box::new))
        .map_err(|e| e.to_string());
    outbox.send(Message::EventLoaded(result)).await;
}

/// Loads an aggregate's stream.
pub async fn load_stream(engine: Arc<Engine>, aggregate: Uuid, outbox: Outbox) {
    let result = engine
        .stores()
        .ledger
        .stream(aggregate)
        .await
        .map_err(|e| e.to_string());
    outbox.send(Message::Stream { aggregate, result }).await;
}

/// The reference state for time travel, as a lazy view.
pub async fn reference(engine: Arc<Engine>, position: u64, outbox: Outbox) {
    let result = engine
        .state_view(position)
        .await
        .map(Arc::new)
        .map_err(|e| e.to_string());
    outbox.send(Message::Reference(result)).await;
}

fn describe_base(view: &StateView) -> String {
    let n = view.folded_events;
    match view.from {
        FoldBase::Zero => format!("folded {n} events from zero"),
        FoldBase::Snapshot { position, .. } => format!("snapshot at {position} + {n} events"),
        FoldBase::Cached { position } => format!("cached state at {position} + {n} events"),
    }
}

/// Compares two views off the async workers (a merge over every key of both
/// directories: about a million at a million events).
async fn view_diff(before: Arc<StateView>, after: Arc<StateView>) -> Result<Arc<ViewDiff>, String> {
    tokio::task::spawn_blocking(move || Arc::new(ViewDiff::new(before, after)))
        .await
        .map_err(|e| format!("comparing the states stopped: {e}"))
}

/// The state at the cursor as a lazy view, and its difference to `reference`.
pub async fn travel(
    engine: Arc<Engine>,
    position: u64,
    reference: Option<Arc<StateView>>,
    outbox: Outbox,
) {
    let started = Instant::now();
    let result = async {
        let view = Arc::new(
            engine
                .state_view(position)
                .await
                .map_err(|e| e.to_string())?,
        );
        let diff = match reference {
            Some(r) => {
                let at = r.position();
                Some((at, ViewDiffRows::new(view_diff(view.clone(), r).await?)))
            }
            None => None,
        };
        Ok(Box::new(TravelView {
            position,
            counts: view.counts().clone(),
            base: describe_base(&view),
            view,
            diff,
            elapsed_ms: started.elapsed().as_millis() as u64,
        }))
    }
    .await;
    outbox.send(Message::Travel(result)).await;
}

/// One page of a state's rows (read from the snapshot's pages and the
/// events after it).
pub async fn state_page(
    view: Arc<StateView>,
    table: TableKind,
    generation: u64,
    page: u64,
    outbox: Outbox,
) {
    let range = page_range(page, view.len(engine_table(table)));
    async fn rows<R: ViewRow>(
        view: &StateView,
        range: std::ops::Range<usize>,
    ) -> crate::engine::EngineResult<Vec<StateRow>> {
        Ok(view
            .rows::<R>(range)
            .await?
            .iter()
            .map(|r| StateRow {
                key: r.key(),
                cells: r.cells(),
                last_position: r.last_position(),
            })
            .collect())
    }
    let result = match table {
        TableKind::Users => rows::<UserRow>(&view, range).await,
        TableKind::Bookings => rows::<BookingRow>(&view, range).await,
    }
    .map_err(|e| e.to_string());
    outbox
        .send(Message::StatePage {
            generation,
            table,
            page,
            result,
        })
        .await;
}

/// One page of a difference's rows (cells of both sides), one entry per
/// differing key of the page, in key order.
pub async fn diff_page(
    diff: Arc<ViewDiff>,
    list: DiffList,
    table: TableKind,
    generation: u64,
    page: u64,
    outbox: Outbox,
) {
    let slot = table_slot(table);
    let range = page_range(page, diff.len(slot));
    let keys: Vec<Uuid> = diff
        .keys
        .get(slot)
        .and_then(|k| k.get(range.clone()))
        .map(|k| k.iter().map(|(key, _)| *key).collect())
        .unwrap_or_default();
    let result = diff
        .rows(slot, range)
        .await
        .map(|rows| {
            let mut by_key: HashMap<Uuid, RowDiff> =
                rows.into_iter().map(|r| (r.key(), r)).collect();
            keys.iter().map(|k| by_key.remove(k)).collect()
        })
        .map_err(|e| e.to_string());
    outbox
        .send(Message::DiffPage {
            list,
            generation,
            table,
            page,
            result,
        })
        .await;
}

/// Turns typed text (a position or a time) into a position.
pub async fn resolve_goto(engine: Arc<Engine>, text: String, outbox: Outbox) {
    let result = async {
        let text = text.trim();
        if let Ok(position) = text.parse::<u64>() {
            return Ok(position);
        }
        let time = parse_time(text).ok_or_else(|| {
            format!("'{text}' is neither a position (e.g. 1200) nor a time (e.g. 2026-03-01 14:30 or RFC 3339)")
        })?;
        let filter = EventFilter {
            to_time: Some(time + chrono::Duration::milliseconds(1)),
            ..EventFilter::default()
        };
        engine.stores().ledger.count_matching(&filter).await.map_err(|e| e.to_string())
    }
    .await;
    outbox.send(Message::TravelGoto(result)).await;
}

/// Parses RFC 3339, `YYYY-MM-DD HH:MM[:SS]` or `YYYY-MM-DD` (UTC).
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(text, format) {
            return Some(t.and_utc());
        }
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

/// Read tables vs ledger.
pub async fn verify(engine: Arc<Engine>, outbox: Outbox) {
    let result = engine.verify().await.map_err(|e| e.to_string());
    outbox.send(Message::Verify(result)).await;
}

/// The tables at two positions: two lazy views and the keys that differ
/// (rows are read a page at a time when shown).
pub async fn positions_diff(engine: Arc<Engine>, a: u64, b: u64, outbox: Outbox) {
    let result = async {
        let (before, after) = tokio::try_join!(engine.state_view(a), engine.state_view(b))
            .map_err(|e| e.to_string())?;
        let diff = view_diff(Arc::new(before), Arc::new(after)).await?;
        Ok((a, b, diff))
    }
    .await;
    outbox.send(Message::PositionsDiff(result)).await;
}

/// The snapshot list.
pub async fn list_snapshots(engine: Arc<Engine>, outbox: Outbox) {
    let result = engine.list_snapshots().await.map_err(|e| e.to_string());
    outbox.send(Message::Snapshots(result)).await;
}

fn job_progress(outbox: &Outbox, kind: JobKind, progress: JobProgress) {
    outbox.try_send(Message::JobProgress(kind, progress));
}

fn describe(error: EngineError) -> String {
    match error {
        EngineError::Cancelled => "cancelled; nothing was changed".to_string(),
        other => other.to_string(),
    }
}

/// Takes a snapshot: folds from the newest snapshot to the head with progress
/// (cancellable), then stores it.
pub async fn take_snapshot(engine: Arc<Engine>, cancel: Arc<AtomicBool>, outbox: Outbox) {
    let result = async {
        if engine.observe_only() {
            return Err(EngineError::ObserveOnly("taking a snapshot".into()));
        }
        let head = engine.stores().ledger.head().await?;
        let newest = engine
            .usable_snapshots()
            .await?
            .into_iter()
            .filter(|s| s.position <= head)
            .max_by_key(|s| s.position);
        let base = match &newest {
            Some(meta) => engine.load_snapshot_state(meta).await?,
            None => ReadState::default(),
        };
        let total = head.saturating_sub(base.position);
        let started = Instant::now();
        let state = engine
            .fold_until(base, head, Some(&cancel), |done| {
                job_progress(
                    &outbox,
                    JobKind::Snapshot,
                    progress("folding events", done, total, started),
                );
            })
            .await?
            .state;
        job_progress(
            &outbox,
            JobKind::Snapshot,
            progress("saving chunks", total, total, started),
        );
        let meta = engine.save_state_snapshot(&state).await?;
        Ok(format!(
            "Snapshot {} taken at position {} ({} users, {} bookings, {}) in {:.1} s",
            &meta.id.to_string()[..8],
            meta.position,
            meta.users,
            meta.bookings,
            human_bytes(meta.size_bytes),
            started.elapsed().as_secs_f64()
        ))
    }
    .await
    .map_err(describe);
    outbox
        .send(Message::JobDone(JobKind::Snapshot, result))
        .await;
    list_snapshots(engine, outbox).await;
}

/// `1.2 MB`.
pub fn human_bytes(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 => format!("{:.1} GB", b as f64 / (1u64 << 30) as f64),
        b if b >= 1 << 20 => format!("{:.1} MB", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

/// Rebuilds the read tables.
pub async fn replay(
    engine: Arc<Engine>,
    from_snapshot: bool,
    cancel: Arc<AtomicBool>,
    outbox: Outbox,
) {
    let sink = outbox.clone();
    let on_progress: Arc<dyn Fn(ReplayProgress) + Send + Sync> =
        Arc::new(move |p: ReplayProgress| {
            let phase = match p.phase {
                ReplayPhase::Snapshot => "loading snapshot",
                ReplayPhase::Reading => "reading events",
                ReplayPhase::Loading => "loading fresh tables",
                ReplayPhase::Done => "swapped in",
            };
            job_progress(
                &sink,
                JobKind::Replay,
                JobProgress {
                    phase: phase.to_string(),
                    done: p.done,
                    total: p.total,
                    rate_per_sec: p.rate_per_sec,
                    eta_secs: p.eta_secs,
                },
            );
        });
    let result = engine
        // The confirmation named the target database and, for tables of
        // another ledger, both ledgers.
        .replay(from_snapshot, true, cancel, on_progress)
        .await
        .map(|r| {
            format!(
                "Replayed {} events{} into {} rows at position {} in {:.1} s{}",
                r.events,
                r.from_snapshot
                    .as_ref()
                    .map(|s| format!(" after snapshot at {}", s.position))
                    .unwrap_or_default(),
                r.rows,
                r.position,
                r.elapsed_ms as f64 / 1000.0,
                if r.skipped > 0 {
                    format!("; {} malformed entries skipped", r.skipped)
                } else {
                    String::new()
                }
            )
        })
        .map_err(describe);
    outbox.send(Message::JobDone(JobKind::Replay, result)).await;
}

/// Restores a snapshot into the read tables.
pub async fn restore(engine: Arc<Engine>, id: Uuid, outbox: Outbox) {
    let result = engine
        // The confirmation named the target database (and both ledgers
        // when its tables are of another one).
        .restore_snapshot(&id.to_string(), true)
        .await
        .map(|r| {
            format!(
                "Restored snapshot at position {} ({} rows); projectors now apply the {} events after it",
                r.snapshot.position, r.rows, r.events_to_catch_up
            )
        })
        .map_err(describe);
    outbox
        .send(Message::JobDone(JobKind::Restore, result))
        .await;
}

/// Runs the bulk generator.
pub async fn bulk(engine: Arc<Engine>, spec: BulkSpec, cancel: Arc<AtomicBool>, outbox: Outbox) {
    let sink = outbox.clone();
    let result = engine
        .emit_bulk(&spec, &cancel, |p| {
            job_progress(
                &sink,
                JobKind::Bulk,
                JobProgress {
                    phase: format!("{} new, {} duplicates, {} refused", p.emitted, p.duplicates, p.rejected),
                    done: p.done,
                    total: p.total,
                    rate_per_sec: p.rate_per_sec,
                    eta_secs: p.eta_secs,
                },
            );
        })
        .await
        .map(|p| {
            let stopped = if cancel.load(Ordering::Relaxed) {
                " (cancelled; the events before it stay stored)"
            } else {
                ""
            };
            format!(
                "{} commands: {} new events, {} duplicates, {} refused by business rules; head {}{stopped}",
                p.done, p.emitted, p.duplicates, p.rejected, p.head
            )
        })
        .map_err(describe);
    outbox.send(Message::JobDone(JobKind::Bulk, result)).await;
}

/// Writes the ledger to `path` as NDJSON (one envelope per line).
pub async fn export(engine: Arc<Engine>, path: String, cancel: Arc<AtomicBool>, outbox: Outbox) {
    let started = Instant::now();
    let result = engine
        .export_ndjson(std::path::Path::new(&path), &cancel, |done, total| {
            job_progress(
                &outbox,
                JobKind::Export,
                progress("writing", done, total, started),
            );
        })
        .await
        .map(|report| {
            format!(
                "Exported {} events to {path}{}",
                report.exported,
                if report.skipped_malformed.is_empty() {
                    String::new()
                } else {
                    format!(
                        " ({} malformed entries left out)",
                        report.skipped_malformed.len()
                    )
                }
            )
        })
        .map_err(describe);
    outbox.send(Message::JobDone(JobKind::Export, result)).await;
}

/// Appends the events of an NDJSON file (idempotent on `event_id`; a bad line
/// rejects the whole file).
pub async fn import(engine: Arc<Engine>, path: String, cancel: Arc<AtomicBool>, outbox: Outbox) {
    let started = Instant::now();
    let result = engine
        .import_ndjson(std::path::Path::new(&path), &cancel, |done, total| {
            job_progress(
                &outbox,
                JobKind::Import,
                progress("appending", done, total, started),
            );
        })
        .await
        .map(|report| {
            format!(
                "Imported {path}: {} new events, {} already stored; head {}",
                report.imported, report.duplicates, report.head
            )
        })
        .map_err(describe);
    outbox.send(Message::JobDone(JobKind::Import, result)).await;
}

/// Native file dialog (portal or GTK), off the UI thread.
pub async fn pick_file(save: bool, outbox: Outbox) {
    let dialog = rfd::AsyncFileDialog::new()
        .add_filter("NDJSON", &["ndjson", "jsonl", "json"])
        .set_file_name("ledger.ndjson");
    let picked = if save {
        dialog.save_file().await
    } else {
        dialog.pick_file().await
    };
    outbox
        .send(Message::FilePicked(
            picked.map(|f| f.path().display().to_string()),
        ))
        .await;
}
