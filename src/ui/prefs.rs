//! `Prefs`: the UI preferences that survive a restart (panel, bookmarks,
//! playback speed, follow toggles, the bulk generator's settings, the theme
//! and the zoom, the recent connections without their passwords). Never
//! data, never connection secrets. Stored as JSON in the platform config
//! dir, or where `LEDGERSCOPE_UI_PREFS` points; saved when they change.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::domain::Table;
use crate::ui::app::Shell;
use crate::ui::app::recent::RecentConnection;
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
    /// Theme and zoom.
    pub look: Look,
    /// The Connect dialog's recent connections, never with a password.
    pub recent_connections: Vec<RecentConnection>,
    /// Masked or not, as chosen for each ledger (by its id).
    #[serde(default)]
    pub masked_ledgers: std::collections::BTreeMap<String, bool>,
    /// The newest crash report dismissed (its file name).
    pub crash_seen: Option<String>,
    /// The window's language.
    pub language: Language,
}

/// The language the window speaks (its texts come from the language's
/// catalogue: [`crate::ui::i18n`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    /// English.
    #[default]
    En,
    /// Spanish.
    Es,
}

impl Language {
    /// Both, in the menu's order.
    pub const ALL: [Language; 2] = [Language::En, Language::Es];

    /// The system's language: Spanish when the locale (`LC_ALL`, else
    /// `LC_MESSAGES`, else `LANG`) starts with `es`, else English.
    pub fn from_env() -> Language {
        let locale = ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .filter_map(|v| std::env::var(v).ok())
            .find(|v| !v.is_empty())
            .unwrap_or_default();
        Language::of_locale(&locale)
    }

    /// The language of a locale name (`es_ES.UTF-8` is Spanish).
    pub fn of_locale(locale: &str) -> Language {
        if locale.to_ascii_lowercase().starts_with("es") {
            Language::Es
        } else {
            Language::En
        }
    }

    /// Its name in itself, for the menu.
    pub fn name(self) -> &'static str {
        match self {
            Language::En => "English",
            Language::Es => "Español",
        }
    }
}

/// Dark, light, or as the desktop is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThemeChoice {
    /// Light text on a dark background.
    Dark,
    /// Dark text on a light background (projectors wash out dark screens).
    Light,
    /// Follow the desktop's setting (dark when it says none).
    #[default]
    System,
}

impl From<ThemeChoice> for egui::ThemePreference {
    fn from(choice: ThemeChoice) -> Self {
        match choice {
            ThemeChoice::Dark => egui::ThemePreference::Dark,
            ThemeChoice::Light => egui::ThemePreference::Light,
            ThemeChoice::System => egui::ThemePreference::System,
        }
    }
}

impl From<egui::ThemePreference> for ThemeChoice {
    fn from(preference: egui::ThemePreference) -> Self {
        match preference {
            egui::ThemePreference::Dark => ThemeChoice::Dark,
            egui::ThemePreference::Light => ThemeChoice::Light,
            egui::ThemePreference::System => ThemeChoice::System,
        }
    }
}

/// The window's theme and zoom. While the window runs they live in egui's
/// context (the menu and Ctrl+Plus/Minus/0 change them there); they are
/// read back each frame to be saved, and put back at start.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Look {
    /// The theme.
    pub theme: ThemeChoice,
    /// egui's zoom factor (1 = 100%).
    pub zoom_factor: f32,
}

impl Default for Look {
    fn default() -> Self {
        Look {
            theme: ThemeChoice::System,
            zoom_factor: 1.0,
        }
    }
}

impl Look {
    /// The zoom factors a saved file may bring back.
    pub const ZOOM_RANGE: std::ops::RangeInclusive<f32> = 0.5..=3.0;

    /// What the context shows now.
    pub fn of(ctx: &egui::Context) -> Look {
        Look {
            theme: ctx.options(|o| o.theme_preference).into(),
            zoom_factor: ctx.zoom_factor(),
        }
    }

    /// Puts it into the context (the zoom shows from the next frame).
    pub fn apply(&self, ctx: &egui::Context) {
        ctx.set_theme(egui::ThemePreference::from(self.theme));
        let zoom = if self.zoom_factor.is_finite() {
            self.zoom_factor
                .clamp(*Self::ZOOM_RANGE.start(), *Self::ZOOM_RANGE.end())
        } else {
            1.0
        };
        ctx.set_zoom_factor(zoom);
    }
}

