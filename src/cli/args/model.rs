//! `ledgerscope model ...` arguments: the read models users write.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{JsonFlag, non_negative, positive};

/// `model` actions.
#[derive(Debug, Subcommand)]
pub enum ModelAction {
    /// Check a model's file: every mistake with its line and column (exit 2 when there is one).
    Check {
        /// The model's text.
        file: PathBuf,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Check a model's file and keep it in the ledger store.
    Add {
        /// The model's text.
        file: PathBuf,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// The ledger's models and how far each is built.
    List {
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Remove a model (its definition and its built file).
    Remove {
        /// The model's name.
        name: String,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// A model's rows at a position (default: as far as it is built) and a digest.
    Rows(RowsArgs),
    /// Fold the whole ledger into a model (goes on from where a stopped build ended).
    Build {
        /// The model's name.
        name: String,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Publish a model as real tables in the read store (`model_<name>_<table>`),
    /// kept up to date after appends and rebuilt by `replay`.
    Publish {
        /// The model's name.
        name: String,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Drop a published model's tables from the read store.
    Unpublish {
        /// The model's name.
        name: String,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// A model's rows added, removed and changed between two positions.
    #[command(allow_negative_numbers = true)]
    Diff {
        /// The model's name.
        name: String,
        /// Earlier position.
        #[arg(long, value_parser = non_negative)]
        from: u64,
        /// Later position (default: as far as the model is built).
        #[arg(long, value_parser = non_negative)]
        to: Option<u64>,
        /// The table (default: the model's first).
        #[arg(long)]
        table: Option<String>,
        /// At most this many rows listed (counts are always complete).
        #[arg(long, default_value_t = 50, value_parser = non_negative)]
        limit: u64,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Every version of one row of a model, with the event that made each.
    History {
        /// The model's name.
        name: String,
        /// The row's key: a value per key column (K[,K2...]).
        #[arg(long, value_delimiter = ',', required = true)]
        key: Vec<String>,
        /// The table (default: the model's first).
        #[arg(long)]
        table: Option<String>,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// A numeric column's sum at evenly spaced positions up to where the model is built.
    Series {
        /// The model's name.
        name: String,
        /// The column.
        #[arg(long)]
        column: String,
        /// The table (default: the model's first).
        #[arg(long)]
        table: Option<String>,
        /// How many positions.
        #[arg(long, default_value_t = 20, value_parser = positive)]
        points: u64,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// A model's rows with some events left out, against the built rows
    /// (built again into a temporary file; nothing of the model's is written).
    #[command(name = "whatif", allow_negative_numbers = true)]
    WhatIf {
        /// The model's name.
        name: String,
        /// Leave out the events at these positions (P[,P...]).
        #[arg(long, value_delimiter = ',', value_parser = non_negative, required = true)]
        exclude: Vec<u64>,
        /// The table (default: the model's first).
        #[arg(long)]
        table: Option<String>,
        /// At most this many differing rows listed (counts are always complete).
        #[arg(long, default_value_t = 50, value_parser = non_negative)]
        limit: u64,
        #[command(flatten)]
        out: JsonFlag,
    },
}

/// `model rows` arguments.
#[derive(Debug, Args)]
pub struct RowsArgs {
    /// The model's name.
    pub name: String,
    /// The table (default: the model's first).
    #[arg(long)]
    pub table: Option<String>,
    /// The position (default: the last one built).
    #[arg(long)]
    pub at: Option<u64>,
    /// At most this many rows.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
    pub limit: u64,
    #[command(flatten)]
    pub out: JsonFlag,
}

impl ModelAction {
    /// Whether `--json` was given.
    pub fn json(&self) -> bool {
        match self {
            ModelAction::Check { out, .. }
            | ModelAction::Add { out, .. }
            | ModelAction::List { out }
            | ModelAction::Remove { out, .. }
            | ModelAction::Build { out, .. }
            | ModelAction::Publish { out, .. }
            | ModelAction::Unpublish { out, .. }
            | ModelAction::Diff { out, .. }
            | ModelAction::History { out, .. }
            | ModelAction::Series { out, .. }
            | ModelAction::WhatIf { out, .. } => out.json,
            ModelAction::Rows(args) => args.out.json,
        }
    }

    /// Whether the action writes (a definition, a model's file or the read store).
    pub fn writes(&self) -> bool {
        matches!(
            self,
            ModelAction::Add { .. }
                | ModelAction::Remove { .. }
                | ModelAction::Build { .. }
                | ModelAction::Publish { .. }
                | ModelAction::Unpublish { .. }
        )
    }
}
