//! Syntax-highlighted, pretty-printed JSON (keys, strings, numbers, literals
//! in different colors), selectable for copying.

use egui::text::{LayoutJob, TextFormat};
use egui::{Color32, FontId};
use serde_json::Value;

const KEY: Color32 = Color32::from_rgb(120, 180, 240);
const STRING: Color32 = Color32::from_rgb(150, 200, 120);
const NUMBER: Color32 = Color32::from_rgb(230, 160, 90);
const LITERAL: Color32 = Color32::from_rgb(200, 130, 220);

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

fn write(job: &mut LayoutJob, value: &Value, indent: usize, plain: Color32) {
    let pad = "  ".repeat(indent + 1);
    let close = "  ".repeat(indent);
    match value {
        Value::Null => push(job, "null", LITERAL),
        Value::Bool(b) => push(job, &b.to_string(), LITERAL),
        Value::Number(n) => push(job, &n.to_string(), NUMBER),
        Value::String(s) => push(job, &Value::String(s.clone()).to_string(), STRING),
        Value::Array(items) if items.is_empty() => push(job, "[]", plain),
        Value::Object(map) if map.is_empty() => push(job, "{}", plain),
        Value::Array(items) => {
            push(job, "[\n", plain);
            for (i, item) in items.iter().enumerate() {
                push(job, &pad, plain);
                write(job, item, indent + 1, plain);
                push(job, if i + 1 < items.len() { ",\n" } else { "\n" }, plain);
            }
            push(job, &format!("{close}]"), plain);
        }
        Value::Object(map) => {
            push(job, "{\n", plain);
            for (i, (key, item)) in map.iter().enumerate() {
                push(job, &pad, plain);
                push(job, &Value::String(key.clone()).to_string(), KEY);
                push(job, ": ", plain);
                write(job, item, indent + 1, plain);
                push(job, if i + 1 < map.len() { ",\n" } else { "\n" }, plain);
            }
            push(job, &format!("{close}}}"), plain);
        }
    }
}

/// The layout for `value`.
pub fn json_layout(value: &Value, plain: Color32) -> LayoutJob {
    let mut job = LayoutJob::default();
    write(&mut job, value, 0, plain);
    job
}

/// Draws `value` highlighted.
pub fn json_view_ui(ui: &mut egui::Ui, value: &Value) {
    let plain = ui.visuals().text_color();
    ui.add(egui::Label::new(json_layout(value, plain)).selectable(true));
}
