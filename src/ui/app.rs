//! `LedgerApp`: owns the UI state, the received data and the channels. Each
//! frame `update_logic` runs the panels' commands and drains the inbox, then
//! `root_ui` draws. All I/O is spawned on the tokio runtime.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::domain::generate::{DemoRng, booking_form};
use crate::domain::{CancelBooking, ChangeUserAddress, DomainEvent, RescheduleBooking};
use crate::engine::bulk::BulkSpec;
use crate::engine::{Engine, EngineConfig, EngineNotice};
use crate::store::{EventFilter, StoreConfig};
use crate::ui::GuiOptions;
use crate::ui::commands::DiffList;
use crate::ui::commands::{Confirm, Dialog, DraftField, JobKind, UiCommand};
use crate::ui::data::{AppData, Connection, LastCommand, ViewDiffRows, table_slot};
use crate::ui::job::Job;
use crate::ui::message::Message;
use crate::ui::outbox::Outbox;
use crate::ui::panels;
use crate::ui::prefs::Prefs;
use crate::ui::state::{AppState, DiffAgainst, Panel};
use crate::ui::tasks;
use crate::ui::view::View;

/// Environment variable naming the panel to open at start (`timeline`, ...).
pub const START_PANEL_ENV: &str = "LEDGERSCOPE_START_PANEL";

/// Environment variable with a position to show at start: the timeline
/// selects that event, time travel puts its cursor there (for demos and
/// screenshots).
pub const START_POSITION_ENV: &str = "LEDGERSCOPE_START_POSITION";
/// Environment variable: when `1`, the Emit panel generates one event at
/// start, so the anatomy of a transaction is on screen (demos, screenshots).
pub const START_GENERATE_ENV: &str = "LEDGERSCOPE_START_GENERATE";

/// Messages drained per frame at most (the rest wait for the next frame).
const MAX_MESSAGES_PER_FRAME: usize = 2_000;
/// How an inline error from reading a page of rows starts.
const ROWS_ERROR: &str = "reading rows: ";
/// Frame times remembered for the status line.
const FRAME_HISTORY: usize = 120;
/// Projection notices remembered for the anatomy flow.
const NOTICE_HISTORY: usize = 64;

/// The explorer application.
pub struct LedgerApp {
    state: AppState,
    data: AppData,
    runtime: tokio::runtime::Handle,
    outbox: Outbox,
    inbox: mpsc::Receiver<Message>,
    commands: Vec<UiCommand>,
    engine: Option<Arc<Engine>>,
    shutdown: Option<CancellationToken>,
    projectors: Option<CancellationToken>,
    store_config: StoreConfig,
    engine_config: EngineConfig,
    prefs_path: Option<PathBuf>,
    reference_asked: Option<Instant>,
    startup: Vec<UiCommand>,
    /// Bumped for every new lazy view or difference; row pages carry it so
    /// that pages of an old one are never shown for a new one.
    rows_generation: u64,
}

impl LedgerApp {
    /// Builds the app with prefs from the platform config dir (or
    /// `LEDGERSCOPE_UI_PREFS`) and starts connecting.
    pub fn new(options: GuiOptions) -> Self {
        Self::with_prefs_path(options, Prefs::path())
    }

    /// Builds the app with prefs at `prefs_path` (`None` = defaults, not saved).
    pub fn with_prefs_path(options: GuiOptions, prefs_path: Option<PathBuf>) -> Self {
        let (outbox, inbox) = Outbox::channel();
        let mut state = AppState::default();
        Prefs::load(prefs_path.as_ref()).apply(&mut state);
        if let Some(panel) = std::env::var(START_PANEL_ENV)
            .ok()
            .and_then(|p| Panel::parse(&p))
        {
            state.panel = panel;
        }
        let mut startup = Vec::new();
        if let Some(position) = std::env::var(START_POSITION_ENV)
            .ok()
            .and_then(|p| p.trim().parse::<u64>().ok())
        {
            startup.push(match state.panel {
                Panel::TimeTravel => UiCommand::SetCursor(position),
                _ => UiCommand::JumpToPosition(position),
            });
        }
        if std::env::var(START_GENERATE_ENV).is_ok_and(|v| v == "1") && !options.observe_only {
            startup.push(UiCommand::GenerateAndSubmit);
        }
        state.observe_only = options.observe_only;
        state.observe_locked = options.observe_only;
        let mut app = LedgerApp {
            state,
            data: AppData::default(),
            runtime: options.runtime,
            outbox,
            inbox,
            commands: Vec::new(),
            engine: None,
            shutdown: None,
            projectors: None,
            store_config: options.store,
            engine_config: options.engine,
            prefs_path,
            reference_asked: None,
            startup,
            rows_generation: 0,
        };
        app.start_connect();
        app
    }

    /// UI state (for tests).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Received data (for tests).
    pub fn data(&self) -> &AppData {
        &self.data
    }

    /// The connected engine, if any.
    pub fn engine(&self) -> Option<&Arc<Engine>> {
        self.engine.as_ref()
    }

    /// Queues a command as if a panel had sent it.
    pub fn push_command(&mut self, command: UiCommand) {
        self.commands.push(command);
    }

    /// One whole frame: logic, then drawing (used by tests and `eframe`).
    pub fn frame_ui(&mut self, ui: &mut egui::Ui) {
        self.update_logic(ui.ctx());
        self.root_ui(ui);
    }

