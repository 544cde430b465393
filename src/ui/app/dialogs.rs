//! Modal windows: confirmations of destructive actions (naming the target
//! database), connect, export/import, open a link, the keyboard shortcuts
//! and about.

use crate::ui::i18n::t;
use uuid::Uuid;

use crate::ui::app::Shell;
use crate::ui::app::keyboard::SHORTCUTS;
use crate::ui::command::{ShellCommand, UiCommand};
use crate::ui::link::LinkError;
use crate::ui::widgets::draft_field::{draft_field_ui, password_field_ui};
use crate::ui::widgets::write_button::write_button_ui;
use crate::ui::widgets::{inline_error_ui, palette};

/// A destructive action that waits for confirmation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Confirm {
    /// Rebuild the read tables.
    Replay {
        /// Start from the newest snapshot.
        from_snapshot: bool,
    },
    /// Replace the read tables with a snapshot's state.
    Restore {
        /// Snapshot id.
        id: Uuid,
        /// Its position.
        position: u64,
    },
    /// Re-project only the rows a comparison found differing.
    RepairRows {
        /// How many rows differed.
        rows: u64,
    },
    /// Append the events of a file to the ledger.
    Import {
        /// The file.
        path: String,
    },
    /// Show personal values as they are.
    Unmask,
    /// Drop a published model's tables from the read store.
    Unpublish {
        /// The model.
        model: String,
    },
}

/// Small windows opened from the menu.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialog {
    /// Choose the stores.
    Connect,
    /// Export the ledger.
    Export,
    /// Import a file.
    Import,
    /// About Ledgerscope.
    About,
    /// The keyboard shortcuts.
    Shortcuts,
    /// Open a `ledgerscope://` link.
    OpenLink,
}

/// The "Open link" dialog's text, and why it did not open.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LinkDraft {
    /// The pasted link.
    pub text: String,
    /// Why it was not opened (malformed, or of another ledger).
    pub error: Option<LinkError>,
}

/// A field of the connect dialog.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConnectField {
    /// The data directory.
    DataDir,
    /// The MongoDB URI (ledger).
    Mongo,
    /// The PostgreSQL URL (read store).
    Postgres,
    /// The MongoDB password (never kept).
    MongoPassword,
    /// The PostgreSQL password (never kept).
    PostgresPassword,
}

/// What the connect dialog's fields hold. The passwords are emptied when
/// Connect takes them, and never printed.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ConnectDrafts {
    /// Data directory.
    pub data_dir: String,
    /// MongoDB URI.
    pub mongo: String,
    /// PostgreSQL URL.
    pub postgres: String,
    /// MongoDB password (empty = none, or the URI's or the environment's).
    pub mongo_password: String,
    /// PostgreSQL password (empty = none, or from the URL, `PGPASSWORD`,
    /// `~/.pgpass` or the service file).
    pub postgres_password: String,
}

impl std::fmt::Debug for ConnectDrafts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectDrafts")
            .field("data_dir", &self.data_dir)
            .field("mongo", &crate::store::redact(&self.mongo))
            .field("postgres", &crate::store::redact(&self.postgres))
            .finish_non_exhaustive()
    }
}

impl ConnectDrafts {
    /// The text of a field.
    pub fn get(&self, field: ConnectField) -> &str {
        match field {
            ConnectField::DataDir => &self.data_dir,
            ConnectField::Mongo => &self.mongo,
            ConnectField::Postgres => &self.postgres,
            ConnectField::MongoPassword => &self.mongo_password,
            ConnectField::PostgresPassword => &self.postgres_password,
        }
    }

    /// The text of a field, to change.
    pub fn get_mut(&mut self, field: ConnectField) -> &mut String {
        match field {
            ConnectField::DataDir => &mut self.data_dir,
            ConnectField::Mongo => &mut self.mongo,
            ConnectField::Postgres => &mut self.postgres,
            ConnectField::MongoPassword => &mut self.mongo_password,
            ConnectField::PostgresPassword => &mut self.postgres_password,
        }
    }
}

fn push(commands: &mut Vec<UiCommand>, command: ShellCommand) {
    commands.push(command.into());
}

/// For tables of another ledger, the sentence naming both: confirming
/// rebuilds them for this one. For tables of other schema versions, the
/// sentence naming both versions: confirming rebuilds them with this
/// build's.
fn foreign_note(shell: &Shell) -> String {
    match shell
        .pairing
        .as_ref()
        .and_then(crate::engine::Pairing::foreign)
    {
        Some(foreign) if foreign.other_schema().is_some() => format!(
            "\n\nThey were built with another schema: {foreign}. Confirming rebuilds them with this build's."
        ),
        Some(foreign) => format!(
            "\n\nThey are NOT this ledger's: {foreign}. Confirming replaces them with this ledger's."
        ),
        None => String::new(),
    }
}

