//! `ledgerscope://` position links: a panel, a position (and a pinned one)
//! on one ledger, named by its id, so a link never opens on another ledger
//! as if it were the same. The format:
//!
//! `ledgerscope://open?ledger=<uuid>&panel=time-travel&position=1200&pinned=1000`
//!
//! `ledger` is required; `panel` defaults to `time-travel`; `position` and
//! `pinned` are optional (`pinned` only means something in Time travel).
//! Other parts are ignored, so a newer build's links still open here.

use uuid::Uuid;

use crate::engine::pairing::short_id;
use crate::ui::command::{ShellCommand, UiCommand};
use crate::ui::panels::PanelKind;
use crate::ui::panels::time_travel::TimeTravelCommand;
use crate::ui::panels::timeline::TimelineCommand;

/// What every link starts with.
pub const SCHEME: &str = "ledgerscope://";

/// A place in the window on one ledger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PositionLink {
    /// The ledger's id.
    pub ledger: Uuid,
    /// The panel to show.
    pub panel: PanelKind,
    /// The position to show (Time travel's cursor, the timeline's event).
    pub position: Option<u64>,
    /// The pinned position the difference is taken against (Time travel).
    pub pinned: Option<u64>,
}

/// Why a text is not a usable link; each is one sentence.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// It does not start with `ledgerscope://open`.
    #[error("'{0}' is not a Ledgerscope link (one starts with ledgerscope://open?ledger=)")]
    NotALink(String),
    /// No `ledger=` part.
    #[error("the link names no ledger (it needs ledger=<the ledger's id>)")]
    NoLedger,
    /// `ledger=` is not a UUID.
    #[error("the link's ledger '{0}' is not a ledger id (a UUID)")]
    BadLedger(String),
    /// `panel=` names no panel.
    #[error(
        "the link's panel '{0}' is not one of emit, timeline, time-travel, over-time, what-if, compare, operations"
    )]
    BadPanel(String),
    /// `position=` or `pinned=` is not a position.
    #[error("the link's {name} '{value}' is not a position (a whole number of 0 or more)")]
    BadPosition {
        /// `position` or `pinned`.
        name: &'static str,
        /// What it said.
        value: String,
    },
    /// The link is for another ledger than the one connected.
    #[error(
        "this link is for ledger {link}, but the window is connected to ledger {connected} ({store}): it was not opened"
    )]
    OtherLedger {
        /// The link's ledger (short id).
        link: String,
        /// The connected ledger (short id).
        connected: String,
        /// Where the connected ledger is.
        store: String,
    },
    /// The connected ledger has no id to check the link against.
    #[error(
        "this link is for ledger {0}, but the connected ledger has no id (an earlier build made it), so it cannot be told apart: it was not opened"
    )]
    UnknownLedger(String),
}

/// At most `max` characters of `text`, for messages.
fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// The name of a panel in links and in `LEDGERSCOPE_START_PANEL`.
pub fn panel_slug(panel: PanelKind) -> &'static str {
    match panel {
        PanelKind::Emit => "emit",
        PanelKind::Timeline => "timeline",
        PanelKind::TimeTravel => "time-travel",
        PanelKind::OverTime => "over-time",
        PanelKind::WhatIf => "what-if",
        PanelKind::Compare => "compare",
        PanelKind::Operations => "operations",
        PanelKind::Models => "models",
    }
}

impl PositionLink {
    /// True when `text` looks like a link (to tell one from a subcommand).
    pub fn is_link(text: &str) -> bool {
        text.trim()
            .get(..SCHEME.len())
            .is_some_and(|s| s.eq_ignore_ascii_case(SCHEME))
    }

    /// Reads a link, or says in one sentence why it is not one.
    pub fn parse(text: &str) -> Result<PositionLink, LinkError> {
        let text = text.trim();
        let not_a_link = || LinkError::NotALink(clip(text, 80));
        if !Self::is_link(text) {
            return Err(not_a_link());
        }
        let rest = &text[SCHEME.len()..];
        let (action, query) = rest.split_once('?').unwrap_or((rest, ""));
        if !action.trim_end_matches('/').eq_ignore_ascii_case("open") {
            return Err(not_a_link());
        }
        let (mut ledger, mut panel, mut position, mut pinned) = (None, None, None, None);
        for part in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = part.split_once('=').unwrap_or((part, ""));
            let position_of = |name: &'static str| {
                value.parse::<u64>().map_err(|_| LinkError::BadPosition {
                    name,
                    value: clip(value, 40),
                })
            };
            match key {
                "ledger" => {
                    ledger = Some(
                        Uuid::parse_str(value)
                            .map_err(|_| LinkError::BadLedger(clip(value, 40)))?,
                    );
                }
                "panel" => {
                    panel = Some(
                        PanelKind::parse(value)
                            .ok_or_else(|| LinkError::BadPanel(clip(value, 40)))?,
                    );
                }
                "position" => position = Some(position_of("position")?),
                "pinned" => pinned = Some(position_of("pinned")?),
                _ => {}
            }
        }
        Ok(PositionLink {
            ledger: ledger.ok_or(LinkError::NoLedger)?,
            panel: panel.unwrap_or(PanelKind::TimeTravel),
            position,
            pinned,
        })
    }
}

impl PositionLink {
    /// Whether the link can open on the connected ledger `connected` (at
    /// `store`): the same id, else why not.
    pub fn check(&self, connected: Option<Uuid>, store: &str) -> Result<(), LinkError> {
        match connected {
            Some(id) if id == self.ledger => Ok(()),
            Some(id) => Err(LinkError::OtherLedger {
                link: short_id(self.ledger),
                connected: short_id(id),
                store: store.to_string(),
            }),
            None => Err(LinkError::UnknownLedger(short_id(self.ledger))),
        }
    }

