use super::*;

const TEXT: &str = "-- model: cities
-- version: 2
/* a comment; with a semicolon */
CREATE TABLE cities(city TEXT PRIMARY KEY, n INTEGER NOT NULL);

ON BookingWizardCompleted:
INSERT INTO cities(city, n) VALUES (';:not.a.param', 1) -- a ; in a comment :nor.this
ON CONFLICT(city) DO UPDATE SET n = n + :payload.booking.guests;
UPDATE cities SET n = n WHERE city = :payload.user.address AND :position > 0
  AND \"n\" = :payload.booking.guests;

on UserAddressChanged :
DELETE FROM cities WHERE city = :payload.old_address;
";

#[test]
fn a_text_splits_into_its_header_tables_blocks_and_parameters() {
    let model = parse_model(TEXT).unwrap();
    assert_eq!(model.name, "cities");
    assert_eq!(model.name_line, 1);
    assert_eq!(model.version, 2);
    assert_eq!(model.schema.len(), 1);
    assert_eq!((model.schema[0].line, model.schema[0].col), (4, 1));
    assert_eq!(model.handlers.len(), 2);
    let wizard = &model.handlers[0];
    assert_eq!(wizard.event_type, "BookingWizardCompleted");
    assert_eq!((wizard.line, wizard.col), (6, 1));
    assert_eq!(
        wizard.statements.len(),
        2,
        "quotes and comments hide their ';'"
    );
    let first = &wizard.statements[0];
    assert_eq!((first.line, first.col), (7, 1));
    let paths: Vec<&str> = first.params.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(
        paths,
        ["payload.booking.guests"],
        "nothing in quotes or comments"
    );
    assert_eq!((first.params[0].line, first.params[0].col), (8, 41));
    let second = &wizard.statements[1];
    let paths: Vec<&str> = second.params.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(
        paths,
        ["payload.user.address", "position", "payload.booking.guests"],
        "each name once, in order"
    );
    assert!(second.sql.contains(":payload_user_address AND :position"));
    assert_eq!(model.handlers[1].event_type, "UserAddressChanged");
}

#[test]
fn a_statement_keeps_the_offsets_of_the_text() {
    let model = parse_model(TEXT).unwrap();
    for handler in &model.handlers {
        for statement in &handler.statements {
            let original = &TEXT[statement.offset..statement.offset + statement.sql.len()];
            assert_eq!(original.len(), statement.sql.len());
            assert_eq!(original.replace('.', "_"), statement.sql.replace('.', "_"));
        }
    }
}

#[test]
fn mistakes_are_placed_at_their_line_and_column() {
    let errors = parse_model("-- model: x\nCREATE TABLE t(a TEXT PRIMARY KEY);\n").unwrap_err();
    assert_eq!(
        errors[0].to_string(),
        "1:1: the text has no `-- version: N` line"
    );

    let text = "-- model: x\n-- version: 1\nCREATE TABLE t(a TEXT PRIMARY KEY);\nON BookingCancelled:\n  UPDATE t SET a = ? WHERE a = 'b';\n";
    let errors = parse_model(text).unwrap_err();
    assert_eq!((errors[0].line, errors[0].col), (5, 20), "{errors:?}");
    assert!(errors[0].message.contains("named parameters"));

    let text = "-- model: x\n-- version: 1\nCREATE TABLE t(a TEXT PRIMARY KEY);\nON BookingCancelled:\nUPDATE t SET a = 'open\n";
    let errors = parse_model(text).unwrap_err();
    assert_eq!((errors[0].line, errors[0].col), (5, 18));
    assert!(errors[0].message.contains("never closed"));

    let text = "-- model: x\n-- version: 1\nCREATE TABLE t(a TEXT PRIMARY KEY);\nON BookingCancelled:\nCREATE TABLE u(b TEXT PRIMARY KEY);\nON BookingRescheduled:\n";
    let errors = parse_model(text).unwrap_err();
    let placed: Vec<(usize, usize)> = errors.iter().map(|e| (e.line, e.col)).collect();
    assert_eq!(placed, [(5, 1), (6, 1)], "{errors:?}");
}

#[test]
fn every_event_type_has_its_envelope_and_payload_parameters() {
    let all = all_params();
    assert_eq!(all.len(), event_types::ALL.len());
    let wizard = &all[event_types::BOOKING_WIZARD_COMPLETED];
    for path in [
        "position",
        "occurred_at",
        "payload.booking_id",
        "payload.user.email",
        "payload.booking.price_cents",
    ] {
        assert!(wizard.contains(&path.to_string()), "{path} in {wizard:?}");
    }
    assert!(params_of("NoSuchEvent").is_none());
    for (event_type, paths) in all {
        let mut names: Vec<String> = paths.iter().map(|p| p.replace('.', "_")).collect();
        names.sort();
        names.dedup();
        assert_eq!(
            names.len(),
            paths.len(),
            "{event_type}: two paths, one SQL name"
        );
    }
}

#[test]
fn an_event_gives_its_parameters_values() {
    let events = crate::domain::test_ledger::ledger(1);
    let event = &events[0];
    let decoded = event.decode().unwrap();
    let params = EventParams::new(event, &decoded);
    assert_eq!(params.get("position"), Some(ParamValue::Integer(1)));
    assert_eq!(
        params.get("payload.user.email"),
        Some(ParamValue::Text("u1@example.com".into()))
    );
    assert_eq!(
        params.get("payload.booking.price_cents"),
        Some(ParamValue::Integer(1_001))
    );
    assert_eq!(params.get("payload.booking.nights"), None);
}
