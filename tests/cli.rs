//! The CLI as a user runs it: the real binary on a fresh data dir.

use std::path::Path;
use std::process::Output;

use serde_json::Value;

fn run(dir: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_ledgerscope"))
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env_remove("LEDGERSCOPE_MONGO_URI")
        .env_remove("LEDGERSCOPE_POSTGRES_URL")
        .env_remove("LEDGERSCOPE_DATA_DIR")
        .output()
        .unwrap()
}

fn json(dir: &Path, args: &[&str]) -> (i32, Value) {
    let out = run(dir, args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "exactly one JSON object on stdout for {args:?}: {stdout}\n{}",
        stderr(&out)
    );
    let value = serde_json::from_str(lines[0]).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    (out.status.code().unwrap_or(-1), value)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn the_issue_walkthrough_on_a_clean_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (code, emitted) = json(
        d,
        &[
            "emit",
            "--count",
            "2000",
            "--seed",
            "7",
            "--no-project",
            "--json",
        ],
    );
    assert_eq!(code, 0);
    assert_eq!(
        (emitted["emitted"].as_u64(), emitted["head"].as_u64()),
        (Some(2000), Some(2000))
    );

    // The same seed again: every command is a retry of a stored one.
    let (_, again) = json(
        d,
        &[
            "emit",
            "--count",
            "50",
            "--seed",
            "7",
            "--no-project",
            "--json",
        ],
    );
    assert_eq!(
        (again["emitted"].as_u64(), again["duplicates"].as_u64()),
        (Some(0), Some(50))
    );

    // Re-emit with an existing --id reports a duplicate and the ledger does not grow.
    let (_, first) = json(d, &["events", "--limit", "1", "--json"]);
    let id = first["aggregate_id"].as_str().unwrap().to_string();
    let (code, dup) = json(d, &["emit", "--id", &id, "--email", "x@y.zz", "--json"]);
    assert_eq!(code, 0);
    assert_eq!(
        (dup["duplicate"].as_bool(), dup["position"].as_u64()),
        (Some(true), Some(1))
    );
    assert_eq!(dup["head"].as_u64(), Some(2000));

    let (code, status) = json(d, &["status", "--json"]);
    assert_eq!(code, 0);
    assert_eq!(
        status["projectors"][0]["lag"].as_u64(),
        Some(2000),
        "nothing projected yet"
    );

    let (_, projected) = json(d, &["project", "--json"]);
    assert_eq!(projected["caught_up"].as_bool(), Some(true));
    assert_eq!(
        projected["checkpoints"]["BookingProjection"].as_u64(),
        Some(2000)
    );
    let (code, verify) = json(d, &["verify", "--json"]);
    assert_eq!((code, verify["in_sync"].as_bool()), (0, Some(true)));

    // Delete a row from views.sqlite3 by hand: verify exits 1 naming it.
    let views = rusqlite::Connection::open(d.join("views.sqlite3")).unwrap();
    let victim: String = views
        .query_row(
            "SELECT booking_id FROM bookings ORDER BY booking_id LIMIT 1 OFFSET 17",
            [],
            |r| r.get(0),
        )
        .unwrap();
    views
        .execute("DELETE FROM bookings WHERE booking_id = ?1", [&victim])
        .unwrap();
    drop(views);
    let (code, verify) = json(d, &["verify", "--json"]);
    assert_eq!(
        (
            code,
            verify["in_sync"].as_bool(),
            verify["missing"].as_u64()
        ),
        (1, Some(false), Some(1))
    );
    assert_eq!(verify["rows"][0]["key"].as_str(), Some(victim.as_str()));
    assert_eq!(verify["rows"][0]["table"].as_str(), Some("bookings"));
    let human = run(d, &["verify"]);
    assert_eq!(human.status.code(), Some(1));
    assert!(stderr(&human).contains(&victim), "{}", stderr(&human));

    let (code, replay) = json(d, &["replay", "--json"]);
    assert_eq!(code, 0);
    assert_eq!(replay["events"].as_u64(), Some(2000));
    let (code, verify) = json(d, &["verify", "--json"]);
    assert_eq!((code, verify["in_sync"].as_bool()), (0, Some(true)));

    // state --at 1000 equals itself computed after `snapshot take`.
    let (_, before) = json(d, &["state", "--at", "1000", "--json"]);
    let (code, snap) = json(d, &["snapshot", "take", "--at", "900", "--json"]);
    assert_eq!((code, snap["position"].as_u64()), (0, Some(900)));
    let (_, after) = json(d, &["state", "--at", "1000", "--json"]);
    assert_eq!(after["base"]["kind"].as_str(), Some("snapshot"));
    assert_eq!(after["folded_events"].as_u64(), Some(100));
    assert_eq!(before["digest"], after["digest"]);
    assert_eq!(before["bookings"].as_u64(), Some(1000));
    let (_, head_state) = json(d, &["state", "--json"]);
    assert_ne!(head_state["digest"], before["digest"]);
    let (code, diff) = json(d, &["diff", "--from", "1000", "--to", "1500", "--json"]);
    assert_eq!(code, 0);
    assert_eq!(diff["tables"][1]["table"].as_str(), Some("bookings"));
    assert_eq!(
        diff["tables"][1]["added"].as_u64(),
        Some(500),
        "500 bookings booked in between"
    );
    // The one taken, and the deltas `emit` took of the empty ledger every
    // 1,000 events (no full snapshot was due: one is every 10,000).
    let (_, list) = json(d, &["snapshot", "list", "--json"]);
    let kinds: Vec<(u64, bool)> = list["snapshots"]
        .as_array()
        .map(|all| {
            all.iter()
                .map(|s| (s["position"].as_u64().unwrap_or(0), s.get("base").is_none()))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(kinds, [(900, true), (1000, false), (2000, false)], "{list}");
}

#[test]
fn export_and_import_round_trip_idempotently() {
    let src = tempfile::tempdir().unwrap();
    let dst = tempfile::tempdir().unwrap();
    let file = src.path().join("ledger.ndjson");
    json(
        src.path(),
        &["emit", "--count", "120", "--seed", "3", "--mix", "--json"],
    );
    let (code, exported) = json(
        src.path(),
        &["export", "--out", file.to_str().unwrap(), "--json"],
    );
    assert_eq!(code, 0);
    let count = exported["exported"].as_u64().unwrap();
    let (code, imported) = json(dst.path(), &["import", file.to_str().unwrap(), "--json"]);
    assert_eq!((code, imported["imported"].as_u64()), (0, Some(count)));
    let (_, again) = json(dst.path(), &["import", file.to_str().unwrap(), "--json"]);
    assert_eq!(
        (again["imported"].as_u64(), again["duplicates"].as_u64()),
        (Some(0), Some(count))
    );
    let (_, a) = json(src.path(), &["state", "--json"]);
    let (_, b) = json(dst.path(), &["state", "--json"]);
    assert_eq!(
        a["digest"], b["digest"],
        "the same ledger implies the same state"
    );
}

#[test]
fn a_malformed_import_line_is_named_and_nothing_is_imported() {
    let src = tempfile::tempdir().unwrap();
    let dst = tempfile::tempdir().unwrap();
    let file = src.path().join("ledger.ndjson");
    json(
        src.path(),
        &[
            "emit",
            "--count",
            "5",
            "--seed",
            "4",
            "--no-project",
            "--json",
        ],
    );
    json(
        src.path(),
        &["export", "--out", file.to_str().unwrap(), "--json"],
    );
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.push_str("{\"position\": 6, \"event_type\": \"BookingCancelled\"}\n");
    std::fs::write(&file, text).unwrap();
    let (code, error) = json(dst.path(), &["import", file.to_str().unwrap(), "--json"]);
    assert_eq!(code, 2);
    let message = error["error"].as_str().unwrap();
    assert!(message.contains("line 6"), "{message}");
    let (_, status) = json(dst.path(), &["status", "--json"]);
    assert_eq!(status["head"].as_u64(), Some(0), "nothing imported");
}

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

#[test]
fn bad_input_gets_one_clear_sentence_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Refused input opens no store, so this data dir gets its ledger here.
    assert!(run(d, &["project"]).status.success());
    for (args, needle) in [
        (
            vec!["emit", "--id", "not-a-uuid", "--email", "a@b.co"],
            "not a UUID",
        ),
        (
            vec![
                "emit",
                "--id",
                "00000000-0000-1000-8000-000000000000",
                "--email",
                "a@b.co",
            ],
            "not a UUID v4",
        ),
        (
            vec![
                "emit",
                "--email",
                "nope",
                "--guests",
                "99",
                "--check-in",
                "2026-02-30",
            ],
            "email",
        ),
        (
            vec!["events", "--aggregate", "x'; DROP TABLE events; --"],
            "not a UUID",
        ),
        (vec!["state", "--at", "99"], "past the head"),
        (vec!["snapshot", "restore", "abc"], "no snapshot"),
        (
            vec![
                "cancel",
                "--booking",
                "3f1c7a2e-0000-4000-8000-000000000000",
            ],
            "does not exist",
        ),
        (vec!["import", "/nonexistent/file.ndjson"], "cannot open"),
        (vec!["history"], "needs --booking ID or --user"),
        (vec!["history", "--user", "nobody"], "not a UUID"),
        (vec!["whatif", "--exclude", "0"], "positions start at 1"),
        (vec!["whatif", "--exclude", "0,5"], "positions start at 1"),
    ] {
        let out = run(d, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains(needle), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "one sentence: {err}");
    }
    // Huge and quoted field values are refused or stored verbatim, never mangled.
    let huge = "x".repeat(10_000);
    let out = run(d, &["emit", "--email", "a@b.co", "--name", &huge]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("name: is 10000 characters long"),
        "{}",
        stderr(&out)
    );
    let (code, ok) = json(
        d,
        &[
            "emit",
            "--email",
            "o'neil@b.co",
            "--name",
            "Robert'); DROP TABLE users;--",
            "--json",
        ],
    );
    assert_eq!((code, ok["emitted"].as_u64()), (0, Some(1)));
    let (_, events) = json(d, &["events", "--json"]);
    assert_eq!(
        events["payload"]["user"]["name"].as_str(),
        Some("Robert'); DROP TABLE users;--")
    );
}

#[test]
fn an_unusable_data_dir_is_reported_not_created() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let out = run(&file, &["status"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("data dir"), "{}", stderr(&out));
    // A ledger file that is not a database.
    let bad = tempfile::tempdir().unwrap();
    std::fs::write(bad.path().join("ledger.sqlite3"), vec![7u8; 4096]).unwrap();
    let out = run(bad.path(), &["status"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not a SQLite database"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn malformed_events_are_listed_and_reported_by_position() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    json(d, &["emit", "--count", "3", "--seed", "5", "--json"]);
    let ledger = rusqlite::Connection::open(d.join("ledger.sqlite3")).unwrap();
    ledger
        .execute(
            "INSERT INTO events(position, event_id, aggregate_id, aggregate_type, version, event_type,
             schema_version, recorded_at, payload) VALUES (4, 'e', 'a', 'booking', 1, 'BookingCancelled', 1,
             '2026-01-01T00:00:00Z', '{oops')",
            [],
        )
        .unwrap();
    drop(ledger);
    let out = run(d, &["events", "--json"]);
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[3]["position"].as_u64(), Some(4));
    assert!(
        lines[3]["malformed"]
            .as_str()
            .unwrap()
            .contains("payload is not valid JSON"),
        "{}",
        lines[3]
    );
    let (code, projected) = json(d, &["project", "--json"]);
    assert_eq!(
        (code, projected["skipped"].clone()),
        (0, serde_json::json!([4]))
    );
    let (_, status) = json(d, &["status", "--json"]);
    assert_eq!(status["projectors"][1]["skipped"], serde_json::json!([4]));
    let (code, verify) = json(d, &["verify", "--json"]);
    assert_eq!(
        (code, verify["malformed"][0]["position"].as_u64()),
        (0, Some(4))
    );
}

#[test]
fn a_locked_database_is_reported_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    json(
        d,
        &[
            "emit",
            "--count",
            "3",
            "--seed",
            "6",
            "--no-project",
            "--json",
        ],
    );
    let holder = rusqlite::Connection::open(d.join("ledger.sqlite3")).unwrap();
    holder.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let out = run(d, &["emit", "--count", "1", "--seed", "99", "--no-project"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("locked by another process"),
        "{}",
        stderr(&out)
    );
    holder.execute_batch("ROLLBACK").unwrap();
    let (_, status) = json(d, &["status", "--json"]);
    assert_eq!(status["head"].as_u64(), Some(3));
}

#[test]
fn a_replay_killed_while_loading_leaves_the_old_tables_and_a_new_one_succeeds() {
    use ledgerscope::engine::JobControl;
    use std::io::BufRead;

    use ledgerscope::domain::aggregate::decide_submit;
    use ledgerscope::domain::generate::{DemoRng, booking_form};
    use ledgerscope::domain::{EventMetadata, StoredEvent};
    use ledgerscope::engine::bulk::BulkSpec;
    use ledgerscope::engine::{Engine, EngineConfig};
    use ledgerscope::store::{StoreConfig, open_stores};

    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let stores = open_stores(&StoreConfig::embedded(&d)).await.unwrap();
        // A small projected ledger, then a large unprojected tail appended in bulk.
        let engine = Engine::new(stores.clone(), EngineConfig::new("test"));
        engine
            .emit_bulk(&BulkSpec::bookings(20, Some(1)), &JobControl::default())
            .await
            .unwrap();
        for p in ledgerscope::domain::ProjectorId::ALL {
            engine.catch_up(p).await.unwrap();
        }
        let mut rng = DemoRng::new(2);
        for _ in 0..30 {
            let batch: Vec<StoredEvent> = (0..5_000)
                .map(|_| {
                    let id = rng.uuid_v4();
                    let cmd = booking_form(&mut rng, 50_000).validate(id).unwrap();
                    StoredEvent::wrap(
                        &decide_submit(&cmd),
                        id,
                        1,
                        chrono::Utc::now(),
                        EventMetadata::default(),
                    )
                })
                .collect();
            stores.ledger.append_batch(batch).await.unwrap();
        }
    });
    let before = std::fs::read(d.join("views.sqlite3")).ok();
    let (_, verify_before) = json(&d, &["verify", "--json"]);
    assert_eq!(
        verify_before["in_sync"].as_bool(),
        Some(true),
        "compared at the checkpoint (20)"
    );
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ledgerscope"))
        .arg("--data-dir")
        .arg(&d)
        .arg("replay")
        .env_remove("LEDGERSCOPE_MONGO_URI")
        .env_remove("LEDGERSCOPE_POSTGRES_URL")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr_pipe = child.stderr.take().unwrap();
    let mut saw_loading = false;
    for line in std::io::BufReader::new(stderr_pipe).lines() {
        let line = line.unwrap();
        if line.contains("Loading") {
            saw_loading = true;
            child.kill().unwrap(); // SIGKILL
            break;
        }
    }
    let status = child.wait().unwrap();
    assert!(
        saw_loading && !status.success(),
        "the replay was killed while loading ({status:?})"
    );
    drop(before);
    let (code, verify) = json(&d, &["verify", "--json"]);
    assert_eq!(
        (code, verify["in_sync"].as_bool()),
        (0, Some(true)),
        "old tables intact: {verify}"
    );
    assert_eq!(verify["lag"]["BookingProjection"].as_u64(), Some(150_000));
    let (code, replay) = json(&d, &["replay", "--json"]);
    assert_eq!((code, replay["events"].as_u64()), (0, Some(150_020)));
    let (_, verify) = json(&d, &["verify", "--json"]);
    assert_eq!(verify["lag"]["BookingProjection"].as_u64(), Some(0));
}

