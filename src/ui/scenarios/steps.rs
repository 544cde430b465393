//! The scenarios as data: each one's title and steps (what to click and
//! what to look at, in English and Spanish), the control each step
//! outlines, the panel it shows, and what it checks.

use crate::ui::app::Shell;
use crate::ui::jobs::JobKind;
use crate::ui::panels::{PanelKind, Panels};

use super::prepare::{Prepared, RecoveryTimes};

/// A text in both languages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Text {
    /// English.
    pub en: &'static str,
    /// Spanish.
    pub es: &'static str,
}

const fn t(en: &'static str, es: &'static str) -> Text {
    Text { en, es }
}

/// A control or area a step outlines. Each is marked where it is drawn
/// ([`super::mark_target`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// Nothing in particular.
    None,
    /// A panel's tab.
    Tab(PanelKind),
    /// The projectors' lag gauges in the top bar.
    LagGauges,
    /// Emit: "Generate New Event".
    EmitGenerate,
    /// Emit: "Send again (same UUID)".
    EmitSendAgain,
    /// Emit: the answer to the last command.
    EmitAnswer,
    /// Emit: the anatomy of the last transaction.
    EmitAnatomy,
    /// Operations: the read-store outage switch.
    OutageSwitch,
    /// Operations: "Replay from zero…".
    ReplayFromZero,
    /// Operations: the snapshots.
    Snapshots,
    /// Time travel: the scrubber.
    TravelScrubber,
    /// Models: "Load example".
    ModelsExamples,
    /// Models: "Build".
    ModelsBuild,
    /// The scenario window's "Time both recoveries" and its results.
    RecoveryTimes,
}

/// What a step can check the class did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// A new event was stored after the scenario began.
    EventStored,
    /// The last answer was a duplicate.
    DuplicateSeen,
    /// The outage simulation is on.
    OutageOn,
    /// During the outage a projector lags behind the head.
    LagGrew,
    /// The outage is off, events were added, and the views caught up.
    CaughtUp,
    /// Compare found drifted rows.
    DriftFound,
    /// A replay finished.
    Replayed,
    /// Compare found no drift.
    NoDrift,
    /// Time travel's cursor is before the address change.
    TravelledBefore,
    /// Time travel's cursor is at or after the address change.
    TravelledAfter,
    /// Both recoveries were timed.
    Timed,
    /// A read model was built.
    ModelBuilt,
}

impl Check {
    /// Whether it holds now (reads a few fields: no work per row).
    pub fn holds(
        self,
        shell: &Shell,
        panels: &Panels,
        prepared: &Prepared,
        times: Option<&Result<RecoveryTimes, crate::engine::EngineError>>,
    ) -> bool {
        let lagging = shell.statuses.iter().any(|s| shell.lag_events(s) > 0);
        match self {
            Check::EventStored => shell.head > prepared.head,
            Check::DuplicateSeen => panels
                .emit
                .last_command
                .as_ref()
                .is_some_and(|c| c.result.as_ref().is_ok_and(|o| o.duplicate)),
            Check::OutageOn => shell.outage,
            Check::LagGrew => shell.outage && lagging,
            Check::CaughtUp => {
                !shell.outage
                    && shell.head > prepared.head
                    && !shell.statuses.is_empty()
                    && !lagging
            }
            Check::DriftFound => shell.drift.is_some_and(|d| d.rows > 0),
            Check::Replayed => shell
                .jobs
                .result(JobKind::Replay)
                .is_some_and(|r| r.is_ok()),
            Check::NoDrift => shell.drift.is_some_and(|d| d.rows == 0),
            Check::TravelledBefore => prepared
                .marker
                .is_some_and(|m| panels.time_travel.cursor < m),
            Check::TravelledAfter => prepared
                .marker
                .is_some_and(|m| panels.time_travel.cursor >= m),
            Check::Timed => times.is_some_and(|t| t.is_ok()),
            Check::ModelBuilt => panels.models.built.is_some(),
        }
    }

