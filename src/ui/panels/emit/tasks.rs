//! The Emit panel's background work: one command, or a bulk run.

use crate::ui::i18n::said;
use std::sync::Arc;

use crate::domain::SubmitBookingWizard;
use crate::engine::bulk::BulkSpec;
use crate::engine::handler::Command;
use crate::engine::{Engine, JobControl};
use crate::ui::command::{Message, ShellMessage};
use crate::ui::jobs::JobKind;
use crate::ui::outbox::Outbox;
use crate::ui::panels::Ctx;

use super::{BulkRefusals, EmitMessage};

/// Runs one command through the engine's handler; the answer comes back as
/// [`EmitMessage::CommandDone`].
pub fn run(ctx: &Ctx<'_>, what: &str, command: Command, submitted: Option<SubmitBookingWizard>) {
    let Some(engine) = ctx.engine.cloned() else {
        return;
    };
    let (outbox, what) = (ctx.outbox.clone(), what.to_string());
    ctx.spawn(async move {
        let result = engine.handle_traced(command).await;
        outbox
            .send(Message::Emit(EmitMessage::CommandDone {
                what,
                result: Box::new(result),
                submitted: submitted.map(Box::new),
            }))
            .await;
    });
}

/// Runs the bulk generator as a job.
pub async fn bulk(engine: Arc<Engine>, spec: BulkSpec, job: JobControl, outbox: Outbox) {
    let result = engine.emit_bulk(&spec, &job).await;
    if let Ok(report) = &result {
        let refusals = BulkRefusals {
            count: report.rejected,
            first: report.refusals.clone(),
        };
        outbox
            .send(Message::Emit(EmitMessage::BulkRefusals(refusals)))
            .await;
    }
    let cancelled = if job.is_cancelled() { "yes" } else { "no" };
    let result = result.map(|p| {
        said!(
            "job-bulk-done",
            commands = p.done,
            events = p.emitted,
            duplicates = p.duplicates,
            refused = p.rejected,
            head = p.head,
            cancelled = cancelled
        )
    });
    outbox
        .send(Message::Shell(ShellMessage::JobDone(JobKind::Bulk, result)))
        .await;
}
