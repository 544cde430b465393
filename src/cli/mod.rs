//! The headless command line: every engine operation as a subcommand. With
//! `--json` each prints exactly one JSON object on stdout (NDJSON for
//! `events`); messages go to stderr. Exit codes: 0 success, 1 `verify` found
//! drift, 2 bad input or an unreachable store.

pub mod args;
mod emit;
pub mod model;
pub mod open;
mod personal;
mod query;
pub mod repair;
mod snapshot;

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub use args::{Cli, Command};
use args::{EmitArgs, SnapshotAction};
use emit::emit;
use query::{diff, events, history, series, state, user_key, what_if};
use snapshot::snapshot;

use crate::domain::{
    BookingWizardForm, CancelBooking, ChangeUserAddress, ProjectorId, RescheduleBooking, Table,
    user_id_for_email,
};
use crate::engine::bulk::BulkSpec;
use crate::engine::{
    CommandOutcome, Engine, EngineConfig, EngineError, EngineNotice, JobControl, Pairing, Progress,
    ReplayOptions,
};
use crate::store::{EventFilter, LedgerEntry, StoreConfig, StoreError, open_stores};

/// Exit code for success.
pub const EXIT_OK: i32 = 0;
/// Exit code when `verify` finds drift.
pub const EXIT_DRIFT: i32 = 1;
/// Exit code for bad input or an unreachable store.
pub const EXIT_ERROR: i32 = 2;
/// Exit code when `project` cannot catch up (the reason is printed).
pub const EXIT_NOT_CAUGHT_UP: i32 = 3;

/// A failure to report: one sentence and an exit code.
#[derive(Debug)]
pub struct CliError {
    /// Process exit code.
    pub code: i32,
    /// The sentence.
    pub message: String,
}

impl CliError {
    fn input(message: impl Into<String>) -> Self {
        CliError {
            code: EXIT_ERROR,
            message: message.into(),
        }
    }
}

impl From<EngineError> for CliError {
    fn from(e: EngineError) -> Self {
        CliError::input(e.to_string())
    }
}

impl From<StoreError> for CliError {
    fn from(e: StoreError) -> Self {
        CliError::input(e.to_string())
    }
}

type CliResult<T> = Result<T, CliError>;

/// The store configuration the flags describe (read-only with `--observe`).
pub fn store_config(cli: &Cli) -> StoreConfig {
    StoreConfig {
        data_dir: cli
            .data_dir
            .clone()
            .unwrap_or_else(StoreConfig::default_data_dir),
        mongo_uri: cli.mongo_uri.clone().filter(|u| !u.trim().is_empty()),
        mongo_db: cli.mongo_db.clone(),
        postgres_url: cli.postgres_url.clone().filter(|u| !u.trim().is_empty()),
        postgres_service: cli
            .postgres_service
            .clone()
            .filter(|s| !s.trim().is_empty()),
        postgres_password: None,
        mongo_user: cli.mongo_user.clone().filter(|u| !u.trim().is_empty()),
        mongo_password: std::env::var(crate::store::credentials::MONGO_PASSWORD_ENV)
            .ok()
            .filter(|p| !p.is_empty())
            .map(crate::store::Secret::new),
        mongo_password_file: cli.mongo_password_file.clone(),
        connect_timeout: Duration::from_secs(cli.connect_timeout_secs.max(1)),
        read_only: cli.observe,
    }
}

/// The engine configuration the flags describe.
pub fn engine_config(cli: &Cli, actor_kind: &str) -> EngineConfig {
    let user = std::env::var("USER").unwrap_or_else(|_| "user".into());
    let mut config = EngineConfig::new(format!("{actor_kind}:{user}"));
    config.snapshot_every = cli.snapshot_every;
    config.snapshot_delta_every = cli.snapshot_delta_every;
    config.hole_timeout = Duration::from_secs(cli.hole_timeout_secs);
    config
}

