//! The catalogue test: both catalogues parse and have the same keys, every
//! key the window asks for is in both, and no text of the window is
//! written outside them.
//!
//! The rule for the last: in `src/ui` (outside test modules), the
//! arguments of a call that puts text on screen (`label`, `button`,
//! `heading`, `on_hover_text`, `RichText::new`, `Button::new`, `checkbox`,
//! `menu_button`, `Window::new`, `hint_text`, … the list in
//! [`TEXT_CALLS`]) hold no string literal with a letter in it, except a
//! key passed to `t!`. Texts built from data (a column's name, an event's
//! type) come from variables and are not caught; `format!("{n} ms")` is.
//! A line may opt out with `// i18n: data` when its literal is data shown
//! as is (a code sample, a format's name).

use std::collections::BTreeSet;
use std::path::Path;

use fluent_bundle::FluentResource;

use super::{EN_FTL, ES_FTL};

/// Calls whose arguments are text on screen.
const TEXT_CALLS: &[&str] = &[
    ".label(",
    ".colored_label(",
    ".button(",
    ".small_button(",
    ".heading(",
    ".small(",
    ".strong(",
    ".weak(",
    ".monospace(",
    ".code(",
    ".hyperlink_to(",
    ".link(",
    ".checkbox(",
    ".radio(",
    ".radio_value(",
    ".selectable_label(",
    ".selectable_value(",
    ".toggle_value(",
    ".menu_button(",
    ".collapsing(",
    ".hint_text(",
    ".selected_text(",
    ".on_hover_text(",
    ".on_disabled_hover_text(",
    ".on_hover_text_at_pointer(",
    ".x_axis_label(",
    ".y_axis_label(",
    ".suffix(",
    ".prefix(",
    "RichText::new(",
    "Button::new(",
    "Button::selectable(",
    "Label::new(",
    "Checkbox::new(",
    "Window::new(",
    "CollapsingHeader::new(",
    "wrapped_label_ui(",
    "truncated_label_ui(",
    "write_button_ui(",
    "write_button_if_ui(",
];

fn keys(source: &str) -> BTreeSet<String> {
    let resource = match FluentResource::try_new(source.to_string()) {
        Ok(resource) => resource,
        Err((_, errors)) => panic!("the catalogue does not parse: {errors:?}"),
    };
    resource
        .entries()
        .filter_map(|entry| match entry {
            fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_string()),
            _ => None,
        })
        .collect()
}

fn ui_sources() -> Vec<(String, String)> {
    fn walk(dir: &Path, out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                // Test modules are not the window.
                let text = match text.find("#[cfg(test)]\nmod tests {") {
                    Some(at) => text[..at].to_string(),
                    None => text,
                };
                out.push((path.display().to_string(), text));
            }
        }
    }
    let mut out = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ui"),
        &mut out,
    );
    assert!(out.len() > 50, "src/ui was not found");
    out
}

/// The keys passed to `t!` in `text`.
fn used_keys(text: &str) -> Vec<String> {
    let said = text.match_indices("said!(\"");
    text.match_indices("t!(\"")
        .chain(said)
        .filter(|(at, _)| !ends_in_ident(&text[..*at]))
        .filter_map(|(at, m)| {
            let rest = &text[at + m.len()..];
            rest.find('"').map(|end| rest[..end].to_string())
        })
        .collect()
}

/// Whether `text` ends in a letter, digit or `_` (`format` before `t!(`).
fn ends_in_ident(text: &str) -> bool {
    text.chars()
        .next_back()
        .is_some_and(|c| c.is_alphanumeric() || c == '_')
}

/// The string literals with a letter in the arguments of the call that
/// opens at `text[start]` (just after its `(`), except `t!` keys.
fn literals_in_call(text: &str, start: usize) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut depth = 1usize;
    let mut i = start;
    let mut found = Vec::new();
    while i < bytes.len() && depth > 0 {
        match bytes[i] {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            b'\'' => {
                // A char literal ('x', '\n') or a lifetime: skip 'x'.
                if bytes.get(i + 2) == Some(&b'\'') {
                    i += 2;
                } else if bytes.get(i + 1) == Some(&b'\\')
                    && let Some(end) = text[i + 2..].find('\'')
                {
                    i += 2 + end;
                }
            }
            b'"' => {
                let before = text[..i].trim_end();
                let key = before.ends_with("t!(") && !ends_in_ident(&before[..before.len() - 3])
                    || before.ends_with("env!(");
                let mut j = i + 1;
                while j < bytes.len() && bytes[j] != b'"' {
                    if bytes[j] == b'\\' {
                        j += 1;
                    }
                    j += 1;
                }
                let literal = &text[i + 1..j.min(bytes.len())];
                let raw = text[..i].ends_with('r');
                if !key && !raw && literal_is_text(literal) {
                    found.push(literal.to_string());
                }
                i = j;
            }
            _ => {}
        }
        i += 1;
    }
    found
}

