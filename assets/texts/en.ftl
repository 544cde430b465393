# Ledgerscope: the window's texts in English. One key per text; keys are
# area-what (emit-generate). The Spanish catalogue (es.ftl) has the same
# keys (the catalogue test checks it). Numbers passed as arguments are
# written in the language's format.

i18n-sample = { $count ->
    [one] { $count } event
   *[other] { $count } events
}

## src/ui/app/menu.rs
menu-connect = Connect…
menu-export-ndjson = Export NDJSON…
menu-import-ndjson = Import NDJSON…
menu-open-link = Open link…
menu-open-ledgerscope-link-panel = Open a ledgerscope:// link to a panel and position
menu-keyboard-shortcuts = Keyboard shortcuts
menu-about = About
menu-started-with-observe-scenario = Started with --observe: a scenario writes its own ledger.
menu-ledgerscope = Ledgerscope
menu-view = View

## src/ui/app/crash.rs
crash-title = Ledgerscope stopped unexpectedly last time
crash-report-left = It left a report in { $path }: the version, what was running, the kinds of stores (no address, no password) and where it stopped. Attach it to a bug report.
crash-show-report = Show the report
crash-copy-report = Copy report
crash-dismiss = Dismiss
menu-theme-dark = Dark
menu-theme-light = Light
menu-theme-system = Follow the system
menu-scenarios = Scenarios

## src/ui/app/top_bar.rs
top-remote = REMOTE { $role }: { $info }
top-remote-hover = This store is on another machine: writes here affect everyone using it.
top-connecting = Connecting…
top-retry = Retry
top-head = head { $head }
top-highest-ledger-position = Highest ledger position
top-mode = Mode:
top-observe-hover = Observe-only disables every control that writes (commands, replay, snapshots, import).
top-observe-locked = Started with --observe: this window cannot write.
top-outage-badge = {" "}SIMULATION: read-store outage{" "}
top-outage-hover = Training switch in Operations: projection writes fail until it is switched off.
top-dismiss = Dismiss
top-last-error = Last error: { $error }
top-frame-time = UI { $ms } ms/frame (max of last { $frame_ms })
top-masked = Masked
top-masked-hover = E-mails, names and addresses show as pseudonyms (the same value, the same pseudonym) in every panel, copy and report. Click to show them (asks first).
top-personal-shown = {" "}PERSONAL DATA SHOWN{" "}
top-personal-shown-hover = E-mails, names and addresses of customers are shown as they are.
top-mask-hover = Show e-mails, names and addresses as pseudonyms again
top-mask = Mask
top-personal-shown-embedded-hover = Personal data is shown (the embedded store on this machine). Click to show e-mails, names and addresses as pseudonyms, e.g. before sharing the screen.

## src/ui/app/health_bar.rs
health-drift-not-compared = drift: not compared
health-no-drift = no drift at { $at }
health-drift-rows = drift: { $rows ->
    [one] { $rows } row
   *[other] { $rows } rows
} at { $at }
health-drift-hover = What the last comparison of the read tables with the ledger found. Click to open Compare.
health-read-store-ok = read store OK
health-read-store-ok-hover = Its last reads and writes answered in time.
health-write-waiting = Inside a write into the read store that waits: the lag grows until it goes through.

## src/ui/widgets/copy_link.rs
copy-link-hover = Copy { $text } (`ledgerscope open LINK` opens the window there)
copy-link = Copy link
copy-link-no-ledger-id = The ledger's id is not known yet (not connected).

## src/ui/widgets/outage_switch.rs
outage-switch = SIMULATE read-store outage (training simulation)
outage-switch-hover = While on, projection writes fail: the ledger keeps accepting events, the views lag, and they catch up when you switch it off. Nothing is really broken.

## src/ui/widgets/job_progress.rs
job-starting = starting
job-stop = Stop the { $job }