/// Opens the stores and the engine for a subcommand that writes (or, with
/// `--observe`, for an inspection that refuses every write).
async fn open_engine(cli: &Cli) -> CliResult<Arc<Engine>> {
    open_engine_as(cli, cli.observe).await
}

/// Opens the stores read-only, for a subcommand that only reads: nothing is
/// created, not even a data dir, and a read-only copy works.
async fn open_for_reading(cli: &Cli) -> CliResult<Arc<Engine>> {
    open_engine_as(cli, true).await
}

async fn open_engine_as(cli: &Cli, read_only: bool) -> CliResult<Arc<Engine>> {
    let config = StoreConfig {
        read_only,
        ..store_config(cli)
    };
    let stores = open_stores(&config).await?;
    let engine = Engine::new(stores, engine_config(cli, "cli"));
    engine.set_observe_only(read_only);
    Ok(engine)
}

fn json_flag(command: &Command) -> bool {
    match command {
        Command::Emit(a) => a.out.json,
        Command::Cancel { out, .. }
        | Command::Reschedule { out, .. }
        | Command::ChangeAddress { out, .. }
        | Command::Events { out, .. }
        | Command::Status { out }
        | Command::Project { out }
        | Command::Run { out }
        | Command::State { out, .. }
        | Command::Diff { out, .. }
        | Command::History { out, .. }
        | Command::Series { out, .. }
        | Command::WhatIf { out, .. }
        | Command::Verify { out, .. }
        | Command::Repair { out, .. }
        | Command::Repairs { out, .. }
        | Command::Replay { out, .. }
        | Command::Import { out, .. }
        | Command::Subject { out, .. } => out.json,
        Command::Export { json, .. } => json.json,
        Command::Open { .. } => false,
        Command::Model { action } => action.json(),
        Command::Snapshot { action } => match action {
            SnapshotAction::Take { out, .. }
            | SnapshotAction::List { out }
            | SnapshotAction::Restore { out, .. } => out.json,
        },
    }
}

/// Runs a subcommand; returns the process exit code.
pub async fn run(cli: Cli) -> i32 {
    let Some(command) = cli.command.as_ref() else {
        eprintln!("no subcommand given; see ledgerscope --help");
        return EXIT_ERROR;
    };
    let json = json_flag(command);
    match dispatch(&cli, command, json).await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {}", error.message);
            if json {
                print_json(&json!({ "error": error.message, "exit_code": error.code }));
            }
            error.code
        }
    }
}

fn print_json(value: &Value) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{value}");
}

fn parse_uuid(text: &str, what: &str) -> CliResult<Uuid> {
    Uuid::parse_str(text.trim())
        .map_err(|_| CliError::input(format!("{what} '{}' is not a UUID", text.trim())))
}

fn command_id(id: &Option<String>) -> CliResult<Uuid> {
    match id {
        Some(text) => parse_uuid(text, "--id"),
        None => Ok(Uuid::new_v4()),
    }
}

