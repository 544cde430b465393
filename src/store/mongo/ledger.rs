//! `EventLedger` on MongoDB: insert-and-retry positions, key documents for
//! fast lookups by id, tolerant reads.

use async_trait::async_trait;
use futures_util::TryStreamExt;
use mongodb::bson::{Bson, Document, doc};
use uuid::Uuid;

use super::codec::{doc_position, event_doc, i64_of, parse_entry, position_id};
use super::{MongoLedger, is_duplicate};
use crate::domain::StoredEvent;
use crate::store::{
    AppendOutcome, EventFilter, EventLedger, LedgerEntry, StoreError, StoreInfo, StoreResult,
};

/// `_id` of the position hint in `ledger_meta`.
const HEAD_HINT: &str = "head";
/// Forward probes in `head()` before falling back to one sorted query.
const MAX_HEAD_PROBES: u64 = 16;
/// Position collisions in a row before `append` asks the ledger itself (not
/// the key documents) whether the event id or version is taken.
const CHECK_EVERY_COLLISIONS: u32 = 8;
/// Give up after this many collisions (something else is wrong).
const MAX_COLLISIONS: u32 = 2_000;

/// Which unique index a duplicate-key error names (real MongoDB says; FerretDB does not).
#[derive(Debug, PartialEq, Eq)]
enum Clash {
    Position,
    EventId,
    Version,
    Unknown,
}

fn clash_of(e: &mongodb::error::Error) -> Clash {
    let message = e.to_string();
    if message.contains("position_unique") || message.contains("index: _id_") {
        Clash::Position
    } else if message.contains("event_id_unique") {
        Clash::EventId
    } else if message.contains("aggregate_version_unique") {
        Clash::Version
    } else {
        Clash::Unknown
    }
}

fn event_key(event_id: Uuid) -> String {
    format!("e:{event_id}")
}

fn version_key(aggregate_id: Uuid, version: u64) -> String {
    format!("v:{aggregate_id}:{version}")
}

impl MongoLedger {
    async fn collect(&self, cursor: mongodb::Cursor<Document>) -> StoreResult<Vec<Document>> {
        cursor.try_collect().await.map_err(|e| self.error(e))
    }

    /// The best-effort position hint (`None` when never written).
    async fn head_hint(&self) -> StoreResult<Option<u64>> {
        let found = self
            .meta
            .find_one(doc! {"_id": HEAD_HINT})
            .await
            .map_err(|e| self.error(e))?;
        Ok(found.map(|d| doc_position(&d)))
    }

    /// Raises the hint (best effort: FerretDB may lose a concurrent `$max`,
    /// which only makes the next reader probe a little further).
    async fn raise_head_hint(&self, position: u64) {
        let _ = self
            .meta
            .update_one(
                doc! {"_id": HEAD_HINT},
                doc! {"$max": {"position": i64_of(position)}},
            )
            .upsert(true)
            .await;
    }

    /// Highest position by one sorted query (scans on FerretDB; used rarely).
    async fn head_by_query(&self) -> StoreResult<u64> {
        let cursor = self
            .events
            .find(doc! {"position": {"$gt": 0}})
            .sort(doc! {"position": -1})
            .limit(1)
            .projection(doc! {"position": 1})
            .await
            .map_err(|e| self.error(e))?;
        let docs = self.collect(cursor).await?;
        let head = docs.first().map_or(0, doc_position);
        if head > 0 {
            self.raise_head_hint(head).await;
        }
        Ok(head)
    }

    async fn exists_at(&self, position: u64) -> StoreResult<bool> {
        Ok(self
            .events
            .find_one(doc! {"_id": position_id(position)})
            .projection(doc! {"_id": 1})
            .await
            .map_err(|e| self.error(e))?
            .is_some())
    }

