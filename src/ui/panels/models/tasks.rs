//! Models' background work (engine calls and reads of the models' files),
//! answered as [`ModelsMessage`]s.

use std::path::PathBuf;

use tokio_util::sync::CancellationToken;

use super::explore::{
    DIFF_LIMIT, DiffView, ExploreMessage, HistoryView, SERIES_POINTS, SeriesView, WhatIfView,
    column_kinds, numeric_columns,
};
use super::{BuildDone, ModelSummary, ModelsMessage, ROW_LIMIT, RowsView, TableRows, cell_text};
use crate::engine::models::{ModelError, ModelReader, check_model, model_path};
use crate::ui::command::Message;
use crate::ui::panels::Ctx;

/// Events the build could not apply that the panel lists at most.
const ERROR_LIMIT: usize = 10_000;

/// Runs `work` off the runtime's threads (the models' files are SQLite).
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ModelError> + Send + 'static,
) -> Result<T, ModelError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ModelError::Crashed(e.to_string()))?
}

/// Reads the ledger's models and how far each is built.
pub fn list(ctx: &Ctx<'_>, data_dir: PathBuf) {
    let Some(engine) = ctx.engine.cloned() else {
        return;
    };
    let outbox = ctx.outbox.clone();
    ctx.spawn(async move {
        // Published state from the read store; a read store that does not
        // answer leaves it unknown (the top bar says why).
        let published = match engine.published_statuses().await {
            Ok(list) => list,
            Err(error) => {
                tracing::warn!(%error, "published models not read");
                Vec::new()
            }
        };
        let result = match engine.models().await {
            Ok(stored) => {
                blocking(move || {
                    Ok(stored
                        .into_iter()
                        .map(|m| {
                            let built = ModelReader::open(&model_path(&data_dir, &m.name), &m.name)
                                .ok()
                                .map(|r| (r.position(), r.error_count().unwrap_or(0)));
                            ModelSummary {
                                published: published.iter().find(|p| p.model == m.name).cloned(),
                                name: m.name,
                                version: m.version,
                                built: built.map(|b| b.0),
                                errors: built.map_or(0, |b| b.1),
                            }
                        })
                        .collect())
                })
                .await
            }
            Err(e) => Err(e),
        };
        outbox
            .send(Message::Models(ModelsMessage::List(result)))
            .await;
    });
}

/// Reads a model's text.
pub fn definition(ctx: &Ctx<'_>, name: String) {
    let Some(engine) = ctx.engine.cloned() else {
        return;
    };
    let outbox = ctx.outbox.clone();
    ctx.spawn(async move {
        let result = engine
            .model_definition(&name)
            .await
            .map(|m| (m.name, m.source));
        outbox
            .send(Message::Models(ModelsMessage::Definition(result)))
            .await;
    });
}

/// Checks a text (nothing runs).
pub fn check(ctx: &Ctx<'_>, source: String, taken: Vec<String>) {
    let outbox = ctx.outbox.clone();
    ctx.spawn(async move {
        let result =
            tokio::task::spawn_blocking(move || check_model(&source, &taken).map(|m| m.def.name))
                .await
                .unwrap_or_else(|e| {
                    Err(vec![crate::domain::model::DefinitionError {
                        line: 1,
                        col: 1,
                        message: format!("the check stopped: {e}"),
                    }])
                });
        outbox
            .send(Message::Models(ModelsMessage::Checked(result)))
            .await;
    });
}

/// Keeps a text in the ledger store.
pub fn save(ctx: &Ctx<'_>, source: String) {
    let Some(engine) = ctx.engine.cloned() else {
        return;
    };
    let outbox = ctx.outbox.clone();
    ctx.spawn(async move {
        let result = engine.add_model(&source).await.map(|m| m.def.name);
        outbox
            .send(Message::Models(ModelsMessage::Saved(result)))
            .await;
    });
}