    /// Stops background tasks and saves prefs.
    pub fn shutdown(&mut self) {
        Prefs::from_state(&self.state).save(self.prefs_path.as_ref());
        for job in self.data.jobs.values() {
            job.cancel.store(true, Ordering::Relaxed);
        }
        if let Some(token) = self.shutdown.take() {
            token.cancel();
        }
        self.projectors = None;
    }

    fn spawn<F>(&self, future: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        self.runtime.spawn(future);
    }

    fn start_connect(&mut self) {
        self.data.connection = Connection::Connecting;
        let (store, config, observe, outbox) = (
            self.store_config.clone(),
            self.engine_config.clone(),
            self.state.observe_only,
            self.outbox.clone(),
        );
        self.spawn(tasks::connect(store, config, observe, outbox));
    }

    fn start_projectors(&mut self) {
        let (Some(engine), Some(shutdown)) = (&self.engine, &self.shutdown) else {
            return;
        };
        if self.projectors.is_some() {
            return;
        }
        let token = shutdown.child_token();
        let _guard = self.runtime.enter();
        engine.spawn_projectors(token.clone());
        engine.spawn_auto_snapshots(token.clone());
        self.projectors = Some(token);
    }

    fn stop_projectors(&mut self) {
        if let Some(token) = self.projectors.take() {
            token.cancel();
        }
    }

    /// Runs queued commands, drains the inbox and advances playback.
    pub fn update_logic(&mut self, ctx: &egui::Context) {
        self.outbox.set_context(ctx);
        for command in std::mem::take(&mut self.commands) {
            self.handle(command);
        }
        for _ in 0..MAX_MESSAGES_PER_FRAME {
            match self.inbox.try_recv() {
                Ok(message) => self.apply(message),
                Err(_) => break,
            }
        }
        self.advance_playback(ctx);
        if self.request_panel_data() {
            // Something is due but held back a moment: come back for it
            // even if nothing else wakes the window.
            ctx.request_repaint_after(Duration::from_millis(250));
        }
        if !self.data.jobs.is_empty() || self.data.connection == Connection::Connecting {
            ctx.request_repaint_after(Duration::from_millis(250));
        }
    }

    /// Draws the window.
    pub fn root_ui(&mut self, ui: &mut egui::Ui) {
        let started = Instant::now();
        let mut commands = Vec::new();
        {
            let view = View {
                state: &self.state,
                data: &self.data,
            };
            egui::Panel::top("top_bar").show(ui, |ui| {
                panels::top_bar::top_bar_ui(ui, &view, &mut commands)
            });
            egui::CentralPanel::default().show(ui, |ui| match self.state.panel {
                Panel::Emit => panels::emit::emit_ui(ui, &view, &mut commands),
                Panel::Timeline => panels::timeline::timeline_ui(ui, &view, &mut commands),
                Panel::TimeTravel => panels::time_travel::time_travel_ui(ui, &view, &mut commands),
                Panel::Compare => panels::compare::compare_ui(ui, &view, &mut commands),
                Panel::Operations => panels::operations::operations_ui(ui, &view, &mut commands),
            });
            panels::dialogs::dialogs_ui(ui.ctx(), &view, &mut commands);
        }
        if !commands.is_empty() {
            ui.ctx().request_repaint();
        }
        self.commands.extend(commands);
        if self.data.frame_ms.len() >= FRAME_HISTORY {
            self.data.frame_ms.pop_front();
        }
        self.data
            .frame_ms
            .push_back(started.elapsed().as_secs_f32() * 1000.0);
    }

    fn set_error(&mut self, error: impl Into<String>) {
        self.data.last_error = Some(error.into());
    }

    fn inline_error(&mut self, place: &'static str, error: Option<String>) {
        match error {
            Some(e) => {
                self.data.inline_errors.insert(place, e);
            }
            None => {
                self.data.inline_errors.remove(place);
            }
        }
    }

    /// Removes a place's inline error if it came from reading a page of rows
    /// (a later page read succeeded).
    fn clear_rows_error(&mut self, place: &'static str) {
        if self
            .data
            .inline_errors
            .get(place)
            .is_some_and(|e| e.starts_with(ROWS_ERROR))
        {
            self.data.inline_errors.remove(place);
        }
    }

    fn start_job(
        &mut self,
        kind: JobKind,
        cancellable: bool,
    ) -> Option<(Arc<Engine>, Arc<AtomicBool>)> {
        let engine = self.engine.clone()?;
        if self.data.jobs.contains_key(&kind) {
            return None;
        }
        let job = Job::new(cancellable);
        let cancel = job.cancel.clone();
        self.data.jobs.insert(kind, job);
        self.data.job_results.remove(&kind);
        Some((engine, cancel))
    }

    fn applied_filter_from_drafts(&self) -> Result<EventFilter, String> {
        let d = &self.state.drafts;
        let text = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        let aggregate_id = match text(&d.filter_aggregate) {
            None => None,
            Some(a) => {
                Some(Uuid::parse_str(&a).map_err(|_| format!("aggregate '{a}' is not a UUID"))?)
            }
        };
        let time = |s: &str, name: &str| -> Result<_, String> {
            match text(s) {
                None => Ok(None),
                Some(t) => tasks::parse_time(&t).map(Some).ok_or_else(|| {
                    format!("{name} '{t}' is not a time (2026-03-01 14:30 or RFC 3339)")
                }),
            }
        };
        Ok(EventFilter {
            event_type: text(&d.filter_type),
            aggregate_id,
            from_time: time(&d.filter_from, "from")?,
            to_time: time(&d.filter_to, "to")?,
            text: text(&d.filter_text),
            before_position: None,
        })
    }

