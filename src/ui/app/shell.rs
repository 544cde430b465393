//! `Shell`: what the window knows that belongs to no one panel: the
//! connection and the stores, the head and the projectors, the mode, the
//! dialogs and confirmations, the running jobs and the last error.

use std::collections::VecDeque;

use crate::domain::ProjectorId;
use chrono::{DateTime, Utc};

use crate::ui::i18n::t;

use crate::engine::{EngineError, Pairing, ProjectorStatus, ReadStoreHealth};
use crate::store::StoreInfo;
use crate::ui::app::dialogs::{Confirm, ConnectDrafts, Dialog, LinkDraft};
use crate::ui::command::StatusSnapshot;
use crate::ui::error::InlineError;
use crate::ui::jobs::Jobs;
use crate::ui::panels::PanelKind;

/// Frame times remembered for the status line.
const FRAME_HISTORY: usize = 120;

/// Where the connection stands.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Connection {
    /// Opening the stores.
    #[default]
    Connecting,
    /// Connected.
    Connected,
    /// Could not open them.
    Failed(EngineError),
}

/// What the last comparison of the read tables with the ledger found, for
/// the top bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DriftSeen {
    /// Rows missing, extra or different (0: in sync).
    pub rows: u64,
    /// When the comparison finished.
    pub at: DateTime<Utc>,
}

/// The shell's state.
#[derive(Debug)]
pub struct Shell {
    /// The panel on screen.
    pub panel: PanelKind,
    /// Connection state.
    pub connection: Connection,
    /// The connected ledger.
    pub ledger: Option<StoreInfo>,
    /// The connected ledger's id (read once connected; `None` before, or
    /// for a ledger of an earlier build that has none).
    pub ledger_id: Option<uuid::Uuid>,
    /// The connected read store.
    pub read: Option<StoreInfo>,
    /// This instance's id.
    pub instance_id: String,
    /// Automatic snapshot interval (events; 0 = off).
    pub snapshot_every: u64,
    /// Delta snapshot interval between full ones (events; 0 = none).
    pub snapshot_delta_every: u64,
    /// Ledger head.
    pub head: u64,
    /// Projector status.
    pub statuses: Vec<ProjectorStatus>,
    /// The simulated outage is on.
    pub outage: bool,
    /// Whether the read store belongs to this ledger (the last check).
    pub pairing: Option<Pairing>,
    /// Whether the read store is locked or unreachable, and which
    /// projectors' writes wait (the last poll).
    pub read_health: ReadStoreHealth,
    /// What the last comparison found, while it still holds (forgotten
    /// when the read tables are rebuilt or the pairing changes).
    pub drift: Option<DriftSeen>,
    /// The last error with no place of its own, until dismissed.
    pub last_error: Option<String>,
    /// Observe-only: every write control is disabled.
    pub observe_only: bool,
    /// Observe-only was asked for at start (`--observe`): it stays on.
    pub observe_locked: bool,
    /// The open dialog.
    pub dialog: Option<Dialog>,
    /// A destructive action waiting for "yes".
    pub confirm: Option<Confirm>,
    /// Long work running, and how each kind last ended.
    pub jobs: Jobs,
    /// Frame times (ms) of the last frames, newest last.
    pub frame_ms: VecDeque<f32>,
    /// The connect dialog's fields.
    pub connect: ConnectDrafts,
    /// Connections that worked, newest first, without passwords (kept in
    /// prefs).
    pub recent: Vec<super::recent::RecentConnection>,
    /// The export/import dialog's file.
    pub file_path: String,
    /// Under the export/import dialog's file field.
    pub file_error: Option<InlineError>,
    /// Ctrl+F was pressed: the shown panel's search field takes the focus
    /// this frame ([`crate::ui::widgets::search_field::search_field_ui`]).
    pub focus_search: bool,
    /// The "Open link" dialog's text and why it did not open.
    pub link: LinkDraft,
    /// Personal values are shown as pseudonyms ([`Shell::mask`]).
    pub masked: bool,
    /// Masked or shown as asked at start (`--mask`, `--unmask`), over
    /// what was kept for the ledger.
    pub mask_forced: Option<bool>,
    /// The mask made with the data dir's key (set on connect).
    pub mask_key: crate::domain::mask::Mask,
    /// Masked or not, as last chosen for each ledger (by its id; kept in
    /// prefs).
    pub mask_choices: std::collections::BTreeMap<String, bool>,
    /// The last crash's report, offered.
    pub crash: Option<super::crash::CrashOffer>,
    /// The newest crash report dismissed (its file name; kept in prefs).
    pub crash_seen: Option<String>,
    /// The window's language (kept in prefs; from the system's locale at
    /// first).
    pub language: crate::ui::prefs::Language,
}