/// A literal is text when a letter stands outside `{…}` placeholders (a
/// chrono format, starting with `%`, is not).
fn literal_is_text(literal: &str) -> bool {
    if literal.starts_with('%') {
        return false;
    }
    let mut depth = 0;
    for c in literal.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            c if depth == 0 && c.is_alphabetic() => return true,
            _ => {}
        }
    }
    false
}

#[test]
fn both_catalogues_have_the_same_keys() {
    let en = keys(EN_FTL);
    let es = keys(ES_FTL);
    let only_en: Vec<_> = en.difference(&es).collect();
    let only_es: Vec<_> = es.difference(&en).collect();
    assert!(
        only_en.is_empty() && only_es.is_empty(),
        "only in en.ftl: {only_en:?}; only in es.ftl: {only_es:?}"
    );
    assert!(!en.is_empty());
}

#[test]
fn every_key_the_window_uses_is_in_both_catalogues() {
    let en = keys(EN_FTL);
    let es = keys(ES_FTL);
    let mut missing = Vec::new();
    for (path, text) in ui_sources() {
        if path.contains("/i18n/") {
            continue;
        }
        for key in used_keys(&text) {
            if !en.contains(&key) || !es.contains(&key) {
                missing.push(format!("{path}: {key}"));
            }
        }
    }
    assert!(missing.is_empty(), "keys with no entry: {missing:#?}");
}

#[test]
fn no_text_of_the_window_is_outside_the_catalogues() {
    let mut outside = Vec::new();
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/");
    for (path, text) in ui_sources() {
        if path.contains("/i18n/") {
            continue;
        }
        let relative = path.trim_start_matches(root);
        for call in TEXT_CALLS {
            for (at, _) in text.match_indices(call) {
                let line_end = text[at..].find('\n').map_or(text.len(), |n| at + n);
                if text[at..line_end].contains("// i18n: data") {
                    continue;
                }
                for literal in literals_in_call(&text, at + call.len()) {
                    let line = text[..at].lines().count();
                    outside.push(format!("{relative}:{line}: {call} \"{literal}\""));
                }
            }
        }
    }
    outside.sort();
    outside.dedup();
    assert!(
        outside.is_empty(),
        "{} texts of the window outside the catalogues:\n{}",
        outside.len(),
        outside.join("\n")
    );
}

#[test]
fn a_text_is_in_the_window_language_with_its_numbers() {
    use crate::ui::prefs::Language;
    super::set_language(Language::Es);
    assert_eq!(
        crate::ui::i18n::t!("i18n-sample", count = 4_552_769),
        "4.552.769 eventos"
    );
    super::set_language(Language::En);
    assert_eq!(crate::ui::i18n::t!("i18n-sample", count = 1), "1 event");
    assert_eq!(crate::ui::i18n::t!("no-such-key"), "no-such-key");
}

/// The scenarios' Spanish steps name the window's controls as the Spanish
/// window shows them: no label of a panel, button or switch whose Spanish
/// differs is left in English in them ("Pulsa Generate New Event" while
/// the button says "Generar nuevo evento"). Replay and snapshot are the
/// note's own terms and may stay.
#[test]
fn the_spanish_scenarios_name_the_spanish_controls() {
    fn simple(source: &str) -> std::collections::BTreeMap<&str, &str> {
        source
            .lines()
            .filter_map(|l| l.split_once(" = "))
            .filter(|(k, v)| !k.starts_with(' ') && !v.contains('{'))
            .collect()
    }
    fn names(text: &str, word: &str) -> bool {
        text.match_indices(word).any(|(at, _)| {
            let before = text[..at].chars().next_back();
            let after = text[at + word.len()..].chars().next();
            !before.is_some_and(|c| c.is_alphanumeric() || c == '{')
                && !after.is_some_and(|c| c.is_alphanumeric() || c == '}')
        })
    }
    let (en, es) = (simple(EN_FTL), simple(ES_FTL));
    let controls = [
        "panel-",
        "emit-",
        "models-",
        "operations-",
        "compare-",
        "time-travel-",
    ];
    let mut found = Vec::new();
    for id in crate::ui::scenarios::ScenarioId::ALL {
        for step in id.steps() {
            for spanish in [step.title.es, step.body.es] {
                for (key, english) in &en {
                    if !controls.iter().any(|c| key.starts_with(c))
                        || es.get(key) == Some(english)
                        || english.chars().count() < 4
                        || ["Replay", "Snapshots", "Snapshot"].contains(english)
                    {
                        continue;
                    }
                    if names(spanish, english) {
                        found.push(format!("{key} '{english}' in: {spanish}"));
                    }
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "English labels in Spanish steps:\n{}",
        found.join("\n")
    );
}
