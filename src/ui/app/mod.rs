//! `LedgerApp`: the shell (connection, top bar, dialogs, jobs) and the seven
//! panels. Each frame it runs the commands the last frame's drawing and
//! keys pushed, routing each to its owner, drains the inbox the same way,
//! lets the shown panel ask for what it needs, then reads the keyboard and
//! draws. All I/O is spawned on tokio.

mod command_handling;
mod connection;
pub mod crash;
pub mod dialogs;
mod health_bar;
pub mod keyboard;
pub mod menu;
pub mod recent;
mod scenarios;
pub mod shell;
pub mod start;
mod tasks;
mod top_bar;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::engine::{Engine, EngineConfig};
use crate::store::StoreConfig;
use crate::ui::GuiOptions;
use crate::ui::command::{Message, UiCommand};
use crate::ui::link::PositionLink;
use crate::ui::outbox::Outbox;
use crate::ui::panels::compare::compare_ui;
use crate::ui::panels::emit::emit_ui;
use crate::ui::panels::history::history_ui;
use crate::ui::panels::models::models_ui;
use crate::ui::panels::operations::operations_ui;
use crate::ui::panels::over_time::over_time_ui;
use crate::ui::panels::time_travel::time_travel_ui;
use crate::ui::panels::timeline::{TimelineCommand, timeline_ui};
use crate::ui::panels::what_if::what_if_ui;
use crate::ui::panels::{Ctx, PanelKind, Panels};
use crate::ui::prefs::{Look, Prefs};
use crate::ui::scenarios::Scenarios;

pub use shell::{Connection, Shell};
pub use tasks::NoFileDialog;

/// Messages drained per frame at most (the rest wait for the next frame).
const MAX_MESSAGES_PER_FRAME: usize = 2_000;
/// Commands run per frame at most (a command may route others).
const MAX_COMMANDS_PER_FRAME: usize = 10_000;

