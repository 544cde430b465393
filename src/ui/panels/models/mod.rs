//! Models: read models users write as SQL text. The ledger's models on the
//! left; the definition's editor, Check, Save, Remove, Build (with
//! progress and Cancel), Publish and Unpublish (tables in the read store)
//! and the rows at a position on the right.

pub mod explore;
mod explore_ui;
mod tasks;
mod ui;

use std::path::PathBuf;

use tokio_util::sync::CancellationToken;

use crate::domain::model::DefinitionError;
use crate::domain::model::Value;
use crate::engine::models::query::ApplyError;
use crate::engine::models::{
    BuildProgress, BuildReport, ModelError, PublishReport, PublishedStatus,
};
use crate::ui::widgets::table::line::ColumnKind;
use explore::{Explore, ExploreCommand, ExploreMessage};

pub use ui::models_ui;

/// The example definitions shipped in `examples/models/`: file name, text.
pub const EXAMPLES: [(&str, &str); 5] = [
    (
        "users.sql",
        include_str!("../../../../examples/models/users.sql"),
    ),
    (
        "bookings.sql",
        include_str!("../../../../examples/models/bookings.sql"),
    ),
    (
        "revenue_by_service_month.sql",
        include_str!("../../../../examples/models/revenue_by_service_month.sql"),
    ),
    (
        "repeat_cancellers.sql",
        include_str!("../../../../examples/models/repeat_cancellers.sql"),
    ),
    (
        "bookings_by_city.sql",
        include_str!("../../../../examples/models/bookings_by_city.sql"),
    ),
];

/// Rows read per table at most.
pub const ROW_LIMIT: usize = 1_000;

/// One model of the ledger, as listed.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelSummary {
    /// Its name.
    pub name: String,
    /// Its version.
    pub version: u32,
    /// The last position built (`None`: not built).
    pub built: Option<u64>,
    /// Events the build could not apply.
    pub errors: u64,
    /// Where its published tables stand (`None`: not published).
    pub published: Option<PublishedStatus>,
}

/// One table of a model at a position.
#[derive(Clone, Debug, PartialEq)]
pub struct TableRows {
    /// Its name.
    pub name: String,
    /// Its columns.
    pub columns: Vec<String>,
    /// How each is drawn (the key's columns open the row's history).
    pub kinds: Vec<ColumnKind>,
    /// The indexes of its key's columns.
    pub key: Vec<usize>,
    /// Its numeric columns (Over time plots them).
    pub numeric: Vec<String>,
    /// The first rows, as text.
    pub rows: Vec<Vec<String>>,
    /// How many rows it has at the position.
    pub total: u64,
}

/// A model's tables at a position.
#[derive(Clone, Debug, PartialEq)]
pub struct RowsView {
    /// The model.
    pub model: String,
    /// The position.
    pub at: u64,
    /// The last position the model is built to.
    pub built: u64,
    /// Its tables.
    pub tables: Vec<TableRows>,
    /// Digest of every table at the position.
    pub digest: String,
}

/// A finished build and what it could not apply.
#[derive(Clone, Debug, PartialEq)]
pub struct BuildDone {
    /// The build.
    pub report: BuildReport,
    /// The events it could not apply (the first ones).
    pub errors: Vec<ApplyError>,
}

/// What the panel asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum ModelsCommand {
    /// Read the ledger's models again.
    Reload,
    /// An empty editor.
    New,
    /// Put the example at this index of [`EXAMPLES`] in the editor.
    LoadExample(usize),
    /// The editor's text changed.
    SetSource(String),
    /// Open a model of the ledger (its text and rows).
    Select(String),
    /// Check the editor's text.
    Check,
    /// Keep the editor's text in the ledger store.
    Save,
    /// Ask before removing this model.
    AskRemove(String),
    /// The answer to the question (`true`: remove).
    ConfirmRemove(bool),
    /// Build the selected model.
    Build,
    /// Stop the build.
    Cancel,
    /// The position field changed.
    SetAt(String),
    /// Read the selected model's rows at the position.
    ShowRows,
    /// Publish the selected model as tables of the read store.
    Publish,
    /// Drop the published tables of this model (after the app's confirmation).
    Unpublish(String),
    /// For the explore section (difference, row history, over time, what if).
    Explore(ExploreCommand),
}

/// What comes back for the panel.
pub enum ModelsMessage {
    /// The ledger's models.
    List(Result<Vec<ModelSummary>, ModelError>),
    /// A model's text.
    Definition(Result<(String, String), ModelError>),
    /// The check of the editor's text.
    Checked(Result<String, Vec<DefinitionError>>),
    /// Saved (the model's name).
    Saved(Result<String, ModelError>),
    /// Removed (the model's name).
    Removed(Result<String, ModelError>),
    /// A build advanced.
    Progress(BuildProgress),
    /// Publishing ended.
    Published(Result<PublishReport, ModelError>),
    /// Unpublishing ended (the model's name).
    Unpublished(Result<String, ModelError>),
    /// A build ended.
    Built(Result<BuildDone, ModelError>),
    /// Rows, for the request numbered `request`.
    Rows {
        /// Which request it answers.
        request: u64,
        /// The rows or why not.
        result: Result<RowsView, ModelError>,
    },
    /// For the explore section.
    Explore(ExploreMessage),
}

