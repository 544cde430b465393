//! `EventLedger` on MongoDB: insert-and-retry positions after the highest
//! stored one, every read and check against `events` itself, tolerant reads.

use async_trait::async_trait;
use chrono::Utc;
use futures_util::TryStreamExt;
use mongodb::bson::{Bson, Document, RawBsonRef, RawDocumentBuf, doc};
use uuid::Uuid;

use super::codec::{doc_position, event_doc, i64_of, odd_position, parse_entry, raw_text};
use super::{MongoLedger, majority};
use crate::domain::StoredEvent;
use crate::domain::event::event_types;
use crate::store::{
    AppendOutcome, EventFilter, EventLedger, Hole, LedgerCensus, LedgerEntry, LedgerIdentity,
    MalformedEvent, RawRow, StoreError, StoreInfo, StoreResult, holes_between,
};

/// The events from position `from` on, in position order, in batches of
/// `limit`: the caller keeps the first `limit` with a usable position
/// ([`take_positioned`]), so a document at 6.5 never takes a place.
fn range<T: Send + Sync>(
    events: &mongodb::Collection<T>,
    from: u64,
    limit: usize,
) -> mongodb::action::Find<'_, T> {
    events
        .find(doc! {"position": {"$gte": i64_of(from.max(1))}})
        .sort(doc! {"position": 1})
        .batch_size(u32::try_from(limit.clamp(1, 10_000)).unwrap_or(10_000))
}

/// The first `limit` documents of `cursor` whose position is usable; those
/// with a position like 6.5 are left out (counted and listed as
/// unpositioned by `census` and `unpositioned`), so a reader that goes on
/// from the last position read never goes back.
async fn take_positioned<T>(
    mut cursor: mongodb::Cursor<T>,
    limit: usize,
    odd: impl Fn(&T) -> bool,
) -> mongodb::error::Result<Vec<T>>
where
    T: serde::de::DeserializeOwned + Send + Sync + Unpin,
{
    let mut out = Vec::with_capacity(limit.min(10_000));
    while out.len() < limit {
        let Some(document) = cursor.try_next().await? else {
            break;
        };
        if !odd(&document) {
            out.push(document);
        }
    }
    Ok(out)
}

/// The BSON types whose numbers of at least 1 may yet be no position
/// (6.5): doubles and decimals, which only another writer stores. On
/// MongoDB a partial index holds just these.
const ODD_TYPES: [&str; 2] = ["double", "decimal"];

/// `_id` of the ledger's identity in `ledger_meta`.
const IDENTITY: &str = "identity";
/// Give up after this many position collisions in a row (something else is wrong).
const MAX_COLLISIONS: u32 = 2_000;
/// Documents whose `position` is a usable one: a number of at least 1
/// (MongoDB compares numbers across int32, int64 and double).
fn positioned() -> Document {
    doc! {"position": {"$gte": 1}}
}

/// Which unique index refused an insert.
#[derive(Debug, PartialEq, Eq)]
enum Clash {
    /// `position` or `_id`: another event took the position first.
    Position,
    /// `event_id`: this event is stored already.
    EventId,
    /// `(aggregate_id, version)`: a concurrent write took the version.
    Version,
    /// The server did not say (FerretDB sends no `keyPattern`).
    Unknown,
}

/// What one insert did.
enum Inserted {
    Stored,
    Refused(Clash),
}

/// The clash a duplicate-key write error names in its `keyPattern`.
fn clash_of(error: &Document) -> Clash {
    match error.get_document("keyPattern") {
        Ok(pattern) if pattern.contains_key("event_id") => Clash::EventId,
        Ok(pattern) if pattern.contains_key("aggregate_id") => Clash::Version,
        Ok(pattern) if pattern.contains_key("position") || pattern.contains_key("_id") => {
            Clash::Position
        }
        _ => Clash::Unknown,
    }
}

