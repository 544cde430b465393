//! The window's texts, from one Fluent catalogue per language
//! (`assets/texts/en.ftl`, `assets/texts/es.ftl`, built into the binary),
//! and numbers, money and dates in the language's format ([`format`]).
//!
//! The UI thread speaks one language at a time: the app sets it from the
//! shell at the start of every frame ([`set_language`]), and drawing code
//! asks for a text by key with [`t!`](crate::ui::i18n::t):
//! `t!("emit-generate")`, `t!("emit-bulk-done", count = 300)`. A number
//! passed as an argument is written in the language's format. A key
//! missing from the catalogue shows as itself (and is logged once); the
//! catalogue test (`tests` below) fails on any key used in `src/ui` that
//! either catalogue lacks.

pub mod format;

use std::cell::{Cell, RefCell};
use std::collections::HashSet;

use fluent_bundle::{FluentArgs, FluentBundle, FluentResource, FluentValue};

use crate::ui::prefs::Language;

/// The English catalogue.
pub const EN_FTL: &str = include_str!("../../../assets/texts/en.ftl");
/// The Spanish catalogue.
pub const ES_FTL: &str = include_str!("../../../assets/texts/es.ftl");

thread_local! {
    static LANGUAGE: Cell<Language> = const { Cell::new(Language::En) };
    static BUNDLES: Bundles = Bundles::load();
    static REPORTED: RefCell<HashSet<String>> = RefCell::new(HashSet::new());
}

/// The language this thread's texts are in (the UI thread's: the
/// window's).
pub fn language() -> Language {
    LANGUAGE.with(Cell::get)
}

/// Makes this thread speak `language` (the app calls it each frame with
/// the shell's language).
pub fn set_language(language: Language) {
    LANGUAGE.with(|l| l.set(language));
}

/// The catalogue of a language, as Fluent source.
pub fn catalogue(language: Language) -> &'static str {
    match language {
        Language::En => EN_FTL,
        Language::Es => ES_FTL,
    }
}

/// Both catalogues, parsed, for one thread.
struct Bundles {
    en: FluentBundle<FluentResource>,
    es: FluentBundle<FluentResource>,
}

impl Bundles {
    fn load() -> Bundles {
        Bundles {
            en: bundle(Language::En),
            es: bundle(Language::Es),
        }
    }

    fn of(&self, language: Language) -> &FluentBundle<FluentResource> {
        match language {
            Language::En => &self.en,
            Language::Es => &self.es,
        }
    }
}

/// The language's tag (`en`, `es`).
pub fn tag(language: Language) -> &'static str {
    match language {
        Language::En => "en",
        Language::Es => "es",
    }
}

/// A language's bundle: its catalogue, no Unicode isolation marks around
/// arguments (egui draws them as boxes), numbers in its format.
fn bundle(language: Language) -> FluentBundle<FluentResource> {
    let id: unic_langid::LanguageIdentifier = match tag(language).parse() {
        Ok(id) => id,
        Err(error) => {
            tracing::error!(%error, "a language tag does not parse");
            unic_langid::LanguageIdentifier::default()
        }
    };
    let mut bundle = FluentBundle::new(vec![id]);
    bundle.set_use_isolating(false);
    bundle.set_formatter(Some(match language {
        Language::En => number_en,
        Language::Es => number_es,
    }));
    let resource = match FluentResource::try_new(catalogue(language).to_string()) {
        Ok(resource) => resource,
        Err((resource, errors)) => {
            tracing::error!(?language, ?errors, "the catalogue has syntax errors");
            resource
        }
    };
    if let Err(errors) = bundle.add_resource(resource) {
        tracing::error!(?language, ?errors, "the catalogue has duplicate keys");
    }
    bundle
}

fn number_of(language: Language, value: &FluentValue) -> Option<String> {
    match value {
        FluentValue::Number(n) => {
            let decimals = n
                .options
                .minimum_fraction_digits
                .or(n.options.maximum_fraction_digits)
                .unwrap_or(if n.value.fract() == 0.0 { 0 } else { 2 });
            Some(format::decimal_in(language, n.value, decimals))
        }
        _ => None,
    }
}

fn number_en<M>(value: &FluentValue, _: &M) -> Option<String> {
    number_of(Language::En, value)
}

fn number_es<M>(value: &FluentValue, _: &M) -> Option<String> {
    number_of(Language::Es, value)
}

/// Logs a problem with a key once per thread (a frame draws it again and
/// again).
fn report_once(key: &str, what: &str) {
    let first = REPORTED.with(|r| r.borrow_mut().insert(format!("{key}:{what}")));
    if first {
        tracing::warn!(key, problem = what, language = ?language(), "a text of the window");
    }
}

