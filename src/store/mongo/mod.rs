//! The MongoDB ledger: collections `events`, `checkpoints`, `snapshots`,
//! `snapshot_chunks`, `locks`, `lock_fences` and `ledger_meta` (the schema is
//! in the README, so that other applications can write events we read).
//!
//! Designed for real MongoDB and its users, and run unchanged on FerretDB v1
//! (which scans a collection for nearly every query: it is slow, not wrong):
//!
//! - Positions come from a unique index on `position` (and `_id`, the
//!   zero-padded position) with insert-and-retry after the highest stored
//!   position; never from a counter, because FerretDB runs
//!   `findAndModify`/`$inc` as read-then-write (DESIGN invariant 3).
//! - Every read asks `events` itself: the head is the highest stored
//!   position, pages are the next N stored events after a position, and the
//!   existence and idempotency checks query `event_id` and `aggregate_id`
//!   (all indexed), so an event another client wrote is seen by all of them.
//! - A duplicate-key error is told apart by the server's `keyPattern` (real
//!   MongoDB sends it) or, where the server does not say, by asking the
//!   ledger which key is taken.
//! - Leases are compared in code; fencing numbers are claimed by inserting
//!   unique ids (no `$inc`); nothing relies on TTL indexes or transactions.
//! - Every write uses `w: majority, j: true` (DESIGN invariant 9).

mod codec;
mod ledger;
mod meta;
mod models;
mod repairs;

use std::sync::Arc;
use std::time::Duration;

use mongodb::bson::{Document, doc};
use mongodb::error::{ErrorKind, WriteFailure};
use mongodb::options::{
    Acknowledgment, ClientOptions, Credential, IndexOptions, Tls, WriteConcern,
};
use mongodb::{Client, Collection, Database, IndexModel};
use tokio::sync::Mutex;

use self::meta::{CheckpointDoc, FenceDoc, LockDoc, PartDoc, SnapshotDoc};
use super::credentials::Secret;
use super::error::redact;
use super::tls::{explain_tls_failure, system_roots_file};
use super::{StoreError, StoreResult};

/// The index on the user a booking wizard carries (a row's history finds
/// the events that can make a user's row through it).
const WIZARD_USER_INDEX: &str = "wizard_user_position";

/// The MongoDB ledger store (events, checkpoints, snapshots, locks).
pub struct MongoLedger {
    client: Client,
    db: Database,
    /// Untyped: other applications write events, and a malformed or foreign
    /// one must still be read (`codec` parses them leniently).
    events: Collection<Document>,
    /// `ledger_meta`: two shapes, so untyped here; the fencing hint is read
    /// as `meta::FencingHintDoc`, the identity by hand (`ledger.rs`).
    meta: Collection<Document>,
    /// One bookmark per projector.
    checkpoints: Collection<CheckpointDoc>,
    /// Snapshot metadata.
    snapshots: Collection<SnapshotDoc>,
    /// `snapshot_chunks`: the snapshots' binary parts.
    chunks: Collection<PartDoc>,
    /// Leases.
    locks: Collection<LockDoc>,
    /// `lock_fences`: claimed fencing numbers.
    fences: Collection<FenceDoc>,
    /// `mongodb at host:port/db`, for messages.
    label: String,
    /// `host:port/db`.
    location: String,
    /// True unless every host is on loopback.
    remote: bool,
    /// The password from the URI, scrubbed from any driver message.
    password: Option<String>,
    /// Serializes this process's appends (fewer position collisions); the
    /// unique indexes, not this, keep the ledger correct. Holds the last
    /// position this process stored or saw.
    append_lock: Mutex<u64>,
    /// Last fencing number this process claimed.
    fence_lock: Mutex<i64>,
    /// Opened for inspection: no index is created and every write is refused.
    read_only: bool,
}

/// A MongoDB user and password given apart from the URI (a password file,
/// `LEDGERSCOPE_MONGO_PASSWORD`, `--mongo-user`, the window's field).
#[derive(Clone, Debug, Default)]
pub struct MongoAuth {
    /// The user, when the URI names none.
    pub user: Option<String>,
    /// The password, when the URI has none.
    pub password: Option<Secret>,
}

