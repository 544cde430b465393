//! A text input bound to one [`DraftField`]: shows the draft and sends
//! `SetDraft` when the user types.

use crate::ui::commands::{DraftField, UiCommand};
use crate::ui::view::View;

/// Draws a single-line text input of `width` points.
pub fn draft_field_ui(
    ui: &mut egui::Ui,
    view: &View,
    field: DraftField,
    hint: &str,
    width: f32,
    commands: &mut Vec<UiCommand>,
) -> egui::Response {
    let mut text = view.state.drafts.get(field).to_string();
    let response = ui.add(
        egui::TextEdit::singleline(&mut text)
            .hint_text(hint)
            .desired_width(width),
    );
    if response.changed() {
        commands.push(UiCommand::SetDraft(field, text));
    }
    response
}
