//! The shell's commands and every background message, each handed to its
//! owner.

use crate::ui::i18n::{OneDecimal, said};
use std::path::PathBuf;

use crate::engine::{EngineError, EngineNotice, Pairing, ReadStoreHealth, ReadStoreTrouble};
use crate::store::credentials::MONGO_PASSWORD_ENV;
use crate::store::{Secret, StoreConfig};
use crate::ui::app::dialogs::{Confirm, Dialog, LinkDraft};
use crate::ui::app::recent::{drafts_of, uri_of_field};
use crate::ui::app::shell::DriftSeen;
use crate::ui::app::{LedgerApp, tasks};
use crate::ui::command::{Message, ShellCommand, ShellMessage, StatusSnapshot, UiCommand};
use crate::ui::error::InlineError;
use crate::ui::jobs::JobKind;
use crate::ui::link::PositionLink;
use crate::ui::panels::compare::CompareMessage;
use crate::ui::panels::models::{ModelsCommand, ModelsMessage};

impl LedgerApp {
    /// Runs a command of the shell.
    pub(super) fn handle_shell(&mut self, command: ShellCommand, routed: &mut Vec<UiCommand>) {
        match command {
            ShellCommand::ShowPanel(panel) => self.shell.panel = panel,
            ShellCommand::ShowEvent(position) => self.show_event(position, routed),
            ShellCommand::SetObserveOnly(on) => self.set_observe_only(on),
            ShellCommand::DismissError => self.shell.last_error = None,
            ShellCommand::OpenDialog(dialog) => self.open_dialog(dialog),
            ShellCommand::CloseDialog => self.shell.dialog = None,
            ShellCommand::SetConnectField(field, text) => {
                *self.shell.connect.get_mut(field) = text;
            }
            ShellCommand::SetFilePath(path) => {
                self.shell.file_path = path;
                self.shell.file_error = None;
            }
            ShellCommand::Connect => {
                let d = &mut self.shell.connect;
                let current = &self.store_config;
                let secret = |s: &mut String| {
                    let typed = std::mem::take(s);
                    (!typed.is_empty()).then(|| Secret::new(typed))
                };
                let (mongo_password, postgres_password) = (
                    secret(&mut d.mongo_password),
                    secret(&mut d.postgres_password),
                );
                self.store_config = StoreConfig {
                    data_dir: PathBuf::from(d.data_dir.trim()),
                    mongo_uri: uri_of_field(&d.mongo, current.mongo_uri.as_deref()),
                    postgres_url: uri_of_field(&d.postgres, current.postgres_url.as_deref()),
                    postgres_service: None,
                    postgres_password,
                    // Not typed: the environment's, as at start.
                    mongo_password: mongo_password.or_else(|| {
                        std::env::var(MONGO_PASSWORD_ENV)
                            .ok()
                            .filter(|p| !p.is_empty())
                            .map(Secret::new)
                    }),
                    ..current.clone()
                };
                self.shell.dialog = None;
                self.disconnect();
                self.start_connect();
            }
            ShellCommand::UseRecent(index) => {
                if let Some(entry) = self.shell.recent.get(index) {
                    let c = &mut self.shell.connect;
                    c.data_dir.clone_from(&entry.data_dir);
                    c.mongo.clone_from(&entry.mongo);
                    c.postgres.clone_from(&entry.postgres);
                    c.mongo_password.clear();
                    c.postgres_password.clear();
                }
            }
            ShellCommand::RetryConnect => {
                self.disconnect();
                self.start_connect();
            }
            ShellCommand::BrowseFile { save } => {
                self.shell.file_error = None;
                self.spawn(tasks::pick_file(save, self.outbox.clone()));
            }
            ShellCommand::Export => {
                let path = self.shell.file_path.trim().to_string();
                self.shell.dialog = None;
                if let Some(engine) = self.engine.clone()
                    && let Some(job) = self.shell.jobs.start(JobKind::Export, true, &self.outbox)
                {
                    self.spawn(tasks::export(engine, path, job, self.outbox.clone()));
                }
            }
            ShellCommand::AskImport => {
                let path = self.shell.file_path.trim().to_string();
                self.shell.dialog = None;
                self.shell.confirm = Some(Confirm::Import { path });
            }
            ShellCommand::Ask(confirm) => self.shell.confirm = Some(confirm),
            ShellCommand::ConfirmNo => self.shell.confirm = None,
            ShellCommand::Crash(super::crash::CrashAction::Show) => {
                if let Some(offer) = &mut self.shell.crash {
                    offer.open = true;
                }
            }
            ShellCommand::Crash(super::crash::CrashAction::Dismiss) => {
                if let Some(offer) = self.shell.crash.take() {
                    self.shell.crash_seen = Some(offer.name());
                }
            }
            ShellCommand::SetMasked(true) => self.set_masked(true),
            ShellCommand::SetMasked(false) => {
                self.shell.confirm = Some(super::dialogs::Confirm::Unmask);
            }
            ShellCommand::ConfirmYes => {
                if let Some(confirm) = self.shell.confirm.take() {
                    self.confirmed(confirm);
                }
            }
            ShellCommand::CancelJob(kind) => self.shell.jobs.cancel(kind),
            ShellCommand::FocusSearch => self.shell.focus_search = true,
            ShellCommand::SetLinkDraft(text) => {
                self.shell.link.text = text;
                self.shell.link.error = None;
            }
            ShellCommand::SetLanguage(language) => {
                tracing::info!(?language, "language switched");
                self.shell.language = language;
                crate::ui::i18n::set_language(language);
            }
            ShellCommand::OpenLink(text) => match PositionLink::parse(&text) {
                Ok(link) => self.open_link(link),
                Err(error) => {
                    tracing::info!(%error, "a link was not opened");
                    self.shell.link.error = Some(error);
                }
            },
        }
    }

