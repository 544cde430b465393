//! Time travel: a scrubber over positions (step, play/pause with speed, jump
//! to start/end, follow-live, typed position or time), the state as of the
//! cursor in virtual tables, the difference against now or a pinned position
//! (always from the older position to the newer, unless swapped), the step
//! to the cursor (its event and the rows it changed), a link from every row
//! to the event that last changed it, and bookmarks. The state and the
//! difference are lazy views: the tables read the rows in view a page at a
//! time (placeholders until they arrive), in the order asked for (sorted,
//! searched, filtered by a background pass when the directory cannot say).

pub mod bookmarks;
mod step_ui;
mod tasks;
mod ui;
mod view;

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::domain::Table;
use crate::engine::EngineError;
use crate::engine::view::StateView;
use crate::engine::view_order::RowQuery;
use crate::engine::view_step::Step;
use crate::ui::app::Shell;
use crate::ui::error::InlineError;
use crate::ui::paged_diff::PagedViewDiff;
use crate::ui::panels::Ctx;
use crate::ui::remote::Remote;
use crate::ui::widgets::table::paged::LazyRow;

pub use bookmarks::{Bookmark, BookmarkCommand, BookmarkEdit};
pub use ui::time_travel_ui;
pub use view::TravelView;

/// What the difference is taken against.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum DiffAgainst {
    /// The ledger head.
    #[default]
    Now,
    /// The pinned position.
    Pinned,
}

/// A text input of the panel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TravelField {
    /// A typed position or time.
    Goto,
}

/// What the tables show.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TravelMode {
    /// The rows of the state at the cursor.
    #[default]
    State,
    /// The difference between the cursor and the reference.
    Difference,
    /// The event at the cursor and the rows it changed.
    Step,
}

/// What the panel asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum TimeTravelCommand {
    /// A text input changed.
    SetDraft(TravelField, String),
    /// Move the cursor.
    SetCursor(u64),
    /// Move the cursor by this many events.
    StepCursor(i64),
    /// Play or pause.
    SetPlaying(bool),
    /// Playback speed (events per second).
    SetSpeed(f64),
    /// The cursor follows the head.
    SetFollow(bool),
    /// Go to the typed position or time.
    GoTyped,
    /// Pin the cursor's position.
    Pin,
    /// Remove the pin.
    Unpin,
    /// Compare against now or the pin.
    SetDiffAgainst(DiffAgainst),
    /// Which table to show.
    SetTable(Table),
    /// Rows (true) or the difference (false).
    SetShowState(bool),
    /// The state table needs this page of rows.
    FetchStatePage(Table, u64),
    /// The difference table needs this page of rows.
    FetchDiffPage(Table, u64),
    /// Play if paused, pause if playing (the keyboard's Space).
    TogglePlaying,
    /// For the bookmarks.
    Bookmark(BookmarkCommand),
    /// The rows, the difference or the step.
    SetMode(TravelMode),
    /// Read the difference from the newer position to the older (or back).
    SwapDirection,
    /// Sort, search or filter a table of the state (`diff` false) or of
    /// the difference.
    SetQuery {
        /// The difference's table (true) or the state's.
        diff: bool,
        /// Which table.
        table: Table,
        /// Its sort, search and filter.
        query: RowQuery,
    },
}

