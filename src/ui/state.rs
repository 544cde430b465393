//! `AppState`: everything the window remembers about itself (which panel,
//! form drafts, filters, the time-travel cursor, bookmarks). No data from the
//! stores lives here; that is [`crate::ui::data::AppData`].

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::BookingWizardForm;
use crate::ui::commands::{Confirm, Dialog, DraftField};

/// The five panels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Panel {
    /// Booking wizard, other commands, bulk generator, anatomy.
    Emit,
    /// The virtual ledger table.
    Timeline,
    /// Scrubber and state as of a position.
    TimeTravel,
    /// Read tables against the ledger.
    Compare,
    /// Projectors, replay, snapshots, outage simulation.
    Operations,
}

impl Panel {
    /// Every panel, in tab order.
    pub const ALL: [Panel; 5] = [
        Panel::Emit,
        Panel::Timeline,
        Panel::TimeTravel,
        Panel::Compare,
        Panel::Operations,
    ];

    /// Tab title.
    pub fn title(self) -> &'static str {
        match self {
            Panel::Emit => "Emit",
            Panel::Timeline => "Ledger timeline",
            Panel::TimeTravel => "Time travel",
            Panel::Compare => "Compare",
            Panel::Operations => "Operations",
        }
    }

    /// Parses `emit`, `timeline`, `time-travel`/`timetravel`, `compare`, `operations`/`ops`.
    pub fn parse(name: &str) -> Option<Panel> {
        match name
            .trim()
            .to_ascii_lowercase()
            .replace(['_', ' '], "-")
            .as_str()
        {
            "emit" => Some(Panel::Emit),
            "timeline" | "ledger" => Some(Panel::Timeline),
            "time-travel" | "timetravel" | "travel" => Some(Panel::TimeTravel),
            "compare" => Some(Panel::Compare),
            "operations" | "ops" => Some(Panel::Operations),
            _ => None,
        }
    }
}

/// Which read table a table view shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TableKind {
    /// `users`.
    #[default]
    Users,
    /// `bookings`.
    Bookings,
}

/// What the time-travel difference is taken against.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum DiffAgainst {
    /// The ledger head.
    #[default]
    Now,
    /// The pinned position.
    Pinned,
}

/// A named position in time travel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bookmark {
    /// What the user called it.
    pub name: String,
    /// The ledger position.
    pub position: u64,
}

/// Text the user is typing, one field per input box.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drafts {
    /// The booking wizard.
    pub booking: BookingWizardForm,
    /// Booking to cancel or reschedule.
    pub target_booking: String,
    /// Cancellation reason.
    pub cancel_reason: String,
    /// Reschedule: new check-in.
    pub new_check_in: String,
    /// Reschedule: new check-out.
    pub new_check_out: String,
    /// User whose address changes.
    pub target_user: String,
    /// The new address.
    pub new_address: String,
    /// Bulk generator: how many commands.
    pub bulk_count: String,
    /// Bulk generator: commands per second (empty = as fast as possible).
    pub bulk_rate: String,
    /// Timeline filter: event type (empty = all).
    pub filter_type: String,
    /// Timeline filter: aggregate id.
    pub filter_aggregate: String,
    /// Timeline filter: recorded at or after (RFC 3339 or `YYYY-MM-DD HH:MM`).
    pub filter_from: String,
    /// Timeline filter: recorded before.
    pub filter_to: String,
    /// Timeline filter: text in the payload.
    pub filter_text: String,
    /// Time travel: typed position or time.
    pub travel_goto: String,
    /// Time travel: name for a new bookmark.
    pub bookmark_name: String,
    /// Compare two positions: first.
    pub compare_a: String,
    /// Compare two positions: second.
    pub compare_b: String,
    /// Connect dialog: data directory.
    pub connect_data_dir: String,
    /// Connect dialog: MongoDB URI.
    pub connect_mongo: String,
    /// Connect dialog: PostgreSQL URL.
    pub connect_postgres: String,
    /// Export/import dialog: file path.
    pub file_path: String,
}

impl Drafts {
    /// The text behind one field.
    pub fn get(&self, field: DraftField) -> &str {
        match field {
            DraftField::Email => &self.booking.email,
            DraftField::Name => &self.booking.name,
            DraftField::Address => &self.booking.address,
            DraftField::Service => &self.booking.service,
            DraftField::CheckIn => &self.booking.check_in,
            DraftField::CheckOut => &self.booking.check_out,
            DraftField::Guests => &self.booking.guests,
            DraftField::Price => &self.booking.price,
            DraftField::TargetBooking => &self.target_booking,
            DraftField::CancelReason => &self.cancel_reason,
            DraftField::NewCheckIn => &self.new_check_in,
            DraftField::NewCheckOut => &self.new_check_out,
            DraftField::TargetUser => &self.target_user,
            DraftField::NewAddress => &self.new_address,
            DraftField::BulkCount => &self.bulk_count,
            DraftField::BulkRate => &self.bulk_rate,
            DraftField::FilterType => &self.filter_type,
            DraftField::FilterAggregate => &self.filter_aggregate,
            DraftField::FilterFrom => &self.filter_from,
            DraftField::FilterTo => &self.filter_to,
            DraftField::FilterText => &self.filter_text,
            DraftField::TravelGoto => &self.travel_goto,
            DraftField::BookmarkName => &self.bookmark_name,
            DraftField::CompareA => &self.compare_a,
            DraftField::CompareB => &self.compare_b,
            DraftField::ConnectDataDir => &self.connect_data_dir,
            DraftField::ConnectMongo => &self.connect_mongo,
            DraftField::ConnectPostgres => &self.connect_postgres,
            DraftField::FilePath => &self.file_path,
        }
    }

