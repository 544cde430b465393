//! Over time's background work, answered as [`OverTimeMessage`]s.

use super::OverTimeMessage;
use crate::domain::SeriesBy;
use crate::engine::{JobControl, Progress};
use crate::ui::command::Message;
use crate::ui::panels::Ctx;

/// Reads the series (the engine extends its pass with new events only),
/// reporting the fold's progress.
pub fn load(ctx: &Ctx<'_>, request: u64, by: SeriesBy) {
    let Some(engine) = ctx.engine.cloned() else {
        return;
    };
    let outbox = ctx.outbox.clone();
    let sink = outbox.clone();
    // Progress may be dropped when the inbox is full: the next supersedes it.
    let job = JobControl::new(move |progress: &Progress| {
        sink.try_send(Message::OverTime(OverTimeMessage::Progress {
            request,
            progress: progress.clone(),
        }));
    });
    ctx.spawn(async move {
        let result = engine.series(by, &job).await;
        outbox
            .send(Message::OverTime(OverTimeMessage::Loaded {
                request,
                result,
            }))
            .await;
    });
}
