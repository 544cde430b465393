//! Time travel: a scrubber over positions (step, play/pause with speed, jump
//! to start/end, follow-live, typed position or time), the state as of the
//! cursor in virtual tables, the difference against now or a pinned position,
//! a link from every row to the event that last changed it, and bookmarks.

use egui_extras::{Column, TableBuilder};

use crate::domain::{BookingRow, UserRow};
use crate::ui::commands::{DraftField, UiCommand};
use crate::ui::data::TravelView;
use crate::ui::state::{DiffAgainst, TableKind};
use crate::ui::view::View;
use crate::ui::widgets::diff_table::{DiffLabels, KeyDiffTable, diff_table_ui};
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
    travel: &TravelView,
    table: TableKind,
    commands: &mut Vec<UiCommand>,
) {
    let (columns, count): (&[&str], usize) = match table {
        TableKind::Users => (&UserRow::COLUMNS, travel.user_keys.len()),
        TableKind::Bookings => (&BookingRow::COLUMNS, travel.booking_keys.len()),
    };
    if count == 0 {
        ui.label("No rows at this position.");
        return;
    }
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
                let index = row.index();
                let (cells, last) = match table {
                    TableKind::Users => match travel
                        .user_keys
                        .get(index)
                        .and_then(|k| travel.state.users.get(k))
                    {
                        Some(r) => (r.cells(), r.last_position),
                        None => return,
                    },
                    TableKind::Bookings => {
                        match travel
                            .booking_keys
                            .get(index)
                            .and_then(|k| travel.state.bookings.get(k))
                        {
                            Some(r) => (r.cells(), r.last_position),
                            None => return,
                        }
                    }
                };
                let n = cells.len();
                for (i, cell) in cells.into_iter().enumerate() {
                    row.col(|ui| {
                        if i + 1 == n {
                            if ui
                                .link(cell)
                                .on_hover_text(format!(
                                    "Show event {last} (it last changed this row) in the timeline"
                                ))
                                .clicked()
                            {
                                commands.push(UiCommand::JumpToPosition(last));
                            }
                        } else if cell.len() == 36 {
                            ui.label(&cell[..8]).on_hover_text(cell);
                        } else {
                            ui.add(egui::Label::new(cell).truncate());
                        }
                    });
                }
            });
        });
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
    });
    if view.state.travel_show_state {
        state_table_ui(ui, travel, view.state.travel_table, commands);
    } else {
        match &travel.diff {
            Some((reference, rows)) => {
                let index = match view.state.travel_table {
                    TableKind::Users => 0,
                    TableKind::Bookings => 1,
                };
                {
                    let table = KeyDiffTable {
                        diff: &rows.diff,
                        table: index,
                    };
                    let added = format!("added by {reference}");
                    let removed = format!("gone by {reference}");
                    diff_table_ui(
                        ui,
                        "travel_diff",
                        &table,
                        DiffLabels {
                            added: &added,
                            removed: &removed,
                            changed: "changed",
                        },
                        commands,
                    );
                }
            }
            None => {
                ui.spinner();
            }
        }
    }
}