    /// The text behind one field, for writing.
    pub fn get_mut(&mut self, field: DraftField) -> &mut String {
        match field {
            DraftField::Email => &mut self.booking.email,
            DraftField::Name => &mut self.booking.name,
            DraftField::Address => &mut self.booking.address,
            DraftField::Service => &mut self.booking.service,
            DraftField::CheckIn => &mut self.booking.check_in,
            DraftField::CheckOut => &mut self.booking.check_out,
            DraftField::Guests => &mut self.booking.guests,
            DraftField::Price => &mut self.booking.price,
            DraftField::TargetBooking => &mut self.target_booking,
            DraftField::CancelReason => &mut self.cancel_reason,
            DraftField::NewCheckIn => &mut self.new_check_in,
            DraftField::NewCheckOut => &mut self.new_check_out,
            DraftField::TargetUser => &mut self.target_user,
            DraftField::NewAddress => &mut self.new_address,
            DraftField::BulkCount => &mut self.bulk_count,
            DraftField::BulkRate => &mut self.bulk_rate,
            DraftField::FilterType => &mut self.filter_type,
            DraftField::FilterAggregate => &mut self.filter_aggregate,
            DraftField::FilterFrom => &mut self.filter_from,
            DraftField::FilterTo => &mut self.filter_to,
            DraftField::FilterText => &mut self.filter_text,
            DraftField::TravelGoto => &mut self.travel_goto,
            DraftField::BookmarkName => &mut self.bookmark_name,
            DraftField::CompareA => &mut self.compare_a,
            DraftField::CompareB => &mut self.compare_b,
            DraftField::ConnectDataDir => &mut self.connect_data_dir,
            DraftField::ConnectMongo => &mut self.connect_mongo,
            DraftField::ConnectPostgres => &mut self.connect_postgres,
            DraftField::FilePath => &mut self.file_path,
        }
    }
}

/// The window's own state. Persisted in part as [`crate::ui::prefs::Prefs`].
#[derive(Clone, Debug)]
pub struct AppState {
    /// The panel on screen.
    pub panel: Panel,
    /// What the user is typing.
    pub drafts: Drafts,
    /// Observe-only: every write control is disabled.
    pub observe_only: bool,
    /// Observe-only was asked for at start (`--observe`): it cannot be switched off.
    pub observe_locked: bool,
    /// Bulk generator: mix in cancellations, reschedules and address changes.
    pub bulk_mix: bool,
    /// The timeline filter as applied (drafts become this on "Apply").
    pub applied_filter: crate::store::EventFilter,
    /// Bumped whenever the applied filter changes; stale pages are dropped.
    pub filter_generation: u64,
    /// Timeline follows the head.
    pub follow_live: bool,
    /// Timeline row the table should scroll to once.
    pub scroll_to_row: Option<u64>,
    /// Position of the selected timeline event.
    pub selected_position: Option<u64>,
    /// Time travel cursor (a ledger position).
    pub cursor: u64,
    /// Fractional cursor while playing.
    pub play_accumulator: f64,
    /// Time travel is playing forward.
    pub playing: bool,
    /// Playback speed in events per second.
    pub play_speed_eps: f64,
    /// Time travel cursor follows the head.
    pub travel_follow: bool,
    /// Pinned position for differences.
    pub pinned: Option<u64>,
    /// What the difference is taken against.
    pub diff_against: DiffAgainst,
    /// Which table the time-travel view shows.
    pub travel_table: TableKind,
    /// Show the state's rows (true) or the difference (false).
    pub travel_show_state: bool,
    /// Named positions.
    pub bookmarks: Vec<Bookmark>,
    /// A destructive action waiting for "yes".
    pub confirm: Option<Confirm>,
    /// The open dialog, if any.
    pub dialog: Option<Dialog>,
    /// The booking or user a command form targets, remembered from the last answer.
    pub last_booking: Option<Uuid>,
    /// The last user seen in an answer.
    pub last_user: Option<Uuid>,
    /// Which table the Compare rows show (None = the first with differences).
    pub compare_table: Option<TableKind>,
    /// Compare shows two positions (true) or read store vs ledger (false).
    pub compare_positions: bool,
}

impl Default for AppState {
    fn default() -> Self {
        AppState {
            panel: Panel::Emit,
            drafts: Drafts {
                bulk_count: "1000".into(),
                ..Drafts::default()
            },
            observe_only: false,
            observe_locked: false,
            bulk_mix: true,
            applied_filter: crate::store::EventFilter::default(),
            filter_generation: 0,
            follow_live: false,
            scroll_to_row: None,
            selected_position: None,
            cursor: 0,
            play_accumulator: 0.0,
            playing: false,
            play_speed_eps: 20.0,
            travel_follow: false,
            pinned: None,
            diff_against: DiffAgainst::Now,
            travel_table: TableKind::Bookings,
            travel_show_state: true,
            bookmarks: Vec::new(),
            confirm: None,
            dialog: None,
            last_booking: None,
            last_user: None,
            compare_table: None,
            compare_positions: false,
        }
    }
}