async fn dispatch(cli: &Cli, command: &Command, json: bool) -> CliResult<i32> {
    match command {
        Command::Emit(args) => emit(cli, args).await,
        Command::Open { .. } => Err(CliError::input(open::NOT_HEADLESS)),
        Command::Cancel {
            booking,
            reason,
            id,
            ..
        } => {
            // The command is checked before any store is opened.
            let cmd =
                CancelBooking::new(command_id(id)?, parse_uuid(booking, "--booking")?, reason)
                    .map_err(EngineError::Invalid)?;
            let engine = open_engine(cli).await?;
            let outcome = engine.cancel_booking(cmd).await?;
            finish_single(&engine, &outcome, json).await
        }
        Command::Reschedule {
            booking,
            check_in,
            check_out,
            id,
            ..
        } => {
            let cmd = RescheduleBooking::new(
                command_id(id)?,
                parse_uuid(booking, "--booking")?,
                check_in,
                check_out,
            )
            .map_err(EngineError::Invalid)?;
            let engine = open_engine(cli).await?;
            let outcome = engine.reschedule_booking(cmd).await?;
            finish_single(&engine, &outcome, json).await
        }
        Command::ChangeAddress {
            user, address, id, ..
        } => {
            let user_id = user_key(user)?;
            let cmd = ChangeUserAddress::new(command_id(id)?, user_id, address)
                .map_err(EngineError::Invalid)?;
            let engine = open_engine(cli).await?;
            let outcome = engine.change_user_address(cmd).await?;
            finish_single(&engine, &outcome, json).await
        }
        Command::Events {
            from,
            limit,
            event_type,
            aggregate,
            ..
        } => {
            events(
                cli,
                *from,
                usize::try_from(*limit).unwrap_or(usize::MAX),
                event_type.clone(),
                aggregate.as_deref(),
                json,
            )
            .await
        }
        Command::History { booking, user, .. } => {
            history(cli, booking.as_deref(), user.as_deref(), json).await
        }
        Command::Series { by, .. } => series(cli, *by, json).await,
        Command::WhatIf {
            exclude,
            exclude_aggregate,
            exclude_type,
            exclude_range,
            at,
            limit,
            ..
        } => {
            if exclude.contains(&0) {
                return Err(CliError::input(
                    "--exclude 0 names no event: positions start at 1",
                ));
            }
            let mut exclusion = crate::domain::Exclusion {
                positions: exclude.iter().copied().collect(),
                event_types: exclude_type.iter().map(|t| t.trim().to_string()).collect(),
                ..Default::default()
            };
            for aggregate in exclude_aggregate {
                exclusion
                    .aggregates
                    .insert(parse_uuid(aggregate, "--exclude-aggregate")?);
            }
            for range in exclude_range {
                exclusion.ranges.push(
                    crate::domain::Exclusion::parse_range(range)
                        .map_err(|e| CliError::input(format!("--exclude-range: {e}")))?,
                );
            }
            if exclusion.is_empty() {
                return Err(CliError::input(
                    "whatif needs something to leave out: --exclude P[,P...], --exclude-aggregate ID, --exclude-type T or --exclude-range A..B",
                ));
            }
            let limit = usize::try_from(*limit).unwrap_or(usize::MAX);
            what_if(cli, &exclusion, *at, limit, json).await
        }
        Command::Status { .. } => status(cli, json).await,
        Command::Project { .. } => project(cli, json).await,
        Command::Run { .. } => run_instance(cli, json).await,
        Command::State { at, .. } => state(cli, *at, json).await,
        Command::Diff {
            from, to, limit, ..
        } => {
            diff(
                cli,
                *from,
                *to,
                usize::try_from(*limit).unwrap_or(usize::MAX),
                json,
            )
            .await
        }
        Command::Verify {
            report,
            report_format,
            ..
        } => verify(cli, json, report.as_deref().map(|p| (p, *report_format))).await,
        Command::Repair {
            yes,
            report,
            report_format,
            ..
        } => {
            repair::repair(
                cli,
                *yes,
                report.as_deref().map(|p| (p, *report_format)),
                json,
            )
            .await
        }
        Command::Repairs { limit, .. } => repair::repairs(cli, *limit, json).await,
        Command::Replay {
            from_snapshot,
            rebuild_foreign,
            ..
        } => replay(cli, *from_snapshot, *rebuild_foreign, json).await,
        Command::Snapshot { action } => snapshot(cli, action, json).await,
        Command::Model { action } => model::model(cli, action, json).await,
        Command::Export {
            out,
            pseudonymize,
            key_file,
            ..
        } => personal::export(cli, out, *pseudonymize, key_file.as_deref(), json).await,
        Command::Subject { user, .. } => personal::subject(cli, user, json).await,
        Command::Import { file, .. } => {
            let engine = open_engine(cli).await?;
            let report = engine.import_ndjson(file, &progress_printer()).await?;
            if json {
                print_json(&serde_json::to_value(&report).unwrap_or(Value::Null));
            } else {
                eprintln!(
                    "imported {} new event(s), {} already present; head is {}",
                    report.imported, report.duplicates, report.head
                );
                for flag in &report.flagged {
                    eprintln!(
                        "  flagged line {} (event {}): {}",
                        flag.line, flag.event_id, flag.reason
                    );
                }
            }
            Ok(EXIT_OK)
        }
    }
}

