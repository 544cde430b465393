//! Mask mode: with `--mask`, no output, report or log line of any read
//! subcommand carries an original e-mail, name or address.

use super::*;

/// Every e-mail, name and address the ledger in `plain` (an export) holds.
fn personal_values(plain: &Path) -> std::collections::BTreeSet<String> {
    let mut originals = std::collections::BTreeSet::new();
    for line in std::fs::read_to_string(plain).unwrap().lines() {
        let e: Value = serde_json::from_str(line).unwrap();
        let p = &e["payload"];
        for v in [
            &p["user"]["email"],
            &p["user"]["name"],
            &p["user"]["address"],
            &p["old_address"],
            &p["new_address"],
        ] {
            if let Some(text) = v.as_str() {
                originals.insert(text.to_owned());
            }
        }
    }
    originals
}

/// stdout and stderr of a run, and its exit code.
fn all_output(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = run(dir, args);
    (
        out.status.code().unwrap_or(-1),
        format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out)),
    )
}

#[test]
fn masked_output_reports_and_log_hold_no_personal_value() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    json(
        d,
        &["emit", "--count", "120", "--mix", "--seed", "3", "--json"],
    );
    let plain = d.join("plain.ndjson");
    json(d, &["export", "--out", plain.to_str().unwrap(), "--json"]);
    let originals = personal_values(&plain);
    assert!(
        originals.len() > 30,
        "personal data to look for: {originals:?}"
    );
    let someone = std::fs::read_to_string(&plain)
        .unwrap()
        .lines()
        .find_map(|l| {
            let e: Value = serde_json::from_str(l).unwrap();
            e["payload"]["user"]["email"].as_str().map(str::to_owned)
        })
        .unwrap();
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/models/users.sql");
    let (code, _) = json(d, &["model", "add", model.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0);
    let (code, _) = json(d, &["model", "build", "users", "--json"]);
    assert_eq!(code, 0);
    // A drifted read table, so compare lists rows with their cells.
    let views = rusqlite::Connection::open(d.join("views.sqlite3")).unwrap();
    views
        .execute(
            "DELETE FROM users WHERE user_id IN (SELECT user_id FROM users LIMIT 3)",
            [],
        )
        .unwrap();
    views
        .execute(
            "UPDATE users SET name = name || ' X' WHERE user_id IN (SELECT user_id FROM users LIMIT 2)",
            [],
        )
        .unwrap();
    drop(views);

    let report_json = d.join("report.json");
    let report_md = d.join("report.md");
    let runs: Vec<Vec<&str>> = vec![
        vec!["events", "--limit", "1000", "--json"],
        vec!["events", "--limit", "1000"],
        vec!["history", "--user", &someone, "--json"],
        vec!["history", "--user", &someone],
        vec!["whatif", "--exclude", "1", "--limit", "1000", "--json"],
        vec!["diff", "--from", "0", "--limit", "1000", "--json"],
        vec!["diff", "--from", "0", "--limit", "1000"],
        vec![
            "verify",
            "--json",
            "--report",
            report_json.to_str().unwrap(),
        ],
        vec!["verify", "--report", report_md.to_str().unwrap()],
        vec!["subject", "--user", &someone, "--json"],
        vec!["subject", "--user", &someone],
        vec!["model", "rows", "users", "--limit", "1000", "--json"],
        vec!["model", "rows", "users", "--limit", "1000"],
        vec!["state", "--json"],
        vec!["repair", "--yes", "--json"],
        vec!["repairs", "--json"],
    ];
    let mut shown: Vec<(String, String)> = Vec::new();
    for args in &runs {
        let mut masked: Vec<&str> = vec!["--mask"];
        masked.extend(args.iter().copied());
        let (code, text) = all_output(d, &masked);
        assert!(code == 0 || code == 1, "{args:?} exit {code}: {text}");
        shown.push((format!("{masked:?}"), text));
    }
    for file in [
        &report_json,
        &report_md,
        &d.join("logs").join("ledgerscope.log"),
    ] {
        shown.push((
            file.display().to_string(),
            std::fs::read_to_string(file).unwrap(),
        ));
    }
    for (what, text) in &shown {
        for original in &originals {
            assert!(
                !text.contains(original.as_str()),
                "{original} is shown by {what}: {text}"
            );
        }
    }
    let shown: String = shown.into_iter().map(|(_, text)| text).collect();
    assert!(
        shown.contains("@example.invalid")
            && shown.contains("Person ")
            && shown.contains("Street "),
        "pseudonyms are shown in their place"
    );

    // The same runs without --mask show them (so the check above can fail).
    let (_, unmasked) = all_output(d, &["events", "--limit", "1000", "--json"]);
    assert!(originals.iter().any(|o| unmasked.contains(o.as_str())));
    let (_, unmasked) = all_output(d, &["history", "--user", &someone, "--json"]);
    assert!(
        originals.iter().any(|o| unmasked.contains(o.as_str())),
        "{unmasked}"
    );

    // One value, one pseudonym: from one run to the next.
    let (_, a) = all_output(d, &["--mask", "history", "--user", &someone, "--json"]);
    let (_, b) = all_output(d, &["--mask", "history", "--user", &someone, "--json"]);
    assert_eq!(a, b);
}

#[test]
fn a_masked_export_is_refused_unless_it_pseudonymizes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    json(d, &["emit", "--count", "5", "--seed", "1", "--json"]);
    let out = d.join("out.ndjson");
    let (code, answer) = json(
        d,
        &["--mask", "export", "--out", out.to_str().unwrap(), "--json"],
    );
    assert_eq!(code, 2, "{answer}");
    assert!(
        answer["error"].as_str().unwrap().contains("--pseudonymize"),
        "{answer}"
    );
    assert!(!out.exists(), "nothing written");
    let (code, _) = json(
        d,
        &[
            "--mask",
            "export",
            "--out",
            out.to_str().unwrap(),
            "--pseudonymize",
            "--json",
        ],
    );
    assert_eq!(code, 0);
    // --observe masks by default; --unmask shows.
    let (_, observed) = all_output(d, &["--observe", "events", "--json"]);
    let (_, unmasked) = all_output(d, &["--observe", "--unmask", "events", "--json"]);
    assert!(
        observed.contains("@example.invalid") && !unmasked.contains("@example.invalid"),
        "{observed}\n{unmasked}"
    );
}
