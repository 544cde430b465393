//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Ledgerscope: explore an event-sourced booking system. With no subcommand
/// the window opens; subcommands run headless.
#[derive(Debug, Parser)]
#[command(name = "ledgerscope", version, about, long_about = None)]
pub struct Cli {
    /// Directory of the embedded stores (ledger.sqlite3, views.sqlite3).
    #[arg(long, env = "LEDGERSCOPE_DATA_DIR", global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// MongoDB URI for the ledger (default: the embedded ledger).
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
    /// PostgreSQL URL for the read models (default: the embedded views).
    #[arg(
        long,
        env = "LEDGERSCOPE_POSTGRES_URL",
        global = true,
        hide_env_values = true,
        value_name = "URL"
    )]
    pub postgres_url: Option<String>,
    /// Observe-only: refuse every write.
    #[arg(long, global = true)]
    pub observe: bool,
    /// Take a snapshot automatically every N events (0 = never).
    #[arg(
        long,
        env = "LEDGERSCOPE_SNAPSHOT_EVERY",
        global = true,
        default_value_t = 10_000,
        value_name = "N"
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
        value_name = "N"
    )]
    pub snapshot_delta_every: u64,
    /// Seconds to wait for a server before giving up.
    #[arg(long, global = true, default_value_t = 5, value_name = "SECS")]
    pub connect_timeout_secs: u64,
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
    Events {
        /// First position.
        #[arg(long, default_value_t = 1)]
        from: u64,
        /// At most this many events.
        #[arg(long, default_value_t = 100)]
        limit: usize,
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
    /// Run the projectors until they have caught up with the head.
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
    State {
        /// Position (default: the head).
        #[arg(long)]
        at: Option<u64>,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Rows added, removed and changed between the states at two positions.
    Diff {
        /// Earlier position.
        #[arg(long)]
        from: u64,
        /// Later position (default: the head).
        #[arg(long)]
        to: Option<u64>,
        /// At most this many rows listed (counts are always complete).
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Compare the read tables with the state the ledger implies (exit 1 on drift).
    Verify {
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Rebuild the read tables from the ledger and swap them in.
    Replay {
        /// Start from the newest snapshot instead of from zero.
        #[arg(long)]
        from_snapshot: bool,
        #[command(flatten)]
        out: JsonFlag,
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
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Append the events of an NDJSON file (idempotent; all or nothing on bad lines).
    Import {
        /// Input file.
        file: PathBuf,
        #[command(flatten)]
        out: JsonFlag,
    },
}

/// `emit` options.
#[derive(Debug, Args)]
pub struct EmitArgs {
    /// How many generated commands.
    #[arg(long)]
    pub count: Option<u64>,
    /// Seed for the generated data (same seed, same commands and UUIDs).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Mix in cancellations, reschedules and address changes.
    #[arg(long)]
    pub mix: bool,
    /// Commands per second (default: as fast as possible).
    #[arg(long)]
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
    Take {
        /// Position (default: the head).
        #[arg(long)]
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
        #[command(flatten)]
        out: JsonFlag,
    },
}
