//! The egui/eframe explorer. Panels read a read-only [`view::View`] of app
//! state and emit [`commands::UiCommand`]s; [`app::LedgerApp`] runs them on
//! tokio and results come back through a bounded channel. Nothing here blocks
//! a frame.

pub mod app;
pub mod commands;
pub mod data;
pub mod job;
pub mod message;
pub mod outbox;
pub mod page_cache;
pub mod panels;
pub mod prefs;
pub mod state;
pub mod tasks;
pub mod view;
pub mod widgets;

use crate::engine::EngineConfig;
use crate::store::StoreConfig;

pub use app::LedgerApp;

/// What the GUI starts with.
pub struct GuiOptions {
    /// Stores to connect to at start.
    pub store: StoreConfig,
    /// Engine tunables (instance id, actor, snapshot interval).
    pub engine: EngineConfig,
    /// Start in observe-only mode.
    pub observe_only: bool,
    /// The tokio runtime that runs all I/O.
    pub runtime: tokio::runtime::Handle,
}

/// Opens the window and runs until it is closed.
pub fn run_gui(options: GuiOptions) -> anyhow::Result<()> {
    let native = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("Ledgerscope")
            .with_inner_size([1280.0, 800.0])
            .with_min_inner_size([960.0, 600.0]),
        ..Default::default()
    };
    eframe::run_native(
        "Ledgerscope",
        native,
        Box::new(move |_cc| Ok(Box::new(LedgerApp::new(options)))),
    )
    .map_err(|e| anyhow::anyhow!("cannot open the window: {e}"))
}
