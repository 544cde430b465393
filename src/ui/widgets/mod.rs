//! Small reusable widgets. Functions that draw end in `_ui`.

use crate::ui::i18n::format::decimal;
use crate::ui::i18n::t;

pub mod copy_link;
pub mod diff_table;
pub mod draft_field;
pub mod health;
pub mod job_progress;
pub mod json_view;
pub mod lag_gauge;
pub mod outage_switch;
pub mod palette;
pub mod search_field;
pub mod table;
pub mod virtual_grid;
pub mod write_button;

pub use palette::palette;

/// A wrapping label that is never justified (a justified parent layout would
/// stretch the first lines of a long sentence).
pub fn wrapped_label_ui(ui: &mut egui::Ui, text: egui::RichText) {
    ui.horizontal_wrapped(|ui| {
        ui.add(egui::Label::new(text).wrap());
    });
}

/// Shows an error in place, if there is one.
pub fn inline_error_ui(ui: &mut egui::Ui, error: Option<&crate::ui::error::InlineError>) {
    if let Some(error) = error {
        wrapped_label_ui(
            ui,
            egui::RichText::new(t!("widget-error", error = error))
                .color(palette(ui.visuals()).error),
        );
    }
}

/// `12.3 s`, `4 min 5 s` (`12,3 s` in Spanish).
pub fn human_secs(secs: f64) -> String {
    if secs < 60.0 {
        format!("{} s", decimal(secs, 1))
    } else if secs < 3600.0 {
        format!("{} min {} s", (secs / 60.0) as u64, (secs % 60.0) as u64)
    } else {
        format!(
            "{} h {} min",
            (secs / 3600.0) as u64,
            ((secs % 3600.0) / 60.0) as u64
        )
    }
}

/// `1.2 MB`.
pub fn human_bytes(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 => format!("{} GB", decimal(b as f64 / (1u64 << 30) as f64, 1)),
        b if b >= 1 << 20 => format!("{} MB", decimal(b as f64 / (1u64 << 20) as f64, 1)),
        b if b >= 1 << 10 => format!("{} KB", decimal(b as f64 / 1024.0, 1)),
        b => format!("{b} B"),
    }
}

/// A duration in the unit that reads: `284 µs`, `4.2 ms`, `18.8 s`,
/// `4 min 5 s` (from microseconds).
pub fn human_micros(micros: u64) -> String {
    match micros {
        m if m < 1_000 => format!("{m} µs"),
        m if m < 100_000 => format!("{} ms", decimal(m as f64 / 1e3, 1)),
        m if m < 1_000_000 => format!("{} ms", (m as f64 / 1e3).round() as u64),
        m => human_secs(m as f64 / 1e6),
    }
}

/// A duration in the unit that reads, from milliseconds: `12 ms`, `1.3 s`.
pub fn human_millis(millis: u64) -> String {
    if millis < 1_000 {
        format!("{millis} ms")
    } else {
        human_micros(millis.saturating_mul(1_000))
    }
}

/// A label cut to one line with "…" that shows exactly one tooltip: `hover`
/// when given (it should say what the label says, in full), else the whole
/// text when it was cut. A truncated [`egui::Label`] shows its own tooltip
/// when cut, so adding `.on_hover_text` to it stacks a second one: use this.
pub fn truncated_label_ui(
    ui: &mut egui::Ui,
    text: impl Into<egui::WidgetText>,
    hover: Option<&str>,
) -> egui::Response {
    let label = egui::Label::new(text)
        .truncate()
        .show_tooltip_when_elided(hover.is_none());
    let response = ui.add(label);
    match hover {
        Some(hover) => response.on_hover_text(hover),
        None => response,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_in_their_unit() {
        assert_eq!(human_micros(284), "284 µs");
        assert_eq!(human_micros(4_200), "4.2 ms");
        assert_eq!(human_micros(18_806_800), "18.8 s");
        assert_eq!(human_micros(999), "999 µs");
        assert_eq!(human_micros(1_000), "1.0 ms");
        assert_eq!(human_micros(250_400), "250 ms");
        assert_eq!(human_micros(125_000_000), "2 min 5 s");
        assert_eq!(human_millis(1_300), "1.3 s");
        assert_eq!(human_millis(12), "12 ms");
        crate::ui::i18n::set_language(crate::ui::prefs::Language::Es);
        assert_eq!(human_micros(4_200), "4,2 ms");
        crate::ui::i18n::set_language(crate::ui::prefs::Language::En);
    }
}
