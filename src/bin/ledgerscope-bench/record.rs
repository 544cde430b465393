//! One measurement as one JSON object, plus small statistics helpers.

use std::io::Write;

use serde::Serialize;

/// One measurement, printed as one line of JSON on stdout.
#[derive(Clone, Debug, Serialize)]
pub struct Record {
    /// What was measured (`replay`, `replay_naive`, `ingest_handler`, ...).
    pub name: String,
    /// Store pair: `embedded` (SQLite + SQLite) or `mongodb+postgresql`.
    pub stores: String,
    /// Events (or commands, or frames) the measurement is about.
    pub n: u64,
    /// Wall seconds (or CPU seconds per frame for UI records).
    pub seconds: f64,
    /// `n / seconds`.
    pub per_sec: f64,
    /// The ratio this record reports, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ratio: Option<f64>,
    /// What the ratio is (`replay/naive speedup`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ratio_of: Option<String>,
    /// The target the figure is held to, as text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Whether the target is met.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub met: Option<bool>,
    /// Anything else worth keeping (method, checks, percentiles).
    #[serde(skip_serializing_if = "serde_json::Value::is_null")]
    pub details: serde_json::Value,
}

impl Record {
    /// A record of `n` units done in `seconds`.
    pub fn new(name: &str, stores: &str, n: u64, seconds: f64) -> Self {
        Record {
            name: name.to_string(),
            stores: stores.to_string(),
            n,
            seconds,
            per_sec: if seconds > 0.0 {
                n as f64 / seconds
            } else {
                0.0
            },
            ratio: None,
            ratio_of: None,
            target: None,
            met: None,
            details: serde_json::Value::Null,
        }
    }

    /// Adds the reported ratio.
    pub fn ratio(mut self, value: f64, of: &str) -> Self {
        self.ratio = Some(value);
        self.ratio_of = Some(of.to_string());
        self
    }

    /// Adds the target and whether it is met.
    pub fn target(mut self, text: &str, met: bool) -> Self {
        self.target = Some(text.to_string());
        self.met = Some(met);
        self
    }

    /// Adds details.
    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }

    /// Prints the record as one JSON line on stdout (flushed at once).
    pub fn emit(&self) {
        match serde_json::to_string(self) {
            Ok(line) => {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{line}");
                let _ = out.flush();
            }
            Err(e) => eprintln!("[bench] cannot encode a record: {e}"),
        }
    }
}

/// The `q`-quantile (0..=1) by nearest rank; 0 for an empty slice.
pub fn quantile(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = (q.clamp(0.0, 1.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The median (nearest rank).
pub fn median(values: &[f64]) -> f64 {
    quantile(values, 0.5)
}
