//! `Message`: results of background work, delivered to the app through the
//! bounded [`crate::ui::outbox::Outbox`].

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::domain::{RowDiff, SubmitBookingWizard};
use crate::engine::view::{StateView, ViewDiff};
use crate::engine::{CommandOutcome, Engine, EngineNotice, ProjectorStatus, VerifyReport};
use crate::store::{LedgerEntry, SnapshotMeta};
use crate::ui::commands::{DiffList, JobKind};
use crate::ui::data::{Density, StateRow, TravelView};
use crate::ui::state::TableKind;

/// Where a job stands, for progress bars.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct JobProgress {
    /// What is happening now (`reading events`, `loading rows`).
    pub phase: String,
    /// Units done.
    pub done: u64,
    /// Units in total (0 = unknown).
    pub total: u64,
    /// Units per second.
    pub rate_per_sec: f64,
    /// Seconds left.
    pub eta_secs: Option<f64>,
}

/// Periodic status of the engine.
#[derive(Clone, Debug, PartialEq)]
pub struct StatusSnapshot {
    /// Ledger head.
    pub head: u64,
    /// Projectors.
    pub statuses: Vec<ProjectorStatus>,
    /// Simulated outage switch.
    pub outage: bool,
    /// Whether the read store belongs to this ledger (checked every few
    /// seconds; `None` until the first check answers).
    pub pairing: Option<crate::engine::Pairing>,
}

/// A background result.
pub enum Message {
    /// The stores are open and the engine runs.
    Connected {
        /// The engine.
        engine: Arc<Engine>,
        /// Stops the engine's background tasks.
        shutdown: CancellationToken,
    },
    /// Opening the stores failed.
    ConnectFailed(String),
    /// Head and projector status.
    Status(StatusSnapshot),
    /// Something the engine did.
    Notice(EngineNotice),
    /// A command finished.
    CommandDone {
        /// Which handler ran (for the answer line).
        what: String,
        /// The answer.
        result: Box<Result<CommandOutcome, String>>,
        /// The booking wizard submitted, kept for "send again".
        submitted: Option<Box<SubmitBookingWizard>>,
    },
    /// A job advanced.
    JobProgress(JobKind, JobProgress),
    /// A job ended: a sentence for the user, or an error.
    JobDone(JobKind, Result<String, String>),
    /// One timeline page.
    TimelinePage {
        /// Filter generation it was fetched for.
        generation: u64,
        /// Page number.
        page: u64,
        /// The rows.
        result: Result<Vec<LedgerEntry>, String>,
    },
    /// Rows matching the filter.
    TimelineTotal {
        /// Filter generation.
        generation: u64,
        /// Count.
        result: Result<u64, String>,
    },
    /// Events over time.
    Density {
        /// Filter generation.
        generation: u64,
        /// Buckets.
        result: Result<Density, String>,
    },
    /// Scroll the timeline to a row (after a jump).
    TimelineScrollTo(u64),
    /// One event, for the detail view after a jump.
    EventLoaded(Result<Option<Box<LedgerEntry>>, String>),
    /// An aggregate's events.
    Stream {
        /// The aggregate.
        aggregate: uuid::Uuid,
        /// Its events.
        result: Result<Vec<LedgerEntry>, String>,
    },
    /// The reference state (now or pinned) for time travel.
    Reference(Result<Arc<StateView>, String>),
    /// The state at the cursor.
    Travel(Result<Box<TravelView>, String>),
    /// One page of the time-travel state's rows.
    StatePage {
        /// Generation of the view it was read from.
        generation: u64,
        /// Which table.
        table: TableKind,
        /// Page number.
        page: u64,
        /// The rows, in key order.
        result: Result<Vec<StateRow>, String>,
    },
    /// One page of a difference's rows.
    DiffPage {
        /// Which difference.
        list: DiffList,
        /// Generation of the difference it was read from.
        generation: u64,
        /// Which table.
        table: TableKind,
        /// Page number.
        page: u64,
        /// One entry per differing key of the page (`None`: equal rows).
        result: Result<Vec<Option<RowDiff>>, String>,
    },
    /// A typed time became a position.
    TravelGoto(Result<u64, String>),
    /// Read tables vs ledger.
    Verify(Result<VerifyReport, String>),
    /// States at two positions.
    PositionsDiff(Result<(u64, u64, Arc<ViewDiff>), String>),
    /// Snapshot list.
    Snapshots(Result<Vec<SnapshotMeta>, String>),
    /// A file was picked (`None` = cancelled).
    FilePicked(Option<String>),
    /// An error to show in the top bar.
    Error(String),
}
