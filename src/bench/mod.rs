//! Benchmarks behind `ledgerscope-bench`: deterministic data, the measurements
//! of issue 5 (replay, ingest, time travel, UI) and their JSON records.
//!
//! Each measurement prints one JSON object on stdout; progress goes to stderr.
//! Absolute times drift on shared machines, so every figure that matters is a
//! ratio of two things measured side by side in the same run.

pub mod data;
pub mod ingest;
pub mod record;
pub mod replay;
pub mod timetravel;
pub mod ui;

pub use record::Record;

/// Prints a progress line on stderr.
pub fn progress(message: impl AsRef<str>) {
    eprintln!("[bench] {}", message.as_ref());
}
