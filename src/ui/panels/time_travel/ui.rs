//! Drawing time travel.

use super::step_ui::step_ui;
use super::{
    DiffAgainst, TimeTravelCommand as C, TimeTravelPanel, TravelField, TravelMode, TravelView,
};
use crate::domain::Table;
use crate::ui::app::Shell;
use crate::ui::command::UiCommand;
use crate::ui::i18n::t;
use crate::ui::jobs::JobKind;
use crate::ui::widgets::draft_field::draft_field_ui;
use crate::ui::widgets::table::TableLook;
use crate::ui::widgets::table::line::DiffLabels;
use crate::ui::widgets::table::paged::{PagedShow, TableAsk, paged_table_ui};
use crate::ui::widgets::{human_millis, inline_error_ui};

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
            .button(t!("travel-start"))
            .on_hover_text(t!("travel-start-hover"))
            .clicked()
        {
            push(commands, C::SetCursor(0));
        }
        if ui
            .button(t!("travel-step-back"))
            .on_hover_text(t!("travel-step-back-hover"))
            .clicked()
        {
            push(commands, C::StepCursor(-1));
        }
        let playing = panel.playing;
        if ui
            .button(if playing {
                t!("travel-pause")
            } else {
                t!("travel-play")
            })
            .clicked()
        {
            push(commands, C::SetPlaying(!playing));
        }
        if ui
            .button(t!("travel-step-forward"))
            .on_hover_text(t!("travel-step-forward-hover"))
            .clicked()
        {
            push(commands, C::StepCursor(1));
        }
        if ui
            .button(t!("travel-end"))
            .on_hover_text(t!("travel-end-hover"))
            .clicked()
        {
            push(commands, C::SetCursor(head));
        }
        ui.label(t!("travel-speed"));
        let mut speed = panel.play_speed_eps;
        if ui
            .add(
                egui::DragValue::new(&mut speed)
                    .range(0.1..=100_000.0)
                    .speed(1.0)
                    .suffix(t!("travel-speed-suffix")),
            )
            .changed()
        {
            push(commands, C::SetSpeed(speed));
        }
        let mut follow = panel.follow;
        if ui.checkbox(&mut follow, t!("common-follow-live")).changed() {
            push(commands, C::SetFollow(follow));
        }
        ui.separator();
        ui.label(t!("travel-go-to"));
        let (r, changed) = draft_field_ui(ui, &panel.goto, "position or 2026-03-01 14:30", 170.0);
        if let Some(text) = changed {
            push(commands, C::SetDraft(TravelField::Goto, text));
        }
        if ui.button(t!("travel-go")).clicked()
            || (r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)))
        {
            push(commands, C::GoTyped);
        }
    });
    inline_error_ui(ui, panel.goto_error.as_ref());
    ui.horizontal(|ui| {
        let mut value = cursor;
        ui.spacing_mut().slider_width = (ui.available_width() - 130.0).max(100.0);
        let slider = ui.add(
            egui::Slider::new(&mut value, 0..=head.max(1))
                .text("position")
                .clamping(egui::SliderClamping::Always),
        );
        crate::ui::scenarios::mark_target(
            ui,
            crate::ui::scenarios::Target::TravelScrubber,
            slider.rect,
        );
        if slider.changed() {
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
        ui.label(t!("travel-difference-against"));
        if ui
            .radio(
                panel.diff_against == DiffAgainst::Now,
                t!("travel-now-head", head = shell.head),
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
                        t!("travel-pinned-at", p = p),
                    )
                    .clicked()
                {
                    push(commands, C::SetDiffAgainst(DiffAgainst::Pinned));
                }
                if ui.small_button(t!("travel-unpin")).clicked() {
                    push(commands, C::Unpin);
                }
            }
            None => {
                ui.add_enabled(false, egui::RadioButton::new(false, t!("travel-pinned")))
                    .on_disabled_hover_text(t!("travel-pin-first"));
            }
        }
        if ui.button(t!("travel-pin")).clicked() {
            push(commands, C::Pin);
        }
    });
}

