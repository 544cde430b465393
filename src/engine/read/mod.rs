//! Read queries: views of the state at a position, time travel, what if,
//! over time, row history, compare and the ledger reads the window and the
//! command line share.

pub mod compare;
pub mod history;
pub mod queries;
pub mod report;
pub mod series;
pub mod subject;
pub mod timetravel;
pub mod view;
pub mod view_order;
pub mod view_step;
pub mod whatif;
