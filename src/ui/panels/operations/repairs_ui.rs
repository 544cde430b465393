//! Drawing Operations' repairs: the repairs kept in the ledger store,
//! newest first (only the rows in view are laid out), and the details of
//! the one chosen.

use super::{OperationsCommand as C, OperationsPanel};
use crate::store::{Findings, RepairEntry};
use crate::ui::app::Shell;
use crate::ui::command::UiCommand;
use crate::ui::widgets::palette;
use crate::ui::widgets::virtual_grid::virtual_grid_ui;

fn drift_text(found: &Option<Findings>) -> String {
    match found {
        Some(f) if f.in_sync => "in sync".into(),
        Some(f) => format!(
            "{} missing, {} extra, {} different",
            f.missing, f.extra, f.different
        ),
        None => "not compared".into(),
    }
}

fn work_text(entry: &RepairEntry) -> String {
    let w = &entry.work;
    match entry.kind {
        crate::store::RepairKind::Replay => format!(
            "replay: {} rows from {} events{}",
            w.rows_written,
            w.events,
            w.from_snapshot
                .map(|p| format!(" after the snapshot at {p}"))
                .unwrap_or_default()
        ),
        crate::store::RepairKind::Targeted => format!(
            "targeted: {} rows written, {} deleted, {} events of {} aggregates",
            w.rows_written, w.rows_deleted, w.events, w.aggregates
        ),
    }
}

fn findings_ui(ui: &mut egui::Ui, title: &str, found: &Option<Findings>) {
    ui.strong(format!("{title}: {}", drift_text(found)));
    let Some(f) = found else { return };
    ui.label(format!(
        "head {}, {} rows compared, {} malformed entries, {} unpositioned, {} holes",
        f.head,
        f.checked_rows,
        f.malformed.len() as u64 + f.malformed_left_out,
        f.unpositioned,
        f.holes.len() as u64 + f.holes_left_out
    ));
    // At most a hundred rows are kept per repair: drawn whole.
    for row in &f.rows {
        ui.monospace(format!(
            "{} {} {} (position {}) columns {}",
            row.table.name(),
            row.kind.name(),
            row.key,
            row.last_position,
            row.columns.join(", ")
        ));
    }
    if f.rows_left_out > 0 {
        ui.label(format!("{} more rows not kept", f.rows_left_out));
    }
}

fn details_ui(ui: &mut egui::Ui, entry: &RepairEntry) {
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.label(format!(
            "Repair {} at {} by {} on {}",
            entry.id,
            entry.at.format("%Y-%m-%d %H:%M:%S UTC"),
            entry.instance,
            entry.read_store
        ));
        ui.label(format!(
            "{}, up to position {}, in {:.1} s",
            work_text(entry),
            entry.work.position,
            entry.work.elapsed_ms as f64 / 1000.0
        ));
        findings_ui(ui, "Found before", &entry.before);
        findings_ui(ui, "Found after", &entry.after);
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
    ui.heading("Repairs");
    ui.horizontal_wrapped(|ui| {
        ui.label("Every replay and targeted repair, kept in the ledger store with what was found before and after it.");
        if ui
            .add_enabled(shell.connected(), egui::Button::new("Refresh repairs"))
            .clicked()
        {
            commands.push(C::RefreshRepairs.into());
        }
    });
    let repairs = match panel.repairs.value() {
        Some(list) if !list.is_empty() => list,
        Some(_) => {
            ui.label("No repairs yet.");
            return;
        }
        None => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Reading the repairs…");
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
            .selectable_label(open, "details")
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
