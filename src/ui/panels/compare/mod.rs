//! Compare: the read tables in the connected read store against the state the
//! ledger implies (per-table counts of missing, extra and different rows, then
//! the rows with differing cells highlighted), "Repair by replay", and the
//! tables at two positions (from the older to the newer, whichever was typed
//! first, unless swapped; positions past the head are refused).

mod tasks;
mod ui;

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::domain::{Table, TableDiff};
use crate::engine::view_order::RowQuery;
use crate::engine::{EngineError, VerifyReport};
use crate::ui::error::InlineError;
use crate::ui::paged_diff::PagedViewDiff;
use crate::ui::panels::Ctx;
use crate::ui::remote::Remote;
use crate::ui::widgets::table::paged::LazyRow;

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
    /// The position it reads from (the older, unless swapped).
    pub from: u64,
    /// The position it reads to.
    pub to: u64,
    /// The difference, read a page at a time.
    pub diff: PagedViewDiff,
}

impl PositionsDiff {
    /// Wraps a difference.
    pub fn new(diff: PagedViewDiff) -> Self {
        PositionsDiff {
            from: diff.from(),
            to: diff.to(),
            diff,
        }
    }
}

/// Why two typed positions cannot be compared.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PositionsInput {
    /// One of them is not a number.
    #[error("type two positions from 0 to the head {head}, e.g. 0 and {head}")]
    NotNumbers {
        /// The ledger head.
        head: u64,
    },
    /// One of them is past the head.
    #[error("position {position} is past the head {head}")]
    PastHead {
        /// The position typed.
        position: u64,
        /// The ledger head.
        head: u64,
    },
}

