//! Tables whose rows are in memory (Compare's report, What if's
//! difference, a row's history, a step's rows): sorted, searched and
//! filtered by the same rules as the lazy tables
//! ([`crate::engine::view_order`]).
//!
//! The rows belong to the panel showing them and are only lent to the
//! widget while it draws, so the order is computed here, a slice per frame
//! (a few milliseconds at most, then the next frame goes on), never all at
//! once: a frame's cost does not grow with the table. The search, the sort
//! and the order are kept in egui's memory under the table's id, like its
//! column widths: they belong to the widget, not to the panel's data.

use crate::ui::i18n::t;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::draw::{Slot, TableLook, kind_chips_ui, match_status, search_bar_ui, table_ui};
use super::line::{DiffLabels, Line};
use super::merge_sort::MergeSort;
use crate::domain::state::DiffKind;
use crate::engine::view_order::{Needle, RowQuery, cell_number, compare_keys};
use crate::ui::app::Shell;
use crate::ui::command::UiCommand;

/// Time spent ordering per frame at most.
pub const FRAME_BUDGET: Duration = Duration::from_millis(3);
/// Rows looked at between two looks at the clock.
const SLICE: usize = 1024;

/// Rows in memory, as a table reads them.
pub trait MemoryRows {
    /// How many.
    fn len(&self) -> usize;
    /// No rows.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Changes when the rows do (another report): the order is computed
    /// again.
    fn fingerprint(&self) -> u64;
    /// The value row `row` shows in `column` (what it is sorted by).
    fn cell(&self, row: usize, column: usize) -> Option<std::borrow::Cow<'_, str>>;
    /// Whether any cell of row `row` (an old value included) contains the
    /// needle.
    fn matches(&self, row: usize, needle: &Needle) -> bool;
    /// The kind of row `row` in a difference (`None`: not a difference).
    fn kind(&self, row: usize) -> Option<DiffKind>;
    /// Row `row`, to draw.
    fn line(&self, row: usize) -> Option<Line<'_>>;
}

/// An order being computed.
#[derive(Clone, Debug)]
struct Job {
    fingerprint: u64,
    query: RowQuery,
    next: usize,
    kept: Vec<u32>,
    /// Each row's sort cell as a number (NaN: a text), for the rows kept.
    numbers: Vec<f64>,
    counts: (usize, usize, usize),
    sort: Option<MergeSort>,
}

/// An order computed.
#[derive(Clone, Debug)]
struct Done {
    fingerprint: u64,
    query: RowQuery,
    /// `None`: every row in its own order.
    order: Option<Arc<[u32]>>,
    counts: (usize, usize, usize),
}

/// What a table in memory keeps between frames.
#[derive(Clone, Debug, Default)]
pub struct MemoryTable {
    /// The sort, search and filter asked for.
    pub query: RowQuery,
    done: Option<Done>,
    job: Option<Job>,
}

impl MemoryTable {
    /// The order to show for rows with `fingerprint`, if one is computed
    /// for them (`Some(None)`: every row in its own order).
    fn order(&self, fingerprint: u64) -> Option<Option<&Arc<[u32]>>> {
        self.done
            .as_ref()
            .filter(|d| d.fingerprint == fingerprint)
            .map(|d| d.order.as_ref())
    }

    /// Kind counts of the rows with `fingerprint`, once known.
    fn counts(&self, fingerprint: u64) -> Option<(usize, usize, usize)> {
        self.done
            .as_ref()
            .filter(|d| d.fingerprint == fingerprint)
            .map(|d| d.counts)
    }

    /// Goes on computing the order until `deadline`; true when it is
    /// computed for the rows and the query asked for.
    pub fn advance(&mut self, rows: &dyn MemoryRows, deadline: Instant) -> bool {
        let fingerprint = rows.fingerprint();
        if self
            .done
            .as_ref()
            .is_some_and(|d| d.fingerprint == fingerprint && d.query == self.query)
        {
            self.job = None;
            return true;
        }
        let fresh = |query: &RowQuery| Job {
            fingerprint,
            query: query.clone(),
            next: 0,
            kept: Vec::new(),
            numbers: Vec::new(),
            counts: (0, 0, 0),
            sort: None,
        };
        let job = match self.job.take() {
            Some(job) if job.fingerprint == fingerprint && job.query == self.query => job,
            _ => fresh(&self.query),
        };
        let mut job = job;
        match run(&mut job, rows, deadline) {
            Some(done) => {
                self.done = Some(done);
                true
            }
            None => {
                self.job = Some(job);
                false
            }
        }
    }
}

