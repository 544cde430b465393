//! Drawing Compare.

use super::{CompareCommand as C, CompareField, ComparePanel, FOUND_LISTED};
use crate::domain::Table;
use crate::engine::VerifyReport;
use crate::ui::app::Shell;
use crate::ui::app::dialogs::Confirm;
use crate::ui::command::{ShellCommand, UiCommand};
use crate::ui::i18n::t;
use crate::ui::jobs::JobKind;
use crate::ui::widgets::diff_table::{DiffLabels, diff_rows_ui};
use crate::ui::widgets::draft_field::draft_field_ui;
use crate::ui::widgets::job_progress::job_progress_ui;
use crate::ui::widgets::table::TableLook;
use crate::ui::widgets::table::paged::{PagedShow, TableAsk, paged_table_ui};
use crate::ui::widgets::write_button::write_button_if_ui;
use crate::ui::widgets::{inline_error_ui, palette};

/// How read-vs-ledger differences are named: missing from the table, extra
/// in it, or differing.
const VERIFY_LABELS: DiffLabels = DiffLabels {
    added: "missing",
    removed: "extra",
    changed: "differs",
};

fn push(commands: &mut Vec<UiCommand>, command: C) {
    commands.push(command.into());
}

fn report_ui(ui: &mut egui::Ui, report: &VerifyReport, commands: &mut Vec<UiCommand>) {
    if report.in_sync {
        ui.label(
            egui::RichText::new(t!("compare-in-sync", checked_rows = report.checked_rows))
                .color(palette(ui.visuals()).ok)
                .strong(),
        );
    } else {
        ui.label(
            egui::RichText::new(t!(
                "compare-drift",
                missing = report.missing,
                extra = report.extra,
                different = report.different,
                checked_rows = report.checked_rows
            ))
            .color(palette(ui.visuals()).error)
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
                ui.label(t.table.name());
                ui.label(t!("compare-position", position = t.position));
                for n in [t.missing, t.extra, t.different] {
                    let color = if n == 0 {
                        palette(ui.visuals()).ok
                    } else {
                        palette(ui.visuals()).error
                    };
                    ui.colored_label(color, n.to_string());
                }
                if ui.small_button(t!("compare-show-rows")).clicked() {
                    push(commands, C::SetTable(Some(t.table)));
                }
                ui.end_row();
            }
        });
    let lagging: Vec<String> = report
        .lag_events
        .iter()
        .filter(|(_, lag)| *lag > 0)
        .map(|(p, lag)| t!("compare-behind", projector = p, count = *lag))
        .collect();
    if !lagging.is_empty() {
        ui.colored_label(
            palette(ui.visuals()).warn,
            t!("compare-tables-lag", list = lagging.join(", ")),
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
            palette(ui.visuals()).warn,
            t!(
                "compare-malformed-skipped",
                count = report.malformed.len(),
                positions = format!(
                    "{}{}",
                    positions.join(", "),
                    if report.malformed.len() > 10 {
                        ", …"
                    } else {
                        ""
                    }
                )
            ),
        );
    }
}

fn changed_cells_hint_ui(ui: &mut egui::Ui) {
    ui.label(
        egui::RichText::new(t!("compare-changed-cells-hint"))
            .small()
            .weak(),
    );
}

/// What a running comparison has found so far: the count per table, and
/// the first rows of the table chosen.
fn found_ui(ui: &mut egui::Ui, panel: &ComparePanel, shell: &Shell, commands: &mut Vec<UiCommand>) {
    if panel.found.is_empty() {
        ui.label(t!("compare-no-differences-yet"));
        return;
    }
    let counts: Vec<String> = panel
        .found
        .iter()
        .map(|f| format!("{} {}", f.first.table.name(), f.count))
        .collect();
    ui.label(
        egui::RichText::new(t!(
            "compare-differing-so-far",
            tables = counts.join(", "),
            listed = FOUND_LISTED
        ))
        .color(palette(ui.visuals()).error),
    );
    let chosen = panel
        .table
        .filter(|t| panel.found.iter().any(|f| f.first.table == *t))
        .unwrap_or(panel.found[0].first.table);
    ui.horizontal(|ui| {
        ui.label(t!("compare-rows-of"));
        for found in &panel.found {
            let table = found.first.table;
            if ui.selectable_label(chosen == table, table.name()).clicked() {
                push(commands, C::SetTable(Some(table)));
            }
        }
        changed_cells_hint_ui(ui);
    });
    if let Some(found) = panel.found.iter().find(|f| f.first.table == chosen) {
        diff_rows_ui(
            ui,
            "verify_found_rows",
            Some(shell),
            &found.first,
            VERIFY_LABELS,
            commands,
        );
    }
}

