//! The timeline's background work: engine queries, answered as
//! [`TimelineMessage`]s.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::TimelineMessage;
use crate::store::EventFilter;
use crate::ui::command::Message;
use crate::ui::page_cache::PAGE_ROWS;
use crate::ui::panels::Ctx;

/// Buckets in the density plot.
pub const DENSITY_BUCKETS: u32 = 60;

/// Runs `work` with the engine and sends what it answers.
fn ask<F, Fut>(ctx: &Ctx<'_>, work: F)
where
    F: FnOnce(std::sync::Arc<crate::engine::Engine>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = TimelineMessage> + Send + 'static,
{
    let Some(engine) = ctx.engine.cloned() else {
        return;
    };
    let outbox = ctx.outbox.clone();
    ctx.spawn(async move {
        let message = work(engine).await;
        outbox.send(Message::Timeline(message)).await;
    });
}

/// One page of rows.
pub fn fetch_page(ctx: &Ctx<'_>, filter: EventFilter, generation: u64, page: u64) {
    ask(ctx, move |engine| async move {
        let result = engine
            .timeline_page(&filter, page * PAGE_ROWS, PAGE_ROWS as usize)
            .await;
        TimelineMessage::Page {
            generation,
            page,
            result,
        }
    });
}

/// The rows matching the filter.
pub fn count_rows(ctx: &Ctx<'_>, filter: EventFilter, generation: u64) {
    ask(ctx, move |engine| async move {
        let result = engine.timeline_rows(&filter).await;
        TimelineMessage::Total { generation, result }
    });
}

/// Events over time.
pub fn density(ctx: &Ctx<'_>, filter: EventFilter, generation: u64, head: u64) {
    ask(ctx, move |engine| async move {
        let result = engine.density(&filter, DENSITY_BUCKETS).await;
        TimelineMessage::Density {
            generation,
            head,
            result,
        }
    });
}

/// The row of the first matching event at or after `time`.
pub fn row_at_time(ctx: &Ctx<'_>, filter: EventFilter, time: DateTime<Utc>) {
    ask(ctx, move |engine| async move {
        TimelineMessage::ScrollTo(engine.timeline_row_at_time(&filter, time).await)
    });
}

/// Scrolls to the event at `position` and loads it for the detail view.
pub fn show_position(ctx: &Ctx<'_>, position: u64) {
    ask(ctx, move |engine| async move {
        TimelineMessage::RowOf {
            position,
            result: engine.timeline_row_of(position).await,
        }
    });
    ask(ctx, move |engine| async move {
        TimelineMessage::Event(engine.event_at(position).await.map(|e| e.map(Box::new)))
    });
}

/// An aggregate's stream.
pub fn load_stream(ctx: &Ctx<'_>, aggregate: Uuid) {
    ask(ctx, move |engine| async move {
        let result = engine.stream(aggregate).await;
        TimelineMessage::Stream { aggregate, result }
    });
}
