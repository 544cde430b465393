//! `ledgerscope model ...`: the read models users write. `check` reads a
//! file and names each mistake as `FILE:LINE:COL: message`; `add` keeps a
//! checked definition in the ledger store; `build` folds the whole ledger
//! into the model's file in the data dir (progress on stderr, Ctrl-C stops
//! after the current batch and the next build goes on from there); `rows`
//! prints a table's rows at a position with a digest of the whole model;
//! `diff`, `history`, `series` and `whatif` ([`explore`]) do with a model
//! what the built-in subcommands of those names do with the built-in tables;
//! `publish` and `unpublish` make a model real tables in the read store, or
//! drop them.

mod explore;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::args::{Cli, ModelAction, RowsArgs};
use super::{CliError, CliResult, EXIT_ERROR, EXIT_OK, open_engine_as, print_json, store_config};
use crate::domain::model::DefinitionError;
use crate::engine::Engine;
use crate::engine::models::{
    BuildEnd, BuildProgress, CheckedModel, ModelError, ModelReader, check_model, model_path,
};

/// How many of the events a block could not apply `model build` prints.
const NOT_APPLIED_SHOWN: usize = 20;

/// Runs a `model` action; returns the exit code.
pub async fn model(cli: &Cli, action: &ModelAction, json: bool) -> CliResult<i32> {
    match action {
        ModelAction::Check { file, .. } => check(file, json),
        ModelAction::Add { file, .. } => add(cli, file, json).await,
        ModelAction::List { .. } => list(cli, json).await,
        ModelAction::Remove { name, .. } => remove(cli, name, json).await,
        ModelAction::Rows(args) => rows(cli, args, json).await,
        ModelAction::Build { name, .. } => build(cli, name, json).await,
        ModelAction::Publish { name, .. } => publish(cli, name, json).await,
        ModelAction::Unpublish { name, .. } => unpublish(cli, name, json).await,
        ModelAction::Diff {
            name,
            from,
            to,
            table,
            limit,
            ..
        } => {
            explore::diff(
                cli,
                name,
                table.as_deref(),
                (*from, *to),
                *limit as usize,
                json,
            )
            .await
        }
        ModelAction::History {
            name, key, table, ..
        } => explore::history(cli, name, table.as_deref(), key, json).await,
        ModelAction::Series {
            name,
            column,
            table,
            points,
            ..
        } => explore::series(cli, name, table.as_deref(), column, *points, json).await,
        ModelAction::WhatIf {
            name,
            exclude,
            table,
            limit,
            ..
        } => explore::what_if(cli, name, table.as_deref(), exclude, *limit as usize, json).await,
    }
}

fn read_text(file: &Path) -> CliResult<String> {
    std::fs::read_to_string(file)
        .map_err(|e| CliError::input(format!("cannot read {}: {e}", file.display())))
}

/// Prints each mistake as `FILE:LINE:COL: message` (and the JSON answer).
fn report_mistakes(file: &Path, errors: &[DefinitionError], json: bool) -> i32 {
    for e in errors {
        eprintln!("{}:{}:{}: {}", file.display(), e.line, e.col, e.message);
    }
    if json {
        let list: Vec<Value> = errors
            .iter()
            .map(|e| json!({ "line": e.line, "col": e.col, "message": e.message }))
            .collect();
        print_json(&json!({ "ok": false, "file": file.display().to_string(), "errors": list }));
    }
    EXIT_ERROR
}

fn summary_json(model: &CheckedModel) -> Value {
    json!({
        "name": model.def.name,
        "version": model.def.version,
        "tables": model.def.tables,
        "events": model.def.events,
    })
}

fn print_summary(model: &CheckedModel, verb: &str) {
    let tables: Vec<String> = model
        .def
        .tables
        .iter()
        .map(|t| format!("{} ({} columns)", t.name, t.columns.len()))
        .collect();
    println!(
        "{verb} model {} version {}: tables {}; listens to {}",
        model.def.name,
        model.def.version,
        tables.join(", "),
        model.def.events.join(", ")
    );
}

fn check(file: &Path, json: bool) -> CliResult<i32> {
    let text = read_text(file)?;
    match check_model(&text, &[]) {
        Err(errors) => Ok(report_mistakes(file, &errors, json)),
        Ok(model) => {
            if json {
                print_json(&json!({ "ok": true, "model": summary_json(&model) }));
            } else {
                print_summary(&model, "ok:");
            }
            Ok(EXIT_OK)
        }
    }
}

/// The engine (read-only unless the action writes to the ledger store)
/// and the data dir the models' files are in.
async fn engine(cli: &Cli, read_only: bool) -> CliResult<(Arc<Engine>, PathBuf)> {
    let engine = open_engine_as(cli, read_only || cli.observe).await?;
    Ok((engine, store_config(cli).data_dir))
}