## src/ui/widgets/diff_table.rs
diff-no-differences = { $name }: no differences

## src/ui/widgets/table/memory.rs
table-search = Search
table-ordering = ordering…

## src/ui/widgets/table/paged.rs
table-ordering-progress = ordering: { $done } of { $total } rows read ({ $percent }%)
table-reading-rows = reading rows…

## src/ui/widgets/table/draw.rs
table-show-event = Show event { $position } in the timeline
table-before = before: { $old }
table-row-history-hover = { $text }: show every version of this row and the events that made them (row history)
table-copy-cell = Copy cell
table-copy-old-value = Copy old value
table-copy-row = Copy row
table-copy-row-hover = The row, tab separated, under a line of the column names
table-clear-search = Clear the search
table-hide-rows = Hide the rows { $label }
table-show-rows = Show the rows { $label }

## src/ui/widgets/mod.rs
widget-error = Error: { $error }

## src/ui/panels/emit/ui.rs
emit-booking-wizard = Booking wizard
emit-fix-fields = Fix the fields marked in red first.
emit-submit = Submit
emit-generate = Generate New Event
emit-fill-random = Fill random
emit-fill-random-hover = Fill the form with realistic data without sending
emit-send-booking-first = Send a booking first.
emit-send-again = Send again (same UUID)
emit-change-booking = Change a booking
emit-booking-id = Booking id
emit-reason = Reason
emit-cancel-booking = Cancel booking
emit-new-dates = New dates
emit-reschedule = Reschedule
emit-change-address = Change an address
emit-user-id = User id
emit-new-address = New address
emit-change-address-button = Change address
emit-bulk-generator = Bulk generator
emit-bulk-count = Count
emit-bulk-rate = Rate/s
emit-bulk-mix = mix
emit-bulk-mix-hover = Mix in cancellations, reschedules and address changes (about 20%)
emit-already-running = Already running.
emit-bulk-start = Start
emit-no-refusals = No command was refused by a business rule.
emit-anatomy-title = Anatomy of the last transaction

## src/ui/panels/emit/anatomy.rs
emit-refused = { $what } refused: { $error }. Nothing was stored, published or projected.
emit-command-total = { $handler } · command total { $total }
emit-anatomy-empty = Send a command to see its anatomy: lock -> exists? -> build -> save -> unlock -> publish -> projections.
emit-command-total-at = { $handler } · command total { $total } · event at position { $position }
emit-duplicate-anatomy = A duplicate: nothing was stored, published or projected. Position { $position } was projected when it was first stored.

## src/ui/panels/emit/activity_ui.rs
emit-activity-title = Activity (each line stays a minute; newest first)
emit-activity-empty = Nothing in the last minute. Emit an event, or switch the outage on and watch the catch-up when it ends.

## src/ui/app/dialogs.rs
dialog-connect-embedded-note = Empty server fields use the embedded store (SQLite files in the data directory).
dialog-connect-passwords = Passwords are never kept. Leave one empty to use PGPASSWORD, ~/.pgpass or a service file (PostgreSQL), or LEDGERSCOPE_MONGO_PASSWORD (MongoDB).
dialog-recent = Recent
dialog-connect = Connect
dialog-export-title = Export the ledger as NDJSON
dialog-import-title = Import NDJSON into the ledger
dialog-file = File
dialog-browse = Browse…
dialog-export = Export
dialog-import = Import…
dialog-about-name = Ledgerscope
dialog-version = Version { $version }
dialog-instance = Instance { $instance_id }
dialog-shortcuts-title = Keyboard shortcuts
dialog-shortcuts-text-field = None of them acts while the cursor is in a text field.
common-close = Close
dialog-open-link-title = Open a link
dialog-open-link-note = A ledgerscope:// link (Copy link in Time travel or the timeline) opens the panel and position it names, on the ledger it names.
dialog-open = Open
common-cancel = Cancel
dialog-description = A native desktop explorer for an event-sourced booking system, with the whole engine embedded