/// Runs `job` until `deadline`: the order, or `None` to go on with it.
fn run(job: &mut Job, rows: &dyn MemoryRows, deadline: Instant) -> Option<Done> {
    let len = rows.len();
    let needle = job.query.needle();
    let sort = job.query.sort;
    if job.numbers.len() != len && sort.is_some() {
        job.numbers = vec![f64::NAN; len];
    }
    while job.next < len {
        let end = (job.next + SLICE).min(len);
        for row in job.next..end {
            let kind = rows.kind(row);
            match kind {
                Some(DiffKind::Added) => job.counts.0 += 1,
                Some(DiffKind::Removed) => job.counts.1 += 1,
                Some(DiffKind::Changed) => job.counts.2 += 1,
                None => {}
            }
            if kind.is_some_and(|k| !job.query.kinds.keeps(k))
                || needle.as_ref().is_some_and(|n| !rows.matches(row, n))
            {
                continue;
            }
            if let Some(s) = sort {
                job.numbers[row] = rows
                    .cell(row, s.column)
                    .and_then(|c| cell_number(&c))
                    .unwrap_or(f64::NAN);
            }
            job.kept.push(row as u32);
        }
        job.next = end;
        if Instant::now() > deadline {
            return None;
        }
    }
    let order = match sort {
        _ if job.query.is_identity() => None,
        None => Some(std::mem::take(&mut job.kept)),
        Some(s) => {
            let mut merge = job
                .sort
                .take()
                .unwrap_or_else(|| MergeSort::new(std::mem::take(&mut job.kept)));
            let numbers = &job.numbers;
            let number = |row: u32| {
                let n = numbers[row as usize];
                (!n.is_nan()).then_some(n)
            };
            let compare = |a: u32, b: u32| {
                let (ca, cb) = (
                    rows.cell(a as usize, s.column),
                    rows.cell(b as usize, s.column),
                );
                compare_keys(
                    number(a),
                    ca.as_deref().unwrap_or(""),
                    number(b),
                    cb.as_deref().unwrap_or(""),
                )
            };
            loop {
                if merge.step(SLICE * 4, compare) {
                    break;
                }
                if Instant::now() > deadline {
                    job.sort = Some(merge);
                    return None;
                }
            }
            let mut sorted = merge.into_rows();
            if s.descending {
                sorted.reverse();
            }
            Some(sorted)
        }
    };
    Some(Done {
        fingerprint: job.fingerprint,
        query: job.query.clone(),
        order: order.map(Arc::from),
        counts: job.counts,
    })
}

