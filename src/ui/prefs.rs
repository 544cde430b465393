//! `Prefs`: the UI preferences that survive a restart (panel, bookmarks,
//! playback speed, follow toggles). Never data, never connection secrets.
//! Stored as JSON in the platform config dir, or where
//! `LEDGERSCOPE_UI_PREFS` points.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::ui::state::{AppState, Bookmark, Panel, TableKind};

/// Environment variable that overrides where prefs are kept (`none` = don't keep).
pub const PREFS_ENV: &str = "LEDGERSCOPE_UI_PREFS";

/// The persisted part of [`AppState`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Prefs {
    /// Last panel.
    pub panel: Panel,
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
    pub travel_table: TableKind,
}

impl Default for Prefs {
    fn default() -> Self {
        Prefs::from_state(&AppState::default())
    }
}

impl Prefs {
    /// Takes the persisted fields from the state.
    pub fn from_state(state: &AppState) -> Self {
        Prefs {
            panel: state.panel,
            bookmarks: state.bookmarks.clone(),
            play_speed_eps: state.play_speed_eps,
            follow_live: state.follow_live,
            bulk_count: state.drafts.bulk_count.clone(),
            bulk_mix: state.bulk_mix,
            travel_table: state.travel_table,
        }
    }

    /// Writes the fields into the state.
    pub fn apply(&self, state: &mut AppState) {
        state.panel = self.panel;
        state.bookmarks.clone_from(&self.bookmarks);
        state.play_speed_eps = self.play_speed_eps.clamp(0.1, 100_000.0);
        state.follow_live = self.follow_live;
        state.drafts.bulk_count.clone_from(&self.bulk_count);
        state.bulk_mix = self.bulk_mix;
        state.travel_table = self.travel_table;
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

    /// Loads prefs; missing or unreadable files give the defaults.
    pub fn load(path: Option<&PathBuf>) -> Prefs {
        path.and_then(|p| std::fs::read_to_string(p).ok())
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default()
    }

    /// Saves prefs (best effort; a read-only config dir is not an error worth a dialog).
    pub fn save(&self, path: Option<&PathBuf>) {
        let Some(path) = path else { return };
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        if let Ok(text) = serde_json::to_string_pretty(self) {
            let _ = std::fs::write(path, text);
        }
    }
}
