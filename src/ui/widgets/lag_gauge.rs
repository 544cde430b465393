//! A projector's lag as a small live gauge: green when caught up, amber when
//! behind, red when far behind. The bar is drawn beside its text, never
//! under it, so no letter sits on the fill.

use crate::ui::i18n::t;
use crate::ui::widgets::palette::{Palette, palette};

/// Events of lag that fill the gauge.
pub const FULL_SCALE_EVENTS: u64 = 1_000;

/// The bar's size (points).
const BAR: egui::Vec2 = egui::vec2(36.0, 8.0);

/// How much of the bar is filled, and in which color.
fn fill(lag_events: u64, palette: &Palette) -> (f32, egui::Color32) {
    let part = (lag_events as f32 / FULL_SCALE_EVENTS as f32).clamp(0.05, 1.0);
    match lag_events {
        0 => (1.0, palette.ok),
        1..=99 => (part, palette.warn),
        _ => (part, palette.error),
    }
}

/// Draws a bar and `name: lag N` (or `name: caught up`) beside it.
pub fn lag_gauge_ui(ui: &mut egui::Ui, name: &str, lag_events: u64, detail: &str) {
    let (fraction, color) = fill(lag_events, palette(ui.visuals()));
    let text = if lag_events == 0 {
        t!("lag-caught-up", name = name)
    } else {
        t!("lag-behind", name = name, lag = lag_events)
    };
    let group = ui.horizontal(|ui| {
        ui.spacing_mut().item_spacing.x = 4.0;
        let (rect, _) = ui.allocate_exact_size(BAR, egui::Sense::hover());
        if ui.is_rect_visible(rect) {
            let painter = ui.painter();
            let radius = BAR.y / 2.0;
            painter.rect_filled(rect, radius, ui.visuals().extreme_bg_color);
            let filled = egui::Rect::from_min_size(
                rect.min,
                egui::vec2((rect.width() * fraction).max(BAR.y), rect.height()),
            );
            painter.rect_filled(filled, radius, color);
        }
        ui.label(text);
    });
    ui.interact(
        group.response.rect,
        ui.make_persistent_id(("lag_gauge", name)),
        egui::Sense::hover(),
    )
    .on_hover_text(detail);
}

#[cfg(test)]
mod tests {
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;

    use super::{BAR, lag_gauge_ui};

    #[test]
    fn the_text_starts_after_the_bar_so_no_letter_sits_on_the_fill() {
        let mut harness = Harness::builder()
            .with_size([400.0, 60.0])
            .build_ui(|ui| lag_gauge_ui(ui, "users", 5, "detail"));
        harness.run();
        let panel_left = harness.ctx.content_rect().left();
        let text = harness.get_by_label("users: lag 5").rect();
        assert!(
            text.left() >= panel_left + BAR.x,
            "the text begins at {} and the bar ends at {}",
            text.left(),
            panel_left + BAR.x
        );
    }
}