impl MongoAuth {
    /// Puts the user and password into the driver's options; a password in
    /// the URI wins.
    fn apply(&self, options: &mut ClientOptions) -> StoreResult<()> {
        if self.user.is_none() && self.password.is_none() {
            return Ok(());
        }
        let credential = options.credential.get_or_insert_with(Credential::default);
        if credential.username.is_none() {
            credential.username.clone_from(&self.user);
        }
        if credential.password.is_none()
            && let Some(password) = &self.password
        {
            if credential.username.is_none() {
                return Err(StoreError::Config(
                    "a MongoDB password was given but no user: name the user in the URI or with --mongo-user".into(),
                ));
            }
            credential.password = Some(password.expose().to_string());
        }
        Ok(())
    }
}

impl MongoLedger {
    /// Connects to `uri` (as users write it: `mongodb://`, `mongodb+srv://`,
    /// replica sets, TLS and auth options), checks the server answers, and
    /// creates the indexes (idempotently) unless `read_only`. Gives up after
    /// about `timeout`.
    pub async fn open(
        uri: &str,
        db_name: &str,
        timeout: Duration,
        read_only: bool,
    ) -> StoreResult<Self> {
        let auth = MongoAuth::default();
        Self::connect_within(uri, &auth, db_name, timeout, read_only, !read_only).await
    }

    /// Connects and checks that the server answers and takes the
    /// credentials, creating nothing (no collection, no index): so a
    /// command that another store refuses leaves no ledger behind. Then
    /// [`MongoLedger::prepare`].
    /// `auth` gives the user and password when the URI has none.
    pub async fn reach(
        uri: &str,
        auth: &MongoAuth,
        db_name: &str,
        timeout: Duration,
        read_only: bool,
    ) -> StoreResult<Arc<Self>> {
        Self::connect_within(uri, auth, db_name, timeout, read_only, false)
            .await
            .map(Arc::new)
    }

    /// Creates the indexes if they are missing (a no-op when read-only),
    /// giving up after about `timeout`.
    pub async fn prepare(self: &Arc<Self>, timeout: Duration) -> StoreResult<()> {
        if self.read_only {
            return Ok(());
        }
        let this = self.clone();
        let task = tokio::spawn(async move { this.ensure_indexes().await });
        self.within(timeout, task).await
    }

    /// [`Self::connect`] on its own task, given up after about `timeout`.
    async fn connect_within(
        uri: &str,
        auth: &MongoAuth,
        db_name: &str,
        timeout: Duration,
        read_only: bool,
        with_indexes: bool,
    ) -> StoreResult<Self> {
        let shown = redact(uri);
        let (uri, name, auth) = (uri.to_string(), db_name.to_string(), auth.clone());
        let task = tokio::spawn(async move {
            let ledger = Self::connect(&uri, &auth, &name, timeout, read_only).await?;
            if with_indexes {
                ledger.ensure_indexes().await?;
            }
            Ok(ledger)
        });
        within(&format!("mongodb at {shown}"), timeout, task).await
    }

    async fn within<T>(
        &self,
        timeout: Duration,
        task: tokio::task::JoinHandle<StoreResult<T>>,
    ) -> StoreResult<T> {
        within(&self.label, timeout, task).await
    }