/// A build under way.
#[derive(Debug)]
pub struct Building {
    /// The model.
    pub model: String,
    /// The last progress.
    pub progress: Option<BuildProgress>,
    /// Stops it.
    pub cancel: CancellationToken,
}

/// The panel's state.
#[derive(Debug, Default)]
pub struct ModelsPanel {
    /// The ledger's models (`None`: not read yet).
    pub models: Option<Vec<ModelSummary>>,
    /// The selected model.
    pub selected: Option<String>,
    /// The editor's text.
    pub source: String,
    /// Mistakes of the last check (empty: none or not checked).
    pub mistakes: Vec<DefinitionError>,
    /// The last check passed (the model's name).
    pub checked: Option<String>,
    /// A sentence on the last action.
    pub info: Option<String>,
    /// The last error.
    pub error: Option<String>,
    /// A removal waiting for confirmation.
    pub confirm_remove: Option<String>,
    /// A build under way.
    pub building: Option<Building>,
    /// The last finished build.
    pub built: Option<BuildDone>,
    /// The model being published or unpublished.
    pub publishing: Option<String>,
    /// The position typed (empty: the head).
    pub at: String,
    /// The rows shown.
    pub rows: Option<RowsView>,
    /// Where the models' files are.
    pub data_dir: PathBuf,
    /// Difference, row history, over time and what if of the built model.
    pub explore: Explore,
    requests: u64,
    asked: bool,
}

impl ModelsPanel {
    /// Reads the list once when the panel is first shown.
    pub fn request_data(&mut self, ctx: &mut super::Ctx<'_>) -> bool {
        if !self.asked {
            self.asked = true;
            tasks::list(ctx, self.data_dir.clone());
        }
        false
    }

    /// Runs a command of the panel.
    pub fn handle(&mut self, command: ModelsCommand, ctx: &mut super::Ctx<'_>) {
        match command {
            ModelsCommand::Reload => tasks::list(ctx, self.data_dir.clone()),
            ModelsCommand::New => {
                self.selected = None;
                self.source.clear();
                self.clear_feedback();
            }
            ModelsCommand::LoadExample(i) => {
                if let Some((_, text)) = EXAMPLES.get(i) {
                    self.selected = None;
                    self.source = (*text).to_string();
                    self.clear_feedback();
                }
            }
            ModelsCommand::SetSource(text) => {
                self.source = text;
                self.checked = None;
            }
            ModelsCommand::Select(name) => {
                self.clear_feedback();
                self.selected = Some(name.clone());
                self.rows = None;
                if let Some(s) = &self.explore.simulating {
                    s.cancel.cancel();
                }
                self.explore = Explore::default();
                tasks::definition(ctx, name);
                self.show_rows(ctx);
            }
            ModelsCommand::Check => {
                self.clear_feedback();
                tasks::check(ctx, self.source.clone(), self.taken());
            }
            ModelsCommand::Save => {
                self.clear_feedback();
                if let Some(why) = ctx.shell.write_block_reason() {
                    self.error = Some(why);
                    return;
                }
                tasks::save(ctx, self.source.clone());
            }
            ModelsCommand::AskRemove(name) => self.confirm_remove = Some(name),
            ModelsCommand::ConfirmRemove(yes) => {
                if let Some(name) = self.confirm_remove.take()
                    && yes
                {
                    tasks::remove(ctx, name, self.data_dir.clone());
                }
            }
            ModelsCommand::Build => {
                let Some(name) = self.selected.clone() else {
                    self.error = Some("select a saved model to build".into());
                    return;
                };
                if self.building.is_some() || ctx.engine.is_none() {
                    return;
                }
                self.error = None;
                self.built = None;
                let cancel = CancellationToken::new();
                tasks::build(ctx, name.clone(), self.data_dir.clone(), cancel.clone());
                self.building = Some(Building {
                    model: name,
                    progress: None,
                    cancel,
                });
            }
            ModelsCommand::Cancel => {
                if let Some(b) = &self.building {
                    b.cancel.cancel();
                }
            }
            ModelsCommand::Publish => {
                let Some(name) = self.selected.clone() else {
                    self.error = Some("select a saved model to publish".into());
                    return;
                };
                if self.publishing.is_some() || ctx.engine.is_none() {
                    return;
                }
                if let Some(why) = ctx.shell.write_block_reason() {
                    self.error = Some(why);
                    return;
                }
                self.clear_feedback();
                tasks::publish(ctx, name.clone());
                self.publishing = Some(name);
            }
            ModelsCommand::Unpublish(name) => {
                if self.publishing.is_some() || ctx.engine.is_none() {
                    return;
                }
                self.clear_feedback();
                tasks::unpublish(ctx, name.clone());
                self.publishing = Some(name);
            }
            ModelsCommand::SetAt(text) => self.at = text,
            ModelsCommand::ShowRows => self.show_rows(ctx),
            ModelsCommand::Explore(command) => self.explore(command, ctx),
        }
    }

