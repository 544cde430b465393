//! Whether the read store belongs to this ledger. A ledger has an id; read
//! tables are stamped with the id of the ledger they were built from. Tables
//! of another ledger, or with a checkpoint past this ledger's head, are
//! named in one sentence and never written into; a replay (after a
//! confirmation naming both) rebuilds them for this ledger. Tables made by a
//! build without identities are checked once against the ledger and then
//! adopted (stamped) or named as foreign.
//!
//! Beside the ledger, the tables record the schema version of each built-in
//! model they were built with ([`ModelVersions`]; tables stamped before
//! versions existed are version 1). Tables of this ledger but of other
//! versions are named in one sentence, never written into, and rebuilt by
//! a replay after the same confirmation (they are [`Pairing::Foreign`] with
//! [`Foreign::schema`] set: not this build's to write).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::model::ModelVersions;
use crate::domain::{DomainEvent, ProjectorId};
use crate::engine::{Engine, EngineError, EngineResult};
use crate::store::{ReadStamp, StoreError};

/// Rows per table read to check unstamped tables against the ledger.
const ADOPTION_SAMPLE_ROWS: usize = 50;

/// Read tables that must not be written for this ledger: of another
/// ledger, or of this one with other schema versions ([`Foreign::schema`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Foreign {
    /// The read store (`postgresql at host:port/db`).
    pub read_store: String,
    /// The ledger the tables are stamped with (`None`: not stamped).
    pub built_from: Option<Uuid>,
    /// The highest projector position stored with them.
    pub built_up_to: u64,
    /// This ledger's id (`None`: a read-only ledger without one).
    pub ledger: Option<Uuid>,
    /// This ledger's head.
    pub head: u64,
    /// Why, when the ids alone do not say it.
    pub detail: Option<String>,
    /// Set when the tables are of this ledger but were built with other
    /// schema versions of the models than this build writes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<SchemaChange>,
}

/// Read tables built with other schema versions than this build writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaChange {
    /// The versions the tables were built with.
    pub built_with: ModelVersions,
    /// The versions this build writes.
    pub this_build: ModelVersions,
}

/// The models whose versions differ, as the messages name them
/// (`bookings schema 1`, `users schema 1 and bookings schema 1`); every
/// model when none differ.
pub fn versions_text(versions: &ModelVersions, other: &ModelVersions) -> String {
    let differing = versions.differing(other);
    let named: Vec<String> = if differing.is_empty() {
        versions
            .named()
            .iter()
            .map(|(name, v)| format!("{name} schema {v}"))
            .collect()
    } else {
        differing
            .iter()
            .map(|(name, v, _)| format!("{name} schema {v}"))
            .collect()
    };
    named.join(" and ")
}

impl Foreign {
    /// Whether the tables are this ledger's, of other schema versions only.
    pub fn other_schema(&self) -> Option<&SchemaChange> {
        self.schema
            .as_ref()
            .filter(|_| self.built_from.is_some() && self.built_from == self.ledger)
    }
}

/// The first eight hex digits of an id, as the messages show ledgers.
pub fn short_id(id: Uuid) -> String {
    id.simple().to_string()[..8].to_string()
}

impl std::fmt::Display for Foreign {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(change) = self.other_schema() {
            return write!(
                f,
                "the read tables in {} were built with {}; this build writes {}: \
                 nothing is projected into them until a replay rebuilds them",
                self.read_store,
                versions_text(&change.built_with, &change.this_build),
                versions_text(&change.this_build, &change.built_with)
            );
        }
        let from = match self.built_from {
            Some(id) => format!("ledger {}", short_id(id)),
            None => "a ledger without an id".to_string(),
        };
        let this = match self.ledger {
            Some(id) => short_id(id),
            None => "a ledger without an id".to_string(),
        };
        write!(
            f,
            "the read tables in {} were built from {from} up to {}; this ledger is {this} at {}",
            self.read_store, self.built_up_to, self.head
        )?;
        if let Some(detail) = &self.detail {
            write!(f, " ({detail})")?;
        }
        write!(
            f,
            "; nothing is projected into them until a replay rebuilds them for this ledger"
        )
    }
}