fn summary_ui(
    ui: &mut egui::Ui,
    panel: &TimeTravelPanel,
    travel: &TravelView,
    head: u64,
    commands: &mut Vec<UiCommand>,
) {
    let c = &travel.counts;
    let statuses = c
        .bookings_by_status
        .iter()
        .map(|(s, n)| format!("{n} {s}"))
        .collect::<Vec<_>>()
        .join(", ");
    ui.horizontal_wrapped(|ui| {
        ui.label(egui::RichText::new(t!("travel-state-at", position = travel.position)).strong());
        ui.label(t!(
            "travel-counts",
            users = c.users,
            bookings = c.bookings,
            statuses = statuses
        ));
        ui.label(
            egui::RichText::new(format!(
                "{}; {}",
                travel.base,
                human_millis(travel.elapsed_ms)
            ))
            .small()
            .weak(),
        );
        if panel.travel.is_asked() {
            ui.spinner();
        }
    });
    if let Some((reference, diff)) = &travel.diff {
        ui.horizontal_wrapped(|ui| {
            ui.label(t!(
                "travel-changes",
                direction = diff.direction_text(),
                counts = diff.counts_text()
            ));
            let (from, to) = (diff.from(), diff.to());
            if from != to
                && ui
                    .button(t!("compare-swap"))
                    .on_hover_text(t!("compare-swap-hover", to = to, from = from))
                    .clicked()
            {
                push(commands, C::SwapDirection);
            }
            // The last difference stays while the one asked for is read.
            let wanted = panel.wanted_reference(head);
            if *reference != wanted {
                ui.label(
                    egui::RichText::new(t!("travel-difference-follows", wanted = wanted))
                        .small()
                        .weak(),
                );
            }
        });
    }
}

fn look(id: &'static str, table: Table, diff: bool) -> TableLook<'static> {
    TableLook {
        id: egui::Id::unique((id, table.name())),
        tag: diff.then_some("diff"),
        columns: table.columns(),
        history: Some(table),
        kinds: None,
    }
}

/// The command for what a table of the state (`diff` false) or of the
/// difference asks.
fn ask_command(diff: bool, table: Table, ask: TableAsk) -> UiCommand {
    match ask {
        TableAsk::Query(query) => C::SetQuery { diff, table, query }.into(),
        TableAsk::Page(page) if diff => C::FetchDiffPage(table, page).into(),
        TableAsk::Page(page) => C::FetchStatePage(table, page).into(),
    }
}

fn state_table_ui(
    ui: &mut egui::Ui,
    panel: &TimeTravelPanel,
    shell: &Shell,
    travel: &TravelView,
    commands: &mut Vec<UiCommand>,
) {
    let table = panel.table;
    if travel.len(table) == 0 {
        ui.label(t!("travel-no-rows"));
        return;
    }
    paged_table_ui(
        ui,
        &look("travel_state", table, false),
        Some(shell),
        PagedShow {
            table: travel.state(table),
            wanted: panel.query(false, table),
            diff: None,
        },
        |ask| ask_command(false, table, ask),
        commands,
    );
}

fn travel_diff_ui(
    ui: &mut egui::Ui,
    panel: &TimeTravelPanel,
    shell: &Shell,
    travel: &TravelView,
    commands: &mut Vec<UiCommand>,
) {
    let Some((_, diff)) = &travel.diff else {
        ui.spinner();
        return;
    };
    let table = panel.table;
    if diff.len(table) == 0 {
        ui.label(t!("diff-no-differences", name = table.name()));
        return;
    }
    let texts = diff.label_texts();
    let labels = DiffLabels {
        added: &texts[0],
        removed: &texts[1],
        changed: &texts[2],
    };
    paged_table_ui(
        ui,
        &look("travel_diff", table, true),
        Some(shell),
        PagedShow {
            table: diff.table(table),
            wanted: panel.query(true, table),
            diff: Some((&labels, diff.counts(table))),
        },
        |ask| ask_command(true, table, ask),
        commands,
    );
}

/// True while rows of the table on screen are being read.
fn rows_pending(panel: &TimeTravelPanel, travel: &TravelView) -> bool {
    if panel.show_step {
        return panel.step.is_asked();
    }
    travel
        .table(!panel.show_state, panel.table)
        .is_some_and(|t| t.pages().any_pending() || t.ordering().is_some())
}

fn mode_ui(ui: &mut egui::Ui, panel: &TimeTravelPanel, commands: &mut Vec<UiCommand>) {
    let mode = panel.mode();
    for (choice, text, hover) in [
        (
            TravelMode::State,
            "rows at this position",
            "Every row of the table as of the cursor",
        ),
        (
            TravelMode::Difference,
            "difference",
            "The rows that differ between the cursor and the reference",
        ),
        (
            TravelMode::Step,
            "step",
            "The event at the cursor and only the rows it changed, before -> after",
        ),
    ] {
        if ui
            .selectable_label(mode == choice, text)
            .on_hover_text(hover)
            .clicked()
        {
            push(commands, C::SetMode(choice));
        }
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
            egui::RichText::new(t!("travel-history-pass"))
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
            ui.label(t!("travel-computing"));
        });
        return;
    };
    summary_ui(ui, panel, travel, shell.head, commands);
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
        mode_ui(ui, panel, commands);
        if rows_pending(panel, travel) {
            ui.spinner();
        }
    });
    match panel.mode() {
        TravelMode::State => state_table_ui(ui, panel, shell, travel, commands),
        TravelMode::Difference => travel_diff_ui(ui, panel, shell, travel, commands),
        TravelMode::Step => step_ui(ui, panel, shell, travel, commands),
    }
}
