//! Keeping the read tables up to date: the projectors, replay, the cold
//! pass, repairs, the outage switch, holes and the pairing of a read store
//! with its ledger.

pub mod cold;
pub mod holes;
pub(crate) mod ledger_checkpoint;
pub mod outage;
pub mod pairing;
pub mod projector;
pub mod repair;
pub mod replay;
