//! Compare's background work, answered as [`CompareMessage`]s.

use crate::ui::i18n::{OneDecimal, said};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use super::{CompareMessage, FOUND_LISTED, FoundRows};
use crate::domain::{RowDiff, Table, TableDiff};
use crate::engine::view::ViewDiff;
use crate::engine::view_order::{PassControl, RowQuery};
use crate::ui::command::{Message, ShellMessage};
use crate::ui::jobs::JobKind;
use crate::ui::paged_diff::paged_view_diff;
use crate::ui::panels::Ctx;
use crate::ui::widgets::table::paged::{OrderRequest, PageRequest};

fn send(ctx: &Ctx<'_>, work: impl std::future::Future<Output = CompareMessage> + Send + 'static) {
    let outbox = ctx.outbox.clone();
    ctx.spawn(async move {
        let message = work.await;
        outbox.send(Message::Compare(message)).await;
    });
}

/// Writes the findings of `report` to `path`, off the UI thread.
pub fn save_report(ctx: &Ctx<'_>, report: crate::engine::VerifyReport, path: std::path::PathBuf) {
    let Some(engine) = ctx.engine.cloned() else {
        return;
    };
    let mask = ctx.shell.mask();
    send(ctx, async move {
        CompareMessage::ReportSaved(engine.write_report(&report, &path, None, &mask).await)
    });
}

/// Read tables vs ledger, as a job with progress and Cancel; what it finds
/// is sent as it is found. False when a comparison already runs.
pub fn verify(ctx: &mut Ctx<'_>) -> bool {
    let Some(engine) = ctx.engine.cloned() else {
        return false;
    };
    let Some(job) = ctx.shell.jobs.start(JobKind::Verify, true, ctx.outbox) else {
        return false;
    };
    let outbox = ctx.outbox.clone();
    ctx.spawn(async move {
        let found = Mutex::new(BTreeMap::<Table, FoundRows>::new());
        let sink = outbox.clone();
        let on_found = move |table: Table, rows: &[RowDiff]| {
            let Ok(mut found) = found.lock() else {
                return;
            };
            let entry = found.entry(table).or_insert_with(|| FoundRows {
                count: 0,
                first: TableDiff {
                    table,
                    columns: table.columns().iter().map(|c| c.to_string()).collect(),
                    rows: Vec::new(),
                },
            });
            entry.count += rows.len() as u64;
            let room = FOUND_LISTED.saturating_sub(entry.first.rows.len());
            entry.first.rows.extend(rows.iter().take(room).cloned());
            sink.try_send(Message::Compare(CompareMessage::Found(
                found.values().cloned().collect(),
            )));
        };
        let started = std::time::Instant::now();
        let result = engine.verify_with(&job, &on_found).await;
        let done = match &result {
            Ok(report) => Ok(said!(
                "job-compared",
                rows = report.checked_rows,
                entries = report.head,
                secs = OneDecimal(started.elapsed().as_secs_f64())
            )),
            Err(error) => Err(error.clone()),
        };
        outbox
            .send(Message::Compare(CompareMessage::Verify(
                result.map(Box::new),
            )))
            .await;
        outbox
            .send(Message::Shell(ShellMessage::JobDone(JobKind::Verify, done)))
            .await;
    });
    true
}

/// The tables at two positions: two lazy views and the keys that differ,
/// from the older to the newer (or the other way when `swapped`), each
/// table in the order of `queries` where that is cheap (rows are read a
/// page at a time when shown).
pub fn positions(ctx: &Ctx<'_>, a: u64, b: u64, swapped: bool, queries: [RowQuery; 2]) {
    let Some(engine) = ctx.engine.cloned() else {
        return;
    };
    let (older, newer) = (a.min(b), a.max(b));
    send(ctx, async move {
        let result = async {
            let (older, newer) =
                tokio::try_join!(engine.state_view(older), engine.state_view(newer))?;
            let (older, newer) = (Arc::new(older), Arc::new(newer));
            let (first, second) = if swapped {
                (newer, older)
            } else {
                (older, newer)
            };
            Ok(Box::new(paged_view_diff(first, second, &queries).await?))
        }
        .await;
        CompareMessage::Positions(result)
    });
}

/// The difference shown, read the other way.
pub fn swap(ctx: &Ctx<'_>, diff: Arc<ViewDiff>, queries: [RowQuery; 2]) {
    send(ctx, async move {
        let result = async {
            let (first, second) = (diff.after.clone(), diff.before.clone());
            Ok(Box::new(paged_view_diff(first, second, &queries).await?))
        }
        .await;
        CompareMessage::Positions(result)
    });
}

/// A display order for a table of the two positions' difference, with its
/// progress.
pub fn order(ctx: &Ctx<'_>, table: Table, request: OrderRequest) {
    let progress_box = ctx.outbox.clone();
    let id = request.id;
    let control = PassControl {
        cancel: request.cancel.clone(),
        progress: Arc::new(move |done, total| {
            progress_box.try_send(Message::Compare(CompareMessage::OrderProgress {
                table,
                id,
                done,
                total,
            }));
        }),
    };
    send(ctx, async move {
        let result = request.rows.order(&request.query, &control).await;
        CompareMessage::Ordered { table, id, result }
    });
}

/// One page of the two-positions difference.
pub fn diff_page(ctx: &Ctx<'_>, table: Table, request: PageRequest) {
    send(ctx, async move {
        let (generation, page) = (request.generation, request.page);
        let result = request.read().await;
        CompareMessage::DiffPage {
            generation,
            table,
            page,
            result,
        }
    });
}
