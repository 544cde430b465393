# Ledgerscope: los textos de la ventana en español. Las mismas claves que
# en.ftl (lo comprueba la prueba de catálogos).

i18n-sample = { $count ->
    [one] { $count } evento
   *[other] { $count } eventos
}

## src/ui/app/menu.rs
menu-connect = Conectar…
menu-export-ndjson = Exportar NDJSON…
menu-import-ndjson = Importar NDJSON…
menu-open-link = Abrir enlace…
menu-open-ledgerscope-link-panel = Abrir un enlace ledgerscope:// a un panel y una posición
menu-keyboard-shortcuts = Atajos de teclado
menu-about = Acerca de
menu-started-with-observe-scenario = Iniciado con --observe: un escenario escribe su propio ledger.
menu-ledgerscope = Ledgerscope
menu-view = Ver

## src/ui/app/crash.rs
crash-title = Ledgerscope se detuvo inesperadamente la última vez
crash-report-left = Dejó un informe en { $path }: la versión, lo que se estaba ejecutando, los tipos de almacenes (sin dirección ni contraseña) y dónde se detuvo. Adjúntalo a un informe de error.
crash-show-report = Mostrar el informe
crash-copy-report = Copiar el informe
crash-dismiss = Descartar
menu-theme-dark = Oscuro
menu-theme-light = Claro
menu-theme-system = Como el sistema
menu-scenarios = Escenarios

## src/ui/app/top_bar.rs
top-remote = REMOTO { $role }: { $info }
top-remote-hover = Este almacén está en otra máquina: lo que se escribe aquí afecta a todos los que lo usan.
top-connecting = Conectando…
top-retry = Reintentar
top-head = cabeza { $head }
top-highest-ledger-position = Posición más alta del ledger
top-mode = Modo:
top-observe-hover = El modo observar desactiva todos los controles que escriben (comandos, repetición, instantáneas, importación).
top-observe-locked = Iniciado con --observe: esta ventana no puede escribir.
top-outage-badge = {" "}SIMULACIÓN: caída del almacén de lectura{" "}
top-outage-hover = Interruptor de formación en Operaciones: las escrituras de las proyecciones fallan hasta que se apague.
top-dismiss = Descartar
top-last-error = Último error: { $error }
top-frame-time = IU { $ms } ms/fotograma (máximo de los últimos { $frame_ms })
top-masked = Enmascarado
top-masked-hover = Los correos, nombres y direcciones se muestran como seudónimos (el mismo valor, el mismo seudónimo) en todos los paneles, copias e informes. Haz clic para mostrarlos (se pide confirmación).
top-personal-shown = {" "}DATOS PERSONALES VISIBLES{" "}
top-personal-shown-hover = Los correos, nombres y direcciones de los clientes se muestran tal cual.
top-mask-hover = Volver a mostrar los correos, nombres y direcciones como seudónimos
top-mask = Enmascarar
top-personal-shown-embedded-hover = Los datos personales están visibles (el almacén integrado en esta máquina). Haz clic para mostrar los correos, nombres y direcciones como seudónimos, p. ej. antes de compartir la pantalla.

## src/ui/app/health_bar.rs
health-drift-not-compared = desviación: sin comparar
health-no-drift = sin desviación a las { $at }
health-drift-rows = desviación: { $rows ->
    [one] { $rows } fila
   *[other] { $rows } filas
} a las { $at }
health-drift-hover = Lo que encontró la última comparación de las tablas de lectura con el ledger. Haz clic para abrir Comparar.
health-read-store-ok = almacén de lectura OK
health-read-store-ok-hover = Sus últimas lecturas y escrituras respondieron a tiempo.
health-write-waiting = Dentro de una escritura en el almacén de lectura que espera: el retraso crece hasta que se complete.

## src/ui/widgets/copy_link.rs
copy-link-hover = Copiar { $text } (`ledgerscope open ENLACE` abre la ventana ahí)
copy-link = Copiar enlace
copy-link-no-ledger-id = El id del ledger aún no se conoce (sin conexión).

## src/ui/widgets/outage_switch.rs
outage-switch = SIMULAR caída del almacén de lectura (simulación de formación)
outage-switch-hover = Mientras está activo, las escrituras de las proyecciones fallan: el ledger sigue aceptando eventos, las vistas se retrasan y se ponen al día cuando lo apagas. Nada se rompe de verdad.

## src/ui/widgets/job_progress.rs
job-starting = empezando
job-stop = Detener: { $job }

## src/ui/widgets/diff_table.rs
diff-no-differences = { $name }: sin diferencias

