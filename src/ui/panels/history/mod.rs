//! Row history ("blame"): every version of one `users` or `bookings` row,
//! oldest first, with the event that made it and the cells it changed. A
//! window over the panels, opened from a row in Time travel, a row in
//! Compare or the selected event in the Ledger timeline; each version links
//! back to its event.

mod tasks;
mod ui;

use uuid::Uuid;

use crate::domain::{RowHistory, Table};
use crate::engine::EngineError;
use crate::engine::subject::SubjectReport;
use crate::ui::error::InlineError;
use crate::ui::panels::Ctx;
use crate::ui::remote::Remote;

pub use ui::history_ui;

/// What the window asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum HistoryCommand {
    /// Show the history of this row.
    Open(Table, Uuid),
    /// Read the shown row's history again (the ledger grew).
    Reload,
    /// List every event that carries the shown user's personal data.
    Subject,
    /// Close the window.
    Close,
}

/// What comes back for the window.
pub enum HistoryMessage {
    /// A row's history, for the request numbered `request`.
    Loaded {
        /// Which request it answers (older answers are dropped).
        request: u64,
        /// The history, or why it could not be read.
        result: Result<RowHistory, EngineError>,
    },
    /// Every event with the shown user's data, for the request numbered `request`.
    Subject {
        /// Which request it answers (older answers are dropped).
        request: u64,
        /// The events, or why they could not be read.
        result: Result<SubjectReport, EngineError>,
    },
}

/// The window's state.
#[derive(Debug, Default)]
pub struct HistoryPanel {
    /// The row shown (`None`: the window is closed).
    pub target: Option<(Table, Uuid)>,
    /// Its history, keyed by request number.
    pub history: Remote<RowHistory>,
    /// Reading it failed.
    pub error: Option<InlineError>,
    /// The events with the shown user's personal data (asked from a user's row).
    pub subject: Remote<SubjectReport>,
    requests: u64,
}

impl HistoryPanel {
    /// Runs a command of the window.
    pub fn handle(&mut self, command: HistoryCommand, ctx: &mut Ctx<'_>) {
        match command {
            HistoryCommand::Open(table, key) => {
                if self.target != Some((table, key)) {
                    self.history.clear();
                    self.subject = Remote::default();
                }
                self.target = Some((table, key));
                self.load(ctx);
            }
            HistoryCommand::Reload => self.load(ctx),
            HistoryCommand::Subject => {
                let Some((Table::Users, key)) = self.target else {
                    return;
                };
                if ctx.engine.is_none() {
                    self.error = Some(InlineError::Input("not connected to a ledger".into()));
                    return;
                }
                self.requests += 1;
                self.subject.ask(self.requests);
                tasks::subject(ctx, self.requests, key);
            }
            HistoryCommand::Close => {
                self.target = None;
                self.history = Remote::default();
                self.subject = Remote::default();
                self.error = None;
            }
        }
    }

    fn load(&mut self, ctx: &mut Ctx<'_>) {
        let Some((table, key)) = self.target else {
            return;
        };
        self.error = None;
        if ctx.engine.is_none() {
            self.error = Some(InlineError::Input("not connected to a ledger".into()));
            return;
        }
        self.requests += 1;
        self.history.ask(self.requests);
        tasks::load(ctx, self.requests, table, key);
    }

    /// A message for the window arrived.
    pub fn apply(&mut self, message: HistoryMessage) {
        match message {
            HistoryMessage::Loaded { request, result } => {
                if !self.history.is_for(request) {
                    return;
                }
                match result {
                    Ok(history) => {
                        if self.target == Some((history.table, history.key)) {
                            self.history.arrive(request, history);
                        }
                    }
                    Err(error) => {
                        self.history.fail();
                        self.error = Some(error.into());
                    }
                }
            }
            HistoryMessage::Subject { request, result } => {
                if !self.subject.is_for(request) {
                    return;
                }
                match result {
                    Ok(report) if self.target == Some((Table::Users, report.user_id)) => {
                        self.subject.arrive(request, report);
                    }
                    Ok(_) => {}
                    Err(error) => {
                        self.subject.fail();
                        self.error = Some(error.into());
                    }
                }
            }
        }
    }

    /// The stores changed: the row may not exist in the new ledger.
    pub fn on_disconnect(&mut self) {
        self.history = Remote::default();
        self.subject = Remote::default();
        self.error = None;
        self.target = None;
    }
}
