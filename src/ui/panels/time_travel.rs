//! Time travel: a scrubber over positions (step, play/pause with speed, jump
//! to start/end, follow-live, typed position or time), the state as of the
//! cursor in virtual tables, the difference against now or a pinned position,
//! a link from every row to the event that last changed it, and bookmarks.
//! The state and the difference are lazy views: the tables read the rows in
//! view a page at a time (placeholders until they arrive).

use egui_extras::{Column, TableBuilder};

use crate::ui::commands::{DiffList, DraftField, UiCommand};
use crate::ui::data::{TravelView, table_columns, table_slot};
use crate::ui::page_cache::page_of;
use crate::ui::state::{DiffAgainst, TableKind};
use crate::ui::view::View;
use crate::ui::widgets::diff_table::paged_diff_ui;
use crate::ui::widgets::draft_field::draft_field_ui;
use crate::ui::widgets::inline_error_ui;

fn controls_ui(ui: &mut egui::Ui, view: &View, commands: &mut Vec<UiCommand>) {
    let head = view.data.head;
    let cursor = view.state.cursor.min(head);
    ui.horizontal_wrapped(|ui| {
        if ui
            .button("|< Start")
            .on_hover_text("Jump to position 0")
            .clicked()
        {
            commands.push(UiCommand::SetCursor(0));
        }
        if ui
            .button("< Step")
            .on_hover_text("One event back")
            .clicked()
        {
            commands.push(UiCommand::StepCursor(-1));
        }
        let playing = view.state.playing;
        if ui.button(if playing { "Pause" } else { "Play" }).clicked() {
            commands.push(UiCommand::SetPlaying(!playing));
        }
        if ui
            .button("Step >")
            .on_hover_text("One event forward")
            .clicked()
        {
            commands.push(UiCommand::StepCursor(1));
        }
        if ui
            .button("End >|")
            .on_hover_text("Jump to the head")
            .clicked()
        {
            commands.push(UiCommand::SetCursor(head));
        }
        ui.label("Speed");
        let mut speed = view.state.play_speed_eps;
        if ui
            .add(
                egui::DragValue::new(&mut speed)
                    .range(0.1..=100_000.0)
                    .speed(1.0)
                    .suffix(" ev/s"),
            )
            .changed()
        {
            commands.push(UiCommand::SetSpeed(speed));
        }
        let mut follow = view.state.travel_follow;
        if ui.checkbox(&mut follow, "Follow live").changed() {
            commands.push(UiCommand::SetTravelFollow(follow));
        }
        ui.separator();
        ui.label("Go to");
        let r = draft_field_ui(
            ui,
            view,
            DraftField::TravelGoto,
            "position or 2026-03-01 14:30",
            170.0,
            commands,
        );
        if ui.button("Go").clicked()
            || (r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)))
        {
            commands.push(UiCommand::GoTyped);
        }
    });
    inline_error_ui(ui, view, "goto");
    ui.horizontal(|ui| {
        let mut value = cursor;
        ui.spacing_mut().slider_width = (ui.available_width() - 130.0).max(100.0);
        if ui
            .add(
                egui::Slider::new(&mut value, 0..=head.max(1))
                    .text("position")
                    .clamping(egui::SliderClamping::Always),
            )
            .changed()
        {
            commands.push(UiCommand::SetCursor(value.min(head)));
        }
    });
}

fn compare_controls_ui(ui: &mut egui::Ui, view: &View, commands: &mut Vec<UiCommand>) {
    ui.horizontal_wrapped(|ui| {
        ui.label("Difference against");
        if ui
            .radio(
                view.state.diff_against == DiffAgainst::Now,
                format!("now (head {})", view.data.head),
            )
            .clicked()
        {
            commands.push(UiCommand::SetDiffAgainst(DiffAgainst::Now));
        }
        match view.state.pinned {
            Some(p) => {
                if ui
                    .radio(
                        view.state.diff_against == DiffAgainst::Pinned,
                        format!("pinned {p}"),
                    )
                    .clicked()
                {
                    commands.push(UiCommand::SetDiffAgainst(DiffAgainst::Pinned));
                }
                if ui.small_button("unpin").clicked() {
                    commands.push(UiCommand::Unpin);
                }
            }
            None => {
                ui.add_enabled(false, egui::RadioButton::new(false, "pinned"))
                    .on_disabled_hover_text("Pin a position first");
            }
        }
        if ui.button("Pin this position").clicked() {
            commands.push(UiCommand::Pin);
        }
        ui.separator();
        ui.label("Bookmark");
        draft_field_ui(ui, view, DraftField::BookmarkName, "name", 100.0, commands);
        if ui.button("Add").clicked() {
            commands.push(UiCommand::AddBookmark);
        }
        for (i, bookmark) in view.state.bookmarks.iter().enumerate() {
            if ui
                .button(format!("{} @{}", bookmark.name, bookmark.position))
                .on_hover_text("Go there (right-click to remove)")
                .clicked()
            {
                commands.push(UiCommand::SetCursor(bookmark.position));
            }
            if ui
                .small_button("×")
                .on_hover_text(format!("Remove bookmark '{}'", bookmark.name))
                .clicked()
            {
                commands.push(UiCommand::RemoveBookmark(i));
            }
        }
    });
}