## src/ui/widgets/table/memory.rs
table-search = Buscar
table-ordering = ordenando…

## src/ui/widgets/table/paged.rs
table-ordering-progress = ordenando: { $done } de { $total } filas leídas ({ $percent } %)
table-reading-rows = leyendo filas…

## src/ui/widgets/table/draw.rs
table-show-event = Mostrar el evento { $position } en la línea de tiempo
table-before = antes: { $old }
table-row-history-hover = { $text }: mostrar cada versión de esta fila y los eventos que la hicieron (historial de la fila)
table-copy-cell = Copiar celda
table-copy-old-value = Copiar valor anterior
table-copy-row = Copiar fila
table-copy-row-hover = La fila, separada por tabuladores, bajo una línea con los nombres de las columnas
table-clear-search = Borrar la búsqueda
table-hide-rows = Ocultar las filas { $label }
table-show-rows = Mostrar las filas { $label }

## src/ui/widgets/mod.rs
widget-error = Error: { $error }

## src/ui/panels/emit/ui.rs
emit-booking-wizard = Asistente de reservas
emit-fix-fields = Corrige primero los campos marcados en rojo.
emit-submit = Enviar
emit-generate = Generar nuevo evento
emit-fill-random = Rellenar al azar
emit-fill-random-hover = Rellenar el formulario con datos realistas sin enviarlo
emit-send-booking-first = Envía primero una reserva.
emit-send-again = Enviar de nuevo (mismo UUID)
emit-change-booking = Cambiar una reserva
emit-booking-id = Id de la reserva
emit-reason = Motivo
emit-cancel-booking = Cancelar la reserva
emit-new-dates = Fechas nuevas
emit-reschedule = Reprogramar
emit-change-address = Cambiar una dirección
emit-user-id = Id del usuario
emit-new-address = Dirección nueva
emit-change-address-button = Cambiar la dirección
emit-bulk-generator = Generador masivo
emit-bulk-count = Cantidad
emit-bulk-rate = Ritmo/s
emit-bulk-mix = mezcla
emit-bulk-mix-hover = Mezclar cancelaciones, reprogramaciones y cambios de dirección (alrededor del 20 %)
emit-already-running = Ya está en marcha.
emit-bulk-start = Iniciar
emit-no-refusals = Ninguna regla de negocio rechazó un comando.
emit-anatomy-title = Anatomía de la última transacción

## src/ui/panels/emit/anatomy.rs
emit-refused = { $what } rechazado: { $error }. No se guardó, publicó ni proyectó nada.
emit-command-total = { $handler } · total del comando { $total } 
emit-anatomy-empty = Envía un comando para ver su anatomía: bloqueo -> ¿existe? -> construir -> guardar -> desbloqueo -> publicar -> proyecciones.
emit-command-total-at = { $handler } · total del comando { $total } · evento en la posición { $position }
emit-duplicate-anatomy = Un duplicado: no se guardó, publicó ni proyectó nada. La posición { $position } se proyectó cuando se guardó por primera vez.

## src/ui/panels/emit/activity_ui.rs
emit-activity-title = Actividad (cada línea se queda un minuto; lo más reciente primero)
emit-activity-empty = Nada en el último minuto. Emite un evento, o activa la caída y observa cómo se ponen al día cuando termina.

## src/ui/app/dialogs.rs
dialog-connect-embedded-note = Los campos de servidor vacíos usan el almacén integrado (archivos SQLite en el directorio de datos).
dialog-connect-passwords = Las contraseñas nunca se guardan. Deja una vacía para usar PGPASSWORD, ~/.pgpass o un archivo de servicio (PostgreSQL), o LEDGERSCOPE_MONGO_PASSWORD (MongoDB).
dialog-recent = Recientes
dialog-connect = Conectar
dialog-export-title = Exportar el ledger como NDJSON
dialog-import-title = Importar NDJSON al ledger
dialog-file = Archivo
dialog-browse = Examinar…
dialog-export = Exportar
dialog-import = Importar…
dialog-about-name = Ledgerscope
dialog-version = Versión { $version }
dialog-instance = Instancia { $instance_id }
dialog-shortcuts-title = Atajos de teclado
dialog-shortcuts-text-field = Ninguno actúa mientras el cursor está en un campo de texto.
common-close = Cerrar
dialog-open-link-title = Abrir un enlace
dialog-open-link-note = Un enlace ledgerscope:// (Copiar enlace en Viaje en el tiempo o en la línea de tiempo) abre el panel y la posición que nombra, en el ledger que nombra.
dialog-open = Abrir
common-cancel = Cancelar
dialog-description = Un explorador de escritorio nativo para un sistema de reservas con event sourcing, con todo el motor integrado

