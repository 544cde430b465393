//! Infrastructure errors, kept apart from domain errors. Each message is one
//! sentence that names the store; none ever contains a password.

use uuid::Uuid;

/// What went wrong talking to a store.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The server or file cannot be reached or opened right now.
    #[error("{store} is unavailable: {message}")]
    Unavailable {
        /// Which store (`postgresql at 127.0.0.1:5432/x`).
        store: String,
        /// What happened.
        message: String,
    },
    /// Optimistic concurrency: the aggregate version is taken.
    #[error(
        "aggregate {aggregate_id} already has version {version} (a concurrent write); retry the command"
    )]
    VersionConflict {
        /// The aggregate.
        aggregate_id: Uuid,
        /// The taken version.
        version: u64,
    },
    /// A query or write failed for another reason.
    #[error("{store}: {message}")]
    Failed {
        /// Which store.
        store: String,
        /// What happened.
        message: String,
    },
    /// The configuration is wrong (bad URI, unusable data dir).
    #[error("{0}")]
    Config(String),
    /// Something asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The operation was cancelled by the user; nothing was changed.
    #[error("cancelled; nothing was changed")]
    Cancelled,
    /// The read tables are stamped with another ledger (or none): nothing
    /// was written into them.
    #[error("{store}: the read tables were built from {}; nothing was written", found.map_or_else(|| "no known ledger".to_string(), |id| format!("ledger {id}")))]
    ForeignReadStore {
        /// Which store.
        store: String,
        /// The ledger id the tables are stamped with.
        found: Option<Uuid>,
    },
    /// The read tables are of this ledger but were built with other schema
    /// versions of the models: nothing was written into them.
    #[error("{store}: the read tables were built with other schema versions (users {}, bookings {}); nothing was written", found.users, found.bookings)]
    OtherSchema {
        /// Which store.
        store: String,
        /// The versions the tables were built with.
        found: crate::domain::model::ModelVersions,
    },
    /// The store was opened read-only (an inspection): writes are refused.
    #[error("{store} is open read-only; {what} would write")]
    ReadOnly {
        /// Which store.
        store: String,
        /// What was refused.
        what: String,
    },
}

impl StoreError {
    /// True for errors worth retrying later (the server may come back).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            StoreError::Unavailable { .. } | StoreError::Failed { .. }
        )
    }
}

/// Removes the password from a URI-ish string (`scheme://user:pass@host`),
/// and any `password=` parameter, for display.
pub fn redact(uri: &str) -> String {
    let mut out = uri.to_string();
    if let Some(scheme_end) = out.find("://") {
        let rest_start = scheme_end + 3;
        let authority_end = out[rest_start..]
            .find(['/', '?'])
            .map_or(out.len(), |i| rest_start + i);
        if let Some(at) = out[rest_start..authority_end].rfind('@') {
            let userinfo = &out[rest_start..rest_start + at];
            if let Some(colon) = userinfo.find(':') {
                let start = rest_start + colon + 1;
                out.replace_range(start..rest_start + at, "***");
            }
        }
    }
    let lower = out.to_lowercase();
    if let Some(i) = lower.find("password=") {
        let start = i + "password=".len();
        let end = out[start..]
            .find(['&', ' ', ';'])
            .map_or(out.len(), |j| start + j);
        out.replace_range(start..end, "***");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_never_survive_redaction() {
        assert_eq!(
            redact("mongodb://bob:s3cr@t@h:1/db"),
            "mongodb://bob:***@h:1/db"
        );
        assert_eq!(
            redact("postgres://u:pw@h/db?sslmode=require"),
            "postgres://u:***@h/db?sslmode=require"
        );
        assert_eq!(
            redact("host=h user=u password=pw dbname=x"),
            "host=h user=u password=*** dbname=x"
        );
        assert_eq!(
            redact("mongodb://h:1/?authSource=admin&password=x"),
            "mongodb://h:1/?authSource=admin&password=***"
        );
        assert_eq!(redact("mongodb://h:1/db"), "mongodb://h:1/db");
    }
}
