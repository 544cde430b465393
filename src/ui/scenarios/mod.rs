//! Guided scenarios for classes: one click prepares a small ledger in a
//! fresh training data dir (never the user's), the window connects to it,
//! and a small window walks through one idea of the note in steps (what to
//! click, what to look at), outlining the control each step is about. A
//! step may check whether the class did it; Next always works. Close goes
//! back to the stores the window had before.
//!
//! The steps are data ([`steps`]); preparing and timing run on tokio
//! ([`prepare`]); the window and the outline are drawn in [`ui`].

pub mod prepare;
pub mod steps;
pub mod ui;

use std::path::PathBuf;

use crate::engine::EngineError;
use crate::ui::app::Shell;
use crate::ui::command::ShellCommand;
use crate::ui::panels::timeline::TimelineCommand;
use crate::ui::panels::{Ctx, PanelKind, Panels};
use crate::ui::prefs::Language;

pub use prepare::{Prepared, RecoveryTimes, ScenarioError};
pub use steps::{Check, ScenarioId, Step, Target, Text};
pub use ui::{mark_target, scenario_ui};

/// Environment variable naming where training data dirs are made (else
/// `training/` in the platform's data dir, else the temp dir).
pub const TRAINING_DIR_ENV: &str = "LEDGERSCOPE_TRAINING_DIR";

/// Environment variable naming a scenario to start once connected (its
/// slug: `idempotency`, `anatomy`, `outage`, `replay`, `time-travel`,
/// `snapshots`, `read-model`), optionally at a step (`outage:3`, counted
/// from 1), for demos and screenshots.
pub const START_SCENARIO_ENV: &str = "LEDGERSCOPE_START_SCENARIO";

/// The commands that start the scenario [`START_SCENARIO_ENV`] names at
/// its step (an unknown name or step is logged, and nothing starts).
pub fn start_scenario() -> Vec<ScenarioCommand> {
    let Ok(value) = std::env::var(START_SCENARIO_ENV) else {
        return Vec::new();
    };
    let Some((id, step)) = parse_start(&value) else {
        tracing::warn!(%value, "{START_SCENARIO_ENV} names no scenario, or no step of it");
        return Vec::new();
    };
    let mut commands = vec![ScenarioCommand::Start(id)];
    commands.extend(std::iter::repeat_n(ScenarioCommand::Next, step - 1));
    commands
}

/// `slug` or `slug:step` (counted from 1): the scenario and its step.
fn parse_start(value: &str) -> Option<(ScenarioId, usize)> {
    let (name, step) = match value.split_once(':') {
        Some((name, step)) => (name, step.trim().parse::<usize>().ok()?),
        None => (value, 1),
    };
    let id = ScenarioId::parse(name.trim())?;
    (1..=id.steps().len()).contains(&step).then_some((id, step))
}

/// Where training data dirs are made by default.
pub fn default_training_root() -> PathBuf {
    if let Some(dir) = std::env::var_os(TRAINING_DIR_ENV).filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    directories::ProjectDirs::from("", "", "ledgerscope")
        .map(|d| d.data_dir().join("training"))
        .unwrap_or_else(|| std::env::temp_dir().join("ledgerscope-training"))
}

/// What the scenario window asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum ScenarioCommand {
    /// Prepare a fresh training ledger for this scenario and connect to it.
    Start(ScenarioId),
    /// The next step.
    Next,
    /// The step before.
    Back,
    /// Leave the scenario (the window goes back to its stores).
    Close,
    /// Snapshots scenario: replay from zero and from the newest snapshot,
    /// timed.
    TimeRecovery,
}

/// What comes back for the scenario window.
pub enum ScenarioMessage {
    /// The training ledger in `dir` is ready (or could not be made).
    Prepared {
        /// The data dir it was made in.
        dir: PathBuf,
        /// What was made.
        result: Result<Prepared, ScenarioError>,
    },
    /// Both recoveries ran (or one failed).
    Timed(Result<RecoveryTimes, EngineError>),
}

/// Where a scenario stands.
#[derive(Clone, Debug, PartialEq)]
pub enum Stage {
    /// Its ledger is being made.
    Preparing,
    /// Made; the window connects to it.
    Ready(Prepared),
    /// It could not be made.
    Failed(String),
}

/// The scenario under way.
#[derive(Clone, Debug, PartialEq)]
pub struct Active {
    /// Which one.
    pub id: ScenarioId,
    /// The step shown (an index into its steps).
    pub step: usize,
    /// Counts step changes (the outlined control scrolls into view once
    /// per change).
    pub serial: u64,
    /// Its training data dir.
    pub dir: PathBuf,
    /// Where it stands.
    pub stage: Stage,
    /// The two recoveries are being timed.
    pub timing: bool,
    /// How long they took (or why they failed).
    pub times: Option<Result<RecoveryTimes, EngineError>>,
}

impl Active {
    /// Its steps.
    pub fn steps(&self) -> &'static [Step] {
        self.id.steps()
    }

    /// The step shown.
    pub fn current(&self) -> Option<&'static Step> {
        self.steps().get(self.step)
    }

    /// What was prepared, once it was.
    pub fn prepared(&self) -> Option<&Prepared> {
        match &self.stage {
            Stage::Ready(p) => Some(p),
            _ => None,
        }
    }
}