    /// What it says when it holds.
    pub fn done(self) -> Text {
        match self {
            Check::EventStored => t(
                "Done: a new event is in the ledger.",
                "Hecho: hay un evento nuevo en el ledger.",
            ),
            Check::DuplicateSeen => t(
                "Done: a duplicate was detected; the head did not move.",
                "Hecho: se detectó un duplicado; el head no se movió.",
            ),
            Check::OutageOn => t(
                "Done: the read store is down (simulated).",
                "Hecho: el almacén de lectura está caído (simulado).",
            ),
            Check::LagGrew => t(
                "Done: the views lag behind the ledger.",
                "Hecho: las vistas van por detrás del ledger.",
            ),
            Check::CaughtUp => t(
                "Done: the views caught up; no event was lost.",
                "Hecho: las vistas se pusieron al día; no se perdió ningún evento.",
            ),
            Check::DriftFound => t(
                "Done: Compare found the drifted row.",
                "Hecho: Comparar encontró la fila desviada.",
            ),
            Check::Replayed => t(
                "Done: the read tables were rebuilt.",
                "Hecho: las tablas de lectura se reconstruyeron.",
            ),
            Check::NoDrift => t(
                "Done: no drift; tables and ledger agree.",
                "Hecho: sin desviación; tablas y ledger coinciden.",
            ),
            Check::TravelledBefore => t(
                "Done: you are before the move.",
                "Hecho: estás antes de la mudanza.",
            ),
            Check::TravelledAfter => t(
                "Done: you are after the move.",
                "Hecho: estás después de la mudanza.",
            ),
            Check::Timed => t(
                "Done: both recoveries were timed.",
                "Hecho: se midieron las dos recuperaciones.",
            ),
            Check::ModelBuilt => t(
                "Done: the model was built from history.",
                "Hecho: el modelo se construyó desde el histórico.",
            ),
        }
    }

    /// What it says until it holds.
    pub fn waiting(self) -> Text {
        t(
            "Not yet: Next works anyway.",
            "Todavía no: Siguiente funciona igual.",
        )
    }
}

/// One step of a scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    /// Its title.
    pub title: Text,
    /// What to click and what to look at (`{position}`: the prepared
    /// marker's position).
    pub body: Text,
    /// What it outlines.
    pub target: Target,
    /// The panel it shows when it begins (`None`: the one on screen).
    pub panel: Option<PanelKind>,
    /// What it checks.
    pub check: Option<Check>,
}

const fn step(
    title: Text,
    body: Text,
    target: Target,
    panel: Option<PanelKind>,
    check: Option<Check>,
) -> Step {
    Step {
        title,
        body,
        target,
        panel,
        check,
    }
}

use Check as C;
use PanelKind as P;
use Target as T;

const IDEMPOTENCY: [Step; 4] = [
    step(
        t("Send a booking", "Envía una reserva"),
        t(
            "Click Generate New Event. A booking with a fresh UUID (made by the client) is stored: the head in the top bar grows by one.",
            "Pulsa Generar nuevo evento. Se guarda una reserva con un UUID nuevo (creado por el cliente): el head de la barra superior sube en uno.",
        ),
        T::EmitGenerate,
        Some(P::Emit),
        Some(C::EventStored),
    ),
    step(
        t("Send the same UUID again", "Reenvía el mismo UUID"),
        t(
            "Click Send again (same UUID), as a client does after a timeout when it does not know whether the first try arrived.",
            "Pulsa Enviar de nuevo (mismo UUID), como hace un cliente tras un timeout cuando no sabe si el primer intento llegó.",
        ),
        T::EmitSendAgain,
        Some(P::Emit),
        Some(C::DuplicateSeen),
    ),
    step(
        t("Read the answer", "Lee la respuesta"),
        t(
            "The answer says Duplicate, with the first event's position. Nothing new was stored or published and the head did not move: the UUID is the idempotency key.",
            "La respuesta dice Duplicate, con la posición del primer evento. No se guardó ni se publicó nada nuevo y el head no se movió: el UUID es la clave de idempotencia.",
        ),
        T::EmitAnswer,
        Some(P::Emit),
        Some(C::DuplicateSeen),
    ),
    step(
        t("Nothing was projected", "No se proyectó nada"),
        t(
            "The anatomy of the retry: exists? yes, and no save, no publish, no projection. Retrying is safe.",
            "La anatomía del reintento: ¿existe? sí, y ni guardado, ni publicación, ni proyección. Reintentar es seguro.",
        ),
        T::EmitAnatomy,
        Some(P::Emit),
        None,
    ),
];

