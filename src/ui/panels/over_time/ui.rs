//! Drawing Over time: two plots (rows; revenue in total and by service)
//! sharing one x axis, the hovered bucket's values, a click to travel.

use super::{OverTimeCommand, OverTimePanel};
use crate::domain::event::format_cents;
use crate::domain::{Series, SeriesBy, SeriesPoint};
use crate::ui::app::Shell;
use crate::ui::command::UiCommand;
use crate::ui::widgets::inline_error_ui;

const PALETTE: [egui::Color32; 8] = [
    egui::Color32::from_rgb(230, 170, 40),
    egui::Color32::from_rgb(120, 180, 230),
    egui::Color32::from_rgb(200, 120, 220),
    egui::Color32::from_rgb(120, 210, 170),
    egui::Color32::from_rgb(240, 130, 100),
    egui::Color32::from_rgb(170, 170, 90),
    egui::Color32::from_rgb(150, 150, 240),
    egui::Color32::from_rgb(220, 120, 150),
];

/// Where a point sits on the x axis: its position (by position) or its
/// bucket's index (by day or hour, labelled with the bucket).
fn x_of(series: &Series, index: usize, point: &SeriesPoint) -> f64 {
    match series.by {
        SeriesBy::Position => point.position as f64,
        SeriesBy::Day | SeriesBy::Hour => index as f64,
    }
}

/// The point nearest to `x` on the axis.
fn nearest(series: &Series, x: f64) -> Option<&SeriesPoint> {
    series
        .points
        .iter()
        .enumerate()
        .min_by(|(i, a), (j, b)| {
            (x_of(series, *i, a) - x)
                .abs()
                .total_cmp(&(x_of(series, *j, b) - x).abs())
        })
        .map(|(_, p)| p)
}

fn describe(point: &SeriesPoint) -> String {
    let services: Vec<String> = point
        .revenue_by_service
        .iter()
        .map(|(s, c)| format!("{s} {}", format_cents(*c)))
        .collect();
    format!(
        "{} (up to position {}): {} users, {} bookings confirmed, {} cancelled, revenue {} ({})",
        point.bucket,
        point.position,
        point.users,
        point.bookings_confirmed,
        point.bookings_cancelled,
        format_cents(point.revenue_cents),
        services.join(", ")
    )
}

fn line(name: &str, points: Vec<[f64; 2]>, color: egui::Color32) -> egui_plot::Line<'static> {
    egui_plot::Line::new(name.to_string(), points).color(color)
}

