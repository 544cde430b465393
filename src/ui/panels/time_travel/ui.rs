//! Drawing time travel.

use egui_extras::{Column, TableBuilder};

use super::{DiffAgainst, TimeTravelCommand as C, TimeTravelPanel, TravelField, TravelView};
use crate::domain::Table;
use crate::ui::app::Shell;
use crate::ui::command::{ShellCommand, UiCommand};
use crate::ui::jobs::JobKind;
use crate::ui::page_cache::page_of;
use crate::ui::panels::history::HistoryCommand;
use crate::ui::widgets::diff_table::paged_diff_ui;
use crate::ui::widgets::draft_field::draft_field_ui;
use crate::ui::widgets::inline_error_ui;

fn push(commands: &mut Vec<UiCommand>, command: C) {
    commands.push(command.into());
}

fn controls_ui(
    ui: &mut egui::Ui,
    panel: &TimeTravelPanel,
    shell: &Shell,
    commands: &mut Vec<UiCommand>,
) {
    let head = shell.head;
    let cursor = panel.cursor.min(head);
    ui.horizontal_wrapped(|ui| {
        if ui
            .button("|< Start")
            .on_hover_text("Jump to position 0")
            .clicked()
        {
            push(commands, C::SetCursor(0));
        }
        if ui
            .button("< Step")
            .on_hover_text("One event back")
            .clicked()
        {
            push(commands, C::StepCursor(-1));
        }
        let playing = panel.playing;
        if ui.button(if playing { "Pause" } else { "Play" }).clicked() {
            push(commands, C::SetPlaying(!playing));
        }
        if ui
            .button("Step >")
            .on_hover_text("One event forward")
            .clicked()
        {
            push(commands, C::StepCursor(1));
        }
        if ui
            .button("End >|")
            .on_hover_text("Jump to the head")
            .clicked()
        {
            push(commands, C::SetCursor(head));
        }
        ui.label("Speed");
        let mut speed = panel.play_speed_eps;
        if ui
            .add(
                egui::DragValue::new(&mut speed)
                    .range(0.1..=100_000.0)
                    .speed(1.0)
                    .suffix(" ev/s"),
            )
            .changed()
        {
            push(commands, C::SetSpeed(speed));
        }
        let mut follow = panel.follow;
        if ui.checkbox(&mut follow, "Follow live").changed() {
            push(commands, C::SetFollow(follow));
        }
        ui.separator();
        ui.label("Go to");
        let (r, changed) = draft_field_ui(ui, &panel.goto, "position or 2026-03-01 14:30", 170.0);
        if let Some(text) = changed {
            push(commands, C::SetDraft(TravelField::Goto, text));
        }
        if ui.button("Go").clicked()
            || (r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)))
        {
            push(commands, C::GoTyped);
        }
    });
    inline_error_ui(ui, panel.goto_error.as_ref());
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
            push(commands, C::SetCursor(value.min(head)));
        }
    });
}

fn compare_controls_ui(
    ui: &mut egui::Ui,
    panel: &TimeTravelPanel,
    shell: &Shell,
    commands: &mut Vec<UiCommand>,
) {
    ui.horizontal_wrapped(|ui| {
        ui.label("Difference against");
        if ui
            .radio(
                panel.diff_against == DiffAgainst::Now,
                format!("now (head {})", shell.head),
            )
            .clicked()
        {
            push(commands, C::SetDiffAgainst(DiffAgainst::Now));
        }
        match panel.pinned {
            Some(p) => {
                if ui
                    .radio(
                        panel.diff_against == DiffAgainst::Pinned,
                        format!("pinned {p}"),
                    )
                    .clicked()
                {
                    push(commands, C::SetDiffAgainst(DiffAgainst::Pinned));
                }
                if ui.small_button("unpin").clicked() {
                    push(commands, C::Unpin);
                }
            }
            None => {
                ui.add_enabled(false, egui::RadioButton::new(false, "pinned"))
                    .on_disabled_hover_text("Pin a position first");
            }
        }
        if ui.button("Pin this position").clicked() {
            push(commands, C::Pin);
        }
    });
}

