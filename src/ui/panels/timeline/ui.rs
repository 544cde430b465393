//! Drawing the ledger timeline.

use crate::ui::i18n::t;
use chrono::{DateTime, Utc};
use egui_extras::{Column, TableBuilder};

use super::{FilterField, TimelineCommand, TimelinePanel};
use crate::domain::event::event_types;
use crate::domain::{ProjectorId, Table, rows_touched};
use crate::store::LedgerEntry;
use crate::ui::app::Shell;
use crate::ui::command::UiCommand;
use crate::ui::link::PositionLink;
use crate::ui::page_cache::page_of;
use crate::ui::panels::PanelKind;
use crate::ui::panels::history::HistoryCommand;
use crate::ui::panels::what_if::WhatIfCommand;
use crate::ui::widgets::copy_link::copy_link_button_ui;
use crate::ui::widgets::draft_field::draft_field_ui;
use crate::ui::widgets::json_view::json_view_ui;
use crate::ui::widgets::search_field::search_field_ui;
use crate::ui::widgets::{inline_error_ui, palette};

/// Row height of the table.
pub const ROW_HEIGHT: f32 = 20.0;

fn short_id(id: &uuid::Uuid) -> String {
    id.to_string()[..8].to_string()
}

fn time_text(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S%.3f").to_string()
}

/// A filter input; true when Enter was pressed in it. The payload text is
/// the panel's search (Ctrl+F puts the cursor there).
fn filter_field_ui(
    ui: &mut egui::Ui,
    panel: &TimelinePanel,
    shell: &Shell,
    field: FilterField,
    hint: &str,
    commands: &mut Vec<UiCommand>,
) -> bool {
    let width = match field {
        FilterField::From | FilterField::To => 120.0,
        _ => 110.0,
    };
    let value = panel.drafts.get(field);
    let (response, changed) = match field {
        FilterField::Text => search_field_ui(ui, shell, value, hint, width),
        _ => draft_field_ui(ui, value, hint, width),
    };
    if let Some(text) = changed {
        commands.push(TimelineCommand::SetDraft(field, text).into());
    }
    response.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter))
}

/// Filters by one event type (empty: all) at once.
fn choose_type(event_type: &str, commands: &mut Vec<UiCommand>) {
    commands.push(TimelineCommand::SetDraft(FilterField::Type, event_type.to_string()).into());
    commands.push(TimelineCommand::ApplyFilter.into());
}

fn filters_ui(
    ui: &mut egui::Ui,
    panel: &TimelinePanel,
    shell: &Shell,
    commands: &mut Vec<UiCommand>,
) {
    let mut enter = false;
    ui.horizontal_wrapped(|ui| {
        ui.label(t!("timeline-type"));
        let current = panel.drafts.event_type.clone();
        egui::ComboBox::from_id_salt("filter_type")
            .selected_text(if current.is_empty() {
                t!("timeline-all-types").to_string()
            } else {
                current.clone()
            })
            .width(190.0)
            .show_ui(ui, |ui| {
                if ui
                    .selectable_label(current.is_empty(), t!("timeline-all-types"))
                    .clicked()
                {
                    choose_type("", commands);
                }
                for t in event_types::ALL {
                    if ui.selectable_label(current == t, t).clicked() {
                        choose_type(t, commands);
                    }
                }
            });
        ui.label(t!("timeline-aggregate"));
        enter |= filter_field_ui(ui, panel, shell, FilterField::Aggregate, "UUID", commands);
        ui.label(t!("timeline-from"));
        enter |= filter_field_ui(
            ui,
            panel,
            shell,
            FilterField::From,
            "2026-03-01 14:00",
            commands,
        );
        ui.label(t!("timeline-to"));
        enter |= filter_field_ui(ui, panel, shell, FilterField::To, "2026-03-02", commands);
        ui.label(t!("timeline-text"));
        enter |= filter_field_ui(ui, panel, shell, FilterField::Text, "in payload", commands);
        if ui.button(t!("timeline-apply")).clicked() || enter {
            commands.push(TimelineCommand::ApplyFilter.into());
        }
        if ui.button(t!("timeline-clear")).clicked() {
            commands.push(TimelineCommand::ClearFilter.into());
        }
        let mut follow = panel.follow_live;
        if ui
            .checkbox(&mut follow, t!("common-follow-live"))
            .on_hover_text(t!("timeline-follow-live-hover"))
            .changed()
        {
            commands.push(TimelineCommand::SetFollowLive(follow).into());
        }
        match panel.total.value() {
            Some(total) if panel.filter.is_empty() => {
                ui.label(t!("timeline-events", total = total))
            }
            Some(total) => ui.label(t!("timeline-matching", total = total, head = shell.head)),
            None => ui.spinner(),
        };
    });
    inline_error_ui(ui, panel.error.as_ref());
}

