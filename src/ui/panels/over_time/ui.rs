//! Drawing Over time: two plots (rows; revenue in total and by service)
//! sharing one x axis, each with its legend beside it (a click hides or
//! shows a line), the hovered bucket's values at the cursor and under the
//! plots, a click to travel, and the fold's progress while it runs.

use super::chart::{Chart, ChartLine, Values, compact, compact_cents};
use super::{OverTimeCommand, OverTimePanel};
use crate::domain::{Series, SeriesBy, SeriesPoint};
use crate::ui::app::Shell;
use crate::ui::command::UiCommand;
use crate::ui::i18n::t;
use crate::ui::widgets::{inline_error_ui, palette, truncated_label_ui};

/// Width of the legend column beside each plot.
const LEGEND_WIDTH: f32 = 170.0;

/// "Suite €1,200.00, Hostel Bed €80.00": each service with its money.
fn per_service(
    revenue: &std::collections::BTreeMap<String, i64>,
    money: fn(i64) -> String,
) -> String {
    let services: Vec<String> = revenue
        .iter()
        .map(|(service, cents)| format!("{service} {}", money(*cents)))
        .collect();
    services.join(", ")
}

/// The line under the plots: the cumulative values, or what happened in
/// the bucket.
fn describe(point: &SeriesPoint, values: Values) -> String {
    let head = t!(
        "over-time-describe-head",
        bucket = point.bucket.as_str(),
        position = point.position
    );
    match values {
        Values::Cumulative => {
            t!(
                "over-time-describe-total",
                head = head,
                users = point.users,
                confirmed = point.bookings_confirmed,
                cancelled = point.bookings_cancelled,
                revenue = crate::ui::i18n::format::money_cents(point.revenue_cents),
                services = per_service(
                    &point.revenue_by_service,
                    crate::ui::i18n::format::money_cents
                )
            )
        }
        Values::PerBucket => {
            let b = &point.in_bucket;
            t!(
                "over-time-describe-bucket",
                head = head,
                users = b.users,
                made = b.bookings_made,
                cancelled = b.bookings_cancelled,
                revenue = crate::ui::i18n::format::money_change_cents(b.revenue_cents),
                services = per_service(
                    &b.revenue_by_service,
                    crate::ui::i18n::format::money_change_cents
                )
            )
        }
    }
}

/// The hovered bucket's values, at the cursor: each value at the end of
/// the bucket and what the bucket added.
fn tooltip_ui(ui: &mut egui::Ui, point: &SeriesPoint) {
    ui.label(egui::RichText::new(&point.bucket).strong());
    ui.label(
        egui::RichText::new(t!("over-time-up-to", position = point.position))
            .weak()
            .small(),
    );
    let b = &point.in_bucket;
    egui::Grid::new("over_time_tooltip")
        .num_columns(3)
        .spacing([12.0, 2.0])
        .show(ui, |ui| {
            ui.label("");
            ui.label(egui::RichText::new(t!("over-time-total")).weak());
            ui.label(egui::RichText::new(t!("over-time-in-bucket")).weak());
            ui.end_row();
            for (name, total, added) in [
                ("users", point.users, b.users),
                (
                    "bookings confirmed",
                    point.bookings_confirmed,
                    b.bookings_made,
                ),
                (
                    "bookings cancelled",
                    point.bookings_cancelled,
                    b.bookings_cancelled,
                ),
            ] {
                ui.label(name);
                ui.label(total.to_string());
                let what = if name == "bookings confirmed" {
                    format!("{added} made")
                } else {
                    format!("+{added}")
                };
                ui.label(what);
                ui.end_row();
            }
            ui.label(t!("over-time-revenue"));
            ui.label(crate::ui::i18n::format::money_cents(point.revenue_cents));
            ui.label(crate::ui::i18n::format::money_change_cents(b.revenue_cents));
            ui.end_row();
            for (service, cents) in &point.revenue_by_service {
                ui.label(format!("  {service}"));
                ui.label(crate::ui::i18n::format::money_cents(*cents));
                let added = b.revenue_by_service.get(service).copied().unwrap_or(0);
                ui.label(crate::ui::i18n::format::money_change_cents(added));
                ui.end_row();
            }
        });
    ui.label(egui::RichText::new(t!("over-time-click-hover")).weak());
}

