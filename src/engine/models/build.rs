//! Folds the whole ledger into a model's file, in position order, a batch
//! per transaction; the batch's last position is written with it, so a
//! build stopped (cancelled, crashed) goes on from there. A file built from
//! another text or another ledger is started over.
//!
//! Row history: the build's connection has TEMP triggers on each table that
//! close a row's current version in `<table>__history` (its `valid_to`
//! becomes the event's position) and open the new one, so the rows at any
//! position are the versions valid there. Each event runs in a savepoint:
//! an event a block cannot apply (a constraint, a missing field, a payload
//! that does not decode) leaves nothing behind and is written into `errors`
//! with its position and the reason; the build goes on.
//!
//! Speed: the next page of the ledger is read while one is applied; the
//! history tables' indexes by position are made at the end of each run
//! (only the index by key, which closing a version needs, is kept up while
//! folding); every statement is prepared once.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::check::CheckedModel;
use super::{HISTORY_SUFFIX, ModelError, quote};
use crate::domain::model::TableDef;
use crate::domain::model::sql::{EventParams, ParamValue};
use crate::store::{EventLedger, LedgerEntry, next_from};

/// Events read and applied per transaction.
pub const BATCH: usize = 2_000;

/// How far a build is.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BuildProgress {
    /// The last position folded.
    pub position: u64,
    /// The ledger's head when the build started.
    pub head: u64,
    /// Entries folded by this run.
    pub events: u64,
    /// Entries per second in this run.
    pub rate_per_sec: f64,
    /// Seconds left at this rate (`None` before the first batch).
    pub eta_secs: Option<f64>,
    /// Events recorded in `errors` by this run.
    pub errors: u64,
}

/// How a build ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BuildEnd {
    /// Every entry up to the head is folded.
    Done,
    /// Cancelled after a batch; the next build goes on from there.
    Cancelled,
}

/// What a build did.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BuildReport {
    /// The model.
    pub model: String,
    /// How it ended.
    pub end: BuildEnd,
    /// The last position folded.
    pub position: u64,
    /// Where this run started (0: from the first event).
    pub resumed_from: u64,
    /// Entries folded by this run.
    pub events: u64,
    /// Events recorded in `errors` by this run.
    pub errors: u64,
    /// Seconds this run took.
    pub elapsed_secs: f64,
}

/// Builds (or goes on building) `model` into its file at `path` from
/// `ledger`, reporting progress after each batch and stopping after the
/// batch in which `cancel` fires. The events at the positions in `exclude`
/// are left out (a what-if); a file built with some left out is never gone
/// on from by a build without them, nor the other way round.
pub async fn build_model(
    ledger: &dyn EventLedger,
    model: &CheckedModel,
    path: &Path,
    exclude: &BTreeSet<u64>,
    cancel: &CancellationToken,
    progress: &mut (dyn FnMut(&BuildProgress) + Send),
) -> Result<BuildReport, ModelError> {
    let started = Instant::now();
    let ledger_id = ledger
        .identity()
        .await?
        .map(|i| i.id.to_string())
        .unwrap_or_default();
    let head = ledger.head().await?;
    let model = Arc::new(model.clone());
    let exclude = Arc::new(exclude.clone());
    let (mut file, resumed_from) = {
        let (model, path) = (model.clone(), path.to_path_buf());
        let stamp = Stamp {
            ledger_id: ledger_id.clone(),
            excluded: excluded_text(&exclude),
        };
        blocking(move || ModelFile::open(&path, &model, &stamp)).await?
    };
    let mut from = resumed_from + 1;
    let mut position = resumed_from;
    let (mut events, mut errors) = (0u64, 0u64);
    // The next page is read while this one is applied (the ledger reads on
    // its own connection's thread): reading and applying run at once.
    let mut read = ledger.read_range(from, BATCH).await;
    let end = loop {
        if cancel.is_cancelled() {
            break BuildEnd::Cancelled;
        }
        let page = read?;
        let Some(next) = next_from(from, &page) else {
            break BuildEnd::Done;
        };
        let (model, exclude) = (model.clone(), exclude.clone());
        let applying = blocking(move || {
            let applied = file.apply(&model, &page, &exclude)?;
            Ok((file, applied))
        });
        let (done, ahead) = tokio::join!(applying, ledger.read_range(next, BATCH));
        let (back, applied) = done?;
        read = ahead;
        file = back;
        from = next;
        position = next - 1;
        events += applied.entries;
        errors += applied.errors;
        let secs = started.elapsed().as_secs_f64().max(1e-6);
        let rate = events as f64 / secs;
        progress(&BuildProgress {
            position,
            head,
            events,
            rate_per_sec: rate,
            eta_secs: (rate > 0.0).then(|| head.saturating_sub(position) as f64 / rate),
            errors,
        });
    };
    {
        let model = model.clone();
        blocking(move || file.index_history(&model)).await?;
    }
    Ok(BuildReport {
        model: model.def.name.clone(),
        end,
        position,
        resumed_from,
        events,
        errors,
        elapsed_secs: started.elapsed().as_secs_f64(),
    })
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ModelError> + Send + 'static,
) -> Result<T, ModelError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ModelError::Crashed(e.to_string()))?
}

