//! What a panel shows in place when something it asked for went wrong:
//! typed, not a string keyed by a place name.

use crate::domain::FieldError;
use crate::domain::command::describe_errors;
use crate::engine::EngineError;

/// An error shown where it happened.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InlineError {
    /// Form fields that do not validate.
    #[error("{}", describe_errors(.0))]
    Fields(Vec<FieldError>),
    /// What the engine answered.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// Typed input the panel cannot use (a position, a time, an id).
    #[error("{0}")]
    Input(String),
}