    /// Writes the lookup keys of a stored event (best effort: a missing key
    /// only makes a later lookup slower or `append` check the ledger itself).
    async fn write_keys(&self, event: &StoredEvent, doc: &Document) {
        let position = i64_of(event.position);
        let by_id =
            doc! {"_id": event_key(event.event_id), "position": position, "event": doc.clone()};
        let by_version = doc! {
            "_id": version_key(event.aggregate_id, event.version),
            "position": position,
            "event_id": event.event_id.to_string(),
        };
        let _ = self.keys_for(&event.event_id).insert_one(by_id).await;
        let _ = self
            .keys_for(&event.aggregate_id)
            .insert_one(by_version)
            .await;
    }

    /// The event with this id according to its key document.
    async fn event_by_key(&self, event_id: Uuid) -> StoreResult<Option<StoredEvent>> {
        let key = self
            .keys_for(&event_id)
            .find_one(doc! {"_id": event_key(event_id)})
            .await
            .map_err(|e| self.error(e))?;
        Ok(match key.as_ref().and_then(|k| k.get("event")) {
            Some(Bson::Document(d)) => parse_entry(d).ok().filter(|e| e.event_id == event_id),
            _ => None,
        })
    }

    async fn version_taken_by_key(&self, aggregate_id: Uuid, version: u64) -> StoreResult<bool> {
        Ok(self
            .keys_for(&aggregate_id)
            .find_one(doc! {"_id": version_key(aggregate_id, version)})
            .await
            .map_err(|e| self.error(e))?
            .is_some())
    }

    /// Looks the event id up in `events` itself (indexed on MongoDB, a scan on
    /// FerretDB), repairing its keys when found.
    async fn event_by_query(&self, event_id: Uuid) -> StoreResult<Option<StoredEvent>> {
        let found = self
            .events
            .find_one(doc! {"event_id": event_id.to_string()})
            .await
            .map_err(|e| self.error(e))?;
        match found.map(|d| (parse_entry(&d), d)) {
            None => Ok(None),
            Some((Ok(event), d)) => {
                self.write_keys(&event, &d).await;
                Ok(Some(event))
            }
            Some((Err(bad), _)) => Err(StoreError::Failed {
                store: self.label.clone(),
                message: format!(
                    "event {event_id} is stored at position {} but malformed: {}",
                    bad.position, bad.reason
                ),
            }),
        }
    }

    async fn version_taken_by_query(&self, aggregate_id: Uuid, version: u64) -> StoreResult<bool> {
        let found = self
            .events
            .find_one(doc! {"aggregate_id": aggregate_id.to_string(), "version": i64_of(version)})
            .await
            .map_err(|e| self.error(e))?;
        if let Some(d) = &found
            && let Ok(event) = parse_entry(d)
        {
            self.write_keys(&event, d).await;
        }
        Ok(found.is_some())
    }

