//! `Prefs`: the UI preferences that survive a restart (panel, bookmarks,
//! playback speed, follow toggles, the bulk generator's settings). Never
//! data, never connection secrets. Stored as JSON in the platform config
//! dir, or where `LEDGERSCOPE_UI_PREFS` points; saved when they change.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::domain::Table;
use crate::ui::app::Shell;
use crate::ui::panels::time_travel::Bookmark;
use crate::ui::panels::{PanelKind, Panels};

/// Environment variable that overrides where prefs are kept (`none` = don't keep).
pub const PREFS_ENV: &str = "LEDGERSCOPE_UI_PREFS";

/// What is kept between runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Prefs {
    /// Last panel.
    pub panel: PanelKind,
    /// Time-travel bookmarks.
    pub bookmarks: Vec<Bookmark>,
    /// Playback speed.
    pub play_speed_eps: f64,
    /// Timeline follows the head.
    pub follow_live: bool,
    /// Bulk generator count.
    pub bulk_count: String,
    /// Bulk generator mix.
    pub bulk_mix: bool,
    /// Time-travel table.
    pub travel_table: Table,
}

impl Default for Prefs {
    fn default() -> Self {
        Prefs::of(&Shell::default(), &Panels::default())
    }
}

impl Prefs {
    /// The kept fields of the window.
    pub fn of(shell: &Shell, panels: &Panels) -> Self {
        Prefs {
            panel: shell.panel,
            bookmarks: panels.time_travel.bookmarks.clone(),
            play_speed_eps: panels.time_travel.play_speed_eps,
            follow_live: panels.timeline.follow_live,
            bulk_count: panels.emit.drafts.bulk_count.clone(),
            bulk_mix: panels.emit.bulk_mix,
            travel_table: panels.time_travel.table,
        }
    }

    /// Puts the fields back into the window.
    pub fn apply(&self, shell: &mut Shell, panels: &mut Panels) {
        shell.panel = self.panel;
        panels.time_travel.bookmarks.clone_from(&self.bookmarks);
        panels.time_travel.play_speed_eps = self.play_speed_eps.clamp(0.1, 100_000.0);
        panels.timeline.follow_live = self.follow_live;
        panels.emit.drafts.bulk_count.clone_from(&self.bulk_count);
        panels.emit.bulk_mix = self.bulk_mix;
        panels.time_travel.table = self.travel_table;
    }

    /// Where prefs live (`None` = not kept).
    pub fn path() -> Option<PathBuf> {
        match std::env::var(PREFS_ENV) {
            Ok(v) if v == "none" || v.is_empty() => None,
            Ok(v) => Some(PathBuf::from(v)),
            Err(_) => directories::ProjectDirs::from("", "", "ledgerscope")
                .map(|d| d.config_dir().join("ui_prefs.json")),
        }
    }

    /// Loads prefs: the defaults when none are kept or the file does not
    /// exist yet; why not when it cannot be read or parsed.
    pub fn load(path: Option<&PathBuf>) -> Result<Prefs, String> {
        let Some(path) = path else {
            return Ok(Prefs::default());
        };
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Prefs::default()),
            Err(e) => {
                return Err(format!(
                    "cannot read the window's preferences {}: {e}; using the defaults",
                    path.display()
                ));
            }
        };
        serde_json::from_str(&text).map_err(|e| {
            format!(
                "the window's preferences {} are not usable ({e}); using the defaults",
                path.display()
            )
        })
    }

    /// Saves prefs, or says why it could not.
    pub fn save(&self, path: Option<&PathBuf>) -> Result<(), String> {
        let Some(path) = path else { return Ok(()) };
        let fail = |e: &dyn std::fmt::Display| {
            format!(
                "cannot save the window's preferences to {}: {e}",
                path.display()
            )
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| fail(&e))?;
        }
        let text = serde_json::to_string_pretty(self).map_err(|e| fail(&e))?;
        std::fs::write(path, text).map_err(|e| fail(&e))
    }
}