## src/ui/panels/compare/ui.rs
compare-in-sync = In sync: { $checked_rows } rows compared, none missing, extra or different.
compare-drift = Drift: { $missing } missing, { $extra } extra, { $different } different (of { $checked_rows } rows compared).
compare-position = position { $position }
compare-show-rows = show rows
compare-changed-cells-hint = changed cells show read table -> ledger
compare-no-differences-yet = No differences found so far.
compare-differing-so-far = Differing rows found so far: { $tables } (still comparing; the first { $listed } of each table are listed).
compare-report-file = Report file:
compare-save-report = Save report
compare-save-report-hover = The findings (rows with their cells, malformed entries, holes) as Markdown, or JSON for a path ending in .json.
compare-saved = Saved to { $path }
compare-repair-running = A repair or replay is running.
compare-repair-rows = Repair these rows…
compare-repair-rows-hover = Re-projects only these rows from their aggregates' events; the repair is kept in Operations.
compare-read-vs-ledger-note = Read tables in { $read_store_name } vs the state the ledger implies.
compare-now = Compare now
compare-compared-at = compared { $time }
common-replay-running = A replay is running.
compare-repair-by-replay = Repair by replay…
compare-rows-of = Rows of
compare-tables-at = Tables at position
compare-vs-position = vs position
compare-compare = Compare
compare-swap = Swap direction
compare-swap-hover = Read it the other way: from { $to } to { $from }
compare-mode-read-vs-ledger = Read store vs ledger
compare-mode-two-positions = Two positions

## src/ui/panels/operations/ui.rs
operations-trouble = { $outage } (for { $since }). { $detail }
operations-lease-owner = { $owner } (fencing { $fencing })
operations-projectors = Projectors
operations-resume = Resume
operations-pause = Pause
operations-holes-hover = Positions with no event below a stored one, left by another writer, a restore or a hand edit. Projectors wait for them a few seconds, then record them and move on; replay and verify cross them too.
operations-replay = Replay
operations-replay-note = Rebuilds the read tables in { $read_store_name } from the ledger into fresh tables and swaps them in at once.
operations-replay-from-zero = Replay from zero…
operations-no-snapshot-yet = No snapshot yet.
operations-replay-from-snapshot = Replay from newest snapshot…
operations-snapshots = Snapshots
operations-snapshot-running = A snapshot is being taken.
operations-take-snapshot = Take snapshot now
operations-refresh-list = Refresh list
operations-auto-snapshots-off = Automatic snapshots: off
operations-auto-snapshots-paused = Automatic snapshots: { $policy } (paused in observe-only)
operations-auto-snapshots = Automatic snapshots: { $policy }
operations-auto-snapshots-hover = Set at start with the engine configuration (CLI/GUI flag). A history snapshot holds the state at every position up to its own, so when one is saved the snapshots older than the history before it are deleted.
operations-no-snapshots-yet = No snapshots yet.
operations-reading-snapshots = Reading the snapshot list…
operations-snapshot-history = history
operations-snapshot-history-hover = Every row's changes up to its position, from one pass over the ledger: the state at any earlier position is read from it with no event folded.
operations-snapshot-full = full
operations-snapshot-delta-empty = delta of empty
operations-snapshot-delta-empty-hover = Row changes since position 0 (no full snapshot before it).
operations-snapshot-delta = delta of { $base }
operations-snapshot-delta-hover = Only the row changes since that full snapshot.
operations-snapshot-rows = { $users } users, { $bookings } bookings
operations-restore-running = A restore is running.
operations-restore = Restore…
operations-training = Training

