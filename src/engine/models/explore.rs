//! What the app does with the built-in tables, done with a user's model:
//! the difference between two positions, every version of one row with
//! the event that made it, a numeric column's sum over positions, and
//! what-if (the model built again with events left out, beside the built
//! one). Each reads the model's built file; positions past the ledger's
//! head or past where the model is built are refused in one sentence.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::build::remove_model_file;
use super::{
    BuildEnd, BuildProgress, ModelError, ModelReader, RowChange, build_model, check_model,
    model_path,
};
use crate::domain::model::{ColumnType, TableDef, Value};
use crate::domain::state::DiffKind;
use crate::engine::Engine;

/// How many rows were added, removed and changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DiffCounts {
    /// Rows only in the second state.
    pub added: u64,
    /// Rows only in the first state.
    pub removed: u64,
    /// Rows in both with different cells.
    pub changed: u64,
}

impl DiffCounts {
    /// The counts of `changes`.
    pub fn of(changes: &[RowChange]) -> Self {
        let mut counts = DiffCounts::default();
        for c in changes {
            match c.kind() {
                DiffKind::Added => counts.added += 1,
                DiffKind::Removed => counts.removed += 1,
                DiffKind::Changed => counts.changed += 1,
            }
        }
        counts
    }
}

/// A table of a model compared between two states.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModelDiff {
    /// The model.
    pub model: String,
    /// The table.
    pub table: String,
    /// Its columns, in order.
    pub columns: Vec<String>,
    /// The names of its key's columns, in key order.
    pub key_columns: Vec<String>,
    /// The first position.
    pub from: u64,
    /// The second position.
    pub to: u64,
    /// How many rows differ (all of them, whatever `rows` holds).
    pub counts: DiffCounts,
    /// The differing rows in key order (the first ones when a limit was given).
    pub rows: Vec<RowChange>,
    /// The last position the model is built to.
    pub built_to: u64,
}

/// One version of a model's row and the event that made it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModelRowVersion {
    /// The position of the event that made this version.
    pub position: u64,
    /// The position of the event that replaced or removed it (`None`: current).
    pub valid_to: Option<u64>,
    /// That event's type (empty when the ledger has no event there).
    pub event_type: String,
    /// When that event was recorded.
    pub recorded_at: Option<DateTime<Utc>>,
    /// The cells, in the table's column order.
    pub cells: Vec<Value>,
    /// The columns whose cells differ from the version before (all for the first).
    pub changed: Vec<String>,
}

/// Every version of one row of a model, oldest first.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModelRowHistory {
    /// The model.
    pub model: String,
    /// The table.
    pub table: String,
    /// Its columns, in order.
    pub columns: Vec<String>,
    /// The names of its key's columns, in key order.
    pub key_columns: Vec<String>,
    /// The row's key cells.
    pub key: Vec<Value>,
    /// Its versions.
    pub versions: Vec<ModelRowVersion>,
}

/// One point of a column's sum over positions.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct SeriesPoint {
    /// The position.
    pub position: u64,
    /// The sum of the column over the table's rows there.
    pub sum: f64,
}

/// A numeric column's sum at evenly spaced positions.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModelSeries {
    /// The model.
    pub model: String,
    /// The table.
    pub table: String,
    /// The column.
    pub column: String,
    /// The points, by position.
    pub points: Vec<SeriesPoint>,
}

/// A model's rows with events left out, against the built ones.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModelWhatIf {
    /// The positions left out.
    pub excluded: Vec<u64>,
    /// Rows of the table as built, at `difference.to`.
    pub real_rows: u64,
    /// Rows of the table with the events left out.
    pub simulated_rows: u64,
    /// Built (before) against simulated (after), both at the position the
    /// model is built to.
    pub difference: ModelDiff,
}

/// Whether a column sums: whole numbers, positions, cents, fractions.
pub fn is_numeric(ty: ColumnType) -> bool {
    matches!(
        ty,
        ColumnType::Integer | ColumnType::Position | ColumnType::Cents | ColumnType::Real
    )
}