    async fn connect(
        uri: &str,
        auth: &MongoAuth,
        db_name: &str,
        timeout: Duration,
        read_only: bool,
    ) -> StoreResult<Self> {
        let shown = redact(uri);
        let mut options = ClientOptions::parse(uri).await.map_err(|e| {
            let password = password_in(uri);
            StoreError::Config(format!(
                "the MongoDB URI {shown} is not usable: {}",
                one_line(&scrub(&e.kind.to_string(), password.as_deref()))
            ))
        })?;
        if db_name.trim().is_empty() {
            return Err(StoreError::Config(
                "the MongoDB database name is empty".into(),
            ));
        }
        // tls=true without tlsCAFile: the driver would trust the public web
        // roots only; trust the system store (where internal CAs are
        // installed, public roots included) as other clients do.
        if let Some(Tls::Enabled(tls)) = options.tls.as_mut()
            && tls.ca_file_path.is_none()
        {
            tls.ca_file_path = system_roots_file();
        }
        auth.apply(&mut options)?;
        options.server_selection_timeout = Some(timeout);
        options.connect_timeout = Some(timeout);
        options
            .app_name
            .get_or_insert_with(|| "ledgerscope".to_string());
        options.write_concern = Some(majority());
        let password = options.credential.as_ref().and_then(|c| c.password.clone());
        let hosts: Vec<String> = options.hosts.iter().map(|h| h.to_string()).collect();
        let remote = !hosts
            .iter()
            .all(|h| h.starts_with("127.") || h.starts_with("localhost") || h.starts_with("[::1]"));
        let location = format!("{}/{db_name}", hosts.join(","));
        let label = format!("mongodb at {location}");
        let client = Client::with_options(options).map_err(|e| {
            StoreError::Config(format!(
                "the MongoDB URI {shown} is not usable: {}",
                one_line(&scrub(&e.kind.to_string(), password.as_deref()))
            ))
        })?;
        let db = client.database(db_name);
        let ledger = MongoLedger {
            events: db.collection::<Document>("events"),
            meta: db.collection::<Document>("ledger_meta"),
            checkpoints: db.collection::<CheckpointDoc>("checkpoints"),
            snapshots: db.collection::<SnapshotDoc>("snapshots"),
            chunks: db.collection::<PartDoc>("snapshot_chunks"),
            locks: db.collection::<LockDoc>("locks"),
            fences: db.collection::<FenceDoc>("lock_fences"),
            client,
            db,
            label,
            location,
            remote,
            password,
            append_lock: Mutex::new(0),
            fence_lock: Mutex::new(0),
            read_only,
        };
        ledger
            .db
            .run_command(doc! {"ping": 1})
            .await
            .map_err(|e| ledger.error(e))?;
        Ok(ledger)
    }

    /// Creates the indexes if they are missing (safe to run on every start).
    async fn ensure_indexes(&self) -> StoreResult<()> {
        let unique = |keys: Document, name: &str| {
            IndexModel::builder()
                .keys(keys)
                .options(
                    IndexOptions::builder()
                        .unique(true)
                        .name(name.to_string())
                        .build(),
                )
                .build()
        };
        let plain = |keys: Document, name: &str| {
            IndexModel::builder()
                .keys(keys)
                .options(IndexOptions::builder().name(name.to_string()).build())
                .build()
        };
        let partial = |filter: Document, name: &str| {
            IndexModel::builder()
                .keys(doc! {"position": 1})
                .options(
                    IndexOptions::builder()
                        .name(name.to_string())
                        .partial_filter_expression(filter)
                        .build(),
                )
                .build()
        };
        // Index models are untyped: the same handles, seen as documents.
        let chunks = self.chunks.clone_with_type::<Document>();
        let snapshots = self.snapshots.clone_with_type::<Document>();
        let wanted = [
            (
                &self.events,
                unique(doc! {"position": 1}, "position_unique"),
            ),
            (
                &self.events,
                unique(doc! {"event_id": 1}, "event_id_unique"),
            ),
            (
                &self.events,
                unique(
                    doc! {"aggregate_id": 1, "version": 1},
                    "aggregate_version_unique",
                ),
            ),
            (
                &self.events,
                plain(doc! {"event_type": 1, "position": 1}, "event_type_position"),
            ),
            (&self.events, plain(doc! {"recorded_at": 1}, "recorded_at")),
            (
                &self.events,
                plain(
                    doc! {"payload.user.user_id": 1, "position": 1},
                    WIZARD_USER_INDEX,
                ),
            ),
            (
                &chunks,
                unique(
                    doc! {"snapshot_id": 1, "seq": 1, "part": 1},
                    "snapshot_part_unique",
                ),
            ),
            (&snapshots, plain(doc! {"position": 1}, "position")),
            // Only another writer's doubles and decimals: `census` and
            // `unpositioned` look among them for positions like 6.5.
            (
                &self.events,
                partial(doc! {"position": {"$type": "double"}}, "position_double"),
            ),
            (
                &self.events,
                partial(doc! {"position": {"$type": "decimal"}}, "position_decimal"),
            ),
        ];
        // Only the missing ones, one at a time: FerretDB v1 drops the
        // connection when asked again for an index that exists.
        for (collection, model) in wanted {
            let name = model
                .options
                .as_ref()
                .and_then(|o| o.name.clone())
                .unwrap_or_default();
            let existing = match collection.list_index_names().await {
                Ok(names) => names,
                Err(e) if matches!(e.kind.as_ref(), ErrorKind::Command(c) if c.code == 26) => {
                    Vec::new()
                }
                Err(e) => return Err(self.error(e)),
            };
            if existing.contains(&name) {
                continue;
            }
            let partial = model
                .options
                .as_ref()
                .is_some_and(|o| o.partial_filter_expression.is_some());
            match collection.create_index(model).await {
                Ok(_) => {}
                // FerretDB v1 has no partial indexes; it scans for every
                // query anyway, so the query they serve works without.
                Err(e)
                    if partial
                        && matches!(e.kind.as_ref(), ErrorKind::Command(c) if c.code == 238) =>
                {
                    tracing::debug!(index = %name, "the server has no partial indexes");
                }
                Err(e) => return Err(self.error(e)),
            }
        }
        Ok(())
    }

