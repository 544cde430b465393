//! Drawing a data table: only the rows in view are laid out, columns size
//! to the rows in view (the table scrolls sideways when they are wide), a
//! click on a header sorts by it (again: the other way, a third time: the
//! table's own order), a right-click copies a cell or the row, and a changed
//! cell shows its old value struck through beside the new one, in full.

use crate::ui::i18n::t;
use egui_extras::{Column, TableBuilder};
use uuid::Uuid;

use super::line::{Cell, ColumnKind, DiffLabels, Line, kind_color, short_id};
use crate::domain::Table;
use crate::domain::state::DiffKind;
use crate::engine::view_order::{KindFilter, SortBy};
use crate::ui::app::Shell;
use crate::ui::command::{ShellCommand, UiCommand};
use crate::ui::panels::history::HistoryCommand;
use crate::ui::widgets::draft_field::draft_field_ui;
use crate::ui::widgets::palette;
use crate::ui::widgets::search_field::search_field_ui;

/// Row height.
pub const ROW_HEIGHT: f32 = 20.0;

/// What a table shows: its id, its columns and what its keys link to.
#[derive(Clone, Copy, Debug)]
pub struct TableLook<'a> {
    /// Its id (column widths and scroll offsets are kept under it).
    pub id: egui::Id,
    /// The header of the leading tag column (`diff`), if rows have tags.
    pub tag: Option<&'a str>,
    /// Its columns.
    pub columns: &'a [&'a str],
    /// The table whose row history a key opens (`None`: keys link nowhere).
    pub history: Option<Table>,
    /// What each column holds, when not told by its name
    /// ([`ColumnKind::of`]).
    pub kinds: Option<&'a [ColumnKind]>,
}

/// Row `i` of the display order.
pub enum Slot<'a> {
    /// The row, ready to draw.
    Line(Line<'a>),
    /// Not read yet: a placeholder, reported for the caller to fetch.
    Loading,
    /// Nothing to draw (the two sides turned out equal).
    Empty,
}

/// What drawing a table asked for.
#[derive(Debug, Default)]
pub struct TableOutput {
    /// A header was clicked: the sort wanted now.
    pub sort: Option<Option<SortBy>>,
    /// Rows drawn as placeholders, for the caller to fetch.
    pub not_loaded: Vec<usize>,
    /// The row (in display order) whose [`ColumnKind::RowLink`] was clicked.
    pub linked: Option<usize>,
}

/// The sort after a click on `column`'s header: ascending, then
/// descending, then the table's own order.
pub fn next_sort(current: Option<SortBy>, column: usize) -> Option<SortBy> {
    match current {
        Some(s) if s.column == column && !s.descending => Some(SortBy {
            column,
            descending: true,
        }),
        Some(s) if s.column == column => None,
        _ => Some(SortBy {
            column,
            descending: false,
        }),
    }
}

/// A header: its name, a click sorts by it; when sorted by it, a small
/// triangle beside the name points up (smallest first) or down.
fn header_ui(ui: &mut egui::Ui, name: &str, index: usize, sort: Option<SortBy>) -> bool {
    let way = sort.filter(|s| s.column == index).map(|s| s.descending);
    let hover = match way {
        Some(false) => format!("Sorted by {name}, smallest first: click for largest first"),
        Some(true) => format!("Sorted by {name}, largest first: click for the table's own order"),
        None => format!("Sort by {name}"),
    };
    let clicked = ui
        .add(egui::Button::new(egui::RichText::new(name).strong()).frame(false))
        .on_hover_text(hover)
        .clicked();
    if let Some(descending) = way {
        let (rect, _) = ui.allocate_exact_size(egui::vec2(9.0, 9.0), egui::Sense::hover());
        let (top, bottom) = (rect.top() + 1.0, rect.bottom() - 1.0);
        let (tip, base) = if descending {
            (bottom, top)
        } else {
            (top, bottom)
        };
        let points = vec![
            egui::pos2(rect.center().x, tip),
            egui::pos2(rect.left(), base),
            egui::pos2(rect.right(), base),
        ];
        let color = ui.visuals().strong_text_color();
        ui.painter().add(egui::Shape::convex_polygon(
            points,
            color,
            egui::Stroke::NONE,
        ));
    }
    clicked
}

fn event_link_ui(ui: &mut egui::Ui, text: &str, struck: bool, commands: &mut Vec<UiCommand>) {
    let mut rich = egui::RichText::new(text);
    if struck {
        rich = rich.strikethrough().weak();
    }
    match text.parse::<u64>() {
        Ok(position) if position > 0 => {
            if ui
                .link(rich)
                .on_hover_text(t!("table-show-event", position = position))
                .clicked()
            {
                commands.push(ShellCommand::ShowEvent(position).into());
            }
        }
        _ => {
            ui.label(rich);
        }
    }
}

fn old_ui(ui: &mut egui::Ui, old: &str, kind: ColumnKind) {
    let shown = match kind {
        ColumnKind::Key(_) | ColumnKind::Id | ColumnKind::RowLink => short_id(old),
        ColumnKind::Event | ColumnKind::Text => old.into(),
    };
    let color = ui.visuals().text_color();
    ui.label(
        egui::RichText::new(shown.as_ref())
            .strikethrough()
            .color(color),
    )
    .on_hover_text(t!("table-before", old = old));
}

