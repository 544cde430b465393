//! Compare's background work, answered as [`CompareMessage`]s.

use std::sync::Arc;

use super::CompareMessage;
use crate::domain::Table;
use crate::engine::view::ViewDiff;
use crate::ui::command::Message;
use crate::ui::paged_diff::{read_page, view_diff};
use crate::ui::panels::Ctx;

fn send(ctx: &Ctx<'_>, work: impl std::future::Future<Output = CompareMessage> + Send + 'static) {
    let outbox = ctx.outbox.clone();
    ctx.spawn(async move {
        let message = work.await;
        outbox.send(Message::Compare(message)).await;
    });
}

/// Read tables vs ledger.
pub fn verify(ctx: &Ctx<'_>) {
    let Some(engine) = ctx.engine.cloned() else {
        return;
    };
    send(ctx, async move {
        CompareMessage::Verify(engine.verify().await.map(Box::new))
    });
}

/// The tables at two positions: two lazy views and the keys that differ
/// (rows are read a page at a time when shown).
pub fn positions(ctx: &Ctx<'_>, a: u64, b: u64) {
    let Some(engine) = ctx.engine.cloned() else {
        return;
    };
    send(ctx, async move {
        let result = async {
            let (before, after) = tokio::try_join!(engine.state_view(a), engine.state_view(b))?;
            let diff = view_diff(Arc::new(before), Arc::new(after)).await?;
            Ok((a, b, diff))
        }
        .await;
        CompareMessage::Positions(result)
    });
}

/// One page of the two-positions difference.
pub fn diff_page(ctx: &Ctx<'_>, diff: Arc<ViewDiff>, table: Table, page: u64, generation: u64) {
    send(ctx, async move {
        let result = read_page(diff, table, page).await;
        CompareMessage::DiffPage {
            generation,
            table,
            page,
            result,
        }
    });
}
