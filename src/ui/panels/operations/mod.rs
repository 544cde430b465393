//! Operations: projectors (checkpoint, lag, status, lease holder,
//! pause/resume), replay from zero or from the newest snapshot with progress,
//! snapshots (list, take now, auto interval, restore), the repairs kept in
//! the ledger store (newest first, with their details), and the training
//! switch that simulates a read-store outage.

mod repairs_ui;
mod tasks;
mod ui;

use crate::domain::ProjectorId;
use crate::engine::{EngineError, EngineNotice};
use crate::store::{RepairEntry, SnapshotMeta};
use crate::ui::app::Shell;
use crate::ui::jobs::JobKind;
use crate::ui::panels::Ctx;
use crate::ui::remote::Remote;

pub use ui::operations_ui;

/// What the panel asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum OperationsCommand {
    /// Pause or resume a projector.
    SetPaused(ProjectorId, bool),
    /// Take a snapshot now.
    TakeSnapshot,
    /// Read the snapshot list again.
    RefreshSnapshots,
    /// The training switch.
    SetOutage(bool),
    /// Read the repairs again.
    RefreshRepairs,
    /// Show the details of the repair at this row of the list (`None`: none).
    SelectRepair(Option<usize>),
}

/// What comes back for the panel.
pub enum OperationsMessage {
    /// The snapshot list.
    Snapshots(Result<Vec<SnapshotMeta>, EngineError>),
    /// The repairs, newest first.
    Repairs(Result<Vec<RepairEntry>, EngineError>),
}

/// Repairs listed at most (the newest).
pub const REPAIRS_LISTED: usize = 1_000;

/// The panel's state.
#[derive(Debug, Default)]
pub struct OperationsPanel {
    /// Stored snapshots, oldest first.
    pub snapshots: Remote<Vec<SnapshotMeta>>,
    /// Repairs kept in the ledger store, newest first.
    pub repairs: Remote<Vec<RepairEntry>>,
    /// The row of the repair list whose details are shown.
    pub selected_repair: Option<usize>,
}

impl OperationsPanel {
    /// Runs a command of the panel.
    pub fn handle(&mut self, command: OperationsCommand, ctx: &mut Ctx<'_>) {
        let Some(engine) = ctx.engine.cloned() else {
            return;
        };
        match command {
            OperationsCommand::SetPaused(projector, paused) => engine.set_paused(projector, paused),
            OperationsCommand::TakeSnapshot => {
                if let Some(job) = ctx.shell.jobs.start(JobKind::Snapshot, true, ctx.outbox) {
                    ctx.spawn(tasks::take_snapshot(engine, job, ctx.outbox.clone()));
                }
            }
            OperationsCommand::RefreshSnapshots => self.reload(ctx),
            OperationsCommand::RefreshRepairs => {
                self.repairs.clear();
                self.selected_repair = None;
                self.load_repairs(ctx);
            }
            OperationsCommand::SelectRepair(id) => self.selected_repair = id,
            OperationsCommand::SetOutage(on) => {
                engine.set_simulated_outage(on);
                ctx.shell.outage = on;
            }
        }
    }

    fn reload(&mut self, ctx: &mut Ctx<'_>) {
        if !self.snapshots.is_asked() {
            self.snapshots.ask(0);
            tasks::list_snapshots(ctx);
        }
    }

    fn load_repairs(&mut self, ctx: &mut Ctx<'_>) {
        if !self.repairs.is_asked() {
            self.repairs.ask(0);
            tasks::list_repairs(ctx);
        }
    }

    /// Reads the snapshot list and the repairs once.
    pub fn request_data(&mut self, ctx: &mut Ctx<'_>) -> bool {
        if self.repairs.value().is_none()
            && self.repairs.asked_before(std::time::Duration::from_secs(5))
        {
            self.load_repairs(ctx);
        }
        if self.snapshots.value().is_none()
            && self
                .snapshots
                .asked_before(std::time::Duration::from_secs(5))
        {
            self.reload(ctx);
        }
        false
    }

    /// A snapshot job ended: read the list again.
    pub fn reload_snapshots(&mut self) {
        self.snapshots.clear();
    }

    /// A repair (or replay) ended: read the repairs again.
    pub fn reload_repairs(&mut self) {
        self.repairs = Remote::default();
        self.selected_repair = None;
    }

    /// The stores changed.
    pub fn on_disconnect(&mut self) {
        self.snapshots = Remote::default();
        self.repairs = Remote::default();
        self.selected_repair = None;
    }

    /// The engine did something.
    pub fn on_notice(&mut self, notice: &EngineNotice) {
        let Some(list) = self.snapshots.value_mut() else {
            return;
        };
        match notice {
            EngineNotice::SnapshotTaken(meta) if !list.iter().any(|s| s.id == meta.id) => {
                list.push(meta.clone());
                list.sort_by_key(|s| s.position);
            }
            EngineNotice::SnapshotsRetired(ids) => list.retain(|s| !ids.contains(&s.id)),
            _ => {}
        }
    }

    /// A message for the panel arrived.
    pub fn apply(&mut self, message: OperationsMessage, shell: &mut Shell) {
        match message {
            OperationsMessage::Snapshots(result) => match result {
                Ok(list) => self.snapshots.arrive(0, list),
                Err(error) => {
                    self.snapshots.fail();
                    shell.report(format!("snapshots: {error}"));
                }
            },
            OperationsMessage::Repairs(result) => match result {
                Ok(list) => {
                    self.selected_repair = None;
                    self.repairs.arrive(0, list);
                }
                Err(error) => {
                    self.repairs.fail();
                    shell.report(format!("repairs: {error}"));
                }
            },
        }
    }
}
