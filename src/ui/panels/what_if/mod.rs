//! What if: the state as of a position as if some events had never
//! happened (positions, an aggregate, an event type, a range), beside the
//! real one, with the difference and the later events that became no-ops.
//! A simulation, labelled so: nothing is written.

mod tasks;
mod ui;

use crate::domain::whatif::BadRange;
use crate::domain::{Exclusion, Table};
use crate::engine::EngineError;
use crate::engine::whatif::WhatIfReport;
use crate::ui::command::ShellCommand;
use crate::ui::error::InlineError;
use crate::ui::panels::{Ctx, PanelKind};
use crate::ui::remote::Remote;

pub use ui::what_if_ui;

/// A text input of the panel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WhatIfField {
    /// Positions, `12, 40`.
    Positions,
    /// An aggregate's id.
    Aggregate,
    /// A range, `100..200`.
    Range,
    /// As of this position (empty: the head).
    At,
}

/// What the panel asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum WhatIfCommand {
    /// A text input changed.
    SetDraft(WhatIfField, String),
    /// Leave out every event of this type too (`None`: no type).
    SetEventType(Option<String>),
    /// Run the simulation with the inputs.
    Run,
    /// Leave out the event at this position, as of the head, and run.
    LeaveOut(u64),
    /// Which table's differences to list.
    SetTable(Table),
}

/// What comes back for the panel.
pub enum WhatIfMessage {
    /// A simulation, for the request numbered `request`.
    Done {
        /// Which request it answers.
        request: u64,
        /// The simulation, or why it could not run.
        result: Result<Box<WhatIfReport>, EngineError>,
    },
}

/// Differing rows of one table, by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DiffCounts {
    /// Only in the simulation.
    pub added: usize,
    /// Only in the real state.
    pub removed: usize,
    /// In both, with other cells.
    pub changed: usize,
}

/// What the panel shows of a report that takes a walk over it (its
/// differences can run to tens of thousands of rows): made once when the
/// report arrives, never per frame.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WhatIfSummary {
    /// Per table, in [`Table::ALL`] order.
    pub counts: Vec<(Table, DiffCounts)>,
}

impl WhatIfSummary {
    /// The summary of `report`.
    pub fn of(report: &WhatIfReport) -> Self {
        let counts = Table::ALL
            .into_iter()
            .map(|table| {
                let (added, removed, changed) = report
                    .difference
                    .tables
                    .iter()
                    .find(|t| t.table == table)
                    .map_or((0, 0, 0), |t| t.counts());
                (
                    table,
                    DiffCounts {
                        added,
                        removed,
                        changed,
                    },
                )
            })
            .collect();
        WhatIfSummary { counts }
    }
}

/// The panel's state.
#[derive(Debug, Default)]
pub struct WhatIfPanel {
    /// Positions typed.
    pub positions: String,
    /// Aggregate typed.
    pub aggregate: String,
    /// Range typed.
    pub range: String,
    /// Position typed (empty: the head).
    pub at: String,
    /// Event type chosen.
    pub event_type: Option<String>,
    /// Which table's differences are listed.
    pub table: Table,
    /// The last simulation.
    pub report: Remote<WhatIfReport>,
    /// What the window shows of it that takes a walk over it, made once
    /// when it arrived.
    pub summary: Option<WhatIfSummary>,
    /// The inputs are unusable, or the simulation failed.
    pub error: Option<InlineError>,
    requests: u64,
}

