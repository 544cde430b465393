//! Tables over a lazy state or difference (Time travel, Compare's two
//! positions): a million rows are never read in a frame. A query other than
//! the table's own order is turned into a display order by a background
//! pass ([`crate::engine::view_order`]); the rows of a page in view are then
//! read by index, a page at a time, into a [`PageCache`]. While a new order
//! is computed the last one stays on screen, with the pass's progress.

use crate::ui::i18n::t;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::draw::{Slot, TableLook, kind_chips_ui, match_status, search_bar_ui, table_ui};
use super::line::{DiffLabels, diff_line, state_line};
use crate::domain::{RowDiff, Table};
use crate::engine::EngineResult;
use crate::engine::view::{RowCells, StateView, ViewDiff};
use crate::engine::view_order::{PassControl, RowQuery};
use crate::ui::app::Shell;
use crate::ui::command::UiCommand;
use crate::ui::page_cache::{PageCache, page_of, page_range};
use crate::ui::paged_diff::next_generation;

/// The rows of a lazy table: one table of a state, or of a difference.
#[derive(Clone)]
pub enum LazyRows {
    /// A state's rows, in key order.
    State {
        /// The state.
        view: Arc<StateView>,
        /// Which table.
        table: Table,
    },
    /// A difference's rows, one per differing key, in key order.
    Diff {
        /// The difference.
        diff: Arc<ViewDiff>,
        /// Which table.
        table: Table,
    },
}

/// One row of a lazy table, read.
#[derive(Clone, Debug, PartialEq)]
pub enum LazyRow {
    /// A state's row.
    State(RowCells),
    /// A differing row (`None`: the two rows turned out equal).
    Diff(Option<RowDiff>),
}

impl LazyRows {
    /// The table.
    pub fn table(&self) -> Table {
        match self {
            LazyRows::State { table, .. } | LazyRows::Diff { table, .. } => *table,
        }
    }

    /// Rows in it (in the table's own order).
    pub fn len(&self) -> usize {
        match self {
            LazyRows::State { view, table } => view.len(*table),
            LazyRows::Diff { diff, table } => diff.len(*table),
        }
    }

    /// No rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Rows `indices` (of the table's own order), in the order asked.
    pub async fn read(&self, indices: &[u32]) -> EngineResult<Vec<LazyRow>> {
        Ok(match self {
            LazyRows::State { view, table } => view
                .row_cells_at(*table, indices)
                .await?
                .into_iter()
                .map(LazyRow::State)
                .collect(),
            LazyRows::Diff { diff, table } => diff
                .rows_at(*table, indices)
                .await?
                .into_iter()
                .map(LazyRow::Diff)
                .collect(),
        })
    }

    /// The display order for `query` (`None`: the table's own order).
    pub async fn order(
        &self,
        query: &RowQuery,
        control: &PassControl,
    ) -> EngineResult<Option<Arc<[u32]>>> {
        match self {
            LazyRows::State { view, table } => view.order(*table, query, control).await,
            LazyRows::Diff { diff, table } => diff.order(*table, query, control).await,
        }
    }
}

/// Rows a pass may read before a new view is shown; past this, the view
/// shows its rows in their own order at once and the pass follows.
pub const INLINE_PASS_ROWS: usize = 50_000;

/// A new view's table in the order of `query`, computed now when that is
/// cheap (from the directory, or a pass over at most [`INLINE_PASS_ROWS`]
/// rows); otherwise in its own order, for the pass to follow.
pub async fn order_now(rows: LazyRows, query: &RowQuery) -> EngineResult<PagedTable> {
    if query.is_identity() || (query.needs_pass(rows.table()) && rows.len() > INLINE_PASS_ROWS) {
        return Ok(PagedTable::new(rows));
    }
    let order = rows.order(query, &PassControl::default()).await?;
    Ok(PagedTable::ordered(rows, query.clone(), order))
}

/// What reading one page of a lazy table needs.
pub struct PageRequest {
    /// The rows.
    pub rows: LazyRows,
    /// The page (of the display order).
    pub page: u64,
    /// The rows on it (of the table's own order).
    pub indices: Vec<u32>,
    /// The generation of the pages it is for.
    pub generation: u64,
}

impl PageRequest {
    /// Reads the page.
    pub async fn read(self) -> EngineResult<Vec<LazyRow>> {
        self.rows.read(&self.indices).await
    }
}

/// What computing a display order needs.
pub struct OrderRequest {
    /// The rows.
    pub rows: LazyRows,
    /// The query.
    pub query: RowQuery,
    /// The order's number (answers for another are dropped).
    pub id: u64,
    /// Stops it when another order is asked for.
    pub cancel: CancellationToken,
}