/// A row's cells, its summary through `mask`.
fn entry_row_cells(entry: &LedgerEntry, mask: &crate::domain::mask::Mask) -> [String; 6] {
    match entry {
        Ok(e) => [
            e.position.to_string(),
            time_text(&e.recorded_at),
            e.event_type.clone(),
            short_id(&e.aggregate_id),
            e.version.to_string(),
            mask.summary(e),
        ],
        Err(bad) => [
            bad.position.to_string(),
            "—".into(),
            "MALFORMED".into(),
            "—".into(),
            "—".into(),
            bad.reason.clone(),
        ],
    }
}

/// The projectors whose checkpoint is below `position`, with their
/// checkpoints (two at most: a visible row's check costs the same
/// however long the ledger is).
fn not_projected_by(checkpoints: &[(ProjectorId, u64)], position: u64) -> Vec<(ProjectorId, u64)> {
    checkpoints
        .iter()
        .filter(|(_, checkpoint)| *checkpoint < position)
        .copied()
        .collect()
}

/// Why a row is shaded: which projectors have not applied it yet.
fn not_projected_text(position: u64, behind: &[(ProjectorId, u64)]) -> String {
    let who = behind
        .iter()
        .map(|(projector, checkpoint)| format!("{} (checkpoint {checkpoint})", projector.name()))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "Not yet projected: position {position} is past {who}; the read tables do not show this event yet."
    )
}

fn table_ui(
    ui: &mut egui::Ui,
    panel: &TimelinePanel,
    shell: &Shell,
    commands: &mut Vec<UiCommand>,
) {
    let total = panel.total.value().copied().unwrap_or(0);
    if total == 0 {
        ui.label(if panel.filter.is_empty() {
            t!("timeline-empty")
        } else {
            t!("timeline-no-match")
        });
        return;
    }
    let mask = crate::ui::mask::current(ui.ctx());
    // Rows past a projector's checkpoint are shaded: events stored but not
    // yet in its read table (the outage simulation makes them last).
    let checkpoints: Vec<(ProjectorId, u64)> = shell
        .statuses
        .iter()
        .map(|s| (s.projector, s.checkpoint))
        .collect();
    let pending_tint = palette(ui.visuals()).warn.gamma_multiply(0.18);
    let mut builder = TableBuilder::new(ui)
        .id_salt("timeline_table")
        .striped(true)
        .resizable(true)
        .sense(egui::Sense::click())
        .auto_shrink([false, false])
        .column(Column::initial(70.0).at_least(50.0))
        .column(Column::initial(190.0).at_least(80.0).clip(true))
        .column(Column::initial(175.0).at_least(80.0).clip(true))
        .column(Column::initial(75.0).at_least(50.0).clip(true))
        .column(Column::initial(30.0).at_least(24.0))
        .column(Column::remainder().at_least(100.0).clip(true));
    if let Some(row) = panel.scroll_to_row {
        builder = builder.scroll_to_row(row.min(total - 1) as usize, Some(egui::Align::Center));
        commands.push(TimelineCommand::ScrolledToRow.into());
    } else if let Some(row) = panel.reveal_row {
        builder = builder.scroll_to_row(row.min(total - 1) as usize, None);
        commands.push(TimelineCommand::ScrolledToRow.into());
    }
    let mut wanted_pages: Vec<u64> = Vec::new();
    builder
        .header(22.0, |mut header| {
            for name in [
                "position",
                "recorded at (UTC)",
                "type",
                "aggregate",
                "v",
                "summary",
            ] {
                header.col(|ui| {
                    ui.strong(name);
                });
            }
        })
        .body(|body| {
            body.rows(ROW_HEIGHT, total as usize, |mut row| {
                let index = row.index() as u64;
                match panel.pages.row(index) {
                    Some(entry) => {
                        let position = crate::store::entry_position(entry);
                        // A hole before this row: the positions between the
                        // previous stored event and this one have no event.
                        let previous = match index {
                            0 => Some(0),
                            _ => panel.pages.row(index - 1).map(crate::store::entry_position),
                        };
                        let hole = previous
                            .filter(|p| panel.filter.is_empty() && position > p + 1)
                            .map(|p| crate::store::Hole {
                                from: p + 1,
                                to: position - 1,
                            });
                        row.set_selected(panel.selected_position == Some(position));
                        let malformed = entry.is_err();
                        let behind = not_projected_by(&checkpoints, position);
                        let mut cells = entry_row_cells(entry, &mask);
                        if let Some(hole) = hole {
                            cells[5] = format!("[hole before: {}] {}", hole.no_event(), cells[5]);
                        }
                        for (i, cell) in cells.into_iter().enumerate() {
                            row.col(|ui| {
                                if !behind.is_empty() {
                                    ui.painter().rect_filled(ui.max_rect(), 0.0, pending_tint);
                                }
                                let text = egui::RichText::new(cell);
                                let text = if i == 5 && hole.is_some() {
                                    text.color(palette(ui.visuals()).warn)
                                } else {
                                    text
                                };
                                let text = if malformed {
                                    text.color(palette(ui.visuals()).error)
                                } else {
                                    text
                                };
                                let text = if i == 0 || i == 1 {
                                    text.monospace()
                                } else {
                                    text
                                };
                                ui.add(egui::Label::new(text).truncate().selectable(false));
                            });
                        }
                        let response = row.response();
                        let response = if behind.is_empty() {
                            response
                        } else {
                            response.on_hover_text(not_projected_text(position, &behind))
                        };
                        if response.clicked() {
                            commands.push(TimelineCommand::SelectRow(index).into());
                        }
                    }
                    None => {
                        let page = page_of(index);
                        if !wanted_pages.contains(&page) {
                            wanted_pages.push(page);
                        }
                        row.col(|ui| {
                            ui.label(egui::RichText::new("…").weak());
                        });
                        for _ in 0..5 {
                            row.col(|_| {});
                        }
                    }
                }
            });
        });
    commands.extend(
        wanted_pages
            .into_iter()
            .map(|page| TimelineCommand::FetchPage(page).into()),
    );
}

