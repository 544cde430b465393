//! A row's history ("blame"): the events that can change one read row,
//! found through the ledger's per-aggregate index, folded into its versions.

use uuid::Uuid;

use crate::domain::{RowHistory, StoredEvent, Table, UserRow, row_history};
use crate::engine::{Engine, EngineResult};

impl Engine {
    /// Every version of the row of `table` under `key`, oldest first, with
    /// the event that made each one.
    ///
    /// A booking's row changes only with the events of its own stream. A
    /// user's row changes with the events of the user's stream (address
    /// changes) and is made by the first booking wizard that carries the
    /// user, an event of that booking's stream, found through the ledger's
    /// index on the user a wizard carries (every such wizard is folded: the
    /// first that can be read makes the row, the others change nothing).
    /// Without that index (a read-only copy made by an earlier build) the
    /// maker is the row's `created_position` in the state at the head.
    pub async fn row_history(&self, table: Table, key: Uuid) -> EngineResult<RowHistory> {
        let (events, malformed) = self.row_events(table, key).await?;
        let mut history = row_history(table, key, &events);
        history.skipped.extend(malformed);
        history.skipped.sort_unstable();
        history.skipped.dedup();
        Ok(history)
    }

    /// The events that can change the row of `table` under `key` (see
    /// [`Self::row_history`]), in no particular order, and the positions of
    /// the malformed entries among them.
    pub(crate) async fn row_events(
        &self,
        table: Table,
        key: Uuid,
    ) -> EngineResult<(Vec<StoredEvent>, Vec<u64>)> {
        let mut entries = self.stores.ledger.stream(key).await?;
        if table == Table::Users {
            match self.stores.ledger.wizards_carrying(key).await? {
                Some(wizards) => entries.extend(wizards),
                None => {
                    let view = self.state_view(self.head().await?).await?;
                    if let Some(row) = view.row::<UserRow>(key).await?
                        && let Some(made_it) = self.event_at(row.created_position).await?
                    {
                        entries.push(made_it);
                    }
                }
            }
        }
        let mut malformed = Vec::new();
        let events: Vec<_> = entries
            .into_iter()
            .filter_map(|entry| entry.map_err(|bad| malformed.push(bad.position)).ok())
            .collect();
        Ok((events, malformed))
    }
}