fn confirm_ui(
    ctx: &egui::Context,
    shell: &Shell,
    confirm: &Confirm,
    commands: &mut Vec<UiCommand>,
) {
    let (title, body, action) = match confirm {
        Confirm::Replay { from_snapshot } => (
            "Rebuild the read tables?",
            format!(
                "This replaces every row of users and bookings in {} with a rebuild from the ledger{}. \
                 Readers keep the old tables until the new ones are swapped in.{}",
                shell.read_store_name(),
                if *from_snapshot {
                    " (starting at the newest snapshot)"
                } else {
                    " (from position 0)"
                },
                foreign_note(shell)
            ),
            "Yes, replay",
        ),
        Confirm::Restore { id, position } => (
            "Restore a snapshot?",
            format!(
                "This replaces the read tables in {} with snapshot {} (position {position}); the projectors then \
                 apply the events after it.{}",
                shell.read_store_name(),
                &id.to_string()[..8],
                foreign_note(shell)
            ),
            "Yes, restore",
        ),
        Confirm::RepairRows { rows } => (
            "Repair the differing rows?",
            format!(
                "This rewrites the {rows} row(s) that differ in {}, each from its aggregate's events in the ledger \
                 (other rows are not touched), then compares again. The repair is kept in Operations.",
                shell.read_store_name()
            ),
            "Yes, repair these rows",
        ),
        Confirm::Import { path } => (
            "Import events?",
            format!(
                "This appends the events in {path} to the ledger {} (events already stored are skipped). \
                 The ledger is append-only: this cannot be undone.",
                shell.ledger_name()
            ),
            "Yes, import",
        ),
        Confirm::Unmask => (
            "Show personal data?",
            format!(
                "This shows the e-mails, names and addresses of the customers in {} as they are, \
                 in every panel, copy and report of this window, until you mask them again. \
                 The choice is kept for this ledger.",
                shell.ledger_name()
            ),
            "Yes, show personal data",
        ),
        Confirm::Unpublish { model } => (
            "Unpublish the model?",
            format!(
                "This drops the tables of model {model} (model_{model}_...) from {}. Whoever reads them \
                 there loses them. The model's definition and its built file stay; Publish brings the \
                 tables back.",
                shell.read_store_name()
            ),
            "Yes, unpublish",
        ),
    };
    let response = egui::Modal::new(egui::Id::unique("ledgerscope_confirm")).show(ctx, |ui| {
        ui.set_max_width(460.0);
        ui.heading(title);
        ui.add(egui::Label::new(body).wrap());
        ui.add_space(6.0);
        if shell.any_remote() {
            ui.colored_label(palette(ui.visuals()).error, t!("dialog-remote-warning"));
        }
        ui.horizontal(|ui| {
            if write_button_ui(
                ui,
                shell,
                egui::RichText::new(action)
                    .color(palette(ui.visuals()).warn)
                    .strong(),
            ) {
                push(commands, ShellCommand::ConfirmYes);
            }
            if ui.button(t!("common-cancel")).clicked() {
                push(commands, ShellCommand::ConfirmNo);
            }
        });
    });
    if response.should_close() {
        push(commands, ShellCommand::ConfirmNo);
    }
}