/// How the read store stands with this ledger.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Pairing {
    /// Stamped with this ledger.
    Paired {
        /// The ledger's id.
        ledger: Uuid,
    },
    /// Not stamped (new tables, or tables of an earlier build); checked
    /// against the ledger and stamped now.
    Adopted {
        /// The ledger's id.
        ledger: Uuid,
        /// Rows whose last change was found in this ledger.
        checked_rows: u64,
    },
    /// Not stamped and consistent with this ledger, but opened read-only so
    /// not stamped now: fine to read.
    Unstamped {
        /// Rows whose last change was found in this ledger.
        checked_rows: u64,
    },
    /// Of another ledger, or past this one's head.
    Foreign(Foreign),
}

impl Pairing {
    /// The sentence when the pair must not be mixed.
    pub fn foreign(&self) -> Option<&Foreign> {
        match self {
            Pairing::Foreign(f) => Some(f),
            _ => None,
        }
    }
}

impl Engine {
    /// Checks the read store against this ledger (see the module docs), and
    /// stamps unstamped tables that agree with it unless observe-only.
    pub async fn check_pairing(&self) -> EngineResult<Pairing> {
        let identity = self.ledger_identity().await?;
        let stamp = self.stores.read.stamp().await?;
        let mut built_up_to = 0;
        for projector in ProjectorId::ALL {
            built_up_to = built_up_to.max(self.stores.read.projector_position(projector).await?);
        }
        // After the positions: the head only grows, so a position past it
        // is never a race with a new event.
        let head = self.stores.ledger.head().await?;
        let this_build = self.config.model_versions;
        let schema = stamp
            .map(|s| s.versions)
            .filter(|v| *v != this_build)
            .map(|built_with| SchemaChange {
                built_with,
                this_build,
            });
        let foreign = |built_from: Option<Uuid>, detail: Option<String>| {
            Pairing::Foreign(Foreign {
                read_store: self.read_info().to_string(),
                built_from,
                built_up_to,
                ledger: identity.map(|i| i.id),
                head,
                detail,
                schema,
            })
        };
        let pairing = match (identity, stamp) {
            (Some(identity), Some(ReadStamp { ledger_id, .. })) if ledger_id == identity.id => {
                if built_up_to > head {
                    foreign(
                        Some(ledger_id),
                        Some(
                            "their checkpoint is past the head: an older copy of this ledger?"
                                .into(),
                        ),
                    )
                } else if schema.is_some() {
                    foreign(Some(ledger_id), None)
                } else {
                    Pairing::Paired {
                        ledger: identity.id,
                    }
                }
            }
            (_, Some(stamp)) => foreign(Some(stamp.ledger_id), None),
            (identity, None) => {
                if built_up_to > head {
                    foreign(None, Some("their checkpoint is past the head".into()))
                } else {
                    match self.check_unstamped(head).await? {
                        Err(detail) => foreign(None, Some(detail.to_string())),
                        Ok(checked_rows) => match identity {
                            Some(identity) if !self.observe_only() => {
                                // Rows made before versions existed have
                                // version 1's columns; new tables this
                                // build's.
                                let versions = match checked_rows {
                                    0 => this_build,
                                    _ => ModelVersions::FIRST,
                                };
                                let stamped = self
                                    .stores
                                    .read
                                    .set_stamp(identity.id, None, versions)
                                    .await?;
                                // Whoever stamped first decides: check again,
                                // and say so when it was this check.
                                let again = Box::pin(self.check_pairing()).await?;
                                let pairing = match again {
                                    Pairing::Paired { ledger } if stamped => {
                                        if checked_rows > 0 {
                                            tracing::info!(
                                                read = %self.read_info(),
                                                ledger = %ledger,
                                                checked_rows,
                                                "adopted the read tables of a build without identities"
                                            );
                                        } else {
                                            tracing::debug!(
                                                read = %self.read_info(),
                                                ledger = %ledger,
                                                "new read tables stamped with this ledger"
                                            );
                                        }
                                        Pairing::Adopted {
                                            ledger,
                                            checked_rows,
                                        }
                                    }
                                    other => other,
                                };
                                self.remember_pairing(&pairing);
                                return Ok(pairing);
                            }
                            _ => Pairing::Unstamped { checked_rows },
                        },
                    }
                }
            }
        };
        self.remember_pairing(&pairing);
        Ok(pairing)
    }

    /// Records whether projectors may write (for [`Engine::paired_ledger`]).
    fn remember_pairing(&self, pairing: &Pairing) {
        let ledger = match pairing {
            Pairing::Paired { ledger } | Pairing::Adopted { ledger, .. } => Some(*ledger),
            _ => None,
        };
        *crate::engine::sync::write(&self.paired, "pairing") = ledger;
    }

