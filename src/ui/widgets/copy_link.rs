//! The "Copy link" button: puts a `ledgerscope://` position link on the
//! clipboard (`ledgerscope open LINK` opens the window there).

use crate::ui::i18n::t;
use crate::ui::link::PositionLink;

/// A small "Copy link" button: copies `link`, or, without one (the
/// ledger's id is not known yet), is disabled and says why.
pub fn copy_link_button_ui(ui: &mut egui::Ui, link: Option<&PositionLink>) {
    match link {
        Some(link) => {
            let text = link.to_string();
            if ui
                .small_button(t!("copy-link"))
                .on_hover_text(t!("copy-link-hover", text = text))
                .clicked()
            {
                ui.ctx().copy_text(text);
            }
        }
        None => {
            ui.add_enabled(false, egui::Button::new(t!("copy-link")).small())
                .on_disabled_hover_text(t!("copy-link-no-ledger-id"));
        }
    }
}