/// What comes back for the panel.
pub enum TimeTravelMessage {
    /// The reference state (now or pinned).
    Reference(Result<Arc<StateView>, EngineError>),
    /// The state at the cursor.
    Travel(Result<Box<TravelView>, EngineError>),
    /// The difference of the state at `position` computed again (the
    /// reference moved, or it was swapped): the reference and the difference.
    Diff {
        /// The state's position.
        position: u64,
        /// The reference's position and the difference.
        result: Result<Box<(u64, PagedViewDiff)>, EngineError>,
    },
    /// One page of the state's rows.
    StatePage {
        /// Generation of the pages it was read for.
        generation: u64,
        /// Which table.
        table: Table,
        /// Page number.
        page: u64,
        /// The rows, in display order.
        result: Result<Vec<LazyRow>, EngineError>,
    },
    /// One page of the difference's rows.
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
    /// A display order computed for a table.
    Ordered {
        /// The difference's table (true) or the state's.
        diff: bool,
        /// Which table.
        table: Table,
        /// Which order.
        id: u64,
        /// The rows to show, in order (`None`: every row in key order).
        result: Result<Option<Arc<[u32]>>, EngineError>,
    },
    /// How far the pass computing an order is.
    OrderProgress {
        /// The difference's table (true) or the state's.
        diff: bool,
        /// Which table.
        table: Table,
        /// Which order.
        id: u64,
        /// Rows read.
        done: u64,
        /// Rows to read.
        total: u64,
    },
    /// The step to a position: its event and the rows it changed.
    Step {
        /// The position.
        position: u64,
        /// The step.
        result: Result<Box<Step>, EngineError>,
    },
    /// A typed position or time, as a position.
    Goto(Result<u64, EngineError>),
}

/// The panel's state.
#[derive(Debug)]
pub struct TimeTravelPanel {
    /// The cursor (a ledger position).
    pub cursor: u64,
    /// Fractional cursor while playing.
    play_accumulator: f64,
    /// Playing forward.
    pub playing: bool,
    /// Playback speed in events per second.
    pub play_speed_eps: f64,
    /// The cursor follows the head.
    pub follow: bool,
    /// Pinned position.
    pub pinned: Option<u64>,
    /// What the difference is taken against.
    pub diff_against: DiffAgainst,
    /// Which table is shown.
    pub table: Table,
    /// Rows (true) or the difference (false), unless `show_step`.
    pub show_state: bool,
    /// The step to the cursor is shown.
    pub show_step: bool,
    /// The difference reads from the newer position to the older.
    pub swapped: bool,
    /// Sort, search and filter of each table: of the state (`[0]`) and of
    /// the difference (`[1]`), per table ([`Table::slot`]).
    pub queries: [[RowQuery; 2]; 2],
    /// The step to the cursor (keyed by its position).
    pub step: Remote<Step>,
    /// The last step asked for failed.
    step_failed: bool,
    /// A difference asked for the state shown: (position, reference, swapped).
    diff_asked: Option<(u64, u64, bool)>,
    /// Named positions.
    pub bookmarks: Vec<Bookmark>,
    /// Typed position or time.
    pub goto: String,
    /// Name for a new bookmark.
    pub bookmark_name: String,
    /// The bookmark being renamed and annotated.
    pub bookmark_edit: Option<BookmarkEdit>,
    /// The reference state (keyed by its position).
    pub reference: Remote<Arc<StateView>>,
    /// The state at the cursor (keyed by the cursor it was asked for).
    pub travel: Remote<TravelView>,
    /// Computing the state failed.
    pub error: Option<InlineError>,
    /// Reading a page of rows failed (cleared when one is read).
    pub rows_error: Option<InlineError>,
    /// Under "Go to".
    pub goto_error: Option<InlineError>,
}

impl Default for TimeTravelPanel {
    fn default() -> Self {
        TimeTravelPanel {
            cursor: 0,
            play_accumulator: 0.0,
            playing: false,
            play_speed_eps: 20.0,
            follow: false,
            pinned: None,
            diff_against: DiffAgainst::Now,
            table: Table::Bookings,
            show_state: true,
            show_step: false,
            swapped: false,
            queries: Default::default(),
            step: Remote::default(),
            step_failed: false,
            diff_asked: None,
            bookmarks: Vec::new(),
            goto: String::new(),
            bookmark_name: String::new(),
            bookmark_edit: None,
            reference: Remote::default(),
            travel: Remote::default(),
            error: None,
            rows_error: None,
            goto_error: None,
        }
    }
}

