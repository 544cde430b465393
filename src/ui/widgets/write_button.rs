//! A button for an action that writes: disabled in observe-only mode (or when
//! not connected), with the reason on hover.

use crate::ui::app::Shell;

/// Draws the button; true when clicked.
pub fn write_button_ui(
    ui: &mut egui::Ui,
    shell: &Shell,
    text: impl Into<egui::WidgetText>,
) -> bool {
    write_button_if_ui(ui, shell, true, None, text)
}

/// Like [`write_button_ui`], also disabled when `enabled` is false (with `why`).
pub fn write_button_if_ui(
    ui: &mut egui::Ui,
    shell: &Shell,
    enabled: bool,
    why: Option<String>,
    text: impl Into<egui::WidgetText>,
) -> bool {
    let block = shell.write_block_reason();
    let response = ui.add_enabled(block.is_none() && enabled, egui::Button::new(text));
    let response = match (block, why) {
        (Some(reason), _) => response.on_disabled_hover_text(reason),
        (None, Some(why)) => response.on_disabled_hover_text(why),
        (None, None) => response,
    };
    response.clicked()
}
