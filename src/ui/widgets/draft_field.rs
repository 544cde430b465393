//! A single-line text input for a panel's draft: shows the text and hands
//! back what the user typed, for the panel to send as its own command.

/// Draws a text input of `width` points showing `value`; the response, and
/// the new text when the user changed it.
pub fn draft_field_ui(
    ui: &mut egui::Ui,
    value: &str,
    hint: &str,
    width: f32,
) -> (egui::Response, Option<String>) {
    let mut text = value.to_string();
    let response = ui.add(
        egui::TextEdit::singleline(&mut text)
            .hint_text(hint)
            .desired_width(width),
    );
    let changed = response.changed().then_some(text);
    (response, changed)
}

/// As [`draft_field_ui`], the text shown as dots (a password).
pub fn password_field_ui(
    ui: &mut egui::Ui,
    value: &str,
    hint: &str,
    width: f32,
) -> (egui::Response, Option<String>) {
    let mut text = value.to_string();
    let response = ui.add(
        egui::TextEdit::singleline(&mut text)
            .password(true)
            .hint_text(hint)
            .desired_width(width),
    );
    let changed = response.changed().then_some(text);
    (response, changed)
}