/// How long a command's answer waits for the views to take its events:
/// commands never wait on a read store that is down, slow or locked.
const POST_COMMAND_PROJECTION: Duration = Duration::from_secs(2);

/// Why the views did not take a command's events.
enum ProjectionFailure {
    /// The read tables are another ledger's: nothing is projected into them.
    Foreign(String),
    /// Anything else: the views catch up later.
    Other(String),
}

/// Final catch-up after commands: best effort and bounded; a read store that
/// is down or busy only lags (the views catch up on the next `project` or `run`).
async fn project_after_commands(engine: &Arc<Engine>) -> Value {
    let task = {
        let engine = engine.clone();
        tokio::spawn(async move {
            let mut error = None;
            let mut lag = serde_json::Map::new();
            for p in ProjectorId::ALL {
                match engine.project_with_lease(p, false).await {
                    Ok(_) => {}
                    Err(EngineError::Foreign(f)) => {
                        error = Some(ProjectionFailure::Foreign(f.to_string()));
                    }
                    Err(e) => error = Some(ProjectionFailure::Other(e.to_string())),
                }
                let status = engine.refresh_status(p).await.ok();
                lag.insert(p.name().into(), json!(status.map(|s| s.lag_events)));
            }
            (error, lag)
        })
    };
    // The task is left to finish on its own if it takes too long (its work
    // is idempotent, and dropping a store call mid-flight is not safe).
    let (error, lag) = match tokio::time::timeout(POST_COMMAND_PROJECTION, task).await {
        Ok(Ok(done)) => done,
        Ok(Err(e)) => (
            Some(ProjectionFailure::Other(format!("projecting stopped: {e}"))),
            Default::default(),
        ),
        Err(_) => (
            Some(ProjectionFailure::Other(format!(
                "{} did not take the events within {} s (busy, locked or slow)",
                engine.read_info(),
                POST_COMMAND_PROJECTION.as_secs()
            ))),
            Default::default(),
        ),
    };
    match &error {
        Some(ProjectionFailure::Foreign(sentence)) => eprintln!("warning: {sentence}"),
        Some(ProjectionFailure::Other(error)) => eprintln!(
            "warning: the views were not updated ({error}); they catch up on the next `project` or `run`"
        ),
        None => {}
    }
    let error = error.map(|e| match e {
        ProjectionFailure::Foreign(s) | ProjectionFailure::Other(s) => s,
    });
    json!({ "projected": error.is_none(), "lag": lag, "projection_error": error })
}

async fn finish_single(
    engine: &Arc<Engine>,
    outcome: &CommandOutcome,
    json: bool,
) -> CliResult<i32> {
    let projection = if outcome.duplicate {
        Value::Null
    } else {
        project_after_commands(engine).await
    };
    let event = &outcome.event;
    if json {
        print_json(&json!({
            "duplicate": outcome.duplicate,
            "emitted": u64::from(!outcome.duplicate),
            "duplicates": u64::from(outcome.duplicate),
            "position": event.position,
            "event_id": event.event_id,
            "aggregate_id": event.aggregate_id,
            "event_type": event.event_type,
            "head": engine.head().await?,
            "trace": outcome.trace,
            "projection": projection,
        }));
    } else {
        let what = if outcome.duplicate {
            "duplicate: already stored"
        } else {
            "stored"
        };
        eprintln!(
            "{what}: {} {} at position {} ({})",
            event.event_type,
            event.aggregate_id,
            event.position,
            event.summary()
        );
        for step in &outcome.trace.steps {
            eprintln!("  {:<8} {:>8} µs  {}", step.name, step.micros, step.detail);
        }
    }
    Ok(EXIT_OK)
}

