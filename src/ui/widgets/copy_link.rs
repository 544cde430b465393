//! The "Copy link" button: puts a `ledgerscope://` position link on the
//! clipboard (`ledgerscope open LINK` opens the window there).

use crate::ui::link::PositionLink;

/// A small "Copy link" button: copies `link`, or, without one (the
/// ledger's id is not known yet), is disabled and says why.
pub fn copy_link_button_ui(ui: &mut egui::Ui, link: Option<&PositionLink>) {
    match link {
        Some(link) => {
            let text = link.to_string();
            if ui
                .small_button("Copy link")
                .on_hover_text(format!(
                    "Copy {text} (`ledgerscope open LINK` opens the window there)"
                ))
                .clicked()
            {
                ui.ctx().copy_text(text);
            }
        }
        None => {
            ui.add_enabled(false, egui::Button::new("Copy link").small())
                .on_disabled_hover_text("The ledger's id is not known yet (not connected).");
        }
    }
}
