//! `ledgerscope`: no subcommand opens the window; subcommands run headless.

use clap::Parser;
use clap::error::ErrorKind;
use ledgerscope::cli::{self, Cli, Command, EXIT_ERROR};
use ledgerscope::logging::LogPlace;

/// mimalloc instead of the system allocator: folds, snapshot decodes and
/// replays allocate and free millions of small strings, and glibc's malloc
/// spends about a quarter of replay's CPU on that (perf).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args = cli::open::with_open_for_a_link(std::env::args_os().collect());
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => exit_on_bad_arguments(error),
    };
    // A link is read first: a malformed one opens nothing, not even a log.
    let start = match cli::open::start_link(&cli) {
        Ok(start) => start,
        Err(error) => {
            eprintln!("error: {}", error.message);
            std::process::exit(error.code);
        }
    };
    let window = matches!(cli.command, None | Some(Command::Open { .. }));
    let who = if window { "gui" } else { "cli" };
    let data_dir = cli::store_config(&cli).data_dir;
    // An inspection writes nothing into the data dir, its log neither; a
    // run that writes its stores there makes it first, for its log.
    let place = match &cli.command {
        _ if cli.observe => LogPlace::Elsewhere,
        Some(command) if !command.writes() => LogPlace::DataDirIfItExists,
        _ => LogPlace::DataDir,
    };
    match ledgerscope::logging::init(&data_dir, place, cli.log_level.as_deref(), who) {
        Ok(log) => {
            if let Some(dir) = log.parent() {
                ledgerscope::crash::install(dir, who);
            }
        }
        Err(why) => eprintln!("warning: {why}; this run is not logged"),
    }
    let config = cli::store_config(&cli);
    ledgerscope::crash::set_stores(&format!(
        "ledger {}, read store {}",
        if config.mongo_uri.is_some() {
            "mongodb"
        } else {
            "sqlite"
        },
        if config.uses_postgres() {
            "postgresql"
        } else {
            "sqlite"
        }
    ));
    if let Some(command) = &cli.command {
        let name = format!("{command:?}");
        let name = name.split([' ', '(', '{']).next().unwrap_or_default();
        ledgerscope::crash::set_doing(name);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("ledgerscope-io")
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(EXIT_ERROR);
        }
    };
    if window {
        let options = ledgerscope::ui::GuiOptions {
            store: cli::store_config(&cli),
            engine: cli::engine_config(&cli, "gui"),
            observe_only: cli.observe,
            mask: match (cli.mask, cli.unmask) {
                (true, _) => Some(true),
                (_, true) => Some(false),
                _ => None,
            },
            runtime: runtime.handle().clone(),
        };
        if let Err(e) = ledgerscope::ui::run_gui(options, start) {
            tracing::error!(error = %format!("{e:#}"), "the window did not open");
            eprintln!("error: {e:#}");
            std::process::exit(EXIT_ERROR);
        }
        return;
    }
    let code = runtime.block_on(cli::run(cli));
    tracing::info!(exit_code = code, "finished");
    // Don't wait for background tasks (projectors) still parked on timers.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    std::process::exit(code);
}

/// Help and version print as usual; a bad argument is one sentence on
/// stderr and, with `--json`, one JSON object with `error` and `exit_code`
/// on stdout, like every other failure.
fn exit_on_bad_arguments(error: clap::Error) -> ! {
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        error.exit();
    }
    let text = error.to_string();
    let sentence = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("the arguments are not usable")
        .trim()
        .trim_start_matches("error: ")
        .to_string();
    eprintln!("error: {sentence} (see ledgerscope --help)");
    if std::env::args().any(|a| a == "--json") {
        println!(
            "{}",
            serde_json::json!({ "error": sentence, "exit_code": EXIT_ERROR })
        );
    }
    std::process::exit(EXIT_ERROR);
}