## src/ui/panels/operations/repairs_ui.rs
repairs-findings = head { $head }, { $checked_rows } rows compared, { $malformed } malformed entries, { $unpositioned } unpositioned, { $holes } holes
repairs-row = { $table } { $kind } { $key } (position { $position }) columns { $columns }
repairs-more-rows = { $rows_left_out } more rows not kept
repairs-entry = Repair { $id } at { $at } by { $instance } on { $read_store }
repairs-work = { $entry }, up to position { $position }, in { $secs } s
repairs-title = Repairs
repairs-note = Every replay and targeted repair, kept in the ledger store with what was found before and after it.
repairs-refresh = Refresh repairs
repairs-none = No repairs yet.
repairs-reading = Reading the repairs…
repairs-details = details

## src/ui/panels/timeline/ui.rs
timeline-type = Type
timeline-all-types = all types
timeline-aggregate = Aggregate
timeline-from = From
timeline-to = To
timeline-text = Text
timeline-apply = Apply
timeline-clear = Clear
common-follow-live = Follow live
timeline-follow-live-hover = Keep the newest event in view
timeline-events = { $total } events
timeline-matching = { $total } matching of { $head }
timeline-empty = The ledger is empty. Emit an event in the Emit panel.
timeline-no-match = No event matches the filter.
timeline-select-row = Select a row to see its payload and metadata.
timeline-show-stream = Show this aggregate's stream
timeline-enter = Enter
timeline-what-if = What if this had not happened?
timeline-what-if-hover = A simulation of the state without this event (nothing is written)
timeline-row-history-title = Every version of { $name } row { $key }, with the events that made them
timeline-payload = payload
timeline-metadata = metadata
timeline-raw = raw
timeline-stream-title = Stream of { $aggregate } ({ $events } events)
timeline-close = close
timeline-history-row = #{ $position } v{ $version } { $kind } — { $at }
timeline-counting = Counting events over time…
timeline-no-events = No events yet.
timeline-chart-title = Events over time (type, aggregate and time filters apply; click to jump)
timeline-filtered-view = Filtered view

## src/ui/panels/time_travel/ui.rs
travel-start = |< Start
travel-start-hover = Jump to position 0
travel-step-back = < Step
travel-step-back-hover = One event back
travel-pause = Pause
travel-play = Play
travel-step-forward = Step >
travel-step-forward-hover = One event forward
travel-end = End >|
travel-end-hover = Jump to the head
travel-speed = Speed
travel-speed-suffix = {" "}ev/s
travel-go-to = Go to
travel-go = Go
travel-difference-against = Difference against
travel-now-head = now (head { $head })
travel-pinned-at = pinned { $p }
travel-unpin = unpin
travel-pinned = pinned
travel-pin-first = Pin a position first
travel-pin = Pin this position
travel-state-at = State at position { $position }
travel-counts = users { $users } · bookings { $bookings } ({ $statuses })
travel-changes = Changes { $direction }: { $counts }
travel-difference-follows = (the difference against { $wanted } follows once the state there is read)
travel-no-rows = No rows at this position.
travel-history-pass = The ledger is being read once into a history snapshot. Until it is saved, a position no snapshot holds is read from what the pass has folded (past its progress, the query waits for it); afterwards any position up to the head is read straight from the history snapshot.
travel-computing = Computing the state…

## src/ui/panels/time_travel/step_ui.rs
travel-step-to = Step to { $position }:
travel-no-event-here = no event is stored at this position.
travel-event = event { $position }
travel-show-in-timeline = Show this event in the timeline
travel-event-on = on { $aggregate_type } { $aggregate }
travel-entry = entry { $position }
travel-reading-step = Reading the event at the cursor and the rows it changed…
travel-rows-changed = Rows it changed, { $before } -> { $position }: { $counts }

## src/ui/panels/time_travel/bookmarks.rs
bookmark-name = Name
bookmark-note = Note
bookmark-save = Save
bookmark-go-there = Go there ({ $ledger })
bookmark-edit = Edit
bookmark-edit-hover = Rename '{ $name }' or write a note
bookmark-remove-hover = Remove bookmark '{ $name }'
bookmark-title = Bookmark
bookmark-add = Add
bookmark-add-hover = Bookmark this position (and the pinned one) on this ledger (Enter)

