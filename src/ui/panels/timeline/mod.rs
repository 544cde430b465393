//! Ledger timeline: a virtual table over the ledger that asks only for the
//! pages in view (smooth at a million events), filters, the selected event's
//! payload and metadata, an aggregate's stream, a density plot that jumps on
//! click, and follow-live.

mod tasks;
mod ui;

use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::engine::{Density, EngineError, parse_time};
use crate::store::{EventFilter, LedgerEntry, entry_position};
use crate::ui::app::Shell;
use crate::ui::command::ShellCommand;
use crate::ui::error::InlineError;
use crate::ui::page_cache::{PageCache, page_of};
use crate::ui::panels::{Ctx, PanelKind};
use crate::ui::remote::Remote;

pub use ui::{ROW_HEIGHT, timeline_ui};

/// A filter input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FilterField {
    /// Event type (empty = all).
    Type,
    /// Aggregate id.
    Aggregate,
    /// Recorded at or after.
    From,
    /// Recorded before.
    To,
    /// Text in the payload.
    Text,
}

/// What the filter inputs hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FilterDrafts {
    /// Event type.
    pub event_type: String,
    /// Aggregate id.
    pub aggregate: String,
    /// From (RFC 3339 or `YYYY-MM-DD HH:MM`).
    pub from: String,
    /// To.
    pub to: String,
    /// Text.
    pub text: String,
}

impl FilterDrafts {
    /// The text of a field.
    pub fn get(&self, field: FilterField) -> &str {
        match field {
            FilterField::Type => &self.event_type,
            FilterField::Aggregate => &self.aggregate,
            FilterField::From => &self.from,
            FilterField::To => &self.to,
            FilterField::Text => &self.text,
        }
    }

    fn get_mut(&mut self, field: FilterField) -> &mut String {
        match field {
            FilterField::Type => &mut self.event_type,
            FilterField::Aggregate => &mut self.aggregate,
            FilterField::From => &mut self.from,
            FilterField::To => &mut self.to,
            FilterField::Text => &mut self.text,
        }
    }

    /// The filter these drafts say, or why they say none.
    pub fn filter(&self) -> Result<EventFilter, InlineError> {
        let text = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        let aggregate_id = match text(&self.aggregate) {
            None => None,
            Some(a) => Some(
                Uuid::parse_str(&a)
                    .map_err(|_| InlineError::Input(format!("aggregate '{a}' is not a UUID")))?,
            ),
        };
        let time = |s: &str, name: &str| match text(s) {
            None => Ok(None),
            Some(t) => parse_time(&t).map(Some).ok_or_else(|| {
                InlineError::Input(format!(
                    "{name} '{t}' is not a time (2026-03-01 14:30 or RFC 3339)"
                ))
            }),
        };
        Ok(EventFilter {
            event_type: text(&self.event_type),
            aggregate_id,
            from_time: time(&self.from, "from")?,
            to_time: time(&self.to, "to")?,
            text: text(&self.text),
            before_position: None,
        })
    }
}

/// What the panel asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum TimelineCommand {
    /// A filter input changed.
    SetDraft(FilterField, String),
    /// Apply the filter inputs.
    ApplyFilter,
    /// Clear every filter.
    ClearFilter,
    /// Filter by one aggregate (and show its stream).
    FilterAggregate(Uuid),
    /// The table needs this page of rows.
    FetchPage(u64),
    /// An event was picked (in its aggregate's stream).
    SelectEvent(Box<LedgerEntry>),
    /// A row of the table was clicked.
    SelectRow(u64),
    /// Move the selection this many rows down (up when negative) and keep
    /// it in view (the keyboard's Up/Down).
    MoveSelection(i64),
    /// Open the selected event's aggregate stream (the keyboard's Enter).
    OpenSelectedStream,
    /// Follow the head.
    SetFollowLive(bool),
    /// The density plot was clicked at this time.
    JumpToTime(DateTime<Utc>),
    /// Show this position's event.
    JumpToPosition(u64),
    /// The table scrolled to the requested row.
    ScrolledToRow,
    /// Close the aggregate's stream.
    CloseStream,
}

/// What comes back for the panel.
pub enum TimelineMessage {
    /// One page of rows.
    Page {
        /// Filter generation it was read for.
        generation: u64,
        /// Page number.
        page: u64,
        /// The rows.
        result: Result<Vec<LedgerEntry>, EngineError>,
    },
    /// Rows matching the filter.
    Total {
        /// Filter generation.
        generation: u64,
        /// The count.
        result: Result<u64, EngineError>,
    },
    /// Events over time.
    Density {
        /// Filter generation.
        generation: u64,
        /// Head it was counted at.
        head: u64,
        /// The buckets.
        result: Result<Density, EngineError>,
    },
    /// Scroll to a row (after a jump to a time).
    ScrollTo(Result<u64, EngineError>),
    /// The row of the event at a position (after a jump to it): selected.
    RowOf {
        /// The position jumped to.
        position: u64,
        /// Its row.
        result: Result<u64, EngineError>,
    },
    /// One event, for the detail view after a jump.
    Event(Result<Option<Box<LedgerEntry>>, EngineError>),
    /// An aggregate's events.
    Stream {
        /// The aggregate.
        aggregate: Uuid,
        /// Its events.
        result: Result<Vec<LedgerEntry>, EngineError>,
    },
}

