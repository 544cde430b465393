//! Sorting and searching a table's rows without holding them: a
//! [`RowQuery`] (a column to sort by, a text to search for, the kinds of
//! differing rows to keep) turns into a display order, the row indices to
//! show in the order to show them (`Arc<[u32]>`, 4 bytes a row), and the
//! rows of a page are then read by index.
//!
//! Keys and `last_position` come from the directory without reading a row.
//! Any other column, and any search, needs one pass over the rows: they are
//! read in chunks of a few snapshot pages, and of each row only its sort
//! key is kept (a number, or its text in one shared buffer), so a pass over
//! a million rows holds a few tens of MB while it sorts, and 4 MB after.
//!
//! One rule orders everywhere (here, and the window's in-memory tables):
//! ascending puts cells that read as numbers first, by value, then the
//! others by their text; ties keep key order; descending is the exact
//! reverse. A search keeps the rows where any cell (the key's full text
//! included, so a key prefix matches) contains the text, ignoring case.

use std::cmp::Ordering;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::domain::state::DiffKind;
use crate::domain::{BookingRow, Row, Table, UserRow};
use crate::engine::view::{RowCells, StateView, ViewRow};
use crate::engine::{EngineError, EngineResult};

mod cells;
mod diff;

pub use cells::CellText;
pub use diff::{diff_matches, shown_cells};

/// Rows read per step of a pass (32 snapshot pages of 1,024 rows).
pub const PASS_CHUNK: usize = 32 * 1024;

/// A column to sort by, and which way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SortBy {
    /// The column's index (in the table's columns).
    pub column: usize,
    /// Largest first.
    pub descending: bool,
}

/// The kinds of differing rows kept (all by default).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KindFilter {
    /// Rows only in the newer (second) state.
    pub added: bool,
    /// Rows only in the older (first) state.
    pub removed: bool,
    /// Rows in both, with different cells.
    pub changed: bool,
}

impl Default for KindFilter {
    fn default() -> Self {
        KindFilter {
            added: true,
            removed: true,
            changed: true,
        }
    }
}

impl KindFilter {
    /// Whether rows of `kind` are kept.
    pub fn keeps(&self, kind: DiffKind) -> bool {
        match kind {
            DiffKind::Added => self.added,
            DiffKind::Removed => self.removed,
            DiffKind::Changed => self.changed,
        }
    }

    /// Every kind is kept.
    pub fn keeps_all(&self) -> bool {
        self.added && self.removed && self.changed
    }

    /// The same with `kind` switched on or off.
    pub fn toggled(mut self, kind: DiffKind) -> Self {
        match kind {
            DiffKind::Added => self.added = !self.added,
            DiffKind::Removed => self.removed = !self.removed,
            DiffKind::Changed => self.changed = !self.changed,
        }
        self
    }
}

/// Which rows of a table are shown, in which order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct RowQuery {
    /// The column to sort by (`None`: the table's own order).
    pub sort: Option<SortBy>,
    /// Keep only rows with a cell containing this (empty: every row).
    pub search: String,
    /// Keep only differing rows of these kinds (differences only).
    pub kinds: KindFilter,
}

impl RowQuery {
    /// The table's own order, every row: nothing to compute.
    pub fn is_identity(&self) -> bool {
        self.sort.is_none() && self.needle().is_none() && self.kinds.keeps_all()
    }

    /// The search, ready to match (`None` when empty).
    pub fn needle(&self) -> Option<Needle> {
        Needle::new(&self.search)
    }

    /// Whether ordering `table` for it reads every row (a search, or a sort
    /// by a column the directory does not hold).
    pub fn needs_pass(&self, table: Table) -> bool {
        self.needle().is_some()
            || self
                .sort
                .is_some_and(|s| s.column != 0 && Some(s.column) != last_position_column(table))
    }

    /// Same rows as `other`, maybe in another order.
    pub fn same_rows(&self, other: &RowQuery) -> bool {
        self.search.trim() == other.search.trim() && self.kinds == other.kinds
    }
}

/// A search text, matched ignoring case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Needle {
    lower: String,
    ascii: bool,
}

impl Needle {
    /// The needle for `text` (`None` when it is blank).
    pub fn new(text: &str) -> Option<Self> {
        let text = text.trim();
        (!text.is_empty()).then(|| Needle {
            lower: text.to_lowercase(),
            ascii: text.is_ascii(),
        })
    }

    /// The text searched for, in lowercase.
    pub fn text(&self) -> &str {
        &self.lower
    }

    /// Whether `cell` contains the needle, ignoring case.
    pub fn matches(&self, cell: &str) -> bool {
        if !self.ascii {
            return cell.to_lowercase().contains(&self.lower);
        }
        // ASCII needle: compare bytes (an ASCII byte is never part of a
        // longer UTF-8 sequence), no allocation.
        let hay = cell.as_bytes();
        let needle = self.lower.as_bytes();
        let Some(&first) = needle.first() else {
            return true;
        };
        if hay.len() < needle.len() {
            return false;
        }
        (0..=hay.len() - needle.len()).any(|i| {
            hay[i].to_ascii_lowercase() == first
                && hay[i..i + needle.len()].eq_ignore_ascii_case(needle)
        })
    }

