//! What if's background work, answered as [`WhatIfMessage`]s.

use super::WhatIfMessage;
use crate::domain::Exclusion;
use crate::engine::JobControl;
use crate::ui::command::Message;
use crate::ui::panels::Ctx;

/// Runs one simulation (it reads only).
pub fn run(ctx: &Ctx<'_>, request: u64, exclusion: Exclusion, at: u64) {
    let Some(engine) = ctx.engine.cloned() else {
        return;
    };
    let outbox = ctx.outbox.clone();
    ctx.spawn(async move {
        let result = engine
            .what_if(&exclusion, at, &JobControl::default())
            .await
            .map(Box::new);
        outbox
            .send(Message::WhatIf(WhatIfMessage::Done { request, result }))
            .await;
    });
}
