//! The read store's health as this engine sees it through its own work:
//! locked (a write has waited longer than
//! [`super::EngineConfig::write_blocked_after`]), unreachable (it failed to
//! answer), and since when; and which projectors are inside a write that
//! has waited that long. The projectors tell it how each write and read of
//! the read store went; the window's status poll pings the store too, so an
//! outage shows even while no projector writes.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::Engine;
use super::sync;
use crate::domain::ProjectorId;
use crate::store::{StoreError, StoreResult};

/// What is wrong with the read store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ReadStoreTrouble {
    /// Writes wait for a lock someone else holds (a write waited longer
    /// than `write_blocked_after`, or failed after waiting that long).
    Locked {
        /// When the first write that waited began.
        since: DateTime<Utc>,
    },
    /// It does not answer.
    Unreachable {
        /// When it first failed to answer.
        since: DateTime<Utc>,
        /// Its last answer.
        error: String,
    },
}

impl ReadStoreTrouble {
    /// Since when.
    pub fn since(&self) -> DateTime<Utc> {
        match self {
            ReadStoreTrouble::Locked { since } | ReadStoreTrouble::Unreachable { since, .. } => {
                *since
            }
        }
    }
}

/// A projector inside a read-store write that has waited longer than
/// `write_blocked_after`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockedWrite {
    /// Which projector.
    pub projector: ProjectorId,
    /// When its write began.
    pub since: DateTime<Utc>,
}

/// The read store's health.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadStoreHealth {
    /// What is wrong with it, if anything.
    pub trouble: Option<ReadStoreTrouble>,
    /// Projectors whose write has waited too long (in projector order).
    pub blocked: Vec<BlockedWrite>,
}

impl ReadStoreHealth {
    /// Since when `projector`'s write has waited, if it is blocked.
    pub fn blocked_since(&self, projector: ProjectorId) -> Option<DateTime<Utc>> {
        self.blocked
            .iter()
            .find(|b| b.projector == projector)
            .map(|b| b.since)
    }
}

/// What the engine has learnt of the read store from its last operations.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ReadHealth {
    trouble: Option<ReadStoreTrouble>,
}

fn unavailable(error: &StoreError) -> bool {
    matches!(error, StoreError::Unavailable { .. })
}

impl ReadHealth {
    /// A write that began at `started` ended at `now` with `result`.
    pub(crate) fn write_ended(
        &mut self,
        started: DateTime<Utc>,
        now: DateTime<Utc>,
        blocked_after: TimeDelta,
        result: Result<(), &StoreError>,
    ) {
        match result {
            Ok(()) => self.trouble = None,
            Err(error) if unavailable(error) && now - started >= blocked_after => {
                let since = match &self.trouble {
                    Some(ReadStoreTrouble::Locked { since }) => (*since).min(started),
                    _ => started,
                };
                self.trouble = Some(ReadStoreTrouble::Locked { since });
            }
            Err(error) if unavailable(error) => self.unreachable(now, error),
            // Refused (another ledger's tables, read-only) or a failed
            // query: the store answered.
            Err(_) => {}
        }
    }

    /// A read (or ping) answered at `now` with `result`. A read that
    /// works says nothing of a lock: only writes wait for one.
    pub(crate) fn read_answered(&mut self, now: DateTime<Utc>, result: Result<(), &StoreError>) {
        match result {
            Ok(()) => {
                if matches!(self.trouble, Some(ReadStoreTrouble::Unreachable { .. })) {
                    self.trouble = None;
                }
            }
            Err(error) if unavailable(error) => {
                if !matches!(self.trouble, Some(ReadStoreTrouble::Locked { .. })) {
                    self.unreachable(now, error);
                }
            }
            Err(_) => {}
        }
    }

    fn unreachable(&mut self, now: DateTime<Utc>, error: &StoreError) {
        let since = match &self.trouble {
            Some(ReadStoreTrouble::Unreachable { since, .. }) => *since,
            _ => now,
        };
        self.trouble = Some(ReadStoreTrouble::Unreachable {
            since,
            error: error.to_string(),
        });
    }

    /// The health at `now`, given the writes under way (projector, since).
    pub(crate) fn report(
        &self,
        writing: &[(ProjectorId, DateTime<Utc>)],
        now: DateTime<Utc>,
        blocked_after: TimeDelta,
    ) -> ReadStoreHealth {
        let blocked: Vec<BlockedWrite> = writing
            .iter()
            .filter(|(_, since)| now - *since >= blocked_after)
            .map(|(projector, since)| BlockedWrite {
                projector: *projector,
                since: *since,
            })
            .collect();
        let first_blocked = blocked.iter().map(|b| b.since).min();
        let trouble = match (&self.trouble, first_blocked) {
            (Some(ReadStoreTrouble::Locked { since }), Some(first)) => {
                Some(ReadStoreTrouble::Locked {
                    since: (*since).min(first),
                })
            }
            (_, Some(first)) => Some(ReadStoreTrouble::Locked { since: first }),
            (trouble, None) => trouble.clone(),
        };
        ReadStoreHealth { trouble, blocked }
    }
}

impl Engine {
    fn blocked_after(&self) -> TimeDelta {
        TimeDelta::from_std(self.config.write_blocked_after).unwrap_or(TimeDelta::MAX)
    }

