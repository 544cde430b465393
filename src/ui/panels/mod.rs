//! The eight panels and the row history window, one folder each: its state (`mod.rs`), its commands and
//! messages, the work it spawns (`tasks.rs`, engine calls only) and its
//! drawing (`ui.rs`). A panel reads the [`Shell`] (connection, head, jobs)
//! and changes only itself; what it asks of the shell or of another panel it
//! routes through [`Ctx::route`].

pub mod compare;
pub mod emit;
pub mod history;
pub mod models;
pub mod operations;
pub mod over_time;
pub mod time_travel;
pub mod timeline;
pub mod what_if;

use crate::ui::i18n::t;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::engine::{Engine, EngineNotice};
use crate::ui::app::Shell;
use crate::ui::command::UiCommand;
use crate::ui::jobs::JobKind;
use crate::ui::outbox::Outbox;

/// The eight panels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum PanelKind {
    /// Booking wizard, other commands, bulk generator, anatomy.
    Emit,
    /// The virtual ledger table.
    Timeline,
    /// Scrubber and state as of a position.
    TimeTravel,
    /// The derived state drawn across the ledger.
    OverTime,
    /// The state as if some events had never happened (a simulation).
    WhatIf,
    /// Read tables against the ledger.
    Compare,
    /// Projectors, replay, snapshots, outage simulation.
    Operations,
    /// Read models users write as SQL text.
    Models,
}

impl PanelKind {
    /// Every panel, in tab order.
    pub const ALL: [PanelKind; 8] = [
        PanelKind::Emit,
        PanelKind::Timeline,
        PanelKind::TimeTravel,
        PanelKind::OverTime,
        PanelKind::WhatIf,
        PanelKind::Compare,
        PanelKind::Operations,
        PanelKind::Models,
    ];

    /// Tab title.
    pub fn title(self) -> &'static str {
        match self {
            PanelKind::Emit => "Emit",
            PanelKind::Timeline => "Ledger timeline",
            PanelKind::TimeTravel => "Time travel",
            PanelKind::OverTime => "Over time",
            PanelKind::WhatIf => "What if",
            PanelKind::Compare => "Compare",
            PanelKind::Operations => "Operations",
            PanelKind::Models => "Models",
        }
    }

    /// Tab title in the window's language.
    pub fn label(self) -> String {
        match self {
            PanelKind::Emit => t!("panel-emit"),
            PanelKind::Timeline => t!("panel-timeline"),
            PanelKind::TimeTravel => t!("panel-time-travel"),
            PanelKind::OverTime => t!("panel-over-time"),
            PanelKind::WhatIf => t!("panel-what-if"),
            PanelKind::Compare => t!("panel-compare"),
            PanelKind::Operations => t!("panel-operations"),
            PanelKind::Models => t!("panel-models"),
        }
    }

    /// Parses `emit`, `timeline`, `time-travel`/`timetravel`, `over-time`/`series`,
    /// `what-if`/`whatif`, `compare`, `operations`/`ops`, `models`.
    pub fn parse(name: &str) -> Option<PanelKind> {
        match name
            .trim()
            .to_ascii_lowercase()
            .replace(['_', ' '], "-")
            .as_str()
        {
            "emit" => Some(PanelKind::Emit),
            "timeline" | "ledger" => Some(PanelKind::Timeline),
            "time-travel" | "timetravel" | "travel" => Some(PanelKind::TimeTravel),
            "over-time" | "overtime" | "series" => Some(PanelKind::OverTime),
            "what-if" | "whatif" => Some(PanelKind::WhatIf),
            "compare" => Some(PanelKind::Compare),
            "operations" | "ops" => Some(PanelKind::Operations),
            "models" | "model" => Some(PanelKind::Models),
            _ => None,
        }
    }
}

/// What a panel's command handler is given: the engine (when connected),
/// where to run background work, where its answers go, the shell, and
/// commands for others.
pub struct Ctx<'a> {
    /// The connected engine.
    pub engine: Option<&'a Arc<Engine>>,
    /// Runs background work.
    pub runtime: &'a tokio::runtime::Handle,
    /// Where background work answers.
    pub outbox: &'a Outbox,
    /// The shell (connection, head, jobs, dialogs).
    pub shell: &'a mut Shell,
    /// Commands for the shell or another panel, run after this one.
    pub routed: &'a mut Vec<UiCommand>,
}

