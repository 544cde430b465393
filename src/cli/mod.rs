//! The headless command line: every engine operation as a subcommand. With
//! `--json` each prints exactly one JSON object on stdout (NDJSON for
//! `events`); messages go to stderr. Exit codes: 0 success, 1 `verify` found
//! drift, 2 bad input or an unreachable store.

pub mod args;
mod emit;
pub mod model;
pub mod open;
mod personal;
mod projection;
mod query;
mod rebuild;
pub mod repair;
mod snapshot;

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub use args::{Cli, Command};
use args::{EmitArgs, SnapshotAction};
use emit::emit;
use projection::{project, run_instance, status, wait_for_stop_signal};
use query::{diff, events, history, series, state, user_key, what_if};
use rebuild::{replay, verify};
use snapshot::snapshot;

use crate::domain::mask::Mask;
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
    config.models_dir = Some(store_config(cli).data_dir);
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
        Command::Open { .. } | Command::CrashTest => false,
        Command::Model { action } => action.json(),
        Command::Snapshot { action } => match action {
            SnapshotAction::Take { out, .. }
            | SnapshotAction::List { out }
            | SnapshotAction::Restore { out, .. } => out.json,
        },
    }
}

/// The mask of this run's output (off until [`run`] sets it).
static OUTPUT_MASK: OnceLock<Mask> = OnceLock::new();

/// The mask every output of this run goes through.
fn output_mask() -> Mask {
    OUTPUT_MASK.get().cloned().unwrap_or_default()
}

/// Whether the flags mask personal values: `--mask`, or by default on a
/// remote store and with `--observe`; `--unmask` shows them.
pub fn mask_wanted(cli: &Cli) -> bool {
    if cli.unmask {
        return false;
    }
    let config = store_config(cli);
    cli.mask
        || cli.observe
        || config.mongo_uri.is_some()
        || config.postgres_url.is_some()
        || config.postgres_service.is_some()
}

/// The mask the flags ask for, made with the data dir's key.
fn mask_of(cli: &Cli) -> Mask {
    if !mask_wanted(cli) {
        return Mask::off();
    }
    let data_dir = store_config(cli).data_dir;
    let makes_dir = !cli.observe && cli.command.as_ref().is_some_and(Command::writes);
    let (mask, note) = crate::store::mask_key::mask_for(&data_dir, makes_dir);
    if let Some(note) = note {
        tracing::warn!(%note, "mask key");
        eprintln!("note: {note}");
    }
    mask
}

/// Runs a subcommand; returns the process exit code.
pub async fn run(cli: Cli) -> i32 {
    let Some(command) = cli.command.as_ref() else {
        eprintln!("no subcommand given; see ledgerscope --help");
        return EXIT_ERROR;
    };
    let json = json_flag(command);
    let _ = OUTPUT_MASK.set(mask_of(&cli));
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

/// Prints one JSON answer, its personal values masked when mask mode is on.
fn print_json(value: &Value) {
    let mask = output_mask();
    let masked = mask.is_on().then(|| {
        let mut value = value.clone();
        mask.json(&mut value);
        value
    });
    let _ = writeln!(
        std::io::stdout().lock(),
        "{}",
        masked.as_ref().unwrap_or(value)
    );
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
        Command::CrashTest => panic!("a crash on purpose (ledgerscope crash-test)"),
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
            // The published models after the built-in tables.
            for (model, result) in engine.catch_up_published().await.unwrap_or_else(|e| {
                error = Some(ProjectionFailure::Other(e.to_string()));
                Vec::new()
            }) {
                if let Err(e) = result {
                    error = Some(ProjectionFailure::Other(format!(
                        "published model {model}: {e}"
                    )));
                }
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