/// Draws a cell; true when its [`ColumnKind::RowLink`] was clicked.
fn cell_ui(
    ui: &mut egui::Ui,
    cell: &Cell<'_>,
    kind: ColumnKind,
    key: Option<Uuid>,
    commands: &mut Vec<UiCommand>,
) -> bool {
    if cell.old.is_some() {
        ui.painter()
            .rect_filled(ui.max_rect(), 2.0, palette(ui.visuals()).changed_bg);
    }
    match kind {
        ColumnKind::Event => {
            if let Some(old) = &cell.old {
                event_link_ui(ui, old, true, commands);
            }
            event_link_ui(ui, &cell.text, false, commands);
        }
        ColumnKind::Key(Some(table)) if key.is_some() => {
            if let Some(old) = &cell.old {
                old_ui(ui, old, kind);
            }
            if let Some(key) = key
                && ui
                    .link(short_id(&cell.text).as_ref())
                    .on_hover_text(t!("table-row-history-hover", text = cell.text))
                    .clicked()
            {
                commands.push(HistoryCommand::Open(table, key).into());
            }
        }
        ColumnKind::RowLink => {
            if let Some(old) = &cell.old {
                old_ui(ui, old, kind);
            }
            return ui
                .link(short_id(&cell.text).as_ref())
                .on_hover_text(t!("table-row-history-hover", text = cell.text))
                .clicked();
        }
        ColumnKind::Key(_) | ColumnKind::Id => {
            if let Some(old) = &cell.old {
                old_ui(ui, old, kind);
            }
            ui.label(short_id(&cell.text).as_ref())
                .on_hover_text(cell.text.as_ref());
        }
        ColumnKind::Text => {
            if let Some(old) = &cell.old {
                old_ui(ui, old, kind);
                ui.label(egui::RichText::new(cell.text.as_ref()).strong());
            } else {
                ui.label(cell.text.as_ref());
            }
        }
    }
    false
}

fn copy_menu_ui(ui: &mut egui::Ui, line: &Line<'_>, cell: Option<&Cell<'_>>, look: &TableLook<'_>) {
    if let Some(cell) = cell {
        if ui.button(t!("table-copy-cell")).clicked() {
            ui.ctx().copy_text(cell.text.to_string());
            ui.close();
        }
        if let Some(old) = &cell.old
            && ui.button(t!("table-copy-old-value")).clicked()
        {
            ui.ctx().copy_text(old.to_string());
            ui.close();
        }
    }
    if ui
        .button(t!("table-copy-row"))
        .on_hover_text(t!("table-copy-row-hover"))
        .clicked()
    {
        ui.ctx().copy_text(line.copy_text(look.tag, look.columns));
        ui.close();
    }
}

/// `line` with the cells of personal columns masked.
fn masked_line<'a>(
    mut line: Line<'a>,
    columns: &[&str],
    personal: &[bool],
    mask: &crate::domain::mask::Mask,
) -> Line<'a> {
    if !personal.contains(&true) {
        return line;
    }
    for ((cell, column), _) in line
        .cells
        .iter_mut()
        .zip(columns)
        .zip(personal)
        .filter(|(_, personal)| **personal)
    {
        cell.text = std::borrow::Cow::Owned(mask.cell(column, &cell.text).into_owned());
        if let Some(old) = &cell.old {
            cell.old = Some(std::borrow::Cow::Owned(mask.cell(column, old).into_owned()));
        }
    }
    line
}

