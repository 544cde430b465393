//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::engine::report::ReportFormat;

mod model;

pub use model::{ModelAction, RowsArgs};

/// A count of at least 1 (`--count`, `--limit`): one clear sentence otherwise.
fn positive(text: &str) -> Result<u64, String> {
    match text.trim().parse::<i128>() {
        Ok(n) if n >= 1 && n <= i128::from(u64::MAX) => Ok(n as u64),
        Ok(n) => Err(format!("must be a whole number of at least 1, not {n}")),
        Err(_) => Err(format!("must be a whole number, not '{text}'")),
    }
}

/// A position or size of 0 or more.
fn non_negative(text: &str) -> Result<u64, String> {
    match text.trim().parse::<i128>() {
        Ok(n) if n >= 0 && n <= i128::from(u64::MAX) => Ok(n as u64),
        Ok(n) => Err(format!("must be a whole number of 0 or more, not {n}")),
        Err(_) => Err(format!("must be a whole number, not '{text}'")),
    }
}

/// Seconds to wait: 1 to 3600.
fn timeout_secs(text: &str) -> Result<u64, String> {
    match text.trim().parse::<i128>() {
        Ok(n) if (1..=3600).contains(&n) => Ok(n as u64),
        Ok(n) => Err(format!("must be between 1 and 3600 seconds, not {n}")),
        Err(_) => Err(format!("must be a whole number of seconds, not '{text}'")),
    }
}

/// A rate in commands per second, above 0.
fn rate(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 => Ok(r),
        Ok(r) => Err(format!(
            "must be a number of commands per second above 0, not {r}"
        )),
        Err(_) => Err(format!(
            "must be a number of commands per second, not '{text}'"
        )),
    }
}

/// `position`, `day` or `hour`.
fn series_by(text: &str) -> Result<crate::domain::SeriesBy, String> {
    crate::domain::SeriesBy::parse(text)
        .ok_or_else(|| format!("must be position, day or hour, not '{text}'"))
}

/// Ledgerscope: explore an event-sourced booking system. With no subcommand
/// the window opens; subcommands run headless.
#[derive(Debug, Parser)]
#[command(
    name = "ledgerscope",
    version,
    about,
    long_about = None,
    // `--price -5` is a price to validate, not an unknown flag.
    allow_negative_numbers = true
)]
pub struct Cli {
    /// Directory of the embedded stores (ledger.sqlite3, views.sqlite3).
    #[arg(long, env = "LEDGERSCOPE_DATA_DIR", global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// MongoDB URI for the ledger (default: the embedded ledger). Keep the
    /// password out of it: --mongo-password-file or LEDGERSCOPE_MONGO_PASSWORD.
    #[arg(
        long,
        env = "LEDGERSCOPE_MONGO_URI",
        global = true,
        hide_env_values = true,
        value_name = "URI"
    )]
    pub mongo_uri: Option<String>,
    /// MongoDB database name.
    #[arg(
        long,
        env = "LEDGERSCOPE_MONGO_DB",
        global = true,
        default_value = "ledgerscope",
        value_name = "NAME"
    )]
    pub mongo_db: String,
    /// PostgreSQL URL or key=value string for the read models (default: the
    /// embedded views), completed from libpq's PG* variables, the service
    /// file and ~/.pgpass (e.g. postgres:///ledgerscope).
    #[arg(
        long,
        env = "LEDGERSCOPE_POSTGRES_URL",
        global = true,
        hide_env_values = true,
        value_name = "URL"
    )]
    pub postgres_url: Option<String>,
    /// A PostgreSQL service of `pg_service.conf` for the read models (the
    /// rest from libpq's environment and `~/.pgpass`).
    #[arg(
        long,
        env = "LEDGERSCOPE_POSTGRES_SERVICE",
        global = true,
        value_name = "NAME"
    )]
    pub postgres_service: Option<String>,
    /// The MongoDB user when the URI names none.
    #[arg(
        long,
        env = "LEDGERSCOPE_MONGO_USER",
        global = true,
        value_name = "NAME"
    )]
    pub mongo_user: Option<String>,
    /// A file whose first line is the MongoDB password (or set
    /// LEDGERSCOPE_MONGO_PASSWORD); a password in the URI wins.
    #[arg(
        long,
        env = "LEDGERSCOPE_MONGO_PASSWORD_FILE",
        global = true,
        value_name = "FILE"
    )]
    pub mongo_password_file: Option<PathBuf>,
    /// Observe-only: refuse every write.
    #[arg(long, global = true)]
    pub observe: bool,
    /// Show personal values (e-mails, names, addresses) as stable
    /// pseudonyms in every output and report. On by default for remote
    /// stores and with --observe.
    #[arg(
        long,
        global = true,
        env = "LEDGERSCOPE_MASK",
        conflicts_with = "unmask"
    )]
    pub mask: bool,
    /// Show personal values as they are, also on remote stores and with
    /// --observe (a deliberate act: the output then holds personal data).
    #[arg(long, global = true)]
    pub unmask: bool,
    /// Take a snapshot automatically every N events (0 = never).
    #[arg(
        long,
        env = "LEDGERSCOPE_SNAPSHOT_EVERY",
        global = true,
        default_value_t = 10_000,
        value_name = "N",
        value_parser = non_negative
    )]
    pub snapshot_every: u64,
    /// Between full snapshots, take a delta snapshot (only the row changes
    /// since the full one) every N events (0 = none). Time travel then reads
    /// at most N events past a snapshot.
    #[arg(
        long,
        env = "LEDGERSCOPE_SNAPSHOT_DELTA_EVERY",
        global = true,
        default_value_t = 1_000,
        value_name = "N",
        value_parser = non_negative
    )]
    pub snapshot_delta_every: u64,
    /// Seconds to wait for a server before giving up (1-3600).
    #[arg(long, global = true, default_value_t = 5, value_name = "SECS", value_parser = timeout_secs)]
    pub connect_timeout_secs: u64,
    /// Seconds a projector waits for a missing position below a stored one
    /// before it records the hole and moves past it (0 = at once).
    #[arg(
        long,
        env = "LEDGERSCOPE_HOLE_TIMEOUT_SECS",
        global = true,
        default_value_t = 5,
        value_name = "SECS",
        value_parser = non_negative
    )]
    pub hole_timeout_secs: u64,
    /// Log level or filter for the log file in the data dir's `logs/`
    /// (default: `RUST_LOG`, else info).
    #[arg(long, global = true, value_name = "LEVEL", value_parser = crate::logging::parse_filter)]
    pub log_level: Option<String>,
    /// What to do (none: open the window).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// `--json`: print exactly one JSON object on stdout (NDJSON for `events`).