/// `n` positions evenly spaced over `1..=last` (fewer when `last` is
/// smaller), the last one `last`.
pub fn spaced_positions(last: u64, n: u64) -> Vec<u64> {
    let n = n.max(1);
    let mut positions: Vec<u64> = (1..=n).map(|i| last * i / n).filter(|&p| p > 0).collect();
    positions.dedup();
    positions
}

/// The key `parts` name in `t`'s key columns, each read as its column's type.
pub fn parse_key(t: &TableDef, parts: &[String]) -> Result<Vec<Value>, ModelError> {
    let names: Vec<&str> = t.key.iter().map(|&i| t.columns[i].name.as_str()).collect();
    if parts.len() != names.len() {
        return Err(ModelError::Unknown(format!(
            "the key of {} is {} ({} value(s)), not {} value(s)",
            t.name,
            names.join(", "),
            names.len(),
            parts.len()
        )));
    }
    t.key
        .iter()
        .zip(parts)
        .map(|(&i, text)| {
            let c = &t.columns[i];
            let text = text.trim();
            let bad =
                |what: &str| ModelError::Unknown(format!("{} is {what}, not '{text}'", c.name));
            Ok(match c.ty {
                ColumnType::Uuid => Value::Uuid(Uuid::parse_str(text).map_err(|_| bad("a UUID"))?),
                ColumnType::Integer | ColumnType::Position | ColumnType::Cents => {
                    Value::Integer(text.parse().map_err(|_| bad("a whole number"))?)
                }
                ColumnType::Real => Value::Real(text.parse().map_err(|_| bad("a number"))?),
                ColumnType::Date => Value::Date(
                    NaiveDate::parse_from_str(text, "%Y-%m-%d")
                        .map_err(|_| bad("a day (YYYY-MM-DD)"))?,
                ),
                ColumnType::Boolean => {
                    Value::Boolean(text.parse().map_err(|_| bad("true or false"))?)
                }
                ColumnType::Text => Value::Text(text.to_string()),
            })
        })
        .collect()
}

/// Refuses a position past the ledger's head or past where the model is built.
fn check_position(name: &str, position: u64, built: u64, head: u64) -> Result<(), ModelError> {
    if position > head {
        return Err(ModelError::PastHead { position, head });
    }
    if position > built {
        return Err(ModelError::BuiltTo {
            name: name.to_string(),
            built,
            position,
        });
    }
    Ok(())
}

/// The table named `table` (the model's first when `None`).
fn pick_table(reader: &ModelReader, table: Option<&str>) -> Result<TableDef, ModelError> {
    match table {
        Some(t) => Ok(reader.table(t)?.clone()),
        None => reader.def().tables.first().cloned().ok_or_else(|| {
            ModelError::Unknown(format!("model {} has no table", reader.def().name))
        }),
    }
}

fn column_names(t: &TableDef) -> Vec<String> {
    t.columns.iter().map(|c| c.name.clone()).collect()
}

fn key_names(t: &TableDef) -> Vec<String> {
    t.key.iter().map(|&i| t.columns[i].name.clone()).collect()
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ModelError> + Send + 'static,
) -> Result<T, ModelError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ModelError::Crashed(e.to_string()))?
}

/// A what-if's model file in the system's temporary folder, removed when dropped.
struct TempModel(PathBuf);

impl TempModel {
    fn new(name: &str) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let nanos = Utc::now().timestamp_subsec_nanos();
        TempModel(std::env::temp_dir().join(format!(
            "ledgerscope-whatif-{name}-{}-{n}-{nanos}.sqlite3",
            std::process::id()
        )))
    }
}

impl Drop for TempModel {
    fn drop(&mut self) {
        if let Err(e) = remove_model_file(&self.0) {
            tracing::warn!("what-if model file not removed: {e}");
        }
    }
}