/// The legend column: one entry per line, a click hides or shows it.
fn legend_ui(
    ui: &mut egui::Ui,
    lines: &[ChartLine],
    panel: &OverTimePanel,
    commands: &mut Vec<UiCommand>,
) {
    ui.vertical(|ui| {
        ui.set_width(LEGEND_WIDTH);
        for line in lines {
            let hidden = panel.hidden.contains(&line.key);
            ui.horizontal(|ui| {
                let (rect, _) =
                    ui.allocate_exact_size(egui::vec2(18.0, 10.0), egui::Sense::hover());
                let color = if hidden {
                    ui.visuals().weak_text_color()
                } else {
                    line.color.of(palette(ui.visuals()))
                };
                ui.painter().line_segment(
                    [rect.left_center(), rect.right_center()],
                    egui::Stroke::new(line.width.max(2.0), color),
                );
                let text = egui::RichText::new(&line.name);
                let text = if hidden {
                    text.weak().strikethrough()
                } else {
                    text
                };
                let hover = if hidden {
                    "Hidden: click to show"
                } else {
                    "Click to hide"
                };
                if ui
                    .add(egui::Label::new(text).sense(egui::Sense::click()))
                    .on_hover_text(hover)
                    .clicked()
                {
                    commands.push(OverTimeCommand::ToggleLine(line.key.clone()).into());
                }
            });
        }
    });
}

/// What the x axis is.
fn x_label(by: SeriesBy) -> &'static str {
    match by {
        SeriesBy::Position => "position in the ledger",
        SeriesBy::Day => "day (UTC)",
        SeriesBy::Hour => "hour (UTC)",
    }
}

/// One plot and its legend; the pointer's plot coordinate when over it.
#[allow(clippy::too_many_arguments)]
fn plot_ui(
    ui: &mut egui::Ui,
    id: &str,
    series: &Series,
    lines: &[ChartLine],
    money: bool,
    height: f32,
    panel: &OverTimePanel,
    commands: &mut Vec<UiCommand>,
) -> egui_plot::PlotResponse<Option<egui_plot::PlotPoint>> {
    let points = &series.points;
    let by = series.by;
    let format_x = move |mark: egui_plot::GridMark, range: &std::ops::RangeInclusive<f64>| match by
    {
        SeriesBy::Position => compact(mark.value, mark.step_size, range),
        SeriesBy::Day | SeriesBy::Hour => {
            let i = mark.value.round();
            if (mark.value - i).abs() < 1e-6 && i >= 0.0 {
                points
                    .get(i as usize)
                    .map(|p| p.bucket.clone())
                    .unwrap_or_default()
            } else {
                String::new()
            }
        }
    };
    let format_y = move |mark: egui_plot::GridMark, range: &std::ops::RangeInclusive<f64>| {
        if money {
            compact_cents(mark.value, mark.step_size, range)
        } else {
            compact(mark.value, mark.step_size, range)
        }
    };
    let link = egui::Id::unique("over_time_x");
    ui.horizontal(|ui| {
        let width = (ui.available_width() - LEGEND_WIDTH - 12.0).max(200.0);
        let colors = palette(ui.visuals());
        let response = egui_plot::Plot::new(id)
            .width(width)
            .height(height)
            .link_axis(link, [true, false])
            .link_cursor(link, [true, false])
            .x_axis_formatter(format_x)
            .y_axis_formatter(format_y)
            .x_axis_label(x_label(by))
            .y_axis_label(if money {
                t!("over-time-revenue")
            } else {
                t!("over-time-rows")
            })
            .y_axis_min_width(56.0)
            .include_y(0.0)
            .allow_scroll(false)
            .show(ui, |plot_ui| {
                for line in lines {
                    if panel.hidden.contains(&line.key) {
                        continue;
                    }
                    plot_ui.line(
                        egui_plot::Line::new(line.name.clone(), &line.points[..])
                            .color(line.color.of(colors))
                            .width(line.width),
                    );
                }
                // Only a pointer over this plot picks a bucket.
                plot_ui
                    .response()
                    .hovered()
                    .then(|| plot_ui.pointer_coordinate())
                    .flatten()
            });
        legend_ui(ui, lines, panel, commands);
        response
    })
    .inner
}

