//! Over time's plot data, made once when a series arrives (not per frame):
//! each line's points, cumulative and per bucket, and the axes' marks in
//! units that read (4.5 M, 12 k, amounts of money).

use egui_plot::PlotPoint;

use crate::domain::{Series, SeriesBy, SeriesPoint};
use crate::ui::widgets::palette::Palette;

/// A line's color, taken from the theme's palette when drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineColor {
    /// The total (drawn over the series).
    Total,
    /// Series color `i` of the palette.
    Series(usize),
}

impl LineColor {
    /// The color in `palette`.
    pub fn of(self, palette: &Palette) -> egui::Color32 {
        match self {
            LineColor::Total => palette.total,
            LineColor::Series(i) => palette.series(i),
        }
    }
}

/// Which values the plots draw.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Values {
    /// The state at the end of each bucket.
    #[default]
    Cumulative,
    /// What happened within each bucket.
    PerBucket,
}

impl Values {
    /// Both, in menu order.
    pub const ALL: [Values; 2] = [Values::Cumulative, Values::PerBucket];

    /// How it reads on its toggle.
    pub fn label(self) -> &'static str {
        match self {
            Values::Cumulative => "cumulative",
            Values::PerBucket => "per bucket",
        }
    }

    fn slot(self) -> usize {
        match self {
            Values::Cumulative => 0,
            Values::PerBucket => 1,
        }
    }
}

/// One line of a plot.
#[derive(Clone, Debug)]
pub struct ChartLine {
    /// What hides it (the same in both [`Values`]).
    pub key: String,
    /// Its name in the legend.
    pub name: String,
    /// Its color.
    pub color: LineColor,
    /// Its width in points.
    pub width: f32,
    /// Its points, one per bucket.
    pub points: Vec<PlotPoint>,
}

/// Both plots' lines for both [`Values`], and where each bucket sits on
/// the x axis.
#[derive(Clone, Debug, Default)]
pub struct Chart {
    /// The x of each point of the series, in order (never decreasing).
    pub xs: Vec<f64>,
    /// The rows plot's lines: `[cumulative, per bucket]`.
    rows: [Vec<ChartLine>; 2],
    /// The revenue plot's lines (in cents): `[cumulative, per bucket]`.
    revenue: [Vec<ChartLine>; 2],
}

/// Where a point sits on the x axis: its position (by position) or its
/// bucket's index (by day or hour, labelled with the bucket).
fn x_of(by: SeriesBy, index: usize, point: &SeriesPoint) -> f64 {
    match by {
        SeriesBy::Position => point.position as f64,
        SeriesBy::Day | SeriesBy::Hour => index as f64,
    }
}

impl Chart {
    /// The lines of `series`.
    pub fn of(series: &Series) -> Self {
        let xs: Vec<f64> = series
            .points
            .iter()
            .enumerate()
            .map(|(i, p)| x_of(series.by, i, p))
            .collect();
        let line = |key: &str, name: &str, color, f: &dyn Fn(&SeriesPoint) -> f64| ChartLine {
            key: key.to_string(),
            name: name.to_string(),
            color,
            width: 1.5,
            points: xs
                .iter()
                .zip(&series.points)
                .map(|(x, p)| PlotPoint::new(*x, f(p)))
                .collect(),
        };
        let rows = [
            vec![
                line("users", "users", LineColor::Series(1), &|p| p.users as f64),
                line(
                    "bookings",
                    "bookings confirmed",
                    LineColor::Series(3),
                    &|p| p.bookings_confirmed as f64,
                ),
                line(
                    "cancelled",
                    "bookings cancelled",
                    LineColor::Series(4),
                    &|p| p.bookings_cancelled as f64,
                ),
            ],
            vec![
                line("users", "new users", LineColor::Series(1), &|p| {
                    p.in_bucket.users as f64
                }),
                line("bookings", "bookings made", LineColor::Series(3), &|p| {
                    p.in_bucket.bookings_made as f64
                }),
                line(
                    "cancelled",
                    "bookings cancelled",
                    LineColor::Series(4),
                    &|p| p.in_bucket.bookings_cancelled as f64,
                ),
            ],
        ];
        let services: Vec<&String> = series
            .points
            .last()
            .map(|p| p.revenue_by_service.keys().collect())
            .unwrap_or_default();
        let revenue = [Values::Cumulative, Values::PerBucket].map(|values| {
            let cents = |p: &SeriesPoint, service: Option<&str>| -> f64 {
                let (total, by_service) = match values {
                    Values::Cumulative => (p.revenue_cents, &p.revenue_by_service),
                    Values::PerBucket => {
                        (p.in_bucket.revenue_cents, &p.in_bucket.revenue_by_service)
                    }
                };
                match service {
                    None => total as f64,
                    Some(s) => by_service.get(s).copied().unwrap_or(0) as f64,
                }
            };
            let mut lines = vec![ChartLine {
                width: 2.5,
                ..line("total", "total", LineColor::Total, &|p| cents(p, None))
            }];
            for (i, service) in services.iter().enumerate() {
                lines.push(line(
                    &format!("service:{service}"),
                    service,
                    LineColor::Series(i),
                    &|p| cents(p, Some(service)),
                ));
            }
            lines
        });
        Chart { xs, rows, revenue }
    }

