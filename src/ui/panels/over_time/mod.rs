//! Over time: the derived state drawn across the ledger (users, bookings
//! confirmed and cancelled, revenue of confirmed bookings in total and by
//! service) per position range or per day or hour, cumulative or per
//! bucket; hover shows a bucket's values at the cursor, a click
//! time-travels to it; the legend beside each plot hides and shows lines.

mod chart;
mod tasks;
mod ui;

use std::collections::BTreeSet;
use std::time::Duration;

use crate::domain::{Series, SeriesBy};
use crate::engine::{EngineError, Progress};
use crate::ui::command::ShellCommand;
use crate::ui::error::InlineError;
use crate::ui::panels::time_travel::TimeTravelCommand;
use crate::ui::panels::{Ctx, PanelKind};
use crate::ui::remote::Remote;

pub use chart::{Chart, ChartLine, Values};
pub use ui::over_time_ui;

/// How often a growing ledger's series is read again at most.
const RELOAD_EVERY: Duration = Duration::from_secs(2);

/// What the panel asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum OverTimeCommand {
    /// Bucket by position, day or hour.
    SetBy(SeriesBy),
    /// Read the series again.
    Reload,
    /// Draw cumulative values or what happened per bucket.
    SetValues(Values),
    /// Hide the line with this key, or show it again.
    ToggleLine(String),
    /// Show the state at this position in Time travel.
    TravelTo(u64),
}

/// What comes back for the panel.
pub enum OverTimeMessage {
    /// A series, for the request numbered `request`.
    Loaded {
        /// Which request it answers (older answers are dropped).
        request: u64,
        /// The series, or why it could not be read.
        result: Result<Series, EngineError>,
    },
    /// How far the fold for the request numbered `request` is.
    Progress {
        /// Which request it is about.
        request: u64,
        /// Entries folded of those to fold.
        progress: Progress,
    },
}

/// The panel's state.
#[derive(Debug, Default)]
pub struct OverTimePanel {
    /// The bucketing shown.
    pub by: SeriesBy,
    /// The series, keyed by request number.
    pub series: Remote<Series>,
    /// The plots' lines, made from the series when it arrived.
    pub chart: Option<Chart>,
    /// Cumulative or per bucket.
    pub values: Values,
    /// Keys of the lines hidden by a click on the legend.
    pub hidden: BTreeSet<String>,
    /// How far the fold asked for is (`None`: no report yet).
    pub progress: Option<Progress>,
    /// Reading it failed.
    pub error: Option<InlineError>,
    /// The head the series was asked at.
    asked_head: Option<u64>,
    requests: u64,
}

impl OverTimePanel {
    /// Runs a command of the panel.
    pub fn handle(&mut self, command: OverTimeCommand, ctx: &mut Ctx<'_>) {
        match command {
            OverTimeCommand::SetBy(by) => {
                if by != self.by {
                    self.by = by;
                    self.load(ctx);
                }
            }
            OverTimeCommand::Reload => self.load(ctx),
            OverTimeCommand::SetValues(values) => self.values = values,
            OverTimeCommand::ToggleLine(key) => {
                if !self.hidden.remove(&key) {
                    self.hidden.insert(key);
                }
            }
            OverTimeCommand::TravelTo(position) => {
                ctx.route(ShellCommand::ShowPanel(PanelKind::TimeTravel));
                ctx.route(TimeTravelCommand::SetFollow(false));
                ctx.route(TimeTravelCommand::SetCursor(position));
            }
        }
    }

    fn load(&mut self, ctx: &mut Ctx<'_>) {
        if ctx.engine.is_none() {
            return;
        }
        self.error = None;
        self.requests += 1;
        self.asked_head = Some(ctx.shell.head);
        self.series.ask(self.requests);
        self.progress = None;
        tasks::load(ctx, self.requests, self.by);
    }

    /// Reads the series when the panel is shown without one, or when the
    /// ledger has grown since (at most every [`RELOAD_EVERY`]). True when a
    /// reload is due but held back.
    pub fn request_data(&mut self, ctx: &mut Ctx<'_>) -> bool {
        if self.series.is_asked() {
            return false;
        }
        let stale = self.asked_head != Some(ctx.shell.head);
        if self.series.value().is_none() && self.error.is_none() && self.asked_head.is_none() {
            self.load(ctx);
            return false;
        }
        if stale && self.error.is_none() {
            if self.series.asked_before(RELOAD_EVERY) {
                self.load(ctx);
            } else {
                return true;
            }
        }
        false
    }

    /// The stores changed.
    pub fn on_disconnect(&mut self) {
        self.series = Remote::default();
        self.chart = None;
        self.progress = None;
        self.error = None;
        self.asked_head = None;
    }

    /// A message for the panel arrived.
    pub fn apply(&mut self, message: OverTimeMessage) {
        match message {
            OverTimeMessage::Loaded { request, result } => {
                if !self.series.is_for(request) {
                    return;
                }
                self.progress = None;
                match result {
                    Ok(series) => {
                        self.chart = Some(Chart::of(&series));
                        self.series.arrive(request, series);
                    }
                    Err(error) => {
                        self.series.fail();
                        self.error = Some(error.into());
                    }
                }
            }
            OverTimeMessage::Progress { request, progress } => {
                if self.series.asked().is_some_and(|a| a.key == request) {
                    self.progress = Some(progress);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