/// The two typed positions, when they can be compared at `head`.
pub fn check_positions(from: &str, to: &str, head: u64) -> Result<(u64, u64), PositionsInput> {
    let (Ok(a), Ok(b)) = (from.trim().parse::<u64>(), to.trim().parse::<u64>()) else {
        return Err(PositionsInput::NotNumbers { head });
    };
    match [a, b].into_iter().find(|p| *p > head) {
        Some(position) => Err(PositionsInput::PastHead { position, head }),
        None => Ok((a, b)),
    }
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
    /// Read the two positions' difference the other way (or back).
    SwapPositions,
    /// Sort, search or filter a table of the two positions' difference.
    SetQuery(Table, RowQuery),
    /// The report file's path was typed.
    SetReportPath(String),
    /// Save the last comparison's findings (JSON or Markdown by the path's
    /// extension; a default file under the data dir when none is typed).
    SaveReport,
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
    /// The report was written (where), or not.
    ReportSaved(Result<std::path::PathBuf, EngineError>),
    /// Read tables vs ledger.
    Verify(Result<Box<VerifyReport>, EngineError>),
    /// What the running comparison has found so far, per table (each
    /// message holds all of it, so a dropped one is made up by the next).
    Found(Vec<FoundRows>),
    /// States at two positions, and their difference.
    Positions(Result<Box<PagedViewDiff>, EngineError>),
    /// One page of the two-positions difference.
    DiffPage {
        /// Generation of the pages it was read for.
        generation: u64,
        /// Which table.
        table: Table,
        /// Page number.
        page: u64,
        /// One entry per row shown.
        result: Result<Vec<LazyRow>, EngineError>,
    },
    /// A display order computed for a table of the two positions' difference.
    Ordered {
        /// Which table.
        table: Table,
        /// Which order.
        id: u64,
        /// The rows to show, in order (`None`: every row in key order).
        result: Result<Option<Arc<[u32]>>, EngineError>,
    },
    /// How far the pass computing an order is.
    OrderProgress {
        /// Which table.
        table: Table,
        /// Which order.
        id: u64,
        /// Rows read.
        done: u64,
        /// Rows to read.
        total: u64,
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
    /// The two positions' difference reads from the newer to the older.
    pub swapped: bool,
    /// Sort, search and filter of the two positions' tables ([`Table::slot`]).
    pub queries: [RowQuery; 2],
    /// The report file typed (empty: a new file under `report_dir`).
    pub report_path: String,
    /// Where reports go by default (`reports` in the data dir).
    pub report_dir: std::path::PathBuf,
    /// The report is being written.
    pub report_saving: bool,
    /// Where the last report was written.
    pub report_saved: Option<std::path::PathBuf>,
    /// The last report could not be written.
    pub report_error: Option<InlineError>,
}

impl ComparePanel {
    /// Runs a command of the panel.
    pub fn handle(&mut self, command: CompareCommand, ctx: &mut Ctx<'_>) {
        match command {
            CompareCommand::SetDraft(CompareField::From, text) => self.from = text,
            CompareCommand::SetDraft(CompareField::To, text) => self.to = text,
            CompareCommand::RunVerify => self.run_verify(ctx),
            CompareCommand::ComparePositions => {
                match check_positions(&self.from, &self.to, ctx.shell.head) {
                    Ok((a, b)) => {
                        self.diff_error = None;
                        if ctx.engine.is_some() {
                            self.diff.ask(b);
                            tasks::positions(ctx, a, b, self.swapped, self.queries.clone());
                        }
                    }
                    Err(refused) => {
                        self.diff.fail();
                        self.diff_error = Some(InlineError::Input(refused.to_string()));
                    }
                }
            }
            CompareCommand::SetTable(table) => self.table = table,
            CompareCommand::SetPositions(on) => self.positions = on,
            CompareCommand::FetchDiffPage(table, page) => {
                if let Some(request) = self
                    .diff
                    .value_mut()
                    .and_then(|d| d.diff.table_mut(table).want_page(page))
                {
                    tasks::diff_page(ctx, table, request);
                }
            }
            CompareCommand::SwapPositions => {
                self.swapped = !self.swapped;
                let shown = self.diff.value().filter(|_| !self.diff.is_asked());
                if let Some((at, diff)) = shown.map(|s| (s.from, s.diff.diff.clone())) {
                    self.diff.ask(at);
                    tasks::swap(ctx, diff, self.queries.clone());
                }
            }
            CompareCommand::SetQuery(table, query) => self.queries[table.slot()] = query,
            CompareCommand::SetReportPath(path) => self.report_path = path,
            CompareCommand::SaveReport => self.save_report(ctx),
        }
    }

    /// The file a report is saved to: the one typed, or a new one named
    /// after the time under the data dir's `reports`.
    pub fn report_file(&self, now: DateTime<Utc>) -> std::path::PathBuf {
        match self.report_path.trim() {
            "" => self
                .report_dir
                .join(format!("compare-{}.md", now.format("%Y%m%d-%H%M%S"))),
            typed => std::path::PathBuf::from(typed),
        }
    }

    fn save_report(&mut self, ctx: &mut Ctx<'_>) {
        let Some(report) = self.verify.value().filter(|_| !self.verify.is_asked()) else {
            return;
        };
        if self.report_saving {
            return;
        }
        self.report_saving = true;
        self.report_error = None;
        tasks::save_report(ctx, report.clone(), self.report_file(Utc::now()));
    }

    /// The two positions' table shown is in the order asked for, or a pass
    /// computes it.
    fn request_order(&mut self, ctx: &mut Ctx<'_>) {
        if !self.positions {
            return;
        }
        let table = self.table.unwrap_or(Table::Bookings);
        let wanted = self.queries[table.slot()].clone();
        if let Some(request) = self
            .diff
            .value_mut()
            .and_then(|d| d.diff.table_mut(table).want_order(&wanted))
        {
            tasks::order(ctx, table, request);
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
        self.request_order(ctx);
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
            CompareMessage::ReportSaved(result) => {
                self.report_saving = false;
                match result {
                    Ok(path) => {
                        self.report_error = None;
                        self.report_saved = Some(path);
                    }
                    Err(error) => self.report_error = Some(error.into()),
                }
            }
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
                Ok(diff) => {
                    self.diff_error = None;
                    let shown = PositionsDiff::new(*diff);
                    self.diff.arrive(shown.to, shown);
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
                let arrived = self.diff.value_mut().and_then(|d| {
                    d.diff
                        .table_mut(table)
                        .page_arrived(generation, page, result)
                });
                if let Some(Err(error)) = arrived {
                    self.diff_error = Some(error.into());
                }
            }
            CompareMessage::Ordered { table, id, result } => {
                let arrived = self
                    .diff
                    .value_mut()
                    .and_then(|d| d.diff.table_mut(table).order_arrived(id, result));
                if let Some(Err(error)) = arrived.filter(|r| r != &Err(EngineError::Cancelled)) {
                    self.diff_error = Some(error.into());
                }
            }
            CompareMessage::OrderProgress {
                table,
                id,
                done,
                total,
            } => {
                if let Some(d) = self.diff.value_mut() {
                    d.diff.table_mut(table).order_progress(id, done, total);
                }
            }
        }
    }
}
