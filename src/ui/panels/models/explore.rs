//! What the app does with the built-in tables, done with a built model in
//! the Models panel: the difference between two positions, a row's
//! history (a click on its key), a numeric column over time and what if.
//! The views are made from the engine's answers off the UI thread, as
//! text ready to draw.

use egui_plot::PlotPoint;
use tokio_util::sync::CancellationToken;

use super::{ModelsPanel, cell_text};
use crate::domain::model::{ColumnType, TableDef};
use crate::domain::state::DiffKind;
use crate::engine::models::explore::is_numeric;
use crate::engine::models::{
    BuildProgress, DiffCounts, ModelDiff, ModelError, ModelRowHistory, ModelSeries, ModelWhatIf,
};
use crate::ui::widgets::table::line::ColumnKind;

/// Differing rows read at most.
pub const DIFF_LIMIT: usize = 10_000;

/// Points of an Over time chart.
pub const SERIES_POINTS: u64 = 60;

/// How each column of `t` is drawn: its key's columns open the row's
/// history, positions link to their events, other ids are shortened.
pub fn column_kinds(t: &TableDef) -> Vec<ColumnKind> {
    t.columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if t.key.contains(&i) {
                ColumnKind::RowLink
            } else if c.ty == ColumnType::Position {
                ColumnKind::Event
            } else {
                ColumnKind::of(&c.name, false, None)
            }
        })
        .collect()
}

/// The names of `t`'s numeric columns.
pub fn numeric_columns(t: &TableDef) -> Vec<String> {
    t.columns
        .iter()
        .filter(|c| is_numeric(c.ty))
        .map(|c| c.name.clone())
        .collect()
}

/// One differing row, as text.
#[derive(Clone, Debug, PartialEq)]
pub struct ChangeRow {
    /// Added, removed or changed.
    pub kind: DiffKind,
    /// Its key's cells.
    pub key: Vec<String>,
    /// Its cells before (`None`: not there).
    pub before: Option<Vec<String>>,
    /// Its cells after (`None`: not there).
    pub after: Option<Vec<String>>,
}

/// A model's table compared between two states, ready to draw.
#[derive(Clone, Debug, PartialEq)]
pub struct DiffView {
    /// The table.
    pub table: String,
    /// Its columns.
    pub columns: Vec<String>,
    /// How each is drawn.
    pub kinds: Vec<ColumnKind>,
    /// The first position.
    pub from: u64,
    /// The second position.
    pub to: u64,
    /// How many rows differ (all of them).
    pub counts: DiffCounts,
    /// The first [`DIFF_LIMIT`] differing rows.
    pub rows: Vec<ChangeRow>,
}

impl DiffView {
    /// The view of `diff`, whose table is `t`.
    pub fn of(diff: ModelDiff, t: &TableDef) -> Self {
        let text = |cells: &[crate::domain::model::Value]| cells.iter().map(cell_text).collect();
        DiffView {
            kinds: column_kinds(t),
            rows: diff
                .rows
                .iter()
                .map(|c| ChangeRow {
                    kind: c.kind(),
                    key: text(&c.key),
                    before: c.before.as_deref().map(text),
                    after: c.after.as_deref().map(text),
                })
                .collect(),
            table: diff.table,
            columns: diff.columns,
            from: diff.from,
            to: diff.to,
            counts: diff.counts,
        }
    }
}

/// One version of a row, as text.
#[derive(Clone, Debug, PartialEq)]
pub struct VersionRow {
    /// `[position, event type, recorded at, cells...]`.
    pub cells: Vec<String>,
    /// Each cell's value in the version before, where it differs.
    pub old: Vec<Option<String>>,
}

/// Every version of one row of a model, ready to draw.
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryView {
    /// The model.
    pub model: String,
    /// The table.
    pub table: String,
    /// The row's key.
    pub key: Vec<String>,
    /// The names of the key's columns.
    pub key_columns: Vec<String>,
    /// `[position, event, recorded at, the table's columns...]`.
    pub columns: Vec<String>,
    /// How each is drawn.
    pub kinds: Vec<ColumnKind>,
    /// Its versions, oldest first.
    pub rows: Vec<VersionRow>,
}

