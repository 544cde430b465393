//! Compare: the read tables in the connected read store against the state the
//! ledger implies (per-table counts of missing, extra and different rows, then
//! the rows with differing cells highlighted), "Repair by replay", and the
//! tables at two positions.

mod tasks;
mod ui;

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::domain::{RowDiff, Table, TableDiff};
use crate::engine::view::ViewDiff;
use crate::engine::{EngineError, VerifyReport};
use crate::ui::error::InlineError;
use crate::ui::paged_diff::PagedViewDiff;
use crate::ui::panels::Ctx;
use crate::ui::remote::Remote;

pub use ui::compare_ui;

/// A text input of the panel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CompareField {
    /// The first position.
    From,
    /// The second position.
    To,
}

/// The tables at two positions and their difference.
#[derive(Debug)]
pub struct PositionsDiff {
    /// The first position.
    pub from: u64,
    /// The second position.
    pub to: u64,
    /// The difference, read a page at a time.
    pub diff: PagedViewDiff,
}

/// What the panel asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum CompareCommand {
    /// A text input changed.
    SetDraft(CompareField, String),
    /// Compare the read tables with the ledger.
    RunVerify,
    /// Compare the states at the two typed positions.
    ComparePositions,
    /// Which table's rows to list (`None`: the first with differences).
    SetTable(Option<Table>),
    /// Two positions (true) or read store vs ledger (false).
    SetPositions(bool),
    /// The two-positions table needs this page of rows.
    FetchDiffPage(Table, u64),
}

/// Differing rows of one table a running comparison has found so far.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoundRows {
    /// How many.
    pub count: u64,
    /// The first of them, in key order (at most [`FOUND_LISTED`]).
    pub first: TableDiff,
}

/// Differing rows listed per table while a comparison runs (all are counted;
/// the report lists them all when it is done).
pub const FOUND_LISTED: usize = 200;

/// What comes back for the panel.
pub enum CompareMessage {
    /// Read tables vs ledger.
    Verify(Result<Box<VerifyReport>, EngineError>),
    /// What the running comparison has found so far, per table (each
    /// message holds all of it, so a dropped one is made up by the next).
    Found(Vec<FoundRows>),
    /// States at two positions.
    Positions(Result<(u64, u64, Arc<ViewDiff>), EngineError>),
    /// One page of the two-positions difference.
    DiffPage {
        /// Generation of the difference.
        generation: u64,
        /// Which table.
        table: Table,
        /// Page number.
        page: u64,
        /// One entry per differing key.
        result: Result<Vec<Option<RowDiff>>, EngineError>,
    },
}

/// The panel's state.
#[derive(Debug, Default)]
pub struct ComparePanel {
    /// Two positions (true) or read store vs ledger (false).
    pub positions: bool,
    /// Which table's rows are listed.
    pub table: Option<Table>,
    /// The first position typed.
    pub from: String,
    /// The second position typed.
    pub to: String,
    /// Read tables vs ledger.
    pub verify: Remote<VerifyReport>,
    /// What the running comparison has found so far.
    pub found: Vec<FoundRows>,
    /// When the last comparison finished.
    pub verify_at: Option<DateTime<Utc>>,
    /// The comparison failed.
    pub verify_error: Option<InlineError>,
    /// What the running comparison compares changed under it (the read
    /// tables were rebuilt): its answer is dropped and it runs again.
    pub verify_outdated: bool,
    /// The tables at two positions.
    pub diff: Remote<PositionsDiff>,
    /// The two-positions comparison failed, or its input is unusable.
    pub diff_error: Option<InlineError>,
}

impl ComparePanel {
    /// Runs a command of the panel.
    pub fn handle(&mut self, command: CompareCommand, ctx: &mut Ctx<'_>) {
        match command {
            CompareCommand::SetDraft(CompareField::From, text) => self.from = text,
            CompareCommand::SetDraft(CompareField::To, text) => self.to = text,
            CompareCommand::RunVerify => self.run_verify(ctx),
            CompareCommand::ComparePositions => {
                match (
                    self.from.trim().parse::<u64>(),
                    self.to.trim().parse::<u64>(),
                ) {
                    (Ok(a), Ok(b)) => {
                        self.diff_error = None;
                        if ctx.engine.is_some() {
                            self.diff.ask(b);
                            tasks::positions(ctx, a, b);
                        }
                    }
                    _ => {
                        self.diff_error = Some(InlineError::Input(
                            "type two positions, e.g. 100 and 2000".into(),
                        ));
                    }
                }
            }
            CompareCommand::SetTable(table) => self.table = table,
            CompareCommand::SetPositions(on) => self.positions = on,
            CompareCommand::FetchDiffPage(table, page) => {
                if let Some(diff) = self.diff.value_mut()
                    && let Some((diff, generation)) = diff.diff.want(table, page)
                {
                    tasks::diff_page(ctx, diff, table, page, generation);
                }
            }
        }
    }

    fn run_verify(&mut self, ctx: &mut Ctx<'_>) {
        if ctx.engine.is_some() && !self.verify.is_asked() && tasks::verify(ctx) {
            self.verify.ask(0);
            self.found.clear();
        }
    }

    /// Compares at once when the panel opens with no report.
    pub fn request_data(&mut self, ctx: &mut Ctx<'_>) -> bool {
        if self.verify.value().is_none() && self.verify_error.is_none() {
            self.run_verify(ctx);
        }
        false
    }

    /// What was compared changed (the read tables were rebuilt, the
    /// pairing changed, the read store answers again): the last report or
    /// error no longer holds, and one running is outdated. The panel
    /// compares again when it is shown.
    pub fn forget_report(&mut self) {
        self.verify.clear();
        self.verify_error = None;
        self.verify_at = None;
        self.found.clear();
        self.verify_outdated = self.verify.is_asked();
    }

    /// The stores changed.
    pub fn on_disconnect(&mut self) {
        self.verify = Remote::default();
        self.found.clear();
        self.diff = Remote::default();
        self.verify_at = None;
    }

    /// A message for the panel arrived.
    pub fn apply(&mut self, message: CompareMessage) {
        if matches!(message, CompareMessage::Verify(_)) {
            self.found.clear();
        }
        match message {
            CompareMessage::Found(found) => {
                if self.verify.is_asked() && !self.verify_outdated {
                    self.found = found;
                }
            }
            CompareMessage::Verify(_) if self.verify_outdated => {
                self.verify_outdated = false;
                self.verify.fail();
            }
            CompareMessage::Verify(result) => match result {
                Ok(report) => {
                    self.verify_error = None;
                    self.verify.arrive(0, *report);
                    self.verify_at = Some(Utc::now());
                }
                Err(error) => {
                    self.verify.fail();
                    self.verify_error = Some(error.into());
                }
            },
            CompareMessage::Positions(result) => match result {
                Ok((from, to, diff)) => {
                    self.diff_error = None;
                    self.diff.arrive(
                        to,
                        PositionsDiff {
                            from,
                            to,
                            diff: PagedViewDiff::new(diff),
                        },
                    );
                }
                Err(error) => {
                    self.diff.fail();
                    self.diff_error = Some(error.into());
                }
            },
            CompareMessage::DiffPage {
                generation,
                table,
                page,
                result,
            } => {
                let Some(diff) = self.diff.value_mut() else {
                    return;
                };
                if let Some(Err(error)) = diff.diff.arrive(generation, table, page, result) {
                    self.diff_error = Some(error.into());
                }
            }
        }
    }
}
