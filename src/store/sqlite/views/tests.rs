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

/// The columns of `table` in `path`: (name, declared type, primary key), in order.
fn stored_columns(path: &std::path::Path, table: &str) -> Vec<(String, String, bool)> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare(&format!("PRAGMA table_info({table})"))
        .unwrap();
    stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, i64>(5)? > 0,
        ))
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

/// Every column of each table's description is in `views.sqlite3`, in
/// order, with its type and key: as created on open and as a replay's
/// bulk load creates them; and rows written both ways (the projectors'
/// inserts and updates, a bulk load) read back cell for cell as the fold
/// makes them.
#[tokio::test]
async fn the_tables_follow_their_descriptions() {
    use std::sync::Arc;

    use crate::domain::model::ModelVersions;
    use crate::domain::{ProjectorId, ReadState, RowChange, Table};
    use crate::store::{BulkControl, ReadStore};

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("views.sqlite3");
    let views = super::SqliteViews::open(&path, false).unwrap();
    let check = |when: &str| {
        for table in Table::ALL {
            let d = table.description();
            let want: Vec<(String, String, bool)> = d
                .columns
                .iter()
                .map(|c| {
                    (
                        c.name.to_string(),
                        c.sql.sqlite().to_string(),
                        c.name == d.key,
                    )
                })
                .collect();
            assert_eq!(stored_columns(&path, d.name), want, "{} {when}", d.name);
        }
    };
    check("on open");

    let events = crate::domain::test_ledger::ledger(80);
    let state = ReadState::fold(&events);
    let ledger = uuid::Uuid::from_u128(9);
    let versions = ModelVersions::BUILT_IN;
    views.set_stamp(ledger, None, versions).await.unwrap();
    for event in &events {
        let decoded = event.decode().unwrap();
        for projector in ProjectorId::ALL {
            let changes: Vec<RowChange> = projector.changes(event.position, &decoded);
            views
                .apply(ledger, versions, projector, &changes, event.position)
                .await
                .unwrap();
        }
    }
    let same_as_the_fold = |users: Vec<_>, bookings: Vec<_>, when: &str| {
        assert_eq!(
            users,
            state.users.values().cloned().collect::<Vec<_>>(),
            "{when}"
        );
        assert_eq!(
            bookings,
            state.bookings.values().cloned().collect::<Vec<_>>(),
            "{when}"
        );
    };
    same_as_the_fold(
        views.users_page(None, 1000).await.unwrap(),
        views.bookings_page(None, 1000).await.unwrap(),
        "projected",
    );

    views
        .replace_all(
            ledger,
            versions,
            Arc::new(state.clone()),
            BulkControl::none(),
        )
        .await
        .unwrap();
    check("after a bulk load");
    same_as_the_fold(
        views.users_page(None, 1000).await.unwrap(),
        views.bookings_page(None, 1000).await.unwrap(),
        "loaded",
    );
}
