//! One step of the ledger: the event at a position and the rows it touched,
//! before and after it (as Redux DevTools shows an action and its diff).
//! The rows come from the event's own row changes (a handful of keys), read
//! in the states just before and at the position, so a step costs the same
//! at a million events as at a hundred.

use std::sync::Arc;

use uuid::Uuid;

use crate::domain::state::row_diff;
use crate::domain::{BookingRow, RowDiff, Table, TableDiff, UserRow, rows_touched};
use crate::engine::view::{StateView, ViewRow};
use crate::engine::{Engine, EngineResult};
use crate::store::LedgerEntry;

/// The event at a position and what it did to the read tables.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// The position.
    pub position: u64,
    /// The event there (`None` at 0, or where nothing is stored).
    pub event: Option<LedgerEntry>,
    /// Per table ([`Table::slot`]): the rows the event changed, the state
    /// before it against the state after it.
    pub tables: [TableDiff; 2],
    /// Per table: the rows the event's changes name, changed or not (a
    /// cancel of a booking already cancelled names one and changes none).
    pub touched: [usize; 2],
}

impl Step {
    /// The rows of one table the event changed.
    pub fn table(&self, table: Table) -> &TableDiff {
        &self.tables[table.slot()]
    }
}

fn empty(table: Table) -> TableDiff {
    TableDiff {
        table,
        columns: table.columns().iter().map(|c| c.to_string()).collect(),
        rows: Vec::new(),
    }
}

async fn rows_of<R: ViewRow>(
    keys: &[Uuid],
    before: &StateView,
    after: &StateView,
) -> EngineResult<Vec<RowDiff>> {
    let mut out = Vec::with_capacity(keys.len());
    for key in keys {
        let (old, new) = tokio::try_join!(before.row::<R>(*key), after.row::<R>(*key))?;
        out.extend(row_diff(*key, old.as_ref(), new.as_ref()));
    }
    Ok(out)
}

impl Engine {
    /// The step to `after`'s position: its event and the rows it changed,
    /// read in `before` (the state one position earlier; read here when not
    /// given or at another position) and in `after`.
    pub async fn step(
        &self,
        after: Arc<StateView>,
        before: Option<Arc<StateView>>,
    ) -> EngineResult<Step> {
        let position = after.position();
        let mut step = Step {
            position,
            event: None,
            tables: Table::ALL.map(empty),
            touched: [0, 0],
        };
        if position == 0 {
            return Ok(step);
        }
        let event = self.event_at(position).await?;
        let touched = match &event {
            Some(Ok(event)) => rows_touched(event),
            _ => Vec::new(),
        };
        step.event = event;
        if touched.is_empty() {
            return Ok(step);
        }
        let before = match before.filter(|b| b.position() + 1 == position) {
            Some(view) => view,
            None => Arc::new(self.state_view(position - 1).await?),
        };
        for table in Table::ALL {
            let keys: Vec<Uuid> = touched
                .iter()
                .filter(|(t, _)| *t == table)
                .map(|(_, key)| *key)
                .collect();
            step.touched[table.slot()] = keys.len();
            step.tables[table.slot()].rows = match table {
                Table::Users => rows_of::<UserRow>(&keys, &before, &after).await?,
                Table::Bookings => rows_of::<BookingRow>(&keys, &before, &after).await?,
            };
        }
        Ok(step)
    }
}