    /// The rows plot's lines.
    pub fn rows(&self, values: Values) -> &[ChartLine] {
        &self.rows[values.slot()]
    }

    /// The revenue plot's lines (in cents).
    pub fn revenue(&self, values: Values) -> &[ChartLine] {
        &self.revenue[values.slot()]
    }

    /// The index of the point nearest to `x` (a binary search).
    pub fn nearest(&self, x: f64) -> Option<usize> {
        let after = self.xs.partition_point(|p| *p < x);
        let candidates = [after.checked_sub(1), Some(after)];
        candidates
            .into_iter()
            .flatten()
            .filter(|i| *i < self.xs.len())
            .min_by(|a, b| (self.xs[*a] - x).abs().total_cmp(&(self.xs[*b] - x).abs()))
    }
}

/// A number on an axis whose visible range is `range` and whose marks are
/// `step` apart: `950`, `12 k`, `4.5 M`, `1.25 G`; one unit and as many
/// decimals as the step needs, for every mark of the axis.
pub fn compact(value: f64, step: f64, range: &std::ops::RangeInclusive<f64>) -> String {
    let largest = range.start().abs().max(range.end().abs());
    let (scale, unit) = if largest >= 1e9 {
        (1e9, " G")
    } else if largest >= 1e6 {
        (1e6, " M")
    } else if largest >= 1e4 {
        (1e3, " k")
    } else {
        (1.0, "")
    };
    let step = (step / scale).abs();
    let decimals = if step > 0.0 && step < 1.0 {
        ((-step.log10()).ceil() as usize).min(3)
    } else {
        0
    };
    let scaled = value / scale;
    // Zero reads 0 (not "0 M", "0.0" or "-0").
    if scaled.abs() < 0.5 * 10f64.powi(-(decimals as i32)) {
        return "0".to_string();
    }
    format!("{scaled:.decimals$}{unit}")
}

/// An amount of money on an axis of cents: [`compact`] in whole currency
/// units (`450`, `12 k`, `4.5 M`), with cents only when the marks are less
/// than one unit apart.
pub fn compact_cents(cents: f64, step: f64, range: &std::ops::RangeInclusive<f64>) -> String {
    let units = (*range.start() / 100.0)..=(*range.end() / 100.0);
    compact(cents / 100.0, step / 100.0, &units)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_marks_read_in_thousands_and_millions() {
        let r = |a: f64, b: f64| a..=b;
        assert_eq!(compact(4_500_000.0, 500_000.0, &r(0.0, 5e6)), "4.5 M");
        assert_eq!(compact(4_000_000.0, 500_000.0, &r(0.0, 5e6)), "4.0 M");
        assert_eq!(compact(12_000.0, 2_000.0, &r(0.0, 2e4)), "12 k");
        assert_eq!(compact(1_250_000.0, 50_000.0, &r(0.0, 2e6)), "1.25 M");
        assert_eq!(compact(950.0, 50.0, &r(0.0, 1000.0)), "950");
        assert_eq!(compact(2.5, 0.5, &r(0.0, 4.0)), "2.5");
        assert_eq!(compact(-0.0001, 0.5, &r(-1.0, 4.0)), "0");
        assert_eq!(compact(0.0, 1e6, &r(0.0, 4e6)), "0");
        assert_eq!(compact(3e9, 1e9, &r(0.0, 4e9)), "3 G");
        // Cents read as the currency's units.
        assert_eq!(
            compact_cents(450_000_000.0, 50_000_000.0, &r(0.0, 5e8)),
            "4.5 M"
        );
        assert_eq!(compact_cents(1_250.0, 50.0, &r(0.0, 2_000.0)), "12.5");
        assert_eq!(compact_cents(1_200_000.0, 200_000.0, &r(0.0, 2e6)), "12 k");
    }

    #[test]
    fn the_nearest_point_is_found_on_either_side() {
        let chart = Chart {
            xs: vec![100.0, 200.0, 200.0, 400.0],
            ..Chart::default()
        };
        assert_eq!(chart.nearest(0.0), Some(0));
        assert_eq!(chart.nearest(140.0), Some(0));
        assert_eq!(chart.nearest(160.0), Some(1));
        assert_eq!(chart.nearest(390.0), Some(3));
        assert_eq!(chart.nearest(9e9), Some(3));
        assert_eq!(Chart::default().nearest(5.0), None);
    }
}
