//! `ledgerscope model diff|history|series|whatif`: what the built-in
//! `diff`, `history`, `series` and `whatif` do, done with a user's model.
//! Rows are printed as objects named by their columns (personal ones are
//! masked by `print_json` and [`output_mask`]).

use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use tokio_util::sync::CancellationToken;

use super::super::args::Cli;
use super::super::{CliResult, EXIT_OK, output_mask, print_json};
use super::{engine, model_error};
use crate::domain::model::Value as Cell;
use crate::domain::state::DiffKind;
use crate::engine::models::query::cell_text;
use crate::engine::models::{BuildProgress, ModelDiff, RowChange};

/// Cells as an object named by `columns`.
fn row_object(columns: &[String], cells: &[Cell]) -> Value {
    let object: Map<String, Value> = columns
        .iter()
        .zip(cells)
        .map(|(c, v)| (c.clone(), serde_json::to_value(v).unwrap_or(Value::Null)))
        .collect();
    Value::Object(object)
}

fn kind_name(kind: DiffKind) -> &'static str {
    match kind {
        DiffKind::Added => "added",
        DiffKind::Removed => "removed",
        DiffKind::Changed => "changed",
    }
}

fn change_json(columns: &[String], key_columns: &[String], change: &RowChange) -> Value {
    json!({
        "kind": kind_name(change.kind()),
        "key": row_object(key_columns, &change.key),
        "before": change.before.as_ref().map(|c| row_object(columns, c)),
        "after": change.after.as_ref().map(|c| row_object(columns, c)),
        "changed": change
            .changed_columns()
            .into_iter()
            .filter_map(|i| columns.get(i).cloned())
            .collect::<Vec<_>>(),
    })
}

fn diff_json(diff: &ModelDiff) -> Value {
    json!({
        "model": diff.model,
        "table": diff.table,
        "from": diff.from,
        "to": diff.to,
        "built_to": diff.built_to,
        "added": diff.counts.added,
        "removed": diff.counts.removed,
        "changed": diff.counts.changed,
        "columns": diff.columns,
        "rows": diff
            .rows
            .iter()
            .map(|c| change_json(&diff.columns, &diff.key_columns, c))
            .collect::<Vec<_>>(),
    })
}

/// One line per differing row: `+`, `-` or `~`, the key, and the changed cells.
fn print_changes(diff: &ModelDiff) {
    let mask = output_mask();
    for change in &diff.rows {
        let sign = match change.kind() {
            DiffKind::Added => '+',
            DiffKind::Removed => '-',
            DiffKind::Changed => '~',
        };
        let key: Vec<String> = diff
            .key_columns
            .iter()
            .zip(&change.key)
            .map(|(c, v)| mask.cell(c, &cell_text(v)).into_owned())
            .collect();
        let cells = change.after.as_ref().or(change.before.as_ref());
        let changed: Vec<String> = change
            .changed_columns()
            .into_iter()
            .filter_map(|i| {
                let c = diff.columns.get(i)?;
                let v = cells?.get(i)?;
                Some(format!("{c}={}", mask.cell(c, &cell_text(v))))
            })
            .collect();
        println!("  {sign} {}  {}", key.join(","), changed.join(", "));
    }
}

/// `model diff`.
pub(super) async fn diff(
    cli: &Cli,
    name: &str,
    table: Option<&str>,
    (from, to): (u64, Option<u64>),
    limit: usize,
    json: bool,
) -> CliResult<i32> {
    let (engine, data_dir) = engine(cli, true).await?;
    let diff = engine
        .model_diff(name, &data_dir, table, from, to, Some(limit))
        .await
        .map_err(model_error)?;
    if json {
        print_json(&diff_json(&diff));
    } else {
        println!(
            "{}.{} from {} to {}: +{} -{} ~{}",
            diff.model,
            diff.table,
            diff.from,
            diff.to,
            diff.counts.added,
            diff.counts.removed,
            diff.counts.changed
        );
        print_changes(&diff);
    }
    Ok(EXIT_OK)
}