struct Pending {
    id: u64,
    query: RowQuery,
    done: u64,
    total: u64,
    cancel: CancellationToken,
}

/// A lazy table's display order and the pages of its rows read so far.
pub struct PagedTable {
    rows: LazyRows,
    /// The query the order answers.
    query: RowQuery,
    /// `None`: the table's own order.
    order: Option<Arc<[u32]>>,
    pending: Option<Pending>,
    pages: PageCache<LazyRow>,
}

impl std::fmt::Debug for PagedTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PagedTable")
            .field("table", &self.rows.table())
            .field("len", &self.rows.len())
            .field("query", &self.query)
            .field("shown", &self.shown())
            .finish_non_exhaustive()
    }
}

impl Drop for PagedTable {
    fn drop(&mut self) {
        if let Some(pending) = &self.pending {
            pending.cancel.cancel();
        }
    }
}

impl PagedTable {
    /// The rows in their own order; none read yet.
    pub fn new(rows: LazyRows) -> Self {
        Self::ordered(rows, RowQuery::default(), None)
    }

    /// The rows in `order`, computed for `query`; none read yet.
    pub fn ordered(rows: LazyRows, query: RowQuery, order: Option<Arc<[u32]>>) -> Self {
        let mut pages = PageCache::default();
        pages.reset(next_generation());
        PagedTable {
            rows,
            query,
            order,
            pending: None,
            pages,
        }
    }

    /// The rows.
    pub fn rows(&self) -> &LazyRows {
        &self.rows
    }

    /// Rows in the table.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// No rows in the table.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Rows shown (those the query keeps).
    pub fn shown(&self) -> usize {
        self.order.as_ref().map_or(self.rows.len(), |o| o.len())
    }

    /// The query the rows shown answer.
    pub fn query(&self) -> &RowQuery {
        &self.query
    }

    /// The pages read so far (of the display order).
    pub fn pages(&self) -> &PageCache<LazyRow> {
        &self.pages
    }

    /// The row shown at `display`: `None` while its page is not read.
    pub fn row(&self, display: usize) -> Option<&LazyRow> {
        self.pages.row(display as u64)
    }

    /// The pass computing a new order, if one runs: rows read, rows in all.
    pub fn ordering(&self) -> Option<(u64, u64)> {
        self.pending.as_ref().map(|p| (p.done, p.total))
    }

    /// What computing the order for `wanted` needs, when it is not shown
    /// nor being computed (a pass for an older query is stopped).
    pub fn want_order(&mut self, wanted: &RowQuery) -> Option<OrderRequest> {
        if *wanted == self.query {
            if let Some(pending) = self.pending.take() {
                pending.cancel.cancel();
            }
            return None;
        }
        if self.pending.as_ref().is_some_and(|p| p.query == *wanted) {
            return None;
        }
        if let Some(pending) = self.pending.take() {
            pending.cancel.cancel();
        }
        let id = next_generation();
        let cancel = CancellationToken::new();
        self.pending = Some(Pending {
            id,
            query: wanted.clone(),
            done: 0,
            total: self.rows.len() as u64,
            cancel: cancel.clone(),
        });
        Some(OrderRequest {
            rows: self.rows.clone(),
            query: wanted.clone(),
            id,
            cancel,
        })
    }

    /// The pass `id` has read `done` of `total` rows.
    pub fn order_progress(&mut self, id: u64, done: u64, total: u64) {
        if let Some(pending) = self.pending.as_mut().filter(|p| p.id == id) {
            pending.done = done;
            pending.total = total;
        }
    }

    /// The order `id` arrived: `None` when it is not the one awaited
    /// (dropped), else whether it was computed.
    pub fn order_arrived(
        &mut self,
        id: u64,
        result: EngineResult<Option<Arc<[u32]>>>,
    ) -> Option<EngineResult<()>> {
        if self.pending.as_ref().is_none_or(|p| p.id != id) {
            return None;
        }
        let pending = self.pending.take()?;
        Some(result.map(|order| {
            self.order = order;
            self.query = pending.query;
            self.pages.reset(next_generation());
        }))
    }

    /// Marks display page `page` as asked for and hands back what reading
    /// it needs, or `None` when it is held, being read, or failed a moment
    /// ago.
    pub fn want_page(&mut self, page: u64) -> Option<PageRequest> {
        if self.pages.has_or_pending(page) {
            return None;
        }
        let range = page_range(page, self.shown());
        if range.is_empty() {
            return None;
        }
        let indices = match &self.order {
            Some(order) => order.get(range)?.to_vec(),
            None => (range.start as u32..range.end as u32).collect(),
        };
        self.pages.mark_pending(page);
        Some(PageRequest {
            rows: self.rows.clone(),
            page,
            indices,
            generation: self.pages.generation,
        })
    }

