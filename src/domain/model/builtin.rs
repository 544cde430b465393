//! The built-in read models (`users`, `bookings`) and their schema
//! versions, taken from the tables' descriptions (`read_table!` in
//! `domain/projection.rs`, the one place a change of their columns is
//! declared). Read
//! tables and snapshots record the versions they were built with; tables
//! or snapshots of other versions are never written into or used.

use serde::{Deserialize, Serialize};

use super::{DescribedRow, TableDescription};
use crate::domain::projection::{BookingRow, UserRow};

/// A built-in read model: its name and the schema version this build writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BuiltinModel {
    /// Its name (also its table's name).
    pub name: &'static str,
    /// The schema version of its columns in this build.
    pub version: u32,
}

impl BuiltinModel {
    /// The model a described table makes.
    pub const fn of(table: &TableDescription) -> Self {
        BuiltinModel {
            name: table.name,
            version: table.version,
        }
    }
}

/// The `users` read model: its columns and version are declared with
/// [`UserRow`] (`domain/projection.rs`).
pub const USERS: BuiltinModel = BuiltinModel::of(&UserRow::DESCRIPTION);

/// The `bookings` read model: its columns and version are declared with
/// [`BookingRow`] (`domain/projection.rs`).
pub const BOOKINGS: BuiltinModel = BuiltinModel::of(&BookingRow::DESCRIPTION);

/// The schema version of each built-in read model: what this build writes,
/// or what a store's tables or a snapshot were built with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ModelVersions {
    /// The `users` model's version.
    pub users: u32,
    /// The `bookings` model's version.
    pub bookings: u32,
}

impl ModelVersions {
    /// The versions of tables and snapshots recorded before versions
    /// existed: today's columns, version 1 of each.
    pub const FIRST: ModelVersions = ModelVersions {
        users: 1,
        bookings: 1,
    };

    /// The versions this build writes.
    pub const BUILT_IN: ModelVersions = ModelVersions {
        users: USERS.version,
        bookings: BOOKINGS.version,
    };

    /// Each model's name with its version, in table order.
    pub fn named(&self) -> [(&'static str, u32); 2] {
        [(USERS.name, self.users), (BOOKINGS.name, self.bookings)]
    }

    /// Sets the version of the model named `name` (others are ignored:
    /// models this build does not know).
    pub fn set(&mut self, name: &str, version: u32) {
        if name == USERS.name {
            self.users = version;
        } else if name == BOOKINGS.name {
            self.bookings = version;
        }
    }

    /// The models whose versions differ: `(name, here, there)`.
    pub fn differing(&self, other: &ModelVersions) -> Vec<(&'static str, u32, u32)> {
        self.named()
            .into_iter()
            .zip(other.named())
            .filter(|((_, a), (_, b))| a != b)
            .map(|((name, a), (_, b))| (name, a, b))
            .collect()
    }
}

impl Default for ModelVersions {
    /// [`ModelVersions::FIRST`]: what a record without versions was built with.
    fn default() -> Self {
        ModelVersions::FIRST
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_models_that_changed_differ() {
        let two = ModelVersions {
            bookings: 2,
            ..ModelVersions::FIRST
        };
        assert_eq!(
            ModelVersions::FIRST.differing(&two),
            vec![("bookings", 1, 2)]
        );
        assert!(two.differing(&two).is_empty());
        let mut set = ModelVersions::FIRST;
        set.set("bookings", 2);
        set.set("someone_elses", 9);
        assert_eq!(set, two);
    }
}
