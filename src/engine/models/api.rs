//! The engine's door to the models users write: their definitions in the
//! ledger store, and builds from its ledger. The models' files are in a
//! folder the caller names (`models/` in the data dir).

use std::path::Path;

use chrono::Utc;
use tokio_util::sync::CancellationToken;

use super::build::remove_model_file;
use super::{
    BuildProgress, BuildReport, CheckedModel, ModelError, build_model, check_model, model_path,
};
use crate::domain::model::DefinitionError;
use crate::engine::Engine;
use crate::store::StoredModel;

impl Engine {
    /// The ledger's models, by name.
    pub async fn models(&self) -> Result<Vec<StoredModel>, ModelError> {
        Ok(self.stores().models.models().await?)
    }

    /// The definition of the model named `name`.
    pub async fn model_definition(&self, name: &str) -> Result<StoredModel, ModelError> {
        self.stores()
            .models
            .model(name)
            .await?
            .ok_or_else(|| ModelError::Unknown(format!("there is no model named {name}")))
    }

    /// Checks `source` (against the ledger's models too: a name is taken
    /// once) and keeps it in the ledger store.
    pub async fn add_model(&self, source: &str) -> Result<CheckedModel, ModelError> {
        self.guard_write("adding a model")
            .map_err(|e| ModelError::Refused(e.to_string()))?;
        let taken: Vec<String> = self.models().await?.into_iter().map(|m| m.name).collect();
        let model = check_model(source, &taken).map_err(ModelError::Definition)?;
        let stored = StoredModel {
            name: model.def.name.clone(),
            version: model.def.version,
            source: source.to_string(),
            added_at: Utc::now(),
        };
        if !self.stores().models.add_model(&stored).await? {
            return Err(ModelError::Definition(vec![DefinitionError {
                line: model.text.name_line,
                col: 1,
                message: format!("a model named {} was added meanwhile", stored.name),
            }]));
        }
        Ok(model)
    }

    /// Removes the model named `name`: its published tables, its
    /// definition and its file in `data_dir`.
    pub async fn remove_model(&self, name: &str, data_dir: &Path) -> Result<(), ModelError> {
        self.guard_write("removing a model")
            .map_err(|e| ModelError::Refused(e.to_string()))?;
        // Its published tables go first (they would be refused without it).
        self.unpublish_model(name).await?;
        if !self.stores().models.remove_model(name).await? {
            return Err(ModelError::Unknown(format!(
                "there is no model named {name}"
            )));
        }
        remove_model_file(&model_path(data_dir, name))
    }

    /// Builds the model named `name` into its file in `data_dir` (going on
    /// from where a stopped build ended). Only the model's file is written.
    pub async fn build_model(
        &self,
        name: &str,
        data_dir: &Path,
        cancel: &CancellationToken,
        progress: &mut (dyn FnMut(&BuildProgress) + Send),
    ) -> Result<BuildReport, ModelError> {
        let stored = self.model_definition(name).await?;
        let model = check_model(&stored.source, &[]).map_err(ModelError::Definition)?;
        let path = model_path(data_dir, name);
        let _built = self.model_lock(name).await;
        build_model(
            self.stores().ledger.as_ref(),
            &model,
            &path,
            &Default::default(),
            cancel,
            progress,
        )
        .await
    }
}