    /// The database handle (tests and tools).
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// The shared driver client (cheap to clone).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Maps a driver error to a store error naming this server, without the password.
    fn error(&self, e: mongodb::error::Error) -> StoreError {
        map_error(&self.label, self.password.as_deref(), &e)
    }

    /// Refuses `what` on a read-only store.
    fn writable(&self, what: &str) -> StoreResult<()> {
        if self.read_only {
            Err(StoreError::ReadOnly {
                store: self.label.clone(),
                what: what.to_string(),
            })
        } else {
            Ok(())
        }
    }
}

/// Waits for a driver task for about `timeout`. Never drop a driver future
/// mid-flight: it runs on its own task and the handle is timed out instead
/// (the task ends by itself later).
async fn within<T>(
    store: &str,
    timeout: Duration,
    task: tokio::task::JoinHandle<StoreResult<T>>,
) -> StoreResult<T> {
    match tokio::time::timeout(timeout + Duration::from_secs(2), task).await {
        Ok(Ok(result)) => result,
        Ok(Err(e)) => Err(StoreError::Failed {
            store: store.to_string(),
            message: format!("connecting failed unexpectedly: {e}"),
        }),
        Err(_) => Err(StoreError::Unavailable {
            store: store.to_string(),
            message: format!("no answer within {} s", timeout.as_secs_f64()),
        }),
    }
}

/// `w: majority, j: true`.
fn majority() -> WriteConcern {
    WriteConcern::builder()
        .w(Acknowledgment::Majority)
        .journal(true)
        .build()
}

/// The password of a URI's user info, if any (for scrubbing messages).
fn password_in(uri: &str) -> Option<String> {
    let rest = &uri[uri.find("://")? + 3..];
    let authority = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
    let userinfo = &authority[..authority.rfind('@')?];
    let password = &userinfo[userinfo.find(':')? + 1..];
    (!password.is_empty()).then(|| password.to_string())
}

/// Removes the password (raw and percent-decoded forms) from a message.
fn scrub(message: &str, password: Option<&str>) -> String {
    match password {
        Some(p) if !p.is_empty() => message.replace(p, "***"),
        _ => message.to_string(),
    }
}

/// First line of a message, capped, so errors stay one sentence.
fn one_line(message: &str) -> String {
    let line = message.lines().next().unwrap_or("").trim();
    let mut out: String = line.chars().take(240).collect();
    if line.chars().count() > 240 {
        out.push('…');
    }
    out
}

/// MongoDB's code for a duplicate key.
const DUPLICATE_KEY: i32 = 11000;

/// True for a duplicate-key error. The server's structured errors are
/// checked first: code 11000 on a write error, an insert's `writeErrors` or a
/// command error (MongoDB always, FerretDB for inserts). Only then the
/// message "UNIQUE constraint failed": that match is for FerretDB alone,
/// which reports some unique violations (from updates and upserts) as an
/// `InternalError` without the code.
pub(crate) fn is_duplicate(e: &mongodb::error::Error) -> bool {
    let errors: Vec<(i32, &str)> = match e.kind.as_ref() {
        ErrorKind::Write(WriteFailure::WriteError(w)) => vec![(w.code, w.message.as_str())],
        ErrorKind::InsertMany(m) => m
            .write_errors
            .iter()
            .flatten()
            .map(|w| (w.code, w.message.as_str()))
            .collect(),
        ErrorKind::Command(c) => vec![(c.code, c.message.as_str())],
        _ => Vec::new(),
    };
    errors.iter().any(|(code, _)| *code == DUPLICATE_KEY)
        || errors
            .iter()
            .any(|(_, message)| message.contains("UNIQUE constraint failed"))
}

