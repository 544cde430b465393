//! The trainer's activity strip: what just happened (events appended,
//! projectors catching up and how fast, the simulated outage and its end,
//! this window's duplicates and refusals), each item kept on screen for a
//! minute. Bounded: a burst (a bulk run, a catch-up in many batches) grows
//! one item instead of adding one per batch.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::domain::ProjectorId;
use crate::engine::EngineNotice;

/// How long an item stays on screen after it last changed.
pub const KEEP_FOR: Duration = Duration::from_secs(60);
/// Items kept at most.
const MAX_ITEMS: usize = 40;
/// A burst continues an item changed less than this ago.
const BURST: Duration = Duration::from_secs(1);
/// How many of the newest items a burst looks back at (both projectors and
/// the appends interleave).
const BURST_LOOKBACK: usize = 6;

/// What happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ActivityKind {
    /// Events were appended to the ledger (by this window or another).
    Appended {
        /// First position.
        from: u64,
        /// Last position.
        to: u64,
    },
    /// A projector applied events and saved its checkpoint.
    CaughtUp {
        /// Which projector.
        projector: ProjectorId,
        /// First position applied.
        from: u64,
        /// Its checkpoint after them.
        to: u64,
        /// Events applied.
        events: u64,
        /// Time spent writing rows and checkpoints.
        micros: u64,
    },
    /// The simulated read-store outage was switched on (`true`) or off.
    Outage(bool),
    /// This window sent a command again: nothing was appended.
    Duplicate {
        /// Where the first one was stored.
        position: u64,
    },
    /// A command of this window stored nothing.
    Refused {
        /// Which command.
        what: String,
        /// The rule or error that refused it.
        why: String,
    },
}

/// One line of the strip.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActivityItem {
    /// What happened.
    pub kind: ActivityKind,
    /// When it last changed (it leaves the strip [`KEEP_FOR`] later).
    pub at: Instant,
    /// The same, on the wall clock (shown).
    pub wall: DateTime<Utc>,
}

/// The strip's items, oldest first.
#[derive(Clone, Debug, Default)]
pub struct ActivityStrip {
    items: VecDeque<ActivityItem>,
    /// The last position reported as appended (`None` until the head is
    /// known: what was there at connection is not news).
    seen_head: Option<u64>,
}

impl ActivityStrip {
    /// The items still on screen at `now`, newest first.
    pub fn shown(&self, now: Instant) -> impl Iterator<Item = &ActivityItem> {
        self.items
            .iter()
            .rev()
            .take_while(move |item| now.duration_since(item.at) < KEEP_FOR)
    }

    /// When the oldest item shown leaves the strip.
    pub fn next_expiry(&self, now: Instant) -> Option<Duration> {
        self.shown(now)
            .last()
            .map(|item| KEEP_FOR.saturating_sub(now.duration_since(item.at)))
    }

    /// Forgets everything (other stores).
    pub fn clear(&mut self) {
        *self = ActivityStrip::default();
    }

    /// The ledger's head is `head` now.
    pub fn on_head(&mut self, head: u64, now: Instant) {
        self.appended_up_to(head, now);
    }

    /// The engine said something.
    pub fn on_notice(&mut self, notice: &EngineNotice, now: Instant) {
        match notice {
            EngineNotice::ProjectionApplied {
                projector,
                from,
                position,
                apply_micros,
                checkpoint_micros,
            } => {
                // A projector only applies what was appended before.
                self.appended_up_to(*position, now);
                self.caught_up(
                    *projector,
                    *from,
                    *position,
                    apply_micros + checkpoint_micros,
                    now,
                );
            }
            EngineNotice::OutageSimulation(on) => self.push(ActivityKind::Outage(*on), now),
            _ => {}
        }
    }

    /// A command of this window was answered with a new event at
    /// `position`.
    pub fn on_stored(&mut self, position: u64, now: Instant) {
        self.appended_up_to(position, now);
    }

    /// A command of this window was a duplicate of the one at `position`.
    pub fn on_duplicate(&mut self, position: u64, now: Instant) {
        self.push(ActivityKind::Duplicate { position }, now);
    }

    /// A command of this window stored nothing.
    pub fn on_refused(&mut self, what: &str, why: String, now: Instant) {
        let what = what.to_string();
        self.push(ActivityKind::Refused { what, why }, now);
    }

    fn appended_up_to(&mut self, head: u64, now: Instant) {
        let Some(seen) = self.seen_head else {
            self.seen_head = Some(head);
            return;
        };
        if head <= seen {
            return;
        }
        self.seen_head = Some(head);
        let from = seen + 1;
        if let Some(ActivityKind::Appended { to, .. }) = self.burst(
            now,
            |kind| matches!(kind, ActivityKind::Appended { to, .. } if *to + 1 == from),
        ) {
            *to = head;
            return;
        }
        self.push(ActivityKind::Appended { from, to: head }, now);
    }