const ANATOMY: [Step; 4] = [
    step(
        t("Run one command", "Ejecuta un comando"),
        t(
            "Click Generate New Event: the booking wizard's command goes through the handler once.",
            "Pulsa Generar nuevo evento: el comando del asistente de reserva pasa una vez por el handler.",
        ),
        T::EmitGenerate,
        Some(P::Emit),
        Some(C::EventStored),
    ),
    step(
        t("The transaction", "La transacción"),
        t(
            "Read the anatomy left to right: lock the aggregate, does it exist?, build the event, save it in the ledger, unlock, publish. Each step with its duration.",
            "Lee la anatomía de izquierda a derecha: bloquear el agregado, ¿existe?, construir el evento, guardarlo en el ledger, desbloquear, publicar. Cada paso con su duración.",
        ),
        T::EmitAnatomy,
        Some(P::Emit),
        None,
    ),
    step(
        t("The projections", "Las proyecciones"),
        t(
            "Below it, each projection applies the event to its read table and moves its checkpoint: a separate transaction, after the command's.",
            "Debajo, cada proyección aplica el evento a su tabla de lectura y avanza su checkpoint: otra transacción, después de la del comando.",
        ),
        T::EmitAnatomy,
        Some(P::Emit),
        None,
    ),
    step(
        t("The views caught up", "Las vistas al día"),
        t(
            "The gauges in the top bar: both projectors at lag 0, the read tables reflect the head.",
            "Los indicadores de la barra superior: los dos proyectores con retraso 0, las tablas de lectura reflejan el head.",
        ),
        T::LagGauges,
        None,
        None,
    ),
];

const OUTAGE: [Step; 5] = [
    step(
        t("Take the read store down", "Tira el almacén de lectura"),
        t(
            "Tick SIMULATE read-store outage. The read store (PostgreSQL in production) now refuses writes. It is a simulation: nothing is really broken.",
            "Marca SIMULAR caída del almacén de lectura. El almacén de lectura (PostgreSQL en producción) rechaza ahora las escrituras. Es una simulación: nada se rompe de verdad.",
        ),
        T::OutageSwitch,
        Some(P::Emit),
        Some(C::OutageOn),
    ),
    step(
        t("Commands keep working", "Los comandos siguen funcionando"),
        t(
            "Click Generate New Event two or three times. Each command succeeds: storing an event needs the ledger, not the read store.",
            "Pulsa Generar nuevo evento dos o tres veces. Cada comando funciona: guardar un evento necesita el ledger, no el almacén de lectura.",
        ),
        T::EmitGenerate,
        Some(P::Emit),
        Some(C::LagGrew),
    ),
    step(
        t("The views lag", "Las vistas se retrasan"),
        t(
            "Look at the gauges: the projectors are behind the head. The views are stale, not wrong, and the events wait in the ledger.",
            "Mira los indicadores: los proyectores van por detrás del head. Las vistas están desfasadas, no mal, y los eventos esperan en el ledger.",
        ),
        T::LagGauges,
        None,
        Some(C::LagGrew),
    ),
    step(
        t("Bring it back", "Vuelve a levantarlo"),
        t(
            "Untick the switch. The projectors resume from their checkpoints and apply what they missed.",
            "Desmarca el interruptor. Los proyectores siguen desde su checkpoint y aplican lo que se perdieron.",
        ),
        T::OutageSwitch,
        Some(P::Emit),
        Some(C::CaughtUp),
    ),
    step(
        t("Caught up", "Al día"),
        t(
            "Lag 0 on both gauges: every event stored during the outage is in the views. No event was lost.",
            "Retraso 0 en los dos indicadores: todos los eventos guardados durante la caída están en las vistas. No se perdió ninguno.",
        ),
        T::LagGauges,
        None,
        Some(C::CaughtUp),
    ),
];

