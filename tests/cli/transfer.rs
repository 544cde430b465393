//! Export and import: the round trip, a bad file, the pseudonymized training copy, and whose data is where.

use super::*;

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
fn a_pseudonymized_copy_holds_no_personal_value_and_imports_to_the_same_answers() {
    use ledgerscope::domain::personal::Pseudonymizer;
    let src = tempfile::tempdir().unwrap();
    let dst = tempfile::tempdir().unwrap();
    let (s, d) = (src.path(), dst.path());
    json(
        s,
        &["emit", "--count", "250", "--mix", "--seed", "5", "--json"],
    );
    let plain = s.join("plain.ndjson");
    let copy = s.join("copy.ndjson");
    let key = s.join("key");
    std::fs::write(&key, b"a key of thirty-two bytes, fixed").unwrap();
    json(s, &["export", "--out", plain.to_str().unwrap(), "--json"]);
    let (code, report) = json(
        s,
        &[
            "export",
            "--out",
            copy.to_str().unwrap(),
            "--pseudonymize",
            "--key-file",
            key.to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(
        (code, &report["pseudonymized"]),
        (0, &Value::Bool(true)),
        "{report}"
    );

    // No original e-mail, name, address or user id is left in the copy.
    let mut originals = std::collections::BTreeSet::new();
    let mut moved_user = None;
    for e in ndjson(&plain) {
        let p = &e["payload"];
        for v in [
            &p["user"]["email"],
            &p["user"]["name"],
            &p["user"]["address"],
            &p["user"]["user_id"],
            &p["old_address"],
            &p["new_address"],
            &p["user_id"],
        ] {
            if let Some(text) = v.as_str() {
                originals.insert(text.to_owned());
            }
        }
        if e["event_type"] == "UserAddressChanged" {
            moved_user = p["user_id"].as_str().map(str::to_owned);
        }
    }
    assert!(
        originals.len() > 50,
        "the ledger has personal data: {}",
        originals.len()
    );
    let text = std::fs::read_to_string(&copy).unwrap();
    for original in &originals {
        assert!(
            !text.contains(original.as_str()),
            "{original} is in the copy"
        );
    }

    // Imported, it gives the same counts, histories and what-if answers.
    let (code, imported) = json(d, &["import", copy.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0, "{imported}");
    assert_eq!(
        imported["flagged"].as_array().map(Vec::len).unwrap_or(0),
        0,
        "{imported}"
    );
    let (_, a) = json(s, &["state", "--json"]);
    let (_, b) = json(d, &["state", "--json"]);
    for field in ["position", "users", "bookings", "bookings_by_status"] {
        assert_eq!(a[field], b[field], "{field}");
    }
    let (_, cancel) = json(
        s,
        &[
            "events",
            "--type",
            "BookingCancelled",
            "--limit",
            "1",
            "--json",
        ],
    );
    let booking = cancel["aggregate_id"].as_str().unwrap();
    let versions = |dir: &Path, args: &[&str]| {
        let (code, h) = json(dir, args);
        assert_eq!(code, 0, "{h}");
        h["versions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| (v["position"].clone(), v["event_type"].clone()))
            .collect::<Vec<_>>()
    };
    let booking_history = ["history", "--booking", booking, "--json"];
    assert_eq!(versions(s, &booking_history), versions(d, &booking_history));
    let moved_user = moved_user.expect("the mix moves a user");
    let pseudonyms = Pseudonymizer::new(b"a key of thirty-two bytes, fixed").unwrap();
    let renamed = pseudonyms.user_id(moved_user.parse().unwrap()).to_string();
    let real = versions(s, &["history", "--user", &moved_user, "--json"]);
    assert!(real.len() >= 2, "{real:?}");
    assert_eq!(
        real,
        versions(d, &["history", "--user", &renamed, "--json"])
    );
    let (_, made) = json(
        s,
        &["events", "--aggregate", booking, "--limit", "1", "--json"],
    );
    let made_at = made["position"].as_u64().unwrap().to_string();
    let (_, x) = json(s, &["whatif", "--exclude", &made_at, "--json"]);
    let (_, y) = json(d, &["whatif", "--exclude", &made_at, "--json"]);
    for field in ["users", "bookings", "revenue_cents"] {
        assert_eq!(x[field], y[field], "what if: {field}");
        assert_eq!(x["real"][field], y["real"][field], "what if, real: {field}");
    }
    assert_eq!(
        x["no_ops"].as_array().map(Vec::len),
        y["no_ops"].as_array().map(Vec::len)
    );
}

#[test]
fn subject_lists_every_event_with_one_persons_data_by_id_and_by_email() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    json(
        d,
        &["emit", "--count", "200", "--mix", "--seed", "9", "--json"],
    );
    let file = d.join("all.ndjson");
    json(d, &["export", "--out", file.to_str().unwrap(), "--json"]);
    let events = ndjson(&file);
    let moved = events
        .iter()
        .find(|e| e["event_type"] == "UserAddressChanged")
        .expect("the mix moves a user");
    let user = moved["payload"]["user_id"].as_str().unwrap().to_owned();
    // An independent reading of the export: the user's wizards and moves,
    // and every event about the bookings their wizards made.
    let expected = super::common::subject_positions(&events, &user);
    let email = events.iter().find_map(|e| {
        let u = &e["payload"]["user"];
        (u["user_id"] == user.as_str()).then(|| u["email"].as_str().map(str::to_owned))?
    });
    let positions = |report: &Value| {
        report["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["position"].as_u64().unwrap())
            .collect::<Vec<_>>()
    };
    let (code, by_id) = json(d, &["subject", "--user", &user, "--json"]);
    assert_eq!(code, 0, "{by_id}");
    assert_eq!(positions(&by_id), expected);
    let wizard = by_id["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event_type"] == "BookingWizardCompleted")
        .unwrap();
    assert_eq!(
        wizard["fields"],
        serde_json::json!(["user.user_id", "user.email", "user.name", "user.address"])
    );
    let email = email.unwrap().to_uppercase();
    let (_, by_email) = json(d, &["subject", "--user", &email, "--json"]);
    assert_eq!(positions(&by_email), expected);
    assert_eq!(by_email["user_id"], by_id["user_id"]);
    let out = run(d, &["subject", "--user", " "]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("needs a user id or an e-mail"),
        "{}",
        stderr(&out)
    );
}
