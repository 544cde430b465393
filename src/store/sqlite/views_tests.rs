use chrono::NaiveDate;

use super::DateText;

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