const REPLAY: [Step; 3] = [
    step(
        t("A corrupted read table", "Una tabla de lectura corrupta"),
        t(
            "Compare checks the read tables against the ledger. One booking's row was edited behind the projectors' back (19 guests): Compare names it.",
            "Comparar contrasta las tablas de lectura con el ledger. Una fila de reserva se editó a espaldas de los proyectores (19 huéspedes): Comparar la señala.",
        ),
        T::Tab(P::Compare),
        Some(P::Compare),
        Some(C::DriftFound),
    ),
    step(
        t("Replay from zero", "Replay desde cero"),
        t(
            "Click Replay from zero… and confirm. The read tables are rebuilt from the ledger into fresh tables and swapped in at once.",
            "Pulsa Repetir desde cero… y confirma. Las tablas de lectura se reconstruyen desde el ledger en tablas nuevas y se cambian de golpe.",
        ),
        T::ReplayFromZero,
        Some(P::Operations),
        Some(C::Replayed),
    ),
    step(
        t("Compare again", "Compara otra vez"),
        t(
            "Compare runs again: no drift. The ledger is the truth; the read tables can always be rebuilt from it.",
            "Comparar vuelve a ejecutarse: sin desviación. El ledger es la verdad; las tablas de lectura siempre se pueden reconstruir.",
        ),
        T::Tab(P::Compare),
        Some(P::Compare),
        Some(C::NoDrift),
    ),
];

const TIME_TRAVEL: [Step; 4] = [
    step(
        t("Calle A -> Calle B", "Calle A -> Calle B"),
        t(
            "The timeline: at position {position} a UserAddressChanged event moved a user from Calle A 12 to Calle B 7 (filter by type to find it).",
            "El timeline: en la posición {position} un evento UserAddressChanged mudó a un usuario de Calle A 12 a Calle B 7 (filtra por tipo para encontrarlo).",
        ),
        T::Tab(P::Timeline),
        Some(P::Timeline),
        None,
    ),
    step(
        t("Before the move", "Antes de la mudanza"),
        t(
            "Drag the scrubber to before position {position}: in the users table the user still lives in Calle A 12.",
            "Lleva el deslizador antes de la posición {position}: en la tabla users el usuario aún vive en Calle A 12.",
        ),
        T::TravelScrubber,
        Some(P::TimeTravel),
        Some(C::TravelledBefore),
    ),
    step(
        t("After the move", "Después de la mudanza"),
        t(
            "Move to {position} or later: Calle B 7. The change did not overwrite anything: both addresses are in the ledger.",
            "Ve a la posición {position} o después: Calle B 7. El cambio no sobrescribió nada: las dos direcciones están en el ledger.",
        ),
        T::TravelScrubber,
        Some(P::TimeTravel),
        Some(C::TravelledAfter),
    ),
    step(
        t("The row's history", "La historia de la fila"),
        t(
            "Click the user's key in the rows: the row history lists every version with the event that made it, Calle A struck through beside Calle B.",
            "Pulsa la clave del usuario en las filas: la historia de la fila lista cada versión con el evento que la creó, Calle A tachada junto a Calle B.",
        ),
        T::None,
        Some(P::TimeTravel),
        None,
    ),
];

