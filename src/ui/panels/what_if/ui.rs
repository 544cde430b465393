//! Drawing What if: the inputs, a SIMULATION banner, the real and the
//! simulated counts side by side, the later events that became no-ops (each
//! a link to its event) and the rows that differ.

use super::{WhatIfCommand as C, WhatIfField, WhatIfPanel};
use crate::domain::Table;
use crate::domain::event::event_types;
use crate::domain::state::StateCounts;
use crate::engine::whatif::WhatIfReport;
use crate::ui::app::Shell;
use crate::ui::command::{ShellCommand, UiCommand};
use crate::ui::widgets::diff_table::{DiffLabels, diff_table_ui};
use crate::ui::widgets::draft_field::draft_field_ui;
use crate::ui::widgets::{WARN_COLOR, inline_error_ui};

fn push(commands: &mut Vec<UiCommand>, command: C) {
    commands.push(command.into());
}

fn banner_ui(ui: &mut egui::Ui) {
    ui.label(
        egui::RichText::new(
            "SIMULATION: nothing is written to the ledger, the read tables or the snapshots",
        )
        .color(WARN_COLOR)
        .strong(),
    );
}

fn inputs_ui(ui: &mut egui::Ui, panel: &WhatIfPanel, shell: &Shell, commands: &mut Vec<UiCommand>) {
    egui::Grid::new("what_if_inputs")
        .num_columns(2)
        .spacing([8.0, 4.0])
        .show(ui, |ui| {
            for (field, label, value, hint) in [
                (
                    WhatIfField::Positions,
                    "Leave out positions",
                    &panel.positions,
                    "12, 40",
                ),
                (
                    WhatIfField::Aggregate,
                    "Leave out an aggregate",
                    &panel.aggregate,
                    "booking or user id",
                ),
                (
                    WhatIfField::Range,
                    "Leave out a range",
                    &panel.range,
                    "100..200",
                ),
            ] {
                ui.label(label);
                if let (_, Some(text)) = draft_field_ui(ui, value, hint, 320.0) {
                    push(commands, C::SetDraft(field, text));
                }
                ui.end_row();
            }
            ui.label("Leave out a type");
            egui::ComboBox::from_id_salt("what_if_type")
                .selected_text(panel.event_type.as_deref().unwrap_or("(none)"))
                .show_ui(ui, |ui| {
                    if ui
                        .selectable_label(panel.event_type.is_none(), "(none)")
                        .clicked()
                    {
                        push(commands, C::SetEventType(None));
                    }
                    for t in event_types::ALL {
                        if ui
                            .selectable_label(panel.event_type.as_deref() == Some(t), t)
                            .clicked()
                        {
                            push(commands, C::SetEventType(Some(t.to_string())));
                        }
                    }
                });
            ui.end_row();
            ui.label("As of position");
            let hint = format!("the head ({})", shell.head);
            if let (_, Some(text)) = draft_field_ui(ui, &panel.at, &hint, 120.0) {
                push(commands, C::SetDraft(WhatIfField::At, text));
            }
            ui.end_row();
        });
    ui.horizontal(|ui| {
        if panel.report.is_asked() {
            ui.spinner();
            ui.label("Simulating…");
        } else if ui
            .add_enabled(shell.connected(), egui::Button::new("Simulate"))
            .on_hover_text("Fold the ledger as if these events had never happened (reads only)")
            .clicked()
        {
            push(commands, C::Run);
        }
    });
}

fn counts_text(counts: &StateCounts) -> String {
    format!(
        "{} users, {} bookings ({} confirmed, {} cancelled)",
        counts.users,
        counts.bookings,
        counts
            .bookings_by_status
            .get("confirmed")
            .copied()
            .unwrap_or(0),
        counts
            .bookings_by_status
            .get("cancelled")
            .copied()
            .unwrap_or(0)
    )
}

fn report_ui(
    ui: &mut egui::Ui,
    panel: &WhatIfPanel,
    report: &WhatIfReport,
    commands: &mut Vec<UiCommand>,
) {
    ui.separator();
    banner_ui(ui);
    egui::Grid::new("what_if_counts")
        .num_columns(2)
        .spacing([8.0, 2.0])
        .show(ui, |ui| {
            ui.label(format!("Real, as of {}", report.at));
            ui.label(counts_text(&report.real_counts));
            ui.end_row();
            ui.label(egui::RichText::new("Simulated").color(WARN_COLOR));
            ui.label(egui::RichText::new(counts_text(&report.simulated_counts)).color(WARN_COLOR));
            ui.end_row();
            ui.label("Left out");
            let shown: Vec<String> = report
                .excluded
                .iter()
                .take(12)
                .map(u64::to_string)
                .collect();
            let more = report.excluded.len().saturating_sub(shown.len());
            ui.label(if report.excluded.is_empty() {
                "nothing up to this position matches: the simulation is the real state".to_string()
            } else if more > 0 {
                format!(
                    "{} events: {} and {more} more",
                    report.excluded.len(),
                    shown.join(", ")
                )
            } else {
                format!("{} event(s): {}", report.excluded.len(), shown.join(", "))
            });
            ui.end_row();
        });
    if !report.no_ops.is_empty() {
        ui.label(format!(
            "{} later event(s) became no-ops (they act on rows only left-out events made):",
            report.no_ops.len()
        ));
        egui::ScrollArea::vertical()
            .id_salt("what_if_no_ops")
            .max_height(90.0)
            .show(ui, |ui| {
                for no_op in &report.no_ops {
                    ui.horizontal(|ui| {
                        if ui
                            .link(no_op.position.to_string())
                            .on_hover_text(format!("Show event {} in the timeline", no_op.position))
                            .clicked()
                        {
                            commands.push(ShellCommand::ShowEvent(no_op.position).into());
                        }
                        ui.label(format!(
                            "{} of {} {}",
                            no_op.event_type,
                            no_op.table.name(),
                            no_op.key
                        ));
                    });
                }
            });
    }
    ui.horizontal(|ui| {
        for table in Table::ALL {
            let (added, removed, changed) = report
                .difference
                .tables
                .iter()
                .find(|t| t.table == table)
                .map_or((0, 0, 0), |t| t.counts());
            let text = format!("{table}: +{added} -{removed} ~{changed}");
            if ui.selectable_label(panel.table == table, text).clicked() {
                push(commands, C::SetTable(table));
            }
        }
    });
    if let Some(table) = report
        .difference
        .tables
        .iter()
        .find(|t| t.table == panel.table)
    {
        diff_table_ui(
            ui,
            "what_if_rows",
            table,
            DiffLabels {
                added: "only simulated",
                removed: "only real",
                changed: "differs",
            },
            commands,
        );
    }
}

/// Draws the panel.
pub fn what_if_ui(
    ui: &mut egui::Ui,
    panel: &WhatIfPanel,
    shell: &Shell,
    commands: &mut Vec<UiCommand>,
) {
    banner_ui(ui);
    ui.label(
        egui::RichText::new(
            "The state as if some events had never happened, beside the real one. Also from the \
             timeline: \"What if this had not happened?\" on the selected event.",
        )
        .weak(),
    );
    inputs_ui(ui, panel, shell, commands);
    inline_error_ui(ui, panel.error.as_ref());
    if let Some(report) = panel.report.value() {
        report_ui(ui, panel, report, commands);
    }
}
