//! Helpers shared by the integration test binaries (each binary uses a part
//! of them, hence the `dead_code` allowance).
#![allow(dead_code)]

use chrono::Utc;

use ledgerscope::domain::aggregate::decide_submit;
use ledgerscope::domain::generate::{DemoRng, booking_form};
use ledgerscope::domain::{EventMetadata, StoredEvent};

/// `count` booking-wizard events made with the real domain (form ->
/// validate -> decide) but without the handler, ready for
/// `EventLedger::append_batch`: a large ledger in a second instead of one
/// fsync'd command at a time. Same seed, same events.
pub fn wizard_events(seed: u64, count: usize) -> Vec<StoredEvent> {
    let mut rng = DemoRng::new(seed);
    (0..count)
        .map(|_| {
            let id = rng.uuid_v4();
            let cmd = booking_form(&mut rng, (count as u64 / 3).max(10))
                .validate(id)
                .expect("generated forms validate");
            StoredEvent::wrap(
                &decide_submit(&cmd),
                id,
                1,
                Utc::now(),
                EventMetadata::default(),
            )
        })
        .collect()
}

/// `host:port` of a server URI (`scheme://user:pass@host:port/db?x`), as the
/// app names the server in its messages. Tests take addresses from the URIs
/// they are given, never from the defaults of `scripts/services.sh`.
pub fn host_port(uri: &str) -> String {
    let rest = uri.split_once("://").map_or(uri, |(_, r)| r);
    let authority = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
    authority
        .rsplit_once('@')
        .map_or(authority, |(_, h)| h)
        .to_string()
}

/// The port of a server URI.
pub fn port_of(uri: &str) -> String {
    host_port(uri)
        .rsplit_once(':')
        .map(|(_, p)| p.to_string())
        .unwrap_or_default()
}

/// A number from the environment (a drill's size), else `default`.
pub fn size_from_env(var: &str, default: u64) -> u64 {
    std::env::var(var)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// One line `scripts/soak.sh` collects: what ran, its size and its figure.
pub fn figure(what: &str, size: &str, figure: &str) {
    eprintln!("FIGURE | {what} | {size} | {figure}");
}
