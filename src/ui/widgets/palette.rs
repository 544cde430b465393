//! The window's colors, one set for the dark theme and one for the light
//! theme (trainings run on projectors that wash out dark screens): every
//! color a panel draws with comes from [`palette`], chosen by the theme
//! egui is drawing with.

use egui::Color32;

/// The colors of one theme.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Palette {
    /// Errors.
    pub error: Color32,
    /// Warnings (lag, simulations).
    pub warn: Color32,
    /// Good news.
    pub ok: Color32,
    /// Background of changed cells.
    pub changed_bg: Color32,
    /// Added rows.
    pub added: Color32,
    /// Removed rows.
    pub removed: Color32,
    /// Changed rows.
    pub changed: Color32,
    /// The command's own steps in the anatomy, links of emphasis.
    pub accent: Color32,
    /// Something that did not happen (a duplicate's projections).
    pub idle: Color32,
    /// Text on a badge of [`Palette::warn`] or [`Palette::error`].
    pub on_badge: Color32,
    /// JSON keys.
    pub json_key: Color32,
    /// JSON strings.
    pub json_string: Color32,
    /// JSON numbers.
    pub json_number: Color32,
    /// JSON `true`, `false`, `null`.
    pub json_literal: Color32,
    /// Bars of the timeline's density plot.
    pub bars: Color32,
    /// A plot's total line (drawn over the series).
    pub total: Color32,
    /// Plot series, in order.
    pub series: [Color32; 8],
}

/// Colors for the dark theme.
pub const DARK: Palette = Palette {
    error: Color32::from_rgb(235, 90, 80),
    warn: Color32::from_rgb(230, 170, 40),
    ok: Color32::from_rgb(90, 190, 110),
    changed_bg: Color32::from_rgb(70, 52, 14),
    added: Color32::from_rgb(70, 170, 90),
    removed: Color32::from_rgb(210, 80, 80),
    changed: Color32::from_rgb(230, 170, 40),
    accent: Color32::from_rgb(120, 170, 230),
    idle: Color32::GRAY,
    on_badge: Color32::BLACK,
    json_key: Color32::from_rgb(120, 180, 240),
    json_string: Color32::from_rgb(150, 200, 120),
    json_number: Color32::from_rgb(230, 160, 90),
    json_literal: Color32::from_rgb(200, 130, 220),
    bars: Color32::from_rgb(100, 150, 230),
    total: Color32::from_gray(220),
    series: [
        Color32::from_rgb(230, 170, 40),
        Color32::from_rgb(120, 180, 230),
        Color32::from_rgb(200, 120, 220),
        Color32::from_rgb(120, 210, 170),
        Color32::from_rgb(240, 130, 100),
        Color32::from_rgb(170, 170, 90),
        Color32::from_rgb(150, 150, 240),
        Color32::from_rgb(220, 120, 150),
    ],
};

/// Colors for the light theme: darker and more saturated, so they read on
/// white under a projector.
pub const LIGHT: Palette = Palette {
    error: Color32::from_rgb(185, 28, 28),
    warn: Color32::from_rgb(161, 98, 7),
    ok: Color32::from_rgb(21, 128, 61),
    changed_bg: Color32::from_rgb(254, 234, 180),
    added: Color32::from_rgb(21, 128, 61),
    removed: Color32::from_rgb(185, 28, 28),
    changed: Color32::from_rgb(161, 98, 7),
    accent: Color32::from_rgb(29, 78, 216),
    idle: Color32::from_gray(110),
    on_badge: Color32::WHITE,
    json_key: Color32::from_rgb(29, 78, 216),
    json_string: Color32::from_rgb(21, 110, 50),
    json_number: Color32::from_rgb(170, 70, 10),
    json_literal: Color32::from_rgb(126, 34, 206),
    bars: Color32::from_rgb(37, 99, 235),
    total: Color32::from_gray(30),
    series: [
        Color32::from_rgb(217, 119, 6),
        Color32::from_rgb(37, 99, 235),
        Color32::from_rgb(147, 51, 234),
        Color32::from_rgb(13, 148, 136),
        Color32::from_rgb(220, 38, 38),
        Color32::from_rgb(101, 109, 20),
        Color32::from_rgb(79, 70, 229),
        Color32::from_rgb(190, 24, 93),
    ],
};

/// The colors of the theme `visuals` draw with.
pub fn palette(visuals: &egui::Visuals) -> &'static Palette {
    if visuals.dark_mode { &DARK } else { &LIGHT }
}

impl Palette {
    /// Plot series `i` (the colors repeat after eight).
    pub fn series(&self, i: usize) -> Color32 {
        self.series[i % self.series.len()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Relative luminance (WCAG), 0 black to 1 white.
    fn luminance(c: Color32) -> f32 {
        let lin = |v: u8| {
            let v = f32::from(v) / 255.0;
            if v <= 0.039_28 {
                v / 12.92
            } else {
                ((v + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * lin(c.r()) + 0.7152 * lin(c.g()) + 0.0722 * lin(c.b())
    }

    fn contrast(a: Color32, b: Color32) -> f32 {
        let (a, b) = (luminance(a), luminance(b));
        (a.max(b) + 0.05) / (a.min(b) + 0.05)
    }

    /// Every text color reads on its theme's background (WCAG AA for large
    /// text: 3:1), the light one on white under a projector included.
    #[test]
    fn text_colors_read_on_their_background() {
        for (palette, visuals) in [
            (&DARK, egui::Visuals::dark()),
            (&LIGHT, egui::Visuals::light()),
        ] {
            let background = visuals.panel_fill;
            for (name, color) in [
                ("error", palette.error),
                ("warn", palette.warn),
                ("ok", palette.ok),
                ("added", palette.added),
                ("removed", palette.removed),
                ("changed", palette.changed),
                ("accent", palette.accent),
                ("json_key", palette.json_key),
                ("json_string", palette.json_string),
                ("json_number", palette.json_number),
                ("json_literal", palette.json_literal),
                ("total", palette.total),
            ] {
                let ratio = contrast(color, background);
                assert!(ratio >= 3.0, "{name} on {background:?}: {ratio:.2}");
            }
            // A changed cell: the old value in text color (struck
            // through), the new one in strong text.
            let old = contrast(visuals.text_color(), palette.changed_bg);
            assert!(old >= 3.0, "old value on changed cells: {old:.2}");
            let new = contrast(visuals.strong_text_color(), palette.changed_bg);
            assert!(new >= 4.5, "new value on changed cells: {new:.2}");
            assert!(
                contrast(palette.on_badge, palette.warn) >= 3.0,
                "badge text"
            );
        }
    }
}