## src/ui/panels/models/ui.rs
models-title = Models
models-new = New
models-load-example = Load example
models-reload = Reload
models-reading = Reading…
models-none = No models yet.
models-check = Check
models-save = Save
models-remove = Remove
models-build = Build
models-unpublish = Unpublish
models-unpublish-hover = Drop its tables from the read store
models-publish = Publish
models-publish-hover = Keep its rows as real tables in the read store, up to date and rebuilt by replay
models-save-remove-why = Save and Remove: { $why }
models-remove-confirm = Remove model { $name } and its built file?
models-yes-remove = Yes, remove
models-no = No
models-error-at = line { $line }, column { $col }: { $message }
models-put-cursor = Put the cursor there
models-publishing = Publishing or unpublishing { $name }…
models-published = Published as { $tables } · checkpoint { $checkpoint } · lag { $lag_events }
models-building = Building { $model }
models-build-result = { $model } { $end } to position { $position }: { $events } events in { $elapsed }, { $errors } not applied
models-not-applied = Events it could not apply:
models-rows-at = Rows at position
models-head = head ({ $head })
models-show-rows = Show rows
models-not-built = Not built yet: Build it to see rows.
models-at-position = { $model } at position { $at }
models-digest = digest { $digest }
models-first-rows = { $name }: first { $rows } of { $total } rows
models-rows = { $name }: { $total } rows

## src/ui/panels/models/explore_ui.rs
models-first-shown = {" "}(the first { $rows } shown)
models-explore = Explore
models-table = table { $name }
models-difference-from = Difference from
models-to = to { $at }
models-show-difference = Show difference
models-from-to = from { $from } to { $to }
models-over-time = Over time
models-no-numeric = ({ $name } has no numeric column)
models-pick-numeric = pick a numeric column
models-sum-at = sum of { $table }.{ $column } at { $points } positions
models-position = position
models-what-if-leave-out = What if: leave out positions
models-what-if-hint = e.g. 12, 40
models-run-what-if = Run what if
models-cancel-what-if = Cancel what if
models-what-if-result = SIMULATION (nothing is written) at position { $to }: { $real_rows } rows as built, { $simulated_rows } without { $excluded } event(s)
models-row-history = Model row history
models-history-title = History of { $model }.{ $table } { $key }
models-history-note = every version, oldest first, with the event that made it (a click on its position shows it in the timeline); a changed cell shows the value before struck through
models-reading-versions = Reading the row's versions…
models-no-event-made-row = No event of this ledger made this row.
models-versions = { $rows } version(s)

## src/ui/scenarios/ui.rs
scenario-scenario = Scenario
scenario-preparing-fresh-training-ledger = Preparing a fresh training ledger…
scenario-back = Back
scenario-next = Next
scenario-close = Close
scenario-leave-scenario-go-back = Leave the scenario and go back to the stores open before it
scenario-training-data = Training data:
scenario-step = Step
scenario-time-both-recoveries = Time both recoveries
scenario-from-snapshot = from the snapshot
scenario-from-snapshot-at = from the snapshot at
scenario-from-zero = from zero
scenario-events = events

## src/ui/panels/what_if/ui.rs
what-if-banner = SIMULATION: nothing is written to the ledger, the read tables or the snapshots
what-if-leave-out-type = Leave out a type
what-if-none = (none)
what-if-as-of = As of position
what-if-simulating = Simulating…
what-if-simulate = Simulate
what-if-simulate-hover = Fold the ledger as if these events had never happened (reads only)
what-if-real-as-of = Real, as of { $at }
what-if-simulated = Simulated
what-if-difference = Difference
what-if-revenue = revenue of confirmed bookings
what-if-no-ops = { $no_ops } later event(s) became no-ops (they act on rows only left-out events made):
what-if-no-op-row = { $event_type } of { $name } { $key }
what-if-left-out-nothing = Left out: nothing up to this position matches: the simulation is the real state
what-if-left-out-more = Left out: { $excluded } events: { $events } and { $more } more
what-if-left-out = Left out: { $excluded } event(s): { $events }
what-if-note = The state as if some events had never happened, beside the real one. Also from the timeline: "What if this had not happened?" on the selected event.

