//! The search or filter input of a panel: the field Ctrl+F focuses. A panel
//! draws its search with this widget, and the shell's `focus_search` flag
//! (set for one frame by the keyboard) puts the cursor in it.

use crate::ui::app::Shell;
use crate::ui::widgets::draft_field::draft_field_ui;

/// Draws the panel's search field (`value`, with `hint`, `width` points
/// wide); focused when the shell asks for it this frame. The response, and
/// the new text when the user changed it.
pub fn search_field_ui(
    ui: &mut egui::Ui,
    shell: &Shell,
    value: &str,
    hint: &str,
    width: f32,
) -> (egui::Response, Option<String>) {
    let (response, changed) = draft_field_ui(ui, value, hint, width);
    if shell.focus_search {
        response.request_focus();
    }
    (response, changed)
}