    /// Masks or shows personal values, and keeps the choice for this
    /// ledger.
    fn set_masked(&mut self, masked: bool) {
        self.shell.masked = masked;
        tracing::info!(masked, ledger = ?self.shell.ledger_id, "mask mode");
        if let Some(id) = self.shell.ledger_id {
            self.shell.mask_choices.insert(id.to_string(), masked);
        }
    }

    fn set_observe_only(&mut self, on: bool) {
        if self.shell.observe_locked && !on {
            return;
        }
        self.shell.observe_only = on;
        if let Some(engine) = &self.engine {
            engine.set_observe_only(on);
        }
        tracing::info!(observe_only = on, "mode switched");
        if on {
            self.stop_projectors();
        } else {
            self.start_projectors();
        }
    }

    fn open_dialog(&mut self, dialog: Dialog) {
        match dialog {
            Dialog::Connect => self.shell.connect = drafts_of(&self.store_config),
            Dialog::Export | Dialog::Import => {
                self.shell.file_error = None;
                if self.shell.file_path.is_empty() {
                    self.shell.file_path = self
                        .store_config
                        .data_dir
                        .join("ledger-export.ndjson")
                        .display()
                        .to_string();
                }
            }
            Dialog::OpenLink => self.shell.link = LinkDraft::default(),
            Dialog::About | Dialog::Shortcuts => {}
        }
        self.shell.dialog = Some(dialog);
    }

    /// The user said yes to a destructive action.
    fn confirmed(&mut self, confirm: Confirm) {
        if confirm == Confirm::Unmask {
            self.set_masked(false);
            return;
        }
        if let Confirm::Unpublish { model } = confirm {
            // The panel runs it (its state shows the work under way).
            self.commands.push(ModelsCommand::Unpublish(model).into());
            return;
        }
        let Some(engine) = self.engine.clone() else {
            return;
        };
        let outbox = self.outbox.clone();
        match confirm {
            Confirm::Replay { from_snapshot } => {
                if let Some(job) = self.shell.jobs.start(JobKind::Replay, true, &outbox) {
                    self.spawn(tasks::replay(engine, from_snapshot, job, outbox));
                }
            }
            Confirm::Restore { id, .. } => {
                if self
                    .shell
                    .jobs
                    .start(JobKind::Restore, false, &outbox)
                    .is_some()
                {
                    self.spawn(tasks::restore(engine, id, outbox));
                }
            }
            Confirm::RepairRows { .. } => {
                if let Some(job) = self.shell.jobs.start(JobKind::Repair, true, &outbox) {
                    self.spawn(tasks::repair_rows(engine, job, outbox));
                }
            }
            Confirm::Import { path } => {
                if let Some(job) = self.shell.jobs.start(JobKind::Import, true, &outbox) {
                    self.spawn(tasks::import(engine, path, job, outbox));
                }
            }
            Confirm::Unmask | Confirm::Unpublish { .. } => {
                // Handled before the engine is needed.
            }
        }
    }