    /// The names a checked text may not take: every kept model's but the
    /// one shown (checking a kept model's own text names no clash).
    fn taken(&self) -> Vec<String> {
        self.models
            .iter()
            .flatten()
            .filter(|m| self.selected.as_deref() != Some(m.name.as_str()))
            .map(|m| m.name.clone())
            .collect()
    }

    fn clear_feedback(&mut self) {
        self.mistakes.clear();
        self.checked = None;
        self.info = None;
        self.error = None;
    }

    fn show_rows(&mut self, ctx: &mut super::Ctx<'_>) {
        let Some(name) = self.selected.clone() else {
            return;
        };
        let at = match self.at.trim() {
            "" => ctx.shell.head,
            text => match text.parse::<u64>() {
                Ok(at) => at,
                Err(_) => {
                    self.error = Some(format!("a position is a whole number, not '{text}'"));
                    return;
                }
            },
        };
        self.requests += 1;
        tasks::rows(ctx, self.requests, name, at, self.data_dir.clone());
    }

    /// The stores changed.
    pub fn on_disconnect(&mut self) {
        if let Some(b) = &self.building {
            b.cancel.cancel();
        }
        if let Some(s) = &self.explore.simulating {
            s.cancel.cancel();
        }
        *self = ModelsPanel {
            source: std::mem::take(&mut self.source),
            data_dir: std::mem::take(&mut self.data_dir),
            ..ModelsPanel::default()
        };
    }

    /// A message for the panel arrived; true when the list should be read again.
    pub fn apply(&mut self, message: ModelsMessage) -> bool {
        match message {
            ModelsMessage::List(Ok(models)) => self.models = Some(models),
            ModelsMessage::List(Err(e)) => self.error = Some(e.to_string()),
            ModelsMessage::Definition(Ok((name, text))) => {
                if self.selected.as_deref() == Some(name.as_str()) {
                    self.source = text;
                }
            }
            ModelsMessage::Definition(Err(e)) => self.error = Some(e.to_string()),
            ModelsMessage::Checked(Ok(name)) => {
                self.info = Some(format!("No mistakes: model {name}"));
                self.checked = Some(name);
            }
            ModelsMessage::Checked(Err(mistakes)) => self.mistakes = mistakes,
            ModelsMessage::Saved(Ok(name)) => {
                self.info = Some(format!("Saved model {name}"));
                self.selected = Some(name);
                return true;
            }
            ModelsMessage::Saved(Err(ModelError::Definition(mistakes))) => {
                self.mistakes = mistakes;
            }
            ModelsMessage::Saved(Err(e)) | ModelsMessage::Removed(Err(e)) => {
                self.error = Some(e.to_string());
            }
            ModelsMessage::Removed(Ok(name)) => {
                self.info = Some(format!("Removed model {name}"));
                if self.selected.as_deref() == Some(name.as_str()) {
                    self.selected = None;
                    self.rows = None;
                }
                return true;
            }
            ModelsMessage::Published(result) => {
                self.publishing = None;
                match result {
                    Ok(r) => {
                        self.info = Some(format!(
                            "Published {} as {} ({} rows at position {})",
                            r.model,
                            r.tables.join(", "),
                            r.rows,
                            r.position
                        ));
                    }
                    Err(e) => self.error = Some(e.to_string()),
                }
                return true;
            }
            ModelsMessage::Unpublished(result) => {
                self.publishing = None;
                match result {
                    Ok(name) => self.info = Some(format!("Unpublished {name}")),
                    Err(e) => self.error = Some(e.to_string()),
                }
                return true;
            }
            ModelsMessage::Progress(p) => {
                if let Some(b) = &mut self.building {
                    b.progress = Some(p);
                }
            }
            ModelsMessage::Built(result) => {
                self.building = None;
                match result {
                    Ok(done) => self.built = Some(done),
                    Err(e) => self.error = Some(e.to_string()),
                }
                return true;
            }
            ModelsMessage::Rows { request, result } => {
                if request != self.requests {
                    return false;
                }
                match result {
                    Ok(view) => self.rows = Some(view),
                    Err(ModelError::NotBuilt(_)) => self.rows = None,
                    Err(e) => self.error = Some(e.to_string()),
                }
            }
            ModelsMessage::Explore(message) => self.explored(message),
        }
        false
    }

    /// The selected model's published state, if it is published.
    pub fn selected_published(&self) -> Option<&PublishedStatus> {
        let name = self.selected.as_deref()?;
        self.models
            .iter()
            .flatten()
            .find(|m| m.name == name)
            .and_then(|m| m.published.as_ref())
    }

    /// The selected model's rows again (after a build).
    pub fn refresh_rows(&mut self, ctx: &mut super::Ctx<'_>) {
        self.show_rows(ctx);
    }
}

/// A cell as text.
pub fn cell_text(value: &Value) -> String {
    crate::engine::models::query::cell_text(value)
}
