//! `repair`, `repairs` and `verify --report`: the targeted repair, the
//! repairs kept in the ledger store, and compare's findings as a file.

use std::io::{BufRead, IsTerminal};
use std::path::Path;

use serde_json::{Value, json};

use super::{
    CliError, CliResult, EXIT_DRIFT, EXIT_OK, open_engine, open_for_reading, print_json,
    progress_printer, spawn_stop_signal,
};
use crate::cli::Cli;
use crate::engine::report::ReportFormat;
use crate::engine::{Engine, EngineError, VerifyReport};
use crate::store::{Findings, RepairEntry};

/// A report file asked for, and its format if given.
pub type ReportFile<'a> = (&'a Path, Option<ReportFormat>);

/// Writes `verify`'s findings to the file asked for, if one was.
pub(super) async fn write_verify_report(
    engine: &Engine,
    report: &VerifyReport,
    file: Option<ReportFile<'_>>,
) -> CliResult<()> {
    if let Some((path, format)) = file {
        let written = engine
            .write_report(report, path, format, &super::output_mask())
            .await?;
        eprintln!("report written to {}", written.display());
    }
    Ok(())
}

/// Asks on the terminal; anywhere else `--yes` is needed.
fn confirmed(question: &str) -> CliResult<bool> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(CliError::input(format!(
            "{question} Nothing was changed: add --yes to confirm"
        )));
    }
    eprint!("{question} [y/N] ");
    let mut answer = String::new();
    stdin
        .lock()
        .read_line(&mut answer)
        .map_err(|e| CliError::input(format!("no answer could be read: {e}")))?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

fn drift(f: &Option<Findings>) -> String {
    match f {
        Some(f) if f.in_sync => "in sync".into(),
        Some(f) => format!(
            "{} missing, {} extra, {} different",
            f.missing, f.extra, f.different
        ),
        None => "not compared".into(),
    }
}

/// `repair`: re-projects the differing rows; exit 0 in sync after, 1 if
/// drift remains, 2 on errors (nothing written without confirmation).
pub(super) async fn repair(
    cli: &Cli,
    yes: bool,
    file: Option<ReportFile<'_>>,
    json: bool,
) -> CliResult<i32> {
    let engine = open_engine(cli).await?;
    let target = engine.read_info();
    if !yes {
        let question = format!("Repair the rows that differ in the read tables of {target}?");
        if !confirmed(&question)? {
            return Err(CliError::input("not confirmed; nothing was changed"));
        }
    }
    let job = progress_printer();
    let ctrl_c = spawn_stop_signal(job.clone());
    let result = engine.repair_rows(&job).await;
    ctrl_c.abort();
    let entry = match result {
        Err(EngineError::Foreign(foreign)) => {
            let of = match foreign.other_schema() {
                Some(_) => "another schema",
                None => "another ledger",
            };
            return Err(CliError::input(format!(
                "{foreign}; rows are not repaired one by one in tables of {of}: run `replay --rebuild-foreign`"
            )));
        }
        other => other?,
    };
    if let Some((path, format)) = file {
        let written = engine
            .write_repair_report(&entry, path, format, &super::output_mask())
            .await?;
        eprintln!("report written to {}", written.display());
    }
    let in_sync = entry.after.as_ref().is_some_and(|f| f.in_sync);
    if json {
        let mut value = serde_json::to_value(&entry).unwrap_or(Value::Null);
        value["target"] = json!(target.to_string());
        value["in_sync"] = json!(in_sync);
        print_json(&value);
    } else {
        let w = &entry.work;
        eprintln!(
            "repaired {target}: {} row(s) written, {} deleted, from {} event(s) of {} aggregate(s); before: {}; after: {}",
            w.rows_written,
            w.rows_deleted,
            w.events,
            w.aggregates,
            drift(&entry.before),
            drift(&entry.after)
        );
        for note in &entry.notes {
            eprintln!("  {note}");
        }
    }
    Ok(if in_sync { EXIT_OK } else { EXIT_DRIFT })
}

fn entry_line(entry: &RepairEntry) -> String {
    let w = &entry.work;
    format!(
        "{} {} by {} on {}: before {}; {} row(s) written, {} deleted, {} event(s); after {}",
        entry.at.format("%Y-%m-%d %H:%M:%S UTC"),
        entry.kind.name(),
        entry.instance,
        entry.read_store,
        drift(&entry.before),
        w.rows_written,
        w.rows_deleted,
        w.events,
        drift(&entry.after)
    )
}

/// `repairs`: the repairs kept in the ledger store, newest first.
pub(super) async fn repairs(cli: &Cli, limit: usize, json: bool) -> CliResult<i32> {
    let engine = open_for_reading(cli).await?;
    let entries = engine.repairs(limit).await?;
    if json {
        print_json(&json!({ "repairs": entries }));
    } else if entries.is_empty() {
        eprintln!("no repairs recorded in {}", engine.ledger_info());
    } else {
        for entry in &entries {
            println!("{}", entry_line(entry));
        }
    }
    Ok(EXIT_OK)
}