## src/ui/panels/over_time/ui.rs
over-time-up-to = up to position { $position }
over-time-total = total
over-time-in-bucket = in the bucket
over-time-click-hover = Click to see this state in Time travel
over-time-revenue = revenue
over-time-rows = rows
over-time-now = Now: { $values }
over-time-buckets = Buckets:
over-time-values = Values:
over-time-folding = Folding the ledger: { $done } of { $total } events
over-time-folding-start = Folding the ledger…
over-time-reload = Reload
over-time-hint = Hover a bucket for its values; click to see that state in Time travel; click a legend entry to hide its line.
over-time-not-read = Not read yet.
over-time-no-events = No events yet.
over-time-out-of-order = { $out_of_order_times } events were recorded earlier than an event before them: a bucket by time holds the state after its last event in ledger order.

## src/ui/panels/history/ui.rs
history-personal-summary = Personal data in the ledger: { $events } event(s), { $bookings } booking(s), up to position { $head }
history-malformed-rows = Malformed rows whose raw text names this user: positions { $malformed }
history-row-history = Row history
history-title = History of { $row_name } { $key }
history-reload = Reload
history-reload-hover = Read the history again (the ledger may have grown)
history-personal-data = Personal data in the ledger
history-personal-data-hover = Every event that carries this user's e-mail, name or address, and the events about their bookings: what a data-protection request asks for (reads the whole ledger)
history-note = every version, oldest first, with the event that made it; a changed cell shows the value before struck through
history-no-event-made = No event of this ledger made a { $name } row { $key }.
history-versions-now = { $versions } version(s); now: { $now }
history-undecodable = Undecodable events about this row (they change nothing): { $skipped }
history-reading = Reading the row's events…

## panels, jobs
panel-emit = Emit
panel-timeline = Ledger timeline
panel-time-travel = Time travel
panel-over-time = Over time
panel-what-if = What if
panel-compare = Compare
panel-operations = Operations
panel-models = Models
job-bulk = Bulk generator
job-replay = Replay
job-repair = Repair of rows
job-snapshot = Snapshot
job-restore = Restore
job-export = Export
job-import = Import
job-verify = Comparison
job-history-pass = History pass over the ledger
job-done-of = { $done } / { $total } ({ $percent }%)
job-starting-dots = starting…
job-rate = {" "}· { $rate }/s
job-eta = {" "}· ETA { $eta }
job-elapsed = {" "}· { $elapsed } elapsed
job-cancelling = Cancelling…
job-failed = { $job } failed: { $error }
emit-field-email = E-mail
emit-field-name = Name
emit-field-address = Address
emit-field-service = Service
emit-field-check-in = Check-in
emit-field-check-out = Check-out
emit-field-guests = Guests
emit-field-price = Price

## src/ui/app/shell.rs
shell-observe-locked = Observe-only mode (started with --observe): this would write, so it is disabled.
shell-observe-only = Observe-only mode: this would write, so it is disabled. Switch to Operate in the top bar.
shell-not-connected = Not connected to the stores.
top-operate = Operate
top-observe-only = Observe-only

## over time: a bucket described
over-time-describe-head = { $bucket } (up to position { $position })
over-time-describe-total = { $head }: { $users } users, { $confirmed } bookings confirmed, { $cancelled } cancelled, revenue { $revenue } ({ $services })
over-time-describe-bucket = { $head }, in the bucket: { $users } new users, { $made } bookings made, { $cancelled } cancelled, revenue { $revenue } ({ $services })

