//! Structured logs with `tracing`: human-readable text by default, JSON on request.
//! `RUST_LOG`, when set, overrides `log.level`.

use beatstream_config::LogConfig;
use tracing_subscriber::EnvFilter;

pub fn init(config: &LogConfig) {
    // lofty warns about every file whose duration it estimates: noise in a big library.
    let level = if config.level.contains("lofty") {
        config.level.clone()
    } else {
        format!("{},lofty=error", config.level)
    };
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(ansi);
    let result = if config.format == "json" {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.try_init()
    };
    if let Err(e) = result {
        eprintln!("beatstream: logging was already initialised: {e}");
    }
}