/// The timeline's state.
#[derive(Default)]
pub struct TimelinePanel {
    /// The filter inputs.
    pub drafts: FilterDrafts,
    /// The filter as applied.
    pub filter: EventFilter,
    /// Bumped whenever the applied filter changes; answers for an older one
    /// are dropped.
    pub generation: u64,
    /// Pages of rows.
    pub pages: PageCache,
    /// Rows matching the filter (for the current generation).
    pub total: Remote<u64>,
    /// The head moved since the total was counted.
    total_stale: bool,
    /// Events over time (keyed by the head it was counted at).
    pub density: Remote<Density>,
    /// Follow the head.
    pub follow_live: bool,
    /// Row the table scrolls to once (centered).
    pub scroll_to_row: Option<u64>,
    /// Row the table scrolls into view once, as little as it takes.
    pub reveal_row: Option<u64>,
    /// Row of the selected event, when known.
    pub selected_row: Option<u64>,
    /// The selected row's page is being read: select its event when it arrives.
    select_when_loaded: bool,
    /// Position of the selected event.
    pub selected_position: Option<u64>,
    /// The selected event.
    pub selected: Option<LedgerEntry>,
    /// The selected aggregate's stream.
    pub stream: Option<(Uuid, Vec<LedgerEntry>)>,
    /// Under the filter inputs.
    pub error: Option<InlineError>,
}

impl std::fmt::Debug for TimelinePanel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimelinePanel")
            .field("filter", &self.filter)
            .field("generation", &self.generation)
            .field("total", &self.total.value())
            .field("selected_position", &self.selected_position)
            .finish_non_exhaustive()
    }
}

impl TimelinePanel {
    /// Runs a command of the panel.
    pub fn handle(&mut self, command: TimelineCommand, ctx: &mut Ctx<'_>) {
        match command {
            TimelineCommand::SetDraft(field, text) => *self.drafts.get_mut(field) = text,
            TimelineCommand::ApplyFilter => match self.drafts.filter() {
                Ok(filter) => {
                    self.error = None;
                    self.set_filter(filter);
                }
                Err(error) => self.error = Some(error),
            },
            TimelineCommand::ClearFilter => {
                self.drafts = FilterDrafts::default();
                self.error = None;
                self.stream = None;
                self.set_filter(EventFilter::default());
            }
            TimelineCommand::FilterAggregate(id) => {
                self.drafts.aggregate = id.to_string();
                ctx.route(ShellCommand::ShowPanel(PanelKind::Timeline));
                if let Ok(filter) = self.drafts.filter() {
                    self.set_filter(filter);
                }
                tasks::load_stream(ctx, id);
            }
            TimelineCommand::FetchPage(page) => {
                if !self.pages.has_or_pending(page) {
                    self.pages.mark_pending(page);
                    tasks::fetch_page(ctx, self.filter.clone(), self.generation, page);
                }
            }
            TimelineCommand::SelectEvent(entry) => {
                self.selected_position = Some(entry_position(&entry));
                self.selected = Some(*entry);
                self.selected_row = None;
                self.select_when_loaded = false;
            }
            TimelineCommand::SelectRow(row) => self.select_row(row),
            TimelineCommand::MoveSelection(delta) => {
                let total = self.total.value().copied().unwrap_or(0);
                if total == 0 {
                    return;
                }
                let row = match self.selected_row {
                    Some(row) => row.saturating_add_signed(delta).min(total - 1),
                    None if delta < 0 => total - 1,
                    None => 0,
                };
                self.follow_live = false;
                self.select_row(row);
                self.reveal_row = Some(row);
            }
            TimelineCommand::OpenSelectedStream => {
                if let Some(Ok(event)) = &self.selected {
                    let aggregate = event.aggregate_id;
                    self.handle(TimelineCommand::FilterAggregate(aggregate), ctx);
                }
            }
            TimelineCommand::SetFollowLive(on) => {
                self.follow_live = on;
                if on && let Some(total) = self.total.value() {
                    self.scroll_to_row = Some(total.saturating_sub(1));
                }
            }
            TimelineCommand::JumpToTime(time) => {
                self.follow_live = false;
                tasks::row_at_time(ctx, self.filter.clone(), time);
            }
            TimelineCommand::JumpToPosition(position) => {
                ctx.route(ShellCommand::ShowPanel(PanelKind::Timeline));
                self.follow_live = false;
                if !self.filter.is_empty() {
                    self.drafts = FilterDrafts::default();
                    self.set_filter(EventFilter::default());
                }
                // Its row, once the engine says (a hole takes no rows).
                self.selected_position = Some(position);
                tasks::show_position(ctx, position);
            }
            TimelineCommand::ScrolledToRow => {
                self.scroll_to_row = None;
                self.reveal_row = None;
            }
            TimelineCommand::CloseStream => self.stream = None,
        }
    }