    /// The read store's health now: what this engine's last reads and
    /// writes of it said, and the projectors whose write waits too long.
    pub fn read_store_health(&self) -> ReadStoreHealth {
        let writing: Vec<(ProjectorId, DateTime<Utc>)> = self
            .projector_statuses()
            .iter()
            .filter_map(|s| s.writing_since.map(|since| (s.projector, since)))
            .collect();
        sync::lock(&self.read_health, "read-store health").report(
            &writing,
            Utc::now(),
            self.blocked_after(),
        )
    }

    /// Asks the read store whether it answers, and remembers the answer.
    pub async fn probe_read_store(&self) -> ReadStoreHealth {
        let answer = self.stores.read.ping().await;
        self.note_read(answer.as_ref().map(|_| ()));
        self.read_store_health()
    }

    /// A read of the read store answered with `result`.
    pub(crate) fn note_read(&self, result: Result<(), &StoreError>) {
        sync::lock(&self.read_health, "read-store health").read_answered(Utc::now(), result);
    }

    /// Runs one write of `projector` into the read store, marking the
    /// projector as inside it (so a write that waits shows) and noting how
    /// it went.
    pub(crate) async fn watched_write<F>(&self, projector: ProjectorId, write: F) -> StoreResult<()>
    where
        F: std::future::Future<Output = StoreResult<()>>,
    {
        let started = Utc::now();
        self.update_status(projector, |s| s.writing_since = Some(started));
        let result = write.await;
        self.update_status(projector, |s| s.writing_since = None);
        let blocked_after = self.blocked_after();
        sync::lock(&self.read_health, "read-store health").write_ended(
            started,
            Utc::now(),
            blocked_after,
            result.as_ref().map(|_| ()),
        );
        result
    }

    /// The read tables were replaced (replay, restore): forget what the old
    /// ones caused.
    pub(crate) fn read_store_rewritten(&self) {
        sync::lock(&self.read_health, "read-store health").trouble = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + secs, 0).unwrap()
    }

    fn locked() -> StoreError {
        StoreError::Unavailable {
            store: "sqlite at views.sqlite3".into(),
            message: "the database is locked by another process".into(),
        }
    }

    fn refused() -> StoreError {
        StoreError::Unavailable {
            store: "postgresql at 127.0.0.1:1/x".into(),
            message: "Connection refused".into(),
        }
    }

    const AFTER: TimeDelta = TimeDelta::seconds(2);

    #[test]
    fn a_write_that_waits_makes_the_store_locked_since_it_began_and_both_projectors_blocked() {
        let health = ReadHealth::default();
        let writing = [
            (ProjectorId::UserProjection, at(0)),
            (ProjectorId::BookingProjection, at(1)),
        ];
        assert_eq!(
            health.report(&writing, at(1), AFTER),
            ReadStoreHealth::default(),
            "a moment is not blocked"
        );
        let report = health.report(&writing, at(3), AFTER);
        assert_eq!(
            report.trouble,
            Some(ReadStoreTrouble::Locked { since: at(0) })
        );
        assert_eq!(report.blocked.len(), 2);
        assert_eq!(
            report.blocked_since(ProjectorId::BookingProjection),
            Some(at(1))
        );
    }

    #[test]
    fn a_lock_lasts_across_retries_until_a_write_succeeds() {
        let mut health = ReadHealth::default();
        // The busy timeout ran out: the write failed after waiting.
        health.write_ended(at(0), at(10), AFTER, Err(&locked()));
        assert_eq!(
            health.report(&[], at(10), AFTER).trouble,
            Some(ReadStoreTrouble::Locked { since: at(0) })
        );
        // The retry waits too: still locked since the first.
        let retry = [(ProjectorId::UserProjection, at(11))];
        assert_eq!(
            health.report(&retry, at(14), AFTER).trouble,
            Some(ReadStoreTrouble::Locked { since: at(0) })
        );
        // Reads answer while a write waits: that is no sign it is free.
        health.read_answered(at(14), Ok(()));
        assert!(health.report(&[], at(14), AFTER).trouble.is_some());
        health.write_ended(at(11), at(15), AFTER, Ok(()));
        assert_eq!(
            health.report(&[], at(15), AFTER),
            ReadStoreHealth::default()
        );
    }

    #[test]
    fn a_store_that_does_not_answer_is_unreachable_since_its_first_failure_until_it_answers() {
        let mut health = ReadHealth::default();
        health.write_ended(at(0), at(0), AFTER, Err(&refused()));
        health.read_answered(at(5), Err(&refused()));
        let trouble = health.report(&[], at(6), AFTER).trouble.unwrap();
        assert_eq!(trouble.since(), at(0));
        assert!(
            matches!(&trouble, ReadStoreTrouble::Unreachable { error, .. } if error.contains("Connection refused")),
            "{trouble:?}"
        );
        health.read_answered(at(7), Ok(()));
        assert_eq!(health.report(&[], at(7), AFTER).trouble, None);
    }

    #[test]
    fn refusals_and_failed_queries_say_nothing_of_health() {
        let mut health = ReadHealth::default();
        let foreign = StoreError::ForeignReadStore {
            store: "x".into(),
            found: None,
        };
        health.write_ended(at(0), at(9), AFTER, Err(&foreign));
        health.read_answered(at(9), Err(&StoreError::NotFound("no such table".into())));
        assert_eq!(health.report(&[], at(9), AFTER), ReadStoreHealth::default());
    }
}
