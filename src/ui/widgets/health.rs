//! The texts of the read store's health, shared by the top bar and
//! Operations: locked or unreachable since when, a projector blocked on a
//! write for how long, and a lease's holder with when it was renewed and
//! when it lapses.

use crate::ui::i18n::t;
use chrono::{DateTime, TimeDelta, Utc};

use crate::domain::ProjectorId;
use crate::engine::{BlockedWrite, ProjectorState, ReadStoreTrouble};
use crate::store::Lease;

/// `12 s`, `4 min 5 s`, `2 h 3 min`: a duration in whole seconds (a
/// negative one reads as 0 s).
pub fn whole_secs(delta: TimeDelta) -> String {
    let secs = delta.num_seconds().max(0);
    match secs {
        0..60 => format!("{secs} s"),
        60..3600 => format!("{} min {} s", secs / 60, secs % 60),
        _ => format!("{} h {} min", secs / 3600, (secs % 3600) / 60),
    }
}

/// `14:02:11 UTC`.
pub fn clock_text(at: DateTime<Utc>) -> String {
    format!("{} UTC", at.format("%H:%M:%S"))
}

/// `read store locked since 14:02:11 UTC`, or unreachable (a simulated
/// outage says so).
pub fn trouble_text(trouble: &ReadStoreTrouble, simulated: bool) -> String {
    let since = clock_text(trouble.since());
    match trouble {
        ReadStoreTrouble::Locked { .. } => t!("health-locked-since", since = since),
        ReadStoreTrouble::Unreachable { .. } if simulated => {
            t!("health-unreachable-simulated-since", since = since)
        }
        ReadStoreTrouble::Unreachable { .. } => t!("health-unreachable-since", since = since),
    }
}

/// What the hover of a trouble says: how long, and the store's last answer.
pub fn trouble_detail(trouble: &ReadStoreTrouble, now: DateTime<Utc>) -> String {
    let long = whole_secs(now - trouble.since());
    match trouble {
        ReadStoreTrouble::Locked { .. } => t!("health-locked-detail", long = long),
        ReadStoreTrouble::Unreachable { error, .. } => {
            t!("health-unreachable-detail", long = long, error = error)
        }
    }
}

/// A projector's state in a word: `Running`, `Watching`, `Paused`, …
pub fn projector_state_text(state: &ProjectorState) -> String {
    match state {
        ProjectorState::Idle => t!("projector-idle"),
        ProjectorState::Running => t!("projector-running"),
        ProjectorState::Watching => t!("projector-watching"),
        ProjectorState::Paused => t!("projector-paused"),
        ProjectorState::Retrying => t!("projector-retrying"),
        ProjectorState::Refused => t!("projector-refused"),
    }
}

/// `blocked on a write for 12 s`.
pub fn blocked_text(since: DateTime<Utc>, now: DateTime<Utc>) -> String {
    t!("health-blocked", time = whole_secs(now - since))
}

/// `UserProjection and BookingProjection blocked on a write for 12 s` (the
/// longest wait).
pub fn blocked_list_text(blocked: &[BlockedWrite], now: DateTime<Utc>) -> Option<String> {
    let since = blocked.iter().map(|b| b.since).min()?;
    let names: Vec<&str> = blocked.iter().map(|b| b.projector.name()).collect();
    let names = match names.split_last() {
        Some((last, first)) if !first.is_empty() => {
            t!("health-and", first = first.join(", "), last = last)
        }
        _ => names.join(""),
    };
    Some(format!("{names} {}", blocked_text(since, now)))
}

/// Who holds `lease`: `this window` or the other instance's id.
pub fn lease_owner_text(lease: &Lease, instance_id: &str) -> String {
    if lease.owner == instance_id {
        t!("lease-this-window")
    } else {
        lease.owner.clone()
    }
}

/// `renewed 2 s ago, expires in 8 s`, or `renewed 12 s ago, expired 2 s
/// ago` once it has lapsed (a lease of an earlier build says only when it
/// lapses).
pub fn lease_timing_text(lease: &Lease, now: DateTime<Utc>) -> String {
    let renewed = lease
        .renewed_at
        .map(|at| t!("lease-renewed", ago = whole_secs(now - at)))
        .unwrap_or_default();
    if lease.expired_at(now) {
        t!(
            "lease-expired",
            renewed = renewed,
            ago = whole_secs(now - lease.expires_at)
        )
    } else {
        t!(
            "lease-expires",
            renewed = renewed,
            left = whole_secs(lease.expires_at - now)
        )
    }
}

