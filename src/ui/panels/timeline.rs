//! Ledger timeline: a virtual table over the ledger that asks only for the
//! pages in view (smooth at a million events), filters, the selected event's
//! payload and metadata as highlighted JSON, an aggregate's stream, a density
//! plot that jumps on click, and follow-live.

use chrono::{DateTime, Utc};
use egui_extras::{Column, TableBuilder};

use crate::domain::event::event_types;
use crate::store::LedgerEntry;
use crate::ui::commands::{DraftField, UiCommand};
use crate::ui::page_cache::page_of;
use crate::ui::view::View;
use crate::ui::widgets::draft_field::draft_field_ui;
use crate::ui::widgets::json_view::json_view_ui;
use crate::ui::widgets::{ERROR_COLOR, WARN_COLOR, inline_error_ui};

/// Row height of the table.
pub const ROW_HEIGHT: f32 = 20.0;

fn short_id(id: &uuid::Uuid) -> String {
    id.to_string()[..8].to_string()
}

fn time_text(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S%.3f").to_string()
}

fn filters_ui(ui: &mut egui::Ui, view: &View, commands: &mut Vec<UiCommand>) {
    let mut enter = false;
    ui.horizontal_wrapped(|ui| {
        ui.label("Type");
        let current = view.state.drafts.filter_type.clone();
        egui::ComboBox::from_id_salt("filter_type")
            .selected_text(if current.is_empty() {
                "all types".to_string()
            } else {
                current.clone()
            })
            .width(190.0)
            .show_ui(ui, |ui| {
                if ui
                    .selectable_label(current.is_empty(), "all types")
                    .clicked()
                {
                    commands.push(UiCommand::SetDraft(DraftField::FilterType, String::new()));
                    commands.push(UiCommand::ApplyFilter);
                }
                for t in event_types::ALL {
                    if ui.selectable_label(current == t, t).clicked() {
                        commands.push(UiCommand::SetDraft(DraftField::FilterType, t.to_string()));
                        commands.push(UiCommand::ApplyFilter);
                    }
                }
            });
        ui.label("Aggregate");
        let r = draft_field_ui(
            ui,
            view,
            DraftField::FilterAggregate,
            "UUID",
            110.0,
            commands,
        );
        enter |= r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        ui.label("From");
        let r = draft_field_ui(
            ui,
            view,
            DraftField::FilterFrom,
            "2026-03-01 14:00",
            120.0,
            commands,
        );
        enter |= r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        ui.label("To");
        let r = draft_field_ui(
            ui,
            view,
            DraftField::FilterTo,
            "2026-03-02",
            120.0,
            commands,
        );
        enter |= r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        ui.label("Text");
        let r = draft_field_ui(
            ui,
            view,
            DraftField::FilterText,
            "in payload",
            110.0,
            commands,
        );
        enter |= r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        if ui.button("Apply").clicked() || enter {
            commands.push(UiCommand::ApplyFilter);
        }
        if ui.button("Clear").clicked() {
            commands.push(UiCommand::ClearFilter);
        }
        let mut follow = view.state.follow_live;
        if ui
            .checkbox(&mut follow, "Follow live")
            .on_hover_text("Keep the newest event in view")
            .changed()
        {
            commands.push(UiCommand::SetFollowLive(follow));
        }
        match view.data.timeline_total {
            Some(total) if view.state.applied_filter.is_empty() => {
                ui.label(format!("{total} events"))
            }
            Some(total) => ui.label(format!("{total} matching of {}", view.data.head)),
            None => ui.spinner(),
        };
    });
    inline_error_ui(ui, view, "filter");
}

