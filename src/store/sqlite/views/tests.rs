use chrono::NaiveDate;

use super::{DateText, iso_date};

#[test]
fn bulk_date_text_is_the_same_text_as_naive_date_display() {
    let dates = [
        (2026, 3, 1),
        (1, 1, 1),
        (999, 12, 31),
        (9999, 12, 31),
        (0, 2, 29),
        (-44, 3, 15),
        (10_000, 1, 1),
        (2024, 2, 29),
    ];
    for (y, m, d) in dates {
        let date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
        let mut buf = [0u8; 10];
        assert_eq!(
            DateText::new(date, &mut buf).as_str(),
            date.to_string(),
            "{date:?}"
        );
    }
}

#[test]
fn iso_date_reads_what_parse_from_str_reads() {
    let texts = [
        "2026-03-01",
        "0001-01-01",
        "0000-02-29",
        "9999-12-31",
        "2024-02-29",
        "2023-02-29",
        "2024-13-01",
        "2024-00-10",
        "2024-01-32",
        "2024-1-01",
        "2024-01-1",
        "202-01-01",
        "+2024-01-01",
        "-0044-03-15",
        "2024/01/01",
        "2024-01-01 ",
        " 2024-01-01",
        "abcd-ef-gh",
        "2024-0a-01",
        "",
        "10000-01-01",
        "2024-01-01T00:00",
    ];
    for text in texts {
        let chrono = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok();
        let read = iso_date(text).or_else(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok());
        assert_eq!(read, chrono, "{text:?}");
        if text.len() == 10 && chrono.is_some() && text.as_bytes()[0].is_ascii_digit() {
            assert_eq!(iso_date(text), chrono, "{text:?} is read without chrono");
        }
    }
}
