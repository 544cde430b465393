//! Numbers, money and dates as the window's language writes them:
//! English `4,552,769.05`, `€4,552,769.05`, `12/08/2026 04:51:15`; Spanish
//! `4.552.769,05`, `4.552.769,05 €`, `08/12/2026 04:51:15` (as CLDR has
//! it, Spanish groups no four-digit number: `4552`, `45.527`).
//! Each function has an `_in` form that takes the language, and one that
//! uses the window's ([`super::language`]).

use chrono::{DateTime, Utc};

use super::language;
use crate::ui::prefs::Language;

fn separators(language: Language) -> (char, char) {
    match language {
        Language::En => (',', '.'),
        Language::Es => ('.', ','),
    }
}

/// Digits in groups of three (`digits` has no sign).
fn grouped(language: Language, digits: &str) -> String {
    let (group, _) = separators(language);
    // Spanish leaves four-digit numbers whole (CLDR's minimum grouping
    // digits of 2).
    let min_len = match language {
        Language::En => 4,
        Language::Es => 5,
    };
    if digits.len() < min_len {
        return digits.to_string();
    }
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(group);
        }
        out.push(c);
    }
    out
}

/// `value` with `decimals` decimals, grouped, in `language`.
pub fn decimal_in(language: Language, value: f64, decimals: usize) -> String {
    if !value.is_finite() {
        return value.to_string();
    }
    let text = format!("{:.decimals$}", value.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let negative = value < 0.0 && text.bytes().any(|b| (b'1'..=b'9').contains(&b));
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    out.push_str(&grouped(language, int));
    if !frac.is_empty() {
        out.push(separators(language).1);
        out.push_str(frac);
    }
    out
}

/// `value` with `decimals` decimals in the window's language.
pub fn decimal(value: f64, decimals: usize) -> String {
    decimal_in(language(), value, decimals)
}

/// A whole number, grouped, in `language`.
pub fn count_in(language: Language, n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let sign = if n < 0 { "-" } else { "" };
    format!("{sign}{}", grouped(language, &digits))
}

/// A whole number, grouped, in the window's language.
pub fn count(n: impl TryInto<i64>) -> String {
    count_in(language(), n.try_into().unwrap_or(i64::MAX))
}

/// An amount of euros given in cents, in `language`: `€4,552,769.05`,
/// `4.552.769,05 €`.
pub fn money_cents_in(language: Language, cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    let (_, dec) = separators(language);
    let units = grouped(language, &(abs / 100).to_string());
    let amount = format!("{units}{dec}{:02}", abs % 100);
    match language {
        Language::En => format!("{sign}€{amount}"),
        Language::Es => format!("{sign}{amount} €"),
    }
}

/// An amount of euros given in cents, in the window's language.
pub fn money_cents(cents: i64) -> String {
    money_cents_in(language(), cents)
}

/// A change of an amount of euros in cents, with its sign: `+€12.50`,
/// `+12,50 €`, `-€3.00`, `€0.00`.
pub fn money_change_cents_in(language: Language, cents: i64) -> String {
    let amount = money_cents_in(language, cents);
    if cents > 0 {
        format!("+{amount}")
    } else {
        amount
    }
}

/// A change of an amount of euros in the window's language.
pub fn money_change_cents(cents: i64) -> String {
    money_change_cents_in(language(), cents)
}

/// A date and time (UTC) in `language`: `12/08/2026 04:51:15` (English,
/// month first), `08/12/2026 04:51:15` (Spanish, day first).
pub fn date_time_in(language: Language, at: &DateTime<Utc>) -> String {
    match language {
        Language::En => at.format("%m/%d/%Y %H:%M:%S").to_string(),
        Language::Es => at.format("%d/%m/%Y %H:%M:%S").to_string(),
    }
}

/// A date and time (UTC) in the window's language.
pub fn date_time(at: &DateTime<Utc>) -> String {
    date_time_in(language(), at)
}

/// [`date_time_in`] with milliseconds (`…04:51:15.042` / `…04:51:15,042`).
pub fn date_time_millis_in(language: Language, at: &DateTime<Utc>) -> String {
    let (_, dec) = separators(language);
    format!(
        "{}{dec}{:03}",
        date_time_in(language, at),
        at.timestamp_subsec_millis()
    )
}

/// A date and time with milliseconds in the window's language.
pub fn date_time_millis(at: &DateTime<Utc>) -> String {
    date_time_millis_in(language(), at)
}

/// A date (UTC) in `language`: `12/08/2026`, `08/12/2026`.
pub fn date_in(language: Language, at: &DateTime<Utc>) -> String {
    match language {
        Language::En => at.format("%m/%d/%Y").to_string(),
        Language::Es => at.format("%d/%m/%Y").to_string(),
    }
}

/// A date (UTC) in the window's language.
pub fn date(at: &DateTime<Utc>) -> String {
    date_in(language(), at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Language::{En, Es};

    #[test]
    fn numbers_group_in_the_language() {
        assert_eq!(decimal_in(En, 4_552_769.05, 2), "4,552,769.05");
        assert_eq!(decimal_in(Es, 4_552_769.05, 2), "4.552.769,05");
        assert_eq!(count_in(En, 4_552_769), "4,552,769");
        assert_eq!(count_in(Es, 4_552_769), "4.552.769");
        assert_eq!(count_in(En, 999), "999");
        assert_eq!(count_in(En, 4_552), "4,552");
        assert_eq!(count_in(Es, 4_552), "4552");
        assert_eq!(count_in(Es, 45_527), "45.527");
        assert_eq!(count_in(Es, -1_000_000), "-1.000.000");
        assert_eq!(count_in(En, 0), "0");
        assert_eq!(decimal_in(Es, 4.26, 1), "4,3");
        assert_eq!(decimal_in(En, -0.001, 1), "0.0");
        assert_eq!(decimal_in(En, -1234.5, 1), "-1,234.5");
    }

    #[test]
    fn money_is_in_euros_in_the_language() {
        assert_eq!(money_cents_in(Es, 455_276_905), "4.552.769,05 €");
        assert_eq!(money_cents_in(En, 455_276_905), "€4,552,769.05");
        assert_eq!(money_cents_in(En, 5), "€0.05");
        assert_eq!(money_cents_in(Es, -24_000), "-240,00 €");
        assert_eq!(money_change_cents_in(Es, 1_250), "+12,50 €");
        assert_eq!(money_change_cents_in(En, -300), "-€3.00");
    }

    #[test]
    fn dates_are_in_the_language_order() {
        let at = DateTime::parse_from_rfc3339("2026-12-08T04:51:15.042Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(date_time_in(En, &at), "12/08/2026 04:51:15");
        assert_eq!(date_time_in(Es, &at), "08/12/2026 04:51:15");
        assert_eq!(date_time_millis_in(Es, &at), "08/12/2026 04:51:15,042");
        assert_eq!(date_in(En, &at), "12/08/2026");
    }
}
