//! What panels ask for and what background work answers. Each panel has its
//! own commands and messages (in its folder); the shell's are here. The app
//! routes each to its owner once per frame.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::engine::{Engine, EngineError, EngineNotice, Pairing, Progress, ProjectorStatus};
use crate::ui::app::dialogs::{Confirm, ConnectField, Dialog};
use crate::ui::jobs::JobKind;
use crate::ui::panels::PanelKind;
use crate::ui::panels::compare::{CompareCommand, CompareMessage};
use crate::ui::panels::emit::{EmitCommand, EmitMessage};
use crate::ui::panels::history::{HistoryCommand, HistoryMessage};
use crate::ui::panels::models::{ModelsCommand, ModelsMessage};
use crate::ui::panels::operations::{OperationsCommand, OperationsMessage};
use crate::ui::panels::over_time::{OverTimeCommand, OverTimeMessage};
use crate::ui::panels::time_travel::{TimeTravelCommand, TimeTravelMessage};
use crate::ui::panels::timeline::{TimelineCommand, TimelineMessage};
use crate::ui::panels::what_if::{WhatIfCommand, WhatIfMessage};
use crate::ui::scenarios::{ScenarioCommand, ScenarioMessage};

/// What the shell does: panels, mode, dialogs, confirmations, jobs, and
/// moves from one panel to another.
#[derive(Clone, Debug, PartialEq)]
pub enum ShellCommand {
    /// Switch panel.
    ShowPanel(PanelKind),
    /// Observe-only on or off.
    SetObserveOnly(bool),
    /// Mask personal values (`true`), or ask before showing them.
    SetMasked(bool),
    /// Show or dismiss the last crash's report.
    Crash(crate::ui::app::crash::CrashAction),
    /// Hide the last error.
    DismissError,
    /// Open a dialog.
    OpenDialog(Dialog),
    /// Close the dialog.
    CloseDialog,
    /// A field of the connect dialog changed.
    SetConnectField(ConnectField, String),
    /// The export/import dialog's path changed.
    SetFilePath(String),
    /// (Re)connect with the connect dialog's settings.
    Connect,
    /// Fill the connect dialog with a recent connection (by its index).
    UseRecent(usize),
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
    /// Ask for confirmation of a destructive action.
    Ask(Confirm),
    /// The user said yes.
    ConfirmYes,
    /// The user said no.
    ConfirmNo,
    /// Cancel a running job.
    CancelJob(JobKind),
    /// Show this position's event in the timeline.
    ShowEvent(u64),
    /// The shown panel's search field takes the focus (Ctrl+F).
    FocusSearch,
    /// The "Open link" dialog's text changed.
    SetLinkDraft(String),
    /// Open a `ledgerscope://` link (the dialog's text).
    OpenLink(String),
    /// Speak this language (kept in prefs).
    SetLanguage(crate::ui::prefs::Language),
}

/// What a panel (or the shell) is asked to do.
#[derive(Clone, Debug, PartialEq)]
pub enum UiCommand {
    /// For the shell.
    Shell(ShellCommand),
    /// For the Emit panel.
    Emit(EmitCommand),
    /// For the Ledger timeline.
    Timeline(TimelineCommand),
    /// For Time travel.
    TimeTravel(TimeTravelCommand),
    /// For Compare.
    Compare(CompareCommand),
    /// For Operations.
    Operations(OperationsCommand),
    /// For the row history window.
    History(HistoryCommand),
    /// For Over time.
    OverTime(OverTimeCommand),
    /// For What if.
    WhatIf(WhatIfCommand),
    /// For Models.
    Models(ModelsCommand),
    /// For the guided scenarios.
    Scenario(ScenarioCommand),
}

macro_rules! into_command {
    ($($variant:ident($ty:ty)),*) => {$(
        impl From<$ty> for UiCommand {
            fn from(command: $ty) -> Self {
                UiCommand::$variant(command)
            }
        }
    )*};
}
into_command!(
    Shell(ShellCommand),
    Emit(EmitCommand),
    Timeline(TimelineCommand),
    TimeTravel(TimeTravelCommand),
    Compare(CompareCommand),
    Operations(OperationsCommand),
    History(HistoryCommand),
    OverTime(OverTimeCommand),
    WhatIf(WhatIfCommand),
    Models(ModelsCommand),
    Scenario(ScenarioCommand)
);

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
    pub pairing: Option<Pairing>,
    /// Whether the read store is locked or unreachable, and which
    /// projectors' writes wait.
    pub read_health: crate::engine::ReadStoreHealth,
}

/// What background work tells the shell.
pub enum ShellMessage {
    /// The stores are open and the engine runs.
    Connected {
        /// The engine.
        engine: Arc<Engine>,
        /// Stops the engine's background tasks.
        shutdown: CancellationToken,
        /// The mask made with the data dir's key, and why the key could
        /// not be kept (if so).
        mask: (crate::domain::mask::Mask, Option<String>),
    },
    /// Opening the stores failed.
    ConnectFailed(EngineError),
    /// The last run crashed and left this report.
    CrashReport {
        /// The report's file.
        path: std::path::PathBuf,
        /// Its text.
        text: String,
    },
    /// Head and projector status.
    Status(StatusSnapshot),
    /// Something the engine did.
    Notice(EngineNotice),
    /// A job advanced.
    JobProgress(JobKind, Progress),
    /// A job ended: a sentence for the user, or the error.
    JobDone(JobKind, Result<crate::ui::i18n::Said, EngineError>),
    /// The file dialog answered: a path, nothing (cancelled), or why none opened.
    FilePicked(Result<Option<String>, crate::ui::app::NoFileDialog>),
    /// Something failed that has no place of its own on screen.
    Error(String),
    /// The connected ledger's id (`None`: it has none).
    LedgerId(Result<Option<uuid::Uuid>, EngineError>),
}

/// A background result, for its owner.
pub enum Message {
    /// For the shell.
    Shell(ShellMessage),
    /// For the Emit panel.
    Emit(EmitMessage),
    /// For the Ledger timeline.
    Timeline(TimelineMessage),
    /// For Time travel.
    TimeTravel(TimeTravelMessage),
    /// For Compare.
    Compare(CompareMessage),
    /// For Operations.
    Operations(OperationsMessage),
    /// For the row history window.
    History(HistoryMessage),
    /// For Over time.
    OverTime(OverTimeMessage),
    /// For What if.
    WhatIf(WhatIfMessage),
    /// For Models.
    Models(ModelsMessage),
    /// For the guided scenarios.
    Scenario(ScenarioMessage),
}
