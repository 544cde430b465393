//! Unit tests of `generate.rs`.

use super::*;

#[test]
fn same_seed_same_forms_and_every_form_is_valid() {
    let mut a = DemoRng::new(7);
    let mut b = DemoRng::new(7);
    for _ in 0..500 {
        let form = booking_form(&mut a, 100);
        assert_eq!(form, booking_form(&mut b, 100));
        let id = a.uuid_v4();
        assert_eq!(id, b.uuid_v4());
        assert_eq!(id.get_version_num(), 4);
        form.validate(id)
            .unwrap_or_else(|e| panic!("{form:?}: {e:?}"));
    }
    assert_ne!(
        booking_form(&mut DemoRng::new(1), 100),
        booking_form(&mut DemoRng::new(2), 100)
    );
}

#[test]
fn customers_repeat() {
    let mut rng = DemoRng::new(3);
    let emails: std::collections::BTreeSet<String> =
        (0..200).map(|_| booking_form(&mut rng, 10).email).collect();
    assert!(emails.len() <= 10 && emails.len() > 3, "{}", emails.len());
}