    fn set_filter(&mut self, filter: EventFilter) {
        self.state.applied_filter = filter;
        self.state.filter_generation += 1;
        self.data.timeline.reset(self.state.filter_generation);
        self.data.timeline_total = None;
        self.data.timeline_total_pending = false;
        self.data.density = None;
        self.data.density_pending = false;
        self.state.scroll_to_row = Some(0);
    }

    fn fill_random(&mut self) {
        let seed = Uuid::new_v4().as_u64_pair().0;
        let mut rng = DemoRng::new(seed);
        self.state.drafts.booking = booking_form(&mut rng, 500);
    }

    fn submit_current(&mut self) {
        let Some(engine) = self.engine.clone() else {
            return;
        };
        match self.state.drafts.booking.validate(Uuid::new_v4()) {
            Ok(cmd) => {
                self.data.inline_errors.remove("wizard");
                let outbox = self.outbox.clone();
                self.spawn(async move {
                    let result = engine
                        .submit_booking_wizard(cmd.clone())
                        .await
                        .map_err(|e| e.to_string());
                    outbox
                        .send(Message::CommandDone {
                            what: "Booking wizard".into(),
                            result: Box::new(result),
                            submitted: Some(Box::new(cmd)),
                        })
                        .await;
                });
            }
            Err(errors) => self.inline_error(
                "wizard",
                Some(format!(
                    "Not sent: {}",
                    crate::domain::command::describe_errors(&errors)
                )),
            ),
        }
    }

    fn target_uuid(&mut self, field: DraftField, place: &'static str, what: &str) -> Option<Uuid> {
        let text = self.state.drafts.get(field).trim().to_string();
        match Uuid::parse_str(&text) {
            Ok(id) => Some(id),
            Err(_) => {
                self.inline_error(place, Some(format!("{what} '{text}' is not a UUID")));
                None
            }
        }
    }

