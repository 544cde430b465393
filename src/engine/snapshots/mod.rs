//! Snapshots: taking and keeping them, and their formats (rows, pages,
//! deltas, histories).

pub mod snapshot;
pub mod snapshot_delta;
pub mod snapshot_history;
pub mod snapshot_pages;
pub mod snapshot_rows;
pub mod table_row;
pub mod upkeep;
