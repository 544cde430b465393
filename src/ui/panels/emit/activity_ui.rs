//! Drawing the activity strip: a fixed-height box, newest line first, each
//! line on screen for a minute.

use crate::ui::i18n::t;
use std::time::Instant;

use super::activity::{ActivityItem, ActivityKind, ActivityStrip};
use crate::ui::widgets::{human_micros, palette};

/// Lines the strip shows without scrolling.
const LINES: f32 = 3.0;

fn positions(from: u64, to: u64) -> String {
    if from == to {
        t!("activity-position", position = to)
    } else {
        t!("activity-positions", from = from, to = to)
    }
}

/// The line for an item, and its color.
fn item_text(item: &ActivityItem, ui: &egui::Ui) -> (String, egui::Color32) {
    let colors = palette(ui.visuals());
    let text_color = ui.visuals().text_color();
    match &item.kind {
        ActivityKind::Appended { from, to } => (
            t!(
                "activity-appended",
                count = to - from + 1,
                positions = positions(*from, *to)
            ),
            colors.accent,
        ),
        ActivityKind::CaughtUp {
            projector,
            from,
            to,
            events: count,
            micros,
        } => (
            t!(
                "activity-caught-up",
                projector = projector.name(),
                count = *count,
                time = human_micros(*micros),
                positions = positions(*from, *to),
                checkpoint = *to
            ),
            colors.ok,
        ),
        ActivityKind::Outage(true) => (t!("activity-outage-on"), colors.warn),
        ActivityKind::Outage(false) => (t!("activity-outage-off"), colors.warn),
        ActivityKind::Duplicate { position } => {
            (t!("activity-duplicate", position = *position), text_color)
        }
        ActivityKind::Refused { what, why } => {
            (t!("activity-refused", what = what, why = why), colors.error)
        }
    }
}

/// Draws the strip; asks for a repaint when its oldest line is due to go.
pub fn activity_strip_ui(ui: &mut egui::Ui, strip: &ActivityStrip) {
    let now = Instant::now();
    if let Some(due) = strip.next_expiry(now) {
        ui.ctx().request_repaint_after(due);
    }
    // A line is a horizontal row: as tall as a widget row, not only its text.
    let line = ui
        .text_style_height(&egui::TextStyle::Body)
        .max(ui.spacing().interact_size.y)
        + ui.spacing().item_spacing.y;
    egui::Frame::group(ui.style())
        .inner_margin(egui::Margin::symmetric(6, 3))
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.label(
                egui::RichText::new(t!("emit-activity-title"))
                    .small()
                    .weak(),
            );
            egui::ScrollArea::vertical()
                .id_salt("activity_strip")
                .max_height(line * LINES)
                .min_scrolled_height(line * LINES)
                .auto_shrink([false, false])
                .show(ui, |ui| {
                    let mut any = false;
                    for item in strip.shown(now) {
                        any = true;
                        let (text, color) = item_text(item, ui);
                        let time = item.wall.format("%H:%M:%S").to_string();
                        ui.horizontal(|ui| {
                            ui.label(egui::RichText::new(time).monospace().weak());
                            ui.add(
                                egui::Label::new(egui::RichText::new(text).color(color)).truncate(),
                            );
                        });
                    }
                    if !any {
                        ui.label(egui::RichText::new(t!("emit-activity-empty")).weak());
                    }
                });
        });
}
