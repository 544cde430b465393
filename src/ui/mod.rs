//! The egui/eframe explorer. Panels read a read-only view of app state and
//! emit `UiCommand`s; the app runs them on tokio and results come back through
//! bounded channels. Nothing here does I/O or blocks a frame.

use crate::engine::EngineConfig;
use crate::store::StoreConfig;

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
pub fn run_gui(_options: GuiOptions) -> anyhow::Result<()> {
    anyhow::bail!("the GUI is not built yet; use the subcommands (ledgerscope --help)")
}
