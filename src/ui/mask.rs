//! The window's mask mode: the shell's mask is put into egui's context at
//! the start of each frame, and every widget that shows a personal value
//! (the tables, the timeline, the JSON view, a step's event) reads it from
//! there, so a panel cannot forget to pass it.

use crate::domain::mask::Mask;

fn id() -> egui::Id {
    egui::Id::unique("ledgerscope_mask")
}

/// Puts `mask` into the context for this frame's drawing.
pub fn publish(ctx: &egui::Context, mask: Mask) {
    ctx.data_mut(|d| d.insert_temp(id(), mask));
}

/// The mask of this frame. Masked with a key of this window when none was
/// published (drawing outside the app): a personal value is never shown
/// by accident.
pub fn current(ctx: &egui::Context) -> Mask {
    if let Some(mask) = ctx.data(|d| d.get_temp::<Mask>(id())) {
        return mask;
    }
    let fallback = Mask::with_key(&uuid::Uuid::new_v4().into_bytes()).unwrap_or_default();
    publish(ctx, fallback.clone());
    fallback
}