## src/ui/panels/compare/ui.rs
compare-in-sync = Sincronizado: { $checked_rows } filas comparadas, ninguna falta, sobra ni difiere.
compare-drift = Desviación: { $missing } faltan, { $extra } sobran, { $different } difieren (de { $checked_rows } filas comparadas).
compare-position = posición { $position }
compare-show-rows = mostrar filas
compare-changed-cells-hint = las celdas cambiadas muestran tabla de lectura -> ledger
compare-no-differences-yet = No se han encontrado diferencias por ahora.
compare-differing-so-far = Filas distintas encontradas por ahora: { $tables } (aún comparando; se listan las primeras { $listed } de cada tabla).
compare-report-file = Archivo del informe:
compare-save-report = Guardar el informe
compare-save-report-hover = Los hallazgos (filas con sus celdas, entradas mal formadas, huecos) en Markdown, o JSON si la ruta termina en .json.
compare-saved = Guardado en { $path }
compare-repair-running = Hay una reparación o una repetición en curso.
compare-repair-rows = Reparar estas filas…
compare-repair-rows-hover = Vuelve a proyectar solo estas filas a partir de los eventos de sus agregados; la reparación queda registrada en Operaciones.
compare-read-vs-ledger-note = Tablas de lectura en { $read_store_name } frente al estado que implica el ledger.
compare-now = Comparar ahora
compare-compared-at = comparado a las { $time }
common-replay-running = Hay una repetición en curso.
compare-repair-by-replay = Reparar con una repetición…
compare-rows-of = Filas de
compare-tables-at = Tablas en la posición
compare-vs-position = frente a la posición
compare-compare = Comparar
compare-swap = Invertir el sentido
compare-swap-hover = Leerlo al revés: de { $to } a { $from }
compare-mode-read-vs-ledger = Almacén de lectura frente al ledger
compare-mode-two-positions = Dos posiciones

## src/ui/panels/operations/ui.rs
operations-trouble = { $outage } (desde hace { $since }). { $detail }
operations-lease-owner = { $owner } (fencing { $fencing })
operations-projectors = Proyectores
operations-resume = Reanudar
operations-pause = Pausar
operations-holes-hover = Posiciones sin evento por debajo de una guardada, dejadas por otro escritor, una restauración o una edición a mano. Los proyectores las esperan unos segundos, luego las registran y siguen; la repetición y la verificación también las cruzan.
operations-replay = Repetición (replay)
operations-replay-note = Reconstruye las tablas de lectura en { $read_store_name } a partir del ledger en tablas nuevas y las intercambia de una vez.
operations-replay-from-zero = Repetir desde cero…
operations-no-snapshot-yet = Aún no hay instantánea.
operations-replay-from-snapshot = Repetir desde la instantánea más reciente…
operations-snapshots = Instantáneas
operations-snapshot-running = Se está tomando una instantánea.
operations-take-snapshot = Tomar instantánea ahora
operations-refresh-list = Actualizar la lista
operations-auto-snapshots-off = Instantáneas automáticas: desactivadas
operations-auto-snapshots-paused = Instantáneas automáticas: { $policy } (en pausa en modo observar)
operations-auto-snapshots = Instantáneas automáticas: { $policy }
operations-auto-snapshots-hover = Se fija al iniciar con la configuración del motor (opción de la CLI o la GUI). Una instantánea de historial guarda el estado en cada posición hasta la suya, así que al guardar una se borran las instantáneas más antiguas que el historial anterior.
operations-no-snapshots-yet = Aún no hay instantáneas.
operations-reading-snapshots = Leyendo la lista de instantáneas…
operations-snapshot-history = historial
operations-snapshot-history-hover = Los cambios de cada fila hasta su posición, de una sola pasada por el ledger: el estado en cualquier posición anterior se lee de ella sin plegar ningún evento.
operations-snapshot-full = completa
operations-snapshot-delta-empty = delta de vacío
operations-snapshot-delta-empty-hover = Cambios de filas desde la posición 0 (sin instantánea completa antes).
operations-snapshot-delta = delta de { $base }
operations-snapshot-delta-hover = Solo los cambios de filas desde esa instantánea completa.
operations-snapshot-rows = { $users } usuarios, { $bookings } reservas
operations-restore-running = Hay una restauración en curso.
operations-restore = Restaurar…
operations-training = Formación