/// Cancels `job` on Ctrl-C.
/// Cancels `job` on Ctrl-C or SIGTERM: the command stops after its current
/// step and still prints its summary (and logs its `finished` line).
fn spawn_stop_signal(job: JobControl) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        wait_for_stop_signal().await;
        eprintln!("interrupted: stopping after the current step");
        job.cancel();
    })
}

/// A job whose progress prints to stderr on every phase change and at most
/// once a second within a phase.
fn progress_printer() -> JobControl {
    let last = std::sync::Mutex::new((Instant::now(), None));
    JobControl::new(move |p: &Progress| {
        if let Ok(mut last) = last.lock()
            && (last.1 != Some(p.phase) || last.0.elapsed() >= Duration::from_secs(1))
        {
            *last = (Instant::now(), Some(p.phase));
            eprintln!(
                "  {:?}: {}/{} at {:.0}/s, ETA {:.0}s",
                p.phase,
                p.done,
                p.total,
                p.rate_per_sec,
                p.eta_secs.unwrap_or(0.0)
            );
        }
    })
}

async fn status(cli: &Cli, json: bool) -> CliResult<i32> {
    let engine = open_for_reading(cli).await?;
    let report = engine.status().await?;
    let pairing = report.pairing.as_ref().map(|p| {
        let mut value = serde_json::to_value(p).unwrap_or(Value::Null);
        if let Some(foreign) = p.foreign() {
            value["message"] = json!(foreign.to_string());
        }
        value
    });
    let value = json!({
        "head": report.head,
        "events": report.events,
        "unpositioned": report.census.unpositioned,
        "missing_positions": report.census.missing_positions(),
        "holes": report.holes,
        "ledger": {
            "kind": report.ledger.kind,
            "location": report.ledger.location,
            "reachable": true,
            "id": report.ledger_id,
        },
        "read_store": {
            "kind": report.read_store.info.kind,
            "location": report.read_store.info.location,
            "reachable": report.read_store.reachable,
            "missing": report.read_store.missing,
            "error": report.read_store.error,
            "built_from": report.read_store.stamp.map(|s| s.ledger_id),
            "built_with": report.read_store.stamp.map(|s| s.versions),
        },
        "model_versions": report.model_versions,
        "schema": report.pairing.as_ref().and_then(Pairing::foreign).and_then(|f| f.other_schema()),
        "pairing": pairing,
        "projectors": report.projectors,
        "snapshots": report.snapshots,
        "usable_snapshots": report.usable_snapshots,
        "latest_snapshot_position": report.latest_snapshot_position,
        "observe_only": report.observe_only,
    });
    if json {
        print_json(&value);
    } else {
        let id = report
            .ledger_id
            .map_or_else(|| "no id".to_string(), crate::engine::pairing::short_id);
        eprintln!(
            "ledger:     {} (ledger {id}, head {}, {} rows)",
            report.ledger, report.head, report.events
        );
        if report.census.unpositioned > 0 {
            eprintln!(
                "            {} row(s) without a usable position (malformed; see verify)",
                report.census.unpositioned
            );
        }
        for hole in &report.holes {
            eprintln!("            hole: {}", hole.no_event());
        }
        match (&report.read_store.error, report.read_store.missing) {
            (Some(e), true) => eprintln!("read store: MISSING: {e}"),
            (Some(e), false) => {
                eprintln!("read store: {} UNREACHABLE: {e}", report.read_store.info)
            }
            (None, _) => eprintln!("read store: {}", report.read_store.info),
        }
        if let Some(message) = report.foreign_message() {
            match report
                .pairing
                .as_ref()
                .and_then(Pairing::foreign)
                .and_then(|f| f.other_schema())
            {
                Some(_) => eprintln!("OTHER SCHEMA: {message}"),
                None => eprintln!("NOT THIS LEDGER'S: {message}"),
            }
        }
        for p in &report.projectors {
            eprintln!(
                "  {:<18} checkpoint {:>8}  lag {:>8}  skipped {}  holes {}{}",
                p.name,
                p.checkpoint,
                p.lag,
                p.skipped.len(),
                p.holes.len(),
                p.last_error.as_ref().map_or_else(String::new, |e| format!(
                    "  failing{}: {e}",
                    p.error_since
                        .map(|t| format!(" since {}", t.format("%Y-%m-%d %H:%M:%S UTC")))
                        .unwrap_or_default()
                ))
            );
        }
        eprintln!(
            "snapshots:  {} of this ledger ({} stored)",
            report.usable_snapshots, report.snapshots
        );
    }
    Ok(EXIT_OK)
}

