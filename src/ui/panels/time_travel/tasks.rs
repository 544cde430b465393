//! Time travel's background work: state views, their differences and pages
//! of their rows, answered as [`TimeTravelMessage`]s.

use std::sync::Arc;
use std::time::Instant;

use super::{TimeTravelMessage, TravelView};
use crate::domain::Table;
use crate::engine::timetravel::FoldBase;
use crate::engine::view::{StateView, ViewDiff};
use crate::ui::command::Message;
use crate::ui::page_cache::page_range;
use crate::ui::paged_diff::{PagedViewDiff, read_page, view_diff};
use crate::ui::panels::Ctx;

fn send(
    ctx: &Ctx<'_>,
    work: impl std::future::Future<Output = TimeTravelMessage> + Send + 'static,
) {
    let outbox = ctx.outbox.clone();
    ctx.spawn(async move {
        let message = work.await;
        outbox.send(Message::TimeTravel(message)).await;
    });
}

/// The reference state, as a lazy view.
pub fn reference(ctx: &Ctx<'_>, position: u64) {
    let Some(engine) = ctx.engine.cloned() else {
        return;
    };
    send(ctx, async move {
        TimeTravelMessage::Reference(engine.state_view(position).await.map(Arc::new))
    });
}

fn describe_base(view: &StateView) -> String {
    let n = view.folded_events;
    match view.from {
        FoldBase::Zero => format!("folded {n} events from zero"),
        FoldBase::Snapshot { position, .. } => format!("snapshot at {position} + {n} events"),
        FoldBase::Cached { position } => format!("cached state at {position} + {n} events"),
        FoldBase::Pass { position } => format!("the history pass at {position} + {n} events"),
        FoldBase::History { position, .. } => {
            format!("history snapshot up to {position}, no events folded")
        }
    }
}

/// The state at the cursor as a lazy view, and its difference to `reference`.
pub fn travel(ctx: &Ctx<'_>, position: u64, reference: Option<Arc<StateView>>) {
    let Some(engine) = ctx.engine.cloned() else {
        return;
    };
    send(ctx, async move {
        let started = Instant::now();
        let result = async {
            let view = Arc::new(engine.state_view(position).await?);
            let diff = match reference {
                Some(r) => {
                    let at = r.position();
                    Some((at, PagedViewDiff::new(view_diff(view.clone(), r).await?)))
                }
                None => None,
            };
            let base = describe_base(&view);
            let elapsed_ms = started.elapsed().as_millis() as u64;
            Ok(Box::new(TravelView::new(
                position, view, diff, base, elapsed_ms,
            )))
        }
        .await;
        TimeTravelMessage::Travel(result)
    });
}

/// One page of a state's rows.
pub fn state_page(ctx: &Ctx<'_>, view: Arc<StateView>, table: Table, page: u64, generation: u64) {
    send(ctx, async move {
        let range = page_range(page, view.len(table));
        let result = view.row_cells(table, range).await;
        TimeTravelMessage::StatePage {
            generation,
            table,
            page,
            result,
        }
    });
}

/// One page of the difference's rows.
pub fn diff_page(ctx: &Ctx<'_>, diff: Arc<ViewDiff>, table: Table, page: u64, generation: u64) {
    send(ctx, async move {
        let result = read_page(diff, table, page).await;
        TimeTravelMessage::DiffPage {
            generation,
            table,
            page,
            result,
        }
    });
}

/// A typed position or time, as a position.
pub fn resolve_goto(ctx: &Ctx<'_>, text: String) {
    let Some(engine) = ctx.engine.cloned() else {
        return;
    };
    send(ctx, async move {
        TimeTravelMessage::Goto(engine.resolve_position(&text).await)
    });
}
