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