/// Draws rows held in memory: the search box (and, for a difference, the
/// filter chips with their counts) above the table. `shell` lets Ctrl+F
/// focus the search. Returns the row (an index of `rows`) whose
/// [`ColumnKind::RowLink`] cell was clicked.
///
/// [`ColumnKind::RowLink`]: crate::ui::widgets::table::line::ColumnKind::RowLink
pub fn memory_table_ui(
    ui: &mut egui::Ui,
    look: &TableLook<'_>,
    shell: Option<&Shell>,
    rows: &dyn MemoryRows,
    labels: Option<&DiffLabels<'_>>,
    commands: &mut Vec<UiCommand>,
) -> Option<usize> {
    let id = look.id.with("memory_table");
    let mut state: MemoryTable = ui.data_mut(|d| d.remove_temp(id)).unwrap_or_default();
    let fingerprint = rows.fingerprint();
    let ready = state.advance(rows, Instant::now() + FRAME_BUDGET);
    let computed = state.order(fingerprint).is_some();
    let order = state.order(fingerprint).flatten().cloned();
    let counts = state.counts(fingerprint);
    let shown = order.as_ref().map_or(rows.len(), |o| o.len());
    let filtered = computed && (state.query.needle().is_some() || !state.query.kinds.keeps_all());
    let status = match_status(shown, rows.len(), filtered);
    ui.horizontal_wrapped(|ui| {
        ui.label(t!("table-search"));
        if let Some(text) = search_bar_ui(ui, shell, &state.query.search, Some(&status)) {
            state.query.search = text;
        }
        if let (Some(labels), Some(counts)) = (labels, counts)
            && let Some(kinds) = kind_chips_ui(ui, state.query.kinds, counts, labels)
        {
            state.query.kinds = kinds;
        }
        if !ready {
            ui.spinner();
            ui.label(egui::RichText::new(t!("table-ordering")).small().weak());
        }
    });
    if !ready {
        ui.ctx().request_repaint();
    }
    let output = table_ui(
        ui,
        look,
        state.query.sort,
        shown,
        |i| {
            let row = match &order {
                Some(order) => order.get(i).map(|r| *r as usize),
                None => Some(i),
            };
            row.and_then(|r| rows.line(r))
                .map_or(Slot::Empty, Slot::Line)
        },
        commands,
    );
    if let Some(sort) = output.sort {
        state.query.sort = sort;
        ui.ctx().request_repaint();
    }
    let linked = output.linked.and_then(|i| match &order {
        Some(order) => order.get(i).map(|r| *r as usize),
        None => Some(i),
    });
    ui.data_mut(|d| d.insert_temp(id, state));
    linked
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::view_order::{KindFilter, SortBy, order_rows};
    use std::borrow::Cow;

    struct Rows(Vec<(Option<DiffKind>, Vec<String>)>);

    impl MemoryRows for Rows {
        fn len(&self) -> usize {
            self.0.len()
        }
        fn fingerprint(&self) -> u64 {
            self.0.len() as u64
        }
        fn cell(&self, row: usize, column: usize) -> Option<Cow<'_, str>> {
            self.0[row].1.get(column).map(|c| c.as_str().into())
        }
        fn matches(&self, row: usize, needle: &Needle) -> bool {
            needle.matches_any(self.0[row].1.iter().map(String::as_str))
        }
        fn kind(&self, row: usize) -> Option<DiffKind> {
            self.0[row].0
        }
        fn line(&self, _row: usize) -> Option<Line<'_>> {
            None
        }
    }

    fn rows(n: usize) -> Rows {
        let kinds = [DiffKind::Added, DiffKind::Removed, DiffKind::Changed];
        Rows(
            (0..n)
                .map(|i| {
                    (
                        Some(kinds[i % 3]),
                        vec![
                            format!("k{i:05}"),
                            format!("{}", (i * 37) % 101),
                            ["Ana", "bea", "Carl", "ana maría"][i % 4].to_string(),
                        ],
                    )
                })
                .collect(),
        )
    }

    #[test]
    fn an_order_made_a_slice_at_a_time_is_the_engine_rule() {
        let rows = rows(5_000);
        for query in [
            RowQuery::default(),
            RowQuery {
                sort: Some(SortBy {
                    column: 1,
                    descending: true,
                }),
                ..RowQuery::default()
            },
            RowQuery {
                sort: Some(SortBy {
                    column: 2,
                    descending: false,
                }),
                search: "ANA".into(),
                kinds: KindFilter::default().toggled(DiffKind::Removed),
            },
        ] {
            let mut table = MemoryTable {
                query: query.clone(),
                ..MemoryTable::default()
            };
            // A deadline already past: one slice per call, like a slow frame.
            let mut frames = 0;
            while !table.advance(&rows, Instant::now()) {
                frames += 1;
                assert!(frames < 1_000);
            }
            assert!(frames > 1 || query.is_identity(), "it took slices");
            let want = order_rows(
                rows.len(),
                &query,
                |r, c| rows.0[r].1.get(c).map(String::as_str),
                |r, n| rows.matches(r, n),
                |r| rows.0[r].0,
            );
            let got = table.order(rows.fingerprint()).unwrap().map(|o| o.to_vec());
            assert_eq!(got, want, "{query:?}");
            assert_eq!(table.counts(rows.fingerprint()), Some((1667, 1667, 1666)));
        }
    }
}