/// The projectors' leases in one phrase: `this window`, `host-1-ab12,
/// renewed 3 s ago, expires in 7 s`, or one per projector when they differ
/// in holder; the timing is left out for this window's own live lease.
pub fn leases_text(
    leases: &[(ProjectorId, Option<&Lease>)],
    instance_id: &str,
    now: DateTime<Utc>,
) -> String {
    let one = |lease: Option<&Lease>| match lease {
        None => t!("lease-nobody"),
        Some(lease) if lease.owner == instance_id && !lease.expired_at(now) => {
            t!("lease-this-window")
        }
        Some(lease) => format!(
            "{}, {}",
            lease_owner_text(lease, instance_id),
            lease_timing_text(lease, now)
        ),
    };
    let owners: Vec<Option<&str>> = leases
        .iter()
        .map(|(_, l)| l.map(|l| l.owner.as_str()))
        .collect();
    if owners.windows(2).all(|w| w[0] == w[1]) {
        // The same holder: the lease renewed longest ago says the most.
        let stalest = leases
            .iter()
            .filter_map(|(_, l)| *l)
            .min_by_key(|l| (l.renewed_at, l.expires_at));
        return t!("lease-one", holder = one(stalest));
    }
    let each: Vec<String> = leases
        .iter()
        .map(|(p, l)| format!("{} {}", p.name(), one(*l)))
        .collect();
    t!("lease-each", holders = each.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + secs, 0).unwrap()
    }

    fn lease(owner: &str, renewed: i64, expires: i64) -> Lease {
        Lease {
            name: "projector:UserProjection".into(),
            owner: owner.into(),
            fencing: 1,
            expires_at: at(expires),
            renewed_at: Some(at(renewed)),
        }
    }

    #[test]
    fn durations_read_in_whole_seconds_minutes_and_hours() {
        assert_eq!(whole_secs(TimeDelta::milliseconds(12_400)), "12 s");
        assert_eq!(whole_secs(TimeDelta::seconds(245)), "4 min 5 s");
        assert_eq!(whole_secs(TimeDelta::seconds(7_380)), "2 h 3 min");
        assert_eq!(whole_secs(TimeDelta::seconds(-3)), "0 s");
    }

    #[test]
    fn a_lease_says_when_it_was_renewed_and_when_it_lapses_or_lapsed() {
        let l = lease("host-1-ab12", 0, 10);
        assert_eq!(
            lease_timing_text(&l, at(3)),
            "renewed 3 s ago, expires in 7 s"
        );
        assert_eq!(
            lease_timing_text(&l, at(14)),
            "renewed 14 s ago, expired 4 s ago"
        );
        let old = Lease {
            renewed_at: None,
            ..l.clone()
        };
        assert_eq!(lease_timing_text(&old, at(3)), "expires in 7 s");
    }

    #[test]
    fn the_leases_are_one_phrase_when_one_instance_holds_both() {
        let (u, b) = (ProjectorId::UserProjection, ProjectorId::BookingProjection);
        let (mine, other) = (lease("me", 0, 10), lease("host-2", 1, 11));
        assert_eq!(
            leases_text(&[(u, Some(&mine)), (b, Some(&mine))], "me", at(2)),
            "lease: this window"
        );
        assert_eq!(
            leases_text(&[(u, Some(&mine)), (b, Some(&mine))], "me", at(12)),
            "lease: this window, renewed 12 s ago, expired 2 s ago",
            "this window's own lease, lapsed while a write waited"
        );
        let stale = lease("host-2", 0, 10);
        assert_eq!(
            leases_text(&[(u, Some(&other)), (b, Some(&stale))], "me", at(4)),
            "lease: host-2, renewed 4 s ago, expires in 6 s"
        );
        assert_eq!(
            leases_text(&[(u, Some(&mine)), (b, None)], "me", at(4)),
            "leases: UserProjection this window; BookingProjection nobody"
        );
        assert_eq!(
            leases_text(&[(u, None), (b, None)], "me", at(4)),
            "lease: nobody"
        );
    }
}