fn model_error(e: ModelError) -> CliError {
    CliError::input(e.to_string())
}

async fn add(cli: &Cli, file: &Path, json: bool) -> CliResult<i32> {
    let text = read_text(file)?;
    // The text is checked before any store is opened...
    if let Err(errors) = check_model(&text, &[]) {
        return Ok(report_mistakes(file, &errors, json));
    }
    let (engine, _) = engine(cli, false).await?;
    // ...and again against the ledger's models (a name taken).
    let model = match engine.add_model(&text).await {
        Ok(model) => model,
        Err(ModelError::Definition(errors)) => return Ok(report_mistakes(file, &errors, json)),
        Err(e) => return Err(model_error(e)),
    };
    if json {
        print_json(&json!({ "ok": true, "added": summary_json(&model) }));
    } else {
        print_summary(&model, "added");
    }
    Ok(EXIT_OK)
}

async fn list(cli: &Cli, json: bool) -> CliResult<i32> {
    let (engine, data_dir) = engine(cli, true).await?;
    let models = engine.models().await.map_err(model_error)?;
    // Published state from the read store (unknown when it does not answer).
    let published = match engine.published_statuses().await {
        Ok(list) => Some(list),
        Err(e) => {
            eprintln!("warning: published models not read: {e}");
            None
        }
    };
    let mut out = Vec::new();
    for m in &models {
        let publication = published
            .as_ref()
            .and_then(|list| list.iter().find(|p| p.model == m.name));
        let path = model_path(&data_dir, &m.name);
        let built = ModelReader::open(&path, &m.name).ok();
        let position = built.as_ref().map(|r| r.position());
        let errors = built.as_ref().and_then(|r| r.error_count().ok());
        if !json {
            let state = match (position, errors) {
                (Some(p), Some(e)) => format!("built to {p}, {e} event(s) not applied"),
                _ => "not built".into(),
            };
            let shown = publication.map_or_else(String::new, |p| {
                format!("; published at {} (lag {})", p.checkpoint, p.lag_events)
            });
            println!(
                "{} v{} (added {}): {state}{shown}",
                m.name, m.version, m.added_at
            );
        }
        out.push(json!({
            "name": m.name,
            "version": m.version,
            "added_at": m.added_at,
            "built_to": position,
            "errors": errors,
            "published": publication,
        }));
    }
    if json {
        print_json(&json!({ "models": out }));
    } else if models.is_empty() {
        println!("no models; add one with `ledgerscope model add FILE`");
    }
    Ok(EXIT_OK)
}

async fn remove(cli: &Cli, name: &str, json: bool) -> CliResult<i32> {
    let (engine, data_dir) = engine(cli, false).await?;
    engine
        .remove_model(name, &data_dir)
        .await
        .map_err(model_error)?;
    if json {
        print_json(&json!({ "ok": true, "removed": name }));
    } else {
        println!("removed model {name}");
    }
    Ok(EXIT_OK)
}

async fn rows(cli: &Cli, args: &RowsArgs, json: bool) -> CliResult<i32> {
    let (engine, data_dir) = engine(cli, true).await?;
    let m = engine
        .model_definition(&args.name)
        .await
        .map_err(model_error)?;
    let mut answer = rows_answer(&data_dir, &m.name, args).await?;
    super::output_mask().json(&mut answer);
    if json {
        print_json(&answer);
    } else {
        println!(
            "{} rows of {}.{} at position {} (built to {}), digest {}",
            answer["count"],
            args.name,
            answer["table"].as_str().unwrap_or_default(),
            answer["at"],
            answer["built_to"],
            answer["digest"].as_str().unwrap_or_default()
        );
        if let Some(rows) = answer["rows"].as_array() {
            for row in rows {
                println!("{row}");
            }
        }
    }
    Ok(EXIT_OK)
}

/// The answer of `model rows`: the rows as objects, their count at the
/// position, and a digest of every table of the model there.
async fn rows_answer(data_dir: &Path, name: &str, args: &RowsArgs) -> CliResult<Value> {
    let path = model_path(data_dir, name);
    let name = name.to_string();
    let table = args.table.clone();
    let (at, limit) = (args.at, args.limit as usize);
    tokio::task::spawn_blocking(
        move || -> Result<Value, crate::engine::models::ModelError> {
            let reader = ModelReader::open(&path, &name)?;
            let table = match table {
                Some(t) => reader.table(&t)?.clone(),
                None => reader.def().tables[0].clone(),
            };
            let at = at.unwrap_or(reader.position()).min(reader.position());
            let rows: Vec<Value> = reader
                .rows_at(&table.name, at, Some(limit))?
                .into_iter()
                .map(|cells| {
                    let object: serde_json::Map<String, Value> = table
                        .columns
                        .iter()
                        .zip(cells)
                        .map(|(c, v)| {
                            (
                                c.name.clone(),
                                serde_json::to_value(v).unwrap_or(Value::Null),
                            )
                        })
                        .collect();
                    Value::Object(object)
                })
                .collect();
            Ok(json!({
                "model": name,
                "table": table.name,
                "at": at,
                "built_to": reader.position(),
                "count": reader.count_at(&table.name, at)?,
                "rows": rows,
                "digest": reader.digest_at(at)?,
            }))
        },
    )
    .await
    .map_err(|e| CliError::input(format!("reading the model stopped: {e}")))?
    .map_err(|e| CliError::input(e.to_string()))
}