/// What a model's file was built from: the ledger and the positions left out.
struct Stamp {
    ledger_id: String,
    excluded: String,
}

/// The positions left out, as `model_meta` keeps them (empty: none).
fn excluded_text(exclude: &BTreeSet<u64>) -> String {
    exclude
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// What one batch did.
struct Applied {
    entries: u64,
    errors: u64,
}

/// A model's file open for building.
struct ModelFile {
    conn: Connection,
    path: PathBuf,
}

impl ModelFile {
    /// Opens the file, starting it over unless it was built from the same
    /// text and ledger; returns it and the last position folded.
    fn open(path: &Path, model: &CheckedModel, stamp: &Stamp) -> Result<(Self, u64), ModelError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| ModelError::Io {
                what: format!("cannot make {}", dir.display()),
                source,
            })?;
        }
        let err = ModelError::file(path);
        if path.exists() {
            let conn = Connection::open(path).map_err(&err)?;
            let value = |key| meta(&conn, key).ok().flatten();
            let same = value("digest").as_deref() == Some(&model.digest)
                && value("ledger_id").as_deref() == Some(&stamp.ledger_id)
                && value("excluded").unwrap_or_default() == stamp.excluded;
            let position = meta(&conn, "position")
                .ok()
                .flatten()
                .and_then(|p| p.parse::<u64>().ok());
            match (same, position) {
                (true, Some(position)) => {
                    let file = ModelFile {
                        conn,
                        path: path.to_path_buf(),
                    };
                    file.prepare_connection(model)?;
                    return Ok((file, position));
                }
                _ => {
                    drop(conn);
                    remove_model_file(path)?;
                }
            }
        }
        let conn = Connection::open(path).map_err(&err)?;
        let file = ModelFile {
            conn,
            path: path.to_path_buf(),
        };
        file.create(model, stamp)?;
        file.prepare_connection(model)?;
        Ok((file, 0))
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> ModelError + '_ {
        ModelError::file(&self.path)
    }

    /// A new file: the model's tables, their history tables, `errors` and `model_meta`.
    fn create(&self, model: &CheckedModel, stamp: &Stamp) -> Result<(), ModelError> {
        let mut sql = String::from("PRAGMA journal_mode=WAL; BEGIN;\n");
        for statement in &model.text.schema {
            sql.push_str(&statement.sql);
            sql.push_str(";\n");
        }
        for table in &model.def.tables {
            let t = quote(&table.name);
            let h = quote(&format!("{}{HISTORY_SUFFIX}", table.name));
            let key = key_columns(table);
            sql.push_str(&format!(
                "CREATE TABLE {h} AS SELECT * FROM {t} WHERE 0;
                 ALTER TABLE {h} ADD COLUMN valid_from INTEGER;
                 ALTER TABLE {h} ADD COLUMN valid_to INTEGER;
                 CREATE INDEX {hk} ON {h}({key}, valid_from);\n",
                hk = quote(&format!("{}__key", table.name)),
            ));
        }
        sql.push_str(
            "CREATE TABLE errors(position INTEGER NOT NULL, event_type TEXT NOT NULL,
                 statement INTEGER, line INTEGER, reason TEXT NOT NULL);
             CREATE INDEX errors_position ON errors(position);
             CREATE TABLE model_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
             COMMIT;",
        );
        self.conn.execute_batch(&sql).map_err(self.err())?;
        let definition = serde_json::to_string(&model.def).unwrap_or_default();
        for (key, value) in [
            ("name", model.def.name.as_str()),
            ("version", &model.def.version.to_string()),
            ("digest", &model.digest),
            ("ledger_id", &stamp.ledger_id),
            ("excluded", &stamp.excluded),
            ("definition", &definition),
            ("source", &model.source),
            ("position", "0"),
        ] {
            set_meta(&self.conn, key, value).map_err(self.err())?;
        }
        Ok(())
    }

    /// The history tables' indexes by position, made once at the end of a
    /// run rather than kept up row by row while it folds (a sorted build of
    /// the whole index is far cheaper than its inserts one by one); a file
    /// already holding them keeps them up.
    fn index_history(&self, model: &CheckedModel) -> Result<(), ModelError> {
        let mut sql = String::new();
        for table in &model.def.tables {
            let h = quote(&format!("{}{HISTORY_SUFFIX}", table.name));
            sql.push_str(&format!(
                "CREATE INDEX IF NOT EXISTS {hf} ON {h}(valid_from);
                 CREATE INDEX IF NOT EXISTS {ht} ON {h}(valid_to);\n",
                hf = quote(&format!("{}__from", table.name)),
                ht = quote(&format!("{}__to", table.name)),
            ));
        }
        self.conn.execute_batch(&sql).map_err(self.err())
    }

    /// This connection's cursor and the triggers that keep the history.
    /// Its page cache may grow to 256 MiB: the model's tables, their keys
    /// and their history's are written at random keys, and a cache of the
    /// default 2 MiB spills pages into the write-ahead log in the middle of
    /// a batch and reads them back.
    fn prepare_connection(&self, model: &CheckedModel) -> Result<(), ModelError> {
        let mut sql = String::from(
            "PRAGMA synchronous=NORMAL; PRAGMA recursive_triggers=ON; PRAGMA temp_store=MEMORY;
             PRAGMA cache_size=-262144;
             CREATE TEMP TABLE cursor(position INTEGER NOT NULL);
             INSERT INTO temp.cursor VALUES (0);\n",
        );
        const POS: &str = "(SELECT position FROM temp.cursor)";
        for table in &model.def.tables {
            let t = quote(&table.name);
            let h = format!("main.{}", quote(&format!("{}{HISTORY_SUFFIX}", table.name)));
            let cols: Vec<String> = table.columns.iter().map(|c| quote(&c.name)).collect();
            let list = cols.join(", ");
            let new = cols
                .iter()
                .map(|c| format!("NEW.{c}"))
                .collect::<Vec<_>>()
                .join(", ");
            let old_key = table
                .key
                .iter()
                .map(|&i| format!("{c} IS OLD.{c}", c = cols[i]))
                .collect::<Vec<_>>()
                .join(" AND ");
            let close = format!(
                "DELETE FROM {h} WHERE {old_key} AND valid_to IS NULL AND valid_from = {POS};
                 UPDATE {h} SET valid_to = {POS} WHERE {old_key} AND valid_to IS NULL;"
            );
            let open = format!("INSERT INTO {h}({list}, valid_from) VALUES ({new}, {POS});");
            let name = |what: &str| quote(&format!("{}__{what}", table.name));
            sql.push_str(&format!(
                "CREATE TEMP TRIGGER {ins} AFTER INSERT ON main.{t} BEGIN {open} END;
                 CREATE TEMP TRIGGER {upd} AFTER UPDATE ON main.{t} BEGIN {close} {open} END;
                 CREATE TEMP TRIGGER {del} AFTER DELETE ON main.{t} BEGIN {close} END;\n",
                ins = name("ins"),
                upd = name("upd"),
                del = name("del"),
            ));
        }
        // The model's statements and the build's own, prepared once.
        let statements: usize = model.text.handlers.iter().map(|h| h.statements.len()).sum();
        self.conn
            .set_prepared_statement_cache_capacity(statements + 16);
        self.conn.execute_batch(&sql).map_err(self.err())
    }

    /// Applies one page of entries in one transaction, with the checkpoint.
    fn apply(
        &mut self,
        model: &CheckedModel,
        page: &[LedgerEntry],
        exclude: &BTreeSet<u64>,
    ) -> Result<Applied, ModelError> {
        let path = self.path.clone();
        let err = ModelError::file(&path);
        let tx = self.conn.transaction().map_err(&err)?;
        let mut applied = Applied {
            entries: 0,
            errors: 0,
        };
        let mut last = 0;
        for entry in page {
            applied.entries += 1;
            let event = match entry {
                Ok(event) => event,
                Err(bad) => {
                    last = last.max(bad.position);
                    if bad.position > 0 {
                        record(
                            &tx,
                            bad.position,
                            "",
                            None,
                            &format!("malformed entry: {}", bad.reason),
                        )
                        .map_err(&err)?;
                        applied.errors += 1;
                    }
                    continue;
                }
            };
            last = last.max(event.position);
            if exclude.contains(&event.position) {
                continue;
            }
            let Some(statements) = model.statements(&event.event_type) else {
                continue;
            };
            let decoded = match event.decode() {
                Ok(decoded) => decoded,
                Err(e) => {
                    record(&tx, event.position, &event.event_type, None, &e.to_string())
                        .map_err(&err)?;
                    applied.errors += 1;
                    continue;
                }
            };
            let params = EventParams::new(event, &decoded);
            tx.prepare_cached("UPDATE temp.cursor SET position = ?1")
                .and_then(|mut s| s.execute([event.position as i64]))
                .map_err(&err)?;
            once(&tx, "SAVEPOINT event").map_err(&err)?;
            let mut failure = None;
            for (n, statement) in statements.iter().enumerate() {
                if let Err(reason) = run(&tx, statement, &params) {
                    failure = Some((n, statement.line, reason));
                    break;
                }
            }
            match failure {
                None => once(&tx, "RELEASE event").map_err(&err)?,
                Some((n, line, reason)) => {
                    once(&tx, "ROLLBACK TO event")
                        .and_then(|()| once(&tx, "RELEASE event"))
                        .map_err(&err)?;
                    record(
                        &tx,
                        event.position,
                        &event.event_type,
                        Some((n + 1, line)),
                        &reason.to_string(),
                    )
                    .map_err(&err)?;
                    applied.errors += 1;
                }
            }
        }
        set_meta(&tx, "position", &last.to_string()).map_err(&err)?;
        tx.commit().map_err(&err)?;
        Ok(applied)
    }
}