## store names, lag gauges, emit hints
top-store-ledger = ledger
top-store-read = read store
lag-caught-up = { $name }: caught up
lag-behind = { $name }: lag { $lag }
emit-booking-hint = booking UUID (last one is filled in)
emit-reason-hint = changed plans
emit-user-hint = user UUID (last one is filled in)

## leases, the projectors table
lease-renewed = renewed { $ago } ago,{" "}
lease-expired = { $renewed }expired { $ago } ago
lease-expires = { $renewed }expires in { $left }
lease-nobody = nobody
lease-this-window = this window
lease-one = lease: { $holder }
lease-each = leases: { $holders }
operations-col-projector = projector
operations-col-checkpoint = checkpoint
operations-col-lag = lag
operations-col-status = status
operations-col-lease-holder = lease holder
operations-col-last-error = last error

# Emit: the activity strip
activity-position = position { $position }
activity-positions = positions { $from }–{ $to }
activity-appended = appended { $count ->
    [one] 1 event
   *[other] { $count } events
} to the ledger ({ $positions })
activity-caught-up = { $projector } caught up { $count ->
    [one] 1 event
   *[other] { $count } events
} in { $time } ({ $positions }; checkpoint { $checkpoint })
activity-outage-on = read-store outage SIMULATED: projection writes fail, the ledger keeps accepting events
activity-outage-off = outage over: the projectors catch up
activity-duplicate = same UUID again: nothing appended (stored at position { $position })
activity-refused = { $what } refused: { $why }; nothing appended

# Emit: the answer to the last command and the bulk run's refusals
emit-answer-duplicate = Duplicate: { $id } was already stored at position { $position }. Nothing new was stored or published; the ledger did not grow (head { $head }).
emit-answer-stored = { $what }: stored { $event } at position { $position } (aggregate { $id }, version { $version }).
emit-answer-refused = { $what } refused: { $error }
emit-bulk-refused = { $count } refused by business rules
emit-bulk-refused-first = { $count } refused by business rules (the first { $shown } listed)
emit-bulk-refusal = command { $command } ({ $handler }): { $rule }
emit-booking-wizard-again = Booking wizard (same UUID again)
emit-reschedule-booking = Reschedule booking
emit-what-booking = booking
emit-what-user = user
emit-not-a-uuid = { $what } '{ $text }' is not a UUID
emit-bulk-count-invalid = count '{ $text }' must be a number from 1 to { $max }
emit-bulk-rate-invalid = rate '{ $text }' must be a positive number or empty

# The read store's health and the projectors' states (top bar, Operations)
health-locked-since = read store locked since { $since }
health-unreachable-simulated-since = read store unreachable (simulated outage) since { $since }
health-unreachable-since = read store unreachable since { $since }
health-locked-detail = For { $long } writes into the read store have waited for a lock another process holds; the projectors write again once it is released.
health-unreachable-detail = For { $long } the read store has not answered: { $error }
health-blocked = blocked on a write for { $time }
health-and = { $first } and { $last }
projector-idle = Idle
projector-running = Running
projector-watching = Watching
projector-paused = Paused
projector-retrying = Retrying
projector-refused = Refused

# Operations: the projectors' lines and the snapshot policy
operations-error-since = since { $at } UTC:{" "}
operations-skipped = { $projector } skipped { $positions }
operations-malformed = Malformed positions: { $list }
operations-crossed = { $projector } crossed { $positions }
operations-holes = Holes in positions (no event there): { $list }
operations-policy-deltas = , a delta every { $every }
operations-policy = a full one every { $every } events up to { $until }, then a history pass every { $history }{ $deltas }
top-gauge-last-error = ; last error: { $error }
top-gauge-detail = { $projector }: checkpoint { $checkpoint }, { $state }{ $blocked }{ $error }

