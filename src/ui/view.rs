//! `View`: the read-only face of the app that panels draw from.

use crate::ui::data::{AppData, Connection};
use crate::ui::state::AppState;

/// What a panel may read.
#[derive(Clone, Copy)]
pub struct View<'a> {
    /// UI state.
    pub state: &'a AppState,
    /// Data from the stores.
    pub data: &'a AppData,
}

impl View<'_> {
    /// Why writes are disabled right now, if they are.
    pub fn write_block_reason(&self) -> Option<String> {
        if self.state.observe_only {
            Some(if self.state.observe_locked {
                "Observe-only mode (started with --observe): this would write, so it is disabled."
                    .to_string()
            } else {
                "Observe-only mode: this would write, so it is disabled. Switch to Operate in the top bar.".to_string()
            })
        } else if self.data.connection != Connection::Connected {
            Some("Not connected to the stores.".to_string())
        } else {
            None
        }
    }

    /// Connected to the stores.
    pub fn connected(&self) -> bool {
        self.data.connection == Connection::Connected
    }

    /// `sqlite at /path/views.sqlite3`, for confirmations.
    pub fn read_store_name(&self) -> String {
        self.data
            .read
            .as_ref()
            .map_or_else(|| "the read store".to_string(), ToString::to_string)
    }

    /// `sqlite at /path/ledger.sqlite3`.
    pub fn ledger_name(&self) -> String {
        self.data
            .ledger
            .as_ref()
            .map_or_else(|| "the ledger".to_string(), ToString::to_string)
    }
}
