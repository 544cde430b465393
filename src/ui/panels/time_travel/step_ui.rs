//! Drawing the step view: the event at the cursor (its type, its aggregate,
//! a link to it in the timeline, its summary) and only the rows it changed,
//! before -> after, as Redux DevTools shows an action and its diff.

use super::{TimeTravelCommand as C, TimeTravelPanel, TravelView};
use crate::domain::Table;
use crate::engine::view_step::Step;
use crate::ui::app::Shell;
use crate::ui::command::{ShellCommand, UiCommand};
use crate::ui::i18n::t;
use crate::ui::widgets::diff_table::{DiffLabels, diff_rows_ui};
use crate::ui::widgets::table::line::short_id;
use crate::ui::widgets::{palette, wrapped_label_ui};

fn event_ui(ui: &mut egui::Ui, step: &Step, commands: &mut Vec<UiCommand>) {
    let position = step.position;
    ui.horizontal_wrapped(|ui| {
        ui.label(egui::RichText::new(t!("travel-step-to", position = position)).strong());
        match &step.event {
            None => {
                ui.label(t!("travel-no-event-here"));
            }
            Some(Ok(event)) => {
                if ui
                    .link(t!("travel-event", position = position))
                    .on_hover_text(t!("travel-show-in-timeline"))
                    .clicked()
                {
                    commands.push(ShellCommand::ShowEvent(position).into());
                }
                ui.label(egui::RichText::new(&event.event_type).strong());
                let aggregate = event.aggregate_id.to_string();
                ui.label(t!(
                    "travel-event-on",
                    aggregate_type = event.aggregate_type,
                    aggregate = short_id(&aggregate)
                ))
                .on_hover_text(aggregate);
                ui.label(
                    egui::RichText::new(event.recorded_at.format("%Y-%m-%d %H:%M:%S").to_string())
                        .weak(),
                );
            }
            Some(Err(bad)) => {
                if ui.link(t!("travel-entry", position = position)).clicked() {
                    commands.push(ShellCommand::ShowEvent(position).into());
                }
                ui.colored_label(
                    palette(ui.visuals()).error,
                    t!("travel-malformed-step", reason = bad.reason),
                );
            }
        }
    });
    if let Some(Ok(event)) = &step.event {
        let summary = crate::ui::mask::current(ui.ctx()).summary(event);
        wrapped_label_ui(ui, egui::RichText::new(summary).italics());
    }
}

/// Draws the step to the cursor: its event and the rows of the table shown
/// that it changed, the state just before it against the state after it.
pub fn step_ui(
    ui: &mut egui::Ui,
    panel: &TimeTravelPanel,
    shell: &Shell,
    travel: &TravelView,
    commands: &mut Vec<UiCommand>,
) {
    let step = panel.step.value().filter(|s| s.position == travel.position);
    let Some(step) = step else {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label(t!("travel-reading-step"));
        });
        return;
    };
    event_ui(ui, step, commands);
    if step.position == 0 {
        return;
    }
    let before = step.position - 1;
    let counts: Vec<String> = Table::ALL
        .iter()
        .map(|t| {
            let changed = step.table(*t).rows.len();
            let touched = step.touched[t.slot()];
            match touched - changed.min(touched) {
                0 => format!("{} {changed}", t.name()),
                same => format!("{} {changed} ({same} already so: no-op)", t.name()),
            }
        })
        .collect();
    ui.horizontal_wrapped(|ui| {
        ui.label(t!(
            "travel-rows-changed",
            before = before,
            position = step.position,
            counts = counts.join(" · ")
        ));
        for table in Table::ALL {
            if table != panel.table && !step.table(table).rows.is_empty() {
                let text = format!("show {}", table.name());
                if ui.small_button(text).clicked() {
                    commands.push(C::SetTable(table).into());
                }
            }
        }
    });
    let position = step.position;
    let (made, changed) = (
        format!("made by {position}"),
        format!("changed by {position}"),
    );
    let labels = DiffLabels {
        added: &made,
        removed: "gone",
        changed: &changed,
    };
    diff_rows_ui(
        ui,
        "travel_step",
        Some(shell),
        step.table(panel.table),
        labels,
        commands,
    );
}
