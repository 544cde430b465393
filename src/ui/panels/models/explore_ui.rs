//! Drawing the explore section of a built model: the difference from a
//! position, Over time for a numeric column, What if, and the row history
//! window a click on a key opens.

use crate::ui::i18n::t;
use std::borrow::Cow;
use std::hash::{Hash, Hasher};

use super::explore::{ChangeRow, DiffView, ExploreCommand, HistoryView};
use super::{ModelsCommand, ModelsPanel, RowsView};
use crate::domain::state::DiffKind;
use crate::engine::view_order::Needle;
use crate::ui::app::Shell;
use crate::ui::command::UiCommand;
use crate::ui::widgets::human_secs;
use crate::ui::widgets::table::TableLook;
use crate::ui::widgets::table::line::{Cell, DiffLabels, Line};
use crate::ui::widgets::table::memory::{MemoryRows, memory_table_ui};

fn push(commands: &mut Vec<UiCommand>, command: ExploreCommand) {
    commands.push(ModelsCommand::Explore(command).into());
}

/// A difference's rows as the shared table widget reads them.
struct Changes<'a>(&'a DiffView, DiffLabels<'a>);

impl MemoryRows for Changes<'_> {
    fn len(&self) -> usize {
        self.0.rows.len()
    }
    fn fingerprint(&self) -> u64 {
        let mut hasher = std::hash::DefaultHasher::new();
        (self.0.rows.as_ptr() as usize, self.0.rows.len()).hash(&mut hasher);
        hasher.finish()
    }
    fn cell(&self, row: usize, column: usize) -> Option<Cow<'_, str>> {
        let r = self.0.rows.get(row)?;
        let cells = r.after.as_ref().or(r.before.as_ref())?;
        Some(cells.get(column)?.as_str().into())
    }
    fn matches(&self, row: usize, needle: &Needle) -> bool {
        self.0.rows.get(row).is_some_and(|r| {
            [&r.before, &r.after]
                .into_iter()
                .flatten()
                .any(|cells| cells.iter().any(|c| needle.matches(c)))
        })
    }
    fn kind(&self, row: usize) -> Option<DiffKind> {
        self.0.rows.get(row).map(|r| r.kind)
    }
    fn line(&self, row: usize) -> Option<Line<'_>> {
        let r: &ChangeRow = self.0.rows.get(row)?;
        let labels = &self.1;
        fn plain(cells: &[String]) -> Vec<Cell<'_>> {
            cells.iter().map(|c| Cell::plain(c.as_str())).collect()
        }
        let (tag, cells) = match (&r.before, &r.after) {
            (None, Some(after)) => (labels.added, plain(after)),
            (Some(before), None) => (labels.removed, plain(before)),
            (Some(before), Some(after)) => (
                labels.changed,
                after
                    .iter()
                    .enumerate()
                    .map(|(i, new)| Cell::changed(new, before.get(i).map(String::as_str)))
                    .collect(),
            ),
            (None, None) => return None,
        };
        Some(Line {
            tag: Some((tag, r.kind)),
            cells,
            key: None,
        })
    }
}

/// Draws a difference; a click on a row's key opens its history.
fn changes_ui(
    ui: &mut egui::Ui,
    id: &str,
    view: &DiffView,
    labels: DiffLabels<'_>,
    shell: &Shell,
    commands: &mut Vec<UiCommand>,
) {
    let c = &view.counts;
    ui.label(format!(
        "{}: {} {}, {} {}, {} {}{}",
        view.table,
        c.added,
        labels.added,
        c.removed,
        labels.removed,
        c.changed,
        labels.changed,
        if (view.rows.len() as u64) < c.added + c.removed + c.changed {
            t!("models-first-shown", rows = view.rows.len())
        } else {
            String::new()
        }
    ));
    if view.rows.is_empty() {
        return;
    }
    let columns: Vec<&str> = view.columns.iter().map(String::as_str).collect();
    let look = TableLook {
        id: egui::Id::unique((id, &view.table)),
        tag: Some("diff"),
        columns: &columns,
        history: None,
        kinds: Some(&view.kinds),
    };
    ui.push_id(id, |ui| {
        ui.set_max_height(280.0);
        let rows = Changes(view, labels);
        if let Some(row) = memory_table_ui(ui, &look, Some(shell), &rows, Some(&labels), commands)
            && let Some(r) = view.rows.get(row)
        {
            push(
                commands,
                ExploreCommand::OpenRow {
                    table: view.table.clone(),
                    key: r.key.clone(),
                },
            );
        }
    });
}

