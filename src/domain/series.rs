//! The state over time: users, bookings confirmed and cancelled and the
//! revenue of confirmed bookings (in total and by service), drawn across the
//! ledger per position range or per day or hour of `recorded_at`.
//!
//! One pass over the ledger in position order keeps running totals from the
//! same row changes the projections make, and remembers them every
//! [`GRAIN`] positions and at the end of every hour; a longer ledger extends
//! the pass with its new events only. Each point carries the cumulative
//! totals at the end of its bucket and what happened within the bucket
//! (users and bookings made, bookings cancelled, revenue gained).

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::event::{BookingStatus, StoredEvent};
use super::projection::RowChange;

/// Positions between two remembered totals: a series by position has
/// buckets of a multiple of this many positions.
pub const GRAIN: u64 = 100;

/// Points a series by position aims at (it has at most this many plus the head).
pub const POSITION_BUCKETS: u64 = 200;

/// How a series is bucketed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeriesBy {
    /// Equal ranges of positions.
    #[default]
    Position,
    /// Days of `recorded_at` (UTC).
    Day,
    /// Hours of `recorded_at` (UTC).
    Hour,
}

impl SeriesBy {
    /// Every bucketing, in menu order.
    pub const ALL: [SeriesBy; 3] = [SeriesBy::Position, SeriesBy::Day, SeriesBy::Hour];

    /// `position`, `day` or `hour`.
    pub fn name(self) -> &'static str {
        match self {
            SeriesBy::Position => "position",
            SeriesBy::Day => "day",
            SeriesBy::Hour => "hour",
        }
    }

    /// Parses [`SeriesBy::name`].
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|b| b.name() == text.trim().to_ascii_lowercase())
    }
}

/// The derived state's totals after some prefix of the ledger.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Last position folded in.
    pub position: u64,
    /// Rows in `users`.
    pub users: u64,
    /// Bookings confirmed.
    pub bookings_confirmed: u64,
    /// Bookings cancelled.
    pub bookings_cancelled: u64,
    /// Sum of the prices of confirmed bookings, in cents.
    pub revenue_cents: i64,
    /// That sum per service (indexed like [`SeriesFold::services`]).
    pub revenue_by_service: Vec<i64>,
    /// Bookings made so far (confirmed or not, whatever happened to them since).
    #[serde(default)]
    pub bookings_made: u64,
    /// Bookings that went from confirmed to cancelled so far (or were made cancelled).
    #[serde(default)]
    pub cancellations: u64,
}

/// What happened within one bucket: from the totals at the end of the
/// bucket before (none: the empty ledger) to the totals at the end of this
/// one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketValues {
    /// Users who appeared in the bucket.
    pub users: u64,
    /// Bookings made in the bucket.
    pub bookings_made: u64,
    /// Bookings cancelled in the bucket.
    pub bookings_cancelled: u64,
    /// Revenue of confirmed bookings gained in the bucket, in cents (the
    /// bookings made less those cancelled: negative when more was cancelled
    /// than booked).
    pub revenue_cents: i64,
    /// That gain per service, in cents.
    pub revenue_by_service: BTreeMap<String, i64>,
}

/// One point of a series: the totals at the end of a bucket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeriesPoint {
    /// The bucket: `a..b` (positions), `YYYY-MM-DD` or `YYYY-MM-DDTHH`.
    pub bucket: String,
    /// Last position folded in.
    pub position: u64,
    /// Rows in `users`.
    pub users: u64,
    /// Bookings confirmed.
    pub bookings_confirmed: u64,
    /// Bookings cancelled.
    pub bookings_cancelled: u64,
    /// Revenue of confirmed bookings, in cents.
    pub revenue_cents: i64,
    /// Revenue of confirmed bookings per service, in cents.
    pub revenue_by_service: BTreeMap<String, i64>,
    /// What happened within the bucket (the fields above are cumulative).
    #[serde(default)]
    pub in_bucket: BucketValues,
}

/// A series: its bucketing and its points, oldest first; the last point is
/// the state at the head.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Series {
    /// How it is bucketed.
    pub by: SeriesBy,
    /// The points.
    pub points: Vec<SeriesPoint>,
    /// Events whose `recorded_at` is earlier than an event before them (a
    /// bucket by time then holds the state after its last event in ledger
    /// order).
    pub out_of_order_times: u64,
}

#[derive(Clone, Copy, Debug)]
struct BookingFacts {
    confirmed: bool,
    price_cents: i64,
    service: usize,
}

