//! Published models: a model's rows as real tables in the read store
//! (`model_<name>_<table>`), kept by their own projector. The model's SQL
//! stays SQLite's and is folded by the model engine into its file; the
//! publisher then writes the rows that changed since the published
//! checkpoint (read from the file's row history) into the read store, with
//! the new checkpoint, in one transaction. The read store records each
//! published model's checkpoint, ledger and digest; one of another ledger
//! or definition is refused (nothing written) and rebuilt by a replay.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::{BuildProgress, CheckedModel, ModelError, ModelReader, check_model, model_path};
use crate::engine::{Engine, EngineError};
use crate::store::published::MAX_TABLE_NAME;
use crate::store::published::RowPage;
use crate::store::{PublishedChange, PublishedModel, published_table_name};

/// What publishing a model (or rebuilding it) did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PublishReport {
    /// The model.
    pub model: String,
    /// Its tables in the read store.
    pub tables: Vec<String>,
    /// The position its rows reflect.
    pub position: u64,
    /// Rows written.
    pub rows: u64,
}

/// Where a published model stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PublishedStatus {
    /// The model.
    pub model: String,
    /// Its tables in the read store.
    pub tables: Vec<String>,
    /// The position its tables reflect.
    pub checkpoint: u64,
    /// The ledger's head.
    pub head: u64,
    /// `head - checkpoint`.
    pub lag_events: u64,
    /// Why nothing is written into its tables until a replay rebuilds
    /// them (another ledger, another definition, a definition removed).
    pub refused: Option<String>,
    /// The publisher's last error here, while it lasts.
    pub last_error: Option<String>,
}

fn engine_error(e: EngineError) -> ModelError {
    match e {
        EngineError::Store(s) => ModelError::Store(s),
        other => ModelError::Refused(other.to_string()),
    }
}

impl Engine {
    /// The folder of the models' files (the data dir), for publishing.
    fn publish_dir(&self) -> Result<PathBuf, ModelError> {
        self.config.models_dir.clone().ok_or_else(|| {
            ModelError::Refused("publishing needs a data dir for the models' files".into())
        })
    }

