//! Long work the window runs (replay, snapshot, restore, bulk generation,
//! export, import, verify): each with the engine's [`JobControl`] (progress and
//! cancel), its latest progress, and how it last ended.

use crate::ui::i18n::{Said, t};
use std::collections::BTreeMap;
use std::time::Instant;

use crate::engine::{EngineError, JobControl, Progress};
use crate::ui::command::{Message, ShellMessage};
use crate::ui::outbox::Outbox;

/// Long work that shows a progress bar and can be cancelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum JobKind {
    /// Bulk generator.
    Bulk,
    /// Replay (also "repair by replay").
    Replay,
    /// A targeted repair of the rows that differ.
    Repair,
    /// Taking a snapshot.
    Snapshot,
    /// Restoring a snapshot.
    Restore,
    /// Exporting the ledger as NDJSON.
    Export,
    /// Importing NDJSON.
    Import,
    /// Comparing the read tables with the ledger (Compare's "Compare now").
    Verify,
    /// The engine's one pass over a cold ledger (automatic, not started
    /// here: followed through the engine's notices).
    HistoryPass,
}

impl JobKind {
    /// Human name.
    pub fn title(self) -> &'static str {
        match self {
            JobKind::Bulk => "Bulk generator",
            JobKind::Replay => "Replay",
            JobKind::Repair => "Repair of rows",
            JobKind::Snapshot => "Snapshot",
            JobKind::Restore => "Restore",
            JobKind::Export => "Export",
            JobKind::Import => "Import",
            JobKind::Verify => "Comparison",
            JobKind::HistoryPass => "History pass over the ledger",
        }
    }
}

impl JobKind {
    /// Name in the window's language.
    pub fn label(self) -> String {
        match self {
            JobKind::Bulk => t!("job-bulk"),
            JobKind::Replay => t!("job-replay"),
            JobKind::Repair => t!("job-repair"),
            JobKind::Snapshot => t!("job-snapshot"),
            JobKind::Restore => t!("job-restore"),
            JobKind::Export => t!("job-export"),
            JobKind::Import => t!("job-import"),
            JobKind::Verify => t!("job-verify"),
            JobKind::HistoryPass => t!("job-history-pass"),
        }
    }
}

/// A running job.
#[derive(Clone, Debug)]
pub struct Job {
    /// When it started.
    pub started: Instant,
    /// Latest progress (`None` until the first report).
    pub progress: Option<Progress>,
    /// Its control: cancel it through this.
    pub control: JobControl,
    /// Whether it can be cancelled at all.
    pub cancellable: bool,
}

/// The jobs running and how each kind last ended.
#[derive(Debug, Default)]
pub struct Jobs {
    running: BTreeMap<JobKind, Job>,
    results: BTreeMap<JobKind, Result<Said, EngineError>>,
}

impl Jobs {
    /// Starts a job of `kind` unless one runs: its control reports progress
    /// to the window through `outbox`.
    pub fn start(
        &mut self,
        kind: JobKind,
        cancellable: bool,
        outbox: &Outbox,
    ) -> Option<JobControl> {
        if self.running.contains_key(&kind) {
            return None;
        }
        let sink = outbox.clone();
        let control = JobControl::new(move |p: &Progress| {
            sink.try_send(Message::Shell(ShellMessage::JobProgress(kind, p.clone())));
        });
        self.running.insert(
            kind,
            Job {
                started: Instant::now(),
                progress: None,
                control: control.clone(),
                cancellable,
            },
        );
        self.results.remove(&kind);
        Some(control)
    }

    /// Progress of work the engine started by itself (no control here): the
    /// job shows as running from its first report.
    pub fn observe(&mut self, kind: JobKind, progress: Progress) {
        let job = self.running.entry(kind).or_insert_with(|| Job {
            started: Instant::now(),
            progress: None,
            control: JobControl::default(),
            cancellable: false,
        });
        job.progress = Some(progress);
        self.results.remove(&kind);
    }

    /// A progress report arrived.
    pub fn progress(&mut self, kind: JobKind, progress: Progress) {
        if let Some(job) = self.running.get_mut(&kind) {
            job.progress = Some(progress);
        }
    }

    /// A job ended.
    pub fn done(&mut self, kind: JobKind, result: Result<Said, EngineError>) {
        self.running.remove(&kind);
        self.results.insert(kind, result);
    }

    /// Asks a job to stop.
    pub fn cancel(&self, kind: JobKind) {
        if let Some(job) = self.running.get(&kind) {
            job.control.cancel();
        }
    }

    /// Asks every job to stop.
    pub fn cancel_all(&self) {
        for job in self.running.values() {
            job.control.cancel();
        }
    }

    /// The running job of this kind.
    pub fn get(&self, kind: JobKind) -> Option<&Job> {
        self.running.get(&kind)
    }

    /// Whether a job of this kind runs.
    pub fn running(&self, kind: JobKind) -> bool {
        self.running.contains_key(&kind)
    }

    /// Whether any job runs.
    pub fn any(&self) -> bool {
        !self.running.is_empty()
    }

    /// How the last job of this kind ended, in the window's language.
    pub fn result(&self, kind: JobKind) -> Option<Result<String, &EngineError>> {
        self.results
            .get(&kind)
            .map(|result| result.as_ref().map(Said::text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::i18n::{said, set_language};
    use crate::ui::prefs::Language;

    #[test]
    fn a_job_result_is_written_in_the_language_it_is_drawn_in() {
        let mut jobs = Jobs::default();
        let said = said!(
            "job-imported",
            path = "a.ndjson",
            events = 12000u64,
            duplicates = 0u64,
            head = 12000u64
        );
        jobs.done(JobKind::Import, Ok(said));
        set_language(Language::Es);
        let es = jobs.result(JobKind::Import).and_then(Result::ok);
        set_language(Language::En);
        let en = jobs.result(JobKind::Import).and_then(Result::ok);
        assert_eq!(
            es.as_deref(),
            Some("Importado a.ndjson: 12.000 eventos nuevos, 0 ya guardados; cabeza 12.000")
        );
        assert_eq!(
            en.as_deref(),
            Some("Imported a.ndjson: 12,000 new events, 0 already stored; head 12,000")
        );
    }
}