impl Engine {
    /// The built file of the model named `name` in `data_dir` (the model
    /// must exist and be built) and the ledger's head.
    async fn built(&self, name: &str, data_dir: &Path) -> Result<(PathBuf, u64), ModelError> {
        self.model_definition(name).await?;
        let head = self.stores().ledger.head().await?;
        Ok((model_path(data_dir, name), head))
    }

    /// The rows of a model's table (the first when `table` is `None`) that
    /// differ between positions `from` and `to` (default: as far as it is
    /// built), at most `limit` of them listed; the counts are complete.
    pub async fn model_diff(
        &self,
        name: &str,
        data_dir: &Path,
        table: Option<&str>,
        from: u64,
        to: Option<u64>,
        limit: Option<usize>,
    ) -> Result<ModelDiff, ModelError> {
        let (path, head) = self.built(name, data_dir).await?;
        let (name, table) = (name.to_string(), table.map(str::to_string));
        blocking(move || {
            let reader = ModelReader::open(&path, &name)?;
            let t = pick_table(&reader, table.as_deref())?;
            let built = reader.position();
            let to = to.unwrap_or(built);
            for p in [from, to] {
                check_position(&name, p, built, head)?;
            }
            let mut rows = reader.diff(&t.name, from, to)?;
            let counts = DiffCounts::of(&rows);
            rows.truncate(limit.unwrap_or(usize::MAX));
            Ok(ModelDiff {
                model: name,
                table: t.name.clone(),
                columns: column_names(&t),
                key_columns: key_names(&t),
                from,
                to,
                counts,
                rows,
                built_to: built,
            })
        })
        .await
    }

