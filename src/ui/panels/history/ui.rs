//! Drawing the history window: one line per version, the cells it changed
//! highlighted (hover: what they were), the position a link to its event.

use egui_extras::{Column, TableBuilder};

use super::{HistoryCommand, HistoryPanel};
use crate::domain::RowHistory;
use crate::ui::command::{ShellCommand, UiCommand};
use crate::ui::widgets::{CHANGED_BG, inline_error_ui};

fn versions_ui(ui: &mut egui::Ui, history: &RowHistory, commands: &mut Vec<UiCommand>) {
    let columns = &history.columns;
    let mut builder = TableBuilder::new(ui)
        .id_salt("row_history")
        .striped(true)
        .resizable(true)
        .auto_shrink([false, true])
        .max_scroll_height(420.0)
        .column(Column::exact(60.0))
        .column(Column::initial(130.0).clip(true))
        .column(Column::initial(150.0).clip(true))
        .column(Column::initial(60.0).clip(true));
    for (i, name) in columns.iter().enumerate() {
        let width = match name.as_str() {
            "user_id" | "booking_id" => 70.0,
            "email" | "address" | "name" | "service" => 110.0,
            "guests" | "price" | "status" => 65.0,
            _ => 80.0,
        };
        builder = builder.column(if i + 1 == columns.len() {
            Column::remainder().at_least(60.0)
        } else {
            Column::initial(width).at_least(40.0).clip(true)
        });
    }
    builder
        .header(22.0, |mut header| {
            for name in ["position", "recorded_at", "event", "actor"]
                .into_iter()
                .chain(columns.iter().map(String::as_str))
            {
                header.col(|ui| {
                    ui.strong(name);
                });
            }
        })
        .body(|body| {
            body.rows(20.0, history.versions.len(), |mut row| {
                let index = row.index();
                let version = &history.versions[index];
                let before = index
                    .checked_sub(1)
                    .map(|i| history.versions[i].cells.as_slice());
                row.col(|ui| {
                    let position = version.position;
                    if ui
                        .link(position.to_string())
                        .on_hover_text(format!("Show event {position} in the timeline"))
                        .clicked()
                    {
                        commands.push(ShellCommand::ShowEvent(position).into());
                    }
                });
                row.col(|ui| {
                    ui.label(version.recorded_at.format("%Y-%m-%d %H:%M:%S").to_string());
                });
                row.col(|ui| {
                    ui.label(&version.event_type);
                });
                row.col(|ui| {
                    ui.label(version.actor.as_deref().unwrap_or("-"));
                });
                for (i, cell) in version.cells.iter().enumerate() {
                    let name = &columns[i.min(columns.len() - 1)];
                    let changed = version.changed.contains(name);
                    row.col(|ui| {
                        let shown = if cell.len() == 36 && cell.is_char_boundary(8) {
                            &cell[..8]
                        } else {
                            cell.as_str()
                        };
                        if changed && before.is_some() {
                            ui.painter().rect_filled(ui.max_rect(), 2.0, CHANGED_BG);
                            let old = before.and_then(|b| b.get(i)).map_or("", String::as_str);
                            ui.add(
                                egui::Label::new(egui::RichText::new(shown).strong()).truncate(),
                            )
                            .on_hover_text(format!("{name}: '{old}' -> '{cell}'"));
                        } else {
                            ui.add(egui::Label::new(shown).truncate())
                                .on_hover_text(cell.as_str());
                        }
                    });
                }
            });
        });
}

/// Draws the history window, if a row is chosen.
pub fn history_ui(ctx: &egui::Context, panel: &HistoryPanel, commands: &mut Vec<UiCommand>) {
    let Some((table, key)) = panel.target else {
        return;
    };
    let row_name = match table {
        crate::domain::Table::Users => "user",
        crate::domain::Table::Bookings => "booking",
    };
    let mut open = true;
    egui::Window::new("Row history")
        .id(egui::Id::unique("ledgerscope_row_history"))
        .open(&mut open)
        .default_width(1180.0)
        .default_pos([40.0, 110.0])
        .resizable(true)
        .show(ctx, |ui| {
            ui.horizontal(|ui| {
                ui.heading(format!("History of {row_name} {key}"));
                if panel.history.is_asked() {
                    ui.spinner();
                } else if ui
                    .button("Reload")
                    .on_hover_text("Read the history again (the ledger may have grown)")
                    .clicked()
                {
                    commands.push(HistoryCommand::Reload.into());
                }
            });
            ui.label(
                egui::RichText::new(
                    "Every version of this row, oldest first, with the event that made it. \
                     Highlighted cells are the ones that event changed (hover: the value before); \
                     a position shows its event in the timeline.",
                )
                .weak(),
            );
            inline_error_ui(ui, panel.error.as_ref());
            match panel.history.value() {
                Some(history) if history.versions.is_empty() => {
                    ui.label(format!(
                        "No event of this ledger made a {} row {key}.",
                        table.name()
                    ));
                }
                Some(history) => {
                    ui.label(format!(
                        "{} version(s); now: {}",
                        history.versions.len(),
                        history.current().map_or(String::new(), |cells| {
                            history
                                .columns
                                .iter()
                                .zip(cells)
                                .filter(|(c, _)| !c.ends_with("_id") && !c.ends_with("position"))
                                .map(|(c, v)| format!("{c} {v}"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        })
                    ));
                    if !history.skipped.is_empty() {
                        ui.label(format!(
                            "Undecodable events about this row (they change nothing): {:?}",
                            history.skipped
                        ));
                    }
                    versions_ui(ui, history, commands);
                }
                None if panel.history.is_asked() => {
                    ui.label("Reading the row's events…");
                }
                None => {}
            }
        });
    if !open {
        commands.push(HistoryCommand::Close.into());
    }
}