fn summary_ui(ui: &mut egui::Ui, panel: &TimeTravelPanel, travel: &TravelView, head: u64) {
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
        if panel.travel.is_asked() {
            ui.spinner();
        }
    });
    if let Some((reference, rows)) = &travel.diff {
        let text = rows.counts_text();
        ui.horizontal_wrapped(|ui| {
            ui.label(format!(
                "Changes from {} to {reference}: {text}",
                travel.position
            ));
            // The last difference stays while the one asked for is read.
            let wanted = panel.wanted_reference(head);
            if *reference != wanted {
                ui.label(
                    egui::RichText::new(format!(
                        "(the difference against {wanted} follows once the state there is read)"
                    ))
                    .small()
                    .weak(),
                );
            }
        });
    }
}

fn state_table_ui(
    ui: &mut egui::Ui,
    travel: &TravelView,
    table: Table,
    commands: &mut Vec<UiCommand>,
) {
    let columns = table.columns();
    let count = travel.len(table);
    if count == 0 {
        ui.label("No rows at this position.");
        return;
    }
    let rows = travel.rows(table);
    let mut builder = TableBuilder::new(ui)
        .id_salt(("travel_state", table == Table::Users))
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
                                commands.push(ShellCommand::ShowEvent(last).into());
                            }
                        } else if i == 0
                            && let Ok(key) = uuid::Uuid::parse_str(cell)
                        {
                            if ui
                                .link(&cell[..8])
                                .on_hover_text(format!(
                                    "{cell}: show every version of this row (row history)"
                                ))
                                .clicked()
                            {
                                commands.push(HistoryCommand::Open(table, key).into());
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
            .map(|page| C::FetchStatePage(table, page).into()),
    );
}

fn travel_diff_ui(
    ui: &mut egui::Ui,
    panel: &TimeTravelPanel,
    travel: &TravelView,
    commands: &mut Vec<UiCommand>,
) {
    let Some((reference, rows)) = &travel.diff else {
        ui.spinner();
        return;
    };
    let table = panel.table;
    paged_diff_ui(
        ui,
        "travel_diff",
        rows.source(table),
        *reference,
        |page| C::FetchDiffPage(table, page).into(),
        commands,
    );
}

/// True while rows of the table on screen are being read.
fn rows_pending(panel: &TimeTravelPanel, travel: &TravelView) -> bool {
    let table = panel.table;
    if panel.show_state {
        travel.rows(table).any_pending()
    } else {
        travel
            .diff
            .as_ref()
            .is_some_and(|(_, d)| d.pages(table).any_pending())
    }
}

/// Draws the time-travel panel.
pub fn time_travel_ui(
    ui: &mut egui::Ui,
    panel: &TimeTravelPanel,
    shell: &Shell,
    commands: &mut Vec<UiCommand>,
) {
    controls_ui(ui, panel, shell, commands);
    compare_controls_ui(ui, panel, shell, commands);
    super::bookmarks::bookmarks_ui(ui, panel, shell, commands);
    if shell.jobs.running(JobKind::HistoryPass) {
        // The ledger is being read once into a history snapshot; a position
        // no snapshot holds yet is read from what the pass has folded.
        crate::ui::widgets::job_progress::job_progress_ui(
            ui,
            &shell.jobs,
            JobKind::HistoryPass,
            commands,
        );
        ui.label(
            egui::RichText::new(
                "The ledger is being read once into a history snapshot. Until it is saved, a position no snapshot holds is read from what the pass has folded (past its progress, the query waits for it); afterwards any position up to the head is read straight from the history snapshot.",
            )
            .small()
            .weak(),
        );
    }
    inline_error_ui(ui, panel.error.as_ref());
    inline_error_ui(ui, panel.rows_error.as_ref());
    ui.separator();
    let Some(travel) = panel.travel.value() else {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label("Computing the state…");
        });
        return;
    };
    summary_ui(ui, panel, travel, shell.head);
    ui.horizontal(|ui| {
        for table in Table::ALL {
            if ui
                .selectable_label(panel.table == table, table.name())
                .clicked()
            {
                push(commands, C::SetTable(table));
            }
        }
        ui.separator();
        if ui
            .selectable_label(panel.show_state, "rows at this position")
            .clicked()
        {
            push(commands, C::SetShowState(true));
        }
        if ui
            .selectable_label(!panel.show_state, "difference")
            .clicked()
        {
            push(commands, C::SetShowState(false));
        }
        if rows_pending(panel, travel) {
            ui.spinner();
            ui.label(egui::RichText::new("reading rows…").small().weak());
        }
    });
    if panel.show_state {
        state_table_ui(ui, travel, panel.table, commands);
    } else {
        travel_diff_ui(ui, panel, travel, commands);
    }
}