impl TimeTravelPanel {
    /// Runs a command of the panel.
    pub fn handle(&mut self, command: TimeTravelCommand, ctx: &mut Ctx<'_>) {
        let head = ctx.shell.head;
        match command {
            TimeTravelCommand::SetDraft(TravelField::Goto, text) => self.goto = text,
            TimeTravelCommand::SetCursor(position) => {
                self.cursor = position.min(head);
                self.follow = false;
            }
            TimeTravelCommand::StepCursor(delta) => {
                self.cursor = self.cursor.saturating_add_signed(delta).min(head);
                self.follow = false;
            }
            TimeTravelCommand::TogglePlaying => {
                self.handle(TimeTravelCommand::SetPlaying(!self.playing), ctx);
            }
            TimeTravelCommand::SetPlaying(on) => {
                if on && self.cursor >= head {
                    self.cursor = 0;
                }
                self.playing = on;
                self.play_accumulator = 0.0;
                if on {
                    self.follow = false;
                }
            }
            TimeTravelCommand::SetSpeed(speed) => self.play_speed_eps = speed.clamp(0.1, 100_000.0),
            TimeTravelCommand::SetFollow(on) => {
                self.follow = on;
                if on {
                    self.playing = false;
                    self.cursor = head;
                }
            }
            TimeTravelCommand::GoTyped => tasks::resolve_goto(ctx, self.goto.clone()),
            TimeTravelCommand::Pin => {
                self.pinned = Some(self.cursor);
                self.diff_against = DiffAgainst::Pinned;
            }
            TimeTravelCommand::Unpin => {
                self.pinned = None;
                self.diff_against = DiffAgainst::Now;
            }
            TimeTravelCommand::SetDiffAgainst(against) => self.diff_against = against,
            TimeTravelCommand::SetTable(table) => self.table = table,
            TimeTravelCommand::SetShowState(on) => {
                self.show_state = on;
                self.show_step = false;
            }
            TimeTravelCommand::SetMode(mode) => match mode {
                TravelMode::State | TravelMode::Difference => {
                    self.show_state = mode == TravelMode::State;
                    self.show_step = false;
                }
                TravelMode::Step => self.show_step = true,
            },
            TimeTravelCommand::SwapDirection => self.swapped = !self.swapped,
            TimeTravelCommand::SetQuery { diff, table, query } => {
                self.queries[usize::from(diff)][table.slot()] = query;
            }
            TimeTravelCommand::FetchStatePage(table, page) => {
                self.fetch_page(ctx, false, table, page)
            }
            TimeTravelCommand::FetchDiffPage(table, page) => {
                self.fetch_page(ctx, true, table, page)
            }
            TimeTravelCommand::Bookmark(command) => self.handle_bookmark(command, ctx),
        }
    }

    /// What the tables show.
    pub fn mode(&self) -> TravelMode {
        match (self.show_step, self.show_state) {
            (true, _) => TravelMode::Step,
            (false, true) => TravelMode::State,
            (false, false) => TravelMode::Difference,
        }
    }

    /// The sort, search and filter asked for a table of the state (`diff`
    /// false) or of the difference.
    pub fn query(&self, diff: bool, table: Table) -> &RowQuery {
        &self.queries[usize::from(diff)][table.slot()]
    }

    fn fetch_page(&mut self, ctx: &mut Ctx<'_>, diff: bool, table: Table, page: u64) {
        let Some(request) = self
            .travel
            .value_mut()
            .and_then(|t| t.table_mut(diff, table))
            .and_then(|t| t.want_page(page))
        else {
            return;
        };
        tasks::page(ctx, diff, table, request);
    }

    /// Moves the cursor while playing (every frame).
    pub fn advance_playback(&mut self, ctx: &egui::Context, head: u64) {
        if !self.playing {
            return;
        }
        let dt = f64::from(ctx.input(|i| i.stable_dt)).min(0.2);
        self.play_accumulator += self.play_speed_eps * dt;
        let steps = self.play_accumulator.floor();
        if steps >= 1.0 {
            self.play_accumulator -= steps;
            self.cursor = (self.cursor + steps as u64).min(head);
        }
        if self.cursor >= head {
            self.playing = false;
        }
        ctx.request_repaint_after(Duration::from_millis(30));
    }

