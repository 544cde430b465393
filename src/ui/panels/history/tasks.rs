//! The history window's background work, answered as [`HistoryMessage`]s.

use uuid::Uuid;

use super::HistoryMessage;
use crate::domain::Table;
use crate::ui::command::Message;
use crate::ui::panels::Ctx;

/// Reads one row's history.
pub fn load(ctx: &Ctx<'_>, request: u64, table: Table, key: Uuid) {
    let Some(engine) = ctx.engine.cloned() else {
        return;
    };
    let outbox = ctx.outbox.clone();
    ctx.spawn(async move {
        let result = engine.row_history(table, key).await;
        outbox
            .send(Message::History(HistoryMessage::Loaded { request, result }))
            .await;
    });
}
