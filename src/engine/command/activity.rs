//! What commands and projectors did, said in the log once a minute (and
//! when the engine is dropped) instead of a line per command: the log is
//! for the person who reads it after an incident, and a busy ledger's
//! per-command lines (at DEBUG) would rotate a day of errors, holes,
//! replays and passes away within the hour.

use std::time::{Duration, Instant};

/// How often the summary is written at most.
pub(crate) const SUMMARY_EVERY: Duration = Duration::from_secs(60);

/// Counts since the last summary.
#[derive(Debug)]
pub(crate) struct Activity {
    since: Instant,
    stored: u64,
    duplicates: u64,
    refused: u64,
    projected: u64,
}

impl Default for Activity {
    fn default() -> Self {
        Activity {
            since: Instant::now(),
            stored: 0,
            duplicates: 0,
            refused: 0,
            projected: 0,
        }
    }
}

/// How one command ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CommandEnd {
    /// A new event was stored.
    Stored,
    /// The same command again: the first answer.
    Duplicate,
    /// Refused (a business rule, a conflict, a store error).
    Refused,
}

impl Activity {
    /// Counts a command; writes the summary when one is due.
    pub(crate) fn command(&mut self, end: CommandEnd) {
        match end {
            CommandEnd::Stored => self.stored += 1,
            CommandEnd::Duplicate => self.duplicates += 1,
            CommandEnd::Refused => self.refused += 1,
        }
        self.maybe_log();
    }

    /// Counts events a projector applied.
    pub(crate) fn projected(&mut self, events: u64) {
        self.projected += events;
        self.maybe_log();
    }

    fn maybe_log(&mut self) {
        if self.since.elapsed() >= SUMMARY_EVERY {
            self.log();
        }
    }

    /// Writes the summary now if anything happened since the last one.
    pub(crate) fn log(&mut self) {
        let quiet = self.stored + self.duplicates + self.refused + self.projected == 0;
        if !quiet {
            tracing::info!(
                secs = self.since.elapsed().as_secs(),
                stored = self.stored,
                duplicates = self.duplicates,
                refused = self.refused,
                projected = self.projected,
                "commands and projection since the last summary"
            );
        }
        *self = Activity::default();
    }
}

impl crate::engine::Engine {
    /// Counts a command for the log's summary.
    pub(crate) fn count_command(&self, end: CommandEnd) {
        crate::engine::sync::lock(&self.activity, "activity").command(end);
    }

    /// Counts events a projector applied, for the log's summary.
    pub(crate) fn count_projected(&self, events: u64) {
        crate::engine::sync::lock(&self.activity, "activity").projected(events);
    }
}

impl Drop for crate::engine::Engine {
    fn drop(&mut self) {
        crate::engine::sync::lock(&self.activity, "activity").log();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_reset_after_a_summary() {
        let mut activity = Activity::default();
        activity.command(CommandEnd::Stored);
        activity.command(CommandEnd::Duplicate);
        activity.command(CommandEnd::Refused);
        activity.projected(4);
        assert_eq!(
            (
                activity.stored,
                activity.duplicates,
                activity.refused,
                activity.projected
            ),
            (1, 1, 1, 4),
            "nothing is written within the minute"
        );
        activity.since -= SUMMARY_EVERY;
        activity.command(CommandEnd::Stored);
        assert_eq!(activity.stored, 0, "written and reset");
    }
}