#[derive(Debug, Args, Clone, Copy)]
pub struct JsonFlag {
    /// Print JSON on stdout; messages go to stderr.
    #[arg(long)]
    pub json: bool,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the booking wizard handler: N generated bookings, or one from the given fields.
    Emit(EmitArgs),
    /// Cancel a booking.
    Cancel {
        /// The booking's id.
        #[arg(long)]
        booking: String,
        /// Why.
        #[arg(long, default_value = "")]
        reason: String,
        /// The command's UUID (idempotency key; new if omitted).
        #[arg(long)]
        id: Option<String>,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Move a booking's dates.
    Reschedule {
        /// The booking's id.
        #[arg(long)]
        booking: String,
        /// New check-in, YYYY-MM-DD.
        #[arg(long)]
        check_in: String,
        /// New check-out, YYYY-MM-DD.
        #[arg(long)]
        check_out: String,
        /// The command's UUID (idempotency key; new if omitted).
        #[arg(long)]
        id: Option<String>,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Change a user's address (the old one stays in history).
    ChangeAddress {
        /// The user's id (or their e-mail).
        #[arg(long)]
        user: String,
        /// The new address.
        #[arg(long)]
        address: String,
        /// The command's UUID (idempotency key; new if omitted).
        #[arg(long)]
        id: Option<String>,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// List the ledger in order.
    #[command(allow_negative_numbers = true)]
    Events {
        /// First position.
        #[arg(long, default_value_t = 1, value_parser = non_negative)]
        from: u64,
        /// At most this many events.
        #[arg(long, default_value_t = 100, value_parser = positive)]
        limit: u64,
        /// Only this event type.
        #[arg(long = "type")]
        event_type: Option<String>,
        /// Only this aggregate.
        #[arg(long)]
        aggregate: Option<String>,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Head, stores and each projector's checkpoint and lag.
    Status {
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Run the projectors until they have caught up with the head (exit 3
    /// when they cannot, naming why).
    Project {
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Run projectors and automatic snapshots until interrupted (a headless instance).
    Run {
        #[command(flatten)]
        out: JsonFlag,
    },
    /// The state as of a position: counts and a content digest.
    #[command(allow_negative_numbers = true)]
    State {
        /// Position (default: the head).
        #[arg(long, value_parser = non_negative)]
        at: Option<u64>,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Rows added, removed and changed between the states at two positions.
    #[command(allow_negative_numbers = true)]
    Diff {
        /// Earlier position.
        #[arg(long, value_parser = non_negative)]
        from: u64,
        /// Later position (default: the head).
        #[arg(long, value_parser = non_negative)]
        to: Option<u64>,
        /// At most this many rows listed (counts are always complete).
        #[arg(long, default_value_t = 50, value_parser = non_negative)]
        limit: u64,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Every version of one read row, oldest first, with the event that made
    /// each and the cells it changed.
    History {
        /// The booking's id.
        #[arg(long, conflicts_with = "user")]
        booking: Option<String>,
        /// The user's id (or their e-mail).
        #[arg(long)]
        user: Option<String>,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// The derived state over time: users, bookings confirmed and cancelled,
    /// revenue of confirmed bookings (and by service), per bucket; the last
    /// point is the state at the head.
    Series {
        /// Buckets: position (equal ranges), day or hour of recorded_at.
        #[arg(long, default_value = "position", value_parser = series_by)]
        by: crate::domain::SeriesBy,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// A simulation: the state as if some events had never happened, beside
    /// the real one, with the difference and the later events that became
    /// no-ops. Nothing is written.
    #[command(name = "whatif", allow_negative_numbers = true)]
    WhatIf {
        /// Leave out the events at these positions (P[,P...]).
        #[arg(long, value_delimiter = ',', value_parser = non_negative)]
        exclude: Vec<u64>,
        /// Leave out every event of this aggregate (repeatable).
        #[arg(long)]
        exclude_aggregate: Vec<String>,
        /// Leave out every event of this type (repeatable).
        #[arg(long = "exclude-type")]
        exclude_type: Vec<String>,
        /// Leave out the positions A..B, inclusive (repeatable).
        #[arg(long)]
        exclude_range: Vec<String>,
        /// As of this position (default: the head).
        #[arg(long, value_parser = non_negative)]
        at: Option<u64>,
        /// At most this many differing rows listed (counts are always complete).
        #[arg(long, default_value_t = 50, value_parser = non_negative)]
        limit: u64,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Compare the read tables with the state the ledger implies (exit 1 on drift).
    Verify {
        /// Also write the findings (missing, extra and different rows with
        /// their cells, malformed entries, holes) to this file.
        #[arg(long)]
        report: Option<PathBuf>,
        /// The report's format: json or md (default: from the file's
        /// extension, else json).
        #[arg(long, value_parser = ReportFormat::parse, requires = "report")]
        report_format: Option<ReportFormat>,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Re-project only the rows that differ from what the ledger implies
    /// (their aggregates' events), under the projectors' leases, and keep the
    /// repair in the ledger store (exit 1 if drift remains after it).
    Repair {
        /// Confirms writing into the read store (asked on a terminal otherwise).
        #[arg(long)]
        yes: bool,
        /// Also write the repair's report (found before, replayed, found after).
        #[arg(long)]
        report: Option<PathBuf>,
        /// The report's format: json or md (default: from the file's extension).
        #[arg(long, value_parser = ReportFormat::parse, requires = "report")]
        report_format: Option<ReportFormat>,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// List the repairs kept in the ledger store, newest first.
    Repairs {
        /// At most this many.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Rebuild the read tables from the ledger and swap them in.
    Replay {
        /// Start from the newest snapshot instead of from zero.
        #[arg(long)]
        from_snapshot: bool,
        /// Confirms replacing read tables built from another ledger, or
        /// with other schema versions of the models (the error without it
        /// names both ledgers, or both versions).
        #[arg(long)]
        rebuild_foreign: bool,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Check, add, list, remove, build and read the read models users write.
    Model {
        #[command(subcommand)]
        action: ModelAction,
    },
    /// Take, list or restore snapshots.
    Snapshot {
        #[command(subcommand)]
        action: SnapshotAction,
    },
    /// Write the ledger as NDJSON.
    Export {
        /// Output file.
        #[arg(long)]
        out: PathBuf,
        /// A training copy: every e-mail, name, address and user id replaced by
        /// a keyed pseudonym (the same value, the same pseudonym); imported, it
        /// gives the same counts, histories and what-if answers.
        #[arg(long)]
        pseudonymize: bool,
        /// Key for the pseudonyms (a file of at least 16 bytes), so that two
        /// copies use the same ones; without it a random key, never written.
        #[arg(long, requires = "pseudonymize")]
        key_file: Option<PathBuf>,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Every event that carries one person's data (a data-protection request).
    Subject {
        /// The person: a user id or an e-mail.
        #[arg(long)]
        user: String,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Append the events of an NDJSON file (idempotent; all or nothing on bad lines).
    Import {
        /// Input file.
        file: PathBuf,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Open the window at a ledgerscope:// link (a panel and position on
    /// one ledger); `ledgerscope LINK` does the same.
    Open {
        /// The link, e.g. ledgerscope://open?ledger=<id>&panel=time-travel&position=1200
        link: String,
    },
    /// Stop with an internal error on purpose: checks that a crash leaves a
    /// report beside the log (not for daily use).
    #[command(hide = true)]
    CrashTest,
}

impl Command {
    /// Whether the subcommand may write to the stores (and so create the
    /// data dir): the read subcommands create nothing.
    pub fn writes(&self) -> bool {
        match self {
            Command::Events { .. }
            | Command::Status { .. }
            | Command::State { .. }
            | Command::Diff { .. }
            | Command::History { .. }
            | Command::Series { .. }
            | Command::WhatIf { .. }
            | Command::Verify { .. }
            | Command::Repairs { .. }
            | Command::Export { .. }
            | Command::Subject { .. }
            | Command::CrashTest
            | Command::Snapshot {
                action: SnapshotAction::List { .. },
            } => false,
            Command::Emit(_)
            | Command::Cancel { .. }
            | Command::Reschedule { .. }
            | Command::ChangeAddress { .. }
            | Command::Project { .. }
            | Command::Run { .. }
            | Command::Replay { .. }
            | Command::Repair { .. }
            | Command::Snapshot { .. }
            | Command::Import { .. }
            | Command::Open { .. } => true,
            Command::Model { action } => action.writes(),
        }
    }
}

/// `emit` options.
#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)]
pub struct EmitArgs {
    /// How many generated commands.
    #[arg(long, value_parser = positive)]
    pub count: Option<u64>,
    /// Seed for the generated data (same seed, same commands and UUIDs).
    #[arg(long, value_parser = non_negative)]
    pub seed: Option<u64>,
    /// Mix in cancellations, reschedules and address changes.
    #[arg(long)]
    pub mix: bool,
    /// Commands per second (default: as fast as possible).
    #[arg(long, value_parser = rate)]
    pub rate: Option<f64>,
    /// Don't run the projectors while emitting.
    #[arg(long)]
    pub no_project: bool,
    /// The client's UUID v4 for a single booking (a retry reuses it).
    #[arg(long)]
    pub id: Option<String>,
    /// E-mail (with the other fields: one booking from these values).
    #[arg(long)]
    pub email: Option<String>,
    /// Full name.
    #[arg(long)]
    pub name: Option<String>,
    /// Postal address.
    #[arg(long)]
    pub address: Option<String>,
    /// Booked service.
    #[arg(long)]
    pub service: Option<String>,
    /// Check-in, YYYY-MM-DD.
    #[arg(long)]
    pub check_in: Option<String>,
    /// Check-out, YYYY-MM-DD.
    #[arg(long)]
    pub check_out: Option<String>,
    /// Guests, 1..=20.
    #[arg(long)]
    pub guests: Option<String>,
    /// Price, e.g. 120.50.
    #[arg(long)]
    pub price: Option<String>,
    #[command(flatten)]
    pub out: JsonFlag,
}

/// `snapshot` actions.
#[derive(Debug, Subcommand)]
pub enum SnapshotAction {
    /// Take a snapshot of the state at the head (or at a position).
    #[command(allow_negative_numbers = true)]
    Take {
        /// Position (default: the head).
        #[arg(long, value_parser = non_negative)]
        at: Option<u64>,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// List snapshots.
    List {
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Restore the read tables to a snapshot; projectors then catch up.
    Restore {
        /// Snapshot id (or a unique prefix).
        id: String,
        /// Confirms replacing read tables built from another ledger, or
        /// with other schema versions of the models.
        #[arg(long)]
        rebuild_foreign: bool,
        #[command(flatten)]
        out: JsonFlag,
    },
}