const SNAPSHOTS: [Step; 3] = [
    step(
        t("A snapshot", "Un snapshot"),
        t(
            "Operations lists the snapshots: the state at a position, full or as a delta of a full one. Recovery can start from the newest instead of from position zero.",
            "Operaciones lista los snapshots: el estado en una posición, completo o como delta de uno completo. La recuperación puede empezar en el más reciente en vez de en la posición cero.",
        ),
        T::Snapshots,
        Some(P::Operations),
        None,
    ),
    step(
        t("Time both", "Mide las dos"),
        t(
            "Click Time both recoveries: the read tables are rebuilt twice, from zero and from the snapshot, and both durations show here.",
            "Pulsa Medir las dos recuperaciones: las tablas de lectura se reconstruyen dos veces, desde cero y desde el snapshot, y las dos duraciones se ven aquí.",
        ),
        T::RecoveryTimes,
        None,
        Some(C::Timed),
    ),
    step(
        t("Why it is faster", "Por qué es más rápido"),
        t(
            "From zero folds every event; from the snapshot only those after it. The longer the ledger, the bigger the gap. Operations has both as Replay buttons.",
            "Desde cero pliega todos los eventos; desde el snapshot solo los posteriores. Cuanto más largo el ledger, mayor la diferencia. Operaciones tiene ambos botones de Replay.",
        ),
        T::ReplayFromZero,
        Some(P::Operations),
        Some(C::Timed),
    ),
];

const READ_MODEL: [Step; 3] = [
    step(
        t("A new question", "Una pregunta nueva"),
        t(
            "Load example: pick bookings_by_city.sql, then Save. A read model is a CREATE TABLE plus SQL for each event type it listens to.",
            "Cargar ejemplo: elige bookings_by_city.sql y pulsa Guardar. Un modelo de lectura es un CREATE TABLE más SQL por cada tipo de evento que escucha.",
        ),
        T::ModelsExamples,
        Some(P::Models),
        None,
    ),
    step(
        t("Build it from history", "Constrúyelo desde el histórico"),
        t(
            "Click Build: the whole past ledger is folded into the new table, events stored long before the model existed.",
            "Pulsa Construir: todo el ledger pasado se pliega en la tabla nueva, eventos guardados mucho antes de que el modelo existiera.",
        ),
        T::ModelsBuild,
        Some(P::Models),
        Some(C::ModelBuilt),
    ),
    step(
        t("The answer", "La respuesta"),
        t(
            "Its rows show below: a view nobody asked for when the events happened, built from what was recorded.",
            "Sus filas se ven debajo: una vista que nadie pidió cuando ocurrieron los eventos, construida con lo que quedó registrado.",
        ),
        T::None,
        Some(P::Models),
        Some(C::ModelBuilt),
    ),
];

/// A guided scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScenarioId {
    /// The same UUID twice.
    Idempotency,
    /// The anatomy of a transaction.
    Anatomy,
    /// "Si falla Postgres": the read store goes down.
    Outage,
    /// Replay after a corrupted read table.
    Replay,
    /// "Calle A -> Calle B".
    TimeTravel,
    /// Recovery from a snapshot against from zero, timed.
    Snapshots,
    /// A new read model built from past history.
    ReadModel,
}

impl ScenarioId {
    /// Every scenario, in the menu's order.
    pub const ALL: [ScenarioId; 7] = [
        ScenarioId::Idempotency,
        ScenarioId::Anatomy,
        ScenarioId::Outage,
        ScenarioId::Replay,
        ScenarioId::TimeTravel,
        ScenarioId::Snapshots,
        ScenarioId::ReadModel,
    ];