## src/ui/panels/operations/repairs_ui.rs
repairs-findings = cabeza { $head }, { $checked_rows } filas comparadas, { $malformed } entradas mal formadas, { $unpositioned } sin posición, { $holes } huecos
repairs-row = { $table } { $kind } { $key } (posición { $position }) columnas { $columns }
repairs-more-rows = { $rows_left_out } filas más no guardadas
repairs-entry = Reparación { $id } el { $at } por { $instance } en { $read_store }
repairs-work = { $entry }, hasta la posición { $position }, en { $secs } s
repairs-title = Reparaciones
repairs-note = Cada repetición y reparación dirigida, guardada en el almacén del ledger con lo que se encontró antes y después.
repairs-refresh = Actualizar las reparaciones
repairs-none = Aún no hay reparaciones.
repairs-reading = Leyendo las reparaciones…
repairs-details = detalles

## src/ui/panels/timeline/ui.rs
timeline-type = Tipo
timeline-all-types = todos los tipos
timeline-aggregate = Agregado
timeline-from = Desde
timeline-to = Hasta
timeline-text = Texto
timeline-apply = Aplicar
timeline-clear = Limpiar
common-follow-live = Seguir en vivo
timeline-follow-live-hover = Mantener a la vista el evento más reciente
timeline-events = { $total } eventos
timeline-matching = { $total } coinciden de { $head }
timeline-empty = El ledger está vacío. Emite un evento en el panel Emitir.
timeline-no-match = Ningún evento coincide con el filtro.
timeline-select-row = Selecciona una fila para ver su payload y sus metadatos.
timeline-show-stream = Mostrar el flujo de este agregado
timeline-enter = Intro
timeline-what-if = ¿Y si esto no hubiera pasado?
timeline-what-if-hover = Una simulación del estado sin este evento (no se escribe nada)
timeline-row-history-title = Cada versión de { $name } fila { $key }, con los eventos que la hicieron
timeline-payload = payload
timeline-metadata = metadatos
timeline-raw = en bruto
timeline-stream-title = Flujo de { $aggregate } ({ $events } eventos)
timeline-close = cerrar
timeline-history-row = #{ $position } v{ $version } { $kind } — { $at }
timeline-counting = Contando eventos en el tiempo…
timeline-no-events = Aún no hay eventos.
timeline-chart-title = Eventos en el tiempo (se aplican los filtros de tipo, agregado y tiempo; haz clic para saltar)
timeline-filtered-view = Vista filtrada

## src/ui/panels/time_travel/ui.rs
travel-start = |< Inicio
travel-start-hover = Saltar a la posición 0
travel-step-back = < Paso
travel-step-back-hover = Un evento atrás
travel-pause = Pausa
travel-play = Reproducir
travel-step-forward = Paso >
travel-step-forward-hover = Un evento adelante
travel-end = Fin >|
travel-end-hover = Saltar a la cabeza
travel-speed = Velocidad
travel-speed-suffix = {" "}ev/s
travel-go-to = Ir a
travel-go = Ir
travel-difference-against = Diferencia frente a
travel-now-head = ahora (cabeza { $head })
travel-pinned-at = fijada { $p }
travel-unpin = soltar
travel-pinned = fijada
travel-pin-first = Fija primero una posición
travel-pin = Fijar esta posición
travel-state-at = Estado en la posición { $position }
travel-counts = usuarios { $users } · reservas { $bookings } ({ $statuses })
travel-changes = Cambios { $direction }: { $counts }
travel-difference-follows = (la diferencia frente a { $wanted } llega cuando se lea el estado allí)
travel-no-rows = No hay filas en esta posición.
travel-history-pass = El ledger se está leyendo una vez para una instantánea de historial. Hasta que se guarde, una posición que ninguna instantánea contiene se lee de lo que la pasada ha plegado (más allá de su progreso, la consulta la espera); después, cualquier posición hasta la cabeza se lee directamente de la instantánea de historial.
travel-computing = Calculando el estado…

## src/ui/panels/time_travel/step_ui.rs
travel-step-to = Paso a { $position }:
travel-no-event-here = no hay ningún evento guardado en esta posición.
travel-event = evento { $position }
travel-show-in-timeline = Mostrar este evento en la línea de tiempo
travel-event-on = sobre { $aggregate_type } { $aggregate }
travel-entry = entrada { $position }
travel-reading-step = Leyendo el evento del cursor y las filas que cambió…
travel-rows-changed = Filas que cambió, { $before } -> { $position }: { $counts }

## src/ui/panels/time_travel/bookmarks.rs
bookmark-name = Nombre
bookmark-note = Nota
bookmark-save = Guardar
bookmark-go-there = Ir allí ({ $ledger })
bookmark-edit = Editar
bookmark-edit-hover = Renombrar '{ $name }' o escribir una nota
bookmark-remove-hover = Quitar el marcador '{ $name }'
bookmark-title = Marcador
bookmark-add = Añadir
bookmark-add-hover = Marcar esta posición (y la fijada) en este ledger (Intro)

