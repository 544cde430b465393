//! Drawing the activity strip: a fixed-height box, newest line first, each
//! line on screen for a minute.

use crate::ui::i18n::t;
use std::time::Instant;

use super::activity::{ActivityItem, ActivityKind, ActivityStrip};
use crate::ui::widgets::{human_micros, palette};

/// Lines the strip shows without scrolling.
const LINES: f32 = 3.0;

fn events(n: u64) -> String {
    if n == 1 {
        "1 event".into()
    } else {
        format!("{n} events")
    }
}

fn positions(from: u64, to: u64) -> String {
    if from == to {
        format!("position {to}")
    } else {
        format!("positions {from}–{to}")
    }
}

/// The line for an item, and its color.
fn item_text(item: &ActivityItem, ui: &egui::Ui) -> (String, egui::Color32) {
    let colors = palette(ui.visuals());
    let text_color = ui.visuals().text_color();
    match &item.kind {
        ActivityKind::Appended { from, to } => (
            format!(
                "appended {} to the ledger ({})",
                events(to - from + 1),
                positions(*from, *to)
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
            format!(
                "{} caught up {} in {} ({}; checkpoint {to})",
                projector.name(),
                events(*count),
                human_micros(*micros),
                positions(*from, *to)
            ),
            colors.ok,
        ),
        ActivityKind::Outage(true) => (
            "read-store outage SIMULATED: projection writes fail, the ledger keeps accepting events"
                .into(),
            colors.warn,
        ),
        ActivityKind::Outage(false) => (
            "outage over: the projectors catch up".into(),
            colors.warn,
        ),
        ActivityKind::Duplicate { position } => (
            format!("same UUID again: nothing appended (stored at position {position})"),
            text_color,
        ),
        ActivityKind::Refused { what, why } => {
            (format!("{what} refused: {why}; nothing appended"), colors.error)
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
