//! The trainer's "simulate read-store outage" switch, drawn in Operations
//! and beside Emit's buttons: one checkbox sending the one command
//! Operations runs.

use crate::ui::app::Shell;
use crate::ui::command::UiCommand;
use crate::ui::i18n::t;
use crate::ui::panels::operations::OperationsCommand;
use crate::ui::scenarios::{Target, mark_target};
use crate::ui::widgets::palette;

/// Draws the switch (disabled where nothing may be written, with why on
/// hover); a change asks for [`OperationsCommand::SetOutage`].
pub fn outage_switch_ui(ui: &mut egui::Ui, shell: &Shell, commands: &mut Vec<UiCommand>) {
    let mut on = shell.outage;
    let label = egui::RichText::new(t!("outage-switch")).color(palette(ui.visuals()).warn);
    let response = ui
        .add_enabled(
            shell.connected() && !shell.observe_only,
            egui::Checkbox::new(&mut on, label),
        )
        .on_hover_text(t!("outage-switch-hover"))
        .on_disabled_hover_text(shell.write_block_reason().unwrap_or_default());
    mark_target(ui, Target::OutageSwitch, response.rect);
    if response.changed() {
        commands.push(OperationsCommand::SetOutage(on).into());
    }
}
