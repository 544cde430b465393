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
