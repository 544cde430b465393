//! Reads of the ledger that the window and the command line share.

use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::engine::{Engine, EngineResult};
use crate::store::{EventFilter, LedgerEntry, entry_position};

/// Events per time bucket between the first and the last event.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Density {
    /// Start of the first bucket (`None`: no events).
    pub start: Option<DateTime<Utc>>,
    /// Bucket width in seconds.
    pub bucket_secs: f64,
    /// Matching events per bucket.
    pub counts: Vec<u64>,
}

/// Parses RFC 3339, `YYYY-MM-DD HH:MM[:SS]` or `YYYY-MM-DD` (UTC).
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(text, format) {
            return Some(t.and_utc());
        }
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

/// Matches read per page while listing a filtered ledger.
const LIST_PAGE: usize = 1_000;

impl Engine {
    /// The highest stored position.
    pub async fn head(&self) -> EngineResult<u64> {
        Ok(self.stores.ledger.head().await?)
    }

    /// Up to `limit` entries at or after position `from` matching `filter`,
    /// in position order (holes are skipped over, nothing after one is lost).
    pub async fn events(
        &self,
        from: u64,
        limit: usize,
        filter: &EventFilter,
    ) -> EngineResult<Vec<LedgerEntry>> {
        let ledger = &self.stores.ledger;
        if filter.is_empty() {
            return Ok(ledger.read_range(from.max(1), limit).await?);
        }
        // Page through the matches from the start, keeping positions >= from.
        let mut found = Vec::new();
        let mut offset = 0;
        loop {
            let page = ledger.search(filter, offset, LIST_PAGE).await?;
            let len = page.len();
            offset += len as u64;
            found.extend(page.into_iter().filter(|e| entry_position(e) >= from));
            if len < LIST_PAGE || found.len() >= limit {
                break;
            }
        }
        found.truncate(limit);
        Ok(found)
    }

    /// Whether positions 1..=head are all stored (then the unfiltered
    /// timeline's row `r` is position `r + 1`). Positions below a head once
    /// found gap-free stay so (the ledger is append-only), so only the
    /// positions past it are counted again.
    async fn gap_free_to(&self, head: u64) -> EngineResult<bool> {
        let known = self.gap_free_head.load(Ordering::Relaxed);
        if head <= known {
            return Ok(true);
        }
        let census = self.stores.ledger.census().await?;
        let gap_free = census.missing_positions() == 0;
        if gap_free {
            self.gap_free_head.fetch_max(census.head, Ordering::Relaxed);
        }
        Ok(gap_free && census.head >= head)
    }

    /// Rows of the timeline for `filter`: the stored events that match (a
    /// hole takes no rows; rows without a usable position are in none).
    pub async fn timeline_rows(&self, filter: &EventFilter) -> EngineResult<u64> {
        if !filter.is_empty() {
            return Ok(self.stores.ledger.count_matching(filter).await?);
        }
        let head = self.head().await?;
        if self.gap_free_to(head).await? {
            return Ok(head);
        }
        Ok(self.stores.ledger.census().await?.positioned)
    }

    /// Rows `offset .. offset + limit` of the timeline for `filter`.
    pub async fn timeline_page(
        &self,
        filter: &EventFilter,
        offset: u64,
        limit: usize,
    ) -> EngineResult<Vec<LedgerEntry>> {
        if filter.is_empty() && self.gap_free_to(offset + 1).await? {
            // Gap-free: a page by position, which every store reads by its index.
            return Ok(self.stores.ledger.read_range(offset + 1, limit).await?);
        }
        Ok(self.stores.ledger.search(filter, offset, limit).await?)
    }

    /// The unfiltered timeline's row of the event at `position`.
    pub async fn timeline_row_of(&self, position: u64) -> EngineResult<u64> {
        if self.gap_free_to(position).await? {
            return Ok(position.saturating_sub(1));
        }
        let before = EventFilter {
            before_position: Some(position),
            ..EventFilter::default()
        };
        Ok(self.stores.ledger.count_matching(&before).await?)
    }

