use super::*;
use crate::domain::model::ColumnType;

const HEAD: &str =
    "-- model: m\n-- version: 1\nCREATE TABLE t(k TEXT PRIMARY KEY, n INTEGER NOT NULL);\n";

fn placed(text: &str) -> Vec<(usize, usize, String)> {
    check_model(text, &[])
        .unwrap_err()
        .into_iter()
        .map(|e| (e.line, e.col, e.message))
        .collect()
}

#[test]
fn the_example_models_check() {
    for text in [
        include_str!("../../../../examples/models/users.sql"),
        include_str!("../../../../examples/models/bookings.sql"),
        include_str!("../../../../examples/models/revenue_by_service_month.sql"),
        include_str!("../../../../examples/models/repeat_cancellers.sql"),
        include_str!("../../../../examples/models/bookings_by_city.sql"),
    ] {
        let model = check_model(text, &[]).unwrap_or_else(|e| panic!("{e:?}"));
        assert!(!model.def.tables.is_empty());
    }
    let users = check_model(include_str!("../../../../examples/models/users.sql"), &[]).unwrap();
    let table = &users.def.tables[0];
    assert_eq!(table.name, "users");
    assert_eq!(table.columns[0].ty, ColumnType::Uuid);
    assert_eq!(table.columns[4].ty, ColumnType::Integer);
    assert_eq!(table.key, [0]);
    assert_eq!(
        users.def.events,
        ["BookingWizardCompleted", "UserAddressChanged"]
    );
}

#[test]
fn an_unknown_event_type_is_placed_at_its_block() {
    let text = format!("{HEAD}\nON BookingExploded:\nDELETE FROM t;\n");
    let errors = placed(&text);
    assert_eq!((errors[0].0, errors[0].1), (5, 1));
    assert!(errors[0].2.contains("unknown event type BookingExploded"));
}

#[test]
fn an_unknown_parameter_is_placed_where_it_is_written() {
    let text =
        format!("{HEAD}ON BookingCancelled:\nDELETE FROM t WHERE k = :payload.user.email;\n");
    let errors = placed(&text);
    assert_eq!((errors[0].0, errors[0].1), (5, 25), "{errors:?}");
    assert!(
        errors[0]
            .2
            .contains("BookingCancelled has no parameter :payload.user.email")
    );
}

#[test]
fn sqlite_errors_are_placed_at_the_token_it_names() {
    // An unknown column, on the statement's second line.
    let text = format!(
        "{HEAD}ON BookingCancelled:\nUPDATE t\n   SET missing = 1 WHERE k = :payload.booking_id;\n"
    );
    let errors = placed(&text);
    assert_eq!((errors[0].0, errors[0].1), (6, 8), "{errors:?}");
    assert!(errors[0].2.contains("no such column: missing"));
    // A syntax error.
    let text = format!("{HEAD}ON BookingCancelled:\nDELETE FROM t WHERE WHERE k = 1;\n");
    let errors = placed(&text);
    assert_eq!((errors[0].0, errors[0].1), (5, 21), "{errors:?}");
    assert!(errors[0].2.contains("syntax error"));
    // An unknown table.
    let text = format!("{HEAD}ON BookingCancelled:\nDELETE FROM nowhere;\n");
    let errors = placed(&text);
    assert_eq!(errors[0].0, 5, "{errors:?}");
    assert!(errors[0].2.contains("no such table: nowhere"));
    // In the CREATE TABLE itself.
    let errors = placed("-- model: m\n-- version: 1\nCREATE TABLE t(k TEXT PRIMARY KEY,, n);\n");
    assert_eq!((errors[0].0, errors[0].1), (3, 35), "{errors:?}");
}

#[test]
fn a_table_without_a_primary_key_is_refused() {
    let errors = placed("-- model: m\n-- version: 1\n\nCREATE TABLE t(k TEXT, n INTEGER);\n");
    assert_eq!((errors[0].0, errors[0].1), (4, 1));
    assert_eq!(errors[0].2, "table t has no PRIMARY KEY");
}

#[test]
fn reserved_names_are_refused() {
    let errors = placed(
        "-- model: m\n-- version: 1\nCREATE TABLE errors(k TEXT PRIMARY KEY);\nCREATE TABLE u(k TEXT PRIMARY KEY, valid_from INTEGER);\n",
    );
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!((errors[0].0, errors[1].0), (3, 4));
}

#[test]
fn a_taken_name_is_refused_at_its_header() {
    let text = format!("\n{HEAD}");
    let errors = check_model(&text, &["other".into(), "m".into()]).unwrap_err();
    assert_eq!((errors[0].line, errors[0].col), (2, 1));
    assert!(errors[0].message.contains("a model named m exists already"));
    assert!(check_model(&text, &["other".into()]).is_ok());
}