## src/ui/panels/models/ui.rs
models-title = Modelos
models-new = Nuevo
models-load-example = Cargar ejemplo
models-reload = Recargar
models-reading = Leyendo…
models-none = Aún no hay modelos.
models-check = Comprobar
models-save = Guardar
models-remove = Quitar
models-build = Construir
models-unpublish = Despublicar
models-unpublish-hover = Borrar sus tablas del almacén de lectura
models-publish = Publicar
models-publish-hover = Mantener sus filas como tablas reales en el almacén de lectura, al día y reconstruidas por la repetición
models-save-remove-why = Guardar y Quitar: { $why }
models-remove-confirm = ¿Quitar el modelo { $name } y su archivo construido?
models-yes-remove = Sí, quitar
models-no = No
models-error-at = línea { $line }, columna { $col }: { $message }
models-put-cursor = Poner el cursor ahí
models-publishing = Publicando o despublicando { $name }…
models-published = Publicado como { $tables } · checkpoint { $checkpoint } · retraso { $lag_events }
models-building = Construyendo { $model }
models-build-result = { $model } { $end } hasta la posición { $position }: { $events } eventos en { $elapsed }, { $errors } sin aplicar
models-not-applied = Eventos que no pudo aplicar:
models-rows-at = Filas en la posición
models-head = cabeza ({ $head })
models-show-rows = Mostrar filas
models-not-built = Aún no se ha construido: constrúyelo para ver filas.
models-at-position = { $model } en la posición { $at }
models-digest = resumen { $digest }
models-first-rows = { $name }: primeras { $rows } de { $total } filas
models-rows = { $name }: { $total } filas

## src/ui/panels/models/explore_ui.rs
models-first-shown = {" "}(se muestran las primeras { $rows })
models-explore = Explorar
models-table = tabla { $name }
models-difference-from = Diferencia desde
models-to = hasta { $at }
models-show-difference = Mostrar la diferencia
models-from-to = de { $from } a { $to }
models-over-time = En el tiempo
models-no-numeric = ({ $name } no tiene ninguna columna numérica)
models-pick-numeric = elige una columna numérica
models-sum-at = suma de { $table }.{ $column } en { $points } posiciones
models-position = posición
models-what-if-leave-out = Y si: omitir las posiciones
models-what-if-hint = p. ej. 12, 40
models-run-what-if = Ejecutar el «y si»
models-cancel-what-if = Cancelar el «y si»
models-what-if-result = SIMULACIÓN (no se escribe nada) en la posición { $to }: { $real_rows } filas tal como se construyó, { $simulated_rows } sin { $excluded } evento(s)
models-row-history = Historial de la fila del modelo
models-history-title = Historial de { $model }.{ $table } { $key }
models-history-note = cada versión, de la más antigua a la más reciente, con el evento que la hizo (un clic en su posición la muestra en la línea de tiempo); una celda cambiada muestra tachado el valor anterior
models-reading-versions = Leyendo las versiones de la fila…
models-no-event-made-row = Ningún evento de este ledger hizo esta fila.
models-versions = { $rows } versión(es)

## src/ui/scenarios/ui.rs
scenario-scenario = Escenario
scenario-preparing-fresh-training-ledger = Preparando un ledger de entrenamiento nuevo…
scenario-back = Atrás
scenario-next = Siguiente
scenario-close = Cerrar
scenario-leave-scenario-go-back = Salir del escenario y volver a los almacenes abiertos antes
scenario-training-data = Datos de entrenamiento:
scenario-step = Paso
scenario-time-both-recoveries = Medir las dos recuperaciones
scenario-from-snapshot = desde el snapshot
scenario-from-snapshot-at = desde el snapshot en
scenario-from-zero = desde cero
scenario-events = eventos

