//! Over time's background work, answered as [`OverTimeMessage`]s.

use super::OverTimeMessage;
use crate::domain::SeriesBy;
use crate::engine::JobControl;
use crate::ui::command::Message;
use crate::ui::panels::Ctx;

/// Reads the series (the engine extends its pass with new events only).
pub fn load(ctx: &Ctx<'_>, request: u64, by: SeriesBy) {
    let Some(engine) = ctx.engine.cloned() else {
        return;
    };
    let outbox = ctx.outbox.clone();
    ctx.spawn(async move {
        let result = engine.series(by, &JobControl::default()).await;
        outbox
            .send(Message::OverTime(OverTimeMessage::Loaded {
                request,
                result,
            }))
            .await;
    });
}