fn summary_ui(ui: &mut egui::Ui, view: &View, travel: &TravelView) {
    let c = &travel.counts;
    let statuses = c
        .bookings_by_status
        .iter()
        .map(|(s, n)| format!("{n} {s}"))
        .collect::<Vec<_>>()
        .join(", ");
    ui.horizontal_wrapped(|ui| {
        ui.label(egui::RichText::new(format!("State at position {}", travel.position)).strong());
        ui.label(format!(
            "users {} · bookings {} ({statuses})",
            c.users, c.bookings
        ));
        ui.label(
            egui::RichText::new(format!("{}; {} ms", travel.base, travel.elapsed_ms))
                .small()
                .weak(),
        );
        if view.data.travel_pending.is_some() {
            ui.spinner();
        }
    });
    if let Some((reference, rows)) = &travel.diff {
        let text = rows
            .counts
            .iter()
            .map(|(t, a, r, ch)| format!("{t}: +{a} −{r} ~{ch}"))
            .collect::<Vec<_>>()
            .join("   ");
        ui.label(format!(
            "Changes from {} to {reference}: {text}",
            travel.position
        ));
    }
}

fn state_table_ui(
    ui: &mut egui::Ui,
    view: &View,
    travel: &TravelView,
    table: TableKind,
    commands: &mut Vec<UiCommand>,
) {
    let columns = table_columns(table);
    let count = travel.len(table);
    if count == 0 {
        ui.label("No rows at this position.");
        return;
    }
    let rows = &view.data.travel_rows[table_slot(table)];
    let mut builder = TableBuilder::new(ui)
        .id_salt(("travel_state", table == TableKind::Users))
        .striped(true)
        .resizable(true)
        .auto_shrink([false, false]);
    for (i, name) in columns.iter().enumerate() {
        let width = match *name {
            "user_id" | "booking_id" => 85.0,
            "email" => 220.0,
            "address" | "name" | "service" => 140.0,
            _ => 85.0,
        };
        builder = builder.column(if i + 1 == columns.len() {
            Column::remainder().at_least(80.0)
        } else {
            Column::initial(width).at_least(40.0).clip(true)
        });
    }
    let mut wanted_pages: Vec<u64> = Vec::new();
    builder
        .header(22.0, |mut header| {
            for name in columns {
                header.col(|ui| {
                    ui.strong(*name);
                });
            }
        })
        .body(|body| {
            body.rows(20.0, count, |mut row| {
                let index = row.index() as u64;
                let Some(state_row) = rows.row(index) else {
                    let page = page_of(index);
                    if !wanted_pages.contains(&page) {
                        wanted_pages.push(page);
                    }
                    for _ in columns {
                        row.col(|ui| {
                            ui.label(egui::RichText::new("…").weak());
                        });
                    }
                    return;
                };
                let last = state_row.last_position;
                let n = state_row.cells.len();
                for (i, cell) in state_row.cells.iter().enumerate() {
                    row.col(|ui| {
                        if i + 1 == n {
                            if ui
                                .link(cell.as_str())
                                .on_hover_text(format!(
                                    "Show event {last} (it last changed this row) in the timeline"
                                ))
                                .clicked()
                            {
                                commands.push(UiCommand::JumpToPosition(last));
                            }
                        } else if cell.len() == 36 && cell.is_char_boundary(8) {
                            ui.label(&cell[..8]).on_hover_text(cell.as_str());
                        } else {
                            ui.add(egui::Label::new(cell.as_str()).truncate());
                        }
                    });
                }
            });
        });
    commands.extend(
        wanted_pages
            .into_iter()
            .map(|page| UiCommand::FetchStatePage { table, page }),
    );
}

fn travel_diff_ui(
    ui: &mut egui::Ui,
    view: &View,
    travel: &TravelView,
    commands: &mut Vec<UiCommand>,
) {
    let Some((reference, rows)) = &travel.diff else {
        ui.spinner();
        return;
    };
    let table = view.state.travel_table;
    paged_diff_ui(
        ui,
        view,
        ("travel_diff", DiffList::Travel, table),
        rows.len(table),
        *reference,
        commands,
    );
}

/// True while rows of the table on screen are being read.
fn rows_pending(view: &View) -> bool {
    let table = view.state.travel_table;
    if view.state.travel_show_state {
        view.data.travel_rows[table_slot(table)].any_pending()
    } else {
        view.data.diff_rows(DiffList::Travel, table).any_pending()
    }
}

/// Draws the time-travel panel.
pub fn time_travel_ui(ui: &mut egui::Ui, view: &View, commands: &mut Vec<UiCommand>) {
    controls_ui(ui, view, commands);
    compare_controls_ui(ui, view, commands);
    inline_error_ui(ui, view, "travel");
    ui.separator();
    let Some(travel) = &view.data.travel else {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label("Computing the state…");
        });
        return;
    };
    summary_ui(ui, view, travel);
    ui.horizontal(|ui| {
        for (table, name) in [
            (TableKind::Users, "users"),
            (TableKind::Bookings, "bookings"),
        ] {
            if ui
                .selectable_label(view.state.travel_table == table, name)
                .clicked()
            {
                commands.push(UiCommand::SetTravelTable(table));
            }
        }
        ui.separator();
        if ui
            .selectable_label(view.state.travel_show_state, "rows at this position")
            .clicked()
        {
            commands.push(UiCommand::SetTravelShowState(true));
        }
        if ui
            .selectable_label(!view.state.travel_show_state, "difference")
            .clicked()
        {
            commands.push(UiCommand::SetTravelShowState(false));
        }
        if rows_pending(view) {
            ui.spinner();
            ui.label(egui::RichText::new("reading rows…").small().weak());
        }
    });
    if view.state.travel_show_state {
        state_table_ui(ui, view, travel, view.state.travel_table, commands);
    } else {
        travel_diff_ui(ui, view, travel, commands);
    }
}