## src/ui/panels/what_if/ui.rs
what-if-banner = SIMULACIÓN: no se escribe nada en el ledger, las tablas de lectura ni las instantáneas
what-if-leave-out-type = Omitir un tipo
what-if-none = (ninguno)
what-if-as-of = A partir de la posición
what-if-simulating = Simulando…
what-if-simulate = Simular
what-if-simulate-hover = Plegar el ledger como si estos eventos nunca hubieran ocurrido (solo lecturas)
what-if-real-as-of = Real, en { $at }
what-if-simulated = Simulado
what-if-difference = Diferencia
what-if-revenue = ingresos de las reservas confirmadas
what-if-no-ops = { $no_ops } evento(s) posteriores quedaron sin efecto (actúan sobre filas que solo hicieron los eventos omitidos):
what-if-no-op-row = { $event_type } de { $name } { $key }
what-if-left-out-nothing = Omitidos: nada hasta esta posición coincide: la simulación es el estado real
what-if-left-out-more = Omitidos: { $excluded } eventos: { $events } y { $more } más
what-if-left-out = Omitidos: { $excluded } evento(s): { $events }
what-if-note = El estado como si algunos eventos nunca hubieran ocurrido, junto al real. También desde la línea de tiempo: «¿Y si esto no hubiera pasado?» sobre el evento seleccionado.

## src/ui/panels/over_time/ui.rs
over-time-up-to = hasta la posición { $position }
over-time-total = total
over-time-in-bucket = en el intervalo
over-time-click-hover = Haz clic para ver este estado en Viaje en el tiempo
over-time-revenue = ingresos
over-time-rows = filas
over-time-now = Ahora: { $values }
over-time-buckets = Intervalos:
over-time-values = Valores:
over-time-folding = Plegando el ledger: { $done } de { $total } eventos
over-time-folding-start = Plegando el ledger…
over-time-reload = Recargar
over-time-hint = Pasa el ratón por un intervalo para ver sus valores; haz clic para ver ese estado en Viaje en el tiempo; haz clic en una entrada de la leyenda para ocultar su línea.
over-time-not-read = Aún no se ha leído.
over-time-no-events = Aún no hay eventos.
over-time-out-of-order = { $out_of_order_times } eventos se registraron antes que un evento anterior a ellos: un intervalo por tiempo guarda el estado tras su último evento en el orden del ledger.

## src/ui/panels/history/ui.rs
history-personal-summary = Datos personales en el ledger: { $events } evento(s), { $bookings } reserva(s), hasta la posición { $head }
history-malformed-rows = Filas mal formadas cuyo texto en bruto nombra a este usuario: posiciones { $malformed }
history-row-history = Historial de la fila
history-title = Historial de { $row_name } { $key }
history-reload = Recargar
history-reload-hover = Volver a leer el historial (el ledger puede haber crecido)
history-personal-data = Datos personales en el ledger
history-personal-data-hover = Cada evento que lleva el correo, el nombre o la dirección de este usuario, y los eventos sobre sus reservas: lo que pide una solicitud de protección de datos (lee todo el ledger)
history-note = cada versión, de la más antigua a la más reciente, con el evento que la hizo; una celda cambiada muestra tachado el valor anterior
history-no-event-made = Ningún evento de este ledger hizo una fila { $name } { $key }.
history-versions-now = { $versions } versión(es); ahora: { $now }
history-undecodable = Eventos indescifrables sobre esta fila (no cambian nada): { $skipped }
history-reading = Leyendo los eventos de la fila…

## panels, jobs
panel-emit = Emitir
panel-timeline = Línea de tiempo
panel-time-travel = Viaje en el tiempo
panel-over-time = En el tiempo
panel-what-if = Y si
panel-compare = Comparar
panel-operations = Operaciones
panel-models = Modelos
job-bulk = Generador masivo
job-replay = Repetición
job-repair = Reparación de filas
job-snapshot = Instantánea
job-restore = Restauración
job-export = Exportación
job-import = Importación
job-verify = Comparación
job-history-pass = Pasada de historial por el ledger
job-done-of = { $done } / { $total } ({ $percent } %)
job-starting-dots = empezando…
job-rate = {" "}· { $rate }/s
job-eta = {" "}· quedan { $eta }
job-elapsed = {" "}· { $elapsed } transcurridos
job-cancelling = Cancelando…
job-failed = { $job } falló: { $error }
emit-field-email = Correo
emit-field-name = Nombre
emit-field-address = Dirección
emit-field-service = Servicio
emit-field-check-in = Entrada
emit-field-check-out = Salida
emit-field-guests = Huéspedes
emit-field-price = Precio

## src/ui/app/shell.rs
shell-observe-locked = Modo observar (iniciado con --observe): esto escribiría, así que está desactivado.
shell-observe-only = Modo observar: esto escribiría, así que está desactivado. Cambia a Operar en la barra superior.
shell-not-connected = Sin conexión con los almacenes.
top-operate = Operar
top-observe-only = Solo observar