fn plots_ui(
    ui: &mut egui::Ui,
    panel: &OverTimePanel,
    series: &Series,
    chart: &Chart,
    commands: &mut Vec<UiCommand>,
) {
    let values = panel.values;
    let height = ((ui.available_height() - 110.0) / 2.0).max(120.0);
    let title = match values {
        Values::Cumulative => ("Rows", "Revenue of confirmed bookings"),
        Values::PerBucket => (
            "Rows: made or cancelled per bucket",
            "Revenue of confirmed bookings: gained per bucket",
        ),
    };
    ui.label(egui::RichText::new(title.0).strong());
    let rows = plot_ui(
        ui,
        "over_time_rows",
        series,
        chart.rows(values),
        false,
        height,
        panel,
        commands,
    );
    ui.label(egui::RichText::new(title.1).strong());
    let revenue = plot_ui(
        ui,
        "over_time_revenue",
        series,
        chart.revenue(values),
        true,
        height,
        panel,
        commands,
    );
    let (hovered, response) = match (rows.inner, revenue.inner) {
        (Some(at), _) => (Some(at), &rows.response),
        (None, at) => (at, &revenue.response),
    };
    let point = hovered
        .and_then(|at| chart.nearest(at.x))
        .and_then(|i| series.points.get(i));
    match point {
        Some(point) => {
            response
                .clone()
                .on_hover_ui_at_pointer(|ui| tooltip_ui(ui, point));
            // One line (the tooltip at the cursor has it all): a narrow
            // window must not push the plots up.
            truncated_label_ui(ui, describe(point, values), None);
            if response.clicked() {
                commands.push(OverTimeCommand::TravelTo(point.position).into());
            }
        }
        None => {
            if let Some(last) = series.points.last() {
                truncated_label_ui(
                    ui,
                    t!("over-time-now", values = describe(last, values)),
                    None,
                );
            }
        }
    }
}

/// The toolbar: bucketing, values, and Reload or the fold's progress.
fn toolbar_ui(
    ui: &mut egui::Ui,
    panel: &OverTimePanel,
    shell: &Shell,
    commands: &mut Vec<UiCommand>,
) {
    ui.horizontal_wrapped(|ui| {
        ui.label(t!("over-time-buckets"));
        for by in SeriesBy::ALL {
            if ui.selectable_label(panel.by == by, by.name()).clicked() {
                commands.push(OverTimeCommand::SetBy(by).into());
            }
        }
        ui.separator();
        ui.label(t!("over-time-values"));
        for values in Values::ALL {
            if ui
                .selectable_label(panel.values == values, values.label())
                .clicked()
            {
                commands.push(OverTimeCommand::SetValues(values).into());
            }
        }
        ui.separator();
        if panel.series.is_asked() {
            ui.spinner();
            match &panel.progress {
                Some(p) if p.total > 0 => {
                    let fraction = (p.done as f32 / p.total as f32).clamp(0.0, 1.0);
                    ui.add(
                        egui::ProgressBar::new(fraction)
                            .desired_width(140.0)
                            .text(format!("{:.0}%", fraction * 100.0)),
                    );
                    ui.label(t!("over-time-folding", done = p.done, total = p.total));
                }
                _ => {
                    ui.label(t!("over-time-folding-start"));
                }
            }
        } else if ui
            .add_enabled(shell.connected(), egui::Button::new(t!("over-time-reload")))
            .clicked()
        {
            commands.push(OverTimeCommand::Reload.into());
        }
        ui.label(egui::RichText::new(t!("over-time-hint")).weak());
    });
}

/// Draws the panel.
pub fn over_time_ui(
    ui: &mut egui::Ui,
    panel: &OverTimePanel,
    shell: &Shell,
    commands: &mut Vec<UiCommand>,
) {
    toolbar_ui(ui, panel, shell, commands);
    inline_error_ui(ui, panel.error.as_ref());
    let (Some(series), Some(chart)) = (panel.series.value(), panel.chart.as_ref()) else {
        if !panel.series.is_asked() && panel.error.is_none() {
            ui.label(t!("over-time-not-read"));
        }
        return;
    };
    if series.points.is_empty() {
        ui.label(t!("over-time-no-events"));
        return;
    }
    if series.out_of_order_times > 0 {
        ui.label(t!(
            "over-time-out-of-order",
            out_of_order_times = series.out_of_order_times
        ));
    }
    plots_ui(ui, panel, series, chart, commands);
}