/// The explorer application.
pub struct LedgerApp {
    shell: Shell,
    panels: Panels,
    runtime: tokio::runtime::Handle,
    outbox: Outbox,
    inbox: mpsc::Receiver<Message>,
    commands: Vec<UiCommand>,
    engine: Option<Arc<Engine>>,
    /// Stops the engine's background tasks.
    shutdown: Option<CancellationToken>,
    /// Stops the projectors and automatic snapshots (off in observe-only).
    projectors: Option<CancellationToken>,
    store_config: StoreConfig,
    engine_config: EngineConfig,
    prefs_path: Option<PathBuf>,
    /// What was last saved (or loaded), so prefs are written when they change.
    saved_prefs: Prefs,
    /// Commands to run once the first status arrives.
    startup: Vec<UiCommand>,
    /// Theme and zoom: from prefs until put into egui's context, then read
    /// back from it each frame.
    look: Look,
    /// The look from prefs was put into egui's context.
    look_applied: bool,
    /// The connected ledger's id was read (it may have none).
    ledger_id_read: bool,
    /// A link to open once the ledger's id is known.
    pending_link: Option<PositionLink>,
    /// Where crash reports are written; the newest unseen one is offered
    /// once (`None`: none offered).
    crash_dir: Option<PathBuf>,
    /// The guided scenario under way, if any.
    scenarios: Scenarios,
    /// The stores open before a scenario switched to its training dir
    /// (Close goes back to them).
    before_scenario: Option<StoreConfig>,
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
        let mut shell = Shell::default();
        let mut panels = Panels::default();
        let prefs = match Prefs::load(prefs_path.as_ref()) {
            Ok(prefs) => prefs,
            Err(error) => {
                shell.report(error.to_string());
                Prefs::default()
            }
        };
        prefs.apply(&mut shell, &mut panels);
        if let Some(panel) = start::start_panel() {
            shell.panel = panel;
        }
        let mut startup = start::start_commands(shell.panel, options.observe_only);
        startup.extend(
            crate::ui::scenarios::start_scenario()
                .into_iter()
                .map(UiCommand::from),
        );
        shell.observe_only = options.observe_only;
        shell.observe_locked = options.observe_only;
        shell.mask_forced = options.mask;
        shell.connect = recent::drafts_of(&options.store);
        let look = prefs.look;
        let saved_prefs = Prefs::of(&shell, &panels, look);
        let mut app = LedgerApp {
            shell,
            panels,
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
            saved_prefs,
            startup,
            look,
            look_applied: false,
            ledger_id_read: false,
            pending_link: None,
            crash_dir: None,
            scenarios: Scenarios::default(),
            before_scenario: None,
        };
        app.start_connect();
        app
    }

    /// The shell's state (for tests and the benchmark).
    pub fn shell(&self) -> &Shell {
        &self.shell
    }

    /// The panels' state (for tests and the benchmark).
    pub fn panels(&self) -> &Panels {
        &self.panels
    }

    /// The guided scenarios' state (for tests).
    pub fn scenarios(&self) -> &Scenarios {
        &self.scenarios
    }

    /// Makes training data dirs under `root` (tests keep them in a temp dir).
    pub fn set_training_root(&mut self, root: PathBuf) {
        self.scenarios.training_root = root;
    }

    /// The data dir of the stores the window opens.
    pub fn data_dir(&self) -> &std::path::Path {
        &self.store_config.data_dir
    }

    /// The connected engine, if any.
    pub fn engine(&self) -> Option<&Arc<Engine>> {
        self.engine.as_ref()
    }

    /// Every error on screen: the shell's last one and each panel's.
    pub fn errors(&self) -> Vec<String> {
        let mut errors: Vec<String> = self.shell.last_error.iter().cloned().collect();
        errors.extend(self.panels.errors());
        errors
    }

    /// Whether the stores are open.
    pub fn is_connected(&self) -> bool {
        self.engine.is_some() && self.shell.connected()
    }

    /// Queues a command as if a panel had sent it.
    pub fn push_command(&mut self, command: impl Into<UiCommand>) {
        self.commands.push(command.into());
    }

    /// One whole frame: logic, then drawing (used by tests and `eframe`).
    pub fn frame_ui(&mut self, ui: &mut egui::Ui) {
        self.update_logic(ui.ctx());
        self.root_ui(ui);
    }

    /// Stops background tasks and saves prefs.
    pub fn shutdown(&mut self) {
        self.save_prefs();
        self.shell.jobs.cancel_all();
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

    /// Opens a `ledgerscope://` link: its panel and position, once the
    /// connected ledger's id says it is that link's ledger (else one
    /// sentence says it is not, and nothing moves).
    pub fn open_link(&mut self, link: PositionLink) {
        tracing::info!(%link, "opening a link");
        self.pending_link = Some(link);
        self.resolve_link();
    }

    /// Opens the pending link if the ledger's id is known.
    fn resolve_link(&mut self) {
        if !self.ledger_id_read {
            return;
        }
        let Some(link) = self.pending_link.take() else {
            return;
        };
        let from_dialog = self.shell.dialog == Some(dialogs::Dialog::OpenLink);
        match link.check(self.shell.ledger_id, &self.shell.ledger_name()) {
            Ok(()) => {
                if from_dialog {
                    self.shell.dialog = None;
                }
                let commands = link.commands();
                // Positions are clamped to the head: wait for it.
                if self.shell.statuses.is_empty() {
                    self.startup.extend(commands);
                } else {
                    self.commands.extend(commands);
                }
            }
            Err(error) if from_dialog => {
                tracing::info!(%error, "a link was not opened");
                self.shell.link.error = Some(error);
            }
            Err(error) => self.shell.report(error.to_string()),
        }
    }

    /// Offers the newest crash report in `dir` not yet dismissed, once.
    pub fn offer_crash_reports_from(&mut self, dir: PathBuf) {
        self.crash_dir = Some(dir);
    }

    /// The theme and zoom kept in prefs (as last read from the window).
    pub fn look(&self) -> Look {
        self.look
    }

    /// Saves prefs when they changed; a failure is logged and shown.
    fn save_prefs(&mut self) {
        let prefs = Prefs::of(&self.shell, &self.panels, self.look);
        if prefs == self.saved_prefs {
            return;
        }
        if let Err(error) = prefs.save(self.prefs_path.as_ref()) {
            self.shell.report(error.to_string());
        }
        self.saved_prefs = prefs;
    }

    /// Runs queued commands (and those they route), each by its owner.
    fn run_commands(&mut self) {
        let mut queue = std::mem::take(&mut self.commands);
        let mut ran = 0;
        while !queue.is_empty() && ran < MAX_COMMANDS_PER_FRAME {
            let mut routed = Vec::new();
            for command in queue {
                ran += 1;
                self.route(command, &mut routed);
            }
            queue = routed;
        }
        self.commands.extend(queue);
    }

    fn route(&mut self, command: UiCommand, routed: &mut Vec<UiCommand>) {
        let command = match command {
            UiCommand::Shell(command) => return self.handle_shell(command, routed),
            UiCommand::Scenario(command) => return self.handle_scenario(command, routed),
            other => other,
        };
        let mut ctx = Ctx {
            engine: self.engine.as_ref(),
            runtime: &self.runtime,
            outbox: &self.outbox,
            shell: &mut self.shell,
            routed,
        };
        match command {
            UiCommand::Shell(_) | UiCommand::Scenario(_) => {}
            UiCommand::Emit(command) => self.panels.emit.handle(command, &mut ctx),
            UiCommand::Timeline(command) => self.panels.timeline.handle(command, &mut ctx),
            UiCommand::TimeTravel(command) => self.panels.time_travel.handle(command, &mut ctx),
            UiCommand::Compare(command) => self.panels.compare.handle(command, &mut ctx),
            UiCommand::Operations(command) => self.panels.operations.handle(command, &mut ctx),
            UiCommand::History(command) => self.panels.history.handle(command, &mut ctx),
            UiCommand::OverTime(command) => self.panels.over_time.handle(command, &mut ctx),
            UiCommand::WhatIf(command) => self.panels.what_if.handle(command, &mut ctx),
            UiCommand::Models(command) => {
                self.panels
                    .models
                    .data_dir
                    .clone_from(&self.store_config.data_dir);
                self.panels.models.handle(command, &mut ctx);
            }
        }
    }

    /// Runs queued commands, drains the inbox and advances playback.
    pub fn update_logic(&mut self, ctx: &egui::Context) {
        crate::ui::i18n::set_language(self.shell.language);
        self.outbox.set_context(ctx);
        if let Some(dir) = self.crash_dir.take() {
            let seen = self.shell.crash_seen.clone();
            self.spawn(crash::offer_newest(dir, seen, self.outbox.clone()));
        }
        crate::crash::set_doing(self.shell.panel.title());
        if self.look_applied {
            self.look = Look::of(ctx);
        } else {
            self.look.apply(ctx);
            self.look_applied = true;
        }
        self.run_commands();
        for _ in 0..MAX_MESSAGES_PER_FRAME {
            match self.inbox.try_recv() {
                Ok(message) => self.apply(message),
                Err(_) => break,
            }
        }
        self.run_commands();
        self.panels
            .time_travel
            .advance_playback(ctx, self.shell.head);
        let mut routed = Vec::new();
        self.panels
            .models
            .data_dir
            .clone_from(&self.store_config.data_dir);
        let held_back = {
            let mut panel_ctx = Ctx {
                engine: self.engine.as_ref(),
                runtime: &self.runtime,
                outbox: &self.outbox,
                shell: &mut self.shell,
                routed: &mut routed,
            };
            let shown = panel_ctx.shell.panel;
            self.panels.request_data(shown, &mut panel_ctx)
        };
        self.commands.extend(routed);
        if held_back {
            // Something is due but held back a moment: come back for it
            // even if nothing else wakes the window.
            ctx.request_repaint_after(Duration::from_millis(250));
        }
        if self.shell.jobs.any() || self.shell.connection == Connection::Connecting {
            ctx.request_repaint_after(Duration::from_millis(250));
        }
        self.save_prefs();
    }

    /// Draws the window.
    pub fn root_ui(&mut self, ui: &mut egui::Ui) {
        let started = Instant::now();
        crate::ui::i18n::set_language(self.shell.language);
        let mut commands = Vec::new();
        crate::ui::mask::publish(ui.ctx(), self.shell.mask());
        crate::ui::scenarios::ui::publish(ui.ctx(), &self.scenarios, &self.shell);
        keyboard::keyboard_commands(ui.ctx(), &self.shell, &mut commands);
        let (shell, panels, scenarios) = (&self.shell, &self.panels, &self.scenarios);
        egui::Panel::top("top_bar").show(ui, |ui| top_bar::top_bar_ui(ui, shell, &mut commands));
        egui::CentralPanel::default().show(ui, |ui| match shell.panel {
            PanelKind::Emit => emit_ui(ui, &panels.emit, shell, &mut commands),
            PanelKind::Timeline => timeline_ui(ui, &panels.timeline, shell, &mut commands),
            PanelKind::TimeTravel => {
                time_travel_ui(ui, &panels.time_travel, shell, &mut commands);
            }
            PanelKind::OverTime => over_time_ui(ui, &panels.over_time, shell, &mut commands),
            PanelKind::WhatIf => what_if_ui(ui, &panels.what_if, shell, &mut commands),
            PanelKind::Compare => compare_ui(ui, &panels.compare, shell, &mut commands),
            PanelKind::Operations => operations_ui(ui, &panels.operations, shell, &mut commands),
            PanelKind::Models => models_ui(ui, &panels.models, shell, &mut commands),
        });
        history_ui(ui.ctx(), &panels.history, &mut commands);
        dialogs::dialogs_ui(ui.ctx(), shell, &mut commands);
        crash::crash_ui(ui.ctx(), shell, &mut commands);
        crate::ui::scenarios::scenario_ui(ui.ctx(), scenarios, shell, panels, &mut commands);
        if !commands.is_empty() {
            ui.ctx().request_repaint();
        }
        self.commands.extend(commands);
        // The search field took the focus this frame (Ctrl+F).
        self.shell.focus_search = false;
        self.shell
            .record_frame(started.elapsed().as_secs_f32() * 1000.0);
    }

    /// Shows the timeline at `position` (a link from a row).
    fn show_event(&mut self, position: u64, routed: &mut Vec<UiCommand>) {
        self.shell.panel = PanelKind::Timeline;
        routed.push(TimelineCommand::JumpToPosition(position).into());
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