## over time: a bucket described
over-time-describe-head = { $bucket } (hasta la posición { $position })
over-time-describe-total = { $head }: { $users } usuarios, { $confirmed } reservas confirmadas, { $cancelled } canceladas, ingresos { $revenue } ({ $services })
over-time-describe-bucket = { $head }, en el intervalo: { $users } usuarios nuevos, { $made } reservas hechas, { $cancelled } canceladas, ingresos { $revenue } ({ $services })

## store names, lag gauges, emit hints
top-store-ledger = ledger
top-store-read = almacén de lectura
lag-caught-up = { $name }: al día
lag-behind = { $name }: retraso { $lag }
emit-booking-hint = UUID de la reserva (se rellena la última)
emit-reason-hint = cambio de planes
emit-user-hint = UUID del usuario (se rellena el último)

## leases, the projectors table
lease-renewed = renovado hace { $ago },{" "}
lease-expired = { $renewed }caducó hace { $ago }
lease-expires = { $renewed }caduca en { $left }
lease-nobody = nadie
lease-this-window = esta ventana
lease-one = lease: { $holder }
lease-each = leases: { $holders }
operations-col-projector = proyector
operations-col-checkpoint = checkpoint
operations-col-lag = retraso
operations-col-status = estado
operations-col-lease-holder = titular del lease
operations-col-last-error = último error

# Emit: the activity strip
activity-position = posición { $position }
activity-positions = posiciones { $from }–{ $to }
activity-appended = { $count ->
    [one] 1 evento añadido
   *[other] { $count } eventos añadidos
} al ledger ({ $positions })
activity-caught-up = { $projector } se puso al día con { $count ->
    [one] 1 evento
   *[other] { $count } eventos
} en { $time } ({ $positions }; checkpoint { $checkpoint })
activity-outage-on = caída del almacén de lectura SIMULADA: las escrituras de las proyecciones fallan, el ledger sigue aceptando eventos
activity-outage-off = fin de la caída: los proyectores se ponen al día
activity-duplicate = mismo UUID otra vez: no se añadió nada (guardado en la posición { $position })
activity-refused = { $what } rechazado: { $why }; no se añadió nada

# Emit: the answer to the last command and the bulk run's refusals
emit-answer-duplicate = Duplicado: { $id } ya estaba guardado en la posición { $position }. No se guardó ni publicó nada nuevo; el ledger no creció (cabeza { $head }).
emit-answer-stored = { $what }: { $event } guardado en la posición { $position } (agregado { $id }, versión { $version }).
emit-answer-refused = { $what } rechazado: { $error }
emit-bulk-refused = { $count } rechazados por reglas de negocio
emit-bulk-refused-first = { $count } rechazados por reglas de negocio (se listan los primeros { $shown })
emit-bulk-refusal = comando { $command } ({ $handler }): { $rule }
emit-booking-wizard-again = Asistente de reservas (mismo UUID otra vez)
emit-reschedule-booking = Reprogramar la reserva
emit-what-booking = reserva
emit-what-user = usuario
emit-not-a-uuid = { $what } '{ $text }' no es un UUID
emit-bulk-count-invalid = la cantidad '{ $text }' debe ser un número de 1 a { $max }
emit-bulk-rate-invalid = el ritmo '{ $text }' debe ser un número positivo o quedar vacío

# The read store's health and the projectors' states (top bar, Operations)
health-locked-since = almacén de lectura bloqueado desde las { $since }
health-unreachable-simulated-since = almacén de lectura inaccesible (caída simulada) desde las { $since }
health-unreachable-since = almacén de lectura inaccesible desde las { $since }
health-locked-detail = Desde hace { $long } las escrituras en el almacén de lectura esperan un bloqueo que tiene otro proceso; los proyectores vuelven a escribir en cuanto se libera.
health-unreachable-detail = Desde hace { $long } el almacén de lectura no responde: { $error }
health-blocked = bloqueado en una escritura desde hace { $time }
health-and = { $first } y { $last }
projector-idle = Inactivo
projector-running = En marcha
projector-watching = Observando
projector-paused = En pausa
projector-retrying = Reintentando
projector-refused = Rechazado

# Operations: the projectors' lines and the snapshot policy
operations-error-since = desde las { $at } UTC:{" "}
operations-skipped = { $projector } saltó { $positions }
operations-malformed = Posiciones mal formadas: { $list }
operations-crossed = { $projector } cruzó { $positions }
operations-holes = Huecos en las posiciones (sin evento): { $list }
operations-policy-deltas = , un delta cada { $every }
operations-policy = uno completo cada { $every } eventos hasta { $until }, después una pasada de historia cada { $history }{ $deltas }
top-gauge-last-error = ; último error: { $error }
top-gauge-detail = { $projector }: checkpoint { $checkpoint }, { $state }{ $blocked }{ $error }

