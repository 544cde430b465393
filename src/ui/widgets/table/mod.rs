//! The window's data tables (Time travel, Compare, What if, Row history):
//! one widget, so sorting, searching, copying and the changed-cell display
//! are written once.
//!
//! - [`draw`]: the virtual table itself (a click on a header sorts by it,
//!   right-click copies a cell or a row, a changed cell shows its old value
//!   struck through beside the new one), the search box and the filter chips.
//! - [`line`]: a row as the table draws it, and what each column holds.
//! - [`memory`]: tables whose rows are in memory (a report, a simulation, a
//!   row's history); their order is computed a slice at a time.
//! - [`paged`]: tables over a lazy state or difference, whose order is
//!   computed by a background pass and whose pages are read by index.

pub mod draw;
pub mod line;
pub mod memory;
pub mod merge_sort;
pub mod paged;

pub use crate::engine::view_order::{KindFilter, RowQuery, SortBy};
pub use draw::{Slot, TableLook, TableOutput, kind_chips_ui, search_bar_ui, table_ui};
pub use line::{Cell, Line};
