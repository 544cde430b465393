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
    /// A published model's tables were built from another ledger or
    /// another definition of the model: nothing was written into them.
    #[error(
        "{store}: the published tables of model {model} were built from {what}; nothing was written (a replay rebuilds them)"
    )]
    OtherPublished {
        /// Which store.
        store: String,
        /// The model.
        model: String,
        /// What they were built from (`ledger ...`, `another definition`).
        what: String,
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

/// Removes every password from a text that may hold connection strings,
/// for display and logs: the password of each `scheme://user:pass@host`
/// (wherever it is in the text, several times) and the value of each
/// `password=` setting (URL parameter or `key=value`, quoted or not).
/// The one redaction every printed or logged URL goes through.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(scheme_end) = rest.find("://") {
        let start = scheme_end + 3;
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        let authority_end = after
            .find(|c: char| {
                c == '/' || c == '?' || c == '#' || c.is_whitespace() || c == '"' || c == '\''
            })
            .unwrap_or(after.len());
        let authority = &after[..authority_end];
        match authority.rfind('@') {
            Some(at) => {
                let userinfo = &authority[..at];
                match userinfo.find(':') {
                    Some(colon) => {
                        out.push_str(&userinfo[..colon]);
                        out.push_str(":***");
                    }
                    None => out.push_str(userinfo),
                }
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &after[authority_end..];
    }
    out.push_str(rest);
    redact_password_settings(&out)
}

/// `password=VALUE` (any case, spaces around `=`, quoted or not) becomes
/// `password=***`.
fn redact_password_settings(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut search = 0;
    while let Some(found) = lower[search..].find("password") {
        let key_end = search + found + "password".len();
        search = key_end;
        let after = &text[key_end..];
        let trimmed = after.trim_start();
        let Some(value) = trimmed.strip_prefix('=') else {
            continue;
        };
        let value = value.trim_start();
        let value_start = text.len() - value.len();
        let value_end = if let Some(quoted) = value.strip_prefix('\'') {
            let mut end = None;
            let mut escaped = false;
            for (i, c) in quoted.char_indices() {
                match c {
                    '\\' if !escaped => escaped = true,
                    '\'' if !escaped => {
                        end = Some(value_start + 1 + i + 1);
                        break;
                    }
                    _ => escaped = false,
                }
            }
            end.unwrap_or(text.len())
        } else {
            value
                .find(|c: char| c == '&' || c == ';' || c == '"' || c.is_whitespace())
                .map_or(text.len(), |i| value_start + i)
        };
        out.push_str(&text[copied..value_start]);
        out.push_str("***");
        copied = value_end;
        search = value_end;
    }
    out.push_str(&text[copied..]);
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
        assert_eq!(
            redact("host=h password = 'a \\'b c' dbname=x"),
            "host=h password = *** dbname=x"
        );
        assert_eq!(
            redact("error connecting to postgres://u:pw@h/db: refused (was mongodb://a:b@c)"),
            "error connecting to postgres://u:***@h/db: refused (was mongodb://a:***@c)"
        );
        assert_eq!(
            redact("args: --postgres-url postgres://u:pw@h --x 1"),
            "args: --postgres-url postgres://u:***@h --x 1"
        );
        assert_eq!(redact("PASSWORD=x;y"), "PASSWORD=***;y");
        assert_eq!(redact("no password here"), "no password here");
        assert_eq!(redact("ünïcode://ü:pw@h"), "ünïcode://ü:***@h");
    }
}
