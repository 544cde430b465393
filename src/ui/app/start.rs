//! What the window shows first, from environment variables (demos, guided
//! trainings, the screenshot script): a panel, a position, a pinned
//! position and which view of it, a table sorted and searched, a row's
//! history, a what-if, a generated event. Each becomes the commands a user
//! would have given, run once the first status has arrived.

use uuid::Uuid;

use crate::domain::{Table, user_id_for_email};
use crate::engine::view_order::{RowQuery, SortBy};
use crate::ui::command::UiCommand;
use crate::ui::panels::PanelKind;
use crate::ui::panels::emit::EmitCommand;
use crate::ui::panels::history::HistoryCommand;
use crate::ui::panels::time_travel::{TimeTravelCommand, TravelMode};
use crate::ui::panels::timeline::TimelineCommand;
use crate::ui::panels::what_if::WhatIfCommand;

/// Environment variable naming the panel to open at start (`timeline`, ...).
pub const START_PANEL_ENV: &str = "LEDGERSCOPE_START_PANEL";
/// Environment variable with a position to show at start: the timeline
/// selects that event, time travel puts its cursor there.
pub const START_POSITION_ENV: &str = "LEDGERSCOPE_START_POSITION";
/// Environment variable: when `1`, the Emit panel generates one event at
/// start, so the anatomy of a transaction is on screen.
pub const START_GENERATE_ENV: &str = "LEDGERSCOPE_START_GENERATE";
/// Environment variable: `booking:ID` or `user:ID|EMAIL` opens that row's
/// history at start.
pub const START_HISTORY_ENV: &str = "LEDGERSCOPE_START_HISTORY";
/// Environment variable: a position; What if leaves that event out at start.
pub const START_WHATIF_ENV: &str = "LEDGERSCOPE_START_WHATIF";
/// Environment variable: a position time travel pins at start (the
/// difference is then taken against it).
pub const START_PIN_ENV: &str = "LEDGERSCOPE_START_PIN";
/// Environment variable: time travel's view at start: `rows`,
/// `difference` or `step`.
pub const START_VIEW_ENV: &str = "LEDGERSCOPE_START_VIEW";
/// Environment variable: `TABLE:COLUMN[:desc][:SEARCH]` sorts (and
/// searches) that table of time travel's state at start, e.g.
/// `bookings:price:desc:Suite`.
pub const START_QUERY_ENV: &str = "LEDGERSCOPE_START_QUERY";

/// The row `booking:ID` or `user:ID|EMAIL` names.
fn history_target(text: &str) -> Option<(Table, Uuid)> {
    let (kind, key) = text.trim().split_once(':')?;
    match kind {
        "booking" => Some((Table::Bookings, Uuid::parse_str(key.trim()).ok()?)),
        "user" if key.contains('@') => Some((Table::Users, user_id_for_email(key))),
        "user" => Some((Table::Users, Uuid::parse_str(key.trim()).ok()?)),
        _ => None,
    }
}

/// `TABLE:COLUMN[:desc][:SEARCH]` as a table and its query.
fn table_query(text: &str) -> Option<(Table, RowQuery)> {
    let mut parts = text.trim().splitn(4, ':');
    let table = Table::parse(parts.next()?.trim())?;
    let name = parts.next()?.trim();
    let column = table.columns().iter().position(|c| *c == name)?;
    let mut rest: Vec<&str> = parts.collect();
    let descending = rest.first().is_some_and(|p| p.trim() == "desc");
    if rest
        .first()
        .is_some_and(|p| matches!(p.trim(), "desc" | "asc"))
    {
        rest.remove(0);
    }
    let query = RowQuery {
        sort: Some(SortBy { column, descending }),
        search: rest.join(":"),
        ..RowQuery::default()
    };
    Some((table, query))
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn position(name: &str) -> Option<u64> {
    var(name).and_then(|p| p.trim().parse::<u64>().ok())
}

/// The panel the environment asks for, if any.
pub fn start_panel() -> Option<PanelKind> {
    var(START_PANEL_ENV).and_then(|p| PanelKind::parse(&p))
}

/// The commands the environment asks for, given the panel shown at start.
pub fn start_commands(panel: PanelKind, observe_only: bool) -> Vec<UiCommand> {
    let mut commands: Vec<UiCommand> = Vec::new();
    let travel = panel == PanelKind::TimeTravel;
    if travel && let Some(pin) = position(START_PIN_ENV) {
        commands.push(TimeTravelCommand::SetCursor(pin).into());
        commands.push(TimeTravelCommand::Pin.into());
    }
    if let Some(at) = position(START_POSITION_ENV) {
        commands.push(if travel {
            TimeTravelCommand::SetCursor(at).into()
        } else {
            TimelineCommand::JumpToPosition(at).into()
        });
    }
    if travel {
        let mode = match var(START_VIEW_ENV).as_deref().map(str::trim) {
            Some("difference") => Some(TravelMode::Difference),
            Some("step") => Some(TravelMode::Step),
            Some("rows") => Some(TravelMode::State),
            _ => None,
        };
        if let Some(mode) = mode {
            commands.push(TimeTravelCommand::SetMode(mode).into());
        }
        if let Some((table, query)) = var(START_QUERY_ENV).and_then(|q| table_query(&q)) {
            commands.push(TimeTravelCommand::SetTable(table).into());
            commands.push(
                TimeTravelCommand::SetQuery {
                    diff: mode == Some(TravelMode::Difference),
                    table,
                    query,
                }
                .into(),
            );
        }
    }
    if let Some((table, key)) = var(START_HISTORY_ENV).and_then(|t| history_target(&t)) {
        commands.push(HistoryCommand::Open(table, key).into());
    }
    if let Some(at) = position(START_WHATIF_ENV) {
        commands.push(WhatIfCommand::LeaveOut(at).into());
    }
    if var(START_GENERATE_ENV).is_some_and(|v| v == "1") && !observe_only {
        commands.push(EmitCommand::GenerateAndSubmit.into());
    }
    commands
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_start_query_names_a_table_a_column_and_maybe_a_search() {
        let (table, query) = table_query("bookings:price:desc:Suite").unwrap();
        assert_eq!(table, Table::Bookings);
        assert_eq!(
            query.sort,
            Some(SortBy {
                column: Table::Bookings
                    .columns()
                    .iter()
                    .position(|c| *c == "price")
                    .unwrap(),
                descending: true
            })
        );
        assert_eq!(query.search, "Suite");
        let (_, query) = table_query("users:email").unwrap();
        assert_eq!(query.search, "");
        assert!(!query.sort.unwrap().descending);
        assert!(table_query("bookings:nope").is_none());
        assert!(table_query("rooms:price").is_none());
    }
}
