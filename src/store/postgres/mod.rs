//! PostgreSQL read models (`users`, `bookings`, `projection_state`) with
//! `tokio-postgres` and a `deadpool-postgres` pool. Same columns and
//! conditional semantics as the embedded `views.sqlite3`; replay loads fresh
//! tables with binary `COPY` and swaps them in one transaction.

mod tls;
mod views;

use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, PoolError, RecyclingMethod, Runtime};
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres::error::SqlState;

use super::credentials::{CredentialError, PgTarget, resolve_postgres};
use super::error::redact;
use super::tls::explain_tls_failure;
use super::{StoreError, StoreResult};
use tls::TlsParams;

pub use views::PostgresViews;

/// Connections kept by one read store.
const POOL_SIZE: usize = 8;

/// Where a server is, for messages (`host:port/db`), without credentials.
fn location_of(config: &tokio_postgres::Config) -> String {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let port = config
                .get_ports()
                .get(i)
                .or(config.get_ports().first())
                .copied()
                .unwrap_or(5432);
            match h {
                Host::Tcp(name) => format!("{name}:{port}"),
                Host::Unix(path) => format!("{}:{port}", path.display()),
            }
        })
        .collect();
    let db = config
        .get_dbname()
        .or(config.get_user())
        .unwrap_or("postgres");
    format!(
        "{}/{db}",
        if hosts.is_empty() {
            "localhost:5432".to_string()
        } else {
            hosts.join(",")
        }
    )
}

/// What [`build_pool`] made: the pool, the store's label, and notes to
/// add to a refused sign-in (an ignored password file).
pub(crate) struct Built {
    pub pool: Pool,
    pub label: String,
    pub notes: Vec<String>,
}

/// Builds the pool (no connection is made yet), the connection completed
/// from the service file, libpq's environment and the password file.
/// Read-only pools open sessions the server itself keeps read-only.
fn build_pool(target: &PgTarget, timeout: Duration, read_only: bool) -> StoreResult<Built> {
    let shown = redact(target.url.as_deref().unwrap_or(""));
    let unusable = |why: String| {
        StoreError::Config(format!("the PostgreSQL URL {shown} is not usable: {why}"))
    };
    let resolved =
        resolve_postgres(target, &|name: &str| std::env::var(name).ok()).map_err(|e| match e {
            CredentialError::Unusable(why) => unusable(why),
            other => StoreError::Config(other.to_string()),
        })?;
    for note in &resolved.notes {
        tracing::warn!(note = %note, "postgresql credentials");
    }
    let (rest, tls) = TlsParams::split(&resolved.conninfo).map_err(|e| unusable(e.to_string()))?;
    let mut config: tokio_postgres::Config = rest
        .parse()
        .map_err(|e: tokio_postgres::Error| unusable(first_line(&e.to_string())))?;
    if let Some(password) = &resolved.password {
        config.password(password.expose());
    }
    if let Some(from) = &resolved.password_from {
        tracing::debug!(from = %from, "postgresql password");
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(timeout);
    }
    if read_only {
        let options = config.get_options().unwrap_or_default().to_string();
        config.options(format!("{options} -c default_transaction_read_only=on").trim());
    }
    if config.get_application_name().is_none() {
        config.application_name("ledgerscope");
    }
    let label = format!("postgresql at {}", location_of(&config));
    let manager_config = ManagerConfig {
        recycling_method: RecyclingMethod::Fast,
    };
    let manager = if tls.wants_tls() {
        config.ssl_mode(if tls.requires_tls() {
            SslMode::Require
        } else {
            SslMode::Prefer
        });
        let connector = tokio_postgres_rustls::MakeRustlsConnect::new(
            tls.client_config()
                .map_err(|e| StoreError::Config(format!("{label}: {e}")))?,
        );
        Manager::from_config(config, connector, manager_config)
    } else {
        config.ssl_mode(SslMode::Disable);
        Manager::from_config(config, tokio_postgres::NoTls, manager_config)
    };
    let pool = Pool::builder(manager)
        .max_size(POOL_SIZE)
        .runtime(Runtime::Tokio1)
        .create_timeout(Some(timeout))
        .wait_timeout(Some(timeout))
        .recycle_timeout(Some(timeout))
        .build()
        .map_err(|e| {
            StoreError::Config(format!("{label}: cannot build the connection pool: {e}"))
        })?;
    Ok(Built {
        pool,
        label,
        notes: resolved.notes,
    })
}

/// The first line of a driver's message, any connection string in it
/// redacted, at most 240 characters.
fn first_line(message: &str) -> String {
    redact(message)
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .chars()
        .take(240)
        .collect()
}

/// Maps a tokio-postgres error: cannot connect -> `Unavailable`, bad
/// password or unknown database -> `Config`, others -> `Failed`.
pub(crate) fn map_pg(store: &str, e: &tokio_postgres::Error) -> StoreError {
    if let Some(db) = e.as_db_error() {
        let code = db.code();
        let message = first_line(db.message());
        if *code == SqlState::INVALID_PASSWORD
            || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
        {
            return StoreError::Config(format!(
                "{store} refused the user name or password ({message})"
            ));
        }
        if *code == SqlState::INVALID_CATALOG_NAME {
            return StoreError::Config(format!("{store}: {message}"));
        }
        let class = code.code().get(..2).unwrap_or("");
        if matches!(class, "08" | "57" | "53") {
            return StoreError::Unavailable {
                store: store.to_string(),
                message,
            };
        }
        return StoreError::Failed {
            store: store.to_string(),
            message,
        };
    }
    let text = e.to_string();
    let cause = std::error::Error::source(e)
        .map(|s| s.to_string())
        .unwrap_or_default();
    let message = if cause.is_empty() || text.contains(&cause) {
        first_line(&text)
    } else {
        first_line(&format!("{text}: {cause}"))
    };
    if let Some(explained) = explain_tls_failure(&message) {
        return StoreError::Config(format!("{store}: {explained}"));
    }
    if e.is_closed()
        || text.contains("connect")
        || text.contains("timed out")
        || text.contains("unexpected")
    {
        StoreError::Unavailable {
            store: store.to_string(),
            message,
        }
    } else {
        StoreError::Failed {
            store: store.to_string(),
            message,
        }
    }
}

/// A refused sign-in, said plainly: no password found anywhere is a
/// configuration error that names where one may come from; the notes (an
/// ignored password file) are added.
pub(crate) fn signed_in_error(e: StoreError, notes: &[String]) -> StoreError {
    let noted = |m: String| match notes.is_empty() {
        true => m,
        false => format!("{m}; {}", notes.join("; ")),
    };
    match e {
        StoreError::Failed { store, message } if message.contains("password missing") => {
            StoreError::Config(noted(format!(
                "{store} asks for a password and none was given (in the URL, PGPASSWORD, the \
                 password file ~/.pgpass or PGPASSFILE, or the service file)"
            )))
        }
        StoreError::Config(m) => StoreError::Config(noted(m)),
        StoreError::Failed { store, message } => StoreError::Failed {
            store,
            message: noted(message),
        },
        other => other,
    }
}

/// Maps a pool error (timeouts and connection failures are `Unavailable`).
pub(crate) fn map_pool(store: &str, e: PoolError) -> StoreError {
    match e {
        PoolError::Backend(e) => map_pg(store, &e),
        PoolError::Timeout(_) => StoreError::Unavailable {
            store: store.to_string(),
            message: "no answer within the connect timeout (is it running, and is this a PostgreSQL port?)".into(),
        },
        other => StoreError::Unavailable {
            store: store.to_string(),
            message: first_line(&other.to_string()),
        },
    }
}
