//! The history window's background work, answered as [`HistoryMessage`]s.

use uuid::Uuid;

use super::HistoryMessage;
use crate::domain::Table;
use crate::engine::JobControl;
use crate::engine::subject::Subject;
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

/// Reads the whole ledger for the events with one user's personal data.
pub fn subject(ctx: &Ctx<'_>, request: u64, user: Uuid) {
    let Some(engine) = ctx.engine.cloned() else {
        return;
    };
    let outbox = ctx.outbox.clone();
    ctx.spawn(async move {
        let result = engine
            .subject(&Subject::UserId(user), &JobControl::default())
            .await;
        outbox
            .send(Message::History(HistoryMessage::Subject {
                request,
                result,
            }))
            .await;
    });
}
