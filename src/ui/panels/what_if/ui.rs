//! Drawing What if: the inputs, a SIMULATION banner, the real and the
//! simulated counts and revenue side by side with the difference, the later
//! events that became no-ops (a virtual list, each a link to its event) and
//! the rows that differ.

use super::{WhatIfCommand as C, WhatIfField, WhatIfPanel};
use crate::domain::event::event_types;
use crate::domain::state::StateCounts;
use crate::engine::whatif::WhatIfReport;
use crate::ui::app::Shell;
use crate::ui::command::{ShellCommand, UiCommand};
use crate::ui::i18n::t;
use crate::ui::widgets::diff_table::{DiffLabels, diff_table_ui};
use crate::ui::widgets::draft_field::draft_field_ui;
use crate::ui::widgets::{inline_error_ui, palette};

/// Height of the no-ops list.
const NO_OPS_HEIGHT: f32 = 110.0;

fn push(commands: &mut Vec<UiCommand>, command: C) {
    commands.push(command.into());
}

fn banner_ui(ui: &mut egui::Ui) {
    ui.label(
        egui::RichText::new(t!("what-if-banner"))
            .color(palette(ui.visuals()).warn)
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
            ui.label(t!("what-if-leave-out-type"));
            egui::ComboBox::from_id_salt("what_if_type")
                .selected_text(
                    panel
                        .event_type
                        .clone()
                        .unwrap_or_else(|| t!("what-if-none")),
                )
                .show_ui(ui, |ui| {
                    if ui
                        .selectable_label(panel.event_type.is_none(), t!("what-if-none"))
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
            ui.label(t!("what-if-as-of"));
            let hint = format!("the head ({})", shell.head);
            if let (_, Some(text)) = draft_field_ui(ui, &panel.at, &hint, 120.0) {
                push(commands, C::SetDraft(WhatIfField::At, text));
            }
            ui.end_row();
        });
    ui.horizontal(|ui| {
        if panel.report.is_asked() {
            ui.spinner();
            ui.label(t!("what-if-simulating"));
        } else if ui
            .add_enabled(shell.connected(), egui::Button::new(t!("what-if-simulate")))
            .on_hover_text(t!("what-if-simulate-hover"))
            .clicked()
        {
            push(commands, C::Run);
        }
    });
}

/// The rows of the side-by-side grid: name, real, simulated (counts).
fn count_rows(real: &StateCounts, simulated: &StateCounts) -> [(&'static str, u64, u64); 4] {
    [
        ("users", real.users, simulated.users),
        ("bookings", real.bookings, simulated.bookings),
        (
            "  confirmed",
            real.bookings.saturating_sub(real.cancelled()),
            simulated.bookings.saturating_sub(simulated.cancelled()),
        ),
        ("  cancelled", real.cancelled(), simulated.cancelled()),
    ]
}

/// A difference of counts with its sign (`+3`, `-1`, `0`).
fn signed(difference: i128) -> String {
    if difference > 0 {
        format!("+{difference}")
    } else {
        difference.to_string()
    }
}

/// The real and the simulated state side by side, with the difference:
/// rows, and the revenue of confirmed bookings.
fn side_by_side_ui(ui: &mut egui::Ui, report: &WhatIfReport) {
    let warn = palette(ui.visuals()).warn;
    let sim = |text: String| egui::RichText::new(text).color(warn);
    egui::Grid::new("what_if_counts")
        .num_columns(4)
        .spacing([16.0, 2.0])
        .striped(true)
        .show(ui, |ui| {
            ui.label("");
            ui.label(egui::RichText::new(t!("what-if-real-as-of", at = report.at)).strong());
            ui.label(sim(t!("what-if-simulated")).strong());
            ui.label(egui::RichText::new(t!("what-if-difference")).strong());
            ui.end_row();
            for (name, real, simulated) in count_rows(&report.real_counts, &report.simulated_counts)
            {
                ui.label(name);
                ui.label(real.to_string());
                ui.label(sim(simulated.to_string()));
                ui.label(signed(i128::from(simulated) - i128::from(real)));
                ui.end_row();
            }
            ui.label(t!("what-if-revenue"));
            ui.label(crate::ui::i18n::format::money_cents(
                report.real_revenue_cents,
            ));
            ui.label(sim(crate::ui::i18n::format::money_cents(
                report.simulated_revenue_cents,
            )));
            ui.label(crate::ui::i18n::format::money_change_cents(
                report.simulated_revenue_cents - report.real_revenue_cents,
            ));
            ui.end_row();
        });
}

/// The later events that became no-ops: a virtual list (only the rows in
/// view are laid out), each a link to its event.
fn no_ops_ui(ui: &mut egui::Ui, report: &WhatIfReport, commands: &mut Vec<UiCommand>) {
    ui.label(t!("what-if-no-ops", no_ops = report.no_ops.len()));
    let row_height = ui.spacing().interact_size.y;
    egui::ScrollArea::vertical()
        .id_salt("what_if_no_ops")
        .max_height(NO_OPS_HEIGHT)
        .auto_shrink([false, true])
        .show_rows(ui, row_height, report.no_ops.len(), |ui, rows| {
            for no_op in &report.no_ops[rows] {
                ui.horizontal(|ui| {
                    ui.set_height(row_height);
                    if ui
                        .link(no_op.position.to_string())
                        .on_hover_text(t!("table-show-event", position = no_op.position))
                        .clicked()
                    {
                        commands.push(ShellCommand::ShowEvent(no_op.position).into());
                    }
                    ui.label(t!(
                        "what-if-no-op-row",
                        event_type = no_op.event_type,
                        name = no_op.table.name(),
                        key = no_op.key
                    ));
                });
            }
        });
}

fn report_ui(
    ui: &mut egui::Ui,
    panel: &WhatIfPanel,
    report: &WhatIfReport,
    commands: &mut Vec<UiCommand>,
) {
    ui.separator();
    banner_ui(ui);
    side_by_side_ui(ui, report);
    let shown: Vec<String> = report
        .excluded
        .iter()
        .take(12)
        .map(u64::to_string)
        .collect();
    let more = report.excluded.len().saturating_sub(shown.len());
    ui.label(if report.excluded.is_empty() {
        t!("what-if-left-out-nothing").to_string()
    } else if more > 0 {
        t!(
            "what-if-left-out-more",
            excluded = report.excluded.len(),
            events = shown.join(", "),
            more = more
        )
    } else {
        t!(
            "what-if-left-out",
            excluded = report.excluded.len(),
            events = shown.join(", ")
        )
    });
    if !report.no_ops.is_empty() {
        no_ops_ui(ui, report, commands);
    }
    if let Some(summary) = &panel.summary {
        ui.horizontal(|ui| {
            for (table, c) in &summary.counts {
                let text = format!("{table}: +{} -{} ~{}", c.added, c.removed, c.changed);
                if ui.selectable_label(panel.table == *table, text).clicked() {
                    push(commands, C::SetTable(*table));
                }
            }
        });
    }
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
    ui.label(egui::RichText::new(t!("what-if-note")).weak());
    inputs_ui(ui, panel, shell, commands);
    inline_error_ui(ui, panel.error.as_ref());
    if let Some(report) = panel.report.value() {
        report_ui(ui, panel, report, commands);
    }
}