/// Draws `rows` rows (the display order's length), row `i` given by
/// `slot(i)`, with `sort` marked on its header. Returns the header clicked
/// and the rows not read yet.
pub fn table_ui<'a>(
    ui: &mut egui::Ui,
    look: &TableLook<'_>,
    sort: Option<SortBy>,
    rows: usize,
    mut slot: impl FnMut(usize) -> Slot<'a>,
    commands: &mut Vec<UiCommand>,
) -> TableOutput {
    let mut out = TableOutput::default();
    let kinds: Vec<ColumnKind> = match look.kinds {
        Some(kinds) => kinds.to_vec(),
        None => look
            .columns
            .iter()
            .enumerate()
            .map(|(i, name)| ColumnKind::of(name, i == 0, look.history))
            .collect(),
    };
    let count = kinds.len() + usize::from(look.tag.is_some());
    let height = ui.available_height().max(120.0);
    // Personal columns (by the declared fields' names) show pseudonyms
    // when masking: drawn, copied and hovered alike.
    let mask = crate::ui::mask::current(ui.ctx());
    let personal: Vec<bool> = look
        .columns
        .iter()
        .map(|name| mask.is_on() && crate::domain::mask::column_kind(name).is_some())
        .collect();
    egui::ScrollArea::horizontal()
        .id_salt(look.id.with("sideways"))
        .auto_shrink([false, true])
        .show(ui, |ui| {
            // Right-click on a cell copies; text selection would take it.
            ui.style_mut().interaction.selectable_labels = false;
            let colors = palette(ui.visuals());
            let mut builder = TableBuilder::new(ui)
                .id_salt(look.id)
                .striped(true)
                .sense(egui::Sense::click())
                .auto_shrink([false, true])
                .max_scroll_height(height)
                .cell_layout(egui::Layout::left_to_right(egui::Align::Center));
            if look.tag.is_some() {
                builder = builder.column(Column::auto().at_least(60.0));
            }
            for kind in &kinds {
                let least = match kind {
                    ColumnKind::Key(_) | ColumnKind::Id | ColumnKind::RowLink => 80.0,
                    ColumnKind::Event | ColumnKind::Text => 50.0,
                };
                builder = builder.column(Column::auto().at_least(least));
            }
            builder
                .header(22.0, |mut header| {
                    if let Some(tag) = look.tag {
                        header.col(|ui| {
                            ui.strong(tag);
                        });
                    }
                    for (i, name) in look.columns.iter().enumerate() {
                        header.col(|ui| {
                            if header_ui(ui, name, i, sort) {
                                out.sort = Some(next_sort(sort, i));
                            }
                        });
                    }
                })
                .body(|body| {
                    body.rows(ROW_HEIGHT, rows, |mut row| {
                        let index = row.index();
                        let line = match slot(index) {
                            Slot::Line(line) => masked_line(line, look.columns, &personal, &mask),
                            Slot::Loading => {
                                out.not_loaded.push(index);
                                for _ in 0..count {
                                    row.col(|ui| {
                                        ui.label(egui::RichText::new("…").weak());
                                    });
                                }
                                return;
                            }
                            Slot::Empty => {
                                for _ in 0..count {
                                    row.col(|_| {});
                                }
                                return;
                            }
                        };
                        if let Some((tag, kind)) = line.tag {
                            let color = kind_color(kind, colors);
                            let (_, response) = row.col(|ui| {
                                ui.label(egui::RichText::new(tag).color(color).strong());
                            });
                            response
                                .container_context_menu(|ui| copy_menu_ui(ui, &line, None, look));
                        } else if look.tag.is_some() {
                            row.col(|_| {});
                        }
                        for (i, kind) in kinds.iter().enumerate() {
                            let cell = line.cells.get(i).cloned().unwrap_or(Cell::plain(""));
                            let (_, response) = row.col(|ui| {
                                if cell_ui(ui, &cell, *kind, line.key, commands) {
                                    out.linked = Some(index);
                                }
                            });
                            response.container_context_menu(|ui| {
                                copy_menu_ui(ui, &line, Some(&cell), look)
                            });
                        }
                    });
                });
        });
    out
}

/// The search box of a table (Ctrl+F focuses it when the shell is given),
/// with a button to clear it and `status` (how many rows match) beside it.
/// The new text when it changed.
pub fn search_bar_ui(
    ui: &mut egui::Ui,
    shell: Option<&Shell>,
    search: &str,
    status: Option<&str>,
) -> Option<String> {
    let hint = "key prefix or any cell's text";
    let (_, mut changed) = match shell {
        Some(shell) => search_field_ui(ui, shell, search, hint, 210.0),
        None => draft_field_ui(ui, search, hint, 210.0),
    };
    if !search.is_empty()
        && ui
            .small_button("×")
            .on_hover_text(t!("table-clear-search"))
            .clicked()
    {
        changed = Some(String::new());
    }
    if let Some(status) = status {
        ui.label(egui::RichText::new(status).small().weak());
    }
    changed
}

/// The filter chips of a difference: one per kind of row, with its count;
/// a click shows or hides that kind. The filter wanted when one was clicked.
pub fn kind_chips_ui(
    ui: &mut egui::Ui,
    kinds: KindFilter,
    counts: (usize, usize, usize),
    labels: &DiffLabels<'_>,
) -> Option<KindFilter> {
    let mut wanted = None;
    for (kind, label, count, on) in [
        (DiffKind::Added, labels.added, counts.0, kinds.added),
        (DiffKind::Removed, labels.removed, counts.1, kinds.removed),
        (DiffKind::Changed, labels.changed, counts.2, kinds.changed),
    ] {
        // A kind with no rows has nothing to hide (one hidden stays, to show
        // it again).
        if count == 0 && on {
            continue;
        }
        if ui
            .selectable_label(on, format!("{label} {count}"))
            .on_hover_text(if on {
                t!("table-hide-rows", label = label)
            } else {
                t!("table-show-rows", label = label)
            })
            .clicked()
        {
            wanted = Some(kinds.toggled(kind));
        }
    }
    wanted
}

/// `12 of 300 rows match`, or `300 rows`.
pub fn match_status(shown: usize, total: usize, filtered: bool) -> String {
    let rows = if total == 1 { "row" } else { "rows" };
    match (filtered, shown) {
        (true, 1) if total == 1 => "1 of 1 row matches".into(),
        (true, 1) => format!("1 of {total} rows matches"),
        (true, _) => format!("{shown} of {total} {rows} match"),
        (false, _) => format!("{total} {rows}"),
    }
}