fn detail_ui(
    ui: &mut egui::Ui,
    panel: &TimelinePanel,
    shell: &Shell,
    commands: &mut Vec<UiCommand>,
) {
    let Some(entry) = &panel.selected else {
        ui.label(t!("timeline-select-row"));
        return;
    };
    match entry {
        Ok(e) => {
            egui::Grid::new("envelope")
                .num_columns(2)
                .spacing([6.0, 2.0])
                .show(ui, |ui| {
                    let mut field = |name: &str, value: String| {
                        ui.label(egui::RichText::new(name).weak());
                        ui.add(egui::Label::new(egui::RichText::new(value).monospace()).truncate());
                        ui.end_row();
                    };
                    field("position", e.position.to_string());
                    field("event_id", e.event_id.to_string());
                    field(
                        "type",
                        format!("{} (schema v{})", e.event_type, e.schema_version),
                    );
                    field(
                        "aggregate",
                        format!("{} {}", e.aggregate_type, e.aggregate_id),
                    );
                    field("version", e.version.to_string());
                    field("recorded_at", time_text(&e.recorded_at));
                });
            ui.horizontal_wrapped(|ui| {
                if ui
                    .button(t!("timeline-show-stream"))
                    .on_hover_text(t!("timeline-enter"))
                    .clicked()
                {
                    commands.push(TimelineCommand::FilterAggregate(e.aggregate_id).into());
                }
                let link = shell.ledger_id.map(|ledger| PositionLink {
                    ledger,
                    panel: PanelKind::Timeline,
                    position: Some(e.position),
                    pinned: None,
                });
                copy_link_button_ui(ui, link.as_ref());
                if ui
                    .button(t!("timeline-what-if"))
                    .on_hover_text(t!("timeline-what-if-hover"))
                    .clicked()
                {
                    commands.push(WhatIfCommand::LeaveOut(e.position).into());
                }
                for (table, key) in rows_touched(e) {
                    let label = match table {
                        Table::Users => "History of this user",
                        Table::Bookings => "History of this booking",
                    };
                    if ui
                        .button(label)
                        .on_hover_text(t!(
                            "timeline-row-history-title",
                            name = table.name(),
                            key = key
                        ))
                        .clicked()
                    {
                        commands.push(HistoryCommand::Open(table, key).into());
                    }
                }
            });
            ui.label(egui::RichText::new(t!("timeline-payload")).strong());
            let mask = crate::ui::mask::current(ui.ctx());
            if mask.is_on() {
                let mut payload = e.payload.clone();
                mask.payload(&e.event_type, &mut payload);
                json_view_ui(ui, &payload);
            } else {
                json_view_ui(ui, &e.payload);
            }
            ui.label(egui::RichText::new(t!("timeline-metadata")).strong());
            match serde_json::to_value(&e.metadata) {
                Ok(metadata) => json_view_ui(ui, &metadata),
                Err(error) => {
                    ui.colored_label(
                        palette(ui.visuals()).error,
                        t!("timeline-metadata-error", error = error),
                    );
                }
            }
        }
        Err(bad) => {
            ui.colored_label(
                palette(ui.visuals()).error,
                t!("timeline-malformed-entry", position = bad.position),
            );
            ui.add(egui::Label::new(&bad.reason).wrap());
            ui.label(egui::RichText::new(t!("timeline-raw")).strong());
            let raw = crate::ui::mask::current(ui.ctx()).raw_text(&bad.raw);
            ui.add(egui::Label::new(egui::RichText::new(raw).monospace()).wrap());
        }
    }
    if let Some((aggregate, events)) = &panel.stream {
        ui.separator();
        ui.horizontal(|ui| {
            ui.strong(t!(
                "timeline-stream-title",
                aggregate = short_id(aggregate),
                events = events.len()
            ));
            if ui.small_button(t!("timeline-close")).clicked() {
                commands.push(TimelineCommand::CloseStream.into());
            }
        });
        for entry in events {
            let cells = entry_row_cells(entry, &crate::ui::mask::current(ui.ctx()));
            let selected = panel.selected_position == Some(crate::store::entry_position(entry));
            if ui
                .selectable_label(
                    selected,
                    t!(
                        "timeline-history-row",
                        position = cells[0],
                        version = cells[4],
                        kind = cells[2],
                        at = cells[5]
                    ),
                )
                .clicked()
            {
                commands.push(TimelineCommand::SelectEvent(Box::new(entry.clone())).into());
            }
        }
    }
}