async fn build(cli: &Cli, name: &str, json: bool) -> CliResult<i32> {
    // The ledger is only read; the model's file is the one thing written.
    let (engine, data_dir) = engine(cli, true).await?;
    let path = model_path(&data_dir, name);
    let cancel = CancellationToken::new();
    let stop = {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            super::wait_for_stop_signal().await;
            eprintln!("interrupted: stopping after the current batch");
            cancel.cancel();
        })
    };
    let mut last = Instant::now() - Duration::from_secs(2);
    let mut print = |p: &BuildProgress| {
        if last.elapsed() >= Duration::from_secs(1) || p.position >= p.head {
            last = Instant::now();
            eprintln!(
                "  {name}: {}/{} at {:.0}/s, ETA {:.0}s, {} event(s) not applied",
                p.position,
                p.head,
                p.rate_per_sec,
                p.eta_secs.unwrap_or(0.0),
                p.errors
            );
        }
    };
    let report = engine
        .build_model(name, &data_dir, &cancel, &mut print)
        .await;
    stop.abort();
    let report = report.map_err(model_error)?;
    // The events a block could not apply, first ones first (all of them
    // are in the model's `errors` table).
    let name_owned = name.to_string();
    let not_applied = tokio::task::spawn_blocking(move || {
        ModelReader::open(&path, &name_owned).and_then(|r| r.errors(NOT_APPLIED_SHOWN))
    })
    .await
    .map_err(|e| CliError::input(format!("reading the model stopped: {e}")))?
    .map_err(|e| CliError::input(e.to_string()))?;
    if json {
        let mut value = serde_json::to_value(&report).unwrap_or(Value::Null);
        value["not_applied"] = serde_json::to_value(&not_applied).unwrap_or(Value::Null);
        print_json(&value);
    } else {
        let how = match report.end {
            BuildEnd::Done => "built",
            BuildEnd::Cancelled => "stopped",
        };
        println!(
            "{how} {name} to position {} ({} entries in {:.1}s, {} event(s) not applied)",
            report.position, report.events, report.elapsed_secs, report.errors
        );
        for e in &not_applied {
            let statement = match (e.statement, e.line) {
                (Some(s), Some(line)) => format!(", statement {s} at line {line}"),
                _ => String::new(),
            };
            println!(
                "  not applied: position {} ({}{statement}): {}",
                e.position, e.event_type, e.reason
            );
        }
    }
    Ok(EXIT_OK)
}

async fn publish(cli: &Cli, name: &str, json: bool) -> CliResult<i32> {
    let engine = open_engine_as(cli, cli.observe).await?;
    let cancel = CancellationToken::new();
    let stop = {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            super::wait_for_stop_signal().await;
            eprintln!("interrupted: stopping after the current batch; nothing is published");
            cancel.cancel();
        })
    };
    let mut last = Instant::now() - Duration::from_secs(2);
    let mut print = |p: &BuildProgress| {
        if last.elapsed() >= Duration::from_secs(1) || p.position >= p.head {
            last = Instant::now();
            eprintln!(
                "  {name}: built {}/{} at {:.0}/s, ETA {:.0}s",
                p.position,
                p.head,
                p.rate_per_sec,
                p.eta_secs.unwrap_or(0.0)
            );
        }
    };
    let report = engine.publish_model(name, &cancel, &mut print).await;
    stop.abort();
    let report = report.map_err(model_error)?;
    if json {
        print_json(&json!({ "ok": true, "published": report }));
    } else {
        println!(
            "published {name} in {}: {} ({} rows at position {})",
            engine.read_info(),
            report.tables.join(", "),
            report.rows,
            report.position
        );
    }
    Ok(EXIT_OK)
}

async fn unpublish(cli: &Cli, name: &str, json: bool) -> CliResult<i32> {
    let engine = open_engine_as(cli, cli.observe).await?;
    let dropped = engine.unpublish_model(name).await.map_err(model_error)?;
    if !dropped {
        return Err(CliError::input(format!(
            "model {name} is not published in {}",
            engine.read_info()
        )));
    }
    if json {
        print_json(&json!({ "ok": true, "unpublished": name }));
    } else {
        println!(
            "unpublished {name}: its tables are dropped from {}",
            engine.read_info()
        );
    }
    Ok(EXIT_OK)
}
