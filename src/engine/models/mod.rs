//! Read models users define: a model's text is checked ([`check`]), the
//! whole ledger is folded into its own SQLite file in the data dir
//! (`models/<name>.sqlite3`, [`build`]), and its rows are read at any
//! position, compared between two positions, followed row by row and summed
//! over positions ([`query`]).
//!
//! A model's file holds its tables, a `<table>__history` table per table
//! (every version of every row with the positions it was valid from and
//! to), `errors` (events a block could not apply: position and reason) and
//! `model_meta` (the definition's digest, the ledger's id and the last
//! position folded, written with each batch).

mod api;
pub mod build;
pub mod check;
pub mod explore;
pub mod publish;
pub mod query;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use crate::domain::model::DefinitionError;
use crate::store::StoreError;

pub use build::{BuildEnd, BuildProgress, BuildReport, build_model};
pub use check::{CheckedModel, check_model};
pub use explore::{
    DiffCounts, ModelDiff, ModelRowHistory, ModelRowVersion, ModelSeries, ModelWhatIf, SeriesPoint,
};
pub use publish::{PublishReport, PublishedStatus};
pub use query::{ModelReader, RowChange, RowVersion};

/// Folder of the models' files in the data dir.
pub const MODELS_DIR: &str = "models";

/// Suffix of a table's history table.
pub const HISTORY_SUFFIX: &str = "__history";

/// Where a model's file is in `data_dir`.
pub fn model_path(data_dir: &Path, name: &str) -> PathBuf {
    data_dir.join(MODELS_DIR).join(format!("{name}.sqlite3"))
}

/// Why a model could not be checked, built or read.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The text has mistakes (each with its line and column).
    #[error("{} mistake(s) in the model: {}", .0.len(), describe(.0))]
    Definition(Vec<DefinitionError>),
    /// The model's file could not be read or written.
    #[error("model file {path}: {source}")]
    File {
        /// The file.
        path: String,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },
    /// The ledger could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The model has not been built yet.
    #[error("model {0} has not been built yet; run `ledgerscope model build {0}`")]
    NotBuilt(String),
    /// A table or column the model does not have.
    #[error("{0}")]
    Unknown(String),
    /// A folder could not be made or a file removed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Observe-only mode refuses the change.
    #[error("{0}")]
    Refused(String),
    /// A position past the ledger's head.
    #[error("position {position} is past the head of the ledger ({head})")]
    PastHead {
        /// The position asked for.
        position: u64,
        /// The ledger's head.
        head: u64,
    },
    /// A position past where the model is built.
    #[error(
        "model {name} is built to position {built}, not {position}; run `ledgerscope model build {name}` first"
    )]
    BuiltTo {
        /// The model.
        name: String,
        /// The last position it is built to.
        built: u64,
        /// The position asked for.
        position: u64,
    },
    /// A column that does not hold numbers where one must.
    #[error("column {column} of {table} does not hold numbers; its numeric ones: {numeric}")]
    NotNumeric {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// The table's numeric columns (or `none`).
        numeric: String,
    },
    /// The work was cancelled.
    #[error("cancelled")]
    Cancelled,
    /// Work on another thread stopped without an answer.
    #[error("the model build stopped unexpectedly: {0}")]
    Crashed(String),
}

fn describe(errors: &[DefinitionError]) -> String {
    errors
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

impl ModelError {
    pub(crate) fn file(path: &Path) -> impl Fn(rusqlite::Error) -> ModelError + '_ {
        move |source| ModelError::File {
            path: path.display().to_string(),
            source,
        }
    }
}

/// SQL text of a name, quoted.
pub(crate) fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