    /// Whether any of `cells` contains the needle.
    pub fn matches_any<'a>(&self, cells: impl IntoIterator<Item = &'a str>) -> bool {
        cells.into_iter().any(|c| self.matches(c))
    }
}

/// A cell as a number, when it reads as one (`42`, `120.50`, `-3`).
pub fn cell_number(cell: &str) -> Option<f64> {
    let cell = cell.trim();
    let first = cell.as_bytes().first()?;
    if !(first.is_ascii_digit() || *first == b'-' || *first == b'.') {
        return None;
    }
    cell.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// The ascending order of two cells: numbers first, by value, then texts.
pub fn compare_cells(a: &str, b: &str) -> Ordering {
    compare_keys(cell_number(a), a, cell_number(b), b)
}

/// [`compare_cells`] with the numbers already read.
pub fn compare_keys(na: Option<f64>, a: &str, nb: Option<f64>, b: &str) -> Ordering {
    match (na, nb) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.cmp(b),
    }
}

/// Sort keys of the rows a pass kept: a number, or a slice of one text
/// buffer (one allocation for every text key).
#[derive(Default)]
pub struct SortKeys {
    text: String,
    /// (number or NaN, text start, text length, row index).
    keys: Vec<(f64, u32, u32, u32)>,
}

impl SortKeys {
    /// Room for `rows` keys (a sort without a search keeps every row).
    pub fn with_capacity(rows: usize) -> Self {
        SortKeys {
            text: String::new(),
            keys: Vec::with_capacity(rows),
        }
    }

    /// Keeps row `index` with `cell` as its key.
    pub fn push(&mut self, index: u32, cell: &str) {
        match cell_number(cell) {
            Some(n) => self.keys.push((n, 0, 0, index)),
            None => {
                let start = self.text.len() as u32;
                self.text.push_str(cell);
                self.keys.push((f64::NAN, start, cell.len() as u32, index));
            }
        }
    }

    /// Bytes held (for the report of a pass's memory).
    pub fn bytes(&self) -> usize {
        self.text.capacity() + self.keys.capacity() * std::mem::size_of::<(f64, u32, u32, u32)>()
    }

    /// The row indices, sorted by key (ties by index), reversed when
    /// `descending`.
    pub fn sorted(mut self, descending: bool) -> Vec<u32> {
        let text = self.text;
        let slice = |s: u32, l: u32| text.get(s as usize..(s + l) as usize).unwrap_or("");
        let number = |n: f64| (!n.is_nan()).then_some(n);
        self.keys.sort_unstable_by(|a, b| {
            compare_keys(number(a.0), slice(a.1, a.2), number(b.0), slice(b.1, b.2))
                .then(a.3.cmp(&b.3))
        });
        let mut out: Vec<u32> = self.keys.iter().map(|k| k.3).collect();
        if descending {
            out.reverse();
        }
        out
    }
}

/// Orders rows held in memory: `cell(i, column)` reads a cell,
/// `matches(i, needle)` tells a search match, `kind(i)` a row's kind (for
/// differences). The display order, or `None` for every row in its own order.
pub fn order_rows<'a>(
    len: usize,
    query: &RowQuery,
    cell: impl Fn(usize, usize) -> Option<&'a str>,
    matches: impl Fn(usize, &Needle) -> bool,
    kind: impl Fn(usize) -> Option<DiffKind>,
) -> Option<Vec<u32>> {
    if query.is_identity() {
        return None;
    }
    let needle = query.needle();
    let kept = (0..len).filter(|i| {
        kind(*i).is_none_or(|k| query.kinds.keeps(k))
            && needle.as_ref().is_none_or(|n| matches(*i, n))
    });
    Some(match query.sort {
        None => kept.map(|i| i as u32).collect(),
        Some(sort) => {
            let mut keys = SortKeys::default();
            for i in kept {
                keys.push(i as u32, cell(i, sort.column).unwrap_or(""));
            }
            keys.sorted(sort.descending)
        }
    })
}

/// What a pass is told: where its progress goes (rows read, rows in all)
/// and when to stop.
#[derive(Clone)]
pub struct PassControl {
    /// Stops the pass between chunks.
    pub cancel: CancellationToken,
    /// Rows read so far, rows to read.
    pub progress: Arc<dyn Fn(u64, u64) + Send + Sync>,
}

impl Default for PassControl {
    fn default() -> Self {
        PassControl {
            cancel: CancellationToken::new(),
            progress: Arc::new(|_, _| {}),
        }
    }
}

impl PassControl {
    fn check(&self) -> EngineResult<()> {
        if self.cancel.is_cancelled() {
            Err(EngineError::Cancelled)
        } else {
            Ok(())
        }
    }
}