    /// A background result arrived: to its owner.
    pub(super) fn apply(&mut self, message: Message) {
        match message {
            Message::Shell(message) => self.apply_shell(message),
            Message::Emit(message) => self.panels.emit.apply(message),
            Message::Timeline(message) => self.panels.timeline.apply(message, &mut self.shell),
            Message::TimeTravel(message) => self.panels.time_travel.apply(message, &self.shell),
            Message::Compare(message) => {
                let verify = matches!(message, CompareMessage::Verify(_));
                self.panels.compare.apply(message);
                if verify {
                    let compare = &self.panels.compare;
                    self.shell.drift =
                        compare
                            .verify
                            .value()
                            .zip(compare.verify_at)
                            .map(|(report, at)| DriftSeen {
                                rows: report.missing + report.extra + report.different,
                                at,
                            });
                }
            }
            Message::History(message) => self.panels.history.apply(message),
            Message::OverTime(message) => self.panels.over_time.apply(message),
            Message::WhatIf(message) => self.panels.what_if.apply(message),
            Message::Models(message) => {
                let built = matches!(message, ModelsMessage::Built(Ok(_)));
                if self.panels.models.apply(message) {
                    self.commands.push(ModelsCommand::Reload.into());
                }
                if built {
                    self.commands.push(ModelsCommand::ShowRows.into());
                }
            }
            Message::Operations(message) => {
                self.panels.operations.apply(message, &mut self.shell);
            }
            Message::Scenario(message) => self.apply_scenario(message),
        }
    }

    /// Whether what the last comparison compared changed with `status`:
    /// the pairing (tables of another ledger, or rebuilt for this one), or
    /// a read store that did not answer answers again.
    fn compared_changed(&self, status: &StatusSnapshot) -> bool {
        let built_from = |p: &Pairing| p.foreign().map(|f| (f.built_from, f.schema));
        let pairing = matches!(
            (&self.shell.pairing, &status.pairing),
            (Some(old), Some(new)) if built_from(old) != built_from(new)
        );
        let unreachable =
            |h: &ReadStoreHealth| matches!(h.trouble, Some(ReadStoreTrouble::Unreachable { .. }));
        let back = unreachable(&self.shell.read_health) && !unreachable(&status.read_health);
        pairing || (back && self.panels.compare.verify_error.is_some())
    }

    /// The last comparison no longer holds: Compare runs again when shown,
    /// and the top bar forgets its drift.
    fn forget_comparison(&mut self) {
        self.panels.compare.forget_report();
        self.shell.drift = None;
    }

    /// A replay or restore replaced the read tables: what the old ones
    /// caused (an error, lag, the pairing) is read again at once instead of
    /// at the next poll.
    fn read_tables_replaced(&mut self) {
        self.forget_comparison();
        // Unknown until checked again (the engine's notice polls at once).
        self.shell.pairing = None;
        if let Some(engine) = self.engine.clone() {
            self.spawn(async move { engine.read_tables_replaced().await });
        }
    }

