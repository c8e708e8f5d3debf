//! The `beatstream` binary: reads the configuration, then serves or migrates.
//!
//! `beatstream serve` runs the services named by `roles` (all by default) in this process;
//! `beatstream migrate` applies their database migrations and exits; `beatstream scan` and
//! `beatstream search reindex` are one-off maintenance commands.

use beatstream_server::{allocator, cli, logging, reindex, scan, serve, wiring};

use std::process::ExitCode;

/// mimalloc for everything Rust allocates, with the settings of [`allocator`].
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;

fn main() -> ExitCode {
    // Test hooks (see docs/configuration.md): inert unless FAILPOINTS is set.
    let _failpoints = fail::FailScenario::setup();
    let cli = cli::Cli::parse();
    if matches!(cli.command, cli::Command::Serve(_) | cli::Command::Scan(_)) {
        allocator::settle_allocators();
    }
    let config = match cli.load_config() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("beatstream: {e:#}");
            return ExitCode::from(2);
        }
    };
    let _log = logging::init(&config.log);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("beatstream: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            cli::Command::Serve(_) => serve::serve(config).await,
            cli::Command::Migrate(_) => wiring::migrate_only(&config).await,
            cli::Command::Scan(_) => scan::scan_once(&config).await,
            cli::Command::Search {
                command: cli::SearchCommand::Reindex(_),
            } => reindex::reindex(&config).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("beatstream: {e:#}");
            ExitCode::FAILURE
        }
    }
}
