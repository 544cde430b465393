//! Syntax-highlighted, pretty-printed JSON (keys, strings, numbers, literals
//! in different colors), selectable for copying.

use egui::text::{LayoutJob, TextFormat};
use egui::{Color32, FontId};
use serde_json::Value;

use crate::ui::widgets::palette::{Palette, palette};

/// The colors of one drawing: plain text and the theme's palette.
#[derive(Clone, Copy)]
struct Colors {
    plain: Color32,
    palette: &'static Palette,
}

fn push(job: &mut LayoutJob, text: &str, color: Color32) {
    job.append(
        text,
        0.0,
        TextFormat {
            font_id: FontId::monospace(12.0),
            color,
            ..TextFormat::default()
        },
    );
}

fn write(job: &mut LayoutJob, value: &Value, indent: usize, colors: Colors) {
    let plain = colors.plain;
    let pad = "  ".repeat(indent + 1);
    let close = "  ".repeat(indent);
    match value {
        Value::Null => push(job, "null", colors.palette.json_literal),
        Value::Bool(b) => push(job, &b.to_string(), colors.palette.json_literal),
        Value::Number(n) => push(job, &n.to_string(), colors.palette.json_number),
        Value::String(s) => push(
            job,
            &Value::String(s.clone()).to_string(),
            colors.palette.json_string,
        ),
        Value::Array(items) if items.is_empty() => push(job, "[]", plain),
        Value::Object(map) if map.is_empty() => push(job, "{}", plain),
        Value::Array(items) => {
            push(job, "[\n", plain);
            for (i, item) in items.iter().enumerate() {
                push(job, &pad, plain);
                write(job, item, indent + 1, colors);
                push(job, if i + 1 < items.len() { ",\n" } else { "\n" }, plain);
            }
            push(job, &format!("{close}]"), plain);
        }
        Value::Object(map) => {
            push(job, "{\n", plain);
            for (i, (key, item)) in map.iter().enumerate() {
                push(job, &pad, plain);
                push(
                    job,
                    &Value::String(key.clone()).to_string(),
                    colors.palette.json_key,
                );
                push(job, ": ", plain);
                write(job, item, indent + 1, colors);
                push(job, if i + 1 < map.len() { ",\n" } else { "\n" }, plain);
            }
            push(job, &format!("{close}}}"), plain);
        }
    }
}

/// The layout for `value` in the theme of `visuals`.
pub fn json_layout(value: &Value, visuals: &egui::Visuals) -> LayoutJob {
    let mut job = LayoutJob::default();
    let colors = Colors {
        plain: visuals.text_color(),
        palette: palette(visuals),
    };
    write(&mut job, value, 0, colors);
    job
}

/// Draws `value` highlighted.
pub fn json_view_ui(ui: &mut egui::Ui, value: &Value) {
    let job = json_layout(value, ui.visuals());
    ui.add(egui::Label::new(job).selectable(true));
}