impl Default for Prefs {
    fn default() -> Self {
        Prefs::of(&Shell::default(), &Panels::default(), Look::default())
    }
}

impl Prefs {
    /// The kept fields of the window.
    pub fn of(shell: &Shell, panels: &Panels, look: Look) -> Self {
        Prefs {
            panel: shell.panel,
            bookmarks: panels.time_travel.bookmarks.clone(),
            play_speed_eps: panels.time_travel.play_speed_eps,
            follow_live: panels.timeline.follow_live,
            bulk_count: panels.emit.drafts.bulk_count.clone(),
            bulk_mix: panels.emit.bulk_mix,
            travel_table: panels.time_travel.table,
            look,
            recent_connections: shell.recent.clone(),
            masked_ledgers: shell.mask_choices.clone(),
            crash_seen: shell.crash_seen.clone(),
            language: shell.language,
        }
    }

    /// Puts the fields back into the window (the look goes to egui's
    /// context: [`Look::apply`]).
    pub fn apply(&self, shell: &mut Shell, panels: &mut Panels) {
        shell.panel = self.panel;
        panels.time_travel.bookmarks.clone_from(&self.bookmarks);
        panels.time_travel.play_speed_eps = self.play_speed_eps.clamp(0.1, 100_000.0);
        panels.timeline.follow_live = self.follow_live;
        panels.emit.drafts.bulk_count.clone_from(&self.bulk_count);
        panels.emit.bulk_mix = self.bulk_mix;
        panels.time_travel.table = self.travel_table;
        shell.recent.clone_from(&self.recent_connections);
        shell.mask_choices.clone_from(&self.masked_ledgers);
        shell.crash_seen.clone_from(&self.crash_seen);
        shell.language = self.language;
        shell.recent.truncate(crate::ui::app::recent::RECENT_KEPT);
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
    pub fn load(path: Option<&PathBuf>) -> Result<Prefs, PrefsError> {
        let Some(path) = path else {
            return Ok(Prefs::default());
        };
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Prefs::default()),
            Err(source) => {
                return Err(PrefsError::Read {
                    path: path.clone(),
                    source,
                });
            }
        };
        serde_json::from_str(&text).map_err(|source| PrefsError::Parse {
            path: path.clone(),
            source,
        })
    }

    /// Saves prefs, or says why it could not.
    pub fn save(&self, path: Option<&PathBuf>) -> Result<(), PrefsError> {
        let Some(path) = path else { return Ok(()) };
        let fail = |source: std::io::Error| PrefsError::Write {
            path: path.clone(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(fail)?;
        }
        let text = serde_json::to_string_pretty(self).map_err(|e| fail(e.into()))?;
        std::fs::write(path, text).map_err(fail)
    }
}

/// Why the window's preferences could not be read or kept.
#[derive(Debug, thiserror::Error)]
pub enum PrefsError {
    /// The file exists but could not be read.
    #[error("cannot read the window's preferences {}: {source}; using the defaults", .path.display())]
    Read {
        /// The prefs file.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// The file is not prefs this build can read.
    #[error("the window's preferences {} are not usable ({source}); using the defaults", .path.display())]
    Parse {
        /// The prefs file.
        path: PathBuf,
        /// What the parser said.
        #[source]
        source: serde_json::Error,
    },
    /// The file could not be written.
    #[error("cannot save the window's preferences to {}: {source}", .path.display())]
    Write {
        /// The prefs file.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_written_before_the_look_was_kept_still_reads() {
        let old = r#"{"panel":"TimeTravel","bookmarks":[{"name":"here","position":3}],"play_speed_eps":20.0}"#;
        let prefs: Prefs = serde_json::from_str(old).unwrap();
        assert_eq!(prefs.look, Look::default());
        assert_eq!(prefs.bookmarks[0].ledger, None);
        let light = Prefs {
            look: Look {
                theme: ThemeChoice::Light,
                zoom_factor: 1.3,
            },
            ..prefs
        };
        let text = serde_json::to_string(&light).unwrap();
        assert_eq!(serde_json::from_str::<Prefs>(&text).unwrap(), light);
    }

    #[test]
    fn a_spanish_locale_picks_spanish() {
        assert_eq!(Language::of_locale("es_ES.UTF-8"), Language::Es);
        assert_eq!(Language::of_locale("es"), Language::Es);
        assert_eq!(Language::of_locale("en_US.UTF-8"), Language::En);
        assert_eq!(Language::of_locale("C"), Language::En);
        assert_eq!(Language::of_locale(""), Language::En);
    }
}
