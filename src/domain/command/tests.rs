//! Unit tests of `command.rs`.

use super::*;

fn good_form() -> BookingWizardForm {
    BookingWizardForm {
        email: "  ana@example.com ".into(),
        name: "Ana O'Neil".into(),
        address: "Calle A 1".into(),
        service: "Suite".into(),
        check_in: "2026-07-01".into(),
        check_out: "2026-07-04".into(),
        guests: "2".into(),
        price: "120.5".into(),
    }
}

fn fields(errors: &[FieldError]) -> Vec<&str> {
    errors.iter().map(|e| e.field.as_str()).collect()
}

#[test]
fn given_a_good_form_when_validated_then_text_is_trimmed_and_typed() {
    let cmd = good_form().validate(Uuid::from_u128(1)).unwrap();
    assert_eq!(cmd.user.email, "ana@example.com");
    assert_eq!(cmd.user.name, "Ana O'Neil", "quotes in names are fine");
    assert_eq!(cmd.booking.price_cents, 12_050);
    assert_eq!(cmd.booking.guests, 2);
    assert_eq!(cmd.user.user_id, user_id_for_email("ana@example.com"));
}

#[test]
fn given_a_bad_form_when_validated_then_every_bad_field_is_named() {
    let form = BookingWizardForm {
        email: "not-an-email".into(),
        name: "   ".into(),
        address: "x".repeat(MAX_ADDRESS_CHARS + 1),
        service: "Suite\n".into(),
        check_in: "2026-07-04".into(),
        check_out: "2026-07-01".into(),
        guests: "21".into(),
        price: "-3".into(),
    };
    let errors = form.validate(Uuid::from_u128(1)).unwrap_err();
    assert_eq!(
        fields(&errors),
        vec!["email", "name", "address", "check_out", "guests", "price"],
        "{errors:?}"
    );
}

#[test]
fn control_characters_inside_text_are_rejected() {
    let mut form = good_form();
    form.name = "Ana\u{0}Bob".into();
    assert_eq!(
        fields(&form.validate(Uuid::from_u128(1)).unwrap_err()),
        vec!["name"]
    );
}

#[test]
fn dates_must_parse_and_be_in_order() {
    let mut form = good_form();
    form.check_in = "2026-13-01".into();
    assert_eq!(
        fields(&form.validate(Uuid::from_u128(1)).unwrap_err()),
        vec!["check_in"]
    );
    form.check_in = "2026-07-04".into();
    assert_eq!(
        fields(&form.validate(Uuid::from_u128(1)).unwrap_err()),
        vec!["check_out"]
    );
}

#[test]
fn guests_bounds() {
    for (text, ok) in [
        ("0", false),
        ("1", true),
        ("20", true),
        ("21", false),
        ("two", false),
    ] {
        let mut form = good_form();
        form.guests = text.into();
        assert_eq!(
            form.validate(Uuid::from_u128(1)).is_ok(),
            ok,
            "guests={text}"
        );
    }
}

#[test]
fn prices_parse_exactly_and_huge_values_are_refused() {
    assert_eq!(parse_price_cents("0"), Some(0));
    assert_eq!(parse_price_cents("12.3"), Some(1230));
    assert_eq!(parse_price_cents("12.34"), Some(1234));
    assert_eq!(parse_price_cents("12.345"), None);
    assert_eq!(parse_price_cents("1e5"), None);
    assert_eq!(parse_price_cents("99999999999999999999"), None);
    let mut form = good_form();
    form.price = "10000001".into();
    assert_eq!(
        fields(&form.validate(Uuid::from_u128(1)).unwrap_err()),
        vec!["price"]
    );
}

#[test]
fn email_shapes() {
    for ok in ["a@b.co", "first.last+tag@sub.example.org"] {
        assert!(is_email_shaped(ok), "{ok}");
    }
    for bad in [
        "",
        "a",
        "a@b",
        "@b.co",
        "a@@b.co",
        "a b@c.de",
        "a@.co",
        "a@b.",
        "\"a\"@b.co",
    ] {
        assert!(!is_email_shaped(bad), "{bad}");
    }
}

#[test]
fn other_commands_validate_their_fields() {
    let id = Uuid::from_u128(3);
    assert!(CancelBooking::new(id, id, &"r".repeat(MAX_REASON_CHARS + 1)).is_err());
    assert_eq!(
        CancelBooking::new(id, id, "  late  ").unwrap().reason,
        "late"
    );
    assert!(RescheduleBooking::new(id, id, "2026-01-02", "2026-01-02").is_err());
    assert!(RescheduleBooking::new(id, id, "2026-01-02", "2026-01-05").is_ok());
    assert!(ChangeUserAddress::new(id, id, " ").is_err());
    assert_eq!(
        ChangeUserAddress::new(id, id, " Calle B ")
            .unwrap()
            .new_address,
        "Calle B"
    );
}