fn density_ui(ui: &mut egui::Ui, panel: &TimelinePanel, commands: &mut Vec<UiCommand>) {
    let Some(density) = panel.density.value() else {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label(t!("timeline-counting"));
        });
        return;
    };
    let Some(start) = density.start else {
        ui.label(t!("timeline-no-events"));
        return;
    };
    let bucket = density.bucket_secs.max(0.001);
    let bars: Vec<egui_plot::Bar> = density
        .counts
        .iter()
        .enumerate()
        .map(|(i, c)| egui_plot::Bar::new((i as f64 + 0.5) * bucket, *c as f64).width(bucket * 0.9))
        .collect();
    let chart = egui_plot::BarChart::new("events", bars).color(palette(ui.visuals()).bars);
    let start_ms = start.timestamp_millis();
    // Within a day the date says nothing: the time alone keeps the labels
    // apart on a narrow window.
    let span_secs = bucket * density.counts.len() as f64;
    let pattern = if span_secs < 86_400.0 {
        "%H:%M:%S"
    } else {
        "%m-%d %H:%M"
    };
    let format_x = move |mark: egui_plot::GridMark, _range: &std::ops::RangeInclusive<f64>| {
        DateTime::<Utc>::from_timestamp_millis(start_ms + (mark.value * 1000.0) as i64)
            .map(|t| t.format(pattern).to_string())
            .unwrap_or_default()
    };
    ui.label(
        egui::RichText::new(t!("timeline-chart-title"))
            .small()
            .weak(),
    );
    let response = egui_plot::Plot::new("density")
        .height(ui.available_height().clamp(60.0, 110.0))
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .allow_boxed_zoom(false)
        .show_y(false)
        .include_y(0.0)
        .x_axis_formatter(format_x)
        // Labels at least 90 points apart: never run into each other.
        .grid_spacing(egui::Rangef::new(90.0, 300.0))
        .y_axis_min_width(30.0)
        .show(ui, |plot_ui| {
            plot_ui.bar_chart(chart);
            plot_ui.pointer_coordinate()
        });
    if response.response.clicked()
        && let Some(point) = response.inner
    {
        let ms = start_ms + (point.x.max(0.0) * 1000.0) as i64;
        if let Some(time) = DateTime::<Utc>::from_timestamp_millis(ms) {
            commands.push(TimelineCommand::JumpToTime(time).into());
        }
    }
}

/// Draws the timeline panel.
pub fn timeline_ui(
    ui: &mut egui::Ui,
    panel: &TimelinePanel,
    shell: &Shell,
    commands: &mut Vec<UiCommand>,
) {
    filters_ui(ui, panel, shell, commands);
    if !panel.filter.is_empty() {
        ui.label(
            egui::RichText::new(t!("timeline-filtered-view"))
                .color(palette(ui.visuals()).warn)
                .small(),
        );
    }
    egui::Panel::bottom("density_panel")
        .resizable(false)
        .exact_size(140.0)
        .show(ui, |ui| density_ui(ui, panel, commands));
    egui::Panel::right("event_detail")
        .resizable(true)
        .default_size(380.0)
        .show(ui, |ui| {
            egui::ScrollArea::vertical()
                .id_salt("detail_scroll")
                .show(ui, |ui| detail_ui(ui, panel, shell, commands));
        });
    egui::CentralPanel::default().show(ui, |ui| table_ui(ui, panel, shell, commands));
}