    /// Selects the table's row `row` (its event once its page is read).
    fn select_row(&mut self, row: u64) {
        self.selected_row = Some(row);
        match self.pages.row(row) {
            Some(entry) => {
                self.selected_position = Some(entry_position(entry));
                self.selected = Some(entry.clone());
                self.select_when_loaded = false;
            }
            None => self.select_when_loaded = true,
        }
    }

    fn set_filter(&mut self, filter: EventFilter) {
        self.filter = filter;
        self.selected_row = None;
        self.select_when_loaded = false;
        self.reload();
        self.scroll_to_row = Some(0);
    }

    /// Reads everything again (new filter, or an import added events).
    pub fn reload(&mut self) {
        self.generation += 1;
        self.pages.reset(self.generation);
        self.total = Remote::default();
        self.total_stale = false;
        self.density = Remote::default();
    }

    /// The stores changed.
    pub fn on_disconnect(&mut self) {
        self.reload();
        self.selected = None;
        self.selected_row = None;
        self.stream = None;
    }

    /// Asks for the count and the density when due.
    pub fn request_data(&mut self, ctx: &mut Ctx<'_>) -> bool {
        let filtered = !self.filter.is_empty();
        let due = self.total.value().is_none() || self.total_stale || filtered;
        // A filtered count (another writer may add matches) or one that
        // failed is asked again each second; new rows at the head at once.
        let pause = if filtered || self.total.value().is_none() {
            Duration::from_secs(1)
        } else {
            Duration::from_millis(200)
        };
        let mut held_back = false;
        if due && !self.total.is_asked() {
            if self.total.asked_before(pause) {
                self.total.ask(self.generation);
                self.total_stale = false;
                tasks::count_rows(ctx, self.filter.clone(), self.generation);
            } else {
                held_back = true;
            }
        }
        let head = ctx.shell.head;
        let pause = match self.density.value() {
            None => Duration::from_secs(1),
            Some(_) => Duration::from_secs(3),
        };
        if !self.density.is_asked() && self.density.key() != Some(head) {
            if self.density.asked_before(pause) {
                self.density.ask(head);
                tasks::density(ctx, self.filter.clone(), self.generation, head);
            } else {
                held_back = true;
            }
        }
        held_back
    }

    /// The head moved.
    pub fn on_head_changed(&mut self, _old_head: u64) {
        if self.filter.is_empty() {
            // New rows after the last one known; the engine counts them (a
            // hole another writer made takes no rows).
            let rows = self.total.value().copied().unwrap_or(0);
            self.pages.invalidate_from(rows.saturating_sub(1));
            self.total_stale = true;
        }
    }

    /// A message for the panel arrived.
    pub fn apply(&mut self, message: TimelineMessage, shell: &mut Shell) {
        match message {
            TimelineMessage::Page {
                generation,
                page,
                result,
            } => {
                if generation != self.generation {
                    return;
                }
                match result {
                    Ok(rows) => {
                        self.pages.insert(page, rows);
                        if self.select_when_loaded
                            && let Some(row) = self.selected_row
                            && page_of(row) == page
                        {
                            self.select_row(row);
                        }
                    }
                    Err(error) => {
                        self.pages.failed(page);
                        shell.report(format!("timeline: {error}"));
                    }
                }
            }
            TimelineMessage::Total { generation, result } => {
                if generation != self.generation {
                    return;
                }
                match result {
                    Ok(total) => {
                        if let Some(old) = self.total.value().copied()
                            && total != old
                        {
                            self.pages.invalidate_from(old.saturating_sub(1));
                        }
                        self.total.arrive(generation, total);
                        if self.follow_live {
                            self.scroll_to_row = Some(total.saturating_sub(1));
                        }
                    }
                    Err(error) => {
                        self.total.fail();
                        shell.report(format!("timeline: {error}"));
                    }
                }
            }
            TimelineMessage::Density {
                generation,
                head,
                result,
            } => {
                if generation != self.generation {
                    return;
                }
                match result {
                    Ok(density) => self.density.arrive(head, density),
                    Err(error) => {
                        self.density.fail();
                        shell.report(format!("density: {error}"));
                    }
                }
            }
            TimelineMessage::ScrollTo(result) => match result {
                Ok(row) => self.scroll_to_row = Some(row),
                Err(error) => shell.report(format!("timeline: {error}")),
            },
            TimelineMessage::RowOf { position, result } => match result {
                Ok(row) => {
                    self.scroll_to_row = Some(row);
                    if self.selected_position == Some(position) {
                        self.selected_row = Some(row);
                    }
                }
                Err(error) => shell.report(format!("timeline: {error}")),
            },
            TimelineMessage::Event(result) => match result {
                Ok(Some(entry)) => self.selected = Some(*entry),
                Ok(None) => {}
                Err(error) => shell.report(format!("reading the event: {error}")),
            },
            TimelineMessage::Stream { aggregate, result } => match result {
                Ok(events) => self.stream = Some((aggregate, events)),
                Err(error) => shell.report(format!("stream of {aggregate}: {error}")),
            },
        }
    }
}