impl MongoLedger {
    /// Up to `limit` documents whose position is a number of at least 1
    /// but no usable position (6.5): unpositioned, like a missing one.
    async fn odd_positioned(&self, limit: usize) -> StoreResult<Vec<Document>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for kind in ODD_TYPES {
            let found = self
                .events
                .find(doc! {"position": {"$gte": 1, "$type": kind}})
                .await;
            let mut cursor = match found {
                Ok(cursor) => cursor,
                // A server without Decimal128 (FerretDB v1) stores none.
                Err(e)
                    if kind == "decimal"
                        && matches!(e.kind.as_ref(), mongodb::error::ErrorKind::Command(c) if c.code == 2) =>
                {
                    continue;
                }
                Err(e) => return Err(self.error(e)),
            };
            while out.len() < limit
                && let Some(d) = cursor.try_next().await.map_err(|e| self.error(e))?
            {
                if odd_position(&d) {
                    out.push(d);
                }
            }
        }
        Ok(out)
    }

    async fn collect(&self, cursor: mongodb::Cursor<Document>) -> StoreResult<Vec<Document>> {
        cursor.try_collect().await.map_err(|e| self.error(e))
    }

    /// Inserts one event document with the `insert` command itself, so that a
    /// duplicate key comes back as the server's structured write error
    /// (`keyPattern` names the index) instead of a message to parse.
    async fn insert_event(&self, document: Document) -> StoreResult<Inserted> {
        let concern = majority();
        let reply = self
            .db
            .run_command(doc! {
                "insert": self.events.name(),
                "documents": [document],
                "ordered": true,
                "writeConcern": {
                    "w": "majority",
                    "j": concern.journal.unwrap_or(true),
                },
            })
            .await
            .map_err(|e| self.error(e))?;
        if let Ok(errors) = reply.get_array("writeErrors")
            && let Some(Bson::Document(first)) = errors.first()
        {
            let code = first.get_i32("code").unwrap_or(0);
            if code == 11000 {
                return Ok(Inserted::Refused(clash_of(first)));
            }
            return Err(StoreError::Failed {
                store: self.label.clone(),
                message: format!(
                    "the insert was refused (code {code}): {}",
                    first.get_str("errmsg").unwrap_or("no message")
                ),
            });
        }
        if let Ok(concern) = reply.get_document("writeConcernError") {
            return Err(StoreError::Failed {
                store: self.label.clone(),
                message: format!(
                    "the write was not acknowledged by a majority: {}",
                    concern.get_str("errmsg").unwrap_or("no message")
                ),
            });
        }
        Ok(Inserted::Stored)
    }

    /// The stored event with this id, by the `event_id` index.
    async fn event_by_id(&self, event_id: Uuid) -> StoreResult<Option<StoredEvent>> {
        let found = self
            .events
            .find_one(doc! {"event_id": event_id.to_string()})
            .await
            .map_err(|e| self.error(e))?;
        match found.map(|d| parse_entry(&d)) {
            None => Ok(None),
            Some(Ok(event)) => Ok(Some(event)),
            Some(Err(bad)) => Err(StoreError::Failed {
                store: self.label.clone(),
                message: format!(
                    "event {event_id} is stored at position {} but malformed: {}",
                    bad.position, bad.reason
                ),
            }),
        }
    }

    /// Whether `(aggregate_id, version)` is taken, by its unique index.
    async fn version_taken(&self, aggregate_id: Uuid, version: u64) -> StoreResult<bool> {
        Ok(self
            .events
            .find_one(doc! {"aggregate_id": aggregate_id.to_string(), "version": i64_of(version)})
            .projection(doc! {"_id": 1})
            .await
            .map_err(|e| self.error(e))?
            .is_some())
    }

    fn server_filter(filter: &EventFilter) -> Document {
        let mut query = match filter.before_position {
            None => positioned(),
            Some(before) => doc! {"position": {"$gte": 1, "$lt": i64_of(before)}},
        };
        if let Some(t) = &filter.event_type {
            query.insert("event_type", t.clone());
        }
        if let Some(a) = filter.aggregate_id {
            query.insert("aggregate_id", a.to_string());
        }
        let mut time = Document::new();
        if let Some(t) = filter.from_time {
            time.insert(
                "$gte",
                mongodb::bson::DateTime::from_millis(t.timestamp_millis()),
            );
        }
        if let Some(t) = filter.to_time {
            let ms = t.timestamp_micros().div_euclid(1000)
                + i64::from(t.timestamp_micros().rem_euclid(1000) > 0);
            time.insert("$lt", mongodb::bson::DateTime::from_millis(ms));
        }
        if !time.is_empty() {
            query.insert("recorded_at", time);
        }
        query
    }

    /// Walks the entries the server pre-filter lets through, in position
    /// order, applying the exact filter in code; `visit` returns false to stop.
    async fn scan_matching(
        &self,
        filter: &EventFilter,
        mut visit: impl FnMut(LedgerEntry) -> bool,
    ) -> StoreResult<()> {
        let mut cursor = self
            .events
            .find(Self::server_filter(filter))
            .sort(doc! {"position": 1})
            .await
            .map_err(|e| self.error(e))?;
        while let Some(d) = cursor.try_next().await.map_err(|e| self.error(e))? {
            let entry = parse_entry(&d);
            if filter.matches(&entry) && !visit(entry) {
                break;
            }
        }
        Ok(())
    }

    /// The identity document, if any.
    async fn read_identity(&self) -> StoreResult<Option<LedgerIdentity>> {
        let found = self
            .meta
            .find_one(doc! {"_id": IDENTITY})
            .await
            .map_err(|e| self.error(e))?;
        let Some(found) = found else {
            return Ok(None);
        };
        let id = found
            .get_str("ledger_id")
            .ok()
            .and_then(|t| Uuid::parse_str(t).ok())
            .ok_or_else(|| StoreError::Failed {
                store: self.label.clone(),
                message: "ledger_meta's identity document has no usable ledger_id".into(),
            })?;
        let created_at = match found.get("created_at") {
            Some(Bson::DateTime(t)) => {
                chrono::DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap_or_default()
            }
            _ => chrono::DateTime::default(),
        };
        Ok(Some(LedgerIdentity { id, created_at }))
    }
}

