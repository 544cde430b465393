//! The menu bar's menus: Ledgerscope (connect, export, import, open a link,
//! keyboard shortcuts, about), View (theme and zoom, both remembered, and
//! the language) and Scenarios (the guided scenarios for classes).
//! The theme and the zoom are changed in egui's context, as egui's own zoom
//! keys do; the app reads them back to keep them ([`crate::ui::prefs::Look`]).

use crate::ui::app::Shell;
use crate::ui::app::dialogs::Dialog;
use crate::ui::command::{ShellCommand, UiCommand};
use crate::ui::prefs::Language;
use crate::ui::scenarios::{ScenarioCommand, ScenarioId, tr};

fn open(commands: &mut Vec<UiCommand>, dialog: Dialog) {
    commands.push(ShellCommand::OpenDialog(dialog).into());
}

fn ledgerscope_menu_ui(ui: &mut egui::Ui, shell: &Shell, commands: &mut Vec<UiCommand>) {
    if ui.button("Connect…").clicked() {
        open(commands, Dialog::Connect);
    }
    ui.separator();
    if ui
        .add_enabled(shell.connected(), egui::Button::new("Export NDJSON…"))
        .clicked()
    {
        open(commands, Dialog::Export);
    }
    let block = shell.write_block_reason();
    let import = ui.add_enabled(block.is_none(), egui::Button::new("Import NDJSON…"));
    if let Some(reason) = block {
        import.on_disabled_hover_text(reason);
    } else if import.clicked() {
        open(commands, Dialog::Import);
    }
    ui.separator();
    if ui
        .button("Open link…")
        .on_hover_text("Open a ledgerscope:// link to a panel and position")
        .clicked()
    {
        open(commands, Dialog::OpenLink);
    }
    if ui.button("Keyboard shortcuts").clicked() {
        open(commands, Dialog::Shortcuts);
    }
    ui.separator();
    if ui.button("About").clicked() {
        open(commands, Dialog::About);
    }
}

fn view_menu_ui(ui: &mut egui::Ui, shell: &Shell, commands: &mut Vec<UiCommand>) {
    let ctx = ui.ctx().clone();
    let current = ctx.options(|o| o.theme_preference);
    for (preference, name) in [
        (egui::ThemePreference::Dark, "Dark"),
        (egui::ThemePreference::Light, "Light"),
        (egui::ThemePreference::System, "Follow the system"),
    ] {
        if ui
            .add(egui::Button::selectable(current == preference, name))
            .clicked()
        {
            ctx.set_theme(preference);
        }
    }
    ui.separator();
    egui::gui_zoom::zoom_menu_buttons(ui);
    ui.separator();
    for language in Language::ALL {
        if ui
            .add(egui::Button::selectable(
                shell.language == language,
                language.name(),
            ))
            .clicked()
        {
            commands.push(ShellCommand::SetLanguage(language).into());
        }
    }
}

/// One entry per guided scenario, in the window's language.
fn scenarios_menu_ui(ui: &mut egui::Ui, shell: &Shell, commands: &mut Vec<UiCommand>) {
    for id in ScenarioId::ALL {
        let entry = ui
            .add_enabled(
                !shell.observe_locked,
                egui::Button::new(tr(&id.title(), shell.language)),
            )
            .on_disabled_hover_text("Started with --observe: a scenario writes its own ledger.");
        if entry.clicked() {
            commands.push(ScenarioCommand::Start(id).into());
        }
    }
}

/// Draws the menus (in the top bar's menu bar).
pub fn menu_ui(ui: &mut egui::Ui, shell: &Shell, commands: &mut Vec<UiCommand>) {
    ui.menu_button("Ledgerscope", |ui| ledgerscope_menu_ui(ui, shell, commands));
    ui.menu_button("View", |ui| view_menu_ui(ui, shell, commands));
    let scenarios = match shell.language {
        Language::En => "Scenarios",
        Language::Es => "Escenarios",
    };
    ui.menu_button(scenarios, |ui| scenarios_menu_ui(ui, shell, commands));
}
