//! History, series and what if from the command line.

use super::*;

#[test]
fn history_lists_every_version_of_a_user_and_a_booking_with_the_event_that_made_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let first = "3f1c7a2e-1111-4000-8000-000000000001";
    let second = "3f1c7a2e-2222-4000-8000-000000000002";
    let book = |id: &str, address: &str| {
        let (code, out) = json(
            d,
            &[
                "emit",
                "--id",
                id,
                "--email",
                "ana@example.com",
                "--name",
                "Ana",
                "--address",
                address,
                "--check-in",
                "2026-05-01",
                "--check-out",
                "2026-05-04",
                "--json",
            ],
        );
        assert_eq!(code, 0, "{out}");
    };
    let move_to = |address: &str| {
        let (code, out) = json(
            d,
            &[
                "change-address",
                "--user",
                "ana@example.com",
                "--address",
                address,
                "--json",
            ],
        );
        assert_eq!(code, 0, "{out}");
    };
    book(first, "Calle A"); // 1
    move_to("Calle B"); // 2
    book(second, "Calle Z"); // 3: a known user, the user row stays
    move_to("Calle C"); // 4
    let (code, _) = json(
        d,
        &[
            "reschedule",
            "--booking",
            first,
            "--check-in",
            "2026-06-01",
            "--check-out",
            "2026-06-03",
            "--json",
        ],
    ); // 5
    assert_eq!(code, 0);
    let (code, _) = json(d, &["cancel", "--booking", first, "--json"]); // 6
    assert_eq!(code, 0);

    let versions = |value: &Value| -> Vec<(u64, String, Vec<String>)> {
        value["versions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                let changed = v["changed"].as_array().unwrap();
                (
                    v["position"].as_u64().unwrap(),
                    v["event_type"].as_str().unwrap().to_string(),
                    changed
                        .iter()
                        .map(|c| c.as_str().unwrap().to_string())
                        .collect(),
                )
            })
            .collect()
    };
    let (code, user) = json(d, &["history", "--user", "ana@example.com", "--json"]);
    assert_eq!(code, 0);
    assert_eq!(user["table"], "users");
    let user_versions = versions(&user);
    assert_eq!(
        user_versions
            .iter()
            .map(|v| (v.0, v.1.as_str()))
            .collect::<Vec<_>>(),
        [
            (1, "BookingWizardCompleted"),
            (2, "UserAddressChanged"),
            (4, "UserAddressChanged"),
        ]
    );
    assert_eq!(user_versions[1].2, ["address", "last_position"]);
    let addresses: Vec<&str> = user["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["row"]["address"].as_str().unwrap())
        .collect();
    assert_eq!(addresses, ["Calle A", "Calle B", "Calle C"]);
    // The same row by id.
    let key = user["key"].as_str().unwrap().to_string();
    let (_, by_id) = json(d, &["history", "--user", &key, "--json"]);
    assert_eq!(by_id, user);
    // The same from a copy made before the ledger had its index on the
    // user a wizard carries (`history` opens it read-only: no index is
    // made, the row's maker is found in the state at the head).
    rusqlite::Connection::open(d.join("ledger.sqlite3"))
        .unwrap()
        .execute_batch("DROP INDEX events_wizard_user")
        .unwrap();
    let (_, without_index) = json(d, &["history", "--user", "ana@example.com", "--json"]);
    assert_eq!(without_index, user);

    let (code, booking) = json(d, &["history", "--booking", first, "--json"]);
    assert_eq!(code, 0);
    assert_eq!(
        versions(&booking)[1..],
        [
            (
                5,
                "BookingRescheduled".to_string(),
                vec![
                    "check_in".to_string(),
                    "check_out".into(),
                    "last_position".into()
                ]
            ),
            (
                6,
                "BookingCancelled".to_string(),
                vec!["status".to_string(), "last_position".into()]
            ),
        ]
    );
    assert_eq!(booking["versions"][0]["row"]["check_in"], "2026-05-01");
    assert_eq!(booking["versions"][2]["row"]["status"], "cancelled");
    assert!(booking["versions"][0]["actor"].is_string());
    let (_, other) = json(d, &["history", "--booking", second, "--json"]);
    assert_eq!(versions(&other).len(), 1);

    // A row no event made: an empty history, said in a sentence.
    let out = run(
        d,
        &[
            "history",
            "--booking",
            "3f1c7a2e-3333-4000-8000-000000000003",
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("no event of this ledger made"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn series_points_are_the_state_at_their_position_and_the_last_is_the_head() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (code, emitted) = json(
        d,
        &[
            "emit",
            "--count",
            "450",
            "--mix",
            "--seed",
            "3",
            "--no-project",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{emitted}");
    let head = emitted["head"].as_u64().unwrap();
    let counts = |value: &Value| {
        (
            value["users"].as_u64().unwrap(),
            value["bookings_confirmed"]
                .as_u64()
                .or(value["bookings_by_status"]["confirmed"].as_u64())
                .unwrap(),
            value["bookings_cancelled"]
                .as_u64()
                .or(value["bookings_by_status"]["cancelled"].as_u64())
                .unwrap(),
        )
    };
    for by in ["position", "day", "hour"] {
        let (code, series) = json(d, &["series", "--by", by, "--json"]);
        assert_eq!(code, 0, "{series}");
        assert_eq!(series["by"], by);
        let points = series["points"].as_array().unwrap();
        let last = points.last().unwrap();
        assert_eq!(last["position"].as_u64(), Some(head), "{by}: {last}");
        let (_, state) = json(d, &["state", "--json"]);
        assert_eq!(
            counts(last),
            counts(&state),
            "{by}: the last point is the head"
        );
        let by_service: i64 = last["revenue_by_service"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_i64().unwrap())
            .sum();
        assert_eq!(Some(by_service), last["revenue_cents"].as_i64());
    }
    let (_, series) = json(d, &["series", "--json"]);
    let points = series["points"].as_array().unwrap();
    assert_eq!(points[0]["bucket"], "1..100");
    assert_eq!(points.len() as u64, head.div_ceil(100));
    let middle = &points[2];
    let at = middle["position"].as_u64().unwrap().to_string();
    let (_, state) = json(d, &["state", "--at", &at, "--json"]);
    assert_eq!(counts(middle), counts(&state), "{middle}");
    let out = run(d, &["series", "--by", "week"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("must be position, day or hour"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn whatif_leaves_events_out_writes_nothing_and_names_the_later_no_ops() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (code, emitted) = json(
        d,
        &["emit", "--count", "300", "--mix", "--seed", "3", "--json"],
    );
    assert_eq!(code, 0, "{emitted}");
    let head = emitted["head"].as_u64().unwrap();
    let (_, cancel) = json(
        d,
        &[
            "events",
            "--type",
            "BookingCancelled",
            "--limit",
            "1",
            "--json",
        ],
    );
    let booking = cancel["aggregate_id"].as_str().unwrap().to_string();
    let cancelled_at = cancel["position"].as_u64().unwrap();
    let (_, made) = json(
        d,
        &["events", "--aggregate", &booking, "--limit", "1", "--json"],
    );
    let made_at = made["position"].as_u64().unwrap().to_string();
    let ledger_before = std::fs::read(d.join("ledger.sqlite3")).unwrap();
    let views_before = std::fs::read(d.join("views.sqlite3")).unwrap();

    let (code, sim) = json(d, &["whatif", "--exclude", &made_at, "--json"]);
    assert_eq!(code, 0, "{sim}");
    assert_eq!(sim["simulation"], true);
    assert_eq!(sim["position"].as_u64(), Some(head));
    assert_eq!(
        sim["excluded"],
        serde_json::json!([made_at.parse::<u64>().unwrap()])
    );
    assert_eq!(
        sim["bookings"].as_u64().unwrap() + 1,
        sim["real"]["bookings"].as_u64().unwrap()
    );
    let no_ops = sim["no_ops"].as_array().unwrap();
    assert!(
        no_ops
            .iter()
            .any(|n| n["position"].as_u64() == Some(cancelled_at)
                && n["event_type"] == "BookingCancelled"
                && n["key"] == booking.as_str()),
        "{sim}"
    );
    let bookings = &sim["difference"][1];
    assert_eq!(
        (bookings["table"].as_str(), bookings["removed"].as_u64()),
        (Some("bookings"), Some(1))
    );
    let (_, real) = json(d, &["state", "--json"]);
    assert_eq!(sim["real"]["digest"], real["digest"]);
    assert_ne!(sim["digest"], real["digest"]);
    assert_eq!(
        std::fs::read(d.join("ledger.sqlite3")).unwrap(),
        ledger_before,
        "nothing written"
    );
    assert_eq!(
        std::fs::read(d.join("views.sqlite3")).unwrap(),
        views_before,
        "nothing written"
    );

    // Leaving out every cancel: no booking is cancelled; as of an earlier
    // position only the cancels up to it count.
    let (_, none_cancelled) = json(
        d,
        &["whatif", "--exclude-type", "BookingCancelled", "--json"],
    );
    assert_eq!(none_cancelled["bookings_by_status"]["cancelled"], 0);
    let at = cancelled_at.to_string();
    let (_, early) = json(
        d,
        &[
            "whatif",
            "--exclude-type",
            "BookingCancelled",
            "--at",
            &at,
            "--json",
        ],
    );
    assert_eq!(early["excluded"], serde_json::json!([cancelled_at]));
    // A range, and an aggregate: the same simulation as its positions.
    let range = format!("{made_at}..{made_at}");
    let (_, by_range) = json(d, &["whatif", "--exclude-range", &range, "--json"]);
    let (_, by_aggregate) = json(d, &["whatif", "--exclude-aggregate", &booking, "--json"]);
    assert_eq!(by_range["digest"], sim["digest"]);
    assert_eq!(
        by_aggregate["excluded_count"].as_u64(),
        Some(no_ops.len() as u64 + 1),
        "the booking's own cancel is left out with it: {by_aggregate}"
    );
    for (args, needle) in [
        (vec!["whatif"], "needs something to leave out"),
        (vec!["whatif", "--exclude-range", "9..3"], "1 <= A <= B"),
        (
            vec!["whatif", "--exclude", "5", "--at", "99999"],
            "past the head",
        ),
    ] {
        let out = run(d, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr(&out).contains(needle), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn whatif_and_series_json_carry_revenue_and_per_bucket_values() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (code, emitted) = json(
        d,
        &["emit", "--count", "300", "--mix", "--seed", "3", "--json"],
    );
    assert_eq!(code, 0, "{emitted}");
    let (_, series) = json(d, &["series", "--json"]);
    let points = series["points"].as_array().unwrap();
    let last = points.last().unwrap();
    let real_cents = last["revenue_cents"].as_i64().unwrap();
    // Per bucket: what happened in it; the buckets add up to the totals.
    let sum = |field: &str| -> i64 {
        points
            .iter()
            .map(|p| p["in_bucket"][field].as_i64().unwrap())
            .sum()
    };
    assert_eq!(sum("revenue_cents"), real_cents, "{last}");
    assert_eq!(sum("users"), last["users"].as_i64().unwrap());
    assert_eq!(
        sum("bookings_made"),
        last["bookings_confirmed"].as_i64().unwrap() + last["bookings_cancelled"].as_i64().unwrap()
    );
    assert!(sum("bookings_cancelled") >= last["bookings_cancelled"].as_i64().unwrap());
    assert!(points[0]["in_bucket"]["revenue_by_service"].is_object());

    // Nobody cancelled: the simulated revenue is the real one plus the
    // cancelled bookings' prices.
    let (code, sim) = json(
        d,
        &["whatif", "--exclude-type", "BookingCancelled", "--json"],
    );
    assert_eq!(code, 0, "{sim}");
    assert_eq!(sim["real"]["revenue_cents"].as_i64(), Some(real_cents));
    let simulated_cents = sim["revenue_cents"].as_i64().unwrap();
    assert!(simulated_cents > real_cents, "{sim}");
    let (_, none_cancelled) = json(
        d,
        &["whatif", "--exclude-range", "1..1", "--at", "1", "--json"],
    );
    assert_eq!(
        none_cancelled["revenue_cents"].as_i64(),
        Some(0),
        "{none_cancelled}"
    );
    assert!(none_cancelled["real"]["revenue_cents"].as_i64().unwrap() > 0);
}