    /// The event at `position`, if one is stored there.
    pub async fn event_at(&self, position: u64) -> EngineResult<Option<LedgerEntry>> {
        if position == 0 {
            return Ok(None);
        }
        let entries = self.stores.ledger.read_range(position, 1).await?;
        Ok(entries.into_iter().find(|e| entry_position(e) == position))
    }

    /// An aggregate's events, in version order.
    pub async fn stream(&self, aggregate: Uuid) -> EngineResult<Vec<LedgerEntry>> {
        Ok(self.stores.ledger.stream(aggregate).await?)
    }

    /// Rows of the timeline for `filter` recorded before `time`: the row of
    /// the first matching event at or after it.
    pub async fn timeline_row_at_time(
        &self,
        filter: &EventFilter,
        time: DateTime<Utc>,
    ) -> EngineResult<u64> {
        let before = EventFilter {
            to_time: Some(filter.to_time.map_or(time, |t| t.min(time))),
            ..filter.clone()
        };
        Ok(self.stores.ledger.count_matching(&before).await?)
    }

    /// The position of the last event recorded at or before `time` (0 when
    /// none is).
    pub async fn position_at_time(&self, time: DateTime<Utc>) -> EngineResult<u64> {
        let up_to = EventFilter {
            to_time: Some(time + chrono::Duration::milliseconds(1)),
            ..EventFilter::default()
        };
        let rows = self.stores.ledger.count_matching(&up_to).await?;
        if rows == 0 {
            return Ok(0);
        }
        let last = self
            .timeline_page(&EventFilter::default(), rows - 1, 1)
            .await?;
        Ok(last.first().map_or(rows, entry_position))
    }

    /// Timeline text: a position (`1200`) or a time (`2026-03-01 14:30`,
    /// RFC 3339) as a position.
    pub async fn resolve_position(&self, text: &str) -> EngineResult<u64> {
        let text = text.trim();
        if let Ok(position) = text.parse::<u64>() {
            return Ok(position);
        }
        let time = parse_time(text).ok_or_else(|| {
            crate::engine::EngineError::Input(format!(
                "'{text}' is neither a position (e.g. 1200) nor a time (e.g. 2026-03-01 14:30 or RFC 3339)"
            ))
        })?;
        self.position_at_time(time).await
    }

    /// Events over time in `buckets` buckets between the first and the last
    /// event. The type, aggregate and time filters apply (the time index),
    /// not the text filter, so it stays cheap at a million events.
    pub async fn density(&self, filter: &EventFilter, buckets: u32) -> EngineResult<Density> {
        let head = self.head().await?;
        let recorded_at =
            |entry: Option<LedgerEntry>| entry.and_then(Result::ok).map(|e| e.recorded_at);
        let first = self.timeline_page(&EventFilter::default(), 0, 1).await?;
        let (Some(first), Some(last)) = (
            recorded_at(first.into_iter().next()),
            recorded_at(self.event_at(head).await?),
        ) else {
            return Ok(Density::default());
        };
        let buckets = i64::from(buckets.max(1));
        let start = filter.from_time.map_or(first, |t| t.max(first));
        let end = filter.to_time.map_or(last, |t| t.min(last)) + chrono::Duration::milliseconds(1);
        let span_ms = (end - start).num_milliseconds().max(buckets);
        let bucket_ms = span_ms / buckets + 1;
        let mut counts = Vec::with_capacity(buckets as usize);
        for i in 0..buckets {
            let bucket = EventFilter {
                from_time: Some(start + chrono::Duration::milliseconds(i * bucket_ms)),
                to_time: Some(start + chrono::Duration::milliseconds((i + 1) * bucket_ms)),
                text: None,
                ..filter.clone()
            };
            counts.push(self.stores.ledger.count_matching(&bucket).await?);
        }
        Ok(Density {
            start: Some(start),
            bucket_secs: bucket_ms as f64 / 1000.0,
            counts,
        })
    }
}
