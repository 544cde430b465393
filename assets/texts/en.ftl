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