    /// Every version of the row of a model's table under `key` (one text
    /// per key column), each with the type of the event that made it, read
    /// from the ledger by position.
    pub async fn model_row_history(
        &self,
        name: &str,
        data_dir: &Path,
        table: Option<&str>,
        key: &[String],
    ) -> Result<ModelRowHistory, ModelError> {
        let (path, _) = self.built(name, data_dir).await?;
        let (name, table, key) = (name.to_string(), table.map(str::to_string), key.to_vec());
        let mut history = blocking(move || {
            let reader = ModelReader::open(&path, &name)?;
            let t = pick_table(&reader, table.as_deref())?;
            let key = parse_key(&t, &key)?;
            let columns = column_names(&t);
            let mut previous: Option<Vec<Value>> = None;
            let versions = reader
                .row_history(&t.name, &key)?
                .into_iter()
                .map(|v| {
                    let changed = columns
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| {
                            previous
                                .as_ref()
                                .is_none_or(|p| p.get(*i) != v.cells.get(*i))
                        })
                        .map(|(_, c)| c.clone())
                        .collect();
                    previous = Some(v.cells.clone());
                    ModelRowVersion {
                        position: v.valid_from,
                        valid_to: v.valid_to,
                        event_type: String::new(),
                        recorded_at: None,
                        cells: v.cells,
                        changed,
                    }
                })
                .collect();
            Ok(ModelRowHistory {
                model: name,
                table: t.name.clone(),
                columns,
                key_columns: key_names(&t),
                key,
                versions,
            })
        })
        .await?;
        for v in &mut history.versions {
            let entry = self
                .stores()
                .ledger
                .read_range(v.position, 1)
                .await?
                .into_iter()
                .find(|e| crate::store::entry_position(e) == v.position);
            if let Some(Ok(event)) = entry {
                v.event_type = event.event_type;
                v.recorded_at = Some(event.recorded_at);
            }
        }
        Ok(history)
    }

    /// The sum of a numeric column of a model's table at `points` evenly
    /// spaced positions up to where the model is built.
    pub async fn model_series(
        &self,
        name: &str,
        data_dir: &Path,
        table: Option<&str>,
        column: &str,
        points: u64,
    ) -> Result<ModelSeries, ModelError> {
        let (path, _) = self.built(name, data_dir).await?;
        let (name, table, column) = (
            name.to_string(),
            table.map(str::to_string),
            column.to_string(),
        );
        blocking(move || {
            let reader = ModelReader::open(&path, &name)?;
            let t = pick_table(&reader, table.as_deref())?;
            let numeric: Vec<&str> = t
                .columns
                .iter()
                .filter(|c| is_numeric(c.ty))
                .map(|c| c.name.as_str())
                .collect();
            let Some(c) = t.column(&column).map(|i| &t.columns[i]) else {
                return Err(ModelError::Unknown(format!(
                    "table {} has no column {column}; its numeric ones: {}",
                    t.name,
                    list_or_none(&numeric)
                )));
            };
            if !is_numeric(c.ty) {
                return Err(ModelError::NotNumeric {
                    table: t.name.clone(),
                    column,
                    numeric: list_or_none(&numeric),
                });
            }
            let positions = spaced_positions(reader.position(), points);
            let points = reader
                .series(&t.name, &c.name, &positions)?
                .into_iter()
                .map(|(position, sum)| SeriesPoint { position, sum })
                .collect();
            Ok(ModelSeries {
                model: name,
                table: t.name.clone(),
                column,
                points,
            })
        })
        .await
    }

    /// The model's table built again from the whole ledger with the events
    /// at `exclude` left out (into a temporary file, with the text the
    /// model's file was built from), against its built rows, both at the
    /// position the model is built to. Nothing of the model's is written.
    #[allow(clippy::too_many_arguments)]
    pub async fn model_what_if(
        &self,
        name: &str,
        data_dir: &Path,
        table: Option<&str>,
        exclude: &[u64],
        limit: Option<usize>,
        cancel: &CancellationToken,
        progress: &mut (dyn FnMut(&BuildProgress) + Send),
    ) -> Result<ModelWhatIf, ModelError> {
        let (path, head) = self.built(name, data_dir).await?;
        let (owned, path2, table) = (name.to_string(), path.clone(), table.map(str::to_string));
        let (t, built, source) = blocking(move || {
            let reader = ModelReader::open(&path2, &owned)?;
            let t = pick_table(&reader, table.as_deref())?;
            let source = reader
                .source()?
                .ok_or_else(|| ModelError::NotBuilt(owned.clone()))?;
            Ok((t, reader.position(), source))
        })
        .await?;
        for &p in exclude {
            if p == 0 {
                return Err(ModelError::Unknown(
                    "positions start at 1; position 0 holds no event".into(),
                ));
            }
            check_position(name, p, built, head)?;
        }
        let model = check_model(&source, &[]).map_err(ModelError::Definition)?;
        let excluded: BTreeSet<u64> = exclude.iter().copied().collect();
        let temp = TempModel::new(name);
        let report = build_model(
            self.stores().ledger.as_ref(),
            &model,
            &temp.0,
            &excluded,
            cancel,
            progress,
        )
        .await?;
        if report.end == BuildEnd::Cancelled {
            return Err(ModelError::Cancelled);
        }
        let name = name.to_string();
        blocking(move || {
            let reader = ModelReader::open(&path, &name)?;
            let simulated = ModelReader::open(&temp.0, &name)?;
            let mut rows = reader.compare_with(&temp.0, &t.name, built, built)?;
            let counts = DiffCounts::of(&rows);
            rows.truncate(limit.unwrap_or(usize::MAX));
            let real_rows = reader.count_at(&t.name, built)?;
            let simulated_rows = simulated.count_at(&t.name, built)?;
            drop((reader, simulated));
            drop(temp);
            Ok(ModelWhatIf {
                excluded: excluded.into_iter().collect(),
                real_rows,
                simulated_rows,
                difference: ModelDiff {
                    model: name,
                    table: t.name.clone(),
                    columns: column_names(&t),
                    key_columns: key_names(&t),
                    from: built,
                    to: built,
                    counts,
                    rows,
                    built_to: built,
                },
            })
        })
        .await
    }
}

fn list_or_none(names: &[&str]) -> String {
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}