/// Maps a driver error: unreachable -> `Unavailable`, bad credentials ->
/// `Config`, anything else -> `Failed`; always one line, never the password.
pub(crate) fn map_error(
    store: &str,
    password: Option<&str>,
    e: &mongodb::error::Error,
) -> StoreError {
    let text = |m: &str| one_line(&scrub(m, password));
    if let Some(explained) = explain_tls_failure(&e.kind.to_string()) {
        return StoreError::Config(format!("{store}: {explained}"));
    }
    match e.kind.as_ref() {
        ErrorKind::ServerSelection { message, .. } => StoreError::Unavailable {
            store: store.to_string(),
            message: format!(
                "no MongoDB server answered ({})",
                text(&selection_cause(message))
            ),
        },
        ErrorKind::Io(io) => StoreError::Unavailable {
            store: store.to_string(),
            message: format!("connection lost: {}", text(&io.to_string())),
        },
        ErrorKind::ConnectionPoolCleared { message, .. } => StoreError::Unavailable {
            store: store.to_string(),
            message: format!("connection lost: {}", text(message)),
        },
        ErrorKind::DnsResolve { message, .. } => StoreError::Unavailable {
            store: store.to_string(),
            message: format!("cannot resolve the host: {}", text(message)),
        },
        ErrorKind::Shutdown => StoreError::Unavailable {
            store: store.to_string(),
            message: "the client was shut down".into(),
        },
        ErrorKind::Authentication { message, .. } => StoreError::Config(format!(
            "{store} refused the credentials: {}",
            text(message)
        )),
        ErrorKind::InvalidTlsConfig { message, .. } => StoreError::Config(format!(
            "{store}: the TLS settings are unusable: {}",
            text(message)
        )),
        ErrorKind::Command(c) if c.code == 18 || c.code == 13 => StoreError::Config(format!(
            "{store} refused the credentials or the permission: {}",
            text(&c.message)
        )),
        other => StoreError::Failed {
            store: store.to_string(),
            message: text(&other.to_string()),
        },
    }
}

/// The useful part of a server-selection message (the driver prints the whole topology).
fn selection_cause(message: &str) -> String {
    if let Some(i) = message.rfind("error: ") {
        let tail = &message[i + "error: ".len()..];
        let end = tail.find([',', '}']).unwrap_or(tail.len());
        let cause = tail[..end].trim();
        if !cause.is_empty() {
            return cause.to_string();
        }
    }
    if message.contains("Server selection timeout") {
        "timed out; is it running, and is this a MongoDB port?".to_string()
    } else {
        message.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::{ClientOptions, Credential, MongoAuth, Secret, password_in, scrub};

    #[test]
    fn a_password_given_apart_joins_the_uris_user_and_never_beats_the_uris() {
        let auth = MongoAuth {
            user: Some("bob".into()),
            password: Some(Secret::new("pw")),
        };
        let mut options = ClientOptions::builder().build();
        auth.apply(&mut options).unwrap();
        let c = options.credential.unwrap();
        assert_eq!(
            (c.username.as_deref(), c.password.as_deref()),
            (Some("bob"), Some("pw"))
        );
        let mut options = ClientOptions::builder().build();
        options.credential = Some(
            Credential::builder()
                .username("al".to_string())
                .password("from-uri".to_string())
                .build(),
        );
        auth.apply(&mut options).unwrap();
        let c = options.credential.unwrap();
        assert_eq!(
            (c.username.as_deref(), c.password.as_deref()),
            (Some("al"), Some("from-uri"))
        );
        let lone = MongoAuth {
            user: None,
            password: Some(Secret::new("pw")),
        };
        assert!(lone.apply(&mut ClientOptions::builder().build()).is_err());
        let mut untouched = ClientOptions::builder().build();
        MongoAuth::default().apply(&mut untouched).unwrap();
        assert!(untouched.credential.is_none());
    }

    #[test]
    fn finds_and_scrubs_the_password() {
        assert_eq!(
            password_in("mongodb://bob:s3cr@t@h:1/db").as_deref(),
            Some("s3cr@t")
        );
        assert_eq!(password_in("mongodb://h:1/db"), None);
        assert_eq!(
            scrub("auth failed for bob:pw1", Some("pw1")),
            "auth failed for bob:***"
        );
    }
}