    /// Whether the last check let projectors write into the read tables.
    pub(crate) fn pairing_known_good(&self) -> bool {
        crate::engine::sync::read(&self.paired, "pairing").is_some()
    }

    /// Forgets the last pairing (the next write checks again).
    pub(crate) fn forget_pairing(&self) {
        *crate::engine::sync::write(&self.paired, "pairing") = None;
    }

    /// The ledger id to write read tables for, checking the pairing first
    /// when it is not known to be good.
    pub(crate) async fn paired_ledger(&self) -> EngineResult<Uuid> {
        let known = *crate::engine::sync::read(&self.paired, "pairing");
        if let Some(ledger) = known {
            return Ok(ledger);
        }
        match self.check_pairing().await? {
            Pairing::Paired { ledger } | Pairing::Adopted { ledger, .. } => Ok(ledger),
            Pairing::Foreign(f) => Err(EngineError::Foreign(Box::new(f))),
            Pairing::Unstamped { .. } => Err(EngineError::ObserveOnly(
                "stamping the read tables with this ledger's id".into(),
            )),
        }
    }

    /// Turns a store's refusal to write into foreign tables (or tables of
    /// other schema versions) into the sentence naming both (checking the
    /// pairing again).
    pub(crate) async fn foreign_error(&self, error: StoreError) -> EngineError {
        if !matches!(
            error,
            StoreError::ForeignReadStore { .. } | StoreError::OtherSchema { .. }
        ) {
            return error.into();
        }
        self.forget_pairing();
        match self.check_pairing().await {
            Ok(Pairing::Foreign(f)) => EngineError::Foreign(Box::new(f)),
            Ok(_) => error.into(),
            Err(e) => e,
        }
    }

    /// Whether unstamped tables agree with this ledger: every sampled row's
    /// last change (and a user's creation) is an event of this ledger about
    /// that row. The rows checked, or why not.
    async fn check_unstamped(&self, head: u64) -> EngineResult<Result<u64, Disagreement>> {
        let read = &self.stores.read;
        let users = read.users_page(None, ADOPTION_SAMPLE_ROWS).await?;
        let bookings = read.bookings_page(None, ADOPTION_SAMPLE_ROWS).await?;
        let mut checked = 0;
        let event_at = |position: u64| async move {
            if position == 0 || position > head {
                return Ok::<_, EngineError>(None);
            }
            let entries = self.stores.ledger.read_range(position, 1).await?;
            Ok(entries
                .into_iter()
                .next()
                .and_then(Result::ok)
                .filter(|e| e.position == position))
        };
        for user in &users {
            for position in [user.created_position, user.last_position] {
                let about_user = match event_at(position).await? {
                    Some(event) => match event.decode() {
                        Ok(DomainEvent::BookingWizardCompleted { user: u, .. }) => {
                            u.user_id == user.user_id
                        }
                        Ok(DomainEvent::UserAddressChanged { user_id, .. }) => {
                            user_id == user.user_id
                        }
                        _ => false,
                    },
                    None => false,
                };
                if !about_user {
                    return Ok(Err(Disagreement::User {
                        user_id: user.user_id,
                        position,
                    }));
                }
            }
            checked += 1;
        }
        for booking in &bookings {
            let about_booking = event_at(booking.last_position)
                .await?
                .is_some_and(|e| e.aggregate_id == booking.booking_id);
            if !about_booking {
                return Ok(Err(Disagreement::Booking {
                    booking_id: booking.booking_id,
                    position: booking.last_position,
                }));
            }
            checked += 1;
        }
        Ok(Ok(checked))
    }
}

/// A sampled row of unstamped read tables that this ledger did not make.
#[derive(Debug, thiserror::Error)]
enum Disagreement {
    /// A user row names a position whose event is not about that user.
    #[error("user {user_id} says position {position} changed it; this ledger has no such event")]
    User {
        /// The row's user id.
        user_id: uuid::Uuid,
        /// The position the row names.
        position: u64,
    },
    /// A booking row names a position whose event is not about that booking.
    #[error(
        "booking {booking_id} says position {position} changed it; this ledger has no such event"
    )]
    Booking {
        /// The row's booking id.
        booking_id: uuid::Uuid,
        /// The position the row names.
        position: u64,
    },
}