    /// The position the difference is taken against.
    pub(super) fn wanted_reference(&self, head: u64) -> u64 {
        match (self.diff_against, self.pinned) {
            (DiffAgainst::Pinned, Some(p)) => p.min(head),
            _ => head,
        }
    }

    /// Asks for the reference and the state at the cursor when due.
    pub fn request_data(&mut self, ctx: &mut Ctx<'_>) -> bool {
        let head = ctx.shell.head;
        let mut held_back = false;
        let wanted = self.wanted_reference(head);
        let have = self.reference.value().map(|r| r.position());
        if have != Some(wanted) && !self.reference.is_asked() {
            if self.reference.asked_before(Duration::from_secs(1)) {
                self.reference.ask(wanted);
                tasks::reference(ctx, wanted);
            } else {
                held_back = true;
            }
        }
        let reference = self.reference.value().cloned();
        let cursor = self.cursor.min(head);
        let shown = self.travel.value().map(|t| t.position);
        if !self.travel.is_asked() && shown != Some(cursor) {
            // After a failure, once a second.
            if self.error.is_none() || self.travel.asked_before(Duration::from_secs(1)) {
                self.travel.ask(cursor);
                self.diff_asked = None;
                tasks::travel(ctx, cursor, reference, self.swapped, self.queries.clone());
            } else {
                held_back = true;
            }
        } else if !self.travel.is_asked() {
            self.request_diff(ctx, reference);
        }
        self.request_order(ctx);
        let step_held_back = self.request_step(ctx);
        held_back || step_held_back
    }

    /// The state shown is at the cursor: computes its difference again
    /// when the reference or the direction changed.
    fn request_diff(&mut self, ctx: &mut Ctx<'_>, reference: Option<Arc<StateView>>) {
        let (Some(travel), Some(reference)) = (self.travel.value(), reference) else {
            return;
        };
        let at = reference.position();
        let fits = travel.diff.as_ref().is_some_and(|(r, d)| {
            *r == at && (d.from() == d.to() || d.is_backwards() == self.swapped)
        });
        let key = (travel.position, at, self.swapped);
        if fits || self.diff_asked == Some(key) {
            return;
        }
        self.diff_asked = Some(key);
        tasks::rediff(
            ctx,
            travel.view.clone(),
            reference,
            self.swapped,
            self.queries[1].clone(),
        );
    }

    /// The table shown is in the order asked for, or a pass computes it.
    fn request_order(&mut self, ctx: &mut Ctx<'_>) {
        if self.show_step {
            return;
        }
        let diff = !self.show_state;
        let table = self.table;
        let wanted = self.query(diff, table).clone();
        let Some(request) = self
            .travel
            .value_mut()
            .and_then(|t| t.table_mut(diff, table))
            .and_then(|t| t.want_order(&wanted))
        else {
            return;
        };
        tasks::order(ctx, diff, table, request);
    }

    /// The step to the state shown, when it is on screen. True when one is
    /// due but held back after a failure.
    fn request_step(&mut self, ctx: &mut Ctx<'_>) -> bool {
        let Some(travel) = self.travel.value().filter(|_| self.show_step) else {
            return false;
        };
        if self.step.is_for(travel.position) || self.step.is_asked() {
            return false;
        }
        // After a failure, once a second.
        if self.step_failed && !self.step.asked_before(Duration::from_secs(1)) {
            return true;
        }
        self.step.ask(travel.position);
        tasks::step(ctx, travel.view.clone(), travel.previous.clone());
        false
    }

    /// The head moved.
    pub fn on_head_changed(&mut self, head: u64) {
        if self.follow {
            self.cursor = head;
        }
    }