/// The running pass: the totals, what they need to stay right (which users
/// and bookings exist, each booking's status, price and service), and the
/// totals remembered so far.
#[derive(Clone, Debug, Default)]
pub struct SeriesFold {
    totals: Totals,
    users: HashSet<Uuid>,
    bookings: HashMap<Uuid, BookingFacts>,
    /// Services in the order they were first booked.
    pub services: Vec<String>,
    service_index: HashMap<String, usize>,
    /// Totals after every multiple of [`GRAIN`] positions: (multiple, totals).
    marks: Vec<(u64, Totals)>,
    next_mark: u64,
    /// Totals after the last event (in ledger order) of each hour.
    hours: BTreeMap<i64, Totals>,
    current_hour: Option<i64>,
    last_time: Option<DateTime<Utc>>,
    out_of_order_times: u64,
    /// Ledger entries taken in, well-formed or not.
    pub entries: u64,
}

fn hour_of(time: DateTime<Utc>) -> i64 {
    time.timestamp().div_euclid(3600)
}

impl SeriesFold {
    /// The last position taken in.
    pub fn position(&self) -> u64 {
        self.totals.position
    }

    /// Remembers the totals at every multiple of [`GRAIN`] below `position`
    /// (one entry for a long run of missing positions).
    fn mark_before(&mut self, position: u64) {
        if self.next_mark == 0 {
            self.next_mark = GRAIN;
        }
        while position > self.next_mark {
            self.marks.push((self.next_mark, self.totals.clone()));
            self.next_mark += GRAIN;
            // A very long run of missing positions: every mark in it has
            // these same totals; keep the last one only.
            if position > self.next_mark.saturating_add(GRAIN * 1_000) {
                self.next_mark = (position - 1) / GRAIN * GRAIN;
            }
        }
    }

    /// Takes in one ledger entry (in position order) that could not be read:
    /// it changes no total, but moves the position.
    pub fn skip(&mut self, position: u64) {
        self.entries += 1;
        if position > self.totals.position {
            self.mark_before(position);
            self.totals.position = position;
        }
    }

    /// Takes in the next event, in position order (an older or repeated
    /// position changes nothing, as in every projection).
    pub fn apply(&mut self, event: &StoredEvent) {
        self.entries += 1;
        if event.position <= self.totals.position && self.totals.position > 0 {
            return;
        }
        self.mark_before(event.position);
        let hour = hour_of(event.recorded_at);
        if let Some(current) = self.current_hour
            && current != hour
        {
            self.hours.insert(current, self.totals.clone());
        }
        self.current_hour = Some(hour);
        if self.last_time.is_some_and(|t| event.recorded_at < t) {
            self.out_of_order_times += 1;
        }
        self.last_time = Some(
            self.last_time
                .map_or(event.recorded_at, |t| t.max(event.recorded_at)),
        );
        self.totals.position = event.position;
        let Ok(domain) = event.decode() else {
            return;
        };
        for change in RowChange::of_event(event.position, &domain) {
            self.change(change);
        }
    }

    fn service(&mut self, name: &str) -> usize {
        if let Some(&i) = self.service_index.get(name) {
            return i;
        }
        let i = self.services.len();
        self.services.push(name.to_string());
        self.service_index.insert(name.to_string(), i);
        self.totals.revenue_by_service.push(0);
        i
    }

    fn change(&mut self, change: RowChange) {
        match change {
            RowChange::InsertUserIfAbsent(row) => {
                if self.users.insert(row.user_id) {
                    self.totals.users += 1;
                }
            }
            RowChange::InsertBookingIfAbsent(row) => {
                if self.bookings.contains_key(&row.booking_id) {
                    return;
                }
                let service = self.service(&row.service);
                let confirmed = row.status == BookingStatus::Confirmed;
                self.totals.bookings_made += 1;
                if confirmed {
                    self.totals.bookings_confirmed += 1;
                    self.totals.revenue_cents += row.price_cents;
                    self.totals.revenue_by_service[service] += row.price_cents;
                } else {
                    self.totals.bookings_cancelled += 1;
                    self.totals.cancellations += 1;
                }
                self.bookings.insert(
                    row.booking_id,
                    BookingFacts {
                        confirmed,
                        price_cents: row.price_cents,
                        service,
                    },
                );
            }
            RowChange::SetBookingStatus {
                booking_id, status, ..
            } => {
                let Some(facts) = self.bookings.get_mut(&booking_id) else {
                    return;
                };
                let confirmed = status == BookingStatus::Confirmed;
                if facts.confirmed == confirmed {
                    return;
                }
                facts.confirmed = confirmed;
                let sign = if confirmed { 1 } else { -1 };
                let (price, service) = (facts.price_cents, facts.service);
                let t = &mut self.totals;
                t.bookings_confirmed = t.bookings_confirmed.saturating_add_signed(sign);
                t.bookings_cancelled = t.bookings_cancelled.saturating_add_signed(-sign);
                t.revenue_cents += sign * price;
                t.revenue_by_service[service] += sign * price;
                if !confirmed {
                    t.cancellations += 1;
                }
            }
            RowChange::SetUserAddress { .. } | RowChange::SetBookingDates { .. } => {}
        }
    }