fn dialog_ui(ctx: &egui::Context, shell: &Shell, dialog: Dialog, commands: &mut Vec<UiCommand>) {
    let response = egui::Modal::new(egui::Id::unique("ledgerscope_dialog")).show(ctx, |ui| {
        ui.set_max_width(560.0);
        match dialog {
            Dialog::Connect => {
                ui.heading(t!("dialog-connect"));
                ui.label(t!("dialog-connect-embedded-note"));
                egui::Grid::new("connect_grid")
                    .num_columns(2)
                    .show(ui, |ui| {
                        for (field, label, hint) in [
                            (
                                ConnectField::DataDir,
                                "Data directory",
                                "~/.local/share/ledgerscope",
                            ),
                            (
                                ConnectField::Mongo,
                                "MongoDB URI (ledger)",
                                "mongodb://user@host:27017",
                            ),
                            (
                                ConnectField::MongoPassword,
                                "MongoDB password",
                                "not kept; or LEDGERSCOPE_MONGO_PASSWORD",
                            ),
                            (
                                ConnectField::Postgres,
                                "PostgreSQL URL (read store)",
                                "postgres://user@host/db or service=name",
                            ),
                            (
                                ConnectField::PostgresPassword,
                                "PostgreSQL password",
                                "not kept; or PGPASSWORD, ~/.pgpass",
                            ),
                        ] {
                            ui.label(label);
                            let secret = matches!(
                                field,
                                ConnectField::MongoPassword | ConnectField::PostgresPassword
                            );
                            let value = shell.connect.get(field);
                            let changed = match secret {
                                true => password_field_ui(ui, value, hint, 380.0).1,
                                false => draft_field_ui(ui, value, hint, 380.0).1,
                            };
                            if let Some(text) = changed {
                                push(commands, ShellCommand::SetConnectField(field, text));
                            }
                            ui.end_row();
                        }
                    });
                ui.label(egui::RichText::new(t!("dialog-connect-passwords")).small());
                if !shell.recent.is_empty() {
                    ui.add_space(4.0);
                    ui.label(t!("dialog-recent"));
                    for (index, entry) in shell.recent.iter().enumerate() {
                        if ui.button(entry.label()).clicked() {
                            push(commands, ShellCommand::UseRecent(index));
                        }
                    }
                }
                ui.horizontal(|ui| {
                    if ui.button(t!("dialog-connect")).clicked() {
                        push(commands, ShellCommand::Connect);
                    }
                    if ui.button(t!("common-cancel")).clicked() {
                        push(commands, ShellCommand::CloseDialog);
                    }
                });
            }
            Dialog::Export | Dialog::Import => {
                let export = dialog == Dialog::Export;
                ui.heading(if export {
                    t!("dialog-export-title")
                } else {
                    t!("dialog-import-title")
                });
                ui.horizontal(|ui| {
                    ui.label(t!("dialog-file"));
                    if let (_, Some(text)) =
                        draft_field_ui(ui, &shell.file_path, "/path/ledger.ndjson", 360.0)
                    {
                        push(commands, ShellCommand::SetFilePath(text));
                    }
                    if ui.button(t!("dialog-browse")).clicked() {
                        push(commands, ShellCommand::BrowseFile { save: export });
                    }
                });
                inline_error_ui(ui, shell.file_error.as_ref());
                ui.horizontal(|ui| {
                    if export {
                        if ui
                            .add_enabled(shell.connected(), egui::Button::new(t!("dialog-export")))
                            .clicked()
                        {
                            push(commands, ShellCommand::Export);
                        }
                    } else if write_button_ui(ui, shell, t!("dialog-import")) {
                        push(commands, ShellCommand::AskImport);
                    }
                    if ui.button(t!("common-cancel")).clicked() {
                        push(commands, ShellCommand::CloseDialog);
                    }
                });
            }
            Dialog::Shortcuts => shortcuts_ui(ui, commands),
            Dialog::OpenLink => open_link_ui(ui, shell, commands),
            Dialog::About => {
                ui.heading(t!("dialog-about-name"));
                ui.label(t!("dialog-version", version = env!("CARGO_PKG_VERSION")));
                ui.label(t!("dialog-description"));
                ui.label(t!("dialog-instance", instance_id = shell.instance_id));
                if ui.button(t!("common-close")).clicked() {
                    push(commands, ShellCommand::CloseDialog);
                }
            }
        }
    });
    if response.should_close() {
        push(commands, ShellCommand::CloseDialog);
    }
}

fn shortcuts_ui(ui: &mut egui::Ui, commands: &mut Vec<UiCommand>) {
    ui.heading(t!("dialog-shortcuts-title"));
    ui.label(t!("dialog-shortcuts-text-field"));
    egui::Grid::new("shortcuts_grid")
        .num_columns(2)
        .striped(true)
        .spacing([16.0, 4.0])
        .show(ui, |ui| {
            for (keys, what) in SHORTCUTS {
                ui.label(egui::RichText::new(keys).monospace());
                ui.label(what);
                ui.end_row();
            }
        });
    if ui.button(t!("common-close")).clicked() {
        push(commands, ShellCommand::CloseDialog);
    }
}

fn open_link_ui(ui: &mut egui::Ui, shell: &Shell, commands: &mut Vec<UiCommand>) {
    ui.heading(t!("dialog-open-link-title"));
    ui.label(t!("dialog-open-link-note"));
    let hint = "ledgerscope://open?ledger=…&panel=time-travel&position=…";
    let (field, changed) = draft_field_ui(ui, &shell.link.text, hint, 520.0);
    if let Some(text) = changed {
        push(commands, ShellCommand::SetLinkDraft(text));
    }
    if let Some(error) = &shell.link.error {
        crate::ui::widgets::wrapped_label_ui(
            ui,
            egui::RichText::new(error.to_string()).color(palette(ui.visuals()).error),
        );
    }
    ui.horizontal(|ui| {
        let enter = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        if ui.button(t!("dialog-open")).clicked() || enter {
            push(commands, ShellCommand::OpenLink(shell.link.text.clone()));
        }
        if ui.button(t!("common-cancel")).clicked() {
            push(commands, ShellCommand::CloseDialog);
        }
    });
}

/// Draws the open dialog and the pending confirmation, if any.
pub fn dialogs_ui(ctx: &egui::Context, shell: &Shell, commands: &mut Vec<UiCommand>) {
    if let Some(dialog) = shell.dialog {
        dialog_ui(ctx, shell, dialog, commands);
    }
    if let Some(confirm) = &shell.confirm {
        confirm_ui(ctx, shell, confirm, commands);
    }
}