    /// The first status after connecting: start at the head.
    pub fn on_first_status(&mut self, head: u64) {
        if self.cursor == 0 {
            self.cursor = head;
        }
    }

    /// The read tables were rebuilt: compute the reference again.
    pub fn forget_reference(&mut self) {
        self.reference.clear();
    }

    /// The stores changed.
    pub fn on_disconnect(&mut self) {
        self.reference = Remote::default();
        self.travel = Remote::default();
        self.step = Remote::default();
        self.diff_asked = None;
    }

    fn page_arrived(
        &mut self,
        diff: bool,
        table: Table,
        generation: u64,
        page: u64,
        result: Result<Vec<LazyRow>, EngineError>,
    ) {
        let arrived = self
            .travel
            .value_mut()
            .and_then(|t| t.table_mut(diff, table))
            .and_then(|t| t.page_arrived(generation, page, result));
        match arrived {
            Some(Ok(())) => self.rows_error = None,
            Some(Err(error)) => self.rows_error = Some(error.into()),
            None => {}
        }
    }

    /// A message for the panel arrived.
    pub fn apply(&mut self, message: TimeTravelMessage, shell: &Shell) {
        match message {
            TimeTravelMessage::Reference(result) => match result {
                Ok(state) => {
                    let position = state.position();
                    self.reference.arrive(position, state);
                }
                Err(error) => {
                    self.reference.fail();
                    self.error = Some(error.into());
                }
            },
            TimeTravelMessage::Travel(result) => match result {
                Ok(mut view) => {
                    self.error = None;
                    self.rows_error = None;
                    let position = view.position;
                    view.previous = self
                        .travel
                        .value()
                        .filter(|old| old.position + 1 == position)
                        .map(|old| old.view.clone());
                    self.travel.arrive(position, *view);
                }
                Err(error) => {
                    self.travel.fail();
                    self.error = Some(error.into());
                }
            },
            TimeTravelMessage::Diff { position, result } => {
                let Some(travel) = self.travel.value_mut().filter(|t| t.position == position)
                else {
                    return;
                };
                match result {
                    Ok(diff) => {
                        travel.diff = Some(*diff);
                        self.diff_asked = None;
                    }
                    // Kept asked: not asked again until something changes.
                    Err(error) => self.rows_error = Some(error.into()),
                }
            }
            TimeTravelMessage::StatePage {
                generation,
                table,
                page,
                result,
            } => self.page_arrived(false, table, generation, page, result),
            TimeTravelMessage::DiffPage {
                generation,
                table,
                page,
                result,
            } => self.page_arrived(true, table, generation, page, result),
            TimeTravelMessage::Ordered {
                diff,
                table,
                id,
                result,
            } => {
                let arrived = self
                    .travel
                    .value_mut()
                    .and_then(|t| t.table_mut(diff, table))
                    .and_then(|t| t.order_arrived(id, result));
                match arrived {
                    Some(Err(EngineError::Cancelled)) | Some(Ok(())) | None => {}
                    Some(Err(error)) => self.rows_error = Some(error.into()),
                }
            }
            TimeTravelMessage::OrderProgress {
                diff,
                table,
                id,
                done,
                total,
            } => {
                if let Some(t) = self
                    .travel
                    .value_mut()
                    .and_then(|t| t.table_mut(diff, table))
                {
                    t.order_progress(id, done, total);
                }
            }
            TimeTravelMessage::Step { position, result } => {
                if !self.step.is_for(position) {
                    return;
                }
                self.step_failed = result.is_err();
                match result {
                    Ok(step) => self.step.arrive(position, *step),
                    Err(error) => {
                        self.step.fail();
                        self.rows_error = Some(error.into());
                    }
                }
            }
            TimeTravelMessage::Goto(result) => match result {
                Ok(position) => {
                    self.goto_error = None;
                    self.cursor = position.min(shell.head);
                    self.follow = false;
                }
                Err(error) => self.goto_error = Some(error.into()),
            },
        }
    }
}
