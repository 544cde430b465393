//! Modal windows: confirmations of destructive actions (naming the target
//! database), connect, export/import and about.

use crate::ui::commands::{Confirm, Dialog, DraftField, UiCommand};
use crate::ui::view::View;
use crate::ui::widgets::draft_field::draft_field_ui;
use crate::ui::widgets::write_button::write_button_ui;
use crate::ui::widgets::{ERROR_COLOR, WARN_COLOR};

/// For tables of another ledger, the sentence naming both: confirming
/// rebuilds them for this one.
fn foreign_note(view: &View) -> String {
    match view
        .data
        .pairing
        .as_ref()
        .and_then(crate::engine::Pairing::foreign)
    {
        Some(foreign) => format!(
            "\n\nThey are NOT this ledger's: {foreign}. Confirming replaces them with this ledger's."
        ),
        None => String::new(),
    }
}

fn confirm_ui(ctx: &egui::Context, view: &View, confirm: &Confirm, commands: &mut Vec<UiCommand>) {
    let (title, body, action) = match confirm {
        Confirm::Replay { from_snapshot } => (
            "Rebuild the read tables?",
            format!(
                "This replaces every row of users and bookings in {} with a rebuild from the ledger{}. \
                 Readers keep the old tables until the new ones are swapped in.{}",
                view.read_store_name(),
                if *from_snapshot {
                    " (starting at the newest snapshot)"
                } else {
                    " (from position 0)"
                },
                foreign_note(view)
            ),
            "Yes, replay",
        ),
        Confirm::Restore { id, position } => (
            "Restore a snapshot?",
            format!(
                "This replaces the read tables in {} with snapshot {} (position {position}); the projectors then \
                 apply the events after it.{}",
                view.read_store_name(),
                &id.to_string()[..8],
                foreign_note(view)
            ),
            "Yes, restore",
        ),
        Confirm::Import { path } => (
            "Import events?",
            format!(
                "This appends the events in {path} to the ledger {} (events already stored are skipped). \
                 The ledger is append-only: this cannot be undone.",
                view.ledger_name()
            ),
            "Yes, import",
        ),
    };
    let response = egui::Modal::new(egui::Id::unique("ledgerscope_confirm")).show(ctx, |ui| {
        ui.set_max_width(460.0);
        ui.heading(title);
        ui.add(egui::Label::new(body).wrap());
        ui.add_space(6.0);
        if view.data.read.as_ref().is_some_and(|r| r.remote)
            || view.data.ledger.as_ref().is_some_and(|l| l.remote)
        {
            ui.colored_label(ERROR_COLOR, "WARNING: this is a REMOTE database.");
        }
        ui.horizontal(|ui| {
            if write_button_ui(
                ui,
                view,
                egui::RichText::new(action).color(WARN_COLOR).strong(),
            ) {
                commands.push(UiCommand::ConfirmYes);
            }
            if ui.button("Cancel").clicked() {
                commands.push(UiCommand::ConfirmNo);
            }
        });
    });
    if response.should_close() {
        commands.push(UiCommand::ConfirmNo);
    }
}

fn dialog_ui(ctx: &egui::Context, view: &View, dialog: Dialog, commands: &mut Vec<UiCommand>) {
    let response = egui::Modal::new(egui::Id::unique("ledgerscope_dialog")).show(ctx, |ui| {
        ui.set_max_width(560.0);
        match dialog {
            Dialog::Connect => {
                ui.heading("Connect");
                ui.label("Empty server fields use the embedded store (SQLite files in the data directory).");
                egui::Grid::new("connect_grid").num_columns(2).show(ui, |ui| {
                    ui.label("Data directory");
                    draft_field_ui(ui, view, DraftField::ConnectDataDir, "~/.local/share/ledgerscope", 380.0, commands);
                    ui.end_row();
                    ui.label("MongoDB URI (ledger)");
                    draft_field_ui(ui, view, DraftField::ConnectMongo, "mongodb://host:27017", 380.0, commands);
                    ui.end_row();
                    ui.label("PostgreSQL URL (read store)");
                    draft_field_ui(ui, view, DraftField::ConnectPostgres, "postgres://user@host/db", 380.0, commands);
                    ui.end_row();
                });
                ui.horizontal(|ui| {
                    if ui.button("Connect").clicked() {
                        commands.push(UiCommand::Connect);
                    }
                    if ui.button("Cancel").clicked() {
                        commands.push(UiCommand::CloseDialog);
                    }
                });
            }
            Dialog::Export | Dialog::Import => {
                let export = dialog == Dialog::Export;
                ui.heading(if export { "Export the ledger as NDJSON" } else { "Import NDJSON into the ledger" });
                ui.horizontal(|ui| {
                    ui.label("File");
                    draft_field_ui(ui, view, DraftField::FilePath, "/path/ledger.ndjson", 360.0, commands);
                    if ui.button("Browse…").clicked() {
                        commands.push(UiCommand::BrowseFile { save: export });
                    }
                });
                ui.horizontal(|ui| {
                    if export {
                        if ui.add_enabled(view.connected(), egui::Button::new("Export")).clicked() {
                            commands.push(UiCommand::Export);
                        }
                    } else if write_button_ui(ui, view, "Import…") {
                        commands.push(UiCommand::AskImport);
                    }
                    if ui.button("Cancel").clicked() {
                        commands.push(UiCommand::CloseDialog);
                    }
                });
            }
            Dialog::About => {
                ui.heading("Ledgerscope");
                ui.label(format!("Version {}", env!("CARGO_PKG_VERSION")));
                ui.label(env!("CARGO_PKG_DESCRIPTION"));
                ui.label(format!("Instance {}", view.data.instance_id));
                if ui.button("Close").clicked() {
                    commands.push(UiCommand::CloseDialog);
                }
            }
        }
    });
    if response.should_close() {
        commands.push(UiCommand::CloseDialog);
    }
}

/// Draws the open dialog and the pending confirmation, if any.
pub fn dialogs_ui(ctx: &egui::Context, view: &View, commands: &mut Vec<UiCommand>) {
    if let Some(dialog) = view.state.dialog {
        dialog_ui(ctx, view, dialog, commands);
    }
    if let Some(confirm) = &view.state.confirm {
        confirm_ui(ctx, view, confirm, commands);
    }
}
