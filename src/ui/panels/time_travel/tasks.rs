//! Time travel's background work: state views, their differences, display
//! orders, pages of their rows and steps, answered as [`TimeTravelMessage`]s.

use std::sync::Arc;
use std::time::Instant;

use super::{TimeTravelMessage, TravelView};
use crate::domain::Table;
use crate::engine::timetravel::FoldBase;
use crate::engine::view::StateView;
use crate::engine::view_order::{PassControl, RowQuery};
use crate::ui::command::Message;
use crate::ui::paged_diff::paged_view_diff;
use crate::ui::panels::Ctx;
use crate::ui::widgets::table::paged::{LazyRows, OrderRequest, PageRequest, order_now};

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

/// The difference between the state at the cursor and the reference: from
/// the older of the two to the newer, or the other way when `swapped`.
async fn difference(
    view: Arc<StateView>,
    reference: Arc<StateView>,
    swapped: bool,
    queries: &[RowQuery; 2],
) -> crate::engine::EngineResult<(u64, crate::ui::paged_diff::PagedViewDiff)> {
    let at = reference.position();
    let (older, newer) = if reference.position() < view.position() {
        (reference, view)
    } else {
        (view, reference)
    };
    let (first, second) = if swapped {
        (newer, older)
    } else {
        (older, newer)
    };
    Ok((at, paged_view_diff(first, second, queries).await?))
}

/// The state at the cursor as a lazy view, its tables in the order of
/// `queries` (`[0]` the state's, `[1]` the difference's) where that is
/// cheap, and its difference to `reference`.
pub fn travel(
    ctx: &Ctx<'_>,
    position: u64,
    reference: Option<Arc<StateView>>,
    swapped: bool,
    queries: [[RowQuery; 2]; 2],
) {
    let Some(engine) = ctx.engine.cloned() else {
        return;
    };
    send(ctx, async move {
        let started = Instant::now();
        let result = async {
            let view = Arc::new(engine.state_view(position).await?);
            let diff = match reference {
                Some(r) => Some(difference(view.clone(), r, swapped, &queries[1]).await?),
                None => None,
            };
            let rows = |table| LazyRows::State {
                view: view.clone(),
                table,
            };
            let state = [
                order_now(rows(Table::Users), &queries[0][0]).await?,
                order_now(rows(Table::Bookings), &queries[0][1]).await?,
            ];
            let base = describe_base(&view);
            let elapsed_ms = started.elapsed().as_millis() as u64;
            Ok(Box::new(TravelView::new(
                position, view, state, diff, base, elapsed_ms,
            )))
        }
        .await;
        TimeTravelMessage::Travel(result)
    });
}

/// The difference of the state shown, computed again.
pub fn rediff(
    ctx: &Ctx<'_>,
    view: Arc<StateView>,
    reference: Arc<StateView>,
    swapped: bool,
    queries: [RowQuery; 2],
) {
    let position = view.position();
    send(ctx, async move {
        let result = difference(view, reference, swapped, &queries)
            .await
            .map(Box::new);
        TimeTravelMessage::Diff { position, result }
    });
}

/// A display order for a table of the state (`diff` false) or of the
/// difference, with its progress.
pub fn order(ctx: &Ctx<'_>, diff: bool, table: Table, request: OrderRequest) {
    let progress_box = ctx.outbox.clone();
    let id = request.id;
    let control = PassControl {
        cancel: request.cancel.clone(),
        progress: Arc::new(move |done, total| {
            progress_box.try_send(Message::TimeTravel(TimeTravelMessage::OrderProgress {
                diff,
                table,
                id,
                done,
                total,
            }));
        }),
    };
    send(ctx, async move {
        let result = request.rows.order(&request.query, &control).await;
        TimeTravelMessage::Ordered {
            diff,
            table,
            id,
            result,
        }
    });
}

/// One page of a table's rows.
pub fn page(ctx: &Ctx<'_>, diff: bool, table: Table, request: PageRequest) {
    send(ctx, async move {
        let (generation, page) = (request.generation, request.page);
        let result = request.read().await;
        if diff {
            TimeTravelMessage::DiffPage {
                generation,
                table,
                page,
                result,
            }
        } else {
            TimeTravelMessage::StatePage {
                generation,
                table,
                page,
                result,
            }
        }
    });
}

/// The step to `view`'s position: its event and the rows it changed
/// (`previous`: the state one position earlier, if at hand).
pub fn step(ctx: &Ctx<'_>, view: Arc<StateView>, previous: Option<Arc<StateView>>) {
    let Some(engine) = ctx.engine.cloned() else {
        return;
    };
    let position = view.position();
    send(ctx, async move {
        let result = engine.step(view, previous).await.map(Box::new);
        TimeTravelMessage::Step { position, result }
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