/// The table explored: the one picked, or the model's first.
pub fn explored_table<'a>(panel: &ModelsPanel, view: &'a RowsView) -> Option<&'a super::TableRows> {
    match &panel.explore.table {
        Some(name) => view.tables.iter().find(|t| &t.name == name),
        None => view.tables.first(),
    }
}

/// Draws the explore section under the rows of a built model.
pub fn explore_ui(
    ui: &mut egui::Ui,
    panel: &ModelsPanel,
    view: &RowsView,
    shell: &Shell,
    commands: &mut Vec<UiCommand>,
) {
    let e = &panel.explore;
    let Some(table) = explored_table(panel, view) else {
        return;
    };
    ui.separator();
    ui.horizontal_wrapped(|ui| {
        ui.strong(t!("models-explore"));
        egui::ComboBox::from_id_salt("model_explore_table")
            .selected_text(t!("models-table", name = table.name))
            .show_ui(ui, |ui| {
                for t in &view.tables {
                    if ui.selectable_label(t.name == table.name, &t.name).clicked() {
                        push(commands, ExploreCommand::SetTable(t.name.clone()));
                    }
                }
            });
    });
    if let Some(error) = &e.error {
        ui.colored_label(ui.visuals().error_fg_color, error);
    }
    // Difference from a position to the rows' position.
    ui.horizontal_wrapped(|ui| {
        ui.label(t!("models-difference-from"));
        let mut from = e.from.clone();
        let field = ui.add(
            egui::TextEdit::singleline(&mut from)
                .id_salt("model_diff_from")
                .hint_text(t!("models-position"))
                .desired_width(80.0),
        );
        if field.changed() {
            push(commands, ExploreCommand::SetFrom(from));
        }
        ui.label(t!("models-to", at = view.at));
        let enter = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        if ui.button(t!("models-show-difference")).clicked() || enter {
            push(commands, ExploreCommand::ShowDiff);
        }
    });
    if let Some(diff) = &e.diff {
        let labels = DiffLabels {
            added: "added",
            removed: "removed",
            changed: "changed",
        };
        ui.label(t!("models-from-to", from = diff.from, to = diff.to));
        changes_ui(ui, "model_diff", diff, labels, shell, commands);
    }
    over_time_ui(ui, panel, table, commands);
    what_if_ui(ui, panel, shell, commands);
}

fn over_time_ui(
    ui: &mut egui::Ui,
    panel: &ModelsPanel,
    table: &super::TableRows,
    commands: &mut Vec<UiCommand>,
) {
    let e = &panel.explore;
    ui.horizontal_wrapped(|ui| {
        ui.label(t!("models-over-time"));
        if table.numeric.is_empty() {
            ui.label(t!("models-no-numeric", name = table.name));
            return;
        }
        egui::ComboBox::from_id_salt("model_series_column")
            .selected_text(
                e.column
                    .clone()
                    .unwrap_or_else(|| t!("models-pick-numeric")),
            )
            .show_ui(ui, |ui| {
                for c in &table.numeric {
                    if ui
                        .selectable_label(e.column.as_deref() == Some(c.as_str()), c)
                        .clicked()
                    {
                        push(commands, ExploreCommand::ShowSeries(c.clone()));
                    }
                }
            });
    });
    let Some(series) = &e.series else {
        return;
    };
    ui.label(t!(
        "models-sum-at",
        table = series.table,
        column = series.column,
        points = series.points.len()
    ));
    egui_plot::Plot::new("model_series_plot")
        .height(180.0)
        .include_y(0.0)
        .allow_scroll(false)
        .x_axis_label(t!("models-position"))
        .y_axis_label(series.column.clone())
        .show(ui, |plot_ui| {
            plot_ui.line(egui_plot::Line::new(
                format!("sum({})", series.column),
                &series.points[..],
            ));
        });
}