/// Saving the findings as a file, and the targeted repair when there is drift.
fn findings_actions_ui(
    ui: &mut egui::Ui,
    panel: &ComparePanel,
    shell: &Shell,
    report: &VerifyReport,
    commands: &mut Vec<UiCommand>,
) {
    ui.horizontal_wrapped(|ui| {
        ui.label(t!("compare-report-file"));
        let hint = format!("{}/compare-<time>.md", panel.report_dir.display());
        let (_, typed) = draft_field_ui(ui, &panel.report_path, &hint, 320.0);
        if let Some(text) = typed {
            push(commands, C::SetReportPath(text));
        }
        if ui
            .add_enabled(
                !panel.report_saving,
                egui::Button::new(t!("compare-save-report")),
            )
            .on_hover_text(t!("compare-save-report-hover"))
            .clicked()
        {
            push(commands, C::SaveReport);
        }
        if panel.report_saving {
            ui.spinner();
        } else if let Some(path) = &panel.report_saved {
            ui.label(egui::RichText::new(t!("compare-saved", path = path.display())).weak());
        }
    });
    inline_error_ui(ui, panel.report_error.as_ref());
    if report.in_sync {
        return;
    }
    let rows = report.missing + report.extra + report.different;
    let busy = shell.jobs.running(JobKind::Repair) || shell.jobs.running(JobKind::Replay);
    ui.horizontal_wrapped(|ui| {
        if write_button_if_ui(
            ui,
            shell,
            !busy,
            Some(t!("compare-repair-running")),
            t!("compare-repair-rows"),
        ) {
            commands.push(ShellCommand::Ask(Confirm::RepairRows { rows }).into());
        }
        ui.label(egui::RichText::new(t!("compare-repair-rows-hover")).weak());
    });
    job_progress_ui(ui, &shell.jobs, JobKind::Repair, commands);
}

fn read_vs_ledger_ui(
    ui: &mut egui::Ui,
    panel: &ComparePanel,
    shell: &Shell,
    commands: &mut Vec<UiCommand>,
) {
    ui.horizontal_wrapped(|ui| {
        ui.label(t!(
            "compare-read-vs-ledger-note",
            read_store_name = shell.read_store_name()
        ));
        let pending = panel.verify.is_asked();
        if ui
            .add_enabled(
                shell.connected() && !pending,
                egui::Button::new(t!("compare-now")),
            )
            .clicked()
        {
            push(commands, C::RunVerify);
        }
        if let Some(at) = panel.verify_at.filter(|_| !pending) {
            ui.label(
                egui::RichText::new(t!("compare-compared-at", time = at.format("%H:%M:%S UTC")))
                    .weak(),
            );
        }
        let replaying = shell.jobs.running(JobKind::Replay);
        if write_button_if_ui(
            ui,
            shell,
            !replaying,
            Some(t!("common-replay-running")),
            t!("compare-repair-by-replay"),
        ) {
            commands.push(
                ShellCommand::Ask(Confirm::Replay {
                    from_snapshot: false,
                })
                .into(),
            );
        }
    });
    inline_error_ui(ui, panel.verify_error.as_ref());
    if shell.jobs.running(JobKind::Verify) {
        job_progress_ui(ui, &shell.jobs, JobKind::Verify, commands);
    }
    job_progress_ui(ui, &shell.jobs, JobKind::Replay, commands);
    if panel.verify.is_asked() {
        found_ui(ui, panel, shell, commands);
        return;
    }
    let Some(report) = panel.verify.value() else {
        return;
    };
    report_ui(ui, report, commands);
    findings_actions_ui(ui, panel, shell, report, commands);
    ui.separator();
    let chosen = panel.table.or_else(|| {
        report
            .tables
            .iter()
            .find(|t| !t.diff.rows.is_empty())
            .map(|t| t.table)
    });
    let Some(chosen) = chosen else { return };
    ui.horizontal(|ui| {
        ui.label(t!("compare-rows-of"));
        for kind in Table::ALL {
            if ui.selectable_label(chosen == kind, kind.name()).clicked() {
                push(commands, C::SetTable(Some(kind)));
            }
        }
        changed_cells_hint_ui(ui);
    });
    if let Some(table) = report.tables.iter().find(|t| t.table == chosen) {
        // The report holds its rows in full: nothing is ever left to load.
        diff_rows_ui(
            ui,
            "verify_rows",
            Some(shell),
            &table.diff,
            VERIFY_LABELS,
            commands,
        );
    }
}

