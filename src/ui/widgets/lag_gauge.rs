//! A projector's lag as a small live gauge: green when caught up, amber when
//! behind, red when far behind.

use crate::ui::widgets::{ERROR_COLOR, OK_COLOR, WARN_COLOR};

/// Events of lag that fill the gauge.
pub const FULL_SCALE_EVENTS: u64 = 1_000;

/// Draws `name lag N` with a bar.
pub fn lag_gauge_ui(ui: &mut egui::Ui, name: &str, lag_events: u64, detail: &str) {
    let color = match lag_events {
        0 => OK_COLOR,
        1..=99 => WARN_COLOR,
        _ => ERROR_COLOR,
    };
    let fraction = if lag_events == 0 {
        1.0
    } else {
        (lag_events as f32 / FULL_SCALE_EVENTS as f32).clamp(0.05, 1.0)
    };
    let text = if lag_events == 0 {
        format!("{name}: caught up")
    } else {
        format!("{name}: lag {lag_events}")
    };
    ui.add(
        egui::ProgressBar::new(fraction)
            .fill(color.gamma_multiply(0.6))
            .desired_width(150.0)
            .text(text),
    )
    .on_hover_text(detail);
}