impl Default for Shell {
    fn default() -> Self {
        Shell {
            panel: PanelKind::Emit,
            connection: Connection::Connecting,
            ledger: None,
            ledger_id: None,
            read: None,
            instance_id: String::new(),
            snapshot_every: 0,
            snapshot_delta_every: 0,
            head: 0,
            statuses: Vec::new(),
            outage: false,
            pairing: None,
            read_health: ReadStoreHealth::default(),
            drift: None,
            last_error: None,
            observe_only: false,
            observe_locked: false,
            dialog: None,
            confirm: None,
            jobs: Jobs::default(),
            frame_ms: VecDeque::new(),
            connect: ConnectDrafts::default(),
            recent: Vec::new(),
            file_path: String::new(),
            file_error: None,
            focus_search: false,
            link: LinkDraft::default(),
            masked: true,
            mask_forced: None,
            mask_key: crate::domain::mask::Mask::off(),
            mask_choices: std::collections::BTreeMap::new(),
            crash: None,
            crash_seen: None,
            language: crate::ui::prefs::Language::from_env(),
        }
    }
}

impl Shell {
    /// Why writes are disabled right now, if they are.
    pub fn write_block_reason(&self) -> Option<String> {
        if self.observe_only {
            Some(if self.observe_locked {
                t!("shell-observe-locked")
            } else {
                t!("shell-observe-only")
            })
        } else if !self.connected() {
            Some(t!("shell-not-connected"))
        } else {
            None
        }
    }

    /// Connected to the stores.
    pub fn connected(&self) -> bool {
        self.connection == Connection::Connected
    }

    /// `sqlite at /path/views.sqlite3`, for confirmations.
    pub fn read_store_name(&self) -> String {
        self.read
            .as_ref()
            .map_or_else(|| "the read store".to_string(), ToString::to_string)
    }

    /// `sqlite at /path/ledger.sqlite3`.
    pub fn ledger_name(&self) -> String {
        self.ledger
            .as_ref()
            .map_or_else(|| "the ledger".to_string(), ToString::to_string)
    }

    /// The mask everything shown goes through: the keyed mask when masked,
    /// none when personal values are shown.
    pub fn mask(&self) -> crate::domain::mask::Mask {
        if self.masked {
            self.mask_key.clone()
        } else {
            crate::domain::mask::Mask::off()
        }
    }

    /// Whether personal values are masked when nothing was chosen for this
    /// ledger: on a server store (MongoDB or PostgreSQL) and in
    /// observe-only started with `--observe`; off on the embedded store.
    pub fn mask_by_default(&self) -> bool {
        let server = |info: &Option<StoreInfo>| info.as_ref().is_some_and(|i| i.kind != "sqlite");
        server(&self.ledger) || server(&self.read) || self.observe_locked
    }

    /// Whether either store is on another machine.
    pub fn any_remote(&self) -> bool {
        self.read.as_ref().is_some_and(|r| r.remote)
            || self.ledger.as_ref().is_some_and(|l| l.remote)
    }

    /// The status of one projector.
    pub fn status(&self, projector: ProjectorId) -> Option<&ProjectorStatus> {
        self.statuses.iter().find(|s| s.projector == projector)
    }

    /// Events a projector is behind the head.
    pub fn lag_events(&self, status: &ProjectorStatus) -> u64 {
        self.head.saturating_sub(status.checkpoint)
    }

    /// Shows an error that has no place of its own (and logs it).
    pub fn report(&mut self, error: impl Into<String>) {
        let error = error.into();
        if self.last_error.as_ref() != Some(&error) {
            tracing::warn!(%error, "shown in the window");
        }
        self.last_error = Some(error);
    }

    /// A new status arrived: the old head.
    pub fn on_status(&mut self, status: StatusSnapshot) -> u64 {
        let old = self.head;
        self.head = status.head;
        self.statuses = status.statuses;
        self.outage = status.outage;
        self.pairing = status.pairing;
        self.read_health = status.read_health;
        old
    }

    /// Remembers how long a frame took.
    pub fn record_frame(&mut self, ms: f32) {
        if self.frame_ms.len() >= FRAME_HISTORY {
            self.frame_ms.pop_front();
        }
        self.frame_ms.push_back(ms);
    }

    /// Forgets what was read from the stores (keeps frame times and the
    /// last error).
    pub fn on_disconnect(&mut self) {
        self.ledger = None;
        self.ledger_id = None;
        self.read = None;
        self.head = 0;
        self.statuses.clear();
        self.outage = false;
        self.pairing = None;
        self.read_health = ReadStoreHealth::default();
        self.drift = None;
        self.jobs.cancel_all();
        self.jobs = Jobs::default();
    }
}