    /// One build of a model's file at a time in this process (a build of
    /// the window, the CLI or the publisher).
    pub(crate) async fn model_lock(&self, name: &str) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = crate::engine::sync::lock(&self.model_locks, "model locks")
            .entry(name.to_string())
            .or_default()
            .clone();
        lock.lock_owned().await
    }

    /// Builds the model's file on to the ledger's head.
    async fn build_to_head(
        &self,
        model: &CheckedModel,
        dir: &Path,
        cancel: &CancellationToken,
        progress: &mut (dyn FnMut(&BuildProgress) + Send),
    ) -> Result<u64, ModelError> {
        let report = super::build_model(
            self.stores().ledger.as_ref(),
            model,
            &model_path(dir, &model.def.name),
            &BTreeSet::new(),
            cancel,
            progress,
        )
        .await?;
        if report.end == super::BuildEnd::Cancelled {
            return Err(ModelError::Cancelled);
        }
        Ok(report.position)
    }

    /// Publishes the model named `name` (or publishes it again): builds its
    /// file on to the head, then writes its rows into fresh tables of the
    /// read store with its checkpoint, ledger and digest.
    pub async fn publish_model(
        &self,
        name: &str,
        cancel: &CancellationToken,
        progress: &mut (dyn FnMut(&BuildProgress) + Send),
    ) -> Result<PublishReport, ModelError> {
        self.guard_write("publishing a model")
            .map_err(|e| ModelError::Refused(e.to_string()))?;
        let dir = self.publish_dir()?;
        let ledger = self.paired_ledger().await.map_err(engine_error)?;
        let stored = self.model_definition(name).await?;
        let model = check_model(&stored.source, &[]).map_err(ModelError::Definition)?;
        let others = self.stores().read.published().await?;
        for table in &model.def.tables {
            let full = published_table_name(name, &table.name);
            if full.len() > MAX_TABLE_NAME {
                return Err(ModelError::Refused(format!(
                    "the table name {full} is longer than {MAX_TABLE_NAME} bytes; name the model or the table shorter"
                )));
            }
            if let Some(other) = others
                .iter()
                .find(|o| o.name != name && o.table_names().contains(&full))
            {
                return Err(ModelError::Refused(format!(
                    "model {} is published with a table named {full} already",
                    other.name
                )));
            }
        }
        self.republish(&model, ledger, &dir, cancel, progress).await
    }

    /// Builds `model` on to the head and replaces its published tables.
    async fn republish(
        &self,
        model: &CheckedModel,
        ledger: uuid::Uuid,
        dir: &Path,
        cancel: &CancellationToken,
        progress: &mut (dyn FnMut(&BuildProgress) + Send),
    ) -> Result<PublishReport, ModelError> {
        let name = model.def.name.clone();
        let _built = self.model_lock(&name).await;
        let position = self.build_to_head(model, dir, cancel, progress).await?;
        let record = PublishedModel {
            name: name.clone(),
            digest: model.digest.clone(),
            ledger_id: ledger,
            position,
            def: model.def.clone(),
        };
        // The model's file is read a page at a time on a blocking thread
        // while the read store writes the pages before: memory holds a few
        // pages, not the model.
        let (pages, received) = tokio::sync::mpsc::channel(PUBLISH_PAGES_AHEAD);
        let reading = {
            let (path, name, tables) = (
                model_path(dir, &name),
                name.clone(),
                model.def.tables.clone(),
            );
            blocking(move || send_pages(&path, &name, &tables, position, &pages))
        };
        let (written, read) = tokio::join!(
            self.stores().read.publish_replace(&record, received),
            reading
        );
        // The reader's failure says why the pages stopped.
        read?;
        let rows = written?;
        self.forget_publish_error(&name);
        let report = PublishReport {
            model: name,
            tables: record.table_names(),
            position,
            rows,
        };
        tracing::info!(
            model = %report.model,
            read = %self.read_info(),
            position,
            rows = report.rows,
            "published a model"
        );
        Ok(report)
    }

    /// Drops the published tables of the model named `name`; false when it
    /// was not published.
    pub async fn unpublish_model(&self, name: &str) -> Result<bool, ModelError> {
        self.guard_write("unpublishing a model")
            .map_err(|e| ModelError::Refused(e.to_string()))?;
        let dropped = self.stores().read.unpublish(name).await?;
        self.forget_publish_error(name);
        if dropped {
            tracing::info!(model = name, read = %self.read_info(), "unpublished a model");
        }
        Ok(dropped)
    }

    /// Why the published `record` is not written into by this engine
    /// (`None`: it is), and the checked definition it is kept with.
    async fn published_verdict(
        &self,
        record: &PublishedModel,
        ledger: Option<uuid::Uuid>,
    ) -> Result<(Option<String>, Option<CheckedModel>), ModelError> {
        let Some(stored) = self.stores().models.model(&record.name).await? else {
            return Ok((
                Some("its definition was removed from the ledger store; unpublish it".into()),
                None,
            ));
        };
        let model = check_model(&stored.source, &[]).map_err(ModelError::Definition)?;
        let why = if ledger.is_some_and(|l| l != record.ledger_id) {
            Some(format!(
                "its tables were built from ledger {}; a replay rebuilds them",
                record.ledger_id
            ))
        } else if model.digest != record.digest || model.def != record.def {
            Some("its tables were built from another definition of the model; a replay rebuilds them".into())
        } else {
            None
        };
        Ok((why, Some(model)))
    }

    /// Each published model: its checkpoint, lag, and why it is refused.
    pub async fn published_statuses(&self) -> Result<Vec<PublishedStatus>, ModelError> {
        let records = self.stores().read.published().await?;
        let head = self.stores().ledger.head().await?;
        let ledger = self
            .ledger_identity()
            .await
            .map_err(engine_error)?
            .map(|i| i.id);
        let errors = crate::engine::sync::lock(&self.publish_errors, "publish errors").clone();
        let mut out = Vec::new();
        for record in records {
            let (refused, _) = self.published_verdict(&record, ledger).await?;
            out.push(PublishedStatus {
                tables: record.table_names(),
                checkpoint: record.position,
                head,
                lag_events: head.saturating_sub(record.position),
                refused,
                last_error: errors.get(&record.name).cloned(),
                model: record.name,
            });
        }
        Ok(out)
    }

    /// Brings every published model up to the head: builds its file on,
    /// then writes the rows that changed since its checkpoint. A model
    /// refused or failing is reported and the others go on; the answer is
    /// each model with the position reached or why not.
    pub async fn catch_up_published(
        &self,
    ) -> Result<Vec<(String, Result<u64, ModelError>)>, ModelError> {
        if self.observe_only() {
            return Ok(Vec::new());
        }
        let records = self.stores().read.published().await?;
        if records.is_empty() {
            return Ok(Vec::new());
        }
        let dir = self.publish_dir()?;
        let ledger = self.paired_ledger().await.map_err(engine_error)?;
        let mut out = Vec::new();
        for record in records {
            let name = record.name.clone();
            let result = self.catch_up_one(record, ledger, &dir).await;
            match &result {
                Ok(_) => self.forget_publish_error(&name),
                Err(e) => {
                    crate::engine::sync::lock(&self.publish_errors, "publish errors")
                        .insert(name.clone(), e.to_string());
                }
            }
            out.push((name, result));
        }
        Ok(out)
    }

    async fn catch_up_one(
        &self,
        record: PublishedModel,
        ledger: uuid::Uuid,
        dir: &Path,
    ) -> Result<u64, ModelError> {
        let (refused, model) = self.published_verdict(&record, Some(ledger)).await?;
        let (None, Some(model)) = (refused.clone(), model) else {
            return Err(ModelError::Refused(format!(
                "published model {} in {} is not written into: {}",
                record.name,
                self.read_info(),
                refused.unwrap_or_default()
            )));
        };
        let _built = self.model_lock(&record.name).await;
        let position = self
            .build_to_head(&model, dir, &CancellationToken::new(), &mut |_| {})
            .await?;
        if position <= record.position {
            return Ok(record.position);
        }
        let from = record.position;
        let path = model_path(dir, &record.name);
        let changes = {
            let (name, tables) = (record.name.clone(), record.def.tables.clone());
            blocking(move || changes_between(&path, &name, &tables, from, position)).await?
        };
        let moved = PublishedModel { position, ..record };
        if self
            .stores()
            .read
            .publish_apply(&moved, from, &changes)
            .await?
        {
            tracing::debug!(model = %moved.name, from, to = position, rows = changes.len(), "published model caught up");
            Ok(position)
        } else {
            // Another instance moved it meanwhile: the next round goes on from there.
            Ok(from)
        }
    }

    /// Rebuilds every published model whose definition is still in the
    /// ledger store (a replay's last step); one without is left as it is
    /// and named in `status`.
    pub(crate) async fn rebuild_published(&self) -> Result<Vec<PublishReport>, ModelError> {
        let records = self.stores().read.published().await?;
        if records.is_empty() {
            return Ok(Vec::new());
        }
        let dir = self.publish_dir()?;
        let ledger = self.ledger_id().await.map_err(engine_error)?;
        let mut out = Vec::new();
        for record in records {
            let Some(stored) = self.stores().models.model(&record.name).await? else {
                tracing::warn!(model = %record.name, "published model not rebuilt: its definition was removed");
                continue;
            };
            let model = check_model(&stored.source, &[]).map_err(ModelError::Definition)?;
            out.push(
                self.republish(&model, ledger, &dir, &CancellationToken::new(), &mut |_| {})
                    .await?,
            );
        }
        Ok(out)
    }

    fn forget_publish_error(&self, name: &str) {
        crate::engine::sync::lock(&self.publish_errors, "publish errors").remove(name);
    }

    /// The publisher: catches published models up after appends, on a wake
    /// (an outage switched off) and every few seconds, backing off while it
    /// fails. Runs until `shutdown`.
    pub(crate) async fn run_publisher(self: Arc<Self>, shutdown: CancellationToken) {
        let mut events = self.bus.subscribe();
        let mut wake = self.projector_wake.subscribe();
        let mut backoff = Duration::from_millis(100);
        loop {
            let failing = match self.catch_up_published().await {
                Ok(results) => results.iter().any(|(_, r)| r.is_err()),
                Err(error) => {
                    tracing::debug!(%error, "published models not caught up");
                    true
                }
            };
            let wait = if failing {
                let wait = backoff;
                backoff = (backoff * 2).min(Duration::from_secs(5));
                wait
            } else {
                backoff = Duration::from_millis(100);
                Duration::from_secs(2)
            };
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(wait) => {}
                Ok(()) = wake.changed() => backoff = Duration::from_millis(100),
                received = events.recv() => {
                    if received.is_ok() && failing {
                        tokio::time::sleep(backoff.min(Duration::from_millis(500))).await;
                    }
                }
            }
        }
    }
}