/// The scenarios' state.
#[derive(Debug)]
pub struct Scenarios {
    /// The scenario under way.
    pub active: Option<Active>,
    /// Where training data dirs are made.
    pub training_root: PathBuf,
}

impl Default for Scenarios {
    fn default() -> Self {
        Scenarios {
            active: None,
            training_root: default_training_root(),
        }
    }
}

impl Scenarios {
    /// A fresh training data dir for `id` under the training root.
    pub fn fresh_dir(&self, id: ScenarioId) -> PathBuf {
        let stamp = chrono::Utc::now().format("%Y%m%d-%H%M%S");
        let short = uuid::Uuid::new_v4().simple().to_string();
        self.training_root
            .join(format!("{}-{stamp}-{}", id.slug(), &short[..8]))
    }

    /// The control the shown step is about (`None` while preparing).
    pub fn target(&self) -> Option<Target> {
        let active = self.active.as_ref()?;
        active.prepared()?;
        active.current().map(|s| s.target)
    }

    /// Whether the shown step's check holds (`None`: it has none, or no
    /// scenario is ready).
    pub fn check(&self, shell: &Shell, panels: &Panels) -> Option<bool> {
        let active = self.active.as_ref()?;
        let prepared = active.prepared()?;
        let check = active.current()?.check?;
        Some(check.holds(shell, panels, prepared, active.times.as_ref()))
    }

    /// Runs the commands that need no store switch (Next, Back, timing).
    pub fn handle(&mut self, command: ScenarioCommand, ctx: &mut Ctx<'_>) {
        let Some(active) = &mut self.active else {
            return;
        };
        match command {
            ScenarioCommand::Next if active.step + 1 < active.steps().len() => {
                active.step += 1;
                active.serial += 1;
                show_step_panel(active, ctx);
            }
            ScenarioCommand::Back if active.step > 0 => {
                active.step -= 1;
                active.serial += 1;
                show_step_panel(active, ctx);
            }
            ScenarioCommand::TimeRecovery if !active.timing => {
                let Some(engine) = ctx.engine.cloned() else {
                    return;
                };
                active.timing = true;
                active.times = None;
                let outbox = ctx.outbox.clone();
                ctx.spawn(async move {
                    let result = prepare::time_recovery(&engine).await;
                    outbox
                        .send(crate::ui::command::Message::Scenario(
                            ScenarioMessage::Timed(result),
                        ))
                        .await;
                });
            }
            _ => {}
        }
    }

    /// The timing answered.
    pub fn timed(&mut self, result: Result<RecoveryTimes, EngineError>) {
        if let Some(active) = &mut self.active {
            active.timing = false;
            if let Err(error) = &result {
                tracing::warn!(%error, "timing the recoveries failed");
            }
            active.times = Some(result);
        }
    }
}

/// Shows the panel the step is on (on the timeline, the event the
/// scenario is about is selected).
pub fn show_step_panel(active: &Active, ctx: &mut Ctx<'_>) {
    for command in step_commands(active) {
        ctx.route(command);
    }
}

/// What showing the step asks of the shell and the panels: its panel, and
/// on the timeline the event at the scenario's marker.
pub fn step_commands(active: &Active) -> Vec<crate::ui::command::UiCommand> {
    let mut commands = Vec::new();
    if let Some(panel) = active.current().and_then(|s| s.panel) {
        commands.push(ShellCommand::ShowPanel(panel).into());
        if let (PanelKind::Timeline, Some(marker)) =
            (panel, active.prepared().and_then(|p| p.marker))
        {
            commands.push(TimelineCommand::JumpToPosition(marker).into());
        }
    }
    commands
}

/// The text of `text` in `language`.
pub fn tr(text: &Text, language: Language) -> &'static str {
    match language {
        Language::En => text.en,
        Language::Es => text.es,
    }
}

/// The panel a target is on (`None`: always on screen, in the top bar or
/// the scenario window).
pub fn target_panel(target: Target) -> Option<PanelKind> {
    match target {
        Target::None | Target::LagGauges | Target::RecoveryTimes | Target::Tab(_) => None,
        Target::EmitGenerate
        | Target::EmitSendAgain
        | Target::EmitAnswer
        | Target::EmitAnatomy
        | Target::OutageSwitch => Some(PanelKind::Emit),
        Target::ReplayFromZero | Target::Snapshots => Some(PanelKind::Operations),
        Target::TravelScrubber => Some(PanelKind::TimeTravel),
        Target::ModelsExamples | Target::ModelsBuild => Some(PanelKind::Models),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_start_names_a_scenario_and_maybe_its_step() {
        assert_eq!(parse_start("outage"), Some((ScenarioId::Outage, 1)));
        assert_eq!(parse_start("outage:3"), Some((ScenarioId::Outage, 3)));
        let last = ScenarioId::Outage.steps().len();
        assert_eq!(
            parse_start(&format!("outage:{last}")),
            Some((ScenarioId::Outage, last))
        );
        assert_eq!(parse_start(&format!("outage:{}", last + 1)), None);
        assert_eq!(parse_start("outage:0"), None);
        assert_eq!(parse_start("outage:x"), None);
        assert_eq!(parse_start("nothing"), None);
    }
}