/// Runs `sql` (one statement without parameters) from the statement cache.
fn once(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

/// Why one statement of a model could not be applied to an event.
#[derive(Debug, thiserror::Error)]
enum ApplyFailure {
    /// The statement names a field the event does not have.
    #[error("the event has no field {0}")]
    MissingField(String),
    /// SQLite refused the statement.
    #[error(transparent)]
    Sql(#[from] rusqlite::Error),
}

/// Runs one statement with the event's parameters; the reason it failed.
fn run(
    conn: &Connection,
    statement: &crate::domain::model::sql::Statement,
    params: &EventParams,
) -> Result<(), ApplyFailure> {
    let mut stmt = conn.prepare_cached(&statement.sql)?;
    for param in &statement.params {
        let Some(index) = stmt.parameter_index(&param.sql_name)? else {
            continue;
        };
        let value = params
            .get(&param.path)
            .ok_or_else(|| ApplyFailure::MissingField(param.path.clone()))?;
        match value {
            ParamValue::Null => stmt.raw_bind_parameter(index, rusqlite::types::Null),
            ParamValue::Integer(i) => stmt.raw_bind_parameter(index, i),
            ParamValue::Real(f) => stmt.raw_bind_parameter(index, f),
            ParamValue::Text(s) => stmt.raw_bind_parameter(index, s),
        }?;
    }
    stmt.raw_execute()?;
    Ok(())
}

fn record(
    conn: &Connection,
    position: u64,
    event_type: &str,
    statement: Option<(usize, usize)>,
    reason: &str,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO errors(position, event_type, statement, line, reason) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            position as i64,
            event_type,
            statement.map(|s| s.0 as i64),
            statement.map(|s| s.1 as i64),
            reason
        ],
    )
    .map(|_| ())
}

fn key_columns(table: &TableDef) -> String {
    table
        .key
        .iter()
        .map(|&i| quote(&table.columns[i].name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A value of `model_meta`.
pub(crate) fn meta(conn: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    conn.query_row("SELECT value FROM model_meta WHERE key = ?1", [key], |r| {
        r.get(0)
    })
    .optional()
}

fn set_meta(conn: &Connection, key: &str, value: &str) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO model_meta(key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [key, value],
    )
    .map(|_| ())
}

/// Removes a model's file and its write-ahead files (nothing when absent).
pub fn remove_model_file(path: &Path) -> Result<(), ModelError> {
    for suffix in ["", "-wal", "-shm"] {
        let file = PathBuf::from(format!("{}{suffix}", path.display()));
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(ModelError::Io {
                    what: format!("cannot remove {}", file.display()),
                    source,
                });
            }
        }
    }
    Ok(())
}
