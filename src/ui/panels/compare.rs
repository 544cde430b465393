//! Compare: the read tables in the connected read store against the state the
//! ledger implies (per-table counts of missing, extra and different rows, then
//! the rows with differing cells highlighted), "Repair by replay", and the
//! tables at two positions.

use crate::engine::VerifyReport;
use crate::ui::commands::{Confirm, DiffList, DraftField, JobKind, UiCommand};
use crate::ui::state::TableKind;
use crate::ui::view::View;
use crate::ui::widgets::diff_table::{DiffLabels, diff_table_ui, paged_diff_ui};
use crate::ui::widgets::draft_field::draft_field_ui;
use crate::ui::widgets::job_progress::job_progress_ui;
use crate::ui::widgets::write_button::write_button_if_ui;
use crate::ui::widgets::{ERROR_COLOR, OK_COLOR, WARN_COLOR, inline_error_ui};

fn table_index(kind: TableKind) -> &'static str {
    match kind {
        TableKind::Users => "users",
        TableKind::Bookings => "bookings",
    }
}

fn report_ui(ui: &mut egui::Ui, view: &View, report: &VerifyReport, commands: &mut Vec<UiCommand>) {
    if report.in_sync {
        ui.label(
            egui::RichText::new(format!(
                "In sync: {} rows compared, none missing, extra or different.",
                report.checked_rows
            ))
            .color(OK_COLOR)
            .strong(),
        );
    } else {
        ui.label(
            egui::RichText::new(format!(
                "Drift: {} missing, {} extra, {} different (of {} rows compared).",
                report.missing, report.extra, report.different, report.checked_rows
            ))
            .color(ERROR_COLOR)
            .strong(),
        );
    }
    egui::Grid::new("verify_counts")
        .num_columns(6)
        .striped(true)
        .spacing([18.0, 4.0])
        .show(ui, |ui| {
            for h in ["table", "compared at", "missing", "extra", "different", ""] {
                ui.strong(h);
            }
            ui.end_row();
            for t in &report.tables {
                ui.label(&t.table);
                ui.label(format!("position {}", t.position));
                for n in [t.missing, t.extra, t.different] {
                    let color = if n == 0 { OK_COLOR } else { ERROR_COLOR };
                    ui.colored_label(color, n.to_string());
                }
                let kind = if t.table == "users" {
                    TableKind::Users
                } else {
                    TableKind::Bookings
                };
                if ui.small_button("show rows").clicked() {
                    commands.push(UiCommand::SetCompareTable(Some(kind)));
                }
                ui.end_row();
            }
        });
    let lagging: Vec<String> = report
        .lag_events
        .iter()
        .filter(|(_, lag)| *lag > 0)
        .map(|(p, lag)| format!("{p} {lag}"))
        .collect();
    if !lagging.is_empty() {
        ui.colored_label(
            WARN_COLOR,
            format!(
                "Views lag the head ({}): each table is compared at its projector's position, so lag is not counted as drift.",
                lagging.join(", ")
            ),
        );
    }
    if !report.malformed.is_empty() {
        let positions: Vec<String> = report
            .malformed
            .iter()
            .take(10)
            .map(|m| m.position.to_string())
            .collect();
        ui.colored_label(
            WARN_COLOR,
            format!(
                "{} malformed ledger entries were skipped (positions {}{}).",
                report.malformed.len(),
                positions.join(", "),
                if report.malformed.len() > 10 {
                    ", …"
                } else {
                    ""
                }
            ),
        );
    }
    let _ = view;
}

