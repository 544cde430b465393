//! The egui/eframe explorer. [`app::LedgerApp`] holds the shell (connection,
//! top bar, dialogs, jobs) and one state per panel (`panels/<panel>/`). A
//! panel draws from its state and the shell and pushes commands; the app
//! routes each to its owner once per frame, background work runs on tokio
//! through the engine, and results come back through a bounded channel.
//! Nothing here blocks a frame.

pub mod app;
pub mod command;
pub mod error;
pub mod i18n;
pub mod jobs;
pub mod link;
pub mod mask;
pub mod outbox;
pub mod page_cache;
pub mod paged_diff;
pub mod panels;
pub mod prefs;
pub mod remote;
pub mod scenarios;
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
    /// Masked (`Some(true)`, `--mask`) or shown (`Some(false)`, `--unmask`)
    /// from the start, whatever was kept for the ledger; `None`: as kept,
    /// else the default ([`app::Shell::mask_by_default`]).
    pub mask: Option<bool>,
    /// The tokio runtime that runs all I/O.
    pub runtime: tokio::runtime::Handle,
}

/// The app's icon (`assets/ledgerscope.png`, also the package's), for the
/// window.
pub fn window_icon() -> Result<egui::IconData, IconError> {
    eframe::icon_data::from_png_bytes(include_bytes!("../../assets/ledgerscope.png"))
        .map_err(|e| IconError(Box::new(e)))
}

/// The app's icon did not decode (the window opens without it).
#[derive(Debug, thiserror::Error)]
#[error("the app's icon does not decode: {0}")]
pub struct IconError(#[source] Box<dyn std::error::Error + Send + Sync>);

/// Whether this process can reach a display server.
fn display_available() -> bool {
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()))
}

/// What to say when the window cannot open.
const NO_WINDOW_HINT: &str = "the subcommands run without a window: see `ledgerscope --help` \
     (for example `ledgerscope status` or `ledgerscope verify`)";

/// The window's smallest size (points): every panel is laid out for it.
pub const MIN_WINDOW_SIZE: [f32; 2] = [900.0, 600.0];

/// Opens the window (at `start`, a `ledgerscope://` link, if given) and
/// runs until it is closed.
pub fn run_gui(options: GuiOptions, start: Option<link::PositionLink>) -> anyhow::Result<()> {
    if !display_available() {
        anyhow::bail!(
            "cannot open the window: no display (neither DISPLAY nor WAYLAND_DISPLAY is set); {NO_WINDOW_HINT}"
        );
    }
    let mut viewport = egui::ViewportBuilder::default();
    match window_icon() {
        Ok(icon) => viewport = viewport.with_icon(std::sync::Arc::new(icon)),
        Err(error) => tracing::warn!(%error, "the window's icon is not usable"),
    }
    let native = eframe::NativeOptions {
        viewport: viewport
            .with_title("Ledgerscope")
            .with_inner_size([1280.0, 800.0])
            .with_min_inner_size(MIN_WINDOW_SIZE),
        ..Default::default()
    };
    eframe::run_native(
        "Ledgerscope",
        native,
        Box::new(move |_cc| {
            let mut app = LedgerApp::new(options);
            if let Some(dir) = crate::crash::report_dir() {
                app.offer_crash_reports_from(dir);
            }
            if let Some(link) = start {
                app.open_link(link);
            }
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| {
        tracing::error!(error = %e, "the window could not open");
        anyhow::anyhow!(
            "cannot open the window: {}; {NO_WINDOW_HINT}",
            first_sentence(&e.to_string())
        )
    })
}

/// The first line of an error, without the source paths some backends add.
fn first_sentence(text: &str) -> String {
    let line = text.lines().next().unwrap_or(text);
    match line.find(" at /") {
        Some(at) => line[..at].to_string(),
        None => line.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_window_icon_decodes() {
        let icon = super::window_icon().expect("the icon");
        assert_eq!((icon.width, icon.height), (256, 256));
        assert_eq!(icon.rgba.len(), 256 * 256 * 4);
    }
}