/// Why the What if inputs do not describe what to leave out.
#[derive(Debug, thiserror::Error)]
pub enum ExclusionError {
    /// A listed position is not a whole number from 1.
    #[error("positions are whole numbers from 1, not '{0}'")]
    Position(String),
    /// The aggregate is not a UUID.
    #[error("the aggregate '{0}' is not a UUID")]
    Aggregate(String),
    /// The range is not `A..B`.
    #[error(transparent)]
    Range(#[from] BadRange),
    /// Nothing is named.
    #[error("say what to leave out: positions, an aggregate, a type or a range")]
    Nothing,
}

impl WhatIfPanel {
    /// The exclusion the inputs describe, or why they do not.
    pub fn exclusion(&self) -> Result<Exclusion, ExclusionError> {
        let mut exclusion = Exclusion::default();
        for part in self
            .positions
            .split([',', ' '])
            .filter(|p| !p.trim().is_empty())
        {
            match part.trim().parse::<u64>() {
                Ok(p) if p > 0 => {
                    exclusion.positions.insert(p);
                }
                _ => return Err(ExclusionError::Position(part.trim().to_string())),
            }
        }
        let aggregate = self.aggregate.trim();
        if !aggregate.is_empty() {
            let id = uuid::Uuid::parse_str(aggregate)
                .map_err(|_| ExclusionError::Aggregate(aggregate.to_string()))?;
            exclusion.aggregates.insert(id);
        }
        if !self.range.trim().is_empty() {
            exclusion.ranges.push(Exclusion::parse_range(&self.range)?);
        }
        if let Some(event_type) = &self.event_type {
            exclusion.event_types.insert(event_type.clone());
        }
        if exclusion.is_empty() {
            return Err(ExclusionError::Nothing);
        }
        Ok(exclusion)
    }

    /// Runs a command of the panel.
    pub fn handle(&mut self, command: WhatIfCommand, ctx: &mut Ctx<'_>) {
        match command {
            WhatIfCommand::SetDraft(field, text) => *self.field_mut(field) = text,
            WhatIfCommand::SetEventType(event_type) => self.event_type = event_type,
            WhatIfCommand::SetTable(table) => self.table = table,
            WhatIfCommand::Run => self.run(ctx),
            WhatIfCommand::LeaveOut(position) => {
                *self = WhatIfPanel {
                    positions: position.to_string(),
                    report: std::mem::take(&mut self.report),
                    summary: self.summary.take(),
                    requests: self.requests,
                    ..WhatIfPanel::default()
                };
                ctx.route(ShellCommand::ShowPanel(PanelKind::WhatIf));
                self.run(ctx);
            }
        }
    }

    fn field_mut(&mut self, field: WhatIfField) -> &mut String {
        match field {
            WhatIfField::Positions => &mut self.positions,
            WhatIfField::Aggregate => &mut self.aggregate,
            WhatIfField::Range => &mut self.range,
            WhatIfField::At => &mut self.at,
        }
    }

    fn run(&mut self, ctx: &mut Ctx<'_>) {
        let exclusion = match self.exclusion() {
            Ok(exclusion) => exclusion,
            Err(why) => {
                self.error = Some(InlineError::Input(why.to_string()));
                return;
            }
        };
        let at = match self.at.trim() {
            "" => ctx.shell.head,
            text => match text.parse::<u64>() {
                Ok(at) => at,
                Err(_) => {
                    self.error = Some(InlineError::Input(format!(
                        "'as of' is a position, not '{text}'"
                    )));
                    return;
                }
            },
        };
        if ctx.engine.is_none() {
            return;
        }
        self.error = None;
        self.requests += 1;
        self.report.ask(self.requests);
        tasks::run(ctx, self.requests, exclusion, at);
    }

    /// The stores changed.
    pub fn on_disconnect(&mut self) {
        self.report = Remote::default();
        self.summary = None;
        self.error = None;
    }

    /// A message for the panel arrived.
    pub fn apply(&mut self, message: WhatIfMessage) {
        match message {
            WhatIfMessage::Done { request, result } => {
                if !self.report.is_for(request) {
                    return;
                }
                match result {
                    Ok(report) => {
                        if let Some(table) =
                            report.difference.tables.iter().find(|t| !t.rows.is_empty())
                        {
                            self.table = table.table;
                        }
                        self.summary = Some(WhatIfSummary::of(&report));
                        self.report.arrive(request, *report);
                    }
                    Err(error) => {
                        self.report.fail();
                        self.error = Some(error.into());
                    }
                }
            }
        }
    }
}