fn read_vs_ledger_ui(ui: &mut egui::Ui, view: &View, commands: &mut Vec<UiCommand>) {
    ui.horizontal_wrapped(|ui| {
        ui.label(format!(
            "Read tables in {} vs the state the ledger implies.",
            view.read_store_name()
        ));
        let pending = view.data.verify_pending;
        if ui
            .add_enabled(
                view.connected() && !pending,
                egui::Button::new("Compare now"),
            )
            .clicked()
        {
            commands.push(UiCommand::RunVerify);
        }
        if pending {
            ui.spinner();
            ui.label("comparing…");
        } else if let Some(at) = view.data.verify_at {
            ui.label(egui::RichText::new(format!("compared {}", at.format("%H:%M:%S UTC"))).weak());
        }
        let replaying = view.data.running(JobKind::Replay);
        if write_button_if_ui(
            ui,
            view,
            !replaying,
            Some("A replay is running."),
            "Repair by replay…",
        ) {
            commands.push(UiCommand::Ask(Confirm::Replay {
                from_snapshot: false,
            }));
        }
    });
    inline_error_ui(ui, view, "verify");
    job_progress_ui(ui, view, JobKind::Replay, commands);
    let Some(report) = &view.data.verify else {
        return;
    };
    report_ui(ui, view, report, commands);
    ui.separator();
    let chosen = view.state.compare_table.map(table_index).or_else(|| {
        report
            .tables
            .iter()
            .find(|t| !t.diff.rows.is_empty())
            .map(|t| {
                if t.table == "users" {
                    "users"
                } else {
                    "bookings"
                }
            })
    });
    let Some(chosen) = chosen else { return };
    ui.horizontal(|ui| {
        ui.label("Rows of");
        for kind in [TableKind::Users, TableKind::Bookings] {
            if ui
                .selectable_label(chosen == table_index(kind), table_index(kind))
                .clicked()
            {
                commands.push(UiCommand::SetCompareTable(Some(kind)));
            }
        }
        ui.label(
            egui::RichText::new("changed cells show read table -> ledger")
                .small()
                .weak(),
        );
    });
    if let Some(table) = report.tables.iter().find(|t| t.table == chosen) {
        // The report holds its rows in full: nothing is ever left to load.
        let _ = diff_table_ui(
            ui,
            "verify_rows",
            &table.diff,
            DiffLabels {
                added: "missing",
                removed: "extra",
                changed: "differs",
            },
            commands,
        );
    }
}

fn positions_ui(ui: &mut egui::Ui, view: &View, commands: &mut Vec<UiCommand>) {
    ui.horizontal_wrapped(|ui| {
        ui.label("Tables at position");
        draft_field_ui(ui, view, DraftField::CompareA, "e.g. 100", 80.0, commands);
        ui.label("vs position");
        draft_field_ui(ui, view, DraftField::CompareB, "e.g. 2000", 80.0, commands);
        if ui
            .add_enabled(view.connected(), egui::Button::new("Compare"))
            .clicked()
        {
            commands.push(UiCommand::ComparePositions);
        }
        if view.data.positions_diff_pending {
            ui.spinner();
        }
    });
    inline_error_ui(ui, view, "positions");
    let Some((a, b, rows)) = &view.data.positions_diff else {
        return;
    };
    let text = rows
        .counts
        .iter()
        .map(|(t, ad, r, c)| format!("{t}: +{ad} −{r} ~{c}"))
        .collect::<Vec<_>>()
        .join("   ");
    ui.label(format!("From {a} to {b}: {text}"));
    let chosen = view.state.compare_table.unwrap_or(TableKind::Bookings);
    ui.horizontal(|ui| {
        for kind in [TableKind::Users, TableKind::Bookings] {
            if ui
                .selectable_label(chosen == kind, table_index(kind))
                .clicked()
            {
                commands.push(UiCommand::SetCompareTable(Some(kind)));
            }
        }
    });
    paged_diff_ui(
        ui,
        view,
        ("positions_rows", DiffList::Positions, chosen),
        rows.len(chosen),
        *b,
        commands,
    );
}

/// Draws the Compare panel.
pub fn compare_ui(ui: &mut egui::Ui, view: &View, commands: &mut Vec<UiCommand>) {
    ui.horizontal(|ui| {
        if ui
            .selectable_label(!view.state.compare_positions, "Read store vs ledger")
            .clicked()
        {
            commands.push(UiCommand::SetComparePositions(false));
        }
        if ui
            .selectable_label(view.state.compare_positions, "Two positions")
            .clicked()
        {
            commands.push(UiCommand::SetComparePositions(true));
        }
    });
    ui.separator();
    if view.state.compare_positions {
        positions_ui(ui, view, commands);
    } else {
        read_vs_ledger_ui(ui, view, commands);
    }
}