/// How long `project` waits for another instance holding a projector's
/// lease to reach the head before it says so.
const WAIT_FOR_HOLDER: Duration = Duration::from_secs(10);

async fn project(cli: &Cli, json: bool) -> CliResult<i32> {
    let engine = open_engine(cli).await?;
    engine.guard_write("projecting")?;
    // Tables of another ledger are refused, and tables of a build without
    // identities are checked and adopted, before any projector writes.
    let pairing = engine.check_pairing().await?;
    match &pairing {
        Pairing::Foreign(foreign) => {
            return Err(CliError {
                code: EXIT_NOT_CAUGHT_UP,
                message: foreign.to_string(),
            });
        }
        Pairing::Adopted { checked_rows, .. } if *checked_rows > 0 => eprintln!(
            "adopted the read tables in {}: made by a build without ledger identities, \
             {checked_rows} sampled row(s) were checked against this ledger; they are \
             stamped with its id now",
            engine.read_info()
        ),
        Pairing::Adopted { .. } | Pairing::Paired { .. } | Pairing::Unstamped { .. } => {}
    }
    let mut checkpoints = BTreeMap::new();
    let mut reasons = Vec::new();
    let mut events = 0;
    let mut skipped = Vec::new();
    let mut holes = Vec::new();
    for p in ProjectorId::ALL {
        let mut held_since: Option<Instant> = None;
        loop {
            match engine.project_with_lease(p, false).await {
                Ok(Some(report)) => {
                    events += report.events;
                    skipped.extend(report.skipped);
                    holes.extend(report.holes);
                    checkpoints.insert(p.name().to_string(), report.position);
                    // A hole still within its timeout: wait it out, then cross it.
                    if let Some((hole, left)) = report.waiting_for {
                        eprintln!(
                            "{}: {} yet; waiting {:.1} s before crossing it",
                            p.name(),
                            hole.no_event(),
                            left.as_secs_f64()
                        );
                        tokio::time::sleep(left).await;
                        continue;
                    }
                    break;
                }
                Ok(None) => {
                    let status = engine.refresh_status(p).await?;
                    checkpoints.insert(p.name().to_string(), status.checkpoint);
                    if status.lag_events == 0 {
                        break;
                    }
                    let since = *held_since.get_or_insert_with(Instant::now);
                    if since.elapsed() >= WAIT_FOR_HOLDER {
                        reasons.push(format!(
                            "{} is projected by {}, which is {} event(s) behind the head",
                            p.name(),
                            status
                                .lease_holder
                                .unwrap_or_else(|| "another instance".into()),
                            status.lag_events
                        ));
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(EngineError::Foreign(foreign)) => {
                    return Err(CliError {
                        code: EXIT_NOT_CAUGHT_UP,
                        message: foreign.to_string(),
                    });
                }
                // Unreachable or unusable stores are errors (exit 2), as elsewhere.
                Err(e) => return Err(e.into()),
            }
        }
    }
    let head = engine.head().await?;
    for (name, checkpoint) in &checkpoints {
        if *checkpoint < head && !reasons.iter().any(|r| r.starts_with(name.as_str())) {
            reasons.push(format!("{name} stopped at {checkpoint} of {head}"));
        }
    }
    let caught_up = reasons.is_empty();
    skipped.sort_unstable();
    skipped.dedup();
    holes.sort_unstable();
    holes.dedup();
    let reason = (!caught_up).then(|| reasons.join("; "));
    if json {
        print_json(&json!({
            "caught_up": caught_up, "checkpoints": checkpoints, "head": head, "events": events,
            "skipped": skipped, "holes": holes, "reason": reason, "pairing": pairing,
        }));
    } else {
        eprintln!("projected {events} event(s); head {head}; checkpoints {checkpoints:?}");
        if !skipped.is_empty() {
            eprintln!("skipped malformed or unknown events at positions {skipped:?}");
        }
        for hole in &holes {
            eprintln!("crossed a hole: {}", hole.no_event());
        }
    }
    match reason {
        None => Ok(EXIT_OK),
        Some(reason) => {
            eprintln!("error: not caught up: {reason}");
            Ok(EXIT_NOT_CAUGHT_UP)
        }
    }
}

async fn run_instance(cli: &Cli, json: bool) -> CliResult<i32> {
    let engine = open_engine(cli).await?;
    let shutdown = CancellationToken::new();
    if let Ok(Pairing::Foreign(foreign)) = engine.check_pairing().await {
        eprintln!("warning: {foreign}");
    }
    let mut tasks = vec![spawn_notice_printer(&engine, shutdown.clone())];
    tasks.extend(engine.spawn_projectors(shutdown.clone()));
    tasks.push(engine.spawn_auto_snapshots(shutdown.clone()));
    eprintln!(
        "instance {} projecting {} -> {}; Ctrl-C or SIGTERM stops it",
        engine.config().instance_id,
        engine.ledger_info(),
        engine.read_info()
    );
    wait_for_stop_signal().await;
    shutdown.cancel();
    for task in tasks {
        let _ = task.await;
    }
    if json {
        let statuses = engine.projector_statuses();
        print_json(&json!({ "stopped": true, "projectors": statuses }));
    }
    Ok(EXIT_OK)
}

/// Tells stderr what a headless instance's background work runs into:
/// failures (once per message), holes crossed, snapshots that failed.
fn spawn_notice_printer(
    engine: &Arc<Engine>,
    shutdown: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    let mut notices = engine.bus().subscribe_notices();
    tokio::spawn(async move {
        let mut last_failure: BTreeMap<ProjectorId, String> = BTreeMap::new();
        loop {
            let notice = tokio::select! {
                _ = shutdown.cancelled() => break,
                notice = notices.recv() => match notice {
                    Ok(notice) => notice,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(_) => break,
                },
            };
            match notice {
                EngineNotice::ProjectorFailed { projector, message }
                    if last_failure.get(&projector) != Some(&message) =>
                {
                    eprintln!("{}: {message} (retrying)", projector.name());
                    last_failure.insert(projector, message);
                }
                EngineNotice::ProjectionApplied { projector, .. }
                    if last_failure.remove(&projector).is_some() =>
                {
                    eprintln!("{}: projecting again", projector.name());
                }
                EngineNotice::HoleCrossed { projector, hole } => {
                    eprintln!("{}: crossed a hole ({})", projector.name(), hole.no_event());
                }
                EngineNotice::SnapshotFailed(message) => {
                    eprintln!("automatic snapshot failed: {message}");
                }
                _ => {}
            }
        }
    })
}

async fn wait_for_stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

async fn verify(cli: &Cli, json: bool, file: Option<repair::ReportFile<'_>>) -> CliResult<i32> {
    let engine = open_for_reading(cli).await?;
    let job = progress_printer();
    let ctrl_c = spawn_stop_signal(job.clone());
    let result = engine.verify_with(&job, &|_, _| {}).await;
    ctrl_c.abort();
    let report = result?;
    repair::write_verify_report(&engine, &report, file).await?;
    let rows: Vec<Value> = report
        .rows()
        .take(200)
        .map(|(table, row)| {
            let kind = match row {
                crate::domain::RowDiff::Added { .. } => "missing",
                crate::domain::RowDiff::Removed { .. } => "extra",
                crate::domain::RowDiff::Changed { .. } => "different",
            };
            let columns = match row {
                crate::domain::RowDiff::Changed { columns, .. } => json!(columns),
                _ => Value::Null,
            };
            json!({ "table": table, "kind": kind, "key": row.key(), "last_position": row.last_position(), "columns": columns })
        })
        .collect();
    if json {
        print_json(&json!({
            "in_sync": report.in_sync,
            "head": report.head,
            "checked_rows": report.checked_rows,
            "missing": report.missing,
            "extra": report.extra,
            "different": report.different,
            "rows": rows,
            "malformed": report.malformed.iter().map(|m| json!({"position": m.position, "reason": m.reason})).collect::<Vec<_>>(),
            "unpositioned": report.unpositioned,
            "holes": report.holes,
            "lag": report.lag_events.iter().cloned().collect::<BTreeMap<_, _>>(),
        }));
    } else {
        eprintln!(
            "{}: {} rows checked; {} missing, {} extra, {} different",
            if report.in_sync { "in sync" } else { "DRIFT" },
            report.checked_rows,
            report.missing,
            report.extra,
            report.different
        );
        for row in &rows {
            eprintln!(
                "  {} {} row {} (last changed at position {}){}",
                row["table"].as_str().unwrap_or_default(),
                row["kind"].as_str().unwrap_or_default(),
                row["key"].as_str().unwrap_or_default(),
                row["last_position"],
                match &row["columns"] {
                    Value::Array(c) => format!(" columns {}", Value::Array(c.clone())),
                    _ => String::new(),
                }
            );
        }
        for m in &report.malformed {
            match m.position {
                0 => eprintln!("  malformed ledger row without a position: {}", m.reason),
                p => eprintln!("  malformed ledger entry at position {p}: {}", m.reason),
            }
        }
        for hole in &report.holes {
            eprintln!("  hole: {} (crossed)", hole.no_event());
        }
        for (p, lag) in &report.lag_events {
            if *lag > 0 {
                eprintln!("  {p} is {lag} event(s) behind the head (compared at its checkpoint)");
            }
        }
    }
    Ok(if report.in_sync { EXIT_OK } else { EXIT_DRIFT })
}

async fn replay(
    cli: &Cli,
    from_snapshot: bool,
    rebuild_foreign: bool,
    json: bool,
) -> CliResult<i32> {
    let engine = open_engine(cli).await?;
    let job = progress_printer();
    let ctrl_c = spawn_stop_signal(job.clone());
    let options = ReplayOptions {
        from_snapshot,
        rebuild_foreign,
    };
    let result = engine.replay_recorded(options, &job).await.map(|(r, _)| r);
    if let Err(EngineError::Foreign(foreign)) = &result {
        let with = match foreign.other_schema() {
            Some(_) => "rebuild them with this build's schema",
            None => "replace them with this ledger's",
        };
        return Err(CliError::input(format!(
            "{foreign}; run `replay --rebuild-foreign` to {with}"
        )));
    }
    ctrl_c.abort();
    let report = result?;
    if json {
        let mut value = serde_json::to_value(&report).unwrap_or(Value::Null);
        value["target"] = json!(engine.read_info().to_string());
        value["events_per_sec"] =
            json!(report.events as f64 / (report.elapsed_ms.max(1) as f64 / 1000.0));
        print_json(&value);
    } else {
        eprintln!(
            "replayed {} event(s) into {} rows of {} in {} ms (reading and folding {} ms, writing {} ms){}",
            report.events,
            report.rows,
            engine.read_info(),
            report.elapsed_ms,
            report.fold_ms,
            report.load_ms,
            report
                .from_snapshot
                .as_ref()
                .map(|s| format!(" (from snapshot at position {})", s.position))
                .unwrap_or_default()
        );
    }
    Ok(EXIT_OK)
}