impl HistoryView {
    /// The view of `history`, whose table is `t`.
    pub fn of(history: ModelRowHistory, t: &TableDef) -> Self {
        let mut columns: Vec<String> = ["position", "event", "recorded at"]
            .into_iter()
            .map(String::from)
            .collect();
        columns.extend(history.columns.iter().cloned());
        let mut kinds = vec![ColumnKind::Event, ColumnKind::Text, ColumnKind::Text];
        kinds.extend(column_kinds(t).into_iter().map(|k| match k {
            ColumnKind::RowLink => ColumnKind::Id,
            other => other,
        }));
        let mut previous: Option<Vec<String>> = None;
        let rows = history
            .versions
            .iter()
            .map(|v| {
                let now: Vec<String> = v.cells.iter().map(cell_text).collect();
                let mut cells = vec![
                    v.position.to_string(),
                    v.event_type.clone(),
                    v.recorded_at
                        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                        .unwrap_or_default(),
                ];
                let mut old = vec![None, None, None];
                old.extend(now.iter().enumerate().map(|(i, cell)| {
                    previous
                        .as_ref()
                        .and_then(|p| p.get(i))
                        .filter(|p| *p != cell)
                        .cloned()
                }));
                cells.extend(now.iter().cloned());
                previous = Some(now);
                VersionRow { cells, old }
            })
            .collect();
        HistoryView {
            model: history.model,
            table: history.table,
            key: history.key.iter().map(cell_text).collect(),
            key_columns: history.key_columns,
            columns,
            kinds,
            rows,
        }
    }
}

/// A numeric column over positions, ready to plot.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesView {
    /// The table.
    pub table: String,
    /// The column.
    pub column: String,
    /// `(position, sum)`.
    pub points: Vec<PlotPoint>,
}

impl From<ModelSeries> for SeriesView {
    fn from(series: ModelSeries) -> Self {
        SeriesView {
            points: series
                .points
                .iter()
                .map(|p| PlotPoint::new(p.position as f64, p.sum))
                .collect(),
            table: series.table,
            column: series.column,
        }
    }
}

/// A model's rows with events left out, against the built ones.
#[derive(Clone, Debug, PartialEq)]
pub struct WhatIfView {
    /// The positions left out.
    pub excluded: Vec<u64>,
    /// Rows as built.
    pub real_rows: u64,
    /// Rows with the events left out.
    pub simulated_rows: u64,
    /// Built (before) against simulated (after).
    pub difference: DiffView,
}

impl WhatIfView {
    /// The view of `what_if`, whose table is `t`.
    pub fn of(what_if: ModelWhatIf, t: &TableDef) -> Self {
        WhatIfView {
            excluded: what_if.excluded,
            real_rows: what_if.real_rows,
            simulated_rows: what_if.simulated_rows,
            difference: DiffView::of(what_if.difference, t),
        }
    }
}

/// A what-if build under way.
#[derive(Debug)]
pub struct Simulating {
    /// The last progress.
    pub progress: Option<BuildProgress>,
    /// Stops it.
    pub cancel: CancellationToken,
}

/// The explore section's state.
#[derive(Debug, Default)]
pub struct Explore {
    /// The table explored (`None`: the model's first).
    pub table: Option<String>,
    /// "Difference from" position typed.
    pub from: String,
    /// The difference shown.
    pub diff: Option<DiffView>,
    /// The row whose history is shown (its window is open while set).
    pub row: Option<(String, Vec<String>)>,
    /// That row's history.
    pub history: Option<HistoryView>,
    /// The column plotted.
    pub column: Option<String>,
    /// Its sums over positions.
    pub series: Option<SeriesView>,
    /// "Leave out positions" typed.
    pub exclude: String,
    /// A what-if under way.
    pub simulating: Option<Simulating>,
    /// The last what-if.
    pub what_if: Option<WhatIfView>,
    /// The last error of this section.
    pub error: Option<String>,
    /// Numbers the requests; an answer to an older one is dropped.
    pub(super) requests: u64,
}

/// What the explore section asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum ExploreCommand {
    /// Explore this table.
    SetTable(String),
    /// The "Difference from" field changed.
    SetFrom(String),
    /// Read the difference between "from" and the rows' position.
    ShowDiff,
    /// Open the history of the row of `table` under `key`.
    OpenRow {
        /// The table.
        table: String,
        /// The key's cells, as text.
        key: Vec<String>,
    },
    /// Close the row history.
    CloseRow,
    /// Plot this numeric column over positions.
    ShowSeries(String),
    /// The "Leave out positions" field changed.
    SetExclude(String),
    /// Build the model again without those positions and compare.
    RunWhatIf,
    /// Stop the what-if build.
    CancelWhatIf,
}

/// What comes back for the explore section.
pub enum ExploreMessage {
    /// A difference, for request `request`.
    Diff {
        /// Which request it answers.
        request: u64,
        /// The view or why not.
        result: Result<DiffView, ModelError>,
    },
    /// A row's history.
    History(Result<HistoryView, ModelError>),
    /// A column over positions, for request `request`.
    Series {
        /// Which request it answers.
        request: u64,
        /// The view or why not.
        result: Result<SeriesView, ModelError>,
    },
    /// The what-if build advanced.
    Progress(BuildProgress),
    /// A what-if ended.
    WhatIf(Result<WhatIfView, ModelError>),
}