#[test]
fn without_a_display_the_window_says_the_subcommands_run_headless() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ledgerscope"))
        .arg("--data-dir")
        .arg(dir.path())
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("no display"), "{err}");
    assert!(err.contains("subcommands run without a window"), "{err}");
    assert!(!err.contains(".cargo/registry"), "no source paths: {err}");
    assert_eq!(err.lines().count(), 1, "one sentence: {err}");
}

#[test]
fn every_run_is_logged_in_the_data_dir_without_passwords() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Each command's detail is at DEBUG; at INFO it is summarised.
    let (code, _) = json(
        d,
        &[
            "--log-level",
            "debug",
            "emit",
            "--email",
            "ana@example.com",
            "--json",
        ],
    );
    assert_eq!(code, 0);
    // A server that refuses: the failure is logged, the password never.
    let out = run(
        d,
        &[
            "--postgres-url",
            "postgres://alice:s3cret-pw@127.0.0.1:9/x",
            "--connect-timeout-secs",
            "1",
            "status",
            "--json",
            "--log-level",
            "debug",
        ],
    );
    assert!(
        stderr(&out).contains("127.0.0.1:9")
            || String::from_utf8_lossy(&out.stdout).contains("127.0.0.1:9"),
        "the refusing server is reported"
    );
    let log = std::fs::read_to_string(d.join("logs").join("ledgerscope.log")).unwrap();
    assert!(log.contains("started"), "{log}");
    assert!(
        log.contains("BookingWizardCompleted"),
        "the command is logged: {log}"
    );
    assert!(log.contains("position=1"), "with its position: {log}");
    assert!(log.contains("exit_code=0"), "{log}");
    assert!(
        log.contains("127.0.0.1:9"),
        "the refusing server is named: {log}"
    );
    assert!(
        !log.contains("s3cret-pw"),
        "a password never reaches the log: {log}"
    );
    let out = run(d, &["status", "--log-level", "loud["]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("not a log level"), "{}", stderr(&out));
}