fn plots_ui(ui: &mut egui::Ui, series: &Series, commands: &mut Vec<UiCommand>) {
    let xs: Vec<f64> = series
        .points
        .iter()
        .enumerate()
        .map(|(i, p)| x_of(series, i, p))
        .collect();
    let points = &series.points;
    let by = series.by;
    let format_x = move |mark: egui_plot::GridMark, _range: &std::ops::RangeInclusive<f64>| match by
    {
        SeriesBy::Position => format!("{:.0}", mark.value),
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
    let link = egui::Id::unique("over_time_x");
    let height = ((ui.available_height() - 90.0) / 2.0).max(120.0);
    let counts = |f: fn(&SeriesPoint) -> u64| -> Vec<[f64; 2]> {
        xs.iter()
            .zip(&series.points)
            .map(|(x, p)| [*x, f(p) as f64])
            .collect()
    };
    ui.label(egui::RichText::new("Rows").strong());
    let rows = egui_plot::Plot::new("over_time_rows")
        .height(height)
        .legend(egui_plot::Legend::default())
        .link_axis(link, [true, false])
        .link_cursor(link, [true, false])
        .x_axis_formatter(format_x)
        .y_axis_min_width(80.0)
        .include_y(0.0)
        .allow_scroll(false)
        .show(ui, |plot_ui| {
            plot_ui.line(line("users", counts(|p| p.users), PALETTE[1]));
            plot_ui.line(line(
                "bookings confirmed",
                counts(|p| p.bookings_confirmed),
                PALETTE[3],
            ));
            plot_ui.line(line(
                "bookings cancelled",
                counts(|p| p.bookings_cancelled),
                PALETTE[4],
            ));
            // Only a pointer over this plot picks a bucket.
            plot_ui
                .response()
                .hovered()
                .then(|| plot_ui.pointer_coordinate())
                .flatten()
        });
    ui.label(egui::RichText::new("Revenue of confirmed bookings").strong());
    let services: Vec<&String> = series
        .points
        .last()
        .map(|p| p.revenue_by_service.keys().collect())
        .unwrap_or_default();
    let revenue = egui_plot::Plot::new("over_time_revenue")
        .height(height)
        .legend(egui_plot::Legend::default())
        .link_axis(link, [true, false])
        .link_cursor(link, [true, false])
        .x_axis_formatter(format_x)
        .y_axis_formatter(|mark, _| format_cents(mark.value as i64))
        .y_axis_min_width(80.0)
        .include_y(0.0)
        .allow_scroll(false)
        .show(ui, |plot_ui| {
            let total: Vec<[f64; 2]> = xs
                .iter()
                .zip(&series.points)
                .map(|(x, p)| [*x, p.revenue_cents as f64])
                .collect();
            plot_ui.line(line("total", total, egui::Color32::from_gray(235)).width(2.5));
            for (i, service) in services.iter().enumerate() {
                let points: Vec<[f64; 2]> = xs
                    .iter()
                    .zip(&series.points)
                    .map(|(x, p)| {
                        [
                            *x,
                            p.revenue_by_service.get(*service).copied().unwrap_or(0) as f64,
                        ]
                    })
                    .collect();
                plot_ui.line(line(service, points, PALETTE[i % PALETTE.len()]));
            }
            // Only a pointer over this plot picks a bucket.
            plot_ui
                .response()
                .hovered()
                .then(|| plot_ui.pointer_coordinate())
                .flatten()
        });
    let hovered = rows.inner.or(revenue.inner);
    let clicked = rows.response.clicked() || revenue.response.clicked();
    match hovered.and_then(|at| nearest(series, at.x)) {
        Some(point) => {
            ui.label(describe(point));
            if clicked {
                commands.push(OverTimeCommand::TravelTo(point.position).into());
            }
        }
        None => {
            if let Some(last) = series.points.last() {
                ui.label(format!("Now: {}", describe(last)));
            }
        }
    }
}

/// Draws the panel.
pub fn over_time_ui(
    ui: &mut egui::Ui,
    panel: &OverTimePanel,
    shell: &Shell,
    commands: &mut Vec<UiCommand>,
) {
    ui.horizontal(|ui| {
        ui.label("Buckets:");
        for by in SeriesBy::ALL {
            if ui.selectable_label(panel.by == by, by.name()).clicked() {
                commands.push(OverTimeCommand::SetBy(by).into());
            }
        }
        ui.separator();
        if panel.series.is_asked() {
            ui.spinner();
            ui.label("Folding the ledger…");
        } else if ui
            .add_enabled(shell.connected(), egui::Button::new("Reload"))
            .clicked()
        {
            commands.push(OverTimeCommand::Reload.into());
        }
        ui.label(
            egui::RichText::new(
                "Hover a bucket for its values; click to see that state in Time travel.",
            )
            .weak(),
        );
    });
    inline_error_ui(ui, panel.error.as_ref());
    let Some(series) = panel.series.value() else {
        if !panel.series.is_asked() && panel.error.is_none() {
            ui.label("Not read yet.");
        }
        return;
    };
    if series.points.is_empty() {
        ui.label("No events yet.");
        return;
    }
    if series.out_of_order_times > 0 {
        ui.label(format!(
            "{} events were recorded earlier than an event before them: a bucket by time holds the state after its last event in ledger order.",
            series.out_of_order_times
        ));
    }
    plots_ui(ui, series, commands);
}
