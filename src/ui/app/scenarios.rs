//! The app's side of the guided scenarios: starting one (its ledger is
//! made on tokio in a fresh training data dir, then the window connects
//! to it as Connect… does), closing it (back to the stores open before),
//! and routing the rest to [`Scenarios`](crate::ui::scenarios::Scenarios).

use crate::store::StoreConfig;
use crate::ui::app::LedgerApp;
use crate::ui::command::{Message, UiCommand};
use crate::ui::panels::Ctx;
use crate::ui::scenarios::{Active, ScenarioCommand, ScenarioMessage, Stage, prepare};

impl LedgerApp {
    /// Runs a command of the scenario window.
    pub(super) fn handle_scenario(
        &mut self,
        command: ScenarioCommand,
        routed: &mut Vec<UiCommand>,
    ) {
        match command {
            ScenarioCommand::Start(id) => {
                let dir = self.scenarios.fresh_dir(id);
                tracing::info!(scenario = id.slug(), dir = %dir.display(), "preparing a scenario");
                self.scenarios.active = Some(Active {
                    id,
                    step: 0,
                    serial: 0,
                    dir: dir.clone(),
                    stage: Stage::Preparing,
                    timing: false,
                    times: None,
                });
                let outbox = self.outbox.clone();
                self.spawn(async move {
                    let result = prepare::prepare(id, &dir).await;
                    let message = ScenarioMessage::Prepared { dir, result };
                    outbox.send(Message::Scenario(message)).await;
                });
            }
            ScenarioCommand::Close => {
                self.scenarios.active = None;
                if let Some(before) = self.before_scenario.take() {
                    tracing::info!(data_dir = %before.data_dir.display(), "scenario closed: back to the stores open before");
                    let training = std::mem::replace(&mut self.store_config, before);
                    self.disconnect();
                    self.start_connect();
                    self.remove_training_dir(training.data_dir);
                }
            }
            other => {
                let mut ctx = Ctx {
                    engine: self.engine.as_ref(),
                    runtime: &self.runtime,
                    outbox: &self.outbox,
                    shell: &mut self.shell,
                    routed,
                };
                self.scenarios.handle(other, &mut ctx);
            }
        }
    }

    /// Removes a training data dir the window no longer uses (the last
    /// scenario's), in the background; never a dir outside the training
    /// root.
    fn remove_training_dir(&self, dir: std::path::PathBuf) {
        let root = &self.scenarios.training_root;
        if !dir.starts_with(root) || dir == *root {
            return;
        }
        self.spawn(async move {
            let removed = tokio::fs::remove_dir_all(&dir).await;
            match removed {
                Ok(()) => tracing::info!(dir = %dir.display(), "training data dir removed"),
                Err(error) => {
                    tracing::warn!(dir = %dir.display(), %error, "training data dir not removed");
                }
            }
        });
    }

    /// A scenario's background work answered.
    pub(super) fn apply_scenario(&mut self, message: ScenarioMessage) {
        match message {
            ScenarioMessage::Prepared { dir, result } => {
                let Some(active) = self.scenarios.active.as_mut().filter(|a| a.dir == dir) else {
                    tracing::info!(dir = %dir.display(), "a scenario's ledger is ready but no longer wanted");
                    return;
                };
                match result {
                    Ok(prepared) => {
                        active.stage = Stage::Ready(prepared);
                        // Once the training ledger's first status arrives.
                        self.startup
                            .extend(crate::ui::scenarios::step_commands(active));
                        if self.before_scenario.is_none() {
                            self.before_scenario = Some(self.store_config.clone());
                        }
                        let training = StoreConfig {
                            connect_timeout: self.store_config.connect_timeout,
                            ..StoreConfig::embedded(dir)
                        };
                        let previous = std::mem::replace(&mut self.store_config, training);
                        self.disconnect();
                        self.start_connect();
                        self.remove_training_dir(previous.data_dir);
                    }
                    Err(error) => {
                        tracing::warn!(%error, "a scenario's ledger could not be made");
                        active.stage = Stage::Failed(error.to_string());
                    }
                }
            }
            ScenarioMessage::Timed(result) => self.scenarios.timed(result),
        }
    }
}