/// SIGTERM stops a bulk emit as Ctrl-C does: after the current command,
/// with its summary on stdout and its `finished` line in the log.
#[test]
fn sigterm_stops_emit_with_its_summary() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_ledgerscope"))
        .arg("--data-dir")
        .arg(d)
        .args(["emit", "--count", "1000000", "--no-project", "--json"])
        .env_remove("LEDGERSCOPE_MONGO_URI")
        .env_remove("LEDGERSCOPE_POSTGRES_URL")
        .env_remove("LEDGERSCOPE_DATA_DIR")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until commands are being stored, then ask it to stop.
    let ledger = d.join("ledger.sqlite3");
    let started = std::time::Instant::now();
    while !ledger.exists() || std::fs::metadata(&ledger).unwrap().len() < 64 * 1024 {
        assert!(started.elapsed() < std::time::Duration::from_secs(30));
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let pid = i32::try_from(child.id()).unwrap();
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["cancelled"], Value::Bool(true), "{summary}");
    assert!(summary["emitted"].as_u64().unwrap() > 0, "{summary}");
    let log = std::fs::read_to_string(d.join("logs/ledgerscope.log")).unwrap();
    assert!(log.contains("finished"), "{log}");
}

/// The binary with its platform data dir (the log's fallback) in `home`.
fn run_at_home(home: &Path, args: &[&std::ffi::OsStr]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_ledgerscope"))
        .args(args)
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("LEDGERSCOPE_UI_PREFS", "none")
        .env_remove("LEDGERSCOPE_MONGO_URI")
        .env_remove("LEDGERSCOPE_POSTGRES_URL")
        .env_remove("LEDGERSCOPE_DATA_DIR")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .unwrap()
}