    /// A page arrived: `None` when it is for other pages (dropped), else
    /// whether it was read.
    pub fn page_arrived(
        &mut self,
        generation: u64,
        page: u64,
        result: EngineResult<Vec<LazyRow>>,
    ) -> Option<EngineResult<()>> {
        if self.pages.generation != generation {
            return None;
        }
        let expected = page_range(page, self.shown()).len();
        let result = result.and_then(|rows| {
            if rows.len() == expected {
                Ok(rows)
            } else {
                Err(crate::engine::EngineError::Crashed(format!(
                    "page {page} of {} came back with {} rows of {expected}",
                    self.rows.table(),
                    rows.len()
                )))
            }
        });
        Some(match result {
            Ok(rows) => {
                self.pages.insert(page, rows);
                Ok(())
            }
            Err(error) => {
                self.pages.failed(page);
                Err(error)
            }
        })
    }

    /// True when every display row of `rows` (clipped to the rows shown)
    /// is read.
    pub fn has_rows(&self, rows: std::ops::Range<u64>) -> bool {
        let len = self.shown() as u64;
        self.pages.has_rows(rows.start.min(len)..rows.end.min(len))
    }
}

/// A lazy table as it is to be shown.
pub struct PagedShow<'a> {
    /// Its order and the pages read.
    pub table: &'a PagedTable,
    /// The sort, search and filter asked for (the rows shown follow once
    /// its order is computed).
    pub wanted: &'a RowQuery,
    /// For a difference: what its kinds of rows are called, and how many
    /// of each there are (for the filter chips).
    pub diff: Option<(&'a DiffLabels<'a>, (usize, usize, usize))>,
}

/// What a lazy table asks of the panel that holds it.
#[derive(Clone, Debug, PartialEq)]
pub enum TableAsk {
    /// Another sort, search or filter.
    Query(RowQuery),
    /// A page of the display order, to read.
    Page(u64),
}

/// Draws a lazy table under its search box (and, for a difference, its
/// filter chips); `ask` makes the panel's command for what it asks.
pub fn paged_table_ui(
    ui: &mut egui::Ui,
    look: &TableLook<'_>,
    shell: Option<&Shell>,
    show: PagedShow<'_>,
    ask: impl Fn(TableAsk) -> UiCommand,
    commands: &mut Vec<UiCommand>,
) {
    let PagedShow {
        table,
        wanted,
        diff,
    } = show;
    let set_query = |query| ask(TableAsk::Query(query));
    ui.horizontal_wrapped(|ui| {
        ui.label(t!("table-search"));
        let query = table.query();
        let filtered = query.needle().is_some() || !query.kinds.keeps_all();
        let status = match_status(table.shown(), table.len(), filtered);
        if let Some(text) = search_bar_ui(ui, shell, &wanted.search, Some(&status)) {
            commands.push(set_query(RowQuery {
                search: text,
                ..wanted.clone()
            }));
        }
        if let Some((labels, counts)) = diff
            && let Some(kinds) = kind_chips_ui(ui, wanted.kinds, counts, labels)
        {
            commands.push(set_query(RowQuery {
                kinds,
                ..wanted.clone()
            }));
        }
        if let Some((done, total)) = table.ordering() {
            ui.spinner();
            let percent = if total == 0 {
                0.0
            } else {
                done as f64 * 100.0 / total as f64
            };
            ui.label(
                egui::RichText::new(t!(
                    "table-ordering-progress",
                    done = done,
                    total = total,
                    percent = crate::ui::i18n::format::decimal(percent, 0)
                ))
                .small()
                .weak(),
            );
        } else if table.pages().any_pending() {
            ui.spinner();
            ui.label(egui::RichText::new(t!("table-reading-rows")).small().weak());
        }
    });
    let labels = diff.map(|(labels, _)| *labels);
    let output = table_ui(
        ui,
        look,
        wanted.sort,
        table.shown(),
        |i| match table.row(i) {
            None => Slot::Loading,
            Some(LazyRow::State(row)) => Slot::Line(state_line(row)),
            Some(LazyRow::Diff(Some(row))) => match &labels {
                Some(labels) => Slot::Line(diff_line(row, labels)),
                None => Slot::Empty,
            },
            Some(LazyRow::Diff(None)) => Slot::Empty,
        },
        commands,
    );
    if let Some(sort) = output.sort {
        commands.push(set_query(RowQuery {
            sort,
            ..wanted.clone()
        }));
    }
    let mut pages: Vec<u64> = output
        .not_loaded
        .iter()
        .map(|r| page_of(*r as u64))
        .collect();
    pages.dedup();
    commands.extend(pages.into_iter().map(|page| ask(TableAsk::Page(page))));
}
