//! The menu bar's menus: Ledgerscope (connect, export, import, open a link,
//! keyboard shortcuts, about), View (theme and zoom, both remembered, and
//! the language) and Scenarios (the guided scenarios for classes).
//! The theme and the zoom are changed in egui's context, as egui's own zoom
//! keys do; the app reads them back to keep them ([`crate::ui::prefs::Look`]).

use crate::ui::app::Shell;
use crate::ui::app::dialogs::Dialog;
use crate::ui::command::{ShellCommand, UiCommand};
use crate::ui::i18n::t;
use crate::ui::prefs::Language;
use crate::ui::scenarios::{ScenarioCommand, ScenarioId, tr};

fn open(commands: &mut Vec<UiCommand>, dialog: Dialog) {
    commands.push(ShellCommand::OpenDialog(dialog).into());
}

fn ledgerscope_menu_ui(ui: &mut egui::Ui, shell: &Shell, commands: &mut Vec<UiCommand>) {
    if ui.button(t!("menu-connect")).clicked() {
        open(commands, Dialog::Connect);
    }
    ui.separator();
    if ui
        .add_enabled(
            shell.connected(),
            egui::Button::new(t!("menu-export-ndjson")),
        )
        .clicked()
    {
        open(commands, Dialog::Export);
    }
    let block = shell.write_block_reason();
    let import = ui.add_enabled(block.is_none(), egui::Button::new(t!("menu-import-ndjson")));
    if let Some(reason) = block {
        import.on_disabled_hover_text(reason);
    } else if import.clicked() {
        open(commands, Dialog::Import);
    }
    ui.separator();
    if ui
        .button(t!("menu-open-link"))
        .on_hover_text(t!("menu-open-ledgerscope-link-panel"))
        .clicked()
    {
        open(commands, Dialog::OpenLink);
    }
    if ui.button(t!("menu-keyboard-shortcuts")).clicked() {
        open(commands, Dialog::Shortcuts);
    }
    ui.separator();
    if ui.button(t!("menu-about")).clicked() {
        open(commands, Dialog::About);
    }
}

fn view_menu_ui(ui: &mut egui::Ui, shell: &Shell, commands: &mut Vec<UiCommand>) {
    let ctx = ui.ctx().clone();
    let current = ctx.options(|o| o.theme_preference);
    for (preference, name) in [
        (egui::ThemePreference::Dark, t!("menu-theme-dark")),
        (egui::ThemePreference::Light, t!("menu-theme-light")),
        (egui::ThemePreference::System, t!("menu-theme-system")),
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
            .on_disabled_hover_text(t!("menu-started-with-observe-scenario"));
        if entry.clicked() {
            commands.push(ScenarioCommand::Start(id).into());
        }
    }
}

/// Draws the menus (in the top bar's menu bar).
pub fn menu_ui(ui: &mut egui::Ui, shell: &Shell, commands: &mut Vec<UiCommand>) {
    ui.menu_button(t!("menu-ledgerscope"), |ui| {
        ledgerscope_menu_ui(ui, shell, commands)
    });
    ui.menu_button(t!("menu-view"), |ui| view_menu_ui(ui, shell, commands));
    ui.menu_button(t!("menu-scenarios"), |ui| {
        scenarios_menu_ui(ui, shell, commands)
    });
}