    /// Its title (the menu entry and the window's title).
    pub fn title(self) -> Text {
        match self {
            ScenarioId::Idempotency => t(
                "Idempotency: the same UUID twice",
                "Idempotencia: el mismo UUID dos veces",
            ),
            ScenarioId::Anatomy => t(
                "The anatomy of a transaction",
                "La anatomía de una transacción",
            ),
            ScenarioId::Outage => t("If PostgreSQL fails", "Si falla Postgres"),
            ScenarioId::Replay => t(
                "Replay after a corrupted read table",
                "Replay tras una tabla de lectura corrupta",
            ),
            ScenarioId::TimeTravel => t(
                "Time travel: Calle A -> Calle B",
                "Viaje en el tiempo: Calle A -> Calle B",
            ),
            ScenarioId::Snapshots => t(
                "Snapshots: recovery timed",
                "Snapshots: la recuperación cronometrada",
            ),
            ScenarioId::ReadModel => t(
                "A new read model from history",
                "Un modelo de lectura nuevo desde el histórico",
            ),
        }
    }

    /// Its name in the training dir's name.
    pub fn slug(self) -> &'static str {
        match self {
            ScenarioId::Idempotency => "idempotency",
            ScenarioId::Anatomy => "anatomy",
            ScenarioId::Outage => "outage",
            ScenarioId::Replay => "replay",
            ScenarioId::TimeTravel => "time-travel",
            ScenarioId::Snapshots => "snapshots",
            ScenarioId::ReadModel => "read-model",
        }
    }

    /// The scenario of a slug.
    pub fn parse(slug: &str) -> Option<ScenarioId> {
        ScenarioId::ALL
            .into_iter()
            .find(|id| id.slug() == slug.trim().to_ascii_lowercase())
    }

    /// Its steps.
    pub fn steps(self) -> &'static [Step] {
        match self {
            ScenarioId::Idempotency => &IDEMPOTENCY,
            ScenarioId::Anatomy => &ANATOMY,
            ScenarioId::Outage => &OUTAGE,
            ScenarioId::Replay => &REPLAY,
            ScenarioId::TimeTravel => &TIME_TRAVEL,
            ScenarioId::Snapshots => &SNAPSHOTS,
            ScenarioId::ReadModel => &READ_MODEL,
        }
    }

    /// How many commands its ledger is made of (before what is particular
    /// to it), and whether they mix in cancels, reschedules and moves.
    pub fn ledger_size(self) -> (u64, bool) {
        match self {
            ScenarioId::Idempotency | ScenarioId::Anatomy => (12, false),
            ScenarioId::Outage => (30, false),
            ScenarioId::Replay => (40, false),
            ScenarioId::TimeTravel => (20, false),
            ScenarioId::Snapshots => (3_000, false),
            ScenarioId::ReadModel => (300, true),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::scenarios::target_panel;

    #[test]
    fn every_step_speaks_both_languages_and_outlines_a_control_of_its_panel() {
        for id in ScenarioId::ALL {
            assert!(!id.title().en.is_empty() && !id.title().es.is_empty());
            assert_ne!(id.title().en, id.title().es, "{id:?} title not translated");
            assert!(!id.steps().is_empty(), "{id:?} has no steps");
            for (i, s) in id.steps().iter().enumerate() {
                for text in [s.title, s.body] {
                    assert!(!text.en.trim().is_empty(), "{id:?} step {i}: no English");
                    assert!(!text.es.trim().is_empty(), "{id:?} step {i}: no Spanish");
                }
                assert_ne!(s.body.en, s.body.es, "{id:?} step {i}: not translated");
                if let Some(panel) = target_panel(s.target) {
                    assert_eq!(
                        s.panel,
                        Some(panel),
                        "{id:?} step {i}: target on another panel"
                    );
                }
                if let Target::Tab(panel) = s.target {
                    assert!(PanelKind::ALL.contains(&panel));
                }
                assert_eq!(ScenarioId::parse(id.slug()), Some(id));
                if let Some(check) = s.check {
                    assert!(!check.done().en.is_empty() && !check.done().es.is_empty());
                }
            }
        }
    }
}
