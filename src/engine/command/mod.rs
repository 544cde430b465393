//! Commands: the handler, the event bus, bulk generation, export and
//! import, and the activity log line.

pub(crate) mod activity;
pub mod bulk;
pub mod bus;
pub mod handler;
pub mod transfer;