impl Ctx<'_> {
    /// Runs `future` on the runtime.
    pub fn spawn<F>(&self, future: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        self.runtime.spawn(future);
    }

    /// Asks the shell or another panel for something.
    pub fn route(&mut self, command: impl Into<UiCommand>) {
        self.routed.push(command.into());
    }
}

/// Every panel's state.
#[derive(Debug, Default)]
pub struct Panels {
    /// Emit.
    pub emit: emit::EmitPanel,
    /// Ledger timeline.
    pub timeline: timeline::TimelinePanel,
    /// Time travel.
    pub time_travel: time_travel::TimeTravelPanel,
    /// Over time.
    pub over_time: over_time::OverTimePanel,
    /// What if.
    pub what_if: what_if::WhatIfPanel,
    /// Compare.
    pub compare: compare::ComparePanel,
    /// Operations.
    pub operations: operations::OperationsPanel,
    /// Models.
    pub models: models::ModelsPanel,
    /// The row history window (over every panel).
    pub history: history::HistoryPanel,
}

impl Panels {
    /// Starts the background work the shown panel needs. True when some is
    /// due but held back (asked for too recently): come back for it.
    pub fn request_data(&mut self, shown: PanelKind, ctx: &mut Ctx<'_>) -> bool {
        if ctx.engine.is_none() {
            return false;
        }
        match shown {
            PanelKind::Timeline => self.timeline.request_data(ctx),
            PanelKind::TimeTravel => self.time_travel.request_data(ctx),
            PanelKind::OverTime => self.over_time.request_data(ctx),
            PanelKind::Compare => self.compare.request_data(ctx),
            PanelKind::Operations => self.operations.request_data(ctx),
            PanelKind::Models => self.models.request_data(ctx),
            PanelKind::Emit | PanelKind::WhatIf => false,
        }
    }

    /// The head moved from `old_head` to the shell's.
    pub fn on_head_changed(&mut self, shell: &Shell, old_head: u64) {
        self.emit.on_head_changed(shell.head);
        self.timeline.on_head_changed(old_head);
        self.time_travel.on_head_changed(shell.head);
    }

    /// The engine did something.
    pub fn on_notice(&mut self, notice: &EngineNotice) {
        self.emit.on_notice(notice);
        self.operations.on_notice(notice);
    }

    /// A job ended (`ok`: it succeeded).
    pub fn on_job_done(&mut self, kind: JobKind, ok: bool) {
        if !ok {
            return;
        }
        match kind {
            JobKind::Replay | JobKind::Restore | JobKind::Repair => {
                self.compare.forget_report();
                self.time_travel.forget_reference();
                self.operations.reload_repairs();
            }
            JobKind::Import => self.timeline.reload(),
            JobKind::Snapshot => self.operations.reload_snapshots(),
            JobKind::Bulk | JobKind::Export | JobKind::Verify | JobKind::HistoryPass => {}
        }
    }

    /// Every error the panels show in place, for tests and the benchmark.
    pub fn errors(&self) -> Vec<String> {
        let e = &self.emit.errors;
        [
            &e.wizard,
            &e.booking,
            &e.address,
            &e.bulk,
            &self.timeline.error,
            &self.time_travel.error,
            &self.time_travel.rows_error,
            &self.time_travel.goto_error,
            &self.compare.verify_error,
            &self.compare.diff_error,
            &self.history.error,
            &self.over_time.error,
            &self.what_if.error,
        ]
        .into_iter()
        .flatten()
        .map(ToString::to_string)
        .chain(self.models.error.clone())
        .collect()
    }

    /// The stores changed: forget everything read from the old ones.
    pub fn on_disconnect(&mut self) {
        self.emit.on_disconnect();
        self.timeline.on_disconnect();
        self.time_travel.on_disconnect();
        self.compare.on_disconnect();
        self.operations.on_disconnect();
        self.history.on_disconnect();
        self.over_time.on_disconnect();
        self.what_if.on_disconnect();
        self.models.on_disconnect();
    }
}
