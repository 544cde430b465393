//! The CLI's personal-data commands: `export` (a training copy with
//! `--pseudonymize`) and `subject` (whose data is where).

use std::path::Path;

use serde_json::Value;

use super::{CliError, CliResult, EXIT_OK, open_for_reading, print_json, progress_printer};
use crate::cli::args::Cli;
use crate::domain::personal::{MIN_KEY_BYTES, Pseudonymizer};
use crate::engine::subject::Subject;

/// `export --out FILE [--pseudonymize [--key-file KEY]]`.
pub(super) async fn export(
    cli: &Cli,
    out: &Path,
    pseudonymize: bool,
    key_file: Option<&Path>,
    json: bool,
) -> CliResult<i32> {
    let pseudonyms = match (pseudonymize, key_file) {
        (false, _) => None,
        (true, None) => {
            Some(Pseudonymizer::with_random_key().map_err(|e| CliError::input(e.to_string()))?)
        }
        (true, Some(path)) => {
            let key = std::fs::read(path).map_err(|e| {
                CliError::input(format!("cannot read the key file {}: {e}", path.display()))
            })?;
            Some(Pseudonymizer::new(&key).map_err(|e| {
                CliError::input(format!(
                    "{}: {e} (make one with: head -c {MIN_KEY_BYTES} /dev/urandom > KEY)",
                    path.display()
                ))
            })?)
        }
    };
    if pseudonyms.is_none() && super::output_mask().is_on() {
        return Err(CliError::input(
            "export copies every personal value and mask mode is on (a remote store, --observe or --mask): add --pseudonymize for a copy without personal data, or --unmask to copy it as it is",
        ));
    }
    let engine = open_for_reading(cli).await?;
    let report = engine
        .export_ndjson_with(out, &progress_printer(), pseudonyms.as_ref())
        .await?;
    if json {
        print_json(&serde_json::to_value(&report).unwrap_or(Value::Null));
        return Ok(EXIT_OK);
    }
    eprintln!(
        "exported {} event(s) to {} ({} not decodable by this build, carried as they are){}",
        report.exported,
        out.display(),
        report.undecodable.len(),
        if report.pseudonymized {
            "; every e-mail, name, address and user id replaced by a keyed pseudonym"
        } else {
            ""
        }
    );
    if !report.skipped_malformed.is_empty() {
        eprintln!(
            "left out {} malformed row(s) that are not events, at positions {:?}",
            report.skipped_malformed.len(),
            report.skipped_malformed
        );
    }
    if report.skipped_unpositioned > 0 {
        eprintln!(
            "left out {} row(s) without a usable position (see verify)",
            report.skipped_unpositioned
        );
    }
    Ok(EXIT_OK)
}

/// `subject --user ID|EMAIL`: every event with that person's data.
pub(super) async fn subject(cli: &Cli, user: &str, json: bool) -> CliResult<i32> {
    if user.trim().is_empty() {
        return Err(CliError::input("--user needs a user id or an e-mail"));
    }
    let who = Subject::parse(user);
    let engine = open_for_reading(cli).await?;
    let mut report = engine.subject(&who, &progress_printer()).await?;
    let mask = super::output_mask();
    for email in &mut report.emails {
        *email = mask
            .text(crate::domain::personal::PersonalKind::Email, email)
            .into_owned();
    }
    if json {
        print_json(&serde_json::to_value(&report).unwrap_or(Value::Null));
        return Ok(EXIT_OK);
    }
    println!(
        "user {}: {} event(s) with their data up to position {}, {} booking(s)",
        report.user_id,
        report.events.len(),
        report.head,
        report.bookings.len()
    );
    for event in &report.events {
        let fields = if event.fields.is_empty() {
            String::from("-")
        } else {
            event.fields.join(", ")
        };
        println!(
            "{:>10}  {:<24} {}  fields: {}  ({})",
            event.position, event.event_type, event.aggregate_id, fields, event.why
        );
    }
    if !report.malformed.is_empty() {
        println!(
            "malformed rows that name them (raw text): positions {:?}",
            report.malformed
        );
    }
    Ok(EXIT_OK)
}
