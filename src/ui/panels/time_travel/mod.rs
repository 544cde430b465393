//! Time travel: a scrubber over positions (step, play/pause with speed, jump
//! to start/end, follow-live, typed position or time), the state as of the
//! cursor in virtual tables, the difference against now or a pinned position,
//! a link from every row to the event that last changed it, and bookmarks.
//! The state and the difference are lazy views: the tables read the rows in
//! view a page at a time (placeholders until they arrive).

pub mod bookmarks;
mod tasks;
mod ui;

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::domain::state::StateCounts;
use crate::domain::{RowDiff, Table};
use crate::engine::EngineError;
use crate::engine::view::{RowCells, StateView};
use crate::ui::app::Shell;
use crate::ui::error::InlineError;
use crate::ui::page_cache::PageCache;
use crate::ui::paged_diff::{PagedViewDiff, next_generation};
use crate::ui::panels::Ctx;
use crate::ui::remote::Remote;

pub use bookmarks::{Bookmark, BookmarkCommand, BookmarkEdit};
pub use ui::time_travel_ui;

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

/// The state as of the cursor: a lazy view whose rows are read a page at a
/// time, and its difference to the reference.
pub struct TravelView {
    /// Position of the state.
    pub position: u64,
    /// The state: a snapshot's directory plus the events after it.
    pub view: Arc<StateView>,
    /// Its counts.
    pub counts: StateCounts,
    /// The reference's position and the difference to it.
    pub diff: Option<(u64, PagedViewDiff)>,
    /// How the state was computed (for the status line).
    pub base: String,
    /// Time to compute it.
    pub elapsed_ms: u64,
    /// Pages of the state's rows per table ([`Table::slot`]).
    rows: [PageCache<RowCells>; 2],
}

impl std::fmt::Debug for TravelView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TravelView")
            .field("position", &self.position)
            .field("counts", &self.counts)
            .field("diff", &self.diff)
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl TravelView {
    /// A view just computed for the cursor at `position`; no rows read yet.
    pub fn new(
        position: u64,
        view: Arc<StateView>,
        diff: Option<(u64, PagedViewDiff)>,
        base: String,
        elapsed_ms: u64,
    ) -> Self {
        let generation = next_generation();
        let mut rows = [PageCache::default(), PageCache::default()];
        for cache in &mut rows {
            cache.reset(generation);
        }
        TravelView {
            position,
            counts: view.counts().clone(),
            view,
            diff,
            base,
            elapsed_ms,
            rows,
        }
    }

    /// Rows in a table of the state.
    pub fn len(&self, table: Table) -> usize {
        self.view.len(table)
    }

    /// The pages of a table's rows.
    pub fn rows(&self, table: Table) -> &PageCache<RowCells> {
        &self.rows[table.slot()]
    }

    /// True when the table shows real rows for `rows` (clipped to its
    /// length): the state's rows when `show_state`, else the difference's.
    pub fn rows_loaded(&self, table: Table, show_state: bool, rows: std::ops::Range<u64>) -> bool {
        let clip = |len: usize| rows.start.min(len as u64)..rows.end.min(len as u64);
        if show_state {
            self.rows(table).has_rows(clip(self.len(table)))
        } else {
            self.diff
                .as_ref()
                .is_some_and(|(_, d)| d.pages(table).has_rows(clip(d.len(table))))
        }
    }
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
}

/// What comes back for the panel.
pub enum TimeTravelMessage {
    /// The reference state (now or pinned).
    Reference(Result<Arc<StateView>, EngineError>),
    /// The state at the cursor.
    Travel(Result<Box<TravelView>, EngineError>),
    /// One page of the state's rows.
    StatePage {
        /// Generation of the view it was read from.
        generation: u64,
        /// Which table.
        table: Table,
        /// Page number.
        page: u64,
        /// The rows, in key order.
        result: Result<Vec<RowCells>, EngineError>,
    },
    /// One page of the difference's rows.
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
    /// Rows (true) or the difference (false).
    pub show_state: bool,
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
            TimeTravelCommand::SetShowState(on) => self.show_state = on,
            TimeTravelCommand::FetchStatePage(table, page) => {
                let Some(travel) = self.travel.value_mut() else {
                    return;
                };
                let cache = &mut travel.rows[table.slot()];
                if cache.has_or_pending(page) {
                    return;
                }
                cache.mark_pending(page);
                let generation = cache.generation;
                tasks::state_page(ctx, travel.view.clone(), table, page, generation);
            }
            TimeTravelCommand::FetchDiffPage(table, page) => {
                let Some((_, diff)) = self.travel.value_mut().and_then(|t| t.diff.as_mut()) else {
                    return;
                };
                if let Some((diff, generation)) = diff.want(table, page) {
                    tasks::diff_page(ctx, diff, table, page, generation);
                }
            }
            TimeTravelCommand::Bookmark(command) => self.handle_bookmark(command, ctx),
        }
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
        let at = reference.as_ref().map(|r| r.position());
        let current = self
            .travel
            .value()
            .map(|t| (t.position, t.diff.as_ref().map(|d| d.0)));
        let cursor = self.cursor.min(head);
        if !self.travel.is_asked() && current != Some((cursor, at)) {
            // After a failure, once a second.
            if self.error.is_none() || self.travel.asked_before(Duration::from_secs(1)) {
                self.travel.ask(cursor);
                tasks::travel(ctx, cursor, reference);
            } else {
                held_back = true;
            }
        }
        held_back
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
                Ok(view) => {
                    self.error = None;
                    self.rows_error = None;
                    let position = view.position;
                    self.travel.arrive(position, *view);
                }
                Err(error) => {
                    self.travel.fail();
                    self.error = Some(error.into());
                }
            },
            TimeTravelMessage::StatePage {
                generation,
                table,
                page,
                result,
            } => {
                let Some(travel) = self.travel.value_mut() else {
                    return;
                };
                let cache = &mut travel.rows[table.slot()];
                if cache.generation != generation {
                    return;
                }
                match result {
                    Ok(rows) => {
                        cache.insert(page, rows);
                        self.rows_error = None;
                    }
                    Err(error) => {
                        cache.failed(page);
                        self.rows_error = Some(error.into());
                    }
                }
            }
            TimeTravelMessage::DiffPage {
                generation,
                table,
                page,
                result,
            } => {
                let Some((_, diff)) = self.travel.value_mut().and_then(|t| t.diff.as_mut()) else {
                    return;
                };
                match diff.arrive(generation, table, page, result) {
                    Some(Ok(())) => self.rows_error = None,
                    Some(Err(error)) => self.rows_error = Some(error.into()),
                    None => {}
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