fn position_field_ui(
    ui: &mut egui::Ui,
    value: &str,
    field: CompareField,
    commands: &mut Vec<UiCommand>,
) {
    let hint = match field {
        CompareField::From => "e.g. 100",
        CompareField::To => "e.g. 2000",
    };
    if let (_, Some(text)) = draft_field_ui(ui, value, hint, 80.0) {
        push(commands, C::SetDraft(field, text));
    }
}

fn positions_ui(
    ui: &mut egui::Ui,
    panel: &ComparePanel,
    shell: &Shell,
    commands: &mut Vec<UiCommand>,
) {
    ui.horizontal_wrapped(|ui| {
        ui.label(t!("compare-tables-at"));
        position_field_ui(ui, &panel.from, CompareField::From, commands);
        ui.label(t!("compare-vs-position"));
        position_field_ui(ui, &panel.to, CompareField::To, commands);
        if ui
            .add_enabled(shell.connected(), egui::Button::new(t!("compare-compare")))
            .clicked()
        {
            push(commands, C::ComparePositions);
        }
        if panel.diff.is_asked() {
            ui.spinner();
        }
    });
    inline_error_ui(ui, panel.diff_error.as_ref());
    // A refused input shows no stale result under it.
    let Some(shown) = panel.diff.value().filter(|_| panel.diff_error.is_none()) else {
        return;
    };
    let diff = &shown.diff;
    ui.horizontal_wrapped(|ui| {
        let mut text = diff.direction_text();
        text[..1].make_ascii_uppercase();
        ui.label(format!("{text}: {}", diff.counts_text()));
        if diff.from() != diff.to()
            && ui
                .button(t!("compare-swap"))
                .on_hover_text(t!("compare-swap-hover", to = diff.to(), from = diff.from()))
                .clicked()
        {
            push(commands, C::SwapPositions);
        }
    });
    let chosen = panel.table.unwrap_or(Table::Bookings);
    ui.horizontal(|ui| {
        for kind in Table::ALL {
            if ui.selectable_label(chosen == kind, kind.name()).clicked() {
                push(commands, C::SetTable(Some(kind)));
            }
        }
    });
    if diff.len(chosen) == 0 {
        ui.label(t!("diff-no-differences", name = chosen.name()));
        return;
    }
    let texts = diff.label_texts();
    let labels = DiffLabels {
        added: &texts[0],
        removed: &texts[1],
        changed: &texts[2],
    };
    paged_table_ui(
        ui,
        &TableLook {
            id: egui::Id::unique(("positions_rows", chosen.name())),
            tag: Some("diff"),
            columns: chosen.columns(),
            history: Some(chosen),
            kinds: None,
        },
        Some(shell),
        PagedShow {
            table: diff.table(chosen),
            wanted: &panel.queries[chosen.slot()],
            diff: Some((&labels, diff.counts(chosen))),
        },
        |ask| match ask {
            TableAsk::Query(query) => C::SetQuery(chosen, query).into(),
            TableAsk::Page(page) => C::FetchDiffPage(chosen, page).into(),
        },
        commands,
    );
}

/// Draws the Compare panel.
pub fn compare_ui(
    ui: &mut egui::Ui,
    panel: &ComparePanel,
    shell: &Shell,
    commands: &mut Vec<UiCommand>,
) {
    ui.horizontal(|ui| {
        if ui
            .selectable_label(!panel.positions, t!("compare-mode-read-vs-ledger"))
            .clicked()
        {
            push(commands, C::SetPositions(false));
        }
        if ui
            .selectable_label(panel.positions, t!("compare-mode-two-positions"))
            .clicked()
        {
            push(commands, C::SetPositions(true));
        }
    });
    ui.separator();
    if panel.positions {
        positions_ui(ui, panel, shell, commands);
    } else {
        read_vs_ledger_ui(ui, panel, shell, commands);
    }
}

#[cfg(test)]
mod tests;
