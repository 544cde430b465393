//! The Emit panel: the anatomy of a duplicate, the anatomy at the smallest
//! window, and inline validation that does not move the form.

use super::*;

use ledgerscope::engine::EngineNotice;

/// The step titles the anatomy of a booking wizard shows.
const STEP_TITLES: [&str; 10] = [
    "lock",
    "exists?",
    "build",
    "save",
    "unlock",
    "publish",
    "UserProjection apply",
    "UserProjection checkpoint",
    "BookingProjection apply",
    "BookingProjection checkpoint",
];

/// Both projectors' notices for position 1 arrived (the anatomy has timings).
fn projected_with_timings(app: &LedgerApp) -> bool {
    let notices = &app.panels().emit.recent_notices;
    ProjectorId::ALL.iter().all(|projector| {
        notices.iter().any(|n| {
            matches!(n, EngineNotice::ProjectionApplied { projector: p, position, .. }
                if p == projector && *position >= 1)
        })
    })
}

fn generate_one(h: &mut Harness<'static, LedgerApp>) {
    click(h, "Generate New Event");
    wait_until(h, "the command's answer and its projections", |app| {
        caught_up(app, 1) && projected_with_timings(app)
    });
}

use ledgerscope::domain::ProjectorId;

#[test]
fn a_duplicate_retry_shows_that_nothing_was_projected() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut h = harness(dir.path(), &rt, false);
    generate_one(&mut h);
    assert!(
        h.query_by_label("UserProjection apply").is_some(),
        "the first command's projections are shown with their timings"
    );

    click(&mut h, "Send again (same UUID)");
    wait_until(&mut h, "the duplicate answer", |app| {
        app.panels()
            .emit
            .last_command
            .as_ref()
            .and_then(|c| c.result.as_ref().ok())
            .is_some_and(|o| o.duplicate)
    });
    h.run_steps(3);
    for title in [
        "UserProjection apply",
        "UserProjection checkpoint",
        "BookingProjection apply",
        "BookingProjection checkpoint",
    ] {
        assert!(
            h.query_by_label(title).is_none(),
            "a duplicate shows no {title} (those timings were the first command's)"
        );
    }
    assert_eq!(
        h.query_all_by_label("nothing projected (duplicate)")
            .count(),
        2,
        "each projector says it projected nothing"
    );
    assert!(
        h.query_by_label_contains("A duplicate: nothing was stored, published or projected")
            .is_some()
    );
}

#[test]
fn the_anatomy_wraps_inside_a_900_by_600_window() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut h = harness(dir.path(), &rt, false);
    h.set_size(egui::vec2(900.0, 600.0));
    h.run_steps(2);
    generate_one(&mut h);
    h.run_steps(2);
    for title in STEP_TITLES {
        let node = h.get_by_label(title);
        let rect = node.rect();
        assert!(
            rect.min.x >= 0.0 && rect.max.x <= 900.0,
            "the box '{title}' is inside the window's width: {rect:?}"
        );
    }
}

#[test]
fn a_validation_message_does_not_move_the_fields_below_it() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut h = harness(dir.path(), &rt, false);
    let field = |h: &Harness<'static, LedgerApp>, hint: &'static str| {
        h.get(By::new().predicate(move |n| n.placeholder() == Some(hint)))
            .rect()
    };
    let name_before = field(&h, "Ana García");
    h.get(By::new().predicate(|n| n.placeholder() == Some("ana@example.com")))
        .focus();
    h.run_steps(2);
    h.get(By::new().predicate(|n| n.placeholder() == Some("ana@example.com")))
        .type_text("ana");
    wait_until(&mut h, "the typed e-mail", |app| {
        app.panels().emit.drafts.booking.email == "ana"
    });
    h.run_steps(2);
    assert!(
        h.query_by_label_contains("does not look like name@example.com")
            .is_some(),
        "the message is shown"
    );
    assert_eq!(
        field(&h, "Ana García"),
        name_before,
        "the field below stays where it was"
    );
}