# Warnings drawn in color
dialog-remote-warning = ATENCIÓN: esta es una base de datos REMOTA.
top-not-connected = Sin conexión
compare-behind = { $projector } va { $count ->
    [one] 1 evento
   *[other] { $count } eventos
} por detrás de la cabeza
compare-tables-lag = Las tablas de lectura van con retraso: { $list }. Cada tabla se compara en la posición de su proyector, así que el retraso no cuenta como desviación.
compare-malformed-skipped = Se saltaron { $count } entradas mal formadas del ledger (posiciones { $positions }).
models-not-kept-up = No se mantiene al día: { $why }
operations-simulation-on = SIMULACIÓN ACTIVA: el almacén de lectura rechaza las escrituras. Emite eventos y mira crecer el retraso; desactívala para verlos ponerse al día.
travel-malformed-step = mal formada: { $reason } (no cambia nada)
timeline-metadata-error = los metadatos no se pueden mostrar: { $error }
timeline-malformed-entry = Entrada mal formada en la posición { $position }

# What a job is doing
phase-snapshot = cargando la instantánea
phase-reading = leyendo y plegando eventos
phase-loading = escribiendo filas
phase-commands = ejecutando comandos
phase-exporting = exportando
phase-importing = importando
phase-saving = guardando instantáneas
phase-comparing = comparando las tablas de lectura con el ledger
phase-done = hecho

# Operations: the repairs kept
repairs-in-sync = en sincronía
repairs-drift = { $missing } faltan, { $extra } sobran, { $different } distintas
repairs-not-compared = sin comparar
repairs-after-snapshot = {" "}después de la instantánea en { $position }
repairs-work-replay = repetición: { $rows } filas de { $events } eventos{ $after }
repairs-work-targeted = dirigida: { $rows } filas escritas, { $deleted } borradas, { $events } eventos de { $aggregates } agregados
repairs-found-before = Encontrado antes
repairs-found-after = Encontrado después

# A job's result
job-replayed = Se repitieron { $events } eventos{ $snapshot ->
    [-1] {""}
   *[other] {" "}después de la instantánea en { $snapshot }
} en { $rows } filas en la posición { $position } en { $secs } s{ $skipped ->
    [0] {""}
   *[other] ; se saltaron { $skipped } entradas mal formadas
}
job-repaired = Se repararon { $rows } fila(s) ({ $deleted } borradas) a partir de { $events } eventos de { $aggregates } agregados en { $secs } s; { $after ->
    [in-sync] ahora en sincronía
    [drift] aún { $missing } faltan, { $extra } sobran, { $different } distintas
   *[not-compared] sin comparar después
}
job-restored = Se restauró la instantánea en la posición { $position } ({ $rows } filas); los proyectores aplican ahora los { $events } eventos posteriores
job-exported = Se exportaron { $events } eventos a { $path }{ $skipped ->
    [0] {""}
   *[other] {" "}({ $skipped } entradas mal formadas quedaron fuera)
}
job-imported = Importado { $path }: { $events } eventos nuevos, { $duplicates } ya guardados; cabeza { $head }
job-compared = Se compararon { $rows } filas y { $entries } entradas del ledger en { $secs } s
job-snapshot-taken = Instantánea { $id } tomada en la posición { $position } ({ $users } usuarios, { $bookings } reservas, { $size }) en { $secs } s
job-bulk-done = { $commands } comandos: { $events } eventos nuevos, { $duplicates } duplicados, { $refused } rechazados por reglas de negocio; cabeza { $head }{ $cancelled ->
    [yes] {" "}(cancelado; los eventos anteriores quedan guardados)
   *[no] {""}
}
job-history-done = Se leyeron los { $events } eventos una vez en { $secs } s: una instantánea de historia de { $users } usuarios y { $bookings } reservas ({ $megabytes } MB) sirve ahora el viaje en el tiempo en cada posición

# Emit: the anatomy's projection steps
anatomy-nothing-projected = nada proyectado (duplicado)
anatomy-apply = { $projector } aplica
anatomy-rows-updated = filas de { $table } actualizadas para los eventos { $from }..={ $to }
anatomy-checkpoint = { $projector } checkpoint
anatomy-checkpoint-saved = checkpoint guardado en { $position }
anatomy-applied-untimed = aplicado (checkpoint ≥ { $position }); tiempo no observado
anatomy-waiting-outage = esperando: caída del almacén de lectura SIMULADA
anatomy-waiting = esperando la posición { $position }
anatomy-rule-refused = regla que rechaza: { $rule }
anatomy-step-failed = { $step } falló
