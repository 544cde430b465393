//! `AppData`: what the window knows about the stores, as last received from
//! background work. Replaced message by message; never fetched in a frame.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::state::{KeyDiff, StateCounts};
use crate::domain::{ReadState, RowDiff, StateDiff, SubmitBookingWizard};
use crate::engine::{CommandOutcome, EngineNotice, ProjectorStatus, VerifyReport};
use crate::store::{LedgerEntry, SnapshotMeta, StoreInfo};
use crate::ui::commands::JobKind;
use crate::ui::job::Job;
use crate::ui::page_cache::PageCache;

/// Events per time bucket, for the density plot.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Density {
    /// Start of the first bucket.
    pub start: Option<DateTime<Utc>>,
    /// Bucket width in seconds.
    pub bucket_secs: f64,
    /// Matching events per bucket.
    pub counts: Vec<u64>,
}

/// Where the connection stands.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Connection {
    /// Opening the stores.
    #[default]
    Connecting,
    /// Connected.
    Connected,
    /// Could not open them: the sentence to show.
    Failed(String),
}

/// Rows of one table as a flat index, so a virtual table can ask for row `i`.
#[derive(Clone, Debug, Default)]
pub struct DiffRows {
    /// The difference.
    pub diff: Arc<StateDiff>,
    /// Per table: its rows, in order.
    pub counts: Vec<(String, usize, usize, usize)>,
}

impl DiffRows {
    /// Wraps a difference.
    pub fn new(diff: Arc<StateDiff>) -> Self {
        let counts = diff
            .tables
            .iter()
            .map(|t| {
                let (a, r, c) = t.counts();
                (t.table.clone(), a, r, c)
            })
            .collect();
        DiffRows { diff, counts }
    }

    /// The rows of one table (index into `diff.tables`).
    pub fn table_rows(&self, table: usize) -> &[RowDiff] {
        self.diff
            .tables
            .get(table)
            .map_or(&[], |t| t.rows.as_slice())
    }
}

/// A key-only difference (cells rebuilt for the rows in view) with its counts.
#[derive(Clone, Debug)]
pub struct KeyDiffRows {
    /// The difference.
    pub diff: Arc<KeyDiff>,
    /// Per table: (name, added, removed, changed).
    pub counts: Vec<(String, usize, usize, usize)>,
}

impl KeyDiffRows {
    /// Wraps a difference.
    pub fn new(diff: KeyDiff) -> Self {
        let counts = (0..2)
            .map(|t| {
                let (a, r, c) = diff.counts(t);
                (KeyDiff::TABLES[t].to_string(), a, r, c)
            })
            .collect();
        KeyDiffRows {
            diff: Arc::new(diff),
            counts,
        }
    }
}

/// The state as of the time-travel cursor, indexed for virtual tables.
#[derive(Clone, Debug)]
pub struct TravelView {
    /// Position of the state.
    pub position: u64,
    /// The state.
    pub state: Arc<ReadState>,
    /// Its counts.
    pub counts: StateCounts,
    /// User keys in order (row i of the table).
    pub user_keys: Arc<Vec<Uuid>>,
    /// Booking keys in order.
    pub booking_keys: Arc<Vec<Uuid>>,
    /// Difference from this state to the reference, and the reference's
    /// position. Keys only: both states are held here anyway.
    pub diff: Option<(u64, KeyDiffRows)>,
    /// How the state was computed (for the status line).
    pub base: String,
    /// Time to compute it.
    pub elapsed_ms: u64,
}

/// The answer to the last command.
#[derive(Clone, Debug)]
pub struct LastCommand {
    /// Which handler ran.
    pub what: String,
    /// The answer.
    pub result: Result<CommandOutcome, String>,
    /// Ledger head just before the answer arrived.
    pub head_before: u64,
    /// When the answer arrived.
    pub at: Instant,
}

/// Everything received from the stores.
#[derive(Default)]
pub struct AppData {
    /// Connection state.
    pub connection: Connection,
    /// Connected ledger.
    pub ledger: Option<StoreInfo>,
    /// Connected read store.
    pub read: Option<StoreInfo>,
    /// This instance's id.
    pub instance_id: String,
    /// Auto snapshot interval (events; 0 = off).
    pub snapshot_every: u64,
    /// Ledger head.
    pub head: u64,
    /// Projector status.
    pub statuses: Vec<ProjectorStatus>,
    /// Simulated outage is on.
    pub outage: bool,
    /// The last error, until dismissed.
    pub last_error: Option<String>,
    /// Errors shown in place, by place (`wizard`, `filter`, `travel`, ...).
    pub inline_errors: BTreeMap<&'static str, String>,
    /// The last command's answer.
    pub last_command: Option<LastCommand>,
    /// The last booking wizard sent (for "send again").
    pub last_submit: Option<SubmitBookingWizard>,
    /// Recent projection notices (for the anatomy flow).
    pub recent_notices: VecDeque<EngineNotice>,
    /// Running jobs.
    pub jobs: BTreeMap<JobKind, Job>,
    /// How each job last ended.
    pub job_results: BTreeMap<JobKind, Result<String, String>>,
    /// Timeline pages.
    pub timeline: PageCache,
    /// Rows matching the timeline filter.
    pub timeline_total: Option<u64>,
    /// A count is being fetched.
    pub timeline_total_pending: bool,
    /// When the count was last asked for.
    pub timeline_total_asked: Option<Instant>,
    /// Events over time.
    pub density: Option<Density>,
    /// Density is being fetched.
    pub density_pending: bool,
    /// When the density was last asked for.
    pub density_asked: Option<Instant>,
    /// Head when the density was computed.
    pub density_head: u64,
    /// The selected event.
    pub selected_event: Option<LedgerEntry>,
    /// The selected aggregate's stream.
    pub stream: Option<(Uuid, Vec<LedgerEntry>)>,
    /// Reference state for time travel (now or pinned).
    pub reference: Option<Arc<ReadState>>,
    /// A reference is being computed.
    pub reference_pending: bool,
    /// State at the cursor.
    pub travel: Option<TravelView>,
    /// A state is being computed for this cursor.
    pub travel_pending: Option<u64>,
    /// Compare: read tables vs ledger.
    pub verify: Option<VerifyReport>,
    /// Verify is running.
    pub verify_pending: bool,
    /// When verify last finished.
    pub verify_at: Option<DateTime<Utc>>,
    /// Compare: two positions.
    pub positions_diff: Option<(u64, u64, DiffRows)>,
    /// Positions diff is running.
    pub positions_diff_pending: bool,
    /// Stored snapshots.
    pub snapshots: Vec<SnapshotMeta>,
    /// The snapshot list was loaded once.
    pub snapshots_loaded: bool,
    /// Frame times (ms) of the last frames, newest last.
    pub frame_ms: VecDeque<f32>,
}

impl AppData {
    /// The status of one projector.
    pub fn status(&self, projector: crate::domain::ProjectorId) -> Option<&ProjectorStatus> {
        self.statuses.iter().find(|s| s.projector == projector)
    }

    /// Events a projector is behind the head.
    pub fn lag_events(&self, status: &ProjectorStatus) -> u64 {
        self.head.saturating_sub(status.checkpoint)
    }

    /// Whether a job of this kind is running.
    pub fn running(&self, kind: JobKind) -> bool {
        self.jobs.contains_key(&kind)
    }
}