/// `model history`.
pub(super) async fn history(
    cli: &Cli,
    name: &str,
    table: Option<&str>,
    key: &[String],
    json: bool,
) -> CliResult<i32> {
    let (engine, data_dir) = engine(cli, true).await?;
    let history = engine
        .model_row_history(name, &data_dir, table, key)
        .await
        .map_err(model_error)?;
    if json {
        let versions: Vec<Value> = history
            .versions
            .iter()
            .map(|v| {
                json!({
                    "position": v.position,
                    "valid_to": v.valid_to,
                    "event_type": v.event_type,
                    "recorded_at": v.recorded_at,
                    "row": row_object(&history.columns, &v.cells),
                    "changed": v.changed,
                })
            })
            .collect();
        print_json(&json!({
            "model": history.model,
            "table": history.table,
            "key": row_object(&history.key_columns, &history.key),
            "versions": versions,
        }));
    } else if history.versions.is_empty() {
        eprintln!(
            "no event of this ledger made a {} row with this key",
            history.table
        );
    } else {
        let mask = output_mask();
        for v in &history.versions {
            let cells: Vec<String> = history
                .columns
                .iter()
                .zip(&v.cells)
                .filter(|(c, _)| v.changed.contains(c))
                .map(|(c, cell)| format!("{c}={}", mask.cell(c, &cell_text(cell))))
                .collect();
            println!(
                "{:>8}  {}  {:<22} {}",
                v.position,
                v.recorded_at
                    .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                    .unwrap_or_else(|| "-".into()),
                v.event_type,
                cells.join(", ")
            );
        }
    }
    Ok(EXIT_OK)
}

/// `model series`.
pub(super) async fn series(
    cli: &Cli,
    name: &str,
    table: Option<&str>,
    column: &str,
    points: u64,
    json: bool,
) -> CliResult<i32> {
    let (engine, data_dir) = engine(cli, true).await?;
    let series = engine
        .model_series(name, &data_dir, table, column, points)
        .await
        .map_err(model_error)?;
    if json {
        print_json(&serde_json::to_value(&series).unwrap_or(Value::Null));
    } else {
        println!("{:>9} {:>16}", "position", format!("sum({column})"));
        for p in &series.points {
            println!("{:>9} {:>16}", p.position, p.sum);
        }
    }
    Ok(EXIT_OK)
}

/// `model whatif` (progress of the build on stderr).
pub(super) async fn what_if(
    cli: &Cli,
    name: &str,
    table: Option<&str>,
    exclude: &[u64],
    limit: usize,
    json: bool,
) -> CliResult<i32> {
    let (engine, data_dir) = engine(cli, true).await?;
    let cancel = CancellationToken::new();
    let stop = {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            super::super::wait_for_stop_signal().await;
            eprintln!("interrupted: stopping after the current batch");
            cancel.cancel();
        })
    };
    let mut last = Instant::now() - Duration::from_secs(2);
    let mut print = |p: &BuildProgress| {
        if last.elapsed() >= Duration::from_secs(1) || p.position >= p.head {
            last = Instant::now();
            eprintln!(
                "  {name} without {} event(s): {}/{} at {:.0}/s",
                exclude.len(),
                p.position,
                p.head,
                p.rate_per_sec
            );
        }
    };
    let report = engine
        .model_what_if(
            name,
            &data_dir,
            table,
            exclude,
            Some(limit),
            &cancel,
            &mut print,
        )
        .await;
    stop.abort();
    let report = report.map_err(model_error)?;
    let diff = &report.difference;
    if json {
        let mut value = diff_json(diff);
        value["simulation"] = json!(true);
        value["at"] = json!(diff.to);
        value["excluded"] = json!(report.excluded);
        value["real_rows"] = json!(report.real_rows);
        value["simulated_rows"] = json!(report.simulated_rows);
        print_json(&value);
    } else {
        println!(
            "SIMULATION (nothing is written): {}.{} at position {} without {} event(s)",
            diff.model,
            diff.table,
            diff.to,
            report.excluded.len()
        );
        println!(
            "  rows: real {}, simulated {}; +{} -{} ~{}",
            report.real_rows,
            report.simulated_rows,
            diff.counts.added,
            diff.counts.removed,
            diff.counts.changed
        );
        print_changes(diff);
    }
    Ok(EXIT_OK)
}
