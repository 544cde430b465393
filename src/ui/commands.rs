//! `UiCommand`: what a panel asks the app to do. Panels only push commands;
//! [`crate::ui::app::LedgerApp`] runs them once per frame in one place.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::ProjectorId;
use crate::store::LedgerEntry;
use crate::ui::state::{DiffAgainst, Panel, TableKind};

/// A text input, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum DraftField {
    Email,
    Name,
    Address,
    Service,
    CheckIn,
    CheckOut,
    Guests,
    Price,
    TargetBooking,
    CancelReason,
    NewCheckIn,
    NewCheckOut,
    TargetUser,
    NewAddress,
    BulkCount,
    BulkRate,
    FilterType,
    FilterAggregate,
    FilterFrom,
    FilterTo,
    FilterText,
    TravelGoto,
    BookmarkName,
    CompareA,
    CompareB,
    ConnectDataDir,
    ConnectMongo,
    ConnectPostgres,
    FilePath,
}

/// Long work that shows a progress bar and can be cancelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum JobKind {
    /// Bulk generator.
    Bulk,
    /// Replay (also "repair by replay").
    Replay,
    /// Taking a snapshot.
    Snapshot,
    /// Restoring a snapshot.
    Restore,
    /// Exporting the ledger as NDJSON.
    Export,
    /// Importing NDJSON.
    Import,
}

impl JobKind {
    /// Human name.
    pub fn title(self) -> &'static str {
        match self {
            JobKind::Bulk => "Bulk generator",
            JobKind::Replay => "Replay",
            JobKind::Snapshot => "Snapshot",
            JobKind::Restore => "Restore",
            JobKind::Export => "Export",
            JobKind::Import => "Import",
        }
    }
}

/// Which difference a page of rows belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DiffList {
    /// Time travel: the cursor against the reference.
    Travel,
    /// Compare: the tables at two positions.
    Positions,
}

/// A destructive action that waits for confirmation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Confirm {
    /// Rebuild the read tables.
    Replay {
        /// Start from the newest snapshot.
        from_snapshot: bool,
    },
    /// Replace the read tables with a snapshot's state.
    Restore {
        /// Snapshot id.
        id: Uuid,
        /// Its position.
        position: u64,
    },
    /// Append the events of a file to the ledger.
    Import {
        /// The file.
        path: String,
    },
}

/// Small windows opened from the menu.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialog {
    /// Choose the stores.
    Connect,
    /// Export the ledger.
    Export,
    /// Import a file.
    Import,
    /// About Ledgerscope.
    About,
}

/// What a panel asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum UiCommand {
    /// Switch panel.
    ShowPanel(Panel),
    /// A text input changed.
    SetDraft(DraftField, String),
    /// Observe-only on or off.
    SetObserveOnly(bool),
    /// Hide the last error.
    DismissError,
    /// Open a dialog.
    OpenDialog(Dialog),
    /// Close the dialog.
    CloseDialog,
    /// (Re)connect with the connect dialog's settings.
    Connect,
    /// Connect again with the current settings after a failure.
    RetryConnect,
    /// Pick a file with the native dialog (for export or import).
    BrowseFile {
        /// Save (export) or open (import).
        save: bool,
    },
    /// Export the ledger to the dialog's path.
    Export,
    /// Ask before importing the dialog's path.
    AskImport,

    // Emit
    /// Submit the booking wizard with a fresh UUID.
    SubmitBooking,
    /// Fill the wizard with realistic random data and submit it.
    GenerateAndSubmit,
    /// Fill the wizard with realistic random data only.
    FillRandom,
    /// Send the last booking again with the same UUID.
    SendAgain,
    /// Cancel the target booking.
    CancelBooking,
    /// Move the target booking's dates.
    RescheduleBooking,
    /// Change the target user's address.
    ChangeAddress,
    /// Bulk generator: mix on or off.
    SetBulkMix(bool),
    /// Start the bulk generator.
    StartBulk,
    /// Cancel a running job.
    CancelJob(JobKind),

    // Timeline
    /// Apply the filter drafts.
    ApplyFilter,
    /// Clear every filter.
    ClearFilter,
    /// Filter by one aggregate (and show its stream).
    FilterAggregate(Uuid),
    /// The table needs this page of rows.
    FetchPage(u64),
    /// A row was clicked.
    SelectEvent(Box<LedgerEntry>),
    /// Follow the head.
    SetFollowLive(bool),
    /// The density plot was clicked at this time.
    JumpToTime(DateTime<Utc>),
    /// Show this position in the timeline.
    JumpToPosition(u64),
    /// The table scrolled to the requested row.
    ScrolledToRow,
    /// Close the selected aggregate's stream.
    CloseStream,

    // Time travel
    /// Move the cursor.
    SetCursor(u64),
    /// Move the cursor by this many events.
    StepCursor(i64),
    /// Play or pause.
    SetPlaying(bool),
    /// Playback speed (events per second).
    SetSpeed(f64),
    /// Cursor follows the head.
    SetTravelFollow(bool),
    /// Go to the typed position or time.
    GoTyped,
    /// Pin the cursor's position.
    Pin,
    /// Remove the pin.
    Unpin,
    /// Compare against now or the pin.
    SetDiffAgainst(DiffAgainst),
    /// Which table to show.
    SetTravelTable(TableKind),
    /// Rows or difference.
    SetTravelShowState(bool),
    /// The state table needs this page of rows.
    FetchStatePage {
        /// Which table.
        table: TableKind,
        /// Page number (see [`crate::ui::page_cache::PAGE_ROWS`]).
        page: u64,
    },
    /// A difference table needs this page of rows.
    FetchDiffPage {
        /// Which difference.
        list: DiffList,
        /// Which table.
        table: TableKind,
        /// Page number.
        page: u64,
    },
    /// Bookmark the cursor.
    AddBookmark,
    /// Forget a bookmark.
    RemoveBookmark(usize),

    // Compare
    /// Compare the read tables with the ledger.
    RunVerify,
    /// Compare the states at the two typed positions.
    ComparePositions,
    /// Which table's rows to list.
    SetCompareTable(Option<TableKind>),
    /// Two positions (true) or read store vs ledger (false).
    SetComparePositions(bool),

    // Operations
    /// Pause or resume a projector.
    SetPaused(ProjectorId, bool),
    /// Ask for confirmation of a destructive action.
    Ask(Confirm),
    /// The user said yes.
    ConfirmYes,
    /// The user said no.
    ConfirmNo,
    /// Take a snapshot now.
    TakeSnapshot,
    /// Reload the snapshot list.
    RefreshSnapshots,
    /// Training switch.
    SetOutage(bool),
}