    fn run_change<F, Fut>(&mut self, what: &'static str, run: F)
    where
        F: FnOnce(Arc<Engine>) -> Fut + Send + 'static,
        Fut: std::future::Future<
                Output = Result<crate::engine::CommandOutcome, crate::engine::EngineError>,
            > + Send,
    {
        let Some(engine) = self.engine.clone() else {
            return;
        };
        let outbox = self.outbox.clone();
        self.spawn(async move {
            let result = run(engine).await.map_err(|e| e.to_string());
            outbox
                .send(Message::CommandDone {
                    what: what.into(),
                    result: Box::new(result),
                    submitted: None,
                })
                .await;
        });
    }

    #[allow(clippy::too_many_lines)]
    fn handle(&mut self, command: UiCommand) {
        let outbox = self.outbox.clone();
        let engine = self.engine.clone();
        match command {
            UiCommand::ShowPanel(panel) => self.state.panel = panel,
            UiCommand::SetDraft(field, text) => *self.state.drafts.get_mut(field) = text,
            UiCommand::SetObserveOnly(on) => {
                if self.state.observe_locked && !on {
                    return;
                }
                self.state.observe_only = on;
                if let Some(engine) = &engine {
                    engine.set_observe_only(on);
                }
                if on {
                    self.stop_projectors();
                } else {
                    self.start_projectors();
                }
            }
            UiCommand::DismissError => self.data.last_error = None,
            UiCommand::OpenDialog(dialog) => {
                match dialog {
                    Dialog::Connect => {
                        let d = &mut self.state.drafts;
                        d.connect_data_dir = self.store_config.data_dir.display().to_string();
                        d.connect_mongo = self.store_config.mongo_uri.clone().unwrap_or_default();
                        d.connect_postgres =
                            self.store_config.postgres_url.clone().unwrap_or_default();
                    }
                    Dialog::Export | Dialog::Import => {
                        if self.state.drafts.file_path.is_empty() {
                            self.state.drafts.file_path = self
                                .store_config
                                .data_dir
                                .join("ledger-export.ndjson")
                                .display()
                                .to_string();
                        }
                    }
                    Dialog::About => {}
                }
                self.state.dialog = Some(dialog);
            }
            UiCommand::CloseDialog => self.state.dialog = None,
            UiCommand::Connect => {
                let d = &self.state.drafts;
                let optional = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
                self.store_config = StoreConfig {
                    data_dir: PathBuf::from(d.connect_data_dir.trim()),
                    mongo_uri: optional(&d.connect_mongo),
                    postgres_url: optional(&d.connect_postgres),
                    ..self.store_config.clone()
                };
                self.state.dialog = None;
                self.disconnect();
                self.start_connect();
            }
            UiCommand::RetryConnect => {
                self.disconnect();
                self.start_connect();
            }
            UiCommand::BrowseFile { save } => self.spawn(tasks::pick_file(save, outbox)),
            UiCommand::Export => {
                let path = self.state.drafts.file_path.trim().to_string();
                self.state.dialog = None;
                if let Some((engine, cancel)) = self.start_job(JobKind::Export, true) {
                    self.spawn(tasks::export(engine, path, cancel, outbox));
                }
            }
            UiCommand::AskImport => {
                let path = self.state.drafts.file_path.trim().to_string();
                self.state.dialog = None;
                self.state.confirm = Some(Confirm::Import { path });
            }
            UiCommand::SubmitBooking => self.submit_current(),
            UiCommand::GenerateAndSubmit => {
                self.fill_random();
                self.submit_current();
            }
            UiCommand::FillRandom => self.fill_random(),
            UiCommand::SendAgain => {
                if let (Some(engine), Some(cmd)) = (engine, self.data.last_submit.clone()) {
                    self.spawn(async move {
                        let result = engine
                            .submit_booking_wizard(cmd.clone())
                            .await
                            .map_err(|e| e.to_string());
                        outbox
                            .send(Message::CommandDone {
                                what: "Booking wizard (same UUID again)".into(),
                                result: Box::new(result),
                                submitted: Some(Box::new(cmd)),
                            })
                            .await;
                    });
                }
            }
            UiCommand::CancelBooking => {
                let Some(booking) =
                    self.target_uuid(DraftField::TargetBooking, "booking_forms", "booking")
                else {
                    return;
                };
                match CancelBooking::new(Uuid::new_v4(), booking, &self.state.drafts.cancel_reason)
                {
                    Ok(cmd) => {
                        self.inline_error("booking_forms", None);
                        self.run_change("Cancel booking", move |e| async move {
                            e.cancel_booking(cmd).await
                        });
                    }
                    Err(errors) => {
                        self.inline_error(
                            "booking_forms",
                            Some(crate::domain::command::describe_errors(&errors)),
                        );
                    }
                }
            }
            UiCommand::RescheduleBooking => {
                let Some(booking) =
                    self.target_uuid(DraftField::TargetBooking, "booking_forms", "booking")
                else {
                    return;
                };
                let d = &self.state.drafts;
                match RescheduleBooking::new(
                    Uuid::new_v4(),
                    booking,
                    &d.new_check_in,
                    &d.new_check_out,
                ) {
                    Ok(cmd) => {
                        self.inline_error("booking_forms", None);
                        self.run_change("Reschedule booking", move |e| async move {
                            e.reschedule_booking(cmd).await
                        });
                    }
                    Err(errors) => {
                        self.inline_error(
                            "booking_forms",
                            Some(crate::domain::command::describe_errors(&errors)),
                        );
                    }
                }
            }
            UiCommand::ChangeAddress => {
                let Some(user) = self.target_uuid(DraftField::TargetUser, "address_form", "user")
                else {
                    return;
                };
                match ChangeUserAddress::new(Uuid::new_v4(), user, &self.state.drafts.new_address) {
                    Ok(cmd) => {
                        self.inline_error("address_form", None);
                        self.run_change("Change address", move |e| async move {
                            e.change_user_address(cmd).await
                        });
                    }
                    Err(errors) => {
                        self.inline_error(
                            "address_form",
                            Some(crate::domain::command::describe_errors(&errors)),
                        );
                    }
                }
            }
            UiCommand::SetBulkMix(on) => self.state.bulk_mix = on,
            UiCommand::StartBulk => {
                let d = &self.state.drafts;
                let count = match d.bulk_count.trim().parse::<u64>() {
                    Ok(n) if (1..=10_000_000).contains(&n) => n,
                    _ => {
                        let text = d.bulk_count.clone();
                        self.inline_error(
                            "bulk",
                            Some(format!(
                                "count '{text}' must be a number from 1 to 10000000"
                            )),
                        );
                        return;
                    }
                };
                let rate = match d.bulk_rate.trim() {
                    "" => None,
                    r => match r.parse::<f64>() {
                        Ok(r) if r > 0.0 => Some(r),
                        _ => {
                            let text = r.to_string();
                            self.inline_error(
                                "bulk",
                                Some(format!("rate '{text}' must be a positive number or empty")),
                            );
                            return;
                        }
                    },
                };
                self.inline_error("bulk", None);
                let spec = BulkSpec {
                    mix: self.state.bulk_mix,
                    rate_per_sec: rate,
                    ..BulkSpec::bookings(count, None)
                };
                if let Some((engine, cancel)) = self.start_job(JobKind::Bulk, true) {
                    self.spawn(tasks::bulk(engine, spec, cancel, outbox));
                }
            }
            UiCommand::CancelJob(kind) => {
                if let Some(job) = self.data.jobs.get(&kind) {
                    job.cancel.store(true, Ordering::Relaxed);
                }
            }
            UiCommand::ApplyFilter => match self.applied_filter_from_drafts() {
                Ok(filter) => {
                    self.inline_error("filter", None);
                    self.set_filter(filter);
                }
                Err(error) => self.inline_error("filter", Some(error)),
            },
            UiCommand::ClearFilter => {
                let d = &mut self.state.drafts;
                for field in [
                    &mut d.filter_type,
                    &mut d.filter_aggregate,
                    &mut d.filter_from,
                    &mut d.filter_to,
                    &mut d.filter_text,
                ] {
                    field.clear();
                }
                self.inline_error("filter", None);
                self.data.stream = None;
                self.set_filter(EventFilter::default());
            }
            UiCommand::FilterAggregate(id) => {
                self.state.drafts.filter_aggregate = id.to_string();
                self.state.panel = Panel::Timeline;
                if let Ok(filter) = self.applied_filter_from_drafts() {
                    self.set_filter(filter);
                }
                if let Some(engine) = engine {
                    self.spawn(tasks::load_stream(engine, id, outbox));
                }
            }
            UiCommand::FetchPage(page) => {
                if let Some(engine) = engine
                    && !self.data.timeline.has_or_pending(page)
                {
                    self.data.timeline.mark_pending(page);
                    let filter = self.state.applied_filter.clone();
                    self.spawn(tasks::fetch_page(
                        engine,
                        filter,
                        self.state.filter_generation,
                        page,
                        outbox,
                    ));
                }
            }
            UiCommand::SelectEvent(entry) => {
                self.state.selected_position = Some(crate::store::entry_position(&entry));
                self.data.selected_event = Some(*entry);
            }
            UiCommand::SetFollowLive(on) => {
                self.state.follow_live = on;
                if on && let Some(total) = self.data.timeline_total {
                    self.state.scroll_to_row = Some(total.saturating_sub(1));
                }
            }
            UiCommand::JumpToTime(time) => {
                self.state.follow_live = false;
                if let Some(engine) = engine {
                    self.spawn(tasks::row_at_time(
                        engine,
                        self.state.applied_filter.clone(),
                        time,
                        outbox,
                    ));
                }
            }
            UiCommand::JumpToPosition(position) => {
                self.state.panel = Panel::Timeline;
                self.state.follow_live = false;
                if !self.state.applied_filter.is_empty() {
                    self.state.drafts.filter_type.clear();
                    self.state.drafts.filter_aggregate.clear();
                    self.state.drafts.filter_from.clear();
                    self.state.drafts.filter_to.clear();
                    self.state.drafts.filter_text.clear();
                    self.set_filter(EventFilter::default());
                }
                // Its row, once the engine says (a hole takes no rows).
                self.state.selected_position = Some(position);
                if let Some(engine) = engine {
                    self.spawn(tasks::row_of_position(
                        engine.clone(),
                        position,
                        outbox.clone(),
                    ));
                    self.spawn(tasks::load_event(engine, position, outbox));
                }
            }
            UiCommand::ScrolledToRow => self.state.scroll_to_row = None,
            UiCommand::CloseStream => self.data.stream = None,
            UiCommand::SetCursor(position) => {
                self.state.cursor = position.min(self.data.head);
                self.state.travel_follow = false;
            }
            UiCommand::StepCursor(delta) => {
                self.state.cursor = self
                    .state
                    .cursor
                    .saturating_add_signed(delta)
                    .min(self.data.head);
                self.state.travel_follow = false;
            }
            UiCommand::SetPlaying(on) => {
                if on && self.state.cursor >= self.data.head {
                    self.state.cursor = 0;
                }
                self.state.playing = on;
                self.state.play_accumulator = 0.0;
                if on {
                    self.state.travel_follow = false;
                }
            }
            UiCommand::SetSpeed(speed) => self.state.play_speed_eps = speed.clamp(0.1, 100_000.0),
            UiCommand::SetTravelFollow(on) => {
                self.state.travel_follow = on;
                if on {
                    self.state.playing = false;
                    self.state.cursor = self.data.head;
                }
            }
            UiCommand::GoTyped => {
                if let Some(engine) = engine {
                    let text = self.state.drafts.travel_goto.clone();
                    self.spawn(tasks::resolve_goto(engine, text, outbox));
                }
            }
            UiCommand::Pin => {
                self.state.pinned = Some(self.state.cursor);
                self.state.diff_against = DiffAgainst::Pinned;
            }
            UiCommand::Unpin => {
                self.state.pinned = None;
                self.state.diff_against = DiffAgainst::Now;
            }
            UiCommand::SetDiffAgainst(against) => self.state.diff_against = against,
            UiCommand::SetTravelTable(table) => self.state.travel_table = table,
            UiCommand::SetTravelShowState(on) => self.state.travel_show_state = on,
            UiCommand::FetchStatePage { table, page } => {
                let Some(travel) = &self.data.travel else {
                    return;
                };
                let view = travel.view.clone();
                let cache = &mut self.data.travel_rows[table_slot(table)];
                if cache.has_or_pending(page) {
                    return;
                }
                cache.mark_pending(page);
                let generation = cache.generation;
                self.spawn(tasks::state_page(view, table, generation, page, outbox));
            }
            UiCommand::FetchDiffPage { list, table, page } => {
                let diff = match list {
                    DiffList::Travel => self
                        .data
                        .travel
                        .as_ref()
                        .and_then(|t| t.diff.as_ref())
                        .map(|(_, d)| d.diff.clone()),
                    DiffList::Positions => self
                        .data
                        .positions_diff
                        .as_ref()
                        .map(|(_, _, d)| d.diff.clone()),
                };
                let Some(diff) = diff else {
                    return;
                };
                let cache = self.data.diff_rows_mut(list, table);
                if cache.has_or_pending(page) {
                    return;
                }
                cache.mark_pending(page);
                let generation = cache.generation;
                self.spawn(tasks::diff_page(
                    diff, list, table, generation, page, outbox,
                ));
            }
            UiCommand::AddBookmark => {
                let name = match self.state.drafts.bookmark_name.trim() {
                    "" => format!("position {}", self.state.cursor),
                    name => name.to_string(),
                };
                self.state.bookmarks.push(crate::ui::state::Bookmark {
                    name,
                    position: self.state.cursor,
                });
                self.state.drafts.bookmark_name.clear();
            }
            UiCommand::RemoveBookmark(index) => {
                if index < self.state.bookmarks.len() {
                    self.state.bookmarks.remove(index);
                }
            }
            UiCommand::RunVerify => {
                if let Some(engine) = engine
                    && !self.data.verify_pending
                {
                    self.data.verify_pending = true;
                    self.spawn(tasks::verify(engine, outbox));
                }
            }
            UiCommand::ComparePositions => {
                let d = &self.state.drafts;
                match (
                    d.compare_a.trim().parse::<u64>(),
                    d.compare_b.trim().parse::<u64>(),
                ) {
                    (Ok(a), Ok(b)) => {
                        self.inline_error("positions", None);
                        if let Some(engine) = engine {
                            self.data.positions_diff_pending = true;
                            self.spawn(tasks::positions_diff(engine, a, b, outbox));
                        }
                    }
                    _ => self.inline_error(
                        "positions",
                        Some("type two positions, e.g. 100 and 2000".into()),
                    ),
                }
            }
            UiCommand::SetCompareTable(table) => self.state.compare_table = table,
            UiCommand::SetComparePositions(on) => self.state.compare_positions = on,
            UiCommand::SetPaused(projector, paused) => {
                if let Some(engine) = engine {
                    engine.set_paused(projector, paused);
                }
            }
            UiCommand::Ask(confirm) => self.state.confirm = Some(confirm),
            UiCommand::ConfirmNo => self.state.confirm = None,
            UiCommand::ConfirmYes => match self.state.confirm.take() {
                Some(Confirm::Replay { from_snapshot }) => {
                    if let Some((engine, cancel)) = self.start_job(JobKind::Replay, true) {
                        self.spawn(tasks::replay(engine, from_snapshot, cancel, outbox));
                    }
                }
                Some(Confirm::Restore { id, .. }) => {
                    if let Some((engine, _)) = self.start_job(JobKind::Restore, false) {
                        self.spawn(tasks::restore(engine, id, outbox));
                    }
                }
                Some(Confirm::Import { path }) => {
                    if let Some((engine, cancel)) = self.start_job(JobKind::Import, true) {
                        self.spawn(tasks::import(engine, path, cancel, outbox));
                    }
                }
                None => {}
            },
            UiCommand::TakeSnapshot => {
                if let Some((engine, cancel)) = self.start_job(JobKind::Snapshot, true) {
                    self.spawn(tasks::take_snapshot(engine, cancel, outbox));
                }
            }
            UiCommand::RefreshSnapshots => {
                if let Some(engine) = engine {
                    self.spawn(tasks::list_snapshots(engine, outbox));
                }
            }
            UiCommand::SetOutage(on) => {
                if let Some(engine) = engine {
                    engine.set_simulated_outage(on);
                    self.data.outage = on;
                }
            }
        }
    }

    fn disconnect(&mut self) {
        self.stop_projectors();
        if let Some(token) = self.shutdown.take() {
            token.cancel();
        }
        self.engine = None;
        self.data = AppData {
            frame_ms: std::mem::take(&mut self.data.frame_ms),
            last_error: self.data.last_error.take(),
            ..AppData::default()
        };
        self.state.filter_generation += 1;
        self.data.timeline.reset(self.state.filter_generation);
    }

    #[allow(clippy::too_many_lines)]
    fn apply(&mut self, message: Message) {
        match message {
            Message::Connected { engine, shutdown } => {
                self.disconnect();
                self.data.connection = Connection::Connected;
                self.data.ledger = Some(engine.ledger_info());
                self.data.read = Some(engine.read_info());
                self.data.instance_id = engine.config().instance_id.clone();
                self.data.snapshot_every = engine.config().snapshot_every;
                self.data.snapshot_delta_every = engine.config().snapshot_delta_every;
                engine.set_observe_only(self.state.observe_only);
                self.spawn(tasks::watch_status(
                    engine.clone(),
                    self.outbox.clone(),
                    shutdown.clone(),
                ));
                self.engine = Some(engine);
                self.shutdown = Some(shutdown);
                if !self.state.observe_only {
                    self.start_projectors();
                }
            }
            Message::ConnectFailed(error) => self.data.connection = Connection::Failed(error),
            Message::Status(status) => {
                let first = self.data.statuses.is_empty();
                let old_head = self.data.head;
                self.data.head = status.head;
                self.data.statuses = status.statuses;
                self.data.outage = status.outage;
                self.data.pairing = status.pairing;
                if first && self.state.cursor == 0 {
                    self.state.cursor = status.head;
                }
                if first {
                    self.commands.append(&mut self.startup);
                }
                if status.head != old_head {
                    self.on_head_changed(old_head);
                }
            }
            Message::Notice(notice) => match notice {
                EngineNotice::ProjectionApplied { .. } => {
                    if self.data.recent_notices.len() >= NOTICE_HISTORY {
                        self.data.recent_notices.pop_front();
                    }
                    self.data.recent_notices.push_back(notice);
                }
                EngineNotice::SnapshotTaken(meta) => {
                    if !self.data.snapshots.iter().any(|s| s.id == meta.id) {
                        self.data.snapshots.push(meta);
                        self.data.snapshots.sort_by_key(|s| s.position);
                    }
                }
                EngineNotice::SnapshotFailed(error) => {
                    self.set_error(format!("automatic snapshot failed: {error}"))
                }
                EngineNotice::OutageSimulation(on) => self.data.outage = on,
                EngineNotice::ProjectorFailed { .. }
                | EngineNotice::ProjectorChanged(_)
                | EngineNotice::HoleCrossed { .. } => {}
            },
            Message::CommandDone {
                what,
                result,
                submitted,
            } => {
                if let Ok(outcome) = result.as_ref() {
                    self.remember_targets(outcome);
                }
                if let Some(cmd) = submitted {
                    self.data.last_submit = Some(*cmd);
                }
                self.data.last_command = Some(LastCommand {
                    what,
                    result: *result,
                    head_before: self.data.head,
                    at: Instant::now(),
                });
            }
            Message::JobProgress(kind, progress) => {
                if let Some(job) = self.data.jobs.get_mut(&kind) {
                    job.progress = progress;
                }
            }
            Message::JobDone(kind, result) => {
                self.data.jobs.remove(&kind);
                let ok = result.is_ok();
                self.data.job_results.insert(kind, result);
                if ok && matches!(kind, JobKind::Replay | JobKind::Restore) {
                    self.data.verify = None;
                    self.reference_asked = None;
                }
                if ok && kind == JobKind::Import {
                    self.set_filter(self.state.applied_filter.clone());
                }
            }
            Message::TimelinePage {
                generation,
                page,
                result,
            } => {
                if generation != self.state.filter_generation {
                    return;
                }
                match result {
                    Ok(rows) => self.data.timeline.insert(page, rows),
                    Err(error) => {
                        self.data.timeline.failed(page);
                        self.set_error(format!("timeline: {error}"));
                    }
                }
            }
            Message::TimelineTotal { generation, result } => {
                if generation != self.state.filter_generation {
                    return;
                }
                self.data.timeline_total_pending = false;
                match result {
                    Ok(total) => {
                        if let Some(old) = self.data.timeline_total
                            && total != old
                        {
                            self.data.timeline.invalidate_from(old.saturating_sub(1));
                        }
                        self.data.timeline_total = Some(total);
                        if self.state.follow_live {
                            self.state.scroll_to_row = Some(total.saturating_sub(1));
                        }
                    }
                    Err(error) => self.set_error(format!("timeline: {error}")),
                }
            }
            Message::Density { generation, result } => {
                if generation != self.state.filter_generation {
                    return;
                }
                self.data.density_pending = false;
                match result {
                    Ok(density) => self.data.density = Some(density),
                    Err(error) => self.set_error(format!("density: {error}")),
                }
            }
            Message::TimelineScrollTo(row) => self.state.scroll_to_row = Some(row),
            Message::EventLoaded(result) => match result {
                Ok(Some(entry)) => self.data.selected_event = Some(*entry),
                Ok(None) => {}
                Err(error) => self.set_error(error),
            },
            Message::Stream { aggregate, result } => match result {
                Ok(events) => self.data.stream = Some((aggregate, events)),
                Err(error) => self.set_error(format!("stream of {aggregate}: {error}")),
            },
            Message::Reference(result) => {
                self.data.reference_pending = false;
                match result {
                    Ok(state) => self.data.reference = Some(state),
                    Err(error) => self.inline_error("travel", Some(error)),
                }
            }
            Message::Travel(result) => {
                self.data.travel_pending = None;
                match result {
                    Ok(view) => {
                        self.inline_error("travel", None);
                        self.rows_generation += 1;
                        for cache in &mut self.data.travel_rows {
                            cache.reset(self.rows_generation);
                        }
                        for cache in &mut self.data.travel_diff_rows {
                            cache.reset(self.rows_generation);
                        }
                        self.data.travel = Some(*view);
                    }
                    Err(error) => self.inline_error("travel", Some(error)),
                }
            }
            Message::StatePage {
                generation,
                table,
                page,
                result,
            } => {
                let cache = &mut self.data.travel_rows[table_slot(table)];
                if cache.generation != generation {
                    return;
                }
                match result {
                    Ok(rows) => {
                        cache.insert(page, rows);
                        self.clear_rows_error("travel");
                    }
                    Err(error) => {
                        cache.failed(page);
                        self.inline_error("travel", Some(format!("{ROWS_ERROR}{error}")));
                    }
                }
            }
            Message::DiffPage {
                list,
                generation,
                table,
                page,
                result,
            } => {
                let cache = self.data.diff_rows_mut(list, table);
                if cache.generation != generation {
                    return;
                }
                let place = match list {
                    DiffList::Travel => "travel",
                    DiffList::Positions => "positions",
                };
                match result {
                    Ok(rows) => {
                        cache.insert(page, rows);
                        self.clear_rows_error(place);
                    }
                    Err(error) => {
                        cache.failed(page);
                        self.inline_error(place, Some(format!("{ROWS_ERROR}{error}")));
                    }
                }
            }
            Message::TravelGoto(result) => match result {
                Ok(position) => {
                    self.inline_error("goto", None);
                    self.state.cursor = position.min(self.data.head);
                    self.state.travel_follow = false;
                }
                Err(error) => self.inline_error("goto", Some(error)),
            },
            Message::Verify(result) => {
                self.data.verify_pending = false;
                match result {
                    Ok(report) => {
                        self.inline_error("verify", None);
                        self.data.verify = Some(report);
                        self.data.verify_at = Some(chrono::Utc::now());
                    }
                    Err(error) => self.inline_error("verify", Some(error)),
                }
            }
            Message::PositionsDiff(result) => {
                self.data.positions_diff_pending = false;
                match result {
                    Ok((a, b, diff)) => {
                        self.inline_error("positions", None);
                        self.rows_generation += 1;
                        for cache in &mut self.data.positions_rows {
                            cache.reset(self.rows_generation);
                        }
                        self.data.positions_diff = Some((a, b, ViewDiffRows::new(diff)));
                    }
                    Err(error) => self.inline_error("positions", Some(error)),
                }
            }
            Message::Snapshots(result) => match result {
                Ok(list) => {
                    self.data.snapshots = list;
                    self.data.snapshots_loaded = true;
                }
                Err(error) => self.set_error(format!("snapshots: {error}")),
            },
            Message::FilePicked(path) => {
                if let Some(path) = path {
                    self.state.drafts.file_path = path;
                }
            }
            Message::Error(error) => self.set_error(error),
        }
    }

    fn remember_targets(&mut self, outcome: &crate::engine::CommandOutcome) {
        match outcome.event.decode() {
            Ok(DomainEvent::BookingWizardCompleted {
                booking_id, user, ..
            }) => {
                self.state.last_booking = Some(booking_id);
                self.state.last_user = Some(user.user_id);
                self.state.drafts.target_booking = booking_id.to_string();
                self.state.drafts.target_user = user.user_id.to_string();
            }
            Ok(DomainEvent::UserAddressChanged { user_id, .. }) => {
                self.state.last_user = Some(user_id)
            }
            _ => {}
        }
    }

    fn on_head_changed(&mut self, _old_head: u64) {
        if self.state.applied_filter.is_empty() {
            // New rows after the last one known; the engine counts them (a
            // hole another writer made takes no rows).
            let rows = self.data.timeline_total.unwrap_or(0);
            self.data.timeline.invalidate_from(rows.saturating_sub(1));
            self.data.timeline_total_stale = true;
        }
        if self.state.travel_follow {
            self.state.cursor = self.data.head;
        }
    }

    fn advance_playback(&mut self, ctx: &egui::Context) {
        if !self.state.playing {
            return;
        }
        let dt = f64::from(ctx.input(|i| i.stable_dt)).min(0.2);
        self.state.play_accumulator += self.state.play_speed_eps * dt;
        let steps = self.state.play_accumulator.floor();
        if steps >= 1.0 {
            self.state.play_accumulator -= steps;
            self.state.cursor = (self.state.cursor + steps as u64).min(self.data.head);
        }
        if self.state.cursor >= self.data.head {
            self.state.playing = false;
        }
        ctx.request_repaint_after(Duration::from_millis(30));
    }

    /// Starts the background work the shown panel needs. True when some is
    /// due but held back (asked for too recently).
    fn request_panel_data(&mut self) -> bool {
        let Some(engine) = self.engine.clone() else {
            return false;
        };
        let mut held_back = false;
        let outbox = self.outbox.clone();
        let now = Instant::now();
        let stale = |asked: Option<Instant>, secs: f32| {
            asked.is_none_or(|t| now.duration_since(t).as_secs_f32() > secs)
        };
        match self.state.panel {
            Panel::Timeline => {
                let filtered = !self.state.applied_filter.is_empty();
                if !self.data.timeline_total_pending
                    && (self.data.timeline_total.is_none()
                        || self.data.timeline_total_stale
                        || (filtered && stale(self.data.timeline_total_asked, 1.0)))
                {
                    self.data.timeline_total_pending = true;
                    self.data.timeline_total_stale = false;
                    self.data.timeline_total_asked = Some(now);
                    let filter = self.state.applied_filter.clone();
                    self.spawn(tasks::count_rows(
                        engine.clone(),
                        filter,
                        self.state.filter_generation,
                        outbox.clone(),
                    ));
                }
                if !self.data.density_pending
                    && (self.data.density.is_none()
                        || (self.data.density_head != self.data.head
                            && stale(self.data.density_asked, 3.0)))
                {
                    self.data.density_pending = true;
                    self.data.density_asked = Some(now);
                    self.data.density_head = self.data.head;
                    let filter = self.state.applied_filter.clone();
                    self.spawn(tasks::density(
                        engine,
                        filter,
                        self.state.filter_generation,
                        outbox,
                    ));
                }
            }
            Panel::TimeTravel => {
                let wanted = match (self.state.diff_against, self.state.pinned) {
                    (DiffAgainst::Pinned, Some(p)) => p.min(self.data.head),
                    _ => self.data.head,
                };
                let have = self.data.reference.as_ref().map(|r| r.position());
                if have != Some(wanted) && !self.data.reference_pending {
                    if stale(self.reference_asked, 1.0) {
                        self.data.reference_pending = true;
                        self.reference_asked = Some(now);
                        self.spawn(tasks::reference(engine.clone(), wanted, outbox.clone()));
                    } else {
                        held_back = true;
                    }
                }
                let reference = self.data.reference.clone();
                let ref_position = reference.as_ref().map(|r| r.position());
                let current = self
                    .data
                    .travel
                    .as_ref()
                    .map(|t| (t.position, t.diff.as_ref().map(|d| d.0)));
                let cursor = self.state.cursor.min(self.data.head);
                if self.data.travel_pending.is_none() && current != Some((cursor, ref_position)) {
                    self.data.travel_pending = Some(cursor);
                    self.spawn(tasks::travel(engine, cursor, reference, outbox));
                }
            }
            Panel::Compare => {
                if self.data.verify.is_none()
                    && !self.data.verify_pending
                    && !self.data.inline_errors.contains_key("verify")
                {
                    self.data.verify_pending = true;
                    self.spawn(tasks::verify(engine, outbox));
                }
            }
            Panel::Operations => {
                if !self.data.snapshots_loaded {
                    self.data.snapshots_loaded = true;
                    self.spawn(tasks::list_snapshots(engine, outbox));
                }
            }
            Panel::Emit => {}
        }
        held_back
    }
}

impl Drop for LedgerApp {
    fn drop(&mut self) {
        if let Some(token) = self.shutdown.take() {
            token.cancel();
        }
    }
}

impl eframe::App for LedgerApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.update_logic(ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.root_ui(ui);
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        self.shutdown();
    }
}