/// The rows of each of `tables` that differ between `from` and `to` in the
/// model's file: upserts of their cells at `to`, deletes of their keys.
fn changes_between(
    path: &Path,
    name: &str,
    tables: &[crate::domain::model::TableDef],
    from: u64,
    to: u64,
) -> Result<Vec<PublishedChange>, ModelError> {
    let reader = ModelReader::open(path, name)?;
    let mut out = Vec::new();
    for (index, table) in tables.iter().enumerate() {
        for change in reader.diff(&table.name, from, to)? {
            out.push(PublishedChange {
                table: index,
                key: change.key,
                row: change.after,
            });
        }
    }
    Ok(out)
}

/// Rows per page sent to the read store when a model is published.
const PUBLISH_PAGE_ROWS: usize = 5_000;

/// Pages read ahead of the read store's writes.
const PUBLISH_PAGES_AHEAD: usize = 2;

/// Sends the rows of `tables` at `position` from the model file at `path`
/// as pages, then [`RowPage::End`]; stops early (without it) when the read
/// store stopped listening.
fn send_pages(
    path: &Path,
    name: &str,
    tables: &[crate::domain::model::TableDef],
    position: u64,
    pages: &tokio::sync::mpsc::Sender<RowPage>,
) -> Result<(), ModelError> {
    let reader = ModelReader::open(path, name)?;
    let mut listening = true;
    for (index, table) in tables.iter().enumerate() {
        let mut page = Vec::with_capacity(PUBLISH_PAGE_ROWS);
        reader.for_each_row_at(&table.name, position, |row| {
            if !listening {
                return;
            }
            page.push(row);
            if page.len() == PUBLISH_PAGE_ROWS {
                let rows = std::mem::replace(&mut page, Vec::with_capacity(PUBLISH_PAGE_ROWS));
                listening = pages
                    .blocking_send(RowPage::Rows { table: index, rows })
                    .is_ok();
            }
        })?;
        if !listening {
            return Ok(());
        }
        if !page.is_empty()
            && pages
                .blocking_send(RowPage::Rows {
                    table: index,
                    rows: page,
                })
                .is_err()
        {
            return Ok(());
        }
    }
    // A store that stopped listening has its own error to tell.
    let _listening = pages.blocking_send(RowPage::End);
    Ok(())
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ModelError> + Send + 'static,
) -> Result<T, ModelError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ModelError::Crashed(e.to_string()))?
}