fn os(args: &[&str]) -> Vec<std::ffi::OsString> {
    args.iter().map(std::ffi::OsString::from).collect()
}

#[test]
fn the_first_run_on_a_new_data_dir_logs_in_it() {
    let home = tempfile::tempdir().unwrap();
    let new = home.path().join("new-dir");
    let mut args = os(&["--data-dir"]);
    args.push(new.clone().into_os_string());
    args.extend(os(&["emit", "--count", "2"]));
    let refs: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let out = run_at_home(home.path(), &refs);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let log = std::fs::read_to_string(new.join("logs").join("ledgerscope.log"))
        .unwrap_or_else(|e| panic!("no log in the new data dir: {e}"));
    assert!(log.contains("started"), "{log}");
    assert!(log.contains("stored=2"), "the run's commands: {log}");
    assert!(log.contains("exit_code=0"), "{log}");
    let fallback = home.path().join("data").join("ledgerscope").join("logs");
    assert!(!fallback.exists(), "nothing went to the platform data dir");

    // The window's first launch (here it cannot open: no display) too.
    let window = home.path().join("window-dir");
    let out = run_at_home(
        home.path(),
        &[std::ffi::OsStr::new("--data-dir"), window.as_os_str()],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let log = std::fs::read_to_string(window.join("logs").join("ledgerscope.log")).unwrap();
    assert!(log.contains("who=\"gui\""), "{log}");
    assert!(log.contains("the window did not open"), "{log}");

    // A read subcommand and --observe create nothing: the fallback as before.
    for args in [&["status"][..], &["--observe", "emit", "--count", "1"][..]] {
        let untouched = home.path().join("untouched");
        let mut all = vec![std::ffi::OsStr::new("--data-dir"), untouched.as_os_str()];
        all.extend(args.iter().map(std::ffi::OsStr::new));
        run_at_home(home.path(), &all);
        assert!(!untouched.exists(), "{args:?} created the data dir");
    }
    assert!(fallback.join("ledgerscope.log").exists());
}

#[test]
fn a_malformed_link_is_one_sentence_and_exit_2() {
    let home = tempfile::tempdir().unwrap();
    let d = home.path().join("d");
    for (args, says) in [
        (
            vec!["open", "ledgerscope://open?ledger=nope&position=3"],
            "the link's ledger 'nope' is not a ledger id",
        ),
        (vec!["ledgerscope://somewhere"], "is not a Ledgerscope link"),
        (
            vec!["ledgerscope://open?ledger=0f8fad5b-d9cb-469f-a165-70867728950e&position=-1"],
            "position '-1' is not a position",
        ),
    ] {
        let mut all = vec![std::ffi::OsStr::new("--data-dir"), d.as_os_str()];
        all.extend(args.iter().map(std::ffi::OsStr::new));
        let out = run_at_home(home.path(), &all);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "one sentence: {err}");
        assert!(!d.exists(), "a bad link opens nothing");
    }
    // A good one gets as far as the window (none here: no display).
    let good = "ledgerscope://open?ledger=0f8fad5b-d9cb-469f-a165-70867728950e&position=3";
    let out = run_at_home(home.path(), &[std::ffi::OsStr::new(good)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no display"), "{}", stderr(&out));
}

/// The log keeps what an incident reader needs: a busy run's commands and
/// their catch-ups are summarised (per-command detail at DEBUG), so its
/// INFO lines do not grow with the number of commands and a day's errors,
/// holes, replays and passes are not rotated away by routine traffic.
#[test]
fn routine_commands_do_not_fill_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (code, out) = json(d, &["emit", "--count", "300", "--mix", "--json"]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = json(d, &["replay", "--json"]);
    assert_eq!(code, 0, "{out}");
    let log = std::fs::read_to_string(d.join("logs/ledgerscope.log")).unwrap();
    let lines = log.lines().count();
    assert!(lines <= 20, "{lines} lines for 300 commands:\n{log}");
    assert!(log.contains("replayed the read tables"), "{log}");
    assert!(
        log.contains("commands and projection since the last summary"),
        "the run's commands are summarised: {log}"
    );
}

/// The example model files, from the repository.
fn example(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/models")
        .join(name)
}

#[test]
fn model_check_names_each_mistake_by_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.sql");
    std::fs::write(
        &file,
        "-- model: bad\n-- version: 1\nCREATE TABLE t(k TEXT PRIMARY KEY);\n\
         ON BookingCancelled:\nDELETE FROM t WHERE k = :payload.nope;\nON Nothing:\nDELETE FROM t;\n",
    )
    .unwrap();
    let out = run(dir.path(), &["model", "check", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("bad.sql:5:25: BookingCancelled has no parameter :payload.nope"),
        "{err}"
    );
    assert!(
        err.contains("bad.sql:6:1: unknown event type Nothing"),
        "{err}"
    );
    let (code, answer) = json(
        dir.path(),
        &["model", "check", file.to_str().unwrap(), "--json"],
    );
    assert_eq!(code, 2);
    assert_eq!(answer["errors"][0]["line"], 5);
    assert_eq!(answer["errors"][0]["col"], 25);
    assert!(
        !dir.path().join("ledger.sqlite3").exists(),
        "check opens no store"
    );
    let (code, answer) = json(
        dir.path(),
        &[
            "model",
            "check",
            example("users.sql").to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!((code, answer["ok"].as_bool()), (0, Some(true)));
}

#[test]
fn a_model_is_added_built_and_read_at_a_position() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (code, _) = json(d, &["emit", "--count", "40", "--seed", "3", "--json"]);
    assert_eq!(code, 0);
    let users = example("users.sql");
    let (code, added) = json(d, &["model", "add", users.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0, "{added}");
    // The same name again is refused at its header line.
    let out = run(d, &["model", "add", users.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("users.sql:1:1: a model named users exists already"));
    let (_, listed) = json(d, &["model", "list", "--json"]);
    assert_eq!(listed["models"][0]["name"], "users");
    assert!(listed["models"][0]["built_to"].is_null());

    let out = run(d, &["model", "build", "users", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("users: 40/40"),
        "progress: {}",
        stderr(&out)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (report["end"].as_str(), report["position"].as_u64()),
        (Some("done"), Some(40))
    );

    let (code, rows) = json(d, &["model", "rows", "users", "--json"]);
    assert_eq!(code, 0, "{rows}");
    let (_, state) = json(d, &["state", "--json"]);
    assert_eq!(rows["count"], state["users"], "{state}");
    assert_eq!(rows["digest"].as_str().map(str::len), Some(64));
    let (_, early) = json(
        d,
        &[
            "model", "rows", "users", "--at", "5", "--limit", "2", "--json",
        ],
    );
    let (_, state_at_5) = json(d, &["state", "--at", "5", "--json"]);
    assert_eq!(early["at"].as_u64(), Some(5));
    assert_eq!(early["count"], state_at_5["users"]);
    assert_eq!(early["rows"].as_array().map(Vec::len), Some(2));
    assert_ne!(early["digest"], rows["digest"]);
    assert!(early["rows"][0]["email"].as_str().is_some());

    let (code, _) = json(d, &["model", "remove", "users", "--json"]);
    assert_eq!(code, 0);
    assert!(!d.join("models/users.sqlite3").exists());
    let (code, _) = json(d, &["model", "rows", "users", "--json"]);
    assert_eq!(code, 2);
}

#[test]
fn a_build_names_the_events_a_block_could_not_apply() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (code, _) = json(d, &["emit", "--count", "12", "--seed", "3", "--json"]);
    assert_eq!(code, 0);
    // No ON CONFLICT: the second booking of a service breaks the key.
    let file = d.join("services.sql");
    std::fs::write(
        &file,
        "-- model: services\n-- version: 1\nCREATE TABLE services(service TEXT PRIMARY KEY, first INTEGER);\n\
         ON BookingWizardCompleted:\nINSERT INTO services VALUES (:payload.booking.service, :position);\n",
    )
    .unwrap();
    assert_eq!(
        json(d, &["model", "add", file.to_str().unwrap(), "--json"]).0,
        0
    );
    let (code, report) = json(d, &["model", "build", "services", "--json"]);
    assert_eq!(code, 0, "never fatal: {report}");
    assert_eq!(report["end"], "done");
    let not_applied = report["not_applied"].as_array().unwrap();
    assert!(!not_applied.is_empty());
    assert_eq!(not_applied.len() as u64, report["errors"].as_u64().unwrap());
    assert_eq!(not_applied[0]["line"], 5);
    assert!(not_applied[0]["position"].as_u64().unwrap() > 1);
    assert!(
        not_applied[0]["reason"]
            .as_str()
            .unwrap()
            .contains("UNIQUE"),
        "{report}"
    );
    let (_, rows) = json(d, &["model", "rows", "services", "--json"]);
    assert_eq!(
        rows["count"].as_u64().unwrap() + not_applied.len() as u64,
        12
    );
}