/// The text of `key` in `language`, with `args`; the key itself when the
/// catalogue lacks it.
pub fn text_in(language: Language, key: &str, args: Option<&FluentArgs>) -> String {
    BUNDLES.with(|bundles| {
        let bundle = bundles.of(language);
        let Some(pattern) = bundle.get_message(key).and_then(|m| m.value()) else {
            report_once(key, "no entry in the catalogue");
            return key.to_string();
        };
        let mut errors = Vec::new();
        let text = bundle
            .format_pattern(pattern, args, &mut errors)
            .into_owned();
        if !errors.is_empty() {
            report_once(key, &format!("{errors:?}"));
        }
        text
    })
}

/// The text of `key` in this thread's language.
pub fn text(key: &str) -> String {
    text_in(language(), key, None)
}

/// The text of `key` in this thread's language, with `args`.
pub fn text_with(key: &str, args: &FluentArgs) -> String {
    text_in(language(), key, Some(args))
}

/// An argument of [`t!`](crate::ui::i18n::t) on its way to Fluent: a
/// number stays a number (the catalogue writes it in the language's format
/// and picks plurals by it, [`AsNumber`]); anything else that displays is
/// text ([`AsText`]). Which applies is chosen by autoref at the call.
pub struct Arg<T>(pub T);

/// A number argument (integers and floats).
pub trait AsNumber {
    /// The argument as a Fluent number.
    fn into_arg(self) -> FluentValue<'static>;
}

impl<T: Into<fluent_bundle::types::FluentNumber> + Copy> AsNumber for &&Arg<&T> {
    fn into_arg(self) -> FluentValue<'static> {
        FluentValue::Number((*self.0).into())
    }
}

/// A text argument (anything that displays).
pub trait AsText {
    /// The argument as Fluent text.
    fn into_arg(self) -> FluentValue<'static>;
}

impl<T: std::fmt::Display> AsText for &Arg<T> {
    fn into_arg(self) -> FluentValue<'static> {
        FluentValue::String(self.0.to_string().into())
    }
}

/// The text of a key in the window's language: `t!("key")`, or with
/// Fluent arguments `t!("key", count = 3, name = "Ana")`.
macro_rules! t {
    ($key:literal) => {
        $crate::ui::i18n::text($key)
    };
    ($key:literal, $($name:ident = $value:expr),+ $(,)?) => {{
        let mut args = ::fluent_bundle::FluentArgs::new();
        $({
            #[allow(unused_imports)]
            use $crate::ui::i18n::{AsNumber as _, AsText as _};
            args.set(stringify!($name), (&&$crate::ui::i18n::Arg(&$value)).into_arg());
        })+
        $crate::ui::i18n::text_with($key, &args)
    }};
}
pub(crate) use t;

/// A text to say later, in the language of the thread that draws it: a
/// key and its arguments, made where the data is (a tokio task, whose
/// thread has no language) and written by [`Said::text`] on the UI thread.
/// Made with [`said!`](crate::ui::i18n::said), like [`t!`](crate::ui::i18n::t).
#[derive(Clone, Debug, PartialEq)]
pub struct Said {
    /// The catalogue key.
    pub key: &'static str,
    /// Its Fluent arguments.
    pub args: Vec<(&'static str, FluentValue<'static>)>,
}

impl Said {
    /// The text in this thread's language.
    pub fn text(&self) -> String {
        self.text_in(language())
    }

    /// The text in `language` (the log's is English).
    pub fn text_in(&self, language: Language) -> String {
        let mut args = FluentArgs::new();
        for (name, value) in &self.args {
            args.set(*name, value.clone());
        }
        text_in(language, self.key, Some(&args))
    }
}

/// A number written with one decimal (`3.9 s`, `3,9 s`), as an argument of
/// [`t!`](crate::ui::i18n::t) or [`said!`](crate::ui::i18n::said).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OneDecimal(pub f64);

impl From<OneDecimal> for fluent_bundle::types::FluentNumber {
    fn from(n: OneDecimal) -> Self {
        let options = fluent_bundle::types::FluentNumberOptions {
            minimum_fraction_digits: Some(1),
            maximum_fraction_digits: Some(1),
            ..Default::default()
        };
        fluent_bundle::types::FluentNumber::new(n.0, options)
    }
}

/// A [`Said`]: `said!("key", count = 3)`, said later with [`Said::text`].
macro_rules! said {
    ($key:literal $(, $name:ident = $value:expr)* $(,)?) => {{
        #[allow(unused_mut)]
        let mut args = Vec::new();
        $({
            #[allow(unused_imports)]
            use $crate::ui::i18n::{AsNumber as _, AsText as _};
            args.push((stringify!($name), (&&$crate::ui::i18n::Arg(&$value)).into_arg()));
        })*
        $crate::ui::i18n::Said { key: $key, args }
    }};
}
pub(crate) use said;

#[cfg(test)]
mod tests;
