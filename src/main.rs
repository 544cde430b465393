//! `ledgerscope`: no subcommand opens the window; subcommands run headless.

use clap::Parser;
use ledgerscope::cli::{self, Cli, EXIT_ERROR};

/// mimalloc instead of the system allocator: folds, snapshot decodes and
/// replays allocate and free millions of small strings, and glibc's malloc
/// spent about a quarter of replay's CPU on that (perf, issue 5).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = Cli::parse();
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
    if cli.command.is_none() {
        let options = ledgerscope::ui::GuiOptions {
            store: cli::store_config(&cli),
            engine: cli::engine_config(&cli, "gui"),
            observe_only: cli.observe,
            runtime: runtime.handle().clone(),
        };
        if let Err(e) = ledgerscope::ui::run_gui(options) {
            eprintln!("error: {e:#}");
            std::process::exit(EXIT_ERROR);
        }
        return;
    }
    let code = runtime.block_on(cli::run(cli));
    // Don't wait for background tasks (projectors) still parked on timers.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    std::process::exit(code);
}