    fn caught_up(&mut self, projector: ProjectorId, from: u64, to: u64, micros: u64, now: Instant) {
        let events = to.saturating_sub(from) + 1;
        let continues = |kind: &ActivityKind| {
            matches!(kind, ActivityKind::CaughtUp { projector: p, to: end, .. }
                if *p == projector && *end < from)
        };
        if let Some(ActivityKind::CaughtUp {
            to: end,
            events: count,
            micros: spent,
            ..
        }) = self.burst(now, continues)
        {
            *end = to;
            *count += events;
            *spent += micros;
            return;
        }
        self.push(
            ActivityKind::CaughtUp {
                projector,
                from,
                to,
                events,
                micros,
            },
            now,
        );
    }

    /// The item a burst continues (among the newest, changed within
    /// [`BURST`]), moved to the newest place and stamped `now`.
    fn burst(
        &mut self,
        now: Instant,
        continues: impl Fn(&ActivityKind) -> bool,
    ) -> Option<&mut ActivityKind> {
        let len = self.items.len();
        let index = (len.saturating_sub(BURST_LOOKBACK)..len).rev().find(|&i| {
            let item = &self.items[i];
            now.duration_since(item.at) < BURST && continues(&item.kind)
        })?;
        let mut item = self.items.remove(index)?;
        item.at = now;
        item.wall = Utc::now();
        self.items.push_back(item);
        self.items.back_mut().map(|item| &mut item.kind)
    }

    fn push(&mut self, kind: ActivityKind, now: Instant) {
        while self.items.len() >= MAX_ITEMS
            || self
                .items
                .front()
                .is_some_and(|item| now.duration_since(item.at) >= KEEP_FOR)
        {
            self.items.pop_front();
        }
        self.items.push_back(ActivityItem {
            kind,
            at: now,
            wall: Utc::now(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn applied(projector: ProjectorId, from: u64, position: u64) -> EngineNotice {
        EngineNotice::ProjectionApplied {
            projector,
            from,
            position,
            apply_micros: 1_000,
            checkpoint_micros: 500,
        }
    }

    fn kinds(strip: &ActivityStrip, now: Instant) -> Vec<ActivityKind> {
        strip.shown(now).map(|item| item.kind.clone()).collect()
    }

    #[test]
    fn the_head_at_connection_is_not_news_and_each_append_is_told_once() {
        let mut strip = ActivityStrip::default();
        let now = Instant::now();
        strip.on_head(5_000, now);
        assert!(kinds(&strip, now).is_empty());
        strip.on_stored(5_001, now);
        strip.on_head(5_001, now);
        strip.on_notice(&applied(ProjectorId::UserProjection, 5_001, 5_001), now);
        assert_eq!(
            kinds(&strip, now),
            [
                ActivityKind::CaughtUp {
                    projector: ProjectorId::UserProjection,
                    from: 5_001,
                    to: 5_001,
                    events: 1,
                    micros: 1_500
                },
                ActivityKind::Appended {
                    from: 5_001,
                    to: 5_001
                },
            ]
        );
    }

    #[test]
    fn a_catch_up_in_batches_is_one_item_with_its_count_and_time() {
        let mut strip = ActivityStrip::default();
        let now = Instant::now();
        strip.on_head(10, now);
        strip.on_notice(&EngineNotice::OutageSimulation(true), now);
        strip.on_head(13, now);
        strip.on_notice(&EngineNotice::OutageSimulation(false), now);
        strip.on_notice(&applied(ProjectorId::UserProjection, 11, 12), now);
        strip.on_notice(&applied(ProjectorId::BookingProjection, 11, 13), now);
        strip.on_notice(&applied(ProjectorId::UserProjection, 13, 13), now);
        let shown = kinds(&strip, now);
        assert_eq!(
            shown[0],
            ActivityKind::CaughtUp {
                projector: ProjectorId::UserProjection,
                from: 11,
                to: 13,
                events: 3,
                micros: 3_000
            }
        );
        assert_eq!(shown.len(), 5, "{shown:?}");
        assert_eq!(shown[3], ActivityKind::Appended { from: 11, to: 13 });
        assert_eq!(shown[4], ActivityKind::Outage(true));
    }

    #[test]
    fn items_leave_after_a_minute_and_the_strip_is_bounded() {
        let mut strip = ActivityStrip::default();
        let start = Instant::now();
        strip.on_duplicate(1, start);
        let later = start + KEEP_FOR / 2;
        strip.on_duplicate(2, later);
        assert_eq!(strip.next_expiry(later), Some(KEEP_FOR / 2));
        let after = start + KEEP_FOR;
        assert_eq!(
            kinds(&strip, after),
            [ActivityKind::Duplicate { position: 2 }]
        );
        for i in 0..100 {
            strip.on_duplicate(i, after);
        }
        assert_eq!(strip.items.len(), MAX_ITEMS);
        assert_eq!(strip.next_expiry(after + KEEP_FOR), None);
    }
}