/// Parses a list of positions (`12, 40,41`).
pub fn parse_positions(text: &str) -> Result<Vec<u64>, PositionsError> {
    let positions: Vec<u64> = text
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|p| !p.is_empty())
        .map(|p| {
            p.parse::<u64>()
                .map_err(|_| PositionsError::NotAPosition(p.to_string()))
        })
        .collect::<Result<_, _>>()?;
    if positions.is_empty() {
        return Err(PositionsError::None);
    }
    Ok(positions)
}

/// Why a list of positions to leave out could not be read.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PositionsError {
    /// The list is empty.
    #[error("type the positions to leave out, e.g. 12, 40")]
    None,
    /// A part is not a whole number.
    #[error("a position is a whole number, not '{0}'")]
    NotAPosition(String),
}

impl ModelsPanel {
    /// Runs a command of the explore section.
    pub(super) fn explore(&mut self, command: ExploreCommand, ctx: &mut super::super::Ctx<'_>) {
        let Some(name) = self.selected.clone() else {
            return;
        };
        let e = &mut self.explore;
        match command {
            ExploreCommand::SetTable(table) => {
                e.table = Some(table);
                e.diff = None;
                e.series = None;
                e.column = None;
                e.what_if = None;
            }
            ExploreCommand::SetFrom(text) => e.from = text,
            ExploreCommand::ShowDiff => {
                e.error = None;
                let Some(to) = self.rows.as_ref().map(|r| r.at) else {
                    return;
                };
                let from = match e.from.trim().parse::<u64>() {
                    Ok(from) => from,
                    Err(_) => {
                        e.error = Some(format!(
                            "\"Difference from\" is a position (a whole number), not '{}'",
                            e.from.trim()
                        ));
                        return;
                    }
                };
                e.requests += 1;
                super::tasks::diff(
                    ctx,
                    e.requests,
                    (name, e.table.clone()),
                    (from, to),
                    self.data_dir.clone(),
                );
            }
            ExploreCommand::OpenRow { table, key } => {
                e.row = Some((table.clone(), key.clone()));
                e.history = None;
                super::tasks::row_history(ctx, name, table, key, self.data_dir.clone());
            }
            ExploreCommand::CloseRow => {
                e.row = None;
                e.history = None;
            }
            ExploreCommand::ShowSeries(column) => {
                e.error = None;
                e.column = Some(column.clone());
                e.requests += 1;
                super::tasks::series(
                    ctx,
                    e.requests,
                    (name, e.table.clone()),
                    column,
                    self.data_dir.clone(),
                );
            }
            ExploreCommand::SetExclude(text) => e.exclude = text,
            ExploreCommand::RunWhatIf => {
                e.error = None;
                if e.simulating.is_some() {
                    return;
                }
                let positions = match parse_positions(&e.exclude) {
                    Ok(p) => p,
                    Err(why) => {
                        e.error = Some(why.to_string());
                        return;
                    }
                };
                let cancel = CancellationToken::new();
                super::tasks::what_if(
                    ctx,
                    (name, e.table.clone()),
                    positions,
                    self.data_dir.clone(),
                    cancel.clone(),
                );
                e.simulating = Some(Simulating {
                    progress: None,
                    cancel,
                });
            }
            ExploreCommand::CancelWhatIf => {
                if let Some(s) = &e.simulating {
                    s.cancel.cancel();
                }
            }
        }
    }

    /// A message for the explore section arrived.
    pub(super) fn explored(&mut self, message: ExploreMessage) {
        let e = &mut self.explore;
        match message {
            ExploreMessage::Diff { request, result } => {
                if request == e.requests {
                    match result {
                        Ok(view) => e.diff = Some(view),
                        Err(err) => e.error = Some(err.to_string()),
                    }
                }
            }
            ExploreMessage::History(result) => match result {
                Ok(view) => {
                    if e.row
                        .as_ref()
                        .is_some_and(|(t, k)| *t == view.table && *k == view.key)
                    {
                        e.history = Some(view);
                    }
                }
                Err(err) => e.error = Some(err.to_string()),
            },
            ExploreMessage::Series { request, result } => {
                if request == e.requests {
                    match result {
                        Ok(view) => e.series = Some(view),
                        Err(err) => e.error = Some(err.to_string()),
                    }
                }
            }
            ExploreMessage::Progress(p) => {
                if let Some(s) = &mut e.simulating {
                    s.progress = Some(p);
                }
            }
            ExploreMessage::WhatIf(result) => {
                e.simulating = None;
                match result {
                    Ok(view) => e.what_if = Some(view),
                    Err(ModelError::Cancelled) => e.error = Some("What if cancelled".into()),
                    Err(err) => e.error = Some(err.to_string()),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_to_leave_out_are_read_from_a_list() {
        assert_eq!(parse_positions("12, 40,41 7"), Ok(vec![12, 40, 41, 7]));
        assert!(parse_positions(" ").is_err());
        assert_eq!(
            parse_positions("3,x").map_err(|e| e.to_string()),
            Err("a position is a whole number, not 'x'".into())
        );
    }
}