/// Sorts the keys off the async workers.
async fn sort_keys(keys: SortKeys, descending: bool) -> EngineResult<Vec<u32>> {
    tokio::task::spawn_blocking(move || keys.sorted(descending))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "sorting a table's rows panicked");
            EngineError::Crashed("sorting the rows".into())
        })
}

/// `0 .. len`, or the reverse.
fn key_order(len: usize, descending: bool) -> Vec<u32> {
    let mut out: Vec<u32> = (0..len as u32).collect();
    if descending {
        out.reverse();
    }
    out
}

/// The column `last_position` of a table.
fn last_position_column(table: Table) -> Option<usize> {
    table.columns().iter().position(|c| *c == "last_position")
}

fn display<R: Row>(rows: Vec<R>) -> Vec<RowCells> {
    rows.iter()
        .map(|r| RowCells {
            key: r.key(),
            cells: r.cells(),
            last_position: r.last_position(),
        })
        .collect()
}

impl StateView {
    /// Rows `indices` (positions in key order) of `table`, as display text,
    /// in the order asked.
    pub async fn row_cells_at(&self, table: Table, indices: &[u32]) -> EngineResult<Vec<RowCells>> {
        let indices = indices.iter().map(|i| *i as usize);
        Ok(match table {
            Table::Users => display(self.rows_in::<UserRow>(indices).await?),
            Table::Bookings => display(self.rows_in::<BookingRow>(indices).await?),
        })
    }

    /// The display order of `table` for `query` (`None`: every row in key
    /// order). The key and `last_position` sort from the directory; other
    /// columns and searches read every row once, in chunks.
    pub async fn order(
        &self,
        table: Table,
        query: &RowQuery,
        control: &PassControl,
    ) -> EngineResult<Option<Arc<[u32]>>> {
        let len = self.len(table);
        let needle = query.needle();
        let sort = query.sort;
        if needle.is_none() {
            match sort {
                None => return Ok(None),
                Some(SortBy {
                    column: 0,
                    descending,
                }) => {
                    return Ok((descending).then(|| key_order(len, true).into()));
                }
                Some(SortBy { column, descending })
                    if Some(column) == last_position_column(table) =>
                {
                    let mut keys: Vec<(u64, u32)> = self
                        .entries(table)
                        .enumerate()
                        .map(|(i, e)| (e.last_position(), i as u32))
                        .collect();
                    let order = tokio::task::spawn_blocking(move || {
                        keys.sort_unstable();
                        let mut out: Vec<u32> = keys.into_iter().map(|k| k.1).collect();
                        if descending {
                            out.reverse();
                        }
                        out
                    })
                    .await
                    .map_err(|e| EngineError::Crashed(format!("sorting the rows: {e}")))?;
                    return Ok(Some(order.into()));
                }
                Some(_) => {}
            }
        }
        match table {
            Table::Users => self.pass::<UserRow>(query, control).await,
            Table::Bookings => self.pass::<BookingRow>(query, control).await,
        }
        .map(Some)
    }

    /// One pass over every row of the table of `R`, in chunks, keeping the
    /// rows `query` searches for and their sort keys.
    async fn pass<R: ViewRow + CellText>(
        &self,
        query: &RowQuery,
        control: &PassControl,
    ) -> EngineResult<Arc<[u32]>> {
        let len = self.len(R::TABLE);
        let needle = query.needle();
        // Only the columns whose spelling can hold the needle are looked at.
        let searched: Vec<usize> = (0..R::WIDTH)
            .filter(|c| {
                needle
                    .as_ref()
                    .is_none_or(|n| R::SPELLING[*c].may_hold(n.text()))
            })
            .collect();
        let mut keys = match (&needle, query.sort) {
            (None, Some(_)) => SortKeys::with_capacity(len),
            _ => SortKeys::default(),
        };
        let mut kept: Vec<u32> = Vec::new();
        let mut buf = String::new();
        let mut at = 0usize;
        while at < len {
            control.check()?;
            let end = (at + PASS_CHUNK).min(len);
            let rows = self.rows_in::<R>(at..end).await?;
            if rows.len() != end - at {
                return Err(EngineError::Crashed(format!(
                    "rows {at}..{end} of {} read as {} rows",
                    R::TABLE,
                    rows.len()
                )));
            }
            for (i, row) in rows.iter().enumerate() {
                let index = (at + i) as u32;
                if let Some(n) = &needle
                    && !searched
                        .iter()
                        .any(|c| n.matches(row.cell_text(*c, &mut buf)))
                {
                    continue;
                }
                match query.sort {
                    Some(s) => keys.push(index, row.cell_text(s.column, &mut buf)),
                    None => kept.push(index),
                }
            }
            at = end;
            (control.progress)(at as u64, len as u64);
        }
        Ok(match query.sort {
            Some(s) => sort_keys(keys, s.descending).await?.into(),
            None => kept.into(),
        })
    }
}

#[cfg(test)]
mod tests;