/// Removes a model and its file.
pub fn remove(ctx: &Ctx<'_>, name: String, data_dir: PathBuf) {
    let Some(engine) = ctx.engine.cloned() else {
        return;
    };
    let outbox = ctx.outbox.clone();
    ctx.spawn(async move {
        let result = engine.remove_model(&name, &data_dir).await.map(|()| name);
        outbox
            .send(Message::Models(ModelsMessage::Removed(result)))
            .await;
    });
}

/// Publishes a model (building it on to the head first).
pub fn publish(ctx: &Ctx<'_>, name: String) {
    let Some(engine) = ctx.engine.cloned() else {
        return;
    };
    let outbox = ctx.outbox.clone();
    ctx.spawn(async move {
        let result = engine
            .publish_model(&name, &CancellationToken::new(), &mut |_| {})
            .await;
        outbox
            .send(Message::Models(ModelsMessage::Published(result)))
            .await;
    });
}

/// Drops a model's published tables.
pub fn unpublish(ctx: &Ctx<'_>, name: String) {
    let Some(engine) = ctx.engine.cloned() else {
        return;
    };
    let outbox = ctx.outbox.clone();
    ctx.spawn(async move {
        let result = match engine.unpublish_model(&name).await {
            Ok(true) => Ok(name),
            Ok(false) => Err(ModelError::Unknown(format!(
                "model {name} is not published"
            ))),
            Err(e) => Err(e),
        };
        outbox
            .send(Message::Models(ModelsMessage::Unpublished(result)))
            .await;
    });
}

/// Builds a model, sending progress after each batch.
pub fn build(ctx: &Ctx<'_>, name: String, data_dir: PathBuf, cancel: CancellationToken) {
    let Some(engine) = ctx.engine.cloned() else {
        return;
    };
    let outbox = ctx.outbox.clone();
    ctx.spawn(async move {
        let progress_box = outbox.clone();
        let mut progress = move |p: &crate::engine::models::BuildProgress| {
            progress_box.try_send(Message::Models(ModelsMessage::Progress(p.clone())));
        };
        let result = match engine
            .build_model(&name, &data_dir, &cancel, &mut progress)
            .await
        {
            Ok(report) => {
                let path = model_path(&data_dir, &name);
                blocking(move || {
                    let errors = ModelReader::open(&path, &name)?.errors(ERROR_LIMIT)?;
                    Ok(BuildDone { report, errors })
                })
                .await
            }
            Err(e) => Err(e),
        };
        outbox
            .send(Message::Models(ModelsMessage::Built(result)))
            .await;
    });
}

/// Reads a model's tables at `at` (the first [`ROW_LIMIT`] rows of each).
pub fn rows(ctx: &Ctx<'_>, request: u64, name: String, at: u64, data_dir: PathBuf) {
    let outbox = ctx.outbox.clone();
    ctx.spawn(async move {
        let result = blocking(move || {
            let reader = ModelReader::open(&model_path(&data_dir, &name), &name)?;
            let at = at.min(reader.position());
            let mut tables = Vec::new();
            for t in &reader.def().tables {
                let rows = reader
                    .rows_at(&t.name, at, Some(ROW_LIMIT))?
                    .iter()
                    .map(|row| row.iter().map(cell_text).collect())
                    .collect();
                tables.push(TableRows {
                    name: t.name.clone(),
                    columns: t.columns.iter().map(|c| c.name.clone()).collect(),
                    kinds: column_kinds(t),
                    key: t.key.clone(),
                    numeric: numeric_columns(t),
                    rows,
                    total: reader.count_at(&t.name, at)?,
                });
            }
            Ok(RowsView {
                model: name,
                at,
                built: reader.position(),
                digest: reader.digest_at(at)?,
                tables,
            })
        })
        .await;
        outbox
            .send(Message::Models(ModelsMessage::Rows { request, result }))
            .await;
    });
}