    /// A point at the end of a bucket whose totals are `totals`, after a
    /// bucket that ended at `before` (`None`: the first bucket).
    fn point(&self, bucket: String, totals: &Totals, before: Option<&Totals>) -> SeriesPoint {
        let zero = Totals::default();
        let before = before.unwrap_or(&zero);
        let service_before = |i: usize| before.revenue_by_service.get(i).copied().unwrap_or(0);
        SeriesPoint {
            in_bucket: BucketValues {
                users: totals.users.saturating_sub(before.users),
                bookings_made: totals.bookings_made.saturating_sub(before.bookings_made),
                bookings_cancelled: totals.cancellations.saturating_sub(before.cancellations),
                revenue_cents: totals.revenue_cents - before.revenue_cents,
                revenue_by_service: self
                    .services
                    .iter()
                    .zip(&totals.revenue_by_service)
                    .enumerate()
                    .map(|(i, (s, r))| (s.clone(), r - service_before(i)))
                    .collect(),
            },
            bucket,
            position: totals.position,
            users: totals.users,
            bookings_confirmed: totals.bookings_confirmed,
            bookings_cancelled: totals.bookings_cancelled,
            revenue_cents: totals.revenue_cents,
            revenue_by_service: self
                .services
                .iter()
                .zip(&totals.revenue_by_service)
                .map(|(s, r)| (s.clone(), *r))
                .collect(),
        }
    }

    /// The series so far; its last point is the totals after everything
    /// taken in (the head, when the pass has reached it).
    pub fn series(&self, by: SeriesBy) -> Series {
        let head = self.totals.position;
        // Each bucket's label and the totals at its end, in order.
        let mut ends: Vec<(String, &Totals)> = Vec::new();
        match by {
            SeriesBy::Position => {
                let step = head.div_ceil(POSITION_BUCKETS).div_ceil(GRAIN).max(1) * GRAIN;
                let mut from = 1;
                for (mark, totals) in &self.marks {
                    if mark % step == 0 && *mark < head {
                        ends.push((format!("{from}..{mark}"), totals));
                        from = mark + 1;
                    }
                }
                if head > 0 {
                    ends.push((format!("{from}..{head}"), &self.totals));
                }
            }
            SeriesBy::Hour | SeriesBy::Day => {
                let mut hours: BTreeMap<i64, &Totals> =
                    self.hours.iter().map(|(h, t)| (*h, t)).collect();
                if let Some(current) = self.current_hour {
                    hours.insert(current, &self.totals);
                }
                let label = |hour: i64| {
                    let start = Utc
                        .timestamp_opt(hour * 3600, 0)
                        .single()
                        .unwrap_or_default();
                    match by {
                        SeriesBy::Day => start.format("%Y-%m-%d").to_string(),
                        _ => start.format("%Y-%m-%dT%H").to_string(),
                    }
                };
                // A day's point: its hour with the latest state.
                let mut buckets: BTreeMap<String, &Totals> = BTreeMap::new();
                for (hour, totals) in hours {
                    let entry = buckets.entry(label(hour)).or_insert(totals);
                    if totals.position > entry.position {
                        *entry = totals;
                    }
                }
                ends = buckets.into_iter().collect();
                // With times out of ledger order, the latest bucket may not
                // hold the head's state: the head is always the last point.
                if ends.last().is_some_and(|(_, t)| t.position != head) {
                    ends.push((format!("head {head}"), &self.totals));
                }
            }
        }
        let mut before = None;
        let points = ends
            .into_iter()
            .map(|(bucket, totals)| {
                let point = self.point(bucket, totals, before);
                before = Some(totals);
                point
            })
            .collect();
        Series {
            by,
            points,
            out_of_order_times: self.out_of_order_times,
        }
    }
}

#[cfg(test)]
mod tests;