fn what_if_ui(
    ui: &mut egui::Ui,
    panel: &ModelsPanel,
    shell: &Shell,
    commands: &mut Vec<UiCommand>,
) {
    let e = &panel.explore;
    ui.horizontal_wrapped(|ui| {
        ui.label(t!("models-what-if-leave-out"));
        let mut exclude = e.exclude.clone();
        let field = ui.add(
            egui::TextEdit::singleline(&mut exclude)
                .id_salt("model_what_if_exclude")
                .hint_text(t!("models-what-if-hint"))
                .desired_width(140.0),
        );
        if field.changed() {
            push(commands, ExploreCommand::SetExclude(exclude));
        }
        let run = ui.add_enabled(
            e.simulating.is_none(),
            egui::Button::new(t!("models-run-what-if")),
        );
        if run.clicked() {
            push(commands, ExploreCommand::RunWhatIf);
        }
        if let Some(s) = &e.simulating {
            ui.spinner();
            let text = match &s.progress {
                Some(p) => format!(
                    "{} / {} · {:.0}/s{}",
                    p.position,
                    p.head,
                    p.rate_per_sec,
                    p.eta_secs
                        .map(|eta| format!(" · ETA {}", human_secs(eta)))
                        .unwrap_or_default()
                ),
                None => "starting…".into(),
            };
            ui.label(text);
            if ui.button(t!("models-cancel-what-if")).clicked() {
                push(commands, ExploreCommand::CancelWhatIf);
            }
        }
    });
    if let Some(w) = &e.what_if {
        ui.label(t!(
            "models-what-if-result",
            to = w.difference.to,
            real_rows = w.real_rows,
            simulated_rows = w.simulated_rows,
            excluded = w.excluded.len()
        ));
        let labels = DiffLabels {
            added: "only simulated",
            removed: "only real",
            changed: "differs",
        };
        changes_ui(ui, "model_what_if", &w.difference, labels, shell, commands);
    }
}

/// A row's versions as the shared table widget reads them.
struct Versions<'a>(&'a HistoryView);

impl MemoryRows for Versions<'_> {
    fn len(&self) -> usize {
        self.0.rows.len()
    }
    fn fingerprint(&self) -> u64 {
        let mut hasher = std::hash::DefaultHasher::new();
        (self.0.rows.as_ptr() as usize, self.0.rows.len()).hash(&mut hasher);
        hasher.finish()
    }
    fn cell(&self, row: usize, column: usize) -> Option<Cow<'_, str>> {
        Some(self.0.rows.get(row)?.cells.get(column)?.as_str().into())
    }
    fn matches(&self, row: usize, needle: &Needle) -> bool {
        self.0
            .rows
            .get(row)
            .is_some_and(|r| r.cells.iter().any(|c| needle.matches(c)))
    }
    fn kind(&self, _row: usize) -> Option<DiffKind> {
        None
    }
    fn line(&self, row: usize) -> Option<Line<'_>> {
        let r = self.0.rows.get(row)?;
        Some(Line {
            tag: None,
            cells: r
                .cells
                .iter()
                .zip(&r.old)
                .map(|(new, old)| Cell::changed(new, old.as_deref()))
                .collect(),
            key: None,
        })
    }
}

/// The row history window of a model's row, while one is open.
pub fn row_history_ui(ctx: &egui::Context, panel: &ModelsPanel, commands: &mut Vec<UiCommand>) {
    let Some((table, key)) = &panel.explore.row else {
        return;
    };
    let mut open = true;
    egui::Window::new(t!("models-row-history"))
        .id(egui::Id::unique("ledgerscope_model_row_history"))
        .open(&mut open)
        .default_width(900.0)
        .default_height(360.0)
        .default_pos([60.0, 120.0])
        .resizable(true)
        .show(ctx, |ui| {
            // A key column may hold a personal value: masked like the cells.
            let mask = crate::ui::mask::current(ui.ctx());
            let shown: Vec<String> = match &panel.explore.history {
                Some(h) => h
                    .key_columns
                    .iter()
                    .zip(key)
                    .map(|(c, k)| mask.cell(c, k).into_owned())
                    .collect(),
                // Named once the history (and so the key's columns) is read.
                None => Vec::new(),
            };
            ui.heading(t!(
                "models-history-title",
                model = panel.selected.as_deref().unwrap_or_default(),
                table = table,
                key = shown.join(", ")
            ));
            ui.label(
                egui::RichText::new(t!("models-history-note"))
                    .small()
                    .weak(),
            );
            match &panel.explore.history {
                None => {
                    ui.horizontal(|ui| {
                        ui.spinner();
                        ui.label(t!("models-reading-versions"));
                    });
                }
                Some(h) if h.rows.is_empty() => {
                    ui.label(t!("models-no-event-made-row"));
                }
                Some(h) => {
                    ui.label(t!("models-versions", rows = h.rows.len()));
                    let columns: Vec<&str> = h.columns.iter().map(String::as_str).collect();
                    let look = TableLook {
                        id: egui::Id::unique("model_row_history_versions"),
                        tag: None,
                        columns: &columns,
                        history: None,
                        kinds: Some(&h.kinds),
                    };
                    memory_table_ui(ui, &look, None, &Versions(h), None, commands);
                }
            }
        });
    if !open {
        push(commands, ExploreCommand::CloseRow);
    }
}