    fn apply_shell(&mut self, message: ShellMessage) {
        match message {
            ShellMessage::Connected {
                engine,
                shutdown,
                mask,
            } => self.connected(engine, shutdown, mask),
            ShellMessage::CrashReport { path, text } => {
                tracing::info!(path = %path.display(), "the last run left a crash report");
                self.shell.crash = Some(super::crash::CrashOffer {
                    path,
                    text,
                    open: false,
                });
            }
            ShellMessage::ConnectFailed(error) => {
                tracing::warn!(%error, "connecting failed");
                self.shell.connection = super::Connection::Failed(error);
            }
            ShellMessage::Status(status) => {
                let first = self.shell.statuses.is_empty();
                if self.compared_changed(&status) {
                    self.forget_comparison();
                }
                let old_head = self.shell.on_status(status);
                if first {
                    self.panels.time_travel.on_first_status(self.shell.head);
                    self.commands.append(&mut self.startup);
                }
                if self.shell.head != old_head {
                    self.panels.on_head_changed(&self.shell, old_head);
                }
            }
            ShellMessage::Notice(notice) => {
                match &notice {
                    EngineNotice::SnapshotFailed(error) => {
                        self.shell
                            .report(format!("automatic snapshot failed: {error}"));
                        if self.shell.jobs.running(JobKind::HistoryPass) {
                            self.shell.jobs.done(
                                JobKind::HistoryPass,
                                Err(EngineError::Crashed(error.clone())),
                            );
                        }
                    }
                    EngineNotice::HistoryPass(progress) => {
                        self.shell
                            .jobs
                            .observe(JobKind::HistoryPass, progress.clone());
                    }
                    EngineNotice::SnapshotTaken(meta)
                        if meta.is_history() && self.shell.jobs.running(JobKind::HistoryPass) =>
                    {
                        let secs = self
                            .shell
                            .jobs
                            .get(JobKind::HistoryPass)
                            .map_or(0.0, |job| job.started.elapsed().as_secs_f64());
                        let text = said!(
                            "job-history-done",
                            events = meta.position,
                            secs = OneDecimal(secs),
                            users = meta.users,
                            bookings = meta.bookings,
                            megabytes = OneDecimal(meta.size_bytes as f64 / 1e6)
                        );
                        let english = text.text_in(crate::ui::prefs::Language::En);
                        tracing::info!(job = JobKind::HistoryPass.title(), "{english}");
                        self.shell.jobs.done(JobKind::HistoryPass, Ok(text));
                    }
                    EngineNotice::OutageSimulation(on) => self.shell.outage = *on,
                    _ => {}
                }
                self.panels.on_notice(&notice);
            }
            ShellMessage::JobProgress(kind, progress) => self.shell.jobs.progress(kind, progress),
            ShellMessage::JobDone(kind, result) => {
                match &result {
                    Ok(text) => {
                        let english = text.text_in(crate::ui::prefs::Language::En);
                        tracing::info!(job = kind.title(), "{english}");
                    }
                    Err(error) => tracing::warn!(job = kind.title(), %error, "job failed"),
                }
                let ok = result.is_ok();
                self.shell.jobs.done(kind, result);
                self.panels.on_job_done(kind, ok);
                if ok && matches!(kind, JobKind::Replay | JobKind::Restore) {
                    self.read_tables_replaced();
                }
            }
            ShellMessage::FilePicked(picked) => match picked {
                Ok(Some(path)) => {
                    self.shell.file_path = path;
                    self.shell.file_error = None;
                }
                Ok(None) => {}
                Err(why) => {
                    tracing::warn!(%why, "no file dialog");
                    self.shell.file_error = Some(InlineError::Input(why.to_string()));
                }
            },
            ShellMessage::Error(error) => self.shell.report(error),
            ShellMessage::LedgerId(result) => {
                self.shell.ledger_id = match result {
                    Ok(id) => id,
                    Err(error) => {
                        // Bookmarks and links of this ledger wait for it.
                        self.shell
                            .report(format!("cannot read the ledger's id: {error}"));
                        None
                    }
                };
                self.ledger_id_read = true;
                let kept = self
                    .shell
                    .ledger_id
                    .and_then(|id| self.shell.mask_choices.get(&id.to_string()).copied());
                if let (Some(masked), None) = (kept, self.shell.mask_forced) {
                    self.shell.masked = masked;
                }
                self.resolve_link();
            }
        }
    }
}