    fn server_filter(filter: &EventFilter) -> Document {
        let mut query = Document::new();
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

    async fn append(&self, event: StoredEvent) -> StoreResult<AppendOutcome> {
        let mut last_seen = self.append_lock.lock().await;
        let hint = self.head_hint().await?.unwrap_or(0);
        let mut position = hint.max(*last_seen) + 1;
        let mut collisions = 0u32;
        loop {
            let doc = event_doc(&event, position);
            let error = match self.events.insert_one(doc.clone()).await {
                Ok(_) => {
                    let stored = StoredEvent { position, ..event };
                    *last_seen = position;
                    self.write_keys(&stored, &doc).await;
                    self.raise_head_hint(position).await;
                    return Ok(AppendOutcome::Appended(stored));
                }
                Err(e) if is_duplicate(&e) => e,
                Err(e) => return Err(self.error(e)),
            };
            let clash = clash_of(&error);
            // Which unique index refused it? Real MongoDB names it; FerretDB
            // does not, so ask the key documents (cheap) and, now and then,
            // the ledger itself (a scan on FerretDB).
            if clash != Clash::Position {
                if let Some(existing) = self.event_by_key(event.event_id).await? {
                    return Ok(AppendOutcome::Duplicate(existing));
                }
                if clash != Clash::EventId
                    && self
                        .version_taken_by_key(event.aggregate_id, event.version)
                        .await?
                {
                    return Err(StoreError::VersionConflict {
                        aggregate_id: event.aggregate_id,
                        version: event.version,
                    });
                }
                collisions += 1;
                let ask_ledger = matches!(clash, Clash::EventId | Clash::Version)
                    || collisions.is_multiple_of(CHECK_EVERY_COLLISIONS);
                if ask_ledger {
                    if let Some(existing) = self.event_by_query(event.event_id).await? {
                        return Ok(AppendOutcome::Duplicate(existing));
                    }
                    if self
                        .version_taken_by_query(event.aggregate_id, event.version)
                        .await?
                    {
                        return Err(StoreError::VersionConflict {
                            aggregate_id: event.aggregate_id,
                            version: event.version,
                        });
                    }
                }
            } else {
                collisions += 1;
            }
            if collisions >= MAX_COLLISIONS {
                return Err(StoreError::Failed {
                    store: self.label.clone(),
                    message: format!("could not find a free position after {collisions} tries"),
                });
            }
            *last_seen = position;
            position += 1;
            if collisions.is_multiple_of(4) {
                // Others are ahead: jump to the hint instead of walking.
                let hint = self.head_hint().await?.unwrap_or(0);
                position = position.max(hint + 1);
            }
        }
    }

    async fn find_event(&self, event_id: Uuid) -> StoreResult<Option<StoredEvent>> {
        if let Some(event) = self.event_by_key(event_id).await? {
            return Ok(Some(event));
        }
        if self.indexed_lookups {
            return self.event_by_query(event_id).await;
        }
        Ok(None)
    }

    async fn first_of_aggregate(&self, aggregate_id: Uuid) -> StoreResult<Option<StoredEvent>> {
        let key = self
            .keys_for(&aggregate_id)
            .find_one(doc! {"_id": version_key(aggregate_id, 1)})
            .await
            .map_err(|e| self.error(e))?;
        if let Some(Ok(event_id)) = key
            .as_ref()
            .and_then(|k| k.get_str("event_id").ok())
            .map(Uuid::parse_str)
            && let Some(event) = self.event_by_key(event_id).await?
        {
            return Ok(Some(event));
        }
        if !self.indexed_lookups && key.is_none() {
            return Ok(None);
        }
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
        let to = from.saturating_add(limit as u64);
        let cursor = self
            .events
            .find(doc! {"position": {"$gte": i64_of(from), "$lt": i64_of(to)}})
            .sort(doc! {"position": 1})
            .limit(i64_of(limit as u64))
            .await
            .map_err(|e| self.error(e))?;
        Ok(self
            .collect(cursor)
            .await?
            .iter()
            .map(parse_entry)
            .collect())
    }

    async fn head(&self) -> StoreResult<u64> {
        let Some(mut head) = self.head_hint().await? else {
            return self.head_by_query().await;
        };
        let mut probes = 0;
        while self.exists_at(head + 1).await? {
            head += 1;
            probes += 1;
            if probes >= MAX_HEAD_PROBES {
                return self.head_by_query().await;
            }
        }
        if probes > 0 {
            self.raise_head_hint(head).await;
        }
        Ok(head)
    }

    async fn count(&self) -> StoreResult<u64> {
        self.events
            .count_documents(doc! {})
            .await
            .map_err(|e| self.error(e))
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

    async fn search(
        &self,
        filter: &EventFilter,
        offset: u64,
        limit: usize,
    ) -> StoreResult<Vec<LedgerEntry>> {
        if filter.is_empty() {
            return self.read_range(offset + 1, limit).await;
        }
        let mut out = Vec::new();
        let mut skipped = 0u64;
        if limit == 0 {
            return Ok(out);
        }
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
