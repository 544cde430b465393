//! The headless command line: every engine operation as a subcommand. With
//! `--json` each prints exactly one JSON object on stdout (NDJSON for
//! `events`); messages go to stderr. Exit codes: 0 success, 1 `verify` found
//! drift, 2 bad input or an unreachable store.

pub mod args;
pub mod open;
mod personal;
pub mod repair;

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub use args::{Cli, Command};
use args::{EmitArgs, SnapshotAction};

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

async fn emit(cli: &Cli, args: &EmitArgs) -> CliResult<i32> {
    let json = args.out.json;
    let single = args.email.is_some() || args.id.is_some();
    if single && args.count.is_some() {
        return Err(CliError::input(
            "--count cannot be combined with --id or the booking fields",
        ));
    }
    if single {
        let mut rng = crate::domain::generate::DemoRng::new(Uuid::new_v4().as_u64_pair().0);
        let generated = crate::domain::generate::booking_form(&mut rng, 1000);
        let form = BookingWizardForm {
            email: args.email.clone().unwrap_or(generated.email),
            name: args.name.clone().unwrap_or(generated.name),
            address: args.address.clone().unwrap_or(generated.address),
            service: args.service.clone().unwrap_or(generated.service),
            check_in: args.check_in.clone().unwrap_or(generated.check_in),
            check_out: args.check_out.clone().unwrap_or(generated.check_out),
            guests: args.guests.clone().unwrap_or(generated.guests),
            price: args.price.clone().unwrap_or(generated.price),
        };
        let id = command_id(&args.id)?;
        if id.get_version_num() != 4 {
            return Err(CliError::input(format!("--id {id} is not a UUID v4")));
        }
        // The form is checked before any store is opened.
        let cmd = form.validate(id).map_err(EngineError::Invalid)?;
        let engine = open_engine(cli).await?;
        let outcome = engine.submit_booking_wizard(cmd).await?;
        return finish_single(&engine, &outcome, json).await;
    }
    let engine = open_engine(cli).await?;
    let spec = BulkSpec {
        mix: args.mix,
        rate_per_sec: args.rate,
        ..BulkSpec::bookings(args.count.unwrap_or(1), args.seed)
    };
    let shutdown = CancellationToken::new();
    let tasks = if args.no_project {
        Vec::new()
    } else {
        engine.spawn_projectors(shutdown.clone())
    };
    let job = progress_printer();
    let ctrl_c = spawn_stop_signal(job.clone());
    let started = Instant::now();
    let result = engine.emit_bulk(&spec, &job).await;
    let elapsed = started.elapsed();
    ctrl_c.abort();
    shutdown.cancel();
    // The projectors stop at their next step; one held up by a busy read
    // store is not waited for (the final catch-up below is bounded too).
    for task in tasks {
        if tokio::time::timeout(Duration::from_secs(1), task)
            .await
            .is_err()
        {
            break;
        }
    }
    let report = result?;
    let projection = if args.no_project {
        Value::Null
    } else {
        project_after_commands(&engine).await
    };
    let snapshots = match engine.take_due_snapshots().await {
        Ok(taken) => taken.len(),
        Err(e) => {
            eprintln!("warning: automatic snapshots were not taken: {e}");
            0
        }
    };
    if json {
        print_json(&json!({
            "emitted": report.emitted,
            "duplicates": report.duplicates,
            "rejected": report.rejected,
            "head": report.head,
            "elapsed_ms": elapsed.as_millis() as u64,
            "commands_per_sec": report.done as f64 / elapsed.as_secs_f64().max(1e-9),
            "cancelled": job.is_cancelled(),
            "snapshots_taken": snapshots,
            "projection": projection,
        }));
    } else {
        eprintln!(
            "{} emitted, {} duplicate(s), {} rejected in {:.1}s; head is {}",
            report.emitted,
            report.duplicates,
            report.rejected,
            elapsed.as_secs_f64(),
            report.head
        );
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

fn entry_json(entry: &LedgerEntry) -> Value {
    match entry {
        Ok(e) => serde_json::to_value(e).unwrap_or(Value::Null),
        Err(bad) => json!({ "position": bad.position, "malformed": bad.reason, "raw": bad.raw }),
    }
}

async fn events(
    cli: &Cli,
    from: u64,
    limit: usize,
    event_type: Option<String>,
    aggregate: Option<&str>,
    json: bool,
) -> CliResult<i32> {
    let aggregate_id = aggregate
        .map(|a| parse_uuid(a, "--aggregate"))
        .transpose()?;
    let engine = open_for_reading(cli).await?;
    let filter = EventFilter {
        event_type,
        aggregate_id,
        ..EventFilter::default()
    };
    let entries = engine.events(from, limit, &filter).await?;
    let mut out = std::io::stdout().lock();
    for entry in &entries {
        let line = if json {
            entry_json(entry).to_string()
        } else {
            match entry {
                Ok(e) => format!(
                    "{:>8}  {}  {:<22} {} v{}  {}",
                    e.position,
                    e.recorded_at.format("%Y-%m-%d %H:%M:%S"),
                    e.event_type,
                    e.aggregate_id,
                    e.version,
                    e.summary()
                ),
                Err(bad) => format!("{:>8}  MALFORMED: {}", bad.position, bad.reason),
            }
        };
        if writeln!(out, "{line}").is_err() {
            break; // stdout closed (e.g. piped into head)
        }
    }
    Ok(EXIT_OK)
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

async fn state(cli: &Cli, at: Option<u64>, json: bool) -> CliResult<i32> {
    let engine = open_for_reading(cli).await?;
    let head = engine.head().await?;
    let at = at.unwrap_or(head);
    if at > head {
        return Err(CliError::input(format!(
            "--at {at} is past the head of the ledger ({head})"
        )));
    }
    let result = engine.state_at(at).await?;
    let counts = result.state.counts();
    let mut value = state_json(&result.state);
    value["position"] = json!(at);
    value["base"] = json!(result.base);
    value["folded_events"] = json!(result.folded_events);
    value["skipped"] = json!(
        result
            .skipped
            .iter()
            .map(|s| s.position)
            .collect::<Vec<_>>()
    );
    if json {
        print_json(&value);
    } else {
        eprintln!(
            "as of position {at}: {} users, {} bookings {:?}; digest {}",
            counts.users,
            counts.bookings,
            counts.bookings_by_status,
            result.state.digest()
        );
    }
    Ok(EXIT_OK)
}

/// The user under `--user`: a UUID, or an e-mail (the id is derived from it).
fn user_key(text: &str) -> CliResult<Uuid> {
    if text.contains('@') {
        Ok(user_id_for_email(text))
    } else {
        parse_uuid(text, "--user")
    }
}

async fn history(
    cli: &Cli,
    booking: Option<&str>,
    user: Option<&str>,
    json: bool,
) -> CliResult<i32> {
    let (table, key) = match (booking, user) {
        (Some(booking), _) => (Table::Bookings, parse_uuid(booking, "--booking")?),
        (None, Some(user)) => (Table::Users, user_key(user)?),
        (None, None) => {
            return Err(CliError::input(
                "history needs --booking ID or --user ID|EMAIL",
            ));
        }
    };
    let engine = open_for_reading(cli).await?;
    let history = engine.row_history(table, key).await?;
    if json {
        let versions: Vec<Value> = history
            .versions
            .iter()
            .map(|v| {
                let row: serde_json::Map<String, Value> = history
                    .columns
                    .iter()
                    .zip(&v.cells)
                    .map(|(c, cell)| (c.clone(), json!(cell)))
                    .collect();
                json!({
                    "position": v.position,
                    "event_type": v.event_type,
                    "recorded_at": v.recorded_at,
                    "actor": v.actor,
                    "row": row,
                    "changed": v.changed,
                })
            })
            .collect();
        print_json(&json!({
            "table": table,
            "key": key,
            "versions": versions,
            "skipped": history.skipped,
        }));
    } else if history.versions.is_empty() {
        eprintln!("no event of this ledger made a {} row {key}", table.name());
    } else {
        for v in &history.versions {
            let cells: Vec<String> = history
                .columns
                .iter()
                .zip(&v.cells)
                .filter(|(c, _)| v.changed.contains(c))
                .map(|(c, cell)| format!("{c}={cell}"))
                .collect();
            eprintln!(
                "{:>8}  {}  {:<22} {}  {}",
                v.position,
                v.recorded_at.format("%Y-%m-%d %H:%M:%S"),
                v.event_type,
                v.actor.as_deref().unwrap_or("-"),
                cells.join(", ")
            );
        }
    }
    if !history.skipped.is_empty() {
        eprintln!(
            "undecodable events about this row (they change nothing): {:?}",
            history.skipped
        );
    }
    Ok(EXIT_OK)
}

async fn series(cli: &Cli, by: crate::domain::SeriesBy, json: bool) -> CliResult<i32> {
    let engine = open_for_reading(cli).await?;
    let series = engine.series(by, &JobControl::default()).await?;
    if json {
        print_json(&serde_json::to_value(&series).unwrap_or(Value::Null));
    } else {
        eprintln!(
            "{:<24} {:>9} {:>8} {:>10} {:>10} {:>14}",
            "bucket", "position", "users", "confirmed", "cancelled", "revenue"
        );
        for p in &series.points {
            eprintln!(
                "{:<24} {:>9} {:>8} {:>10} {:>10} {:>14}",
                p.bucket,
                p.position,
                p.users,
                p.bookings_confirmed,
                p.bookings_cancelled,
                crate::domain::event::format_cents(p.revenue_cents)
            );
        }
    }
    if series.out_of_order_times > 0 {
        eprintln!(
            "{} events were recorded earlier than an event before them: a bucket by time holds the state after its last event in ledger order",
            series.out_of_order_times
        );
    }
    Ok(EXIT_OK)
}

fn state_json(state: &crate::domain::ReadState) -> Value {
    let counts = state.counts();
    json!({
        "position": state.position,
        "users": counts.users,
        "bookings": counts.bookings,
        "bookings_by_status": counts.bookings_by_status,
        "digest": state.digest(),
    })
}

fn table_diffs_json(diff: &crate::domain::StateDiff, limit: usize) -> Vec<Value> {
    diff.tables
        .iter()
        .map(|t| {
            let (added, removed, changed) = t.counts();
            json!({
                "table": t.table,
                "added": added,
                "removed": removed,
                "changed": changed,
                "columns": t.columns,
                "rows": t.rows.iter().take(limit).collect::<Vec<_>>(),
            })
        })
        .collect()
}

async fn what_if(
    cli: &Cli,
    exclusion: &crate::domain::Exclusion,
    at: Option<u64>,
    limit: usize,
    json: bool,
) -> CliResult<i32> {
    let engine = open_for_reading(cli).await?;
    let at = match at {
        Some(at) => at,
        None => engine.head().await?,
    };
    let report = engine
        .what_if(exclusion, at, &JobControl::default())
        .await?;
    if json {
        let mut value = state_json(&report.simulated);
        value["simulation"] = json!(true);
        value["revenue_cents"] = json!(report.simulated_revenue_cents);
        value["real"] = state_json(&report.real_state());
        value["real"]["revenue_cents"] = json!(report.real_revenue_cents);
        value["excluded_count"] = json!(report.excluded.len());
        value["excluded"] = json!(report.excluded.iter().take(1_000).collect::<Vec<_>>());
        value["no_ops"] = json!(report.no_ops);
        value["difference"] = json!(table_diffs_json(&report.difference, limit));
        print_json(&value);
    } else {
        let (real, simulated) = (&report.real_counts, &report.simulated_counts);
        eprintln!("SIMULATION (nothing is written) as of position {at}:");
        eprintln!(
            "  real:      {} users, {} bookings {:?}",
            real.users, real.bookings, real.bookings_by_status
        );
        eprintln!(
            "  simulated: {} users, {} bookings {:?}",
            simulated.users, simulated.bookings, simulated.bookings_by_status
        );
        let cents = crate::domain::event::format_cents;
        eprintln!(
            "  revenue of confirmed bookings: real {}, simulated {} ({})",
            cents(report.real_revenue_cents),
            cents(report.simulated_revenue_cents),
            crate::domain::event::format_signed_cents(
                report.simulated_revenue_cents - report.real_revenue_cents
            )
        );
        eprintln!("  left out: {} events", report.excluded.len());
        for t in &report.difference.tables {
            let (added, removed, changed) = t.counts();
            eprintln!("  {}: +{added} -{removed} ~{changed}", t.table);
        }
        for no_op in &report.no_ops {
            eprintln!(
                "  no-op: {} at {} acts on {} {}, which only left-out events made",
                no_op.event_type, no_op.position, no_op.table, no_op.key
            );
        }
    }
    if report.excluded.is_empty() {
        eprintln!(
            "nothing up to position {at} matches what to leave out: the simulation is the real state"
        );
    }
    Ok(EXIT_OK)
}

async fn diff(cli: &Cli, from: u64, to: Option<u64>, limit: usize, json: bool) -> CliResult<i32> {
    let engine = open_for_reading(cli).await?;
    let head = engine.head().await?;
    let to = to.unwrap_or(head);
    if from > head || to > head {
        return Err(CliError::input(format!(
            "positions must be at most the head of the ledger ({head})"
        )));
    }
    let diff = engine.diff_positions(from, to).await?;
    let tables = table_diffs_json(&diff, limit);
    if json {
        print_json(&json!({ "from": from, "to": to, "tables": tables }));
    } else {
        for t in &diff.tables {
            let (added, removed, changed) = t.counts();
            eprintln!("{}: +{added} -{removed} ~{changed}", t.table);
            for row in t.rows.iter().take(limit) {
                match row {
                    crate::domain::RowDiff::Added { key, .. } => eprintln!("  + {key}"),
                    crate::domain::RowDiff::Removed { key, .. } => eprintln!("  - {key}"),
                    crate::domain::RowDiff::Changed {
                        key,
                        columns,
                        last_position,
                        ..
                    } => eprintln!("  ~ {key} {columns:?} (position {last_position})"),
                }
            }
        }
    }
    Ok(EXIT_OK)
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

async fn snapshot(cli: &Cli, action: &SnapshotAction, json: bool) -> CliResult<i32> {
    let engine = match action {
        SnapshotAction::List { .. } => open_for_reading(cli).await?,
        _ => open_engine(cli).await?,
    };
    let value = match action {
        SnapshotAction::Take { at, .. } => {
            let head = engine.head().await?;
            if let Some(at) = at
                && *at > head
            {
                return Err(CliError::input(format!(
                    "--at {at} is past the head of the ledger ({head})"
                )));
            }
            let meta = engine.take_snapshot(*at, &JobControl::default()).await?;
            eprintln!(
                "snapshot {} at position {}: {} bytes in {} chunk(s)",
                meta.id, meta.position, meta.size_bytes, meta.chunks
            );
            serde_json::to_value(&meta).unwrap_or(Value::Null)
        }
        SnapshotAction::List { .. } => {
            let list = engine.list_snapshots().await?;
            let ledger = engine.ledger_identity().await?.map(|i| i.id);
            if !json {
                for s in &list {
                    let kind = match s.base {
                        _ if s.is_history() => "history (every position up to it)".to_string(),
                        None => "full".to_string(),
                        Some(base) if base.is_nil() => "delta of the empty ledger".to_string(),
                        Some(base) => format!("delta of {}", &base.to_string()[..8]),
                    };
                    let usable = if ledger.is_some() && s.ledger_id == ledger {
                        ""
                    } else {
                        "  NOT USED: of another ledger"
                    };
                    eprintln!(
                        "{}  position {:>8}  {kind}  {}  {} bytes  {} users  {} bookings{usable}",
                        s.id,
                        s.position,
                        s.taken_at.format("%Y-%m-%d %H:%M:%S"),
                        s.size_bytes,
                        s.users,
                        s.bookings
                    );
                }
            }
            let list: Vec<Value> = list
                .iter()
                .map(|s| {
                    let mut value = serde_json::to_value(s).unwrap_or(Value::Null);
                    value["usable"] = json!(ledger.is_some() && s.ledger_id == ledger);
                    value
                })
                .collect();
            json!({ "snapshots": list, "ledger_id": ledger })
        }
        SnapshotAction::Restore {
            id,
            rebuild_foreign,
            ..
        } => {
            let report = engine.restore_snapshot(id, *rebuild_foreign).await?;
            eprintln!(
                "read tables restored to snapshot {} (position {}); {} event(s) after it will be projected",
                report.snapshot.id, report.snapshot.position, report.events_to_catch_up
            );
            serde_json::to_value(&report).unwrap_or(Value::Null)
        }
    };
    if json {
        print_json(&value);
    }
    Ok(EXIT_OK)
}
