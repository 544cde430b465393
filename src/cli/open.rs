//! `ledgerscope open LINK` and `ledgerscope LINK`: the window, opened at a
//! `ledgerscope://` position link. The link is read before anything else,
//! so a malformed one is one sentence on stderr (exit 2) without a window.

use std::ffi::OsString;

use crate::cli::{Cli, CliError, Command};
use crate::ui::link::PositionLink;

/// What `open` says when it is run as a headless subcommand.
pub const NOT_HEADLESS: &str = "`ledgerscope open LINK` opens the window; it does not run headless";

/// The arguments with `open` put before a link given as the only
/// positional argument (`ledgerscope [flags] LINK`, as a desktop's URL
/// handler calls it), so the parser reads it as `open LINK`.
pub fn with_open_for_a_link(mut args: Vec<OsString>) -> Vec<OsString> {
    let last = args.len().saturating_sub(1);
    let is_bare_link = last > 0
        && args[last].to_str().is_some_and(PositionLink::is_link)
        && args[last - 1] != "open";
    if is_bare_link {
        args.insert(last, "open".into());
    }
    args
}

/// The link the window opens at: `None` without one, or why it is not a
/// link (one sentence).
pub fn start_link(cli: &Cli) -> Result<Option<PositionLink>, CliError> {
    match &cli.command {
        Some(Command::Open { link }) => PositionLink::parse(link)
            .map(Some)
            .map_err(|e| CliError::input(e.to_string())),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn a_bare_link_is_opened() {
        let link = "ledgerscope://open?ledger=x";
        assert_eq!(
            with_open_for_a_link(args(&["ledgerscope", link])),
            args(&["ledgerscope", "open", link])
        );
        assert_eq!(
            with_open_for_a_link(args(&["ledgerscope", "--data-dir", "d", link])),
            args(&["ledgerscope", "--data-dir", "d", "open", link])
        );
        assert_eq!(
            with_open_for_a_link(args(&["ledgerscope", "open", link])),
            args(&["ledgerscope", "open", link])
        );
        assert_eq!(
            with_open_for_a_link(args(&["ledgerscope", "status"])),
            args(&["ledgerscope", "status"])
        );
        assert_eq!(
            with_open_for_a_link(args(&["ledgerscope"])),
            args(&["ledgerscope"])
        );
    }
}
