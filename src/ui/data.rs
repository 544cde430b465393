//! `AppData`: what the window knows about the stores, as last received from
//! background work. Replaced message by message; never fetched in a frame.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::state::StateCounts;
use crate::domain::{BookingRow, RowDiff, SubmitBookingWizard, UserRow};
use crate::engine::snapshot_pages::Table;
use crate::engine::view::{StateView, ViewDiff};
use crate::engine::{CommandOutcome, EngineNotice, ProjectorStatus, VerifyReport};
use crate::store::{LedgerEntry, SnapshotMeta, StoreInfo};
use crate::ui::commands::{DiffList, JobKind};
use crate::ui::job::Job;
use crate::ui::page_cache::PageCache;
use crate::ui::state::TableKind;

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

/// Index of a table in per-table arrays (0 = users, 1 = bookings, the
/// order of [`ViewDiff::keys`]).
pub fn table_slot(table: TableKind) -> usize {
    match table {
        TableKind::Users => 0,
        TableKind::Bookings => 1,
    }
}

/// The engine's name for a table.
pub fn engine_table(table: TableKind) -> Table {
    match table {
        TableKind::Users => Table::Users,
        TableKind::Bookings => Table::Bookings,
    }
}

/// Column names of a table.
pub fn table_columns(table: TableKind) -> &'static [&'static str] {
    match table {
        TableKind::Users => &UserRow::COLUMNS,
        TableKind::Bookings => &BookingRow::COLUMNS,
    }
}

/// One row of a state table, as drawn.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateRow {
    /// Primary key.
    pub key: Uuid,
    /// Cells, in column order (the last one is `last_position`).
    pub cells: Vec<String>,
    /// The position that last changed the row.
    pub last_position: u64,
}

/// A difference between two lazy views (keys only; rows are read a page at
/// a time) with its counts.
#[derive(Clone)]
pub struct ViewDiffRows {
    /// The difference.
    pub diff: Arc<ViewDiff>,
    /// Per table: (name, added, removed, changed).
    pub counts: Vec<(String, usize, usize, usize)>,
}

impl ViewDiffRows {
    /// Wraps a difference.
    pub fn new(diff: Arc<ViewDiff>) -> Self {
        let counts = [TableKind::Users, TableKind::Bookings]
            .into_iter()
            .map(|t| {
                let (a, r, c) = diff.counts(table_slot(t));
                (table_name(t).to_string(), a, r, c)
            })
            .collect();
        ViewDiffRows { diff, counts }
    }

    /// Differing rows in a table.
    pub fn len(&self, table: TableKind) -> usize {
        self.diff.len(table_slot(table))
    }
}

impl std::fmt::Debug for ViewDiffRows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ViewDiffRows")
            .field("counts", &self.counts)
            .finish_non_exhaustive()
    }
}

/// The table's name (`users`, `bookings`).
pub fn table_name(table: TableKind) -> &'static str {
    match table {
        TableKind::Users => UserRow::TABLE,
        TableKind::Bookings => BookingRow::TABLE,
    }
}

/// The state as of the time-travel cursor: a lazy view whose rows are read
/// a page at a time (into [`AppData::travel_rows`]) for the rows in view.
#[derive(Clone)]
pub struct TravelView {
    /// Position of the state.
    pub position: u64,
    /// The state: a snapshot's directory plus the events after it.
    pub view: Arc<StateView>,
    /// Its counts.
    pub counts: StateCounts,
    /// Difference from this state to the reference, and the reference's
    /// position.
    pub diff: Option<(u64, ViewDiffRows)>,
    /// How the state was computed (for the status line).
    pub base: String,
    /// Time to compute it.
    pub elapsed_ms: u64,
}

impl TravelView {
    /// Rows in a table of the state.
    pub fn len(&self, table: TableKind) -> usize {
        self.view.len(engine_table(table))
    }
}

impl std::fmt::Debug for TravelView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TravelView")
            .field("position", &self.position)
            .field("counts", &self.counts)
            .field("diff", &self.diff)
            .field("base", &self.base)
            .field("elapsed_ms", &self.elapsed_ms)
            .finish_non_exhaustive()
    }
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
    /// Delta snapshot interval between full ones (events; 0 = none).
    pub snapshot_delta_every: u64,
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
    /// The head moved since the total was counted: count again.
    pub timeline_total_stale: bool,
    /// Whether the read store belongs to this ledger (the last check).
    pub pairing: Option<crate::engine::Pairing>,
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
    pub reference: Option<Arc<StateView>>,
    /// A reference is being computed.
    pub reference_pending: bool,
    /// State at the cursor.
    pub travel: Option<TravelView>,
    /// A state is being computed for this cursor.
    pub travel_pending: Option<u64>,
    /// Pages of the state's rows, per table (see [`table_slot`]), for the
    /// current [`TravelView`] only.
    pub travel_rows: [PageCache<StateRow>; 2],
    /// Pages of the difference's rows, per table, for the current
    /// [`TravelView`] only.
    pub travel_diff_rows: [PageCache<Option<RowDiff>>; 2],
    /// Compare: read tables vs ledger.
    pub verify: Option<VerifyReport>,
    /// Verify is running.
    pub verify_pending: bool,
    /// When verify last finished.
    pub verify_at: Option<DateTime<Utc>>,
    /// Compare: two positions.
    pub positions_diff: Option<(u64, u64, ViewDiffRows)>,
    /// Pages of the positions difference's rows, per table.
    pub positions_rows: [PageCache<Option<RowDiff>>; 2],
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

    /// The page cache of a difference's rows.
    pub fn diff_rows(&self, list: DiffList, table: TableKind) -> &PageCache<Option<RowDiff>> {
        match list {
            DiffList::Travel => &self.travel_diff_rows[table_slot(table)],
            DiffList::Positions => &self.positions_rows[table_slot(table)],
        }
    }

    /// The page cache of a difference's rows, to change.
    pub fn diff_rows_mut(
        &mut self,
        list: DiffList,
        table: TableKind,
    ) -> &mut PageCache<Option<RowDiff>> {
        match list {
            DiffList::Travel => &mut self.travel_diff_rows[table_slot(table)],
            DiffList::Positions => &mut self.positions_rows[table_slot(table)],
        }
    }

    /// True when the time-travel table shows real rows for `rows` (clipped
    /// to the table's length): the state's rows when `show_state`, else the
    /// difference's.
    pub fn travel_rows_loaded(
        &self,
        table: TableKind,
        show_state: bool,
        rows: std::ops::Range<u64>,
    ) -> bool {
        let Some(travel) = &self.travel else {
            return false;
        };
        let clip = |len: usize| rows.start.min(len as u64)..rows.end.min(len as u64);
        if show_state {
            self.travel_rows[table_slot(table)].has_rows(clip(travel.len(table)))
        } else {
            match &travel.diff {
                Some((_, diff)) => self
                    .diff_rows(DiffList::Travel, table)
                    .has_rows(clip(diff.len(table))),
                None => false,
            }
        }
    }

    /// Whether a job of this kind is running.
    pub fn running(&self, kind: JobKind) -> bool {
        self.jobs.contains_key(&kind)
    }
}