    /// What opening it does: show the panel and put its position (and
    /// pin) on screen, as `LEDGERSCOPE_START_PANEL`/`_POSITION` do.
    pub fn commands(&self) -> Vec<UiCommand> {
        let mut commands: Vec<UiCommand> = vec![ShellCommand::ShowPanel(self.panel).into()];
        match (self.panel, self.position) {
            (PanelKind::TimeTravel, position) => {
                match self.pinned {
                    Some(pinned) => {
                        commands.push(TimeTravelCommand::SetCursor(pinned).into());
                        commands.push(TimeTravelCommand::Pin.into());
                    }
                    None => commands.push(TimeTravelCommand::Unpin.into()),
                }
                if let Some(position) = position {
                    commands.push(TimeTravelCommand::SetCursor(position).into());
                }
            }
            (PanelKind::Timeline, Some(position)) => {
                commands.push(TimelineCommand::JumpToPosition(position).into());
            }
            _ => {}
        }
        commands
    }
}

impl std::fmt::Display for PositionLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{SCHEME}open?ledger={}&panel={}",
            self.ledger,
            panel_slug(self.panel)
        )?;
        if let Some(position) = self.position {
            write!(f, "&position={position}")?;
        }
        if let Some(pinned) = self.pinned {
            write!(f, "&pinned={pinned}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0f8fad5b-d9cb-469f-a165-70867728950e";

    #[test]
    fn a_link_reads_back_what_it_says() {
        let link = PositionLink {
            ledger: Uuid::parse_str(ID).unwrap(),
            panel: PanelKind::TimeTravel,
            position: Some(1200),
            pinned: Some(1000),
        };
        let text = link.to_string();
        assert_eq!(
            text,
            format!("ledgerscope://open?ledger={ID}&panel=time-travel&position=1200&pinned=1000")
        );
        assert_eq!(PositionLink::parse(&text), Ok(link));
        for panel in PanelKind::ALL {
            let link = PositionLink {
                panel,
                position: None,
                pinned: None,
                ..PositionLink::parse(&text).unwrap()
            };
            assert_eq!(PositionLink::parse(&link.to_string()), Ok(link));
        }
    }

    #[test]
    fn only_the_ledger_is_required_and_unknown_parts_are_ignored() {
        let link =
            PositionLink::parse(&format!(" LEDGERSCOPE://open/?ledger={ID}&zoom=2 ")).unwrap();
        assert_eq!(link.panel, PanelKind::TimeTravel);
        assert_eq!((link.position, link.pinned), (None, None));
        let link = PositionLink::parse(&format!(
            "ledgerscope://open?panel=timeline&position=7&ledger={ID}"
        ))
        .unwrap();
        assert_eq!((link.panel, link.position), (PanelKind::Timeline, Some(7)));
    }

    #[test]
    fn a_malformed_link_is_one_sentence() {
        let cases = [
            ("https://example.com", "is not a Ledgerscope link"),
            ("ledgerscope://delete?ledger=x", "is not a Ledgerscope link"),
            ("ledgerscope://open?panel=emit", "names no ledger"),
            (
                "ledgerscope://open?ledger=nope",
                "'nope' is not a ledger id",
            ),
            (
                &format!("ledgerscope://open?ledger={ID}&panel=sideways"),
                "panel 'sideways'",
            ),
            (
                &format!("ledgerscope://open?ledger={ID}&position=-3"),
                "position '-3' is not a position",
            ),
            (
                &format!("ledgerscope://open?ledger={ID}&pinned=1e3"),
                "pinned '1e3'",
            ),
        ];
        for (text, says) in cases {
            let error = PositionLink::parse(text).unwrap_err().to_string();
            assert!(error.contains(says), "{text}: {error}");
            assert_eq!(error.lines().count(), 1, "{error}");
        }
        assert!(PositionLink::is_link("ledgerscope://open"));
        assert!(!PositionLink::is_link("emit"));
    }

    #[test]
    fn a_link_of_another_ledger_says_so_and_opens_nothing() {
        let link =
            PositionLink::parse(&format!("ledgerscope://open?ledger={ID}&position=5")).unwrap();
        assert_eq!(link.check(Some(link.ledger), "here"), Ok(()));
        let other = Uuid::parse_str("7c9e6679-7425-40de-944b-e07fc1f90ae7").unwrap();
        let error = link
            .check(Some(other), "sqlite at /d/ledger.sqlite3")
            .unwrap_err()
            .to_string();
        assert!(error.contains("ledger 0f8fad5b"), "{error}");
        assert!(error.contains("connected to ledger 7c9e6679"), "{error}");
        assert!(error.contains("not opened"), "{error}");
        assert!(link.check(None, "here").is_err());
    }

    #[test]
    fn a_time_travel_link_pins_then_moves_the_cursor() {
        let link = PositionLink::parse(&format!(
            "ledgerscope://open?ledger={ID}&position=1200&pinned=1000"
        ))
        .unwrap();
        assert_eq!(
            link.commands(),
            vec![
                ShellCommand::ShowPanel(PanelKind::TimeTravel).into(),
                TimeTravelCommand::SetCursor(1000).into(),
                TimeTravelCommand::Pin.into(),
                TimeTravelCommand::SetCursor(1200).into(),
            ]
        );
    }
}