/// The description of table `table` of the built model `name`.
async fn table_def(
    data_dir: PathBuf,
    name: String,
    table: String,
) -> Result<crate::domain::model::TableDef, ModelError> {
    blocking(move || {
        let reader = ModelReader::open(&model_path(&data_dir, &name), &name)?;
        Ok(reader.table(&table)?.clone())
    })
    .await
}

async fn send_explore(outbox: &crate::ui::outbox::Outbox, message: ExploreMessage) {
    outbox
        .send(Message::Models(ModelsMessage::Explore(message)))
        .await;
}

/// Reads the difference of a model's table between two positions.
pub fn diff(
    ctx: &Ctx<'_>,
    request: u64,
    (name, table): (String, Option<String>),
    (from, to): (u64, u64),
    data_dir: PathBuf,
) {
    let Some(engine) = ctx.engine.cloned() else {
        return;
    };
    let outbox = ctx.outbox.clone();
    ctx.spawn(async move {
        let result = async {
            let diff = engine
                .model_diff(
                    &name,
                    &data_dir,
                    table.as_deref(),
                    from,
                    Some(to),
                    Some(DIFF_LIMIT),
                )
                .await?;
            let t = table_def(data_dir, name, diff.table.clone()).await?;
            blocking(move || Ok(DiffView::of(diff, &t))).await
        }
        .await;
        send_explore(&outbox, ExploreMessage::Diff { request, result }).await;
    });
}

/// Reads every version of one row of a model, with the events that made them.
pub fn row_history(
    ctx: &Ctx<'_>,
    name: String,
    table: String,
    key: Vec<String>,
    data_dir: PathBuf,
) {
    let Some(engine) = ctx.engine.cloned() else {
        return;
    };
    let outbox = ctx.outbox.clone();
    ctx.spawn(async move {
        let result = async {
            let history = engine
                .model_row_history(&name, &data_dir, Some(&table), &key)
                .await?;
            let t = table_def(data_dir, name, table).await?;
            Ok(HistoryView::of(history, &t))
        }
        .await;
        send_explore(&outbox, ExploreMessage::History(result)).await;
    });
}

/// Reads a numeric column's sums over positions.
pub fn series(
    ctx: &Ctx<'_>,
    request: u64,
    (name, table): (String, Option<String>),
    column: String,
    data_dir: PathBuf,
) {
    let Some(engine) = ctx.engine.cloned() else {
        return;
    };
    let outbox = ctx.outbox.clone();
    ctx.spawn(async move {
        let result = engine
            .model_series(&name, &data_dir, table.as_deref(), &column, SERIES_POINTS)
            .await
            .map(SeriesView::from);
        send_explore(&outbox, ExploreMessage::Series { request, result }).await;
    });
}

/// Builds a model again without `exclude` and compares it with the built one.
pub fn what_if(
    ctx: &Ctx<'_>,
    (name, table): (String, Option<String>),
    exclude: Vec<u64>,
    data_dir: PathBuf,
    cancel: CancellationToken,
) {
    let Some(engine) = ctx.engine.cloned() else {
        return;
    };
    let outbox = ctx.outbox.clone();
    ctx.spawn(async move {
        let progress_box = outbox.clone();
        let mut progress = move |p: &crate::engine::models::BuildProgress| {
            progress_box.try_send(Message::Models(ModelsMessage::Explore(
                ExploreMessage::Progress(p.clone()),
            )));
        };
        let result = async {
            let what_if = engine
                .model_what_if(
                    &name,
                    &data_dir,
                    table.as_deref(),
                    &exclude,
                    Some(DIFF_LIMIT),
                    &cancel,
                    &mut progress,
                )
                .await?;
            let t = table_def(data_dir, name, what_if.difference.table.clone()).await?;
            blocking(move || Ok(WhatIfView::of(what_if, &t))).await
        }
        .await;
        send_explore(&outbox, ExploreMessage::WhatIf(result)).await;
    });
}