#[async_trait]
impl EventLedger for MongoLedger {
    fn info(&self) -> StoreInfo {
        StoreInfo {
            kind: "mongodb".into(),
            location: self.location.clone(),
            remote: self.remote,
        }
    }

    async fn ping(&self) -> StoreResult<()> {
        self.db
            .run_command(doc! {"ping": 1})
            .await
            .map(|_| ())
            .map_err(|e| self.error(e))
    }

    async fn identity(&self) -> StoreResult<Option<LedgerIdentity>> {
        self.read_identity().await
    }

    async fn ensure_identity(&self) -> StoreResult<LedgerIdentity> {
        if let Some(identity) = self.read_identity().await? {
            return Ok(identity);
        }
        self.writable("giving the ledger its identity")?;
        let now = Utc::now();
        // A fixed `_id`: of two instances making it at once, one insert wins
        // and both read that one back.
        match self
            .meta
            .insert_one(doc! {
                "_id": IDENTITY,
                "ledger_id": Uuid::new_v4().to_string(),
                "created_at": mongodb::bson::DateTime::from_millis(now.timestamp_millis()),
            })
            .await
        {
            Ok(_) => {}
            Err(e) if super::is_duplicate(&e) => {}
            Err(e) => return Err(self.error(e)),
        }
        self.read_identity()
            .await?
            .ok_or_else(|| StoreError::Failed {
                store: self.label.clone(),
                message: "the ledger identity was written but cannot be read back".into(),
            })
    }

    async fn append(&self, event: StoredEvent) -> StoreResult<AppendOutcome> {
        self.writable("appending an event")?;
        // One append at a time in this process (fewer collisions); the
        // unique indexes, not this, keep the ledger correct.
        let mut last_seen = self.append_lock.lock().await;
        let mut collisions = 0u32;
        loop {
            let position = self.head().await?.max(*last_seen) + 1;
            let clash = match self.insert_event(event_doc(&event, position)).await? {
                Inserted::Stored => {
                    *last_seen = position;
                    return Ok(AppendOutcome::Appended(StoredEvent { position, ..event }));
                }
                Inserted::Refused(clash) => clash,
            };
            // Where the server did not name the index, ask the ledger which
            // key is taken: the event id, the version, else the position.
            if matches!(clash, Clash::EventId | Clash::Unknown)
                && let Some(existing) = self.event_by_id(event.event_id).await?
            {
                return Ok(AppendOutcome::Duplicate(existing));
            }
            if clash == Clash::Version
                || (clash == Clash::Unknown
                    && self
                        .version_taken(event.aggregate_id, event.version)
                        .await?)
            {
                return Err(StoreError::VersionConflict {
                    aggregate_id: event.aggregate_id,
                    version: event.version,
                });
            }
            if clash == Clash::EventId {
                // Refused for its id, yet not found: stored between the two calls
                // by a writer that failed since? Look once more, then give up.
                return match self.event_by_id(event.event_id).await? {
                    Some(existing) => Ok(AppendOutcome::Duplicate(existing)),
                    None => Err(StoreError::Failed {
                        store: self.label.clone(),
                        message: format!(
                            "event {} was refused as a duplicate but is not stored",
                            event.event_id
                        ),
                    }),
                };
            }
            collisions += 1;
            if collisions >= MAX_COLLISIONS {
                return Err(StoreError::Failed {
                    store: self.label.clone(),
                    message: format!("could not find a free position after {collisions} tries"),
                });
            }
            *last_seen = position;
        }
    }