fn entry_row_cells(entry: &LedgerEntry) -> [String; 6] {
    match entry {
        Ok(e) => [
            e.position.to_string(),
            time_text(&e.recorded_at),
            e.event_type.clone(),
            short_id(&e.aggregate_id),
            e.version.to_string(),
            e.summary(),
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

fn table_ui(ui: &mut egui::Ui, view: &View, commands: &mut Vec<UiCommand>) {
    let total = view.data.timeline_total.unwrap_or(0);
    if total == 0 {
        ui.label(if view.state.applied_filter.is_empty() {
            "The ledger is empty. Emit an event in the Emit panel."
        } else {
            "No event matches the filter."
        });
        return;
    }
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
    if let Some(row) = view.state.scroll_to_row {
        builder = builder.scroll_to_row(row.min(total - 1) as usize, Some(egui::Align::Center));
        commands.push(UiCommand::ScrolledToRow);
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
                match view.data.timeline.row(index) {
                    Some(entry) => {
                        let position = crate::store::entry_position(entry);
                        // A hole before this row: the positions between the
                        // previous stored event and this one have no event.
                        let previous = match index {
                            0 => Some(0),
                            _ => view
                                .data
                                .timeline
                                .row(index - 1)
                                .map(crate::store::entry_position),
                        };
                        let hole = previous
                            .filter(|p| view.state.applied_filter.is_empty() && position > p + 1)
                            .map(|p| crate::store::Hole {
                                from: p + 1,
                                to: position - 1,
                            });
                        row.set_selected(view.state.selected_position == Some(position));
                        let malformed = entry.is_err();
                        let mut cells = entry_row_cells(entry);
                        if let Some(hole) = hole {
                            cells[5] = format!("[hole before: {hole} have no event] {}", cells[5]);
                        }
                        for (i, cell) in cells.into_iter().enumerate() {
                            row.col(|ui| {
                                let text = egui::RichText::new(cell);
                                let text = if i == 5 && hole.is_some() {
                                    text.color(WARN_COLOR)
                                } else {
                                    text
                                };
                                let text = if malformed {
                                    text.color(ERROR_COLOR)
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
                        if row.response().clicked() {
                            commands.push(UiCommand::SelectEvent(Box::new(entry.clone())));
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
    commands.extend(wanted_pages.into_iter().map(UiCommand::FetchPage));
}

fn detail_ui(ui: &mut egui::Ui, view: &View, commands: &mut Vec<UiCommand>) {
    let Some(entry) = &view.data.selected_event else {
        ui.label("Select a row to see its payload and metadata.");
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
            ui.horizontal(|ui| {
                if ui.button("Show this aggregate's stream").clicked() {
                    commands.push(UiCommand::FilterAggregate(e.aggregate_id));
                }
            });
            ui.label(egui::RichText::new("payload").strong());
            json_view_ui(ui, &e.payload);
            ui.label(egui::RichText::new("metadata").strong());
            json_view_ui(ui, &serde_json::to_value(&e.metadata).unwrap_or_default());
        }
        Err(bad) => {
            ui.colored_label(
                ERROR_COLOR,
                format!("Malformed entry at position {}", bad.position),
            );
            ui.add(egui::Label::new(&bad.reason).wrap());
            ui.label(egui::RichText::new("raw").strong());
            ui.add(egui::Label::new(egui::RichText::new(&bad.raw).monospace()).wrap());
        }
    }
    if let Some((aggregate, events)) = &view.data.stream {
        ui.separator();
        ui.horizontal(|ui| {
            ui.strong(format!(
                "Stream of {} ({} events)",
                short_id(aggregate),
                events.len()
            ));
            if ui.small_button("close").clicked() {
                commands.push(UiCommand::CloseStream);
            }
        });
        for entry in events {
            let cells = entry_row_cells(entry);
            let selected =
                view.state.selected_position == Some(crate::store::entry_position(entry));
            if ui
                .selectable_label(
                    selected,
                    format!("#{} v{} {} — {}", cells[0], cells[4], cells[2], cells[5]),
                )
                .clicked()
            {
                commands.push(UiCommand::SelectEvent(Box::new(entry.clone())));
            }
        }
    }
}

fn density_ui(ui: &mut egui::Ui, view: &View, commands: &mut Vec<UiCommand>) {
    let Some(density) = &view.data.density else {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label("Counting events over time…");
        });
        return;
    };
    let Some(start) = density.start else {
        ui.label("No events yet.");
        return;
    };
    let bucket = density.bucket_secs.max(0.001);
    let bars: Vec<egui_plot::Bar> = density
        .counts
        .iter()
        .enumerate()
        .map(|(i, c)| egui_plot::Bar::new((i as f64 + 0.5) * bucket, *c as f64).width(bucket * 0.9))
        .collect();
    let chart =
        egui_plot::BarChart::new("events", bars).color(egui::Color32::from_rgb(100, 150, 230));
    let start_ms = start.timestamp_millis();
    let format_x = move |mark: egui_plot::GridMark, _range: &std::ops::RangeInclusive<f64>| {
        DateTime::<Utc>::from_timestamp_millis(start_ms + (mark.value * 1000.0) as i64)
            .map(|t| t.format("%m-%d %H:%M:%S").to_string())
            .unwrap_or_default()
    };
    ui.label(
        egui::RichText::new(
            "Events over time (type, aggregate and time filters apply; click to jump)",
        )
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
            commands.push(UiCommand::JumpToTime(time));
        }
    }
}

/// Draws the timeline panel.
pub fn timeline_ui(ui: &mut egui::Ui, view: &View, commands: &mut Vec<UiCommand>) {
    filters_ui(ui, view, commands);
    if !view.state.applied_filter.is_empty() {
        ui.label(
            egui::RichText::new("Filtered view")
                .color(WARN_COLOR)
                .small(),
        );
    }
    egui::Panel::bottom("density_panel")
        .resizable(false)
        .exact_size(140.0)
        .show(ui, |ui| density_ui(ui, view, commands));
    egui::Panel::right("event_detail")
        .resizable(true)
        .default_size(380.0)
        .show(ui, |ui| {
            egui::ScrollArea::vertical()
                .id_salt("detail_scroll")
                .show(ui, |ui| detail_ui(ui, view, commands));
        });
    egui::CentralPanel::default().show(ui, |ui| table_ui(ui, view, commands));
}
