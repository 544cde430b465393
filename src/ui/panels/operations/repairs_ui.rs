//! Drawing Operations' repairs: the repairs kept in the ledger store,
//! newest first (only the rows in view are laid out), and the details of
//! the one chosen.

use super::{OperationsCommand as C, OperationsPanel};
use crate::store::{Findings, RepairEntry};
use crate::ui::app::Shell;
use crate::ui::command::UiCommand;
use crate::ui::i18n::t;
use crate::ui::widgets::palette;
use crate::ui::widgets::virtual_grid::virtual_grid_ui;

fn drift_text(found: &Option<Findings>) -> String {
    match found {
        Some(f) if f.in_sync => t!("repairs-in-sync"),
        Some(f) => t!(
            "repairs-drift",
            missing = f.missing,
            extra = f.extra,
            different = f.different
        ),
        None => t!("repairs-not-compared"),
    }
}

fn work_text(entry: &RepairEntry) -> String {
    let w = &entry.work;
    match entry.kind {
        crate::store::RepairKind::Replay => t!(
            "repairs-work-replay",
            rows = w.rows_written,
            events = w.events,
            after = w
                .from_snapshot
                .map(|p| t!("repairs-after-snapshot", position = p))
                .unwrap_or_default()
        ),
        crate::store::RepairKind::Targeted => t!(
            "repairs-work-targeted",
            rows = w.rows_written,
            deleted = w.rows_deleted,
            events = w.events,
            aggregates = w.aggregates
        ),
    }
}

fn findings_ui(ui: &mut egui::Ui, title: &str, found: &Option<Findings>) {
    ui.strong(format!("{title}: {}", drift_text(found)));
    let Some(f) = found else { return };
    ui.label(t!(
        "repairs-findings",
        head = f.head,
        checked_rows = f.checked_rows,
        malformed = f.malformed.len() as u64 + f.malformed_left_out,
        unpositioned = f.unpositioned,
        holes = f.holes.len() as u64 + f.holes_left_out
    ));
    // At most a hundred rows are kept per repair: drawn whole.
    for row in &f.rows {
        ui.monospace(t!(
            "repairs-row",
            table = row.table.name(),
            kind = row.kind.name(),
            key = row.key,
            position = row.last_position,
            columns = row.columns.join(", ")
        ));
    }
    if f.rows_left_out > 0 {
        ui.label(t!("repairs-more-rows", rows_left_out = f.rows_left_out));
    }
}

fn details_ui(ui: &mut egui::Ui, entry: &RepairEntry) {
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.label(t!(
            "repairs-entry",
            id = entry.id,
            at = crate::ui::i18n::format::date_time(&entry.at),
            instance = entry.instance,
            read_store = entry.read_store
        ));
        ui.label(t!(
            "repairs-work",
            entry = work_text(entry),
            position = entry.work.position,
            secs = crate::ui::i18n::format::decimal(entry.work.elapsed_ms as f64 / 1000.0, 1)
        ));
        findings_ui(ui, &t!("repairs-found-before"), &entry.before);
        findings_ui(ui, &t!("repairs-found-after"), &entry.after);
        for note in &entry.notes {
            ui.label(egui::RichText::new(note).weak());
        }
    });
}

/// The repairs section of Operations.
pub fn repairs_ui(
    ui: &mut egui::Ui,
    panel: &OperationsPanel,
    shell: &Shell,
    commands: &mut Vec<UiCommand>,
) {
    ui.heading(t!("repairs-title"));
    ui.horizontal_wrapped(|ui| {
        ui.label(t!("repairs-note"));
        if ui
            .add_enabled(shell.connected(), egui::Button::new(t!("repairs-refresh")))
            .clicked()
        {
            commands.push(C::RefreshRepairs.into());
        }
    });
    let repairs = match panel.repairs.value() {
        Some(list) if !list.is_empty() => list,
        Some(_) => {
            ui.label(t!("repairs-none"));
            return;
        }
        None => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(t!("repairs-reading"));
            });
            return;
        }
    };
    let headers = [
        "when (UTC)",
        "instance",
        "found before",
        "what was done",
        "found after",
        "",
    ];
    virtual_grid_ui(ui, "repairs", 200.0, &headers, repairs.len(), |ui, row| {
        let entry = &repairs[row];
        ui.label(entry.at.format("%Y-%m-%d %H:%M:%S").to_string())
            .on_hover_text(&entry.read_store);
        ui.label(&entry.instance);
        ui.label(drift_text(&entry.before));
        ui.label(work_text(entry));
        let after_ok = entry.after.as_ref().is_some_and(|f| f.in_sync);
        let color = if after_ok {
            palette(ui.visuals()).ok
        } else {
            palette(ui.visuals()).warn
        };
        ui.colored_label(color, drift_text(&entry.after));
        let open = panel.selected_repair == Some(row);
        if ui
            .selectable_label(open, t!("repairs-details"))
            .on_hover_text(entry.id.to_string())
            .clicked()
        {
            commands.push(C::SelectRepair((!open).then_some(row)).into());
        }
    });
    if let Some(entry) = panel.selected_repair.and_then(|row| repairs.get(row)) {
        details_ui(ui, entry);
    }
}
