//! Operations' background work.

use crate::ui::i18n::{OneDecimal, said};
use std::sync::Arc;

use super::OperationsMessage;
use crate::engine::{Engine, JobControl};
use crate::ui::command::{Message, ShellMessage};
use crate::ui::jobs::JobKind;
use crate::ui::outbox::Outbox;
use crate::ui::panels::Ctx;
use crate::ui::widgets::human_bytes;

/// The snapshot list.
pub fn list_snapshots(ctx: &Ctx<'_>) {
    let Some(engine) = ctx.engine.cloned() else {
        return;
    };
    let outbox = ctx.outbox.clone();
    ctx.spawn(async move {
        let result = engine.list_snapshots().await;
        outbox
            .send(Message::Operations(OperationsMessage::Snapshots(result)))
            .await;
    });
}

/// The repairs kept in the ledger store, newest first.
pub fn list_repairs(ctx: &Ctx<'_>) {
    let Some(engine) = ctx.engine.cloned() else {
        return;
    };
    let outbox = ctx.outbox.clone();
    ctx.spawn(async move {
        let result = engine.repairs(super::REPAIRS_LISTED).await;
        outbox
            .send(Message::Operations(OperationsMessage::Repairs(result)))
            .await;
    });
}

/// Takes a snapshot at the head as a job.
pub async fn take_snapshot(engine: Arc<Engine>, job: JobControl, outbox: Outbox) {
    let started = std::time::Instant::now();
    let result = engine.take_snapshot(None, &job).await.map(|meta| {
        said!(
            "job-snapshot-taken",
            id = meta.id.to_string()[..8].to_string(),
            position = meta.position,
            users = meta.users,
            bookings = meta.bookings,
            size = human_bytes(meta.size_bytes),
            secs = OneDecimal(started.elapsed().as_secs_f64())
        )
    });
    outbox
        .send(Message::Shell(ShellMessage::JobDone(
            JobKind::Snapshot,
            result,
        )))
        .await;
}