    async fn find_event(&self, event_id: Uuid) -> StoreResult<Option<StoredEvent>> {
        self.event_by_id(event_id).await
    }

    async fn first_of_aggregate(&self, aggregate_id: Uuid) -> StoreResult<Option<StoredEvent>> {
        let cursor = self
            .events
            .find(doc! {"aggregate_id": aggregate_id.to_string()})
            .sort(doc! {"version": 1, "position": 1})
            .limit(1)
            .await
            .map_err(|e| self.error(e))?;
        Ok(self
            .collect(cursor)
            .await?
            .iter()
            .map(parse_entry)
            .find_map(Result::ok))
    }

    async fn read_range(&self, from: u64, limit: usize) -> StoreResult<Vec<LedgerEntry>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let cursor = range(&self.events, from, limit)
            .await
            .map_err(|e| self.error(e))?;
        Ok(take_positioned(cursor, limit, odd_position)
            .await
            .map_err(|e| self.error(e))?
            .iter()
            .map(parse_entry)
            .collect())
    }

    async fn read_raw_range(&self, from: u64, limit: usize) -> StoreResult<Vec<RawRow>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let cursor = range(
            &self.events.clone_with_type::<RawDocumentBuf>(),
            from,
            limit,
        )
        .await
        .map_err(|e| self.error(e))?;
        // The common types read straight off the raw bytes; any other
        // number (a double, a decimal) through its document.
        let position_of = |raw: &RawDocumentBuf| match raw.get("position") {
            Ok(Some(RawBsonRef::Int64(n))) => u64::try_from(n).unwrap_or(0),
            Ok(Some(RawBsonRef::Int32(n))) => u64::try_from(n).unwrap_or(0),
            _ => Document::try_from(raw.as_ref()).map_or(0, |d| doc_position(&d)),
        };
        let documents = take_positioned(cursor, limit, |raw: &RawDocumentBuf| {
            position_of(raw) == 0
                && Document::try_from(raw.as_ref()).is_ok_and(|d| odd_position(&d))
        })
        .await
        .map_err(|e| self.error(e))?;
        Ok(documents
            .into_iter()
            .map(|raw| RawRow {
                position: position_of(&raw),
                bytes: raw.into_bytes(),
            })
            .collect())
    }

    async fn head(&self) -> StoreResult<u64> {
        // A few from the top: one whose position is not a whole number
        // (a foreign writer's 7.5) is not a position.
        let cursor = self
            .events
            .find(positioned())
            .sort(doc! {"position": -1})
            .limit(8)
            .projection(doc! {"position": 1})
            .await
            .map_err(|e| self.error(e))?;
        Ok(self
            .collect(cursor)
            .await?
            .iter()
            .map(doc_position)
            .max()
            .unwrap_or(0))
    }

    async fn count(&self) -> StoreResult<u64> {
        self.events
            .count_documents(doc! {})
            .await
            .map_err(|e| self.error(e))
    }

    async fn census(&self) -> StoreResult<LedgerCensus> {
        let head = self.head().await?;
        let all = self.count().await?;
        let numbered = self
            .events
            .count_documents(positioned())
            .await
            .map_err(|e| self.error(e))?;
        let odd = self.odd_positioned(usize::MAX).await?.len() as u64;
        let positioned = numbered.saturating_sub(odd);
        Ok(LedgerCensus {
            head,
            positioned,
            unpositioned: all.saturating_sub(positioned),
        })
    }

    async fn holes(&self, limit: usize) -> StoreResult<Vec<Hole>> {
        // Positions only, in order (a walk of the position index on MongoDB).
        let mut cursor = self
            .events
            .find(positioned())
            .sort(doc! {"position": 1})
            .projection(doc! {"position": 1, "_id": 0})
            .await
            .map_err(|e| self.error(e))?;
        let mut holes = Vec::new();
        let mut last = 0;
        while let Some(d) = cursor.try_next().await.map_err(|e| self.error(e))? {
            let at = doc_position(&d);
            if at == 0 {
                continue;
            }
            holes.extend(holes_between(last, [at]));
            last = last.max(at);
            if holes.len() >= limit {
                holes.truncate(limit);
                break;
            }
        }
        Ok(holes)
    }

    async fn unpositioned(&self, limit: usize) -> StoreResult<Vec<MalformedEvent>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let cursor = self
            .events
            .find(doc! {"position": {"$not": {"$gte": 1}}})
            .limit(i64_of(limit as u64))
            .await
            .map_err(|e| self.error(e))?;
        let mut out: Vec<MalformedEvent> = self
            .collect(cursor)
            .await?
            .iter()
            .map(|d| MalformedEvent {
                position: 0,
                reason: "position is missing or not a positive integer".into(),
                raw: raw_text(d),
            })
            .collect();
        let room = limit.saturating_sub(out.len());
        out.extend(
            self.odd_positioned(room)
                .await?
                .iter()
                .map(|d| MalformedEvent {
                    position: 0,
                    reason: format!(
                        "position {} is not a whole number from 1 to 2^53",
                        d.get("position")
                            .map_or_else(String::new, ToString::to_string)
                    ),
                    raw: raw_text(d),
                }),
        );
        Ok(out)
    }

    async fn stream(&self, aggregate_id: Uuid) -> StoreResult<Vec<LedgerEntry>> {
        let cursor = self
            .events
            .find(doc! {"aggregate_id": aggregate_id.to_string()})
            .sort(doc! {"version": 1, "position": 1})
            .await
            .map_err(|e| self.error(e))?;
        Ok(self
            .collect(cursor)
            .await?
            .iter()
            .map(parse_entry)
            .collect())
    }

    async fn wizards_carrying(&self, user_id: Uuid) -> StoreResult<Option<Vec<LedgerEntry>>> {
        // A writable open made the index; a read-only one may find none (a
        // scan of every wizard instead would be slower than the fallback).
        if self.read_only {
            let names = match self.events.list_index_names().await {
                Ok(names) => names,
                // No `events` collection: nothing carries anyone.
                Err(e) if matches!(e.kind.as_ref(), mongodb::error::ErrorKind::Command(c) if c.code == 26) =>
                {
                    return Ok(Some(Vec::new()));
                }
                Err(e) => return Err(self.error(e)),
            };
            if !names.iter().any(|n| n == super::WIZARD_USER_INDEX) {
                return Ok(None);
            }
        }
        let cursor = self
            .events
            .find(doc! {
                "event_type": event_types::BOOKING_WIZARD_COMPLETED,
                "payload.user.user_id": user_id.to_string(),
            })
            .sort(doc! {"position": 1})
            .await
            .map_err(|e| self.error(e))?;
        Ok(Some(
            self.collect(cursor)
                .await?
                .iter()
                .map(parse_entry)
                .collect(),
        ))
    }

    async fn search(
        &self,
        filter: &EventFilter,
        offset: u64,
        limit: usize,
    ) -> StoreResult<Vec<LedgerEntry>> {
        let mut out = Vec::new();
        if limit == 0 {
            return Ok(out);
        }
        if filter.text.is_none() && filter.from_time.is_none() && filter.to_time.is_none() {
            // The server filter is the exact one: let it skip (by the index).
            let cursor = self
                .events
                .find(Self::server_filter(filter))
                .sort(doc! {"position": 1})
                .skip(offset)
                .limit(i64_of(limit as u64))
                .await
                .map_err(|e| self.error(e))?;
            return Ok(self
                .collect(cursor)
                .await?
                .iter()
                .map(parse_entry)
                .collect());
        }
        let mut skipped = 0u64;
        self.scan_matching(filter, |entry| {
            if skipped < offset {
                skipped += 1;
                return true;
            }
            out.push(entry);
            out.len() < limit
        })
        .await?;
        Ok(out)
    }

    async fn count_matching(&self, filter: &EventFilter) -> StoreResult<u64> {
        if filter.text.is_none() && filter.from_time.is_none() && filter.to_time.is_none() {
            return self
                .events
                .count_documents(Self::server_filter(filter))
                .await
                .map_err(|e| self.error(e));
        }
        let mut n = 0u64;
        self.scan_matching(filter, |_| {
            n += 1;
            true
        })
        .await?;
        Ok(n)
    }
}