# Warnings drawn in color
dialog-remote-warning = WARNING: this is a REMOTE database.
top-not-connected = Not connected
compare-behind = { $projector } is { $count ->
    [one] 1 event
   *[other] { $count } events
} behind the head
compare-tables-lag = The read tables lag: { $list }. Each table is compared at its projector's position, so lag is not counted as drift.
compare-malformed-skipped = { $count } malformed ledger entries were skipped (positions { $positions }).
models-not-kept-up = Not kept up to date: { $why }
operations-simulation-on = SIMULATION ON: the read store refuses writes. Emit events and watch the lag grow; switch off to see them catch up.
travel-malformed-step = malformed: { $reason } (it changes nothing)
timeline-metadata-error = metadata cannot be shown: { $error }
timeline-malformed-entry = Malformed entry at position { $position }

# What a job is doing
phase-snapshot = loading the snapshot
phase-reading = reading and folding events
phase-loading = writing rows
phase-commands = running commands
phase-exporting = exporting
phase-importing = importing
phase-saving = saving snapshots
phase-comparing = comparing the read tables with the ledger
phase-done = done

# Operations: the repairs kept
repairs-in-sync = in sync
repairs-drift = { $missing } missing, { $extra } extra, { $different } different
repairs-not-compared = not compared
repairs-after-snapshot = {" "}after the snapshot at { $position }
repairs-work-replay = replay: { $rows } rows from { $events } events{ $after }
repairs-work-targeted = targeted: { $rows } rows written, { $deleted } deleted, { $events } events of { $aggregates } aggregates
repairs-found-before = Found before
repairs-found-after = Found after

# A job's result
job-replayed = Replayed { $events } events{ $snapshot ->
    [-1] {""}
   *[other] {" "}after snapshot at { $snapshot }
} into { $rows } rows at position { $position } in { $secs } s{ $skipped ->
    [0] {""}
   *[other] ; { $skipped } malformed entries skipped
}
job-repaired = Repaired { $rows } row(s) ({ $deleted } deleted) from { $events } events of { $aggregates } aggregates in { $secs } s; { $after ->
    [in-sync] in sync now
    [drift] still { $missing } missing, { $extra } extra, { $different } different
   *[not-compared] not compared after
}
job-restored = Restored snapshot at position { $position } ({ $rows } rows); projectors now apply the { $events } events after it
job-exported = Exported { $events } events to { $path }{ $skipped ->
    [0] {""}
   *[other] {" "}({ $skipped } malformed entries left out)
}
job-imported = Imported { $path }: { $events } new events, { $duplicates } already stored; head { $head }
job-compared = Compared { $rows } rows and { $entries } ledger entries in { $secs } s
job-snapshot-taken = Snapshot { $id } taken at position { $position } ({ $users } users, { $bookings } bookings, { $size }) in { $secs } s
job-bulk-done = { $commands } commands: { $events } new events, { $duplicates } duplicates, { $refused } refused by business rules; head { $head }{ $cancelled ->
    [yes] {" "}(cancelled; the events before it stay stored)
   *[no] {""}
}
job-history-done = Read the { $events } events once in { $secs } s: a history snapshot of { $users } users and { $bookings } bookings ({ $megabytes } MB) now serves time travel at every position

# Emit: the anatomy's projection steps
anatomy-nothing-projected = nothing projected (duplicate)
anatomy-apply = { $projector } apply
anatomy-rows-updated = { $table } rows updated for events { $from }..={ $to }
anatomy-checkpoint = { $projector } checkpoint
anatomy-checkpoint-saved = checkpoint saved at { $position }
anatomy-applied-untimed = applied (checkpoint ≥ { $position }); timing not observed
anatomy-waiting-outage = waiting: read-store outage SIMULATED
anatomy-waiting = waiting for position { $position }
anatomy-rule-refused = rule refused: { $rule }
anatomy-step-failed = { $step } failed
